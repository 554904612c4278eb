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

pub mod contract;
pub mod oidc;
mod process;

use std::sync::{Arc, Once, OnceLock};

use poem::EndpointExt as _;

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
    /// Answers that broke the served OpenAPI document; the test fails on them at drop.
    violations: contract::Violations,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let violations = std::mem::take(
            &mut *self
                .violations
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        assert!(
            violations.is_empty() || std::thread::panicking(),
            "{} answer(s) broke the OpenAPI contract (openapi/v1.json):\n{}",
            violations.len(),
            violations.join("\n")
        );
    }
}

/// The served contract, read once per test binary.
fn served_contract() -> Arc<contract::Contract> {
    static CONTRACT: OnceLock<Arc<contract::Contract>> = OnceLock::new();
    Arc::clone(CONTRACT.get_or_init(|| {
        let mut spec: serde_json::Value =
            serde_json::from_str(&weft::openapi_json()).expect("the contract is JSON");
        // Tests call the cluster's internal endpoints too: their answers are held to
        // `openapi/internal.json`, merged in (the shared schemas are the same types).
        let internal: serde_json::Value =
            serde_json::from_str(&weft::openapi_internal_json()).expect("the contract is JSON");
        for section in ["/paths", "/components/schemas"] {
            let (Some(into), Some(from)) = (
                spec.pointer_mut(section).and_then(|v| v.as_object_mut()),
                internal.pointer(section).and_then(|v| v.as_object()),
            ) else {
                panic!("both contracts have {section}");
            };
            for (name, value) in from {
                into.entry(name.clone()).or_insert_with(|| value.clone());
            }
        }
        Arc::new(contract::Contract::new(&spec))
    }))
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

pub(crate) fn init_process() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

use weft_storage::testing::TestDatabase;
pub use weft_storage::testing::postgres_admin_url;

/// Whether this run must exercise every required backend (`CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
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
        // Expiry tests should not wait long for the sweeper.
        inventory: weft_config::InventorySettings {
            sweep_interval_seconds: 1,
            ..weft_config::InventorySettings::default()
        },
        cart: weft_config::CartSettings {
            sweep_interval_seconds: 1,
            ..weft_config::CartSettings::default()
        },
        ..Settings::default()
    };
    let database = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let db = TestDatabase::postgres(&postgres_admin_url()?)
                .await
                .expect("test database");
            settings.database_url = db.url().map(str::to_owned);
            // The cluster backends travel together: PostgreSQL tests use Redis for the
            // cache and rate limits when one is configured, in a namespace of their own.
            if let Ok(url) = std::env::var("WEFT_TEST_REDIS_URL")
                && !url.is_empty()
            {
                settings.redis_url = Some(url);
                settings.namespace = format!("t{}", uuid::Uuid::now_v7().simple());
            }
            Some(db)
        }
    };
    configure(&mut settings);

    let violations = contract::Violations::default();
    let checked = Arc::clone(&violations);
    let app = weft::Application::build(settings.clone())
        .await
        .expect("application builds")
        .map_endpoint(|inner| {
            contract::Validating {
                inner,
                contract: served_contract(),
                violations: checked,
            }
            .boxed()
        });
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
        violations,
    })
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
