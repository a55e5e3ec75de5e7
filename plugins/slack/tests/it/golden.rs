//! The exact requests, compared with `tests/golden/` (`UPDATE_GOLDEN=1`
//! rewrites them).

use herald_core::testing::samples;
use herald_slack::Slack;
use serde_json::json;

use crate::service::check_body;
use crate::support::{config, golden};

fn check_variant(dir: &str, settings: serde_json::Value, only: Option<&[&str]>) {
    let plugin = Slack::new(&config(settings)).unwrap();
    let cases = samples::cases()
        .into_iter()
        .filter(|(name, _)| !only.is_some_and(|only| !only.contains(&name.as_str())));
    golden().check_json_posts(&plugin, dir, cases, |_, body| check_body(body));
}

#[test]
fn blocks_for_every_event() {
    check_variant(
        "blocks",
        json!({"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX"}),
        None,
    );
}

#[test]
fn text_only() {
    check_variant(
        "text",
        json!({"webhook_url": "https://hooks.slack.com/services/T000/B000/XXXX", "blocks": false}),
        Some(&[
            "playback.started-full",
            "playback.started-markup",
            "library.updated-long",
        ]),
    );
}
