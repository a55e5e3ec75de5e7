//! What an event becomes: golden files for every case, and the topic
//! template's rules.

use herald_core::Message;
use serde_json::json;

use crate::{build, fixtures, golden};

/// The golden text of a publish: headers, a blank line, then the payload.
fn render(message: &Message) -> String {
    let Message::Publish(p) = message else {
        panic!("expected a publish, got {message:?}")
    };
    format!(
        "topic: {}\nqos: {}\nretain: {}\n\n{}\n",
        p.topic, p.qos, p.retain, p.payload
    )
}

#[test]
fn every_case_matches_its_golden_file() {
    let plugin = build(json!({"host": "127.0.0.1"})).unwrap();
    golden().check_all(fixtures::cases().into_iter().map(|(name, event)| {
        let message = plugin.format(&event).unwrap();
        (format!("{name}.txt"), render(&message))
    }));
}

#[test]
fn payload_is_exactly_the_event_json() {
    let plugin = build(json!({"host": "127.0.0.1"})).unwrap();
    for (_, event) in fixtures::cases() {
        let Message::Publish(p) = plugin.format(&event).unwrap() else {
            panic!()
        };
        assert_eq!(p.payload.as_bytes(), event.to_json_bytes().as_slice());
        assert_eq!(p.topic, format!("herald/events/{}", event.event));
        assert_eq!((p.qos, p.retain), (1, false));
    }
}

#[test]
fn topic_placeholders_come_from_the_event_and_its_data() {
    let plugin = build(json!({
        "host": "127.0.0.1",
        "topic": "media/{source}/{user_id}/{event}/{position_seconds}/{missing}",
        "qos": 2,
        "retain": true,
    }))
    .unwrap();
    let event = fixtures::event(
        "playback.started",
        fixtures::base_data(herald_core::KnownKind::PlaybackStarted),
    );
    let Message::Publish(p) = plugin.format(&event).unwrap() else {
        panic!()
    };
    assert_eq!(p.topic, "media/jellyfin/u1/playback.started/754/unknown");
    assert_eq!((p.qos, p.retain), (2, true));
}

#[test]
fn values_cannot_add_topic_levels_or_wildcards() {
    let plugin = build(json!({"host": "127.0.0.1", "topic": "u/{user_id}/x"})).unwrap();
    let mut data = fixtures::base_data(herald_core::KnownKind::UserCreated);
    data.insert("user_id".into(), json!("a/b+c#d\u{0}e"));
    let event = fixtures::event("user.created", data);
    let Message::Publish(p) = plugin.format(&event).unwrap() else {
        panic!()
    };
    assert_eq!(p.topic, "u/a_b_c_de/x");
}

#[test]
fn long_values_are_cut_at_a_char_boundary() {
    let plugin = build(json!({"host": "127.0.0.1", "topic": "t/{title}"})).unwrap();
    let mut data = fixtures::base_data(herald_core::KnownKind::LibraryUpdated);
    data.insert("title".into(), json!(fixtures::long_text()));
    let Message::Publish(p) = plugin
        .format(&fixtures::event("library.updated", data))
        .unwrap()
    else {
        panic!()
    };
    let value = p.topic.strip_prefix("t/").unwrap();
    assert!(value.len() <= herald_mqtt::payload::MAX_TOPIC_VALUE_BYTES);
    assert!(fixtures::long_text().starts_with(value));
}
