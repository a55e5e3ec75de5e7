//! Issue 6: media servers post their own webhooks to a per-source URL and
//! the events flow on to webhooks, signed.

use std::time::Duration;

use herald_tests::{Herald, Sink, TEST_CONFIG};
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);
const PLEX_TOKEN: &str = "plex-token-0123456789";

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/../core/tests/fixtures/sources/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn config(sink: &Sink) -> String {
    format!(
        r#"{TEST_CONFIG}
[[webhooks.endpoints]]
name = "sink"
url = "{}"
secret = "a-test-secret-of-32-characters!!"
events = ["*"]

[[sources]]
name = "living-room-plex"
type = "plex"
token = "{PLEX_TOKEN}"

[[sources]]
name = "jelly"
type = "jellyfin"
token = "jellyfin-token-0123456789"
match_user = ["alice"]
"#,
        sink.url("/hook")
    )
}

/// A Plex webhook as Plex sends it: multipart with a JSON `payload` part
/// and a JPEG `thumb` part.
fn plex_multipart(payload: &str) -> (String, Vec<u8>) {
    let boundary = "------------------------herald1234";
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"payload\"\r\nContent-Type: application/json\r\n\r\n").as_bytes());
    body.extend_from_slice(payload.as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"thumb\"; filename=\"thumb.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n").as_bytes());
    body.extend_from_slice(&[
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00, 0x2D, 0x2D, 0xFF, 0xD9,
    ]);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

#[tokio::test]
async fn a_plex_multipart_play_reaches_a_webhook_signed_with_its_title() {
    let sink = Sink::start().await;
    let herald = Herald::start(&config(&sink));
    let mut payload: Value =
        serde_json::from_str(&fixture("plex_media_stop_episode.json")).unwrap();
    payload["event"] = "media.play".into();
    let (content_type, body) = plex_multipart(&payload.to_string());
    let post = |body: Vec<u8>| {
        herald
            .http
            .post(herald.url(&format!("/api/v1/ingest/{PLEX_TOKEN}")))
            .header("content-type", content_type.clone())
            .body(body)
            .send()
    };
    let response = post(body.clone()).await.unwrap();
    assert_eq!(response.status(), 202, "{}", response.text().await.unwrap());
    let r = sink.wait_for(1, WAIT).await.remove(0);
    assert!(r
        .header("x-phlix-signature")
        .unwrap()
        .starts_with("sha256="));
    let event = r.json();
    assert_eq!(event["event"], "playback.started");
    assert_eq!(event["source"], "living-room-plex");
    assert_eq!(event["data"]["title"], payload["Metadata"]["title"]);
    assert!(event["data"]["raw"].is_object());

    // Plex repeats play events: the second one is answered 200 and dropped.
    let again = post(body).await.unwrap();
    assert_eq!(again.status(), 200);
    let answer: Value = again.json().await.unwrap();
    assert_eq!(answer["ignored"], true);
    assert!(
        answer["reason"].as_str().unwrap().contains("repeated"),
        "{answer}"
    );
}

#[tokio::test]
async fn unknown_unmapped_malformed_and_mismatched() {
    let sink = Sink::start().await;
    let herald = Herald::start(&config(&sink));
    let post = |token: &str, content_type: &str, body: String| {
        herald
            .http
            .post(herald.url(&format!("/api/v1/ingest/{token}")))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let unknown = post("not-a-token-at-all", "application/json", "{}".into())
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let unmapped = post(
        "jellyfin-token-0123456789",
        "application/json",
        json!({"NotificationType": "PluginInstalled", "NotificationUsername": "alice"}).to_string(),
    )
    .await
    .unwrap();
    assert_eq!(unmapped.status(), 200);
    assert_eq!(unmapped.json::<Value>().await.unwrap()["ignored"], true);

    let malformed = post(
        "jellyfin-token-0123456789",
        "application/json",
        "{not json".into(),
    )
    .await
    .unwrap();
    assert_eq!(malformed.status(), 400);
    assert!(malformed.text().await.unwrap().contains("jellyfin"));

    let mut bob: Value =
        serde_json::from_str(&fixture("jellyfin_playback_start_episode.json")).unwrap();
    bob["NotificationUsername"] = "bob".into();
    bob["UserId"] = "bob-id".into();
    let mismatch = post(
        "jellyfin-token-0123456789",
        "application/json",
        bob.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(mismatch.status(), 200);
    let answer: Value = mismatch.json().await.unwrap();
    assert!(
        answer["reason"].as_str().unwrap().contains("match_user"),
        "{answer}"
    );
    assert!(herald.log().contains("ingest event ignored"));

    let mut alice = bob.clone();
    alice["NotificationUsername"] = "alice".into();
    let accepted = post(
        "jellyfin-token-0123456789",
        "application/json",
        alice.to_string(),
    )
    .await
    .unwrap();
    assert_eq!(accepted.status(), 202);
    let r = sink.wait_for(1, WAIT).await.remove(0);
    assert_eq!(r.json()["source"], "jelly");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        sink.received().len(),
        1,
        "ignored events must not be delivered"
    );
}

#[test]
fn herald_sources_prints_each_ingest_url() {
    let dir = tempfile::tempdir().unwrap();
    let sink_config = config_text();
    std::fs::write(dir.path().join("herald.toml"), sink_config).unwrap();
    let out = std::process::Command::new(herald_tests::herald_bin())
        .args([
            "sources",
            "--base-url",
            "http://192.0.2.10:8787/",
            "--config",
        ])
        .arg(dir.path().join("herald.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!(
            "living-room-plex plex      http://192.0.2.10:8787/api/v1/ingest/{PLEX_TOKEN}"
        )),
        "{text}"
    );
}

fn config_text() -> String {
    format!("[[sources]]\nname = \"living-room-plex\"\ntype = \"plex\"\ntoken = \"{PLEX_TOKEN}\"\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn herald_sources_running_asks_the_admin_api() {
    let sink = Sink::start().await;
    let herald = Herald::start(&config(&sink));
    let out = tokio::task::spawn_blocking({
        let (url, token) = (herald.url(""), herald.admin_token.clone());
        move || {
            std::process::Command::new(herald_tests::herald_bin())
                .args(["sources", "--running", "--url", &url, "--token", &token])
                .args(["--base-url", "http://192.0.2.10:8787"])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&format!(
            "http://192.0.2.10:8787/api/v1/ingest/{PLEX_TOKEN}"
        )),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("jelly ")), "{text}");
}
