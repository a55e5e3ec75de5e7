//! The one error type of `herald-core`.

/// Everything that can go wrong in the core: invalid events, patterns,
/// filters, plugin configuration and formatting.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An event name that is not `resource.verb` (lower case, dots).
    #[error("invalid event name `{name}`: {reason}")]
    InvalidEventName {
        /// The offending name.
        name: String,
        /// Why it is rejected.
        reason: &'static str,
    },
    /// An event whose fields do not match its kind.
    #[error("{field}: {message}")]
    InvalidEvent {
        /// Dotted path of the offending field, e.g. `data.completed`.
        field: String,
        /// What is wrong with it.
        message: String,
    },
    /// A malformed event pattern.
    #[error("invalid event pattern `{pattern}`: {reason}")]
    InvalidPattern {
        /// The offending pattern.
        pattern: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A malformed payload filter.
    #[error("invalid filter `{key}`: {reason}")]
    InvalidFilter {
        /// The filter key.
        key: String,
        /// Why it is rejected.
        reason: String,
    },
    /// A plugin kind that no linked crate registered.
    #[error("unknown plugin kind `{kind}`; known kinds: {}", known.join(", "))]
    UnknownPluginKind {
        /// The kind asked for.
        kind: String,
        /// Every registered kind, sorted.
        known: Vec<String>,
    },
    /// Two crates registered the same plugin kind.
    #[error("plugin kind `{0}` is registered twice")]
    DuplicatePluginKind(String),
    /// A plugin instance's settings are wrong.
    #[error("plugin `{instance}`: {message}")]
    PluginConfig {
        /// Instance name.
        instance: String,
        /// What is wrong, naming the key.
        message: String,
    },
    /// A plugin could not format an event.
    #[error("formatting failed: {0}")]
    Format(String),
    /// A signing secret that cannot be used.
    #[error("invalid secret: {0}")]
    InvalidSecret(String),
}

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
