//! Inbound sources: which media server posts to which ingest URL, and the
//! per-source checks applied to its events (user and server matching,
//! de-duplication of repeated playback events).

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use herald_core::sources::{dedup_key, Deduplicator, Origin};
use herald_core::Event;
use subtle::ConstantTimeEq;

use crate::config::SourceConfig;

/// One configured source and its de-duplication memory.
pub struct Source {
    /// Its config entry.
    pub config: SourceConfig,
    dedup: Mutex<Deduplicator>,
}

/// Why a parsed event is not forwarded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip(pub String);

impl Source {
    /// A source from its config.
    pub fn new(config: SourceConfig) -> Source {
        let dedup = Deduplicator::new(config.dedup_window, Deduplicator::DEFAULT_CAPACITY);
        Source {
            config,
            dedup: Mutex::new(dedup),
        }
    }

    /// The ingest path of this source.
    pub fn path(&self) -> String {
        format!("/api/v1/ingest/{}", self.config.token)
    }

    /// Applies `match_user`, `match_server` and de-duplication.
    pub fn admit(&self, event: &Event, origin: &Origin, now: DateTime<Utc>) -> Result<(), Skip> {
        let c = &self.config;
        if !c.match_user.is_empty() {
            let matches = [&origin.user_id, &origin.user_name]
                .into_iter()
                .flatten()
                .any(|value| c.match_user.iter().any(|m| m == value));
            if !matches {
                return Err(Skip(format!(
                    "user {} is not in match_user",
                    origin
                        .user_name
                        .as_deref()
                        .or(origin.user_id.as_deref())
                        .unwrap_or("(none)")
                )));
            }
        }
        if !c.match_server.is_empty() {
            let matches = [&origin.server_id, &origin.server_name]
                .into_iter()
                .flatten()
                .any(|value| c.match_server.iter().any(|m| m == value));
            if !matches {
                return Err(Skip(format!(
                    "server {} is not in match_server",
                    origin
                        .server_name
                        .as_deref()
                        .or(origin.server_id.as_deref())
                        .unwrap_or("(none)")
                )));
            }
        }
        if event.event.as_str().starts_with("playback.") && !c.dedup_window.is_zero() {
            let key = dedup_key(&c.name, event);
            let repeated = self
                .dedup
                .lock()
                .map(|mut d| d.seen(&key, now))
                .unwrap_or(false);
            if repeated {
                return Err(Skip(format!(
                    "repeated {} within {}",
                    event.event,
                    humantime::format_duration(c.dedup_window)
                )));
            }
        }
        Ok(())
    }
}

/// Every configured source, found by the token in its URL.
#[derive(Default)]
pub struct Sources {
    sources: Vec<Source>,
}

impl Sources {
    /// Sources from config.
    pub fn new(configs: &[SourceConfig]) -> Sources {
        Sources {
            sources: configs.iter().cloned().map(Source::new).collect(),
        }
    }

    /// The source whose token is `token`, compared in constant time.
    pub fn by_token(&self, token: &str) -> Option<&Source> {
        // Compare against every source so the time taken does not say
        // which prefix matched.
        let mut found = None;
        for source in &self.sources {
            let equal: bool = source
                .config
                .token
                .as_bytes()
                .ct_eq(token.as_bytes())
                .into();
            if equal {
                found = Some(source);
            }
        }
        found
    }

    /// All sources.
    pub fn iter(&self) -> impl Iterator<Item = &Source> {
        self.sources.iter()
    }
}
