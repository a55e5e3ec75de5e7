//! Reading ntfy's answers.
//!
//! ntfy answers errors as JSON, e.g.
//! `{"code":40101,"http":401,"error":"unauthorized"}`: the code and text go
//! into the delivery report. 429 (rate limited) and 5xx are retried; 400
//! (bad request), 401/403 (credentials, topic access), 404, 413 (too large)
//! are not.

use herald_core::plugin::default_classify;
use herald_core::{HttpResponse, Verdict};

/// What an ntfy answer means.
pub fn classify(response: &HttpResponse) -> Verdict {
    match response.status {
        429 => Verdict::Retry {
            after: response.retry_after_header(),
        },
        400 | 401 | 403 | 404 | 413 => Verdict::Reject,
        _ => default_classify(response),
    }
}

/// `HTTP 401: unauthorized (40101)` from an ntfy error answer, or
/// `HTTP <status>` when the body is not ntfy's JSON.
pub fn error_text(response: &HttpResponse) -> String {
    let json = response.json();
    let error = json
        .as_ref()
        .and_then(|j| j.get("error"))
        .and_then(|e| e.as_str());
    let code = json
        .as_ref()
        .and_then(|j| j.get("code"))
        .and_then(|c| c.as_i64());
    match (error, code) {
        (Some(error), Some(code)) => format!("HTTP {}: {error} ({code})", response.status),
        (Some(error), None) => format!("HTTP {}: {error}", response.status),
        _ => format!("HTTP {}", response.status),
    }
}
