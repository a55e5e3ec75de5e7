//! Dropping repeated events (Plex re-sends `media.play`, and the owner's
//! webhook gets both `playback.started` and `media.play` for a shared user).
//!
//! Pure and bounded: the caller passes `now`, and the memory holds at most
//! `capacity` keys, the oldest going first.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::event::Event;

/// The key under which an event counts as a repeat: source name, event kind,
/// user id and item id (`data.user_id`, `data.media_item_id`; empty when
/// absent).
pub fn dedup_key(source: &str, event: &Event) -> String {
    const SEP: char = '\u{1f}';
    format!(
        "{source}{SEP}{}{SEP}{}{SEP}{}",
        event.event,
        event.data_str("user_id").unwrap_or_default(),
        event.data_str("media_item_id").unwrap_or_default(),
    )
}

/// Remembers keys for a window and says whether a key was already seen in it.
///
/// The window is fixed from the first sighting (a steady stream of repeats
/// lets one through per window, it does not extend the silence). The host
/// holds one per source, behind a mutex, and asks it about the `playback.*`
/// events of that source with [`dedup_key`]:
///
/// ```
/// use std::time::Duration;
/// use herald_core::sources::Deduplicator;
///
/// let mut dedup = Deduplicator::new(Duration::from_secs(30), 1024);
/// let t0 = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default();
/// assert!(!dedup.seen("plex\u{1f}playback.started\u{1f}1\u{1f}42", t0));
/// assert!(dedup.seen("plex\u{1f}playback.started\u{1f}1\u{1f}42", t0 + chrono::Duration::seconds(3)));
/// ```
#[derive(Debug)]
pub struct Deduplicator {
    window: TimeDelta,
    capacity: usize,
    first_seen: HashMap<String, DateTime<Utc>>,
    order: VecDeque<(DateTime<Utc>, String)>,
}

impl Default for Deduplicator {
    fn default() -> Deduplicator {
        Deduplicator::new(Deduplicator::DEFAULT_WINDOW, Deduplicator::DEFAULT_CAPACITY)
    }
}

impl Deduplicator {
    /// 30 seconds.
    pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30);
    /// 4096 keys.
    pub const DEFAULT_CAPACITY: usize = 4096;

    /// A de-duplicator with the given window and at most `capacity` keys
    /// (at least one).
    pub fn new(window: Duration, capacity: usize) -> Deduplicator {
        Deduplicator {
            window: TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX),
            capacity: capacity.max(1),
            first_seen: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    /// `true` if `key` was seen less than the window before `now` (drop the
    /// event); otherwise remembers it at `now` and returns `false`.
    ///
    /// A clock that steps back counts by distance: a key seen "in the
    /// future" within the window is still a repeat.
    pub fn seen(&mut self, key: &str, now: DateTime<Utc>) -> bool {
        self.expire(now);
        if let Some(first) = self.first_seen.get(key) {
            let distance = now.signed_duration_since(*first).abs();
            if distance < self.window {
                return true;
            }
        }
        self.first_seen.insert(key.to_owned(), now);
        self.order.push_back((now, key.to_owned()));
        while self.first_seen.len() > self.capacity || self.order.len() > 2 * self.capacity {
            self.pop_oldest();
        }
        false
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.first_seen.len()
    }

    /// Whether no key is remembered.
    pub fn is_empty(&self) -> bool {
        self.first_seen.is_empty()
    }

    fn expire(&mut self, now: DateTime<Utc>) {
        while let Some((at, _)) = self.order.front() {
            let expired = at
                .checked_add_signed(self.window)
                .is_some_and(|until| until <= now);
            if !expired {
                break;
            }
            self.pop_oldest();
        }
    }

    fn pop_oldest(&mut self) {
        if let Some((at, key)) = self.order.pop_front() {
            // A key seen again after expiring has a newer entry; keep it.
            if self.first_seen.get(&key) == Some(&at) {
                self.first_seen.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap_or_default()
    }

    #[test]
    fn repeats_within_the_window_are_seen() {
        let mut d = Deduplicator::new(Duration::from_secs(30), 10);
        assert!(!d.seen("a", t(0)));
        assert!(d.seen("a", t(10)));
        assert!(d.seen("a", t(29)));
        assert!(!d.seen("b", t(29)));
        // Fixed window: the first sighting at 0 expires at 30.
        assert!(!d.seen("a", t(30)));
        assert!(d.seen("a", t(31)));
    }

    #[test]
    fn memory_is_bounded() {
        let mut d = Deduplicator::new(Duration::from_secs(3600), 3);
        for (i, key) in ["a", "b", "c", "d"].into_iter().enumerate() {
            assert!(!d.seen(key, t(i as i64)));
        }
        assert_eq!(d.len(), 3);
        // `a` was evicted as the oldest.
        assert!(!d.seen("a", t(5)));
        assert!(d.seen("d", t(5)));
    }

    #[test]
    fn expired_keys_are_forgotten() {
        let mut d = Deduplicator::new(Duration::from_secs(30), 100);
        for i in 0..50 {
            d.seen(&format!("k{i}"), t(0));
        }
        d.seen("late", t(100));
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn a_clock_stepping_back_stays_bounded() {
        let mut d = Deduplicator::new(Duration::from_secs(30), 4);
        for i in 0..100 {
            d.seen("k", t(1000 - i * 40));
        }
        assert!(d.len() <= 4);
        assert!(d.order.len() <= 8);
    }
}
