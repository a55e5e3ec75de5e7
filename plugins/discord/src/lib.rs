//! # herald-discord
//!
//! Posts Herald events to a Discord channel through a webhook: one rich
//! embed per event (title, sentence, poster, user/device fields, a colour
//! per event kind), or plain `content` text.
//!
//! The key design decision: every Discord limit is enforced while
//! formatting ([`payload`]), cutting text at character boundaries without
//! breaking escapes, so Discord never rejects a message Herald built; and
//! `allowed_mentions` is always empty, so a title such as `@everyone` pings
//! no one. The webhook URL holds the webhook's token and is a secret.
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod payload;

use herald_core::template::Templates;
use herald_core::{
    async_trait, Event, HttpResponse, Message, NotificationPlugin, PluginConfig,
    PluginRegistration, Result, Verdict,
};

pub use config::DiscordSettings;

/// One configured Discord webhook.
pub struct Discord {
    settings: DiscordSettings,
    templates: Templates,
}

impl std::fmt::Debug for Discord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discord")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Discord {
    /// Builds an instance from its config entry: reads and validates the
    /// settings and compiles the templates (errors name the instance and
    /// the key).
    pub fn new(config: &PluginConfig) -> Result<Discord> {
        let settings = DiscordSettings::from_config(config)?;
        let templates = Templates::new(config, payload::TEMPLATES, payload::MARKUP)?;
        Ok(Discord {
            settings,
            templates,
        })
    }
}

#[async_trait]
impl NotificationPlugin for Discord {
    fn kind(&self) -> &'static str {
        "discord"
    }

    fn format(&self, event: &Event) -> Result<Message> {
        let text = self.templates.render(event)?;
        Ok(Message::Http(payload::request(
            &self.settings,
            event,
            &text,
        )))
    }

    fn classify(&self, response: &HttpResponse) -> Verdict {
        client::classify(response)
    }
}

fn build(config: &PluginConfig) -> Result<Box<dyn NotificationPlugin>> {
    Ok(Box::new(Discord::new(config)?))
}

herald_core::register_plugin! {
    PluginRegistration {
        kind: "discord",
        summary: "Discord channel messages through a webhook, with rich embeds",
        secret_keys: &["webhook_url"],
        build,
    }
}
