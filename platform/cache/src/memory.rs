//! The embedded store: moka (bounded, per-entry TTL) for values and counters, governor
//! (GCRA) for rate limits. Everything lives in this process.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, RateLimiter};
use moka::Expiry;
use moka::future::Cache as Moka;

use crate::{CacheError, CacheStore, Quota, RateDecision};

#[derive(Clone)]
struct Entry {
    value: Value,
    ttl: Duration,
}

#[derive(Clone)]
enum Value {
    Bytes(Arc<[u8]>),
    Counter(i64),
}

/// Each entry lives for its own TTL; incrementing a counter keeps its window.
struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _now: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        _now: Instant,
        remaining: Option<Duration>,
    ) -> Option<Duration> {
        match entry.value {
            Value::Counter(_) => remaining,
            Value::Bytes(_) => Some(entry.ttl),
        }
    }
}

/// In-process store.
pub struct MemoryStore {
    entries: Moka<String, Entry>,
    limiters: Mutex<HashMap<Quota, Arc<DefaultKeyedRateLimiter<String>>>>,
    clock: DefaultClock,
}

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.entries.entry_count())
            .finish_non_exhaustive()
    }
}

impl MemoryStore {
    /// A store holding at most about `max_bytes` of keys and values (least recently used
    /// go first). Bytes, not entries: a search answer is 20 KB, a counter 8 bytes, and a
    /// flood of distinct queries must not grow the process without bound.
    pub fn new(max_bytes: u64) -> Self {
        let entries = Moka::builder()
            .max_capacity(max_bytes)
            .weigher(|key: &String, entry: &Entry| {
                let value = match &entry.value {
                    Value::Bytes(bytes) => bytes.len(),
                    Value::Counter(_) => 8,
                };
                // Roughly what moka and the allocator add per entry.
                u32::try_from(key.len() + value + 64).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .support_invalidation_closures()
            .build();
        Self {
            entries,
            limiters: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
        }
    }

    fn limiter(&self, quota: Quota) -> Option<Arc<DefaultKeyedRateLimiter<String>>> {
        let limit = NonZeroU32::new(quota.limit)?;
        let mut limiters = self
            .limiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let limiter = limiters.entry(quota).or_insert_with(|| {
            let period = quota.period / quota.limit;
            let q = governor::Quota::with_period(period)
                .unwrap_or_else(|| governor::Quota::per_second(limit))
                .allow_burst(limit);
            Arc::new(RateLimiter::keyed(q))
        });
        Some(Arc::clone(limiter))
    }

    /// Drops rate-limit state of clients whose budget has refilled (bounds memory).
    fn forget_idle_clients(&self) {
        let limiters = self
            .limiters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for limiter in limiters.values() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

#[async_trait::async_trait]
impl CacheStore for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self.entries.get(key).await.map(|e| match e.value {
            Value::Bytes(b) => b.to_vec(),
            Value::Counter(n) => n.to_string().into_bytes(),
        }))
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        self.entries
            .insert(
                key.to_owned(),
                Entry {
                    value: Value::Bytes(value.into()),
                    ttl,
                },
            )
            .await;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.entries.invalidate(key).await;
        Ok(())
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), CacheError> {
        let prefix = prefix.to_owned();
        self.entries
            .invalidate_entries_if(move |k, _| k.starts_with(&prefix))
            .map(|_| ())
            .map_err(|e| CacheError::Unavailable(e.to_string()))
    }

    async fn forget_unreachable(&self, prefix: &str, keep: &[String]) -> Result<(), CacheError> {
        let (prefix, keep) = (prefix.to_owned(), keep.to_vec());
        // Applies to the entries there are now, in moka's housekeeping, off this call.
        self.entries
            .invalidate_entries_if(move |k, _| {
                k.starts_with(&prefix) && !keep.iter().any(|p| k.starts_with(p.as_str()))
            })
            .map(|_| ())
            .map_err(|e| CacheError::Unavailable(e.to_string()))
    }

    async fn increment(&self, key: &str, by: i64, ttl: Duration) -> Result<i64, CacheError> {
        // Upserts are atomic per key in moka: concurrent increments never lose a count.
        let entry = self
            .entries
            .entry(key.to_owned())
            .and_upsert_with(|current| {
                let n = match current.map(moka::Entry::into_value) {
                    Some(Entry {
                        value: Value::Counter(n),
                        ..
                    }) => n.saturating_add(by),
                    _ => by,
                };
                std::future::ready(Entry {
                    value: Value::Counter(n),
                    ttl,
                })
            })
            .await;
        match entry.into_value().value {
            Value::Counter(n) => Ok(n),
            Value::Bytes(_) => Err(CacheError::Unavailable("not a counter".to_owned())),
        }
    }

    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision, CacheError> {
        let Some(limiter) = self.limiter(quota) else {
            return Ok(RateDecision::Limited {
                retry_after: quota.period,
            });
        };
        Ok(match limiter.check_key(&key.to_owned()) {
            Ok(()) => RateDecision::Allowed,
            Err(not_until) => RateDecision::Limited {
                retry_after: not_until.wait_time_from(self.clock.now()),
            },
        })
    }

    async fn ping(&self) -> Result<(), CacheError> {
        Ok(())
    }

    fn housekeeping(&self) {
        self.forget_idle_clients();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Answers of retired generations are freed; the current one and the counter stay.
    #[tokio::test]
    async fn unreachable_answers_are_freed_and_the_rest_kept() {
        let store = MemoryStore::new(1024 * 1024);
        let ttl = Duration::from_mins(1);
        for key in ["catalog:1:a", "catalog:2:a", "catalog:3:a", "cart:1:x"] {
            store.set(key, b"v".to_vec(), ttl).await.unwrap();
        }
        store.increment("catalog:gen", 3, ttl).await.unwrap();
        store
            .forget_unreachable(
                "catalog:",
                &["catalog:gen".to_owned(), "catalog:3:".to_owned()],
            )
            .await
            .unwrap();
        store.entries.run_pending_tasks().await;
        for (key, kept) in [
            ("catalog:1:a", false),
            ("catalog:2:a", false),
            ("catalog:3:a", true),
            ("cart:1:x", true),
            ("catalog:gen", true),
        ] {
            assert_eq!(store.get(key).await.unwrap().is_some(), kept, "{key}");
        }
    }

    /// Distinct 20 KB answers (a flood of unique searches) stay within the byte budget.
    #[tokio::test]
    async fn the_store_is_bounded_by_bytes_not_entries() {
        let store = MemoryStore::new(1024 * 1024);
        for i in 0..500 {
            store
                .set(
                    &format!("answer:{i}"),
                    vec![7; 20 * 1024],
                    Duration::from_mins(1),
                )
                .await
                .unwrap();
        }
        store.entries.run_pending_tasks().await;
        let size = store.entries.weighted_size();
        assert!(size <= 1024 * 1024, "{size} bytes kept");
        assert!(
            store.entries.entry_count() < 60,
            "{} entries",
            store.entries.entry_count()
        );
        // Small values still fit by the thousand.
        let store = MemoryStore::new(1024 * 1024);
        for i in 0..5000 {
            store
                .set(&format!("k{i}"), vec![1; 16], Duration::from_mins(1))
                .await
                .unwrap();
        }
        store.entries.run_pending_tasks().await;
        assert_eq!(store.entries.entry_count(), 5000);
    }
}
