use herald_core::{Event, EventKind, PayloadFilter};
use serde_json::json;

fn event(data: serde_json::Value) -> Event {
    Event::new(
        EventKind::parse("playback.started").unwrap(),
        data.as_object().unwrap().clone(),
    )
}

#[test]
fn every_rule_must_match() {
    let filter: PayloadFilter = serde_json::from_value(
        json!({"media_type": ["movie", "episode"], "data.user.name": "alice"}),
    )
    .unwrap();
    assert!(filter.matches(&event(
        json!({"media_type":"movie","user":{"name":"alice"}})
    )));
    assert!(!filter.matches(&event(
        json!({"media_type":"track","user":{"name":"alice"}})
    )));
    assert!(!filter.matches(&event(json!({"media_type":"movie"}))));
    assert!(PayloadFilter::accept_all().matches(&event(json!({}))));
}

#[test]
fn malformed_filters_are_refused() {
    assert!(serde_json::from_value::<PayloadFilter>(json!({"a": []})).is_err());
    assert!(serde_json::from_value::<PayloadFilter>(json!({"a..b": 1})).is_err());
    assert!(serde_json::from_value::<PayloadFilter>(json!({"a": {"nested": 1}})).is_err());
}
