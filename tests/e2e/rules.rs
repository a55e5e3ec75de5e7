//! Issue 9: grouping, throttling, conditions, quiet hours and fallback, with
//! the real binary and a controlled clock (`HERALD_TEST_CLOCK`), so no test
//! waits through a real window.

use std::time::Duration;

use herald_tests::{eventually, Herald, Reply, Sink, TEST_CONFIG};
use reqwest::Method;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);
const SECRET: &str = "a-test-secret-of-32-characters!!";
/// A Saturday, 12:00 UTC.
const NOON: &str = "2026-01-31T12:00:00Z";

async fn advance(herald: &Herald, seconds: i64) {
    let response = herald
        .admin(Method::POST, "/api/v1/admin/test/clock")
        .json(&json!({"seconds": seconds}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

fn episode_added(episode: i64, title: &str) -> Value {
    json!({"event": "library.updated", "data": {
        "change_type": "item_added", "media_item_id": format!("exp-s02e{episode:02}"), "media_type": "episode",
        "series": "The Expanse", "season": 2, "episode": episode, "title": title, "library_name": "TV"
    }})
}

fn start(dir: &std::path::Path, extra: &str, clock: &str) -> Herald {
    Herald::start_in(
        dir,
        &format!("{TEST_CONFIG}{extra}"),
        &[("HERALD_TEST_CLOCK", clock)],
    )
}

fn grouped_webhook(sink: &Sink) -> String {
    format!(
        "\n[[webhooks.endpoints]]\nname = \"grouped\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\nevents = [\"library.*\"]\n\
         [webhooks.endpoints.rules.group]\nwindow = \"5m\"\n",
        sink.url("/grouped")
    )
}

#[tokio::test]
async fn added_episodes_are_grouped_into_one_request_after_the_window() {
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let herald = start(dir.path(), &grouped_webhook(&sink), NOON);
    for (episode, title) in [
        (1, "Doors & Corners"),
        (2, "Cascade"),
        (3, "TBA"),
        (4, "Godspeed"),
        (5, "Home"),
    ] {
        assert_eq!(
            herald
                .post_event(&episode_added(episode, title))
                .await
                .status(),
            202
        );
    }
    // Metadata arrives later for episode 3: the group uses the latest data.
    herald.post_event(&episode_added(3, "Static")).await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(sink.received().is_empty(), "sent before the window closed");
    let held = herald
        .get_json("/api/v1/admin/deliveries?status=held")
        .await;
    assert_eq!(held["deliveries"].as_array().unwrap().len(), 6);

    advance(&herald, 301).await;
    let r = sink.wait_for(1, WAIT).await.remove(0);
    let body = r.json();
    assert_eq!(body["event"], "library.items_added");
    assert_eq!(
        body["data"]["message"],
        "The Expanse — 5 new episodes (S02E01–S02E05)"
    );
    let titles: Vec<_> = body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["data"]["title"].clone())
        .collect();
    assert_eq!(
        titles,
        ["Doors & Corners", "Cascade", "Static", "Godspeed", "Home"]
    );
    let merged = herald
        .get_json("/api/v1/admin/deliveries?status=merged")
        .await;
    assert_eq!(merged["deliveries"].as_array().unwrap().len(), 6);
    assert!(merged["deliveries"][0]["note"]
        .as_str()
        .unwrap()
        .starts_with("sent in dlv_"));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn groups_survive_a_restart_and_are_sent_once() {
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = grouped_webhook(&sink);
    let mut herald = start(dir.path(), &config, NOON);
    for id in ["a", "b", "c"] {
        herald
            .post_event(&json!({"event": "library.new", "data": {"media_item_id": id, "media_type": "movie", "library_name": "Movies"}}))
            .await;
    }
    herald.kill9();
    // Restarted within the window (the clock starts again at noon).
    let herald = start(dir.path(), &config, NOON);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sink.received().is_empty());
    advance(&herald, 301).await;
    let r = sink.wait_for(1, WAIT).await.remove(0);
    assert_eq!(r.json()["data"]["message"], "3 new movies in Movies");
    // Delivery is at least once: wait until the success is recorded.
    eventually(WAIT, || async {
        let page = herald
            .get_json("/api/v1/admin/deliveries?status=success")
            .await;
        (!page["deliveries"].as_array().unwrap().is_empty()).then_some(())
    })
    .await;
    drop(herald);
    // A second restart after the release sends nothing again.
    let herald = start(dir.path(), &config, "2026-01-31T13:00:00Z");
    advance(&herald, 3600).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn throttle_deduplicates_and_caps_with_a_summary() {
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "\n[[webhooks.endpoints]]\nname = \"throttled\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\nevents = [\"*\"]\n\
         [webhooks.endpoints.rules.throttle]\nmin_interval = \"10m\"\nmax_per_minute = 3\n",
        sink.url("/")
    );
    let herald = start(dir.path(), &config, NOON);
    let play = |user: &str, item: &str| json!({"event": "playback.started", "data": {"user_id": user, "media_item_id": item}});
    herald.post_event(&play("alice", "m1")).await;
    herald.post_event(&play("alice", "m1")).await; // duplicate within 10 min: dropped
    herald.post_event(&play("bob", "m1")).await;
    herald.post_event(&play("alice", "m2")).await;
    // The cap (3 per minute) is reached: the next two are summarized.
    herald.post_event(&play("carol", "m3")).await;
    herald
        .post_event(&json!({"event": "user.created", "data": {"user_id": "dave"}}))
        .await;
    let got = sink.wait_for(3, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        sink.received().len(),
        3,
        "{:?}",
        got.iter().map(|r| r.json()).collect::<Vec<_>>()
    );
    assert!(herald.log().contains("throttled"));

    advance(&herald, 60).await;
    let got = sink.wait_for(4, WAIT).await;
    let summary = got[3].json();
    assert_eq!(summary["event"], "notification.summary");
    assert_eq!(summary["data"]["count"], 2);
    assert!(
        summary["data"]["message"]
            .as_str()
            .unwrap()
            .contains("over the rate limit"),
        "{summary}"
    );

    // After the interval the same notification goes through again.
    advance(&herald, 600).await;
    herald.post_event(&play("alice", "m1")).await;
    sink.wait_for(5, WAIT).await;
}

#[tokio::test]
async fn conditions_route_by_fields() {
    let sink = Sink::start().await;
    let herald = Herald::start(TEST_CONFIG);
    herald
        .create_webhook(json!({
            "name": "long-movies", "url": sink.url("/"), "secret": SECRET, "events": ["playback.ended"],
            "rules": {"conditions": {"all": [
                {"field": "media_type", "op": "equals", "value": "movie"},
                {"any": [{"field": "completed", "op": "equals", "value": true}, {"field": "duration_seconds", "op": "gt", "value": 3600}]}
            ]}}
        }))
        .await;
    let ended = |media_type: &str, completed: bool, duration: u64| json!({"event": "playback.ended", "data": {"media_item_id": "m", "media_type": media_type, "completed": completed, "duration_seconds": duration}});
    herald.post_event(&ended("episode", true, 9000)).await;
    herald.post_event(&ended("movie", false, 60)).await;
    herald.post_event(&ended("movie", true, 60)).await;
    herald.post_event(&ended("movie", false, 4000)).await;
    let got = sink.wait_for(2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sink.received().len(), 2);
    assert!(got
        .iter()
        .all(|r| r.json()["data"]["media_type"] == "movie"));

    let bad = herald
        .admin(Method::POST, "/api/v1/admin/webhooks")
        .json(&json!({"name": "bad", "url": sink.url("/"), "events": ["*"],
            "rules": {"conditions": {"any": [{"field": "media_typ", "op": "equals", "value": "movie"}]}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let error: Value = bad.json().await.unwrap();
    assert_eq!(error["field"], "rules.conditions.any[0].field", "{error}");
}

#[test]
fn check_config_names_bad_rules() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("herald.toml");
    let check = |text: &str| {
        std::fs::write(&path, text).unwrap();
        let out = std::process::Command::new(herald_tests::herald_bin())
            .args(["check-config", "--config"])
            .arg(&path)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let plugin = "[[plugins]]\nkind = \"log\"\nname = \"l\"\n";
    let (ok, err) = check(&format!(
        "{plugin}[plugins.rules.conditions]\nfield = \"year\"\nop = \"gt\"\nvalue = \"soon\"\n"
    ));
    assert!(
        !ok && err.contains("plugins[0].rules.conditions.value"),
        "{err}"
    );
    let (ok, err) = check(&format!("{plugin}[plugins.rules]\nfallback = \"nobody\"\n"));
    assert!(
        !ok && err.contains("plugins[0].rules.fallback") && err.contains("nobody"),
        "{err}"
    );
    let (ok, err) = check(&format!("{plugin}[plugins.rules.quiet_hours]\nstart = \"22:00\"\nend = \"07:00\"\ntimezone = \"Nowhere/City\"\n"));
    assert!(!ok && err.contains("timezone"), "{err}");
}

#[tokio::test]
async fn quiet_hours_hold_a_digest_or_drop() {
    let digest_sink = Sink::start().await;
    let drop_sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = format!(
        "\n[[webhooks.endpoints]]\nname = \"digest\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\nevents = [\"*\"]\n\
         [webhooks.endpoints.rules.quiet_hours]\nstart = \"22:00\"\nend = \"07:00\"\ntimezone = \"Europe/Berlin\"\n\
         \n[[webhooks.endpoints]]\nname = \"dropper\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\nevents = [\"*\"]\n\
         [webhooks.endpoints.rules.quiet_hours]\nstart = \"22:00\"\nend = \"07:00\"\ntimezone = \"Europe/Berlin\"\naction = \"drop\"\n",
        digest_sink.url("/"),
        drop_sink.url("/")
    );
    // 22:30 UTC = 23:30 in Berlin: quiet until 06:00 UTC.
    let herald = start(dir.path(), &config, "2026-01-31T22:30:00Z");
    herald
        .post_event(&json!({"event": "playback.started", "data": {"media_item_id": "a"}}))
        .await;
    herald
        .post_event(&json!({"event": "user.created", "data": {"user_id": "u"}}))
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(digest_sink.received().is_empty() && drop_sink.received().is_empty());
    advance(&herald, 7 * 3600).await; // 05:30 UTC: still quiet
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(digest_sink.received().is_empty());
    advance(&herald, 1800).await; // 06:00 UTC: the window is over
    let digest = digest_sink.wait_for(1, WAIT).await.remove(0).json();
    assert_eq!(digest["event"], "notification.digest");
    assert_eq!(digest["data"]["count"], 2);
    // After the window, events flow again to both.
    herald.post_event(&json!({"event": "app.ping"})).await;
    drop_sink.wait_for(1, WAIT).await;
    assert_eq!(drop_sink.received()[0].json()["event"], "app.ping");
}

#[tokio::test]
async fn exhausted_retries_go_to_the_fallback() {
    let primary = Sink::start().await;
    primary.set_default(Reply::status(500));
    let backup = Sink::start().await;
    let config = format!(
        "max_retries = 1\n\n[[webhooks.endpoints]]\nname = \"primary\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\nevents = [\"*\"]\n\
         [webhooks.endpoints.rules]\nfallback = \"backup\"\n\
         \n[[webhooks.endpoints]]\nname = \"backup\"\nurl = \"{}\"\nsecret = \"{SECRET}\"\nevents = [\"backup.only\"]\n",
        primary.url("/"),
        backup.url("/")
    );
    let herald = Herald::start(&format!("{TEST_CONFIG}{config}"));
    let accepted: Value = herald
        .post_event(&json!({"event": "app.ping"}))
        .await
        .json()
        .await
        .unwrap();
    let r = backup.wait_for(1, WAIT).await.remove(0);
    assert_eq!(r.json()["id"], accepted["id"]);
    assert_eq!(primary.received().len(), 2);
    let log = eventually(WAIT, || async {
        let page = herald
            .get_json("/api/v1/admin/deliveries?destination=webhook:cfg_primary")
            .await;
        let d = page["deliveries"][0].clone();
        d["note"].is_string().then_some(d)
    })
    .await;
    assert_eq!(log["status"], "failed");
    assert!(
        log["note"]
            .as_str()
            .unwrap()
            .starts_with("fell back to webhook:cfg_backup"),
        "{log}"
    );
    let fallback = herald
        .get_json("/api/v1/admin/deliveries?destination=webhook:cfg_backup")
        .await;
    assert!(fallback["deliveries"][0]["note"]
        .as_str()
        .unwrap()
        .starts_with("fallback for dlv_"));
}
