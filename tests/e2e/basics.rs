//! Issue 2: the binary starts on a free port, takes events, and refuses bad
//! ones with clear errors.

use std::process::Command;

use herald_tests::{herald_bin, Herald, TEST_CONFIG};
use serde_json::json;

#[tokio::test]
async fn accepts_refuses_and_explains() {
    let herald = Herald::start(TEST_CONFIG);
    let health: serde_json::Value = reqwest::get(herald.url("/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");

    let ok = herald
        .post_event(&json!({"event": "playback.started", "data": {"user_id": "u1", "media_item_id": "m1", "media_type": "episode", "device_id": "d1"}}))
        .await;
    assert_eq!(ok.status(), 202);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert!(body["id"].as_str().unwrap().starts_with("evt_"), "{body}");

    let malformed = herald
        .http
        .post(herald.url("/api/v1/events"))
        .bearer_auth(&herald.ingest_token)
        .header("content-type", "application/json")
        .body("{\"event\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: serde_json::Value = malformed.json().await.unwrap();
    assert_eq!(body["error"], "malformed_json");
    assert!(
        body["message"].as_str().unwrap().contains("not valid JSON"),
        "{body}"
    );

    let invalid = herald
        .post_event(
            &json!({"event": "playback.ended", "data": {"media_item_id": "m", "completed": "yes"}}),
        )
        .await;
    assert_eq!(invalid.status(), 422);
    let body: serde_json::Value = invalid.json().await.unwrap();
    assert_eq!(body["field"], "data.completed");

    let no_token = herald
        .http
        .post(herald.url("/api/v1/events"))
        .json(&json!({"event": "a.b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(no_token.status(), 401);
    let wrong_token = herald
        .http
        .post(herald.url("/api/v1/events"))
        .bearer_auth("nope")
        .json(&json!({"event": "a.b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_token.status(), 401);
    // The admin token is not an ingest token and vice versa.
    let admin_as_ingest = herald
        .http
        .post(herald.url("/api/v1/events"))
        .bearer_auth(&herald.admin_token)
        .json(&json!({"event": "a.b"}))
        .send()
        .await
        .unwrap();
    assert_eq!(admin_as_ingest.status(), 401);

    let huge = "x".repeat(2 * 1024 * 1024);
    // Its own client: the server answers 413 and closes mid-upload.
    let too_large = reqwest::Client::new()
        .post(herald.url("/api/v1/events"))
        .bearer_auth(&herald.ingest_token)
        .header("content-type", "application/json")
        .body(format!(
            "{{\"event\":\"a.b\",\"data\":{{\"x\":\"{huge}\"}}}}"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(too_large.status(), 413);
    assert!(herald.log().contains("listening on 127.0.0.1:"));
}

#[tokio::test]
async fn embedded_defaults_generate_tokens_once() {
    let dir = tempfile::tempdir().unwrap();
    // No tokens configured: generated, printed once, stored 0600.
    let mut first = Herald::start_in(dir.path(), "", &[]);
    assert_eq!(first.ingest_token.len(), 48, "{}", first.stdout);
    let response = first.post_event(&json!({"event": "app.started"})).await;
    assert_eq!(response.status(), 202);
    let printed = first.stdout.clone();
    assert!(printed.contains("generated admin token"), "{printed}");
    assert!(printed.contains(&first.ingest_token));
    assert!(
        !first.log().contains(&first.admin_token),
        "a token reached the log"
    );
    assert!(
        first.terminate(),
        "graceful shutdown failed:\n{}",
        first.log()
    );
    assert!(first.log().contains("stopped"));

    let second = Herald::start_in(dir.path(), "", &[]);
    assert_eq!(second.ingest_token, first.ingest_token);
    assert!(!second.stdout.contains("generated"), "{}", second.stdout);
}

#[test]
fn cli_check_config_plugins_and_version() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("herald.toml");
    std::fs::write(
        &config,
        "[server]\nadmin_token = \"very-secret-admin\"\n[[plugins]]\nkind = \"log\"\nname = \"to-log\"\n",
    )
    .unwrap();
    let out = Command::new(herald_bin())
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("<redacted>") && !stdout.contains("very-secret-admin"),
        "{stdout}"
    );
    assert!(stdout.contains("\"to-log\""));

    std::fs::write(&config, "[[plugins]]\nkind = \"dicsord\"\nname = \"x\"\n").unwrap();
    let out = Command::new(herald_bin())
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("plugins[0]")
            && stderr.contains("unknown plugin kind `dicsord`")
            && stderr.contains("known kinds: "),
        "{stderr}"
    );
    assert!(stderr.contains("log"), "{stderr}");

    std::fs::write(&config, "[server]\nlisten = 5\nbogus = 1\n").unwrap();
    let out = Command::new(herald_bin())
        .args(["check-config", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("server.") && stderr.contains("herald.toml"),
        "{stderr}"
    );

    let out = Command::new(herald_bin()).arg("plugins").output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.lines().any(|l| l.starts_with("log ")), "{stdout}");

    let out = Command::new(herald_bin())
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("herald "));
}

// Multi-threaded: the sink must keep answering while this thread waits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_in_flight_deliveries() {
    let sink = herald_tests::Sink::start().await;
    sink.set_default(
        herald_tests::Reply::status(200).delayed(std::time::Duration::from_millis(1500)),
    );
    let dir = tempfile::tempdir().unwrap();
    let mut herald = Herald::start_in(dir.path(), TEST_CONFIG, &[]);
    let webhook = herald
        .create_webhook(json!({"name": "slow", "url": sink.url("/"), "secret": "0123456789abcdef", "events": ["*"]}))
        .await;
    herald.post_event(&json!({"event": "app.ping"})).await;
    sink.wait_for(1, std::time::Duration::from_secs(10)).await;
    // The attempt is open at the sink; SIGTERM now must wait for it.
    assert!(herald.terminate(), "{}", herald.log());
    assert!(
        herald.log().contains("in-flight deliveries finished"),
        "{}",
        herald.log()
    );
    // After a restart the delivery is recorded as delivered, not re-sent.
    let again = Herald::start_in(dir.path(), TEST_CONFIG, &[]);
    let page = again
        .get_json(&format!(
            "/api/v1/admin/webhooks/{}/deliveries",
            webhook["id"].as_str().unwrap()
        ))
        .await;
    assert_eq!(page["deliveries"][0]["status"], "success", "{page}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn json_log_lines() {
    let herald = Herald::start(&format!("[log]\nformat = \"json\"\n{TEST_CONFIG}"));
    herald.post_event(&json!({"event": "app.ping"})).await;
    let log = herald.log();
    let line = log.lines().find(|l| l.contains("listening on")).unwrap();
    let parsed: serde_json::Value = serde_json::from_str(line).unwrap();
    assert!(parsed["message"]
        .as_str()
        .unwrap()
        .starts_with("listening on 127.0.0.1:"));
    assert_eq!(parsed["level"], "INFO");
}
