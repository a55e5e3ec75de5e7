//! Real programs: success, retryable and permanent exit codes, the timeout
//! killing the whole process group, environment, stdin and output capture.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use herald_core::{DeliveryContext, DeliveryReport, NotificationPlugin, Verdict};
use herald_exec::Exec;
use serde_json::{json, Value};

use crate::{config, custom, episode_started};

fn ctx() -> DeliveryContext {
    herald_core::testing::delivery_context(Duration::from_secs(10))
}

/// Writes an executable `sh` script into `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

async fn deliver(settings: Value, event: &herald_core::Event) -> DeliveryReport {
    let exec = Exec::new(&config(settings)).unwrap();
    let message = exec.format(event).unwrap();
    exec.deliver(&message, &ctx()).await
}

#[tokio::test]
async fn exit_zero_is_delivered_with_the_output_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let program = script(
        dir.path(),
        "ok.sh",
        "echo \"sent $1\"; echo 'warn' >&2; exit 0",
    );
    let report = deliver(
        json!({"command": program, "args": ["to-phone"]}),
        &episode_started(),
    )
    .await;
    assert_eq!(report.verdict, Verdict::Delivered, "{report:?}");
    assert_eq!(report.error, None);
    assert_eq!(
        report.response_body.as_deref(),
        Some("stdout:\nsent to-phone\n\nstderr:\nwarn\n")
    );
}

#[tokio::test]
async fn exit_75_is_retried_and_the_retry_codes_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let tempfail = script(dir.path(), "tempfail.sh", "echo 'server busy' >&2; exit 75");
    let report = deliver(json!({"command": tempfail}), &episode_started()).await;
    assert_eq!(report.verdict, Verdict::Retry { after: None });
    assert_eq!(report.error.as_deref(), Some("exit code 75 (retryable)"));
    assert_eq!(
        report.response_body.as_deref(),
        Some("stderr:\nserver busy\n")
    );

    let seven = script(dir.path(), "seven.sh", "exit 7");
    let report = deliver(
        json!({"command": seven, "retry_exit_codes": [7, 75]}),
        &episode_started(),
    )
    .await;
    assert_eq!(report.verdict, Verdict::Retry { after: None });
}

#[tokio::test]
async fn other_exit_codes_are_permanent_failures() {
    let dir = tempfile::tempdir().unwrap();
    let program = script(dir.path(), "bad.sh", "echo 'no such chat' >&2; exit 3");
    let report = deliver(json!({"command": program}), &episode_started()).await;
    assert_eq!(report.verdict, Verdict::Reject);
    assert_eq!(report.error.as_deref(), Some("exit code 3"));
    assert_eq!(report.status_code, None);
}

fn alive(pid: u32) -> bool {
    // A zombie (state Z) is dead too, only not reaped yet.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

#[tokio::test]
async fn timeout_kills_the_whole_process_group_and_is_retried() {
    let dir = tempfile::tempdir().unwrap();
    let pids = dir.path().join("pids");
    // The script starts a grandchild, records both pids and hangs.
    let program = script(
        dir.path(),
        "hang.sh",
        &format!(
            "sleep 60 &\necho \"$$ $!\" > {pids}\necho started\nwait",
            pids = pids.display()
        ),
    );
    let started = Instant::now();
    let report = deliver(
        json!({"command": program, "timeout": "700ms"}),
        &episode_started(),
    )
    .await;
    let took = started.elapsed();
    assert_eq!(report.verdict, Verdict::Retry { after: None }, "{report:?}");
    assert!(
        report
            .error
            .as_deref()
            .unwrap()
            .contains("timed out after 700ms"),
        "{report:?}"
    );
    assert_eq!(report.response_body.as_deref(), Some("stdout:\nstarted\n"));
    assert!(took < Duration::from_secs(5), "took {took:?}");

    let text = std::fs::read_to_string(&pids).unwrap();
    let pids: Vec<u32> = text
        .split_whitespace()
        .map(|p| p.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2, "{text}");
    let deadline = Instant::now() + Duration::from_secs(5);
    while pids.iter().any(|p| alive(*p)) {
        assert!(Instant::now() < deadline, "still alive: {pids:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn environment_holds_the_event_fields_and_nothing_of_herald() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("env");
    let program = script(dir.path(), "env.sh", &format!("env > {}", out.display()));
    std::env::set_var("HERALD_SERVER__ADMIN_TOKEN", "must-not-leak");
    std::env::set_var("SOME_PARENT_VAR", "parent");
    let report = deliver(
        json!({"command": program, "env": {"API_KEY": "k1"}}),
        &episode_started(),
    )
    .await;
    assert!(report.is_delivered(), "{report:?}");
    let env = std::fs::read_to_string(&out).unwrap();
    for line in [
        "HERALD_EVENT=playback.started",
        "HERALD_EVENT_ID=evt_01HZY0000000000000000000AA",
        "HERALD_USER=Alice",
        "HERALD_TITLE=The Expanse S02E05 'Home'",
        "HERALD_MESSAGE=Alice started The Expanse S02E05 'Home' on Living Room TV",
        "HERALD_DATA_CUSTOM_KEY=x",
        "API_KEY=k1",
    ] {
        assert!(env.lines().any(|l| l == line), "{line} missing in\n{env}");
    }
    assert!(env.lines().any(|l| l.starts_with("PATH=")), "{env}");
    assert!(!env.contains("must-not-leak"), "{env}");
    assert!(!env.contains("SOME_PARENT_VAR"), "{env}");

    // inherit_env passes the rest on, still without Herald's own variables.
    let report = deliver(
        json!({"command": program, "inherit_env": true}),
        &episode_started(),
    )
    .await;
    assert!(report.is_delivered(), "{report:?}");
    let env = std::fs::read_to_string(&out).unwrap();
    assert!(env.contains("SOME_PARENT_VAR=parent"), "{env}");
    assert!(!env.contains("must-not-leak"), "{env}");
}

#[tokio::test]
async fn stdin_is_the_event_json() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stdin.json");
    let program = script(dir.path(), "cat.sh", &format!("cat > {}", out.display()));
    let event = episode_started();
    let report = deliver(json!({"command": program}), &event).await;
    assert!(report.is_delivered(), "{report:?}");
    assert_eq!(std::fs::read(&out).unwrap(), event.to_json_bytes());
}

#[tokio::test]
async fn a_program_that_ignores_a_large_stdin_is_not_blocked() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("blob");
    let program = script(
        dir.path(),
        "ignore.sh",
        &format!("printf '%s' \"$HERALD_DATA_BLOB\" > {}", out.display()),
    );
    let event = custom(json!({"blob": "x".repeat(1024 * 1024)}));
    let report = deliver(json!({"command": program}), &event).await;
    assert!(report.is_delivered(), "{report:?}");
    // The variable is cut; the whole value is on stdin.
    let value = std::fs::read_to_string(&out).unwrap();
    assert_eq!(value.len(), herald_exec::payload::MAX_ENV_VALUE_BYTES);
    assert!(value.ends_with('…'));
}

#[tokio::test]
async fn event_values_never_reach_a_shell() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("pwned");
    let out = dir.path().join("title");
    let program = script(
        dir.path(),
        "title.sh",
        &format!("printf '%s' \"$HERALD_DATA_TITLE\" > {}", out.display()),
    );
    let title = format!("$(touch {})", marker.display());
    let report = deliver(
        json!({"command": program}),
        &custom(json!({"title": title})),
    )
    .await;
    assert!(report.is_delivered(), "{report:?}");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), title);
    assert!(!marker.exists());
}

#[tokio::test]
async fn shell_mode_runs_a_command_line_with_args_as_positional_parameters() {
    let report = deliver(
        json!({
            "command": "echo \"$1:$HERALD_EVENT\" | tr a-z A-Z; exit 75",
            "shell": true,
            "args": ["first"],
        }),
        &episode_started(),
    )
    .await;
    assert_eq!(report.verdict, Verdict::Retry { after: None });
    assert_eq!(
        report.response_body.as_deref(),
        Some("stdout:\nFIRST:PLAYBACK.STARTED\n")
    );
}

#[tokio::test]
async fn output_is_truncated_to_max_output_bytes() {
    let report = deliver(
        json!({
            "command": "head -c 10000 /dev/zero | tr '\\0' a",
            "shell": true,
            "max_output_bytes": 16,
        }),
        &episode_started(),
    )
    .await;
    assert!(report.is_delivered(), "{report:?}");
    assert_eq!(
        report.response_body.as_deref(),
        Some("stdout:\naaaaaaaaaaaaaaaa… [9984 more bytes]")
    );
}

#[tokio::test]
async fn a_missing_program_is_a_permanent_failure() {
    let report = deliver(
        json!({"command": "/nonexistent/herald-test-program"}),
        &episode_started(),
    )
    .await;
    assert_eq!(report.verdict, Verdict::Reject);
    assert!(
        report
            .error
            .as_deref()
            .unwrap()
            .starts_with("cannot run `/nonexistent/herald-test-program`"),
        "{report:?}"
    );
}

#[tokio::test]
async fn working_dir_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let report = deliver(
        json!({"command": "pwd", "working_dir": dir.path()}),
        &episode_started(),
    )
    .await;
    let expected = format!(
        "stdout:\n{}\n",
        dir.path().canonicalize().unwrap().display()
    );
    assert_eq!(report.response_body.as_deref(), Some(expected.as_str()));
}
