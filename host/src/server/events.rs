//! `POST /api/v1/events`: the native ingest endpoint.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use herald_core::IncomingEvent;
use serde_json::json;

use super::{check_bearer, parse_json, ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/v1/events", post(post_event))
}

/// Answers 202 only after the event and its deliveries are committed.
async fn post_event(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    check_bearer(&headers, &state.ingest_token)?;
    let body = body?;
    let incoming: IncomingEvent = parse_json(&body)?;
    let event = incoming.normalize().map_err(|e| match e {
        herald_core::Error::InvalidEvent { field, message } => ApiError::invalid(field, message),
        other => ApiError::invalid("event", other.to_string()),
    })?;
    let kind = event.event.to_string();
    let accepted = state.dispatcher.accept(event).await?;
    crate::metrics::event_accepted(&kind, "api", &accepted);
    tracing::debug!(event = %accepted.id, kind, deliveries = accepted.deliveries, duplicate = accepted.duplicate, "event accepted");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({
            "id": accepted.id,
            "deliveries": accepted.deliveries,
            "duplicate": accepted.duplicate,
        })),
    ))
}
