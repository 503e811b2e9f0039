//! What time it is, asked of one place that can be replaced: the system clock in production,
//! a clock a test sets (and moves) instead of sleeping.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::{Duration, OffsetDateTime};

/// The time now. Shared by the store and the server (`Arc<dyn Clock>`).
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> OffsetDateTime;
}

/// The system's clock, in UTC.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that says what it was set to, and moves only when told (tests).
#[derive(Debug)]
pub struct FixedClock {
    /// Unix time in microseconds.
    micros: AtomicI64,
}

impl FixedClock {
    pub fn at(t: OffsetDateTime) -> Arc<Self> {
        Arc::new(Self {
            micros: AtomicI64::new(micros(t)),
        })
    }

    pub fn set(&self, t: OffsetDateTime) {
        self.micros.store(micros(t), Ordering::SeqCst);
    }

    pub fn advance(&self, by: Duration) {
        self.micros
            .fetch_add(by.whole_microseconds() as i64, Ordering::SeqCst);
    }
}

fn micros(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000) as i64
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        let m = self.micros.load(Ordering::SeqCst) as i128;
        OffsetDateTime::from_unix_timestamp_nanos(m * 1_000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

/// The system clock, shared.
pub fn system() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn a_fixed_clock_moves_only_when_told() {
        let c = FixedClock::at(datetime!(2026-03-01 09:00 UTC));
        assert_eq!(c.now(), datetime!(2026-03-01 09:00 UTC));
        c.advance(Duration::hours(25));
        assert_eq!(c.now(), datetime!(2026-03-02 10:00 UTC));
        c.set(datetime!(2030-01-01 00:00 UTC));
        assert_eq!(c.now(), datetime!(2030-01-01 00:00 UTC));
    }
}
