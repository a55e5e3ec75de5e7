//! The `[[plugins]]` settings of a `pushover` instance.
//!
//! ```toml
//! [[plugins]]
//! kind = "pushover"
//! name = "phones"
//! token = "azGDORePK8gMaC0QOYAMyEEuzJnyUi"   # the application's API token
//! user = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG"    # a user or group key
//! priorities = { "library.updated" = 1 }
//! ```

use std::collections::BTreeMap;
use std::fmt;

use herald_core::{EventKind, PluginConfig};
use serde::Deserialize;

/// Pushover's emergency priority, which repeats until acknowledged.
pub const EMERGENCY: i8 = 2;

/// Settings of one Pushover instance. `token` and `user` are required.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushoverConfig {
    /// API base URL (tests point it at a local server).
    #[serde(default = "default_api_base")]
    pub api_base: String,
    /// The application's API token (30 letters and digits). A secret.
    pub token: String,
    /// The user or group key to notify (30 letters and digits). A secret.
    pub user: String,
    /// Only notify this device of the user (a device name).
    #[serde(default)]
    pub device: Option<String>,
    /// Notification sound (`pushover`, `magic`, `none`, …); the user's
    /// default when absent.
    #[serde(default)]
    pub sound: Option<String>,
    /// Send HTML (`html=1`): template values are HTML-escaped and templates
    /// may use `<b>`, `<i>`, `<u>`, `<font color>` and `<a href>`.
    #[serde(default)]
    pub html: bool,
    /// Priority (-2 lowest … 2 emergency) by event name or `default`, over
    /// the built-in ones (-1, quiet, for playback; 0 otherwise).
    #[serde(default)]
    pub priorities: BTreeMap<String, i8>,
    /// Emergency priority only: seconds between repeats (at least 30).
    #[serde(default)]
    pub retry: Option<u32>,
    /// Emergency priority only: seconds before repeats stop (at most
    /// 10800).
    #[serde(default)]
    pub expire: Option<u32>,
    /// Supplementary link. `{key}` placeholders are replaced by the event's
    /// URL-encoded values (`{media_item_id}`, …); left out when a value is
    /// missing or the result is longer than 512 characters.
    #[serde(default)]
    pub url: Option<String>,
    /// The link's text (at most 100 characters).
    #[serde(default)]
    pub url_title: Option<String>,
}

// Hand-written so that the token and user key never reach a log line.
impl fmt::Debug for PushoverConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushoverConfig")
            .field("api_base", &self.api_base)
            .field("token", &"<redacted>")
            .field("user", &"<redacted>")
            .field("device", &self.device)
            .field("sound", &self.sound)
            .field("html", &self.html)
            .field("priorities", &self.priorities)
            .field("retry", &self.retry)
            .field("expire", &self.expire)
            .field("url", &self.url)
            .field("url_title", &self.url_title)
            .finish()
    }
}

fn default_api_base() -> String {
    "https://api.pushover.net".into()
}

impl PushoverConfig {
    /// Reads and checks the instance's settings; errors name the instance
    /// and the key (never a secret's value).
    pub fn from_plugin_config(config: &PluginConfig) -> herald_core::Result<PushoverConfig> {
        let settings: PushoverConfig = config.settings()?;
        settings.validate(config)?;
        Ok(settings)
    }

    fn validate(&self, config: &PluginConfig) -> herald_core::Result<()> {
        let key_error = |key: &str, message: &str| config.error(format!("`{key}`: {message}"));
        if !(self.api_base.starts_with("http://") || self.api_base.starts_with("https://")) {
            return Err(key_error("api_base", "must be an http:// or https:// URL"));
        }
        for (key, value) in [("token", &self.token), ("user", &self.user)] {
            if value.len() != 30 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(key_error(key, "must be 30 letters and digits"));
            }
        }
        let mut emergency = None;
        for (key, priority) in &self.priorities {
            if key != "default" && EventKind::parse(key).is_err() {
                return Err(key_error(
                    &format!("priorities.{key}"),
                    "expected an event name such as `playback.started`, or `default`",
                ));
            }
            if !(-2..=2).contains(priority) {
                return Err(key_error(
                    &format!("priorities.{key}"),
                    &format!("must be -2 to 2, got {priority}"),
                ));
            }
            if *priority == EMERGENCY {
                emergency.get_or_insert(key.clone());
            }
        }
        match (&emergency, self.retry, self.expire) {
            (Some(key), None, _) => {
                return Err(key_error(
                    "retry",
                    &format!(
                    "required (at least 30 seconds) because `priorities.{key}` is 2 (emergency)"
                ),
                ))
            }
            (Some(key), _, None) => {
                return Err(key_error(
                    "expire",
                    &format!(
                    "required (at most 10800 seconds) because `priorities.{key}` is 2 (emergency)"
                ),
                ))
            }
            _ => {}
        }
        if let Some(retry) = self.retry {
            if retry < 30 {
                return Err(key_error(
                    "retry",
                    &format!("must be at least 30 seconds, got {retry}"),
                ));
            }
        }
        if let Some(expire) = self.expire {
            if expire > 10_800 || expire == 0 {
                return Err(key_error(
                    "expire",
                    &format!("must be 1 to 10800 seconds, got {expire}"),
                ));
            }
        }
        if let Some(url) = &self.url {
            crate::payload::UrlTemplate::parse(url).map_err(|e| key_error("url", &e))?;
        }
        if let Some(title) = &self.url_title {
            if title.chars().count() > crate::payload::MAX_URL_TITLE {
                return Err(key_error("url_title", "must be at most 100 characters"));
            }
            if self.url.is_none() {
                return Err(key_error("url_title", "needs `url`"));
            }
        }
        if let Some(device) = &self.device {
            let ok = (1..=25).contains(&device.len())
                && device
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !ok {
                return Err(key_error(
                    "device",
                    "must be 1 to 25 letters, digits, `_` or `-`",
                ));
            }
        }
        Ok(())
    }
}
