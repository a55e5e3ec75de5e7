//! The `[[plugins]]` settings of an `apprise` instance.
//!
//! ```toml
//! [[plugins]]
//! kind = "apprise"
//! name = "everywhere"
//! server = "http://apprise:8000"
//! key = "herald"            # stateful: the server's saved configuration
//! tag = "media"
//! # or stateless:
//! # urls = ["tgram://bottoken/ChatID", "mailto://user:pass@example.com"]
//! ```

use std::collections::BTreeMap;
use std::fmt;

use herald_core::{EventKind, PluginConfig};
use serde::{Deserialize, Serialize};

/// Settings of one Apprise instance: `server`, and either `key` or `urls`.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppriseConfig {
    /// Base URL of the Apprise API server.
    pub server: String,
    /// Stateful mode: the key of a configuration saved on the server
    /// (`POST /notify/<key>`).
    #[serde(default)]
    pub key: Option<String>,
    /// Stateless mode: Apprise URLs to notify (`POST /notify/`). Secrets:
    /// they hold the services' tokens.
    #[serde(default)]
    pub urls: Option<Vec<String>>,
    /// Only notify the saved configuration's URLs with this tag (stateful
    /// mode only).
    #[serde(default)]
    pub tag: Option<String>,
    /// Body format: `text` (default), `markdown` or `html`. Template values
    /// are escaped for it.
    #[serde(default)]
    pub format: BodyFormat,
    /// Notification type by event name or `default`, over the built-in ones
    /// (`success` for new library items, `warning` for removed ones,
    /// `info` otherwise).
    #[serde(default)]
    pub types: BTreeMap<String, NotifyType>,
}

/// Apprise's body formats.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    /// Plain text.
    #[default]
    Text,
    /// Markdown.
    Markdown,
    /// HTML.
    Html,
}

impl BodyFormat {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            BodyFormat::Text => "text",
            BodyFormat::Markdown => "markdown",
            BodyFormat::Html => "html",
        }
    }
}

/// Apprise's notification types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyType {
    /// `info`
    Info,
    /// `success`
    Success,
    /// `warning`
    Warning,
    /// `failure`
    Failure,
}

impl NotifyType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyType::Info => "info",
            NotifyType::Success => "success",
            NotifyType::Warning => "warning",
            NotifyType::Failure => "failure",
        }
    }
}

// Hand-written so that the URLs (service tokens) never reach a log line.
impl fmt::Debug for AppriseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppriseConfig")
            .field("server", &self.server)
            .field("key", &self.key)
            .field(
                "urls",
                &self
                    .urls
                    .as_ref()
                    .map(|u| format!("<{} redacted>", u.len())),
            )
            .field("tag", &self.tag)
            .field("format", &self.format)
            .field("types", &self.types)
            .finish()
    }
}

impl AppriseConfig {
    /// Reads and checks the instance's settings; errors name the instance
    /// and the key (never a URL).
    pub fn from_plugin_config(config: &PluginConfig) -> herald_core::Result<AppriseConfig> {
        let settings: AppriseConfig = config.settings()?;
        settings.validate(config)?;
        Ok(settings)
    }

    fn validate(&self, config: &PluginConfig) -> herald_core::Result<()> {
        let key_error = |key: &str, message: &str| config.error(format!("`{key}`: {message}"));
        if !(self.server.starts_with("http://") || self.server.starts_with("https://")) {
            return Err(key_error("server", "must be an http:// or https:// URL"));
        }
        match (&self.key, &self.urls) {
            (Some(_), Some(_)) => {
                return Err(key_error(
                    "urls",
                    "use either `key` (stateful) or `urls` (stateless), not both",
                ))
            }
            (None, None) => {
                return Err(key_error(
                    "key",
                    "set `key` (a configuration saved on the server) or `urls`",
                ))
            }
            (Some(key), None) => {
                let ok = (1..=128).contains(&key.len())
                    && key
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if !ok {
                    return Err(key_error(
                        "key",
                        "must be 1 to 128 letters, digits, `_` or `-`",
                    ));
                }
            }
            (None, Some(urls)) => {
                if urls.is_empty() {
                    return Err(key_error("urls", "must list at least one URL"));
                }
                for (i, url) in urls.iter().enumerate() {
                    // Never echo the URL: it holds a token.
                    if !url.contains("://") || url.contains([',', ' ']) {
                        return Err(key_error(
                            &format!("urls[{i}]"),
                            "must be an Apprise URL (`service://…`, no commas or spaces)",
                        ));
                    }
                }
                if self.tag.is_some() {
                    return Err(key_error("tag", "only applies with `key` (stateful mode)"));
                }
            }
        }
        if let Some(tag) = &self.tag {
            if tag.trim().is_empty() {
                return Err(key_error("tag", "must not be empty"));
            }
        }
        for key in self.types.keys() {
            if key != "default" && EventKind::parse(key).is_err() {
                return Err(key_error(
                    &format!("types.{key}"),
                    "expected an event name such as `playback.started`, or `default`",
                ));
            }
        }
        Ok(())
    }
}
