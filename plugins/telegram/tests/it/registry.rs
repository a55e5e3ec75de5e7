//! Registration through inventory, and config checks.

use herald_core::{Message, Registry};
use serde_json::json;

use crate::support::config;

#[test]
fn the_registry_holds_telegram() {
    let registry = Registry::from_inventory().unwrap();
    assert_eq!(registry.kinds(), ["telegram"]);
    assert_eq!(registry.get("telegram").unwrap().secret_keys, ["bot_token"]);
}

#[test]
fn two_instances_format_differently() {
    let registry = Registry::from_inventory().unwrap();
    let a = registry
        .build(&config(json!({"bot_token": "1:a", "chat_id": 1})))
        .unwrap();
    let b = registry
        .build(&config(json!({"bot_token": "2:b", "chat_id": "@channel",
                                "parse_mode": "MarkdownV2",
                                "templates": {"default": "custom *{{event}}*"}})))
        .unwrap();
    let event = herald_core::template::sample_events().pop().unwrap();
    let (Message::Http(a), Message::Http(b)) =
        (a.format(&event).unwrap(), b.format(&event).unwrap())
    else {
        panic!("not HTTP")
    };
    assert_eq!(a.url, "https://api.telegram.org/bot1:a/sendMessage");
    assert_eq!(b.url, "https://api.telegram.org/bot2:b/sendMessage");
    assert_eq!(
        a.body,
        herald_core::Body::Json(
            json!({"chat_id": 1, "text": "<b>app.deployed</b>: v1.2.3 is live", "parse_mode": "HTML"})
        )
    );
    assert_eq!(
        b.body,
        herald_core::Body::Json(
            json!({"chat_id": "@channel", "text": "custom *app\\.deployed*", "parse_mode": "MarkdownV2"})
        )
    );
}

#[test]
fn config_errors_name_the_key_and_never_the_token() {
    let registry = Registry::from_inventory().unwrap();
    let error = |settings| registry.build(&config(settings)).err().unwrap().to_string();
    let e = error(json!({"chat_id": 1}));
    assert!(e.contains("test") && e.contains("bot_token"), "{e}");
    let e = error(json!({"bot_token": "1:a"}));
    assert!(e.contains("chat_id"), "{e}");
    let e = error(json!({"bot_token": "SEKRIT token", "chat_id": 1}));
    assert!(e.contains("bot_token") && !e.contains("SEKRIT"), "{e}");
    let e = error(json!({"bot_token": "1:a", "chat_id": "general"}));
    assert!(e.contains("chat_id"), "{e}");
    let e = error(json!({"bot_token": "1:a", "chat_id": 1, "api_base": "telegram"}));
    assert!(e.contains("api_base"), "{e}");
    let e = error(json!({"bot_token": "1:a", "chat_id": 1, "parse_mode": "Markdown"}));
    assert!(e.contains("parse_mode") || e.contains("Markdown"), "{e}");
    let e = error(json!({"bot_token": "1:a", "chat_id": 1, "token": "x"}));
    assert!(e.contains("token"), "{e}");
    // A MarkdownV2 override that calls a helper wrongly fails at config check.
    let e = error(
        json!({"bot_token": "1:a", "chat_id": 1, "parse_mode": "MarkdownV2",
                         "templates": {"playback.started": "{{truncate title}}"}}),
    );
    assert!(e.contains("templates.playback.started"), "{e}");
}

#[test]
fn debug_hides_the_token() {
    let plugin = herald_telegram::Telegram::new(&config(
        json!({"bot_token": "123456:SEKRIT-token", "chat_id": 1}),
    ))
    .unwrap();
    let debug = format!("{plugin:?}");
    assert!(
        !debug.contains("SEKRIT") && debug.contains("redacted"),
        "{debug}"
    );
}
