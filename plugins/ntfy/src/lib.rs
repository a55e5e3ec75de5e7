//! # herald-ntfy
//!
//! Sends Herald events to [ntfy](https://ntfy.sh) (usually self-hosted) as
//! JSON publishes: a title, a sentence from the event's template, tags and
//! a priority per event kind, the poster as attachment or icon, and an
//! optional tap-through link.
//!
//! The key design decision: ntfy limits are enforced while formatting, so
//! a message is never silently turned into a file attachment (ntfy does
//! that past 4096 bytes: Herald cuts the text at a character boundary
//! instead), and credentials (an access token or user/password) go in the
//! `Authorization` header only.
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod payload;

use herald_core::template::{Markup, Templates};
use herald_core::{
    async_trait, Event, HttpResponse, Message, NotificationPlugin, PluginConfig, Result, Verdict,
};

pub use config::NtfyConfig;
use payload::{Formatter, UrlTemplate};

/// The registered kind.
pub const KIND: &str = "ntfy";

herald_core::register_plugin! {
    herald_core::PluginRegistration {
        kind: KIND,
        summary: "ntfy push notifications (self-hosted or ntfy.sh)",
        secret_keys: &["token", "password"],
        build: |config| Ok(Box::new(Ntfy::from_config(config)?)),
    }
}

/// An `ntfy` instance.
pub struct Ntfy {
    formatter: Formatter,
    templates: Templates,
}

impl std::fmt::Debug for Ntfy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ntfy")
            .field("settings", &self.formatter.settings)
            .finish_non_exhaustive()
    }
}

impl Ntfy {
    /// Builds an instance: reads and checks its settings and compiles its
    /// templates (errors name the instance and the key).
    pub fn from_config(config: &PluginConfig) -> Result<Ntfy> {
        let settings = NtfyConfig::from_plugin_config(config)?;
        let markup = if settings.markdown {
            Markup::Markdown
        } else {
            Markup::Plain
        };
        let templates = Templates::new(config, payload::TEMPLATES, markup)?;
        let click = match &settings.click {
            Some(click) => {
                Some(UrlTemplate::parse(click).map_err(|e| config.error(format!("`click`: {e}")))?)
            }
            None => None,
        };
        Ok(Ntfy {
            formatter: Formatter {
                settings,
                markup,
                click,
            },
            templates,
        })
    }
}

#[async_trait]
impl NotificationPlugin for Ntfy {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn format(&self, event: &Event) -> Result<Message> {
        let text = self.templates.render(event)?;
        Ok(Message::Http(self.formatter.request(event, &text)))
    }

    fn classify(&self, response: &HttpResponse) -> Verdict {
        client::classify(response)
    }

    fn describe_failure(&self, response: &HttpResponse) -> Option<String> {
        Some(client::error_text(response))
    }
}
