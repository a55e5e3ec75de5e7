//! Issue 3: signed generic webhooks, retries, the delivery log, the admin
//! API and durability across `kill -9`, against real local HTTP servers.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use herald_tests::{eventually, Herald, Received, Reply, Sink, TEST_CONFIG};
use reqwest::Method;
use serde_json::{json, Value};

const SECRET: &str = "a-test-secret-of-32-characters!!";
const WAIT: Duration = Duration::from_secs(20);

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

fn playback(user: &str, media_type: &str) -> Value {
    json!({"event": "playback.started", "data": {"user_id": user, "media_item_id": "m1", "media_type": media_type, "title": "日本語 🎬"}})
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

async fn delivery_detail(herald: &Herald, delivery_id: &str) -> Value {
    herald
        .get_json(&format!("/api/v1/admin/deliveries/{delivery_id}"))
        .await["delivery"]
        .clone()
}

#[tokio::test]
async fn signed_request_verifies_with_an_independent_hmac() {
    let sink = Sink::start().await;
    let herald = Herald::start(TEST_CONFIG);
    herald
        .create_webhook(
            json!({"name": "sink", "url": sink.url("/hook"), "secret": SECRET, "events": ["*"]}),
        )
        .await;
    let accepted: Value = herald
        .post_event(&playback("u1", "movie"))
        .await
        .json()
        .await
        .unwrap();
    let got = sink.wait_for(1, WAIT).await;
    let r = &got[0];
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.header("user-agent").unwrap().starts_with("Herald/"));
    assert_eq!(r.header("x-webhook-id"), accepted["id"].as_str());
    let t: i64 = r.header("x-webhook-timestamp").unwrap().parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - t).abs() < 60);

    // Body: the event exactly as the model serializes it.
    let body = r.json();
    assert_eq!(body["id"], accepted["id"]);
    assert_eq!(body["event"], "playback.started");
    assert_eq!(body["data"]["title"], "日本語 🎬");
    assert_eq!(
        body.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["id", "event", "timestamp", "data"]
    );

    let expected = format!("sha256={}", openssl_hmac_hex(SECRET, &r.body));
    assert_eq!(r.header("x-phlix-signature"), Some(expected.as_str()));
    let mut signed = format!("{t}.").into_bytes();
    signed.extend_from_slice(&r.body);
    let v2 = format!("t={t},v1={}", openssl_hmac_hex(SECRET, &signed));
    assert_eq!(r.header("x-phlix-signature-v2"), Some(v2.as_str()));
}

#[tokio::test]
async fn readme_node_receiver_verifies_herald() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme
        .find("```js")
        .expect("README has a ```js receiver snippet")
        + 5;
    let end = start + readme[start..].find("```").unwrap();
    let snippet = &readme[start..end];

    let sink = Sink::start().await;
    let herald = Herald::start(TEST_CONFIG);
    herald
        .create_webhook(
            json!({"name": "sink", "url": sink.url("/"), "secret": SECRET, "events": ["*"]}),
        )
        .await;
    herald.post_event(&playback("u1", "movie")).await;
    let r = sink.wait_for(1, WAIT).await.remove(0);

    let check = |body: &[u8], signature: &str| -> bool {
        let dir = tempfile::tempdir().unwrap();
        let script = format!(
            "{snippet}\nconst body = require('fs').readFileSync(process.argv[2]);\n\
             process.exit(verifyHerald(body, process.argv[3], process.argv[4], process.argv[5]) ? 0 : 1);\n"
        );
        std::fs::write(dir.path().join("verify.js"), script).unwrap();
        std::fs::write(dir.path().join("body"), body).unwrap();
        Command::new("node")
            .arg(dir.path().join("verify.js"))
            .arg(dir.path().join("body"))
            .arg(SECRET)
            .arg(signature)
            .arg(r.header("x-phlix-signature-v2").unwrap())
            .status()
            .unwrap()
            .success()
    };
    assert!(check(&r.body, r.header("x-phlix-signature").unwrap()));
    let mut tampered = r.body.to_vec();
    tampered[10] ^= 1;
    assert!(!check(&tampered, r.header("x-phlix-signature").unwrap()));
}

#[tokio::test]
async fn standard_webhooks_scheme_with_generated_secret() {
    let sink = Sink::start().await;
    let herald = Herald::start(TEST_CONFIG);
    let webhook = herald
        .create_webhook(
            json!({"name": "std", "url": sink.url("/"), "events": ["*"], "signature": "standard"}),
        )
        .await;
    assert!(webhook.get("secret").is_none(), "secret echoed: {webhook}");
    let id = webhook["id"].as_str().unwrap();
    let secret = herald
        .get_json(&format!("/api/v1/admin/webhooks/{id}/secret"))
        .await["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(secret.starts_with("whsec_"));
    herald.post_event(&json!({"event": "app.deployed"})).await;
    let r = sink.wait_for(1, WAIT).await.remove(0);
    let (msg_id, ts) = (
        r.header("webhook-id").unwrap(),
        r.header("webhook-timestamp").unwrap(),
    );
    // Independent verifier: Python's hmac, as in the Standard Webhooks spec.
    let script = "import sys,hmac,hashlib,base64\n\
        key=base64.b64decode(sys.argv[1][6:])\n\
        body=open(sys.argv[4],'rb').read()\n\
        sig=base64.b64encode(hmac.new(key,(sys.argv[2]+'.'+sys.argv[3]+'.').encode()+body,hashlib.sha256).digest()).decode()\n\
        print('v1,'+sig)";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("body"), &r.body).unwrap();
    let out = Command::new("python3")
        .args(["-c", script, &secret, msg_id, ts])
        .arg(dir.path().join("body"))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        r.header("webhook-signature").unwrap()
    );

    // Rotation: a new secret, used from then on.
    let rotated: Value = herald
        .admin(
            Method::POST,
            &format!("/api/v1/admin/webhooks/{id}/secret/rotate"),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(rotated["secret"].as_str().unwrap(), secret);
}

#[tokio::test]
async fn retries_follow_the_schedule_attempt_by_attempt() {
    let sink = Sink::start().await;
    sink.script([
        Reply::status(500).body("first"),
        Reply::status(502),
        Reply::status(200),
    ]);
    let herald = Herald::start(&format!(
        "{TEST_CONFIG}retry_schedule = [\"300ms\", \"900ms\"]\n"
    ));
    let webhook = herald
        .create_webhook(
            json!({"name": "flaky", "url": sink.url("/"), "secret": SECRET, "events": ["*"]}),
        )
        .await;
    herald.post_event(&json!({"event": "app.ping"})).await;
    let got = sink.wait_for(3, WAIT).await;
    // Same event id on every attempt, so receivers can de-duplicate.
    let ids: BTreeSet<_> = got
        .iter()
        .map(|r| r.header("x-webhook-id").unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 1);
    assert!(got[1].at - got[0].at >= Duration::from_millis(300));
    assert!(got[2].at - got[1].at >= Duration::from_millis(900));

    let delivery = delivery_of(&herald, webhook["id"].as_str().unwrap(), "success").await;
    let detail = delivery_detail(&herald, delivery["id"].as_str().unwrap()).await;
    assert_eq!(detail["attempts"], 3);
    let log = detail["attempts_log"].as_array().unwrap();
    let outcomes: Vec<_> = log
        .iter()
        .map(|a| {
            (
                a["status_code"].as_u64().unwrap(),
                a["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(outcomes, [(500, "retry"), (502, "retry"), (200, "success")]);
    assert_eq!(log[0]["response_body"], "first");
    assert_eq!(sink.received().len(), 3, "no extra attempt after success");
}

#[tokio::test]
async fn retries_are_bounded_and_counted() {
    let sink = Sink::start().await;
    sink.set_default(Reply::status(503));
    let herald = Herald::start(TEST_CONFIG);
    let webhook = herald
        .create_webhook(json!({"name": "down", "url": sink.url("/"), "secret": SECRET, "events": ["*"], "max_retries": 1}))
        .await;
    let id = webhook["id"].as_str().unwrap();
    herald.post_event(&json!({"event": "app.ping"})).await;
    let delivery = delivery_of(&herald, id, "failed").await;
    assert_eq!(delivery["attempts"], 2);
    assert_eq!(delivery["last_status_code"], 503);
    let w = herald
        .get_json(&format!("/api/v1/admin/webhooks/{id}"))
        .await["webhook"]
        .clone();
    assert_eq!(
        (
            w["total_failures"].as_u64(),
            w["consecutive_failures"].as_u64()
        ),
        (Some(1), Some(1))
    );
    assert_eq!(w["last_status"], "failed");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sink.received().len(), 2);
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let sink = Sink::start().await;
    sink.script([Reply::status(429).header("retry-after", "2")]);
    let herald = Herald::start(TEST_CONFIG);
    herald
        .create_webhook(
            json!({"name": "limited", "url": sink.url("/"), "secret": SECRET, "events": ["*"]}),
        )
        .await;
    herald.post_event(&json!({"event": "app.ping"})).await;
    let got = sink.wait_for(2, WAIT).await;
    // The backoff alone would retry after ~100 ms.
    assert!(
        got[1].at - got[0].at >= Duration::from_secs(2),
        "{:?}",
        got[1].at - got[0].at
    );
}

#[tokio::test]
async fn a_slow_endpoint_never_delays_the_others() {
    let slow = Sink::start().await;
    slow.set_default(Reply::status(200).delayed(Duration::from_secs(10)));
    let fast = Sink::start().await;
    let herald = Herald::start(TEST_CONFIG);
    let slow_hook = herald
        .create_webhook(json!({"name": "slow", "url": slow.url("/"), "secret": SECRET, "events": ["*"], "max_retries": 0}))
        .await;
    herald
        .create_webhook(
            json!({"name": "fast", "url": fast.url("/"), "secret": SECRET, "events": ["*"]}),
        )
        .await;
    herald.post_event(&json!({"event": "app.ping"})).await;
    fast.wait_for(1, WAIT).await;
    slow.wait_for(1, WAIT).await;
    // The fast endpoint got its request while the slow one's attempt was
    // still open: nothing is recorded for it yet.
    let page = herald
        .get_json(&format!(
            "/api/v1/admin/webhooks/{}/deliveries",
            slow_hook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page["deliveries"][0]["attempts"], 0, "{page}");
    // Then the timeout (2 s) ends the slow attempt.
    let failed = delivery_of(&herald, slow_hook["id"].as_str().unwrap(), "failed").await;
    assert!(
        failed["last_error"].as_str().unwrap().contains("timed out"),
        "{failed}"
    );
}

#[tokio::test]
async fn consecutive_failures_disable_and_the_api_re_enables() {
    let sink = Sink::start().await;
    sink.set_default(Reply::status(500));
    let herald = Herald::start(&format!(
        "{TEST_CONFIG}disable_after = 2\nmax_retries = 0\n"
    ));
    let webhook = herald
        .create_webhook(
            json!({"name": "broken", "url": sink.url("/"), "secret": SECRET, "events": ["*"]}),
        )
        .await;
    let id = webhook["id"].as_str().unwrap().to_string();
    for _ in 0..2 {
        herald.post_event(&json!({"event": "app.ping"})).await;
    }
    let disabled = eventually(WAIT, || async {
        let w = herald
            .get_json(&format!("/api/v1/admin/webhooks/{id}"))
            .await["webhook"]
            .clone();
        (w["active"] == false).then_some(w)
    })
    .await;
    assert!(disabled["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("2 consecutive"));
    assert!(herald.log().contains("webhook disabled"));
    let accepted: Value = herald
        .post_event(&json!({"event": "app.ping"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted["deliveries"], 0);

    sink.set_default(Reply::status(200));
    let enabled: Value = herald
        .admin(Method::PATCH, &format!("/api/v1/admin/webhooks/{id}"))
        .json(&json!({"active": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(enabled["webhook"]["active"], true);
    assert_eq!(enabled["webhook"]["consecutive_failures"], 0);
    let accepted: Value = herald
        .post_event(&json!({"event": "app.ping"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted["deliveries"], 1);
    delivery_of(&herald, &id, "success").await;
}

#[tokio::test]
async fn a_failed_delivery_can_be_retried_by_hand() {
    let sink = Sink::start().await;
    sink.set_default(Reply::status(500));
    let herald = Herald::start(&format!("{TEST_CONFIG}max_retries = 0\n"));
    let webhook = herald
        .create_webhook(
            json!({"name": "manual", "url": sink.url("/"), "secret": SECRET, "events": ["*"]}),
        )
        .await;
    herald.post_event(&json!({"event": "app.ping"})).await;
    let failed = delivery_of(&herald, webhook["id"].as_str().unwrap(), "failed").await;
    sink.set_default(Reply::status(200));
    let delivery_id = failed["id"].as_str().unwrap();
    let retried = herald
        .admin(
            Method::POST,
            &format!("/api/v1/admin/deliveries/{delivery_id}/retry"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status(), 202);
    let detail = eventually(WAIT, || async {
        let d = delivery_detail(&herald, delivery_id).await;
        (d["status"] == "success").then_some(d)
    })
    .await;
    assert_eq!(detail["attempts"], 2);
    let missing = herald
        .admin(Method::POST, "/api/v1/admin/deliveries/dlv_nope/retry")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn delivery_log_pages_newest_first_and_filters() {
    let sink = Sink::start().await;
    let herald = Herald::start(TEST_CONFIG);
    let webhook = herald
        .create_webhook(
            json!({"name": "log", "url": sink.url("/"), "secret": SECRET, "events": ["*"]}),
        )
        .await;
    let id = webhook["id"].as_str().unwrap();
    let mut event_ids = Vec::new();
    for i in 0..5 {
        let body: Value = herald
            .post_event(&json!({"event": "app.ping", "data": {"i": i}}))
            .await
            .json()
            .await
            .unwrap();
        event_ids.push(body["id"].as_str().unwrap().to_string());
    }
    sink.wait_for(5, WAIT).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/admin/webhooks/{id}/deliveries?limit=2&cursor={c}"),
            None => format!("/api/v1/admin/webhooks/{id}/deliveries?limit=2"),
        };
        let page = herald.get_json(&path).await;
        let deliveries = page["deliveries"].as_array().unwrap();
        assert!(deliveries.len() <= 2);
        seen.extend(
            deliveries
                .iter()
                .map(|d| d["event_id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    event_ids.reverse();
    assert_eq!(seen, event_ids);
    let failed = herald
        .get_json(&format!(
            "/api/v1/admin/webhooks/{id}/deliveries?status=failed"
        ))
        .await;
    assert_eq!(failed["deliveries"].as_array().unwrap().len(), 0);
    let bad = herald
        .admin(
            Method::GET,
            &format!("/api/v1/admin/webhooks/{id}/deliveries?status=nope"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}

#[tokio::test]
async fn admin_api_auth_validation_and_lifecycle() {
    let sink = Sink::start().await;
    let herald = Herald::start(TEST_CONFIG);
    let unauth = herald
        .http
        .get(herald.url("/api/v1/admin/webhooks"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status(), 401);
    let ingest_as_admin = herald
        .http
        .get(herald.url("/api/v1/admin/webhooks"))
        .bearer_auth(&herald.ingest_token)
        .send()
        .await
        .unwrap();
    assert_eq!(ingest_as_admin.status(), 401);

    for (body, field) in [
        (
            json!({"name": "x", "url": "not a url", "events": ["*"]}),
            "url",
        ),
        (
            json!({"name": "x", "url": "ftp://127.0.0.1/", "events": ["*"]}),
            "url",
        ),
        (
            json!({"name": "x", "url": sink.url("/"), "events": []}),
            "events",
        ),
        (
            json!({"name": "x", "url": sink.url("/"), "events": ["playback"]}),
            "events[0]",
        ),
        (
            json!({"name": "x", "url": sink.url("/"), "events": ["*"], "colour": "red"}),
            "colour",
        ),
        (
            json!({"name": "", "url": sink.url("/"), "events": ["*"]}),
            "name",
        ),
        (
            json!({"name": "x", "url": sink.url("/"), "events": ["*"], "secret": "short"}),
            "secret",
        ),
        (
            json!({"name": "x", "url": sink.url("/"), "events": ["*"], "body_template": "{\"a\": {{"}),
            "body_template",
        ),
    ] {
        let response = herald
            .admin(Method::POST, "/api/v1/admin/webhooks")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{body}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["field"], field, "{error}");
        if field == "colour" {
            assert!(
                error["message"].as_str().unwrap().contains("colour"),
                "{error}"
            );
        }
    }
    // Its own client: the server answers 413 and closes mid-upload.
    let huge = reqwest::Client::new()
        .post(herald.url("/api/v1/admin/webhooks"))
        .bearer_auth(&herald.admin_token)
        .header("content-type", "application/json")
        .body(format!("{{\"name\":\"{}\"}}", "x".repeat(2 << 20)))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);

    let created = herald
        .create_webhook(json!({"name": "life", "url": sink.url("/"), "secret": SECRET, "events": ["playback.*"]}))
        .await;
    let id = created["id"].as_str().unwrap();
    let listed = herald.get_json("/api/v1/admin/webhooks").await;
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(SECRET), "secret in listing");
    let dup = herald
        .admin(Method::POST, "/api/v1/admin/webhooks")
        .json(&json!({"name": "life", "url": sink.url("/"), "events": ["*"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), 409);

    let patched: Value = herald
        .admin(Method::PATCH, &format!("/api/v1/admin/webhooks/{id}"))
        .json(&json!({"name": "renamed", "events": ["library.updated"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(patched["webhook"]["name"], "renamed");
    assert_eq!(patched["webhook"]["events"], json!(["library.updated"]));

    let outcome: Value = herald
        .admin(Method::POST, &format!("/api/v1/admin/webhooks/{id}/test"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(outcome["success"], true, "{outcome}");
    assert_eq!(outcome["status_code"], 200);
    assert!(outcome["duration_ms"].is_u64());
    let test_event = sink.wait_for(1, WAIT).await.remove(0).json();
    assert_eq!(test_event["event"], "webhook.test");
    assert_eq!(test_event["data"]["webhook_id"], id);

    let deleted = herald
        .admin(Method::DELETE, &format!("/api/v1/admin/webhooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), 204);
    for method in [Method::GET, Method::DELETE] {
        let gone = herald
            .admin(method, &format!("/api/v1/admin/webhooks/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(gone.status(), 404);
    }
    let no_delivery = herald
        .admin(Method::GET, "/api/v1/admin/deliveries/dlv_nope")
        .send()
        .await
        .unwrap();
    assert_eq!(no_delivery.status(), 404);
}

#[tokio::test]
async fn private_destinations_are_refused_by_default() {
    let herald = Herald::start(
        "[server]\nadmin_token = \"test-admin-token\"\ningest_token = \"test-ingest-token\"\n",
    );
    for url in [
        "https://127.0.0.1:9/",
        "https://localhost/",
        "https://[::1]/",
        "http://hooks.example.com/",
    ] {
        let response = herald
            .admin(Method::POST, "/api/v1/admin/webhooks")
            .json(&json!({"name": "x", "url": url, "events": ["*"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{url}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["field"], "url");
    }
}

#[tokio::test]
async fn wildcards_and_payload_filters_route_events() {
    let sink = Sink::start().await;
    let herald = Herald::start(TEST_CONFIG);
    herald
        .create_webhook(json!({
            "name": "movies", "url": sink.url("/movies"), "secret": SECRET,
            "events": ["playback.*"], "filters": {"media_type": ["movie"]}
        }))
        .await;
    herald
        .create_webhook(
            json!({"name": "all", "url": sink.url("/all"), "secret": SECRET, "events": ["*"]}),
        )
        .await;
    herald.post_event(&playback("u1", "movie")).await;
    herald.post_event(&playback("u1", "episode")).await;
    herald.post_event(&json!({"event": "playback.stop", "data": {"media_item_id": "m", "media_type": "movie"}})).await;
    herald
        .post_event(
            &json!({"event": "library.new", "data": {"media_item_id": "m", "media_type": "movie"}}),
        )
        .await;
    let got = sink.wait_for(6, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let movies: Vec<String> = sink
        .received()
        .iter()
        .filter(|r| r.path == "/movies")
        .map(|r: &Received| r.json()["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(movies.len(), 2, "{movies:?}");
    assert!(
        movies.contains(&"playback.started".to_string())
            && movies.contains(&"playback.ended".to_string())
    );
    assert_eq!(got.iter().filter(|r| r.path == "/all").count(), 4);
    assert_eq!(sink.received().len(), 6);
}

#[tokio::test]
async fn config_declared_webhooks_are_listed_and_protected() {
    let sink = Sink::start().await;
    let config = format!(
        "{TEST_CONFIG}\n[[webhooks.endpoints]]\nname = \"from-config\"\nurl = \"{}\"\nsecret = \"${{HOOK_SECRET}}\"\nevents = [\"app.*\"]\n",
        sink.url("/cfg")
    );
    let dir = tempfile::tempdir().unwrap();
    let herald = Herald::start_in(dir.path(), &config, &[("HOOK_SECRET", SECRET)]);
    let listed = herald.get_json("/api/v1/admin/webhooks").await;
    let webhook = &listed["webhooks"][0];
    assert_eq!(webhook["origin"], "config");
    assert_eq!(webhook["name"], "from-config");
    let id = webhook["id"].as_str().unwrap();
    let delete = herald
        .admin(Method::DELETE, &format!("/api/v1/admin/webhooks/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(delete.status(), 409);
    let rename = herald
        .admin(Method::PATCH, &format!("/api/v1/admin/webhooks/{id}"))
        .json(&json!({"url": sink.url("/elsewhere")}))
        .send()
        .await
        .unwrap();
    assert_eq!(rename.status(), 409);

    herald.post_event(&json!({"event": "app.ping"})).await;
    let r = sink.wait_for(1, WAIT).await.remove(0);
    let expected = format!("sha256={}", openssl_hmac_hex(SECRET, &r.body));
    assert_eq!(r.header("x-phlix-signature"), Some(expected.as_str()));
    assert!(!herald.log().contains(SECRET), "the secret reached the log");
}

#[tokio::test]
async fn body_templates_reshape_the_json() {
    let sink = Sink::start().await;
    let herald = Herald::start(TEST_CONFIG);
    herald
        .create_webhook(json!({
            "name": "shaped", "url": sink.url("/"), "secret": SECRET, "events": ["*"],
            "body_template": "{\"text\": \"{{event}}: {{data.title}}\", \"raw\": {{json data}}}"
        }))
        .await;
    herald
        .post_event(&json!({"event": "playback.started", "data": {"media_item_id": "m", "title": "Say \"hi\" \\ 日本"}}))
        .await;
    let r = sink.wait_for(1, WAIT).await.remove(0);
    let body = r.json();
    assert_eq!(body["text"], "playback.started: Say \"hi\" \\ 日本");
    assert_eq!(body["raw"]["media_item_id"], "m");
    let expected = format!("sha256={}", openssl_hmac_hex(SECRET, &r.body));
    assert_eq!(r.header("x-phlix-signature"), Some(expected.as_str()));
}

/// The durability promise: a 202 means the delivery survives `kill -9`.
#[tokio::test]
async fn pending_deliveries_survive_kill_9() {
    // Reserve a port for the sink, then leave it closed (the sink is down).
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap().port()
    };
    let sink_url = format!("http://127.0.0.1:{port}/hook");
    let dir = tempfile::tempdir().unwrap();
    let config = TEST_CONFIG.replace(
        "retry_backoff = \"100ms\"",
        "retry_backoff = \"1s\"\nmax_retries = 50",
    );
    let mut herald = Herald::start_in(dir.path(), &config, &[]);
    herald
        .create_webhook(json!({"name": "down", "url": sink_url, "secret": SECRET, "events": ["*"]}))
        .await;
    let mut accepted = BTreeSet::new();
    for i in 0..40 {
        let response = herald
            .post_event(&json!({"event": "app.ping", "data": {"i": i}}))
            .await;
        assert_eq!(response.status(), 202);
        let body: Value = response.json().await.unwrap();
        accepted.insert(body["id"].as_str().unwrap().to_string());
    }
    herald.kill9();

    let sink = Sink::start_on(&format!("127.0.0.1:{port}")).await;
    let _herald = Herald::start_in(dir.path(), &config, &[]);
    let got = sink.wait_for(40, Duration::from_secs(60)).await;
    let delivered: BTreeSet<String> = got
        .iter()
        .map(|r| r.header("x-webhook-id").unwrap().to_string())
        .collect();
    assert_eq!(delivered, accepted);
}

/// A real PHP receiver built from the README's PHP snippet (`php -S`).
#[tokio::test]
async fn readme_php_receiver_verifies_herald() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).unwrap();
    let start = readme
        .find("```php")
        .expect("README has a ```php receiver snippet")
        + 6;
    let end = start + readme[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The snippet, then an answer that shows what it decoded.
    let script = format!(
        "{}\necho json_encode(['event' => $event['event']]);\n",
        readme[start..end].trim_start()
    );
    std::fs::write(dir.path().join("receiver.php"), script).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut php = Command::new("php")
        .args(["-S", &format!("127.0.0.1:{port}"), "receiver.php"])
        .current_dir(dir.path())
        .env("HERALD_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("php (apt-get install php-cli)");
    eventually(WAIT, || async {
        std::net::TcpStream::connect(("127.0.0.1", port))
            .ok()
            .map(|_| ())
    })
    .await;

    let herald = Herald::start(&format!("{TEST_CONFIG}max_retries = 0\n"));
    let url = format!("http://127.0.0.1:{port}/hook");
    let good = herald
        .create_webhook(json!({"name": "php", "url": url, "secret": SECRET, "events": ["*"]}))
        .await;
    let bad = herald
        .create_webhook(json!({"name": "php-wrong-secret", "url": url, "secret": "another-secret-of-32-characters!", "events": ["*"]}))
        .await;
    herald.post_event(&json!({"event": "app.deployed"})).await;
    let ok = delivery_of(&herald, good["id"].as_str().unwrap(), "success").await;
    assert_eq!(ok["last_status_code"], 200);
    let refused = delivery_of(&herald, bad["id"].as_str().unwrap(), "failed").await;
    assert_eq!(refused["last_status_code"], 401);
    let detail = delivery_detail(&herald, ok["id"].as_str().unwrap()).await;
    assert_eq!(detail["response_body"], r#"{"event":"app.deployed"}"#);
    let _ = php.kill();
    let _ = php.wait();
}
