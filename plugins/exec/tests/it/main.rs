//! Integration tests of the exec plugin: real `sh` scripts.
#![allow(clippy::unwrap_used, missing_docs)]

mod format;
mod run;

use herald_core::{Event, EventKind, PluginConfig};
use serde_json::{json, Value};

/// An instance config of `settings` (JSON object).
pub fn config(settings: Value) -> PluginConfig {
    herald_core::testing::plugin_config("exec", "script", settings)
}

/// A fixed `playback.started` event (no clock, no random id).
pub fn episode_started() -> Event {
    serde_json::from_value(json!({
        "id": "evt_01HZY0000000000000000000AA",
        "event": "playback.started",
        "timestamp": "2026-01-31T12:00:00Z",
        "source": "jellyfin-home",
        "data": {
            "user_id": "u1", "user_name": "Alice", "media_item_id": "m1", "media_type": "episode",
            "series": "The Expanse", "season": 2, "episode": 5, "title": "Home",
            "device_name": "Living Room TV", "custom-key": "x", "nested": {"a": 1}
        }
    }))
    .unwrap()
}

/// A custom event with `data`.
pub fn custom(data: Value) -> Event {
    let Value::Object(data) = data else {
        panic!("data must be an object")
    };
    Event::new(EventKind::parse("app.deployed").unwrap(), data)
}
