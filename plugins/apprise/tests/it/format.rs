//! What an event becomes: golden files for every case.

use herald_core::Message;
use serde_json::json;

use crate::{build, fixtures, golden};

fn render(message: &Message) -> String {
    let mut text = serde_json::to_string_pretty(message).unwrap();
    text.push('\n');
    text
}

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
            render(&stateful.format(&event).unwrap()),
        ));
        results.push((
            format!("stateless_markdown/{name}.json"),
            render(&stateless.format(&event).unwrap()),
        ));
        if name.ends_with(".enriched") || name.contains("unicode") {
            results.push((
                format!("html/{name}.json"),
                render(&html.format(&event).unwrap()),
            ));
        }
    }
    golden::check_all(results);
}
