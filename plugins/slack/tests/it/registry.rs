//! Registration through inventory.

use herald_core::{Message, Registry};
use serde_json::json;

use crate::support::config;

#[test]
fn the_registry_holds_slack() {
    let registry = Registry::from_inventory().unwrap();
    assert_eq!(registry.kinds(), ["slack"]);
    assert_eq!(registry.get("slack").unwrap().secret_keys, ["webhook_url"]);
}

#[test]
fn two_instances_format_differently() {
    let registry = Registry::from_inventory().unwrap();
    let a = registry
        .build(&config(
            json!({"webhook_url": "https://hooks.slack.com/services/T/B/a"}),
        ))
        .unwrap();
    let b = registry
        .build(&config(
            json!({"webhook_url": "https://hooks.slack.com/services/T/B/b",
                                "blocks": false,
                                "templates": {"default": "custom {{event}} <{{message}}>"}}),
        ))
        .unwrap();
    let event = herald_core::template::sample_events().pop().unwrap();
    let (Message::Http(a), Message::Http(b)) =
        (a.format(&event).unwrap(), b.format(&event).unwrap())
    else {
        panic!("not HTTP")
    };
    assert_ne!(a.url, b.url);
    assert_eq!(
        b.body,
        herald_core::Body::Json(json!({"text": "custom app.deployed <v1.2.3 is live>"}))
    );
    assert_ne!(a.body, b.body);
}

#[test]
fn config_errors_name_the_key_and_hide_the_url() {
    let registry = Registry::from_inventory().unwrap();
    let error = |settings| registry.build(&config(settings)).err().unwrap().to_string();
    let e = error(json!({}));
    assert!(e.contains("test") && e.contains("webhook_url"), "{e}");
    let e = error(json!({"webhook_url": "hooks.slack.com/services/sekrit"}));
    assert!(e.contains("webhook_url") && !e.contains("sekrit"), "{e}");
    let e = error(json!({"webhook_url": "https://hooks.slack.com/x", "channel": "#x"}));
    assert!(e.contains("channel"), "{e}");
    let e = error(
        json!({"webhook_url": "https://hooks.slack.com/x", "templates": {"default": "{{#if}}"}}),
    );
    assert!(e.contains("templates.default"), "{e}");
}

#[test]
fn debug_hides_the_webhook_url() {
    let plugin = herald_slack::Slack::new(&config(
        json!({"webhook_url": "https://hooks.slack.com/services/T/B/sekrit"}),
    ))
    .unwrap();
    assert!(!format!("{plugin:?}").contains("sekrit"));
}
