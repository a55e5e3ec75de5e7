//! Issue 3 leftovers: `webhooks.ca_bundle` and `webhooks.proxy` against real
//! local servers — an HTTPS receiver whose certificate is signed by a CA the
//! test generates, and a plain-HTTP forward proxy.

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::serve::Listener;
use axum::Router;
use herald_tests::{eventually, herald_bin, Herald, Sink};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio_rustls::rustls::pki_types::PrivatePkcs8KeyDer;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

const SECRET: &str = "a-test-secret-of-32-characters!!";
const WAIT: Duration = Duration::from_secs(20);
/// Longest a TLS handshake may take before the test server gives up on it.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Added by the test proxy to what it forwards, as a real proxy would.
const VIA: &str = "1.1 herald-test-proxy";

/// HMAC-SHA256 computed by OpenSSL, an implementation independent of ours.
fn openssl_hmac_hex(key: &str, data: &[u8]) -> String {
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-hmac", key])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(data).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .rsplit("= ")
        .next()
        .unwrap()
        .to_string()
}

fn assert_signed(headers: &HeaderMap, body: &[u8]) {
    let expected = format!("sha256={}", openssl_hmac_hex(SECRET, body));
    assert_eq!(
        headers
            .get("x-phlix-signature")
            .and_then(|v| v.to_str().ok()),
        Some(expected.as_str()),
        "{headers:?}"
    );
}

/// A private CA and a server certificate for `localhost` and 127.0.0.1
/// signed by it.
struct TestPki {
    ca_pem: String,
    server: Arc<ServerConfig>,
}

fn test_pki() -> TestPki {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Herald test CA");
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().unwrap()).unwrap();

    let mut leaf = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = leaf.signed_by(&leaf_key, &ca).unwrap();

    // The provider is named, not taken from the process default, so the test
    // does not depend on which rustls crypto features the graph enables.
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivatePkcs8KeyDer::from(leaf_key.serialize_der()).into(),
        )
        .unwrap();
    TestPki {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}

/// One request a test server received.
#[derive(Clone, Debug)]
struct Seen {
    method: Method,
    /// The request target as sent: absolute-form for proxy requests.
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// What a test server saw: requests and failed TLS handshakes.
#[derive(Default)]
struct Log {
    requests: Mutex<Vec<Seen>>,
    tls_errors: Mutex<Vec<String>>,
    notify: Notify,
}

impl Log {
    fn push(&self, seen: Seen) {
        self.requests.lock().unwrap().push(seen);
        self.notify.notify_waiters();
    }

    fn requests(&self) -> Vec<Seen> {
        self.requests.lock().unwrap().clone()
    }

    fn tls_errors(&self) -> Vec<String> {
        self.tls_errors.lock().unwrap().clone()
    }

    /// Waits until at least `n` requests arrived.
    async fn wait_for(&self, n: usize) -> Vec<Seen> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let notified = self.notify.notified();
            let got = self.requests();
            if got.len() >= n {
                return got;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!("expected {n} requests, got {}", self.requests().len());
            }
        }
    }
}

/// A listener for `axum::serve` that completes the TLS handshake before
/// handing a connection over, and records the handshakes that fail.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    log: Arc<Log>,
}

impl Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let error =
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => return (tls, addr),
                    Ok(Err(e)) => e.to_string(),
                    Err(_) => "handshake timed out".to_string(),
                };
            self.log.tls_errors.lock().unwrap().push(error);
            self.log.notify.notify_waiters();
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

/// A recording HTTPS server on 127.0.0.1 that answers 200.
struct HttpsSink {
    addr: SocketAddr,
    log: Arc<Log>,
}

impl HttpsSink {
    async fn start(config: Arc<ServerConfig>) -> HttpsSink {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let log = Arc::new(Log::default());
        let listener = TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(config),
            log: log.clone(),
        };
        let app = Router::new().fallback(record).with_state(log.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        HttpsSink { addr, log }
    }

    /// The URL by host name, so the certificate's DNS name is checked.
    fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.addr.port())
    }
}

async fn record(
    State(log): State<Arc<Log>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    log.push(Seen {
        method,
        uri,
        headers,
        body,
    });
    StatusCode::OK
}

/// A plain-HTTP forward proxy on 127.0.0.1: records each absolute-form
/// request, then forwards it to its target and relays the answer.
struct ForwardProxy {
    addr: SocketAddr,
    log: Arc<Log>,
}

struct ProxyState {
    log: Arc<Log>,
    /// Sends straight to the target, whatever `HTTP_PROXY` says.
    client: reqwest::Client,
}

/// Headers that concern one hop only and are not forwarded.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "content-length",
    "host",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

impl ForwardProxy {
    async fn start() -> ForwardProxy {
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let log = Arc::new(Log::default());
        let state = Arc::new(ProxyState {
            log: log.clone(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
        });
        let app = Router::new().fallback(forward).with_state(state);
        tokio::spawn(async move { axum::serve(tcp, app).await });
        ForwardProxy { addr, log }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn forward(
    State(proxy): State<Arc<ProxyState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    proxy.log.push(Seen {
        method: method.clone(),
        uri: uri.clone(),
        headers: headers.clone(),
        body: body.clone(),
    });
    if uri.scheme().is_none() {
        // Origin-form: the client talked to us as if we were the server.
        return (StatusCode::BAD_REQUEST, "not a proxy request").into_response();
    }
    let mut forwarded = HeaderMap::new();
    for (name, value) in &headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            forwarded.append(name, value.clone());
        }
    }
    forwarded.insert("via", VIA.parse().unwrap());
    let answer = proxy
        .client
        .request(method, uri.to_string())
        .headers(forwarded)
        .body(body)
        .send()
        .await;
    match answer {
        Ok(answer) => {
            let status = answer.status();
            (status, answer.bytes().await.unwrap_or_default()).into_response()
        }
        Err(e) => (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    }
}

/// Herald config: local destinations allowed, TLS still required, and
/// `extra` lines appended to `[webhooks]`.
fn tls_config(extra: &str) -> String {
    format!(
        r#"
[server]
admin_token = "test-admin-token"
ingest_token = "test-ingest-token"
[webhooks]
allow_private_networks = true
retry_backoff = "100ms"
timeout = 5
{extra}
"#
    )
}

fn toml_path(path: &Path) -> String {
    format!("{:?}", path.display().to_string())
}

async fn delivery_of(herald: &Herald, webhook_id: &str, status: &str) -> Value {
    eventually(WAIT, || async {
        let page = herald
            .get_json(&format!(
                "/api/v1/admin/webhooks/{webhook_id}/deliveries?status={status}"
            ))
            .await;
        page["deliveries"]
            .as_array()
            .and_then(|d| d.first().cloned())
    })
    .await
}

async fn webhook_to(herald: &Herald, url: &str) -> String {
    let webhook = herald
        .create_webhook(json!({
            "name": "tls", "url": url, "secret": SECRET, "events": ["*"], "max_retries": 0
        }))
        .await;
    webhook["id"].as_str().unwrap().to_string()
}

async fn post_deploy(herald: &Herald) -> String {
    let response = herald
        .post_event(&json!({"event": "app.deployed", "data": {"version": "1.2.3"}}))
        .await;
    assert_eq!(response.status(), 202);
    let accepted: Value = response.json().await.unwrap();
    accepted["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn ca_bundle_trusts_a_private_ca_and_without_it_the_certificate_is_refused() {
    let pki = test_pki();
    let server = HttpsSink::start(pki.server.clone()).await;
    let dir = tempfile::tempdir().unwrap().keep();
    let ca_path = dir.join("test-ca.pem");
    std::fs::write(&ca_path, &pki.ca_pem).unwrap();

    // With the CA in webhooks.ca_bundle: delivered over HTTPS, signed.
    let trusting = Herald::start_in(
        &dir,
        &tls_config(&format!("ca_bundle = {}", toml_path(&ca_path))),
        &[],
    );
    let id = webhook_to(&trusting, &server.url("/hook")).await;
    let event_id = post_deploy(&trusting).await;
    let got = server.log.wait_for(1).await;
    let r = &got[0];
    assert_eq!(r.method, Method::POST);
    assert_eq!(r.uri.path(), "/hook");
    assert_eq!(r.header("x-webhook-id"), Some(event_id.as_str()));
    assert_signed(&r.headers, &r.body);
    let body: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(body["data"]["version"], "1.2.3");
    let delivered = delivery_of(&trusting, &id, "success").await;
    assert_eq!(delivered["last_status_code"], 200, "{delivered}");
    assert!(
        server.log.tls_errors().is_empty(),
        "{:?}",
        server.log.tls_errors()
    );

    // The same server, a herald without the CA: the certificate is refused.
    let plain = Herald::start(&tls_config(""));
    let id = webhook_to(&plain, &server.url("/hook")).await;
    post_deploy(&plain).await;
    let failed = delivery_of(&plain, &id, "failed").await;
    let error = failed["last_error"].as_str().unwrap_or_default();
    assert!(
        error.to_lowercase().contains("certificate"),
        "last_error should name the certificate: {failed}"
    );
    assert_eq!(failed["attempts"], 1, "{failed}");
    // The server saw the client's alert, and no request got through.
    let alerts = eventually(WAIT, || async {
        Some(server.log.tls_errors()).filter(|e| !e.is_empty())
    })
    .await;
    assert!(
        alerts.iter().any(|e| e.to_lowercase().contains("alert")),
        "{alerts:?}"
    );
    assert_eq!(server.log.requests().len(), 1);
}

/// Runs `herald <command>` with `webhooks.ca_bundle` holding `content` (no
/// file when `None`) and waits for it to exit; returns its status and
/// stderr. A `serve` that keeps running fails the test.
fn run_with_ca_bundle(command: &str, content: Option<&str>) -> (ExitStatus, String) {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("bundle.pem");
    if let Some(content) = content {
        std::fs::write(&bundle, content).unwrap();
    }
    let config_path = dir.path().join("herald.toml");
    std::fs::write(
        &config_path,
        format!(
            "data_dir = {}\n{}",
            toml_path(&dir.path().join("data")),
            tls_config(&format!("ca_bundle = {}", toml_path(&bundle)))
        ),
    )
    .unwrap();
    let mut child = Command::new(herald_bin())
        .arg(command)
        .args(if command == "serve" {
            &["--listen", "127.0.0.1:0"][..]
        } else {
            &[]
        })
        .arg("--config")
        .arg(&config_path)
        .env_remove("HERALD_CONFIG")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read stderr on a thread so a chatty child never blocks on a full pipe.
    let mut stderr = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("herald {command} kept running:\n{}", reader.join().unwrap());
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    (status, reader.join().unwrap())
}

/// Bundles `herald serve` must refuse, with a fragment of the reason.
fn bad_bundles() -> Vec<(&'static str, Option<String>, &'static str)> {
    let pki = test_pki();
    let mut broken_base64: Vec<String> = pki.ca_pem.lines().map(str::to_owned).collect();
    broken_base64[1].insert_str(8, "!*!");
    vec![
        (
            "plain text",
            Some("this is not a certificate\n".to_owned()),
            "no certificate",
        ),
        (
            "a PEM private key only",
            Some(KeyPair::generate().unwrap().serialize_pem()),
            "no certificate",
        ),
        (
            "a CERTIFICATE block with broken base64",
            Some(broken_base64.join("\n")),
            "not a PEM",
        ),
        ("a missing file", None, "cannot read"),
    ]
}

#[test]
fn serve_refuses_a_ca_bundle_that_is_not_a_pem_certificate_bundle() {
    for (what, content, reason) in bad_bundles() {
        let (status, stderr) = run_with_ca_bundle("serve", content.as_deref());
        assert!(
            !status.success(),
            "{what}: herald serve exited 0:\n{stderr}"
        );
        assert!(
            stderr.contains("webhooks.ca_bundle") && stderr.contains(reason),
            "{what}: the error should name webhooks.ca_bundle and say `{reason}`:\n{stderr}"
        );
        assert!(
            !stderr.contains("listening on"),
            "{what}: herald listened before failing:\n{stderr}"
        );
    }
}

/// Host bug: a `CERTIFICATE` block whose content is not a certificate passes
/// `Certificate::from_pem_bundle` (it does not parse the DER) and fails only
/// in `ClientBuilder::build`, reported as "config key `webhooks`: cannot build
/// the HTTP client: builder error" — the wrong key, and no cause.
#[test]
fn serve_names_ca_bundle_when_a_certificate_block_is_not_a_certificate() {
    let not_der = "-----BEGIN CERTIFICATE-----\n\
                   aGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IERFUiBhdCBhbGw=\n\
                   -----END CERTIFICATE-----\n";
    let (status, stderr) = run_with_ca_bundle("serve", Some(not_der));
    assert!(!status.success(), "herald serve exited 0:\n{stderr}");
    assert!(
        stderr.contains("webhooks.ca_bundle"),
        "the error should name webhooks.ca_bundle:\n{stderr}"
    );
}

/// Host bug: `check-config` never reads `webhooks.ca_bundle`, so it answers
/// "config OK" for a bundle that `serve` refuses at start-up.
#[test]
fn check_config_refuses_the_ca_bundles_serve_refuses() {
    for (what, content, _) in bad_bundles() {
        let (status, stderr) = run_with_ca_bundle("check-config", content.as_deref());
        assert!(
            !status.success(),
            "{what}: check-config accepted a bundle serve refuses:\n{stderr}"
        );
        assert!(
            stderr.contains("webhooks.ca_bundle"),
            "{what}: the error should name webhooks.ca_bundle:\n{stderr}"
        );
    }
}

#[tokio::test]
async fn proxy_carries_the_signed_request_to_the_destination() {
    let sink = Sink::start().await;
    let proxy = ForwardProxy::start().await;
    let herald = Herald::start(&tls_config(&format!(
        "require_tls = false\nproxy = {:?}",
        proxy.url()
    )));
    let id = webhook_to(&herald, &sink.url("/hook")).await;
    let event_id = post_deploy(&herald).await;

    // The proxy got an absolute-form request for the destination…
    let via_proxy = proxy.log.wait_for(1).await.remove(0);
    assert_eq!(via_proxy.method, Method::POST);
    assert_eq!(via_proxy.uri.to_string(), sink.url("/hook"));
    assert_eq!(
        via_proxy.header("host"),
        Some(sink.addr.to_string().as_str())
    );
    assert_eq!(via_proxy.header("x-webhook-id"), Some(event_id.as_str()));
    assert_signed(&via_proxy.headers, &via_proxy.body);

    // …and what reached the destination is what the proxy forwarded,
    // signature intact.
    let at_sink = sink.wait_for(1, WAIT).await.remove(0);
    assert_eq!(at_sink.path, "/hook");
    assert_eq!(at_sink.header("via"), Some(VIA));
    assert_eq!(at_sink.body, via_proxy.body);
    for name in [
        "x-phlix-signature",
        "x-phlix-signature-v2",
        "x-webhook-timestamp",
    ] {
        assert!(via_proxy.header(name).is_some(), "{name} missing");
        assert_eq!(at_sink.header(name), via_proxy.header(name), "{name}");
    }

    // The destination's answer came back through the proxy.
    let delivered = delivery_of(&herald, &id, "success").await;
    assert_eq!(delivered["last_status_code"], 200, "{delivered}");
    assert_eq!(proxy.log.requests().len(), 1);
}
