//! A real Mosquitto broker per test, on a free 127.0.0.1 port, with a
//! generated config file; and a subscriber that records what it receives.
//!
//! Mosquitto comes from Debian (`apt-get install -y mosquitto
//! mosquitto-clients`); `MOSQUITTO=/path/to/mosquitto` overrides the lookup.
//! Without it the broker tests print why and pass without running.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::sync::{mpsc, watch};

/// Finds the mosquitto binary, or says why not.
pub fn mosquitto_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("MOSQUITTO") {
        return Ok(PathBuf::from(path));
    }
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join("mosquitto"))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            "mosquitto not found (apt-get install -y mosquitto mosquitto-clients); \
             skipping broker test"
                .to_owned()
        })
}

/// Starts a broker with `extra` config lines, or prints why it cannot and
/// returns `None` (the caller returns early: a clean skip).
pub fn start(extra: &str) -> Option<Broker> {
    match Broker::start(extra) {
        Ok(broker) => Some(broker),
        Err(reason) => {
            eprintln!("SKIPPED: {reason}");
            None
        }
    }
}

/// A running Mosquitto, killed on drop.
pub struct Broker {
    binary: PathBuf,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// Scratch directory for its config and any files the test writes.
    pub dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Broker {
    fn start(extra: &str) -> Result<Broker, String> {
        let binary = mosquitto_binary()?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let mut broker = Broker {
            binary,
            port: free_port(),
            dir,
            child: None,
        };
        broker.configure(extra);
        broker.resume()?;
        Ok(broker)
    }

    /// Writes the config file: the listener, then `extra` lines. Takes
    /// effect at the next [`resume`](Self::resume).
    pub fn configure(&self, extra: &str) {
        // `user root`: started as root (CI), Mosquitto would otherwise drop
        // to the `mosquitto` user, who cannot read the test's private
        // scratch directory. Without root it has no effect.
        let config = format!(
            "listener {} 127.0.0.1\npersistence false\nuser root\nlog_dest stderr\nlog_type error\n{extra}\n",
            self.port
        );
        std::fs::write(self.dir.path().join("mosquitto.conf"), config).expect("write config");
    }

    /// A path inside the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts (again) on the same port and waits until it accepts
    /// connections.
    pub fn resume(&mut self) -> Result<(), String> {
        let child = Command::new(&self.binary)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.binary.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(|c| c.try_wait()) {
                return Err(format!("mosquitto exited at start: {status}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("mosquitto did not start listening".into())
    }

    /// Kills the broker (no goodbye to clients) and waits for it to exit.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) the broker: connections
    /// stay open but nothing is answered.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("broker running").id();
        let status = Command::new("kill")
            .args([signal, &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {pid} failed");
    }

    /// Options for a test client of this broker.
    pub fn options(&self, client_id: &str) -> MqttOptions {
        let mut options = MqttOptions::new(client_id, "127.0.0.1", self.port);
        options.set_keep_alive(Duration::from_secs(5));
        options
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    herald_core::testing::closed_address().port()
}

/// Writes a Mosquitto password file with one user.
pub fn password_file(path: &Path, user: &str, password: &str) -> Result<(), String> {
    let status = Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(path)
        .args([user, password])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("mosquitto_passwd not available ({e})"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("mosquitto_passwd failed: {status}"))
    }
}

/// One received publish.
#[derive(Clone, Debug, PartialEq)]
pub struct Received {
    /// Topic.
    pub topic: String,
    /// Payload as text.
    pub payload: String,
    /// QoS as delivered (the subscription asks for 2, so it is the
    /// publisher's).
    pub qos: u8,
    /// Whether it came as a retained message.
    pub retain: bool,
}

/// A subscriber that re-subscribes after every reconnection.
pub struct Subscriber {
    rx: mpsc::UnboundedReceiver<Received>,
    subscribed: watch::Receiver<u32>,
    _client: AsyncClient,
    task: tokio::task::JoinHandle<()>,
}

impl Subscriber {
    /// Connects, subscribes to `filter` with QoS 2 and waits for the SUBACK.
    pub async fn connect(broker: &Broker, client_id: &str, filter: &str) -> Subscriber {
        let (client, mut eventloop) = AsyncClient::new(broker.options(client_id), 64);
        let (tx, rx) = mpsc::unbounded_channel();
        let (sub_tx, subscribed) = watch::channel(0u32);
        let resubscribe = client.clone();
        let filter = filter.to_owned();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = resubscribe.try_subscribe(filter.as_str(), QoS::ExactlyOnce);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        sub_tx.send_modify(|n| *n += 1);
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        let _ = tx.send(Received {
                            topic: p.topic.clone(),
                            payload: String::from_utf8_lossy(&p.payload).into_owned(),
                            qos: p.qos as u8,
                            retain: p.retain,
                        });
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        let mut subscriber = Subscriber {
            rx,
            subscribed,
            _client: client,
            task,
        };
        subscriber.wait_subscribed(1).await;
        subscriber
    }

    /// Waits until the subscription was acknowledged `count` times in all
    /// (one more after each broker restart).
    pub async fn wait_subscribed(&mut self, count: u32) {
        tokio::time::timeout(
            Duration::from_secs(15),
            self.subscribed.wait_for(|n| *n >= count),
        )
        .await
        .expect("subscription acknowledged in time")
        .expect("subscriber running");
    }

    /// The next message, or `None` after `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Received> {
        tokio::time::timeout(wait, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// Everything that arrives within `wait` of the last message.
    pub async fn drain(&mut self, wait: Duration) -> Vec<Received> {
        let mut all = Vec::new();
        while let Some(message) = self.next(wait).await {
            all.push(message);
        }
        all
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}
