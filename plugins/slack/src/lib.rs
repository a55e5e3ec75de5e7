//! # herald-slack
//!
//! Posts Herald events to a Slack channel through an incoming webhook: a
//! Block Kit message (header, the sentence with the poster beside it, a
//! context line of user, device and server) with a plain `text` fallback
//! for notifications.
//!
//! The key design decision: user data is escaped for mrkdwn (`&`, `<`, `>`)
//! so a title can never become a link or an `<!channel>` mention, and every
//! Block Kit limit is enforced while formatting ([`payload`]), so Slack never
//! answers `invalid_blocks`. The webhook URL is a secret.
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod payload;

use herald_core::template::Templates;
use herald_core::{
    async_trait, Event, HttpResponse, Message, NotificationPlugin, PluginConfig,
    PluginRegistration, Result, Verdict,
};

pub use config::SlackSettings;

/// One configured Slack incoming webhook.
pub struct Slack {
    settings: SlackSettings,
    templates: Templates,
}

impl std::fmt::Debug for Slack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slack")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Slack {
    /// Builds an instance from its config entry: reads and validates the
    /// settings and compiles the templates (errors name the instance and
    /// the key).
    pub fn new(config: &PluginConfig) -> Result<Slack> {
        let settings = SlackSettings::from_config(config)?;
        let templates = Templates::new(config, payload::TEMPLATES, payload::MARKUP)?;
        Ok(Slack {
            settings,
            templates,
        })
    }
}

#[async_trait]
impl NotificationPlugin for Slack {
    fn kind(&self) -> &'static str {
        "slack"
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
    Ok(Box::new(Slack::new(config)?))
}

herald_core::register_plugin! {
    PluginRegistration {
        kind: "slack",
        summary: "Slack channel messages through an incoming webhook, with Block Kit",
        secret_keys: &["webhook_url"],
        build,
    }
}
