//! Reads that may be answered by PostgreSQL streaming replicas ([`ReadDb`]).
//!
//! A replica replays the primary's changes a moment late, so only reads that may trail a
//! write are sent here (guests' catalog pages); a read that must see a write just made
//! (a customer's own order, an admin's product after saving it, anything inside a
//! transaction) takes a connection from the primary [`Db`].
//!
//! Each replica is watched every [`WATCH_EVERY`]: its replay lag (how long ago the last
//! replayed transaction committed, while WAL it has received is still unreplayed; zero
//! when it has replayed all it received). One that lags more than `max_lag`, cannot be
//! asked, or whose connection fails is skipped until a later look finds it well; with
//! none usable, reads go to the primary.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use diesel_async::AsyncPgConnection;
use diesel_async::pooled_connection::deadpool::Pool;

use crate::{Db, DbConn, StorageError};

/// How often each replica's lag is measured.
pub const WATCH_EVERY: Duration = Duration::from_millis(250);

/// The primary and the replicas reads may use. Cheap to clone.
#[derive(Clone)]
pub struct ReadDb {
    primary: Db,
    replicas: Arc<Vec<Replica>>,
    turn: Arc<AtomicUsize>,
}

struct Replica {
    /// The URL without credentials, for logs and metrics.
    name: String,
    pool: Pool<AsyncPgConnection>,
    usable: AtomicBool,
}

impl std::fmt::Debug for ReadDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadDb")
            .field("primary", &self.primary)
            .field(
                "replicas",
                &self.replicas.iter().map(|r| &r.name).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl ReadDb {
    /// Reads from the primary only (SQLite, or no replicas configured).
    pub fn primary_only(primary: Db) -> Self {
        Self {
            primary,
            replicas: Arc::new(Vec::new()),
            turn: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Reads from `urls` while they keep within `max_lag`, else from `primary`. A replica
    /// that is down now is not an error: it is used once it answers.
    ///
    /// # Errors
    /// A URL that is not a PostgreSQL one, or a pool that cannot be built.
    pub fn with_replicas(
        primary: Db,
        urls: &[String],
        pool_size: u32,
        max_lag: Duration,
    ) -> Result<Self, StorageError> {
        let mut replicas = Vec::with_capacity(urls.len());
        for url in urls {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(StorageError::Unavailable(format!(
                    "database_replica_urls: `{}` is not a postgres:// URL",
                    redacted(url)
                )));
            }
            replicas.push(Replica {
                name: redacted(url),
                // A replica that does not connect at once is skipped, not waited for.
                pool: crate::postgres_pool(url, pool_size, Duration::from_secs(1))?,
                usable: AtomicBool::new(false),
            });
        }
        let db = Self {
            primary,
            replicas: Arc::new(replicas),
            turn: Arc::new(AtomicUsize::new(0)),
        };
        if !db.replicas.is_empty() {
            tokio::spawn(watch(Arc::downgrade(&db.replicas), max_lag));
        }
        Ok(db)
    }

    /// A connection for a read that may trail the primary: a usable replica's, taken in
    /// turn, or the primary's.
    ///
    /// # Errors
    /// The primary's pool cannot give one.
    pub async fn conn(&self) -> Result<DbConn, StorageError> {
        let n = self.replicas.len();
        if n > 0 {
            let start = self.turn.fetch_add(1, Ordering::Relaxed);
            for i in 0..n {
                let replica = &self.replicas[(start + i) % n];
                if !replica.usable.load(Ordering::Acquire) {
                    continue;
                }
                match replica.pool.get().await {
                    Ok(conn) => {
                        metrics::counter!("db_reads_total", "from" => "replica").increment(1);
                        return Ok(DbConn::Postgres(Box::new(conn)));
                    }
                    Err(err) => {
                        // Skipped until the watcher finds it well again.
                        replica.usable.store(false, Ordering::Release);
                        tracing::warn!(replica = %replica.name, error = %err, "replica unusable; reading from the primary");
                    }
                }
            }
        }
        metrics::counter!("db_reads_total", "from" => "primary").increment(1);
        self.primary.conn().await
    }
}

/// Measures every replica's lag until the [`ReadDb`] is gone.
async fn watch(replicas: std::sync::Weak<Vec<Replica>>, max_lag: Duration) {
    let mut tick = tokio::time::interval(WATCH_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(replicas) = replicas.upgrade() else {
            return;
        };
        for replica in replicas.iter() {
            let lag = tokio::time::timeout(WATCH_EVERY * 4, lag_of(&replica.pool)).await;
            let usable = match lag {
                Ok(Ok(lag)) => {
                    metrics::gauge!("db_replica_lag_seconds", "replica" => replica.name.clone())
                        .set(lag.as_secs_f64());
                    lag <= max_lag
                }
                Ok(Err(err)) => {
                    tracing::debug!(replica = %replica.name, error = %err, "replica lag unknown");
                    false
                }
                Err(_) => false,
            };
            let was = replica.usable.swap(usable, Ordering::AcqRel);
            if was != usable {
                tracing::info!(replica = %replica.name, usable, "replica usability changed");
            }
        }
    }
}

/// How far `pool`'s server trails its primary; zero for a server that is not a replica
/// (nothing to trail) or has replayed all it received.
async fn lag_of(pool: &Pool<AsyncPgConnection>) -> Result<Duration, StorageError> {
    use diesel_async::RunQueryDsl as _;

    #[derive(diesel::QueryableByName)]
    struct Lag {
        #[diesel(sql_type = diesel::sql_types::Double)]
        seconds: f64,
    }
    let mut conn = pool
        .get()
        .await
        .map_err(|e| StorageError::Unavailable(e.to_string()))?;
    let row: Lag = diesel::sql_query(
        "SELECT CASE \
           WHEN NOT pg_is_in_recovery() THEN 0 \
           WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() THEN 0 \
           ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9) \
         END::float8 AS seconds",
    )
    .get_result(&mut *conn)
    .await?;
    Ok(Duration::from_secs_f64(row.seconds.max(0.0)))
}

/// `postgres://user:secret@host/db` → `postgres://host/db`.
fn redacted(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}{}", &url[..scheme + 3], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_a_replica_s_name() {
        assert_eq!(
            redacted("postgres://weft:s3cret@db-2:5432/weft"),
            "postgres://db-2:5432/weft"
        );
        assert_eq!(redacted("postgres://db-2/weft"), "postgres://db-2/weft");
    }
}
