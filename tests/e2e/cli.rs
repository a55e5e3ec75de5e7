//! Issue 10: the command-line helpers against a running Herald — `herald
//! emit`, `herald verify` and `herald webhooks list`.

use std::io::Write;

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use herald_tests::{herald_bin, Herald, Sink, TEST_CONFIG};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "a-test-secret-of-32-characters!!";

/// Runs `herald ARGS` with none of the CLI's variables inherited.
fn herald(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Output {
    let mut command = Command::new(herald_bin());
    command
        .args(args)
        .env_remove("HERALD_URL")
        .env_remove("HERALD_INGEST_TOKEN")
        .env_remove("HERALD_ADMIN_TOKEN")
        .env_remove("HERALD_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    if let Some(input) = stdin {
        pipe.write_all(input).unwrap();
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn with_webhook(sink: &Sink) -> String {
    format!(
        r#"{TEST_CONFIG}
[[webhooks.endpoints]]
name = "sink"
url = "{}"
secret = "{SECRET}"
events = ["*"]
"#,
        sink.url("/hook")
    )
}

#[tokio::test]
async fn emit_posts_an_event_with_flags_environment_or_config_defaults() {
    let sink = Sink::start().await;
    let herald_server = Herald::start(&with_webhook(&sink));
    let url = herald_server.url("");

    // Flags.
    let out = herald(
        &[
            "emit",
            "playback.started",
            "--data",
            r#"{"user_id": "u1", "media_item_id": "m1", "title": "Dune"}"#,
            "--url",
            &url,
            "--token",
            "test-ingest-token",
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let answer: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(answer["deliveries"], 1, "{answer}");
    let received = sink.wait_for(1, WAIT).await;
    let event = received[0].json();
    assert_eq!(event["id"], answer["id"]);
    assert_eq!(event["event"], "playback.started");
    assert_eq!(event["data"]["title"], "Dune");

    // Environment, data from standard input.
    let out = herald(
        &["emit", "app.deployed", "--data", "-"],
        &[
            ("HERALD_URL", &url),
            ("HERALD_INGEST_TOKEN", "test-ingest-token"),
        ],
        Some(br#"{"version": "1.2.3"}"#),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let received = sink.wait_for(2, WAIT).await;
    assert_eq!(received[1].json()["data"]["version"], "1.2.3");

    // A refused token and a bad event are errors naming the cause.
    let out = herald(
        &["emit", "app.deployed", "--url", &url, "--token", "wrong"],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
    let out = herald(
        &["emit", "playback.started", "--data", "{}", "--url", &url],
        &[("HERALD_INGEST_TOKEN", "test-ingest-token")],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("422"), "{}", stderr(&out));
    let out = herald(
        &["emit", "app.x", "--data", "[1]", "--url", &url],
        &[],
        None,
    );
    assert!(
        stderr(&out).contains("--data must be a JSON object"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn emit_and_webhooks_list_find_the_generated_tokens_through_the_config() {
    let sink = Sink::start().await;
    // No tokens configured: `herald serve` generates them into the data
    // directory, where the CLI finds them through the same config file.
    let config = format!(
        "[webhooks]\nrequire_tls = false\nallow_private_networks = true\n[[webhooks.endpoints]]\nname = \"sink\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\nevents = [\"*\"]\n",
        sink.url("/hook")
    );
    let dir = tempfile::tempdir().unwrap().keep();
    let server = Herald::start_in(&dir, &config, &[]);
    assert!(!server.ingest_token.is_empty());
    let config_path = dir.join("herald.toml");
    let config_arg = config_path.to_str().unwrap();
    let url = server.url("");

    let out = herald(
        &[
            "emit",
            "user.created",
            "--data",
            r#"{"user_id": "u9"}"#,
            "--url",
            &url,
            "--config",
            config_arg,
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    sink.wait_for(1, WAIT).await;

    let out = herald(
        &["webhooks", "list", "--url", &url],
        &[("HERALD_CONFIG", config_arg)],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("cfg_sink"), "{}", stdout(&out));

    // The URL from the config's `server.listen` (nothing listens there),
    // with the token in the environment: the variables are no config keys.
    let other = dir.join("other.toml");
    std::fs::write(&other, "[server]\nlisten = \"127.0.0.1:1\"\n").unwrap();
    let out = herald(
        &["webhooks", "list", "--config", other.to_str().unwrap()],
        &[("HERALD_ADMIN_TOKEN", "test-admin-token")],
        None,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("cannot reach Herald"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn webhooks_list_shows_a_table_or_the_json() {
    let sink = Sink::start().await;
    let server = Herald::start(&with_webhook(&sink));
    let created = server
        .create_webhook(json!({"name": "home-assistant", "url": sink.url("/ha"), "events": ["playback.*"], "active": false}))
        .await;
    let url = server.url("");

    let out = herald(
        &[
            "webhooks",
            "list",
            "--url",
            &url,
            "--token",
            "test-admin-token",
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("NAME"),
        "{table}"
    );
    assert_eq!(lines.len(), 3, "{table}");
    let row = lines
        .iter()
        .find(|l| l.contains("home-assistant"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.starts_with(created["id"].as_str().unwrap()), "{row}");
    assert!(
        row.contains(" no ") && row.contains(" api ") && row.contains("playback.*"),
        "{row}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("cfg_sink") && l.contains(" config ")),
        "{table}"
    );
    assert!(!table.contains(SECRET), "{table}");

    let out = herald(
        &["webhooks", "list", "--json"],
        &[
            ("HERALD_URL", &url),
            ("HERALD_ADMIN_TOKEN", "test-admin-token"),
        ],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let listed: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(listed["webhooks"].as_array().unwrap().len(), 2);

    let out = herald(
        &[
            "webhooks",
            "list",
            "--url",
            &url,
            "--token",
            "test-ingest-token",
        ],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("401"), "{}", stderr(&out));
}

#[tokio::test]
async fn verify_checks_a_received_body_and_its_signatures() {
    let sink = Sink::start().await;
    let server = Herald::start(&with_webhook(&sink));
    server
        .post_event(
            &json!({"event": "playback.started", "data": {"user_id": "u1", "media_item_id": "m1"}}),
        )
        .await;
    let received = sink.wait_for(1, WAIT).await.remove(0);
    let v1 = received.header("x-phlix-signature").unwrap().to_owned();
    let v2 = received.header("x-phlix-signature-v2").unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body.json");
    std::fs::write(&body, &received.body).unwrap();
    let file = body.to_str().unwrap();

    let out = herald(
        &[
            "verify",
            "--secret",
            SECRET,
            "--signature",
            &v1,
            "--signature-v2",
            &v2,
            file,
        ],
        &[],
        None,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "X-Phlix-Signature: valid\nX-Phlix-Signature-V2: valid\n"
    );

    // The body from standard input.
    let out = herald(
        &["verify", "--secret", SECRET, "--signature", &v1, "-"],
        &[],
        Some(&received.body),
    );
    assert!(out.status.success(), "{}", stderr(&out));

    // One changed byte, a wrong secret, an old timestamp: refused.
    let mut tampered = received.body.to_vec();
    tampered[0] = b' ';
    let tampered_path = dir.path().join("tampered.json");
    std::fs::write(&tampered_path, &tampered).unwrap();
    let out = herald(
        &[
            "verify",
            "--secret",
            SECRET,
            "--signature",
            &v1,
            tampered_path.to_str().unwrap(),
        ],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("X-Phlix-Signature: does not match"),
        "{}",
        stderr(&out)
    );
    let out = herald(
        &[
            "verify",
            "--secret",
            "another-secret",
            "--signature-v2",
            &v2,
            file,
        ],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("X-Phlix-Signature-V2: does not match"),
        "{}",
        stderr(&out)
    );
    let old = herald_core::signing::sign_v2(SECRET.as_bytes(), 1_000_000_000, &received.body);
    let out = herald(
        &["verify", "--secret", SECRET, "--signature-v2", &old, file],
        &[],
        None,
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("more than 300 s"), "{}", stderr(&out));

    // At least one signature is required.
    let out = herald(&["verify", "--secret", SECRET, file], &[], None);
    assert!(!out.status.success());
}
