//! The settings of a `slack` instance.
//!
//! ```toml
//! [[plugins]]
//! kind = "slack"
//! name = "slack-media"
//! webhook_url = "https://hooks.slack.com/services/T000/B000/XXXX"
//! ```

use herald_core::{PluginConfig, Result};
use serde::Deserialize;

/// A `slack` instance's own settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlackSettings {
    /// The incoming webhook URL exactly as Slack shows it
    /// (`https://hooks.slack.com/services/…`). It is a secret: anyone who
    /// has it can post to the channel. Any `http`/`https` URL is accepted,
    /// so a proxy or a test server can stand in.
    pub webhook_url: String,
    /// Sends Block Kit `blocks` (default); when `false`, only the mrkdwn
    /// `text`.
    #[serde(default = "default_true")]
    pub blocks: bool,
    /// Shows the event's poster (`image_url`) beside the message (default).
    #[serde(default = "default_true")]
    pub show_image: bool,
}

fn default_true() -> bool {
    true
}

impl std::fmt::Debug for SlackSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackSettings")
            .field("webhook_url", &"<redacted>")
            .field("blocks", &self.blocks)
            .field("show_image", &self.show_image)
            .finish()
    }
}

impl SlackSettings {
    /// Reads and validates the settings of `config`; errors name the key
    /// and never include the webhook URL.
    pub fn from_config(config: &PluginConfig) -> Result<SlackSettings> {
        let settings: SlackSettings = config.settings()?;
        if !is_http_url(&settings.webhook_url) {
            return Err(config.error("webhook_url: must be an http or https URL"));
        }
        Ok(settings)
    }
}

/// Whether `text` parses as an absolute `http`/`https` URL with a host.
pub fn is_http_url(text: &str) -> bool {
    reqwest::Url::parse(text)
        .map(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        .unwrap_or(false)
}
