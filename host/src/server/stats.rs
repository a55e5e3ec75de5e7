//! Playback statistics under `/api/v1/admin/stats`, behind the admin token
//! (or an admin UI session).
//!
//! Parameters: `from` and `to` (RFC 3339, or a `YYYY-MM-DD` day meaning its
//! midnight UTC; the range is `[from, to)`), `interval` (`hour` or `day`)
//! for the time series and `limit` for the top lists. An unknown or invalid
//! parameter is a 422 naming it.

use axum::extract::{RawQuery, State};
use axum::middleware;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{json, Value};

use super::{admin, ApiError, AppState};
use crate::store::Interval;

/// Most buckets one time series may hold.
const MAX_BUCKETS: i64 = 2000;
/// Default and largest `limit` of the top lists.
const DEFAULT_LIMIT: u32 = 10;
const MAX_LIMIT: u32 = 100;

pub(super) fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/admin/stats/playback", get(playback))
        .route("/api/v1/admin/stats/top-users", get(top_users))
        .route("/api/v1/admin/stats/top-media", get(top_media))
        .route_layer(middleware::from_fn_with_state(state, admin::require_admin))
}

/// The query parameters, each checked.
#[derive(Default)]
struct Params {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    interval: Option<Interval>,
    limit: Option<u32>,
}

fn parse_time(field: &str, text: &str) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| {
            ApiError::invalid(
                field,
                "expected an RFC 3339 time (2026-01-31T12:00:00Z) or a day (2026-01-31)",
            )
        })
}

/// Parses the query; `allowed` names the parameters of the route.
fn params(query: Option<&str>, allowed: &[&str]) -> Result<Params, ApiError> {
    let mut params = Params::default();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        if !allowed.contains(&key.as_ref()) {
            return Err(ApiError::invalid(
                key.as_ref(),
                format!("unknown parameter; expected one of {}", allowed.join(", ")),
            ));
        }
        if value.is_empty() {
            continue;
        }
        match key.as_ref() {
            "from" => params.from = Some(parse_time("from", &value)?),
            "to" => params.to = Some(parse_time("to", &value)?),
            "interval" => {
                params.interval = Some(
                    Interval::parse(&value)
                        .ok_or_else(|| ApiError::invalid("interval", "expected hour or day"))?,
                )
            }
            "limit" => {
                let limit = value
                    .parse::<u32>()
                    .ok()
                    .filter(|l| (1..=MAX_LIMIT).contains(l))
                    .ok_or_else(|| {
                        ApiError::invalid("limit", format!("must be between 1 and {MAX_LIMIT}"))
                    })?;
                params.limit = Some(limit);
            }
            _ => {}
        }
    }
    Ok(params)
}

/// `[from, to)`: `to` defaults to the end of the current `interval`,
/// `from` to 30 days (or 48 hours) before `to`.
fn range(params: &Params, interval: Interval) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let to = params
        .to
        .unwrap_or_else(|| interval.floor(Utc::now()) + interval.duration());
    let from = params.from.unwrap_or_else(|| match interval {
        Interval::Hour => to - chrono::Duration::hours(48),
        Interval::Day => to - chrono::Duration::days(30),
    });
    if from >= to {
        return Err(ApiError::invalid("to", "must be after `from`"));
    }
    Ok((from, to))
}

fn time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn playback(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = params(query.as_deref(), &["from", "to", "interval"])?;
    let interval = params.interval.unwrap_or(Interval::Day);
    let (from, to) = range(&params, interval)?;
    let from = interval.floor(from);
    let buckets = (to - from).num_seconds() / interval.duration().num_seconds();
    if buckets >= MAX_BUCKETS {
        return Err(ApiError::invalid(
            "from",
            format!(
                "the range holds more than {MAX_BUCKETS} buckets; shorten it or use a longer interval"
            ),
        ));
    }
    let buckets = state.stats.playback_series(from, to, interval).await?;
    let plays: u64 = buckets.iter().map(|b| b.plays).sum();
    let watch_seconds: u64 = buckets.iter().map(|b| b.watch_seconds).sum();
    Ok(Json(json!({
        "interval": interval,
        "from": time(from),
        "to": time(to),
        "buckets": buckets.iter().map(|b| json!({
            "start": time(b.start),
            "plays": b.plays,
            "watch_seconds": b.watch_seconds,
        })).collect::<Vec<_>>(),
        "total": {"plays": plays, "watch_seconds": watch_seconds},
    })))
}

async fn top_users(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = params(query.as_deref(), &["from", "to", "limit"])?;
    let (from, to) = range(&params, Interval::Day)?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    let users = state.stats.top_users(from, to, limit).await?;
    Ok(Json(
        json!({"from": time(from), "to": time(to), "users": users}),
    ))
}

async fn top_media(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let params = params(query.as_deref(), &["from", "to", "limit"])?;
    let (from, to) = range(&params, Interval::Day)?;
    let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
    let media = state.stats.top_media(from, to, limit).await?;
    Ok(Json(
        json!({"from": time(from), "to": time(to), "media": media}),
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn field(e: ApiError) -> String {
        format!("{e:?}")
    }

    #[test]
    fn parameters_are_checked_and_named() {
        let all = ["from", "to", "interval", "limit"];
        let p = params(
            Some("from=2026-01-01&to=2026-01-03T12:00:00%2B02:00&interval=hour&limit=5"),
            &all,
        )
        .unwrap();
        assert_eq!(time(p.from.unwrap()), "2026-01-01T00:00:00Z");
        assert_eq!(time(p.to.unwrap()), "2026-01-03T10:00:00Z");
        assert_eq!(p.interval, Some(Interval::Hour));
        assert_eq!(p.limit, Some(5));
        for (query, name) in [
            ("from=yesterday", "from"),
            ("to=2026-13-01", "to"),
            ("interval=week", "interval"),
            ("limit=0", "limit"),
            ("limit=101", "limit"),
            ("limit=ten", "limit"),
            ("user=u1", "user"),
        ] {
            let e = field(params(Some(query), &all).err().unwrap());
            assert!(
                e.contains(&format!("field: Some(\"{name}\")")),
                "{query}: {e}"
            );
        }
        let p = params(None, &all).unwrap();
        let (from, to) = range(&p, Interval::Day).unwrap();
        assert_eq!((to - from).num_days(), 30);
        let p = params(Some("from=2026-01-02&to=2026-01-01"), &all).unwrap();
        assert!(field(range(&p, Interval::Day).err().unwrap()).contains("Some(\"to\")"));
    }
}
