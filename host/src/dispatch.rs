//! The dispatcher: routes each accepted event to its destinations, sends,
//! retries and records every attempt.
//!
//! Delivery is at-least-once and crash safe: an event and all its deliveries
//! are committed before the event is acknowledged. Fresh deliveries are sent
//! at once from memory (holding a *lease* in the store so the poller leaves
//! them alone); retries and anything left by a crash are claimed from the
//! store by the poller when due. At start-up every lease of the previous
//! process is released, so a `kill -9` loses nothing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use herald_core::plugin::{default_classify, send_http};
use herald_core::{
    DeliveryContext, DeliveryReport, Event, EventKind, NotificationPlugin, PluginConfig, Verdict,
};
use rand::Rng;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};

use crate::clock::Clock;
use crate::config::WebhooksConfig;
use crate::error::{Error, Result};
use crate::guard::{self, GuardPolicy};
use crate::rules::{combine, Decision, RuleEngine};
use crate::store::{
    now_millis, Attempt, AttemptRecord, ClaimedDelivery, Destination, HeldGroup, Hold, Millis,
    NewDelivery, NextStep, Store, Webhook,
};
use crate::webhook;
use herald_core::rules::Rules;

/// Largest response excerpt kept in the delivery log.
pub const RESPONSE_EXCERPT_BYTES: usize = 4 * 1024;

/// A configured plugin instance.
pub struct PluginInstance {
    /// Its `[[plugins]]` entry.
    pub config: PluginConfig,
    /// The built plugin.
    pub plugin: Box<dyn NotificationPlugin>,
}

/// Delivery settings derived from `[webhooks]`.
#[derive(Clone, Debug)]
pub struct DispatchSettings {
    /// Whether generic webhooks are delivered.
    pub webhooks_enabled: bool,
    /// Per-attempt timeout.
    pub timeout: Duration,
    /// Default retries.
    pub max_retries: u32,
    /// Send an event's deliveries concurrently.
    pub parallel: bool,
    /// First backoff delay.
    pub backoff: Duration,
    /// Longest delay.
    pub max_delay: Duration,
    /// Explicit schedule.
    pub schedule: Option<Vec<Duration>>,
    /// Consecutive failed deliveries before a webhook is disabled.
    pub disable_after: u32,
    /// Most deliveries in flight.
    pub max_in_flight: usize,
    /// The destination guard.
    pub policy: GuardPolicy,
}

impl DispatchSettings {
    /// Settings from the `[webhooks]` section.
    pub fn from_config(config: &WebhooksConfig) -> Result<DispatchSettings> {
        Ok(DispatchSettings {
            webhooks_enabled: config.enabled,
            timeout: Duration::from_secs(config.timeout),
            max_retries: config.max_retries,
            parallel: config.parallel_dispatch,
            backoff: config.retry_backoff,
            max_delay: config.retry_max_delay,
            schedule: config.schedule()?,
            disable_after: config.disable_after,
            max_in_flight: config.max_in_flight,
            policy: GuardPolicy {
                require_tls: config.require_tls,
                allow_private_networks: config.allow_private_networks,
            },
        })
    }

    /// The delay before retry number `retry` (1-based), honouring a
    /// service's requested delay.
    pub fn retry_delay(&self, retry: u32, requested: Option<Duration>) -> Duration {
        if let Some(requested) = requested {
            return requested.min(self.max_delay);
        }
        if let Some(schedule) = self.schedule.as_ref().filter(|s| !s.is_empty()) {
            let index = (retry as usize).saturating_sub(1).min(schedule.len() - 1);
            return schedule[index];
        }
        let exponent = retry.saturating_sub(1).min(20);
        let base = self
            .backoff
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        // ±20 % jitter so retries of many deliveries do not arrive together.
        let factor = rand::thread_rng().gen_range(0.8..=1.2);
        base.mul_f64(factor).min(self.max_delay)
    }

    fn lease(&self) -> Duration {
        self.timeout * 2 + Duration::from_secs(30)
    }
}

/// The outcome of an accepted event.
#[derive(Clone, Debug, PartialEq)]
pub struct Accepted {
    /// The event id.
    pub id: String,
    /// Deliveries created.
    pub deliveries: usize,
    /// The id was already stored: nothing was created again.
    pub duplicate: bool,
}

/// The outcome of one attempt, as the test endpoints report it.
#[derive(Clone, Debug)]
pub struct AttemptOutcome {
    /// The delivery.
    pub delivery_id: String,
    /// What the destination said.
    pub report: DeliveryReport,
    /// How long the attempt took.
    pub duration: Duration,
}

struct Job {
    delivery_id: String,
    destination: Destination,
    attempts_before: u32,
    event: Arc<Event>,
    body: Arc<String>,
    /// Whether a final failure goes to the destination's fallback: not for
    /// a fallback delivery itself (no loops), nor for a test notification.
    may_fall_back: bool,
    _permit: Option<OwnedSemaphorePermit>,
}

/// Routes, sends and retries.
pub struct Dispatcher {
    store: Arc<dyn Store>,
    webhooks: RwLock<Arc<HashMap<String, Arc<Webhook>>>>,
    /// Webhooks the destination guard refuses under the current policy, with
    /// the reason: checked once per reload, not on every attempt.
    refused: RwLock<Arc<HashMap<String, String>>>,
    plugins: HashMap<String, Arc<PluginInstance>>,
    plugin_order: Vec<String>,
    http: HttpClients,
    settings: DispatchSettings,
    slots: Arc<Semaphore>,
    wake: Notify,
    stopping: AtomicBool,
    templates: handlebars::Handlebars<'static>,
    rules: RuleEngine,
}

/// Note of a fallback delivery.
const FALLBACK_NOTE: &str = "fallback for";

impl Dispatcher {
    /// A dispatcher over `store`, with plugin instances already built.
    pub async fn new(
        store: Arc<dyn Store>,
        http: HttpClients,
        settings: DispatchSettings,
        plugins: Vec<PluginInstance>,
        clock: Arc<Clock>,
    ) -> Result<Arc<Dispatcher>> {
        let plugin_order = plugins.iter().map(|p| p.config.name.clone()).collect();
        let plugins = plugins
            .into_iter()
            .map(|p| (p.config.name.clone(), Arc::new(p)))
            .collect();
        let dispatcher = Arc::new(Dispatcher {
            store,
            webhooks: RwLock::new(Arc::new(HashMap::new())),
            refused: RwLock::new(Arc::new(HashMap::new())),
            plugins,
            plugin_order,
            http,
            slots: Arc::new(Semaphore::new(settings.max_in_flight)),
            settings,
            wake: Notify::new(),
            stopping: AtomicBool::new(false),
            templates: webhook::template_engine(),
            rules: RuleEngine::new(clock),
        });
        dispatcher.reload_webhooks().await?;
        Ok(dispatcher)
    }

    /// The clock of time-based rules.
    pub fn clock(&self) -> &Arc<Clock> {
        self.rules.clock()
    }

    /// The settings.
    pub fn settings(&self) -> &DispatchSettings {
        &self.settings
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Plugin instances in config order.
    pub fn plugins(&self) -> impl Iterator<Item = &Arc<PluginInstance>> {
        self.plugin_order.iter().filter_map(|n| self.plugins.get(n))
    }

    /// Re-reads the webhooks from the store (after any change).
    pub async fn reload_webhooks(&self) -> Result<()> {
        let all = self.store.webhooks().await?;
        let refused = all
            .iter()
            .filter_map(|w| {
                let reason = guard::check_url(&w.url, self.settings.policy).err()?;
                Some((w.id.clone(), reason))
            })
            .collect::<HashMap<_, _>>();
        let map = all
            .into_iter()
            .map(|w| (w.id.clone(), Arc::new(w)))
            .collect::<HashMap<_, _>>();
        if let Ok(mut guard) = self.refused.write() {
            *guard = Arc::new(refused);
        }
        if let Ok(mut guard) = self.webhooks.write() {
            *guard = Arc::new(map);
        }
        Ok(())
    }

    fn webhook_snapshot(&self) -> Arc<HashMap<String, Arc<Webhook>>> {
        self.webhooks.read().map(|g| g.clone()).unwrap_or_default()
    }

    /// Destinations that receive `event`, webhooks by creation order then
    /// plugins in config order.
    fn route(&self, event: &Event) -> Vec<(Destination, Option<Rules>)> {
        let mut destinations = Vec::new();
        let rules_of = |rules: &Rules| (!rules.is_empty()).then(|| rules.clone());
        if self.settings.webhooks_enabled {
            let snapshot = self.webhook_snapshot();
            let mut matching: Vec<&Arc<Webhook>> = snapshot
                .values()
                .filter(|w| w.active && w.events.matches(&event.event) && w.filters.matches(event))
                .collect();
            matching.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            destinations.extend(
                matching
                    .into_iter()
                    .map(|w| (Destination::Webhook(w.id.clone()), rules_of(&w.rules))),
            );
        }
        for instance in self.plugins() {
            let c = &instance.config;
            if c.enabled
                && c.events.matches(&event.event)
                && c.filters.matches(event)
                && instance.plugin.handles(&event.event)
            {
                destinations.push((Destination::Plugin(c.name.clone()), rules_of(&c.rules)));
            }
        }
        destinations
    }

    /// Stores `event` with a delivery per matching destination, commits, and
    /// starts sending. Returns once the commit is durable.
    pub async fn accept(self: &Arc<Self>, event: Event) -> Result<Accepted> {
        let mut planned = Vec::new();
        for (destination, rules) in self.route(&event) {
            let Some(rules) = rules else {
                planned.push((destination, None));
                continue;
            };
            match self
                .rules
                .decide(self.store.as_ref(), &destination, &rules, &event)
                .await?
            {
                Decision::Send => planned.push((destination, None)),
                Decision::Hold(hold) => planned.push((destination, Some(hold))),
                Decision::Skip(reason) => {
                    tracing::info!(event = %event.id, kind = %event.event, destination = %destination, reason, "not sent by rule")
                }
            }
        }
        self.accept_to(event, planned).await
    }

    async fn accept_to(
        self: &Arc<Self>,
        event: Event,
        destinations: Vec<(Destination, Option<Hold>)>,
    ) -> Result<Accepted> {
        let body = String::from_utf8(event.to_json_bytes())
            .map_err(|e| Error::Store(format!("event JSON is not UTF-8: {e}")))?;
        let lease_until = now_millis() + self.settings.lease().as_millis() as Millis;
        let mut jobs = Vec::new();
        let mut deliveries = Vec::with_capacity(destinations.len());
        for (destination, hold) in destinations {
            if let Some(hold) = hold {
                let mut delivery = NewDelivery::new(destination, None);
                delivery.hold = Some(hold);
                deliveries.push(delivery);
                continue;
            }
            // Send at once when a slot is free; otherwise the poller will.
            let permit = if self.stopping.load(Ordering::Relaxed) {
                None
            } else {
                self.slots.clone().try_acquire_owned().ok()
            };
            let delivery =
                NewDelivery::new(destination.clone(), permit.as_ref().map(|_| lease_until));
            if let Some(permit) = permit {
                jobs.push((delivery.id.clone(), destination, permit));
            }
            deliveries.push(delivery);
        }
        let count = deliveries.len();
        let inserted = self
            .store
            .insert_event(&event, body.clone().into_bytes(), deliveries)
            .await?;
        if !inserted {
            return Ok(Accepted {
                id: event.id,
                deliveries: 0,
                duplicate: true,
            });
        }
        let id = event.id.clone();
        let event = Arc::new(event);
        let body = Arc::new(body);
        let jobs: Vec<Job> = jobs
            .into_iter()
            .map(|(delivery_id, destination, permit)| Job {
                delivery_id,
                destination,
                attempts_before: 0,
                event: event.clone(),
                body: body.clone(),
                may_fall_back: true,
                _permit: Some(permit),
            })
            .collect();
        if self.settings.parallel {
            for job in jobs {
                let this = self.clone();
                tokio::spawn(async move { this.run(job).await });
            }
        } else if !jobs.is_empty() {
            let this = self.clone();
            tokio::spawn(async move {
                for job in jobs {
                    this.clone().run(job).await;
                }
            });
        }
        Ok(Accepted {
            id,
            deliveries: count,
            duplicate: false,
        })
    }

    /// Sends a `webhook.test` event to one destination and waits for the
    /// outcome of the first attempt (no retries).
    pub async fn test(
        self: &Arc<Self>,
        destination: Destination,
        webhook_id: Option<&str>,
    ) -> Result<AttemptOutcome> {
        let mut data = serde_json::Map::new();
        data.insert(
            "message".into(),
            "This is a test notification from Herald.".into(),
        );
        if let Some(id) = webhook_id {
            data.insert("webhook_id".into(), id.into());
        }
        let mut event = Event::new(EventKind::known(herald_core::KnownKind::WebhookTest), data);
        event.source = Some("herald".into());
        let body = String::from_utf8(event.to_json_bytes()).unwrap_or_default();
        let delivery_id = format!("dlv_{}", ulid::Ulid::new());
        let lease_until = now_millis() + self.settings.lease().as_millis() as Millis;
        self.store
            .insert_event(
                &event,
                body.clone().into_bytes(),
                vec![NewDelivery {
                    id: delivery_id.clone(),
                    destination: destination.clone(),
                    leased_until: Some(lease_until),
                    hold: None,
                    note: Some("test notification".into()),
                }],
            )
            .await?;
        let job = Job {
            delivery_id: delivery_id.clone(),
            destination,
            attempts_before: 0,
            event: Arc::new(event),
            body: Arc::new(body),
            may_fall_back: false,
            _permit: None,
        };
        let started = Instant::now();
        let report = self.attempt(&job).await;
        let duration = started.elapsed();
        self.record(&job, &report, duration, Some(0)).await;
        Ok(AttemptOutcome {
            delivery_id,
            report,
            duration,
        })
    }

    /// Runs the poller until [`shutdown`](Self::shutdown): releases the
    /// previous process's leases, then claims due deliveries as slots free.
    pub async fn run_poller(self: Arc<Self>) {
        match self.store.release_leases(now_millis()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                deliveries = n,
                "resuming deliveries left pending by the previous run"
            ),
            Err(e) => tracing::error!(error = %e, "cannot release delivery leases"),
        }
        const BATCH: usize = 256;
        while !self.stopping.load(Ordering::Relaxed) {
            let free = self.slots.available_permits().min(BATCH);
            let mut claimed = 0;
            if free > 0 {
                let now = now_millis();
                let lease_until = now + self.settings.lease().as_millis() as Millis;
                match self.store.claim_due(now, free as u32, lease_until).await {
                    Ok(batch) => {
                        claimed = batch.len();
                        for delivery in batch {
                            self.spawn_claimed(delivery).await;
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "cannot claim due deliveries"),
                }
            }
            if claimed == free && free > 0 {
                continue;
            }
            let wait = match self.store.next_due_at().await {
                Ok(Some(at)) => Duration::from_millis((at - now_millis()).clamp(5, 1000) as u64),
                _ => Duration::from_secs(1),
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.wake.notified() => {}
            }
        }
    }

    async fn spawn_claimed(self: &Arc<Self>, claimed: ClaimedDelivery) {
        let Ok(permit) = self.slots.clone().acquire_owned().await else {
            return;
        };
        let event: Event = match serde_json::from_slice(&claimed.event_body) {
            Ok(event) => event,
            Err(e) => {
                tracing::error!(delivery = %claimed.id, error = %e, "stored event is unreadable");
                return;
            }
        };
        let job = Job {
            delivery_id: claimed.id,
            destination: claimed.destination,
            attempts_before: claimed.attempts,
            event: Arc::new(event),
            body: Arc::new(String::from_utf8_lossy(&claimed.event_body).into_owned()),
            may_fall_back: !claimed
                .note
                .as_deref()
                .is_some_and(|n| n.starts_with(FALLBACK_NOTE)),
            _permit: Some(permit),
        };
        let this = self.clone();
        tokio::spawn(async move { this.run(job).await });
    }

    async fn run(self: Arc<Self>, job: Job) {
        let started = Instant::now();
        let report = self.attempt(&job).await;
        self.record(&job, &report, started.elapsed(), None).await;
    }

    /// Records an attempt and decides what follows.
    async fn record(
        &self,
        job: &Job,
        report: &DeliveryReport,
        duration: Duration,
        retries_override: Option<u32>,
    ) {
        let number = job.attempts_before + 1;
        let max_retries = retries_override.unwrap_or_else(|| self.max_retries(&job.destination));
        let now = now_millis();
        let next = match &report.verdict {
            Verdict::Delivered => NextStep::Succeeded,
            Verdict::Reject => NextStep::Failed,
            Verdict::Retry { after } if number <= max_retries => {
                let delay = self.settings.retry_delay(number, *after);
                NextStep::RetryAt(now + delay.as_millis() as Millis)
            }
            Verdict::Retry { .. } => NextStep::Failed,
        };
        let outcome = match next {
            NextStep::Succeeded => "success",
            NextStep::RetryAt(_) => "retry",
            NextStep::Failed => "failed",
        };
        crate::metrics::attempt(&job.destination, outcome, duration);
        match &next {
            NextStep::Succeeded => {
                tracing::debug!(delivery = %job.delivery_id, destination = %job.destination, attempt = number, "delivered")
            }
            _ => tracing::warn!(
                delivery = %job.delivery_id,
                destination = %job.destination,
                attempt = number,
                status = report.status_code,
                error = report.error.as_deref().unwrap_or(""),
                outcome,
                "delivery attempt failed"
            ),
        }
        let record = AttemptRecord {
            delivery_id: job.delivery_id.clone(),
            destination: job.destination.clone(),
            attempt: Attempt {
                number,
                started_at: now - duration.as_millis() as Millis,
                duration_ms: duration.as_millis() as u64,
                status_code: report.status_code,
                error: report.error.clone(),
                response_body: report.response_body.as_deref().map(excerpt),
                outcome: outcome.into(),
            },
            next: next.clone(),
            disable_after: self.settings.disable_after,
        };
        match self.store.record_attempt(record).await {
            Ok(effect) if effect.webhook_disabled => {
                tracing::warn!(destination = %job.destination, failures = self.settings.disable_after, "webhook disabled after consecutive failed deliveries");
                if let Err(e) = self.reload_webhooks().await {
                    tracing::error!(error = %e, "cannot reload webhooks");
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::error!(delivery = %job.delivery_id, error = %e, "cannot record attempt; it will be retried after its lease")
            }
        }
        if matches!(next, NextStep::RetryAt(_)) {
            self.wake.notify_one();
        }
        if next == NextStep::Failed && job.may_fall_back {
            self.fall_back(job).await;
        }
    }

    /// The rules of a destination, if it has any.
    fn rules_of(&self, destination: &Destination) -> Option<Rules> {
        let rules = match destination {
            Destination::Webhook(id) => self.webhook_snapshot().get(id).map(|w| w.rules.clone()),
            Destination::Plugin(name) => self.plugins.get(name).map(|p| p.config.rules.clone()),
        };
        rules.filter(|r| !r.is_empty())
    }

    /// A destination by the name users give it (plugin instance or webhook).
    fn destination_named(&self, name: &str) -> Option<Destination> {
        if self.plugins.contains_key(name) {
            return Some(Destination::Plugin(name.to_owned()));
        }
        self.webhook_snapshot()
            .values()
            .find(|w| w.name == name && w.active)
            .map(|w| Destination::Webhook(w.id.clone()))
    }

    /// Sends the notification to the destination's fallback, if it names
    /// one, recording the hand-over on both deliveries.
    async fn fall_back(&self, job: &Job) {
        let Some(name) = self.rules_of(&job.destination).and_then(|r| r.fallback) else {
            return;
        };
        let Some(target) = self.destination_named(&name) else {
            tracing::warn!(destination = %job.destination, fallback = %name, "fallback destination not found");
            return;
        };
        let mut delivery = NewDelivery::new(target.clone(), None);
        delivery.note = Some(format!(
            "{FALLBACK_NOTE} {} ({})",
            job.delivery_id, job.destination
        ));
        match self
            .store
            .add_fallback(&job.delivery_id, &job.event.id, delivery)
            .await
        {
            Ok(()) => {
                tracing::info!(delivery = %job.delivery_id, destination = %job.destination, fallback = %target, "retries exhausted; sent to the fallback");
                self.wake.notify_one();
            }
            Err(e) => {
                tracing::error!(delivery = %job.delivery_id, error = %e, "cannot queue the fallback")
            }
        }
    }

    /// Releases held groups when their time comes, until shutdown: each
    /// group becomes one notification, committed together with marking its
    /// items merged, so a restart neither loses nor repeats it.
    pub async fn run_releaser(self: Arc<Self>) {
        while !self.stopping.load(Ordering::Relaxed) {
            let now = self.rules.clock().now_millis();
            match self.store.due_holds(now).await {
                Ok(groups) => {
                    for group in groups {
                        if let Err(e) = self.release(group).await {
                            tracing::error!(error = %e, "cannot release a held group");
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot read held groups"),
            }
            // Polls on its own: the wake-up belongs to the delivery poller.
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn release(&self, group: HeldGroup) -> Result<()> {
        let events: Vec<Event> = group
            .items
            .iter()
            .filter_map(|(_, body)| serde_json::from_slice(body).ok())
            .collect();
        let Some(event) = combine(&group.key, &events, self.rules.clock()) else {
            return Ok(());
        };
        let body = event.to_json_bytes();
        let mut delivery = NewDelivery::new(group.destination.clone(), None);
        delivery.note = Some(format!(
            "{} held notification(s) released ({})",
            group.items.len(),
            group.key
        ));
        if self
            .store
            .release_hold(&group, &event, body, delivery)
            .await?
        {
            tracing::info!(destination = %group.destination, items = group.items.len(), key = %group.key, event = %event.id, "released held notifications");
            self.wake.notify_one();
        }
        Ok(())
    }

    fn max_retries(&self, destination: &Destination) -> u32 {
        match destination {
            Destination::Webhook(id) => self
                .webhook_snapshot()
                .get(id)
                .and_then(|w| w.max_retries)
                .unwrap_or(self.settings.max_retries),
            Destination::Plugin(_) => self.settings.max_retries,
        }
    }

    fn context(&self, client: &reqwest::Client) -> DeliveryContext {
        DeliveryContext {
            http: client.clone(),
            timeout: self.settings.timeout,
        }
    }

    async fn attempt(&self, job: &Job) -> DeliveryReport {
        match &job.destination {
            Destination::Webhook(id) => {
                let webhook = self.webhook_snapshot().get(id).cloned();
                match webhook {
                    None => DeliveryReport::reject("the webhook no longer exists"),
                    Some(w) if !w.active => DeliveryReport::reject("the webhook is disabled"),
                    Some(w) => self.send_webhook(&w, job).await,
                }
            }
            Destination::Plugin(name) => match self.plugins.get(name) {
                None => DeliveryReport::reject("the plugin instance is no longer configured"),
                Some(instance) => match instance.plugin.format(&job.event) {
                    Ok(message) => {
                        instance
                            .plugin
                            .deliver(&message, &self.context(&self.http.plugins))
                            .await
                    }
                    Err(e) => DeliveryReport::reject(format!("formatting failed: {e}")),
                },
            },
        }
    }

    async fn send_webhook(&self, webhook: &Webhook, job: &Job) -> DeliveryReport {
        let refused = self
            .refused
            .read()
            .ok()
            .and_then(|r| r.get(&webhook.id).cloned());
        if let Some(reason) = refused {
            return DeliveryReport::reject(format!("destination refused: {reason}"));
        }
        let body = match &webhook.body_template {
            None => job.body.as_ref().clone(),
            Some(template) => {
                let value = serde_json::to_value(job.event.as_ref()).unwrap_or_default();
                match webhook::render_body(&self.templates, template, &value) {
                    Ok(body) => body,
                    Err(e) => return DeliveryReport::reject(e.to_string()),
                }
            }
        };
        let timestamp = chrono::Utc::now().timestamp();
        let request = match webhook::signed_request(webhook, &job.event.id, body, timestamp) {
            Ok(request) => request,
            Err(e) => return DeliveryReport::reject(e.to_string()),
        };
        match send_http(&self.context(&self.http.webhooks), &request).await {
            Ok(response) => DeliveryReport::from_response(default_classify(&response), &response),
            Err(report) => report,
        }
    }

    /// Wakes the poller (a delivery became due).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Stops claiming, then waits (up to `grace`) for in-flight attempts to
    /// finish and be recorded.
    pub async fn shutdown(&self, grace: Duration) {
        self.stopping.store(true, Ordering::Relaxed);
        self.wake.notify_waiters();
        let all = self.settings.max_in_flight as u32;
        match tokio::time::timeout(grace, self.slots.acquire_many(all)).await {
            Ok(_) => tracing::info!("in-flight deliveries finished"),
            Err(_) => tracing::warn!(
                "shutdown grace period over; unfinished deliveries resume on next start"
            ),
        }
    }
}

/// The first [`RESPONSE_EXCERPT_BYTES`] of a response, cut at a character
/// boundary.
pub fn excerpt(text: &str) -> String {
    if text.len() <= RESPONSE_EXCERPT_BYTES {
        return text.to_owned();
    }
    let mut end = RESPONSE_EXCERPT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// The HTTP clients of the dispatcher.
#[derive(Clone, Debug)]
pub struct HttpClients {
    /// For generic webhooks: behind the destination guard.
    pub webhooks: reqwest::Client,
    /// For plugins: their servers are configured by the operator, and
    /// self-hosted ones (ntfy, Apprise, Gotify) usually live on the LAN.
    pub plugins: reqwest::Client,
}

impl HttpClients {
    /// Both clients from `[webhooks]` (timeout, CA bundle, proxy).
    pub fn from_config(config: &WebhooksConfig) -> Result<HttpClients> {
        Ok(HttpClients {
            webhooks: http_client(config, true)?,
            plugins: http_client(config, false)?,
        })
    }
}

/// Builds an HTTP client: timeout, CA bundle, proxy, and (when `guarded`)
/// the destination guard's resolver.
pub fn http_client(config: &WebhooksConfig, guarded: bool) -> Result<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(webhook::USER_AGENT)
        .timeout(Duration::from_secs(config.timeout))
        .connect_timeout(Duration::from_secs(config.timeout))
        .redirect(reqwest::redirect::Policy::none())
        // As many idle connections as attempts can be in flight: a smaller
        // pool closes the surplus after each burst and every later attempt
        // to that host pays a new TCP (and TLS) handshake.
        .pool_max_idle_per_host(config.max_in_flight.max(64));
    if let Some(path) = &config.ca_bundle {
        let certificates = crate::config::load_ca_bundle(path)?;
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    if let Some(proxy) = &config.proxy {
        let proxy = reqwest::Proxy::all(proxy)
            .map_err(|e| Error::config("webhooks.proxy", e.to_string()))?;
        builder = builder.proxy(proxy);
    }
    let policy = GuardPolicy {
        require_tls: config.require_tls,
        allow_private_networks: config.allow_private_networks,
    };
    if let Some(resolver) = guard::resolver(policy).filter(|_| guarded) {
        builder = builder.dns_resolver(resolver);
    }
    builder
        .build()
        .map_err(|e| Error::config("webhooks", format!("cannot build the HTTP client: {e}")))
}
