//! Reading Slack's answers.
//!
//! An incoming webhook answers `200 ok`; `429` with a `Retry-After` header
//! when rate limited; `4xx` with a short text body for messages it will
//! never take (`invalid_payload`, `no_text`, `invalid_blocks`,
//! `channel_not_found`, `channel_is_archived`, `action_prohibited`,
//! `no_service`); `5xx` when it is having trouble.

use herald_core::plugin::default_classify;
use herald_core::{HttpResponse, Verdict};

/// What a Slack answer means: 2xx delivered; 429 retried after
/// `Retry-After`; 408 and 5xx retried; other 4xx rejected. That is
/// [`default_classify`] but for 425, which Slack never sends and Herald
/// rejects.
pub fn classify(response: &HttpResponse) -> Verdict {
    match response.status {
        425 => Verdict::Reject,
        _ => default_classify(response),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use herald_core::testing::response;

    use super::*;

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
        // Unlike `default_classify`, 425 is not retried.
        assert_eq!(classify(&response(425, &[], "")), Verdict::Reject);
    }
}
