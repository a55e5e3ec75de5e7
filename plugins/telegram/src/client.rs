//! Reading the Bot API's answers, and keeping the token out of them.
//!
//! Every answer is JSON: `{"ok": true, "result": …}` on success, else
//! `{"ok": false, "error_code": 429, "description": "Too Many Requests:
//! retry after 5", "parameters": {"retry_after": 5}}`. 400 (chat not found,
//! can't parse entities), 401 (bad token), 403 (bot blocked or kicked) and
//! 404 will never succeed as is.

use herald_core::{DeliveryReport, HttpResponse, Verdict};

/// Replaces every occurrence of the token (and of its secret half) in the
/// report's texts.
pub fn redact(mut report: DeliveryReport, token: &str) -> DeliveryReport {
    let scrub = |text: String| {
        let mut text = text.replace(token, "<redacted>");
        if let Some((_, secret)) = token.split_once(':') {
            if secret.len() >= 8 {
                text = text.replace(secret, "<redacted>");
            }
        }
        text
    };
    report.error = report.error.map(scrub);
    report.response_body = report.response_body.map(scrub);
    report
}

/// What a Bot API answer means: 2xx with `ok` not false delivered; 429
/// retried after `parameters.retry_after`, else `Retry-After`; 408 and 5xx
/// retried; everything else rejected.
pub fn classify(response: &HttpResponse) -> Verdict {
    let body = response.json();
    let ok = body
        .as_ref()
        .and_then(|b| b.get("ok"))
        .and_then(|v| v.as_bool());
    match response.status {
        200..=299 if ok != Some(false) => Verdict::Delivered,
        429 => Verdict::Retry {
            after: response
                .retry_after_json("/parameters/retry_after")
                .or_else(|| response.retry_after_header()),
        },
        408 | 500..=599 => Verdict::Retry {
            after: response.retry_after_header(),
        },
        _ => Verdict::Reject,
    }
}

/// The answer's `description`, e.g. `Bad Request: chat not found`.
pub fn description(response: &HttpResponse) -> Option<String> {
    response
        .json()?
        .get("description")?
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use herald_core::testing::response;

    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(
            classify(&response(200, &[], r#"{"ok":true,"result":{}}"#)),
            Verdict::Delivered
        );
        assert_eq!(
            classify(&response(
                429,
                &[("retry-after", "9")],
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#
            )),
            Verdict::Retry {
                after: Some(Duration::from_secs(5))
            }
        );
        assert_eq!(
            classify(&response(429, &[("retry-after", "9")], "")),
            Verdict::Retry {
                after: Some(Duration::from_secs(9))
            }
        );
        for status in [400, 401, 403, 404] {
            assert_eq!(
                classify(&response(status, &[], r#"{"ok":false}"#)),
                Verdict::Reject
            );
        }
        assert_eq!(
            classify(&response(502, &[], "")),
            Verdict::Retry { after: None }
        );
    }

    #[test]
    fn redaction_removes_the_token_and_its_secret() {
        let report = DeliveryReport::reject("failed for bot123:SECRETSECRET and SECRETSECRET");
        let report = redact(report, "123:SECRETSECRET");
        assert_eq!(
            report.error.as_deref(),
            Some("failed for bot<redacted> and <redacted>")
        );
    }
}
