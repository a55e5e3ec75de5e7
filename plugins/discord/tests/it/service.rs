//! A stand-in for Discord's webhook endpoint: checks requests the way
//! Discord does (limits counted in characters) and answers like it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

fn chars(value: &Value) -> usize {
    value.as_str().map_or(0, |s| s.chars().count())
}

fn check_text(value: Option<&Value>, what: &str, max: usize) -> Result<usize, String> {
    let Some(value) = value else { return Ok(0) };
    let text = value
        .as_str()
        .ok_or_else(|| format!("{what}: must be a string"))?;
    if text.trim().is_empty() {
        return Err(format!("{what}: must not be empty"));
    }
    let n = chars(value);
    if n > max {
        return Err(format!(
            "{what}: must be {max} or fewer in length (got {n})"
        ));
    }
    Ok(n)
}

fn check_url(value: Option<&Value>, what: &str) -> Result<(), String> {
    let Some(value) = value else { return Ok(()) };
    let url = value
        .as_str()
        .ok_or_else(|| format!("{what}: not a string"))?;
    let ok = reqwest::Url::parse(url)
        .map(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or(false);
    if ok && url.len() <= 2048 {
        Ok(())
    } else {
        Err(format!("{what}: Not a well formed URL"))
    }
}

/// Checks an execute-webhook JSON body as Discord does.
pub fn check_body(body: &Value) -> Result<(), String> {
    let body = body.as_object().ok_or("body: not an object")?;
    if body.get("allowed_mentions") != Some(&json!({"parse": []})) {
        return Err("allowed_mentions: Herald must disable every mention".into());
    }
    if let Some(username) = body.get("username") {
        check_text(Some(username), "username", 80)?;
        let lower = username.as_str().unwrap_or_default().to_lowercase();
        if lower.contains("discord") || lower.contains("clyde") {
            return Err("username: contains a forbidden word".into());
        }
    }
    check_url(body.get("avatar_url"), "avatar_url")?;
    let content = check_text(body.get("content"), "content", 2000)?;
    let embeds = match body.get("embeds") {
        None => &Vec::new(),
        Some(value) => value.as_array().ok_or("embeds: not an array")?,
    };
    if content == 0 && embeds.is_empty() {
        return Err("Cannot send an empty message (code 50006)".into());
    }
    if embeds.len() > 10 {
        return Err("embeds: Must be 10 or fewer in length.".into());
    }
    for (i, embed) in embeds.iter().enumerate() {
        let what = |field: &str| format!("embeds.{i}.{field}");
        let mut total = check_text(embed.get("title"), &what("title"), 256)?;
        total += check_text(embed.get("description"), &what("description"), 4096)?;
        total += check_text(
            embed.get("author").and_then(|a| a.get("name")),
            &what("author.name"),
            256,
        )?;
        total += check_text(
            embed.get("footer").and_then(|a| a.get("text")),
            &what("footer.text"),
            2048,
        )?;
        let fields = match embed.get("fields") {
            None => &Vec::new(),
            Some(value) => value.as_array().ok_or("fields: not an array")?,
        };
        if fields.len() > 25 {
            return Err(what("fields: Must be 25 or fewer in length."));
        }
        for (j, field) in fields.iter().enumerate() {
            let name = field
                .get("name")
                .ok_or_else(|| what(&format!("fields.{j}.name: required")))?;
            let value = field
                .get("value")
                .ok_or_else(|| what(&format!("fields.{j}.value: required")))?;
            total += check_text(Some(name), &what(&format!("fields.{j}.name")), 256)?;
            total += check_text(Some(value), &what(&format!("fields.{j}.value")), 1024)?;
        }
        if total > 6000 {
            return Err(what(&format!(
                "Embed size exceeds maximum size of 6000 (got {total})"
            )));
        }
        if let Some(colour) = embed.get("color") {
            if !colour.as_u64().is_some_and(|c| c <= 0xFF_FFFF) {
                return Err(what("color: invalid"));
            }
        }
        check_url(
            embed.get("thumbnail").and_then(|t| t.get("url")),
            &what("thumbnail.url"),
        )?;
        check_url(
            embed.get("image").and_then(|t| t.get("url")),
            &what("image.url"),
        )?;
    }
    Ok(())
}

/// What the server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub query: Option<String>,
    pub body: Value,
}

#[derive(Clone, Default)]
struct AppState {
    received: Arc<Mutex<Vec<Received>>>,
}

/// A running stand-in. The webhook token chooses the answer: `ok` (204),
/// `ratelimited` (429 with a JSON body and a header), `ratelimited-header`
/// (429 with only the header), `bad-token` (401), `gone` (404), `broken`
/// (500).
pub struct FakeDiscord {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let state = AppState::default();
        let received = state.received.clone();
        let app = Router::new()
            .route("/api/webhooks/{id}/{token}", post(execute))
            .with_state(state);
        let addr = herald_core::testing::serve(app).await;
        FakeDiscord { addr, received }
    }

    pub fn webhook_url(&self, token: &str) -> String {
        format!("http://{}/api/webhooks/123/{token}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

async fn execute(
    State(state): State<AppState>,
    Path((_id, token)): Path<(String, String)>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"message": "Cannot send an empty message", "code": 50006})),
        )
            .into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(
                json!({"message": "The request body contains invalid JSON.", "code": 50109}),
            ),
        )
            .into_response();
    };
    state.received.lock().unwrap().push(Received {
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        body: body.clone(),
    });
    if let Err(message) = check_body(&body) {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"message": "Invalid Form Body", "code": 50035, "errors": message})),
        )
            .into_response();
    }
    match token.as_str() {
        "ratelimited" => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            axum::Json(json!({"message": "You are being rate limited.", "retry_after": 0.5, "global": false})),
        )
            .into_response(),
        "ratelimited-header" => {
            (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "3")], "slow down").into_response()
        }
        "bad-token" => (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "Invalid Webhook Token", "code": 50027})),
        )
            .into_response(),
        "gone" => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"message": "Unknown Webhook", "code": 10015})),
        )
            .into_response(),
        "broken" => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    }
}
