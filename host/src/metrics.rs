//! Prometheus metrics at `GET /metrics` (OpenMetrics text), optionally
//! behind `server.metrics_token`.
//!
//! | metric | labels | what |
//! | --- | --- | --- |
//! | `herald_events_accepted_total` | `kind`, `source` | events stored (duplicates not counted); custom kinds are `kind="custom"`, the native endpoint is `source="api"` |
//! | `herald_deliveries_total` | `destination`, `outcome` | finished deliveries: `success` or `failed` |
//! | `herald_delivery_retries_total` | `destination` | attempts that scheduled a retry |
//! | `herald_delivery_attempt_duration_seconds` | `destination` | histogram of attempt durations |
//! | `herald_queue_pending`, `herald_queue_due` | | deliveries waiting, and those due now |
//! | `herald_destinations_disabled` | `type` | inactive webhooks, disabled plugin instances |
//! | `herald_build_info` | `version` | always 1 |
//!
//! `destination` is `webhook:<id>` or `plugin:<name>`: bounded by what the
//! operator configured, never by what clients send.
//!
//! The counters live in one process-wide registry (the instrumented code
//! paths call plain functions such as [`attempt`]); the gauges are read from
//! the store when scraped.

use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use herald_core::EventKind;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::dispatch::Accepted;
use crate::server::{check_bearer, ApiError, AppState};
use crate::store::{now_millis, Destination};

/// The `Content-Type` of the exposition.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    kind: String,
    source: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    destination: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DestinationLabels {
    destination: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeLabels {
    r#type: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: String,
}

type AttemptHistograms = Family<DestinationLabels, Histogram, fn() -> Histogram>;

struct Metrics {
    registry: Registry,
    events: Family<EventLabels, Counter>,
    deliveries: Family<DeliveryLabels, Counter>,
    retries: Family<DestinationLabels, Counter>,
    attempt_seconds: AttemptHistograms,
    queue_pending: Gauge,
    queue_due: Gauge,
    disabled: Family<TypeLabels, Gauge>,
}

fn attempt_histogram() -> Histogram {
    // 5 ms … ~41 s.
    Histogram::new(exponential_buckets(0.005, 2.0, 14))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("herald");
    let events = Family::<EventLabels, Counter>::default();
    registry.register(
        "events_accepted",
        "Events accepted and stored, by kind and source",
        events.clone(),
    );
    let deliveries = Family::<DeliveryLabels, Counter>::default();
    registry.register(
        "deliveries",
        "Finished deliveries by destination and outcome (success, failed)",
        deliveries.clone(),
    );
    let retries = Family::<DestinationLabels, Counter>::default();
    registry.register(
        "delivery_retries",
        "Delivery attempts that scheduled a retry, by destination",
        retries.clone(),
    );
    let attempt_seconds: AttemptHistograms = Family::new_with_constructor(attempt_histogram);
    registry.register(
        "delivery_attempt_duration_seconds",
        "Duration of delivery attempts, by destination",
        attempt_seconds.clone(),
    );
    let queue_pending = Gauge::default();
    registry.register(
        "queue_pending",
        "Deliveries waiting for their first or next attempt",
        queue_pending.clone(),
    );
    let queue_due = Gauge::default();
    registry.register(
        "queue_due",
        "Pending deliveries that are due now",
        queue_due.clone(),
    );
    let disabled = Family::<TypeLabels, Gauge>::default();
    registry.register(
        "destinations_disabled",
        "Inactive webhooks and disabled plugin instances",
        disabled.clone(),
    );
    let build = Family::<VersionLabels, Gauge>::default();
    build
        .get_or_create(&VersionLabels {
            version: env!("CARGO_PKG_VERSION").into(),
        })
        .set(1);
    registry.register("build_info", "Herald's version", build);
    Metrics {
        registry,
        events,
        deliveries,
        retries,
        attempt_seconds,
        queue_pending,
        queue_due,
        disabled,
    }
});

/// Counts an accepted event (`source`: the ingest source's name, or `api`).
/// Duplicates are not counted.
pub fn event_accepted(kind: &str, source: &str, accepted: &Accepted) {
    if accepted.duplicate {
        return;
    }
    // Custom kinds come from clients: one series for all of them.
    let known = EventKind::parse(kind).ok().and_then(|k| k.as_known());
    let kind = known.map_or("custom", |k| k.as_str());
    METRICS
        .events
        .get_or_create(&EventLabels {
            kind: kind.into(),
            source: source.into(),
        })
        .inc();
}

/// Records one delivery attempt: `outcome` is `success`, `retry` or
/// `failed` (the dispatcher's decision).
pub fn attempt(destination: &Destination, outcome: &str, duration: Duration) {
    let destination = destination.to_string();
    METRICS
        .attempt_seconds
        .get_or_create(&DestinationLabels {
            destination: destination.clone(),
        })
        .observe(duration.as_secs_f64());
    if outcome == "retry" {
        METRICS
            .retries
            .get_or_create(&DestinationLabels { destination })
            .inc();
    } else {
        METRICS
            .deliveries
            .get_or_create(&DeliveryLabels {
                destination,
                outcome: outcome.into(),
            })
            .inc();
    }
}

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(token) = &state.metrics_token {
        check_bearer(&headers, token)?;
    }
    let dispatcher = &state.dispatcher;
    let depth = dispatcher.store().queue_depth(now_millis()).await?;
    let inactive_webhooks = dispatcher
        .store()
        .webhooks()
        .await?
        .iter()
        .filter(|w| !w.active)
        .count();
    let disabled_plugins = dispatcher.plugins().filter(|p| !p.config.enabled).count();
    let metrics = &*METRICS;
    metrics.queue_pending.set(gauge_value(depth.pending));
    metrics.queue_due.set(gauge_value(depth.due));
    for (kind, count) in [("webhook", inactive_webhooks), ("plugin", disabled_plugins)] {
        metrics
            .disabled
            .get_or_create(&TypeLabels {
                r#type: kind.into(),
            })
            .set(gauge_value(count as u64));
    }
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &metrics.registry).map_err(|_| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "cannot encode the metrics",
        )
    })?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response())
}

fn gauge_value(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn render() -> String {
        let mut body = String::new();
        prometheus_client::encoding::text::encode(&mut body, &METRICS.registry).unwrap();
        body
    }

    #[test]
    fn attempts_count_deliveries_retries_and_latency() {
        let destination = Destination::Plugin("metrics-unit-test".into());
        attempt(&destination, "retry", Duration::from_millis(20));
        attempt(&destination, "success", Duration::from_millis(30));
        let body = render();
        assert!(
            body.contains(
                r#"herald_deliveries_total{destination="plugin:metrics-unit-test",outcome="success"} 1"#
            ),
            "{body}"
        );
        assert!(
            body.contains(
                r#"herald_delivery_retries_total{destination="plugin:metrics-unit-test"} 1"#
            ),
            "{body}"
        );
        assert!(
            body.contains(
                r#"herald_delivery_attempt_duration_seconds_count{destination="plugin:metrics-unit-test"} 2"#
            ),
            "{body}"
        );
        assert!(body.ends_with("# EOF\n"), "{body}");
    }

    #[test]
    fn custom_kinds_share_one_series_and_duplicates_are_not_counted() {
        let accepted = |duplicate| Accepted {
            id: "evt_1".into(),
            deliveries: 0,
            duplicate,
        };
        event_accepted("unit.custom_one", "unit-test-source", &accepted(false));
        event_accepted("unit.custom_two", "unit-test-source", &accepted(false));
        event_accepted("playback.started", "unit-test-source", &accepted(true));
        let body = render();
        assert!(
            body.contains(
                r#"herald_events_accepted_total{kind="custom",source="unit-test-source"} 2"#
            ),
            "{body}"
        );
        assert!(
            !body.contains(r#"kind="playback.started",source="unit-test-source""#),
            "{body}"
        );
    }
}
