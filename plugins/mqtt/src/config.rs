//! The `[[plugins]]` settings of an `mqtt` instance.
//!
//! ```toml
//! [[plugins]]
//! kind = "mqtt"
//! name = "home-broker"
//! host = "mqtt.lan"
//! username = "herald"
//! password = "…"
//! topic = "herald/events/{event}"
//! qos = 1
//! ```

use std::fmt;
use std::path::PathBuf;

use herald_core::PluginConfig;
use serde::Deserialize;

impl MqttConfig {
    /// Reads the instance's settings; errors name the instance and the key
    /// (`` `qos`: invalid type… ``), unknown keys included.
    pub fn from_plugin_config(config: &PluginConfig) -> herald_core::Result<MqttConfig> {
        config.settings()
    }
}

/// Settings of one MQTT instance. Every key but `host` has a default.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Broker host name or IP address.
    pub host: String,
    /// Broker port. Defaults to 1883, or 8883 when `tls` is set.
    #[serde(default)]
    pub port: Option<u16>,
    /// MQTT client id; must be unique on the broker. Defaults to
    /// `herald-<instance name>`.
    #[serde(default)]
    pub client_id: Option<String>,
    /// User name, when the broker requires a login.
    #[serde(default)]
    pub username: Option<String>,
    /// Password (a secret: redacted by `check-config`, never logged).
    #[serde(default)]
    pub password: Option<String>,
    /// TLS settings; the connection is plain TCP when absent.
    #[serde(default)]
    pub tls: Option<TlsConfig>,
    /// Topic template. `{event}`, `{id}` and `{source}` are replaced by the
    /// event's name, id and source, any other `{key}` by the event's `data`
    /// field of that name (`{user_id}`, `{media_item_id}`, …); a missing
    /// value becomes `unknown`, and `/`, `+` and `#` in values become `_` so
    /// a value can never change the topic's levels.
    #[serde(default = "default_topic")]
    pub topic: String,
    /// Quality of service of event publishes: 0 (at most once), 1 (at least
    /// once, the default) or 2 (exactly once). With 1 and 2 an event counts
    /// as delivered only once the broker acknowledged it.
    #[serde(default = "default_qos")]
    pub qos: u8,
    /// Whether the broker keeps each event publish as its topic's last value.
    #[serde(default)]
    pub retain: bool,
    /// Topic of the retained `online`/`offline` status (the last will); an
    /// empty string disables the status messages.
    #[serde(default = "default_status_topic")]
    pub status_topic: String,
    /// Keep-alive interval in seconds: how fast the broker notices that
    /// Herald is gone and publishes `offline`.
    #[serde(default = "default_keep_alive_secs")]
    pub keep_alive_secs: u64,
    /// Longest wait between reconnection attempts, in seconds (the wait
    /// doubles from 0.1 s up to this).
    #[serde(default = "default_reconnect_max_secs")]
    pub reconnect_max_secs: u64,
    /// Largest publish packet, in bytes; larger events are rejected rather
    /// than retried forever. Should not exceed the broker's own limit
    /// (Mosquitto's `message_size_limit`).
    #[serde(default = "default_max_packet_size")]
    pub max_packet_size: usize,
}

// Hand-written so that the password never reaches a log line.
impl fmt::Debug for MqttConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MqttConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("topic", &self.topic)
            .field("qos", &self.qos)
            .field("retain", &self.retain)
            .field("status_topic", &self.status_topic)
            .field("keep_alive_secs", &self.keep_alive_secs)
            .field("reconnect_max_secs", &self.reconnect_max_secs)
            .field("max_packet_size", &self.max_packet_size)
            .finish()
    }
}

/// TLS settings. With none of the files set, the broker's certificate is
/// checked against the system's CA certificates.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file of the CA certificate(s) that signed the broker's
    /// certificate, instead of the system's.
    #[serde(default)]
    pub ca_file: Option<PathBuf>,
    /// PEM file of a client certificate, for brokers that require one
    /// (`require_certificate true`); needs `client_key_file`.
    #[serde(default)]
    pub client_cert_file: Option<PathBuf>,
    /// PEM file of the client certificate's private key (PKCS#8, PKCS#1 or
    /// SEC1).
    #[serde(default)]
    pub client_key_file: Option<PathBuf>,
}

fn default_topic() -> String {
    "herald/events/{event}".into()
}

fn default_qos() -> u8 {
    1
}

fn default_status_topic() -> String {
    "herald/status".into()
}

fn default_keep_alive_secs() -> u64 {
    30
}

fn default_reconnect_max_secs() -> u64 {
    30
}

fn default_max_packet_size() -> usize {
    256 * 1024
}
