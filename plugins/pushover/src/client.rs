//! Reading Pushover's answers.
//!
//! Success is HTTP 200 with `{"status":1,"request":"…"}`. A 4xx answer with
//! `{"status":0,"errors":[…]}` means the message will never be accepted as
//! is (bad token, unknown user, message too long): rejected, with Pushover's
//! errors in the report. 429 (over the monthly quota) and 5xx are retried.
//! The token and user key are in the form body: they are never part of an
//! error.

use herald_core::plugin::default_classify;
use herald_core::{HttpResponse, Verdict};

/// What a Pushover answer means.
pub fn classify(response: &HttpResponse) -> Verdict {
    match response.status {
        429 => Verdict::Retry {
            after: response.retry_after_header(),
        },
        400..=499 => match response.json() {
            // Pushover's own refusal.
            Some(json) if json.get("status").and_then(|s| s.as_i64()) == Some(0) => Verdict::Reject,
            _ => default_classify(response),
        },
        _ => default_classify(response),
    }
}

/// `HTTP 400: application token is invalid; …` from Pushover's `errors`,
/// or `HTTP <status>`.
pub fn error_text(response: &HttpResponse) -> String {
    let errors: Vec<String> = response
        .json()
        .and_then(|json| json.get("errors").and_then(|e| e.as_array()).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect();
    if errors.is_empty() {
        format!("HTTP {}", response.status)
    } else {
        format!("HTTP {}: {}", response.status, errors.join("; "))
    }
}
