use herald_core::event::resolve_alias;
use herald_core::{Event, EventKind, IncomingEvent, KnownKind};
use serde_json::json;

fn incoming(value: serde_json::Value) -> IncomingEvent {
    serde_json::from_value(value).unwrap()
}

#[test]
fn serializes_exactly_with_the_documented_keys() {
    let event = incoming(json!({
        "id": "evt_01JABC",
        "event": "playback.started",
        "timestamp": "2026-01-31T12:00:00Z",
        "data": {"user_id": "u1", "media_item_id": "m1", "media_type": "episode", "device_id": "d1"}
    }))
    .normalize()
    .unwrap();
    assert_eq!(
        String::from_utf8(event.to_json_bytes()).unwrap(),
        r#"{"id":"evt_01JABC","event":"playback.started","timestamp":"2026-01-31T12:00:00Z","data":{"user_id":"u1","media_item_id":"m1","media_type":"episode","device_id":"d1"}}"#
    );
    let back: Event = serde_json::from_slice(&event.to_json_bytes()).unwrap();
    assert_eq!(back, event);
}

#[test]
fn every_known_kind_round_trips_with_its_keys() {
    let cases = [
        json!({"event":"playback.ended","data":{"user_id":"u","media_item_id":"m","media_type":"movie","duration_seconds":2520,"completed":true}}),
        json!({"event":"library.updated","data":{"change_type":"metadata_updated","media_item_id":"m","library_id":"l"}}),
        json!({"event":"webhook.test","data":{"message":"hi","webhook_id":"wh_1"}}),
        json!({"event":"user.created","data":{"user_id":"u","user_name":"Alice"}}),
        json!({"event":"session.created","data":{"session_id":"s","user_id":"u","device_id":"d"}}),
    ];
    for case in cases {
        let event = incoming(case.clone()).normalize().unwrap();
        assert!(event.event.as_known().is_some());
        let json: serde_json::Value = serde_json::from_slice(&event.to_json_bytes()).unwrap();
        assert_eq!(json["data"], case["data"]);
        assert_eq!(json["event"], case["event"]);
        assert_eq!(
            json.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["id", "event", "timestamp", "data"]
        );
    }
}

#[test]
fn source_is_serialized_between_timestamp_and_data() {
    let event = incoming(json!({"id":"e1","event":"app.x","timestamp":"2026-01-31T12:00:00Z","source":"plex","data":{}}))
        .normalize()
        .unwrap();
    assert_eq!(
        String::from_utf8(event.to_json_bytes()).unwrap(),
        r#"{"id":"e1","event":"app.x","timestamp":"2026-01-31T12:00:00Z","source":"plex","data":{}}"#
    );
}

#[test]
fn aliases_are_normalized() {
    let started = incoming(json!({"event":"playback.start","data":{"media_item_id":"m"}}))
        .normalize()
        .unwrap();
    assert_eq!(started.event.as_known(), Some(KnownKind::PlaybackStarted));

    let ended = incoming(json!({"event":"playback.stop","data":{"media_item_id":"m"}}))
        .normalize()
        .unwrap();
    assert_eq!(ended.event.as_str(), "playback.ended");

    let added = incoming(json!({"event":"library.new","data":{"media_item_id":"m"}}))
        .normalize()
        .unwrap();
    assert_eq!(added.event.as_str(), "library.updated");
    assert_eq!(added.data["change_type"], "item_added");

    // An explicit change type is not overwritten by the alias default.
    let mut data = serde_json::Map::new();
    data.insert("change_type".into(), json!("metadata_updated"));
    assert_eq!(resolve_alias("library.new", &mut data), "library.updated");
    assert_eq!(data["change_type"], "metadata_updated");
    assert_eq!(
        resolve_alias("playback.started", &mut data),
        "playback.started"
    );
}

#[test]
fn unknown_data_fields_are_kept() {
    let event = incoming(
        json!({"event":"playback.started","data":{"media_item_id":"m","custom":{"a":[1,2]}}}),
    )
    .normalize()
    .unwrap();
    assert_eq!(event.data["custom"], json!({"a":[1,2]}));
    assert!(String::from_utf8(event.to_json_bytes())
        .unwrap()
        .contains(r#""custom":{"a":[1,2]}"#));
}

#[test]
fn custom_events_take_free_form_data() {
    let event = incoming(json!({"event":"backup.finished","data":{"anything":[1,"two",null]}}))
        .normalize()
        .unwrap();
    assert_eq!(event.event.as_known(), None);
    assert_eq!(event.event.as_str(), "backup.finished");
}

#[test]
fn typed_keys_are_checked_with_the_field_named() {
    let cases = [
        (
            json!({"event":"playback.ended","data":{"media_item_id":"m","completed":"yes"}}),
            "data.completed",
        ),
        (
            json!({"event":"playback.ended","data":{"media_item_id":"m","duration_seconds":-1}}),
            "data.duration_seconds",
        ),
        (
            json!({"event":"playback.started","data":{}}),
            "data.media_item_id",
        ),
        (
            json!({"event":"library.updated","data":{"media_item_id":"m","change_type":"exploded"}}),
            "data.change_type",
        ),
        (
            json!({"event":"playback.started","data":{"media_item_id":"m","season":"two"}}),
            "data.season",
        ),
        (json!({"event":"Bad Name","data":{}}), "event"),
        (json!({"event":"a.b","id":"has space"}), "id"),
    ];
    for (case, field) in cases {
        let err = incoming(case.clone()).normalize().unwrap_err();
        match err {
            herald_core::Error::InvalidEvent { field: f, .. } => assert_eq!(f, field, "{case}"),
            other => panic!("{case}: unexpected {other}"),
        }
    }
}

#[test]
fn generated_ids_and_timestamps() {
    let event = Event::new(EventKind::parse("a.b").unwrap(), Default::default());
    assert!(
        event.id.starts_with("evt_") && event.id.len() == 30,
        "{}",
        event.id
    );
    let other = Event::new(EventKind::parse("a.b").unwrap(), Default::default());
    assert_ne!(event.id, other.id);
}

#[test]
fn enrichment_is_read_when_present() {
    let event = incoming(json!({"event":"playback.started","data":{"media_item_id":"m","title":"Home","series":"The Expanse","season":2,"episode":5}}))
        .normalize()
        .unwrap();
    let e = event.enrichment();
    assert_eq!(e.title.as_deref(), Some("Home"));
    assert_eq!((e.season, e.episode), (Some(2), Some(5)));
    assert_eq!(e.user_name, None);
}
