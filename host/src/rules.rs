//! Applying a destination's [`Rules`]: the state behind throttles and rate
//! caps, and the decision to send, hold or skip an event.
//!
//! What is held (grouping windows, quiet-hours digests, rate-cap
//! summaries) lives in the store as `held` deliveries, so a restart within a
//! window loses nothing; the dispatcher releases each group as one combined
//! notification when its time comes. Throttle memory is in memory: after a
//! restart a duplicate may pass once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use herald_core::rules::{self, Rules};
use herald_core::Event;

use crate::clock::Clock;
use crate::error::Result;
use crate::store::{Destination, Hold, Millis, Store};

/// Most throttle keys remembered per engine (oldest forgotten first).
const MAX_THROTTLE_KEYS: usize = 65_536;

/// Hold key of quiet-hours digests.
pub const DIGEST_KEY: &str = "digest";
/// Hold key prefix of item-added groups.
pub const GROUP_PREFIX: &str = "group:";
/// Hold key prefix of rate-cap summaries.
pub const SUMMARY_PREFIX: &str = "summary:";

/// What to do with an event for one destination.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Deliver it now.
    Send,
    /// Keep it until the hold is released.
    Hold(Hold),
    /// Do not deliver it, for this reason.
    Skip(String),
}

/// Throttle and rate-cap state of every destination.
pub struct RuleEngine {
    clock: Arc<Clock>,
    last_sent: Mutex<HashMap<(Destination, String), Millis>>,
    per_minute: Mutex<HashMap<Destination, (i64, u32)>>,
}

impl RuleEngine {
    /// An engine on `clock`.
    pub fn new(clock: Arc<Clock>) -> RuleEngine {
        RuleEngine {
            clock,
            last_sent: Mutex::new(HashMap::new()),
            per_minute: Mutex::new(HashMap::new()),
        }
    }

    /// The rules clock.
    pub fn clock(&self) -> &Arc<Clock> {
        &self.clock
    }

    /// Decides for an event that matched `destination`'s patterns and
    /// filters. Conditions are checked here too.
    pub async fn decide(
        &self,
        store: &dyn Store,
        destination: &Destination,
        rules: &Rules,
        event: &Event,
    ) -> Result<Decision> {
        if let Some(condition) = &rules.conditions {
            if !condition.matches(event) {
                return Ok(Decision::Skip("conditions not met".into()));
            }
        }
        let now = self.clock.now();
        let now_ms = now.timestamp_millis();
        if let Some(interval) = rules.throttle.as_ref().and_then(|t| t.min_interval) {
            let key = rules
                .throttle
                .as_ref()
                .map(|t| t.key_of(event))
                .unwrap_or_default();
            let mut last = self.last_sent.lock().unwrap_or_else(|e| e.into_inner());
            let map_key = (destination.clone(), format!("{}\u{1f}{key}", event.event));
            if let Some(previous) = last.get(&map_key) {
                if now_ms - previous < interval.as_millis() as i64 {
                    return Ok(Decision::Skip(format!(
                        "throttled: the same notification was sent less than {} ago",
                        humantime::format_duration(interval)
                    )));
                }
            }
            if last.len() >= MAX_THROTTLE_KEYS {
                let cutoff = now_ms - interval.as_millis() as i64;
                last.retain(|_, at| *at > cutoff);
            }
            last.insert(map_key, now_ms);
        }
        if let Some(quiet) = &rules.quiet_hours {
            if let Some(end) = quiet.window_end(now) {
                return Ok(match quiet.action {
                    rules::QuietAction::Drop => Decision::Skip("quiet hours".into()),
                    rules::QuietAction::Digest => Decision::Hold(Hold {
                        key: DIGEST_KEY.into(),
                        release_at: end.timestamp_millis(),
                    }),
                });
            }
        }
        if let (Some(group), Some(key)) = (&rules.group, rules::group_key(event)) {
            let key = format!("{GROUP_PREFIX}{key}");
            let release_at = match store.hold_release_at(destination, &key).await? {
                Some(at) => at,
                None => now_ms + group.window.as_millis() as i64,
            };
            return Ok(Decision::Hold(Hold { key, release_at }));
        }
        if let Some(cap) = rules.throttle.as_ref().and_then(|t| t.max_per_minute) {
            let minute = now_ms.div_euclid(60_000);
            let mut counts = self.per_minute.lock().unwrap_or_else(|e| e.into_inner());
            let entry = counts.entry(destination.clone()).or_insert((minute, 0));
            if entry.0 != minute {
                *entry = (minute, 0);
            }
            if entry.1 >= cap {
                return Ok(Decision::Hold(Hold {
                    key: format!("{SUMMARY_PREFIX}{minute}"),
                    release_at: (minute + 1) * 60_000,
                }));
            }
            entry.1 += 1;
        }
        Ok(Decision::Send)
    }
}

/// The one notification a released group of held events becomes: the
/// event itself when it is alone, else a combined event.
pub fn combine(key: &str, events: &[Event], clock: &Clock) -> Option<Event> {
    if events.len() == 1 {
        return events.first().cloned();
    }
    let now = clock.now();
    Some(if key.starts_with(GROUP_PREFIX) {
        rules::grouped_event(events, now)
    } else if key.starts_with(SUMMARY_PREFIX) {
        rules::summary_event(events, now)
    } else {
        rules::digest_event(events, now)
    })
}
