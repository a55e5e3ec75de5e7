//! Events for golden and property tests: every known kind, bare (required
//! keys only) and enriched, plus non-ASCII and over-long ones. Ids and
//! timestamps are fixed so the output is stable.

use chrono::{TimeZone, Utc};
use herald_core::{Event, EventKind, KnownKind};
use serde_json::{json, Map, Value};

/// The long text used for over-long titles and overviews (6000 characters,
/// multi-byte ones included so truncation must respect char boundaries).
pub fn long_text() -> String {
    "Ünïcødé 長い説明 🎬 ".repeat(400)
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The required (and typical) keys of a known kind.
pub fn base_data(kind: KnownKind) -> Map<String, Value> {
    object(match kind {
        KnownKind::PlaybackStarted | KnownKind::PlaybackPaused | KnownKind::PlaybackResumed => {
            json!({"user_id": "u1", "media_item_id": "m42", "media_type": "episode",
                   "device_id": "d7", "position_seconds": 754})
        }
        KnownKind::PlaybackEnded => json!({"user_id": "u1", "media_item_id": "m42",
            "media_type": "episode", "device_id": "d7", "duration_seconds": 2534, "completed": true}),
        KnownKind::LibraryUpdated => {
            json!({"change_type": "item_added", "media_item_id": "m42", "library_id": "tv", "media_type": "episode"})
        }
        KnownKind::MediaMarkedPlayed | KnownKind::MediaMarkedUnplayed => {
            json!({"user_id": "u1", "media_item_id": "m42", "media_type": "movie"})
        }
        KnownKind::UserCreated => json!({"user_id": "u9"}),
        KnownKind::SessionCreated => {
            json!({"session_id": "s1", "user_id": "u1", "device_id": "d7"})
        }
        KnownKind::WebhookTest => json!({"message": "Hello from Herald"}),
    })
}

/// Enrichment for an episode of The Expanse.
pub fn enrichment() -> Map<String, Value> {
    object(json!({
        "title": "Home",
        "series": "The Expanse",
        "season": 2,
        "episode": 5,
        "year": 2017,
        "user_name": "Alice",
        "device_name": "Living Room TV",
        "client": "Jellyfin Web",
        "server_name": "Media",
        "image_url": "https://img.example.invalid/expanse-s02e05.jpg",
        "overview": "Miller and the Rocinante crew race to stop Eros from crashing into Earth.",
    }))
}

/// A fixed event of `kind` with `data`.
pub fn event(kind: &str, data: Map<String, Value>) -> Event {
    let event = Event {
        id: "evt_01HQZX3W5V6N8M9P0Q1R2S3T4U".into(),
        event: EventKind::parse(kind).expect("valid kind"),
        timestamp: Utc
            .with_ymd_and_hms(2026, 1, 31, 12, 0, 0)
            .single()
            .expect("valid time"),
        source: Some("jellyfin".into()),
        data,
    };
    event.validate().expect("fixture is valid");
    event
}

/// `(case name, event)` for every golden case.
pub fn cases() -> Vec<(String, Event)> {
    let mut cases = Vec::new();
    for kind in KnownKind::ALL {
        let name = kind.as_str().replace('.', "_");
        cases.push((
            format!("{name}.bare"),
            event(kind.as_str(), base_data(kind)),
        ));
        let mut data = base_data(kind);
        data.extend(enrichment());
        cases.push((format!("{name}.enriched"), event(kind.as_str(), data)));
    }
    // A movie without a series, and a library removal.
    let mut movie = base_data(KnownKind::PlaybackStarted);
    movie.extend(object(
        json!({"media_type": "movie", "title": "Dune: Part Two",
        "year": 2024, "user_name": "Bob", "device_name": "iPad"}),
    ));
    cases.push((
        "playback_started.movie".into(),
        event("playback.started", movie),
    ));
    let mut removed = base_data(KnownKind::LibraryUpdated);
    removed.extend(object(
        json!({"change_type": "item_removed", "title": "Old Film"}),
    ));
    cases.push((
        "library_updated.removed".into(),
        event("library.updated", removed),
    ));
    // Non-ASCII titles and names.
    let mut unicode = base_data(KnownKind::PlaybackStarted);
    unicode.extend(object(
        json!({"title": "千と千尋の神隠し 🐉", "user_name": "José 😀",
        "device_name": "Wohnzimmer-Fernseher", "media_type": "movie", "year": 2001,
        "overview": "10歳の少女千尋が迷い込んだ不思議の町。"}),
    ));
    cases.push((
        "playback_started.unicode".into(),
        event("playback.started", unicode),
    ));
    // Over-long title and overview.
    let mut long = base_data(KnownKind::LibraryUpdated);
    long.extend(enrichment());
    long.insert("title".into(), Value::String(long_text()));
    long.insert("overview".into(), Value::String(long_text()));
    cases.push((
        "library_updated.long".into(),
        event("library.updated", long),
    ));
    // A custom event.
    cases.push((
        "custom.app_deployed".into(),
        event(
            "app.deployed",
            object(json!({"version": "1.2.3", "user_id": "ci"})),
        ),
    ));
    cases
}
