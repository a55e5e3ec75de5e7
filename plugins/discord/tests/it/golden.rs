//! The exact requests, compared with `tests/golden/` (`UPDATE_GOLDEN=1`
//! rewrites them).

use herald_core::testing::samples;
use herald_discord::Discord;
use serde_json::json;

use crate::service::check_body;
use crate::support::{config, golden};

fn check_variant(dir: &str, settings: serde_json::Value, only: Option<&[&str]>) {
    let plugin = Discord::new(&config(settings)).unwrap();
    let cases = samples::cases()
        .into_iter()
        .filter(|(name, _)| !only.is_some_and(|only| !only.contains(&name.as_str())));
    golden().check_json_posts(&plugin, dir, cases, |_, body| check_body(body));
}

#[test]
fn embeds_for_every_event() {
    check_variant(
        "embed",
        json!({"webhook_url": "https://discord.com/api/webhooks/123/token"}),
        None,
    );
}

#[test]
fn text_style_with_thread_username_and_large_image() {
    check_variant(
        "text",
        json!({"webhook_url": "https://discord.com/api/webhooks/123/token?wait=true",
               "thread_id": "987", "username": "Herald", "avatar_url": "https://herald.example/a.png",
               "style": "text"}),
        None,
    );
    check_variant(
        "image",
        json!({"webhook_url": "https://discord.com/api/webhooks/123/token", "image": "image"}),
        Some(&["playback.started-full", "library.updated-long"]),
    );
}
