//! Shared harness for the end-to-end tests: the real `herald` binary on a
//! free port with its own data directory, and recording HTTP sinks.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tokio::sync::Notify;

/// The `herald` binary: `E2E_HERALD_BIN` when set (CI points it at the binary
/// its own `cargo test --workspace` just built, so no second build with other
/// features happens), else built once per test run.
pub fn herald_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("E2E_HERALD_BIN") {
            return PathBuf::from(bin);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let status = Command::new(env!("CARGO"))
            .args(["build", "-q", "-p", "herald-host", "--bin", "herald"])
            .current_dir(&root)
            .status()
            .expect("cargo build");
        assert!(status.success(), "building herald failed");
        // tests/target layout: <target>/debug/deps/<test> → <target>/debug/herald
        let exe = std::env::current_exe().unwrap();
        let profile_dir = exe.parent().unwrap().parent().unwrap();
        let bin = profile_dir.join(format!("herald{}", std::env::consts::EXE_SUFFIX));
        assert!(bin.exists(), "{} missing", bin.display());
        bin
    })
    .clone()
}

/// A running `herald serve`.
pub struct Herald {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub admin_token: String,
    pub ingest_token: String,
    pub dir: PathBuf,
    pub stderr: Arc<Mutex<Vec<String>>>,
    pub stdout: String,
    pub http: reqwest::Client,
}

/// Config used by most tests: local sinks allowed, fast retries.
pub const TEST_CONFIG: &str = r#"
[server]
admin_token = "test-admin-token"
ingest_token = "test-ingest-token"
[webhooks]
require_tls = false
allow_private_networks = true
retry_backoff = "100ms"
timeout = 2
"#;

impl Herald {
    /// Starts herald with `config` (TOML) in a fresh directory.
    pub fn start(config: &str) -> Herald {
        let dir = tempfile::tempdir().unwrap().keep();
        Herald::start_in(&dir, config, &[])
    }

    /// Starts herald in `dir` (reusing its data) with extra env vars.
    pub fn start_in(dir: &Path, config: &str, env: &[(&str, &str)]) -> Herald {
        let config_path = dir.join("herald.toml");
        std::fs::write(
            &config_path,
            format!(
                "data_dir = {:?}\n{config}",
                dir.join("data").display().to_string()
            ),
        )
        .unwrap();
        let mut command = Command::new(herald_bin());
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config_path)
            .current_dir(dir)
            .env("RUST_LOG", "info,herald_host=debug")
            .env_remove("HERALD_CONFIG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            command.env(k, v);
        }
        let mut child = command.spawn().unwrap();
        let stderr = child.stderr.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(rest) = line.split("listening on ").nth(1) {
                        // Text or JSON log line: the address ends at a quote,
                        // a space or an escape sequence.
                        let addr: String = rest
                            .chars()
                            .take_while(|c| {
                                c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '[' | ']')
                            })
                            .collect();
                        let _ = tx.send(addr);
                    }
                    lines.lock().unwrap().push(line);
                }
            });
        }
        let stdout_text = Arc::new(Mutex::new(String::new()));
        {
            let stdout_text = stdout_text.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    stdout_text.lock().unwrap().push_str(&(line + "\n"));
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => strip_ansi(&addr).parse().unwrap(),
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "herald did not start:\n{}",
                    lines.lock().unwrap().join("\n")
                );
            }
        };
        let data = dir.join("data");
        let read_token = |name: &str, configured: &str| {
            if config.contains(configured) {
                configured.trim_matches('"').to_string()
            } else {
                std::fs::read_to_string(data.join(name)).unwrap_or_default()
            }
        };
        std::thread::sleep(Duration::from_millis(50));
        let stdout = stdout_text.lock().unwrap().clone();
        Herald {
            admin_token: read_token("admin_token", "\"test-admin-token\""),
            ingest_token: read_token("ingest_token", "\"test-ingest-token\""),
            child: Some(child),
            addr,
            dir: dir.to_owned(),
            stderr: lines,
            stdout,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Posts an event JSON with the ingest token.
    pub async fn post_event(&self, body: &serde_json::Value) -> reqwest::Response {
        self.http
            .post(self.url("/api/v1/events"))
            .bearer_auth(&self.ingest_token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// An admin request.
    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.url(path))
            .bearer_auth(&self.admin_token)
    }

    /// Registers a webhook; returns its JSON.
    pub async fn create_webhook(&self, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .admin(reqwest::Method::POST, "/api/v1/admin/webhooks")
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(status, 201, "{json}");
        json["webhook"].clone()
    }

    /// GET an admin path as JSON.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.admin(reqwest::Method::GET, path)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// The log so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// SIGKILL.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait; returns the exit status success.
    pub fn terminate(&mut self) -> bool {
        let Some(mut child) = self.child.take() else {
            return false;
        };
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Herald {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// One request a sink received.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A canned answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

impl Reply {
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            delay: Duration::ZERO,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    pub fn delayed(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_string()));
        self
    }

    pub fn body(mut self, body: &str) -> Reply {
        self.body = body.to_string();
        self
    }
}

#[derive(Default)]
struct SinkState {
    received: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Reply>>,
    default: Mutex<Option<Reply>>,
    notify: Notify,
}

/// A recording HTTP server on 127.0.0.1 that answers from a script, then
/// with its default (200 unless set).
#[derive(Clone)]
pub struct Sink {
    pub addr: SocketAddr,
    state: Arc<SinkState>,
    shutdown: Arc<Notify>,
}

impl Sink {
    pub async fn start() -> Sink {
        Sink::start_on("127.0.0.1:0").await
    }

    pub async fn start_on(addr: &str) -> Sink {
        let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(SinkState::default());
        let shutdown = Arc::new(Notify::new());
        let app = Router::new().fallback(record).with_state(state.clone());
        let stop = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stop.notified().await })
                .await;
        });
        Sink {
            addr,
            state,
            shutdown,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Queues answers for the next requests.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.state.script.lock().unwrap().extend(replies);
    }

    /// The answer once the script is used up.
    pub fn set_default(&self, reply: Reply) {
        *self.state.default.lock().unwrap() = Some(reply);
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived (panics after `timeout`).
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.state.notify.notified();
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("expected {n} requests, got {}", self.received().len());
            }
        }
    }

    pub fn stop(&self) {
        self.shutdown.notify_waiters();
    }
}

async fn record(
    State(state): State<Arc<SinkState>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let next = state.script.lock().unwrap().pop_front();
        next.or_else(|| state.default.lock().unwrap().clone())
            .unwrap_or_else(|| Reply::status(200))
    };
    state.received.lock().unwrap().push(Received {
        path: uri.path().to_string(),
        headers,
        body,
        at: Instant::now(),
    });
    state.notify.notify_waiters();
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut response = (StatusCode::from_u16(reply.status).unwrap(), reply.body).into_response();
    for (name, value) in reply.headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

/// Polls `f` until it returns `Some` or `timeout` passes.
pub async fn eventually<T, F, Fut>(timeout: Duration, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "condition not met in {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
