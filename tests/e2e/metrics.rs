//! Issue 10: Prometheus metrics at `/metrics`, scraped after real traffic.

use std::time::Duration;

use herald_tests::{eventually, Herald, Reply, Sink, TEST_CONFIG};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(20);
const METRICS_TOKEN: &str = "metrics-scrape-token";

/// The value of the sample `series` (`name{labels}`), if exposed.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_count_events_deliveries_retries_and_the_queue() {
    let ok = Sink::start().await;
    let failing = Sink::start().await;
    failing.set_default(Reply::status(503));
    // Asks for a retry in an hour: stays pending, not due.
    let later = Sink::start().await;
    later.set_default(Reply::status(503).header("retry-after", "3600"));
    let config = format!(
        r#"{TEST_CONFIG}
[[webhooks.endpoints]]
name = "ok"
url = "{ok}"
secret = "a-test-secret-of-32-characters!!"
events = ["*"]

[[webhooks.endpoints]]
name = "failing"
url = "{failing}"
secret = "a-test-secret-of-32-characters!!"
events = ["playback.*"]
max_retries = 1

[[webhooks.endpoints]]
name = "later"
url = "{later}"
secret = "a-test-secret-of-32-characters!!"
events = ["app.*"]

[[plugins]]
kind = "exec"
name = "off"
enabled = false
command = "true"

[[sources]]
name = "upstream"
type = "herald"
token = "upstream-token-0123456789"
"#,
        ok = ok.url("/ok"),
        failing = failing.url("/failing"),
        later = later.url("/later"),
    );
    // `[server]` is open in TEST_CONFIG already: the token comes from the
    // environment.
    let dir = tempfile::tempdir().unwrap().keep();
    let herald = Herald::start_in(
        &dir,
        &config,
        &[("HERALD_SERVER__METRICS_TOKEN", METRICS_TOKEN)],
    );
    for _ in 0..2 {
        let response = herald
            .post_event(&json!({"event": "playback.started", "data": {"user_id": "u1", "media_item_id": "m1"}}))
            .await;
        assert_eq!(response.status(), 202);
    }
    herald.post_event(&json!({"event": "app.deployed"})).await;
    let response = herald
        .http
        .post(herald.url("/api/v1/ingest/upstream-token-0123456789"))
        .json(&json!({"event": "library.updated", "data": {"change_type": "item_added", "media_item_id": "m2"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());

    // 4 events to `ok`; 2 playback events to `failing`, each tried twice.
    ok.wait_for(4, WAIT).await;
    failing.wait_for(4, WAIT).await;
    later.wait_for(1, WAIT).await;

    let unauthorized = herald
        .http
        .get(herald.url("/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(unauthorized.status(), 401);

    let scrape = || async {
        let response = herald
            .http
            .get(herald.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"));
        response.text().await.unwrap()
    };
    // The counters move just before the store records the attempt: wait
    // for both.
    let body = eventually(WAIT, || async {
        let body = scrape().await;
        let failed = sample(
            &body,
            r#"herald_deliveries_total{destination="webhook:cfg_failing",outcome="failed"}"#,
        );
        (failed == Some(2.0) && sample(&body, "herald_queue_pending") == Some(1.0)).then_some(body)
    })
    .await;
    let expect = |series: &str, value: f64| {
        assert_eq!(sample(&body, series), Some(value), "{series} in\n{body}");
    };
    expect(
        r#"herald_events_accepted_total{kind="playback.started",source="api"}"#,
        2.0,
    );
    expect(
        r#"herald_events_accepted_total{kind="custom",source="api"}"#,
        1.0,
    );
    expect(
        r#"herald_events_accepted_total{kind="library.updated",source="upstream"}"#,
        1.0,
    );
    expect(
        r#"herald_deliveries_total{destination="webhook:cfg_ok",outcome="success"}"#,
        4.0,
    );
    expect(
        r#"herald_delivery_retries_total{destination="webhook:cfg_failing"}"#,
        2.0,
    );
    expect(
        r#"herald_delivery_attempt_duration_seconds_count{destination="webhook:cfg_failing"}"#,
        4.0,
    );
    expect(
        r#"herald_delivery_retries_total{destination="webhook:cfg_later"}"#,
        1.0,
    );
    expect("herald_queue_pending", 1.0);
    expect("herald_queue_due", 0.0);
    expect(r#"herald_destinations_disabled{type="plugin"}"#, 1.0);
    expect(r#"herald_destinations_disabled{type="webhook"}"#, 0.0);
    assert!(body.contains("# TYPE herald_delivery_attempt_duration_seconds histogram"));
    assert!(body.ends_with("# EOF\n"), "{body}");
}
