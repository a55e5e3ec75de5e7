//! The plugin registry.
//!
//! Each plugin crate submits one [`PluginRegistration`] with
//! [`register_plugin!`](crate::register_plugin); the host collects them at
//! start-up with [`Registry::from_inventory`] and builds one instance per
//! `[[plugins]]` config entry by kind.
//!
//! **Linking pitfall**: a crate the final binary never names is never linked,
//! and its registration silently disappears. The host names every bundled
//! plugin crate in its library (`use herald_discord as _;`), and a custom
//! binary must do the same for its own plugins.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::filter::PayloadFilter;
use crate::pattern::EventPatterns;
use crate::plugin::NotificationPlugin;

/// What a plugin crate registers. Must be const-constructible.
#[derive(Debug)]
pub struct PluginRegistration {
    /// The `kind` users write in `[[plugins]]`.
    pub kind: &'static str,
    /// One line for `herald plugins`.
    pub summary: &'static str,
    /// Setting keys whose values are secrets (redacted by `check-config`
    /// and the admin API).
    pub secret_keys: &'static [&'static str],
    /// Builds an instance from its config entry; errors name the key.
    pub build: fn(&PluginConfig) -> Result<Box<dyn NotificationPlugin>>,
}

inventory::collect!(PluginRegistration);

/// Registers a plugin kind with the host.
///
/// ```ignore
/// herald_core::register_plugin! {
///     herald_core::PluginRegistration {
///         kind: "gotify",
///         summary: "Gotify push messages",
///         secret_keys: &["token"],
///         build: |config| Ok(Box::new(Gotify::new(config)?)),
///     }
/// }
/// ```
#[macro_export]
macro_rules! register_plugin {
    ($registration:expr) => {
        $crate::__private::inventory::submit! { $registration }
    };
}

/// One `[[plugins]]` entry: the settings the host understands, and the
/// service's own settings left for the plugin to read.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PluginConfig {
    /// Registered kind.
    pub kind: String,
    /// Instance name, unique across plugins.
    pub name: String,
    /// Whether the instance receives events.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Which events it receives.
    #[serde(default = "EventPatterns::any")]
    pub events: EventPatterns,
    /// Payload filters.
    #[serde(default, skip_serializing_if = "PayloadFilter::is_empty")]
    pub filters: PayloadFilter,
    /// Template overrides: event name (or `default`) → inline handlebars
    /// template, or `@file.hbs` for a file under the templates directory.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub templates: BTreeMap<String, String>,
    /// Where `@file.hbs` templates are read from; set by the host to
    /// `templates/` next to the config file, never read from the config.
    #[serde(skip)]
    pub templates_dir: Option<std::path::PathBuf>,
    /// Grouping, throttling, conditions, quiet hours and fallback.
    #[serde(default, skip_serializing_if = "crate::rules::Rules::is_empty")]
    pub rules: crate::rules::Rules,
    /// The service's own settings.
    #[serde(flatten)]
    pub settings: Map<String, Value>,
}

fn default_true() -> bool {
    true
}

impl PluginConfig {
    /// Deserializes the service's own settings into `T` (which should deny
    /// unknown fields); errors name the instance and the key.
    ///
    /// A wrong value names its key path: `` `qos`: invalid type… ``.
    pub fn settings<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        let settings = Value::Object(self.settings.clone());
        serde_path_to_error::deserialize(settings).map_err(|e| {
            let path = e.path().to_string();
            let error = e.into_inner();
            if path == "." {
                self.error(error.to_string())
            } else {
                self.error(format!("`{path}`: {error}"))
            }
        })
    }

    /// An error about this instance's configuration.
    pub fn error(&self, message: impl Into<String>) -> Error {
        Error::PluginConfig {
            instance: self.name.clone(),
            message: message.into(),
        }
    }
}

/// Every linked plugin kind, by name.
#[derive(Debug)]
pub struct Registry {
    by_kind: BTreeMap<&'static str, &'static PluginRegistration>,
}

impl Registry {
    /// Collects the registrations of every linked plugin crate; fails on a
    /// kind registered twice.
    pub fn from_inventory() -> Result<Registry> {
        Registry::from_registrations(inventory::iter::<PluginRegistration>)
    }

    /// Builds a registry from an explicit list (tests, embedders).
    pub fn from_registrations(
        registrations: impl IntoIterator<Item = &'static PluginRegistration>,
    ) -> Result<Registry> {
        let mut by_kind = BTreeMap::new();
        for registration in registrations {
            if by_kind.insert(registration.kind, registration).is_some() {
                return Err(Error::DuplicatePluginKind(registration.kind.to_owned()));
            }
        }
        Ok(Registry { by_kind })
    }

    /// Registered kinds, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.by_kind.keys().copied().collect()
    }

    /// Registrations, sorted by kind.
    pub fn registrations(&self) -> impl Iterator<Item = &'static PluginRegistration> + '_ {
        self.by_kind.values().copied()
    }

    /// The registration of `kind`, or an error listing the known kinds.
    pub fn get(&self, kind: &str) -> Result<&'static PluginRegistration> {
        self.by_kind
            .get(kind)
            .copied()
            .ok_or_else(|| Error::UnknownPluginKind {
                kind: kind.to_owned(),
                known: self.kinds().iter().map(|k| (*k).to_owned()).collect(),
            })
    }

    /// Builds an instance of `config.kind`.
    pub fn build(&self, config: &PluginConfig) -> Result<Box<dyn NotificationPlugin>> {
        (self.get(&config.kind)?.build)(config)
    }
}
