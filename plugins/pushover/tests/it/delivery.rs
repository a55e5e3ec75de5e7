//! `deliver()` against a local Pushover stand-in.

use std::time::Duration;

use herald_core::{DeliveryContext, Verdict};
use serde_json::json;

use crate::server::{self, BROKEN_USER, QUOTA_USER, TOKEN, USER};
use crate::{build, fixtures};

fn ctx() -> DeliveryContext {
    herald_core::testing::delivery_context(Duration::from_secs(5))
}

#[tokio::test]
async fn every_case_is_accepted() {
    let pushover = server::start().await;
    let plain = build(
        json!({"api_base": pushover.url, "token": TOKEN, "user": USER,
                             "url": "https://jf.example.org/item/{media_item_id}",
                             "url_title": "Open"}),
    )
    .unwrap();
    let emergency = build(
        json!({"api_base": pushover.url, "token": TOKEN, "user": USER,
                                 "html": true, "priorities": {"default": 2},
                                 "retry": 30, "expire": 10800}),
    )
    .unwrap();
    let cases = fixtures::cases();
    for (name, event) in &cases {
        for plugin in [&plain, &emergency] {
            let report = plugin.deliver(&plugin.format(event).unwrap(), &ctx()).await;
            assert!(report.is_delivered(), "{name}: {report:?}");
        }
    }
    let received = pushover.received.lock().unwrap();
    assert_eq!(received.len(), cases.len() * 2);
    let timestamp = ("timestamp".to_owned(), "1769860800".to_owned());
    assert!(received.iter().all(|form| form.contains(&timestamp)));
}

#[tokio::test]
async fn refusals_are_permanent_with_pushovers_errors_and_no_secrets() {
    let pushover = server::start().await;
    let (_, event) = fixtures::cases().remove(0);
    let wrong_token = "wrongTokenWrongTokenWrongToken";
    let wrong_user = "wrongUserWrongUserWrongUser123";
    let cases = [
        (
            wrong_token,
            USER,
            Verdict::Reject,
            "HTTP 400: application token is invalid",
        ),
        (
            TOKEN,
            wrong_user,
            Verdict::Reject,
            "HTTP 400: user identifier is not a valid user, group, or subscribed user key",
        ),
        (
            TOKEN,
            QUOTA_USER,
            Verdict::Retry { after: None },
            "HTTP 429: monthly message limit reached",
        ),
        (
            TOKEN,
            BROKEN_USER,
            Verdict::Retry { after: None },
            "HTTP 500",
        ),
    ];
    for (token, user, verdict, error) in cases {
        let plugin =
            build(json!({"api_base": pushover.url, "token": token, "user": user})).unwrap();
        let report = plugin
            .deliver(&plugin.format(&event).unwrap(), &ctx())
            .await;
        assert_eq!(report.verdict, verdict, "{error}");
        assert_eq!(report.error.as_deref(), Some(error));
        let everything = format!("{report:?}");
        for secret in [token, user] {
            assert!(!everything.contains(secret), "{everything}");
        }
    }
}

#[tokio::test]
async fn an_unreachable_api_is_retried() {
    let url = format!("http://{}", herald_core::testing::closed_address());
    let plugin = build(json!({"api_base": url, "token": TOKEN, "user": USER})).unwrap();
    let (_, event) = fixtures::cases().remove(0);
    let report = plugin
        .deliver(&plugin.format(&event).unwrap(), &ctx())
        .await;
    assert!(
        matches!(report.verdict, Verdict::Retry { .. }),
        "{report:?}"
    );
    let error = report.error.unwrap();
    assert!(!error.contains(TOKEN) && !error.contains(USER), "{error}");
}
