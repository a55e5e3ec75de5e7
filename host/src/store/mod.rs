//! Durable state: webhooks, events, deliveries and their attempts.
//!
//! The dispatcher and the API only see the [`Store`] trait, so a server
//! database can be added beside the embedded [`SqliteStore`] without touching
//! them. Times are unix milliseconds.

mod sqlite;
mod stats;

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use herald_core::{Event, EventPatterns, PayloadFilter};
use serde::{Deserialize, Serialize};

pub use sqlite::SqliteStore;
pub use stats::{Interval, PlaybackBucket, Stats, TopMedia, TopUser};

use crate::error::Result;

/// Unix milliseconds.
pub type Millis = i64;

/// The current time in unix milliseconds.
pub fn now_millis() -> Millis {
    Utc::now().timestamp_millis()
}

/// Renders unix milliseconds as RFC 3339 for the API.
pub fn rfc3339(ms: Millis) -> String {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH)
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// How a webhook's requests are signed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SignatureScheme {
    /// `X-Phlix-Signature` and `X-Phlix-Signature-V2`.
    #[default]
    Phlix,
    /// Standard Webhooks (`webhook-signature`, `whsec_` secrets).
    Standard,
}

impl SignatureScheme {
    fn as_str(self) -> &'static str {
        match self {
            SignatureScheme::Phlix => "phlix",
            SignatureScheme::Standard => "standard",
        }
    }

    fn parse(text: &str) -> SignatureScheme {
        match text {
            "standard" => SignatureScheme::Standard,
            _ => SignatureScheme::Phlix,
        }
    }
}

/// Where a webhook was declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Through the admin API.
    Api,
    /// In the config file (read-only through the API).
    Config,
}

/// A generic outgoing webhook.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// `wh_…` for API webhooks, `cfg_<name>` for config ones.
    pub id: String,
    /// Unique display name.
    pub name: String,
    /// Destination.
    pub url: String,
    /// Signing secret. Never logged, never in API listings.
    pub secret: String,
    /// Signature scheme.
    pub signature: SignatureScheme,
    /// Event patterns.
    pub events: EventPatterns,
    /// Payload filters.
    pub filters: PayloadFilter,
    /// Whether it receives events.
    pub active: bool,
    /// API or config.
    pub origin: Origin,
    /// Retries override.
    pub max_retries: Option<u32>,
    /// Optional handlebars body template.
    pub body_template: Option<String>,
    /// Grouping, throttling, conditions, quiet hours and fallback.
    pub rules: herald_core::rules::Rules,
    /// Failed deliveries, ever.
    pub total_failures: u64,
    /// Failed deliveries since the last success.
    pub consecutive_failures: u64,
    /// Why it was disabled automatically, if it was.
    pub disabled_reason: Option<String>,
    /// Outcome of its latest finished delivery.
    pub last_status: Option<DeliveryStatus>,
    /// HTTP status of its latest attempt.
    pub last_status_code: Option<u16>,
    /// When its latest delivery finished.
    pub last_delivery_at: Option<Millis>,
    /// Created.
    pub created_at: Millis,
    /// Last changed.
    pub updated_at: Millis,
}

/// Who a delivery goes to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Destination {
    /// A webhook, by id.
    Webhook(String),
    /// A plugin instance, by name.
    Plugin(String),
}

impl Destination {
    fn kind(&self) -> &'static str {
        match self {
            Destination::Webhook(_) => "webhook",
            Destination::Plugin(_) => "plugin",
        }
    }

    fn id(&self) -> &str {
        match self {
            Destination::Webhook(id) | Destination::Plugin(id) => id,
        }
    }

    fn from_parts(kind: &str, id: String) -> Destination {
        match kind {
            "plugin" => Destination::Plugin(id),
            _ => Destination::Webhook(id),
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind(), self.id())
    }
}

/// A delivery's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its first or next attempt.
    Pending,
    /// Delivered.
    Success,
    /// Given up (permanent failure or retries exhausted).
    Failed,
    /// Held by a rule (a group window, quiet hours, a rate cap) until it
    /// is released as part of one combined notification.
    Held,
    /// Released inside a combined notification (see its `note`).
    Merged,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Success => "success",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Held => "held",
            DeliveryStatus::Merged => "merged",
        }
    }

    /// Parses the stored name.
    pub fn parse(text: &str) -> Option<DeliveryStatus> {
        match text {
            "pending" => Some(DeliveryStatus::Pending),
            "success" => Some(DeliveryStatus::Success),
            "failed" => Some(DeliveryStatus::Failed),
            "held" => Some(DeliveryStatus::Held),
            "merged" => Some(DeliveryStatus::Merged),
            _ => None,
        }
    }
}

/// A delivery to create with its event.
#[derive(Clone, Debug)]
pub struct NewDelivery {
    /// `dlv_<ulid>`.
    pub id: String,
    /// Target.
    pub destination: Destination,
    /// `true` when the caller sends it at once: it is then not due for the
    /// poller until the lease expires (or Herald restarts).
    pub leased_until: Option<Millis>,
    /// Held by a rule instead of sent.
    pub hold: Option<Hold>,
    /// Why it exists, when that is not obvious (e.g. a fallback).
    pub note: Option<String>,
}

impl NewDelivery {
    /// A delivery due now (or leased to the caller until `leased_until`).
    pub fn new(destination: Destination, leased_until: Option<Millis>) -> NewDelivery {
        NewDelivery {
            id: format!("dlv_{}", ulid::Ulid::new()),
            destination,
            leased_until,
            hold: None,
            note: None,
        }
    }
}

/// Where a held delivery waits.
#[derive(Clone, Debug, PartialEq)]
pub struct Hold {
    /// Items with the same destination and key are released together.
    pub key: String,
    /// When they are released.
    pub release_at: Millis,
}

/// Held deliveries of one destination and key that are due for release.
#[derive(Clone, Debug)]
pub struct HeldGroup {
    /// The destination.
    pub destination: Destination,
    /// The hold key.
    pub key: String,
    /// `(delivery id, event JSON)` in arrival order.
    pub items: Vec<(String, Vec<u8>)>,
}

/// A delivery as logged.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// Id.
    pub id: String,
    /// Target.
    pub destination: Destination,
    /// The event delivered.
    pub event_id: String,
    /// The event's kind.
    pub event_kind: String,
    /// State.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<Millis>,
    /// HTTP status of the latest attempt.
    pub last_status_code: Option<u16>,
    /// Error of the latest attempt.
    pub last_error: Option<String>,
    /// Start of the latest answer's body.
    pub response_body: Option<String>,
    /// Duration of the latest attempt.
    pub duration_ms: Option<u64>,
    /// Why it exists or what became of it (fallbacks, groups).
    pub note: Option<String>,
    /// Created.
    pub created_at: Millis,
    /// Last changed.
    pub updated_at: Millis,
}

/// One attempt of a delivery.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// 1-based.
    pub number: u32,
    /// Start time.
    pub started_at: Millis,
    /// Duration.
    pub duration_ms: u64,
    /// HTTP status, when answered.
    pub status_code: Option<u16>,
    /// Error, when failed.
    pub error: Option<String>,
    /// Start of the answer's body.
    pub response_body: Option<String>,
    /// `success`, `retry` or `failed`.
    pub outcome: String,
}

/// What follows an attempt.
#[derive(Clone, Debug, PartialEq)]
pub enum NextStep {
    /// Delivered.
    Succeeded,
    /// Try again at this time.
    RetryAt(Millis),
    /// Given up.
    Failed,
}

/// An attempt to record, with its consequence.
#[derive(Clone, Debug)]
pub struct AttemptRecord {
    /// The delivery.
    pub delivery_id: String,
    /// Its target (for the webhook's counters).
    pub destination: Destination,
    /// The attempt.
    pub attempt: Attempt,
    /// What happens next.
    pub next: NextStep,
    /// Disable the webhook after this many consecutive failed deliveries
    /// (0 = never).
    pub disable_after: u32,
}

/// What recording an attempt changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AttemptEffect {
    /// The webhook was disabled by this failure.
    pub webhook_disabled: bool,
}

/// A due delivery claimed by the dispatcher, with its event.
#[derive(Clone, Debug)]
pub struct ClaimedDelivery {
    /// Delivery id.
    pub id: String,
    /// Target.
    pub destination: Destination,
    /// Attempts made so far.
    pub attempts: u32,
    /// The event's exact JSON bytes.
    pub event_body: Vec<u8>,
    /// Its note (fallback deliveries are marked there).
    pub note: Option<String>,
}

/// Filter and page of a delivery listing (newest first).
#[derive(Clone, Debug, Default)]
pub struct DeliveryQuery {
    /// Only this destination.
    pub destination: Option<Destination>,
    /// Only this status.
    pub status: Option<DeliveryStatus>,
    /// Only deliveries older than this id (the previous page's cursor).
    pub before: Option<String>,
    /// Page size.
    pub limit: u32,
}

/// Counts of pending deliveries.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct QueueDepth {
    /// Pending deliveries.
    pub pending: u64,
    /// Pending deliveries due now.
    pub due: u64,
}

/// Delivery counts of one destination.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DestinationStats {
    /// Delivered.
    pub succeeded: u64,
    /// Given up.
    pub failed: u64,
    /// Waiting.
    pub pending: u64,
    /// Failed deliveries since the latest success.
    pub consecutive_failures: u64,
    /// Status of the latest finished delivery.
    pub last_status: Option<DeliveryStatus>,
}

/// Durable storage behind the dispatcher and the API.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Stores an event and its deliveries in one commit. Returns `false`
    /// (and stores nothing) when an event with this id already exists.
    async fn insert_event(
        &self,
        event: &Event,
        body: Vec<u8>,
        deliveries: Vec<NewDelivery>,
    ) -> Result<bool>;

    /// The exact JSON bytes of an event.
    async fn event_body(&self, event_id: &str) -> Result<Option<Vec<u8>>>;

    /// Claims up to `limit` due deliveries, leasing them until
    /// `leased_until` so no one else claims them meanwhile.
    async fn claim_due(
        &self,
        now: Millis,
        limit: u32,
        leased_until: Millis,
    ) -> Result<Vec<ClaimedDelivery>>;

    /// The earliest time a pending delivery becomes due.
    async fn next_due_at(&self) -> Result<Option<Millis>>;

    /// Makes every leased pending delivery due now (at start-up: no
    /// attempt of a previous process is still running).
    async fn release_leases(&self, now: Millis) -> Result<u64>;

    /// Records an attempt, moves the delivery on and updates the webhook's
    /// counters (disabling it when `disable_after` is reached).
    async fn record_attempt(&self, record: AttemptRecord) -> Result<AttemptEffect>;

    /// A delivery.
    async fn delivery(&self, id: &str) -> Result<Option<Delivery>>;

    /// A delivery's attempts, oldest first.
    async fn attempts(&self, delivery_id: &str) -> Result<Vec<Attempt>>;

    /// Deliveries, newest first.
    async fn deliveries(&self, query: DeliveryQuery) -> Result<Vec<Delivery>>;

    /// Makes a finished delivery pending and due now (manual retry).
    async fn requeue(&self, delivery_id: &str, now: Millis) -> Result<Option<Delivery>>;

    /// Pending and due counts.
    async fn queue_depth(&self, now: Millis) -> Result<QueueDepth>;

    /// Delivery counts of a destination.
    async fn destination_stats(&self, destination: &Destination) -> Result<DestinationStats>;

    /// The release time of the open hold of `destination` under `key`.
    async fn hold_release_at(&self, destination: &Destination, key: &str)
        -> Result<Option<Millis>>;

    /// Held groups whose release time has come.
    async fn due_holds(&self, now: Millis) -> Result<Vec<HeldGroup>>;

    /// In one commit: stores the combined `event` with `delivery`, and marks
    /// the group's held deliveries merged into it. Returns `false` if they
    /// were already released.
    async fn release_hold(
        &self,
        group: &HeldGroup,
        event: &Event,
        body: Vec<u8>,
        delivery: NewDelivery,
    ) -> Result<bool>;

    /// Adds a delivery of an existing event (a fallback), noting on the
    /// original delivery where the notification went.
    async fn add_fallback(
        &self,
        original_delivery_id: &str,
        event_id: &str,
        delivery: NewDelivery,
    ) -> Result<()>;

    /// Creates a webhook; fails with a conflict on a taken name.
    async fn create_webhook(&self, webhook: Webhook) -> Result<()>;

    /// Replaces a webhook's settings (not its counters unless re-enabled).
    async fn update_webhook(&self, webhook: Webhook) -> Result<()>;

    /// Deletes a webhook; its pending deliveries fail.
    async fn delete_webhook(&self, id: &str) -> Result<bool>;

    /// A webhook.
    async fn webhook(&self, id: &str) -> Result<Option<Webhook>>;

    /// Every webhook, by creation time.
    async fn webhooks(&self) -> Result<Vec<Webhook>>;

    /// Makes the config-declared webhooks exactly `webhooks` (created,
    /// updated or removed), keeping their counters.
    async fn sync_config_webhooks(&self, webhooks: Vec<Webhook>) -> Result<()>;
}
