//! In-process rate limiting per client IP (GCRA via governor): `limit` requests a minute
//! with a burst of `limit`. A refusal is a 429 problem with `Retry-After` in whole seconds.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Shared per-IP limiter; cheap to clone.
#[derive(Clone)]
pub struct IpRateLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    clock: DefaultClock,
}

impl std::fmt::Debug for IpRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpRateLimiter")
            .field("tracked", &self.limiter.len())
            .finish_non_exhaustive()
    }
}

impl IpRateLimiter {
    /// `None` when `per_minute` is 0 (rate limiting off).
    pub fn per_minute(per_minute: u32) -> Option<Self> {
        let n = NonZeroU32::new(per_minute)?;
        Some(Self {
            limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(n))),
            clock: DefaultClock::default(),
        })
    }

    /// `Ok` to proceed, or how long until the next request would be allowed.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }

    /// Forgets clients whose budget has fully refilled, bounding memory.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
        self.limiter.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_is_per_ip_and_refusals_say_when_to_retry() {
        let limiter = IpRateLimiter::per_minute(3).unwrap();
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..3 {
            assert!(limiter.check(a).is_ok());
        }
        let wait = limiter.check(a).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(20),
            "{wait:?}"
        );
        assert!(
            limiter.check(b).is_ok(),
            "another client has its own budget"
        );
    }

    #[test]
    fn zero_turns_rate_limiting_off() {
        assert!(IpRateLimiter::per_minute(0).is_none());
    }
}
