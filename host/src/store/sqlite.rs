//! The embedded store: SQLite (bundled) in WAL mode.
//!
//! All writes go through one writer thread that commits whatever has queued
//! up in a single transaction (group commit), so a burst of events costs one
//! commit, not one per event; every caller still gets its answer only after
//! the commit that holds its write. Reads use their own connections, which
//! WAL lets run beside the writer.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use herald_core::{Event, EventPatterns, PayloadFilter};
use rusqlite::{params, Connection, OptionalExtension, Row};
use tokio::sync::{mpsc, oneshot};

use super::*;
use crate::config::Durability;
use crate::error::{Error, Result};

type Reply = Box<dyn FnOnce(std::result::Result<(), String>) + Send>;
type WriteJob = Box<dyn FnOnce(&Connection) -> Reply + Send>;

/// Most writes committed together.
const MAX_BATCH: usize = 2048;

/// Schema migrations, applied in order; the index + 1 is the version.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE webhooks (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    signature TEXT NOT NULL,
    events TEXT NOT NULL,
    filters TEXT NOT NULL,
    active INTEGER NOT NULL,
    origin TEXT NOT NULL,
    max_retries INTEGER,
    body_template TEXT,
    total_failures INTEGER NOT NULL DEFAULT 0,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    disabled_reason TEXT,
    last_status TEXT,
    last_status_code INTEGER,
    last_delivery_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    source TEXT,
    body BLOB NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE TABLE deliveries (
    id TEXT PRIMARY KEY,
    destination_kind TEXT NOT NULL,
    destination_id TEXT NOT NULL,
    event_id TEXT NOT NULL REFERENCES events(id),
    event_kind TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    leased INTEGER NOT NULL DEFAULT 0,
    last_status_code INTEGER,
    last_error TEXT,
    response_body TEXT,
    duration_ms INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_destination ON deliveries(destination_kind, destination_id, id);
CREATE INDEX deliveries_by_status ON deliveries(status, id);
CREATE TABLE attempts (
    delivery_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    response_body TEXT,
    outcome TEXT NOT NULL,
    PRIMARY KEY (delivery_id, number)
) WITHOUT ROWID;
"#,
    // Playback statistics: events of a kind within a time range.
    "CREATE INDEX events_by_kind_time ON events(kind, timestamp);",
    // Notification rules: held deliveries, notes, per-webhook rules.
    "ALTER TABLE deliveries ADD COLUMN hold_key TEXT;
     ALTER TABLE deliveries ADD COLUMN note TEXT;
     ALTER TABLE webhooks ADD COLUMN rules TEXT;
     CREATE INDEX deliveries_held ON deliveries(next_attempt_at) WHERE status = 'held';",
];

/// SQLite-backed [`Store`].
pub struct SqliteStore {
    writer: mpsc::UnboundedSender<WriteJob>,
    readers: Arc<Mutex<Vec<Connection>>>,
    path: PathBuf,
    durability: Durability,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and runs the
    /// migrations.
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore> {
        let mut conn = open_connection(path, durability)?;
        migrate(&mut conn)?;
        let (writer, mut jobs) = mpsc::unbounded_channel::<WriteJob>();
        std::thread::Builder::new()
            .name("herald-store-writer".into())
            .spawn(move || {
                while let Some(first) = jobs.blocking_recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match jobs.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    run_batch(&conn, batch);
                }
            })
            .map_err(|e| Error::io("starting the store writer", e))?;
        Ok(SqliteStore {
            writer,
            readers: Arc::new(Mutex::new(Vec::new())),
            path: path.to_owned(),
            durability,
        })
    }

    /// Runs `f` inside the writer's next transaction and returns its result
    /// once that transaction is committed.
    async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<T>>();
        let job: WriteJob = Box::new(move |conn| {
            // A savepoint per job: one failing write does not undo the others
            // of its batch.
            let result = match conn.execute_batch("SAVEPOINT job") {
                Ok(()) => {
                    let result = f(conn);
                    let end = if result.is_ok() {
                        "RELEASE job"
                    } else {
                        "ROLLBACK TO job; RELEASE job"
                    };
                    match conn.execute_batch(end) {
                        Ok(()) => result,
                        Err(e) => Err(e.into()),
                    }
                }
                Err(e) => Err(e.into()),
            };
            Box::new(move |commit| {
                let _ = tx.send(match commit {
                    Ok(()) => result,
                    Err(e) => Err(Error::Store(format!("commit failed: {e}"))),
                });
            })
        });
        self.writer
            .send(job)
            .map_err(|_| Error::Store("the store writer has stopped".into()))?;
        rx.await
            .map_err(|_| Error::Store("the store writer has stopped".into()))?
    }

    /// Runs `f` on a read connection in the blocking pool.
    pub(super) async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        let path = self.path.clone();
        let durability = self.durability;
        tokio::task::spawn_blocking(move || {
            let conn = readers.lock().ok().and_then(|mut pool| pool.pop());
            let conn = match conn {
                Some(conn) => conn,
                None => open_connection(&path, durability)?,
            };
            let result = f(&conn);
            if let Ok(mut pool) = readers.lock() {
                pool.push(conn);
            }
            result
        })
        .await
        .map_err(|e| Error::Store(format!("read task failed: {e}")))?
    }
}

fn open_connection(path: &Path, durability: Durability) -> Result<Connection> {
    let conn = Connection::open(path)?;
    let synchronous = match durability {
        Durability::Process => "NORMAL",
        Durability::Power => "FULL",
    };
    conn.execute_batch(&format!(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;"
    ))?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)",
    )?;
    let current: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
        [],
        |r| r.get(0),
    )?;
    for (index, sql) in MIGRATIONS.iter().enumerate() {
        let version = index as i64 + 1;
        if version <= current {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)",
            params![version, now_millis()],
        )?;
        tx.commit()?;
        tracing::info!(version, "applied store migration");
    }
    Ok(())
}

fn run_batch(conn: &Connection, batch: Vec<WriteJob>) {
    let begin = conn
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| e.to_string());
    if let Err(e) = begin {
        // Nothing ran: every caller learns the write failed.
        for job in batch {
            let _ = job;
            tracing::error!(error = %e, "store: cannot begin a transaction");
        }
        return;
    }
    let replies: Vec<Reply> = batch.into_iter().map(|job| job(conn)).collect();
    let commit = conn.execute_batch("COMMIT").map_err(|e| e.to_string());
    if commit.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for reply in replies {
        reply(commit.clone());
    }
}

fn to_u16(v: Option<i64>) -> Option<u16> {
    v.and_then(|v| u16::try_from(v).ok())
}

const WEBHOOK_COLUMNS: &str = "id, name, url, secret, signature, events, filters, active, origin, \
    max_retries, body_template, total_failures, consecutive_failures, disabled_reason, \
    last_status, last_status_code, last_delivery_at, created_at, updated_at, rules";

fn webhook_from_row(row: &Row<'_>) -> rusqlite::Result<Webhook> {
    let events: String = row.get(5)?;
    let filters: String = row.get(6)?;
    let bad = |i: usize, e: serde_json::Error| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    };
    Ok(Webhook {
        id: row.get(0)?,
        name: row.get(1)?,
        url: row.get(2)?,
        secret: row.get(3)?,
        signature: SignatureScheme::parse(&row.get::<_, String>(4)?),
        events: serde_json::from_str::<EventPatterns>(&events).map_err(|e| bad(5, e))?,
        filters: serde_json::from_str::<PayloadFilter>(&filters).map_err(|e| bad(6, e))?,
        active: row.get(7)?,
        origin: if row.get::<_, String>(8)? == "config" {
            Origin::Config
        } else {
            Origin::Api
        },
        max_retries: row.get(9)?,
        body_template: row.get(10)?,
        total_failures: row.get::<_, i64>(11)? as u64,
        consecutive_failures: row.get::<_, i64>(12)? as u64,
        disabled_reason: row.get(13)?,
        last_status: row
            .get::<_, Option<String>>(14)?
            .and_then(|s| DeliveryStatus::parse(&s)),
        last_status_code: to_u16(row.get(15)?),
        last_delivery_at: row.get(16)?,
        created_at: row.get(17)?,
        updated_at: row.get(18)?,
        rules: match row.get::<_, Option<String>>(19)? {
            Some(text) => serde_json::from_str(&text).map_err(|e| bad(19, e))?,
            None => Default::default(),
        },
    })
}

const DELIVERY_COLUMNS: &str =
    "id, destination_kind, destination_id, event_id, event_kind, status, \
    attempts, next_attempt_at, last_status_code, last_error, response_body, duration_ms, \
    created_at, updated_at, note";

fn delivery_from_row(row: &Row<'_>) -> rusqlite::Result<Delivery> {
    let status: String = row.get(5)?;
    Ok(Delivery {
        id: row.get(0)?,
        destination: Destination::from_parts(&row.get::<_, String>(1)?, row.get(2)?),
        event_id: row.get(3)?,
        event_kind: row.get(4)?,
        status: DeliveryStatus::parse(&status).unwrap_or(DeliveryStatus::Failed),
        attempts: row.get(6)?,
        next_attempt_at: row.get(7)?,
        last_status_code: to_u16(row.get(8)?),
        last_error: row.get(9)?,
        response_body: row.get(10)?,
        duration_ms: row.get::<_, Option<i64>>(11)?.map(|d| d.max(0) as u64),
        created_at: row.get(12)?,
        updated_at: row.get(13)?,
        note: row.get(14)?,
    })
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::Store(e.to_string()))
}

fn insert_webhook(conn: &Connection, w: &Webhook) -> Result<()> {
    conn.execute(
        &format!(
            "INSERT INTO webhooks ({WEBHOOK_COLUMNS}) VALUES \
             (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)"
        ),
        params![
            w.id,
            w.name,
            w.url,
            w.secret,
            w.signature.as_str(),
            json_text(&w.events)?,
            json_text(&w.filters)?,
            w.active,
            match w.origin {
                Origin::Api => "api",
                Origin::Config => "config",
            },
            w.max_retries,
            w.body_template,
            w.total_failures as i64,
            w.consecutive_failures as i64,
            w.disabled_reason,
            w.last_status.map(DeliveryStatus::as_str),
            w.last_status_code,
            w.last_delivery_at,
            w.created_at,
            w.updated_at,
            rules_text(&w.rules)?,
        ],
    )
    .map_err(|e| name_conflict(e, &w.name))?;
    Ok(())
}

fn update_webhook_row(conn: &Connection, w: &Webhook) -> Result<usize> {
    conn.execute(
        "UPDATE webhooks SET name = ?2, url = ?3, secret = ?4, signature = ?5, events = ?6, \
         filters = ?7, active = ?8, max_retries = ?9, body_template = ?10, \
         consecutive_failures = ?11, disabled_reason = ?12, updated_at = ?13, rules = ?14 \
         WHERE id = ?1",
        params![
            w.id,
            w.name,
            w.url,
            w.secret,
            w.signature.as_str(),
            json_text(&w.events)?,
            json_text(&w.filters)?,
            w.active,
            w.max_retries,
            w.body_template,
            w.consecutive_failures as i64,
            w.disabled_reason,
            w.updated_at,
            rules_text(&w.rules)?,
        ],
    )
    .map_err(|e| name_conflict(e, &w.name))
}

/// A unique-name violation as a conflict naming the webhook.
fn name_conflict(error: rusqlite::Error, name: &str) -> Error {
    match error {
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Error::Conflict(format!("a webhook named `{name}` already exists"))
        }
        other => other.into(),
    }
}

fn rules_text(rules: &herald_core::rules::Rules) -> Result<Option<String>> {
    if rules.is_empty() {
        Ok(None)
    } else {
        json_text(rules).map(Some)
    }
}

/// Inserts an event (unless its id exists) and its deliveries; `false` when
/// the event already existed.
fn insert_event_rows(
    conn: &Connection,
    event: &EventRow,
    deliveries: &[NewDelivery],
    existing_ok: bool,
) -> Result<bool> {
    let EventRow {
        id,
        kind,
        timestamp,
        source,
        body,
    } = event;
    let now = now_millis();
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO events (id, kind, timestamp, source, body, received_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![id, kind, timestamp, source, body, now])?;
    if inserted == 0 && !existing_ok {
        return Ok(false);
    }
    let mut stmt = conn.prepare_cached(
        "INSERT INTO deliveries (id, destination_kind, destination_id, event_id, event_kind, \
         status, attempts, next_attempt_at, leased, created_at, updated_at, hold_key, note) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8, ?9, ?9, ?10, ?11)",
    )?;
    for d in deliveries {
        let (status, next) = match &d.hold {
            Some(hold) => ("held", hold.release_at),
            None => ("pending", d.leased_until.unwrap_or(now)),
        };
        stmt.execute(params![
            d.id,
            d.destination.kind(),
            d.destination.id(),
            id,
            kind,
            status,
            next,
            d.leased_until.is_some() && d.hold.is_none(),
            now,
            d.hold.as_ref().map(|h| h.key.as_str()),
            d.note,
        ])?;
    }
    Ok(true)
}

/// An event's row as stored, owned so it can move to the writer thread.
struct EventRow {
    id: String,
    kind: String,
    timestamp: String,
    source: Option<String>,
    body: Vec<u8>,
}

impl EventRow {
    fn new(event: &Event, body: Vec<u8>) -> EventRow {
        EventRow {
            id: event.id.clone(),
            kind: event.event.as_str().to_owned(),
            timestamp: event
                .timestamp
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
            source: event.source.clone(),
            body,
        }
    }
}

fn fail_pending_of(conn: &Connection, id: &str, reason: &str) -> Result<()> {
    conn.execute(
        "UPDATE deliveries SET status = 'failed', next_attempt_at = NULL, leased = 0, \
         last_error = ?2, updated_at = ?3 \
         WHERE destination_kind = 'webhook' AND destination_id = ?1 AND status = 'pending'",
        params![id, reason, now_millis()],
    )?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_event(
        &self,
        event: &Event,
        body: Vec<u8>,
        deliveries: Vec<NewDelivery>,
    ) -> Result<bool> {
        let row = EventRow::new(event, body);
        self.write(move |conn| insert_event_rows(conn, &row, &deliveries, false))
            .await
    }

    async fn event_body(&self, event_id: &str) -> Result<Option<Vec<u8>>> {
        let event_id = event_id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row("SELECT body FROM events WHERE id = ?1", [event_id], |r| {
                    r.get(0)
                })
                .optional()?)
        })
        .await
    }

    async fn claim_due(
        &self,
        now: Millis,
        limit: u32,
        leased_until: Millis,
    ) -> Result<Vec<ClaimedDelivery>> {
        self.write(move |conn| {
            // `INDEXED BY`: without it SQLite picks `deliveries_by_status`,
            // reads every pending delivery (in flight or not) and sorts them.
            let mut stmt = conn.prepare_cached(
                "SELECT d.id, d.destination_kind, d.destination_id, d.attempts, e.body, d.note \
                 FROM deliveries d INDEXED BY deliveries_due JOIN events e ON e.id = d.event_id \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 \
                 ORDER BY d.next_attempt_at LIMIT ?2",
            )?;
            let claimed = stmt
                .query_map(params![now, limit], |r| {
                    Ok(ClaimedDelivery {
                        id: r.get(0)?,
                        destination: Destination::from_parts(&r.get::<_, String>(1)?, r.get(2)?),
                        attempts: r.get(3)?,
                        event_body: r.get(4)?,
                        note: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut lease = conn.prepare_cached(
                "UPDATE deliveries SET next_attempt_at = ?2, leased = 1 WHERE id = ?1",
            )?;
            for c in &claimed {
                lease.execute(params![c.id, leased_until])?;
            }
            Ok(claimed)
        })
        .await
    }

    async fn next_due_at(&self) -> Result<Option<Millis>> {
        self.read(|conn| {
            // The first entry of the due index, not a scan of every pending
            // delivery (see `claim_due`).
            Ok(conn.query_row(
                "SELECT MIN(next_attempt_at) FROM deliveries INDEXED BY deliveries_due \
                 WHERE status = 'pending'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn release_leases(&self, now: Millis) -> Result<u64> {
        self.write(move |conn| {
            Ok(conn.execute(
                "UPDATE deliveries SET leased = 0, next_attempt_at = ?1 \
                 WHERE status = 'pending' AND leased = 1",
                [now],
            )? as u64)
        })
        .await
    }

    async fn record_attempt(&self, record: AttemptRecord) -> Result<AttemptEffect> {
        self.write(move |conn| {
            let a = &record.attempt;
            let now = now_millis();
            conn.prepare_cached(
                "INSERT OR REPLACE INTO attempts (delivery_id, number, started_at, duration_ms, \
                 status_code, error, response_body, outcome) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                record.delivery_id,
                a.number,
                a.started_at,
                a.duration_ms as i64,
                a.status_code,
                a.error,
                a.response_body,
                a.outcome,
            ])?;
            let (status, next_at) = match record.next {
                NextStep::Succeeded => ("success", None),
                NextStep::RetryAt(at) => ("pending", Some(at)),
                NextStep::Failed => ("failed", None),
            };
            conn.prepare_cached(
                "UPDATE deliveries SET status = ?2, attempts = ?3, next_attempt_at = ?4, leased = 0, \
                 last_status_code = ?5, last_error = ?6, response_body = ?7, duration_ms = ?8, \
                 updated_at = ?9 WHERE id = ?1",
            )?
            .execute(params![
                record.delivery_id,
                status,
                a.number,
                next_at,
                a.status_code,
                a.error,
                a.response_body,
                a.duration_ms as i64,
                now,
            ])?;
            let mut effect = AttemptEffect::default();
            let Destination::Webhook(webhook_id) = &record.destination else {
                return Ok(effect);
            };
            match record.next {
                NextStep::Succeeded => {
                    conn.prepare_cached(
                        "UPDATE webhooks SET consecutive_failures = 0, last_status = 'success', \
                         last_status_code = ?2, last_delivery_at = ?3 WHERE id = ?1",
                    )?
                    .execute(params![webhook_id, a.status_code, now])?;
                }
                NextStep::RetryAt(_) => {
                    conn.prepare_cached(
                        "UPDATE webhooks SET last_status_code = ?2 WHERE id = ?1",
                    )?
                    .execute(params![webhook_id, a.status_code])?;
                }
                NextStep::Failed => {
                    conn.prepare_cached(
                        "UPDATE webhooks SET total_failures = total_failures + 1, \
                         consecutive_failures = consecutive_failures + 1, last_status = 'failed', \
                         last_status_code = ?2, last_delivery_at = ?3 WHERE id = ?1",
                    )?
                    .execute(params![webhook_id, a.status_code, now])?;
                    if record.disable_after > 0 {
                        let disabled = conn.execute(
                            "UPDATE webhooks SET active = 0, disabled_reason = ?3, updated_at = ?4 \
                             WHERE id = ?1 AND active = 1 AND consecutive_failures >= ?2",
                            params![
                                webhook_id,
                                record.disable_after,
                                format!(
                                    "disabled after {} consecutive failed deliveries",
                                    record.disable_after
                                ),
                                now
                            ],
                        )?;
                        effect.webhook_disabled = disabled > 0;
                    }
                }
            }
            Ok(effect)
        })
        .await
    }

    async fn delivery(&self, id: &str) -> Result<Option<Delivery>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?1"),
                    [id],
                    delivery_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn attempts(&self, delivery_id: &str) -> Result<Vec<Attempt>> {
        let delivery_id = delivery_id.to_owned();
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT number, started_at, duration_ms, status_code, error, response_body, outcome \
                 FROM attempts WHERE delivery_id = ?1 ORDER BY number",
            )?;
            let rows = stmt
                .query_map([delivery_id], |r| {
                    Ok(Attempt {
                        number: r.get(0)?,
                        started_at: r.get(1)?,
                        duration_ms: r.get::<_, i64>(2)?.max(0) as u64,
                        status_code: to_u16(r.get(3)?),
                        error: r.get(4)?,
                        response_body: r.get(5)?,
                        outcome: r.get(6)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn deliveries(&self, query: DeliveryQuery) -> Result<Vec<Delivery>> {
        self.read(move |conn| {
            let mut sql = format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE 1 = 1");
            let mut args: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
            if let Some(destination) = &query.destination {
                args.push(Box::new(destination.kind()));
                args.push(Box::new(destination.id().to_owned()));
                sql.push_str(&format!(
                    " AND destination_kind = ?{} AND destination_id = ?{}",
                    args.len() - 1,
                    args.len()
                ));
            }
            if let Some(status) = query.status {
                args.push(Box::new(status.as_str()));
                sql.push_str(&format!(" AND status = ?{}", args.len()));
            }
            if let Some(before) = &query.before {
                args.push(Box::new(before.clone()));
                sql.push_str(&format!(" AND id < ?{}", args.len()));
            }
            args.push(Box::new(query.limit));
            sql.push_str(&format!(" ORDER BY id DESC LIMIT ?{}", args.len()));
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt
                .query_map(
                    rusqlite::params_from_iter(args.iter().map(|a| a.as_ref())),
                    delivery_from_row,
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn requeue(&self, delivery_id: &str, now: Millis) -> Result<Option<Delivery>> {
        let id = delivery_id.to_owned();
        self.write(move |conn| {
            let current: Option<String> = conn
                .query_row("SELECT status FROM deliveries WHERE id = ?1", [&id], |r| {
                    r.get(0)
                })
                .optional()?;
            match current.as_deref() {
                None => return Ok(None),
                Some("pending") => {
                    return Err(Error::Conflict(
                        "the delivery is still pending; it will be attempted again".into(),
                    ))
                }
                Some(_) => {}
            }
            conn.execute(
                "UPDATE deliveries SET status = 'pending', next_attempt_at = ?2, leased = 0, \
                 updated_at = ?2 WHERE id = ?1",
                params![id, now],
            )?;
            Ok(conn
                .query_row(
                    &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE id = ?1"),
                    [&id],
                    delivery_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn queue_depth(&self, now: Millis) -> Result<QueueDepth> {
        self.read(move |conn| {
            Ok(conn.query_row(
                "SELECT COUNT(*), COALESCE(SUM(next_attempt_at <= ?1 AND leased = 0), 0) \
                 FROM deliveries WHERE status = 'pending'",
                [now],
                |r| {
                    Ok(QueueDepth {
                        pending: r.get::<_, i64>(0)? as u64,
                        due: r.get::<_, i64>(1)? as u64,
                    })
                },
            )?)
        })
        .await
    }

    async fn destination_stats(&self, destination: &Destination) -> Result<DestinationStats> {
        let kind = destination.kind();
        let id = destination.id().to_owned();
        self.read(move |conn| {
            let (succeeded, failed, pending): (i64, i64, i64) = conn.query_row(
                "SELECT COALESCE(SUM(status = 'success'), 0), COALESCE(SUM(status = 'failed'), 0), \
                 COALESCE(SUM(status = 'pending'), 0) FROM deliveries \
                 WHERE destination_kind = ?1 AND destination_id = ?2",
                params![kind, id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            let consecutive: i64 = conn.query_row(
                "SELECT COUNT(*) FROM deliveries WHERE destination_kind = ?1 AND destination_id = ?2 \
                 AND status = 'failed' AND id > COALESCE((SELECT MAX(id) FROM deliveries \
                 WHERE destination_kind = ?1 AND destination_id = ?2 AND status = 'success'), '')",
                params![kind, id],
                |r| r.get(0),
            )?;
            let last: Option<String> = conn
                .query_row(
                    "SELECT status FROM deliveries WHERE destination_kind = ?1 AND destination_id = ?2 \
                     AND status != 'pending' ORDER BY updated_at DESC, id DESC LIMIT 1",
                    params![kind, id],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(DestinationStats {
                succeeded: succeeded as u64,
                failed: failed as u64,
                pending: pending as u64,
                consecutive_failures: consecutive as u64,
                last_status: last.and_then(|s| DeliveryStatus::parse(&s)),
            })
        })
        .await
    }

    async fn hold_release_at(
        &self,
        destination: &Destination,
        key: &str,
    ) -> Result<Option<Millis>> {
        let (kind, id, key) = (
            destination.kind(),
            destination.id().to_owned(),
            key.to_owned(),
        );
        self.read(move |conn| {
            Ok(conn.query_row(
                "SELECT MIN(next_attempt_at) FROM deliveries WHERE status = 'held' \
                 AND destination_kind = ?1 AND destination_id = ?2 AND hold_key = ?3",
                params![kind, id, key],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn due_holds(&self, now: Millis) -> Result<Vec<HeldGroup>> {
        self.read(move |conn| {
            // Every item of each group whose earliest release time has come.
            let mut stmt = conn.prepare_cached(
                "SELECT d.destination_kind, d.destination_id, d.hold_key, d.id, e.body \
                 FROM deliveries d JOIN events e ON e.id = d.event_id \
                 WHERE d.status = 'held' AND (d.destination_kind, d.destination_id, d.hold_key) IN \
                   (SELECT destination_kind, destination_id, hold_key FROM deliveries \
                    WHERE status = 'held' GROUP BY destination_kind, destination_id, hold_key \
                    HAVING MIN(next_attempt_at) <= ?1) \
                 ORDER BY d.destination_kind, d.destination_id, d.hold_key, d.id",
            )?;
            let rows = stmt.query_map([now], |r| {
                Ok((
                    Destination::from_parts(&r.get::<_, String>(0)?, r.get(1)?),
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Vec<u8>>(4)?,
                ))
            })?;
            let mut groups: Vec<HeldGroup> = Vec::new();
            for row in rows {
                let (destination, key, id, body) = row?;
                match groups.last_mut() {
                    Some(g) if g.destination == destination && g.key == key => {
                        g.items.push((id, body))
                    }
                    _ => groups.push(HeldGroup {
                        destination,
                        key,
                        items: vec![(id, body)],
                    }),
                }
            }
            Ok(groups)
        })
        .await
    }

    async fn release_hold(
        &self,
        group: &HeldGroup,
        event: &Event,
        body: Vec<u8>,
        delivery: NewDelivery,
    ) -> Result<bool> {
        let row = EventRow::new(event, body);
        let held: Vec<String> = group.items.iter().map(|(id, _)| id.clone()).collect();
        self.write(move |conn| {
            let now = now_millis();
            let note = format!("sent in {} ({})", delivery.id, row.id);
            let mut merged = 0;
            for held_id in &held {
                merged += conn
                    .prepare_cached(
                        "UPDATE deliveries SET status = 'merged', note = ?2, \
                         next_attempt_at = NULL, updated_at = ?3 WHERE id = ?1 AND status = 'held'",
                    )?
                    .execute(params![held_id, note, now])?;
            }
            if merged == 0 {
                return Ok(false);
            }
            insert_event_rows(conn, &row, std::slice::from_ref(&delivery), true).map(|_| true)
        })
        .await
    }

    async fn add_fallback(
        &self,
        original_delivery_id: &str,
        event_id: &str,
        delivery: NewDelivery,
    ) -> Result<()> {
        let (original, event_id) = (original_delivery_id.to_owned(), event_id.to_owned());
        self.write(move |conn| {
            let now = now_millis();
            let kind: String =
                conn.query_row("SELECT kind FROM events WHERE id = ?1", [&event_id], |r| r.get(0))?;
            conn.execute(
                "INSERT INTO deliveries (id, destination_kind, destination_id, event_id, \
                 event_kind, status, attempts, next_attempt_at, leased, created_at, updated_at, note) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, 0, ?6, ?6, ?7)",
                params![
                    delivery.id,
                    delivery.destination.kind(),
                    delivery.destination.id(),
                    event_id,
                    kind,
                    now,
                    delivery.note,
                ],
            )?;
            conn.execute(
                "UPDATE deliveries SET note = ?2 WHERE id = ?1",
                params![
                    original,
                    format!("fell back to {} ({})", delivery.destination, delivery.id)
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn create_webhook(&self, webhook: Webhook) -> Result<()> {
        self.write(move |conn| insert_webhook(conn, &webhook)).await
    }

    async fn update_webhook(&self, webhook: Webhook) -> Result<()> {
        self.write(move |conn| match update_webhook_row(conn, &webhook)? {
            0 => Err(Error::NotFound(format!("webhook `{}`", webhook.id))),
            _ => Ok(()),
        })
        .await
    }

    async fn delete_webhook(&self, id: &str) -> Result<bool> {
        let id = id.to_owned();
        self.write(move |conn| {
            fail_pending_of(conn, &id, "the webhook was deleted")?;
            Ok(conn.execute("DELETE FROM webhooks WHERE id = ?1", [&id])? > 0)
        })
        .await
    }

    async fn webhook(&self, id: &str) -> Result<Option<Webhook>> {
        let id = id.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1"),
                    [id],
                    webhook_from_row,
                )
                .optional()?)
        })
        .await
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY created_at, id"
            ))?;
            let rows = stmt
                .query_map([], webhook_from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn sync_config_webhooks(&self, webhooks: Vec<Webhook>) -> Result<()> {
        self.write(move |conn| {
            let existing: Vec<String> = conn
                .prepare("SELECT id FROM webhooks WHERE origin = 'config'")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for id in &existing {
                if !webhooks.iter().any(|w| &w.id == id) {
                    fail_pending_of(conn, id, "the webhook was removed from the config")?;
                    conn.execute("DELETE FROM webhooks WHERE id = ?1", [id])?;
                }
            }
            for w in &webhooks {
                if existing.contains(&w.id) {
                    // Keep counters; the config decides the settings.
                    conn.execute(
                        "UPDATE webhooks SET name = ?2, url = ?3, secret = ?4, signature = ?5, \
                         events = ?6, filters = ?7, max_retries = ?8, body_template = ?9, \
                         active = CASE WHEN ?10 THEN active ELSE 0 END, updated_at = ?11 WHERE id = ?1",
                        params![
                            w.id,
                            w.name,
                            w.url,
                            w.secret,
                            w.signature.as_str(),
                            json_text(&w.events)?,
                            json_text(&w.filters)?,
                            w.max_retries,
                            w.body_template,
                            w.active,
                            w.updated_at,
                        ],
                    )?;
                } else {
                    insert_webhook(conn, w)?;
                }
            }
            Ok(())
        })
        .await
    }
}
