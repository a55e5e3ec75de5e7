//! Reading Discord's answers.
//!
//! Discord answers `204 No Content` (or `200` with `wait=true`) on success;
//! `429` with a JSON body `{"message": "You are being rate limited.",
//! "retry_after": 0.5, "global": false}` (seconds, possibly fractional) and
//! a `Retry-After` header when rate limited; `4xx` with `{"message", "code"}`
//! for requests it will never take (unknown webhook, invalid token, invalid
//! form body).

use herald_core::plugin::default_classify;
use herald_core::{HttpResponse, Verdict};

/// What a Discord answer means: 2xx delivered; 429 retried after the body's
/// `retry_after`, else the `Retry-After` header; 408 and 5xx retried; other
/// 4xx rejected.
pub fn classify(response: &HttpResponse) -> Verdict {
    match response.status {
        429 => Verdict::Retry {
            after: response
                .retry_after_json("/retry_after")
                .or_else(|| response.retry_after_header()),
        },
        // Not retried, unlike `default_classify`: Discord never sends it.
        425 => Verdict::Reject,
        _ => default_classify(response),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use herald_core::testing::response;

    use super::*;

    #[test]
    fn rate_limits_prefer_the_body_over_the_header() {
        let r = response(
            429,
            &[("retry-after", "1")],
            r#"{"message":"You are being rate limited.","retry_after":0.5,"global":false}"#,
        );
        assert_eq!(
            classify(&r),
            Verdict::Retry {
                after: Some(Duration::from_millis(500))
            }
        );
        let r = response(429, &[("retry-after", "3")], "slow down");
        assert_eq!(
            classify(&r),
            Verdict::Retry {
                after: Some(Duration::from_secs(3))
            }
        );
        assert_eq!(
            classify(&response(429, &[], "")),
            Verdict::Retry { after: None }
        );
    }

    #[test]
    fn statuses() {
        assert_eq!(classify(&response(204, &[], "")), Verdict::Delivered);
        assert_eq!(classify(&response(200, &[], "{}")), Verdict::Delivered);
        for status in [400, 401, 403, 404, 413, 425] {
            assert_eq!(classify(&response(status, &[], "")), Verdict::Reject);
        }
        for status in [500, 502, 503] {
            assert_eq!(
                classify(&response(status, &[], "")),
                Verdict::Retry { after: None }
            );
        }
    }
}
