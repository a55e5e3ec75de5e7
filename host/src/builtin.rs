//! Plugins that ship inside the host itself.

use herald_core::{
    async_trait, DeliveryContext, DeliveryReport, Event, Message, NotificationPlugin, PluginConfig,
    PluginRegistration, Publish, Result,
};
use serde::Deserialize;

/// `kind = "log"`: writes one log line per event. Useful to see what Herald
/// routes before wiring a real service, and always available.
struct LogPlugin {
    name: String,
    level: tracing::Level,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogSettings {
    /// `info` (default), `warn` or `debug`.
    #[serde(default)]
    level: Option<String>,
}

#[async_trait]
impl NotificationPlugin for LogPlugin {
    fn kind(&self) -> &'static str {
        "log"
    }

    fn format(&self, event: &Event) -> Result<Message> {
        Ok(Message::Publish(Publish {
            topic: self.name.clone(),
            payload: String::from_utf8_lossy(&event.to_json_bytes()).into_owned(),
            qos: 0,
            retain: false,
        }))
    }

    async fn deliver(&self, message: &Message, _ctx: &DeliveryContext) -> DeliveryReport {
        let Message::Publish(publish) = message else {
            return DeliveryReport::reject("the log plugin only writes publish messages");
        };
        match self.level {
            tracing::Level::WARN => {
                tracing::warn!(plugin = %publish.topic, event = %publish.payload, "notification")
            }
            tracing::Level::DEBUG => {
                tracing::debug!(plugin = %publish.topic, event = %publish.payload, "notification")
            }
            _ => tracing::info!(plugin = %publish.topic, event = %publish.payload, "notification"),
        }
        DeliveryReport::delivered()
    }
}

fn build_log(config: &PluginConfig) -> Result<Box<dyn NotificationPlugin>> {
    let settings: LogSettings = config.settings()?;
    let level = match settings.level.as_deref().unwrap_or("info") {
        "info" => tracing::Level::INFO,
        "warn" => tracing::Level::WARN,
        "debug" => tracing::Level::DEBUG,
        other => {
            return Err(config.error(format!("level: `{other}` is not one of info, warn, debug")))
        }
    };
    Ok(Box::new(LogPlugin {
        name: config.name.clone(),
        level,
    }))
}

herald_core::register_plugin! {
    PluginRegistration {
        kind: "log",
        summary: "writes each notification to Herald's log",
        secret_keys: &[],
        build: build_log,
    }
}
