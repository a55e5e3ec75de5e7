//! The settings of a `discord` instance.
//!
//! ```toml
//! [[plugins]]
//! kind = "discord"
//! name = "discord-media"
//! webhook_url = "https://discord.com/api/webhooks/123/abc"
//! username = "Herald"
//! ```

use herald_core::{PluginConfig, Result};
use serde::Deserialize;

/// Longest webhook username Discord accepts.
pub const MAX_USERNAME: usize = 80;

/// A `discord` instance's own settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordSettings {
    /// The webhook URL exactly as Discord shows it
    /// (`https://discord.com/api/webhooks/<id>/<token>`). Its path holds the
    /// webhook's token: it is a secret. Any `http`/`https` URL is accepted,
    /// so a proxy or a test server can stand in.
    pub webhook_url: String,
    /// Posts into this thread of the webhook's channel (a thread or forum
    /// post id).
    #[serde(default)]
    pub thread_id: Option<String>,
    /// Shown instead of the webhook's own name (1 to 80 characters, not
    /// containing "discord" or "clyde", which Discord refuses).
    #[serde(default)]
    pub username: Option<String>,
    /// Shown instead of the webhook's own avatar (`http`/`https` URL).
    #[serde(default)]
    pub avatar_url: Option<String>,
    /// `embed` (default): a rich embed with title, poster and fields;
    /// `text`: the message alone, as plain `content`.
    #[serde(default)]
    pub style: Style,
    /// Where an event's poster (`image_url`) goes in an embed: `thumbnail`
    /// (default, small and to the right), `image` (large, below) or `none`.
    #[serde(default)]
    pub image: ImagePlacement,
}

impl std::fmt::Debug for DiscordSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscordSettings")
            .field("webhook_url", &"<redacted>")
            .field("thread_id", &self.thread_id)
            .field("username", &self.username)
            .field("avatar_url", &self.avatar_url)
            .field("style", &self.style)
            .field("image", &self.image)
            .finish()
    }
}

/// How a message looks.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// One rich embed.
    #[default]
    Embed,
    /// Plain `content` text.
    Text,
}

/// Where the poster goes in an embed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImagePlacement {
    /// Small, to the right of the text.
    #[default]
    Thumbnail,
    /// Large, below the text.
    Image,
    /// No poster.
    None,
}

impl DiscordSettings {
    /// Reads and validates the settings of `config`; errors name the key
    /// and never include the webhook URL.
    pub fn from_config(config: &PluginConfig) -> Result<DiscordSettings> {
        let settings: DiscordSettings = config.settings()?;
        if !is_http_url(&settings.webhook_url) {
            return Err(config.error("webhook_url: must be an http or https URL"));
        }
        if let Some(thread_id) = &settings.thread_id {
            if thread_id.is_empty() || !thread_id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(config.error("thread_id: must be a numeric Discord id"));
            }
        }
        if let Some(username) = &settings.username {
            let count = username.trim().chars().count();
            if count == 0 || count > MAX_USERNAME {
                return Err(
                    config.error(format!("username: must be 1 to {MAX_USERNAME} characters"))
                );
            }
            let lower = username.to_lowercase();
            if lower.contains("discord") || lower.contains("clyde") {
                return Err(config
                    .error("username: Discord refuses names containing \"discord\" or \"clyde\""));
            }
        }
        if let Some(avatar_url) = &settings.avatar_url {
            if !is_http_url(avatar_url) {
                return Err(config.error("avatar_url: must be an http or https URL"));
            }
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
