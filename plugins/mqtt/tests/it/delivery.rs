//! Delivery against a real Mosquitto: topics, QoS, retain, the status
//! topic and last will, authentication, TLS, and a broker outage in which
//! nothing is lost.

use std::collections::BTreeSet;
use std::time::Duration;

use herald_core::{
    DeliveryContext, DeliveryReport, Event, KnownKind, Message, NotificationPlugin, Verdict,
};
use serde_json::{json, Value};

use crate::broker::{self, Broker, Subscriber};
use crate::{build, fixtures};

const WAIT: Duration = Duration::from_secs(5);

fn ctx(timeout: Duration) -> DeliveryContext {
    herald_core::testing::delivery_context(timeout)
}

/// The plugin's settings for `broker`, plus `extra`.
fn settings(broker: &Broker, extra: Value) -> Value {
    let mut settings = json!({
        "host": "127.0.0.1",
        "port": broker.port,
        "reconnect_max_secs": 1,
        "keep_alive_secs": 5,
    });
    if let (Some(s), Some(extra)) = (settings.as_object_mut(), extra.as_object()) {
        s.extend(extra.clone());
    }
    settings
}

/// A playback event numbered `n` (its id tells messages apart).
fn numbered(n: usize) -> Event {
    let mut event = fixtures::event(
        "playback.started",
        fixtures::base_data(KnownKind::PlaybackStarted),
    );
    event.id = format!("evt_{n:04}");
    event
}

async fn deliver(
    plugin: &dyn NotificationPlugin,
    event: &Event,
    timeout: Duration,
) -> DeliveryReport {
    let message = plugin.format(event).unwrap();
    plugin.deliver(&message, &ctx(timeout)).await
}

#[tokio::test]
async fn publishes_the_event_json_with_topic_and_qos_when_acknowledged() {
    let Some(broker) = broker::start("allow_anonymous true") else {
        return;
    };
    let mut sub = Subscriber::connect(&broker, "sub", "herald/events/#").await;
    for qos in [0u8, 1, 2] {
        let plugin = build(settings(
            &broker,
            json!({"qos": qos, "client_id": format!("herald-q{qos}")}),
        ))
        .unwrap();
        let event = fixtures::event(
            "library.updated",
            fixtures::base_data(KnownKind::LibraryUpdated),
        );
        let report = deliver(plugin.as_ref(), &event, WAIT).await;
        assert_eq!(report, DeliveryReport::delivered(), "qos {qos}");
        let received = sub.next(WAIT).await.expect("subscriber got the publish");
        assert_eq!(received.topic, "herald/events/library.updated");
        assert_eq!(
            received.payload.as_bytes(),
            event.to_json_bytes().as_slice()
        );
        assert_eq!(received.qos, qos);
        assert!(!received.retain, "live messages are not flagged retained");
    }
}

#[tokio::test]
async fn retained_publishes_reach_later_subscribers_flagged_retained() {
    let Some(broker) = broker::start("allow_anonymous true") else {
        return;
    };
    let plugin = build(settings(
        &broker,
        json!({"retain": true, "topic": "media/{user_id}/last"}),
    ))
    .unwrap();
    let event = fixtures::event(
        "playback.ended",
        fixtures::base_data(KnownKind::PlaybackEnded),
    );
    assert!(deliver(plugin.as_ref(), &event, WAIT).await.is_delivered());
    let mut late = Subscriber::connect(&broker, "late", "media/#").await;
    let received = late.next(WAIT).await.expect("retained message");
    assert_eq!(received.topic, "media/u1/last");
    assert!(received.retain);
    assert_eq!(received.qos, 1);
    assert_eq!(
        received.payload.as_bytes(),
        event.to_json_bytes().as_slice()
    );
}

#[tokio::test]
async fn online_on_connect_and_the_last_will_says_offline_when_the_connection_dies() {
    let Some(broker) = broker::start("allow_anonymous true") else {
        return;
    };
    let mut status = Subscriber::connect(&broker, "status", "herald/status").await;
    let plugin = build(settings(&broker, json!({}))).unwrap();
    assert!(deliver(plugin.as_ref(), &numbered(1), WAIT)
        .await
        .is_delivered());
    let online = status.next(WAIT).await.expect("online");
    assert_eq!((online.payload.as_str(), online.qos), ("online", 1));

    // Herald goes away without a DISCONNECT (the task is aborted, the
    // socket closed): the broker publishes the will.
    drop(plugin);
    let offline = status.next(WAIT).await.expect("last will");
    assert_eq!((offline.payload.as_str(), offline.qos), ("offline", 1));

    // Both are retained: a newcomer sees the latest.
    let mut newcomer = Subscriber::connect(&broker, "newcomer", "herald/status").await;
    let retained = newcomer.next(WAIT).await.expect("retained status");
    assert_eq!(
        (retained.payload.as_str(), retained.retain),
        ("offline", true)
    );
}

#[tokio::test]
async fn an_empty_status_topic_disables_status_messages() {
    let Some(broker) = broker::start("allow_anonymous true") else {
        return;
    };
    let mut status = Subscriber::connect(&broker, "status", "#").await;
    let plugin = build(settings(&broker, json!({"status_topic": ""}))).unwrap();
    assert!(deliver(plugin.as_ref(), &numbered(1), WAIT)
        .await
        .is_delivered());
    drop(plugin);
    let all = status.drain(Duration::from_millis(500)).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0].topic, "herald/events/playback.started");
}

#[tokio::test]
async fn while_the_broker_is_down_deliveries_retry_and_nothing_is_lost() {
    let Some(mut broker) = broker::start("allow_anonymous true") else {
        return;
    };
    let mut sub = Subscriber::connect(&broker, "sub", "herald/events/#").await;
    let plugin = build(settings(&broker, json!({}))).unwrap();
    let timeout = Duration::from_millis(800);

    for n in 0..3 {
        assert!(deliver(plugin.as_ref(), &numbered(n), WAIT)
            .await
            .is_delivered());
    }

    broker.stop();
    // The host's queue: what failed is kept for later.
    let mut queue = Vec::new();
    for n in 3..6 {
        let report = deliver(plugin.as_ref(), &numbered(n), timeout).await;
        assert!(
            matches!(report.verdict, Verdict::Retry { .. }),
            "delivery {n} while the broker is down: {report:?}"
        );
        // Usually "not connected"; a publish written just as the broker
        // died is "not acknowledged". Neither counts as delivered.
        let error = report.error.unwrap_or_default();
        assert!(
            error.contains("not connected") || error.contains("did not acknowledge"),
            "{error}"
        );
        queue.push(n);
    }

    broker.resume().unwrap();
    sub.wait_subscribed(2).await;
    // Redeliver until everything is acknowledged, as the host's retries do.
    for _attempt in 0..40 {
        if queue.is_empty() {
            break;
        }
        let n = queue[0];
        if deliver(plugin.as_ref(), &numbered(n), timeout)
            .await
            .is_delivered()
        {
            queue.remove(0);
        }
    }
    assert!(queue.is_empty(), "still not delivered: {queue:?}");
    for n in 6..8 {
        assert!(deliver(plugin.as_ref(), &numbered(n), WAIT)
            .await
            .is_delivered());
    }

    let ids: BTreeSet<String> = sub
        .drain(Duration::from_millis(700))
        .await
        .into_iter()
        .map(|m| {
            let event: Value = serde_json::from_str(&m.payload).unwrap();
            event["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let expected: BTreeSet<String> = (0..8).map(|n| format!("evt_{n:04}")).collect();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn a_publish_the_broker_does_not_acknowledge_in_time_is_a_retry() {
    let Some(broker) = broker::start("allow_anonymous true") else {
        return;
    };
    let mut sub = Subscriber::connect(&broker, "sub", "herald/events/#").await;
    let plugin = build(settings(&broker, json!({"qos": 1}))).unwrap();
    assert!(deliver(plugin.as_ref(), &numbered(1), WAIT)
        .await
        .is_delivered());
    assert!(sub.next(WAIT).await.is_some());

    // Frozen broker: the connection is up, the publish is written, no PUBACK.
    broker.signal("-STOP");
    let report = deliver(plugin.as_ref(), &numbered(2), Duration::from_millis(600)).await;
    broker.signal("-CONT");
    assert!(
        matches!(report.verdict, Verdict::Retry { .. }),
        "{report:?}"
    );
    assert!(
        report
            .error
            .unwrap_or_default()
            .contains("did not acknowledge"),
        "unacknowledged publishes are not delivered"
    );
    // The broker got it after all; the host's retry may deliver it twice,
    // which QoS 1 allows.
    let late = sub
        .next(WAIT)
        .await
        .expect("published once the broker thawed");
    assert!(late.payload.contains("evt_0002"));
    assert!(deliver(plugin.as_ref(), &numbered(3), WAIT)
        .await
        .is_delivered());
}

#[tokio::test]
async fn a_qos2_publish_counts_once_complete() {
    let Some(broker) = broker::start("allow_anonymous true") else {
        return;
    };
    let mut sub = Subscriber::connect(&broker, "sub", "herald/events/#").await;
    let plugin = build(settings(&broker, json!({"qos": 2}))).unwrap();
    for n in 0..20 {
        assert!(deliver(plugin.as_ref(), &numbered(n), WAIT)
            .await
            .is_delivered());
    }
    let received = sub.drain(Duration::from_millis(500)).await;
    assert_eq!(received.len(), 20);
    assert!(received.iter().all(|m| m.qos == 2));
}

#[tokio::test]
async fn concurrent_deliveries_are_each_matched_to_their_acknowledgement() {
    let Some(broker) = broker::start("allow_anonymous true") else {
        return;
    };
    let mut sub = Subscriber::connect(&broker, "sub", "herald/events/#").await;
    let plugin: std::sync::Arc<dyn NotificationPlugin> =
        build(settings(&broker, json!({"qos": 1}))).unwrap().into();
    let mut tasks = Vec::new();
    for n in 0..150 {
        let plugin = plugin.clone();
        tasks.push(tokio::spawn(async move {
            deliver(plugin.as_ref(), &numbered(n), WAIT).await
        }));
    }
    for task in tasks {
        assert!(task.await.unwrap().is_delivered());
    }
    let received = sub.drain(Duration::from_millis(500)).await;
    assert_eq!(received.len(), 150);
}

#[tokio::test]
async fn a_publish_over_max_packet_size_is_rejected() {
    let Some(broker) = broker::start("allow_anonymous true") else {
        return;
    };
    let plugin = build(settings(&broker, json!({"max_packet_size": 2048}))).unwrap();
    let mut data = fixtures::base_data(KnownKind::LibraryUpdated);
    data.insert("overview".into(), json!(fixtures::long_text()));
    let event = fixtures::event("library.updated", data);
    let report = deliver(plugin.as_ref(), &event, WAIT).await;
    assert_eq!(report.verdict, Verdict::Reject);
    assert!(report.error.unwrap().contains("max_packet_size"));
    // The connection is unharmed.
    assert!(deliver(plugin.as_ref(), &numbered(1), WAIT)
        .await
        .is_delivered());
}

#[tokio::test]
async fn username_and_password_log_in_and_a_wrong_password_retries_without_leaking() {
    let Some(mut broker) = broker::start("") else {
        return;
    };
    // Restart with authentication.
    broker.stop();
    let passwords = broker.path("passwd");
    if let Err(reason) = broker::password_file(&passwords, "herald", "c0rrect-h0rse") {
        eprintln!("SKIPPED: {reason}");
        return;
    }
    broker.configure(&format!(
        "allow_anonymous false\npassword_file {}",
        passwords.display()
    ));
    broker.resume().unwrap();

    let good = build(settings(
        &broker,
        json!({"username": "herald", "password": "c0rrect-h0rse", "client_id": "good"}),
    ))
    .unwrap();
    assert!(deliver(good.as_ref(), &numbered(1), WAIT)
        .await
        .is_delivered());

    let bad = build(settings(
        &broker,
        json!({"username": "herald", "password": "wr0ng-batt3ry", "client_id": "bad"}),
    ))
    .unwrap();
    let report = deliver(bad.as_ref(), &numbered(2), Duration::from_millis(800)).await;
    assert!(
        matches!(report.verdict, Verdict::Retry { .. }),
        "{report:?}"
    );
    let error = report.error.unwrap();
    assert!(error.contains("refused"), "{error}");
    assert!(!error.contains("wr0ng-batt3ry"), "{error}");
}

/// Generates a CA and a server certificate for 127.0.0.1 with openssl, or
/// says why not.
fn make_certificates(dir: &std::path::Path) -> Result<(), String> {
    let run = |args: &[&str]| -> Result<(), String> {
        let status = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .map_err(|e| format!("openssl not available ({e})"))?;
        if status.success() {
            Ok(())
        } else {
            Err(format!("openssl {args:?} failed"))
        }
    };
    std::fs::write(dir.join("san.ext"), "subjectAltName=IP:127.0.0.1\n")
        .map_err(|e| e.to_string())?;
    run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        "/CN=Herald Test CA",
    ])?;
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ])?;
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
    ])?;
    run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "client.key",
        "-out",
        "client.csr",
        "-subj",
        "/CN=herald",
    ])?;
    run(&[
        "x509",
        "-req",
        "-in",
        "client.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-out",
        "client.pem",
    ])?;
    Ok(())
}

#[tokio::test]
async fn tls_with_a_private_ca_and_a_client_certificate() {
    let Some(mut broker) = broker::start("allow_anonymous true") else {
        return;
    };
    broker.stop();
    let dir = broker.dir.path().to_owned();
    if let Err(reason) = make_certificates(&dir) {
        eprintln!("SKIPPED: {reason}");
        return;
    }
    broker.configure(&format!(
        "allow_anonymous true\ncafile {d}/ca.pem\ncertfile {d}/server.pem\n\
         keyfile {d}/server.key\nrequire_certificate true",
        d = dir.display()
    ));
    broker.resume().unwrap();

    let tls = build(settings(
        &broker,
        json!({"tls": {
            "ca_file": dir.join("ca.pem"),
            "client_cert_file": dir.join("client.pem"),
            "client_key_file": dir.join("client.key"),
        }}),
    ))
    .unwrap();
    let report = deliver(tls.as_ref(), &numbered(1), WAIT).await;
    assert!(report.is_delivered(), "{report:?}");

    // Without the client certificate the broker refuses the handshake.
    let anonymous = build(settings(
        &broker,
        json!({"client_id": "anon", "tls": {"ca_file": dir.join("ca.pem")}}),
    ))
    .unwrap();
    let report = deliver(anonymous.as_ref(), &numbered(2), Duration::from_millis(800)).await;
    assert!(
        matches!(report.verdict, Verdict::Retry { .. }),
        "{report:?}"
    );
}

#[tokio::test]
async fn only_publish_messages_are_delivered() {
    let plugin = build(json!({"host": "127.0.0.1", "port": 9})).unwrap();
    let message = Message::Http(herald_core::HttpRequest::post_json("http://x", json!({})));
    let report = plugin.deliver(&message, &ctx(WAIT)).await;
    assert_eq!(report.verdict, Verdict::Reject);
}
