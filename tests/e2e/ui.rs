//! Issue 8: the admin web UI in a real headless Chromium driven over
//! WebDriver (`chromedriver`), the session login with its cookie and CSRF
//! rules, and the playback statistics API.
//!
//! The browser tests need Debian's `chromium` and `chromium-driver` (`.ci/test`
//! installs them; `CHROMIUM_BIN` and `CHROMEDRIVER` override the
//! paths). Screenshots of every page are written to `tests/artifacts/`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use herald_tests::{eventually, Herald, Reply, Sink, TEST_CONFIG};
use reqwest::header::{HeaderMap, COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);
const XSS_NAME: &str = "<script>alert(1)</script>";

// ---------------------------------------------------------------------------
// A minimal WebDriver client: the protocol is JSON over HTTP, so reqwest is
// all it takes.

/// The W3C WebDriver element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

struct Browser {
    driver: Child,
    base: String,
    http: reqwest::Client,
    _profile: tempfile::TempDir,
}

fn program(env: &str, default: &str) -> String {
    std::env::var(env).unwrap_or_else(|_| default.to_string())
}

impl Browser {
    async fn start() -> Browser {
        let chromedriver = program("CHROMEDRIVER", "/usr/bin/chromedriver");
        let chromium = program("CHROMIUM_BIN", "/usr/bin/chromium");
        assert!(
            Path::new(&chromedriver).exists() && Path::new(&chromium).exists(),
            "the UI tests need Chromium and its WebDriver: apt-get install -y chromium chromium-driver \
             (or set CHROMIUM_BIN and CHROMEDRIVER)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new(&chromedriver);
        command
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so that dropping the browser also ends the
        // Chromium processes it started.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command.spawn().expect("starting chromedriver");
        let profile = tempfile::tempdir().unwrap();
        let mut browser = Browser {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            _profile: profile,
        };
        let status_url = format!("{}/status", browser.base);
        eventually(WAIT, || async {
            let r = browser.http.get(&status_url).send().await.ok()?;
            let v: Value = r.json().await.ok()?;
            v["value"]["ready"].as_bool().filter(|r| *r)
        })
        .await;
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1280,900",
            "--lang=en-US",
        ]
        .iter()
        .map(|a| a.to_string())
        .chain([format!(
            "--user-data-dir={}",
            browser._profile.path().display()
        )])
        .collect::<Vec<_>>();
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": {"binary": chromium, "args": args},
        }}});
        let session = browser.raw(Method::POST, "/session", Some(caps)).await;
        let id = session
            .expect("creating a WebDriver session")
            .get("sessionId")
            .and_then(Value::as_str)
            .unwrap()
            .to_string();
        browser.base = format!("{}/session/{id}", browser.base);
        browser
    }

    /// One command; `Err` holds the WebDriver error value.
    async fn raw(&self, method: Method, path: &str, body: Option<Value>) -> Result<Value, Value> {
        if std::env::var_os("WEBDRIVER_TRACE").is_some() {
            eprintln!("webdriver: {method} {path} {body:?}");
        }
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        } else {
            request = request.json(&json!({}));
        }
        let response = request.send().await.expect("talking to chromedriver");
        let ok = response.status().is_success();
        let v: Value = response.json().await.unwrap();
        if ok {
            Ok(v["value"].clone())
        } else {
            Err(v["value"].clone())
        }
    }

    async fn cmd(&self, method: Method, path: &str, body: Value) -> Value {
        match self.raw(method, path, Some(body)).await {
            Ok(v) => v,
            Err(e) => panic!("WebDriver {path}: {e}"),
        }
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap();
        let v: Value = response.json().await.unwrap();
        v["value"].clone()
    }

    async fn goto(&self, url: &str) {
        self.cmd(Method::POST, "/url", json!({"url": url})).await;
    }

    async fn exec(&self, script: &str, args: Value) -> Value {
        self.cmd(
            Method::POST,
            "/execute/sync",
            json!({"script": script, "args": args}),
        )
        .await
    }

    /// The element matching `css`, waiting until it exists and is shown.
    async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(v) = self
                .raw(
                    Method::POST,
                    "/element",
                    Some(json!({"using": "css selector", "value": css})),
                )
                .await
            {
                let id = v[ELEMENT].as_str().unwrap().to_string();
                let shown = self.get(&format!("/element/{id}/displayed")).await;
                if shown == json!(true) {
                    return id;
                }
            }
            assert!(Instant::now() < deadline, "no visible element `{css}`");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.cmd(Method::POST, &format!("/element/{id}/click"), json!({}))
            .await;
    }

    async fn clear(&self, css: &str) {
        let id = self.find(css).await;
        self.cmd(Method::POST, &format!("/element/{id}/clear"), json!({}))
            .await;
    }

    async fn type_into(&self, css: &str, text: &str) {
        self.clear(css).await;
        let id = self.find(css).await;
        self.cmd(
            Method::POST,
            &format!("/element/{id}/value"),
            json!({"text": text}),
        )
        .await;
    }

    /// `textContent` of the first match, or `None`.
    async fn text(&self, css: &str) -> Option<String> {
        self.exec(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
            json!([css]),
        )
        .await
        .as_str()
        .map(str::to_string)
    }

    /// Waits until the text of `css` contains `needle`; returns the text.
    async fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let text = self.text(css).await;
            if let Some(t) = &text {
                if t.contains(needle) {
                    return t.clone();
                }
            }
            assert!(
                Instant::now() < deadline,
                "`{css}` never contained {needle:?} (last: {text:?})"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `script` returns a truthy value; returns it.
    async fn wait_js(&self, script: &str, args: Value) -> Value {
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self.exec(script, args.clone()).await;
            let truthy =
                !matches!(v, Value::Null | Value::Bool(false)) && v != json!(0) && v != json!("");
            if truthy {
                return v;
            }
            assert!(Instant::now() < deadline, "never true: {script}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Emulates a viewport (Chrome DevTools `Emulation.setDeviceMetricsOverride`).
    async fn viewport(&self, width: u32, height: u32, mobile: bool) {
        self.cmd(
            Method::POST,
            "/goog/cdp/execute",
            json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile}}),
        )
        .await;
    }

    /// A PNG of the whole page at `width` CSS pixels, in `tests/artifacts/`.
    async fn screenshot(&self, name: &str, width: u32, mobile: bool) -> PathBuf {
        self.viewport(width, 800, mobile).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let height = self
            .exec(
                "return Math.ceil(document.documentElement.scrollHeight);",
                json!([]),
            )
            .await
            .as_u64()
            .unwrap_or(800)
            .clamp(400, 6000) as u32;
        self.viewport(width, height, mobile).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
        let png = self.get("/screenshot").await;
        let bytes = base64_decode(png.as_str().expect("a base64 screenshot"));
        let dir = artifacts();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, bytes).unwrap();
        self.viewport(1280, 900, false).await;
        path
    }

    async fn open_alert(&self) -> Option<String> {
        self.raw(Method::GET, "/alert/text", None)
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
    }

    async fn cookies(&self) -> Vec<Value> {
        self.get("/cookie")
            .await
            .as_array()
            .cloned()
            .unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // chromedriver and the Chromium it started share a process group.
        // (`--`: for kill(1), `-<pgid>` after it is a process group.)
        let _ = Command::new("kill")
            .args(["-KILL", "--"])
            .arg(format!("-{}", self.driver.id()))
            .status();
        let _ = self.driver.wait();
    }
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Standard base64 (screenshots), without a dependency for it.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

#[test]
fn base64_decoder_round_trips() {
    assert_eq!(base64_decode("aGVyYWxk"), b"herald");
    assert_eq!(base64_decode("aGVyYWw="), b"heral");
    assert_eq!(base64_decode("aGVyYQ=="), b"hera");
}

// ---------------------------------------------------------------------------
// Helpers shared by the tests.

fn ui_config(plugin_sink: &Sink) -> String {
    format!(
        r#"{TEST_CONFIG}
[[plugins]]
kind = "discord"
name = "discord-family"
events = ["playback.*"]
webhook_url = "{}"
"#,
        plugin_sink.url("/api/webhooks/1/tok")
    )
}

/// A playback event at a fixed time.
fn play(kind: &str, at: &str, user: &str, name: &str, title: &str, extra: Value) -> Value {
    let mut data = json!({"user_id": user, "user_name": name, "media_item_id": title,
        "media_type": "movie", "title": title});
    if let (Value::Object(data), Value::Object(extra)) = (&mut data, extra) {
        data.extend(extra);
    }
    json!({"event": kind, "timestamp": at, "data": data})
}

/// Playback spread over 2026-01-01..07 with nothing on the 3rd, 4th and 6th.
async fn post_playback_history(herald: &Herald) {
    let expanse = json!({"series": "The Expanse", "media_type": "episode"});
    let events = [
        play(
            "playback.started",
            "2026-01-01T20:00:00Z",
            "u1",
            "Alice",
            "Home",
            expanse.clone(),
        ),
        play(
            "playback.ended",
            "2026-01-01T20:50:00Z",
            "u1",
            "Alice",
            "Home",
            json!({"series": "The Expanse", "duration_seconds": 3000}),
        ),
        play(
            "playback.started",
            "2026-01-01T21:00:00Z",
            "u2",
            "Bob",
            "Dune",
            json!({}),
        ),
        play(
            "playback.started",
            "2026-01-02T09:15:00Z",
            "u1",
            "Alice",
            "Salvage",
            expanse.clone(),
        ),
        play(
            "playback.ended",
            "2026-01-02T10:05:00Z",
            "u2",
            "Bob",
            "Dune",
            json!({"duration_seconds": 9300}),
        ),
        play(
            "playback.paused",
            "2026-01-02T09:30:00Z",
            "u1",
            "Alice",
            "Salvage",
            expanse.clone(),
        ),
        play(
            "playback.started",
            "2026-01-05T18:00:00Z",
            "u3",
            "Carol",
            "Dune",
            json!({}),
        ),
        play(
            "playback.ended",
            "2026-01-05T20:00:00Z",
            "u3",
            "Carol",
            "Dune",
            json!({"duration_seconds": 7200}),
        ),
        play(
            "playback.started",
            "2026-01-07T23:59:59Z",
            "u1",
            "Alice",
            "Paradigm Shift",
            expanse,
        ),
        // Outside of the week.
        play(
            "playback.started",
            "2026-01-08T00:00:00Z",
            "u4",
            "Dan",
            "Alien",
            json!({}),
        ),
    ];
    for event in &events {
        let response = herald.post_event(event).await;
        assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Logs in with `token`; returns the answer's status and `Set-Cookie`.
async fn login(herald: &Herald, token: &str) -> (StatusCode, Option<String>, HeaderMap) {
    let response = no_redirects()
        .post(herald.url("/admin/login"))
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let cookie = headers
        .get(SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_string());
    (status, cookie, headers)
}

fn session_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

/// The CSRF value the app page hands to its script.
async fn page_csrf(herald: &Herald, cookie: &str) -> String {
    let html = no_redirects()
        .get(herald.url("/admin"))
        .header(COOKIE, cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = html.find("name=\"herald-csrf\" content=\"").unwrap() + 28;
    html[start..start + 64].to_string()
}

// ---------------------------------------------------------------------------
// Plain HTTP tests.

#[tokio::test]
async fn login_session_cookie_and_csrf_rules() {
    let herald = Herald::start(TEST_CONFIG);
    let http = no_redirects();

    // Without a session the pages send to the login form.
    let r = http.get(herald.url("/admin")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/admin/login");
    let r = http.get(herald.url("/admin/login")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("<form method=\"post\" action=\"/admin/login\""));

    // A wrong token: no cookie.
    let (status, cookie, _) = login(&herald, "not-the-token").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(cookie.is_none());
    let (status, cookie, _) = login(&herald, "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(cookie.is_none());

    // The right token: a random session id, HttpOnly, SameSite=Strict.
    let (status, set_cookie, headers) = login(&herald, &herald.admin_token).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers[LOCATION], "/admin");
    let set_cookie = set_cookie.unwrap();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    assert!(!set_cookie.contains(&herald.admin_token), "{set_cookie}");
    let cookie = session_pair(&set_cookie);
    let (_, other, _) = login(&herald, &herald.admin_token).await;
    assert_ne!(
        session_pair(&other.unwrap()),
        cookie,
        "session ids are random"
    );

    // Reads need only the cookie.
    let r = http
        .get(herald.url("/api/v1/admin/webhooks"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .get(herald.url("/api/v1/admin/stats/top-users"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Changes need the page's CSRF value as well.
    let csrf = page_csrf(&herald, &cookie).await;
    let create = |csrf: Option<&str>, origin: Option<&str>, name: &str| {
        let mut request = http
            .post(herald.url("/api/v1/admin/webhooks"))
            .header(COOKIE, &cookie)
            .json(&json!({"name": name, "url": "http://127.0.0.1:9/hook", "events": ["*"]}));
        if let Some(csrf) = csrf {
            request = request.header("X-Herald-CSRF", csrf);
        }
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        request.send()
    };
    let r = create(None, None, "a").await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "csrf");
    let r = create(Some(&"0".repeat(64)), None, "a").await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = create(Some(&csrf), Some("https://evil.example"), "a")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let same_origin = format!("http://{}", herald.addr);
    let r = create(Some(&csrf), Some(&same_origin), "a").await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let r = create(Some(&csrf), None, "b").await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);

    // The bearer token keeps working, and a wrong one is not rescued by a cookie.
    let r = herald
        .admin(Method::GET, "/api/v1/admin/webhooks")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .get(herald.url("/api/v1/admin/webhooks"))
        .header(COOKIE, &cookie)
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The CSRF value is no credential on its own, nor is a made-up session.
    let r = http
        .post(herald.url("/api/v1/admin/webhooks"))
        .header("X-Herald-CSRF", &csrf)
        .header(COOKIE, format!("herald_session={}", "0".repeat(64)))
        .json(&json!({"name": "c", "url": "http://127.0.0.1:9/", "events": ["*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    // Logout needs the CSRF value too, then clears the cookie and the session.
    let logout = |csrf: Option<String>| {
        let mut request = http
            .post(herald.url("/admin/logout"))
            .header(COOKIE, &cookie);
        if let Some(csrf) = csrf {
            request = request.header("X-Herald-CSRF", csrf);
        }
        request.send()
    };
    assert_eq!(logout(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    let r = logout(Some(csrf.clone())).await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let cleared = r.headers()[SET_COOKIE].to_str().unwrap();
    assert!(cleared.starts_with("herald_session=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let r = http
        .get(herald.url("/api/v1/admin/webhooks"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = http
        .get(herald.url("/admin"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    // The other session is still valid.
    let r = http
        .get(herald.url("/api/v1/admin/webhooks"))
        .header(COOKIE, session_pair(&other_cookie(&herald).await))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn other_cookie(herald: &Herald) -> String {
    login(herald, &herald.admin_token).await.1.unwrap()
}

#[tokio::test]
async fn stats_api_over_days_with_gaps() {
    let herald = Herald::start(TEST_CONFIG);
    post_playback_history(&herald).await;

    let series = herald
        .get_json("/api/v1/admin/stats/playback?from=2026-01-01&to=2026-01-08&interval=day")
        .await;
    assert_eq!(series["interval"], "day");
    assert_eq!(series["from"], "2026-01-01T00:00:00Z");
    assert_eq!(series["to"], "2026-01-08T00:00:00Z");
    let days: Vec<(String, u64, u64)> = series["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["start"].as_str().unwrap()[..10].to_string(),
                b["plays"].as_u64().unwrap(),
                b["watch_seconds"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64, u64)> = [
        ("2026-01-01", 2, 3000),
        ("2026-01-02", 1, 9300),
        ("2026-01-03", 0, 0),
        ("2026-01-04", 0, 0),
        ("2026-01-05", 1, 7200),
        ("2026-01-06", 0, 0),
        ("2026-01-07", 1, 0),
    ]
    .iter()
    .map(|(d, p, w)| (d.to_string(), *p, *w))
    .collect();
    assert_eq!(days, expected);
    assert_eq!(series["total"], json!({"plays": 5, "watch_seconds": 19500}));

    // Hourly, over a gap and across midnight; `from` is floored to the hour.
    let hours = herald
        .get_json("/api/v1/admin/stats/playback?from=2026-01-01T19:30:00Z&to=2026-01-02T11:00:00Z&interval=hour")
        .await;
    let buckets = hours["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 16, "19:00 on the 1st to 10:00 on the 2nd");
    assert_eq!(buckets[0]["start"], "2026-01-01T19:00:00Z");
    assert_eq!(buckets[1]["plays"], 1, "20:00");
    assert_eq!(buckets[1]["watch_seconds"], 3000);
    assert_eq!(buckets[2]["plays"], 1, "21:00");
    assert_eq!(buckets[5]["start"], "2026-01-02T00:00:00Z");
    assert_eq!(buckets[5]["plays"], 0);
    assert_eq!(buckets[14]["plays"], 1, "09:00 on the 2nd");
    assert_eq!(buckets[15]["watch_seconds"], 9300, "10:00 on the 2nd");

    let users = herald
        .get_json("/api/v1/admin/stats/top-users?from=2026-01-01&to=2026-01-08&limit=2")
        .await;
    assert_eq!(
        users["users"],
        json!([
            {"user_id": "u2", "user_name": "Bob", "plays": 1, "watch_seconds": 9300},
            {"user_id": "u3", "user_name": "Carol", "plays": 1, "watch_seconds": 7200},
        ])
    );
    let media = herald
        .get_json("/api/v1/admin/stats/top-media?from=2026-01-01&to=2026-01-08")
        .await;
    assert_eq!(
        media["media"],
        json!([
            {"title": "The Expanse", "media_type": "series", "plays": 3, "users": 1, "watch_seconds": 3000},
            {"title": "Dune", "media_type": "movie", "plays": 2, "users": 2, "watch_seconds": 16500},
        ])
    );
    // An empty range is empty, not an error.
    let empty = herald
        .get_json("/api/v1/admin/stats/top-media?from=2025-01-01&to=2025-01-02")
        .await;
    assert_eq!(empty["media"], json!([]));

    for (query, field) in [
        ("playback?interval=week", "interval"),
        ("playback?from=last-tuesday", "from"),
        ("playback?from=2026-01-02&to=2026-01-01", "to"),
        (
            "playback?from=2020-01-01&to=2026-01-01&interval=hour",
            "from",
        ),
        ("playback?limit=5", "limit"),
        ("top-users?limit=0", "limit"),
        ("top-users?limit=1000", "limit"),
        ("top-media?limit=x", "limit"),
        ("top-media?to=2026-02-30", "to"),
        ("top-media?user=u1", "user"),
    ] {
        let r = herald
            .admin(Method::GET, &format!("/api/v1/admin/stats/{query}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 422, "{query}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["field"], field, "{query}: {body}");
    }
    let r = herald
        .http
        .get(herald.url("/api/v1/admin/stats/playback"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

// ---------------------------------------------------------------------------
// The browser.

async fn api_webhook(herald: &Herald, name: &str) -> Option<Value> {
    herald.get_json("/api/v1/admin/webhooks").await["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == name)
        .cloned()
}

fn row(id: &str) -> String {
    format!("#webhooks-table tr[data-id=\"{id}\"]")
}

#[tokio::test]
async fn admin_ui_in_a_real_browser() {
    let sink = Sink::start().await;
    let failing = Sink::start().await;
    failing.set_default(Reply::status(500).body("receiver exploded"));
    let discord = Sink::start().await;
    discord.set_default(Reply::status(204));
    let herald = Herald::start(&ui_config(&discord));
    let browser = Browser::start().await;

    // --- login ---------------------------------------------------------
    browser.goto(&herald.url("/admin")).await;
    browser.find("#token").await;
    let url = browser.get("/url").await;
    assert!(url.as_str().unwrap().ends_with("/admin/login"), "{url}");
    browser.screenshot("01-login", 1280, false).await;
    browser.type_into("#token", "wrong-token").await;
    browser.click("#login-form button[type=submit]").await;
    browser
        .wait_text("#login-error", "That is not the admin token.")
        .await;
    assert!(browser.cookies().await.is_empty());
    browser.type_into("#token", &herald.admin_token).await;
    browser.click("#login-form button[type=submit]").await;
    browser.find("#page-webhooks h1").await;
    let cookies = browser.cookies().await;
    assert_eq!(cookies.len(), 1, "{cookies:?}");
    assert_eq!(cookies[0]["name"], "herald_session");
    assert_eq!(cookies[0]["httpOnly"], true);
    assert_eq!(cookies[0]["sameSite"], "Strict");
    assert_ne!(cookies[0]["value"], herald.admin_token.as_str());
    // The page's script cannot read the cookie.
    let visible = browser.exec("return document.cookie;", json!([])).await;
    assert_eq!(visible, "");
    browser
        .wait_text("#webhooks-empty", "No webhooks yet")
        .await;

    // --- a validation error next to its field ----------------------------
    browser.click("#webhook-add").await;
    browser.type_into("#wh-name", "bad-url").await;
    browser.type_into("#wh-url", "not a url").await;
    browser.click("#webhook-save").await;
    let error = browser.wait_text("#wh-url-error", "url").await;
    assert!(!error.is_empty());
    let invalid = browser
        .exec(
            "return document.getElementById('wh-url').getAttribute('aria-invalid');",
            json!([]),
        )
        .await;
    assert_eq!(invalid, "true");
    assert_eq!(browser.text("#wh-name-error").await.as_deref(), Some(""));
    let focused = browser
        .exec("return document.activeElement.id;", json!([]))
        .await;
    assert_eq!(focused, "wh-url");
    browser
        .screenshot("02-webhook-validation", 1280, false)
        .await;

    // --- add a webhook named like a script: shown as text -----------------
    browser.type_into("#wh-name", XSS_NAME).await;
    browser.type_into("#wh-url", &sink.url("/hook")).await;
    browser
        .type_into("#wh-events", "playback.*, webhook.test")
        .await;
    browser.click("#webhook-save").await;
    browser.wait_text("#status", "Added webhook").await;
    let webhook = api_webhook(&herald, XSS_NAME).await.expect("created");
    let id = webhook["id"].as_str().unwrap().to_string();
    assert_eq!(webhook["events"], json!(["playback.*", "webhook.test"]));
    let shown = browser.text(&format!("{} .wh-name", row(&id))).await;
    assert_eq!(shown.as_deref(), Some(XSS_NAME));
    let scripts = browser
        .exec(
            "return document.querySelectorAll('main script, main img').length;",
            json!([]),
        )
        .await;
    assert_eq!(scripts, 0);
    assert_eq!(browser.open_alert().await, None, "no script ran");
    assert!(browser.text("#webhook-form").await.is_some());
    let form_hidden = browser
        .exec(
            "return document.getElementById('webhook-form').hidden;",
            json!([]),
        )
        .await;
    assert_eq!(form_hidden, true);

    // --- send a test and see its outcome ----------------------------------
    browser.click(&format!("{} button.test", row(&id))).await;
    let outcome = browser
        .wait_text(&format!("{} output", row(&id)), "Test delivered: HTTP 200")
        .await;
    assert!(outcome.contains(" ms"), "{outcome}");
    let got = sink.wait_for(1, WAIT).await;
    assert_eq!(got[0].json()["event"], "webhook.test");

    // A second webhook, added through the form, that always fails.
    browser.click("#webhook-add").await;
    browser.type_into("#wh-name", "flaky receiver").await;
    browser.type_into("#wh-url", &failing.url("/hook")).await;
    browser.type_into("#wh-retries", "0").await;
    browser.click("#webhook-save").await;
    browser.wait_text("#status", "Added webhook").await;
    let flaky = api_webhook(&herald, "flaky receiver").await.unwrap();
    let flaky_id = flaky["id"].as_str().unwrap().to_string();
    assert_eq!(flaky["max_retries"], 0);

    // Events for every destination: the sink, the failing one and Discord.
    let accepted: Value = herald
        .post_event(&play(
            "playback.started",
            "2026-01-01T20:00:00Z",
            "u1",
            "Alice",
            "Dune",
            json!({}),
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted["deliveries"], 3);
    failing.wait_for(1, WAIT).await;
    sink.wait_for(2, WAIT).await;
    discord.wait_for(1, WAIT).await;
    let failed = eventually(WAIT, || async {
        let page = herald
            .get_json(&format!(
                "/api/v1/admin/deliveries?destination=webhook:{flaky_id}&status=failed"
            ))
            .await;
        page["deliveries"]
            .as_array()
            .and_then(|d| d.first().cloned())
    })
    .await;
    let failed_id = failed["id"].as_str().unwrap().to_string();

    browser.goto(&herald.url("/admin#/webhooks")).await;
    browser
        .wait_text(
            &format!("{} td[data-label=State]", row(&flaky_id)),
            "active",
        )
        .await;
    browser
        .wait_text(&format!("{} td[data-label=Failures]", row(&flaky_id)), "1")
        .await;
    browser.screenshot("03-webhooks", 1280, false).await;

    // --- the delivery log -------------------------------------------------
    browser.click("nav a[data-page=logs]").await;
    browser.find("#page-logs h1").await;
    browser
        .wait_js(
            "return document.querySelectorAll('#logs-table tbody tr').length >= 4;",
            json!([]),
        )
        .await;
    let success_row = "#logs-table tr[data-status=success] td[data-label=Destination]";
    let destinations = browser
        .exec(
            "return [...document.querySelectorAll(arguments[0])].map(e => e.textContent);",
            json!([success_row]),
        )
        .await;
    let destinations: Vec<String> = serde_json::from_value(destinations).unwrap();
    assert!(
        destinations.iter().any(|d| d.starts_with(XSS_NAME)),
        "{destinations:?}"
    );
    assert!(
        destinations.iter().any(|d| d.starts_with("discord-family")),
        "{destinations:?}"
    );
    let failed_row = format!("#logs-table tr[data-id=\"{failed_id}\"]");
    assert_eq!(
        browser
            .text(&format!("{failed_row} td[data-label=Code]"))
            .await
            .as_deref(),
        Some("500")
    );
    assert_eq!(
        browser
            .text(&format!("{failed_row} td[data-label=Response]"))
            .await
            .as_deref(),
        Some("receiver exploded")
    );
    browser.screenshot("04-delivery-log", 1280, false).await;

    // Filter to the failed ones of the flaky webhook, then retry.
    browser
        .exec(
            "document.getElementById('logs-destination').value = arguments[0];
             document.getElementById('logs-status').value = 'failed';",
            json!([format!("webhook:{flaky_id}")]),
        )
        .await;
    browser.click("#logs-filter button[type=submit]").await;
    browser
        .wait_js(
            "const rows = [...document.querySelectorAll('#logs-table tbody tr')];
             return rows.length === 1 && rows[0].dataset.id === arguments[0];",
            json!([failed_id]),
        )
        .await;
    browser.click(&format!("{failed_row} button.retry")).await;
    browser
        .wait_text("#status", "queued for another attempt")
        .await;
    failing.wait_for(2, WAIT).await;
    let retried = eventually(WAIT, || async {
        let d = herald
            .get_json(&format!("/api/v1/admin/deliveries/{failed_id}"))
            .await["delivery"]
            .clone();
        (d["attempts"] == 2 && d["status"] == "failed").then_some(d)
    })
    .await;
    assert_eq!(retried["attempts_log"].as_array().unwrap().len(), 2);
    // The attempts dialog shows both.
    browser.click("#logs-refresh").await;
    browser
        .wait_text(&format!("{failed_row} td[data-label=Attempts]"), "2")
        .await;
    browser.click(&format!("{failed_row} button.details")).await;
    browser
        .wait_js(
            "return document.querySelectorAll('#attempts-table tbody tr').length === 2;",
            json!([]),
        )
        .await;
    browser.click("#delivery-dialog button[value=close]").await;

    // --- disable, secrets, delete ----------------------------------------
    browser.click("nav a[data-page=webhooks]").await;
    browser.click(&format!("{} button.toggle", row(&id))).await;
    browser
        .wait_text(&format!("{} td[data-label=State]", row(&id)), "disabled")
        .await;
    assert_eq!(
        api_webhook(&herald, XSS_NAME).await.unwrap()["active"],
        false
    );
    assert_eq!(
        browser
            .text(&format!("{} button.toggle", row(&id)))
            .await
            .as_deref(),
        Some("Enable")
    );

    let secret = herald
        .get_json(&format!("/api/v1/admin/webhooks/{id}/secret"))
        .await["secret"]
        .clone();
    browser.click(&format!("{} button.secret", row(&id))).await;
    browser.find("#secret-value").await;
    let shown = browser
        .wait_js(
            "return document.getElementById('secret-value').value;",
            json!([]),
        )
        .await;
    assert_eq!(shown, secret);
    browser.click("#secret-rotate").await;
    browser.wait_text("#confirm-title", "Rotate secret?").await;
    browser.click("#confirm-ok").await;
    browser.wait_text("#secret-note", "Rotated").await;
    let rotated = herald
        .get_json(&format!("/api/v1/admin/webhooks/{id}/secret"))
        .await["secret"]
        .clone();
    assert_ne!(rotated, secret);
    let shown = browser
        .exec(
            "return document.getElementById('secret-value').value;",
            json!([]),
        )
        .await;
    assert_eq!(shown, rotated);
    browser.click("#secret-close").await;

    // Delete asks first; cancelling keeps it.
    browser
        .click(&format!("{} button.delete", row(&flaky_id)))
        .await;
    browser.wait_text("#confirm-text", "flaky receiver").await;
    browser.click("#confirm-cancel").await;
    assert!(api_webhook(&herald, "flaky receiver").await.is_some());
    browser
        .click(&format!("{} button.delete", row(&flaky_id)))
        .await;
    browser.click("#confirm-ok").await;
    browser.wait_text("#status", "Deleted webhook").await;
    assert!(api_webhook(&herald, "flaky receiver").await.is_none());
    browser
        .wait_js(
            "return !document.querySelector(arguments[0]);",
            json!([row(&flaky_id)]),
        )
        .await;

    // Edit: rename through the form.
    browser.click(&format!("{} button.edit", row(&id))).await;
    let prefilled = browser
        .exec(
            "return document.getElementById('wh-name').value;",
            json!([]),
        )
        .await;
    assert_eq!(prefilled, XSS_NAME);
    browser.type_into("#wh-name", "home assistant").await;
    browser.click("#webhook-save").await;
    browser.wait_text("#status", "Saved webhook").await;
    browser
        .wait_text(&format!("{} .wh-name", row(&id)), "home assistant")
        .await;

    // --- plugins ------------------------------------------------------------
    browser.click("nav a[data-page=plugins]").await;
    let plugin_row = "#plugins-table tr[data-name=\"discord-family\"]";
    browser
        .wait_text(&format!("{plugin_row} td[data-label=Health]"), "healthy")
        .await;
    browser
        .wait_text(&format!("{plugin_row} td[data-label=Events]"), "playback.*")
        .await;
    browser.click(&format!("{plugin_row} button.test")).await;
    browser
        .wait_text(&format!("{plugin_row} output"), "Test delivered: HTTP 204")
        .await;
    discord.wait_for(2, WAIT).await;
    browser.screenshot("05-plugins", 1280, false).await;

    // --- stats ---------------------------------------------------------------
    post_playback_history(&herald).await;
    browser.click("nav a[data-page=stats]").await;
    browser.find("#stats-from").await;
    browser
        .exec(
            "document.getElementById('stats-from').value = '2026-01-01';
             document.getElementById('stats-to').value = '2026-01-07';",
            json!([]),
        )
        .await;
    browser.click("#stats-filter button[type=submit]").await;
    let bars = browser
        .wait_js(
            "const bars = [...document.querySelectorAll('#chart-plays rect.bar')];
             return bars.length === 7 && bars.map(b => Number(b.dataset.value));",
            json!([]),
        )
        .await;
    // The Dune play from the browser test itself is on the 1st too.
    assert_eq!(bars, json!([3, 1, 0, 0, 1, 0, 1]));
    browser.wait_text("#top-users tbody", "Bob").await;
    let first_user = browser.text("#top-users tbody tr td").await.unwrap();
    assert!(first_user.starts_with("Bob"), "{first_user}");
    // Dune and The Expanse have 3 plays each; Dune was watched longer.
    let first_media = browser.text("#top-media tbody tr td").await.unwrap();
    assert!(first_media.starts_with("Dune"), "{first_media}");
    browser.wait_text("#stats-totals", "6 plays").await;
    browser.screenshot("06-stats", 1280, false).await;

    // --- phone width ----------------------------------------------------------
    browser.screenshot("07-stats-phone", 390, true).await;
    browser.click("nav a[data-page=webhooks]").await;
    browser.find(&format!("{} .wh-name", row(&id))).await;
    browser.viewport(390, 844, true).await;
    let overflow = browser
        .exec(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            json!([]),
        )
        .await;
    assert_eq!(overflow, 0, "no horizontal scrolling at 390 px");
    browser.screenshot("08-webhooks-phone", 390, true).await;
    browser.click("nav a[data-page=logs]").await;
    browser.find("#logs-table tbody tr").await;
    browser.screenshot("09-delivery-log-phone", 390, true).await;

    // --- keyboard: the buttons are real buttons, reachable with Tab ------------
    let untabbable = browser
        .exec(
            "return [...document.querySelectorAll('button, a[href], input, select')]
                .filter(e => e.tabIndex < 0).length;",
            json!([]),
        )
        .await;
    assert_eq!(untabbable, 0);
    let unlabelled = browser
        .exec(
            "return [...document.querySelectorAll('input, select')]
                .filter(e => !e.labels || e.labels.length === 0).map(e => e.id);",
            json!([]),
        )
        .await;
    assert_eq!(unlabelled, json!([]));
    let landmarks = browser
        .exec(
            "return ['header', 'nav', 'main'].every(t => document.querySelector(t));",
            json!([]),
        )
        .await;
    assert_eq!(landmarks, true);

    // --- logout ----------------------------------------------------------------
    browser.click("#logout").await;
    browser.find("#token").await;
    assert!(browser.cookies().await.is_empty());
    // WebDriver waits for a returned promise.
    let status = browser
        .exec(
            "return fetch('/api/v1/admin/webhooks').then(r => r.status);",
            json!([]),
        )
        .await;
    assert_eq!(status, 401);
}
