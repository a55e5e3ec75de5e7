//! Integration tests of herald-ntfy (one binary, several modules).
#![allow(clippy::unwrap_used, missing_docs)]

mod config;
mod delivery;
mod format;
mod props;
mod server;

use herald_core::testing::{fixtures, Golden};
use herald_core::{NotificationPlugin, PluginConfig};
use serde_json::Value;

/// A `[[plugins]]` entry of kind `ntfy` named `test` with `settings`.
pub fn plugin_config(settings: Value) -> PluginConfig {
    herald_core::testing::plugin_config(herald_ntfy::KIND, "test", settings)
}

/// Builds an instance through the registry, as the host does.
pub fn build(settings: Value) -> herald_core::Result<Box<dyn NotificationPlugin>> {
    herald_core::testing::build(herald_ntfy::KIND, settings)
}

/// This crate's golden files, `tests/golden/`.
pub fn golden() -> Golden {
    Golden::of_crate(env!("CARGO_MANIFEST_DIR"))
}
