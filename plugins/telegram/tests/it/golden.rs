//! The exact requests, compared with `tests/golden/` (`UPDATE_GOLDEN=1`
//! rewrites them).

use herald_core::testing::samples;
use herald_telegram::Telegram;
use serde_json::json;

use crate::service::check_body;
use crate::support::{config, golden};

fn check_variant(dir: &str, settings: serde_json::Value, only: Option<&[&str]>) {
    let plugin = Telegram::new(&config(settings)).unwrap();
    let cases = samples::cases()
        .into_iter()
        .filter(|(name, _)| !only.is_some_and(|only| !only.contains(&name.as_str())));
    golden().check_json_posts(&plugin, dir, cases, |request, body| {
        check_body(request.url.rsplit('/').next().unwrap_or_default(), body)
    });
}

#[test]
fn html_for_every_event() {
    check_variant(
        "html",
        json!({"bot_token": "123456:TOKEN", "chat_id": "-100123"}),
        None,
    );
}

#[test]
fn markdown_v2_for_every_event() {
    check_variant(
        "markdown_v2",
        json!({"bot_token": "123456:TOKEN", "chat_id": "@herald_test", "parse_mode": "MarkdownV2",
               "disable_notification": true, "message_thread_id": 7, "disable_link_preview": true}),
        None,
    );
}

#[test]
fn photos() {
    for (dir, mode) in [("photo_html", "HTML"), ("photo_markdown_v2", "MarkdownV2")] {
        check_variant(
            dir,
            json!({"bot_token": "123456:TOKEN", "chat_id": -100123, "parse_mode": mode,
                   "photos": true, "api_base": "http://127.0.0.1:8081/"}),
            Some(&[
                "playback.started-full",
                "playback.started-markup",
                "playback.started-minimal",
                "library.updated-long",
            ]),
        );
    }
}
