//! Pure formatting: an event (and its rendered template) becomes exactly
//! the Apprise API request that is sent.

use herald_core::template::{DefaultTemplates, Markup};
use herald_core::{Event, HttpRequest, KnownKind};
use serde_json::{Map, Value};

use crate::config::{AppriseConfig, BodyFormat, NotifyType};

/// Herald's cap on the body, in bytes (Apprise passes it on to services,
/// which cut it to their own limits).
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// Herald's cap on the title, in characters.
pub const MAX_TITLE_CHARS: usize = 250;

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
/// `format`: none for text, Markdown or HTML escapes otherwise).
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

/// The built-in notification type: `success` for a new library item,
/// `warning` for a removed one, `info` otherwise.
pub fn default_type(event: &Event) -> NotifyType {
    match (event.event.as_known(), event.data_str("change_type")) {
        (Some(KnownKind::LibraryUpdated), Some("item_added")) => NotifyType::Success,
        (Some(KnownKind::LibraryUpdated), Some("item_removed")) => NotifyType::Warning,
        _ => NotifyType::Info,
    }
}

/// The markup of a body format.
pub fn markup(format: BodyFormat) -> Markup {
    match format {
        BodyFormat::Text => Markup::Plain,
        BodyFormat::Markdown => Markup::Markdown,
        BodyFormat::Html => Markup::Html,
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

/// Builds requests for one instance.
#[derive(Clone, Debug)]
pub struct Formatter {
    /// Settings.
    pub settings: AppriseConfig,
}

impl Formatter {
    /// Type for `event`: the instance's override for its name, then its
    /// `default`, then the built-in one.
    pub fn notify_type(&self, event: &Event) -> NotifyType {
        let t = &self.settings.types;
        t.get(event.event.as_str())
            .or_else(|| t.get("default"))
            .copied()
            .unwrap_or_else(|| default_type(event))
    }

    /// The `notify` request for `event`, whose template rendered as `text`.
    pub fn request(&self, event: &Event, text: &str) -> HttpRequest {
        let settings = &self.settings;
        let markup = markup(settings.format);
        let text = if text.trim().is_empty() {
            markup.escape(&label(event))
        } else {
            text.trim_end().to_owned()
        };
        let server = settings.server.trim_end_matches('/');
        let mut body = Map::new();
        let url = match (&settings.key, &settings.urls) {
            (Some(key), _) => format!("{server}/notify/{key}"),
            (None, urls) => {
                body.insert(
                    "urls".into(),
                    urls.clone().unwrap_or_default().join(",").into(),
                );
                format!("{server}/notify/")
            }
        };
        body.insert(
            "title".into(),
            herald_core::template::truncate(&label(event), MAX_TITLE_CHARS).into(),
        );
        body.insert(
            "body".into(),
            fit_bytes(markup, &text, MAX_BODY_BYTES).into(),
        );
        body.insert("type".into(), self.notify_type(event).as_str().into());
        body.insert("format".into(), settings.format.as_str().into());
        if let Some(tag) = &settings.tag {
            body.insert("tag".into(), tag.trim().into());
        }
        HttpRequest::post_json(&url, Value::Object(body))
    }
}
