//! The `[[plugins]]` settings of an `ntfy` instance.
//!
//! ```toml
//! [[plugins]]
//! kind = "ntfy"
//! name = "phone"
//! server = "https://ntfy.example.org"   # self-hosted; default https://ntfy.sh
//! topic = "media"
//! token = "tk_…"
//! priorities = { "library.updated" = 4 }
//! tags = { "playback.started" = ["tv", "arrow_forward"] }
//! ```

use std::collections::BTreeMap;
use std::fmt;

use herald_core::{EventKind, PluginConfig};
use serde::Deserialize;

/// Settings of one ntfy instance. Only `topic` is required.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NtfyConfig {
    /// Server base URL; self-hosted servers are the common case.
    #[serde(default = "default_server")]
    pub server: String,
    /// Topic to publish to (1 to 64 letters, digits, `-` or `_`).
    pub topic: String,
    /// Access token (`tk_…`), sent as `Authorization: Bearer`. A secret.
    #[serde(default)]
    pub token: Option<String>,
    /// User name for basic authentication (instead of a token).
    #[serde(default)]
    pub username: Option<String>,
    /// Password for basic authentication. A secret.
    #[serde(default)]
    pub password: Option<String>,
    /// Write messages in Markdown (`markdown: true`): template values are
    /// escaped for Markdown and templates may use it. Plain text otherwise.
    #[serde(default)]
    pub markdown: bool,
    /// Priority (1 min … 5 max) by event name or `default`, over the
    /// built-in ones (e.g. playback 2, library updates 3).
    #[serde(default)]
    pub priorities: BTreeMap<String, u8>,
    /// Tags (emoji short codes or words) by event name or `default`, instead
    /// of the built-in ones (e.g. `arrow_forward` for `playback.started`).
    #[serde(default)]
    pub tags: BTreeMap<String, Vec<String>>,
    /// Link opened when the notification is tapped. `{key}` placeholders
    /// are replaced by the event's URL-encoded values (`{media_item_id}`,
    /// `{event}`, …); a link with a value the event lacks is left out.
    #[serde(default)]
    pub click: Option<String>,
    /// How the event's poster (`image_url`) is shown: `attach` (a large
    /// image, default), `icon` (a small one), or `none`.
    #[serde(default)]
    pub image: ImageMode,
}

/// How a poster is shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageMode {
    /// As an attachment (`attach`).
    #[default]
    Attach,
    /// As the notification icon (`icon`).
    Icon,
    /// Not at all.
    None,
}

// Hand-written so that the token and password never reach a log line.
impl fmt::Debug for NtfyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("NtfyConfig")
            .field("server", &self.server)
            .field("topic", &self.topic)
            .field("token", &redacted(&self.token))
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .field("markdown", &self.markdown)
            .field("priorities", &self.priorities)
            .field("tags", &self.tags)
            .field("click", &self.click)
            .field("image", &self.image)
            .finish()
    }
}

fn default_server() -> String {
    "https://ntfy.sh".into()
}

impl NtfyConfig {
    /// Reads and checks the instance's settings; errors name the instance
    /// and the key.
    pub fn from_plugin_config(config: &PluginConfig) -> herald_core::Result<NtfyConfig> {
        let settings: NtfyConfig = config.settings()?;
        settings.validate(config)?;
        Ok(settings)
    }

    fn validate(&self, config: &PluginConfig) -> herald_core::Result<()> {
        let key_error = |key: &str, message: &str| config.error(format!("`{key}`: {message}"));
        if !(self.server.starts_with("http://") || self.server.starts_with("https://")) {
            return Err(key_error("server", "must be an http:// or https:// URL"));
        }
        let topic_ok = (1..=64).contains(&self.topic.len())
            && self
                .topic
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !topic_ok {
            return Err(key_error(
                "topic",
                "must be 1 to 64 letters, digits, `-` or `_`",
            ));
        }
        match (&self.token, &self.username, &self.password) {
            (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
                return Err(key_error(
                    "token",
                    "use either `token` or `username`/`password`, not both",
                ))
            }
            (Some(token), None, None) if token.trim().is_empty() => {
                return Err(key_error("token", "must not be empty"))
            }
            (None, Some(_), None) => return Err(key_error("password", "required with `username`")),
            (None, None, Some(_)) => return Err(key_error("username", "required with `password`")),
            _ => {}
        }
        for (key, priority) in &self.priorities {
            check_event_key(config, "priorities", key)?;
            if !(1..=5).contains(priority) {
                return Err(key_error(
                    &format!("priorities.{key}"),
                    &format!("must be 1 (min) to 5 (max), got {priority}"),
                ));
            }
        }
        for (key, tags) in &self.tags {
            check_event_key(config, "tags", key)?;
            if tags.iter().any(|t| t.trim().is_empty() || t.contains(',')) {
                return Err(key_error(
                    &format!("tags.{key}"),
                    "tags must be non-empty and without commas",
                ));
            }
        }
        if let Some(click) = &self.click {
            crate::payload::UrlTemplate::parse(click).map_err(|e| key_error("click", &e))?;
        }
        Ok(())
    }
}

/// Checks that a map key is an event name or `default`.
fn check_event_key(config: &PluginConfig, map: &str, key: &str) -> herald_core::Result<()> {
    if key == "default" || EventKind::parse(key).is_ok() {
        Ok(())
    } else {
        Err(config.error(format!(
            "`{map}.{key}`: expected an event name such as `playback.started`, or `default`"
        )))
    }
}
