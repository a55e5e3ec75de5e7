//! Pure formatting: an event and its rendered template become exactly the
//! webhook request Slack receives, within every Block Kit limit.
//!
//! Lengths are measured in UTF-16 code units (never fewer than the
//! characters Slack counts) and cut with [`Markup::fit`], which never splits
//! an `&amp;` entity.

use herald_core::template::{context, DefaultTemplates, Markup};
use herald_core::{Event, HttpRequest};
use serde_json::{json, Map, Value};

use crate::config::{is_http_url, SlackSettings};

/// Slack mrkdwn: values are escaped with
/// [`herald_core::template::escape_mrkdwn`].
pub const MARKUP: Markup = Markup::Mrkdwn;

/// Blocks per message.
pub const MAX_BLOCKS: usize = 50;
/// Header block text (plain_text).
pub const MAX_HEADER: usize = 150;
/// Section block text.
pub const MAX_SECTION: usize = 3000;
/// Herald's cap for the top-level `text` (Slack cuts at 40 000).
pub const MAX_TEXT: usize = 3000;
/// Elements of a context block.
pub const MAX_CONTEXT_ELEMENTS: usize = 10;
/// Image `alt_text`.
pub const MAX_ALT_TEXT: usize = 2000;
/// Image URL length.
pub const MAX_IMAGE_URL: usize = 3000;

/// Herald's own cap for each value in the context line.
const SHORT_TEXT: usize = 256;

/// The built-in templates (Slack mrkdwn; values are escaped).
pub const TEMPLATES: DefaultTemplates = herald_core::media_templates!(
    bold: ("*", "*"),
    em: ("_", "_"),
    item: ("_", "_"),
    parens: ("(", ")"),
);

pub use herald_core::template::defaults::label;

/// The webhook request for `event`, whose template rendered as `text`.
pub fn request(settings: &SlackSettings, event: &Event, text: &str) -> HttpRequest {
    let text = if text.trim().is_empty() {
        MARKUP.escape(&label(event))
    } else {
        text.to_owned()
    };
    let mut body = Map::new();
    body.insert("text".into(), MARKUP.fit(&text, MAX_TEXT).into());
    if settings.blocks {
        body.insert(
            "blocks".into(),
            Value::Array(blocks(settings, event, &text)),
        );
    }
    HttpRequest::post_json(&settings.webhook_url, Value::Object(body))
}

fn plain(text: &str, max: usize) -> String {
    Markup::Plain.fit(text.trim(), max)
}

fn blocks(settings: &SlackSettings, event: &Event, text: &str) -> Vec<Value> {
    let ctx = context(event);
    let get = |key: &str| {
        ctx.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let headline = match get("display_title") {
        Some(title) => title.to_owned(),
        None => label(event),
    };
    let mut blocks = vec![json!({
        "type": "header",
        "text": { "type": "plain_text", "text": plain(&headline, MAX_HEADER), "emoji": true },
    })];

    let mut section = json!({
        "type": "section",
        "text": { "type": "mrkdwn", "text": MARKUP.fit(text, MAX_SECTION) },
    });
    let image = get("image_url").filter(|u| u.len() <= MAX_IMAGE_URL && is_http_url(u));
    if let (true, Some(image)) = (settings.show_image, image) {
        section["accessory"] = json!({
            "type": "image",
            "image_url": image,
            "alt_text": plain(&headline, MAX_ALT_TEXT),
        });
    }
    blocks.push(section);

    let elements: Vec<Value> = [
        ("User", "user"),
        ("Device", "device_name"),
        ("Client", "client"),
        ("Server", "server_name"),
    ]
    .into_iter()
    .filter_map(|(name, key)| {
        let value = MARKUP.fit(&MARKUP.escape(get(key)?), SHORT_TEXT);
        Some(json!({ "type": "mrkdwn", "text": format!("*{name}:* {value}") }))
    })
    .take(MAX_CONTEXT_ELEMENTS)
    .collect();
    if !elements.is_empty() {
        blocks.push(json!({ "type": "context", "elements": elements }));
    }
    blocks.truncate(MAX_BLOCKS);
    blocks
}
