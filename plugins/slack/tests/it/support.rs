//! Shared test helpers: configs and golden files (the golden event set is
//! [`herald_core::testing::samples`]).

use herald_core::testing::{plugin_config, Golden};
use herald_core::PluginConfig;
use serde_json::Value;

/// A config entry for an instance named `test`.
pub fn config(settings: Value) -> PluginConfig {
    plugin_config("slack", "test", settings)
}

/// This crate's golden files, `tests/golden/`.
pub fn golden() -> Golden {
    Golden::of_crate(env!("CARGO_MANIFEST_DIR"))
}
