//! No event, whatever its strings, makes a request Telegram would refuse.

use herald_core::testing::props::arb_event;
use herald_core::{Body, Message, NotificationPlugin};
use herald_telegram::Telegram;
use proptest::prelude::*;
use serde_json::json;

use crate::service::check_body;
use crate::support::config;

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_request_is_within_telegram_limits(
        event in arb_event(),
        markdown in any::<bool>(),
        photos in any::<bool>(),
    ) {
        let mode = if markdown { "MarkdownV2" } else { "HTML" };
        let plugin = Telegram::new(&config(json!({
            "bot_token": "1:t", "chat_id": 1, "parse_mode": mode, "photos": photos,
            "templates": {"webhook.test": "{{message}} {{overview}} {{title}}"},
        }))).unwrap();
        let Message::Http(request) = plugin.format(&event).unwrap() else { panic!("not HTTP") };
        let Body::Json(body) = request.body else { panic!("not JSON") };
        let method = request.url.rsplit('/').next().unwrap();
        prop_assert!(check_body(method, &body).is_ok(), "{:?}", check_body(method, &body));
        // Herald's own, stricter measure: the marked-up text itself.
        let (field, max) = if method == "sendPhoto" { ("caption", 1024) } else { ("text", 4096) };
        let text = body[field].as_str().unwrap();
        prop_assert!(text.encode_utf16().count() <= max);
    }
}
