//! Plex Media Server webhooks.
//!
//! Plex posts `multipart/form-data` with a JSON part named `payload` and, for
//! some events, a JPEG part named `thumb` (skipped unread). The JSON has
//! `event`, `user`/`owner` flags, `Account {id, title}`, `Server {uuid,
//! title}`, `Player {uuid, title, publicAddress, local}` and `Metadata`
//! (`ratingKey`, `type`, `title`, `grandparentTitle`, `parentTitle`,
//! `parentIndex`, `index`, `year`, `summary`, `thumb`, `librarySectionID`,
//! `librarySectionTitle`, `viewOffset` and `duration` in milliseconds).
//!
//! | Plex `event` | Herald event |
//! | --- | --- |
//! | `media.play`, `playback.started` | `playback.started` |
//! | `media.pause` | `playback.paused` |
//! | `media.resume` | `playback.resumed` |
//! | `media.stop` | `playback.ended` (`completed` from `viewOffset`/`duration` ≥ 90 % when both are sent) |
//! | `media.scrobble` | `media.marked_played` with `marked_by: "playback"` |
//! | `library.new` | `library.updated` with `change_type: item_added` |
//! | `media.rate`, `library.on.deck`, `admin.database.backup`, `admin.database.corrupted`, `device.new`, anything else | ignored |
//!
//! **Why `media.scrobble` is not `playback.ended`.** Plex sends `media.scrobble`
//! when playback passes 90 % and the item is marked watched, *while playback
//! goes on*; the same session later sends `media.stop`. Mapping both to
//! `playback.ended` would notify twice for one viewing (and the first one
//! too early). So `media.stop` alone ends playback, and `media.scrobble` is
//! what it is in Plex: the item became watched, i.e. `media.marked_played`,
//! tagged `marked_by: "playback"` so a route can tell it from a manual
//! "mark as watched" (`marked_by: "user"` on Jellyfin and Emby) and filter it
//! out.
//!
//! **Repeats.** The owner's webhook receives `playback.started` for a shared
//! user's play *and* `media.play` for the same play, and clients re-send
//! `media.play` after buffering; both become `playback.started` with the same
//! user and item, which the host's [`Deduplicator`](super::Deduplicator)
//! drops.
//!
//! `Metadata.thumb` is a path on the server (`/library/metadata/…`), not an
//! absolute URL, so `image_url` is only set when Plex sends an absolute one.
//! Plex sends no client name; `device_name` is `Player.title`.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::normalize::{
    absolute_url, build, get, ignored, int, media_type, text, uint, Fields, Names, Target,
};
use super::{Parsed, SourceError, SourceType};

const NAMES: Names = Names {
    item_id: "Metadata.ratingKey",
    user_id: "Account.id",
    session_id: "Player.uuid",
    hint: "",
};

pub(crate) fn parse(
    payload: Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Parsed, SourceError> {
    let Some(event_type) = text(payload.get("event")) else {
        return Err(SourceError::malformed(
            SourceType::Plex,
            "no `event` field; is this a Plex webhook payload?",
        ));
    };
    let target = match event_type.as_str() {
        "media.play" | "playback.started" => Target::Started,
        "media.pause" => Target::Paused,
        "media.resume" => Target::Resumed,
        "media.stop" => Target::Ended,
        "media.scrobble" => Target::MarkedPlayed { by_user: false },
        "library.new" => Target::ItemAdded,
        "media.rate" => return Ok(ignored(&event_type, "ratings have no Herald event")),
        "library.on.deck" => {
            return Ok(ignored(
                &event_type,
                "on-deck changes are per-user suggestions, not library changes",
            ))
        }
        _ => {
            return Ok(ignored(
                &event_type,
                "Herald does not map this Plex event type",
            ))
        }
    };
    let fields = fields(&payload);
    build(
        SourceType::Plex,
        &event_type,
        target,
        fields,
        &NAMES,
        Some(payload),
        now,
    )
}

fn fields(p: &Map<String, Value>) -> Fields {
    let m = |key: &str| get(p, &["Metadata", key]);
    let media = media_type(text(m("type")));
    let mut f = Fields {
        user_id: text(get(p, &["Account", "id"])),
        user_name: text(get(p, &["Account", "title"])),
        server_id: text(get(p, &["Server", "uuid"])),
        server_name: text(get(p, &["Server", "title"])),
        item_id: text(m("ratingKey")),
        device_id: text(get(p, &["Player", "uuid"])),
        device_name: text(get(p, &["Player", "title"])),
        library_id: text(m("librarySectionID")),
        library_name: text(m("librarySectionTitle")),
        title: text(m("title")),
        year: int(m("year")),
        overview: text(m("summary")),
        image_url: absolute_url(text(m("thumb"))),
        position_seconds: uint(m("viewOffset")).map(|ms| ms / 1000),
        runtime_seconds: uint(m("duration")).map(|ms| ms / 1000),
        ..Fields::default()
    };
    match media.as_deref() {
        Some("episode") => {
            f.series = text(m("grandparentTitle"));
            f.season = uint(m("parentIndex"));
            f.episode = uint(m("index"));
        }
        Some("season") => {
            f.series = text(m("parentTitle"));
            f.season = uint(m("index"));
        }
        Some("track") => {
            if let Some(artist) = text(m("grandparentTitle")) {
                f.extra.push(("artist", Value::String(artist)));
            }
            if let Some(album) = text(m("parentTitle")) {
                f.extra.push(("album", Value::String(album)));
            }
        }
        _ => {}
    }
    f.media_type = media;
    f
}
