//! `POST /api/v1/ingest/{token}` (and `PUT`, which Tautulli may use): the
//! per-source ingest URL that media servers post their own webhooks to.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use herald_core::sources::{self, Parsed};
use serde_json::json;

use super::{ApiError, AppState};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/api/v1/ingest/{token}", post(ingest).put(ingest))
}

/// 202 for an accepted event, 200 for an ignored one (with the reason), 400
/// for a body that cannot be read, 404 for an unknown token.
async fn ingest(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<impl IntoResponse, ApiError> {
    let Some(source) = state.sources.by_token(&token) else {
        return Err(ApiError::not_found("ingest source"));
    };
    let body = body?;
    let name = &source.config.name;
    let content_type = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let now = chrono::Utc::now();
    let parsed =
        sources::parse(source.config.source_type, content_type, &body, now).map_err(|e| {
            tracing::info!(source = %name, error = %e, "ingest body refused");
            ApiError::new(StatusCode::BAD_REQUEST, "bad_payload", e.to_string())
        })?;
    let ignored = |reason: String, original: String| {
        tracing::info!(source = %name, original_type = %original, reason = %reason, "ingest event ignored");
        (
            StatusCode::OK,
            Json(json!({"ignored": true, "reason": reason, "type": original})),
        )
    };
    let (mut event, origin) = match parsed {
        Parsed::Event { event, origin } => (event, origin),
        Parsed::Ignored {
            reason,
            original_type,
        } => return Ok(ignored(reason, original_type)),
    };
    if let Err(skip) = source.admit(&event, &origin, now) {
        return Ok(ignored(skip.0, event.event.to_string()));
    }
    event.source = Some(name.clone());
    let kind = event.event.to_string();
    let accepted = state.dispatcher.accept(event).await?;
    crate::metrics::event_accepted(&kind, name, &accepted);
    tracing::debug!(source = %name, event = %accepted.id, kind, deliveries = accepted.deliveries, "ingest event accepted");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"id": accepted.id, "event": kind, "deliveries": accepted.deliveries})),
    ))
}
