//! `deliver()` end to end against the stand-in.

use std::time::Duration;

use herald_core::template::sample_events;
use herald_core::{DeliveryContext, DeliveryReport, NotificationPlugin, Verdict};
use herald_telegram::Telegram;
use serde_json::json;

use crate::service::FakeTelegram;
use crate::support::config;

fn ctx() -> DeliveryContext {
    herald_core::testing::delivery_context(Duration::from_secs(5))
}

fn plugin(api_base: &str, token: &str, extra: serde_json::Value) -> Telegram {
    let mut settings = json!({"bot_token": token, "chat_id": "-100123", "api_base": api_base});
    settings
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    Telegram::new(&config(settings)).unwrap()
}

async fn deliver(api_base: &str, token: &str) -> DeliveryReport {
    let plugin = plugin(api_base, token, json!({}));
    let message = plugin.format(&sample_events()[0]).unwrap();
    plugin.deliver(&message, &ctx()).await
}

/// No text of the report holds the token or its secret half.
fn assert_no_token(report: &DeliveryReport, token: &str) {
    let secret = token.split_once(':').unwrap().1;
    for text in [
        format!("{report:?}"),
        format!("{:?}", report.verdict),
        report.error.clone().unwrap_or_default(),
        report.response_body.clone().unwrap_or_default(),
    ] {
        assert!(!text.contains(token), "{text}");
        // The stand-in's behaviour words ("blocked") may appear in answers.
        if secret.contains("SEKRIT") {
            assert!(!text.contains(secret), "{text}");
        }
    }
}

#[tokio::test]
async fn delivers_every_golden_event_in_every_mode() {
    let server = FakeTelegram::start().await;
    let report = deliver(&server.api_base(), "111:ok").await;
    assert_eq!(report.verdict, Verdict::Delivered, "{report:?}");
    assert_eq!(report.status_code, Some(200));
    let received = server.received();
    assert_eq!(received[0].0, "sendMessage");
    assert_eq!(received[0].1["chat_id"], "-100123");

    for mode in ["HTML", "MarkdownV2"] {
        for photos in [false, true] {
            let plugin = plugin(
                &server.api_base(),
                "111:ok",
                json!({"parse_mode": mode, "photos": photos}),
            );
            for (name, event) in herald_core::testing::samples::cases() {
                let report = plugin
                    .deliver(&plugin.format(&event).unwrap(), &ctx())
                    .await;
                assert_eq!(
                    report.verdict,
                    Verdict::Delivered,
                    "{mode} {photos} {name}: {report:?}"
                );
            }
        }
    }
    assert!(server
        .received()
        .iter()
        .any(|(method, _)| method == "sendPhoto"));
}

#[tokio::test]
async fn answers_are_classified() {
    let server = FakeTelegram::start().await;
    for (token, verdict, status, error) in [
        (
            "111:ratelimited",
            Verdict::Retry {
                after: Some(Duration::from_secs(5)),
            },
            429,
            "HTTP 429: Too Many Requests: retry after 5",
        ),
        (
            "111:nochat",
            Verdict::Reject,
            400,
            "HTTP 400: Bad Request: chat not found",
        ),
        (
            "111:blocked",
            Verdict::Reject,
            403,
            "HTTP 403: Forbidden: bot was blocked by the user",
        ),
        (
            "111:unauthorized",
            Verdict::Reject,
            401,
            "HTTP 401: Unauthorized",
        ),
        (
            "111:broken",
            Verdict::Retry { after: None },
            502,
            "HTTP 502: Bad Gateway",
        ),
    ] {
        let report = deliver(&server.api_base(), token).await;
        assert_eq!(report.verdict, verdict, "{token}");
        assert_eq!(report.status_code, Some(status));
        assert_eq!(report.error.as_deref(), Some(error));
        assert_no_token(&report, token);
    }
}

#[tokio::test]
async fn the_token_never_reaches_a_report() {
    // A 400 whose description repeats the URL path, token included.
    let server = FakeTelegram::start().await;
    let token = "987654:echo_SEKRIT_token";
    let report = deliver(&server.api_base(), token).await;
    assert_eq!(report.verdict, Verdict::Reject);
    assert_eq!(report.status_code, Some(400));
    assert!(
        report.error.as_deref().unwrap().contains("<redacted>"),
        "{report:?}"
    );
    assert_no_token(&report, token);

    // A closed port.
    let addr = herald_core::testing::closed_address();
    let token = "987654:closed_SEKRIT_token";
    let report = deliver(&format!("http://{addr}"), token).await;
    assert!(
        matches!(report.verdict, Verdict::Retry { .. }),
        "{report:?}"
    );
    assert_eq!(report.status_code, None);
    assert_no_token(&report, token);
}
