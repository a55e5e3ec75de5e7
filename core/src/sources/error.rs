//! The error of source parsing: always the sender's fault (HTTP 400).

use super::SourceType;

/// Why a body could not be turned into an event. Every variant is a client
/// error: the host answers 400 with the message, which names the source and
/// what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// The body is not what the source sends (bad JSON, no JSON object, a
    /// form without the expected field, a broken multipart body).
    #[error("{source_type}: malformed body: {message}")]
    Malformed {
        /// The source the body was parsed as.
        source_type: SourceType,
        /// What is wrong with it.
        message: String,
    },
    /// An event type Herald maps, but without a key it needs (e.g. the item
    /// id of a playback event). Usually a user-written template (Jellyfin
    /// "Generic" template, Tautulli JSON data) that lacks the field.
    #[error("{source_type}: `{event_type}` has no `{field}`{hint}")]
    MissingField {
        /// The source the body was parsed as.
        source_type: SourceType,
        /// The source's event type, e.g. `PlaybackStart`.
        event_type: String,
        /// The source's field name, e.g. `ItemId`.
        field: &'static str,
        /// Extra advice, starting with `; ` when present.
        hint: &'static str,
    },
    /// The produced event failed validation (a Herald body with wrong typed
    /// keys, or an invariant of a parser broken).
    #[error("{source_type}: invalid event: {message}")]
    Invalid {
        /// The source the body was parsed as.
        source_type: SourceType,
        /// The validation error.
        message: String,
    },
    /// A source type name that is not one of `plex`, `jellyfin`, `emby`,
    /// `tautulli`, `herald`.
    #[error("unknown source type `{0}`; known: plex, jellyfin, emby, tautulli, herald")]
    UnknownSourceType(String),
}

impl SourceError {
    pub(crate) fn malformed(source_type: SourceType, message: impl Into<String>) -> SourceError {
        SourceError::Malformed {
            source_type,
            message: message.into(),
        }
    }
}
