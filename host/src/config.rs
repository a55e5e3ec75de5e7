//! Configuration: built-in defaults ← config file (TOML or YAML) ← `HERALD_…`
//! environment variables (nested keys joined with `__`), merged with
//! figment; then `${VAR}` in string values is replaced from the environment.
//!
//! Every struct denies unknown keys so a typo is an error naming the key, not
//! a silently ignored setting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Env, Format, Serialized, Toml, Yaml};
use figment::Figment;
use herald_core::{EventPatterns, PayloadFilter, PluginConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

/// The config file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_PATH: &str = "config/herald.toml";

/// Herald's whole configuration.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Where the database and generated tokens live.
    pub data_dir: PathBuf,
    /// The HTTP server.
    pub server: ServerConfig,
    /// Logging.
    pub log: LogConfig,
    /// The embedded store.
    pub store: StoreConfig,
    /// Generic outgoing webhooks.
    pub webhooks: WebhooksConfig,
    /// Notification plugin instances.
    pub plugins: Vec<PluginConfig>,
    /// Inbound webhook sources (Plex, Jellyfin, Emby, Tautulli, Herald).
    pub sources: Vec<SourceConfig>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            data_dir: PathBuf::from("herald-data"),
            server: ServerConfig::default(),
            log: LogConfig::default(),
            store: StoreConfig::default(),
            webhooks: WebhooksConfig::default(),
            plugins: Vec::new(),
            sources: Vec::new(),
        }
    }
}

/// A `[[sources]]` entry: a media server posting to its own ingest URL,
/// `/api/v1/ingest/{token}`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Unique name; set as the `source` of its events.
    pub name: String,
    /// `plex`, `jellyfin`, `emby`, `tautulli` or `herald`.
    #[serde(rename = "type")]
    pub source_type: herald_core::sources::SourceType,
    /// Secret token in the ingest URL (at least 16 characters; use
    /// `${VAR}`).
    pub token: String,
    /// Only accept events of these users (id or name; empty = everyone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_user: Vec<String>,
    /// Only accept events of these servers (id or name; empty = any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_server: Vec<String>,
    /// Repeated playback events of the same user and item within this
    /// window are dropped (Plex repeats `media.play`).
    #[serde(default = "default_dedup_window", with = "humantime_serde")]
    pub dedup_window: Duration,
}

fn default_dedup_window() -> Duration {
    Duration::from_secs(30)
}

/// `[server]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free port.
    pub listen: String,
    /// Bearer token for `/api/v1/admin/…`; generated on first start when
    /// absent.
    pub admin_token: Option<String>,
    /// Bearer token for `POST /api/v1/events`; generated on first start when
    /// absent.
    pub ingest_token: Option<String>,
    /// Largest accepted request body, in bytes (larger → 413).
    pub max_body_bytes: usize,
    /// Bearer token required by `GET /metrics`; open when absent.
    pub metrics_token: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            listen: "127.0.0.1:8787".into(),
            admin_token: None,
            ingest_token: None,
            max_body_bytes: 1024 * 1024,
            metrics_token: None,
        }
    }
}

/// `[log]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Filter in `RUST_LOG` syntax (`RUST_LOG` itself wins when set).
    pub level: String,
    /// `text` or `json` (one JSON object per line).
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> LogConfig {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Text,
        }
    }
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// JSON lines.
    Json,
}

/// `[store]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// `process` (default): a committed event survives a crash of Herald
    /// (SQLite WAL, `synchronous = NORMAL`). `power`: it also survives a
    /// power loss (`synchronous = FULL`, an fsync per commit).
    pub durability: Durability,
}

impl Default for StoreConfig {
    fn default() -> StoreConfig {
        StoreConfig {
            durability: Durability::Process,
        }
    }
}

/// How much a 202 promises.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// Safe against a crash of the process.
    Process,
    /// Safe against a crash of the machine.
    Power,
}

/// `[webhooks]`
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Whether generic webhooks are delivered at all.
    pub enabled: bool,
    /// Per-attempt timeout in seconds.
    pub timeout: u64,
    /// Retries after the first attempt (a webhook may override it).
    pub max_retries: u32,
    /// Send all matching webhooks of an event concurrently.
    pub parallel_dispatch: bool,
    /// Extra CA certificates (PEM bundle) trusted for HTTPS destinations.
    pub ca_bundle: Option<PathBuf>,
    /// Refuse plain `http://` destinations.
    pub require_tls: bool,
    /// Allow loopback, private and link-local destinations.
    pub allow_private_networks: bool,
    /// Outbound proxy URL (`HTTPS_PROXY`/`NO_PROXY` are honoured when unset).
    pub proxy: Option<String>,
    /// First retry delay of the exponential backoff (doubled each retry,
    /// ±20 % jitter), e.g. `"5s"`.
    #[serde(with = "humantime_serde")]
    pub retry_backoff: Duration,
    /// Longest delay between two attempts (also caps `Retry-After`).
    #[serde(with = "humantime_serde")]
    pub retry_max_delay: Duration,
    /// Explicit delays instead of the backoff, e.g. `["1m", "5m", "30m"]`;
    /// the last one repeats when `max_retries` is larger.
    pub retry_schedule: Option<Vec<String>>,
    /// Consecutive failed deliveries after which a webhook is disabled
    /// (0 = never).
    pub disable_after: u32,
    /// Most deliveries in flight at once.
    pub max_in_flight: usize,
    /// Webhooks declared here (listed by the API as coming from config).
    pub endpoints: Vec<EndpointConfig>,
}

impl Default for WebhooksConfig {
    fn default() -> WebhooksConfig {
        WebhooksConfig {
            enabled: true,
            timeout: 5,
            max_retries: 2,
            parallel_dispatch: true,
            ca_bundle: None,
            require_tls: true,
            allow_private_networks: false,
            proxy: None,
            retry_backoff: Duration::from_secs(5),
            retry_max_delay: Duration::from_secs(3600),
            retry_schedule: None,
            disable_after: 10,
            max_in_flight: 512,
            endpoints: Vec::new(),
        }
    }
}

impl WebhooksConfig {
    /// The parsed `retry_schedule`.
    pub fn schedule(&self) -> Result<Option<Vec<Duration>>> {
        self.retry_schedule
            .as_ref()
            .map(|items| {
                items
                    .iter()
                    .enumerate()
                    .map(|(i, text)| {
                        humantime::parse_duration(text).map_err(|e| {
                            Error::config(format!("webhooks.retry_schedule[{i}]"), e.to_string())
                        })
                    })
                    .collect()
            })
            .transpose()
    }
}

/// A `[[webhooks.endpoints]]` entry.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointConfig {
    /// Unique name; the webhook's id is derived from it.
    pub name: String,
    /// Destination URL.
    pub url: String,
    /// Signing secret (`${WEBHOOK_SECRET}` keeps it out of the file).
    pub secret: String,
    /// Event patterns.
    pub events: EventPatterns,
    /// Payload filters.
    #[serde(default, skip_serializing_if = "PayloadFilter::is_empty")]
    pub filters: PayloadFilter,
    /// `phlix` (default) or `standard` (Standard Webhooks).
    #[serde(default)]
    pub signature: crate::store::SignatureScheme,
    /// Retries for this webhook (defaults to `webhooks.max_retries`).
    #[serde(default)]
    pub max_retries: Option<u32>,
    /// Handlebars template for the body, for receivers that expect another
    /// JSON shape.
    #[serde(default)]
    pub body_template: Option<String>,
    /// Whether it is active.
    #[serde(default = "default_true")]
    pub active: bool,
    /// Grouping, throttling, conditions, quiet hours and fallback.
    #[serde(default, skip_serializing_if = "herald_core::rules::Rules::is_empty")]
    pub rules: herald_core::rules::Rules,
}

fn default_true() -> bool {
    true
}

/// Where the configuration came from, for messages.
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    /// The effective configuration.
    pub config: Config,
    /// The file read, if any.
    pub file: Option<PathBuf>,
}

impl LoadedConfig {
    /// The directory that holds user templates: `templates/` beside the
    /// config file.
    pub fn templates_dir(&self) -> Option<PathBuf> {
        self.file
            .as_ref()
            .and_then(|f| f.parent())
            .map(|dir| dir.join("templates"))
    }
}

/// Loads the configuration: `path` if given (it must exist), else
/// [`DEFAULT_CONFIG_PATH`] if it exists, else the defaults; then the
/// environment (`HERALD_SERVER__LISTEN`, …); then `${VAR}` substitution.
pub fn load(path: Option<&Path>) -> Result<LoadedConfig> {
    load_with_env(path, &|name| std::env::var(name).ok())
}

/// [`load`] with an explicit lookup for `${VAR}` (tests).
pub fn load_with_env(
    path: Option<&Path>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<LoadedConfig> {
    let file = match path {
        Some(p) if !p.exists() => {
            return Err(Error::Config {
                key: String::new(),
                file: Some(p.to_owned()),
                message: "the config file does not exist".into(),
            })
        }
        Some(p) => Some(p.to_owned()),
        None => Some(PathBuf::from(DEFAULT_CONFIG_PATH)).filter(|p| p.exists()),
    };
    let mut figment = Figment::from(Serialized::defaults(Config::default()));
    if let Some(file) = &file {
        figment = match file.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => figment.merge(Yaml::file_exact(file)),
            Some("toml") => figment.merge(Toml::file_exact(file)),
            _ => {
                return Err(Error::Config {
                    key: String::new(),
                    file: Some(file.clone()),
                    message: "the config file must end in .toml, .yaml or .yml".into(),
                })
            }
        };
    }
    // `HERALD_CONFIG`, `HERALD_TEST_CLOCK` and the CLI's `HERALD_URL` /
    // `HERALD_*_TOKEN` are not config keys.
    figment = figment.merge(Env::prefixed("HERALD_").split("__").ignore(&[
        "config",
        "test_clock",
        "url",
        "ingest_token",
        "admin_token",
    ]));
    let config = extract(&figment, file.as_deref())?;
    let config = substitute_env(config, &figment, file.as_deref(), lookup)?;
    validate(&config)?;
    Ok(LoadedConfig { config, file })
}

fn extract(figment: &Figment, file: Option<&Path>) -> Result<Config> {
    figment.extract::<Config>().map_err(|errors| {
        // Report the first error with its key path and where it came from.
        let error = errors.into_iter().next();
        match error {
            Some(e) => {
                let source = e
                    .metadata
                    .as_ref()
                    .and_then(|m| m.source.as_ref())
                    .map(|s| s.to_string())
                    .or_else(|| e.metadata.as_ref().map(|m| m.name.to_string()));
                Error::Config {
                    key: e.path.join("."),
                    file: source
                        .map(PathBuf::from)
                        .or_else(|| file.map(Path::to_owned)),
                    message: e.kind.to_string(),
                }
            }
            None => Error::config("", "invalid configuration"),
        }
    })
}

/// Replaces `${VAR}` in every string value; `$${` is a literal `${`.
fn substitute_env(
    config: Config,
    figment: &Figment,
    file: Option<&Path>,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Config> {
    let mut value = serde_json::to_value(&config).map_err(|e| Error::config("", e.to_string()))?;
    walk(&mut value, &mut Vec::new(), &mut |path, text| {
        expand(text, lookup).map_err(|var| {
            let key = path.join(".");
            let file = figment
                .find_metadata(&key)
                .and_then(|m| m.source.as_ref())
                .map(|s| PathBuf::from(s.to_string()))
                .or_else(|| file.map(Path::to_owned));
            Error::Config {
                key: display_path(path),
                file,
                message: format!("environment variable `{var}` is not set"),
            }
        })
    })?;
    serde_json::from_value(value).map_err(|e| Error::config("", e.to_string()))
}

fn display_path(path: &[String]) -> String {
    let mut out = String::new();
    for segment in path {
        if segment.parse::<usize>().is_ok() {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(segment);
        }
    }
    out
}

fn walk(
    value: &mut Value,
    path: &mut Vec<String>,
    f: &mut dyn FnMut(&[String], &str) -> Result<String>,
) -> Result<()> {
    match value {
        Value::String(text) if text.contains('$') => *text = f(path, text)?,
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                path.push(i.to_string());
                walk(item, path, f)?;
                path.pop();
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                path.push(key.clone());
                walk(item, path, f)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

/// Expands `${VAR}`; returns the name of the first missing variable.
pub fn expand(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('$') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        if let Some(after) = tail.strip_prefix("$${") {
            out.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let Some(end) = after.find('}') else {
                out.push_str(tail);
                rest = "";
                break;
            };
            let name = &after[..end];
            out.push_str(&lookup(name).ok_or_else(|| name.to_owned())?);
            rest = &after[end + 1..];
        } else {
            out.push('$');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn validate(config: &Config) -> Result<()> {
    if config.webhooks.timeout == 0 {
        return Err(Error::config(
            "webhooks.timeout",
            "must be at least 1 second",
        ));
    }
    if config.webhooks.max_in_flight == 0 {
        return Err(Error::config(
            "webhooks.max_in_flight",
            "must be at least 1",
        ));
    }
    config.webhooks.schedule()?;
    if let Some(path) = &config.webhooks.ca_bundle {
        load_ca_bundle(path)?;
    }
    if let Some(proxy) = &config.webhooks.proxy {
        reqwest::Proxy::all(proxy)
            .map_err(|e| Error::config("webhooks.proxy", format!("invalid proxy URL: {e}")))?;
    }
    let mut names = BTreeMap::new();
    for (i, endpoint) in config.webhooks.endpoints.iter().enumerate() {
        if names.insert(endpoint.name.clone(), i).is_some() {
            return Err(Error::config(
                format!("webhooks.endpoints[{i}].name"),
                format!("`{}` is used twice", endpoint.name),
            ));
        }
    }
    let mut source_names = BTreeMap::new();
    let mut source_tokens = BTreeMap::new();
    for (i, source) in config.sources.iter().enumerate() {
        if source_names.insert(source.name.clone(), i).is_some() {
            return Err(Error::config(
                format!("sources[{i}].name"),
                format!("`{}` is used twice", source.name),
            ));
        }
        if source.token.len() < 16
            || !source
                .token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(Error::config(
                format!("sources[{i}].token"),
                "must be at least 16 characters of letters, digits, `-` or `_` (it is part of a URL)",
            ));
        }
        if source_tokens.insert(source.token.clone(), i).is_some() {
            return Err(Error::config(
                format!("sources[{i}].token"),
                "is already used by another source",
            ));
        }
    }
    let mut plugin_names = BTreeMap::new();
    for (i, plugin) in config.plugins.iter().enumerate() {
        if plugin_names.insert(plugin.name.clone(), i).is_some() {
            return Err(Error::config(
                format!("plugins[{i}].name"),
                format!("`{}` is used twice", plugin.name),
            ));
        }
    }
    // Rules: each part valid, and every fallback names a destination.
    let destinations: Vec<(String, &herald_core::rules::Rules)> = config
        .webhooks
        .endpoints
        .iter()
        .enumerate()
        .map(|(i, e)| (format!("webhooks.endpoints[{i}]"), &e.rules))
        .chain(
            config
                .plugins
                .iter()
                .enumerate()
                .map(|(i, p)| (format!("plugins[{i}]"), &p.rules)),
        )
        .collect();
    for (prefix, rules) in destinations {
        rules.validate().map_err(|e| match e {
            herald_core::Error::InvalidEvent { field, message } => {
                Error::config(format!("{prefix}.{field}"), message)
            }
            other => Error::config(format!("{prefix}.rules"), other.to_string()),
        })?;
        if let Some(fallback) = &rules.fallback {
            if !names.contains_key(fallback) && !plugin_names.contains_key(fallback) {
                return Err(Error::config(
                    format!("{prefix}.rules.fallback"),
                    format!("no webhook endpoint or plugin is named `{fallback}`"),
                ));
            }
        }
    }
    Ok(())
}

/// Reads `webhooks.ca_bundle`: a PEM file holding at least one valid
/// certificate; errors name the key and the cause.
pub fn load_ca_bundle(path: &Path) -> Result<Vec<reqwest::Certificate>> {
    let key = "webhooks.ca_bundle";
    let pem = std::fs::read(path)
        .map_err(|e| Error::config(key, format!("cannot read {}: {e}", path.display())))?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| Error::config(key, format!("not a PEM bundle: {}", error_chain(&e))))?;
    if certificates.is_empty() {
        return Err(Error::config(
            key,
            format!("{} holds no certificate", path.display()),
        ));
    }
    // reqwest parses a certificate's content only when a client is built.
    for certificate in &certificates {
        reqwest::Client::builder()
            .add_root_certificate(certificate.clone())
            .build()
            .map_err(|e| {
                Error::config(key, format!("not a valid certificate: {}", error_chain(&e)))
            })?;
    }
    Ok(certificates)
}

/// An error and its causes on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Setting names whose values are secrets wherever they appear.
const SECRET_KEYS: &[&str] = &[
    "admin_token",
    "ingest_token",
    "metrics_token",
    "secret",
    "password",
    "token",
];

/// The configuration as JSON with every secret replaced by `"<redacted>"`:
/// the well-known keys, each plugin kind's registered secret keys, and
/// credentials inside URLs.
pub fn redacted(config: &Config, registry: &herald_core::Registry) -> Value {
    let mut value = serde_json::to_value(config).unwrap_or(Value::Null);
    redact_keys(&mut value, SECRET_KEYS);
    redact_url_credentials(&mut value);
    if let Some(plugins) = value.get_mut("plugins").and_then(Value::as_array_mut) {
        for plugin in plugins {
            let keys = plugin
                .get("kind")
                .and_then(Value::as_str)
                .and_then(|kind| registry.get(kind).ok())
                .map(|r| r.secret_keys)
                .unwrap_or(&[]);
            redact_keys(plugin, keys);
        }
    }
    value
}

fn redact_keys(value: &mut Value, keys: &[&str]) {
    match value {
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                if keys.contains(&key.as_str()) && !item.is_null() {
                    *item = Value::String("<redacted>".into());
                } else {
                    redact_keys(item, keys);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| redact_keys(i, keys)),
        _ => {}
    }
}

fn redact_url_credentials(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let Ok(mut url) = reqwest::Url::parse(text) {
                if !url.username().is_empty() || url.password().is_some() {
                    let _ = url.set_username("<redacted>");
                    let _ = url.set_password(None);
                    *text = url.to_string();
                }
            }
        }
        Value::Object(map) => map.values_mut().for_each(redact_url_credentials),
        Value::Array(items) => items.iter_mut().for_each(redact_url_credentials),
        _ => {}
    }
}
