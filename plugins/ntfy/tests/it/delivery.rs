//! `deliver()` against a local ntfy stand-in.

use std::time::Duration;

use herald_core::{Body, DeliveryContext, HttpRequest, Message, Verdict};
use serde_json::json;

use crate::server::{self, TOKEN, USER};
use crate::{build, fixtures};

fn ctx() -> DeliveryContext {
    herald_core::testing::delivery_context(Duration::from_secs(5))
}

#[tokio::test]
async fn every_case_is_accepted_by_a_self_hosted_server_with_a_token() {
    let ntfy = server::start().await;
    let plugin = build(json!({"server": ntfy.url, "topic": "media", "token": TOKEN})).unwrap();
    let markdown =
        build(json!({"server": ntfy.url, "topic": "media", "token": TOKEN, "markdown": true}))
            .unwrap();
    let cases = fixtures::cases();
    for (name, event) in &cases {
        for plugin in [&plugin, &markdown] {
            let message = plugin.format(event).unwrap();
            let report = plugin.deliver(&message, &ctx()).await;
            assert!(report.is_delivered(), "{name}: {report:?}");
        }
    }
    let received = ntfy.received.lock().unwrap();
    assert_eq!(received.len(), cases.len() * 2);
    let long = received
        .iter()
        .find(|b| b["title"] == "New in the library" && b["message"].as_str().unwrap().len() > 4000)
        .expect("the long case arrived");
    assert!(long["message"].as_str().unwrap().ends_with('…'));
}

#[tokio::test]
async fn basic_authentication_is_accepted() {
    let ntfy = server::start().await;
    let plugin = build(json!({"server": ntfy.url, "topic": "media",
                              "username": USER.0, "password": USER.1}))
    .unwrap();
    let (_, event) = fixtures::cases().remove(0);
    let report = plugin
        .deliver(&plugin.format(&event).unwrap(), &ctx())
        .await;
    assert!(report.is_delivered(), "{report:?}");
}

#[tokio::test]
async fn answers_are_classified_with_ntfys_error_text() {
    let ntfy = server::start().await;
    let (_, event) = fixtures::cases().remove(0);
    let cases = [
        (
            "media",
            "tk_wrong",
            Verdict::Reject,
            "HTTP 401: unauthorized (40101)",
        ),
        (
            "forbidden",
            TOKEN,
            Verdict::Reject,
            "HTTP 403: forbidden (40301)",
        ),
        (
            "busy",
            TOKEN,
            Verdict::Retry { after: None },
            "HTTP 429: limit reached: too many requests (42901)",
        ),
        (
            "broken",
            TOKEN,
            Verdict::Retry { after: None },
            "HTTP 500: internal server error (50001)",
        ),
    ];
    for (topic, token, verdict, error) in cases {
        let plugin = build(json!({"server": ntfy.url, "topic": topic, "token": token})).unwrap();
        let report = plugin
            .deliver(&plugin.format(&event).unwrap(), &ctx())
            .await;
        assert_eq!(report.verdict, verdict, "{topic}");
        assert_eq!(report.error.as_deref(), Some(error));
        let status = report.status_code.unwrap();
        assert!(status >= 400, "{status}");
        assert!(!report.error.unwrap().contains(token) || token == TOKEN);
    }
}

#[tokio::test]
async fn a_request_ntfy_refuses_is_rejected() {
    let ntfy = server::start().await;
    let plugin = build(json!({"server": ntfy.url, "topic": "media", "token": TOKEN})).unwrap();
    let request = HttpRequest::post_json(
        &format!("{}/", ntfy.url),
        json!({"topic": "media", "message": "x", "priority": 9}),
    )
    .with_header("Authorization", format!("Bearer {TOKEN}"));
    let report = plugin.deliver(&Message::Http(request), &ctx()).await;
    assert_eq!(report.verdict, Verdict::Reject);
    assert_eq!(
        report.error.as_deref(),
        Some("HTTP 400: invalid priority (40007)")
    );
    let _ = Body::Empty;
}

#[tokio::test]
async fn an_unreachable_server_is_retried() {
    let url = format!("http://{}", herald_core::testing::closed_address());
    let plugin = build(json!({"server": url, "topic": "media"})).unwrap();
    let (_, event) = fixtures::cases().remove(0);
    let report = plugin
        .deliver(&plugin.format(&event).unwrap(), &ctx())
        .await;
    assert!(
        matches!(report.verdict, Verdict::Retry { .. }),
        "{report:?}"
    );
}
