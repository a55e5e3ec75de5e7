//! Emby webhooks.
//!
//! Emby posts JSON (`application/json`), or on older versions and some
//! set-ups a form (`application/x-www-form-urlencoded` or
//! `multipart/form-data`) whose `data` field holds the same JSON. Keys read:
//! `Event`, `Title`, `User {Id, Name}`, `Item {Id, Name, Type, RunTimeTicks,
//! SeriesName, ParentIndexNumber, IndexNumber, ProductionYear, Overview,
//! Album, AlbumArtist}`, `Server {Id, Name}`, `Session {Id, DeviceId,
//! DeviceName, Client}`, `PlaybackInfo {PositionTicks, PlayedToCompletion}`.
//!
//! | Emby `Event` | Herald event |
//! | --- | --- |
//! | `playback.start` | `playback.started` |
//! | `playback.pause` | `playback.paused` |
//! | `playback.unpause` | `playback.resumed` |
//! | `playback.stop` | `playback.ended` (`completed` = `PlaybackInfo.PlayedToCompletion`, else position/runtime ≥ 90 %) |
//! | `library.new` | `library.updated`, `change_type: item_added` |
//! | `library.deleted` | `library.updated`, `change_type: item_removed` |
//! | `item.markplayed` | `media.marked_played` (`marked_by: "user"`) |
//! | `item.markunplayed` | `media.marked_unplayed` |
//! | `user.created`, `user.new` | `user.created` |
//! | `session.start` | `session.created` (`session_id` from `Session.Id`) |
//! | `system.notificationtest` | `webhook.test` (`message` from `Title`) |
//! | `item.rate`, `playback.progress`, `user.authenticated`, `system.*`, `plugins.*`, anything else | ignored |
//!
//! Emby sends no absolute image URL, so `image_url` is never set.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::normalize::{
    boolean, build, get, ignored, int, media_type, text, uint, Fields, Names, Target,
    TICKS_PER_SECOND,
};
use super::{Parsed, SourceError, SourceType};

const NAMES: Names = Names {
    item_id: "Item.Id",
    user_id: "User.Id",
    session_id: "Session.Id",
    hint: "",
};

pub(crate) fn parse(
    payload: Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Parsed, SourceError> {
    let Some(event_type) = text(payload.get("Event")) else {
        return Err(SourceError::malformed(
            SourceType::Emby,
            "no `Event` field; is this an Emby webhook payload?",
        ));
    };
    let target = match event_type.as_str() {
        "playback.start" => Target::Started,
        "playback.pause" => Target::Paused,
        "playback.unpause" => Target::Resumed,
        "playback.stop" => Target::Ended,
        "library.new" => Target::ItemAdded,
        "library.deleted" => Target::ItemRemoved,
        "item.markplayed" => Target::MarkedPlayed { by_user: true },
        "item.markunplayed" => Target::MarkedUnplayed,
        "user.created" | "user.new" => Target::UserCreated,
        "session.start" => Target::SessionCreated,
        "system.notificationtest" => Target::Test,
        "playback.progress" => {
            return Ok(ignored(
                &event_type,
                "progress reports repeat during playback; pause/resume have their own events",
            ))
        }
        _ => {
            return Ok(ignored(
                &event_type,
                "Herald does not map this Emby event type",
            ))
        }
    };
    let fields = fields(&payload);
    build(
        SourceType::Emby,
        &event_type,
        target,
        fields,
        &NAMES,
        Some(payload),
        now,
    )
}

fn fields(p: &Map<String, Value>) -> Fields {
    let item = |key: &str| get(p, &["Item", key]);
    let media = media_type(text(item("Type")));
    let mut f = Fields {
        user_id: text(get(p, &["User", "Id"])),
        user_name: text(get(p, &["User", "Name"])),
        server_id: text(get(p, &["Server", "Id"])),
        server_name: text(get(p, &["Server", "Name"])),
        item_id: text(item("Id")),
        device_id: text(get(p, &["Session", "DeviceId"])),
        device_name: text(get(p, &["Session", "DeviceName"])),
        client: text(get(p, &["Session", "Client"])),
        session_id: text(get(p, &["Session", "Id"])),
        title: text(item("Name")),
        year: int(item("ProductionYear")),
        overview: text(item("Overview")),
        position_seconds: uint(get(p, &["PlaybackInfo", "PositionTicks"]))
            .map(|t| t / TICKS_PER_SECOND),
        runtime_seconds: uint(item("RunTimeTicks"))
            .filter(|t| *t > 0)
            .map(|t| t / TICKS_PER_SECOND),
        completed: boolean(get(p, &["PlaybackInfo", "PlayedToCompletion"])),
        message: text(p.get("Title")),
        ..Fields::default()
    };
    match media.as_deref() {
        Some("episode") => {
            f.series = text(item("SeriesName"));
            f.season = uint(item("ParentIndexNumber"));
            f.episode = uint(item("IndexNumber"));
        }
        Some("season") => {
            f.series = text(item("SeriesName"));
            f.season = uint(item("IndexNumber"));
        }
        Some("track") => {
            for (from, to) in [("AlbumArtist", "artist"), ("Album", "album")] {
                if let Some(v) = text(item(from)) {
                    f.extra.push((to, Value::String(v)));
                }
            }
        }
        _ => {}
    }
    f.media_type = media;
    f
}
