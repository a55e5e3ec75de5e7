//! # herald-pushover
//!
//! Sends Herald events as [Pushover](https://pushover.net) notifications:
//! a form `POST` to `/1/messages.json` with a title, the event's template
//! as message (plain or HTML), a priority per event kind, the event's
//! time, and an optional supplementary link.
//!
//! The key design decision: every Pushover limit (message 1024, title 250,
//! URL 512, URL title 100 characters) is applied while formatting, and the
//! emergency priority's `retry`/`expire` are checked when the instance is
//! built, so Pushover never refuses a message Herald built; a refusal that
//! does happen (bad token or user key) is permanent and reported with
//! Pushover's own errors. The token and user key are secrets in the form
//! body and never appear in logs or errors.
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod payload;

use herald_core::template::{Markup, Templates};
use herald_core::{
    async_trait, Event, HttpResponse, Message, NotificationPlugin, PluginConfig, Result, Verdict,
};

pub use config::PushoverConfig;
use payload::{Formatter, UrlTemplate};

/// The registered kind.
pub const KIND: &str = "pushover";

herald_core::register_plugin! {
    herald_core::PluginRegistration {
        kind: KIND,
        summary: "Pushover notifications",
        secret_keys: &["token", "user"],
        build: |config| Ok(Box::new(Pushover::from_config(config)?)),
    }
}

/// A `pushover` instance.
pub struct Pushover {
    formatter: Formatter,
    templates: Templates,
}

impl std::fmt::Debug for Pushover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pushover")
            .field("settings", &self.formatter.settings)
            .finish_non_exhaustive()
    }
}

impl Pushover {
    /// Builds an instance: reads and checks its settings and compiles its
    /// templates (errors name the instance and the key).
    pub fn from_config(config: &PluginConfig) -> Result<Pushover> {
        let settings = PushoverConfig::from_plugin_config(config)?;
        let markup = if settings.html {
            Markup::Html
        } else {
            Markup::Plain
        };
        let templates = Templates::new(config, payload::TEMPLATES, markup)?;
        let url = match &settings.url {
            Some(url) => {
                Some(UrlTemplate::parse(url).map_err(|e| config.error(format!("`url`: {e}")))?)
            }
            None => None,
        };
        Ok(Pushover {
            formatter: Formatter {
                settings,
                markup,
                url,
            },
            templates,
        })
    }
}

#[async_trait]
impl NotificationPlugin for Pushover {
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
