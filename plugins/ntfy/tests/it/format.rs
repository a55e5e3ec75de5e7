//! What an event becomes: golden files for every case.

use herald_core::testing::pretty_json;
use herald_core::{Message, NotificationPlugin};
use serde_json::json;

use crate::{build, fixtures, golden};

#[test]
fn every_case_matches_its_golden_file() {
    let plain = build(json!({
        "server": "https://ntfy.example.org",
        "topic": "media",
        "token": "tk_test",
        "click": "https://jellyfin.example.org/web/#/details?id={media_item_id}",
    }))
    .unwrap();
    let markdown = build(json!({
        "server": "https://ntfy.example.org/",
        "topic": "media",
        "username": "alice",
        "password": "pw",
        "markdown": true,
        "image": "icon",
        "priorities": {"default": 4, "playback.started": 1},
        "tags": {"library.updated": ["tv", "new"]},
    }))
    .unwrap();
    let mut results = Vec::new();
    for (name, event) in fixtures::cases() {
        results.push((
            format!("{name}.json"),
            pretty_json(&plain.format(&event).unwrap()),
        ));
        results.push((
            format!("markdown/{name}.json"),
            pretty_json(&markdown.format(&event).unwrap()),
        ));
    }
    golden().check_all(results);
}

#[test]
fn the_default_server_is_ntfy_sh_without_credentials() {
    let plugin = build(json!({"topic": "media"})).unwrap();
    let (_, event) = fixtures::cases().remove(0);
    let Message::Http(request) = plugin.format(&event).unwrap() else {
        panic!()
    };
    assert_eq!(request.url, "https://ntfy.sh/");
    assert!(request.headers.is_empty());
}

#[test]
fn an_override_template_is_used() {
    let mut config = crate::plugin_config(json!({"topic": "media"}));
    config.templates.insert(
        "playback.started".into(),
        "▶ {{user}} · {{display_title}}".into(),
    );
    let plugin = herald_ntfy::Ntfy::from_config(&config).unwrap();
    let (_, event) = fixtures::cases().swap_remove(1);
    let Message::Http(request) = plugin.format(&event).unwrap() else {
        panic!()
    };
    let herald_core::Body::Json(body) = request.body else {
        panic!()
    };
    assert_eq!(body["message"], "▶ Alice · The Expanse S02E05 'Home'");
}
