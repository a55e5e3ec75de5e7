//! Property tests: no event makes the formatter panic, and every topic is
//! a valid publish topic within MQTT's limits.

use herald_core::Message;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use crate::{build, fixtures};

fn data_strategy() -> impl Strategy<Value = Map<String, Value>> {
    (
        any::<String>(),
        any::<String>(),
        proptest::option::of(any::<String>()),
        proptest::option::of(0u32..100_000),
        proptest::collection::vec(any::<char>(), 0..2000),
    )
        .prop_map(|(user_id, title, source_like, position, long)| {
            let mut data = Map::new();
            data.insert("media_item_id".into(), json!("m"));
            data.insert("user_id".into(), json!(user_id));
            data.insert("title".into(), json!(title));
            data.insert(
                "overview".into(),
                json!(long.into_iter().collect::<String>()),
            );
            if let Some(s) = source_like {
                data.insert("device_name".into(), json!(s));
            }
            if let Some(p) = position {
                data.insert("position_seconds".into(), json!(p));
            }
            data
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn topics_are_always_valid(data in data_strategy()) {
        let plugin = build(json!({
            "host": "h",
            "topic": "x/{user_id}/{title}/{device_name}/{position_seconds}/{event}",
        })).unwrap();
        let event = fixtures::event("playback.started", data);
        let Message::Publish(p) = plugin.format(&event).unwrap() else { panic!() };
        prop_assert!(!p.topic.contains(['+', '#', '\0']));
        prop_assert_eq!(p.topic.split('/').count(), 6);
        prop_assert!(p.topic.len() <= 5 * herald_mqtt::payload::MAX_TOPIC_VALUE_BYTES + 32);
        let json = event.to_json_bytes();
        prop_assert_eq!(p.payload.as_bytes(), json.as_slice());
    }
}
