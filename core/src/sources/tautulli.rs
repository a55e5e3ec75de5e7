//! Tautulli's webhook agent, with Herald's JSON data template.
//!
//! Tautulli posts whatever JSON the user writes in the agent's "JSON Data"
//! boxes, with `{parameters}` substituted as text. Herald reads the flat
//! template below (also in `core/src/sources/TAUTULLI.md`); paste it into
//! every trigger you enable (Webhook Method `POST`). Every value may arrive
//! as a string (`"season": "2"`, `"position_seconds": "1234"`) and empty
//! strings mean "absent", so numbers are parsed from strings.
//!
//! ```json
//! {
//!   "event": "tautulli.{action}",
//!   "user_id": "{user_id}",
//!   "user_name": "{username}",
//!   "server_id": "{server_machine_id}",
//!   "server_name": "{server_name}",
//!   "media_item_id": "{rating_key}",
//!   "media_type": "{media_type}",
//!   "title": "{title}",
//!   "episode_name": "{episode_name}",
//!   "series": "{show_name}",
//!   "season": "{season_num}",
//!   "episode": "{episode_num}",
//!   "year": "{year}",
//!   "overview": "{summary}",
//!   "image_url": "{poster_url}",
//!   "device_id": "{machine_id}",
//!   "device_name": "{player}",
//!   "client": "{product}",
//!   "library_id": "{section_id}",
//!   "library_name": "{library_name}",
//!   "position_seconds": "{progress_duration_sec}",
//!   "runtime_seconds": "{duration_sec}",
//!   "progress_percent": "{progress_percent}"
//! }
//! ```
//!
//! | `event` (`tautulli.{action}`; the prefix is optional) | Herald event |
//! | --- | --- |
//! | `tautulli.play` | `playback.started` |
//! | `tautulli.pause` | `playback.paused` |
//! | `tautulli.resume` | `playback.resumed` |
//! | `tautulli.stop` | `playback.ended` (`completed` from `progress_percent` ≥ 90, else position/runtime) |
//! | `tautulli.watched` | `media.marked_played` with `marked_by: "playback"` (Tautulli's watched threshold; see Plex's `media.scrobble`) |
//! | `tautulli.created` | `library.updated`, `change_type: item_added` |
//! | `tautulli.test` | `webhook.test` (`message` from a `message` key when present) |
//! | `change`, `buffer`, `error`, `intro`, `credits`, `commercial`, `newdevice`, `concurrent`, update and server up/down actions, anything else | ignored |
//!
//! For episodes `title` is the episode name (`{episode_name}`), since
//! Tautulli's `{title}` is the full "Show - Episode" title. A grouped
//! "recently added" notification may send `"season": "1-3"`; such ranges are
//! not numbers and are left out. `{poster_url}` is only filled by Tautulli
//! when an image host is configured (Settings → 3rd Party APIs).

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::normalize::{
    absolute_url, build, ignored, int, media_type, text, uint, Fields, Names, Target,
};
use super::{Parsed, SourceError, SourceType};

const NAMES: Names = Names {
    item_id: "media_item_id",
    user_id: "user_id",
    session_id: "session_id",
    hint: "; use Herald's JSON data template (core/src/sources/TAUTULLI.md)",
};

pub(crate) fn parse(
    payload: Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<Parsed, SourceError> {
    let Some(event_type) = text(payload.get("event")) else {
        return Err(SourceError::malformed(
            SourceType::Tautulli,
            "no `event` field; use Herald's JSON data template with \
             \"event\": \"tautulli.{action}\"",
        ));
    };
    let action = event_type
        .strip_prefix("tautulli.")
        .unwrap_or(&event_type)
        .to_ascii_lowercase();
    let target = match action.as_str() {
        "play" => Target::Started,
        "pause" => Target::Paused,
        "resume" => Target::Resumed,
        "stop" => Target::Ended,
        "watched" => Target::MarkedPlayed { by_user: false },
        "created" => Target::ItemAdded,
        "test" => Target::Test,
        _ => {
            return Ok(ignored(
                &event_type,
                "Herald does not map this Tautulli action",
            ))
        }
    };
    let fields = fields(&payload);
    build(
        SourceType::Tautulli,
        &event_type,
        target,
        fields,
        &NAMES,
        Some(payload),
        now,
    )
}

fn fields(p: &Map<String, Value>) -> Fields {
    let t = |key: &str| text(p.get(key));
    let u = |key: &str| uint(p.get(key));
    let media = media_type(t("media_type"));
    let title = match media.as_deref() {
        Some("episode") => t("episode_name").or_else(|| t("title")),
        _ => t("title"),
    };
    let completed = u("progress_percent").map(|percent| percent >= 90);
    Fields {
        user_id: t("user_id"),
        user_name: t("user_name"),
        server_id: t("server_id"),
        server_name: t("server_name"),
        item_id: t("media_item_id"),
        device_id: t("device_id"),
        device_name: t("device_name"),
        client: t("client"),
        session_id: t("session_id"),
        library_id: t("library_id"),
        library_name: t("library_name"),
        title,
        series: t("series"),
        season: u("season"),
        episode: u("episode"),
        year: int(p.get("year")),
        overview: t("overview"),
        image_url: absolute_url(t("image_url")),
        position_seconds: u("position_seconds"),
        runtime_seconds: u("runtime_seconds").filter(|s| *s > 0),
        completed,
        message: t("message"),
        media_type: media,
        extra: Vec::new(),
    }
}
