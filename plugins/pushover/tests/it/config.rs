//! Config validation: every error names the key at fault, never a secret.

use serde_json::json;

use crate::build;
use crate::server::{TOKEN, USER};

fn error_of(settings: serde_json::Value) -> String {
    herald_core::testing::build_error(herald_pushover::KIND, settings)
}

#[test]
fn the_registry_has_the_pushover_kind_with_its_secret_keys() {
    let registry = herald_core::Registry::from_inventory().unwrap();
    assert!(registry.kinds().contains(&"pushover"));
    assert_eq!(
        registry.get("pushover").unwrap().secret_keys,
        &["token", "user"]
    );
}

#[test]
fn errors_name_the_key() {
    let base = |extra: serde_json::Value| {
        let mut settings = json!({"token": TOKEN, "user": USER});
        settings
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        settings
    };
    let cases = [
        (json!({"user": USER}), "`token`"),
        (json!({"token": TOKEN}), "`user`"),
        (base(json!({"token": "short"})), "`token`"),
        (
            base(json!({"user": "has spaces in it, thirty chars"})),
            "`user`",
        ),
        (
            base(json!({"priorities": {"default": 3}})),
            "`priorities.default`",
        ),
        (
            base(json!({"priorities": {"playback.started": -3}})),
            "`priorities.playback.started`",
        ),
        (base(json!({"priorities": {"Bad": 0}})), "`priorities.Bad`"),
        (
            base(json!({"priorities": {"library.updated": 2}})),
            "`retry`",
        ),
        (
            base(json!({"priorities": {"library.updated": 2}, "retry": 60})),
            "`expire`",
        ),
        (
            base(json!({"priorities": {"default": 2}, "retry": 10, "expire": 60})),
            "`retry`",
        ),
        (
            base(json!({"priorities": {"default": 2}, "retry": 30, "expire": 10801})),
            "`expire`",
        ),
        (base(json!({"url": "not a url"})), "`url`"),
        (
            base(json!({"url": "https://x", "url_title": "x".repeat(101)})),
            "`url_title`",
        ),
        (base(json!({"url_title": "Open"})), "`url_title`"),
        (base(json!({"device": "my phone"})), "`device`"),
        (base(json!({"api_base": "api.pushover.net"})), "`api_base`"),
        (base(json!({"html": "yes"})), "`html`"),
        (base(json!({"colour": "red"})), "`colour`"),
    ];
    for (settings, key) in cases {
        let error = error_of(settings.clone());
        assert!(
            error.contains(key),
            "{settings}: `{error}` does not name {key}"
        );
        assert!(error.contains("plugin `test`"), "{error}");
        assert!(!error.contains(TOKEN) && !error.contains(USER), "{error}");
    }
}

#[test]
fn emergency_priority_with_retry_and_expire_builds() {
    build(
        json!({"token": TOKEN, "user": USER, "priorities": {"default": 2},
                 "retry": 30, "expire": 10800}),
    )
    .unwrap();
}

#[test]
fn secrets_are_not_in_debug_output() {
    let plugin = herald_pushover::Pushover::from_config(&crate::plugin_config(
        json!({"token": TOKEN, "user": USER}),
    ))
    .unwrap();
    let text = format!("{plugin:?}");
    assert!(!text.contains(TOKEN) && !text.contains(USER), "{text}");
}
