use herald_core::{Event, EventKind, EventPatterns, PayloadFilter};
use herald_host::config::Durability;
use herald_host::store::*;

fn webhook(id: &str, name: &str) -> Webhook {
    Webhook {
        id: id.into(),
        name: name.into(),
        url: "https://hooks.example.com/x".into(),
        secret: "0123456789abcdef".into(),
        signature: SignatureScheme::Phlix,
        events: EventPatterns::any(),
        filters: PayloadFilter::accept_all(),
        active: true,
        origin: Origin::Api,
        max_retries: None,
        body_template: None,
        rules: Default::default(),
        total_failures: 0,
        consecutive_failures: 0,
        disabled_reason: None,
        last_status: None,
        last_status_code: None,
        last_delivery_at: None,
        created_at: 1,
        updated_at: 1,
    }
}

fn event() -> Event {
    Event::new(EventKind::parse("app.ping").unwrap(), Default::default())
}

fn delivery(id: &str, webhook: &str, leased_until: Option<Millis>) -> NewDelivery {
    NewDelivery {
        id: id.into(),
        destination: Destination::Webhook(webhook.into()),
        leased_until,
        hold: None,
        note: None,
    }
}

fn failed_attempt(id: &str, number: u32, next: NextStep) -> AttemptRecord {
    AttemptRecord {
        delivery_id: id.into(),
        destination: Destination::Webhook("wh_a".into()),
        attempt: Attempt {
            number,
            started_at: 0,
            duration_ms: 3,
            status_code: Some(500),
            error: Some("HTTP 500".into()),
            response_body: Some("boom".into()),
            outcome: "failed".into(),
        },
        next,
        disable_after: 2,
    }
}

#[tokio::test]
async fn events_deliveries_and_leases_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let e = event();
    {
        let store = SqliteStore::open(&path, Durability::Process).unwrap();
        store.create_webhook(webhook("wh_a", "a")).await.unwrap();
        let inserted = store
            .insert_event(
                &e,
                e.to_json_bytes(),
                vec![
                    delivery("dlv_1", "wh_a", Some(i64::MAX / 2)),
                    delivery("dlv_2", "wh_a", None),
                ],
            )
            .await
            .unwrap();
        assert!(inserted);
        // The same id again stores nothing.
        assert!(!store
            .insert_event(&e, e.to_json_bytes(), vec![delivery("dlv_3", "wh_a", None)])
            .await
            .unwrap());
        // Only the unleased one is due.
        let claimed = store
            .claim_due(now_millis(), 10, now_millis() + 60_000)
            .await
            .unwrap();
        assert_eq!(
            claimed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            ["dlv_2"]
        );
        assert_eq!(claimed[0].event_body, e.to_json_bytes());
        assert!(store
            .claim_due(now_millis(), 10, now_millis() + 60_000)
            .await
            .unwrap()
            .is_empty());
    }
    // A new process: every lease is released and both are due again.
    let store = SqliteStore::open(&path, Durability::Power).unwrap();
    assert_eq!(store.release_leases(now_millis()).await.unwrap(), 2);
    let claimed = store
        .claim_due(now_millis(), 10, now_millis() + 60_000)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(
        store.event_body(&e.id).await.unwrap().unwrap(),
        e.to_json_bytes()
    );
}

#[tokio::test]
async fn attempts_counters_and_auto_disable() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("h.db"), Durability::Process).unwrap();
    store.create_webhook(webhook("wh_a", "a")).await.unwrap();
    for id in ["dlv_1", "dlv_2"] {
        let e = event();
        store
            .insert_event(&e, e.to_json_bytes(), vec![delivery(id, "wh_a", None)])
            .await
            .unwrap();
    }
    let effect = store
        .record_attempt(failed_attempt(
            "dlv_1",
            1,
            NextStep::RetryAt(now_millis() + 1000),
        ))
        .await
        .unwrap();
    assert!(!effect.webhook_disabled);
    let effect = store
        .record_attempt(failed_attempt("dlv_1", 2, NextStep::Failed))
        .await
        .unwrap();
    assert!(!effect.webhook_disabled);
    let w = store.webhook("wh_a").await.unwrap().unwrap();
    assert_eq!(
        (w.total_failures, w.consecutive_failures, w.active),
        (1, 1, true)
    );
    let effect = store
        .record_attempt(failed_attempt("dlv_2", 1, NextStep::Failed))
        .await
        .unwrap();
    assert!(effect.webhook_disabled);
    let w = store.webhook("wh_a").await.unwrap().unwrap();
    assert_eq!(
        (w.total_failures, w.consecutive_failures, w.active),
        (2, 2, false)
    );
    assert!(w.disabled_reason.unwrap().contains("2 consecutive"));

    let attempts = store.attempts("dlv_1").await.unwrap();
    assert_eq!(
        attempts.iter().map(|a| a.number).collect::<Vec<_>>(),
        [1, 2]
    );
    let d = store.delivery("dlv_1").await.unwrap().unwrap();
    assert_eq!(
        (d.status, d.attempts, d.last_status_code),
        (DeliveryStatus::Failed, 2, Some(500))
    );

    // Manual retry makes it pending and due; a pending one cannot be requeued.
    let d = store.requeue("dlv_1", now_millis()).await.unwrap().unwrap();
    assert_eq!(d.status, DeliveryStatus::Pending);
    assert!(store.requeue("dlv_1", now_millis()).await.is_err());
    assert!(store
        .requeue("dlv_missing", now_millis())
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store.queue_depth(now_millis() + 1).await.unwrap(),
        QueueDepth { pending: 1, due: 1 }
    );
}

#[tokio::test]
async fn listing_is_newest_first_and_paginated() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("h.db"), Durability::Process).unwrap();
    store.create_webhook(webhook("wh_a", "a")).await.unwrap();
    let ids: Vec<String> = (0..7).map(|i| format!("dlv_{i:02}")).collect();
    for id in &ids {
        let e = event();
        store
            .insert_event(&e, e.to_json_bytes(), vec![delivery(id, "wh_a", None)])
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .deliveries(DeliveryQuery {
                destination: Some(Destination::Webhook("wh_a".into())),
                status: None,
                before: before.clone(),
                limit: 3,
            })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        before = page.last().map(|d| d.id.clone());
        seen.extend(page.into_iter().map(|d| d.id));
    }
    let mut expected = ids.clone();
    expected.reverse();
    assert_eq!(seen, expected);
    let failed = store
        .deliveries(DeliveryQuery {
            status: Some(DeliveryStatus::Failed),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(failed.is_empty());
}

#[tokio::test]
async fn names_are_unique_and_config_webhooks_sync() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("h.db"), Durability::Process).unwrap();
    store.create_webhook(webhook("wh_a", "same")).await.unwrap();
    let err = store
        .create_webhook(webhook("wh_b", "same"))
        .await
        .unwrap_err();
    assert!(matches!(err, herald_host::Error::Conflict(_)), "{err}");

    let mut cfg = webhook("cfg_ops", "ops");
    cfg.origin = Origin::Config;
    store.sync_config_webhooks(vec![cfg.clone()]).await.unwrap();
    cfg.url = "https://changed.example.com/".into();
    store.sync_config_webhooks(vec![cfg]).await.unwrap();
    let all = store.webhooks().await.unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(
        store.webhook("cfg_ops").await.unwrap().unwrap().url,
        "https://changed.example.com/"
    );
    store.sync_config_webhooks(vec![]).await.unwrap();
    assert!(store.webhook("cfg_ops").await.unwrap().is_none());
    assert!(store.delete_webhook("wh_a").await.unwrap());
    assert!(!store.delete_webhook("wh_a").await.unwrap());
}
