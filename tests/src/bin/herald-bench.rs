//! `herald-bench`: end-to-end throughput, latency and memory of the real
//! `herald` binary, measured in one run beside the limit of the machine and a
//! peer.
//!
//! ```sh
//! cargo run --release -p herald-tests --bin herald-bench            # full run, ~4 minutes
//! cargo run --release -p herald-tests --bin herald-bench -- --quick # smoke run, ~1 minute
//! cargo run --release -p herald-tests --bin herald-bench -- --help  # every knob
//! ```
//!
//! What runs, all on 127.0.0.1:
//! - a minimal sink (hyper, HTTP/1.1 keep-alive, answers `200` with an empty
//!   body) that counts requests, checks each carries `X-Phlix-Signature` and
//!   verifies the HMAC of a sample;
//! - the ceiling: the same sink driven by `wrk` (if installed) and by a raw
//!   reqwest loop, so Herald's figures can be read as a fraction of what this
//!   machine can push to that sink;
//! - the peer: the Apprise CLI sending to the same sink (`json://`), if installed;
//! - Herald (the release binary, embedded SQLite store) with N webhooks on
//!   the sink: events posted at full speed (deliveries per second from the
//!   first POST to the last signed request received), at a fixed rate
//!   (latency from each 202 to the arrival at the sink, hdrhistogram), and
//!   with the sink down (RSS with 100,000 pending deliveries).
//!
//! The design decision: one process holds the sink and the load generator,
//! so every time is read from one monotonic clock and no figure needs a
//! clock shared between processes. The timing figures are printed, never
//! asserted.
#![allow(clippy::unwrap_used, missing_docs)]

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;

/// Secret of every benchmark webhook (the sink verifies a sample with it).
const SECRET: &str = "herald-bench-secret-0123456789abcdef";
const ADMIN_TOKEN: &str = "bench-admin-token";
const INGEST_TOKEN: &str = "bench-ingest-token";
/// One request in this many has its HMAC verified by the sink.
const VERIFY_EVERY: u64 = 64;

/// Throughput, latency and memory of the real `herald`, beside wrk and Apprise.
#[derive(Parser, Debug, Clone)]
#[command(name = "herald-bench", version)]
struct Args {
    /// Smoke run: every count divided by 10, shorter phases, one repetition.
    #[arg(long)]
    quick: bool,
    /// Multiplies every event count (0.5 = half as long, 4 = four times).
    #[arg(long, default_value_t = 1.0)]
    scale: f64,
    /// Webhooks per event in the full-speed runs.
    #[arg(long, value_delimiter = ',', default_values_t = [1u32, 10, 100])]
    webhooks: Vec<u32>,
    /// Deliveries per full-speed run (events = deliveries / webhooks).
    #[arg(long, default_value_t = 30_000)]
    deliveries: u64,
    /// Repetitions of each full-speed run; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Durability levels measured (`process` is Herald's default).
    #[arg(long, value_delimiter = ',', default_values_t = ["process".to_string(), "power".to_string()])]
    durability: Vec<String>,
    /// Concurrent event posters in the full-speed runs.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Events per second of the latency run.
    #[arg(long, default_value_t = 1000)]
    rate: u64,
    /// Seconds of the latency run.
    #[arg(long, default_value_t = 10)]
    latency_secs: u64,
    /// Webhooks per event in the latency run.
    #[arg(long, default_value_t = 1)]
    latency_webhooks: u32,
    /// Pending deliveries of the memory run (spread over 100 webhooks; sink down).
    #[arg(long, default_value_t = 100_000)]
    pending: u64,
    /// Seconds of each ceiling measurement (wrk and the raw loop).
    #[arg(long, default_value_t = 5)]
    ceiling_secs: u64,
    /// Notifications Apprise sends (0 skips the peer).
    #[arg(long, default_value_t = 5_000)]
    apprise: u64,
    /// Phases to run.
    #[arg(long, value_delimiter = ',', default_values_t = ["ceiling".to_string(), "apprise".to_string(), "throughput".to_string(), "latency".to_string(), "memory".to_string()])]
    only: Vec<String>,
    /// The herald binary (default: build the release binary of this workspace).
    #[arg(long)]
    herald: Option<PathBuf>,
    /// Record a flat `perf` CPU profile of herald during each full-speed run into this folder.
    #[arg(long)]
    perf: Option<PathBuf>,
}

impl Args {
    fn count(&self, n: u64) -> u64 {
        let quick = if self.quick { 0.1 } else { 1.0 };
        ((n as f64) * self.scale * quick).round().max(1.0) as u64
    }

    fn wants(&self, phase: &str) -> bool {
        self.only.iter().any(|p| p == phase)
    }
}

fn main() {
    let mut args = Args::parse();
    if args.quick {
        args.repeat = 1;
        args.latency_secs = args.latency_secs.min(3);
        args.ceiling_secs = args.ceiling_secs.min(2);
    }
    if cfg!(debug_assertions) {
        eprintln!(
            "warning: herald-bench is a debug build; its load generator and sink are slow. \
             Use `cargo run --release -p herald-tests --bin herald-bench`."
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run(args));
}

async fn run(args: Args) {
    let started = Instant::now();
    let herald = match &args.herald {
        Some(path) => std::fs::canonicalize(path).expect("--herald: no such file"),
        None => build_herald(),
    };
    let sink = Sink::start();
    let mut report = Report::new(&args, &herald);
    eprintln!("sink on {}", sink.addr);

    if args.wants("ceiling") {
        report.wrk = wrk_ceiling(&sink, &args).await;
        report.raw = Some(raw_ceiling(&sink, &args).await);
    }
    if args.wants("apprise") && args.apprise > 0 {
        report.apprise = Some(apprise_peer(&sink, args.count(args.apprise)).await);
    }
    if args.wants("throughput") {
        for durability in &args.durability {
            for &n in &args.webhooks {
                let row = throughput(&sink, &herald, &args, durability, n).await;
                report.throughput.push(row);
            }
        }
    }
    if args.wants("latency") {
        for durability in &args.durability {
            report
                .latency
                .push(latency(&sink, &herald, &args, durability).await);
        }
    }
    if args.wants("memory") {
        report.memory = Some(memory(&herald, &args).await);
    }
    report.elapsed = started.elapsed();
    report.print();
}

// ---------------------------------------------------------------------------
// The herald binary

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds `herald` in release mode and returns its path.
fn build_herald() -> PathBuf {
    eprintln!("building the release herald binary…");
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "-q",
            "-p",
            "herald-host",
            "--bin",
            "herald",
        ])
        .current_dir(workspace_root())
        .status()
        .expect("running cargo");
    assert!(status.success(), "building herald failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_relative() {
                workspace_root().join(t)
            } else {
                t
            }
        })
        .unwrap_or_else(|| {
            // <target>/<profile>/herald-bench → <target>
            let exe = std::env::current_exe().unwrap();
            exe.parent().unwrap().parent().unwrap().to_owned()
        });
    let bin = target
        .join("release")
        .join(format!("herald{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.exists(), "{} missing after the build", bin.display());
    bin
}

struct HeraldProcess {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl HeraldProcess {
    fn start(bin: &Path, durability: &str, extra_webhooks_config: &str) -> HeraldProcess {
        let dir = tempfile::Builder::new()
            .prefix("herald-bench-")
            .tempdir()
            .unwrap();
        let config = dir.path().join("herald.toml");
        std::fs::write(
            &config,
            format!(
                "data_dir = {data:?}\n\
                 [server]\nadmin_token = \"{ADMIN_TOKEN}\"\ningest_token = \"{INGEST_TOKEN}\"\n\
                 [store]\ndurability = \"{durability}\"\n\
                 [webhooks]\nrequire_tls = false\nallow_private_networks = true\n{extra_webhooks_config}\n",
                data = dir.path().join("data").display().to_string()
            ),
        )
        .unwrap();
        let log_path = dir.path().join("herald.log");
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .current_dir(dir.path())
            .env_remove("RUST_LOG")
            .env_remove("HERALD_CONFIG")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("starting herald");
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let text = std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(rest) = text.split("listening on ").nth(1) {
                let line = strip_ansi(rest.lines().next().unwrap_or(""));
                if let Ok(addr) = line.trim().parse() {
                    break addr;
                }
            }
            assert!(Instant::now() < deadline, "herald did not start:\n{text}");
            std::thread::sleep(Duration::from_millis(20));
        };
        HeraldProcess {
            child,
            addr,
            dir,
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(1024)
                .tcp_nodelay(true)
                .build()
                .unwrap(),
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn register_webhooks(&self, n: u32, target: SocketAddr) {
        for i in 0..n {
            let response = self
                .http
                .post(self.url("/api/v1/admin/webhooks"))
                .bearer_auth(ADMIN_TOKEN)
                .json(&serde_json::json!({
                    "name": format!("bench-{i}"),
                    "url": format!("http://{target}/hook/{i}"),
                    "events": ["*"],
                    "secret": SECRET,
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        }
    }

    async fn queue(&self) -> (u64, u64) {
        let v: serde_json::Value = self
            .http
            .get(self.url("/api/v1/admin/queue"))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            v["pending"].as_u64().unwrap_or(0),
            v["due"].as_u64().unwrap_or(0),
        )
    }

    /// Waits until no delivery is pending (every attempt recorded).
    async fn drained(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.queue().await.0 == 0 {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    fn memory(&self) -> Memory {
        Memory::of(self.pid())
    }

    fn cpu(&self) -> Duration {
        cpu_time(self.pid())
    }

    fn stop(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = &self.dir;
    }
}

impl Drop for HeraldProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
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

#[derive(Clone, Copy, Debug, Default)]
struct Memory {
    rss_kb: u64,
    hwm_kb: u64,
}

impl Memory {
    fn of(pid: u32) -> Memory {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        Memory {
            rss_kb: field("VmRSS:"),
            hwm_kb: field("VmHWM:"),
        }
    }
}

fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(100)
    })
}

/// User + system CPU time of a process.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`, which may hold spaces.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after `)`.
    let total = ticks(11) + ticks(12);
    Duration::from_secs_f64(total as f64 / clock_ticks() as f64)
}

// ---------------------------------------------------------------------------
// The sink

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ns() -> u64 {
    epoch().elapsed().as_nanos() as u64
}

#[derive(Default)]
struct SinkState {
    count: AtomicU64,
    connections: AtomicU64,
    unsigned: AtomicU64,
    verified: AtomicU64,
    bad_signature: AtomicU64,
    first_ns: AtomicU64,
    last_ns: AtomicU64,
    recording: AtomicBool,
    /// `(run, event index, arrival ns)` of events with ids `evt_b<run>_<index>`.
    arrivals: Mutex<Vec<(u64, u64, u64)>>,
}

/// The fast loopback sink: counts and answers 200.
#[derive(Clone)]
struct Sink {
    addr: SocketAddr,
    state: Arc<SinkState>,
}

impl Sink {
    /// Starts the sink on its own two-thread runtime, apart from the load
    /// generator's.
    fn start() -> Sink {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(SinkState::default());
        let shared = state.clone();
        std::thread::Builder::new()
            .name("sink".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("sink-worker")
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                    loop {
                        let Ok((stream, _)) = listener.accept().await else {
                            continue;
                        };
                        let _ = stream.set_nodelay(true);
                        shared.connections.fetch_add(1, Ordering::Relaxed);
                        let state = shared.clone();
                        tokio::spawn(async move {
                            let service = hyper::service::service_fn(move |request| {
                                handle(state.clone(), request)
                            });
                            let _ = hyper::server::conn::http1::Builder::new()
                                .keep_alive(true)
                                .serve_connection(TokioIo::new(stream), service)
                                .await;
                        });
                    }
                });
            })
            .unwrap();
        Sink { addr, state }
    }

    fn reset(&self) {
        let s = &self.state;
        s.count.store(0, Ordering::SeqCst);
        s.first_ns.store(u64::MAX, Ordering::SeqCst);
        s.last_ns.store(0, Ordering::SeqCst);
        s.arrivals.lock().unwrap().clear();
    }

    fn count(&self) -> u64 {
        self.state.count.load(Ordering::SeqCst)
    }

    /// Waits until `n` requests arrived; false if none came for `stall`.
    async fn wait_for(&self, n: u64, stall: Duration) -> bool {
        let mut last = self.count();
        let mut moved = Instant::now();
        loop {
            let now = self.count();
            if now >= n {
                return true;
            }
            if now != last {
                last = now;
                moved = Instant::now();
            } else if moved.elapsed() > stall {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

async fn handle(
    state: Arc<SinkState>,
    request: Request<Incoming>,
) -> Result<Response<Empty<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let at = now_ns();
    let n = state.count.fetch_add(1, Ordering::Relaxed) + 1;
    state.first_ns.fetch_min(at, Ordering::Relaxed);
    state.last_ns.fetch_max(at, Ordering::Relaxed);
    let signature = parts
        .headers
        .get("x-phlix-signature")
        .and_then(|v| v.to_str().ok());
    match signature {
        None => {
            state.unsigned.fetch_add(1, Ordering::Relaxed);
        }
        Some(signature) if n.is_multiple_of(VERIFY_EVERY) => {
            if herald_core::signing::verify(SECRET.as_bytes(), &body, signature) {
                state.verified.fetch_add(1, Ordering::Relaxed);
            } else {
                state.bad_signature.fetch_add(1, Ordering::Relaxed);
            }
        }
        Some(_) => {}
    }
    if state.recording.load(Ordering::Relaxed) {
        let id = parts
            .headers
            .get("x-webhook-id")
            .and_then(|v| v.to_str().ok());
        if let Some((run, index)) = id.and_then(parse_event_id) {
            state.arrivals.lock().unwrap().push((run, index, at));
        }
    }
    Ok(Response::new(Empty::new()))
}

fn event_id(run: u64, index: u64) -> String {
    format!("evt_b{run}_{index}")
}

fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (run, index) = id.strip_prefix("evt_b")?.split_once('_')?;
    Some((run.parse().ok()?, index.parse().ok()?))
}

fn event_body(run: u64, index: u64) -> String {
    format!(
        r#"{{"id":"{}","event":"playback.started","data":{{"user_id":"u1","media_item_id":"m1","media_type":"episode","title":"Home","series":"The Expanse","season":2,"episode":5,"user_name":"Alice"}}}}"#,
        event_id(run, index)
    )
}

/// A request like the ones Herald sends: the stored event and its headers.
fn sample_delivery() -> (String, Vec<(&'static str, String)>) {
    let body = format!(
        r#"{{"id":"{}","event":"playback.started","timestamp":"2026-01-31T12:00:00Z","data":{{"user_id":"u1","media_item_id":"m1","media_type":"episode","title":"Home","series":"The Expanse","season":2,"episode":5,"user_name":"Alice"}}}}"#,
        event_id(0, 0)
    );
    let t = 1_769_860_800;
    let headers = vec![
        ("Content-Type", "application/json".to_string()),
        ("User-Agent", "Herald/0.1.0".to_string()),
        (
            "X-Phlix-Signature",
            herald_core::signing::sign(SECRET.as_bytes(), body.as_bytes()),
        ),
        (
            "X-Phlix-Signature-V2",
            herald_core::signing::sign_v2(SECRET.as_bytes(), t, body.as_bytes()),
        ),
        ("X-Webhook-ID", event_id(0, 0)),
        ("X-Webhook-Timestamp", t.to_string()),
    ];
    (body, headers)
}

// ---------------------------------------------------------------------------
// Ceiling and peer

async fn wrk_ceiling(sink: &Sink, args: &Args) -> Option<f64> {
    if Command::new("wrk").arg("--version").output().is_err() {
        eprintln!("wrk not installed (apt-get install -y wrk): skipping its ceiling");
        return None;
    }
    let (body, headers) = sample_delivery();
    let mut script = String::from("wrk.method = \"POST\"\n");
    script.push_str(&format!("wrk.body = [==[{body}]==]\n"));
    for (name, value) in &headers {
        script.push_str(&format!("wrk.headers[\"{name}\"] = [==[{value}]==]\n"));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("post.lua");
    std::fs::write(&path, script).unwrap();
    eprintln!("ceiling: wrk for {} s…", args.ceiling_secs);
    sink.reset();
    let output = tokio::process::Command::new("wrk")
        .args(["-t2", &format!("-c{}", args.concurrency)])
        .arg(format!("-d{}s", args.ceiling_secs))
        .arg("-s")
        .arg(&path)
        .arg(format!("http://{}/ceiling", sink.addr))
        .output()
        .await
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let rate = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok());
    if rate.is_none() {
        eprintln!("wrk printed no rate:\n{text}");
    }
    rate
}

async fn raw_ceiling(sink: &Sink, args: &Args) -> f64 {
    eprintln!("ceiling: raw reqwest loop for {} s…", args.ceiling_secs);
    let (body, headers) = sample_delivery();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .tcp_nodelay(true)
        .build()
        .unwrap();
    let url = format!("http://{}/ceiling", sink.addr);
    let body = Bytes::from(body);
    let done = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(args.ceiling_secs);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, url, body, headers, done) = (
            client.clone(),
            url.clone(),
            body.clone(),
            headers.clone(),
            done.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let mut request = client.post(&url).body(body.clone());
                for (name, value) in &headers {
                    request = request.header(*name, value);
                }
                if let Ok(response) = request.send().await {
                    let _ = response.bytes().await;
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

struct AppriseResult {
    version: String,
    sent: u64,
    arrived: u64,
    wall: Duration,
    first_to_last: Duration,
}

async fn apprise_peer(sink: &Sink, count: u64) -> AppriseResult {
    let version = Command::new("apprise")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        });
    let Some(version) = version else {
        eprintln!("apprise not installed (pip install apprise): skipping the peer");
        return AppriseResult {
            version: "not installed".into(),
            sent: count,
            arrived: 0,
            wall: Duration::ZERO,
            first_to_last: Duration::ZERO,
        };
    };
    eprintln!("peer: apprise sending {count} notifications…");
    // Apprise refuses config files over 128 KB: 2,000 URLs per file.
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new("apprise");
    for chunk in 0..count.div_ceil(2000) {
        let config = dir.path().join(format!("apprise-{chunk}.txt"));
        let mut file = std::fs::File::create(&config).unwrap();
        for i in chunk * 2000..((chunk + 1) * 2000).min(count) {
            writeln!(file, "json://{}/apprise/{i}", sink.addr).unwrap();
        }
        command.arg("--config").arg(&config);
    }
    sink.reset();
    let started = Instant::now();
    let status = command
        .args([
            "--title",
            "playback.started",
            "--body",
            "Alice started Home",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    let wall = started.elapsed();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("apprise exited with {status:?}");
    }
    let s = &sink.state;
    let (first, last) = (
        s.first_ns.load(Ordering::SeqCst),
        s.last_ns.load(Ordering::SeqCst),
    );
    AppriseResult {
        version,
        sent: count,
        arrived: sink.count(),
        wall,
        first_to_last: Duration::from_nanos(last.saturating_sub(first)),
    }
}

// ---------------------------------------------------------------------------
// Full speed

static RUN: AtomicU64 = AtomicU64::new(1);

struct Posted {
    accepted: u64,
    errors: u64,
    last_ack_ns: u64,
}

/// Posts `events` events with `concurrency` posters as fast as Herald takes them.
async fn post_full_speed(herald: &HeraldProcess, events: u64, concurrency: usize) -> Posted {
    let run = RUN.fetch_add(1, Ordering::SeqCst);
    let next = Arc::new(AtomicU64::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let last_ack = Arc::new(AtomicU64::new(0));
    let url = herald.url("/api/v1/events");
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (client, url) = (herald.http.clone(), url.clone());
        let (next, accepted, errors, last_ack) = (
            next.clone(),
            accepted.clone(),
            errors.clone(),
            last_ack.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= events {
                    break;
                }
                let response = client
                    .post(&url)
                    .bearer_auth(INGEST_TOKEN)
                    .header("content-type", "application/json")
                    .body(event_body(run, index))
                    .send()
                    .await;
                match response {
                    Ok(r) if r.status() == 202 => {
                        let _ = r.bytes().await;
                        accepted.fetch_add(1, Ordering::Relaxed);
                        last_ack.fetch_max(now_ns(), Ordering::Relaxed);
                    }
                    Ok(r) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("  POST answered {}", r.status());
                        }
                    }
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("  POST failed: {e}");
                        }
                    }
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    Posted {
        accepted: accepted.load(Ordering::SeqCst),
        errors: errors.load(Ordering::SeqCst),
        last_ack_ns: last_ack.load(Ordering::SeqCst),
    }
}

#[derive(Clone, Debug)]
struct Sample {
    deliveries_per_s: f64,
    recorded_per_s: f64,
    events_per_s: f64,
    cpu_us_per_delivery: f64,
    connections: u64,
    complete: bool,
}

struct ThroughputRow {
    durability: String,
    webhooks: u32,
    events: u64,
    deliveries: u64,
    samples: Vec<Sample>,
    memory: Memory,
    unsigned: u64,
    verified: u64,
    bad_signature: u64,
}

async fn throughput(
    sink: &Sink,
    bin: &Path,
    args: &Args,
    durability: &str,
    webhooks: u32,
) -> ThroughputRow {
    let events = (args.count(args.deliveries) / webhooks as u64).max(1);
    let deliveries = events * webhooks as u64;
    eprintln!(
        "throughput: durability={durability}, {webhooks} webhook(s) per event, {events} events × {} runs…",
        args.repeat
    );
    let herald = HeraldProcess::start(bin, durability, "");
    herald.register_webhooks(webhooks, sink.addr).await;
    // Warm up: connections, page cache, allocator.
    sink.reset();
    let warm = (events / 10).clamp(1, 2000);
    post_full_speed(&herald, warm, args.concurrency).await;
    sink.wait_for(warm * webhooks as u64, Duration::from_secs(30))
        .await;
    herald.drained(Duration::from_secs(60)).await;
    let unsigned_before = sink.state.unsigned.load(Ordering::SeqCst);
    let verified_before = sink.state.verified.load(Ordering::SeqCst);
    let bad_before = sink.state.bad_signature.load(Ordering::SeqCst);

    let mut samples = Vec::new();
    for repetition in 0..args.repeat.max(1) {
        sink.reset();
        let perf = args.perf.as_ref().map(|dir| {
            std::fs::create_dir_all(dir).unwrap();
            let out = dir.join(format!("{durability}-n{webhooks}-{repetition}.data"));
            Command::new("perf")
                .args(["record", "-q", "-e", "cpu-clock", "-F", "999", "-g", "-p"])
                .arg(herald.pid().to_string())
                .arg("-o")
                .arg(out)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()
        });
        if perf.is_some() {
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let cpu_before = herald.cpu();
        let connections_before = sink.state.connections.load(Ordering::SeqCst);
        let start_ns = now_ns();
        let posted = post_full_speed(&herald, events, args.concurrency).await;
        let complete = sink
            .wait_for(posted.accepted * webhooks as u64, Duration::from_secs(30))
            .await;
        let arrived_ns = sink.state.last_ns.load(Ordering::SeqCst);
        let drained = herald.drained(Duration::from_secs(120)).await;
        let recorded_ns = now_ns();
        let cpu = herald.cpu().saturating_sub(cpu_before);
        if let Some(Some(mut perf)) = perf {
            let _ = Command::new("kill")
                .arg("-INT")
                .arg(perf.id().to_string())
                .status();
            let _ = perf.wait();
        }
        let got = sink.count();
        let secs = |ns: u64| (ns.saturating_sub(start_ns)) as f64 / 1e9;
        let sample = Sample {
            deliveries_per_s: got as f64 / secs(arrived_ns),
            recorded_per_s: got as f64 / secs(recorded_ns),
            events_per_s: posted.accepted as f64 / secs(posted.last_ack_ns),
            cpu_us_per_delivery: cpu.as_secs_f64() * 1e6 / got.max(1) as f64,
            connections: sink.state.connections.load(Ordering::SeqCst) - connections_before,
            complete: complete && drained && posted.errors == 0,
        };
        eprintln!(
            "  run {}: {:.0} deliveries/s to the sink, {:.0}/s recorded, {:.0} events/s accepted, {:.1} µs herald CPU per delivery, {} new connections to the sink{}",
            repetition + 1,
            sample.deliveries_per_s,
            sample.recorded_per_s,
            sample.events_per_s,
            sample.cpu_us_per_delivery,
            sample.connections,
            if sample.complete {
                String::new()
            } else {
                format!(
                    " (INCOMPLETE: {got} of {deliveries} arrived, {} POST errors, drained={drained})",
                    posted.errors
                )
            }
        );
        samples.push(sample);
    }
    let memory = herald.memory();
    herald.stop();
    ThroughputRow {
        durability: durability.to_string(),
        webhooks,
        events,
        deliveries,
        samples,
        memory,
        unsigned: sink.state.unsigned.load(Ordering::SeqCst) - unsigned_before,
        verified: sink.state.verified.load(Ordering::SeqCst) - verified_before,
        bad_signature: sink.state.bad_signature.load(Ordering::SeqCst) - bad_before,
    }
}

// ---------------------------------------------------------------------------
// Latency at a fixed rate

struct LatencyRow {
    durability: String,
    webhooks: u32,
    rate: u64,
    events: u64,
    offered_rate: f64,
    after_ack: Histogram<u64>,
    after_post: Histogram<u64>,
    ack: Histogram<u64>,
    before_ack: u64,
    arrived: u64,
}

/// Posts events open-loop at `rate` per second for `secs`; returns
/// `(send ns, 202 ns)` per event index (0 when it failed).
async fn post_at_rate(
    herald: &HeraldProcess,
    run: u64,
    rate: u64,
    events: u64,
) -> (Vec<(u64, u64)>, f64) {
    let times: Arc<Vec<(AtomicU64, AtomicU64)>> = Arc::new(
        (0..events)
            .map(|_| (AtomicU64::new(0), AtomicU64::new(0)))
            .collect(),
    );
    let url = herald.url("/api/v1/events");
    let start = tokio::time::Instant::now() + Duration::from_millis(5);
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tasks = Vec::with_capacity(events as usize);
    for index in 0..events {
        // Open loop: each event goes at its scheduled time whether or not the
        // previous ones were answered (no coordinated omission).
        tokio::time::sleep_until(start + period * index as u32).await;
        let (client, url, times) = (herald.http.clone(), url.clone(), times.clone());
        tasks.push(tokio::spawn(async move {
            let sent = now_ns();
            let response = client
                .post(&url)
                .bearer_auth(INGEST_TOKEN)
                .header("content-type", "application/json")
                .body(event_body(run, index))
                .send()
                .await;
            if let Ok(r) = response {
                if r.status() == 202 {
                    let acked = now_ns();
                    let _ = r.bytes().await;
                    let slot = &times[index as usize];
                    slot.0.store(sent, Ordering::SeqCst);
                    slot.1.store(acked, Ordering::SeqCst);
                }
            }
        }));
    }
    let offered = events as f64 / (tokio::time::Instant::now() - start).as_secs_f64();
    for task in tasks {
        let _ = task.await;
    }
    let times = times
        .iter()
        .map(|(s, a)| (s.load(Ordering::SeqCst), a.load(Ordering::SeqCst)))
        .collect();
    (times, offered)
}

async fn latency(sink: &Sink, bin: &Path, args: &Args, durability: &str) -> LatencyRow {
    let rate = args.rate.max(1);
    let events = rate * args.latency_secs.max(1);
    let webhooks = args.latency_webhooks.max(1);
    eprintln!(
        "latency: durability={durability}, {webhooks} webhook(s), {rate} events/s for {} s…",
        args.latency_secs
    );
    let herald = HeraldProcess::start(bin, durability, "");
    herald.register_webhooks(webhooks, sink.addr).await;
    // Warm up for a second at the same rate.
    sink.reset();
    let warm_run = RUN.fetch_add(1, Ordering::SeqCst);
    post_at_rate(&herald, warm_run, rate, rate.min(events)).await;
    sink.wait_for(rate.min(events) * webhooks as u64, Duration::from_secs(30))
        .await;
    herald.drained(Duration::from_secs(60)).await;

    sink.reset();
    sink.state.recording.store(true, Ordering::SeqCst);
    let run = RUN.fetch_add(1, Ordering::SeqCst);
    let (times, offered_rate) = post_at_rate(&herald, run, rate, events).await;
    let acked = times.iter().filter(|t| t.1 > 0).count() as u64;
    sink.wait_for(acked * webhooks as u64, Duration::from_secs(30))
        .await;
    sink.state.recording.store(false, Ordering::SeqCst);
    herald.stop();

    let histogram = || Histogram::<u64>::new_with_bounds(1, 600_000_000, 3).unwrap();
    let (mut after_ack, mut after_post, mut ack) = (histogram(), histogram(), histogram());
    let mut before_ack = 0;
    for (sent, acked) in &times {
        if *acked > 0 {
            ack.saturating_record(((acked - sent) / 1000).max(1));
        }
    }
    let arrivals = std::mem::take(&mut *sink.state.arrivals.lock().unwrap());
    let mut arrived = 0;
    for (r, index, at) in arrivals {
        let Some(&(sent, acked)) = times.get(index as usize) else {
            continue;
        };
        if r != run || acked == 0 {
            continue;
        }
        arrived += 1;
        if at < acked {
            before_ack += 1;
        }
        after_ack.saturating_record((at.saturating_sub(acked) / 1000).max(1));
        after_post.saturating_record((at.saturating_sub(sent) / 1000).max(1));
    }
    LatencyRow {
        durability: durability.to_string(),
        webhooks,
        rate,
        events,
        offered_rate,
        after_ack,
        after_post,
        ack,
        before_ack,
        arrived,
    }
}

// ---------------------------------------------------------------------------
// Memory

struct MemoryResult {
    idle: Memory,
    idle_webhooks: Memory,
    pending: u64,
    webhooks: u32,
    loaded: Memory,
    settle: Duration,
}

async fn memory(bin: &Path, args: &Args) -> MemoryResult {
    let webhooks = 100u32;
    let events = (args.count(args.pending) / webhooks as u64).max(1);
    eprintln!(
        "memory: {} pending deliveries ({events} events × {webhooks} webhooks, sink down)…",
        events * webhooks as u64
    );
    // A port nothing listens on: every attempt is refused at once.
    let down = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    // Failed attempts wait an hour before their retry, so they stay pending.
    let herald = HeraldProcess::start(
        bin,
        "process",
        "retry_backoff = \"1h\"\ndisable_after = 0\n",
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle = herald.memory();
    herald.register_webhooks(webhooks, down).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_webhooks = herald.memory();
    let started = Instant::now();
    post_full_speed(&herald, events, args.concurrency).await;
    // Wait until every delivery is attempted and recorded: nothing due and
    // Herald's CPU quiet.
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut cpu = herald.cpu();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (pending, due) = herald.queue().await;
        let now = herald.cpu();
        let quiet = now.saturating_sub(cpu) < Duration::from_millis(50);
        cpu = now;
        if (pending >= events * webhooks as u64 && due == 0 && quiet) || Instant::now() > deadline {
            break;
        }
    }
    let settle = started.elapsed();
    let (pending, _) = herald.queue().await;
    let loaded = herald.memory();
    herald.stop();
    MemoryResult {
        idle,
        idle_webhooks,
        pending,
        webhooks,
        loaded,
        settle,
    }
}

// ---------------------------------------------------------------------------
// The report

struct Report {
    machine: String,
    command: String,
    herald: PathBuf,
    wrk: Option<f64>,
    raw: Option<f64>,
    apprise: Option<AppriseResult>,
    throughput: Vec<ThroughputRow>,
    latency: Vec<LatencyRow>,
    memory: Option<MemoryResult>,
    elapsed: Duration,
    concurrency: usize,
    repeat: usize,
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn mb(kb: u64) -> String {
    format!("{:.1} MB", kb as f64 / 1024.0)
}

fn ms(us: u64) -> String {
    format!("{:.2} ms", us as f64 / 1000.0)
}

impl Report {
    fn new(args: &Args, herald: &Path) -> Report {
        let cpu = std::fs::read_to_string("/proc/cpuinfo")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|l| l.trim_start_matches([' ', '\t', ':']).to_string())
            .unwrap_or_else(|| "unknown CPU".into());
        let memory = std::fs::read_to_string("/proc/meminfo")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map(|kb| format!("{:.1} GiB", kb as f64 / 1024.0 / 1024.0))
            .unwrap_or_default();
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0);
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        let load: Vec<&str> = load.split_whitespace().take(3).collect();
        Report {
            machine: format!(
                "{cores} CPUs ({cpu}), {memory} RAM; load average at start {}",
                load.join(" ")
            ),
            command: std::env::args().collect::<Vec<_>>().join(" "),
            herald: herald.to_owned(),
            wrk: None,
            raw: None,
            apprise: None,
            throughput: Vec::new(),
            latency: Vec::new(),
            memory: None,
            elapsed: Duration::ZERO,
            concurrency: args.concurrency,
            repeat: args.repeat,
        }
    }

    fn ceiling(&self) -> Option<f64> {
        self.wrk.or(self.raw)
    }

    fn print(&self) {
        let mut out = String::new();
        let w = &mut out;
        use std::fmt::Write as _;
        let _ = writeln!(w, "\n# herald-bench\n");
        let _ = writeln!(w, "- machine: {}", self.machine);
        let _ = writeln!(w, "- herald: {}", self.herald.display());
        let _ = writeln!(w, "- command: `{}`", self.command);
        let _ = writeln!(w, "- wall time: {:.0} s", self.elapsed.as_secs_f64());
        let _ = writeln!(w, "\n## Ceiling and peer (same sink, same run)\n");
        let _ = writeln!(w, "| what | rate |\n|---|---:|");
        match self.wrk {
            Some(rate) => {
                let _ = writeln!(
                    w,
                    "| wrk -t2 -c{} keep-alive POSTs to the sink (ceiling) | {rate:.0} req/s |",
                    self.concurrency
                );
            }
            None => {
                let _ = writeln!(w, "| wrk | not run (not installed or not selected) |");
            }
        }
        if let Some(rate) = self.raw {
            let _ = writeln!(
                w,
                "| raw reqwest loop, {} connections, to the sink | {rate:.0} req/s |",
                self.concurrency
            );
        }
        if let Some(a) = &self.apprise {
            if a.arrived == 0 {
                let _ = writeln!(w, "| Apprise CLI | {} |", a.version);
            } else {
                let _ = writeln!(
                    w,
                    "| {} CLI, `json://` ×{} in one call (unsigned, not persisted) | {:.0} notifications/s over the call's {:.1} s ({:.0}/s first→last arrival), {} of {} arrived |",
                    a.version,
                    a.sent,
                    a.arrived as f64 / a.wall.as_secs_f64(),
                    a.wall.as_secs_f64(),
                    a.arrived as f64 / a.first_to_last.as_secs_f64().max(1e-9),
                    a.arrived,
                    a.sent
                );
            }
        }
        if !self.throughput.is_empty() {
            let _ = writeln!(
                w,
                "\n## Full speed: signed, persisted deliveries (median of {} runs, {} concurrent posters)\n",
                self.repeat, self.concurrency
            );
            let _ = writeln!(
                w,
                "| durability | webhooks/event | events × runs | deliveries/s to sink | of ceiling | runs (min–max) | recorded/s | events accepted/s | herald CPU/delivery | new sink connections | herald peak RSS | signatures |"
            );
            let _ = writeln!(
                w,
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
            );
            for row in &self.throughput {
                let d: Vec<f64> = row.samples.iter().map(|s| s.deliveries_per_s).collect();
                let min = d.iter().copied().fold(f64::INFINITY, f64::min);
                let max = d.iter().copied().fold(0.0, f64::max);
                let deliveries = median(d);
                let of = self
                    .ceiling()
                    .map(|c| format!("{:.0} %", 100.0 * deliveries / c))
                    .unwrap_or_else(|| "–".into());
                let incomplete = row.samples.iter().filter(|s| !s.complete).count();
                let _ = writeln!(
                    w,
                    "| {} | {} | {} × {} | **{:.0}**{} | {} | {:.0}–{:.0} | {:.0} | {:.0} | {:.1} µs | {:.0} | {} | {} unsigned, {} sampled HMACs ok, {} bad |",
                    row.durability,
                    row.webhooks,
                    row.events,
                    row.samples.len(),
                    deliveries,
                    if incomplete > 0 { format!(" ({incomplete} incomplete)") } else { String::new() },
                    of,
                    min,
                    max,
                    median(row.samples.iter().map(|s| s.recorded_per_s).collect()),
                    median(row.samples.iter().map(|s| s.events_per_s).collect()),
                    median(row.samples.iter().map(|s| s.cpu_us_per_delivery).collect()),
                    median(row.samples.iter().map(|s| s.connections as f64).collect()),
                    mb(row.memory.hwm_kb),
                    row.unsigned,
                    row.verified,
                    row.bad_signature,
                );
                let _ = row.deliveries;
            }
        }
        if !self.latency.is_empty() {
            let _ = writeln!(w, "\n## Latency at a fixed rate (open loop)\n");
            let _ = writeln!(
                w,
                "| durability | webhooks | rate (offered) | 202 → sink p50 | p99 | p99.9 | max | before its 202 | POST → sink p50 / p99 / p99.9 | POST → 202 p50 / p99 | arrived |"
            );
            let _ = writeln!(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            for row in &self.latency {
                let h = &row.after_ack;
                let p = &row.after_post;
                let a = &row.ack;
                let _ = writeln!(
                    w,
                    "| {} | {} | {}/s ({:.0}/s) | {} | **{}** | {} | {} | {:.0} % | {} / {} / {} | {} / {} | {} of {} |",
                    row.durability,
                    row.webhooks,
                    row.rate,
                    row.offered_rate,
                    ms(h.value_at_quantile(0.5)),
                    ms(h.value_at_quantile(0.99)),
                    ms(h.value_at_quantile(0.999)),
                    ms(h.max()),
                    100.0 * row.before_ack as f64 / row.arrived.max(1) as f64,
                    ms(p.value_at_quantile(0.5)),
                    ms(p.value_at_quantile(0.99)),
                    ms(p.value_at_quantile(0.999)),
                    ms(a.value_at_quantile(0.5)),
                    ms(a.value_at_quantile(0.99)),
                    row.arrived,
                    row.events * row.webhooks as u64,
                );
            }
        }
        if let Some(m) = &self.memory {
            let _ = writeln!(w, "\n## Memory of herald (/proc/<pid>/status)\n");
            let _ = writeln!(w, "| state | VmRSS | VmHWM (peak) |\n|---|---:|---:|");
            let _ = writeln!(
                w,
                "| idle, just started | {} | {} |",
                mb(m.idle.rss_kb),
                mb(m.idle.hwm_kb)
            );
            let _ = writeln!(
                w,
                "| idle, {} webhooks registered | {} | {} |",
                m.webhooks,
                mb(m.idle_webhooks.rss_kb),
                mb(m.idle_webhooks.hwm_kb)
            );
            let _ = writeln!(
                w,
                "| {} deliveries pending, sink down (each attempted once, retry in 1 h; settled after {:.0} s) | {} | {} |",
                m.pending,
                m.settle.as_secs_f64(),
                mb(m.loaded.rss_kb),
                mb(m.loaded.hwm_kb)
            );
        }
        print!("{out}");
    }
}
