//! Per-client request budgets (GCRA), counted in the platform cache: in this process when
//! embedded, in Redis — and so shared by every process — in a cluster. A refusal is a 429
//! problem with `Retry-After` in whole seconds. If the cache cannot answer, requests are
//! allowed (see `weft_cache::Cache::rate_limit`).

use std::net::IpAddr;

use weft_cache::{Cache, Quota, RateDecision};

/// The budgets the stack enforces.
#[derive(Debug, Clone)]
pub struct RateLimits {
    cache: Cache,
    per_ip: Quota,
}

impl RateLimits {
    /// `None` when `per_ip_per_minute` is 0 (rate limiting off).
    pub fn per_ip_per_minute(cache: Cache, per_ip_per_minute: u32) -> Option<Self> {
        (per_ip_per_minute > 0).then(|| Self {
            cache,
            per_ip: Quota::per_minute(per_ip_per_minute),
        })
    }

    /// Counts one request from `ip`.
    pub async fn check_ip(&self, ip: IpAddr) -> RateDecision {
        self.cache
            .rate_limit(&format!("rl:ip:{ip}"), self.per_ip)
            .await
    }
}
