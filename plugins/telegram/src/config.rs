//! The settings of a `telegram` instance.
//!
//! ```toml
//! [[plugins]]
//! kind = "telegram"
//! name = "telegram-family"
//! bot_token = "123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11"
//! chat_id = "-1001234567890"
//! ```

use herald_core::{PluginConfig, Result};
use serde::{Deserialize, Serialize};

/// The real Bot API.
pub const DEFAULT_API_BASE: &str = "https://api.telegram.org";

/// A `telegram` instance's own settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    /// The bot's token as BotFather gives it (`123456:ABC-DEF…`). It is a
    /// secret and travels in the URL path, so Herald keeps it out of logs,
    /// errors, `Debug` output and delivery reports.
    pub bot_token: BotToken,
    /// Where messages go: a chat id (`-1001234567890`, as a number or a
    /// string) or a public channel's `@username`.
    pub chat_id: ChatId,
    /// `HTML` (default) or `MarkdownV2`: the markup of the templates. User
    /// data is escaped for it either way.
    #[serde(default)]
    pub parse_mode: ParseMode,
    /// Sends silently: members get no sound.
    #[serde(default)]
    pub disable_notification: bool,
    /// Posts into this topic of a forum supergroup.
    #[serde(default)]
    pub message_thread_id: Option<i64>,
    /// Shows no link preview under the message.
    #[serde(default)]
    pub disable_link_preview: bool,
    /// Sends the event's poster (`image_url`) as a photo with the message
    /// as its caption (at most 1024 characters), when the event has one.
    #[serde(default)]
    pub photos: bool,
    /// The Bot API's base URL, for a local Bot API server or a proxy.
    #[serde(default = "default_api_base")]
    pub api_base: String,
}

fn default_api_base() -> String {
    DEFAULT_API_BASE.to_owned()
}

/// A bot token: shown as `<redacted>` by `Debug`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct BotToken(String);

impl BotToken {
    /// The token itself, for building the request URL only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it looks like a token: digits, `:`, then letters, digits,
    /// `_` or `-`.
    fn is_well_formed(&self) -> bool {
        match self.0.split_once(':') {
            Some((id, secret)) => {
                !id.is_empty()
                    && id.bytes().all(|b| b.is_ascii_digit())
                    && !secret.is_empty()
                    && secret
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            }
            None => false,
        }
    }
}

impl std::fmt::Debug for BotToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BotToken(<redacted>)")
    }
}

/// A chat: a numeric id, or an `@username` (or an id given as a string).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ChatId {
    /// A numeric id, e.g. `-1001234567890`.
    Id(i64),
    /// `@channelusername`, or a numeric id written as a string.
    Name(String),
}

impl ChatId {
    fn is_valid(&self) -> bool {
        match self {
            ChatId::Id(_) => true,
            ChatId::Name(name) => match name.strip_prefix('@') {
                Some(user) => {
                    user.len() >= 4 && user.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                }
                None => {
                    let digits = name.strip_prefix('-').unwrap_or(name);
                    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
                }
            },
        }
    }
}

/// The markup of the messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum ParseMode {
    /// Telegram HTML (`<b>`, `<i>`, …).
    #[default]
    #[serde(rename = "HTML")]
    Html,
    /// Telegram MarkdownV2 (`*bold*`, `_italic_`, every reserved character
    /// escaped).
    MarkdownV2,
}

impl TelegramSettings {
    /// Reads and validates the settings of `config`; errors name the key
    /// and never include the token.
    pub fn from_config(config: &PluginConfig) -> Result<TelegramSettings> {
        let settings: TelegramSettings = config.settings()?;
        if !settings.bot_token.is_well_formed() {
            return Err(config.error(
                "bot_token: expected `<digits>:<letters, digits, _ or ->` as BotFather gives it",
            ));
        }
        if !settings.chat_id.is_valid() {
            return Err(config.error(
                "chat_id: expected a numeric chat id (e.g. -1001234567890) or @channelusername",
            ));
        }
        let api_base_ok = reqwest::Url::parse(&settings.api_base)
            .map(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
            .unwrap_or(false);
        if !api_base_ok {
            return Err(config.error("api_base: must be an http or https URL"));
        }
        Ok(settings)
    }
}
