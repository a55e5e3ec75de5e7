//! Pure formatting: what the program receives for an event.
//!
//! - on **stdin**, the event JSON exactly as webhooks receive it (the
//!   [`Publish`] payload);
//! - in the **environment**, the main fields as `HERALD_…` variables
//!   ([`environment`]), with the rendered sentence in `HERALD_MESSAGE`.

use herald_core::template::{self, DefaultTemplates};
use herald_core::{Event, Message, Publish};
use serde_json::Value;

use crate::config::ExecSettings;

/// Prefix of the topic naming the program: `exec:<command>`.
pub const TOPIC_PREFIX: &str = "exec:";

/// Plain-text sentences for `HERALD_MESSAGE` (instances may override them
/// with `templates`).
pub const TEMPLATES: DefaultTemplates = &[
    (
        "playback.started",
        "{{#if user}}{{user}}{{else}}Someone{{/if}} started {{#if display_title}}{{display_title}}{{else}}an item{{/if}}{{#if device_name}} on {{device_name}}{{/if}}",
    ),
    (
        "playback.ended",
        "{{#if user}}{{user}}{{else}}Someone{{/if}} {{#if (eq completed false)}}stopped{{else}}finished{{/if}} {{#if display_title}}{{display_title}}{{else}}an item{{/if}}",
    ),
    (
        "library.updated",
        "{{#if (eq change \"added\")}}New in the library{{else if (eq change \"removed\")}}Removed from the library{{else}}Updated in the library{{/if}}: {{#if display_title}}{{display_title}}{{else}}item {{media_item_id}}{{/if}}",
    ),
    ("user.created", "New user: {{user}}"),
    ("webhook.test", "{{message}}"),
    (
        "default",
        "{{event}}{{#if user}} by {{user}}{{/if}}{{#if display_title}}: {{display_title}}{{/if}}{{#if message}}: {{message}}{{/if}}",
    ),
];

/// The message for `event`: a publish whose topic names the program and
/// whose payload is the stdin, the event JSON.
pub fn message(settings: &ExecSettings, event: &Event) -> Message {
    Message::Publish(Publish {
        topic: format!("{TOPIC_PREFIX}{}", settings.command),
        payload: String::from_utf8_lossy(&event.to_json_bytes()).into_owned(),
        qos: 0,
        retain: false,
    })
}

/// The `HERALD_…` variables of `event`, sorted by name; `message` is the
/// rendered template.
///
/// | variable | value |
/// | --- | --- |
/// | `HERALD_EVENT` | `playback.started` |
/// | `HERALD_EVENT_ID` | `evt_…` |
/// | `HERALD_TIMESTAMP` | RFC 3339 |
/// | `HERALD_SOURCE` | the ingest source, when known |
/// | `HERALD_MESSAGE` | the rendered sentence |
/// | `HERALD_USER` | `user_name`, else `user_id` |
/// | `HERALD_USER_ID`, `HERALD_MEDIA_ITEM_ID`, `HERALD_MEDIA_TYPE`, `HERALD_LIBRARY_ID`, `HERALD_CHANGE_TYPE`, `HERALD_SERIES`, `HERALD_SEASON`, `HERALD_EPISODE`, `HERALD_YEAR`, `HERALD_DEVICE`, `HERALD_CLIENT`, `HERALD_SERVER`, `HERALD_IMAGE_URL` | the data fields |
/// | `HERALD_TITLE` | `The Expanse S02E05 'Home'`, `Dune (2021)` |
/// | `HERALD_DATA_<KEY>` | every scalar `data` field, key upper-cased |
///
/// A variable whose value is absent is not set; a value longer than
/// [`MAX_ENV_VALUE_BYTES`] is cut (the whole event is on stdin).
pub fn environment(event: &Event, message: &str) -> Vec<(String, String)> {
    let ctx = template::context(event);
    let text = |key: &str| ctx.get(key).and_then(scalar);
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut set = |name: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            vars.push((format!("HERALD_{name}"), cut(value)));
        }
    };
    set("EVENT", Some(event.event.as_str().to_owned()));
    set("EVENT_ID", Some(event.id.clone()));
    set("TIMESTAMP", text("timestamp"));
    set("SOURCE", event.source.clone());
    set("MESSAGE", Some(message.to_owned()));
    set("USER", text("user"));
    set("TITLE", text("display_title"));
    for (name, key) in [
        ("USER_ID", "user_id"),
        ("MEDIA_ITEM_ID", "media_item_id"),
        ("MEDIA_TYPE", "media_type"),
        ("LIBRARY_ID", "library_id"),
        ("CHANGE_TYPE", "change_type"),
        ("SERIES", "series"),
        ("SEASON", "season"),
        ("EPISODE", "episode"),
        ("YEAR", "year"),
        ("DEVICE", "device_name"),
        ("CLIENT", "client"),
        ("SERVER", "server_name"),
        ("IMAGE_URL", "image_url"),
    ] {
        set(name, event.data.get(key).and_then(scalar));
    }
    for (key, value) in &event.data {
        if let Some(name) = env_name(key) {
            set(&format!("DATA_{name}"), scalar(value));
        }
    }
    vars.sort();
    vars.dedup_by(|a, b| a.0 == b.0);
    vars
}

/// Longest `HERALD_…` value, in bytes (Linux refuses a single variable
/// over 128 KiB, and all of them together over a few MiB).
pub const MAX_ENV_VALUE_BYTES: usize = 4096;

fn cut(mut value: String) -> String {
    if value.len() > MAX_ENV_VALUE_BYTES {
        let mut end = MAX_ENV_VALUE_BYTES - '…'.len_utf8();
        while !value.is_char_boundary(end) {
            end -= 1;
        }
        value.truncate(end);
        value.push('…');
    }
    value
}

/// A string, number or boolean as text; `None` for null, arrays and
/// objects.
fn scalar(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// `media_item_id` → `MEDIA_ITEM_ID`; keys with other characters than
/// letters, digits, `_`, `-` and `.` are left out (`-` and `.` become `_`).
fn env_name(key: &str) -> Option<String> {
    if key.is_empty()
        || !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
    {
        return None;
    }
    Some(
        key.bytes()
            .map(|b| match b {
                b'-' | b'.' => '_',
                b => b.to_ascii_uppercase() as char,
            })
            .collect(),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_at_a_character_boundary() {
        let value = cut("é".repeat(5000));
        assert!(value.len() <= MAX_ENV_VALUE_BYTES && value.ends_with('…'));
        assert_eq!(cut("short".into()), "short");
    }

    #[test]
    fn env_names_are_upper_snake_case_or_left_out() {
        assert_eq!(env_name("media_item_id").as_deref(), Some("MEDIA_ITEM_ID"));
        assert_eq!(env_name("x-y.z").as_deref(), Some("X_Y_Z"));
        assert_eq!(env_name("a b"), None);
        assert_eq!(env_name("é"), None);
        assert_eq!(env_name(""), None);
    }
}
