//! # herald-mqtt
//!
//! Publishes Herald events to an MQTT broker: by default the event's JSON to
//! `herald/events/<event name>` with QoS 1.
//!
//! The key design decision: an event counts as delivered only when the
//! broker says so. Each instance keeps one long-lived connection (started on
//! the first delivery, since building an instance is synchronous) whose
//! event loop matches PUBACK/PUBCOMP to the waiting publish; a publish not
//! acknowledged within the host's delivery timeout, or attempted while the
//! broker is unreachable, is reported as `Retry`, and the host's durable
//! queue sends it again later. Nothing is lost while the broker is down; a
//! subscriber may see a message twice (QoS 1 is "at least once"). QoS 0
//! publishes count as delivered once written to a connected client.
//!
//! The connection announces itself with a retained `online` on the status
//! topic (default `herald/status`) at every (re)connection, and registers a
//! retained `offline` last will that the broker publishes when Herald goes
//! away without saying goodbye.
//!
//! Needs a tokio runtime at delivery time (the host's).
#![deny(missing_docs)]

pub mod client;
pub mod config;
pub mod payload;

use std::io::BufReader;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use herald_core::{
    async_trait, DeliveryContext, DeliveryReport, Event, Message, NotificationPlugin, PluginConfig,
    Result,
};
use rumqttc::tokio_rustls::rustls;
use rumqttc::{LastWill, MqttOptions, QoS, TlsConfiguration, Transport};

use crate::client::{Connection, OnConnect};
pub use crate::config::MqttConfig;
use crate::config::TlsConfig;
use crate::payload::{Formatter, TopicTemplate};

/// The registered kind.
pub const KIND: &str = "mqtt";

/// Extra room given to rumqttc's own packet size check, so that only
/// [`MqttConfig::max_packet_size`] (checked before a publish is handed to
/// the client) ever refuses a publish.
const PACKET_SIZE_SLACK: usize = 1024;

herald_core::register_plugin! {
    herald_core::PluginRegistration {
        kind: KIND,
        summary: "MQTT publishes (event JSON to a topic template), with broker acknowledgements",
        secret_keys: &["password"],
        build: |config| Ok(Box::new(Mqtt::from_config(config)?)),
    }
}

/// An `mqtt` instance.
pub struct Mqtt {
    formatter: Formatter,
    options: MqttOptions,
    on_connect: Option<OnConnect>,
    reconnect_max: Duration,
    max_packet_size: usize,
    connection: OnceLock<Connection>,
}

impl std::fmt::Debug for Mqtt {
    // `MqttOptions`' own Debug prints the credentials: not used here.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (host, port) = self.options.broker_address();
        f.debug_struct("Mqtt")
            .field("broker", &format!("{host}:{port}"))
            .field("client_id", &self.options.client_id())
            .field("formatter", &self.formatter)
            .finish_non_exhaustive()
    }
}

impl Mqtt {
    /// Builds an instance from its config entry. Errors name the key; TLS
    /// files are read and checked here.
    pub fn from_config(config: &PluginConfig) -> Result<Mqtt> {
        let settings = MqttConfig::from_plugin_config(config)?;
        // Payload templates: only overrides are used (the built-in default
        // is never rendered: without an override the payload is the JSON).
        let templates = if config.templates.is_empty() {
            None
        } else {
            Some(std::sync::Arc::new(herald_core::template::Templates::new(
                config,
                &[("default", "{{event}}")],
                herald_core::template::Markup::Plain,
            )?))
        };
        let key_error = |key: &str, message: &str| config.error(format!("`{key}`: {message}"));

        if settings.host.trim().is_empty() {
            return Err(key_error("host", "must not be empty"));
        }
        if qos(settings.qos).is_none() {
            return Err(key_error(
                "qos",
                &format!("must be 0, 1 or 2, got {}", settings.qos),
            ));
        }
        let topic = TopicTemplate::parse(&settings.topic).map_err(|e| key_error("topic", &e))?;
        if settings.max_packet_size < 1024 {
            return Err(key_error("max_packet_size", "must be at least 1024 bytes"));
        }
        if settings.keep_alive_secs == 0 {
            return Err(key_error("keep_alive_secs", "must be at least 1"));
        }
        if !settings.status_topic.is_empty() {
            TopicTemplate::parse(&settings.status_topic)
                .ok()
                .filter(|_| !settings.status_topic.contains(['{', '}']))
                .ok_or_else(|| {
                    key_error(
                        "status_topic",
                        "must be a plain topic without wildcards or placeholders",
                    )
                })?;
        }

        let client_id = settings
            .client_id
            .clone()
            .unwrap_or_else(|| format!("herald-{}", config.name));
        if client_id.is_empty() {
            return Err(key_error("client_id", "must not be empty"));
        }
        let port = settings
            .port
            .unwrap_or(if settings.tls.is_some() { 8883 } else { 1883 });
        let mut options = MqttOptions::new(client_id, settings.host.trim(), port);
        options
            .set_keep_alive(Duration::from_secs(settings.keep_alive_secs))
            .set_clean_session(true)
            .set_max_packet_size(
                settings.max_packet_size + PACKET_SIZE_SLACK,
                settings.max_packet_size + PACKET_SIZE_SLACK,
            );
        match (&settings.username, &settings.password) {
            (Some(user), password) => {
                options.set_credentials(user.clone(), password.clone().unwrap_or_default());
            }
            (None, Some(_)) => return Err(key_error("password", "needs `username`")),
            (None, None) => {}
        }
        if let Some(tls) = &settings.tls {
            options.set_transport(tls_transport(tls, config)?);
        }
        let on_connect = if settings.status_topic.is_empty() {
            None
        } else {
            let offline = payload::status(&settings.status_topic, false);
            options.set_last_will(LastWill::new(
                offline.topic,
                offline.payload,
                QoS::AtLeastOnce,
                true,
            ));
            let online = payload::status(&settings.status_topic, true);
            Some(OnConnect {
                topic: online.topic,
                payload: online.payload,
            })
        };
        Ok(Mqtt {
            formatter: Formatter {
                templates,
                topic,
                qos: settings.qos,
                retain: settings.retain,
            },
            options,
            on_connect,
            reconnect_max: Duration::from_secs(settings.reconnect_max_secs),
            max_packet_size: settings.max_packet_size,
            connection: OnceLock::new(),
        })
    }

    /// The connection, started on first use (needs a tokio runtime).
    fn connection(&self) -> &Connection {
        self.connection.get_or_init(|| {
            Connection::spawn(
                self.options.clone(),
                self.on_connect.clone(),
                self.reconnect_max,
            )
        })
    }
}

#[async_trait]
impl NotificationPlugin for Mqtt {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn format(&self, event: &Event) -> Result<Message> {
        self.formatter.format(event).map(Message::Publish)
    }

    async fn deliver(&self, message: &Message, ctx: &DeliveryContext) -> DeliveryReport {
        let Message::Publish(publish) = message else {
            return DeliveryReport::reject("the MQTT plugin only delivers publish messages");
        };
        let Some(qos) = qos(publish.qos) else {
            return DeliveryReport::reject(format!("invalid QoS {}", publish.qos));
        };
        let size = packet_size(&publish.topic, publish.payload.len(), qos);
        if size > self.max_packet_size {
            return DeliveryReport::reject(format!(
                "publish of {size} bytes exceeds max_packet_size ({} bytes)",
                self.max_packet_size
            ));
        }
        let deadline = tokio::time::Instant::now() + ctx.timeout;
        let sent = self
            .connection()
            .send(
                &publish.topic,
                publish.payload.as_bytes(),
                qos,
                publish.retain,
                deadline,
            )
            .await;
        match sent {
            Ok(()) => DeliveryReport::delivered(),
            Err(failure) => DeliveryReport::retry(failure.0, None),
        }
    }
}

/// The QoS of a level number.
fn qos(level: u8) -> Option<QoS> {
    match level {
        0 => Some(QoS::AtMostOnce),
        1 => Some(QoS::AtLeastOnce),
        2 => Some(QoS::ExactlyOnce),
        _ => None,
    }
}

/// Size of a PUBLISH packet on the wire (fixed header, topic, packet id,
/// payload).
pub fn packet_size(topic: &str, payload_len: usize, qos: QoS) -> usize {
    let remaining = 2 + topic.len() + payload_len + if qos == QoS::AtMostOnce { 0 } else { 2 };
    let length_bytes = match remaining {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    };
    1 + length_bytes + remaining
}

/// The TLS transport, with every file read and parsed now so that a bad
/// path or PEM is a config error naming its key.
fn tls_transport(tls: &TlsConfig, config: &PluginConfig) -> Result<Transport> {
    let read = |key: &str, path: &std::path::Path| {
        std::fs::read(path)
            .map_err(|e| config.error(format!("`tls.{key}`: cannot read {}: {e}", path.display())))
    };
    let certs = |key: &str, path: &std::path::Path| {
        let pem = read(key, path)?;
        let certs = rustls_pemfile::certs(&mut BufReader::new(pem.as_slice()))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| config.error(format!("`tls.{key}`: invalid PEM: {e}")))?;
        if certs.is_empty() {
            return Err(config.error(format!("`tls.{key}`: no certificate in {}", path.display())));
        }
        Ok(certs)
    };

    let mut roots = rustls::RootCertStore::empty();
    match &tls.ca_file {
        Some(path) => {
            let (added, _) = roots.add_parsable_certificates(certs("ca_file", path)?);
            if added == 0 {
                return Err(config.error("`tls.ca_file`: no usable CA certificate"));
            }
        }
        None => {
            let native = rustls_native_certs::load_native_certs().map_err(|e| {
                config.error(format!(
                    "`tls.ca_file`: not set and the system CA certificates cannot be loaded: {e}"
                ))
            })?;
            roots.add_parsable_certificates(native);
            if roots.is_empty() {
                return Err(
                    config.error("`tls.ca_file`: not set and the system has no CA certificates")
                );
            }
        }
    }
    let builder = rustls::ClientConfig::builder().with_root_certificates(roots);
    let client_config = match (&tls.client_cert_file, &tls.client_key_file) {
        (Some(cert_path), Some(key_path)) => {
            let chain = certs("client_cert_file", cert_path)?;
            let pem = read("client_key_file", key_path)?;
            let key = rustls_pemfile::private_key(&mut BufReader::new(pem.as_slice()))
                .map_err(|e| config.error(format!("`tls.client_key_file`: invalid PEM: {e}")))?
                .ok_or_else(|| {
                    config.error(format!(
                        "`tls.client_key_file`: no private key in {}",
                        key_path.display()
                    ))
                })?;
            builder.with_client_auth_cert(chain, key).map_err(|e| {
                config.error(format!(
                    "`tls.client_key_file`: does not fit the client certificate: {e}"
                ))
            })?
        }
        (None, None) => builder.with_no_client_auth(),
        (Some(_), None) => {
            return Err(config.error("`tls.client_key_file`: required with `tls.client_cert_file`"))
        }
        (None, Some(_)) => {
            return Err(config.error("`tls.client_cert_file`: required with `tls.client_key_file`"))
        }
    };
    Ok(Transport::tls_with_config(TlsConfiguration::Rustls(
        Arc::new(client_config),
    )))
}
