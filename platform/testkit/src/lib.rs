//! Black-box test harness. [`spawn_app`] starts the real [`weft::Application`] on port 0
//! with a fresh SQLite file or a fresh PostgreSQL database and hands back the generated
//! SDK client; [`backend_tests!`] runs the same test function on every backend; and
//! [`WeftProcess`] starts the real `weft` binary for tests that need separate processes
//! (the gateway, SIGKILL recovery).
//!
//! PostgreSQL runs when `WEFT_TEST_DATABASE_URL` is set (an admin URL such as
//! `postgres://postgres@127.0.0.1:5432/postgres`). Without it the PostgreSQL variants
//! print `skipped: WEFT_TEST_DATABASE_URL unset` — and fail under `CI=true`, where a
//! missing server must never pass silently.

// A harness fails the test that uses it by panicking, with a message saying why.
#![allow(clippy::expect_used, clippy::unwrap_used)]

mod process;

use std::sync::Once;

use weft_config::Settings;

pub use process::WeftProcess;

/// Which relational store a test app runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A running application and clients to reach it.
pub struct TestApp {
    pub address: String,
    pub port: u16,
    /// The generated SDK, as a storefront would use it.
    pub client: weft_sdk::Client,
    /// A plain HTTP client for what the SDK cannot send (malformed bodies, raw headers).
    pub http: reqwest::Client,
    pub backend: Backend,
    pub settings: Settings,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    _data_dir: tempfile::TempDir,
    _database: Option<TestDatabase>,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp")
            .field("address", &self.address)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Stops accepting connections, lets in-flight requests finish, and waits.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.server.take() {
            Some(handle) => handle.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

fn init_process() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Whether this run must exercise every required backend (`CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// The admin URL of the test PostgreSQL, or why the PostgreSQL variant cannot run.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("WEFT_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                !in_ci(),
                "WEFT_TEST_DATABASE_URL is unset under CI=true: PostgreSQL tests must run in CI"
            );
            eprintln!("skipped: WEFT_TEST_DATABASE_URL unset (PostgreSQL variant not run)");
            None
        }
    }
}

/// Starts the application on `backend` with test defaults (rate limiting off, port 0).
/// `None` means the backend is not configured here and the test is skipped (never in CI).
pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// As [`spawn_app`], with `configure` adjusting the settings first.
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut Settings),
) -> Option<TestApp> {
    init_process();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut settings = Settings {
        port: 0,
        data_dir: data_dir.path().to_path_buf(),
        rate_limit_per_minute: 0,
        database_pool_size: 5,
        shutdown_grace_seconds: 5,
        ..Settings::default()
    };
    let database = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let db = TestDatabase::create(&postgres_admin_url()?).await;
            settings.database_url = Some(db.url.clone());
            Some(db)
        }
    };
    configure(&mut settings);

    let app = weft::Application::build(settings.clone())
        .await
        .expect("application builds");
    let port = app.port();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = rx.await;
    }));
    let address = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("http client");
    Some(TestApp {
        client: weft_sdk::Client::new_with_client(&address, http.clone()),
        address,
        port,
        http,
        backend,
        settings,
        shutdown: Some(tx),
        server: Some(server),
        _data_dir: data_dir,
        _database: database,
    })
}

/// A PostgreSQL database made for one test and dropped after it.
struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    async fn create(admin_url: &str) -> Self {
        use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
        let name = format!("weft_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = AsyncPgConnection::establish(admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach WEFT_TEST_DATABASE_URL: {e}"));
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let mut url = reqwest::Url::parse(admin_url).expect("WEFT_TEST_DATABASE_URL is a URL");
        url.set_path(&format!("/{name}"));
        Self {
            admin_url: admin_url.to_owned(),
            name,
            url: url.to_string(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop runs outside async context guarantees, so use a private runtime on a thread.
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
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

/// Declares `#[tokio::test]`s running each listed `async fn(TestApp)` on SQLite and on
/// PostgreSQL: `backend_tests!(meta_reports_the_version, unknown_routes_are_problems);`
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let app = $crate::spawn_app($crate::Backend::Sqlite).await.expect("sqlite always runs");
                    super::$name(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(app) = $crate::spawn_app($crate::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            )*
        }
    };
}
