//! # herald-gotify-example
//!
//! A worked example of a third-party Herald plugin, kept outside Herald's
//! workspace: pushes events to a [Gotify](https://gotify.net) server.
//!
//! ```toml
//! [[plugins]]
//! kind = "gotify"
//! name = "phone"
//! server = "https://gotify.example.org"
//! token = "${GOTIFY_APP_TOKEN}"         # an application token
//! priorities = { "library.updated" = 8 }
//! ```
//!
//! Everything a plugin needs is in `herald-core`: the [`NotificationPlugin`]
//! trait (a pure `format`, the host's HTTP delivery, a `classify` for the
//! service's answers), [`Templates`] for user-overridable text, and
//! [`register_plugin!`](herald_core::register_plugin). The binary in
//! `src/main.rs` is `herald_host::main()` plus `use herald_gotify_example as
//! _;`.
#![deny(missing_docs)]

use std::collections::BTreeMap;

use herald_core::template::{DefaultTemplates, Markup, Templates};
use herald_core::{
    async_trait, Event, HttpRequest, HttpResponse, KnownKind, Message, NotificationPlugin,
    PluginConfig, PluginRegistration, Result, Verdict,
};
use serde::Deserialize;
use serde_json::json;

/// The header carrying the application token.
pub const TOKEN_HEADER: &str = "X-Gotify-Key";

/// The settings of one `gotify` instance.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GotifySettings {
    /// The server's base URL, e.g. `https://gotify.example.org`.
    pub server: String,
    /// An application token. A secret.
    pub token: String,
    /// Send the token as `?token=` instead of the `X-Gotify-Key` header
    /// (for proxies that drop custom headers).
    #[serde(default)]
    pub token_in_query: bool,
    /// Write Markdown (`extras.client::display.contentType`), default on.
    #[serde(default = "yes")]
    pub markdown: bool,
    /// Priority (0 … 10) by event name or `default`, over the built-in ones.
    #[serde(default)]
    pub priorities: BTreeMap<String, u8>,
}

fn yes() -> bool {
    true
}

// Never print the token.
impl std::fmt::Debug for GotifySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GotifySettings")
            .field("server", &self.server)
            .field("token", &"<redacted>")
            .field("markdown", &self.markdown)
            .field("priorities", &self.priorities)
            .finish_non_exhaustive()
    }
}

/// Built-in Markdown templates: `{{value}}` is escaped for Markdown, the
/// template's own `**`/`*` is markup.
pub const TEMPLATES: DefaultTemplates = &[
    (
        "playback.started",
        "**{{#if user}}{{user}}{{else}}Someone{{/if}}** started {{#if display_title}}*{{display_title}}*{{else}}an item{{/if}}{{#if device_name}} on {{device_name}}{{/if}}",
    ),
    (
        "library.updated",
        "{{#if display_title}}*{{display_title}}*{{else}}Item {{media_item_id}}{{/if}} was {{#if change}}{{change}}{{else}}updated{{/if}}{{#if overview}}\n\n{{truncate overview 300}}{{/if}}",
    ),
    ("webhook.test", "{{message}}"),
    (
        "default",
        "`{{event}}`{{#if user}} by **{{user}}**{{/if}}{{#if display_title}}: *{{display_title}}*{{/if}}{{#if message}}: {{message}}{{/if}}",
    ),
];

/// Built-in plain-text templates (`markdown = false`).
pub const PLAIN_TEMPLATES: DefaultTemplates = &[
    (
        "playback.started",
        "{{#if user}}{{user}}{{else}}Someone{{/if}} started {{#if display_title}}{{display_title}}{{else}}an item{{/if}}{{#if device_name}} on {{device_name}}{{/if}}",
    ),
    (
        "library.updated",
        "{{#if display_title}}{{display_title}}{{else}}Item {{media_item_id}}{{/if}} was {{#if change}}{{change}}{{else}}updated{{/if}}{{#if overview}}\n\n{{truncate overview 300}}{{/if}}",
    ),
    ("webhook.test", "{{message}}"),
    (
        "default",
        "{{event}}{{#if user}} by {{user}}{{/if}}{{#if display_title}}: {{display_title}}{{/if}}{{#if message}}: {{message}}{{/if}}",
    ),
];

/// One configured Gotify application.
#[derive(Debug)]
pub struct Gotify {
    settings: GotifySettings,
    templates: Templates,
}

impl Gotify {
    /// Reads the settings and compiles the templates; errors name the
    /// instance and the key.
    pub fn new(config: &PluginConfig) -> Result<Gotify> {
        let settings: GotifySettings = config.settings()?;
        if !(settings.server.starts_with("http://") || settings.server.starts_with("https://")) {
            return Err(config.error("`server`: must be an http:// or https:// URL"));
        }
        if settings.token.trim().is_empty() {
            return Err(config.error("`token`: must not be empty"));
        }
        if let Some((key, p)) = settings.priorities.iter().find(|(_, p)| **p > 10) {
            return Err(config.error(format!("`priorities.{key}`: {p} is over 10")));
        }
        let templates = if settings.markdown {
            Templates::new(config, TEMPLATES, Markup::Markdown)?
        } else {
            Templates::new(config, PLAIN_TEMPLATES, Markup::Plain)?
        };
        Ok(Gotify {
            settings,
            templates,
        })
    }

    fn priority(&self, event: &Event) -> u8 {
        let configured = self
            .settings
            .priorities
            .get(event.event.as_str())
            .or_else(|| self.settings.priorities.get("default"));
        configured.copied().unwrap_or(match event.event.as_known() {
            Some(KnownKind::LibraryUpdated | KnownKind::UserCreated) => 5,
            Some(KnownKind::WebhookTest) => 5,
            Some(_) => 2,
            None => 4,
        })
    }
}

/// The notification title.
pub fn title(event: &Event) -> String {
    match event.event.as_known() {
        Some(KnownKind::PlaybackStarted) => "Playback started".into(),
        Some(KnownKind::PlaybackEnded) => "Playback ended".into(),
        Some(KnownKind::LibraryUpdated) => "Library updated".into(),
        Some(KnownKind::UserCreated) => "New user".into(),
        Some(KnownKind::WebhookTest) => "Herald test".into(),
        _ => format!("Herald: {}", event.event),
    }
}

#[async_trait]
impl NotificationPlugin for Gotify {
    fn kind(&self) -> &'static str {
        "gotify"
    }

    /// Pure: the exact request, so it can be golden-tested.
    fn format(&self, event: &Event) -> Result<Message> {
        let message = self.templates.render(event)?;
        let content_type = if self.settings.markdown {
            "text/markdown"
        } else {
            "text/plain"
        };
        let mut extras = json!({"client::display": {"contentType": content_type}});
        if let Some(image) = event.data_str("image_url") {
            extras["client::notification"] = json!({"bigImageUrl": image});
        }
        let body = json!({
            "title": title(event),
            "message": message,
            "priority": self.priority(event),
            "extras": extras,
        });
        let base = self.settings.server.trim_end_matches('/');
        let request = if self.settings.token_in_query {
            HttpRequest::post_json(
                &format!("{base}/message?token={}", self.settings.token),
                body,
            )
        } else {
            HttpRequest::post_json(&format!("{base}/message"), body)
                .with_header(TOKEN_HEADER, self.settings.token.clone())
        };
        Ok(Message::Http(request))
    }

    /// 400 (refused message), 401 and 403 (bad token) never succeed later.
    fn classify(&self, response: &HttpResponse) -> Verdict {
        match response.status {
            400 | 401 | 403 => Verdict::Reject,
            _ => herald_core::plugin::default_classify(response),
        }
    }
}

fn build(config: &PluginConfig) -> Result<Box<dyn NotificationPlugin>> {
    Ok(Box::new(Gotify::new(config)?))
}

herald_core::register_plugin! {
    PluginRegistration {
        kind: "gotify",
        summary: "Gotify push messages (example third-party plugin)",
        secret_keys: &["token"],
        build,
    }
}
