//! A local stand-in for the Pushover API that checks requests the way
//! Pushover does: a form body, a valid token and user key, required and
//! limited fields, emergency `retry`/`expire`, and answers Pushover's JSON
//! errors. Special users trigger failures: [`QUOTA_USER`] (429) and
//! [`BROKEN_USER`] (500).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

/// The application token the server accepts.
pub const TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
/// The user key the server accepts.
pub const USER: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";
/// A user whose messages hit the monthly quota.
pub const QUOTA_USER: &str = "quotaQuotaQuotaQuotaQuotaQuota";
/// A user whose messages meet a server error.
pub const BROKEN_USER: &str = "brokenBrokenBrokenBrokenBroken";

/// Accepted forms, fields in order.
pub type Forms = Arc<Mutex<Vec<Vec<(String, String)>>>>;

/// A running server and the forms it accepted.
pub struct MockPushover {
    /// API base, `http://127.0.0.1:<port>`.
    pub url: String,
    /// Accepted forms, fields in order.
    pub received: Forms,
}

fn refuse(field: &str, error: &str) -> (StatusCode, Json<Value>) {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({field: "invalid", "errors": [error], "status": 0,
                    "request": "5042853c-402d-4a18-abcb-168734a801de"})),
    )
}

async fn messages(
    State(received): State<Forms>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, Json<Value>) {
    if headers.get("content-type").and_then(|v| v.to_str().ok())
        != Some("application/x-www-form-urlencoded")
    {
        return refuse("message", "message cannot be blank");
    }
    let Ok(form) = serde_urlencoded::from_bytes::<Vec<(String, String)>>(&body) else {
        return refuse("message", "message cannot be blank");
    };
    let get = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let chars = |key: &str| get(key).map_or(0, |v| v.chars().count());
    if get("token") != Some(TOKEN) {
        return refuse("token", "application token is invalid");
    }
    match get("user") {
        Some(USER) => {}
        Some(QUOTA_USER) => {
            return (
                StatusCode::TOO_MANY_REQUESTS,
                Json(json!({"status": 0, "errors": ["monthly message limit reached"]})),
            )
        }
        Some(BROKEN_USER) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"status": 0})),
            )
        }
        _ => {
            return refuse(
                "user",
                "user identifier is not a valid user, group, or subscribed user key",
            )
        }
    }
    if get("message").unwrap_or_default().is_empty() {
        return refuse("message", "message cannot be blank");
    }
    for (key, max) in [
        ("message", 1024),
        ("title", 250),
        ("url", 512),
        ("url_title", 100),
    ] {
        if chars(key) > max {
            return refuse(
                key,
                &format!("{key} is too long, limit is {max} characters"),
            );
        }
    }
    let priority: i64 = match get("priority").map(str::parse) {
        None => 0,
        Some(Ok(p)) if (-2..=2).contains(&p) => p,
        Some(_) => return refuse("priority", "priority is invalid"),
    };
    if priority == 2 {
        let retry = get("retry").and_then(|r| r.parse::<u32>().ok());
        let expire = get("expire").and_then(|r| r.parse::<u32>().ok());
        if !retry.is_some_and(|r| r >= 30) {
            return refuse("retry", "retry is invalid; must be at least 30 seconds");
        }
        if !expire.is_some_and(|e| e <= 10_800) {
            return refuse("expire", "expire is invalid; must be at most 10800 seconds");
        }
    }
    if get("timestamp").is_some_and(|t| t.parse::<i64>().is_err()) {
        return refuse("timestamp", "timestamp is invalid");
    }
    if get("html").is_some_and(|h| h != "0" && h != "1") {
        return refuse("html", "html is invalid");
    }
    received.lock().unwrap().push(form);
    (
        StatusCode::OK,
        Json(json!({"status": 1, "request": "647d2300-702c-4b38-8b2f-d56326ae460b"})),
    )
}

/// Starts the server on 127.0.0.1, port 0.
pub async fn start() -> MockPushover {
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = Router::new()
        .route("/1/messages.json", post(messages))
        .with_state(received.clone());
    let url = format!("http://{}", herald_core::testing::serve(app).await);
    MockPushover { url, received }
}
