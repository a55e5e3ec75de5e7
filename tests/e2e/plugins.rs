//! Issue 4: plugin instances from the config file, delivered through the
//! same durable queue as webhooks, to local servers standing in for the
//! services.

use std::time::Duration;

use herald_tests::{eventually, Herald, Reply, Sink, TEST_CONFIG};
use reqwest::Method;
use serde_json::{json, Value};

const WAIT: Duration = Duration::from_secs(20);

fn episode_started() -> Value {
    json!({"event": "playback.started", "data": {
        "user_id": "u1", "user_name": "Alice", "media_item_id": "m1", "media_type": "episode",
        "series": "The Expanse", "season": 2, "episode": 5, "title": "Home", "device_name": "Living Room TV"
    }})
}

#[tokio::test]
async fn discord_slack_and_telegram_receive_formatted_messages() {
    let discord = Sink::start().await;
    let slack = Sink::start().await;
    let telegram = Sink::start().await;
    telegram.set_default(Reply::status(200).body(r#"{"ok":true,"result":{"message_id":1}}"#));
    let config = format!(
        r#"{TEST_CONFIG}
[[plugins]]
kind = "discord"
name = "discord-movies"
events = ["playback.*"]
webhook_url = "{discord}"

[[plugins]]
kind = "slack"
name = "slack-all"
webhook_url = "{slack}"

[[plugins]]
kind = "telegram"
name = "telegram-family"
events = ["playback.started"]
bot_token = "123456:ABC-secret-token"
chat_id = "-100123"
api_base = "{telegram}"
"#,
        discord = discord.url("/api/webhooks/1/tok"),
        slack = slack.url("/services/T/B/X"),
        telegram = telegram.url(""),
    );
    let herald = Herald::start(&config);
    let accepted: Value = herald
        .post_event(&episode_started())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(accepted["deliveries"], 3);

    let d = discord.wait_for(1, WAIT).await.remove(0);
    assert_eq!(d.header("content-type"), Some("application/json"));
    let text = d.json().to_string();
    assert!(
        text.contains("Alice") && text.contains("The Expanse") && text.contains("S02E05"),
        "{text}"
    );
    assert_eq!(d.json()["allowed_mentions"], json!({"parse": []}));

    let s = slack.wait_for(1, WAIT).await.remove(0);
    assert!(
        s.json()["text"].as_str().unwrap().contains("The Expanse"),
        "{}",
        s.json()
    );

    let t = telegram.wait_for(1, WAIT).await.remove(0);
    assert_eq!(t.path, "/bot123456:ABC-secret-token/sendMessage");
    assert_eq!(t.json()["chat_id"], "-100123");
    assert!(t.json()["text"].as_str().unwrap().contains("Alice"));

    // The delivery log and the plugin listing know about them.
    let plugins = eventually(WAIT, || async {
        let p = herald.get_json("/api/v1/admin/plugins").await;
        let all_delivered = p["plugins"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["delivered"] == 1);
        all_delivered.then_some(p)
    })
    .await;
    let names: Vec<_> = plugins["plugins"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["discord-movies", "slack-all", "telegram-family"]);
    assert_eq!(plugins["plugins"][2]["kind"], "telegram");
    assert!(!plugins.to_string().contains("secret-token"));
    let log = herald
        .get_json("/api/v1/admin/deliveries?destination=plugin:slack-all")
        .await;
    assert_eq!(log["deliveries"][0]["status"], "success");
    assert!(
        !herald.log().contains("ABC-secret-token"),
        "the bot token reached the log"
    );
}

#[tokio::test]
async fn a_rate_limited_plugin_retries_through_the_queue() {
    let discord = Sink::start().await;
    discord.script([Reply::status(429)
        .header("content-type", "application/json")
        .body(
            r#"{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}"#,
        )]);
    let config = format!(
        "{TEST_CONFIG}\n[[plugins]]\nkind = \"discord\"\nname = \"d\"\nwebhook_url = \"{}\"\n",
        discord.url("/api/webhooks/1/tok")
    );
    let herald = Herald::start(&config);
    herald.post_event(&episode_started()).await;
    let got = discord.wait_for(2, WAIT).await;
    assert!(
        got[1].at - got[0].at >= Duration::from_millis(1500),
        "retry_after not honoured"
    );
    assert_eq!(got[0].body, got[1].body, "the retry sends the same message");
    let delivery = eventually(WAIT, || async {
        let log = herald
            .get_json("/api/v1/admin/deliveries?destination=plugin:d&status=success")
            .await;
        log["deliveries"]
            .as_array()
            .and_then(|d| d.first().cloned())
    })
    .await;
    assert_eq!(delivery["attempts"], 2);
}

#[tokio::test]
async fn plugin_test_endpoint_reports_the_outcome() {
    let slack = Sink::start().await;
    slack.script([Reply::status(404).body("no_service")]);
    let config = format!(
        "{TEST_CONFIG}\n[[plugins]]\nkind = \"slack\"\nname = \"s\"\nwebhook_url = \"{}\"\n",
        slack.url("/services/T/B/X")
    );
    let herald = Herald::start(&config);
    let test = |name: &'static str| {
        let request = herald.admin(Method::POST, &format!("/api/v1/admin/plugins/{name}/test"));
        async move { request.send().await.unwrap() }
    };
    let failed: Value = test("s").await.json().await.unwrap();
    assert_eq!(failed["success"], false);
    assert_eq!(failed["status_code"], 404);
    assert_eq!(failed["response_body"], "no_service");
    let ok: Value = test("s").await.json().await.unwrap();
    assert_eq!(ok["success"], true, "{ok}");
    let received = slack.wait_for(2, WAIT).await;
    assert!(
        received[1].json().to_string().contains("test"),
        "{}",
        received[1].json()
    );
    assert_eq!(test("missing").await.status(), 404);
}

#[tokio::test]
async fn template_overrides_from_the_config_and_files() {
    let slack = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("templates")).unwrap();
    std::fs::write(
        dir.path().join("templates/ended.hbs"),
        "{{user}} is done with {{display_title}} ({{duration}})",
    )
    .unwrap();
    let config = format!(
        "{TEST_CONFIG}\n[[plugins]]\nkind = \"slack\"\nname = \"s\"\nwebhook_url = \"{}\"\nblocks = false\n\
         [plugins.templates]\n\"playback.started\" = \"▶ {{{{user}}}} → {{{{display_title}}}}\"\n\"playback.ended\" = \"@ended.hbs\"\n",
        slack.url("/hook")
    );
    let herald = Herald::start_in(dir.path(), &config, &[]);
    herald.post_event(&episode_started()).await;
    herald
        .post_event(&json!({"event": "playback.ended", "data": {"user_name": "Bob", "media_item_id": "m", "title": "Dune", "year": 2021, "duration_seconds": 2520}}))
        .await;
    let got = slack.wait_for(2, WAIT).await;
    let texts: Vec<String> = got
        .iter()
        .map(|r| r.json()["text"].as_str().unwrap().to_string())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("▶ Alice → The Expanse S02E05")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("Bob is done with Dune (2021) (42 min)")),
        "{texts:?}"
    );
}

#[test]
fn check_config_catches_plugin_mistakes() {
    let check = |plugins: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("herald.toml"), plugins).unwrap();
        let out = std::process::Command::new(herald_tests::herald_bin())
            .args(["check-config", "--config"])
            .arg(dir.path().join("herald.toml"))
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, text) = check("[[plugins]]\nkind = \"telegram\"\nname = \"t\"\nchat_id = \"1\"\n");
    assert!(!ok && text.contains("bot_token"), "{text}");
    let (ok, text) = check("[[plugins]]\nkind = \"slack\"\nname = \"s\"\nwebhook_url = \"https://hooks.slack.com/services/x\"\n[plugins.templates]\n\"playback.started\" = \"{{#if}}\"\n");
    assert!(!ok && text.contains("playback.started"), "{text}");
    let (ok, text) = check("[[plugins]]\nkind = \"discord\"\nname = \"d\"\nwebhook_url = \"https://discord.com/api/webhooks/1/very-secret\"\n");
    assert!(ok, "{text}");
    assert!(!text.contains("very-secret"), "secret not redacted: {text}");
    let (ok, text) = check("[[plugins]]\nkind = \"slack\"\nname = \"a\"\nwebhook_url = \"https://x.example\"\n[[plugins]]\nkind = \"slack\"\nname = \"a\"\nwebhook_url = \"https://x.example\"\n");
    assert!(!ok && text.contains("plugins[1].name"), "{text}");
}
