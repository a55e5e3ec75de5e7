//! Jellyfin webhooks (jellyfin-plugin-webhook, "Generic" destination).
//!
//! The plugin posts one flat JSON object: with "Send All Properties" it is the
//! plugin's whole data object; with a template it is whatever the template
//! renders, so keys are matched case-insensitively and numbers may come as
//! strings (`"SeasonNumber": "{{SeasonNumber}}"`, or the padded
//! `SeasonNumber00`/`SeasonNumber000` variants). Keys read: `NotificationType`,
//! `ServerId`, `ServerName`, `ServerUrl`, `UserId`, `NotificationUsername`
//! (or `Username`), `ItemId`, `ItemType`, `Name`, `SeriesName`,
//! `SeasonNumber`, `EpisodeNumber`, `Year`, `Overview`, `DeviceId`,
//! `DeviceName`, `ClientName` (or `Client`), `PlaybackPositionTicks`,
//! `RunTimeTicks` (100 ns ticks), `PlayedToCompletion`, `Played`,
//! `SaveReason`, `Id` (the session of `SessionStart`), `Album`, `Artist`,
//! `LibraryIdByMaxPath`/`LibraryNameByMaxPath`.
//!
//! | `NotificationType` | Herald event |
//! | --- | --- |
//! | `PlaybackStart` | `playback.started` |
//! | `PlaybackStop` | `playback.ended` (`completed` = `PlayedToCompletion`, else position/runtime ≥ 90 %) |
//! | `ItemAdded` | `library.updated`, `change_type: item_added` (no user needed) |
//! | `ItemDeleted` | `library.updated`, `change_type: item_removed` |
//! | `UserDataSaved` with `SaveReason: TogglePlayed` | `media.marked_played` (`marked_by: "user"`) or `media.marked_unplayed`, from `Played` |
//! | `UserCreated` | `user.created` |
//! | `SessionStart` | `session.created` (`session_id` from `Id`) |
//! | `PlaybackProgress` | ignored (see below) |
//! | `UserDataSaved` with another `SaveReason`, anything else | ignored |
//!
//! **No pause/resume.** Jellyfin has no pause event: clients report
//! `PlaybackProgress` every few seconds with `IsPaused`. One progress report
//! cannot tell a *change* to paused from "still paused", and this parser
//! keeps no state, so mapping `IsPaused` would send a pause notification
//! every few seconds. Progress is therefore ignored; Jellyfin sources produce
//! no `playback.paused`/`playback.resumed`.
//!
//! **Why only `TogglePlayed`.** `UserDataSaved` fires for every user-data
//! write: progress saves, favourites, ratings, and `PlaybackFinished` right
//! after a `PlaybackStop` that already says `PlayedToCompletion`. Only a
//! manual toggle is a "marked played/unplayed" by the user.
//!
//! `image_url` is `{ServerUrl}/Items/{ItemId}/Images/Primary` (the plugin's
//! own templates do the same) when the configured `ServerUrl` is an absolute
//! `http(s)` URL. Ids (GUIDs) are kept exactly as sent.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::normalize::{
    absolute_url, boolean, build, ignored, int, media_type, text, uint, Fields, Names, Target,
    TICKS_PER_SECOND,
};
use super::{Parsed, SourceError, SourceType};

const NAMES: Names = Names {
    item_id: "ItemId",
    user_id: "UserId",
    session_id: "Id",
    hint: "; with a custom template, add the field, or tick \"Send All Properties\"",
};

/// A field, matched exactly first, then case-insensitively; `null` is absent.
fn field<'a>(p: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    p.get(key)
        .or_else(|| {
            p.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
        .filter(|v| !v.is_null())
}

fn first_uint(p: &Map<String, Value>, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| uint(field(p, k)))
}

fn first_text(p: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| text(field(p, k)))
}

pub(crate) fn parse(
    payload: Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Parsed, SourceError> {
    let Some(event_type) = text(field(&payload, "NotificationType")) else {
        return Err(SourceError::malformed(
            SourceType::Jellyfin,
            "no `NotificationType` field; with a custom template, add \
             \"NotificationType\": \"{{NotificationType}}\"",
        ));
    };
    let target = match event_type.as_str() {
        "PlaybackStart" => Target::Started,
        "PlaybackStop" => Target::Ended,
        "ItemAdded" => Target::ItemAdded,
        "ItemDeleted" => Target::ItemRemoved,
        "UserCreated" => Target::UserCreated,
        "SessionStart" => Target::SessionCreated,
        "UserDataSaved" => {
            let reason = text(field(&payload, "SaveReason"));
            if reason.as_deref() != Some("TogglePlayed") {
                return Ok(ignored(
                    &event_type,
                    format!(
                        "UserDataSaved with SaveReason {}: only TogglePlayed is a \
                         marked played/unplayed",
                        reason.as_deref().unwrap_or("(none)")
                    ),
                ));
            }
            match boolean(field(&payload, "Played")) {
                Some(true) => Target::MarkedPlayed { by_user: true },
                Some(false) => Target::MarkedUnplayed,
                None => {
                    return Err(SourceError::MissingField {
                        source_type: SourceType::Jellyfin,
                        event_type,
                        field: "Played",
                        hint: NAMES.hint,
                    })
                }
            }
        }
        "PlaybackProgress" => {
            return Ok(ignored(
                &event_type,
                "progress reports repeat every few seconds; pause/resume cannot be told \
                 from one report without state",
            ))
        }
        _ => {
            return Ok(ignored(
                &event_type,
                "Herald does not map this Jellyfin notification type",
            ))
        }
    };
    let fields = fields(&payload);
    build(
        SourceType::Jellyfin,
        &event_type,
        target,
        fields,
        &NAMES,
        Some(payload),
        now,
    )
}

fn fields(p: &Map<String, Value>) -> Fields {
    let item_id = text(field(p, "ItemId"));
    let server_url = absolute_url(text(field(p, "ServerUrl")));
    let image_url = match (&server_url, &item_id) {
        (Some(url), Some(id)) => Some(format!(
            "{}/Items/{id}/Images/Primary",
            url.trim_end_matches('/')
        )),
        _ => None,
    };
    let media = media_type(text(field(p, "ItemType")));
    let mut f = Fields {
        user_id: text(field(p, "UserId")),
        user_name: first_text(p, &["NotificationUsername", "Username"]),
        server_id: text(field(p, "ServerId")),
        server_name: text(field(p, "ServerName")),
        item_id,
        device_id: text(field(p, "DeviceId")),
        device_name: text(field(p, "DeviceName")),
        client: first_text(p, &["ClientName", "Client"]),
        session_id: text(field(p, "Id")),
        library_id: text(field(p, "LibraryIdByMaxPath")),
        library_name: text(field(p, "LibraryNameByMaxPath")),
        title: text(field(p, "Name")),
        year: int(field(p, "Year")),
        overview: text(field(p, "Overview")),
        image_url,
        position_seconds: uint(field(p, "PlaybackPositionTicks")).map(|t| t / TICKS_PER_SECOND),
        runtime_seconds: uint(field(p, "RunTimeTicks"))
            .filter(|t| *t > 0)
            .map(|t| t / TICKS_PER_SECOND),
        completed: boolean(field(p, "PlayedToCompletion")),
        ..Fields::default()
    };
    match media.as_deref() {
        Some("episode") => {
            f.series = text(field(p, "SeriesName"));
            f.season = first_uint(p, &["SeasonNumber", "SeasonNumber00", "SeasonNumber000"]);
            f.episode = first_uint(p, &["EpisodeNumber", "EpisodeNumber00", "EpisodeNumber000"]);
        }
        Some("season") => {
            f.series = text(field(p, "SeriesName"));
            f.season = first_uint(p, &["SeasonNumber", "SeasonNumber00", "SeasonNumber000"]);
        }
        Some("track") | Some("album") => {
            for (from, to) in [("Artist", "artist"), ("Album", "album")] {
                if let Some(v) = text(field(p, from)) {
                    f.extra.push((to, Value::String(v)));
                }
            }
        }
        _ => {}
    }
    f.media_type = media;
    f
}
