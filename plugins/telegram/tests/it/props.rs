//! No event, whatever its strings, makes a request Telegram would refuse.

use herald_core::{Body, Event, EventKind, KnownKind, Message, NotificationPlugin};
use herald_telegram::Telegram;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::service::check_body;
use crate::support::config;

fn text(max: usize) -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter),
        "[ *_~`|<>#@&\\-\\[\\]()\\\\.!日本🎬a-z]{0,64}".prop_map(move |s| s.repeat(max / 64 + 1)),
    ]
}

prop_compose! {
    fn arb_event()(
        kind in proptest::sample::select(KnownKind::ALL.to_vec()).prop_map(Some),
        custom in any::<bool>(),
        strings in proptest::collection::vec(
            (proptest::sample::select(vec![
                "title", "series", "overview", "user_name", "user_id", "device_name", "client",
                "server_name", "image_url", "media_type", "message", "media_item_id",
            ]), text(7000)),
            0..8,
        ),
        numbers in proptest::collection::vec(
            (proptest::sample::select(vec![
                "season", "episode", "year", "duration_seconds", "position_seconds",
            ]), any::<u32>()),
            0..4,
        ),
        completed in any::<Option<bool>>(),
        change in proptest::sample::select(vec!["item_added", "item_removed", "metadata_updated"]),
    ) -> Event {
        let mut data = Map::new();
        for (key, value) in strings {
            data.insert(key.into(), Value::String(value));
        }
        for (key, value) in numbers {
            data.insert(key.into(), json!(value));
        }
        if let Some(completed) = completed {
            data.insert("completed".into(), json!(completed));
        }
        data.insert("change_type".into(), json!(change));
        let kind = if custom { EventKind::parse("app.custom").unwrap() } else { EventKind::known(kind.unwrap()) };
        let mut event = herald_core::template::sample_events().remove(0);
        event.event = kind;
        event.data = data;
        event
    }
}

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
