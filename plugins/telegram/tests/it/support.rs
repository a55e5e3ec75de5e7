//! Shared test helpers: configs, the golden event set and golden files.

use std::path::PathBuf;

use herald_core::template::sample_events;
use herald_core::{Event, EventKind, Message, PluginConfig};
use serde_json::{json, Value};

/// A config entry for an instance named `test`.
pub fn config(settings: Value) -> PluginConfig {
    let mut entry = json!({"kind": "telegram", "name": "test"});
    entry
        .as_object_mut()
        .unwrap()
        .extend(settings.as_object().unwrap().clone());
    serde_json::from_value(entry).unwrap()
}

pub fn event(name: &str, id: &str, data: Value) -> Event {
    let mut event = sample_events().remove(0);
    event.id = id.to_owned();
    event.event = EventKind::parse(name).unwrap();
    event.data = data.as_object().unwrap().clone();
    event
}

/// Every known kind with and without enrichment, a custom event, and
/// events with non-ASCII, markup-laden and over-long values.
pub fn golden_events() -> Vec<(String, Event)> {
    let mut events: Vec<(String, Event)> = sample_events()
        .into_iter()
        .map(|e| {
            let variant = e.id.rsplit('_').next().unwrap().to_owned();
            (format!("{}-{variant}", e.event), e)
        })
        .collect();
    events.push((
        "playback.started-non-ascii".into(),
        event(
            "playback.started",
            "evt_non_ascii",
            json!({"media_item_id": "m9", "series": "進撃の巨人", "season": 4, "episode": 28,
                   "title": "人類の夜明け 🌅", "user_name": "太郎 🎮", "device_name": "リビングのテレビ",
                   "image_url": "https://images.example/進撃.jpg"}),
        ),
    ));
    events.push((
        "playback.started-markup".into(),
        event(
            "playback.started",
            "evt_markup",
            json!({"media_item_id": "m9", "title": "@everyone <b>Tom & Jerry</b> *_`x`_* [a](b) ||s|| #1 - 2.5! \\o/",
                   "user_name": "<@123> & co", "device_name": "> quote", "image_url": "not a url"}),
        ),
    ));
    let long_title: String = "The Extraordinarily Long Title 長いタイトル 🎞️ ".repeat(20);
    let long_overview: String =
        "Lorem ipsum dolor sit amet, 日本語のあらすじ 🎬 *stars* <tags> & more. ".repeat(120);
    events.push((
        "library.updated-long".into(),
        event(
            "library.updated",
            "evt_long",
            json!({"media_item_id": "m10", "change_type": "item_added", "media_type": "movie",
                   "title": long_title, "year": 2024, "overview": long_overview,
                   "server_name": "S".repeat(3000), "image_url": "https://images.example/long.jpg"}),
        ),
    ));
    events.push((
        "session.created-long".into(),
        event(
            "session.created",
            "evt_long_session",
            json!({"session_id": "s9", "user_name": "U".repeat(1500), "device_name": "デバイス".repeat(500),
                   "client": "C".repeat(5000)}),
        ),
    ));
    events
}

/// The request as the golden files store it.
pub fn golden_text(message: &Message) -> String {
    let mut text = serde_json::to_string_pretty(message).unwrap();
    text.push('\n');
    text
}

pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `actual` with the golden file `name`, or rewrites it when
/// `UPDATE_GOLDEN=1`. Returns a description of the mismatch.
pub fn check_golden(name: &str, actual: &str) -> Option<String> {
    let path = golden_dir().join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return None;
    }
    match std::fs::read_to_string(&path) {
        Ok(expected) if expected == actual => None,
        Ok(_) => Some(format!("{name} differs (UPDATE_GOLDEN=1 rewrites it)")),
        Err(_) => Some(format!("{name} is missing (UPDATE_GOLDEN=1 writes it)")),
    }
}
