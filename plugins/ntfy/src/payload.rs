//! Pure formatting: an event (and its rendered template) becomes exactly
//! the ntfy JSON publish that is sent.

use base64::Engine;
use herald_core::template::{defaults, DefaultTemplates, Markup};
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

/// The built-in message templates (values are escaped for the instance's
/// markup: none for plain text, Markdown escapes with `markdown = true`).
pub const TEMPLATES: DefaultTemplates = defaults::PLAIN;

pub use herald_core::template::defaults::label;

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

pub use herald_core::template::UrlTemplate;

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
            self.markup.fit_bytes(&text, MAX_MESSAGE_BYTES).into(),
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
