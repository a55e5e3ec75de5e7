//! `deliver()` end to end against the stand-in.

use std::time::Duration;

use herald_core::template::sample_events;
use herald_core::{DeliveryContext, DeliveryReport, NotificationPlugin, Verdict};
use herald_discord::Discord;
use serde_json::json;

use crate::service::FakeDiscord;
use crate::support::config;

fn ctx() -> DeliveryContext {
    herald_core::testing::delivery_context(Duration::from_secs(5))
}

async fn deliver(url: &str, extra: serde_json::Value) -> DeliveryReport {
    let mut settings = json!({"webhook_url": url});
    settings
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let plugin = Discord::new(&config(settings)).unwrap();
    let message = plugin.format(&sample_events()[0]).unwrap();
    plugin.deliver(&message, &ctx()).await
}

#[tokio::test]
async fn delivers_and_the_service_accepts_every_golden_event() {
    let server = FakeDiscord::start().await;
    let report = deliver(&server.webhook_url("ok"), json!({"thread_id": "42"})).await;
    assert_eq!(report.verdict, Verdict::Delivered, "{report:?}");
    assert_eq!(report.status_code, Some(204));
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].path, "/api/webhooks/123/ok");
    assert_eq!(received[0].query.as_deref(), Some("thread_id=42"));
    assert_eq!(
        received[0].body["embeds"][0]["title"],
        "The Expanse S02E05 'Home'"
    );

    for style in ["embed", "text"] {
        let plugin = Discord::new(&config(
            json!({"webhook_url": server.webhook_url("ok"), "style": style}),
        ))
        .unwrap();
        for (name, event) in herald_core::testing::samples::cases() {
            let report = plugin
                .deliver(&plugin.format(&event).unwrap(), &ctx())
                .await;
            assert_eq!(
                report.verdict,
                Verdict::Delivered,
                "{style} {name}: {report:?}"
            );
        }
    }
}

#[tokio::test]
async fn rate_limits_are_retried_after_the_body_then_the_header() {
    let server = FakeDiscord::start().await;
    let report = deliver(&server.webhook_url("ratelimited"), json!({})).await;
    assert_eq!(
        report.verdict,
        Verdict::Retry {
            after: Some(Duration::from_millis(500))
        }
    );
    assert_eq!(report.status_code, Some(429));
    let report = deliver(&server.webhook_url("ratelimited-header"), json!({})).await;
    assert_eq!(
        report.verdict,
        Verdict::Retry {
            after: Some(Duration::from_secs(3))
        }
    );
}

#[tokio::test]
async fn refusals_are_rejected_and_outages_retried() {
    let server = FakeDiscord::start().await;
    for (token, verdict, status) in [
        ("bad-token", Verdict::Reject, 401),
        ("gone", Verdict::Reject, 404),
        ("broken", Verdict::Retry { after: None }, 500),
    ] {
        let report = deliver(&server.webhook_url(token), json!({})).await;
        assert_eq!(report.verdict, verdict, "{token}");
        assert_eq!(report.status_code, Some(status));
    }
}

#[tokio::test]
async fn a_closed_port_is_retried_without_leaking_the_url() {
    let addr = herald_core::testing::closed_address();
    let report = deliver(
        &format!("http://{addr}/api/webhooks/1/sekrit-token"),
        json!({}),
    )
    .await;
    assert!(
        matches!(report.verdict, Verdict::Retry { .. }),
        "{report:?}"
    );
    assert!(!format!("{report:?}").contains("sekrit"), "{report:?}");
}
