//! Relational storage for every Weft service: one [`Db`] handle over PostgreSQL
//! (diesel-async) or SQLite (diesel behind diesel-async's `SyncConnectionWrapper`), chosen
//! at run time, with the same diesel query body compiled for both through [`db_run!`].
//!
//! Owns only cross-cutting tables (`platform_*`); every service owns its own tables and
//! migrations and hands them to [`migrate::run`] as a [`migrate::MigrationSet`].
//!
//! Reads that may trail a write can go to streaming replicas ([`replicas::ReadDb`]).
//!
//! Invariants: a transaction on SQLite starts with `BEGIN IMMEDIATE`, so two writers
//! serialize at the start instead of failing at commit; a connection returned to the pool
//! mid-transaction (a dropped future) is discarded, never reused.

pub mod any_of;
pub mod events;
pub mod idempotency;
pub mod migrate;
pub mod replicas;
pub mod sagas;
pub mod system;
pub mod testing;

use std::path::Path;
use std::time::Duration;

use diesel::SqliteConnection;
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager as _};
use diesel_async::pooled_connection::deadpool::{Object, Pool, PoolError};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::sync_connection_wrapper::SyncConnectionWrapper;
use diesel_async::{AsyncPgConnection, TransactionManager};
use futures::FutureExt;
use weft_kernel::{ErrorKind, ServiceError};

pub use any_of::any_of;

/// SQLite behind the async interface; queries run on tokio's blocking pool, except in a
/// write transaction (see [`SqliteRuntime`]).
pub type SqliteConn = SyncConnectionWrapper<SqliteConnection, SqliteRuntime>;

tokio::task_local! {
    /// Set while this task runs a write transaction on SQLite's writer connection
    /// ([`Db::transaction`]), from its `BEGIN IMMEDIATE` to its end.
    static HOLDS_WRITE_LOCK: bool;
    /// Set inside [`short_reads`]: the task's SQLite reads are known to be short.
    static SHORT_READS: bool;
}

/// Runs `f` with its SQLite reads on the task's own thread instead of a hop each to the
/// blocking pool (PostgreSQL is unaffected). Only for reads known to be short: rows
/// found by key, as many as a cart or an order has lines. A WAL reader does not wait
/// for writers, so such a read takes microseconds; the two thread switches of a hop cost
/// more than that (adding to a cart read the cart, its lines, its codes and the stock,
/// each a hop; inline, its futex calls fell from 7.9% to 4.4% of its CPU profile).
/// A scan, or anything whose length grows with the data, stays outside. A transaction
/// begun inside still hops for its `BEGIN` and `COMMIT` (see [`SqliteRuntime`]).
pub async fn short_reads<F: Future>(f: F) -> F::Output {
    SHORT_READS.scope(true, f).await
}

fn flag(local: &'static tokio::task::LocalKey<bool>) -> bool {
    local.try_with(|set| *set).unwrap_or(false)
}

/// Where SQLite statements run. A write transaction's statements, its `BEGIN IMMEDIATE`
/// and its `COMMIT` run at once on the task's own thread: none of them waits (the writer
/// connection gives up at once on another process's write lock, and [`Db::transaction`]
/// waits for it asleep; a `COMMIT` never checkpoints, [`Checkpoints`] does), WAL readers
/// never block them, and each takes microseconds — where a hop to the blocking pool for
/// each one kept the one write slot held across thread switches (under load, on 2 cores,
/// about 1 ms a transaction: the ceiling of every write). Reads hop, except in
/// [`short_reads`]. A long transaction (an import's batch) still lets the thread's other
/// tasks run: every `INLINE_YIELD_EVERY`th statement in a row yields first.
pub struct SqliteRuntime {
    handle: tokio::runtime::Handle,
    inline_run: u32,
}

const INLINE_YIELD_EVERY: u32 = 32;

impl diesel_async::sync_connection_wrapper::SpawnBlocking for SqliteRuntime {
    fn spawn_blocking<'a, R>(
        &mut self,
        task: impl FnOnce() -> R + Send + 'static,
    ) -> futures::future::BoxFuture<'a, Result<R, Box<dyn std::error::Error + Send + Sync + 'static>>>
    where
        R: Send + 'static,
    {
        if flag(&HOLDS_WRITE_LOCK) || flag(&SHORT_READS) {
            self.inline_run = self.inline_run.wrapping_add(1);
            if self.inline_run.is_multiple_of(INLINE_YIELD_EVERY) {
                return async move {
                    tokio::task::yield_now().await;
                    Ok(task())
                }
                .boxed();
            }
            return futures::future::ready(Ok(task())).boxed();
        }
        let blocking = self.handle.spawn_blocking(task);
        async move { blocking.await.map_err(Into::into) }.boxed()
    }

    fn get_runtime() -> Self {
        Self {
            handle: tokio::runtime::Handle::current(),
            inline_run: 0,
        }
    }
}

/// Which database a [`Db`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl ServiceError for StorageError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Query(_) | Self::Migration(_) => ErrorKind::Internal,
        }
    }
    fn code(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "database_unavailable",
            Self::Query(_) | Self::Migration(_) => "internal_error",
        }
    }
}

/// A pooled database: PostgreSQL or SQLite.
#[derive(Clone)]
pub enum Db {
    Postgres(Pool<AsyncPgConnection>),
    /// Readers, and the one writer. SQLite admits one writer at a time, so writes take
    /// the second pool's single connection: they queue for it in order, instead of
    /// meeting `SQLITE_BUSY` and SQLite's sleeping retry loop (up to 100 ms a wait under
    /// contention). One connection for every write also keeps its page cache warm: a
    /// connection drops its whole cache when it sees that another one wrote, so writes
    /// on any pooled connection read every page they touch from the file again.
    /// Readers do not wait for it (WAL lets them run alongside).
    Sqlite(Pool<SqliteConn>, Pool<SqliteConn>, Checkpoints),
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Db({})", self.backend().as_str())
    }
}

/// One connection taken from a [`Db`]'s pool. Use [`db_run!`] to run a diesel query on it.
pub enum DbConn {
    Postgres(Box<Object<AsyncPgConnection>>),
    Sqlite(Object<SqliteConn>),
}

/// Runs the same diesel body on whichever backend `conn` is:
/// `db_run!(conn, c => users::table.find(id).first::<UserRow>(c).await)`.
/// Inside the body `c` is `&mut AsyncPgConnection` or `&mut SqliteConn`; import
/// `diesel_async::RunQueryDsl` (not `diesel::prelude::*`) where it is used.
#[macro_export]
macro_rules! db_run {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::DbConn::Postgres($c) => {
                let $c: &mut ::diesel_async::AsyncPgConnection = &mut *$c;
                $body
            }
            $crate::DbConn::Sqlite($c) => {
                let $c: &mut $crate::SqliteConn = &mut *$c;
                $body
            }
        }
    };
}

/// How long a SQLite writer waits for its turn before giving up.
const SQLITE_WRITER_WAIT: Duration = Duration::from_secs(30);

/// Counts every statement a connection runs, as `db_queries_total{backend}`: the number
/// tests and dashboards use to catch N+1 query patterns.
struct QueryCounter(&'static str);

impl diesel::connection::Instrumentation for QueryCounter {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        if let diesel::connection::InstrumentationEvent::StartQuery { .. } = event {
            metrics::counter!("db_queries_total", "backend" => self.0).increment(1);
        }
    }
}

const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
     PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;";

/// The writer's statements run on the async workers, so none may wait or fsync there:
/// its commits never checkpoint (see [`Checkpoints`]), and it meets another process's
/// write lock with `SQLITE_BUSY` at once (see [`DbConn::begin`]).
const SQLITE_WRITER_PRAGMAS: &str = "PRAGMA wal_autocheckpoint = 0; PRAGMA busy_timeout = 0;";

/// Opens one SQLite connection of a pool (off the async workers: it touches the file).
fn sqlite_setup(
    url: &str,
    writer: bool,
) -> futures::future::BoxFuture<'_, diesel::ConnectionResult<SqliteConn>> {
    let url = url.to_owned();
    async move {
        let conn = tokio::task::spawn_blocking(move || {
            use diesel::Connection as _;
            let mut conn = SqliteConnection::establish(&url)?;
            conn.batch_execute(SQLITE_PRAGMAS)
                .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            if writer {
                conn.batch_execute(SQLITE_WRITER_PRAGMAS)
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
            }
            conn.set_instrumentation(QueryCounter("sqlite"));
            Ok::<_, diesel::ConnectionError>(conn)
        })
        .await
        .map_err(|e| diesel::ConnectionError::BadConnection(e.to_string()))??;
        Ok(SyncConnectionWrapper::new(conn))
    }
    .boxed()
}

impl Db {
    /// Opens (creating if needed) the SQLite file at `path` in WAL mode.
    pub async fn sqlite(path: &Path, pool_size: u32) -> Result<Self, StorageError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| {
                StorageError::Unavailable(format!("cannot create {}: {e}", dir.display()))
            })?;
        }
        let url = path.to_string_lossy().into_owned();
        let pool = |size: usize, wait: Duration, writer: bool| {
            let mut config = ManagerConfig::<SqliteConn>::default();
            // A file cannot drop a connection: checking each one out needs no `SELECT 1`.
            config.recycling_method = RecyclingMethod::Fast;
            config.custom_setup = Box::new(move |url| sqlite_setup(url, writer));
            let manager = AsyncDieselConnectionManager::new_with_config(&url, config);
            Pool::builder(manager)
                .max_size(size)
                .wait_timeout(Some(wait))
                .runtime(deadpool_runtime())
                .build()
                .map_err(|e| StorageError::Unavailable(e.to_string()))
        };
        let readers = pool(pool_size as usize, Duration::from_secs(30), false)?;
        let writer = pool(1, SQLITE_WRITER_WAIT, true)?;
        let checkpoints = Checkpoints::start(&readers, &writer);
        let db = Self::Sqlite(readers, writer, checkpoints);
        db.ping().await?;
        Ok(db)
    }

    /// Connects to PostgreSQL at `url`.
    pub async fn postgres(url: &str, pool_size: u32) -> Result<Self, StorageError> {
        let db = Self::Postgres(postgres_pool(url, pool_size, Duration::from_secs(10))?);
        db.ping().await?;
        Ok(db)
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(..) => Backend::Sqlite,
        }
    }

    /// Takes a connection from the pool.
    pub async fn conn(&self) -> Result<DbConn, StorageError> {
        match self {
            Self::Postgres(pool) => pool
                .get()
                .await
                .map(|c| DbConn::Postgres(Box::new(c)))
                .map_err(|e| StorageError::Unavailable(e.to_string())),
            Self::Sqlite(pool, ..) => pool
                .get()
                .await
                .map(DbConn::Sqlite)
                .map_err(|e| StorageError::Unavailable(e.to_string())),
        }
    }

    /// Round-trips `SELECT 1`; used by `/health/ready`.
    pub async fn ping(&self) -> Result<(), StorageError> {
        use diesel_async::SimpleAsyncConnection as _;
        let mut conn = self.conn().await?;
        db_run!(&mut conn, c => c.batch_execute("SELECT 1").await)
            .map_err(|e| StorageError::Unavailable(e.to_string()))
    }

    /// SQLite's `PRAGMA integrity_check` (`"ok"` when the file is sound); PostgreSQL
    /// guards its own pages, so it answers `"ok"` there.
    pub async fn integrity_check(&self) -> Result<String, StorageError> {
        use diesel_async::RunQueryDsl as _;

        #[derive(diesel::QueryableByName)]
        struct Row {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        match self {
            Self::Postgres(_) => Ok("ok".to_owned()),
            Self::Sqlite(..) => {
                let mut conn = self.conn().await?;
                let DbConn::Sqlite(c) = &mut conn else {
                    unreachable!("sqlite pool")
                };
                let rows: Vec<Row> = diesel::sql_query("PRAGMA integrity_check")
                    .load(&mut **c)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|r| r.integrity_check)
                    .collect::<Vec<_>>()
                    .join("; "))
            }
        }
    }

    /// Refreshes the query planner's statistics of the tables that changed much since
    /// they were last measured. SQLite plans without them as if every table were small:
    /// a category + size page of 10,000 products sorted every match (49 ms a query
    /// instead of 7). `PRAGMA optimize` decides which tables need it and takes the write
    /// slot like any write. The statistics are exact: sampled ones (`analysis_limit`)
    /// guessed a thousand products per status where there were 10,000, and the plain
    /// page of products went from walking an index to sorting every match. A full
    /// `ANALYZE` of 10,000 products takes half a second. Call it after bulk writes and
    /// now and then; PostgreSQL's autovacuum does the same by itself.
    pub async fn optimize(&self) -> Result<(), StorageError> {
        if let Self::Sqlite(..) = self {
            self.transaction(async |conn: &mut DbConn| {
                if let DbConn::Sqlite(c) = conn {
                    // Off the task's thread, unlike the transaction's other statements: it
                    // may take half a second.
                    let analyze =
                        c.spawn_blocking(|c| c.batch_execute("PRAGMA optimize = 0x10002;"));
                    HOLDS_WRITE_LOCK.scope(false, analyze).await?;
                }
                Ok::<_, StorageError>(())
            })
            .await?;
        }
        Ok(())
    }

    /// Runs `f` in one transaction: committed when it returns `Ok`, rolled back on `Err`.
    /// On SQLite the transaction is `BEGIN IMMEDIATE` on this process's one writer
    /// connection, so it holds the write lock from the start; on PostgreSQL lock rows with
    /// `FOR UPDATE` inside `f`. Every write goes through here: never open a transaction
    /// inside `f` (on SQLite it would wait for itself).
    ///
    /// ```ignore
    /// db.transaction(async |conn| {
    ///     insert_cart(conn, &cart).await?;
    ///     Ok::<_, CartError>(cart)
    /// }).await
    /// ```
    pub async fn transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        for<'r> F: AsyncFnOnce(&'r mut DbConn) -> Result<T, E>
            + TxFn<&'r mut DbConn, Result<T, E>, Fut: Send>
            + Send,
        T: Send,
        E: From<StorageError> + Send,
    {
        let mut conn = match self {
            Self::Sqlite(_, writer, _) => writer.get().await.map(DbConn::Sqlite).map_err(|e| {
                StorageError::Unavailable(match e {
                    PoolError::Timeout(_) => format!(
                        "database busy: no write slot within {} s",
                        SQLITE_WRITER_WAIT.as_secs()
                    ),
                    e => e.to_string(),
                })
            })?,
            Self::Postgres(_) => self.conn().await?,
        };
        let run = async {
            conn.begin().await?;
            match f(&mut conn).await {
                Ok(value) => {
                    conn.commit().await?;
                    Ok(value)
                }
                Err(err) => {
                    if let Err(rollback) = conn.rollback().await {
                        // The pool discards a connection whose transaction state is broken.
                        tracing::warn!(error = %rollback, "rollback failed");
                    }
                    Err(err)
                }
            }
        };
        let Self::Sqlite(.., checkpoints) = self else {
            return run.await;
        };
        let outcome = HOLDS_WRITE_LOCK.scope(true, run).await;
        checkpoints.due();
        outcome
    }
}

/// Names the future of an async closure so [`Db::transaction`] can require it be `Send`
/// (the same device diesel-async uses for its own `transaction`).
pub trait TxFn<A, R>: AsyncFnOnce(A) -> R + FnOnce(A) -> <Self as TxFn<A, R>>::Fut {
    type Fut: std::future::Future<Output = R>;
}

impl<F, A, Fut, R> TxFn<A, R> for F
where
    F: AsyncFnOnce(A) -> R + FnOnce(A) -> Fut,
    Fut: std::future::Future<Output = R>,
{
    type Fut = Fut;
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Begins a transaction; on SQLite, `BEGIN IMMEDIATE` on the writer. Only another
    /// process can hold the write lock: then the writer, which never waits on its thread,
    /// is refused at once, and this tries again asleep, each pause twice the last (up to
    /// 50 ms), for as long as a write may wait for its turn.
    async fn begin(&mut self) -> Result<(), StorageError> {
        let c = match self {
            Self::Postgres(c) => {
                diesel_async::AnsiTransactionManager::begin_transaction(&mut ***c).await?;
                return Ok(());
            }
            Self::Sqlite(c) => c,
        };
        let until = tokio::time::Instant::now() + SQLITE_WRITER_WAIT;
        let mut pause = Duration::from_millis(1);
        loop {
            let begun = c
                .spawn_blocking(|inner| {
                    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
                })
                .await;
            match begun {
                Err(diesel::result::Error::DatabaseError(_, info))
                    if info.message().contains("database is locked") =>
                {
                    if tokio::time::Instant::now() + pause > until {
                        return Err(StorageError::Unavailable(format!(
                            "database busy: another process held the write lock for {} s",
                            SQLITE_WRITER_WAIT.as_secs()
                        )));
                    }
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                other => return Ok(other?),
            }
        }
    }

    async fn commit(&mut self) -> Result<(), StorageError> {
        match self {
            Self::Postgres(c) => {
                diesel_async::AnsiTransactionManager::commit_transaction(&mut ***c).await?;
            }
            Self::Sqlite(c) => {
                c.spawn_blocking(AnsiTransactionManager::commit_transaction)
                    .await?;
            }
        }
        Ok(())
    }

    async fn rollback(&mut self) -> Result<(), StorageError> {
        match self {
            Self::Postgres(c) => {
                diesel_async::AnsiTransactionManager::rollback_transaction(&mut ***c).await?;
            }
            Self::Sqlite(c) => {
                c.spawn_blocking(AnsiTransactionManager::rollback_transaction)
                    .await?;
            }
        }
        Ok(())
    }
}

/// Copies the WAL's pages back into SQLite's database file, off the write path: the
/// writer never checkpoints inside a `COMMIT` (which would write and fsync the database
/// file on an async worker). After write transactions, at most every `CHECKPOINT_EVERY`
/// and never while nothing is written, a `PASSIVE` checkpoint runs on a reader
/// connection on the blocking pool, beside the writes: it copies what it can and fsyncs,
/// and nobody waits for it. The WAL starts again from its beginning only at a write that
/// finds every page of it copied, which a checkpoint beside the writes never sees under
/// back-to-back writes (the WAL grew to 1 GB while 10,000 products were seeded). So once
/// the WAL holds `RESTART_AT` pages, a second checkpoint runs holding the write slot, as
/// a transaction does (writes wait for it asleep): it copies only what was written since
/// the first one, and the next write restarts the WAL. The last connection to close
/// checkpoints what is left, as before.
#[derive(Clone)]
pub struct Checkpoints(tokio::sync::mpsc::Sender<()>);

const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);
/// 16 MiB of 4 KiB pages; SQLite's own checkpoints came every 1,000.
const RESTART_AT: i64 = 4096;

impl Checkpoints {
    /// The task that checkpoints on `readers`' connections and `writer`'s; it ends with
    /// the last clone of its [`Db`].
    fn start(readers: &Pool<SqliteConn>, writer: &Pool<SqliteConn>) -> Self {
        let (due, mut wanted) = tokio::sync::mpsc::channel(1);
        let (readers, writer) = (readers.weak(), writer.weak());
        tokio::spawn(async move {
            while wanted.recv().await.is_some() {
                let (Some(readers), Some(writer)) = (readers.upgrade(), writer.upgrade()) else {
                    break;
                };
                let done = async {
                    if Self::checkpoint(&readers).await? >= RESTART_AT {
                        Self::checkpoint(&writer).await?;
                    }
                    Ok::<_, StorageError>(())
                };
                if let Err(e) = done.await {
                    tracing::warn!(error = %e, "WAL checkpoint failed");
                }
                drop((readers, writer));
                tokio::time::sleep(CHECKPOINT_EVERY).await;
            }
        });
        Self(due)
    }

    /// Asks for a checkpoint (one already asked for covers this one).
    fn due(&self) {
        let _ = self.0.try_send(());
    }

    /// A `PASSIVE` checkpoint on a connection of `pool`; answers how many pages the WAL
    /// holds.
    async fn checkpoint(pool: &Pool<SqliteConn>) -> Result<i64, StorageError> {
        #[derive(diesel::QueryableByName)]
        struct Checkpointed {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            log: i64,
        }
        let mut conn = pool
            .get()
            .await
            .map_err(|e| StorageError::Unavailable(e.to_string()))?;
        let done = conn
            .spawn_blocking(|c| {
                diesel::RunQueryDsl::get_result::<Checkpointed>(
                    diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)"),
                    c,
                )
            })
            .await?;
        Ok(done.log)
    }
}

/// A pool of connections to PostgreSQL at `url`, made as they are needed; making one
/// may take `connect_within`.
fn postgres_pool(
    url: &str,
    pool_size: u32,
    connect_within: Duration,
) -> Result<Pool<AsyncPgConnection>, StorageError> {
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    // No `SELECT 1` round trip per checkout (one per transaction, before): the pool still
    // drops a connection whose socket closed or whose transaction broke, and a server
    // gone since fails that one statement as it would have failed the check.
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(|url| {
        let url = url.to_owned();
        async move {
            use diesel_async::AsyncConnection as _;
            let mut conn = AsyncPgConnection::establish(&url).await?;
            conn.set_instrumentation(QueryCounter("postgres"));
            Ok(conn)
        }
        .boxed()
    });
    let manager = AsyncDieselConnectionManager::<AsyncPgConnection>::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(pool_size as usize)
        .wait_timeout(Some(Duration::from_secs(30)))
        .create_timeout(Some(connect_within))
        .runtime(deadpool_runtime())
        .build()
        .map_err(|e| StorageError::Unavailable(e.to_string()))
}

fn deadpool_runtime() -> deadpool::Runtime {
    deadpool::Runtime::Tokio1
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::thread::ThreadId;

    use super::{Db, DbConn, StorageError, short_reads};
    use crate::testing::TestDatabase;

    /// The thread a statement on `conn` runs on.
    async fn statement_thread(conn: &mut DbConn) -> ThreadId {
        let DbConn::Sqlite(c) = conn else {
            unreachable!("sqlite")
        };
        c.spawn_blocking(|_| Ok(std::thread::current().id()))
            .await
            .unwrap()
    }

    // On a current-thread runtime the task's thread is the test's own.
    #[tokio::test]
    async fn sqlite_statements_hop_except_short_reads_and_in_write_transactions() {
        let test = TestDatabase::sqlite().unwrap();
        let db: Db = test.open(2).await.unwrap();
        let here = std::thread::current().id();

        let mut conn = db.conn().await.unwrap();
        assert_ne!(statement_thread(&mut conn).await, here, "a plain read hops");
        let inline = short_reads(statement_thread(&mut conn)).await;
        assert_eq!(inline, here, "a short read runs on the task's thread");
        drop(conn);

        let in_transaction = short_reads(db.transaction(async |conn: &mut DbConn| {
            Ok::<_, StorageError>(statement_thread(conn).await)
        }))
        .await
        .unwrap();
        assert_eq!(
            in_transaction, here,
            "a write transaction's statement runs inline"
        );

        // And the scope ends with its future.
        let mut conn = db.conn().await.unwrap();
        assert_ne!(statement_thread(&mut conn).await, here);
    }

    async fn execute(db: &Db, sql: &'static str) {
        db.transaction(async |conn: &mut DbConn| {
            crate::db_run!(conn, c => {
                use diesel_async::SimpleAsyncConnection as _;
                c.batch_execute(sql).await
            })?;
            Ok::<_, StorageError>(())
        })
        .await
        .unwrap();
    }

    // The writer's commits never checkpoint: the pages they write reach the database
    // file only through the checkpoints that follow them.
    #[tokio::test]
    async fn sqlite_writes_reach_the_database_file_by_checkpoints() {
        let test = TestDatabase::sqlite().unwrap();
        let db: Db = test.open(2).await.unwrap();
        let file = test.sqlite_path().unwrap();
        execute(&db, "CREATE TABLE blobs (b BLOB NOT NULL)").await;
        // About 2 MB, in 16 transactions.
        for _ in 0..16 {
            execute(&db, "INSERT INTO blobs SELECT randomblob(128 * 1024)").await;
        }
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let size = std::fs::metadata(&file).unwrap().len();
            if size >= 2 * 1024 * 1024 {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the database file holds {size} bytes: nothing was checkpointed"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    // 128 MiB written back to back: once the WAL is long, a checkpoint holds the write
    // slot, so the WAL starts again from its beginning after it instead of growing with
    // every write (as it did with checkpoints only beside the writes: to 1 GB in one
    // seed). It may reach `RESTART_AT` pages and what was written meanwhile, not half.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_wal_stays_bounded_under_back_to_back_writes() {
        let test = TestDatabase::sqlite().unwrap();
        let db: Db = test.open(2).await.unwrap();
        let wal = test.dir().unwrap().join("weft.db-wal");
        execute(&db, "CREATE TABLE blobs (b BLOB NOT NULL)").await;
        let total = 128 * 1024 * 1024;
        let mut written = 0_u64;
        while written < total {
            // One row at a time: the database file stays small, the WAL gets every page.
            execute(
                &db,
                "DELETE FROM blobs; INSERT INTO blobs SELECT randomblob(32 * 1024)",
            )
            .await;
            written += 32 * 1024;
        }
        let wal_size = std::fs::metadata(&wal).unwrap().len();
        assert!(
            wal_size < total / 2,
            "the WAL holds {wal_size} bytes after {written} bytes were written"
        );
    }

    // Another process's write lock: the writer's `BEGIN IMMEDIATE` waits asleep, so the
    // runtime's one thread goes on running other tasks (here, the one that releases it).
    #[tokio::test]
    async fn sqlite_writer_waits_asleep_for_another_process_write_lock() {
        use diesel::Connection as _;
        use diesel::connection::SimpleConnection as _;
        let test = TestDatabase::sqlite().unwrap();
        let db: Db = test.open(2).await.unwrap();
        execute(
            &db,
            "CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0);",
        )
        .await;

        let path = test.sqlite_path().unwrap();
        let mut other = diesel::SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        other
            .batch_execute("BEGIN IMMEDIATE; UPDATE counter SET n = n + 10;")
            .unwrap();
        let write = tokio::spawn({
            let db = db.clone();
            async move { execute(&db, "UPDATE counter SET n = n * 2").await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(!write.is_finished(), "it waited for the other writer");
        other.batch_execute("COMMIT").unwrap();
        write.await.unwrap();

        let mut conn = db.conn().await.unwrap();
        let n: i64 = crate::db_run!(&mut conn, c => {
            use diesel_async::RunQueryDsl as _;
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("(SELECT n FROM counter)")).get_result(c).await
        })
        .unwrap();
        assert_eq!(n, 20, "the other process's write came first, then this one");
    }

    /// SQLite's `data_version` of `conn`: it changes when another connection commits.
    async fn data_version(conn: &mut DbConn) -> i64 {
        let DbConn::Sqlite(c) = conn else {
            unreachable!("sqlite")
        };
        c.spawn_blocking(|c| {
            use diesel::RunQueryDsl as _;
            #[derive(diesel::QueryableByName)]
            struct Version {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                data_version: i64,
            }
            let v: Version = diesel::sql_query("PRAGMA data_version").get_result(c)?;
            Ok(v.data_version)
        })
        .await
        .unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_writes_share_one_connection_and_queue_for_it() {
        let test = TestDatabase::sqlite().unwrap();
        let db: Db = test.open(4).await.unwrap();
        {
            let mut conn = db.conn().await.unwrap();
            crate::db_run!(&mut conn, c => {
                use diesel_async::SimpleAsyncConnection as _;
                c.batch_execute("CREATE TABLE counter (n INTEGER NOT NULL); INSERT INTO counter VALUES (0);").await
            })
            .unwrap();
        }
        // 32 writers at once, each reading then writing: none may overwrite another.
        let writes = (0..32).map(|_| {
            let db = db.clone();
            tokio::spawn(async move {
                db.transaction(async |conn: &mut DbConn| {
                    let seen = data_version(conn).await;
                    crate::db_run!(conn, c => {
                        use diesel_async::SimpleAsyncConnection as _;
                        c.batch_execute("UPDATE counter SET n = n + 1").await
                    })?;
                    Ok::<_, StorageError>(seen)
                })
                .await
                .unwrap()
            })
        });
        let seen: Vec<i64> = futures::future::try_join_all(writes).await.unwrap();
        // Every write ran on the same connection, which never saw another one commit:
        // its cache stayed valid from one write to the next.
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
        let mut conn = db.conn().await.unwrap();
        let n: i64 = crate::db_run!(&mut conn, c => {
            use diesel_async::RunQueryDsl as _;
            diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>("(SELECT n FROM counter)")).get_result(c).await
        })
        .unwrap();
        assert_eq!(n, 32);
    }
}
