//! A stand-in for the Bot API: parses HTML and MarkdownV2 the way Telegram
//! does (only its tags, balanced; every reserved character escaped), checks
//! the lengths after parsing, and answers like Telegram.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

const HTML_TAGS: &[&str] = &[
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "span",
    "tg-spoiler",
    "a",
    "code",
    "pre",
    "blockquote",
    "tg-emoji",
];

/// Parses Telegram HTML; returns the length of the text it shows (UTF-16).
pub fn parse_html(text: &str) -> Result<usize, String> {
    let mut stack: Vec<String> = Vec::new();
    let mut shown = 0;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        match c {
            '<' => {
                let end = rest
                    .find('>')
                    .ok_or("Can't parse entities: unclosed start tag")?;
                let tag = &rest[1..end];
                if let Some(name) = tag.strip_prefix('/') {
                    match stack.pop() {
                        Some(open) if open == name.trim() => {}
                        _ => {
                            return Err(format!(
                                "Can't parse entities: unmatched end tag \"{name}\""
                            ))
                        }
                    }
                } else {
                    let name: String = tag
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                        .collect();
                    if !HTML_TAGS.contains(&name.as_str()) {
                        return Err(format!(
                            "Can't parse entities: unsupported start tag \"{name}\""
                        ));
                    }
                    stack.push(name);
                }
                rest = &rest[end + 1..];
            }
            '>' => return Err("Can't parse entities: unescaped >".into()),
            '&' => {
                let end = rest.find(';').ok_or("Can't parse entities: unescaped &")?;
                let entity = &rest[1..end];
                let ok = matches!(entity, "lt" | "gt" | "amp" | "quot")
                    || entity
                        .strip_prefix('#')
                        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
                if !ok {
                    return Err(format!(
                        "Can't parse entities: unsupported entity &{entity};"
                    ));
                }
                shown += 1;
                rest = &rest[end + 1..];
            }
            c => {
                shown += c.len_utf16();
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    match stack.pop() {
        Some(open) => Err(format!(
            "Can't parse entities: can't find end tag corresponding to start tag \"{open}\""
        )),
        None => Ok(shown),
    }
}

/// Parses Telegram MarkdownV2; returns the length of the text it shows
/// (UTF-16).
pub fn parse_markdown_v2(text: &str) -> Result<usize, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut stack: Vec<&'static str> = Vec::new();
    let mut shown = 0;
    let mut i = 0;
    let at = |i: usize, s: &str| {
        s.chars()
            .enumerate()
            .all(|(k, c)| chars.get(i + k) == Some(&c))
    };
    while i < chars.len() {
        let c = chars[i];
        let in_code = matches!(stack.last(), Some(&"`") | Some(&"```"));
        if c == '\\' {
            let next = chars
                .get(i + 1)
                .ok_or("Can't parse entities: stray \\ at the end")?;
            if !(1..=126).contains(&(*next as u32)) {
                return Err(format!("Can't parse entities: \\ before {next:?}"));
            }
            shown += 1;
            i += 2;
            continue;
        }
        if in_code {
            let closer = stack.last().copied().unwrap_or_default();
            if at(i, closer) {
                stack.pop();
                i += closer.chars().count();
            } else {
                shown += c.len_utf16();
                i += 1;
            }
            continue;
        }
        let toggle = if at(i, "```") {
            Some("```")
        } else if at(i, "__") {
            Some("__")
        } else if at(i, "||") {
            Some("||")
        } else {
            match c {
                '`' => Some("`"),
                '*' => Some("*"),
                '_' => Some("_"),
                '~' => Some("~"),
                _ => None,
            }
        };
        if let Some(delimiter) = toggle {
            if stack.last() == Some(&delimiter) && delimiter != "`" && delimiter != "```" {
                stack.pop();
            } else {
                stack.push(delimiter);
            }
            i += delimiter.chars().count();
            continue;
        }
        match c {
            '[' => {
                stack.push("[");
                i += 1;
            }
            ']' => {
                if stack.pop() != Some("[") || chars.get(i + 1) != Some(&'(') {
                    return Err("Can't parse entities: unexpected ]".into());
                }
                i += 2;
                loop {
                    match chars.get(i) {
                        None => return Err("Can't parse entities: unclosed link URL".into()),
                        Some('\\') => i += 2,
                        Some(')') => {
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
            }
            '>' if i == 0 || chars[i - 1] == '\n' => i += 1,
            c if "_*[]()~`>#+-=|{}.!".contains(c) => {
                return Err(format!(
                    "Can't parse entities: Character '{c}' is reserved and must be escaped with the preceding '\\'"
                ));
            }
            c => {
                shown += c.len_utf16();
                i += 1;
            }
        }
    }
    match stack.last() {
        Some(open) => Err(format!(
            "Can't parse entities: can't find end of the entity starting with {open}"
        )),
        None => Ok(shown),
    }
}

/// Checks a `sendMessage` / `sendPhoto` JSON body as Telegram does; the
/// error is Telegram's description.
pub fn check_body(method: &str, body: &Value) -> Result<(), String> {
    let body = body.as_object().ok_or("Bad Request: invalid JSON")?;
    match body.get("chat_id") {
        Some(Value::Number(n)) if n.is_i64() => {}
        Some(Value::String(s)) if !s.is_empty() => {}
        _ => return Err("Bad Request: chat_id is empty".into()),
    }
    let (field, max) = match method {
        "sendMessage" => ("text", 4096),
        "sendPhoto" => {
            let photo = body
                .get("photo")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !photo.starts_with("http") {
                return Err("Bad Request: wrong remote file identifier specified".into());
            }
            ("caption", 1024)
        }
        _ => return Err("Not Found".into()),
    };
    let text = body.get(field).and_then(Value::as_str).unwrap_or_default();
    let shown = match body.get("parse_mode").and_then(Value::as_str) {
        Some("HTML") => parse_html(text),
        Some("MarkdownV2") => parse_markdown_v2(text),
        None => Ok(text.encode_utf16().count()),
        Some(other) => Err(format!("Bad Request: unsupported parse_mode {other}")),
    }
    .map_err(|e| format!("Bad Request: {e}"))?;
    if method == "sendMessage" && text.trim().is_empty() {
        return Err("Bad Request: message text is empty".into());
    }
    if shown > max {
        return Err(format!("Bad Request: {field} is too long"));
    }
    Ok(())
}

/// What the server received: the method and the body.
pub type Received = (String, Value);

/// A running stand-in. The token after `:` chooses the answer: `ok`,
/// `ratelimited` (429 with `parameters.retry_after` 5 and `Retry-After: 9`),
/// `nochat` (400), `blocked` (403), `unauthorized` (401), `broken` (502),
/// and `echo…` (400 whose description, unlike Telegram's, repeats the
/// path, token included).
pub struct FakeTelegram {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let app = Router::new()
            .route("/{bot}/{method}", post(method))
            .with_state(received.clone());
        let addr = herald_core::testing::serve(app).await;
        FakeTelegram { addr, received }
    }

    pub fn api_base(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn answer(status: StatusCode, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"ok": false, "error_code": status.as_u16(), "description": description})),
    )
        .into_response()
}

async fn method(
    State(received): State<Arc<Mutex<Vec<Received>>>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(token) = bot.strip_prefix("bot") else {
        return answer(StatusCode::NOT_FOUND, "Not Found");
    };
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json") {
        return answer(
            StatusCode::BAD_REQUEST,
            "Bad Request: message text is empty",
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return answer(StatusCode::BAD_REQUEST, "Bad Request: invalid JSON");
    };
    received
        .lock()
        .unwrap()
        .push((method.clone(), body.clone()));
    if let Err(description) = check_body(&method, &body) {
        return answer(StatusCode::BAD_REQUEST, &description);
    }
    let secret = token.split_once(':').map_or("", |(_, s)| s);
    match secret {
        "ratelimited" => (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "9")],
            axum::Json(json!({"ok": false, "error_code": 429,
                "description": "Too Many Requests: retry after 5",
                "parameters": {"retry_after": 5}})),
        )
            .into_response(),
        "nochat" => answer(StatusCode::BAD_REQUEST, "Bad Request: chat not found"),
        "blocked" => answer(
            StatusCode::FORBIDDEN,
            "Forbidden: bot was blocked by the user",
        ),
        "unauthorized" => answer(StatusCode::UNAUTHORIZED, "Unauthorized"),
        "broken" => answer(StatusCode::BAD_GATEWAY, "Bad Gateway"),
        s if s.starts_with("echo") => answer(
            StatusCode::BAD_REQUEST,
            &format!("Bad Request: chat not found for /bot{token}/{method}"),
        ),
        _ => axum::Json(
            json!({"ok": true, "result": {"message_id": 1, "chat": {"id": body["chat_id"]}}}),
        )
        .into_response(),
    }
}

#[test]
fn the_parsers_agree_with_telegram_on_examples() {
    assert_eq!(parse_html("<b>a &amp; b</b> <i>c</i>"), Ok(7));
    assert!(parse_html("<b>a</i>").is_err());
    assert!(parse_html("<b>a").is_err());
    assert!(parse_html("a < b").is_err());
    assert!(parse_html("a & b").is_err());
    assert!(parse_html("<script>x</script>").is_err());
    assert_eq!(parse_markdown_v2(r"*bold* _it_ \(1\)\."), Ok(12));
    assert!(parse_markdown_v2("a.b").is_err());
    assert!(parse_markdown_v2("*open").is_err());
    assert!(parse_markdown_v2("a (b)").is_err());
    assert_eq!(parse_markdown_v2("[link](https://x.y/\\)a) `c*d`"), Ok(8));
}
