//! `format` is pure: the topic names the program, the payload is the event
//! JSON; and the `HERALD_…` environment.

use herald_core::{Message, NotificationPlugin, Publish};
use herald_exec::Exec;
use serde_json::json;

use crate::{config, episode_started};

#[test]
fn format_is_a_publish_of_the_event_json_to_the_program() {
    let exec = Exec::new(&config(json!({"command": "/usr/local/bin/notify"}))).unwrap();
    let event = episode_started();
    let message = exec.format(&event).unwrap();
    assert_eq!(
        message,
        Message::Publish(Publish {
            topic: "exec:/usr/local/bin/notify".into(),
            payload: String::from_utf8(event.to_json_bytes()).unwrap(),
            qos: 0,
            retain: false,
        })
    );
    // Pure: the same message every time.
    assert_eq!(exec.format(&event).unwrap(), message);
}

#[test]
fn environment_has_the_main_fields_and_every_scalar_data_field() {
    let exec = Exec::new(&config(json!({"command": "true"}))).unwrap();
    let vars = exec.environment(&episode_started()).unwrap();
    let get = |name: &str| {
        vars.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("HERALD_EVENT"), Some("playback.started"));
    assert_eq!(
        get("HERALD_EVENT_ID"),
        Some("evt_01HZY0000000000000000000AA")
    );
    assert_eq!(get("HERALD_TIMESTAMP"), Some("2026-01-31T12:00:00Z"));
    assert_eq!(get("HERALD_SOURCE"), Some("jellyfin-home"));
    assert_eq!(get("HERALD_USER"), Some("Alice"));
    assert_eq!(get("HERALD_USER_ID"), Some("u1"));
    assert_eq!(get("HERALD_TITLE"), Some("The Expanse S02E05 'Home'"));
    assert_eq!(get("HERALD_SEASON"), Some("2"));
    assert_eq!(get("HERALD_DEVICE"), Some("Living Room TV"));
    assert_eq!(
        get("HERALD_MESSAGE"),
        Some("Alice started The Expanse S02E05 'Home' on Living Room TV")
    );
    assert_eq!(get("HERALD_DATA_MEDIA_ITEM_ID"), Some("m1"));
    assert_eq!(get("HERALD_DATA_CUSTOM_KEY"), Some("x"));
    // Objects and arrays only travel on stdin.
    assert_eq!(get("HERALD_DATA_NESTED"), None);
    // Absent values are not set at all.
    assert_eq!(get("HERALD_IMAGE_URL"), None);
    let mut names: Vec<_> = vars.iter().map(|(k, _)| k.clone()).collect();
    let sorted = names.clone();
    names.dedup();
    assert_eq!(names, sorted, "sorted, no duplicates");
}

#[test]
fn message_template_can_be_overridden() {
    let mut cfg = config(json!({"command": "true"}));
    cfg.templates
        .insert("default".into(), "{{event}} for {{user}}".into());
    let exec = Exec::new(&cfg).unwrap();
    let vars = exec.environment(&episode_started()).unwrap();
    assert!(vars.contains(&("HERALD_MESSAGE".into(), "playback.started for Alice".into())));
}

#[test]
fn settings_errors_name_the_key() {
    let error = |settings| Exec::new(&config(settings)).unwrap_err().to_string();
    assert!(error(json!({})).contains("command"), "{}", error(json!({})));
    assert!(error(json!({"command": " "})).contains("`command`"));
    assert!(error(json!({"command": "x", "retry_exit_codes": [0]})).contains("retry_exit_codes"));
    assert!(error(json!({"command": "x", "timeout": "0s"})).contains("timeout"));
    assert!(error(json!({"command": "x", "timeout": "soon"})).contains("timeout"));
    assert!(error(json!({"command": "x", "env": {"A B": "1"}})).contains("env.A B"));
    assert!(error(json!({"command": "x", "env": {"HERALD_X": "1"}})).contains("HERALD_X"));
    assert!(error(json!({"command": "x", "colour": "red"})).contains("colour"));
}

#[test]
fn env_values_are_never_in_debug_output() {
    let exec = Exec::new(&config(
        json!({"command": "x", "env": {"API_KEY": "s3cr3t-value"}}),
    ))
    .unwrap();
    let debug = format!("{exec:?}");
    assert!(
        debug.contains("API_KEY") && !debug.contains("s3cr3t-value"),
        "{debug}"
    );
}
