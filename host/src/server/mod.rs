//! The HTTP server: health, event ingest, the admin API and the admin UI.
//!
//! One router per module, merged here; one error type ([`ApiError`]) with one
//! JSON shape, `{"error": "<code>", "message": "…", "field": "…"}`, used by
//! every handler and by the body extractors' rejections alike.

mod admin;
mod events;
mod ingest;
mod stats;
mod ui;

use std::sync::Arc;

use axum::extract::rejection::BytesRejection;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::dispatch::Dispatcher;
use crate::error::Error;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The dispatcher (and through it the store).
    pub dispatcher: Arc<Dispatcher>,
    /// Bearer token of the admin API.
    pub admin_token: Arc<str>,
    /// Bearer token of `POST /api/v1/events`.
    pub ingest_token: Arc<str>,
    /// Bearer token of `GET /metrics`, if it needs one.
    pub metrics_token: Option<Arc<str>>,
    /// Loaded plugin registry (for redaction and listings).
    pub registry: Arc<herald_core::Registry>,
    /// Inbound sources by token.
    pub sources: Arc<crate::sources::Sources>,
    /// Playback statistics over the stored events.
    pub stats: Arc<dyn crate::store::Stats>,
    /// Logged-in admin UI sessions.
    pub sessions: Arc<ui::Sessions>,
}

/// The whole application router.
pub fn router(state: AppState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .merge(events::router())
        .merge(ingest::router())
        .merge(crate::metrics::router())
        .merge(admin::router(state.clone()))
        .merge(stats::router(state.clone()))
        .merge(ui::router())
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such route") })
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")}))
}

/// An API error answer.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    field: Option<String>,
}

impl ApiError {
    /// An error with a status, a stable code and a message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    /// 422 naming the offending field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        let field = field.into();
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "invalid",
            message: format!("{field}: {}", message.into()),
            field: Some(field),
        }
    }

    /// 401.
    pub fn unauthorized() -> ApiError {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid `Authorization: Bearer <token>` header is required",
        )
    }

    /// 404 for a missing thing.
    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{} not found", what.into()),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": self.code, "message": self.message});
        if let Some(field) = self.field {
            body["field"] = field.into();
        }
        (self.status, Json(body)).into_response()
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> ApiError {
        match e {
            Error::Invalid { field, message } => ApiError::invalid(field, message),
            Error::NotFound(what) => ApiError::not_found(what),
            Error::Conflict(message) => ApiError::new(StatusCode::CONFLICT, "conflict", message),
            Error::Core(herald_core::Error::InvalidEvent { field, message }) => {
                ApiError::invalid(field, message)
            }
            Error::Core(core @ herald_core::Error::InvalidPattern { .. }) => {
                ApiError::invalid("events", core.to_string())
            }
            Error::Core(core @ herald_core::Error::InvalidFilter { .. }) => {
                ApiError::invalid("filters", core.to_string())
            }
            Error::Core(core @ herald_core::Error::InvalidSecret(_)) => {
                ApiError::invalid("secret", core.to_string())
            }
            other => {
                tracing::error!(error = %other, "request failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl From<BytesRejection> for ApiError {
    fn from(rejection: BytesRejection) -> ApiError {
        let status = rejection.status();
        let code = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "payload_too_large"
        } else {
            "bad_request"
        };
        ApiError::new(status, code, rejection.body_text())
    }
}

/// Parses a JSON body: malformed JSON is 400, JSON of the wrong shape is 422
/// naming the field.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let deserializer = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let field = if path == "." {
                    String::from("body")
                } else {
                    path
                };
                ApiError::invalid(field, inner.to_string())
            }
            _ => ApiError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not valid JSON: {inner}"),
            ),
        }
    })
}

/// Checks `Authorization: Bearer <token>` in constant time.
pub fn check_bearer(headers: &HeaderMap, expected: &str) -> Result<(), ApiError> {
    let presented = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .unwrap_or("");
    let equal: bool = presented.as_bytes().ct_eq(expected.as_bytes()).into();
    if equal && !expected.is_empty() {
        Ok(())
    } else {
        Err(ApiError::unauthorized())
    }
}
