use chrono::{TimeZone, Utc};
use herald_core::rules::{self, Condition, QuietHours, Rules};
use herald_core::{Event, EventKind};
use serde_json::json;

fn event(kind: &str, data: serde_json::Value) -> Event {
    Event::new(
        EventKind::parse(kind).unwrap(),
        data.as_object().unwrap().clone(),
    )
}

fn condition(value: serde_json::Value) -> Condition {
    serde_json::from_value(value).unwrap()
}

#[test]
fn conditions_nest_and_compare() {
    let c = condition(json!({"all": [
        {"field": "media_type", "op": "in", "value": ["movie", "episode"]},
        {"any": [
            {"field": "user_name", "op": "equals", "value": "Alice"},
            {"field": "duration_seconds", "op": "gt", "value": 600}
        ]},
        {"not": {"field": "series", "op": "starts_with", "value": "bluey"}}
    ]}));
    c.validate("rules.conditions").unwrap();
    let e = |d| event("playback.ended", d);
    assert!(c.matches(&e(json!({"media_type": "movie", "user_name": "Alice"}))));
    assert!(c.matches(&e(
        json!({"media_type": "episode", "user_name": "Bob", "duration_seconds": 601})
    )));
    assert!(!c.matches(&e(
        json!({"media_type": "episode", "user_name": "Bob", "duration_seconds": 600})
    )));
    assert!(!c.matches(&e(json!({"media_type": "track", "user_name": "Alice"}))));
    assert!(!c.matches(&e(
        json!({"media_type": "episode", "user_name": "Alice", "series": "Bluey"})
    )));
    let contains = condition(json!({"field": "title", "op": "contains", "value": "EXPANSE"}));
    assert!(contains.matches(&e(json!({"title": "The Expanse"}))));
    let lt = condition(json!({"field": "season", "op": "lt", "value": 2}));
    assert!(lt.matches(&e(json!({"season": 1}))) && !lt.matches(&e(json!({}))));
    let ne = condition(json!({"field": "data.custom.flag", "op": "not_equals", "value": true}));
    assert!(ne.matches(&e(json!({"custom": {"flag": false}}))));
    let ev = condition(json!({"field": "event", "op": "equals", "value": "playback.ended"}));
    assert!(ev.matches(&e(json!({}))));
}

#[test]
fn bad_conditions_name_the_field_or_operator() {
    let err = condition(json!({"field": "medya_type", "op": "equals", "value": "movie"}))
        .validate("rules.conditions")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("rules.conditions.field") && err.contains("medya_type"),
        "{err}"
    );
    let err = condition(json!({"all": [{"field": "year", "op": "gt", "value": "new"}]}))
        .validate("rules.conditions")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("rules.conditions.all[0].value") && err.contains("`gt`"),
        "{err}"
    );
    let bad_op: Result<Rules, _> = serde_json::from_value(
        json!({"conditions": {"field": "year", "op": "bigger", "value": 1}}),
    );
    assert!(bad_op.is_err());
    let unknown: Result<Rules, _> = serde_json::from_value(json!({"throtle": {}}));
    assert!(unknown.unwrap_err().to_string().contains("throtle"));
}

#[test]
fn quiet_hours_across_midnight_in_a_time_zone() {
    let quiet: QuietHours = serde_json::from_value(
        json!({"start": "22:00", "end": "07:00", "timezone": "Europe/Berlin"}),
    )
    .unwrap();
    // 22:30 UTC is 23:30 in Berlin (winter): inside, ends 07:00 Berlin = 06:00 UTC.
    let inside = Utc.with_ymd_and_hms(2026, 1, 31, 22, 30, 0).unwrap();
    assert_eq!(
        quiet.window_end(inside),
        Some(Utc.with_ymd_and_hms(2026, 2, 1, 6, 0, 0).unwrap())
    );
    // 05:00 UTC is 06:00 Berlin: still inside, same end.
    let morning = Utc.with_ymd_and_hms(2026, 2, 1, 5, 0, 0).unwrap();
    assert_eq!(
        quiet.window_end(morning),
        Some(Utc.with_ymd_and_hms(2026, 2, 1, 6, 0, 0).unwrap())
    );
    // 12:00 UTC: outside.
    assert_eq!(
        quiet.window_end(Utc.with_ymd_and_hms(2026, 2, 1, 12, 0, 0).unwrap()),
        None
    );
    // Summer time moves it by an hour.
    let summer = Utc.with_ymd_and_hms(2026, 7, 1, 21, 30, 0).unwrap();
    assert_eq!(
        quiet.window_end(summer),
        Some(Utc.with_ymd_and_hms(2026, 7, 2, 5, 0, 0).unwrap())
    );
    let bad: Rules = serde_json::from_value(
        json!({"quiet_hours": {"start": "22:00", "end": "7", "timezone": "Mars/Olympus"}}),
    )
    .unwrap();
    assert!(bad
        .validate()
        .unwrap_err()
        .to_string()
        .contains("rules.quiet_hours.end"));
}

#[test]
fn added_episodes_group_by_series_and_season_with_latest_data() {
    let added = |ep: i64, title: &str| {
        event(
            "library.updated",
            json!({"change_type": "item_added", "media_item_id": format!("e{ep}"),
            "series": "The Expanse", "season": 2, "episode": ep, "title": title, "media_type": "episode"}),
        )
    };
    let items = vec![
        added(3, "TBA"),
        added(1, "Doors"),
        added(2, "Cascade"),
        added(5, "Home"),
        added(4, "Godspeed"),
        added(3, "Static"),
    ];
    assert!(rules::group_key(&items[0]).is_some());
    assert_eq!(rules::group_key(&items[0]), rules::group_key(&items[4]));
    let grouped = rules::grouped_event(&items, Utc::now());
    assert_eq!(grouped.event.as_str(), rules::GROUPED_KIND);
    assert_eq!(
        grouped.data["message"],
        "The Expanse — 5 new episodes (S02E01–S02E05)"
    );
    let titles: Vec<_> = grouped.data["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["data"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Doors", "Cascade", "Static", "Godspeed", "Home"]);

    let movie = |id: &str| {
        event(
            "library.updated",
            json!({"change_type": "item_added", "media_item_id": id, "media_type": "movie", "library_name": "Movies"}),
        )
    };
    let movies = rules::grouped_event(&[movie("a"), movie("b"), movie("c")], Utc::now());
    assert_eq!(movies.data["message"], "3 new movies in Movies");
    assert!(rules::group_key(&event(
        "library.updated",
        json!({"change_type": "item_removed", "media_item_id": "x"})
    ))
    .is_none());
    assert!(rules::group_key(&event("playback.started", json!({"media_item_id": "x"}))).is_none());
}

#[test]
fn digests_and_summaries_count_by_kind() {
    let events = vec![
        event("playback.started", json!({"media_item_id": "a"})),
        event("playback.started", json!({"media_item_id": "b"})),
        event("user.created", json!({"user_id": "u"})),
    ];
    let digest = rules::digest_event(&events, Utc::now());
    assert_eq!(digest.event.as_str(), rules::DIGEST_KIND);
    assert_eq!(digest.data["count"], 3);
    let message = digest.data["message"].as_str().unwrap();
    assert!(
        message.contains("2 × playback.started") && message.contains("1 × user.created"),
        "{message}"
    );
    let summary = rules::summary_event(&events[..2], Utc::now());
    assert!(summary.data["message"]
        .as_str()
        .unwrap()
        .starts_with("2 notifications over the rate limit"));
}
