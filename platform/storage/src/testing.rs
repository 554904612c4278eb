//! Fresh databases for tests: a new SQLite file, or a new PostgreSQL database created
//! through `WEFT_TEST_DATABASE_URL` and dropped when the handle is dropped. Used by the
//! test harness (`weft-testkit`) and by platform crates' own contract tests.

use std::path::PathBuf;

use crate::{Db, StorageError};

/// The admin URL of the test PostgreSQL, or `None` to skip its variants (never in CI).
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("WEFT_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
            assert!(
                !in_ci,
                "WEFT_TEST_DATABASE_URL is unset under CI=true: PostgreSQL tests must run in CI"
            );
            eprintln!("skipped: WEFT_TEST_DATABASE_URL unset (PostgreSQL variant not run)");
            None
        }
    }
}

/// A database that exists for one test.
pub enum TestDatabase {
    Sqlite {
        dir: tempfile::TempDir,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
}

impl std::fmt::Debug for TestDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite { dir } => write!(f, "TestDatabase::Sqlite({})", dir.path().display()),
            Self::Postgres { name, .. } => write!(f, "TestDatabase::Postgres({name})"),
        }
    }
}

impl TestDatabase {
    /// A new SQLite file in a temporary directory.
    pub fn sqlite() -> std::io::Result<Self> {
        Ok(Self::Sqlite {
            dir: tempfile::tempdir()?,
        })
    }

    /// A new PostgreSQL database next to `admin_url`'s.
    pub async fn postgres(admin_url: &str) -> Result<Self, StorageError> {
        use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
        let name = format!("weft_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = AsyncPgConnection::establish(admin_url)
            .await
            .map_err(|e| StorageError::Unavailable(format!("WEFT_TEST_DATABASE_URL: {e}")))?;
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await?;
        let url = match admin_url.rfind('/') {
            Some(i) if admin_url[..i].contains("://") && !admin_url[..i].ends_with('/') => {
                let query = admin_url[i..].find('?').map_or("", |q| &admin_url[i + q..]);
                format!("{}/{name}{query}", &admin_url[..i])
            }
            _ => format!("{}/{name}", admin_url.trim_end_matches('/')),
        };
        Ok(Self::Postgres {
            admin_url: admin_url.to_owned(),
            name,
            url,
        })
    }

    /// `Some(url)` for PostgreSQL, `None` for SQLite.
    pub fn url(&self) -> Option<&str> {
        match self {
            Self::Sqlite { .. } => None,
            Self::Postgres { url, .. } => Some(url),
        }
    }

    /// The SQLite file (for SQLite) — under the temporary directory.
    pub fn sqlite_path(&self) -> Option<PathBuf> {
        match self {
            Self::Sqlite { dir } => Some(dir.path().join("weft.db")),
            Self::Postgres { .. } => None,
        }
    }

    /// The temporary directory of a SQLite database.
    pub fn dir(&self) -> Option<&std::path::Path> {
        match self {
            Self::Sqlite { dir } => Some(dir.path()),
            Self::Postgres { .. } => None,
        }
    }

    /// Opens a pool on this database.
    pub async fn open(&self, pool_size: u32) -> Result<Db, StorageError> {
        match self {
            Self::Sqlite { dir } => Db::sqlite(&dir.path().join("weft.db"), pool_size).await,
            Self::Postgres { url, .. } => Db::postgres(url, pool_size).await,
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Self::Postgres {
            admin_url, name, ..
        } = self
        else {
            return;
        };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop may run inside or outside a runtime; a private one on a thread works in both.
        let dropped = std::thread::spawn(move || {
            use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut conn) = AsyncPgConnection::establish(&admin_url).await {
                    let _ = diesel::sql_query(format!(
                        "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                    ))
                    .execute(&mut conn)
                    .await;
                }
            });
        });
        let _ = dropped.join();
    }
}
