//! `deliver()` end to end against the stand-in.

use std::time::Duration;

use herald_core::template::sample_events;
use herald_core::{DeliveryContext, DeliveryReport, NotificationPlugin, Verdict};
use herald_slack::Slack;
use serde_json::json;

use crate::service::FakeSlack;
use crate::support::config;

fn ctx() -> DeliveryContext {
    herald_core::testing::delivery_context(Duration::from_secs(5))
}

async fn deliver(url: &str) -> DeliveryReport {
    let plugin = Slack::new(&config(json!({"webhook_url": url}))).unwrap();
    let message = plugin.format(&sample_events()[0]).unwrap();
    plugin.deliver(&message, &ctx()).await
}

#[tokio::test]
async fn delivers_and_the_service_accepts_every_golden_event() {
    let server = FakeSlack::start().await;
    let report = deliver(&server.webhook_url("ok")).await;
    assert_eq!(report.verdict, Verdict::Delivered, "{report:?}");
    assert_eq!(report.status_code, Some(200));
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0]["blocks"][0]["text"]["text"],
        "The Expanse S02E05 'Home'"
    );

    for blocks in [true, false] {
        let plugin = Slack::new(&config(
            json!({"webhook_url": server.webhook_url("ok"), "blocks": blocks}),
        ))
        .unwrap();
        for (name, event) in herald_core::testing::samples::cases() {
            let report = plugin
                .deliver(&plugin.format(&event).unwrap(), &ctx())
                .await;
            assert_eq!(
                report.verdict,
                Verdict::Delivered,
                "{blocks} {name}: {report:?}"
            );
        }
    }
}

#[tokio::test]
async fn answers_are_classified() {
    let server = FakeSlack::start().await;
    for (token, verdict, status, body) in [
        (
            "ratelimited",
            Verdict::Retry {
                after: Some(Duration::from_secs(7)),
            },
            429,
            "rate_limited",
        ),
        ("gone", Verdict::Reject, 404, "no_service"),
        ("archived", Verdict::Reject, 410, "channel_is_archived"),
        ("forbidden", Verdict::Reject, 403, "action_prohibited"),
        ("broken", Verdict::Retry { after: None }, 500, ""),
    ] {
        let report = deliver(&server.webhook_url(token)).await;
        assert_eq!(report.verdict, verdict, "{token}");
        assert_eq!(report.status_code, Some(status));
        assert_eq!(report.response_body.as_deref().unwrap_or(""), body);
    }
}

#[tokio::test]
async fn an_invalid_payload_is_rejected() {
    let server = FakeSlack::start().await;
    let plugin = Slack::new(&config(json!({"webhook_url": server.webhook_url("ok")}))).unwrap();
    let message = herald_core::Message::Http(herald_core::HttpRequest::post_json(
        &server.webhook_url("ok"),
        json!({"blocks": []}),
    ));
    let report = plugin.deliver(&message, &ctx()).await;
    assert_eq!(report.verdict, Verdict::Reject);
    assert_eq!(report.response_body.as_deref(), Some("no_text"));
}

#[tokio::test]
async fn a_closed_port_is_retried_without_leaking_the_url() {
    let addr = herald_core::testing::closed_address();
    let report = deliver(&format!("http://{addr}/services/T/B/sekrit")).await;
    assert!(
        matches!(report.verdict, Verdict::Retry { .. }),
        "{report:?}"
    );
    assert!(!format!("{report:?}").contains("sekrit"), "{report:?}");
}
