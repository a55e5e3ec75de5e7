//! Pure formatting: an event (and its rendered template) becomes exactly
//! the Pushover form that is sent.

use herald_core::template::{defaults, DefaultTemplates, Markup};
use herald_core::{Event, HttpRequest, KnownKind};

use crate::config::{PushoverConfig, EMERGENCY};

/// Pushover's limit on `message`, in characters.
pub const MAX_MESSAGE: usize = 1024;
/// Pushover's limit on `title`, in characters.
pub const MAX_TITLE: usize = 250;
/// Pushover's limit on `url`, in characters.
pub const MAX_URL: usize = 512;
/// Pushover's limit on `url_title`, in characters.
pub const MAX_URL_TITLE: usize = 100;

/// The built-in message templates (values are escaped for the instance's
/// markup: none for plain text, HTML escapes with `html = true`).
pub const TEMPLATES: DefaultTemplates = defaults::PLAIN;

pub use herald_core::template::defaults::label;

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

pub use herald_core::template::UrlTemplate;

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
