//! The Gotify example's tests: golden requests from the pure formatter, and
//! the crate's own `herald-gotify` binary delivering to a local server.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, Uri};
use axum::Router;
use herald_core::{Event, Message, NotificationPlugin, PluginConfig, Verdict};
use herald_gotify_example::Gotify;
use serde_json::{json, Value};

fn config(settings: Value) -> PluginConfig {
    let mut entry = json!({"kind": "gotify", "name": "phone"});
    entry
        .as_object_mut()
        .unwrap()
        .extend(settings.as_object().unwrap().clone());
    serde_json::from_value(entry).unwrap()
}

fn event(value: Value) -> Event {
    serde_json::from_value(value).unwrap()
}

fn episode_started() -> Event {
    event(json!({
        "id": "evt_01HZY0000000000000000000AA",
        "event": "playback.started",
        "timestamp": "2026-01-31T12:00:00Z",
        "data": {
            "user_id": "u1", "user_name": "Alice_*", "media_item_id": "m1", "media_type": "episode",
            "series": "The Expanse", "season": 2, "episode": 5, "title": "Home",
            "device_name": "Living Room TV", "image_url": "https://img.example/p.jpg"
        }
    }))
}

fn movie_added() -> Event {
    event(json!({
        "id": "evt_01HZY0000000000000000000AB",
        "event": "library.updated",
        "timestamp": "2026-01-31T12:00:00Z",
        "data": {"change_type": "item_added", "media_item_id": "m2", "title": "Dune", "year": 2021,
                 "overview": "A duke's son leads desert warriors."}
    }))
}

/// Compares with `tests/golden/<name>.json`; `UPDATE_GOLDEN=1` rewrites it.
fn golden(name: &str, message: &Message) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("tests/golden/{name}.json"));
    let actual = serde_json::to_string_pretty(message).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} missing; run with UPDATE_GOLDEN=1", path.display()));
    assert_eq!(actual, expected, "{name} differs from {}", path.display());
}

#[test]
fn golden_requests() {
    let gotify = Gotify::new(&config(json!({
        "server": "https://gotify.example.org/",
        "token": "AppToken.123",
        "priorities": {"library.updated": 8}
    })))
    .unwrap();
    golden(
        "playback_started",
        &gotify.format(&episode_started()).unwrap(),
    );
    golden("library_updated", &gotify.format(&movie_added()).unwrap());
    let custom = event(json!({
        "id": "evt_01HZY0000000000000000000AC", "event": "app.deployed",
        "timestamp": "2026-01-31T12:00:00Z", "data": {"message": "v1.2 is live"}
    }));
    golden("custom_event", &gotify.format(&custom).unwrap());

    let plain = Gotify::new(&config(json!({
        "server": "http://gotify.lan", "token": "AppToken.123",
        "markdown": false, "token_in_query": true
    })))
    .unwrap();
    golden(
        "plain_token_in_query",
        &plain.format(&episode_started()).unwrap(),
    );
}

#[test]
fn answers_are_classified() {
    let gotify = Gotify::new(&config(json!({"server": "http://g", "token": "t"}))).unwrap();
    let answer = |status| herald_core::HttpResponse {
        status,
        headers: vec![],
        body: vec![],
    };
    assert_eq!(gotify.classify(&answer(200)), Verdict::Delivered);
    assert_eq!(gotify.classify(&answer(401)), Verdict::Reject);
    assert_eq!(gotify.classify(&answer(400)), Verdict::Reject);
    assert_eq!(
        gotify.classify(&answer(503)),
        Verdict::Retry { after: None }
    );
}

#[test]
fn settings_errors_name_the_key_and_debug_hides_the_token() {
    let error = |s| Gotify::new(&config(s)).unwrap_err().to_string();
    assert!(error(json!({"token": "t"})).contains("server"));
    assert!(error(json!({"server": "gotify.lan", "token": "t"})).contains("`server`"));
    assert!(
        error(json!({"server": "http://g", "token": "t", "priorities": {"default": 11}}))
            .contains("priorities.default")
    );
    let gotify = Gotify::new(&config(json!({"server": "http://g", "token": "s3cr3t"}))).unwrap();
    assert!(!format!("{gotify:?}").contains("s3cr3t"));
}

/// What the local stand-in for Gotify received.
#[derive(Clone, Debug)]
struct Received {
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Value,
}

type Inbox = Arc<Mutex<Vec<Received>>>;

async fn gotify_server() -> (SocketAddr, Inbox) {
    async fn message(
        State(inbox): State<Inbox>,
        uri: Uri,
        RawQuery(query): RawQuery,
        headers: HeaderMap,
        body: Bytes,
    ) -> axum::Json<Value> {
        inbox.lock().unwrap().push(Received {
            path: uri.path().to_owned(),
            query,
            headers,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        });
        axum::Json(json!({"id": 1, "appid": 1}))
    }
    let inbox = Inbox::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(message).with_state(inbox.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, inbox)
}

/// `herald-gotify serve` on a free port; killed on drop.
struct Herald {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Herald {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_herald(dir: &Path, config: &str) -> Herald {
    let path = dir.join("herald.toml");
    std::fs::write(&path, config).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_herald-gotify"))
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&path)
        .current_dir(dir)
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .env_remove("HERALD_CONFIG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("listening on ").nth(1).filter(|_| !sent) {
                let addr: String = addr.chars().filter(|c| !c.is_control()).collect();
                let addr = addr.trim().trim_end_matches("[0m").to_owned();
                sent = tx.send(addr).is_ok();
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("herald-gotify did not start")
        .parse()
        .unwrap();
    Herald { child, addr }
}

#[test]
fn the_binary_lists_the_gotify_kind_next_to_the_bundled_ones() {
    let out = Command::new(env!("CARGO_BIN_EXE_herald-gotify"))
        .arg("plugins")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.starts_with("gotify ")), "{text}");
    assert!(text.lines().any(|l| l.starts_with("discord ")), "{text}");
}

#[tokio::test]
async fn the_binary_delivers_a_configured_gotify_instance_to_a_local_server() {
    let (gotify, inbox) = gotify_server().await;
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        r#"data_dir = "data"
[server]
ingest_token = "example-ingest-token"
admin_token = "example-admin-token"

[[plugins]]
kind = "gotify"
name = "phone"
server = "http://{gotify}"
token = "AppToken.123"
events = ["playback.*", "library.updated"]
"#
    );
    let herald = start_herald(dir.path(), &config);
    let response = http_post(
        herald.addr,
        "/api/v1/events",
        "example-ingest-token",
        &json!({"event": "playback.started", "data": {
            "user_id": "u1", "user_name": "Alice", "media_item_id": "m1",
            "media_type": "movie", "title": "Dune", "year": 2021
        }}),
    )
    .await;
    assert!(response.starts_with("HTTP/1.1 202"), "{response}");

    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let received = loop {
        if let Some(r) = inbox.lock().unwrap().first().cloned() {
            break r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "nothing reached Gotify"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(received.path, "/message");
    assert_eq!(received.query, None);
    assert_eq!(received.headers["x-gotify-key"], "AppToken.123");
    assert_eq!(received.headers["content-type"], "application/json");
    assert_eq!(
        received.body,
        json!({
            "title": "Playback started",
            "message": "**Alice** started *Dune (2021)*",
            "priority": 2,
            "extras": {"client::display": {"contentType": "text/markdown"}}
        })
    );
}

/// A minimal HTTP/1.1 POST over a raw socket (keeps the example's
/// dependencies to axum and tokio); returns the whole answer.
async fn http_post(addr: SocketAddr, path: &str, token: &str, body: &Value) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.to_string();
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer
}
