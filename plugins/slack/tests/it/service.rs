//! A stand-in for a Slack incoming webhook: checks requests the way Slack
//! does (Block Kit limits counted in characters), checks that user data
//! cannot inject mrkdwn links or mentions, and answers like Slack.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::Value;

fn text_of<'a>(value: Option<&'a Value>, what: &str, max: usize) -> Result<&'a str, String> {
    let text = value
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{what}: missing"))?;
    if text.trim().is_empty() {
        return Err(format!("{what}: empty"));
    }
    let n = text.chars().count();
    if n > max {
        return Err(format!(
            "{what}: must be less than {max} characters (got {n})"
        ));
    }
    Ok(text)
}

/// mrkdwn Herald produces holds no link or mention syntax and only the
/// three entities Slack asks for.
fn check_mrkdwn(text: &str, what: &str) -> Result<(), String> {
    if text.contains('<') || text.contains('>') {
        return Err(format!(
            "{what}: unescaped < or > (link or mention injection)"
        ));
    }
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        rest = &rest[i..];
        if !["&amp;", "&lt;", "&gt;"]
            .iter()
            .any(|e| rest.starts_with(e))
        {
            return Err(format!("{what}: unescaped &"));
        }
        rest = &rest[1..];
    }
    Ok(())
}

fn check_text_object(object: &Value, what: &str, max: usize) -> Result<(), String> {
    let text = text_of(object.get("text"), what, max)?;
    match object.get("type").and_then(Value::as_str) {
        Some("mrkdwn") => check_mrkdwn(text, what),
        Some("plain_text") => Ok(()),
        _ => Err(format!("{what}: bad text object type")),
    }
}

/// Checks an incoming-webhook JSON body as Slack does; the error is Slack's
/// answer (`no_text`, `invalid_blocks`, …).
pub fn check_body(body: &Value) -> Result<(), String> {
    let body = body.as_object().ok_or("invalid_payload")?;
    let blocks = match body.get("blocks") {
        None => &Vec::new(),
        Some(value) => value.as_array().ok_or("invalid_blocks: not an array")?,
    };
    match body.get("text") {
        Some(text) => {
            let text = text_of(Some(text), "text", 40_000).map_err(|e| format!("no_text: {e}"))?;
            check_mrkdwn(text, "text")?;
        }
        None if blocks.is_empty() => return Err("no_text".into()),
        None => {}
    }
    if blocks.len() > 50 {
        return Err("invalid_blocks: more than 50 blocks".into());
    }
    for (i, block) in blocks.iter().enumerate() {
        let what = format!("invalid_blocks: blocks[{i}]");
        match block.get("type").and_then(Value::as_str) {
            Some("header") => {
                let text = block.get("text").ok_or(format!("{what}.text missing"))?;
                if text.get("type").and_then(Value::as_str) != Some("plain_text") {
                    return Err(format!("{what}: header text must be plain_text"));
                }
                check_text_object(text, &format!("{what}.text"), 150)?;
            }
            Some("section") => {
                let text = block.get("text").ok_or(format!("{what}.text missing"))?;
                check_text_object(text, &format!("{what}.text"), 3000)?;
                if let Some(accessory) = block.get("accessory") {
                    let url = text_of(accessory.get("image_url"), &what, 3000)?;
                    let ok = reqwest::Url::parse(url)
                        .map(|u| matches!(u.scheme(), "http" | "https"))
                        .unwrap_or(false);
                    if !ok {
                        return Err(format!("{what}: invalid image_url"));
                    }
                    text_of(accessory.get("alt_text"), &format!("{what}.alt_text"), 2000)?;
                }
            }
            Some("context") => {
                let elements = block
                    .get("elements")
                    .and_then(Value::as_array)
                    .ok_or(format!("{what}.elements missing"))?;
                if elements.is_empty() || elements.len() > 10 {
                    return Err(format!("{what}: 1 to 10 elements"));
                }
                for (j, element) in elements.iter().enumerate() {
                    check_text_object(element, &format!("{what}.elements[{j}]"), 3000)?;
                }
            }
            _ => return Err(format!("{what}: unknown block type")),
        }
    }
    Ok(())
}

/// A running stand-in. The last path segment chooses the answer: `ok`,
/// `ratelimited` (429, `Retry-After: 7`), `gone` (404 `no_service`),
/// `archived` (410 `channel_is_archived`), `forbidden` (403
/// `action_prohibited`), `broken` (500).
pub struct FakeSlack {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Value>>>,
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let received: Arc<Mutex<Vec<Value>>> = Arc::default();
        let app = Router::new()
            .route("/services/T000/B000/{token}", post(incoming))
            .with_state(received.clone());
        let addr = herald_core::testing::serve(app).await;
        FakeSlack { addr, received }
    }

    pub fn webhook_url(&self, token: &str) -> String {
        format!("http://{}/services/T000/B000/{token}", self.addr)
    }

    pub fn received(&self) -> Vec<Value> {
        self.received.lock().unwrap().clone()
    }
}

async fn incoming(
    State(received): State<Arc<Mutex<Vec<Value>>>>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    received.lock().unwrap().push(body.clone());
    if let Err(answer) = check_body(&body) {
        return (StatusCode::BAD_REQUEST, answer).into_response();
    }
    match token.as_str() {
        "ratelimited" => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "7")],
            "rate_limited",
        )
            .into_response(),
        "gone" => (StatusCode::NOT_FOUND, "no_service").into_response(),
        "archived" => (StatusCode::GONE, "channel_is_archived").into_response(),
        "forbidden" => (StatusCode::FORBIDDEN, "action_prohibited").into_response(),
        "broken" => (StatusCode::INTERNAL_SERVER_ERROR, "").into_response(),
        _ => (StatusCode::OK, "ok").into_response(),
    }
}
