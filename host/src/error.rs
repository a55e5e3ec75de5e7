//! The one error type of `herald-host`.

use std::path::PathBuf;

/// Everything that can go wrong in the host.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A configuration value is wrong.
    #[error("{}{}{message}", config_key(key), config_file(file))]
    Config {
        /// Dotted key path, e.g. `webhooks.timeout`.
        key: String,
        /// The file the value came from.
        file: Option<PathBuf>,
        /// What is wrong.
        message: String,
    },
    /// An error from the core (events, patterns, plugins).
    #[error(transparent)]
    Core(#[from] herald_core::Error),
    /// The store failed.
    #[error("store: {0}")]
    Store(String),
    /// A file or socket failed.
    #[error("{context}: {source}")]
    Io {
        /// What Herald was doing.
        context: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A value given through the API or config is invalid.
    #[error("{field}: {message}")]
    Invalid {
        /// The offending field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// Something asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The request conflicts with the current state.
    #[error("{0}")]
    Conflict(String),
}

fn config_key(key: &str) -> String {
    if key.is_empty() {
        String::new()
    } else {
        format!("config key `{key}`")
    }
}

fn config_file(file: &Option<PathBuf>) -> String {
    match file {
        Some(f) => format!(" (in {}): ", f.display()),
        None => ": ".into(),
    }
}

impl Error {
    /// A config error without a known file.
    pub fn config(key: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Config {
            key: key.into(),
            file: None,
            message: message.into(),
        }
    }

    /// An invalid-field error.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An I/O error with context.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Error {
        Error::Store(e.to_string())
    }
}

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
