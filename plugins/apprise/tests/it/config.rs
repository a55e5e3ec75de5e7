//! Config validation: every error names the key at fault, never a URL.

use serde_json::json;

fn error_of(settings: serde_json::Value) -> String {
    herald_core::testing::build_error(herald_apprise::KIND, settings)
}

#[test]
fn the_registry_has_the_apprise_kind_with_its_secret_keys() {
    let registry = herald_core::Registry::from_inventory().unwrap();
    assert!(registry.kinds().contains(&"apprise"));
    assert_eq!(registry.get("apprise").unwrap().secret_keys, &["urls"]);
}

#[test]
fn errors_name_the_key() {
    let secret = "tgram://123456:S3CR3T/987";
    let cases = [
        (json!({"key": "k"}), "`server`"),
        (json!({"server": "apprise:8000", "key": "k"}), "`server`"),
        (json!({"server": "http://a"}), "`key`"),
        (
            json!({"server": "http://a", "key": "k", "urls": [secret]}),
            "`urls`",
        ),
        (json!({"server": "http://a", "key": "a/b"}), "`key`"),
        (json!({"server": "http://a", "urls": []}), "`urls`"),
        (
            json!({"server": "http://a", "urls": [secret, "S3CR3T, no scheme"]}),
            "`urls[1]`",
        ),
        (
            json!({"server": "http://a", "urls": [secret], "tag": "t"}),
            "`tag`",
        ),
        (
            json!({"server": "http://a", "key": "k", "tag": " "}),
            "`tag`",
        ),
        (
            json!({"server": "http://a", "key": "k", "format": "rst"}),
            "`format`",
        ),
        (
            json!({"server": "http://a", "key": "k", "types": {"default": "fatal"}}),
            "`types.default`",
        ),
        (
            json!({"server": "http://a", "key": "k", "types": {"Nope": "info"}}),
            "`types.Nope`",
        ),
        (
            json!({"server": "http://a", "key": "k", "colour": "red"}),
            "`colour`",
        ),
    ];
    for (settings, key) in cases {
        let error = error_of(settings.clone());
        assert!(
            error.contains(key),
            "{settings}: `{error}` does not name {key}"
        );
        assert!(error.contains("plugin `test`"), "{error}");
        assert!(!error.contains("S3CR3T"), "{error}");
    }
}

#[test]
fn urls_are_not_in_debug_output() {
    let plugin = herald_apprise::Apprise::from_config(&crate::plugin_config(
        json!({"server": "http://a", "urls": ["tgram://123456:S3CR3T/987"]}),
    ))
    .unwrap();
    let text = format!("{plugin:?}");
    assert!(!text.contains("S3CR3T"), "{text}");
}
