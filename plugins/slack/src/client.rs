//! Reading Slack's answers.
//!
//! An incoming webhook answers `200 ok`; `429` with a `Retry-After` header
//! when rate limited; `4xx` with a short text body for messages it will
//! never take (`invalid_payload`, `no_text`, `invalid_blocks`,
//! `channel_not_found`, `channel_is_archived`, `action_prohibited`,
//! `no_service`); `5xx` when it is having trouble.

use herald_core::{HttpResponse, Verdict};

/// What a Slack answer means: 2xx delivered; 429 retried after
/// `Retry-After`; 408 and 5xx retried; other 4xx rejected.
pub fn classify(response: &HttpResponse) -> Verdict {
    match response.status {
        200..=299 => Verdict::Delivered,
        408 | 429 | 500..=599 => Verdict::Retry {
            after: response.retry_after_header(),
        },
        _ => Verdict::Reject,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(classify(&response(200, &[], "ok")), Verdict::Delivered);
        assert_eq!(
            classify(&response(429, &[("Retry-After", "7")], "rate_limited")),
            Verdict::Retry {
                after: Some(Duration::from_secs(7))
            }
        );
        for (status, body) in [
            (400, "invalid_payload"),
            (400, "no_text"),
            (404, "channel_not_found"),
            (410, "channel_is_archived"),
            (403, "action_prohibited"),
        ] {
            assert_eq!(classify(&response(status, &[], body)), Verdict::Reject);
        }
        assert_eq!(
            classify(&response(503, &[], "")),
            Verdict::Retry { after: None }
        );
    }
}
