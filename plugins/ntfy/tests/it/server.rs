//! A local stand-in for an ntfy server that checks requests the way ntfy
//! does: JSON content type, credentials, topic, priority, tags, and
//! answers ntfy's JSON errors. Special topics trigger failures: `busy`
//! (429), `forbidden` (403), `broken` (500).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use base64::Engine;
use serde_json::{json, Value};

/// The access token the server accepts.
pub const TOKEN: &str = "tk_AgQdq7mVBoFD37zQVN29RhuMzNIz2";
/// The basic-auth user and password it accepts.
pub const USER: (&str, &str) = ("alice", "s3cret pass");

/// A running server and what it accepted.
pub struct MockNtfy {
    /// Base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    /// Accepted publishes (the JSON bodies).
    pub received: Arc<Mutex<Vec<Value>>>,
}

fn error(status: u16, code: u32, text: &str) -> (StatusCode, Json<Value>) {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({"code": code, "http": status, "error": text})),
    )
}

async fn publish(
    State(received): State<Arc<Mutex<Vec<Value>>>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type != "application/json" {
        return error(400, 40000, "invalid request: expected JSON");
    }
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", USER.0, USER.1));
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {TOKEN}")) && auth != Some(&format!("Basic {basic}")) {
        return error(401, 40101, "unauthorized");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return error(400, 40024, "invalid request: body must be JSON");
    };
    let topic = body["topic"].as_str().unwrap_or("");
    let topic_ok = !topic.is_empty()
        && topic.len() <= 64
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !topic_ok {
        return error(400, 40009, "invalid request: topic invalid");
    }
    match topic {
        "busy" => return error(429, 42901, "limit reached: too many requests"),
        "forbidden" => return error(403, 40301, "forbidden"),
        "broken" => return error(500, 50001, "internal server error"),
        _ => {}
    }
    if let Some(priority) = body.get("priority") {
        if !priority.as_u64().is_some_and(|p| (1..=5).contains(&p)) {
            return error(400, 40007, "invalid priority");
        }
    }
    if let Some(tags) = body.get("tags") {
        if !tags
            .as_array()
            .is_some_and(|t| t.iter().all(Value::is_string))
        {
            return error(400, 40000, "invalid request: tags");
        }
    }
    for key in ["title", "message", "click", "attach", "icon"] {
        if body.get(key).is_some_and(|v| !v.is_string()) {
            return error(400, 40000, "invalid request: expected a string");
        }
    }
    if body.get("markdown").is_some_and(|v| !v.is_boolean()) {
        return error(400, 40000, "invalid request: markdown");
    }
    // Real ntfy would turn a longer message into an attachment.
    if body["message"].as_str().unwrap_or("").len() > 4096 {
        return error(400, 41399, "test server: message over 4096 bytes");
    }
    let answer = json!({"id": "abc123", "time": 1769860800, "event": "message",
                        "topic": topic, "message": body["message"]});
    received.lock().unwrap().push(body);
    (StatusCode::OK, Json(answer))
}

/// Starts the server on 127.0.0.1, port 0.
pub async fn start() -> MockNtfy {
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/", post(publish))
        .with_state(received.clone());
    let url = format!("http://{}", herald_core::testing::serve(app).await);
    MockNtfy { url, received }
}
