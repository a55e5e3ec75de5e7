//! # herald-apprise
//!
//! Sends Herald events through an [Apprise API](https://github.com/caronc/apprise-api)
//! server, which fans them out to any of Apprise's services: stateful
//! (`POST /notify/<key>`, the server's saved configuration, optionally
//! narrowed by `tag`) or stateless (`POST /notify/` with the instance's
//! `urls`). The JSON carries a title, the event's template as body, a
//! `type` by event kind and the body `format`.
//!
//! The key design decision: Apprise's answers are read for what they mean
//! to a queue: 424 (a downstream service failed) is retried, 400 is
//! permanent, and 204 (nothing to notify) counts as delivered with a
//! warning (see [`client`]). The stateless `urls` hold service tokens: they
//! are secrets, never logged or echoed in errors.
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod payload;

use herald_core::template::Templates;
use herald_core::{
    async_trait, DeliveryContext, DeliveryReport, Event, HttpResponse, Message, NotificationPlugin,
    PluginConfig, Result, Verdict,
};

pub use config::AppriseConfig;
use payload::Formatter;

/// The registered kind.
pub const KIND: &str = "apprise";

herald_core::register_plugin! {
    herald_core::PluginRegistration {
        kind: KIND,
        summary: "Apprise API server (stateful key or stateless URLs)",
        secret_keys: &["urls"],
        build: |config| Ok(Box::new(Apprise::from_config(config)?)),
    }
}

/// An `apprise` instance.
pub struct Apprise {
    formatter: Formatter,
    templates: Templates,
}

impl std::fmt::Debug for Apprise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apprise")
            .field("settings", &self.formatter.settings)
            .finish_non_exhaustive()
    }
}

impl Apprise {
    /// Builds an instance: reads and checks its settings and compiles its
    /// templates (errors name the instance and the key).
    pub fn from_config(config: &PluginConfig) -> Result<Apprise> {
        let settings = AppriseConfig::from_plugin_config(config)?;
        let templates =
            Templates::new(config, payload::TEMPLATES, payload::markup(settings.format))?;
        Ok(Apprise {
            formatter: Formatter { settings },
            templates,
        })
    }
}

#[async_trait]
impl NotificationPlugin for Apprise {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn format(&self, event: &Event) -> Result<Message> {
        let text = self.templates.render(event)?;
        Ok(Message::Http(self.formatter.request(event, &text)))
    }

    async fn deliver(&self, message: &Message, ctx: &DeliveryContext) -> DeliveryReport {
        match message {
            Message::Http(request) => client::deliver(self, request, ctx).await,
            Message::Publish(_) => {
                DeliveryReport::reject("the Apprise plugin only delivers HTTP requests")
            }
        }
    }

    fn classify(&self, response: &HttpResponse) -> Verdict {
        client::classify(response)
    }

    fn describe_failure(&self, response: &HttpResponse) -> Option<String> {
        Some(client::error_text(response))
    }
}
