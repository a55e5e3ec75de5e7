//! Formatting cost of every bundled plugin: `NotificationPlugin::format` on
//! the same enriched event, each instance built from config through the
//! registry exactly as `herald serve` builds it.
//!
//! `cargo bench -p herald-host --bench format`
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use herald_core::{Event, IncomingEvent, PluginConfig};

fn plugin(kind: &str, settings: serde_json::Value) -> Box<dyn herald_core::NotificationPlugin> {
    let mut config = serde_json::json!({"kind": kind, "name": kind});
    config
        .as_object_mut()
        .unwrap()
        .extend(settings.as_object().unwrap().clone());
    let config: PluginConfig = serde_json::from_value(config).unwrap();
    herald_host::app::registry()
        .unwrap()
        .build(&config)
        .unwrap()
}

fn format(c: &mut Criterion) {
    let event: Event = serde_json::from_str::<IncomingEvent>(
        r#"{"event":"playback.started","data":{"user_id":"u1","user_name":"Alice","media_item_id":"m1",
        "media_type":"episode","series":"The Expanse","season":2,"episode":5,"title":"Home",
        "device_name":"Living Room TV","image_url":"https://img.example/p.jpg",
        "overview":"Holden and the crew of the Rocinante race to save Earth from a rogue asteroid."}}"#,
    )
    .unwrap()
    .normalize()
    .unwrap();
    let plugins = [
        (
            "discord",
            serde_json::json!({"webhook_url": "https://discord.com/api/webhooks/1/t"}),
        ),
        (
            "slack",
            serde_json::json!({"webhook_url": "https://hooks.slack.com/services/T/B/X"}),
        ),
        (
            "telegram",
            serde_json::json!({"bot_token": "123:abc", "chat_id": "-100"}),
        ),
        ("ntfy", serde_json::json!({"topic": "media"})),
        (
            "pushover",
            serde_json::json!({"token": "azGDORePK8gMaC0QOYAMyEEuzJnyUi", "user": "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"}),
        ),
        (
            "apprise",
            serde_json::json!({"server": "http://apprise.lan", "key": "herald"}),
        ),
        ("mqtt", serde_json::json!({"host": "127.0.0.1"})),
    ];
    let mut group = c.benchmark_group("format");
    for (kind, settings) in plugins {
        let plugin = plugin(kind, settings);
        group.bench_function(kind, |b| b.iter(|| plugin.format(&event).unwrap()));
    }
    group.finish();
}

criterion_group!(benches, format);
criterion_main!(benches);
