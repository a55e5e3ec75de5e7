//! Registration through inventory.

use herald_core::{Message, Registry};
use serde_json::json;

use crate::support::config;

#[test]
fn the_registry_holds_discord() {
    let registry = Registry::from_inventory().unwrap();
    assert_eq!(registry.kinds(), ["discord"]);
    let registration = registry.get("discord").unwrap();
    assert_eq!(registration.secret_keys, ["webhook_url"]);
}

#[test]
fn two_instances_format_differently() {
    let registry = Registry::from_inventory().unwrap();
    let a = registry
        .build(&config(
            json!({"webhook_url": "https://discord.com/api/webhooks/1/a"}),
        ))
        .unwrap();
    let b = registry
        .build(&config(
            json!({"webhook_url": "https://discord.com/api/webhooks/2/b",
                                "style": "text",
                                "templates": {"default": "custom {{event}}"}}),
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
        herald_core::Body::Json(
            json!({"content": "custom app.deployed", "allowed_mentions": {"parse": []}})
        )
    );
    assert_ne!(a.body, b.body);
}

#[test]
fn config_errors_name_the_key_and_hide_the_url() {
    let registry = Registry::from_inventory().unwrap();
    let error = |settings| registry.build(&config(settings)).err().unwrap().to_string();
    let e = error(json!({}));
    assert!(e.contains("test") && e.contains("webhook_url"), "{e}");
    let e = error(json!({"webhook_url": "ftp://discord.com/api/webhooks/1/sekrit"}));
    assert!(e.contains("webhook_url") && !e.contains("sekrit"), "{e}");
    let e = error(json!({"webhook_url": "not a url sekrit"}));
    assert!(e.contains("webhook_url") && !e.contains("sekrit"), "{e}");
    let ok = json!({"webhook_url": "https://discord.com/api/webhooks/1/a"});
    let with = |key: &str, value: serde_json::Value| {
        let mut s = ok.clone();
        s[key] = value;
        s
    };
    assert!(error(with("username", json!("My Discord bot"))).contains("username"));
    assert!(error(with("username", json!("x".repeat(81)))).contains("username"));
    assert!(error(with("avatar_url", json!("nope"))).contains("avatar_url"));
    assert!(error(with("thread_id", json!("abc"))).contains("thread_id"));
    assert!(error(with("colour", json!(1))).contains("colour"));
    assert!(error(with("style", json!("fancy"))).contains("fancy"));
    let e = error(with("templates", json!({"nonsense": "x"})));
    assert!(e.contains("templates.nonsense"), "{e}");
}

#[test]
fn debug_hides_the_webhook_url() {
    let plugin = herald_discord::Discord::new(&config(
        json!({"webhook_url": "https://discord.com/api/webhooks/1/sekrit"}),
    ))
    .unwrap();
    assert!(!format!("{plugin:?}").contains("sekrit"));
}
