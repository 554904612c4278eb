//! Brute-force protection for sign-in, counted in the platform cache (so a cluster shares
//! it through Redis). After `ACCOUNT_FREE_FAILURES` failures within 15 minutes an account
//! is blocked for 2, 4, 8 … seconds (at most 15 minutes) after each further failure; an IP
//! gets `IP_FREE_FAILURES` before the same treatment. A success clears the account's count.
//!
//! Requests that send an e-mail (password reset, address verification) are rationed too,
//! by [`EmailThrottle`]: per address whether or not it has an account (a 429 that only
//! known addresses got would tell which ones exist), and per client IP.

use std::net::IpAddr;
use std::time::Duration;

use weft_cache::{Cache, Quota, RateDecision};

const WINDOW: Duration = Duration::from_mins(15);
const MAX_BLOCK: Duration = Duration::from_mins(15);
pub const ACCOUNT_FREE_FAILURES: i64 = 5;
pub const IP_FREE_FAILURES: i64 = 20;

/// Sign-in throttling state.
#[derive(Debug, Clone)]
pub struct LoginThrottle {
    cache: Cache,
}

fn account_key(email: &str) -> String {
    format!("login:fail:acct:{email}")
}

fn ip_key(ip: IpAddr) -> String {
    format!("login:fail:ip:{ip}")
}

fn block_key(counter: &str) -> String {
    format!("{counter}:blocked-until")
}

/// How long to block after `failures` (counting from the first over the free allowance).
fn block_for(failures: i64, free: i64) -> Option<Duration> {
    let over = failures - free;
    (over >= 0).then(|| {
        Duration::from_secs(2u64.saturating_pow(u32::try_from(over + 1).unwrap_or(u32::MAX)))
            .min(MAX_BLOCK)
    })
}

impl LoginThrottle {
    pub fn new(cache: Cache) -> Self {
        Self { cache }
    }

    /// `Some(wait)` when this email or IP may not try yet.
    pub async fn blocked(&self, email: &str, ip: Option<IpAddr>) -> Option<Duration> {
        let now = chrono::Utc::now().timestamp_millis();
        let mut keys = vec![block_key(&account_key(email))];
        keys.extend(ip.map(|ip| block_key(&ip_key(ip))));
        let mut wait = None;
        for key in keys {
            if let Some(until) = self.cache.get_json::<i64>(&key).await
                && until > now
            {
                let remaining = Duration::from_millis(u64::try_from(until - now).unwrap_or(0));
                wait = Some(wait.map_or(remaining, |w: Duration| w.max(remaining)));
            }
        }
        wait
    }

    /// Counts a failure; returns `true` when it put the account under a block for the
    /// first time in this window (worth telling the account holder).
    pub async fn failed(&self, email: &str, ip: Option<IpAddr>) -> bool {
        let mut newly_locked = false;
        let mut counters = vec![(account_key(email), ACCOUNT_FREE_FAILURES, true)];
        counters.extend(ip.map(|ip| (ip_key(ip), IP_FREE_FAILURES, false)));
        for (key, free, is_account) in counters {
            let Some(failures) = self.cache.increment(&key, WINDOW).await else {
                continue;
            };
            if let Some(block) = block_for(failures, free) {
                let until = chrono::Utc::now().timestamp_millis()
                    + i64::try_from(block.as_millis()).unwrap_or(i64::MAX);
                self.cache.set_json(&block_key(&key), &until, block).await;
                newly_locked |= is_account && failures == free;
            }
        }
        newly_locked
    }

    /// Clears the account's failures after a successful sign-in.
    pub async fn succeeded(&self, email: &str) {
        self.cache.invalidate(&account_key(email)).await;
    }

    /// Clears the account's failures and any block on it: after a password reset the
    /// holder has proved they own the address, and guesses at the old password no
    /// longer matter.
    pub async fn forgive(&self, email: &str) {
        let key = account_key(email);
        self.cache.invalidate(&block_key(&key)).await;
        self.cache.invalidate(&key).await;
    }
}

/// E-mails one address may be sent per kind of link: a burst of 3, then one more every
/// 5 minutes (GCRA over 15 minutes). Enough for "I did not get it" twice; not enough to
/// flood an inbox.
pub const EMAILS_PER_ADDRESS: Quota = Quota {
    limit: 3,
    period: Duration::from_mins(15),
};

/// E-mail-sending requests one client IP may make, whatever the addresses: a burst of
/// 20, then one more every 45 seconds.
pub const EMAILS_PER_IP: Quota = Quota {
    limit: 20,
    period: Duration::from_mins(15),
};

/// Rations requests that send e-mail, in the platform cache (shared through Redis in a
/// cluster). Like every cache-backed limit it fails open: a cache outage must not stop
/// people from resetting their passwords.
#[derive(Debug, Clone)]
pub struct EmailThrottle {
    cache: Cache,
}

impl EmailThrottle {
    pub fn new(cache: Cache) -> Self {
        Self { cache }
    }

    /// Counts one request from `ip` for a `kind` of e-mail (`password_reset`…) to
    /// `email`; `Err(wait)` when either allowance is spent. The IP is counted first, so a
    /// client over its own allowance does not also use up the address's.
    pub async fn check(&self, kind: &str, email: &str, ip: Option<IpAddr>) -> Result<(), Duration> {
        if let Some(ip) = ip {
            limited(
                self.cache
                    .rate_limit(&format!("mail:ip:{ip}"), EMAILS_PER_IP)
                    .await,
            )?;
        }
        limited(
            self.cache
                .rate_limit(&format!("mail:{kind}:addr:{email}"), EMAILS_PER_ADDRESS)
                .await,
        )
    }
}

fn limited(decision: RateDecision) -> Result<(), Duration> {
    match decision {
        RateDecision::Allowed => Ok(()),
        RateDecision::Limited { retry_after } => Err(retry_after),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_grow_from_the_first_failure_over_the_allowance_and_are_capped() {
        assert_eq!(block_for(4, 5), None);
        assert_eq!(block_for(5, 5), Some(Duration::from_secs(2)));
        assert_eq!(block_for(6, 5), Some(Duration::from_secs(4)));
        assert_eq!(block_for(9, 5), Some(Duration::from_secs(32)));
        assert_eq!(block_for(40, 5), Some(MAX_BLOCK));
    }

    #[tokio::test]
    async fn e_mail_requests_are_rationed_per_address_and_kind_and_per_ip() {
        let store = weft_cache::memory::MemoryStore::new(1024 * 1024);
        let throttle = EmailThrottle::new(Cache::new(std::sync::Arc::new(store)));
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        let check = |kind: &'static str, email: String, ip: Option<IpAddr>| {
            let throttle = throttle.clone();
            async move { throttle.check(kind, &email, ip).await }
        };
        for n in 1..=3 {
            assert_eq!(
                check("password_reset", "ada@example.com".into(), Some(ip)).await,
                Ok(()),
                "#{n}"
            );
        }
        let wait = check("password_reset", "ada@example.com".into(), Some(ip))
            .await
            .unwrap_err();
        assert!(
            wait > Duration::from_secs(290) && wait <= Duration::from_mins(5),
            "{wait:?}"
        );
        assert_eq!(
            check("email_verification", "ada@example.com".into(), Some(ip)).await,
            Ok(()),
            "another kind of link has its own allowance"
        );
        // Five requests from this IP so far: fifteen more pass, whatever the address.
        for n in 0..15 {
            assert_eq!(
                check("password_reset", format!("p{n}@example.com"), Some(ip)).await,
                Ok(())
            );
        }
        let wait = check("password_reset", "late@example.com".into(), Some(ip))
            .await
            .unwrap_err();
        assert!(
            wait > Duration::from_secs(40) && wait <= Duration::from_secs(45),
            "{wait:?}"
        );
        assert_eq!(
            check("password_reset", "late@example.com".into(), None).await,
            Ok(()),
            "without a known IP only the address counts"
        );
    }
}
