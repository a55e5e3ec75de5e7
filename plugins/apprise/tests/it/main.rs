//! Integration tests of herald-apprise (one binary, several modules).
#![allow(clippy::unwrap_used, missing_docs)]

mod config;
mod delivery;
mod fixtures;
mod format;
mod golden;
mod props;
mod server;

use herald_core::{NotificationPlugin, PluginConfig};
use serde_json::{json, Value};

/// A `[[plugins]]` entry of kind `apprise` named `test` with `settings`.
pub fn plugin_config(settings: Value) -> PluginConfig {
    let mut entry = json!({"kind": "apprise", "name": "test"});
    if let (Some(entry), Some(settings)) = (entry.as_object_mut(), settings.as_object()) {
        entry.extend(settings.clone());
    }
    serde_json::from_value(entry).unwrap()
}

/// Builds an instance through the registry, as the host does.
pub fn build(settings: Value) -> herald_core::Result<Box<dyn NotificationPlugin>> {
    herald_core::Registry::from_inventory()?.build(&plugin_config(settings))
}
