//! Config validation: every error names the key at fault.

use serde_json::json;

use crate::build;

fn error_of(settings: serde_json::Value) -> String {
    herald_core::testing::build_error(herald_mqtt::KIND, settings)
}

#[test]
fn the_registry_has_the_mqtt_kind_with_its_secret_keys() {
    let registry = herald_core::Registry::from_inventory().unwrap();
    assert!(registry.kinds().contains(&"mqtt"));
    let registration = registry.get("mqtt").unwrap();
    assert_eq!(registration.secret_keys, &["password"]);
}

#[test]
fn defaults_build() {
    build(json!({"host": "broker.lan"})).unwrap();
}

#[test]
fn errors_name_the_key() {
    let cases = [
        (json!({}), "`host`"),
        (json!({"host": ""}), "`host`"),
        (json!({"host": "h", "qos": 3}), "`qos`"),
        (json!({"host": "h", "topic": "a/+/b"}), "`topic`"),
        (json!({"host": "h", "topic": "a/#"}), "`topic`"),
        (json!({"host": "h", "topic": "a/{user id}"}), "`topic`"),
        (json!({"host": "h", "topic": "a/{event"}), "`topic`"),
        (json!({"host": "h", "topic": ""}), "`topic`"),
        (
            json!({"host": "h", "status_topic": "s/{event}"}),
            "`status_topic`",
        ),
        (json!({"host": "h", "password": "p"}), "`password`"),
        (
            json!({"host": "h", "max_packet_size": 10}),
            "`max_packet_size`",
        ),
        (
            json!({"host": "h", "keep_alive_secs": 0}),
            "`keep_alive_secs`",
        ),
        (json!({"host": "h", "client_id": ""}), "`client_id`"),
        (json!({"host": "h", "qos": "one"}), "`qos`"),
        (json!({"host": "h", "colour": "red"}), "`colour`"),
        (
            json!({"host": "h", "tls": {"ca_file": "/nonexistent/ca.pem"}}),
            "`tls.ca_file`",
        ),
        (
            json!({"host": "h", "tls": {"cafile": "x"}}),
            "`tls.cafile`: unknown field",
        ),
        (
            json!({"host": "h", "tls": {"client_cert_file": "/nonexistent/c.pem"}}),
            "`tls.client_key_file`",
        ),
    ];
    for (settings, key) in cases {
        let error = error_of(settings.clone());
        assert!(
            error.contains(key),
            "{settings}: `{error}` does not name {key}"
        );
        assert!(error.contains("plugin `test`"), "{error}");
    }
}

#[test]
fn template_overrides_replace_the_json_payload_of_their_events_only() {
    use herald_core::NotificationPlugin;
    let mut config = crate::plugin_config(json!({"host": "h"}));
    config.templates.insert(
        "playback.started".into(),
        "{{user}} started {{display_title}} & more".into(),
    );
    let mqtt = herald_mqtt::Mqtt::from_config(&config).unwrap();
    let data = |v: serde_json::Value| v.as_object().unwrap().clone();
    let started = herald_core::Event::new(
        herald_core::EventKind::parse("playback.started").unwrap(),
        data(json!({"media_item_id": "m", "user_name": "Alice", "title": "Dune", "year": 2021})),
    );
    let herald_core::Message::Publish(publish) = mqtt.format(&started).unwrap() else {
        panic!("not a publish")
    };
    assert_eq!(publish.payload, "Alice started Dune (2021) & more");
    let other = herald_core::Event::new(
        herald_core::EventKind::parse("app.ping").unwrap(),
        data(json!({})),
    );
    let herald_core::Message::Publish(publish) = mqtt.format(&other).unwrap() else {
        panic!("not a publish")
    };
    assert_eq!(publish.payload.as_bytes(), other.to_json_bytes());
}

#[test]
fn a_broken_template_is_named_at_build() {
    let mut config = crate::plugin_config(json!({"host": "h"}));
    config.templates.insert("default".into(), "{{#if}}".into());
    let error = herald_mqtt::Mqtt::from_config(&config)
        .unwrap_err()
        .to_string();
    assert!(error.contains("default"), "{error}");
}

#[test]
fn a_ca_file_without_certificates_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ca.pem");
    std::fs::write(&path, "not a certificate").unwrap();
    let error = error_of(json!({"host": "h", "tls": {"ca_file": path}}));
    assert!(error.contains("`tls.ca_file`"), "{error}");
}

#[test]
fn the_password_is_not_in_debug_output() {
    let config = crate::plugin_config(json!({"host": "h", "username": "u", "password": "s3cr3t"}));
    let settings: herald_mqtt::MqttConfig = config.settings().unwrap();
    assert!(!format!("{settings:?}").contains("s3cr3t"));
    let plugin = herald_mqtt::Mqtt::from_config(&config).unwrap();
    assert!(!format!("{plugin:?}").contains("s3cr3t"));
}
