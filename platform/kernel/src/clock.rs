//! Time, injectable so expiry logic can be tested without sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, TimeZone, Utc};

/// A source of "now". `Clock::system()` in production, `Clock::fixed(..)` in tests.
#[derive(Clone)]
pub struct Clock(Inner);

#[derive(Clone)]
enum Inner {
    System,
    /// Microseconds since the epoch, shared so a test can advance every holder at once.
    Fixed(Arc<AtomicI64>),
}

impl Clock {
    pub fn system() -> Self {
        Self(Inner::System)
    }

    pub fn fixed(at: DateTime<Utc>) -> Self {
        Self(Inner::Fixed(Arc::new(AtomicI64::new(
            at.timestamp_micros(),
        ))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Inner::System => Utc::now(),
            Inner::Fixed(micros) => Utc
                .timestamp_micros(micros.load(Ordering::SeqCst))
                .single()
                .unwrap_or_default(),
        }
    }

    /// Moves a fixed clock forward; a system clock ignores it.
    pub fn advance(&self, by: chrono::Duration) {
        if let Inner::Fixed(micros) = &self.0 {
            micros.fetch_add(by.num_microseconds().unwrap_or(i64::MAX), Ordering::SeqCst);
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Inner::System => f.write_str("Clock::system"),
            Inner::Fixed(_) => write!(f, "Clock::fixed({})", self.now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_only_moves_when_advanced() {
        let start = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let clock = Clock::fixed(start);
        assert_eq!(clock.now(), start);
        let copy = clock.clone();
        copy.advance(chrono::Duration::minutes(15));
        assert_eq!(clock.now(), start + chrono::Duration::minutes(15));
    }
}
