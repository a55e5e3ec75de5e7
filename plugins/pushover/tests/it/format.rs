//! What an event becomes: golden files for every case.

use herald_core::testing::pretty_json;
use herald_core::{Body, Message};
use serde_json::json;

use crate::server::{TOKEN, USER};
use crate::{build, fixtures, golden};

#[test]
fn every_case_matches_its_golden_file() {
    let plain = build(json!({
        "token": TOKEN,
        "user": USER,
        "url": "https://jellyfin.example.org/web/#/details?id={media_item_id}",
        "url_title": "Open in Jellyfin",
    }))
    .unwrap();
    let html = build(json!({
        "api_base": "https://pushover.example.org/",
        "token": TOKEN,
        "user": USER,
        "html": true,
        "sound": "magic",
        "device": "pixel",
        "priorities": {"library.updated": 2, "default": 1},
        "retry": 60,
        "expire": 3600,
    }))
    .unwrap();
    let mut results = Vec::new();
    for (name, event) in fixtures::cases() {
        results.push((
            format!("{name}.json"),
            pretty_json(&plain.format(&event).unwrap()),
        ));
        results.push((
            format!("html/{name}.json"),
            pretty_json(&html.format(&event).unwrap()),
        ));
    }
    golden().check_all(results);
}

#[test]
fn html_escapes_values_and_plain_does_not() {
    let mut data = fixtures::base_data(herald_core::KnownKind::PlaybackStarted);
    data.insert("title".into(), json!("<b>Tom & Jerry</b>"));
    let event = fixtures::event("playback.started", data);
    let message = |settings| {
        let Message::Http(request) = build(settings).unwrap().format(&event).unwrap() else {
            panic!()
        };
        let Body::Form(fields) = request.body else {
            panic!()
        };
        fields.into_iter().find(|(k, _)| k == "message").unwrap().1
    };
    assert_eq!(
        message(json!({"token": TOKEN, "user": USER, "html": true})),
        "u1 started &lt;b&gt;Tom &amp; Jerry&lt;/b&gt;"
    );
    assert_eq!(
        message(json!({"token": TOKEN, "user": USER})),
        "u1 started <b>Tom & Jerry</b>"
    );
}
