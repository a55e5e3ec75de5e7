//! # herald-core
//!
//! The vocabulary every part of Herald shares: the [`Event`] model with its
//! known kinds and aliases, [`EventPattern`]s that route events, payload
//! [`PayloadFilter`]s, request [`signing`], and the [`NotificationPlugin`]
//! trait with the [`inventory`]-based plugin [`registry`].
//!
//! The key design decision: a plugin's *formatting* is pure
//! ([`NotificationPlugin::format`] turns an event into the exact [`Message`]
//! that will be sent) and its *delivery* is separate I/O that reports a
//! [`DeliveryReport`] the host acts on (retry, give up, count). Formatters are
//! therefore tested with golden files, and the host owns the durable queue,
//! retries and logging for every plugin alike.
#![deny(missing_docs)]

pub mod error;
pub mod event;
pub mod filter;
pub mod pattern;
pub mod plugin;
pub mod registry;
pub mod rules;
pub mod signing;
pub mod sources;
pub mod template;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{Error, Result};
pub use event::{Event, EventKind, IncomingEvent, KnownKind};
pub use filter::PayloadFilter;
pub use pattern::{EventPattern, EventPatterns};
pub use plugin::{
    Body, DeliveryContext, DeliveryReport, HttpRequest, HttpResponse, Message, NotificationPlugin,
    Publish, Verdict,
};
pub use registry::{PluginConfig, PluginRegistration, Registry};

/// Re-exported so plugin crates can implement the trait without naming the
/// crate themselves.
pub use async_trait::async_trait;

#[doc(hidden)]
pub mod __private {
    pub use inventory;
}
