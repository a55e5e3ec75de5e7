//! Ingest source parsing: fixtures as the servers send them (see
//! `core/tests/fixtures/sources/SOURCES.md`), body encodings, the mapping
//! tables, the de-duplicator, and property tests that no input panics.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use herald_core::sources::{
    dedup_key, parse, Deduplicator, Origin, Parsed, SourceError, SourceType,
};
use herald_core::Event;
use proptest::prelude::*;
use serde_json::{json, Map, Value};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 31, 12, 0, 0).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/sources/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fixture_json(name: &str) -> Map<String, Value> {
    serde_json::from_slice(&fixture(name)).unwrap()
}

/// Parses and checks the invariants every produced event has.
fn event(source: SourceType, content_type: Option<&str>, body: &[u8]) -> (Event, Origin) {
    match parse(source, content_type, body, now()).unwrap() {
        Parsed::Event { event, origin } => {
            event.validate().unwrap();
            assert!(event.id.starts_with("evt_"), "{}", event.id);
            assert_eq!(event.timestamp, now());
            assert_eq!(event.source, None);
            (event, origin)
        }
        Parsed::Ignored {
            reason,
            original_type,
        } => panic!("ignored {original_type}: {reason}"),
    }
}

fn json_event(source: SourceType, name: &str) -> (Event, Origin) {
    let (event, origin) = event(source, Some("application/json"), &fixture(name));
    assert_eq!(
        event.data["raw"],
        Value::Object(fixture_json(name)),
        "data.raw is the payload"
    );
    (event, origin)
}

fn ignored(source: SourceType, body: &Value) -> (String, String) {
    match parse(source, None, body.to_string().as_bytes(), now()).unwrap() {
        Parsed::Ignored {
            reason,
            original_type,
        } => (original_type, reason),
        Parsed::Event { event, .. } => panic!("mapped to {}", event.event),
    }
}

fn error(source: SourceType, content_type: Option<&str>, body: &[u8]) -> SourceError {
    match parse(source, content_type, body, now()) {
        Err(e) => e,
        Ok(parsed) => panic!("parsed: {parsed:?}"),
    }
}

/// The data without `raw`, for exact comparisons.
fn data(event: &Event) -> Value {
    let mut data = event.data.clone();
    data.remove("raw");
    Value::Object(data)
}

// ---------------------------------------------------------------- Plex

/// A JPEG as small as it gets, plus bytes that look like a boundary and CRLFs.
const JPEG: &[u8] = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\
\r\n--not-the-boundary\r\n\x00\xFF\xFE\r\n\r\n\xFF\xD9";

const BOUNDARY: &str = "------------------------4f6c1d2b7a9e3c05";

/// A body laid out as Plex Media Server sends it.
fn plex_multipart(payload: &[u8], thumb_first: bool) -> Vec<u8> {
    let mut payload_part = Vec::new();
    payload_part.extend_from_slice(
        b"Content-Disposition: form-data; name=\"payload\"\r\n\
          Content-Type: application/json\r\n\r\n",
    );
    payload_part.extend_from_slice(payload);
    let mut thumb_part = Vec::new();
    thumb_part.extend_from_slice(
        b"Content-Disposition: form-data; name=\"thumb\"; filename=\"image.jpg\"\r\n\
          Content-Type: image/jpeg\r\n\r\n",
    );
    thumb_part.extend_from_slice(JPEG);
    let parts = if thumb_first {
        [thumb_part, payload_part]
    } else {
        [payload_part, thumb_part]
    };
    let mut body = Vec::new();
    for part in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        body.extend_from_slice(&part);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn plex_content_type() -> String {
    format!("multipart/form-data; boundary={BOUNDARY}")
}

#[test]
fn plex_multipart_with_a_jpeg_thumb_parses() {
    let payload = fixture("plex_media_play_track.json");
    for thumb_first in [false, true] {
        let body = plex_multipart(&payload, thumb_first);
        let (event, origin) = event(SourceType::Plex, Some(&plex_content_type()), &body);
        assert_eq!(event.event.as_str(), "playback.started");
        assert_eq!(
            data(&event),
            json!({
                "user_id": "1",
                "media_item_id": "1936545",
                "media_type": "track",
                "device_id": "r6yfkdnfggbh2bdnvkffwbms",
                "title": "Love The One You're With",
                "user_name": "elan",
                "device_name": "Plex Web (Safari)",
                "server_name": "Office",
                "server_id": "54664a3d8acc39983675640ec9ce00b70af9cc36",
                "library_id": "1224",
                "artist": "Stephen Stills",
                "album": "Stephen Stills",
            })
        );
        assert_eq!(
            event.data["raw"],
            Value::Object(fixture_json("plex_media_play_track.json"))
        );
        assert_eq!(
            origin,
            Origin {
                user_id: Some("1".into()),
                user_name: Some("elan".into()),
                server_id: Some("54664a3d8acc39983675640ec9ce00b70af9cc36".into()),
                server_name: Some("Office".into()),
            }
        );
    }
}

#[test]
fn plex_stop_of_an_episode_is_ended_with_completion_from_view_offset() {
    let body = plex_multipart(&fixture("plex_media_stop_episode.json"), false);
    let (event, origin) = event(SourceType::Plex, Some(&plex_content_type()), &body);
    assert_eq!(event.event.as_str(), "playback.ended");
    assert_eq!(
        data(&event),
        json!({
            "user_id": "20771545",
            "media_item_id": "48213",
            "media_type": "episode",
            "device_id": "a1b2c3d4e5f6a7b8c9d0e1f2",
            "duration_seconds": 2797,
            "completed": true,
            "runtime_seconds": 2880,
            "title": "Chapitre 5 : « Le Chant du cygne »",
            "year": 2021,
            "series": "Lupin",
            "season": 1,
            "episode": 5,
            "user_name": "Zoë",
            "device_name": "Wohnzimmer-TV",
            "server_name": "Médiathèque",
            "overview": "Assane tend un piège à Pellegrini… 🎩",
            "server_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c",
            "library_id": "2",
            "library_name": "Séries",
        })
    );
    assert_eq!(origin.user_name.as_deref(), Some("Zoë"));
}

#[test]
fn plex_stop_before_ninety_percent_is_not_completed() {
    let mut payload = fixture_json("plex_media_stop_episode.json");
    payload["Metadata"]["viewOffset"] = json!(600_000);
    let (event, _) = event(
        SourceType::Plex,
        None,
        Value::Object(payload).to_string().as_bytes(),
    );
    assert_eq!(event.data["duration_seconds"], 600);
    assert_eq!(event.data["completed"], false);
}

#[test]
fn plex_scrobble_is_marked_played_so_stop_alone_ends_playback() {
    let mut payload = fixture_json("plex_media_stop_episode.json");
    payload["event"] = json!("media.scrobble");
    let body = plex_multipart(Value::Object(payload).to_string().as_bytes(), false);
    let (event, _) = event(SourceType::Plex, Some(&plex_content_type()), &body);
    assert_eq!(event.event.as_str(), "media.marked_played");
    assert_eq!(event.data["marked_by"], "playback");
    assert_eq!(event.data["media_item_id"], "48213");
    assert!(!event.data.contains_key("completed"));
}

#[test]
fn plex_pause_resume_and_shared_user_play_map_to_playback_kinds() {
    for (plex, herald) in [
        ("media.pause", "playback.paused"),
        ("media.resume", "playback.resumed"),
        ("playback.started", "playback.started"),
    ] {
        let mut payload = fixture_json("plex_media_stop_episode.json");
        payload["event"] = json!(plex);
        let (event, _) = event(
            SourceType::Plex,
            None,
            Value::Object(payload).to_string().as_bytes(),
        );
        assert_eq!(event.event.as_str(), herald, "{plex}");
        assert_eq!(event.data["position_seconds"], 2797);
    }
}

#[test]
fn plex_library_new_is_item_added_with_library() {
    let body = plex_multipart(&fixture("plex_library_new_movie.json"), true);
    let (event, origin) = event(SourceType::Plex, Some(&plex_content_type()), &body);
    assert_eq!(event.event.as_str(), "library.updated");
    assert_eq!(event.data["change_type"], "item_added");
    assert_eq!(event.data["media_item_id"], "2091");
    assert_eq!(event.data["library_id"], "3");
    assert_eq!(event.data["library_name"], "映画");
    assert_eq!(event.data["title"], "千と千尋の神隠し");
    assert_eq!(event.data["runtime_seconds"], 7500);
    assert!(
        !event.data.contains_key("image_url"),
        "thumb is a relative path"
    );
    assert!(
        !event.data.contains_key("user_id"),
        "no user on library events"
    );
    assert_eq!(origin.user_id.as_deref(), Some("1"));
}

#[test]
fn plex_events_without_herald_kind_are_ignored() {
    for plex in [
        "media.rate",
        "library.on.deck",
        "admin.database.backup",
        "admin.database.corrupted",
        "device.new",
    ] {
        let mut payload = fixture_json("plex_media_play_track.json");
        payload["event"] = json!(plex);
        let (original_type, reason) = ignored(SourceType::Plex, &Value::Object(payload));
        assert_eq!(original_type, plex);
        assert!(!reason.is_empty());
    }
}

#[test]
fn plex_multipart_without_payload_part_is_a_clear_error() {
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"thumb\"; filename=\"a.jpg\"\r\n\
         Content-Type: image/jpeg\r\n\r\nxx\r\n--{BOUNDARY}--\r\n"
    );
    let e = error(
        SourceType::Plex,
        Some(&plex_content_type()),
        body.as_bytes(),
    );
    assert!(matches!(e, SourceError::Malformed { .. }));
    let message = e.to_string();
    assert!(message.starts_with("plex: "), "{message}");
    assert!(message.contains("`payload`"), "{message}");
    assert!(message.contains("thumb"), "{message}");
}

#[test]
fn plex_truncated_multipart_is_an_error() {
    let body = plex_multipart(&fixture("plex_media_play_track.json"), false);
    let e = error(SourceType::Plex, Some(&plex_content_type()), &body[..40]);
    assert!(matches!(e, SourceError::Malformed { .. }), "{e}");
    let e = error(SourceType::Plex, Some("multipart/form-data"), &body);
    assert!(e.to_string().contains("boundary"), "{e}");
}

#[test]
fn plex_playback_without_rating_key_names_the_field() {
    let mut payload = fixture_json("plex_media_play_track.json");
    payload["Metadata"]
        .as_object_mut()
        .unwrap()
        .remove("ratingKey");
    let e = error(
        SourceType::Plex,
        None,
        Value::Object(payload).to_string().as_bytes(),
    );
    assert!(matches!(e, SourceError::MissingField { .. }));
    assert_eq!(
        e.to_string(),
        "plex: `media.play` has no `Metadata.ratingKey`"
    );
}

#[test]
fn plex_repeated_plays_share_a_dedup_key() {
    let play = fixture_json("plex_media_play_track.json");
    let mut shared = play.clone();
    shared["event"] = json!("playback.started");
    let (a, _) = event(
        SourceType::Plex,
        None,
        Value::Object(play).to_string().as_bytes(),
    );
    let (b, _) = event(
        SourceType::Plex,
        None,
        Value::Object(shared).to_string().as_bytes(),
    );
    assert_ne!(a.id, b.id);
    assert_eq!(dedup_key("plex-main", &a), dedup_key("plex-main", &b));
    assert_ne!(dedup_key("plex-main", &a), dedup_key("plex-other", &a));

    let mut dedup = Deduplicator::new(Duration::from_secs(30), 100);
    let t0 = now();
    assert!(!dedup.seen(&dedup_key("plex-main", &a), t0));
    assert!(dedup.seen(
        &dedup_key("plex-main", &b),
        t0 + chrono::Duration::seconds(2)
    ));
    assert!(!dedup.seen(
        &dedup_key("plex-main", &b),
        t0 + chrono::Duration::seconds(31)
    ));
}

// ---------------------------------------------------------------- Jellyfin

#[test]
fn jellyfin_playback_start_of_an_episode() {
    let (event, origin) = json_event(SourceType::Jellyfin, "jellyfin_playback_start_episode.json");
    assert_eq!(event.event.as_str(), "playback.started");
    assert_eq!(
        data(&event),
        json!({
            "user_id": "c1d2e3f4-a5b6-4789-9abc-def012345678",
            "media_item_id": "0d6f2c9a-8b1e-4f3a-9c5d-7e8f90a1b2c3",
            "media_type": "episode",
            "device_id": "TW96aWxsYS81LjAgKFgxMTsgTGludXggeDg2XzY0KQ11",
            "position_seconds": 0,
            "runtime_seconds": 1420,
            "title": "Undertaker",
            "year": 2021,
            "series": "86 EIGHTY-SIX",
            "season": 1,
            "episode": 1,
            "user_name": "kaito",
            "device_name": "Chrome",
            "client": "Jellyfin Web",
            "server_name": "jellyfin-wohnzimmer",
            "image_url": "https://jellyfin.example.org/Items/0d6f2c9a-8b1e-4f3a-9c5d-7e8f90a1b2c3/Images/Primary",
            "overview": "The Republic of San Magnolia has long been under attack from the \"Legion\".",
            "server_id": "6c3f5e6d1a2b4c8d9e0f112233445566",
        })
    );
    assert_eq!(
        origin,
        Origin {
            user_id: Some("c1d2e3f4-a5b6-4789-9abc-def012345678".into()),
            user_name: Some("kaito".into()),
            server_id: Some("6c3f5e6d1a2b4c8d9e0f112233445566".into()),
            server_name: Some("jellyfin-wohnzimmer".into()),
        }
    );
}

#[test]
fn jellyfin_playback_stop_uses_played_to_completion() {
    let (event, origin) = json_event(SourceType::Jellyfin, "jellyfin_playback_stop_movie.json");
    assert_eq!(event.event.as_str(), "playback.ended");
    assert_eq!(event.data["duration_seconds"], 7201);
    assert_eq!(event.data["completed"], true);
    assert_eq!(event.data["media_type"], "movie");
    assert_eq!(event.data["title"], "Amélie");
    assert!(
        !event.data.contains_key("image_url"),
        "ServerUrl `localhost:8096` is not absolute"
    );
    // Older plugin versions name the user `Username` on stop.
    assert_eq!(origin.user_name.as_deref(), Some("kaito"));

    let mut payload = fixture_json("jellyfin_playback_stop_movie.json");
    payload.remove("PlayedToCompletion");
    payload["PlaybackPositionTicks"] = json!(36_000_000_000_u64);
    let (event, _) = event_from(SourceType::Jellyfin, payload);
    assert_eq!(event.data["completed"], false, "3600 s of 7308 s");
}

fn event_from(source: SourceType, payload: Map<String, Value>) -> (Event, Origin) {
    event(source, None, Value::Object(payload).to_string().as_bytes())
}

#[test]
fn jellyfin_item_added_has_no_user_and_parses() {
    let (event, origin) = json_event(SourceType::Jellyfin, "jellyfin_item_added_movie.json");
    assert_eq!(event.event.as_str(), "library.updated");
    assert_eq!(event.data["change_type"], "item_added");
    assert_eq!(
        event.data["media_item_id"],
        "5e6f7081-92a3-44b5-86c7-d8e9fa0b1c2d"
    );
    assert_eq!(event.data["library_id"], "f137a2dd21bbc1b99aa5c0f6bf02a805");
    assert_eq!(event.data["library_name"], "Фильмы");
    assert_eq!(event.data["title"], "Крылья");
    assert_eq!(
        event.data["image_url"],
        "https://jellyfin.example.org/Items/5e6f7081-92a3-44b5-86c7-d8e9fa0b1c2d/Images/Primary"
    );
    assert!(
        !event.data.contains_key("overview"),
        "empty overview is absent"
    );
    assert!(
        !event.data.contains_key("runtime_seconds"),
        "0 ticks is unknown"
    );
    assert_eq!(origin.user_id, None);
    assert_eq!(origin.user_name, None);
    assert_eq!(
        origin.server_id.as_deref(),
        Some("6c3f5e6d1a2b4c8d9e0f112233445566")
    );
}

#[test]
fn jellyfin_toggle_played_is_marked_played_or_unplayed() {
    let (event, _) = json_event(SourceType::Jellyfin, "jellyfin_user_data_saved_toggle.json");
    assert_eq!(event.event.as_str(), "media.marked_played");
    assert_eq!(event.data["marked_by"], "user");
    assert_eq!(
        event.data["user_id"],
        "c1d2e3f4-a5b6-4789-9abc-def012345678"
    );
    assert_eq!(event.data["series"], "86 EIGHTY-SIX");

    let mut payload = fixture_json("jellyfin_user_data_saved_toggle.json");
    payload["Played"] = json!(false);
    let (event, _) = event_from(SourceType::Jellyfin, payload);
    assert_eq!(event.event.as_str(), "media.marked_unplayed");
    assert!(!event.data.contains_key("marked_by"));
}

#[test]
fn jellyfin_other_save_reasons_and_progress_are_ignored() {
    for reason in [
        "PlaybackFinished",
        "PlaybackProgress",
        "UpdateUserRating",
        "Import",
    ] {
        let mut payload = fixture_json("jellyfin_user_data_saved_toggle.json");
        payload["SaveReason"] = json!(reason);
        let (original_type, why) = ignored(SourceType::Jellyfin, &Value::Object(payload));
        assert_eq!(original_type, "UserDataSaved");
        assert!(why.contains(reason), "{why}");
    }
    let mut payload = fixture_json("jellyfin_playback_start_episode.json");
    payload["NotificationType"] = json!("PlaybackProgress");
    payload["IsPaused"] = json!(true);
    let (original_type, why) = ignored(SourceType::Jellyfin, &Value::Object(payload));
    assert_eq!(original_type, "PlaybackProgress");
    assert!(why.contains("pause"), "{why}");
    for other in [
        "AuthenticationSuccess",
        "TaskCompleted",
        "PluginInstalled",
        "Generic",
    ] {
        let (original_type, _) = ignored(
            SourceType::Jellyfin,
            &json!({"NotificationType": other, "ServerId": "x"}),
        );
        assert_eq!(original_type, other);
    }
}

#[test]
fn jellyfin_templates_with_strings_and_any_key_case_parse() {
    let (event, origin) = json_event(SourceType::Jellyfin, "jellyfin_template_strings.json");
    assert_eq!(event.event.as_str(), "playback.started");
    assert_eq!(event.data["season"], 1);
    assert_eq!(event.data["episode"], 2);
    assert_eq!(event.data["year"], 2021);
    assert_eq!(event.data["position_seconds"], 123);
    assert_eq!(event.data["runtime_seconds"], 1420);
    assert!(
        !event.data.contains_key("device_id"),
        "empty string is absent"
    );
    assert_eq!(
        origin.server_id.as_deref(),
        Some("6c3f5e6d1a2b4c8d9e0f112233445566")
    );
}

#[test]
fn jellyfin_users_sessions_and_deletions() {
    let (event, origin) = event_from(
        SourceType::Jellyfin,
        json!({"NotificationType": "UserCreated", "UserId": "u-1", "NotificationUsername": "Ана", "ServerId": "s"})
            .as_object()
            .unwrap()
            .clone(),
    );
    assert_eq!(event.event.as_str(), "user.created");
    assert_eq!(event.data["user_id"], "u-1");
    assert_eq!(event.data["user_name"], "Ана");
    assert_eq!(origin.user_id.as_deref(), Some("u-1"));

    let (event, _) = event_from(
        SourceType::Jellyfin,
        json!({"NotificationType": "SessionStart", "Id": "sess-9", "UserId": "u-1",
               "DeviceId": "dev", "DeviceName": "TV", "Client": "Jellyfin Android TV"})
        .as_object()
        .unwrap()
        .clone(),
    );
    assert_eq!(event.event.as_str(), "session.created");
    assert_eq!(event.data["session_id"], "sess-9");
    assert_eq!(event.data["client"], "Jellyfin Android TV");

    let (event, _) = event_from(
        SourceType::Jellyfin,
        json!({"NotificationType": "ItemDeleted", "ItemId": "gone", "ItemType": "Series"})
            .as_object()
            .unwrap()
            .clone(),
    );
    assert_eq!(event.data["change_type"], "item_removed");
    assert_eq!(event.data["media_type"], "show");
}

#[test]
fn jellyfin_missing_fields_are_clear_errors() {
    let e = error(SourceType::Jellyfin, None, br#"{"Name":"x"}"#);
    assert!(e.to_string().contains("NotificationType"), "{e}");
    let mut payload = fixture_json("jellyfin_playback_start_episode.json");
    payload.remove("ItemId");
    let e = error(
        SourceType::Jellyfin,
        None,
        Value::Object(payload).to_string().as_bytes(),
    );
    assert_eq!(
        e.to_string(),
        "jellyfin: `PlaybackStart` has no `ItemId`; with a custom template, add the field, \
         or tick \"Send All Properties\""
    );
}

// ---------------------------------------------------------------- Emby

#[test]
fn emby_playback_start_of_a_movie() {
    let (event, origin) = json_event(SourceType::Emby, "emby_playback_start_movie.json");
    assert_eq!(event.event.as_str(), "playback.started");
    assert_eq!(
        data(&event),
        json!({
            "user_id": "e6a9dd89fd954d689870e7e0e3e72947",
            "media_item_id": "240270",
            "media_type": "movie",
            "device_id": "30239450-1748-4855-9799-de3544fc2744",
            "position_seconds": 1743,
            "runtime_seconds": 8043,
            "title": "蜘蛛侠：纵横宇宙",
            "year": 2023,
            "user_name": "admin",
            "device_name": "Microsoft Edge Windows",
            "client": "Emby Web",
            "server_name": "PN41",
            "overview": "讲述了新生代蜘蛛侠迈尔斯携手蜘蛛格温，穿越多元宇宙踏上更宏大的冒险征程的故事。",
            "server_id": "f40a5bd0c6b64051bdbed00580fa1118",
        })
    );
    assert_eq!(
        origin.server_id.as_deref(),
        Some("f40a5bd0c6b64051bdbed00580fa1118")
    );
}

#[test]
fn emby_playback_start_of_an_episode() {
    let (event, _) = json_event(SourceType::Emby, "emby_playback_start_episode.json");
    assert_eq!(event.data["media_type"], "episode");
    assert_eq!(event.data["title"], "第 11 集");
    assert_eq!(event.data["series"], "长风渡");
    assert_eq!(event.data["season"], 1);
    assert_eq!(event.data["episode"], 11);
    assert_eq!(event.data["position_seconds"], 1425);
}

#[test]
fn emby_form_encoded_data_field_parses_like_json() {
    let json_body = fixture("emby_playback_start_episode.json");
    let (from_json, _) = event(SourceType::Emby, Some("application/json"), &json_body);
    let text = String::from_utf8(json_body).unwrap();
    let form = serde_urlencoded::to_string([("data", text.as_str())]).unwrap();
    for content_type in [
        Some("application/x-www-form-urlencoded"),
        Some("application/x-www-form-urlencoded; charset=UTF-8"),
        None,
    ] {
        let (from_form, _) = event(SourceType::Emby, content_type, form.as_bytes());
        assert_eq!(data(&from_form), data(&from_json), "{content_type:?}");
        assert_eq!(from_form.data["raw"], from_json.data["raw"]);
    }
    // A multipart form with the same field.
    let boundary = "emby-boundary-1234";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"data\"\r\n\r\n{text}\r\n--{boundary}--\r\n"
    );
    let (from_multipart, _) = event(
        SourceType::Emby,
        Some(&format!("multipart/form-data; boundary={boundary}")),
        body.as_bytes(),
    );
    assert_eq!(data(&from_multipart), data(&from_json));
}

#[test]
fn emby_form_without_data_field_is_an_error() {
    let e = error(
        SourceType::Emby,
        Some("application/x-www-form-urlencoded"),
        b"payload=%7B%7D&x=1",
    );
    assert_eq!(
        e.to_string(),
        "emby: malformed body: the form has no `data` field with the JSON (fields: payload, x)"
    );
}

#[test]
fn emby_playback_stop_uses_played_to_completion() {
    let (event, _) = json_event(SourceType::Emby, "emby_playback_stop_episode.json");
    assert_eq!(event.event.as_str(), "playback.ended");
    assert_eq!(event.data["duration_seconds"], 2791);
    assert_eq!(event.data["completed"], true);
    assert!(!event.data.contains_key("position_seconds"));
}

#[test]
fn emby_test_notification_is_webhook_test() {
    let (event, origin) = json_event(SourceType::Emby, "emby_notification_test.json");
    assert_eq!(event.event.as_str(), "webhook.test");
    assert_eq!(event.data["message"], "Test Notification");
    assert_eq!(event.data["server_name"], "PN41");
    assert_eq!(origin.user_id, None);
}

#[test]
fn emby_event_table() {
    let base = fixture_json("emby_playback_stop_episode.json");
    for (emby, herald) in [
        ("playback.pause", "playback.paused"),
        ("playback.unpause", "playback.resumed"),
        ("library.new", "library.updated"),
        ("library.deleted", "library.updated"),
        ("item.markplayed", "media.marked_played"),
        ("item.markunplayed", "media.marked_unplayed"),
        ("user.created", "user.created"),
        ("session.start", "session.created"),
    ] {
        let mut payload = base.clone();
        payload["Event"] = json!(emby);
        let (event, _) = event_from(SourceType::Emby, payload);
        assert_eq!(event.event.as_str(), herald, "{emby}");
    }
    for other in [
        "item.rate",
        "playback.progress",
        "user.authenticated",
        "plugins.pluginupdated",
    ] {
        let mut payload = base.clone();
        payload["Event"] = json!(other);
        let (original_type, _) = ignored(SourceType::Emby, &Value::Object(payload));
        assert_eq!(original_type, other);
    }
}

// ---------------------------------------------------------------- Tautulli

#[test]
fn tautulli_string_numbers_are_parsed() {
    let (event, origin) = json_event(SourceType::Tautulli, "tautulli_play_episode.json");
    assert_eq!(event.event.as_str(), "playback.started");
    assert_eq!(
        data(&event),
        json!({
            "user_id": "20771545",
            "media_item_id": "48214",
            "media_type": "episode",
            "device_id": "a1b2c3d4e5f6a7b8c9d0e1f2",
            "position_seconds": 0,
            "runtime_seconds": 2820,
            "title": "Chapitre 6",
            "year": 2021,
            "series": "Lupin",
            "season": 2,
            "episode": 1,
            "user_name": "zoe.m",
            "device_name": "Wohnzimmer-TV",
            "client": "Plex for Android (TV)",
            "server_name": "Médiathèque",
            "image_url": "https://i.imgur.com/8QpW2Xk.jpeg",
            "overview": "Assane doit retrouver Raoul.",
            "server_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c",
            "library_id": "2",
            "library_name": "Séries",
        })
    );
    assert_eq!(origin.user_id.as_deref(), Some("20771545"));
}

#[test]
fn tautulli_stop_completes_from_progress_percent() {
    let (event, _) = json_event(SourceType::Tautulli, "tautulli_stop_movie.json");
    assert_eq!(event.event.as_str(), "playback.ended");
    assert_eq!(event.data["duration_seconds"], 7012);
    assert_eq!(event.data["completed"], true);
    assert!(
        !event.data.contains_key("series"),
        "empty strings are absent"
    );
    assert!(!event.data.contains_key("image_url"));

    let mut payload = fixture_json("tautulli_stop_movie.json");
    payload["progress_percent"] = json!("40");
    let (event, _) = event_from(SourceType::Tautulli, payload);
    assert_eq!(event.data["completed"], false);
}

#[test]
fn tautulli_grouped_recently_added_without_user() {
    let (event, origin) = json_event(SourceType::Tautulli, "tautulli_created_season.json");
    assert_eq!(event.event.as_str(), "library.updated");
    assert_eq!(event.data["change_type"], "item_added");
    assert_eq!(event.data["media_type"], "season");
    assert_eq!(event.data["library_id"], "2");
    assert!(!event.data.contains_key("season"), "`1-3` is a range");
    assert!(!event.data.contains_key("image_url"), "relative path");
    assert_eq!(origin.user_id, None);
}

#[test]
fn tautulli_action_table() {
    let base = fixture_json("tautulli_play_episode.json");
    for (action, herald) in [
        ("tautulli.pause", "playback.paused"),
        ("tautulli.resume", "playback.resumed"),
        ("tautulli.watched", "media.marked_played"),
        ("tautulli.test", "webhook.test"),
        ("play", "playback.started"),
    ] {
        let mut payload = base.clone();
        payload["event"] = json!(action);
        let (event, _) = event_from(SourceType::Tautulli, payload);
        assert_eq!(event.event.as_str(), herald, "{action}");
    }
    for other in ["tautulli.buffer", "tautulli.newdevice", "tautulli.intdown"] {
        let mut payload = base.clone();
        payload["event"] = json!(other);
        let (original_type, _) = ignored(SourceType::Tautulli, &Value::Object(payload));
        assert_eq!(original_type, other);
    }
}

/// The documented template, filled in as Tautulli would, parses.
#[test]
fn tautulli_documented_template_parses() {
    let doc = include_str!("../../src/sources/TAUTULLI.md");
    let start = doc.find("```json\n").unwrap() + "```json\n".len();
    let end = start + doc[start..].find("```").unwrap();
    let template = &doc[start..end];
    let mut filled = template.to_owned();
    for (param, value) in [
        ("{action}", "stop"),
        ("{user_id}", "7"),
        ("{username}", "ana"),
        ("{server_machine_id}", "abc"),
        ("{server_name}", "Plex"),
        ("{rating_key}", "123"),
        ("{media_type}", "movie"),
        ("{title}", "Heat"),
        ("{episode_name}", ""),
        ("{show_name}", ""),
        ("{season_num}", ""),
        ("{episode_num}", ""),
        ("{year}", "1995"),
        ("{summary}", ""),
        ("{poster_url}", ""),
        ("{machine_id}", "m1"),
        ("{player}", "TV"),
        ("{product}", "Plex for LG"),
        ("{section_id}", "1"),
        ("{library_name}", "Movies"),
        ("{progress_duration_sec}", "9000"),
        ("{duration_sec}", "10200"),
        ("{progress_percent}", "88"),
    ] {
        assert!(filled.contains(param), "template lacks {param}");
        filled = filled.replace(param, value);
    }
    assert!(!filled.contains('{') || filled.trim_start().starts_with('{'));
    let (event, _) = event(
        SourceType::Tautulli,
        Some("application/json"),
        filled.as_bytes(),
    );
    assert_eq!(event.event.as_str(), "playback.ended");
    assert_eq!(event.data["duration_seconds"], 9000);
    assert_eq!(event.data["completed"], false);
    assert_eq!(event.data["year"], 1995);
}

#[test]
fn tautulli_without_event_points_to_the_template() {
    let e = error(SourceType::Tautulli, None, br#"{"title":"x"}"#);
    assert!(e.to_string().contains("tautulli.{action}"), "{e}");
    let e = error(
        SourceType::Tautulli,
        None,
        br#"{"event":"tautulli.play","title":"x"}"#,
    );
    assert!(e.to_string().contains("media_item_id"), "{e}");
}

// ---------------------------------------------------------------- Herald

#[test]
fn herald_native_events_resolve_aliases_and_keep_id_and_timestamp() {
    let body = json!({
        "id": "evt_client_1",
        "event": "playback.start",
        "timestamp": "2025-05-05T05:05:05Z",
        "data": {"media_item_id": "m1", "user_id": "u1", "user_name": "Ana", "server_id": "srv"}
    });
    let parsed = parse(SourceType::Herald, None, body.to_string().as_bytes(), now()).unwrap();
    let Parsed::Event { event, origin } = parsed else {
        panic!("ignored")
    };
    assert_eq!(event.id, "evt_client_1");
    assert_eq!(event.event.as_str(), "playback.started");
    assert_eq!(event.timestamp.to_rfc3339(), "2025-05-05T05:05:05+00:00");
    assert!(!event.data.contains_key("raw"));
    assert_eq!(origin.user_id.as_deref(), Some("u1"));
    assert_eq!(origin.user_name.as_deref(), Some("Ana"));
    assert_eq!(origin.server_id.as_deref(), Some("srv"));
}

#[test]
fn herald_native_events_get_id_and_timestamp_from_now() {
    let (event, _) = event(SourceType::Herald, None, br#"{"event":"my_app.deployed"}"#);
    assert_eq!(event.event.as_str(), "my_app.deployed");
    // The ULID's time part is `now`.
    let ulid: ulid::Ulid = event.id["evt_".len()..].parse().unwrap();
    assert_eq!(
        DateTime::<Utc>::from(ulid.datetime()),
        now(),
        "id time from now"
    );
}

#[test]
fn herald_invalid_events_are_errors() {
    let e = error(
        SourceType::Herald,
        None,
        br#"{"event":"playback.started","data":{}}"#,
    );
    assert!(matches!(e, SourceError::Invalid { .. }), "{e}");
    assert!(e.to_string().contains("media_item_id"), "{e}");
    let e = error(SourceType::Herald, None, br#"{"data":{}}"#);
    assert!(e.to_string().contains("event"), "{e}");
}

// ---------------------------------------------------------------- common

#[test]
fn malformed_bodies_are_errors_naming_the_source() {
    for source in SourceType::ALL {
        for (body, expected) in [
            (&b""[..], "empty"),
            (b"   ", "empty"),
            (b"[1,2]", "an array"),
            (b"\"text\"", "a string"),
            (b"{\"event\":", "invalid JSON"),
            (b"\xFF\xFE\x00", "invalid JSON"),
        ] {
            let e = error(source, Some("application/json"), body);
            assert!(matches!(e, SourceError::Malformed { .. }), "{e}");
            let message = e.to_string();
            assert!(message.starts_with(&format!("{source}: ")), "{message}");
            assert!(message.contains(expected), "{message}");
        }
    }
}

#[test]
fn a_json_body_with_a_bom_and_odd_content_type_parses() {
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend_from_slice(&fixture("emby_notification_test.json"));
    let (event, _) = event(SourceType::Emby, Some("text/plain; charset=utf-8"), &body);
    assert_eq!(event.event.as_str(), "webhook.test");
}

#[test]
fn a_json_body_sent_as_a_form_is_read_as_json() {
    for content_type in [
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ] {
        let (event, _) = event(
            SourceType::Emby,
            Some(content_type),
            &fixture("emby_playback_start_movie.json"),
        );
        assert_eq!(event.event.as_str(), "playback.started", "{content_type}");
    }
}

#[test]
fn source_types_are_lower_case_names() {
    for source in SourceType::ALL {
        let json = serde_json::to_value(source).unwrap();
        assert_eq!(json, Value::String(source.to_string()));
        assert_eq!(source.as_str().parse::<SourceType>().unwrap(), source);
        let back: SourceType = serde_json::from_value(json).unwrap();
        assert_eq!(back, source);
    }
    assert_eq!(
        "Plex".parse::<SourceType>().unwrap_err().to_string(),
        "unknown source type `Plex`; known: plex, jellyfin, emby, tautulli, herald"
    );
}

#[test]
fn every_fixture_produces_a_valid_event_with_its_raw_payload() {
    let cases = [
        (SourceType::Plex, "plex_media_play_track.json"),
        (SourceType::Plex, "plex_media_stop_episode.json"),
        (SourceType::Plex, "plex_library_new_movie.json"),
        (SourceType::Jellyfin, "jellyfin_playback_start_episode.json"),
        (SourceType::Jellyfin, "jellyfin_playback_stop_movie.json"),
        (SourceType::Jellyfin, "jellyfin_item_added_movie.json"),
        (SourceType::Jellyfin, "jellyfin_user_data_saved_toggle.json"),
        (SourceType::Jellyfin, "jellyfin_template_strings.json"),
        (SourceType::Emby, "emby_playback_start_movie.json"),
        (SourceType::Emby, "emby_playback_start_episode.json"),
        (SourceType::Emby, "emby_playback_stop_episode.json"),
        (SourceType::Emby, "emby_notification_test.json"),
        (SourceType::Tautulli, "tautulli_play_episode.json"),
        (SourceType::Tautulli, "tautulli_stop_movie.json"),
        (SourceType::Tautulli, "tautulli_created_season.json"),
    ];
    for (source, name) in cases {
        let (event, _) = json_event(source, name);
        // It serializes and reads back as the same event.
        let back: Event = serde_json::from_slice(&event.to_json_bytes()).unwrap();
        assert_eq!(back, event, "{name}");
    }
}

// ---------------------------------------------------------------- properties

const KEYS: &[&str] = &[
    // Plex
    "event",
    "Account",
    "Server",
    "Player",
    "Metadata",
    "id",
    "title",
    "uuid",
    "ratingKey",
    "type",
    "grandparentTitle",
    "parentTitle",
    "parentIndex",
    "index",
    "year",
    "summary",
    "thumb",
    "librarySectionID",
    "librarySectionTitle",
    "viewOffset",
    "duration",
    // Jellyfin
    "NotificationType",
    "ServerId",
    "ServerName",
    "ServerUrl",
    "UserId",
    "NotificationUsername",
    "ItemId",
    "ItemType",
    "Name",
    "SeriesName",
    "SeasonNumber",
    "SeasonNumber00",
    "EpisodeNumber",
    "Year",
    "Overview",
    "DeviceId",
    "DeviceName",
    "ClientName",
    "PlaybackPositionTicks",
    "RunTimeTicks",
    "PlayedToCompletion",
    "IsPaused",
    "Played",
    "SaveReason",
    "Id",
    // Emby
    "Event",
    "Title",
    "User",
    "Item",
    "Session",
    "PlaybackInfo",
    "PositionTicks",
    "Type",
    "ParentIndexNumber",
    "IndexNumber",
    "ProductionYear",
    "Client",
    // Tautulli
    "user_id",
    "user_name",
    "server_id",
    "media_item_id",
    "media_type",
    "season",
    "episode",
    "position_seconds",
    "runtime_seconds",
    "progress_percent",
    "image_url",
    "episode_name",
    // Herald
    "data",
    "timestamp",
];

const EVENT_TYPES: &[&str] = &[
    "media.play",
    "media.pause",
    "media.resume",
    "media.stop",
    "media.scrobble",
    "media.rate",
    "library.new",
    "playback.started",
    "PlaybackStart",
    "PlaybackStop",
    "PlaybackProgress",
    "ItemAdded",
    "ItemDeleted",
    "UserDataSaved",
    "UserCreated",
    "SessionStart",
    "playback.start",
    "playback.stop",
    "playback.pause",
    "playback.unpause",
    "item.markplayed",
    "item.markunplayed",
    "system.notificationtest",
    "library.deleted",
    "user.created",
    "session.start",
    "tautulli.play",
    "tautulli.stop",
    "tautulli.watched",
    "tautulli.created",
    "tautulli.test",
    "TogglePlayed",
    "playback.ended",
    "webhook.test",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![Just(i64::MIN), Just(-1_i64), Just(i64::MAX)].prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![Just(1e300_f64), Just(-1e300), Just(0.5), Just(-0.0)].prop_map(|f| json!(f)),
        any::<i64>().prop_map(|n| Value::String(n.to_string())),
        "[0-9]{0,25}".prop_map(Value::String),
        "\\PC{0,12}".prop_map(Value::String),
        prop::sample::select(EVENT_TYPES).prop_map(|s| Value::String(s.to_owned())),
        Just(Value::String("https://img.example/x.jpg".into())),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(KEYS).prop_map(str::to_owned),
        1 => "\\PC{0,8}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with an event type field of each source and random known keys.
fn payload() -> impl Strategy<Value = Map<String, Value>> {
    (
        prop::collection::btree_map(key(), json_value(), 0..16),
        prop::sample::select(EVENT_TYPES),
    )
        .prop_map(|(fields, event_type)| {
            let mut map: Map<String, Value> = fields.into_iter().collect();
            for type_key in ["event", "NotificationType", "Event"] {
                map.entry(type_key)
                    .or_insert_with(|| Value::String(event_type.to_owned()));
            }
            map
        })
}

fn source() -> impl Strategy<Value = SourceType> {
    prop::sample::select(SourceType::ALL.to_vec())
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("application/json".to_owned())),
        Just(Some("application/x-www-form-urlencoded".to_owned())),
        Just(Some("multipart/form-data; boundary=XyZ".to_owned())),
        Just(Some("multipart/form-data".to_owned())),
        "\\PC{0,30}".prop_map(Some),
    ]
}

/// Every produced event is valid; nothing panics.
fn check(source: SourceType, content_type: Option<&str>, body: &[u8]) {
    if let Ok(Parsed::Event { event, .. }) = parse(source, content_type, body, now()) {
        event.validate().unwrap();
        assert!(event.event.as_known().is_some() || source == SourceType::Herald);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(
        source in source(),
        content_type in content_type(),
        body in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        check(source, content_type.as_deref(), &body);
    }

    #[test]
    fn arbitrary_json_shapes_never_panic_and_events_validate(
        source in source(),
        payload in payload(),
    ) {
        let body = Value::Object(payload.clone()).to_string();
        check(source, Some("application/json"), body.as_bytes());
        // The same payload nested as the Plex/Emby form fields would carry it.
        let form = serde_urlencoded::to_string([("payload", &body), ("data", &body)]).unwrap();
        check(source, Some("application/x-www-form-urlencoded"), form.as_bytes());
    }

    #[test]
    fn mapped_fixtures_with_random_values_validate(
        source_and_fixture in prop::sample::select(vec![
            (SourceType::Plex, "plex_media_stop_episode.json", "Metadata"),
            (SourceType::Jellyfin, "jellyfin_playback_stop_movie.json", ""),
            (SourceType::Emby, "emby_playback_stop_episode.json", "PlaybackInfo"),
            (SourceType::Emby, "emby_playback_start_episode.json", "Item"),
            (SourceType::Tautulli, "tautulli_stop_movie.json", ""),
        ]),
        overrides in prop::collection::btree_map(key(), leaf(), 0..12),
    ) {
        let (source, name, nested) = source_and_fixture;
        let mut payload = fixture_json(name);
        for (k, v) in overrides {
            // Keep the event type so the mapping code runs.
            if matches!(k.as_str(), "event" | "Event" | "NotificationType") {
                continue;
            }
            match payload.get_mut(nested).and_then(Value::as_object_mut) {
                Some(inner) => { inner.insert(k, v); }
                None => { payload.insert(k, v); }
            }
        }
        check(source, None, Value::Object(payload).to_string().as_bytes());
    }

    #[test]
    fn multipart_with_arbitrary_parts_never_panics(
        source in source(),
        payload in prop::collection::vec(any::<u8>(), 0..256),
        thumb in prop::collection::vec(any::<u8>(), 0..256),
        truncate in any::<prop::sample::Index>(),
        name in prop::sample::select(vec!["payload", "data", "thumb", ""]),
    ) {
        let mut body = format!(
            "--XyZ\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(&payload);
        body.extend_from_slice(b"\r\n--XyZ\r\nContent-Disposition: form-data; name=\"thumb\"\r\n\r\n");
        body.extend_from_slice(&thumb);
        body.extend_from_slice(b"\r\n--XyZ--\r\n");
        let content_type = "multipart/form-data; boundary=XyZ";
        check(source, Some(content_type), &body);
        let cut = truncate.index(body.len() + 1);
        check(source, Some(content_type), &body[..cut]);
    }

    #[test]
    fn dedup_memory_stays_bounded(
        ops in prop::collection::vec((0u8..40, -100i64..100), 0..300),
        capacity in 1usize..16,
    ) {
        let mut dedup = Deduplicator::new(Duration::from_secs(30), capacity);
        for (key, offset) in ops {
            dedup.seen(&key.to_string(), now() + chrono::Duration::seconds(offset));
            prop_assert!(dedup.len() <= capacity);
        }
    }
}
