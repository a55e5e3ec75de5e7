//! Issue 10: the `exec` plugin through the real binary — a real script gets
//! the event on stdin and in `HERALD_…` variables; exit 75 is retried
//! through the durable queue, another code fails for good, and a hung
//! script is killed at its timeout.

use std::path::{Path, PathBuf};
use std::time::Duration;

use herald_tests::{eventually, Herald, TEST_CONFIG};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

async fn finished(herald: &Herald, plugin: &str) -> Value {
    let path = format!("/api/v1/admin/deliveries?destination=plugin:{plugin}");
    eventually(WAIT, || async {
        let log = herald.get_json(&path).await;
        log["deliveries"]
            .as_array()
            .and_then(|d| d.first().cloned())
            .filter(|d| d["status"] != "pending")
    })
    .await
}

#[tokio::test]
async fn exec_plugin_runs_scripts_with_the_event_and_judges_exit_codes() {
    let dir = tempfile::tempdir().unwrap().keep();
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    // Writes stdin and the environment, answers on stdout.
    let notify = script(
        &dir,
        "notify.sh",
        &format!(
            "cat > {out}/stdin.json\nenv > {out}/env\necho \"notified $HERALD_USER ($1)\"",
            out = out.display()
        ),
    );
    // Fails with EX_TEMPFAIL the first time, then succeeds.
    let flaky = script(
        &dir,
        "flaky.sh",
        &format!(
            "if [ -e {out}/flaky-ran ]; then echo second; exit 0; fi\ntouch {out}/flaky-ran\necho 'busy, later' >&2\nexit 75",
            out = out.display()
        ),
    );
    let broken = script(&dir, "broken.sh", "echo 'bad chat id' >&2\nexit 2");
    let hang = script(&dir, "hang.sh", "sleep 60 &\nwait");
    let config = format!(
        r#"{TEST_CONFIG}
[[plugins]]
kind = "exec"
name = "notify"
command = "{notify}"
args = ["phone"]

[[plugins]]
kind = "exec"
name = "flaky"
command = "{flaky}"

[[plugins]]
kind = "exec"
name = "broken"
command = "{broken}"

[[plugins]]
kind = "exec"
name = "hang"
command = "{hang}"
timeout = "500ms"
retry_exit_codes = [75]
"#,
        notify = notify.display(),
        flaky = flaky.display(),
        broken = broken.display(),
        hang = hang.display(),
    );
    let herald = Herald::start_in(&dir, &config, &[]);
    let accepted: Value = herald
        .post_event(&json!({"event": "playback.started", "data": {
            "user_id": "u1", "user_name": "Alice", "media_item_id": "m1", "media_type": "movie",
            "title": "Dune", "year": 2021
        }}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted["deliveries"], 4, "{accepted}");
    let event_id = accepted["id"].as_str().unwrap();

    let notified = finished(&herald, "notify").await;
    assert_eq!(notified["status"], "success", "{notified}");
    assert_eq!(
        notified["response_body"],
        "stdout:\nnotified Alice (phone)\n"
    );
    let stdin: Value =
        serde_json::from_slice(&std::fs::read(out.join("stdin.json")).unwrap()).unwrap();
    assert_eq!(stdin["id"], event_id);
    assert_eq!(stdin["data"]["title"], "Dune");
    let env = std::fs::read_to_string(out.join("env")).unwrap();
    for line in [
        "HERALD_EVENT=playback.started".to_string(),
        format!("HERALD_EVENT_ID={event_id}"),
        "HERALD_USER=Alice".into(),
        "HERALD_TITLE=Dune (2021)".into(),
        "HERALD_MESSAGE=Alice started Dune (2021)".into(),
    ] {
        assert!(env.lines().any(|l| l == line), "{line} missing in\n{env}");
    }
    assert!(!env.contains("test-admin-token"), "{env}");

    let flaky = finished(&herald, "flaky").await;
    assert_eq!(flaky["status"], "success", "{flaky}");
    assert_eq!(flaky["attempts"], 2);
    let detail = herald
        .get_json(&format!(
            "/api/v1/admin/deliveries/{}",
            flaky["id"].as_str().unwrap()
        ))
        .await;
    let log = detail["delivery"]["attempts_log"].as_array().unwrap();
    assert_eq!(log[0]["outcome"], "retry");
    assert_eq!(log[0]["error"], "exit code 75 (retryable)");
    assert_eq!(log[0]["response_body"], "stderr:\nbusy, later\n");

    let broken = finished(&herald, "broken").await;
    assert_eq!(broken["status"], "failed", "{broken}");
    assert_eq!(broken["attempts"], 1, "a permanent failure is not retried");
    assert_eq!(broken["last_error"], "exit code 2");

    let hang = finished(&herald, "hang").await;
    assert_eq!(hang["status"], "failed", "{hang}");
    assert_eq!(hang["attempts"], 3, "retried, then given up");
    assert!(
        hang["last_error"]
            .as_str()
            .unwrap()
            .contains("timed out after 500ms"),
        "{hang}"
    );
}
