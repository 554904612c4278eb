//! The cache every service reads through: one [`CacheStore`] trait with an in-process
//! implementation ([`memory::MemoryStore`], moka + governor) for the embedded topology and a
//! Redis one ([`redis_store::RedisStore`], deadpool-redis) for the cluster, both held to the
//! same contract suite (`testsuite`, behind the feature of that name).
//!
//! Services use the [`Cache`] facade, which never fails a request: the database is the
//! source of truth, so when the store errors (Redis down or slow) reads fall through as
//! misses and writes are dropped — with a warning, a `cache_errors_total` metric and the
//! cache reported as degraded by `/health/ready`.

pub mod memory;
pub mod redis_store;
#[cfg(feature = "testsuite")]
pub mod testsuite;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    #[error("cache store unavailable: {0}")]
    Unavailable(String),
    #[error("cache store timed out")]
    Timeout,
}

/// A rate limit: `limit` requests per `period`, with a burst of `limit` (GCRA).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Quota {
    pub limit: u32,
    pub period: Duration,
}

impl Quota {
    pub fn per_minute(limit: u32) -> Self {
        Self {
            limit,
            period: Duration::from_mins(1),
        }
    }
}

/// The outcome of one rate-limited request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    /// Refused; the next request would be allowed after this long.
    Limited {
        retry_after: Duration,
    },
}

/// What a cache backend must do. Keys are plain strings; values are bytes.
#[async_trait::async_trait]
pub trait CacheStore: Send + Sync + 'static {
    /// `memory` or `redis`.
    fn backend(&self) -> &'static str;
    /// The value under `key`, if present and not expired.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    /// Stores `value` under `key` for `ttl`.
    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError>;
    /// Removes `key`.
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// Removes every key starting with `prefix` (e.g. `product:prod_…:`).
    async fn delete_prefix(&self, prefix: &str) -> Result<(), CacheError>;
    /// Frees what an in-process store holds under `prefix` except keys starting with one
    /// of `keep`: values no reader can reach any more (answers of a retired generation),
    /// which would otherwise sit in memory until evicted. A shared store (Redis) leaves
    /// them to their TTLs: scanning its keyspace at every change would cost more.
    async fn forget_unreachable(&self, _prefix: &str, _keep: &[String]) -> Result<(), CacheError> {
        Ok(())
    }
    /// Adds `by` to the counter at `key` atomically and returns the new value; a new
    /// counter expires `ttl` after its creation (a fixed window).
    async fn increment(&self, key: &str, by: i64, ttl: Duration) -> Result<i64, CacheError>;
    /// Counts one request against `quota` for `key` (GCRA), atomically across every
    /// process sharing the store.
    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision, CacheError>;
    /// Round-trips to the store; used by `/health/ready`.
    async fn ping(&self) -> Result<(), CacheError>;
    /// Periodic upkeep the store needs (forgetting idle rate-limit state in-process).
    fn housekeeping(&self) {}
}

/// The cache as services use it: typed, namespaced, and failing open.
#[derive(Clone)]
pub struct Cache {
    store: Arc<dyn CacheStore>,
    degraded: Arc<AtomicBool>,
    /// Keys being loaded by [`Cache::get_or_load`] in this process: one load per key at
    /// a time, the other callers wait for its value.
    loading: Arc<std::sync::Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("backend", &self.store.backend())
            .field("degraded", &self.is_degraded())
            .finish_non_exhaustive()
    }
}

impl Cache {
    pub fn new(store: Arc<dyn CacheStore>) -> Self {
        Self {
            store,
            degraded: Arc::new(AtomicBool::new(false)),
            loading: Arc::default(),
        }
    }

    pub fn backend(&self) -> &'static str {
        self.store.backend()
    }

    /// True after the last store operation failed, until one succeeds.
    pub fn is_degraded(&self) -> bool {
        self.degraded.load(Ordering::Relaxed)
    }

    /// The store itself, for the contract suite and the rate limiter.
    pub fn store(&self) -> &Arc<dyn CacheStore> {
        &self.store
    }

    /// A cached value, or `None` on a miss — and on any store error.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let bytes = self.observe("get", self.store.get(key).await)??;
        match serde_json::from_slice(&bytes) {
            Ok(value) => Some(value),
            Err(err) => {
                // A value written by another version: treat as a miss and replace it.
                tracing::warn!(key, error = %err, "undecodable cache entry");
                None
            }
        }
    }

    /// Caches `value` for `ttl`; a store error is logged, never returned.
    pub async fn set_json<T: Serialize + ?Sized>(&self, key: &str, value: &T, ttl: Duration) {
        match serde_json::to_vec(value) {
            Ok(bytes) => {
                self.observe("set", self.store.set(key, bytes, ttl).await);
            }
            Err(err) => tracing::warn!(key, error = %err, "value not cacheable"),
        }
    }

    /// Reads through: the cached value, or `load()`'s, which is then cached. Errors from
    /// `load` (the source of truth) are returned; cache errors never are. Concurrent
    /// misses of one key in this process load it once: the others wait and read what it
    /// cached (a popular page right after a change is one query, not one per reader).
    pub async fn get_or_load<T, E, F, Fut>(&self, key: &str, ttl: Duration, load: F) -> Result<T, E>
    where
        T: Serialize + DeserializeOwned,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        if let Some(hit) = self.get_json(key).await {
            metrics::counter!("cache_requests_total", "result" => "hit").increment(1);
            return Ok(hit);
        }
        if self.is_degraded() {
            // A store that keeps nothing would make the waiters load one after another.
            metrics::counter!("cache_requests_total", "result" => "miss").increment(1);
            let value = load().await?;
            self.set_json(key, &value, ttl).await;
            return Ok(value);
        }
        let gate = {
            let mut loading = self
                .loading
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(loading.entry(key.to_owned()).or_default())
        };
        let turn = gate.lock().await;
        // Loaded meanwhile by the caller this one waited for?
        let outcome = if let Some(hit) = self.get_json(key).await {
            metrics::counter!("cache_requests_total", "result" => "hit").increment(1);
            Ok(hit)
        } else {
            metrics::counter!("cache_requests_total", "result" => "miss").increment(1);
            let loaded = load().await;
            if let Ok(value) = &loaded {
                self.set_json(key, value, ttl).await;
            }
            loaded
        };
        drop(turn);
        let mut loading = self
            .loading
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Nobody else waits on this key's gate (the map's copy and this one): forget it.
        if Arc::strong_count(&gate) <= 2 {
            loading.remove(key);
        }
        outcome
    }

    /// Adds one to the counter at `key` (a window of `ttl` from its first count); `None`
    /// when the store cannot answer.
    pub async fn increment(&self, key: &str, ttl: Duration) -> Option<i64> {
        self.observe("increment", self.store.increment(key, 1, ttl).await)
    }

    pub async fn invalidate(&self, key: &str) {
        self.observe("delete", self.store.delete(key).await);
    }

    pub async fn invalidate_prefix(&self, prefix: &str) {
        self.observe("delete_prefix", self.store.delete_prefix(prefix).await);
    }

    /// See [`CacheStore::forget_unreachable`].
    pub async fn forget_unreachable(&self, prefix: &str, keep: &[String]) {
        self.observe(
            "forget_unreachable",
            self.store.forget_unreachable(prefix, keep).await,
        );
    }

    /// Counts a request against `quota`; allows it when the store cannot answer, since
    /// refusing every client because Redis is down would turn a cache outage into a
    /// full outage.
    pub async fn rate_limit(&self, key: &str, quota: Quota) -> RateDecision {
        self.observe("rate_limit", self.store.rate_limit(key, quota).await)
            .unwrap_or(RateDecision::Allowed)
    }

    /// Probes the store, updating the degraded flag.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let result = self.store.ping().await;
        self.degraded.store(result.is_err(), Ordering::Relaxed);
        result
    }

    fn observe<T>(&self, op: &'static str, result: Result<T, CacheError>) -> Option<T> {
        match result {
            Ok(value) => {
                self.degraded.store(false, Ordering::Relaxed);
                Some(value)
            }
            Err(err) => {
                if !self.degraded.swap(true, Ordering::Relaxed) {
                    tracing::warn!(op, backend = self.store.backend(), error = %err, "cache degraded: falling through to the source of truth");
                }
                metrics::counter!("cache_errors_total", "op" => op, "backend" => self.store.backend()).increment(1);
                None
            }
        }
    }
}
