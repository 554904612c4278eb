//! The cluster store: Redis through a deadpool-redis pool. Every key is namespaced
//! (`weft:` by default), every operation is bounded by a timeout so a hung Redis cannot
//! stall a request, and rate limiting is GCRA in one Lua script, so every process sharing
//! the Redis shares each client's budget exactly.

use std::time::Duration;

use deadpool_redis::{Config, Pool, Runtime};
use redis::AsyncCommands;

use crate::{CacheError, CacheStore, Quota, RateDecision};

/// GCRA: the stored value is the theoretical arrival time (TAT) in ms. A request is
/// allowed while `now >= TAT + interval - interval * burst`; Redis's own clock is used so
/// processes with skewed clocks still agree.
const GCRA: &str = r"
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - interval * burst
if now < allow_at then
  return {0, allow_at - now}
end
redis.call('SET', KEYS[1], new_tat, 'PX', math.max(1, math.ceil(new_tat - now)))
return {1, 0}
";

/// Redis-backed store.
#[derive(Clone)]
pub struct RedisStore {
    pool: Pool,
    namespace: String,
    op_timeout: Duration,
    gcra: redis::Script,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A pool for `url` (`redis://host:6379/0`); connects lazily. `namespace` prefixes
    /// every key so several installations can share one Redis.
    pub fn new(url: &str, namespace: &str, pool_size: usize) -> Result<Self, CacheError> {
        let mut config = Config::from_url(url);
        config.pool = Some(deadpool_redis::PoolConfig {
            max_size: pool_size,
            timeouts: deadpool_redis::Timeouts {
                wait: Some(Duration::from_secs(1)),
                create: Some(Duration::from_secs(1)),
                recycle: Some(Duration::from_secs(1)),
            },
            ..deadpool_redis::PoolConfig::default()
        });
        let pool = config
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| CacheError::Unavailable(e.to_string()))?;
        Ok(Self {
            pool,
            namespace: namespace.to_owned(),
            op_timeout: Duration::from_millis(500),
            gcra: redis::Script::new(GCRA),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}{key}", self.namespace)
    }

    async fn run<T, F, Fut>(&self, op: F) -> Result<T, CacheError>
    where
        F: FnOnce(deadpool_redis::Connection) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let work = async {
            let conn = self
                .pool
                .get()
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))?;
            op(conn)
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))
        };
        tokio::time::timeout(self.op_timeout, work)
            .await
            .map_err(|_| CacheError::Timeout)?
    }
}

/// Escapes glob metacharacters so a prefix matches literally in `SCAN MATCH`.
fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait::async_trait]
impl CacheStore for RedisStore {
    fn backend(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let key = self.key(key);
        self.run(|mut c| async move { c.get::<_, Option<Vec<u8>>>(key).await })
            .await
    }

    async fn set(&self, key: &str, value: Vec<u8>, ttl: Duration) -> Result<(), CacheError> {
        let key = self.key(key);
        self.run(|mut c| async move { c.pset_ex::<_, _, ()>(key, value, millis(ttl)).await })
            .await
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let key = self.key(key);
        self.run(|mut c| async move { c.unlink::<_, ()>(key).await })
            .await
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<(), CacheError> {
        let pattern = format!("{}*", glob_escape(&self.key(prefix)));
        // SCAN in batches so a large prefix never blocks Redis the way KEYS would.
        let work = async {
            let mut conn = self
                .pool
                .get()
                .await
                .map_err(|e| CacheError::Unavailable(e.to_string()))?;
            let mut cursor: u64 = 0;
            loop {
                let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(500)
                    .query_async(&mut conn)
                    .await
                    .map_err(|e| CacheError::Unavailable(e.to_string()))?;
                if !keys.is_empty() {
                    conn.unlink::<_, ()>(keys)
                        .await
                        .map_err(|e| CacheError::Unavailable(e.to_string()))?;
                }
                if next == 0 {
                    return Ok(());
                }
                cursor = next;
            }
        };
        tokio::time::timeout(self.op_timeout * 10, work)
            .await
            .map_err(|_| CacheError::Timeout)?
    }

    async fn increment(&self, key: &str, by: i64, ttl: Duration) -> Result<i64, CacheError> {
        let key = self.key(key);
        self.run(|mut c| async move {
            // One atomic pipeline; `PEXPIRE … NX` sets the window only on a new counter.
            let (n,): (i64,) = redis::pipe()
                .atomic()
                .incr(&key, by)
                .cmd("PEXPIRE")
                .arg(&key)
                .arg(millis(ttl))
                .arg("NX")
                .ignore()
                .query_async(&mut c)
                .await?;
            Ok(n)
        })
        .await
    }

    async fn rate_limit(&self, key: &str, quota: Quota) -> Result<RateDecision, CacheError> {
        if quota.limit == 0 {
            return Ok(RateDecision::Limited {
                retry_after: quota.period,
            });
        }
        let key = self.key(key);
        let interval = (millis(quota.period) / u64::from(quota.limit)).max(1);
        let burst = quota.limit;
        let script = self.gcra.clone();
        let (allowed, wait_ms): (i64, i64) = self
            .run(|mut c| async move {
                script
                    .key(key)
                    .arg(interval)
                    .arg(burst)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(if allowed == 1 {
            RateDecision::Allowed
        } else {
            RateDecision::Limited {
                retry_after: Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0)),
            }
        })
    }

    async fn ping(&self) -> Result<(), CacheError> {
        self.run(|mut c| async move {
            redis::cmd("PING")
                .query_async::<String>(&mut c)
                .await
                .map(|_| ())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn glob_metacharacters_are_escaped() {
        assert_eq!(
            super::glob_escape("weft:a*b?[c]\\"),
            "weft:a\\*b\\?\\[c\\]\\\\"
        );
    }
}
