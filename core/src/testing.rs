//! Test support shared by the plugin crates (cargo feature `testing`).
//!
//! Every plugin crate tests the same way: fixed events go through
//! [`NotificationPlugin::format`](crate::NotificationPlugin::format) and the
//! result is compared with golden files; property tests throw arbitrary
//! strings at the formatter; instances are built from JSON settings as the
//! host builds them. The pieces they share live here, once:
//!
//! - [`plugin_config`] and [`build`]: an instance from JSON settings;
//! - [`fixtures`]: the event set of the plain-text services (ntfy, Pushover,
//!   Apprise, MQTT), every known kind bare and enriched;
//! - [`samples`]: the event set of the chat services (Discord, Slack,
//!   Telegram), [`sample_events`](crate::template::sample_events) plus
//!   non-ASCII, markup-laden and over-long ones;
//! - [`Golden`]: golden files under `tests/golden/`, rewritten with
//!   `UPDATE_GOLDEN=1`;
//! - [`props`]: proptest strategies for arbitrary events;
//! - [`response`]: an [`HttpResponse`] for `classify` tests;
//! - [`delivery_context`], [`serve`] and [`closed_address`]: delivering to
//!   a local stand-in for the service, or to nothing at all.
//!
//! The key design decision: these are test helpers, so they panic on what
//! only a broken test can cause (settings that are not a JSON object, a
//! fixture that does not validate, a golden file that cannot be written),
//! with a message saying which; a golden *mismatch* is returned, not
//! panicked, so a test can report every mismatch at once. Nothing here is
//! compiled into Herald itself: plugin crates enable the feature in their
//! `[dev-dependencies]` only.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::event::Event;
use crate::plugin::{Body, DeliveryContext, HttpRequest, HttpResponse, Message};
use crate::registry::{PluginConfig, Registry};
use crate::NotificationPlugin;

/// The `[[plugins]]` entry `{"kind": kind, "name": name, ...settings}`.
///
/// # Panics
///
/// When `settings` is not a JSON object or the entry is not a valid
/// plugin config: a broken test, not a case to handle.
pub fn plugin_config(kind: &str, name: &str, settings: Value) -> PluginConfig {
    let Value::Object(settings) = settings else {
        panic!("plugin settings must be a JSON object, got {settings}")
    };
    let mut entry = Map::new();
    entry.insert("kind".into(), kind.into());
    entry.insert("name".into(), name.into());
    entry.extend(settings);
    serde_json::from_value(Value::Object(entry))
        .unwrap_or_else(|e| panic!("not a valid plugin config: {e}"))
}

/// Builds an instance of `kind` named `test` through the registry, as the
/// host does (the plugin crate must be linked into the test binary).
///
/// # Panics
///
/// As [`plugin_config`].
pub fn build(kind: &str, settings: Value) -> crate::Result<Box<dyn NotificationPlugin>> {
    Registry::from_inventory()?.build(&plugin_config(kind, "test", settings))
}

/// The error of building an instance of `kind` from `settings`, as text.
///
/// # Panics
///
/// When the settings are accepted: the test expected an error.
pub fn build_error(kind: &str, settings: Value) -> String {
    match build(kind, settings) {
        Ok(_) => panic!("config accepted"),
        Err(e) => e.to_string(),
    }
}

/// An answer with `status`, `headers` and a text `body`, for `classify`
/// tests.
pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> HttpResponse {
    HttpResponse {
        status,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.as_bytes().to_vec(),
    }
}

/// A delivery context with a default HTTP client and a per-attempt
/// `timeout`.
pub fn delivery_context(timeout: Duration) -> DeliveryContext {
    DeliveryContext {
        http: reqwest::Client::new(),
        timeout,
    }
}

/// Serves `app` on 127.0.0.1, port 0, in a background task for as long as
/// the runtime lives; returns the address it listens on.
///
/// # Panics
///
/// When no local port can be bound.
pub async fn serve(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener
        .local_addr()
        .expect("a bound listener has an address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

/// An address on 127.0.0.1 where nothing listens: a port bound and
/// released at once, so a connection to it is refused.
///
/// # Panics
///
/// When no local port can be bound.
pub fn closed_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener
        .local_addr()
        .expect("a bound listener has an address")
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

pub mod fixtures {
    //! Events for golden and property tests of the plain-text services:
    //! every known kind, bare (required keys only) and enriched, plus
    //! non-ASCII and over-long ones. Ids and timestamps are fixed so the
    //! output is stable.

    use chrono::{TimeZone, Utc};
    use serde_json::{json, Map, Value};

    use super::object;
    use crate::event::{Event, EventKind, KnownKind};

    /// The long text used for over-long titles and overviews (6000
    /// characters, multi-byte ones included so truncation must respect
    /// char boundaries).
    pub fn long_text() -> String {
        "Ünïcødé 長い説明 🎬 ".repeat(400)
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
    ///
    /// # Panics
    ///
    /// When `kind` is not a valid event name or the event does not
    /// validate: the fixture itself is wrong.
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

    /// `(case name, event)` for every golden case: `<kind>.bare` and
    /// `<kind>.enriched` for every known kind (dots as underscores), a
    /// movie, a removal, non-ASCII, over-long and custom events.
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
}

pub mod samples {
    //! Events for golden tests of the chat services:
    //! [`sample_events`] (every known kind `full` and `minimal`, and a
    //! custom one) plus events with non-ASCII, markup-laden and over-long
    //! values.

    use serde_json::{json, Value};

    use crate::event::{Event, EventKind};
    use crate::template::sample_events;

    /// The first sample event renamed `name`, with `id` and `data`.
    ///
    /// # Panics
    ///
    /// When `name` is not a valid event name or `data` is not a JSON
    /// object: the test itself is wrong.
    pub fn event(name: &str, id: &str, data: Value) -> Event {
        let mut event = sample_events().remove(0);
        event.id = id.to_owned();
        event.event = EventKind::parse(name).expect("valid event name");
        let Value::Object(data) = data else {
            panic!("event data must be a JSON object, got {data}")
        };
        event.data = data;
        event
    }

    /// `(case name, event)` for every golden case: `<event>-<variant>` for
    /// every sample event (`playback.started-full`, `app.deployed-custom`,
    /// …), then `playback.started-non-ascii`, `playback.started-markup`,
    /// `library.updated-long` and `session.created-long`.
    pub fn cases() -> Vec<(String, Event)> {
        let mut events: Vec<(String, Event)> = sample_events()
            .into_iter()
            .map(|e| {
                let variant = e.id.rsplit('_').next().unwrap_or_default().to_owned();
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
}

/// A crate's golden files: `tests/golden/` of its manifest directory.
/// `UPDATE_GOLDEN=1 cargo test -p <crate>` rewrites them; review the diff
/// by eye, they are the spec.
#[derive(Clone, Debug)]
pub struct Golden {
    dir: PathBuf,
}

impl Golden {
    /// The golden files of the crate whose manifest directory is
    /// `manifest_dir`: pass `env!("CARGO_MANIFEST_DIR")`.
    pub fn of_crate(manifest_dir: &str) -> Golden {
        Golden {
            dir: Path::new(manifest_dir).join("tests/golden"),
        }
    }

    /// The directory, `<crate>/tests/golden`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Compares `actual` with the file `name`, or rewrites it when
    /// `UPDATE_GOLDEN=1`. The error describes the mismatch.
    ///
    /// # Panics
    ///
    /// When `UPDATE_GOLDEN=1` and the file cannot be written.
    pub fn check(&self, name: &str, actual: &str) -> Result<(), String> {
        let path = self.dir.join(name);
        if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
            }
            std::fs::write(&path, actual)
                .unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
            return Ok(());
        }
        let expected = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
                path.display()
            )
        })?;
        if expected == actual {
            Ok(())
        } else {
            Err(format!(
                "{} differs (UPDATE_GOLDEN=1 to accept):\n--- expected\n{expected}\n--- actual\n{actual}",
                path.display()
            ))
        }
    }

    /// Checks every `(name, actual)` pair and fails once with every
    /// mismatch.
    ///
    /// # Panics
    ///
    /// When any file differs or is missing: this is the assertion.
    pub fn check_all(&self, results: impl IntoIterator<Item = (String, String)>) {
        let failures: Vec<String> = results
            .into_iter()
            .filter_map(|(name, actual)| self.check(&name, &actual).err())
            .collect();
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }
}

impl Golden {
    /// Formats every `(name, event)` case with `plugin`, which must send a
    /// `POST` with a JSON body; checks the body with `accept` (the
    /// service's own rules: `Err` is what the service would answer) and the
    /// whole message, [`pretty_json`], with the golden file
    /// `<dir>/<name>.json`. Fails once with every refusal and mismatch.
    ///
    /// # Panics
    ///
    /// When a case does not format to a JSON `POST`, and when anything was
    /// refused or differs: this is the assertion.
    pub fn check_json_posts(
        &self,
        plugin: &dyn NotificationPlugin,
        dir: &str,
        cases: impl IntoIterator<Item = (String, Event)>,
        accept: impl Fn(&HttpRequest, &Value) -> Result<(), String>,
    ) {
        let mut failures = Vec::new();
        for (name, event) in cases {
            let message = plugin
                .format(&event)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let Message::Http(request) = &message else {
                panic!("{name}: not HTTP")
            };
            assert_eq!(request.method, "POST", "{name}");
            let Body::Json(body) = &request.body else {
                panic!("{name}: not JSON")
            };
            if let Err(e) = accept(request, body) {
                failures.push(format!("{name}: {} would refuse it: {e}", plugin.kind()));
            }
            failures.extend(
                self.check(&format!("{dir}/{name}.json"), &pretty_json(&message))
                    .err(),
            );
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

/// `value` as the golden files store JSON: pretty-printed, with a final
/// newline.
///
/// # Panics
///
/// When `value` cannot be serialized (a map with non-string keys).
pub fn pretty_json(value: &impl serde::Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).expect("serializable as JSON");
    text.push('\n');
    text
}

pub mod props {
    //! Proptest strategies: arbitrary events whose strings are anything,
    //! including long runs of every markup's special characters.

    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    use crate::event::{Event, EventKind, KnownKind};

    /// Text of up to about `max` characters: arbitrary characters, or a
    /// short run of markup-special, non-ASCII and plain ones repeated.
    pub fn text(max: usize) -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter),
            "[ *_~`|<>#@&\\-\\[\\]()\\\\.!日本🎬a-z]{0,64}"
                .prop_map(move |s| s.repeat(max / 64 + 1)),
        ]
    }

    prop_compose! {
        /// An event of any known kind or the custom `app.custom`, whose
        /// data holds up to 8 media strings of up to 7000 characters, up to
        /// 4 numbers, maybe `completed`, and a `change_type`.
        pub fn arb_event()(
            kind in proptest::sample::select(KnownKind::ALL.to_vec()).prop_map(Some),
            custom in any::<bool>(),
            strings in proptest::collection::vec(
                (proptest::sample::select(vec![
                    "title", "series", "overview", "user_name", "user_id", "device_name", "client",
                    "server_name", "image_url", "media_type", "message", "media_item_id",
                ]), text(7000)),
                0..8,
            ),
            numbers in proptest::collection::vec(
                (proptest::sample::select(vec![
                    "season", "episode", "year", "duration_seconds", "position_seconds",
                ]), any::<u32>()),
                0..4,
            ),
            completed in any::<Option<bool>>(),
            change in proptest::sample::select(vec!["item_added", "item_removed", "metadata_updated"]),
        ) -> Event {
            let mut data = Map::new();
            for (key, value) in strings {
                data.insert(key.into(), Value::String(value));
            }
            for (key, value) in numbers {
                data.insert(key.into(), json!(value));
            }
            if let Some(completed) = completed {
                data.insert("completed".into(), json!(completed));
            }
            data.insert("change_type".into(), json!(change));
            let kind = match (custom, kind) {
                (false, Some(kind)) => EventKind::known(kind),
                _ => EventKind::parse("app.custom").expect("valid event name"),
            };
            let mut event = crate::template::sample_events().remove(0);
            event.event = kind;
            event.data = data;
            event
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn plugin_config_merges_settings() {
        let config = plugin_config("ntfy", "test", json!({"topic": "t"}));
        assert_eq!(config.kind, "ntfy");
        assert_eq!(config.name, "test");
    }

    #[test]
    #[should_panic(expected = "must be a JSON object")]
    fn plugin_config_wants_an_object() {
        plugin_config("ntfy", "test", json!(["topic"]));
    }

    #[test]
    fn the_event_sets_are_stable() {
        assert_eq!(fixtures::cases().len(), 25);
        assert_eq!(samples::cases().len(), 25);
        assert_eq!(object(json!(1)), Map::new());
    }
}
