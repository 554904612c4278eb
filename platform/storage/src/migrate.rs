//! The migration runner. Each service owns a [`MigrationSet`] (its own SQL for PostgreSQL
//! and for SQLite, embedded at compile time); [`run`] applies every set a process hosts, in
//! order, recording them in diesel's `__diesel_schema_migrations`. Versions are
//! date-prefixed and unique across all services, so sets never collide.

use diesel_migrations::{EmbeddedMigrations, MigrationHarness};

use crate::{Db, StorageError};

/// A service's migrations, one directory per backend.
pub struct MigrationSet {
    pub owner: &'static str,
    pub postgres: EmbeddedMigrations,
    pub sqlite: EmbeddedMigrations,
}

/// Migrations for the platform's own tables.
pub static PLATFORM: MigrationSet = MigrationSet {
    owner: "platform",
    postgres: diesel_migrations::embed_migrations!("migrations/postgres"),
    sqlite: diesel_migrations::embed_migrations!("migrations/sqlite"),
};

/// Applies every pending migration of `sets`, returning how many ran.
pub async fn run(db: &Db, sets: &[&'static MigrationSet]) -> Result<usize, StorageError> {
    let sets = sets.to_vec();
    let applied = match db {
        Db::Postgres(pool) => {
            let conn = pool
                .get()
                .await
                .map_err(|e| StorageError::Unavailable(e.to_string()))?;
            let conn = deadpool::managed::Object::take(conn);
            // The harness is synchronous and blocks on the runtime handle: off the
            // async workers it goes.
            tokio::task::spawn_blocking(move || {
                let mut harness = diesel_async::AsyncMigrationHarness::new(conn);
                apply(&mut harness, sets.iter().map(|s| (s.owner, &s.postgres)))
            })
            .await
        }
        Db::Sqlite(pool, ..) => {
            let conn = pool
                .get()
                .await
                .map_err(|e| StorageError::Unavailable(e.to_string()))?;
            let conn = deadpool::managed::Object::take(conn);
            tokio::task::spawn_blocking(move || {
                let mut harness = diesel_async::AsyncMigrationHarness::new(conn);
                apply(&mut harness, sets.iter().map(|s| (s.owner, &s.sqlite)))
            })
            .await
        }
    };
    applied.map_err(|e| StorageError::Migration(e.to_string()))?
}

fn apply<DB: diesel::backend::Backend>(
    harness: &mut impl MigrationHarness<DB>,
    sets: impl Iterator<Item = (&'static str, &'static EmbeddedMigrations)>,
) -> Result<usize, StorageError> {
    let mut count = 0;
    for (owner, set) in sets {
        let ran = harness
            .run_pending_migrations(Source(set))
            .map_err(|e| StorageError::Migration(format!("{owner}: {e}")))?;
        // One line each at debug; the caller logs the total.
        for version in &ran {
            tracing::debug!(owner, %version, "migration applied");
        }
        count += ran.len();
    }
    Ok(count)
}

/// Lends a `'static` embedded set to the harness, which wants an owned source.
struct Source(&'static EmbeddedMigrations);

impl<DB: diesel::backend::Backend> diesel::migration::MigrationSource<DB> for Source
where
    EmbeddedMigrations: diesel::migration::MigrationSource<DB>,
{
    fn migrations(
        &self,
    ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<DB>>>> {
        self.0.migrations()
    }
}

impl std::fmt::Debug for MigrationSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MigrationSet({})", self.owner)
    }
}
