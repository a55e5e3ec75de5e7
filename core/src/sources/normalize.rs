//! What every source parser shares: lenient value readers (servers and
//! user templates send numbers as strings, empty strings for "none"), unit
//! conversions, and the one place that turns collected [`Fields`] into an
//! [`Event`] with exactly the typed keys of its kind.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{Origin, Parsed, SourceError, SourceType};
use crate::event::{Event, EventKind, KnownKind};

/// 100-nanosecond ticks (Jellyfin, Emby) per second.
pub(crate) const TICKS_PER_SECOND: u64 = 10_000_000;

/// Share of the runtime from which playback counts as completed (90 %).
pub(crate) fn completed_from_ratio(position: Option<u64>, runtime: Option<u64>) -> Option<bool> {
    match (position, runtime) {
        (Some(position), Some(runtime)) if runtime > 0 => {
            Some(u128::from(position) * 10 >= u128::from(runtime) * 9)
        }
        _ => None,
    }
}

/// Walks nested objects: `get(map, &["Item", "Id"])`.
pub(crate) fn get<'a>(map: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (last, parents) = path.split_last()?;
    let mut current = map;
    for key in parents {
        current = current.get(*key)?.as_object()?;
    }
    current.get(*last).filter(|v| !v.is_null())
}

/// A non-empty string, or a number rendered as one (ids, titles like `1917`).
pub(crate) fn text(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A non-negative integer from a number or a numeric string; fractions are
/// truncated, negative or non-finite values are absent.
pub(crate) fn uint(value: Option<&Value>) -> Option<u64> {
    match value? {
        Value::Number(n) => n.as_u64().or_else(|| float_to_u64(n.as_f64()?)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<u64>()
                .ok()
                .or_else(|| float_to_u64(s.parse::<f64>().ok()?))
        }
        _ => None,
    }
}

fn float_to_u64(f: f64) -> Option<u64> {
    // `as` saturates at u64::MAX for huge values.
    (f.is_finite() && f >= 0.0).then_some(f as u64)
}

/// An integer (possibly negative) from a number or a numeric string.
pub(crate) fn int(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64().or_else(|| float_to_i64(n.as_f64()?)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>()
                .ok()
                .or_else(|| float_to_i64(s.parse::<f64>().ok()?))
        }
        _ => None,
    }
}

fn float_to_i64(f: f64) -> Option<i64> {
    // `as` saturates at the i64 bounds.
    f.is_finite().then_some(f as i64)
}

/// A boolean from `true`/`false`, `"true"`/`"false"`, `1`/`0` or `"1"`/`"0"`.
pub(crate) fn boolean(value: Option<&Value>) -> Option<bool> {
    match value? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_u64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// `Some(url)` only for an absolute `http(s)` URL.
pub(crate) fn absolute_url(url: Option<String>) -> Option<String> {
    url.filter(|u| {
        let lower = u.to_ascii_lowercase();
        (lower.starts_with("http://") || lower.starts_with("https://")) && u.len() > 8
    })
}

/// Herald's media type vocabulary: lower case, Plex's names where the
/// servers differ (`Audio` → `track`, `Series` → `show`, `MusicAlbum` →
/// `album`, `MusicArtist` → `artist`, `MusicVideo` → `music_video`).
pub(crate) fn media_type(raw: Option<String>) -> Option<String> {
    let lower = raw?.to_ascii_lowercase();
    Some(
        match lower.as_str() {
            "audio" => "track",
            "series" => "show",
            "musicalbum" => "album",
            "musicartist" => "artist",
            "musicvideo" => "music_video",
            other => other,
        }
        .to_owned(),
    )
}

/// The Herald kind a source event maps to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    Started,
    Paused,
    Resumed,
    Ended,
    ItemAdded,
    ItemRemoved,
    /// `by_user`: a manual "mark as watched" (true) or the server marking it
    /// after playback (false); recorded as `data.marked_by`.
    MarkedPlayed {
        by_user: bool,
    },
    MarkedUnplayed,
    UserCreated,
    SessionCreated,
    Test,
}

impl Target {
    fn kind(&self) -> KnownKind {
        match self {
            Target::Started => KnownKind::PlaybackStarted,
            Target::Paused => KnownKind::PlaybackPaused,
            Target::Resumed => KnownKind::PlaybackResumed,
            Target::Ended => KnownKind::PlaybackEnded,
            Target::ItemAdded | Target::ItemRemoved => KnownKind::LibraryUpdated,
            Target::MarkedPlayed { .. } => KnownKind::MediaMarkedPlayed,
            Target::MarkedUnplayed => KnownKind::MediaMarkedUnplayed,
            Target::UserCreated => KnownKind::UserCreated,
            Target::SessionCreated => KnownKind::SessionCreated,
            Target::Test => KnownKind::WebhookTest,
        }
    }
}

/// The source's names for the fields an event kind requires, for errors.
pub(crate) struct Names {
    pub item_id: &'static str,
    pub user_id: &'static str,
    pub session_id: &'static str,
    /// Advice appended to a missing-field error, starting with `; `.
    pub hint: &'static str,
}

/// Everything a source can tell about an event, already normalized
/// (seconds, lower-case media types, absolute image URLs).
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub server_id: Option<String>,
    pub server_name: Option<String>,
    pub item_id: Option<String>,
    pub media_type: Option<String>,
    pub device_id: Option<String>,
    pub device_name: Option<String>,
    pub client: Option<String>,
    pub session_id: Option<String>,
    pub library_id: Option<String>,
    pub library_name: Option<String>,
    pub title: Option<String>,
    pub series: Option<String>,
    pub season: Option<u64>,
    pub episode: Option<u64>,
    pub year: Option<i64>,
    pub overview: Option<String>,
    pub image_url: Option<String>,
    /// Playback position (watched time on `playback.ended`), in seconds.
    pub position_seconds: Option<u64>,
    /// Length of the item, in seconds.
    pub runtime_seconds: Option<u64>,
    /// The source's own "played to completion" flag, when it has one.
    pub completed: Option<bool>,
    /// The message of `webhook.test`.
    pub message: Option<String>,
    /// Source-specific extras (`artist`, `album`, …), kept under their names.
    pub extra: Vec<(&'static str, Value)>,
}

struct DataBuilder(Map<String, Value>);

impl DataBuilder {
    fn str(&mut self, key: &str, value: &Option<String>) {
        if let Some(v) = value {
            self.0.insert(key.to_owned(), Value::String(v.clone()));
        }
    }
    fn uint(&mut self, key: &str, value: Option<u64>) {
        if let Some(v) = value {
            self.0.insert(key.to_owned(), Value::from(v));
        }
    }
}

fn require(
    value: &Option<String>,
    source: SourceType,
    event_type: &str,
    field: &'static str,
    names: &Names,
) -> Result<(), SourceError> {
    if value.is_some() {
        Ok(())
    } else {
        Err(SourceError::MissingField {
            source_type: source,
            event_type: event_type.to_owned(),
            field,
            hint: names.hint,
        })
    }
}

/// Builds the event of `target` from `fields`, with `raw` kept as `data.raw`
/// (pass `None` to keep no copy).
pub(crate) fn build(
    source: SourceType,
    event_type: &str,
    target: Target,
    fields: Fields,
    names: &Names,
    raw: Option<Map<String, Value>>,
    now: DateTime<Utc>,
) -> Result<Parsed, SourceError> {
    let mut d = DataBuilder(Map::new());
    match &target {
        Target::Started | Target::Paused | Target::Resumed => {
            require(&fields.item_id, source, event_type, names.item_id, names)?;
            d.str("user_id", &fields.user_id);
            d.str("media_item_id", &fields.item_id);
            d.str("media_type", &fields.media_type);
            d.str("device_id", &fields.device_id);
            d.uint("position_seconds", fields.position_seconds);
            d.uint("runtime_seconds", fields.runtime_seconds);
        }
        Target::Ended => {
            require(&fields.item_id, source, event_type, names.item_id, names)?;
            d.str("user_id", &fields.user_id);
            d.str("media_item_id", &fields.item_id);
            d.str("media_type", &fields.media_type);
            d.str("device_id", &fields.device_id);
            d.uint("duration_seconds", fields.position_seconds);
            let completed = fields
                .completed
                .or_else(|| completed_from_ratio(fields.position_seconds, fields.runtime_seconds));
            if let Some(completed) = completed {
                d.0.insert("completed".into(), Value::Bool(completed));
            }
            d.uint("runtime_seconds", fields.runtime_seconds);
        }
        Target::ItemAdded | Target::ItemRemoved => {
            require(&fields.item_id, source, event_type, names.item_id, names)?;
            let change = if target == Target::ItemAdded {
                "item_added"
            } else {
                "item_removed"
            };
            d.0.insert("change_type".into(), Value::String(change.into()));
            d.str("media_item_id", &fields.item_id);
            d.str("media_type", &fields.media_type);
            d.uint("runtime_seconds", fields.runtime_seconds);
        }
        Target::MarkedPlayed { .. } | Target::MarkedUnplayed => {
            require(&fields.item_id, source, event_type, names.item_id, names)?;
            d.str("user_id", &fields.user_id);
            d.str("media_item_id", &fields.item_id);
            d.str("media_type", &fields.media_type);
            if let Target::MarkedPlayed { by_user } = target {
                let by = if by_user { "user" } else { "playback" };
                d.0.insert("marked_by".into(), Value::String(by.into()));
            }
        }
        Target::UserCreated => {
            require(&fields.user_id, source, event_type, names.user_id, names)?;
            d.str("user_id", &fields.user_id);
        }
        Target::SessionCreated => {
            require(
                &fields.session_id,
                source,
                event_type,
                names.session_id,
                names,
            )?;
            d.str("session_id", &fields.session_id);
            d.str("user_id", &fields.user_id);
            d.str("device_id", &fields.device_id);
        }
        Target::Test => {
            let message = fields
                .message
                .clone()
                .unwrap_or_else(|| format!("Test notification from {source}"));
            d.0.insert("message".into(), Value::String(message));
        }
    }
    // Enrichment, wherever the source had it.
    d.str("title", &fields.title);
    if let Some(year) = fields.year {
        d.0.insert("year".into(), Value::from(year));
    }
    d.str("series", &fields.series);
    d.uint("season", fields.season);
    d.uint("episode", fields.episode);
    d.str("user_name", &fields.user_name);
    d.str("device_name", &fields.device_name);
    d.str("client", &fields.client);
    d.str("server_name", &fields.server_name);
    d.str("image_url", &fields.image_url);
    d.str("overview", &fields.overview);
    // Untyped extras useful to templates and filters.
    d.str("server_id", &fields.server_id);
    d.str("library_id", &fields.library_id);
    d.str("library_name", &fields.library_name);
    for (key, value) in fields.extra {
        d.0.entry(key).or_insert(value);
    }
    if let Some(raw) = raw {
        d.0.insert("raw".into(), Value::Object(raw));
    }
    let origin = Origin {
        user_id: fields.user_id,
        user_name: fields.user_name,
        server_id: fields.server_id,
        server_name: fields.server_name,
    };
    let event = Event {
        id: event_id(now),
        event: EventKind::known(target.kind()),
        timestamp: now,
        source: None,
        data: d.0,
    };
    Ok(Parsed::Event { event, origin })
}

/// `evt_<ulid>` whose time part is `now` (no clock read).
pub(crate) fn event_id(now: DateTime<Utc>) -> String {
    format!("evt_{}", ulid::Ulid::from_datetime(now.into()))
}

/// An ignored event type.
pub(crate) fn ignored(original_type: &str, reason: impl Into<String>) -> Parsed {
    Parsed::Ignored {
        reason: reason.into(),
        original_type: original_type.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_read_leniently() {
        assert_eq!(uint(Some(&json!("1234"))), Some(1234));
        assert_eq!(uint(Some(&json!(" 7 "))), Some(7));
        assert_eq!(uint(Some(&json!(12.9))), Some(12));
        assert_eq!(uint(Some(&json!(-1))), None);
        assert_eq!(uint(Some(&json!("-5"))), None);
        assert_eq!(uint(Some(&json!(""))), None);
        assert_eq!(uint(Some(&json!(1e300))), Some(u64::MAX));
        assert_eq!(int(Some(&json!("2016"))), Some(2016));
        assert_eq!(boolean(Some(&json!("1"))), Some(true));
        assert_eq!(boolean(Some(&json!("False"))), Some(false));
        assert_eq!(text(Some(&json!("  "))), None);
        assert_eq!(text(Some(&json!(42))), Some("42".into()));
    }

    #[test]
    fn completion_is_ninety_percent_and_never_overflows() {
        assert_eq!(completed_from_ratio(Some(90), Some(100)), Some(true));
        assert_eq!(completed_from_ratio(Some(89), Some(100)), Some(false));
        assert_eq!(completed_from_ratio(Some(1), Some(0)), None);
        assert_eq!(
            completed_from_ratio(Some(u64::MAX), Some(u64::MAX)),
            Some(true)
        );
    }

    #[test]
    fn only_absolute_urls_are_images() {
        assert!(absolute_url(Some("/library/metadata/1/thumb".into())).is_none());
        assert!(absolute_url(Some("https://i.imgur.com/x.png".into())).is_some());
    }
}
