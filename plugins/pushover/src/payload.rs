//! Pure formatting: an event (and its rendered template) becomes exactly
//! the Pushover form that is sent.

use herald_core::template::{DefaultTemplates, Markup};
use herald_core::{Event, HttpRequest, KnownKind};
use serde_json::Value;

use crate::config::{PushoverConfig, EMERGENCY};

/// Pushover's limit on `message`, in characters.
pub const MAX_MESSAGE: usize = 1024;
/// Pushover's limit on `title`, in characters.
pub const MAX_TITLE: usize = 250;
/// Pushover's limit on `url`, in characters.
pub const MAX_URL: usize = 512;
/// Pushover's limit on `url_title`, in characters.
pub const MAX_URL_TITLE: usize = 100;

macro_rules! who {
    () => {
        "{{#if user}}{{user}}{{else}}Someone{{/if}}"
    };
}
macro_rules! what {
    () => {
        "{{#if display_title}}{{display_title}}{{else}}an item{{/if}}"
    };
}
macro_rules! item {
    () => {
        "{{#if display_title}}{{display_title}}{{else}}item {{media_item_id}}{{/if}}"
    };
}
macro_rules! on {
    () => {
        "{{#if device_name}} on {{device_name}}{{/if}}"
    };
}

/// The built-in message templates (values are escaped for the instance's
/// markup: none for plain text, HTML escapes with `html = true`).
pub const TEMPLATES: DefaultTemplates = &[
    ("playback.started", concat!(who!(), " started ", what!(), on!())),
    (
        "playback.paused",
        concat!(who!(), " paused ", what!(), on!(), "{{#if position}} at {{position}}{{/if}}"),
    ),
    ("playback.resumed", concat!(who!(), " resumed ", what!(), on!())),
    (
        "playback.ended",
        concat!(
            who!(),
            " {{#if (eq completed false)}}stopped{{else}}finished{{/if}} ",
            what!(),
            "{{#if duration}} ({{duration}}){{/if}}"
        ),
    ),
    (
        "library.updated",
        concat!(
            "{{#if (eq change_type \"item_added\")}}New {{#if media_type}}{{media_type}}{{else}}item{{/if}} added: ",
            item!(),
            "{{#if overview}}\n\n{{truncate overview 500}}{{/if}}",
            "{{else if (eq change_type \"item_removed\")}}Removed from the library: ",
            item!(),
            "{{else}}Metadata updated: ",
            item!(),
            "{{/if}}"
        ),
    ),
    ("media.marked_played", concat!(who!(), " marked ", what!(), " as played")),
    ("media.marked_unplayed", concat!(who!(), " marked ", what!(), " as unplayed")),
    ("user.created", "New user: {{user}}"),
    (
        "session.created",
        concat!(who!(), " started a session", on!(), "{{#if client}} ({{client}}){{/if}}"),
    ),
    ("webhook.test", "{{message}}"),
    (
        "default",
        concat!(
            "{{event}}{{#if message}}: {{message}}{{/if}}",
            "{{#if display_title}}\n",
            what!(),
            "{{/if}}"
        ),
    ),
];

/// The notification title: `Playback started`, `New in the library`, …,
/// or the event name for custom events.
pub fn label(event: &Event) -> String {
    let Some(known) = event.event.as_known() else {
        return event.event.to_string();
    };
    match known {
        KnownKind::PlaybackStarted => "Playback started",
        KnownKind::PlaybackPaused => "Playback paused",
        KnownKind::PlaybackResumed => "Playback resumed",
        KnownKind::PlaybackEnded => "Playback ended",
        KnownKind::LibraryUpdated => match event.data_str("change_type") {
            Some("item_added") => "New in the library",
            Some("item_removed") => "Removed from the library",
            _ => "Library updated",
        },
        KnownKind::MediaMarkedPlayed => "Marked as played",
        KnownKind::MediaMarkedUnplayed => "Marked as unplayed",
        KnownKind::UserCreated => "New user",
        KnownKind::SessionCreated => "New session",
        KnownKind::WebhookTest => "Test notification",
    }
    .to_owned()
}

/// The built-in priority: quiet (-1) for playback chatter, normal (0)
/// otherwise. Never emergency.
pub fn default_priority(event: &Event) -> i8 {
    match event.event.as_known() {
        Some(
            KnownKind::PlaybackStarted
            | KnownKind::PlaybackPaused
            | KnownKind::PlaybackResumed
            | KnownKind::PlaybackEnded
            | KnownKind::MediaMarkedPlayed
            | KnownKind::MediaMarkedUnplayed
            | KnownKind::SessionCreated,
        ) => -1,
        _ => 0,
    }
}

/// A URL with `{key}` placeholders, filled with URL-encoded event values.
#[derive(Clone, Debug, PartialEq)]
pub struct UrlTemplate(Vec<UrlPart>);

#[derive(Clone, Debug, PartialEq)]
enum UrlPart {
    Literal(String),
    Placeholder(String),
}

impl UrlTemplate {
    /// Parses `https://host/path?id={media_item_id}`.
    pub fn parse(template: &str) -> Result<UrlTemplate, String> {
        if !(template.starts_with("http://") || template.starts_with("https://")) {
            return Err("must be an http:// or https:// URL".into());
        }
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            parts.push(UrlPart::Literal(rest[..open].to_owned()));
            let after = &rest[open + 1..];
            let close = after
                .find('}')
                .ok_or_else(|| format!("unclosed `{{` in `{template}`"))?;
            let name = &after[..close];
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            {
                return Err(format!("invalid placeholder `{{{name}}}`"));
            }
            parts.push(UrlPart::Placeholder(name.to_owned()));
            rest = &after[close + 1..];
        }
        parts.push(UrlPart::Literal(rest.to_owned()));
        Ok(UrlTemplate(parts))
    }

    /// The URL for `event`, or `None` when a placeholder has no value.
    pub fn render(&self, event: &Event) -> Option<String> {
        let mut url = String::new();
        for part in &self.0 {
            match part {
                UrlPart::Literal(text) => url.push_str(text),
                UrlPart::Placeholder(name) => {
                    let value = match name.as_str() {
                        "event" => event.event.as_str().to_owned(),
                        "id" => event.id.clone(),
                        "source" => event.source.clone()?,
                        key => match event.data.get(key)? {
                            Value::String(s) if !s.is_empty() => s.clone(),
                            Value::Number(n) => n.to_string(),
                            Value::Bool(b) => b.to_string(),
                            _ => return None,
                        },
                    };
                    percent_encode_into(&mut url, &value);
                }
            }
        }
        Some(url)
    }
}

/// RFC 3986 percent-encoding of everything but unreserved characters.
fn percent_encode_into(out: &mut String, text: &str) {
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
}

/// Everything `request` needs besides the event.
#[derive(Clone, Debug)]
pub struct Formatter {
    /// Settings.
    pub settings: PushoverConfig,
    /// Plain or HTML.
    pub markup: Markup,
    /// Parsed `url`.
    pub url: Option<UrlTemplate>,
}

impl Formatter {
    /// Priority for `event`: the instance's override for its name, then its
    /// `default`, then the built-in one.
    pub fn priority(&self, event: &Event) -> i8 {
        let p = &self.settings.priorities;
        p.get(event.event.as_str())
            .or_else(|| p.get("default"))
            .copied()
            .unwrap_or_else(|| default_priority(event))
    }

    /// The `messages.json` request for `event`, whose template rendered as
    /// `text`. Every field is within Pushover's limits.
    pub fn request(&self, event: &Event, text: &str) -> HttpRequest {
        let settings = &self.settings;
        let text = if text.trim().is_empty() {
            self.markup.escape(&label(event))
        } else {
            text.trim_end().to_owned()
        };
        let mut fields: Vec<(String, String)> = Vec::new();
        let mut add = |key: &str, value: String| fields.push((key.to_owned(), value));
        add("token", settings.token.clone());
        add("user", settings.user.clone());
        add("message", self.markup.fit(&text, MAX_MESSAGE));
        add(
            "title",
            herald_core::template::truncate(&label(event), MAX_TITLE),
        );
        if self.markup == Markup::Html {
            add("html", "1".into());
        }
        let priority = self.priority(event);
        add("priority", priority.to_string());
        if priority == EMERGENCY {
            // Checked at build time: both are set when a priority is 2.
            add("retry", settings.retry.unwrap_or(60).to_string());
            add("expire", settings.expire.unwrap_or(3600).to_string());
        }
        add("timestamp", event.timestamp.timestamp().to_string());
        if let Some(sound) = &settings.sound {
            add("sound", sound.clone());
        }
        if let Some(device) = &settings.device {
            add("device", device.clone());
        }
        if let Some(url) = self
            .url
            .as_ref()
            .and_then(|u| u.render(event))
            .filter(|u| u.chars().count() <= MAX_URL)
        {
            add("url", url);
            if let Some(title) = &settings.url_title {
                add(
                    "url_title",
                    herald_core::template::truncate(title, MAX_URL_TITLE),
                );
            }
        }
        let url = format!(
            "{}/1/messages.json",
            settings.api_base.trim_end_matches('/')
        );
        HttpRequest::post_form(&url, fields)
    }
}
