//! # herald-host
//!
//! The `herald` daemon as a library: configuration, the HTTP server, the
//! durable store and the dispatcher. The binary is one call to [`main`], so
//! a third-party plugin author links their own plugin crates into a binary
//! of their own with `fn main() -> ExitCode { herald_host::main() }` and a
//! `use my_plugin as _;`.
//!
//! Key design decision: every delivery — generic webhook or plugin — goes
//! through one durable queue in the [`store`], committed before the event is
//! acknowledged, and is retried by the [`dispatch`]er from there.
#![deny(missing_docs)]

pub mod app;
mod builtin;
pub mod cli;
pub mod clock;
pub mod config;
pub mod dispatch;
pub mod error;
pub mod guard;
pub mod logging;
pub mod metrics;
pub mod rules;
pub mod server;
pub mod sources;
pub mod store;
pub mod tokens;
pub mod webhook;
pub mod webhooks;

pub use error::{Error, Result};

// Bundled plugin crates register themselves with `inventory`; a crate the
// binary never names is never linked and would silently register nothing.
use herald_apprise as _;
use herald_discord as _;
use herald_exec as _;
use herald_mqtt as _;
use herald_ntfy as _;
use herald_pushover as _;
use herald_slack as _;
use herald_telegram as _;

/// Runs the `herald` command line with the plugin kinds linked into the
/// calling binary.
pub fn main() -> std::process::ExitCode {
    cli::run()
}
