//! Pure formatting: an event and its rendered template become exactly the
//! webhook request Discord receives, within every Discord limit.
//!
//! Lengths are measured in UTF-16 code units, never fewer than the
//! characters Discord counts, and cut with [`Markup::fit`] so an escape is
//! never split.

use herald_core::template::{context, utf16_len, DefaultTemplates, Markup};
use herald_core::{Event, HttpRequest, KnownKind};
use serde_json::{json, Map, Value};

use crate::config::{is_http_url, DiscordSettings, ImagePlacement, Style};

/// Discord renders markdown: values are escaped with
/// [`herald_core::template::escape_markdown`].
pub const MARKUP: Markup = Markup::Markdown;

/// `content` limit.
pub const MAX_CONTENT: usize = 2000;
/// Embeds per message.
pub const MAX_EMBEDS: usize = 10;
/// Embed title limit.
pub const MAX_TITLE: usize = 256;
/// Embed description limit.
pub const MAX_DESCRIPTION: usize = 4096;
/// Fields per embed.
pub const MAX_FIELDS: usize = 25;
/// Field name limit.
pub const MAX_FIELD_NAME: usize = 256;
/// Field value limit.
pub const MAX_FIELD_VALUE: usize = 1024;
/// Footer text limit.
pub const MAX_FOOTER: usize = 2048;
/// Author name limit.
pub const MAX_AUTHOR: usize = 256;
/// All of an embed's text together (title, description, field names and
/// values, footer, author name).
pub const MAX_EMBED_TOTAL: usize = 6000;
/// Longest URL put into an embed.
pub const MAX_URL: usize = 2048;

/// Herald's own, tighter cap for field values and the footer, which leaves
/// the description most of [`MAX_EMBED_TOTAL`].
const SHORT_TEXT: usize = 256;

/// The built-in templates (Discord markdown; values are escaped).
pub const TEMPLATES: DefaultTemplates = herald_core::media_templates!(
    bold: ("**", "**"),
    em: ("*", "*"),
    item: ("*", "*"),
    parens: ("(", ")"),
);

pub use herald_core::template::defaults::label;

/// The embed colour of an event kind (`0xRRGGBB`).
pub fn colour(event: &Event) -> u32 {
    match event.event.as_known() {
        Some(KnownKind::PlaybackStarted) => 0x2ECC71,
        Some(KnownKind::PlaybackPaused) => 0xF1C40F,
        Some(KnownKind::PlaybackResumed) => 0x3498DB,
        Some(KnownKind::PlaybackEnded) => 0x95A5A6,
        Some(KnownKind::LibraryUpdated) => 0x9B59B6,
        Some(KnownKind::MediaMarkedPlayed) => 0x1ABC9C,
        Some(KnownKind::MediaMarkedUnplayed) => 0x7F8C8D,
        Some(KnownKind::UserCreated) => 0xE67E22,
        Some(KnownKind::SessionCreated) => 0x206694,
        Some(KnownKind::WebhookTest) => 0x5865F2,
        None => 0x99AAB5,
    }
}

/// The webhook request for `event`, whose template rendered as `text`.
pub fn request(settings: &DiscordSettings, event: &Event, text: &str) -> HttpRequest {
    let text = if text.trim().is_empty() {
        MARKUP.escape(&label(event))
    } else {
        text.to_owned()
    };
    let mut body = Map::new();
    if let Some(username) = &settings.username {
        body.insert("username".into(), username.trim().into());
    }
    if let Some(avatar_url) = &settings.avatar_url {
        body.insert("avatar_url".into(), avatar_url.as_str().into());
    }
    match settings.style {
        Style::Text => {
            body.insert("content".into(), MARKUP.fit(&text, MAX_CONTENT).into());
        }
        Style::Embed => {
            body.insert("embeds".into(), json!([embed(settings, event, &text)]));
        }
    }
    body.insert("allowed_mentions".into(), json!({ "parse": [] }));
    HttpRequest::post_json(&webhook_url(settings), Value::Object(body))
}

fn webhook_url(settings: &DiscordSettings) -> String {
    match (
        &settings.thread_id,
        reqwest::Url::parse(&settings.webhook_url),
    ) {
        (Some(thread_id), Ok(mut url)) => {
            url.query_pairs_mut().append_pair("thread_id", thread_id);
            url.to_string()
        }
        _ => settings.webhook_url.clone(),
    }
}

fn plain(text: &str, max: usize) -> String {
    Markup::Plain.fit(text.trim(), max)
}

fn embed(settings: &DiscordSettings, event: &Event, text: &str) -> Value {
    let ctx = context(event);
    let get = |key: &str| {
        ctx.get(key)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let author = plain(&label(event), MAX_AUTHOR);
    let title = get("display_title").map(|t| plain(t, MAX_TITLE));
    let footer = plain(get("server_name").unwrap_or("Herald"), SHORT_TEXT);

    let mut fields = Vec::new();
    for (name, key) in [
        ("User", "user"),
        ("Device", "device_name"),
        ("Client", "client"),
        ("Position", "position"),
        ("Duration", "duration"),
    ] {
        if fields.len() == MAX_FIELDS {
            break;
        }
        if let Some(value) = get(key) {
            fields.push((name, MARKUP.fit(&MARKUP.escape(value), SHORT_TEXT)));
        }
    }

    let others = utf16_len(&author)
        + title.as_deref().map_or(0, utf16_len)
        + utf16_len(&footer)
        + fields
            .iter()
            .map(|(n, v)| utf16_len(n) + utf16_len(v))
            .sum::<usize>();
    let room = MAX_EMBED_TOTAL.saturating_sub(others).min(MAX_DESCRIPTION);
    let description = MARKUP.fit(text, room);

    let mut embed = Map::new();
    embed.insert("author".into(), json!({ "name": author }));
    if let Some(title) = title {
        embed.insert("title".into(), title.into());
    }
    if !description.trim().is_empty() {
        embed.insert("description".into(), description.into());
    }
    embed.insert("color".into(), colour(event).into());
    if !fields.is_empty() {
        let fields: Vec<Value> = fields
            .into_iter()
            .map(|(name, value)| json!({ "name": name, "value": value, "inline": true }))
            .collect();
        embed.insert("fields".into(), fields.into());
    }
    if let Some(image) = get("image_url").filter(|u| u.len() <= MAX_URL && is_http_url(u)) {
        match settings.image {
            ImagePlacement::Thumbnail => {
                embed.insert("thumbnail".into(), json!({ "url": image }));
            }
            ImagePlacement::Image => {
                embed.insert("image".into(), json!({ "url": image }));
            }
            ImagePlacement::None => {}
        }
    }
    embed.insert("footer".into(), json!({ "text": footer }));
    embed.insert(
        "timestamp".into(),
        event
            .timestamp
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            .into(),
    );
    Value::Object(embed)
}
