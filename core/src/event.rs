//! The event model.
//!
//! An [`Event`] is what Herald receives and routes. It serializes exactly as
//! `{"id":"evt_…","event":"playback.started","timestamp":"2026-01-31T12:00:00Z","data":{…}}`
//! (`source` is added after `timestamp` when known). `data` is kept as a JSON
//! object so that fields Herald does not know survive untouched; the typed
//! views ([`PlaybackStarted`], …) validate the keys of the known kinds.

use std::fmt;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// A validated event name: `resource.verb`, lower case ASCII letters, digits
/// and `_`, at least two segments separated by dots.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventKind(String);

/// The kinds Herald knows the data of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KnownKind {
    /// `playback.started`
    PlaybackStarted,
    /// `playback.paused`
    PlaybackPaused,
    /// `playback.resumed`
    PlaybackResumed,
    /// `playback.ended`
    PlaybackEnded,
    /// `library.updated`
    LibraryUpdated,
    /// `media.marked_played`
    MediaMarkedPlayed,
    /// `media.marked_unplayed`
    MediaMarkedUnplayed,
    /// `user.created`
    UserCreated,
    /// `session.created`
    SessionCreated,
    /// `webhook.test`
    WebhookTest,
}

impl KnownKind {
    /// Every known kind, in documentation order.
    pub const ALL: [KnownKind; 10] = [
        KnownKind::PlaybackStarted,
        KnownKind::PlaybackPaused,
        KnownKind::PlaybackResumed,
        KnownKind::PlaybackEnded,
        KnownKind::LibraryUpdated,
        KnownKind::MediaMarkedPlayed,
        KnownKind::MediaMarkedUnplayed,
        KnownKind::UserCreated,
        KnownKind::SessionCreated,
        KnownKind::WebhookTest,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            KnownKind::PlaybackStarted => "playback.started",
            KnownKind::PlaybackPaused => "playback.paused",
            KnownKind::PlaybackResumed => "playback.resumed",
            KnownKind::PlaybackEnded => "playback.ended",
            KnownKind::LibraryUpdated => "library.updated",
            KnownKind::MediaMarkedPlayed => "media.marked_played",
            KnownKind::MediaMarkedUnplayed => "media.marked_unplayed",
            KnownKind::UserCreated => "user.created",
            KnownKind::SessionCreated => "session.created",
            KnownKind::WebhookTest => "webhook.test",
        }
    }

    fn from_name(name: &str) -> Option<KnownKind> {
        KnownKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl EventKind {
    /// Parses and validates an event name (no alias resolution; see
    /// [`IncomingEvent::normalize`] for that).
    pub fn parse(name: &str) -> Result<EventKind> {
        validate_name(name)?;
        Ok(EventKind(name.to_owned()))
    }

    /// An event kind for a known kind.
    pub fn known(kind: KnownKind) -> EventKind {
        EventKind(kind.as_str().to_owned())
    }

    /// The wire name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The known kind, or `None` for a custom event.
    pub fn as_known(&self) -> Option<KnownKind> {
        KnownKind::from_name(&self.0)
    }
}

/// Checks that `name` is `segment(.segment)+` with `[a-z0-9_]+` segments.
pub(crate) fn validate_name(name: &str) -> Result<()> {
    let invalid = |reason| Error::InvalidEventName {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("it is empty"));
    }
    if name.len() > 128 {
        return Err(invalid("it is longer than 128 characters"));
    }
    if !name.contains('.') {
        return Err(invalid("expected `resource.verb`, e.g. `playback.started`"));
    }
    for segment in name.split('.') {
        if segment.is_empty() {
            return Err(invalid("it has an empty segment"));
        }
        if !segment
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(invalid(
                "segments may only hold lower-case letters, digits and `_`",
            ));
        }
    }
    Ok(())
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for EventKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        EventKind::parse(&name).map_err(serde::de::Error::custom)
    }
}

/// One event, as stored, signed and sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Unique id, `evt_<ulid>` when Herald generates it.
    pub id: String,
    /// The kind, e.g. `playback.started`.
    pub event: EventKind,
    /// When it happened (UTC, RFC 3339).
    pub timestamp: DateTime<Utc>,
    /// Which source it came from (the ingest source's name), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The payload: typed keys for known kinds, anything for custom kinds,
    /// and every field Herald does not know kept as it came.
    pub data: Map<String, Value>,
}

impl Event {
    /// A new event of `kind` with a fresh id and the current time.
    pub fn new(kind: EventKind, data: Map<String, Value>) -> Event {
        Event {
            id: new_event_id(),
            event: kind,
            timestamp: Utc::now().trunc_subsecs(3),
            source: None,
            data,
        }
    }

    /// The exact JSON bytes Herald sends and signs for this event.
    pub fn to_json_bytes(&self) -> Vec<u8> {
        // Serializing a struct of strings and a JSON map cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// A string field of `data`.
    pub fn data_str(&self, key: &str) -> Option<&str> {
        self.data.get(key).and_then(Value::as_str)
    }

    /// An integer field of `data`.
    pub fn data_i64(&self, key: &str) -> Option<i64> {
        self.data.get(key).and_then(Value::as_i64)
    }

    /// A boolean field of `data`.
    pub fn data_bool(&self, key: &str) -> Option<bool> {
        self.data.get(key).and_then(Value::as_bool)
    }

    /// The enrichment fields present on this event.
    pub fn enrichment(&self) -> Enrichment {
        Enrichment::from_data(&self.data)
    }

    /// Checks the typed keys of a known kind (custom kinds always pass).
    pub fn validate(&self) -> Result<()> {
        validate_data(&self.event, &self.data)
    }
}

/// A fresh event id: `evt_` followed by a ULID (sortable by time).
pub fn new_event_id() -> String {
    format!("evt_{}", ulid::Ulid::new())
}

/// An event as posted to Herald: only `event` is required; the id and the
/// timestamp are generated when missing, aliases are resolved, and unknown
/// top-level fields are moved into `data` rather than dropped.
#[derive(Clone, Debug, Deserialize)]
pub struct IncomingEvent {
    /// Optional caller-chosen id (for idempotent retries by the sender).
    #[serde(default)]
    pub id: Option<String>,
    /// The event name or one of its aliases.
    pub event: String,
    /// When it happened; now when missing.
    #[serde(default)]
    pub timestamp: Option<DateTime<Utc>>,
    /// The source's name.
    #[serde(default)]
    pub source: Option<String>,
    /// The payload.
    #[serde(default)]
    pub data: Map<String, Value>,
    /// Any other top-level field, kept by moving it into `data`.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A data key and the value an alias implies for it.
type ImpliedField = Option<(&'static str, &'static str)>;

/// Aliases from other servers' vocabularies: `(alias, canonical name, data
/// default to set when absent)`.
const ALIASES: &[(&str, &str, ImpliedField)] = &[
    ("playback.start", "playback.started", None),
    ("playback.stop", "playback.ended", None),
    ("playback.pause", "playback.paused", None),
    ("playback.unpause", "playback.resumed", None),
    ("playback.resume", "playback.resumed", None),
    (
        "library.new",
        "library.updated",
        Some(("change_type", "item_added")),
    ),
    (
        "library.deleted",
        "library.updated",
        Some(("change_type", "item_removed")),
    ),
    ("item.markplayed", "media.marked_played", None),
    ("item.markunplayed", "media.marked_unplayed", None),
    ("user.new", "user.created", None),
    ("session.start", "session.created", None),
    ("system.notificationtest", "webhook.test", None),
];

/// Resolves an alias to its canonical name, setting the data defaults the
/// alias implies (`library.new` → `library.updated` with
/// `change_type: item_added`). Names that are not aliases are returned as is.
pub fn resolve_alias<'a>(name: &'a str, data: &mut Map<String, Value>) -> &'a str {
    for (alias, canonical, default) in ALIASES {
        if name == *alias {
            if let Some((key, value)) = default {
                data.entry(*key)
                    .or_insert_with(|| Value::String((*value).to_owned()));
            }
            return canonical;
        }
    }
    name
}

impl IncomingEvent {
    /// Resolves aliases, fills the id and timestamp, validates the name and
    /// the typed keys, and returns the event Herald stores.
    pub fn normalize(self) -> Result<Event> {
        let IncomingEvent {
            id,
            event,
            timestamp,
            source,
            mut data,
            extra,
        } = self;
        for (key, value) in extra {
            // `data` wins over a stray top-level field of the same name.
            data.entry(key).or_insert(value);
        }
        let name = resolve_alias(&event, &mut data).to_owned();
        let kind = EventKind::parse(&name).map_err(|e| Error::InvalidEvent {
            field: "event".into(),
            message: e.to_string(),
        })?;
        let id = match id {
            Some(id) => {
                validate_id(&id)?;
                id
            }
            None => new_event_id(),
        };
        let event = Event {
            id,
            event: kind,
            timestamp: timestamp.unwrap_or_else(|| Utc::now().trunc_subsecs(3)),
            source,
            data,
        };
        event.validate()?;
        Ok(event)
    }
}

fn validate_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidEvent {
            field: "id".into(),
            message: "must be 1 to 128 characters of letters, digits, `_`, `-`, `.` or `:`".into(),
        })
    }
}

/// Optional enrichment that formatters use when present.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Enrichment {
    /// Item title (episode title for episodes).
    pub title: Option<String>,
    /// Release year.
    pub year: Option<i64>,
    /// Series name, for episodes.
    pub series: Option<String>,
    /// Season number.
    pub season: Option<i64>,
    /// Episode number.
    pub episode: Option<i64>,
    /// Display name of the user.
    pub user_name: Option<String>,
    /// Display name of the device.
    pub device_name: Option<String>,
    /// Client application.
    pub client: Option<String>,
    /// Media server's name.
    pub server_name: Option<String>,
    /// Poster or thumbnail URL.
    pub image_url: Option<String>,
    /// Synopsis.
    pub overview: Option<String>,
}

impl Enrichment {
    fn from_data(data: &Map<String, Value>) -> Enrichment {
        let s = |k: &str| data.get(k).and_then(Value::as_str).map(str::to_owned);
        let i = |k: &str| data.get(k).and_then(Value::as_i64);
        Enrichment {
            title: s("title"),
            year: i("year"),
            series: s("series"),
            season: i("season"),
            episode: i("episode"),
            user_name: s("user_name"),
            device_name: s("device_name"),
            client: s("client"),
            server_name: s("server_name"),
            image_url: s("image_url"),
            overview: s("overview"),
        }
    }
}

/// The type a field must have.
#[derive(Clone, Copy)]
enum FieldType {
    Str,
    Int,
    NonNegative,
    Bool,
    OneOf(&'static [&'static str]),
}

/// Enrichment keys and their types, checked on every event that has them.
const ENRICHMENT_FIELDS: &[(&str, FieldType)] = &[
    ("title", FieldType::Str),
    ("year", FieldType::Int),
    ("series", FieldType::Str),
    ("season", FieldType::NonNegative),
    ("episode", FieldType::NonNegative),
    ("user_name", FieldType::Str),
    ("device_name", FieldType::Str),
    ("client", FieldType::Str),
    ("server_name", FieldType::Str),
    ("image_url", FieldType::Str),
    ("overview", FieldType::Str),
];

/// The change types of `library.updated`.
pub const CHANGE_TYPES: &[&str] = &["item_added", "item_removed", "metadata_updated"];

/// `(key, type, required)` of each known kind's typed data.
fn typed_fields(kind: KnownKind) -> &'static [(&'static str, FieldType, bool)] {
    use FieldType::*;
    match kind {
        KnownKind::PlaybackStarted | KnownKind::PlaybackPaused | KnownKind::PlaybackResumed => &[
            ("user_id", Str, false),
            ("media_item_id", Str, true),
            ("media_type", Str, false),
            ("device_id", Str, false),
            ("position_seconds", NonNegative, false),
        ],
        KnownKind::PlaybackEnded => &[
            ("user_id", Str, false),
            ("media_item_id", Str, true),
            ("media_type", Str, false),
            ("device_id", Str, false),
            ("duration_seconds", NonNegative, false),
            ("completed", Bool, false),
        ],
        KnownKind::LibraryUpdated => &[
            ("change_type", OneOf(CHANGE_TYPES), true),
            ("media_item_id", Str, true),
            ("library_id", Str, false),
            ("media_type", Str, false),
        ],
        KnownKind::MediaMarkedPlayed | KnownKind::MediaMarkedUnplayed => &[
            ("user_id", Str, false),
            ("media_item_id", Str, true),
            ("media_type", Str, false),
        ],
        KnownKind::UserCreated => &[("user_id", Str, true), ("user_name", Str, false)],
        KnownKind::SessionCreated => &[
            ("session_id", Str, true),
            ("user_id", Str, false),
            ("device_id", Str, false),
        ],
        KnownKind::WebhookTest => &[("message", Str, true), ("webhook_id", Str, false)],
    }
}

fn check_type(key: &str, ty: FieldType, value: &Value) -> Result<()> {
    let bad = |expected: &str| {
        Err(Error::InvalidEvent {
            field: format!("data.{key}"),
            message: format!("expected {expected}, got {}", json_type_name(value)),
        })
    };
    match ty {
        FieldType::Str if !value.is_string() => bad("a string"),
        FieldType::Int if !(value.is_i64() || value.is_u64()) => bad("an integer"),
        FieldType::NonNegative if !value.is_u64() => bad("a non-negative integer"),
        FieldType::Bool if !value.is_boolean() => bad("a boolean"),
        FieldType::OneOf(allowed) => match value.as_str() {
            Some(s) if allowed.contains(&s) => Ok(()),
            _ => Err(Error::InvalidEvent {
                field: format!("data.{key}"),
                message: format!("expected one of {}", allowed.join(", ")),
            }),
        },
        _ => Ok(()),
    }
}

fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn validate_data(kind: &EventKind, data: &Map<String, Value>) -> Result<()> {
    if let Some(known) = kind.as_known() {
        for (key, ty, required) in typed_fields(known) {
            match data.get(*key) {
                None | Some(Value::Null) if *required => {
                    return Err(Error::InvalidEvent {
                        field: format!("data.{key}"),
                        message: format!("is required for `{kind}`"),
                    })
                }
                None | Some(Value::Null) => {}
                Some(value) => check_type(key, *ty, value)?,
            }
        }
    }
    for (key, ty) in ENRICHMENT_FIELDS {
        if let Some(value) = data.get(*key).filter(|v| !v.is_null()) {
            check_type(key, *ty, value)?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_are_validated() {
        assert!(EventKind::parse("playback.started").is_ok());
        assert!(EventKind::parse("my_app.thing.happened").is_ok());
        for bad in [
            "",
            "playback",
            "Playback.Started",
            "a..b",
            ".a",
            "a.",
            "a b.c",
            "a.*",
        ] {
            assert!(EventKind::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn unknown_top_level_fields_move_into_data() {
        let incoming: IncomingEvent =
            serde_json::from_str(r#"{"event":"app.ping","extra":1,"data":{"extra":2,"k":"v"}}"#)
                .unwrap();
        let event = incoming.normalize().unwrap();
        assert_eq!(event.data["extra"], 2);
        assert_eq!(event.data["k"], "v");
        assert!(event.id.starts_with("evt_"));
    }
}
