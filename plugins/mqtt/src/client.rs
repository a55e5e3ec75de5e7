//! The broker connection: one long-lived rumqttc client per instance, its
//! event loop in a background task, and broker acknowledgements matched to
//! the publishes waiting for them.
//!
//! # Matching acknowledgements
//!
//! rumqttc assigns packet ids inside its event loop and does not return
//! them from `publish`. Every publish therefore goes through
//! [`Connection::send`], which queues a waiter and hands the publish to the
//! client under one lock, so waiters are in the order the event loop reads
//! requests. The event loop reports each request it writes as
//! `Outgoing::Publish(pkid)` (or `Outgoing::AwaitAck(pkid)` when the id is
//! still taken), in that order; that is where a waiter learns its packet
//! id, and `PubAck` (QoS 1) or `PubComp` (QoS 2) with that id resolves it.
//!
//! After a reconnection rumqttc sends unacknowledged publishes again with
//! their old ids before anything new; such a resend is recognised because
//! its id still has a waiter expecting the first acknowledgement (a new
//! publish can only get an id whose acknowledgement arrived, or it waits in
//! `AwaitAck`).
//!
//! # While the broker is away
//!
//! A publish is only handed to the client while it is connected; otherwise
//! [`Connection::send`] waits for the connection until its deadline and
//! then reports a retryable failure, so nothing piles up in the client to
//! be sent twice later. A publish that was handed over but not acknowledged
//! before the deadline is retryable too: the host delivers it again later,
//! and the broker may then see it twice (MQTT's "at least once").

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Outgoing, Packet, QoS};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// First wait before reconnecting; doubles up to the configured maximum.
const MIN_BACKOFF: Duration = Duration::from_millis(100);

/// How many publishes may wait in the client's request channel.
const REQUEST_CAPACITY: usize = 256;

/// What the connection task reports about the link.
#[derive(Clone, Debug, PartialEq)]
pub enum LinkState {
    /// Not connected yet.
    Connecting,
    /// Connected (CONNACK received).
    Connected,
    /// The last attempt failed (the error, free of credentials).
    Down(String),
}

/// Why a publish did not count as delivered. Every case is retryable: the
/// message itself is fine, the broker is not there or did not answer.
#[derive(Debug, PartialEq)]
pub struct SendFailure(pub String);

/// A retained status message published on every (re)connection.
#[derive(Clone, Debug)]
pub struct OnConnect {
    /// Topic.
    pub topic: String,
    /// Payload.
    pub payload: String,
}

/// One instance's broker connection. Dropping it ends the connection task
/// without a DISCONNECT, so the broker publishes the last will.
pub struct Connection {
    client: AsyncClient,
    acks: Arc<Mutex<Acks>>,
    link: watch::Receiver<LinkState>,
    task: JoinHandle<()>,
}

impl Connection {
    /// Starts the connection task. Must be called inside a tokio runtime.
    pub fn spawn(
        options: MqttOptions,
        on_connect: Option<OnConnect>,
        reconnect_max: Duration,
    ) -> Connection {
        let (client, eventloop) = AsyncClient::new(options, REQUEST_CAPACITY);
        let acks = Arc::new(Mutex::new(Acks::default()));
        let (link_tx, link) = watch::channel(LinkState::Connecting);
        let task = tokio::spawn(run(
            eventloop,
            client.clone(),
            acks.clone(),
            link_tx,
            on_connect,
            reconnect_max.max(MIN_BACKOFF),
        ));
        Connection {
            client,
            acks,
            link,
            task,
        }
    }

    /// The link's current state.
    pub fn state(&self) -> LinkState {
        self.link.borrow().clone()
    }

    /// Publishes and waits, until `deadline`, for the connection and then
    /// for the broker's acknowledgement (QoS 1 and 2) or for the client to
    /// write it (QoS 0).
    pub async fn send(
        &self,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        deadline: Instant,
    ) -> Result<(), SendFailure> {
        let mut link = self.link.clone();
        let connected = tokio::time::timeout_at(
            deadline,
            link.wait_for(|state| *state == LinkState::Connected),
        )
        .await
        // Drop the borrow of the state before the next await.
        .map(|waited| waited.map(|_| ()));
        match connected {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return Err(SendFailure("the connection task has stopped".into())),
            Err(_) => {
                return Err(SendFailure(match self.state() {
                    LinkState::Down(error) => format!("not connected to the broker: {error}"),
                    _ => "not connected to the broker yet".into(),
                }))
            }
        }
        let waiter = enqueue(&self.acks, &self.client, topic, payload, qos, retain)?;
        match tokio::time::timeout_at(deadline, waiter).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(SendFailure("the connection task has stopped".into())),
            Err(_) => Err(SendFailure(match qos {
                QoS::AtMostOnce => "the client did not send the publish in time".into(),
                _ => "the broker did not acknowledge the publish in time".into(),
            })),
        }
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Queues a waiter and hands the publish to the client, atomically so the
/// waiters stay in request order. `None` waiters are the connection's own
/// status publishes.
fn enqueue(
    acks: &Mutex<Acks>,
    client: &AsyncClient,
    topic: &str,
    payload: &[u8],
    qos: QoS,
    retain: bool,
) -> Result<oneshot::Receiver<()>, SendFailure> {
    let (tx, rx) = oneshot::channel();
    let mut acks = lock(acks);
    acks.queue.push_back(Some(tx));
    if let Err(e) = client.try_publish(topic, qos, retain, payload.to_vec()) {
        acks.queue.pop_back();
        return Err(SendFailure(format!("the client refused the publish: {e}")));
    }
    Ok(rx)
}

fn lock(acks: &Mutex<Acks>) -> MutexGuard<'_, Acks> {
    // A panic while holding the lock cannot leave `Acks` half-updated in a
    // way that matters more than losing it; keep going.
    acks.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Waiters for broker acknowledgements.
#[derive(Default)]
struct Acks {
    /// Handed to the client, not yet written by the event loop, in order.
    queue: VecDeque<Option<oneshot::Sender<()>>>,
    /// Written, waiting for an acknowledgement, by packet id. Usually one
    /// entry per id; a QoS 2 publish waiting for PUBCOMP frees its id for
    /// the next publish, hence the list.
    inflight: HashMap<u16, Vec<Inflight>>,
    /// A publish whose packet id was still taken (`AwaitAck`); rumqttc
    /// sends it when that id is acknowledged.
    collided: Option<(u16, Inflight)>,
}

struct Inflight {
    waiter: Option<oneshot::Sender<()>>,
    stage: Stage,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Stage {
    /// Waiting for PUBACK (QoS 1) or PUBREC (QoS 2); the QoS is not known
    /// here, so the first of them moves the entry on.
    FirstAck,
    /// QoS 2 after PUBREC: waiting for PUBCOMP.
    Complete,
}

impl Acks {
    fn on_sent(&mut self, pkid: u16) {
        if pkid == 0 {
            // QoS 0: written to the connection, that is all it gets.
            let waiter = self.pop_queued();
            resolve(waiter);
            return;
        }
        if let Some((id, _)) = &self.collided {
            if *id == pkid {
                if let Some((_, entry)) = self.collided.take() {
                    self.inflight.entry(pkid).or_default().push(entry);
                }
                return;
            }
        }
        let entries = self.inflight.entry(pkid).or_default();
        if entries.iter().any(|e| e.stage == Stage::FirstAck) {
            // A resend after reconnection: the waiter is already here.
            return;
        }
        let waiter = self.pop_queued();
        self.inflight.entry(pkid).or_default().push(Inflight {
            waiter,
            stage: Stage::FirstAck,
        });
    }

    fn on_collision(&mut self, pkid: u16) {
        let waiter = self.pop_queued();
        self.collided = Some((
            pkid,
            Inflight {
                waiter,
                stage: Stage::FirstAck,
            },
        ));
    }

    fn on_puback(&mut self, pkid: u16) {
        if let Some(entry) = self.take(pkid, Stage::FirstAck) {
            resolve(entry.waiter);
        }
    }

    fn on_pubrec(&mut self, pkid: u16) {
        if let Some(entries) = self.inflight.get_mut(&pkid) {
            if let Some(entry) = entries.iter_mut().find(|e| e.stage == Stage::FirstAck) {
                entry.stage = Stage::Complete;
            }
        }
    }

    fn on_pubcomp(&mut self, pkid: u16) {
        if let Some(entry) = self.take(pkid, Stage::Complete) {
            resolve(entry.waiter);
        }
    }

    fn take(&mut self, pkid: u16, stage: Stage) -> Option<Inflight> {
        let entries = self.inflight.get_mut(&pkid)?;
        let index = entries.iter().position(|e| e.stage == stage)?;
        let entry = entries.remove(index);
        if entries.is_empty() {
            self.inflight.remove(&pkid);
        }
        Some(entry)
    }

    fn pop_queued(&mut self) -> Option<oneshot::Sender<()>> {
        match self.queue.pop_front() {
            Some(waiter) => waiter,
            None => {
                tracing::warn!("MQTT publish written without a queued waiter");
                None
            }
        }
    }
}

fn resolve(waiter: Option<oneshot::Sender<()>>) {
    if let Some(waiter) = waiter {
        // The sender may have given up already; the ack is still welcome.
        let _ = waiter.send(());
    }
}

/// The connection task: polls the event loop forever, reconnecting with
/// backoff, and feeds acknowledgements to the waiters.
async fn run(
    mut eventloop: EventLoop,
    client: AsyncClient,
    acks: Arc<Mutex<Acks>>,
    link: watch::Sender<LinkState>,
    on_connect: Option<OnConnect>,
    reconnect_max: Duration,
) {
    let mut backoff = MIN_BACKOFF;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = MIN_BACKOFF;
                tracing::info!(broker = %broker(&eventloop), "MQTT connected");
                if let Some(status) = &on_connect {
                    let mut acks = lock(&acks);
                    acks.queue.push_back(None);
                    let sent = client.try_publish(
                        status.topic.as_str(),
                        QoS::AtLeastOnce,
                        true,
                        status.payload.as_bytes().to_vec(),
                    );
                    if let Err(e) = sent {
                        acks.queue.pop_back();
                        tracing::warn!(error = %e, "MQTT status publish not queued");
                    }
                }
                link.send_replace(LinkState::Connected);
            }
            Ok(Event::Outgoing(Outgoing::Publish(pkid))) => lock(&acks).on_sent(pkid),
            Ok(Event::Outgoing(Outgoing::AwaitAck(pkid))) => lock(&acks).on_collision(pkid),
            Ok(Event::Incoming(Packet::PubAck(ack))) => lock(&acks).on_puback(ack.pkid),
            Ok(Event::Incoming(Packet::PubRec(rec))) => lock(&acks).on_pubrec(rec.pkid),
            Ok(Event::Incoming(Packet::PubComp(comp))) => lock(&acks).on_pubcomp(comp.pkid),
            Ok(_) => {}
            Err(error) => {
                let error = error.to_string();
                // Warn once per outage, not on every attempt.
                let first_failure = !matches!(*link.borrow(), LinkState::Down(_));
                if first_failure {
                    tracing::warn!(broker = %broker(&eventloop), %error, "MQTT connection failed; reconnecting");
                } else {
                    tracing::debug!(broker = %broker(&eventloop), %error, retry_in = ?backoff, "MQTT reconnection failed");
                }
                link.send_replace(LinkState::Down(error));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(reconnect_max);
            }
        }
    }
}

fn broker(eventloop: &EventLoop) -> String {
    let (host, port) = eventloop.mqtt_options.broker_address();
    format!("{host}:{port}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn queued(acks: &mut Acks) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        acks.queue.push_back(Some(tx));
        rx
    }

    fn done(rx: &mut oneshot::Receiver<()>) -> bool {
        rx.try_recv().is_ok()
    }

    #[test]
    fn qos1_resolves_on_puback_of_its_own_id() {
        let mut acks = Acks::default();
        let mut a = queued(&mut acks);
        let mut b = queued(&mut acks);
        acks.on_sent(1);
        acks.on_sent(2);
        acks.on_puback(2);
        assert!(!done(&mut a));
        assert!(done(&mut b));
        acks.on_puback(1);
        assert!(done(&mut a));
        assert!(acks.inflight.is_empty());
    }

    #[test]
    fn qos0_resolves_when_written() {
        let mut acks = Acks::default();
        let mut a = queued(&mut acks);
        acks.on_sent(0);
        assert!(done(&mut a));
    }

    #[test]
    fn resend_after_reconnect_keeps_the_waiter_and_the_queue() {
        let mut acks = Acks::default();
        let mut a = queued(&mut acks);
        acks.on_sent(1);
        let mut b = queued(&mut acks);
        // Reconnected: 1 is sent again, then b gets id 2.
        acks.on_sent(1);
        acks.on_sent(2);
        acks.on_puback(1);
        acks.on_puback(2);
        assert!(done(&mut a));
        assert!(done(&mut b));
    }

    #[test]
    fn qos2_resolves_on_pubcomp_and_frees_the_id_after_pubrec() {
        let mut acks = Acks::default();
        let mut a = queued(&mut acks);
        acks.on_sent(1);
        acks.on_pubrec(1);
        assert!(!done(&mut a));
        // The id is free again in rumqttc: a new publish gets it.
        let mut b = queued(&mut acks);
        acks.on_sent(1);
        acks.on_puback(1);
        assert!(done(&mut b));
        assert!(!done(&mut a));
        acks.on_pubcomp(1);
        assert!(done(&mut a));
    }

    #[test]
    fn collision_waits_for_the_old_ack() {
        let mut acks = Acks::default();
        let mut a = queued(&mut acks);
        acks.on_sent(1);
        let mut b = queued(&mut acks);
        acks.on_collision(1);
        // rumqttc reports the collided publish as sent before the ack.
        acks.on_sent(1);
        acks.on_puback(1);
        assert!(done(&mut a));
        assert!(!done(&mut b));
        acks.on_puback(1);
        assert!(done(&mut b));
    }

    #[test]
    fn status_publishes_have_no_waiter_but_keep_the_order() {
        let mut acks = Acks::default();
        acks.queue.push_back(None);
        let mut a = queued(&mut acks);
        acks.on_sent(1);
        acks.on_sent(2);
        acks.on_puback(1);
        assert!(!done(&mut a));
        acks.on_puback(2);
        assert!(done(&mut a));
    }
}
