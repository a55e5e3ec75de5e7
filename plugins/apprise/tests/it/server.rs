//! A local stand-in for an Apprise API server that checks requests the way
//! it does (JSON, a body, known `type` and `format`, URLs when stateless)
//! and answers like it: keys `good` (200), `partial` (424), `nothing`
//! (204), `broken` (500); any other key has no configuration (204).
//! Stateless URLs starting with `fail://` fail downstream (424).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::Value;

/// Accepted requests: `(key or "" when stateless, JSON body)`.
pub type Requests = Arc<Mutex<Vec<(String, Value)>>>;

/// A running server and what it accepted.
pub struct MockApprise {
    /// Base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    /// Accepted requests.
    pub received: Requests,
}

fn check(headers: &HeaderMap, body: &Bytes) -> Result<Value, (StatusCode, String)> {
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_owned());
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
        return Err(bad("Unsupported content type"));
    }
    let json: Value = serde_json::from_slice(body).map_err(|_| bad("Invalid JSON"))?;
    if json["body"].as_str().is_none_or_empty() {
        return Err(bad("Payload lacks minimum requirements"));
    }
    if let Some(t) = json.get("type") {
        if !matches!(t.as_str(), Some("info" | "success" | "warning" | "failure")) {
            return Err(bad("An invalid payload type was specified"));
        }
    }
    if let Some(f) = json.get("format") {
        if !matches!(f.as_str(), Some("text" | "markdown" | "html")) {
            return Err(bad("An invalid body input format was specified"));
        }
    }
    Ok(json)
}

trait EmptyStr {
    fn is_none_or_empty(&self) -> bool;
}

impl EmptyStr for Option<&str> {
    fn is_none_or_empty(&self) -> bool {
        self.map(str::trim).unwrap_or_default().is_empty()
    }
}

async fn stateful(
    State(received): State<Requests>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let json = match check(&headers, &body) {
        Ok(json) => json,
        Err(answer) => return answer,
    };
    let status = match key.as_str() {
        "good" => StatusCode::OK,
        "partial" => StatusCode::FAILED_DEPENDENCY,
        "broken" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::NO_CONTENT,
    };
    if status == StatusCode::OK {
        received.lock().unwrap().push((key, json));
    }
    let text = match status.as_u16() {
        424 => "One or more notification could not be sent",
        500 => "An unexpected error occurred",
        _ => "",
    };
    (status, text.to_owned())
}

async fn stateless(
    State(received): State<Requests>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let json = match check(&headers, &body) {
        Ok(json) => json,
        Err(answer) => return answer,
    };
    let urls = json["urls"].as_str().unwrap_or("");
    if urls.trim().is_empty() {
        return (
            StatusCode::BAD_REQUEST,
            "No valid URLs were provided".into(),
        );
    }
    if urls.split(',').any(|u| u.starts_with("fail://")) {
        return (
            StatusCode::FAILED_DEPENDENCY,
            "One or more notification could not be sent".into(),
        );
    }
    received.lock().unwrap().push((String::new(), json));
    (StatusCode::OK, String::new())
}

/// Starts the server on 127.0.0.1, port 0.
pub async fn start() -> MockApprise {
    let received: Requests = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/notify/", post(stateless))
        .route("/notify/{key}", post(stateful))
        .with_state(received.clone());
    let url = format!("http://{}", herald_core::testing::serve(app).await);
    MockApprise { url, received }
}
