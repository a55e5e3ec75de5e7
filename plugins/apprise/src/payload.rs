//! Pure formatting: an event (and its rendered template) becomes exactly
//! the Apprise API request that is sent.

use herald_core::template::{defaults, DefaultTemplates, Markup};
use herald_core::{Event, HttpRequest, KnownKind};
use serde_json::{Map, Value};

use crate::config::{AppriseConfig, BodyFormat, NotifyType};

/// Herald's cap on the body, in bytes (Apprise passes it on to services,
/// which cut it to their own limits).
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// Herald's cap on the title, in characters.
pub const MAX_TITLE_CHARS: usize = 250;

/// The built-in message templates (values are escaped for the instance's
/// `format`: none for text, Markdown or HTML escapes otherwise).
pub const TEMPLATES: DefaultTemplates = defaults::PLAIN;

pub use herald_core::template::defaults::label;

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
            markup.fit_bytes(&text, MAX_BODY_BYTES).into(),
        );
        body.insert("type".into(), self.notify_type(event).as_str().into());
        body.insert("format".into(), settings.format.as_str().into());
        if let Some(tag) = &settings.tag {
            body.insert("tag".into(), tag.trim().into());
        }
        HttpRequest::post_json(&url, Value::Object(body))
    }
}
