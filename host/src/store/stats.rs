//! Playback statistics, computed on demand from the stored events.
//!
//! Every event's exact JSON is kept in `events.body`, so the statistics need
//! no table of their own: a play is a `playback.started` event, watch time is
//! the `data.duration_seconds` of `playback.ended` events, and the SQL reads
//! both with `json_extract`. Stored timestamps are UTC RFC 3339 text
//! (`2026-01-31T12:00:00Z`, `…:00.5Z`), so a time range is a text range on
//! the `(kind, timestamp)` index, compared against second-precision bounds
//! without the `Z` (a prefix of every timestamp in that second), and a
//! bucket is a prefix of the timestamp (13 characters for an hour, 10 for a
//! day).

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, DurationRound, Utc};
use rusqlite::{params, Connection};
use serde::Serialize;

use super::SqliteStore;
use crate::error::Result;

/// Width of a time-series bucket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interval {
    /// One UTC hour.
    Hour,
    /// One UTC day.
    Day,
}

impl Interval {
    /// Parses `hour` or `day`.
    pub fn parse(text: &str) -> Option<Interval> {
        match text {
            "hour" => Some(Interval::Hour),
            "day" => Some(Interval::Day),
            _ => None,
        }
    }

    /// The bucket length.
    pub fn duration(self) -> Duration {
        match self {
            Interval::Hour => Duration::hours(1),
            Interval::Day => Duration::days(1),
        }
    }

    /// The start of the bucket holding `at`.
    pub fn floor(self, at: DateTime<Utc>) -> DateTime<Utc> {
        at.duration_trunc(self.duration()).unwrap_or(at)
    }

    /// Length of the stored timestamp's prefix naming the bucket.
    fn prefix_len(self) -> i64 {
        match self {
            Interval::Hour => 13,
            Interval::Day => 10,
        }
    }

    fn key(self, start: DateTime<Utc>) -> String {
        match self {
            Interval::Hour => start.format("%Y-%m-%dT%H").to_string(),
            Interval::Day => start.format("%Y-%m-%d").to_string(),
        }
    }
}

/// Plays and watch time of one bucket.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlaybackBucket {
    /// Start of the bucket (UTC).
    pub start: DateTime<Utc>,
    /// `playback.started` events.
    pub plays: u64,
    /// Sum of `duration_seconds` of `playback.ended` events.
    pub watch_seconds: u64,
}

/// A user's totals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopUser {
    /// `data.user_id`.
    pub user_id: String,
    /// `data.user_name`, when any event carried one.
    pub user_name: Option<String>,
    /// Plays.
    pub plays: u64,
    /// Watch time.
    pub watch_seconds: u64,
}

/// A title's totals; the episodes of a series count for the series.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopMedia {
    /// `data.series`, else `data.title`, else `data.media_item_id`.
    pub title: String,
    /// `series` for a series, else `data.media_type`.
    pub media_type: Option<String>,
    /// Plays.
    pub plays: u64,
    /// Distinct users who played it.
    pub users: u64,
    /// Watch time (from `playback.ended` events naming the same title).
    pub watch_seconds: u64,
}

/// Playback statistics over the stored events. Ranges are half-open,
/// `[from, to)`, to the second.
#[async_trait]
pub trait Stats: Send + Sync + 'static {
    /// Every bucket from the one holding `from` to the one holding the last
    /// second before `to`, empty ones included, oldest first.
    async fn playback_series(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        interval: Interval,
    ) -> Result<Vec<PlaybackBucket>>;

    /// Users by watch time, then plays.
    async fn top_users(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TopUser>>;

    /// Titles by plays, then watch time.
    async fn top_media(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TopMedia>>;
}

/// The playback events of `[?1, ?2)` with the fields the statistics use.
const PLAYBACK: &str = "
WITH e AS (
    SELECT kind, timestamp, CAST(body AS TEXT) AS j FROM events
    WHERE kind IN ('playback.started', 'playback.ended') AND timestamp >= ?1 AND timestamp < ?2
),
p AS (
    SELECT kind, timestamp,
        CAST(json_extract(j, '$.data.user_id') AS TEXT) AS user_id,
        CAST(json_extract(j, '$.data.user_name') AS TEXT) AS user_name,
        CAST(COALESCE(json_extract(j, '$.data.series'), json_extract(j, '$.data.title'),
            json_extract(j, '$.data.media_item_id')) AS TEXT) AS title,
        CASE WHEN json_extract(j, '$.data.series') IS NOT NULL THEN 'series'
            ELSE CAST(json_extract(j, '$.data.media_type') AS TEXT) END AS media_type,
        CASE WHEN kind = 'playback.ended'
                AND json_type(j, '$.data.duration_seconds') IN ('integer', 'real')
            THEN MAX(json_extract(j, '$.data.duration_seconds'), 0) ELSE 0 END AS watch
    FROM e
)";

/// A bound comparable with stored timestamps: the second, without zone.
fn bound(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn count(v: i64) -> u64 {
    v.max(0) as u64
}

fn series(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    interval: Interval,
) -> Result<Vec<PlaybackBucket>> {
    let from = interval.floor(from);
    let mut stmt = conn.prepare_cached(&format!(
        "{PLAYBACK} SELECT substr(timestamp, 1, ?3) AS bucket, SUM(kind = 'playback.started'), \
         CAST(ROUND(TOTAL(watch)) AS INTEGER) FROM p GROUP BY bucket"
    ))?;
    let found: HashMap<String, (i64, i64)> = stmt
        .query_map(
            params![bound(from), bound(to), interval.prefix_len()],
            |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))),
        )?
        .collect::<rusqlite::Result<_>>()?;
    let mut buckets = Vec::new();
    let mut start = from;
    while start < to {
        let (plays, watch) = found.get(&interval.key(start)).copied().unwrap_or_default();
        buckets.push(PlaybackBucket {
            start,
            plays: count(plays),
            watch_seconds: count(watch),
        });
        start += interval.duration();
    }
    Ok(buckets)
}

fn top_users(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<TopUser>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{PLAYBACK} SELECT user_id, MAX(user_name), SUM(kind = 'playback.started') AS plays, \
         CAST(ROUND(TOTAL(watch)) AS INTEGER) AS watch_seconds FROM p WHERE user_id IS NOT NULL \
         GROUP BY user_id ORDER BY watch_seconds DESC, plays DESC, user_id LIMIT ?3"
    ))?;
    let rows = stmt
        .query_map(params![bound(from), bound(to), limit], |r| {
            Ok(TopUser {
                user_id: r.get(0)?,
                user_name: r.get(1)?,
                plays: count(r.get(2)?),
                watch_seconds: count(r.get(3)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn top_media(
    conn: &Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<TopMedia>> {
    let mut stmt = conn.prepare_cached(&format!(
        "{PLAYBACK} SELECT title, MAX(media_type), SUM(kind = 'playback.started') AS plays, \
         COUNT(DISTINCT CASE WHEN kind = 'playback.started' THEN user_id END), \
         CAST(ROUND(TOTAL(watch)) AS INTEGER) AS watch_seconds FROM p WHERE title IS NOT NULL \
         GROUP BY title HAVING plays > 0 ORDER BY plays DESC, watch_seconds DESC, title LIMIT ?3"
    ))?;
    let rows = stmt
        .query_map(params![bound(from), bound(to), limit], |r| {
            Ok(TopMedia {
                title: r.get(0)?,
                media_type: r.get(1)?,
                plays: count(r.get(2)?),
                users: count(r.get(3)?),
                watch_seconds: count(r.get(4)?),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[async_trait]
impl Stats for SqliteStore {
    async fn playback_series(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        interval: Interval,
    ) -> Result<Vec<PlaybackBucket>> {
        self.read(move |conn| series(conn, from, to, interval))
            .await
    }

    async fn top_users(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TopUser>> {
        self.read(move |conn| top_users(conn, from, to, limit))
            .await
    }

    async fn top_media(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TopMedia>> {
        self.read(move |conn| top_media(conn, from, to, limit))
            .await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;
    use herald_core::{Event, EventKind};
    use serde_json::{json, Map, Value};

    use super::*;
    use crate::config::Durability;
    use crate::store::Store;

    fn at(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, day, hour, minute, 0).unwrap()
    }

    async fn put(store: &SqliteStore, kind: &str, when: DateTime<Utc>, data: Value) {
        let Value::Object(data): Value = data else {
            panic!("data must be an object")
        };
        let mut event = Event::new(EventKind::parse(kind).unwrap(), Map::new());
        event.timestamp = when;
        event.data = data;
        let body = event.to_json_bytes();
        assert!(store.insert_event(&event, body, Vec::new()).await.unwrap());
    }

    async fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("h.db"), Durability::Process).unwrap();
        let started = |user: &str, name: &str, series: Option<&str>, title: &str| {
            let mut data = json!({"user_id": user, "user_name": name, "media_item_id": title,
                "media_type": if series.is_some() { "episode" } else { "movie" }, "title": title});
            if let Some(s) = series {
                data["series"] = s.into();
            }
            data
        };
        // Day 1: two plays of an episode of The Expanse and a movie.
        put(
            &store,
            "playback.started",
            at(1, 10, 0),
            started("u1", "Alice", Some("The Expanse"), "Home"),
        )
        .await;
        put(
            &store,
            "playback.started",
            at(1, 10, 30),
            started("u2", "Bob", None, "Dune"),
        )
        .await;
        put(&store, "playback.ended", at(1, 11, 0), json!({"user_id": "u1", "media_item_id": "Home", "series": "The Expanse", "duration_seconds": 3000})).await;
        // A sub-second timestamp at the very end of day 1.
        put(&store, "playback.ended", Utc.timestamp_millis_opt(at(2, 0, 0).timestamp_millis() - 500).unwrap(),
            json!({"user_id": "u2", "media_item_id": "Dune", "title": "Dune", "duration_seconds": 9000.4})).await;
        // Day 2 and 3: nothing. Day 4: another episode and a non-playback event.
        put(
            &store,
            "playback.started",
            at(4, 20, 0),
            started("u1", "Alice", Some("The Expanse"), "Salvage"),
        )
        .await;
        put(
            &store,
            "user.created",
            at(4, 20, 0),
            json!({"user_id": "u3"}),
        )
        .await;
        // Outside of every range below.
        put(
            &store,
            "playback.started",
            at(9, 0, 0),
            started("u3", "Carol", None, "Alien"),
        )
        .await;
        (dir, store)
    }

    #[tokio::test]
    async fn daily_series_has_every_day_including_empty_ones() {
        let (_dir, store) = store().await;
        let buckets = store
            .playback_series(at(1, 0, 0), at(5, 0, 0), Interval::Day)
            .await
            .unwrap();
        let got: Vec<(u32, u64, u64)> = buckets
            .iter()
            .map(|b| {
                (
                    b.start.format("%d").to_string().parse().unwrap(),
                    b.plays,
                    b.watch_seconds,
                )
            })
            .collect();
        assert_eq!(got, vec![(1, 2, 12000), (2, 0, 0), (3, 0, 0), (4, 1, 0)]);
    }

    #[tokio::test]
    async fn hourly_series_floors_from_and_stops_before_to() {
        let (_dir, store) = store().await;
        let buckets = store
            .playback_series(at(1, 9, 45), at(1, 12, 0), Interval::Hour)
            .await
            .unwrap();
        let got: Vec<(u32, u64, u64)> = buckets
            .iter()
            .map(|b| {
                (
                    b.start.format("%H").to_string().parse().unwrap(),
                    b.plays,
                    b.watch_seconds,
                )
            })
            .collect();
        assert_eq!(got, vec![(9, 0, 0), (10, 2, 0), (11, 0, 3000)]);
    }

    #[tokio::test]
    async fn the_end_of_a_range_is_exclusive_to_the_second() {
        let (_dir, store) = store().await;
        // The ended event at 23:59:59.5 on day 1 is inside [day 1, day 2).
        let users = store.top_users(at(1, 0, 0), at(2, 0, 0), 10).await.unwrap();
        assert_eq!(users[0].user_id, "u2");
        assert_eq!(users[0].watch_seconds, 9000);
        // …and outside of [day 2, day 3).
        let users = store.top_users(at(2, 0, 0), at(3, 0, 0), 10).await.unwrap();
        assert!(users.is_empty());
    }

    #[tokio::test]
    async fn top_users_by_watch_time_and_top_media_by_plays() {
        let (_dir, store) = store().await;
        let users = store.top_users(at(1, 0, 0), at(5, 0, 0), 10).await.unwrap();
        let got: Vec<(&str, Option<&str>, u64, u64)> = users
            .iter()
            .map(|u| {
                (
                    u.user_id.as_str(),
                    u.user_name.as_deref(),
                    u.plays,
                    u.watch_seconds,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![("u2", Some("Bob"), 1, 9000), ("u1", Some("Alice"), 2, 3000)]
        );
        let media = store.top_media(at(1, 0, 0), at(5, 0, 0), 10).await.unwrap();
        let got: Vec<(&str, Option<&str>, u64, u64, u64)> = media
            .iter()
            .map(|m| {
                (
                    m.title.as_str(),
                    m.media_type.as_deref(),
                    m.plays,
                    m.users,
                    m.watch_seconds,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("The Expanse", Some("series"), 2, 1, 3000),
                ("Dune", Some("movie"), 1, 1, 9000)
            ]
        );
        let one = store.top_media(at(1, 0, 0), at(5, 0, 0), 1).await.unwrap();
        assert_eq!(one.len(), 1);
    }
}
