//! Notification rules of one destination: conditions, throttling, grouping
//! of "item added", quiet hours and fallback.
//!
//! This module holds the configuration model and everything about it that is
//! pure: validating conditions, evaluating them on an event, computing quiet
//! windows in a time zone, group keys, and the combined events a group, a
//! digest or a throttle summary becomes. The host keeps the state (what is
//! held, when it was last sent) durably and decides when to release it.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::event::{Event, EventKind};

/// The rules of one destination. Every part is optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Only events matching this condition are sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Condition>,
    /// De-duplication and rate caps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
    /// Grouping of `library.updated` / `item_added` events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<Grouping>,
    /// A daily window in which notifications are held or dropped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quiet_hours: Option<QuietHours>,
    /// The destination (webhook name or plugin instance name) that gets the
    /// notification when this one's retries are exhausted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
}

impl Rules {
    /// Checks every part; errors name the offending field or operator.
    pub fn validate(&self) -> Result<()> {
        if let Some(condition) = &self.conditions {
            condition.validate("rules.conditions")?;
        }
        if let Some(throttle) = &self.throttle {
            throttle.validate()?;
        }
        if let Some(quiet) = &self.quiet_hours {
            quiet.parse()?;
        }
        if let Some(group) = &self.group {
            if group.window.is_zero() {
                return Err(rule_error("rules.group.window", "must be longer than zero"));
            }
        }
        Ok(())
    }

    /// Whether the rules are all defaults (nothing to do).
    pub fn is_empty(&self) -> bool {
        self == &Rules::default()
    }
}

fn rule_error(field: &str, message: impl Into<String>) -> Error {
    Error::InvalidEvent {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// A condition on event fields, with `all` / `any` / `not` nesting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Condition {
    /// Every condition holds.
    All {
        /// The conditions.
        all: Vec<Condition>,
    },
    /// At least one condition holds.
    Any {
        /// The conditions.
        any: Vec<Condition>,
    },
    /// The condition does not hold.
    Not {
        /// The condition.
        not: Box<Condition>,
    },
    /// `field op value`.
    Compare {
        /// A known field (`media_type`, `user_name`, …), `event`, `source`,
        /// or `data.<path>` for anything else.
        field: String,
        /// The operator.
        op: Operator,
        /// The operand.
        value: Value,
    },
}

/// Comparison operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    /// Equal (strings compare case-sensitively; numbers numerically).
    Equals,
    /// Not equal (a missing field is not equal to anything).
    NotEquals,
    /// Equal to one of a list.
    In,
    /// A string contains a substring (case-insensitive), or a list holds
    /// the value.
    Contains,
    /// A string starts with a prefix (case-insensitive).
    StartsWith,
    /// Greater than (numbers).
    Gt,
    /// Less than (numbers).
    Lt,
}

/// Fields conditions may name without `data.`.
pub const CONDITION_FIELDS: &[&str] = &[
    "event",
    "source",
    "user_id",
    "user_name",
    "media_item_id",
    "media_type",
    "library_id",
    "library_name",
    "device_id",
    "device_name",
    "client",
    "server_name",
    "series",
    "title",
    "season",
    "episode",
    "year",
    "completed",
    "duration_seconds",
    "position_seconds",
    "change_type",
];

impl Condition {
    /// Checks fields, operators and operand types. `path` names this
    /// condition in errors.
    pub fn validate(&self, path: &str) -> Result<()> {
        match self {
            Condition::All { all: items } | Condition::Any { any: items } => {
                let key = if matches!(self, Condition::All { .. }) {
                    "all"
                } else {
                    "any"
                };
                if items.is_empty() {
                    return Err(rule_error(
                        &format!("{path}.{key}"),
                        "needs at least one condition",
                    ));
                }
                for (i, item) in items.iter().enumerate() {
                    item.validate(&format!("{path}.{key}[{i}]"))?;
                }
                Ok(())
            }
            Condition::Not { not } => not.validate(&format!("{path}.not")),
            Condition::Compare { field, op, value } => {
                let known = CONDITION_FIELDS.contains(&field.as_str())
                    || field.strip_prefix("data.").is_some_and(|rest| {
                        !rest.is_empty() && rest.split('.').all(|s| !s.is_empty())
                    });
                if !known {
                    return Err(rule_error(
                        &format!("{path}.field"),
                        format!(
                            "unknown field `{field}`; use one of {} or `data.<path>`",
                            CONDITION_FIELDS.join(", ")
                        ),
                    ));
                }
                let bad = |message: &str| {
                    Err(rule_error(
                        &format!("{path}.value"),
                        format!("`{}` {message}", op_name(*op)),
                    ))
                };
                match op {
                    Operator::In if !value.is_array() => bad("needs a list"),
                    Operator::Gt | Operator::Lt if !value.is_number() => bad("needs a number"),
                    Operator::StartsWith if !value.is_string() => bad("needs a string"),
                    Operator::Equals | Operator::NotEquals | Operator::Contains
                        if value.is_object() || value.is_array() =>
                    {
                        bad("needs a string, number or boolean")
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// Whether `event` satisfies the condition.
    pub fn matches(&self, event: &Event) -> bool {
        match self {
            Condition::All { all } => all.iter().all(|c| c.matches(event)),
            Condition::Any { any } => any.iter().any(|c| c.matches(event)),
            Condition::Not { not } => !not.matches(event),
            Condition::Compare { field, op, value } => {
                let actual = field_value(event, field);
                compare(actual.as_ref(), *op, value)
            }
        }
    }
}

fn op_name(op: Operator) -> &'static str {
    match op {
        Operator::Equals => "equals",
        Operator::NotEquals => "not_equals",
        Operator::In => "in",
        Operator::Contains => "contains",
        Operator::StartsWith => "starts_with",
        Operator::Gt => "gt",
        Operator::Lt => "lt",
    }
}

fn field_value(event: &Event, field: &str) -> Option<Value> {
    match field {
        "event" => Some(Value::String(event.event.to_string())),
        "source" => event.source.clone().map(Value::String),
        _ => {
            let path = field.strip_prefix("data.").unwrap_or(field);
            let mut segments = path.split('.');
            let mut current = event.data.get(segments.next()?)?;
            for segment in segments {
                current = current.as_object()?.get(segment)?;
            }
            Some(current.clone())
        }
    }
}

fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        // Ids arrive as strings from some servers and numbers from others.
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => {
            s.parse::<f64>().ok() == n.as_f64()
        }
        _ => a == b,
    }
}

fn compare(actual: Option<&Value>, op: Operator, expected: &Value) -> bool {
    let Some(actual) = actual else {
        return false;
    };
    match op {
        Operator::Equals => loosely_equal(actual, expected),
        Operator::NotEquals => !loosely_equal(actual, expected),
        Operator::In => expected
            .as_array()
            .is_some_and(|list| list.iter().any(|v| loosely_equal(actual, v))),
        Operator::Contains => match (actual, expected) {
            (Value::String(a), Value::String(e)) => a.to_lowercase().contains(&e.to_lowercase()),
            (Value::Array(items), e) => items.iter().any(|v| loosely_equal(v, e)),
            _ => false,
        },
        Operator::StartsWith => match (actual.as_str(), expected.as_str()) {
            (Some(a), Some(e)) => a.to_lowercase().starts_with(&e.to_lowercase()),
            _ => false,
        },
        Operator::Gt | Operator::Lt => {
            let a = actual
                .as_f64()
                .or_else(|| actual.as_str().and_then(|s| s.parse().ok()));
            match (a, expected.as_f64()) {
                (Some(a), Some(e)) if op == Operator::Gt => a > e,
                (Some(a), Some(e)) => a < e,
                _ => false,
            }
        }
    }
}

/// De-duplication and rate caps of a destination.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Throttle {
    /// No second notification for the same key within this interval
    /// (e.g. `"10m"`).
    #[serde(
        default,
        with = "humantime_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_interval: Option<Duration>,
    /// The fields that make the key of `min_interval`.
    #[serde(default = "default_throttle_key")]
    pub key: Vec<String>,
    /// At most this many notifications per minute; the excess is summarized
    /// in one message at the end of the minute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_per_minute: Option<u32>,
}

fn default_throttle_key() -> Vec<String> {
    vec!["event".into(), "user_id".into(), "media_item_id".into()]
}

impl Throttle {
    fn validate(&self) -> Result<()> {
        if self.min_interval.is_none() && self.max_per_minute.is_none() {
            return Err(rule_error(
                "rules.throttle",
                "set `min_interval`, `max_per_minute` or both",
            ));
        }
        if self.max_per_minute == Some(0) {
            return Err(rule_error(
                "rules.throttle.max_per_minute",
                "must be at least 1",
            ));
        }
        for field in &self.key {
            if !CONDITION_FIELDS.contains(&field.as_str()) && !field.starts_with("data.") {
                return Err(rule_error(
                    "rules.throttle.key",
                    format!("unknown field `{field}`"),
                ));
            }
        }
        Ok(())
    }

    /// The de-duplication key of `event`.
    pub fn key_of(&self, event: &Event) -> String {
        self.key
            .iter()
            .map(|f| {
                field_value(event, f)
                    .map(|v| v.to_string())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join("\u{1f}")
    }
}

/// Grouping of items added to the library.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Grouping {
    /// How long after the first item the group is sent (default 5 minutes).
    #[serde(default = "default_group_window", with = "humantime_serde")]
    pub window: Duration,
}

fn default_group_window() -> Duration {
    Duration::from_secs(300)
}

/// What happens to notifications during quiet hours.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum QuietAction {
    /// Held and sent as one digest when the window ends.
    #[default]
    Digest,
    /// Dropped (logged).
    Drop,
}

/// A daily quiet window in a time zone, e.g. 22:00–07:00 Europe/Berlin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// Start, `HH:MM`.
    pub start: String,
    /// End, `HH:MM` (before `start` means the window spans midnight).
    pub end: String,
    /// IANA time zone name (default `UTC`).
    #[serde(default = "default_timezone")]
    pub timezone: String,
    /// `digest` (default) or `drop`.
    #[serde(default)]
    pub action: QuietAction,
}

fn default_timezone() -> String {
    "UTC".into()
}

impl QuietHours {
    fn parse(&self) -> Result<(NaiveTime, NaiveTime, chrono_tz::Tz)> {
        let time = |field: &str, text: &str| {
            NaiveTime::parse_from_str(text, "%H:%M").map_err(|_| {
                rule_error(
                    &format!("rules.quiet_hours.{field}"),
                    format!("`{text}` is not HH:MM"),
                )
            })
        };
        let start = time("start", &self.start)?;
        let end = time("end", &self.end)?;
        if start == end {
            return Err(rule_error(
                "rules.quiet_hours.end",
                "must differ from start",
            ));
        }
        let tz: chrono_tz::Tz = self.timezone.parse().map_err(|_| {
            rule_error(
                "rules.quiet_hours.timezone",
                format!(
                    "unknown time zone `{}` (use an IANA name like Europe/Berlin)",
                    self.timezone
                ),
            )
        })?;
        Ok((start, end, tz))
    }

    /// If `now` falls in a quiet window, the instant that window ends.
    pub fn window_end(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (start, end, tz) = self.parse().ok()?;
        let local = now.with_timezone(&tz);
        let time = local.time();
        let date = local.date_naive();
        let inside = if start < end {
            time >= start && time < end
        } else {
            time >= start || time < end
        };
        if !inside {
            return None;
        }
        // The end is today, unless the window spans midnight and it is
        // still before midnight.
        let end_date = if start > end && time >= start {
            date.succ_opt()?
        } else {
            date
        };
        let end_local = tz.from_local_datetime(&end_date.and_time(end)).earliest()?;
        Some(end_local.with_timezone(&Utc))
    }
}

/// The group an `item_added` event belongs to: a series' season, or a
/// library for movies and everything else. `None` for other events.
pub fn group_key(event: &Event) -> Option<String> {
    if event.event.as_str() != "library.updated"
        || event.data_str("change_type") != Some("item_added")
    {
        return None;
    }
    if let Some(series) = event.data_str("series") {
        let season = event
            .data_i64("season")
            .map(|s| s.to_string())
            .unwrap_or_default();
        return Some(format!("series\u{1f}{series}\u{1f}{season}"));
    }
    let library = event
        .data_str("library_name")
        .or_else(|| event.data_str("library_id"))
        .unwrap_or("library");
    let media_type = event.data_str("media_type").unwrap_or("item");
    Some(format!("library\u{1f}{library}\u{1f}{media_type}"))
}

/// The event kind of a released group of added items.
pub const GROUPED_KIND: &str = "library.items_added";
/// The event kind of a quiet-hours digest.
pub const DIGEST_KIND: &str = "notification.digest";
/// The event kind of a throttle summary.
pub const SUMMARY_KIND: &str = "notification.summary";

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// One notification for a group of `item_added` events: the latest data of
/// each item (by `media_item_id`, later events win), in arrival order, with
/// a summary line such as "The Expanse — 5 new episodes (S02E01–S02E05)".
pub fn grouped_event(items: &[Event], now: DateTime<Utc>) -> Event {
    let mut latest: BTreeMap<String, (usize, &Event)> = BTreeMap::new();
    for (i, item) in items.iter().enumerate() {
        let id = item
            .data_str("media_item_id")
            .unwrap_or(&item.id)
            .to_owned();
        let first = latest.get(&id).map(|(pos, _)| *pos).unwrap_or(i);
        latest.insert(id, (first, item));
    }
    let mut unique: Vec<(usize, &Event)> = latest.into_values().collect();
    unique.sort_by_key(|(pos, e)| (e.data_i64("episode").unwrap_or(i64::MAX), *pos));
    let events: Vec<&Event> = unique.into_iter().map(|(_, e)| e).collect();
    let count = events.len();
    let first = events.first().copied();
    let series = first.and_then(|e| e.data_str("series")).map(str::to_owned);
    let season = first.and_then(|e| e.data_i64("season"));
    let mut data = Map::new();
    let message = if let Some(series) = &series {
        let codes: Vec<String> = events
            .iter()
            .filter_map(|e| {
                Some(crate::template::episode_code(
                    e.data_i64("season")? as u64,
                    e.data_i64("episode")? as u64,
                ))
            })
            .collect();
        let range = match (codes.first(), codes.last()) {
            (Some(a), Some(b)) if a != b => format!(" ({a}–{b})"),
            (Some(a), _) => format!(" ({a})"),
            _ => String::new(),
        };
        data.insert("series".into(), series.clone().into());
        if let Some(season) = season {
            data.insert("season".into(), season.into());
        }
        format!(
            "{series} — {}{range}",
            plural(count, "new episode", "new episodes")
        )
    } else {
        let library = first
            .and_then(|e| {
                e.data_str("library_name")
                    .or_else(|| e.data_str("library_id"))
            })
            .unwrap_or("the library")
            .to_owned();
        let (one, many) = match first.and_then(|e| e.data_str("media_type")) {
            Some("movie") => ("new movie", "new movies"),
            Some("track") => ("new track", "new tracks"),
            _ => ("new item", "new items"),
        };
        data.insert("library_name".into(), library.clone().into());
        format!("{} in {library}", plural(count, one, many))
    };
    data.insert("change_type".into(), "item_added".into());
    data.insert("count".into(), count.into());
    data.insert("message".into(), message.clone().into());
    data.insert("title".into(), message.into());
    if let Some(image) = first.and_then(|e| e.data_str("image_url")) {
        data.insert("image_url".into(), image.into());
    }
    data.insert(
        "items".into(),
        Value::Array(events.iter().map(|e| item_json(e)).collect()),
    );
    combined(GROUPED_KIND, data, now)
}

fn item_json(event: &Event) -> Value {
    let mut item = event.data.clone();
    item.remove("raw");
    json!({"id": event.id, "event": event.event, "timestamp": event.timestamp, "data": item})
}

fn combined(kind: &str, data: Map<String, Value>, now: DateTime<Utc>) -> Event {
    let mut event = Event::new(
        EventKind::parse(kind).unwrap_or_else(|_| EventKind::known(crate::KnownKind::WebhookTest)),
        data,
    );
    event.timestamp = now;
    event
}

/// One digest of the notifications held during quiet hours.
pub fn digest_event(held: &[Event], now: DateTime<Utc>) -> Event {
    summary_like(DIGEST_KIND, held, now, "held during quiet hours")
}

/// One summary of the notifications over a rate cap.
pub fn summary_event(excess: &[Event], now: DateTime<Utc>) -> Event {
    summary_like(
        SUMMARY_KIND,
        excess,
        now,
        "over the rate limit in the last minute",
    )
}

fn summary_like(kind: &str, events: &[Event], now: DateTime<Utc>, why: &str) -> Event {
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events {
        *by_kind.entry(e.event.as_str()).or_default() += 1;
    }
    let breakdown = by_kind
        .iter()
        .map(|(k, n)| format!("{n} × {k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let message = format!(
        "{} {why}: {breakdown}",
        plural(events.len(), "notification", "notifications")
    );
    let mut data = Map::new();
    data.insert("count".into(), events.len().into());
    data.insert("message".into(), message.clone().into());
    data.insert("title".into(), message.into());
    data.insert(
        "items".into(),
        Value::Array(events.iter().map(item_json).collect()),
    );
    combined(kind, data, now)
}
