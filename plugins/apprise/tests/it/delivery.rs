//! `deliver()` against a local Apprise API stand-in.

use std::time::Duration;

use herald_core::{DeliveryContext, HttpRequest, Message, Verdict};
use serde_json::json;

use crate::server;
use crate::{build, fixtures};

fn ctx() -> DeliveryContext {
    herald_core::testing::delivery_context(Duration::from_secs(5))
}

#[tokio::test]
async fn every_case_is_accepted_stateful_and_stateless() {
    let apprise = server::start().await;
    let stateful = build(json!({"server": apprise.url, "key": "good", "tag": "media"})).unwrap();
    let stateless = build(json!({"server": apprise.url, "format": "html",
                                 "urls": ["json://localhost/a", "mailto://u:p@example.org"]}))
    .unwrap();
    let cases = fixtures::cases();
    for (name, event) in &cases {
        for plugin in [&stateful, &stateless] {
            let report = plugin.deliver(&plugin.format(event).unwrap(), &ctx()).await;
            assert!(report.is_delivered(), "{name}: {report:?}");
        }
    }
    let received = apprise.received.lock().unwrap();
    assert_eq!(received.len(), cases.len() * 2);
    assert!(received
        .iter()
        .filter(|(key, _)| key.is_empty())
        .all(|(_, body)| body["urls"] == "json://localhost/a,mailto://u:p@example.org"));
    assert!(received
        .iter()
        .filter(|(key, _)| key == "good")
        .all(|(_, body)| body["tag"] == "media"));
}

#[tokio::test]
async fn answers_are_classified() {
    let apprise = server::start().await;
    let (_, event) = fixtures::cases().remove(0);
    let cases = [
        (
            json!({"key": "partial"}),
            Verdict::Retry { after: None },
            Some("HTTP 424: One or more notification could not be sent"),
        ),
        (
            json!({"key": "broken"}),
            Verdict::Retry { after: None },
            Some("HTTP 500: An unexpected error occurred"),
        ),
        (json!({"key": "nothing"}), Verdict::Delivered, None),
        (json!({"key": "unknown-key"}), Verdict::Delivered, None),
        (
            json!({"urls": ["fail://x/S3CR3T"]}),
            Verdict::Retry { after: None },
            Some("HTTP 424: One or more notification could not be sent"),
        ),
    ];
    for (mut settings, verdict, error) in cases {
        settings["server"] = json!(apprise.url);
        let plugin = build(settings.clone()).unwrap();
        let report = plugin
            .deliver(&plugin.format(&event).unwrap(), &ctx())
            .await;
        assert_eq!(report.verdict, verdict, "{settings}");
        assert_eq!(report.error.as_deref(), error, "{settings}");
        assert!(!format!("{report:?}").contains("S3CR3T"));
        if report.status_code == Some(204) {
            assert_eq!(
                report.response_body.as_deref(),
                Some(herald_apprise::client::NOTHING_TO_NOTIFY)
            );
        }
    }
}

#[tokio::test]
async fn a_bad_request_is_rejected() {
    let apprise = server::start().await;
    let plugin = build(json!({"server": apprise.url, "key": "good"})).unwrap();
    let request = HttpRequest::post_json(
        &format!("{}/notify/good", apprise.url),
        json!({"title": "t", "body": "b", "type": "fatal"}),
    );
    let report = plugin.deliver(&Message::Http(request), &ctx()).await;
    assert_eq!(report.verdict, Verdict::Reject);
    assert_eq!(
        report.error.as_deref(),
        Some("HTTP 400: An invalid payload type was specified")
    );
}

#[tokio::test]
async fn an_unreachable_server_is_retried() {
    let url = format!("http://{}", herald_core::testing::closed_address());
    let plugin = build(json!({"server": url, "urls": ["tgram://1:S3CR3T/2"]})).unwrap();
    let (_, event) = fixtures::cases().remove(0);
    let report = plugin
        .deliver(&plugin.format(&event).unwrap(), &ctx())
        .await;
    assert!(
        matches!(report.verdict, Verdict::Retry { .. }),
        "{report:?}"
    );
    assert!(!report.error.unwrap().contains("S3CR3T"));
}
