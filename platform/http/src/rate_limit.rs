//! Per-client request budgets (GCRA), counted in the platform cache: in this process when
//! embedded, in Redis — and so shared by every process — in a cluster. Every request
//! counts against its client IP's budget, and an authenticated one also against its user's
//! or app's — except the cluster's own calls (a key with the `internal` scope). A refusal is a 429 problem with `Retry-After` in whole seconds. If the cache
//! cannot answer, requests are allowed (see `weft_cache::Cache::rate_limit`).

use std::net::IpAddr;

use weft_cache::{Cache, Quota, RateDecision};

use crate::principal::{Principal, PrincipalKind};

/// Requests per minute per kind of client; 0 means no limit for that kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    pub per_ip: u32,
    pub per_user: u32,
    pub per_app: u32,
}

/// The budgets the stack enforces.
#[derive(Debug, Clone)]
pub struct RateLimits {
    cache: Cache,
    budgets: Budgets,
}

impl RateLimits {
    /// `None` when every budget is 0 (rate limiting off).
    pub fn new(cache: Cache, budgets: Budgets) -> Option<Self> {
        (budgets.per_ip > 0 || budgets.per_user > 0 || budgets.per_app > 0)
            .then_some(Self { cache, budgets })
    }

    /// Counts one request from `ip`, acting for `principal` if authenticated. Refused as
    /// soon as either budget is spent.
    pub async fn check(&self, ip: Option<IpAddr>, principal: Option<&Principal>) -> RateDecision {
        // A cluster's own processes calling each other (`/v1/internal/…`, the peers'
        // key): their calls are what public requests, already counted, fan out into,
        // and they all come from a few addresses.
        if principal.is_some_and(|p| p.kind == PrincipalKind::App && p.has_scope("internal")) {
            return RateDecision::Allowed;
        }
        if let Some(ip) = ip
            && self.budgets.per_ip > 0
        {
            let decision = self
                .cache
                .rate_limit(
                    &format!("rl:ip:{ip}"),
                    Quota::per_minute(self.budgets.per_ip),
                )
                .await;
            if decision != RateDecision::Allowed {
                return decision;
            }
        }
        if let Some(principal) = principal {
            let (kind, per_minute) = match principal.kind {
                PrincipalKind::User => ("user", self.budgets.per_user),
                PrincipalKind::App => ("app", self.budgets.per_app),
            };
            if per_minute > 0 {
                return self
                    .cache
                    .rate_limit(
                        &format!("rl:{kind}:{}", principal.id),
                        Quota::per_minute(per_minute),
                    )
                    .await;
            }
        }
        RateDecision::Allowed
    }
}
