//! Pure formatting: an event (and its rendered template) becomes exactly
//! the ntfy JSON publish that is sent.

use base64::Engine;
use herald_core::template::{DefaultTemplates, Markup};
use herald_core::{Event, HttpRequest, KnownKind};
use serde_json::{Map, Value};

use crate::config::{ImageMode, NtfyConfig};

/// ntfy turns a message longer than this many bytes into an attachment;
/// Herald cuts it instead.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// Herald's cap on the title, in characters.
pub const MAX_TITLE_CHARS: usize = 250;

/// The longest URL sent as `click`, `attach` or `icon`; longer ones are
/// left out rather than cut (a cut URL is a broken link).
pub const MAX_URL_BYTES: usize = 2048;

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
/// markup: none for plain text, Markdown escapes with `markdown = true`).
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

/// The built-in priority (1 min … 5 max): playback chatter is low, news
/// is default.
pub fn default_priority(event: &Event) -> u8 {
    match event.event.as_known() {
        Some(
            KnownKind::PlaybackStarted
            | KnownKind::PlaybackPaused
            | KnownKind::PlaybackResumed
            | KnownKind::PlaybackEnded
            | KnownKind::MediaMarkedPlayed
            | KnownKind::MediaMarkedUnplayed
            | KnownKind::SessionCreated,
        ) => 2,
        _ => 3,
    }
}

/// The built-in tags (ntfy shows emoji short codes as emoji).
pub fn default_tags(event: &Event) -> Vec<String> {
    let tag = match event.event.as_known() {
        Some(KnownKind::PlaybackStarted | KnownKind::PlaybackResumed) => "arrow_forward",
        Some(KnownKind::PlaybackPaused) => "pause_button",
        Some(KnownKind::PlaybackEnded) => "stop_button",
        Some(KnownKind::LibraryUpdated) => match event.data_str("change_type") {
            Some("item_removed") => "wastebasket",
            Some("metadata_updated") => "pencil2",
            _ => "new",
        },
        Some(KnownKind::MediaMarkedPlayed) => "white_check_mark",
        Some(KnownKind::MediaMarkedUnplayed) => "leftwards_arrow_with_hook",
        Some(KnownKind::UserCreated) => "bust_in_silhouette",
        Some(KnownKind::SessionCreated) => "computer",
        Some(KnownKind::WebhookTest) => "test_tube",
        None => "bell",
    };
    vec![tag.to_owned()]
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

/// Cuts marked-up `text` to at most `max` bytes at a character boundary
/// (ending with `…`), without breaking the markup's escapes.
pub fn fit_bytes(markup: Markup, text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    // `fit` counts UTF-16 units, and a unit is at most 3 bytes of UTF-8:
    // shrink its limit until the bytes fit.
    let mut units = max;
    loop {
        let out = markup.fit(text, units);
        if out.len() <= max || units == 0 {
            return out;
        }
        units = units.saturating_sub((out.len() - max).div_ceil(3).max(1));
    }
}

/// The `Authorization` header value of the instance, if it has
/// credentials.
pub fn authorization(settings: &NtfyConfig) -> Option<String> {
    if let Some(token) = &settings.token {
        return Some(format!("Bearer {}", token.trim()));
    }
    let (Some(user), Some(password)) = (&settings.username, &settings.password) else {
        return None;
    };
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    Some(format!("Basic {encoded}"))
}

/// Everything `request` needs besides the event: the instance's settings,
/// its markup and its parsed click template.
#[derive(Clone, Debug)]
pub struct Formatter {
    /// Settings.
    pub settings: NtfyConfig,
    /// Plain or Markdown.
    pub markup: Markup,
    /// Parsed `click`.
    pub click: Option<UrlTemplate>,
}

impl Formatter {
    /// Priority for `event`: the instance's override for its name, then its
    /// `default`, then the built-in one.
    pub fn priority(&self, event: &Event) -> u8 {
        let p = &self.settings.priorities;
        p.get(event.event.as_str())
            .or_else(|| p.get("default"))
            .copied()
            .unwrap_or_else(|| default_priority(event))
    }

    /// Tags for `event`, looked up like [`priority`](Self::priority).
    pub fn tags(&self, event: &Event) -> Vec<String> {
        let t = &self.settings.tags;
        t.get(event.event.as_str())
            .or_else(|| t.get("default"))
            .cloned()
            .unwrap_or_else(|| default_tags(event))
    }

    /// The publish request for `event`, whose template rendered as `text`.
    pub fn request(&self, event: &Event, text: &str) -> HttpRequest {
        let settings = &self.settings;
        let text = if text.trim().is_empty() {
            self.markup.escape(&label(event))
        } else {
            text.trim_end().to_owned()
        };
        let mut body = Map::new();
        body.insert("topic".into(), settings.topic.clone().into());
        body.insert(
            "title".into(),
            herald_core::template::truncate(&label(event), MAX_TITLE_CHARS).into(),
        );
        body.insert(
            "message".into(),
            fit_bytes(self.markup, &text, MAX_MESSAGE_BYTES).into(),
        );
        body.insert("tags".into(), self.tags(event).into());
        body.insert("priority".into(), self.priority(event).into());
        if let Some(click) = self
            .click
            .as_ref()
            .and_then(|c| c.render(event))
            .filter(|u| u.len() <= MAX_URL_BYTES)
        {
            body.insert("click".into(), click.into());
        }
        let image = event
            .data_str("image_url")
            .filter(|u| u.starts_with("http://") || u.starts_with("https://"))
            .filter(|u| u.len() <= MAX_URL_BYTES);
        match (settings.image, image) {
            (ImageMode::Attach, Some(url)) => {
                body.insert("attach".into(), url.into());
            }
            (ImageMode::Icon, Some(url)) => {
                body.insert("icon".into(), url.into());
            }
            _ => {}
        }
        if self.markup == Markup::Markdown {
            body.insert("markdown".into(), true.into());
        }
        let url = format!("{}/", settings.server.trim_end_matches('/'));
        let request = HttpRequest::post_json(&url, Value::Object(body));
        match authorization(settings) {
            Some(value) => request.with_header("Authorization", value),
            None => request,
        }
    }
}
