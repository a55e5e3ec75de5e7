//! # herald-telegram
//!
//! Sends Herald events to a Telegram chat, group or channel through the Bot
//! API (`sendMessage`, or `sendPhoto` with the poster), in Telegram HTML or
//! MarkdownV2.
//!
//! The key design decisions: user data is escaped for the parse mode and
//! over-long text is cut with its tags or entities closed again, so Telegram
//! never answers "can't parse entities" or "message is too long"; and the
//! bot token, which the Bot API puts in the URL path, never appears in a log
//! line, an error, a `Debug` output or a delivery report ([`client::redact`]).
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod payload;

use herald_core::plugin::deliver_http;
use herald_core::template::Templates;
use herald_core::{
    async_trait, DeliveryContext, DeliveryReport, Event, HttpResponse, Message, NotificationPlugin,
    PluginConfig, PluginRegistration, Result, Verdict,
};

pub use config::TelegramSettings;

/// One configured bot and chat.
pub struct Telegram {
    settings: TelegramSettings,
    templates: Templates,
}

impl std::fmt::Debug for Telegram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Telegram")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Telegram {
    /// Builds an instance from its config entry: reads and validates the
    /// settings and compiles the templates for the parse mode (errors name
    /// the instance and the key, never the token).
    pub fn new(config: &PluginConfig) -> Result<Telegram> {
        let settings = TelegramSettings::from_config(config)?;
        let (markup, builtin) = payload::markup(settings.parse_mode);
        let templates = Templates::new(config, builtin, markup)?;
        Ok(Telegram {
            settings,
            templates,
        })
    }
}

#[async_trait]
impl NotificationPlugin for Telegram {
    fn kind(&self) -> &'static str {
        "telegram"
    }

    fn format(&self, event: &Event) -> Result<Message> {
        let text = self.templates.render(event)?;
        Ok(Message::Http(payload::request(
            &self.settings,
            event,
            &text,
        )))
    }

    /// Sends like the default, names Telegram's `description` in the error,
    /// and scrubs the token from every text of the report.
    async fn deliver(&self, message: &Message, ctx: &DeliveryContext) -> DeliveryReport {
        let Message::Http(request) = message else {
            return DeliveryReport::reject("plugin `telegram` can only deliver HTTP messages");
        };
        // The token is in the URL: scrub it from whatever came back.
        let report = deliver_http(self, request, ctx).await;
        client::redact(report, self.settings.bot_token.expose())
    }

    fn classify(&self, response: &HttpResponse) -> Verdict {
        client::classify(response)
    }

    fn describe_failure(&self, response: &HttpResponse) -> Option<String> {
        client::description(response)
            .map(|description| format!("HTTP {}: {description}", response.status))
    }
}

fn build(config: &PluginConfig) -> Result<Box<dyn NotificationPlugin>> {
    Ok(Box::new(Telegram::new(config)?))
}

herald_core::register_plugin! {
    PluginRegistration {
        kind: "telegram",
        summary: "Telegram messages through the Bot API (HTML or MarkdownV2), optionally with the poster",
        secret_keys: &["bot_token"],
        build,
    }
}
