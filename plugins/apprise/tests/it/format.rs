//! What an event becomes: golden files for every case.

use herald_core::testing::pretty_json;
use serde_json::json;

use crate::{build, fixtures, golden};

#[test]
fn every_case_matches_its_golden_file() {
    let stateful = build(json!({
        "server": "http://apprise.lan:8000/",
        "key": "herald",
        "tag": "media",
    }))
    .unwrap();
    let stateless = build(json!({
        "server": "http://apprise.lan:8000",
        "urls": ["tgram://123456:ABCDEF/987", "mailto://user:pass@example.org"],
        "format": "markdown",
        "types": {"webhook.test": "success", "default": "info"},
    }))
    .unwrap();
    let html =
        build(json!({"server": "http://apprise.lan:8000", "key": "k", "format": "html"})).unwrap();
    let mut results = Vec::new();
    for (name, event) in fixtures::cases() {
        results.push((
            format!("{name}.json"),
            pretty_json(&stateful.format(&event).unwrap()),
        ));
        results.push((
            format!("stateless_markdown/{name}.json"),
            pretty_json(&stateless.format(&event).unwrap()),
        ));
        if name.ends_with(".enriched") || name.contains("unicode") {
            results.push((
                format!("html/{name}.json"),
                pretty_json(&html.format(&event).unwrap()),
            ));
        }
    }
    golden().check_all(results);
}
