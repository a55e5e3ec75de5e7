//! The clock of time-based rules (grouping windows, quiet hours, throttles).
//!
//! In production it is the system clock. For tests of the real binary,
//! `HERALD_TEST_CLOCK=<RFC 3339 time>` starts it at that time (it then runs
//! on with real time) and enables `POST /api/v1/admin/test/clock` to move it
//! forward, so no test sleeps through a real five-minute window.

use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Utc};

/// Environment variable that enables the controllable clock.
pub const TEST_CLOCK_ENV: &str = "HERALD_TEST_CLOCK";

/// Wall-clock time plus an adjustable offset.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
    controllable: bool,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// A clock starting at `start` and moved only by [`advance`](Self::advance).
    pub fn starting_at(start: DateTime<Utc>) -> Clock {
        Clock {
            offset_ms: AtomicI64::new(start.timestamp_millis() - Utc::now().timestamp_millis()),
            controllable: true,
        }
    }

    /// From the environment: [`TEST_CLOCK_ENV`] set → controllable.
    pub fn from_env() -> Result<Clock, String> {
        match std::env::var(TEST_CLOCK_ENV) {
            Ok(text) => DateTime::parse_from_rfc3339(&text)
                .map(|t| Clock::starting_at(t.with_timezone(&Utc)))
                .map_err(|e| format!("{TEST_CLOCK_ENV}: `{text}` is not an RFC 3339 time: {e}")),
            Err(_) => Ok(Clock::system()),
        }
    }

    /// Now.
    pub fn now(&self) -> DateTime<Utc> {
        let offset = self.offset_ms.load(Ordering::Relaxed);
        Utc::now() + chrono::Duration::milliseconds(offset)
    }

    /// Now in unix milliseconds.
    pub fn now_millis(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// Whether tests may move it.
    pub fn is_controllable(&self) -> bool {
        self.controllable
    }

    /// Moves the clock forward.
    pub fn advance(&self, seconds: i64) {
        self.offset_ms
            .fetch_add(seconds.saturating_mul(1000), Ordering::Relaxed);
    }
}
