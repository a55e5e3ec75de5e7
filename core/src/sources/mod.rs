//! Ingest sources: turn what a media server posts into a Herald [`Event`].
//!
//! Plex, Jellyfin (jellyfin-plugin-webhook), Emby, Tautulli and Herald's own
//! JSON ([`IncomingEvent`](crate::IncomingEvent)) each post a different body.
//! [`parse`] takes the body as it came (bytes and `Content-Type`), decodes it
//! (JSON, `application/x-www-form-urlencoded` or `multipart/form-data`) and
//! returns either a normalized event or the reason it is ignored.
//!
//! The key design decision: parsing is **pure**. No I/O, no clock reads (the
//! caller passes `now`, used for the timestamp and the id), no state. Anything
//! stateful, like dropping Plex's repeated play events, is a separate small
//! struct ([`Deduplicator`]) the host owns, one per source.
//!
//! What the host does with the result:
//!
//! | result | HTTP answer | then |
//! | --- | --- | --- |
//! | `Ok(Parsed::Event { event, origin })` | 2xx | set `event.source`, apply `match_user`/`match_server` on `origin`, dedup, enqueue |
//! | `Ok(Parsed::Ignored { .. })` | 2xx | log `original_type` and `reason` at debug/info; never 5xx |
//! | `Err(SourceError)` | 400 | the message names the source and what is wrong |
//!
//! Every event returned passes [`Event::validate`]; its `data.raw` holds the
//! decoded payload as the server sent it (except for [`SourceType::Herald`],
//! whose payload *is* the event). The mapping of each source's event types is
//! documented on its module: [`plex`], [`jellyfin`], [`emby`], [`tautulli`].

mod body;
mod dedup;
pub mod emby;
mod error;
mod herald;
pub mod jellyfin;
mod normalize;
pub mod plex;
pub mod tautulli;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};

use crate::event::Event;

pub use dedup::{dedup_key, Deduplicator};
pub use error::SourceError;

/// The kind of server posting to an ingest endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceType {
    /// Plex Media Server webhooks (Plex Pass): multipart with a `payload` part.
    Plex,
    /// Jellyfin's webhook plugin, "Generic" destination (JSON).
    Jellyfin,
    /// Emby webhooks (JSON, or a form with the JSON in a `data` field).
    Emby,
    /// Tautulli's webhook agent with Herald's JSON data template.
    Tautulli,
    /// Herald's own JSON ([`IncomingEvent`](crate::IncomingEvent)).
    Herald,
}

impl SourceType {
    /// Every source type, in documentation order.
    pub const ALL: [SourceType; 5] = [
        SourceType::Plex,
        SourceType::Jellyfin,
        SourceType::Emby,
        SourceType::Tautulli,
        SourceType::Herald,
    ];

    /// The configuration name (`plex`, `jellyfin`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            SourceType::Plex => "plex",
            SourceType::Jellyfin => "jellyfin",
            SourceType::Emby => "emby",
            SourceType::Tautulli => "tautulli",
            SourceType::Herald => "herald",
        }
    }
}

impl fmt::Display for SourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SourceType {
    type Err = SourceError;

    fn from_str(s: &str) -> Result<SourceType, SourceError> {
        SourceType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| SourceError::UnknownSourceType(s.to_owned()))
    }
}

/// Who and where an event came from, as the source names them, so the host
/// can apply per-source `match_user` / `match_server` rules. Every field is
/// `None` when the source did not send it (e.g. Jellyfin's `ItemAdded` has no
/// user).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The server's user id (Plex `Account.id`, Jellyfin `UserId`, …), as a string.
    pub user_id: Option<String>,
    /// The user's display or login name.
    pub user_name: Option<String>,
    /// The server's id (Plex `Server.uuid`, Jellyfin `ServerId`, Emby `Server.Id`).
    pub server_id: Option<String>,
    /// The server's friendly name.
    pub server_name: Option<String>,
}

/// The outcome of parsing one request body.
// One value per request, destructured at once: boxing the event would only
// add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Parsed {
    /// A normalized event. `event.source` is `None`: the host sets it to the
    /// ingest source's configured name.
    Event {
        /// The event, valid for its kind.
        event: Event,
        /// Identifiers for per-source user/server matching.
        origin: Origin,
    },
    /// A well-formed body of a type Herald does not map (e.g. Plex
    /// `media.rate`, Jellyfin `PlaybackProgress`). Answer 2xx and log it.
    Ignored {
        /// Why, in one sentence.
        reason: String,
        /// The source's own name for the event type, e.g. `media.rate`.
        original_type: String,
    },
}

impl Parsed {
    /// The event, if one was produced.
    pub fn event(&self) -> Option<&Event> {
        match self {
            Parsed::Event { event, .. } => Some(event),
            Parsed::Ignored { .. } => None,
        }
    }
}

/// Parses one request body from `source`.
///
/// `content_type` is the request's `Content-Type` header, if any: JSON bodies
/// are accepted with any or no content type; `multipart/form-data` and
/// `application/x-www-form-urlencoded` bodies are searched for the JSON in
/// the field the source uses (`payload` for Plex, `data` for Emby; either for
/// the others). `now` becomes the event's timestamp (truncated to
/// milliseconds) and seeds its id; a Herald body keeps its own timestamp and
/// id when it has them.
pub fn parse(
    source: SourceType,
    content_type: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Parsed, SourceError> {
    let now = now.trunc_subsecs(3);
    let payload = body::decode(source, content_type, body)?;
    let parsed = match source {
        SourceType::Plex => plex::parse(payload, now)?,
        SourceType::Jellyfin => jellyfin::parse(payload, now)?,
        SourceType::Emby => emby::parse(payload, now)?,
        SourceType::Tautulli => tautulli::parse(payload, now)?,
        SourceType::Herald => herald::parse(payload, now)?,
    };
    if let Parsed::Event { event, .. } = &parsed {
        // Every builder fills only typed keys of the right type; this guards
        // the invariant the host relies on.
        event.validate().map_err(|e| SourceError::Invalid {
            source_type: source,
            message: e.to_string(),
        })?;
    }
    Ok(parsed)
}
