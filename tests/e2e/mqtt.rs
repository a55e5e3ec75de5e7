//! Issue 5: the MQTT plugin through the real binary, against a real
//! Mosquitto broker, watched by `mosquitto_sub` (an independent client).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use herald_tests::{Herald, TEST_CONFIG};
use serde_json::{json, Value};

struct Broker {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Broker {
    fn start() -> Broker {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().unwrap();
        // `user root`: as root (CI) Mosquitto would otherwise switch users.
        std::fs::write(
            dir.path().join("m.conf"),
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\nuser root\nlog_dest stderr\nlog_type error\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let mut broker = Broker {
            port,
            dir,
            child: None,
        };
        broker.resume();
        broker
    }

    fn resume(&mut self) {
        let child = Command::new("mosquitto")
            .env("PATH", "/usr/sbin:/usr/bin:/bin")
            .arg("-c")
            .arg(self.dir.path().join("m.conf"))
            .stdout(Stdio::null())
            .spawn()
            .expect("mosquitto (apt-get install mosquitto)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "mosquitto did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGTERM: the broker saves its sessions (persistence) and exits.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let _ = child.wait();
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Distinct client ids: two clients with one id would share a session.
static NEXT_CLIENT: AtomicUsize = AtomicUsize::new(0);

/// `mosquitto_sub` printing `topic|qos|retain|payload` per message.
struct Subscriber {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Subscriber {
    fn start(port: u16, topic: &str) -> Subscriber {
        // stdbuf: a piped stdout would be block-buffered.
        let mut child = Command::new("stdbuf")
            .args([
                "-oL",
                "mosquitto_sub",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-t",
                topic,
                "-q",
                "1",
                "-c",
                "-i",
            ])
            .arg(format!(
                "herald-e2e-{port}-{}",
                NEXT_CLIENT.fetch_add(1, Ordering::Relaxed)
            ))
            .args(["-F", "%t|%q|%r|%p"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("mosquitto_sub (apt-get install mosquitto-clients)");
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        // Let the subscription settle before anything is published.
        std::thread::sleep(Duration::from_millis(300));
        Subscriber { child, lines }
    }

    async fn wait_for(&self, n: usize) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.lines.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} messages, got {got:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn config(port: u16) -> String {
    format!(
        "{TEST_CONFIG}retry_backoff = \"200ms\"\nmax_retries = 30\nretry_max_delay = \"1s\"\n\n[[plugins]]\nkind = \"mqtt\"\nname = \"ha\"\nhost = \"127.0.0.1\"\nport = {port}\nqos = 1\nretain = true\n"
    )
    .replace("retry_backoff = \"100ms\"\n", "")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_are_published_with_topic_qos_retain_and_payload() {
    let broker = Broker::start();
    let status = Subscriber::start(broker.port, "herald/status");
    let events = Subscriber::start(broker.port, "herald/events/#");
    let herald = Herald::start(&config(broker.port));
    let accepted: Value = herald
        .post_event(&json!({"event": "playback.started", "data": {"media_item_id": "m1", "user_name": "Alice", "title": "日本語"}}))
        .await
        .json()
        .await
        .unwrap();
    let line = events.wait_for(1).await.remove(0);
    let mut parts = line.splitn(4, '|');
    assert_eq!(parts.next(), Some("herald/events/playback.started"));
    assert_eq!(parts.next(), Some("1"));
    parts.next(); // the retain flag a live subscriber sees depends on the protocol version
    let payload: Value = serde_json::from_str(parts.next().unwrap()).unwrap();
    assert_eq!(payload["id"], accepted["id"]);
    assert_eq!(payload["data"]["title"], "日本語");
    assert!(status
        .wait_for(1)
        .await
        .iter()
        .any(|l| l.ends_with("|online")));

    // Retained: a subscriber that comes later still gets the last value.
    let late = Subscriber::start(broker.port, "herald/events/playback.started");
    let line = late.wait_for(1).await.remove(0);
    assert!(
        line.starts_with("herald/events/playback.started|1|1|"),
        "{line}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_published_while_the_broker_is_down_are_not_lost() {
    let mut broker = Broker::start();
    // A persistent session (-c, QoS 1): the broker keeps what this client
    // misses while it is away, across the broker's own restart.
    let events = Subscriber::start(broker.port, "herald/events/app.during");
    let herald = Herald::start(&config(broker.port).replace("retain = true", "retain = false"));
    herald.post_event(&json!({"event": "app.warmup"})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    broker.stop();
    let mut ids = Vec::new();
    for i in 0..5 {
        let accepted: Value = herald
            .post_event(&json!({"event": "app.during", "data": {"i": i}}))
            .await
            .json()
            .await
            .unwrap();
        ids.push(accepted["id"].as_str().unwrap().to_string());
    }
    // While the broker is down the deliveries are retried, not delivered.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let log = herald
        .get_json("/api/v1/admin/deliveries?destination=plugin:ha&status=success&limit=100")
        .await;
    let during = log["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["event"] == "app.during")
        .count();
    assert_eq!(during, 0, "{log}");
    broker.resume();
    let lines = events.wait_for(5).await;
    let mut got: Vec<String> = lines
        .iter()
        .map(|l| {
            let payload: Value = serde_json::from_str(l.splitn(4, '|').nth(3).unwrap()).unwrap();
            payload["id"].as_str().unwrap().to_string()
        })
        .collect();
    got.sort();
    got.dedup();
    ids.sort();
    assert_eq!(got, ids);
}
