//! The exact requests, compared with `tests/golden/` (`UPDATE_GOLDEN=1`
//! rewrites them).

use herald_core::testing::{pretty_json, samples};
use herald_core::{Body, Message, NotificationPlugin};
use herald_slack::Slack;
use serde_json::json;

use crate::service::check_body;
use crate::support::{config, golden};

fn check_variant(dir: &str, settings: serde_json::Value, only: Option<&[&str]>) {
    let plugin = Slack::new(&config(settings)).unwrap();
    let mut failures = Vec::new();
    for (name, event) in samples::cases() {
        if only.is_some_and(|only| !only.contains(&name.as_str())) {
            continue;
        }
        let message = plugin.format(&event).unwrap();
        let Message::Http(request) = &message else {
            panic!("not HTTP")
        };
        assert_eq!(request.method, "POST");
        let Body::Json(body) = &request.body else {
            panic!("not JSON")
        };
        if let Err(e) = check_body(body) {
            failures.push(format!("{name}: Slack would refuse it: {e}"));
        }
        failures.extend(
            golden()
                .check(&format!("{dir}/{name}.json"), &pretty_json(&message))
                .err(),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn blocks_for_every_event() {
    check_variant(
        "blocks",
        json!({"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX"}),
        None,
    );
}

#[test]
fn text_only() {
    check_variant(
        "text",
        json!({"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX", "blocks": false}),
        Some(&[
            "playback.started-full",
            "playback.started-markup",
            "library.updated-long",
        ]),
    );
}
