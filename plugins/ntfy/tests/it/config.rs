//! Config validation: every error names the key at fault.

use serde_json::json;

use crate::build;

fn error_of(settings: serde_json::Value) -> String {
    herald_core::testing::build_error(herald_ntfy::KIND, settings)
}

#[test]
fn the_registry_has_the_ntfy_kind_with_its_secret_keys() {
    let registry = herald_core::Registry::from_inventory().unwrap();
    assert!(registry.kinds().contains(&"ntfy"));
    assert_eq!(
        registry.get("ntfy").unwrap().secret_keys,
        &["token", "password"]
    );
}

#[test]
fn errors_name_the_key() {
    let cases = [
        (json!({}), "`topic`"),
        (json!({"topic": "a b"}), "`topic`"),
        (json!({"topic": "x".repeat(65)}), "`topic`"),
        (json!({"topic": "t", "server": "ntfy.sh"}), "`server`"),
        (
            json!({"topic": "t", "priorities": {"playback.started": 6}}),
            "`priorities.playback.started`",
        ),
        (
            json!({"topic": "t", "priorities": {"default": 0}}),
            "`priorities.default`",
        ),
        (
            json!({"topic": "t", "priorities": {"Playback": 3}}),
            "`priorities.Playback`",
        ),
        (
            json!({"topic": "t", "priorities": {"default": "high"}}),
            "`priorities.default`",
        ),
        (
            json!({"topic": "t", "tags": {"default": ["a,b"]}}),
            "`tags.default`",
        ),
        (json!({"topic": "t", "click": "/relative"}), "`click`"),
        (
            json!({"topic": "t", "click": "https://x/{bad key}"}),
            "`click`",
        ),
        (
            json!({"topic": "t", "token": "tk_x", "username": "u"}),
            "`token`",
        ),
        (json!({"topic": "t", "username": "u"}), "`password`"),
        (json!({"topic": "t", "password": "p"}), "`username`"),
        (json!({"topic": "t", "image": "poster"}), "`image`"),
        (json!({"topic": "t", "colour": "red"}), "`colour`"),
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
fn template_errors_name_the_template_key() {
    let mut config = crate::plugin_config(json!({"topic": "t"}));
    config
        .templates
        .insert("playback.started".into(), "{{#if}}".into());
    let error = herald_ntfy::Ntfy::from_config(&config)
        .unwrap_err()
        .to_string();
    assert!(error.contains("templates.playback.started"), "{error}");
}

#[test]
fn secrets_are_not_in_debug_output() {
    let plugin = build(json!({"topic": "t", "token": "tk_s3cr3t"})).unwrap();
    let config =
        crate::plugin_config(json!({"topic": "t", "username": "u", "password": "pw-s3cr3t"}));
    let settings = herald_ntfy::NtfyConfig::from_plugin_config(&config).unwrap();
    let plugin2 = herald_ntfy::Ntfy::from_config(&config).unwrap();
    for text in [format!("{settings:?}"), format!("{plugin2:?}")] {
        assert!(!text.contains("s3cr3t"), "{text}");
    }
    drop(plugin);
}
