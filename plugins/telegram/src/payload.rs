//! Pure formatting: an event and its rendered template become exactly the
//! Bot API request, within Telegram's limits.
//!
//! Telegram counts 4096 characters of message text (1024 of a caption)
//! *after* parsing the markup; Herald measures the marked-up text in UTF-16
//! code units, which is never less, and cuts with [`Markup::fit`], which
//! closes the tags or entities open at the cut so Telegram can still parse
//! the message.

use herald_core::template::{context, defaults, DefaultTemplates, Markup};
use herald_core::{Event, HttpRequest, KnownKind};
use serde_json::{json, Map, Value};

use crate::config::{ParseMode, TelegramSettings};

/// Message text limit.
pub const MAX_TEXT: usize = 4096;
/// Photo caption limit.
pub const MAX_CAPTION: usize = 1024;

/// The built-in templates for `parse_mode = "HTML"` (values are escaped
/// with [`herald_core::template::escape_html`]).
pub const TEMPLATES_HTML: DefaultTemplates = herald_core::media_templates!(
    bold: ("<b>", "</b>"),
    em: ("<i>", "</i>"),
    item: ("<b>", "</b>"),
    parens: ("(", ")"),
);

/// The built-in templates for `parse_mode = "MarkdownV2"` (values are
/// escaped with [`herald_core::template::escape_markdown_v2`]; the
/// templates' own parentheses are escaped too).
pub const TEMPLATES_MARKDOWN_V2: DefaultTemplates = herald_core::media_templates!(
    bold: ("*", "*"),
    em: ("_", "_"),
    item: ("*", "*"),
    parens: ("\\(", "\\)"),
);

/// The markup and built-in templates of a parse mode.
pub fn markup(mode: ParseMode) -> (Markup, DefaultTemplates) {
    match mode {
        ParseMode::Html => (Markup::Html, TEMPLATES_HTML),
        ParseMode::MarkdownV2 => (Markup::MarkdownV2, TEMPLATES_MARKDOWN_V2),
    }
}

/// The short headline of an event, used when a template renders nothing:
/// the shared [`defaults::label`], except that a library update is always
/// `Library updated`.
pub fn label(event: &Event) -> String {
    match event.event.as_known() {
        Some(KnownKind::LibraryUpdated) => "Library updated".to_owned(),
        _ => defaults::label(event),
    }
}

/// The Bot API method URL. Holds the token: never log it.
pub fn method_url(settings: &TelegramSettings, method: &str) -> String {
    format!(
        "{}/bot{}/{method}",
        settings.api_base.trim_end_matches('/'),
        settings.bot_token.expose()
    )
}

/// The poster to send as a photo, if the instance sends photos and the
/// event has a usable `image_url`.
fn photo(settings: &TelegramSettings, event: &Event) -> Option<String> {
    if !settings.photos {
        return None;
    }
    let url = context(event)
        .get("image_url")
        .and_then(Value::as_str)
        .map(str::trim)?
        .to_owned();
    let ok = url.len() <= 2048
        && reqwest::Url::parse(&url)
            .map(|u| matches!(u.scheme(), "http" | "https"))
            .unwrap_or(false);
    ok.then_some(url)
}

/// The request for `event`, whose template rendered as `text` in the
/// instance's markup: `sendPhoto` with a caption when photos are on and the
/// event has a poster, else `sendMessage`.
pub fn request(settings: &TelegramSettings, event: &Event, text: &str) -> HttpRequest {
    let (markup, _) = markup(settings.parse_mode);
    let text = if text.trim().is_empty() {
        markup.escape(&label(event))
    } else {
        text.to_owned()
    };
    let mut body = Map::new();
    body.insert("chat_id".into(), json!(settings.chat_id));
    if let Some(thread) = settings.message_thread_id {
        body.insert("message_thread_id".into(), thread.into());
    }
    let method = match photo(settings, event) {
        Some(photo) => {
            body.insert("photo".into(), photo.into());
            body.insert("caption".into(), markup.fit(&text, MAX_CAPTION).into());
            "sendPhoto"
        }
        None => {
            body.insert("text".into(), markup.fit(&text, MAX_TEXT).into());
            if settings.disable_link_preview {
                body.insert(
                    "link_preview_options".into(),
                    json!({ "is_disabled": true }),
                );
            }
            "sendMessage"
        }
    };
    body.insert("parse_mode".into(), json!(settings.parse_mode));
    if settings.disable_notification {
        body.insert("disable_notification".into(), true.into());
    }
    HttpRequest::post_json(&method_url(settings, method), Value::Object(body))
}
