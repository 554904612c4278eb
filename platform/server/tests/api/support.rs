//! What the API tests share: SDK clients with credentials, sign-ups, admins (created by the
//! CLI and enrolled in TOTP, as the API requires), TOTP codes and problem bodies.

use weft_sdk::types::{AuthSession, LoginRequest, RegisterRequest, VerifyTotpRequest};
use weft_testkit::{Backend, TestApp, in_ci};

pub fn create_admin(app: &TestApp, email: &str, password: &str) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_weft"));
    cmd.args(["admin", "create", "--email", email, "--data-dir"])
        .arg(&app.settings.data_dir)
        .env("WEFT_ADMIN_PASSWORD", password)
        .env("RUST_LOG", "warn")
        .env_remove("WEFT_DATABASE_URL");
    if let Some(url) = &app.settings.database_url {
        cmd.env("WEFT_DATABASE_URL", url);
    }
    cmd.output().unwrap()
}

pub fn authed(app: &TestApp, token: &str) -> weft_sdk::Client {
    authed_at(&app.address, token)
}

/// An SDK client for the process at `address`, sending `token` as its bearer.
pub fn authed_at(address: &str, token: &str) -> weft_sdk::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    let http = reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap();
    weft_sdk::Client::new_with_client(address, http)
}

pub fn registration(email: &str) -> RegisterRequest {
    RegisterRequest {
        email: email.to_owned(),
        password: "linen-and-wool-2026".to_owned(),
        name: "Ada Lovelace".to_owned(),
    }
}

pub async fn problem_of<T: std::fmt::Debug>(
    result: Result<T, weft_sdk::Error<weft_sdk::types::Problem>>,
) -> weft_sdk::types::Problem {
    match result {
        Err(weft_sdk::Error::ErrorResponse(p)) => p.into_inner(),
        other => panic!("expected a problem, got {other:?}"),
    }
}

/// The TOTP code for `secret` (base32) at now + `offset_steps` × 30 s.
pub fn totp_at(secret: &str, offset_steps: i64) -> String {
    let totp = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .build()
        .unwrap();
    let now = u64::try_from(chrono::Utc::now().timestamp() + offset_steps * 30).unwrap();
    totp.generate(now).to_string()
}

/// Waits, if needed, until at least 10 s of the current 30 s TOTP step remain, so a test
/// that reasons about "this step" and "the next step" does not straddle a boundary.
pub async fn wait_for_fresh_totp_step() {
    let into_step = chrono::Utc::now().timestamp().rem_euclid(30);
    if into_step > 20 {
        let wait = u64::try_from(31 - into_step).unwrap();
        tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    }
}

pub fn totp_now(secret: &str) -> String {
    totp_at(secret, 0)
}

/// An admin created by the CLI, signed in, and enrolled in TOTP: (session, TOTP secret,
/// recovery codes). Its session may do everything admins may.
pub async fn enrolled_admin(app: &TestApp, email: &str) -> (AuthSession, String, Vec<String>) {
    let password = "tailor-made-2026!";
    let out = create_admin(app, email, password);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    enrol(&app.client, &app.address, email, password).await
}

/// An admin made with `weft admin create` in the SQLite shop under `data_dir`, signed in
/// and enrolled (TOTP) at the process serving it at `address`.
pub async fn enrolled_admin_at(
    address: &str,
    data_dir: &std::path::Path,
    email: &str,
) -> AuthSession {
    let password = "tailor-made-2026!";
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_weft"))
        .args(["admin", "create", "--email", email, "--data-dir"])
        .arg(data_dir)
        .env("WEFT_ADMIN_PASSWORD", password)
        .env("RUST_LOG", "warn")
        .env_remove("WEFT_DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    enrol(&weft_sdk::Client::new(address), address, email, password)
        .await
        .0
}

/// Signs an admin in and enrols TOTP: (session, secret, recovery codes).
pub async fn enrol(
    client: &weft_sdk::Client,
    address: &str,
    email: &str,
    password: &str,
) -> (AuthSession, String, Vec<String>) {
    let (session, secret, recovery, _) = enrol_with_code(client, address, email, password).await;
    (session, secret, recovery)
}

/// As [`enrol`], with the TOTP code the enrolment used (for tests of replays: recomputing
/// it later may land in the next 30 s step on a loaded machine).
pub async fn enrol_with_code(
    client: &weft_sdk::Client,
    address: &str,
    email: &str,
    password: &str,
) -> (AuthSession, String, Vec<String>, String) {
    let pending = client
        .login()
        .body(LoginRequest {
            email: email.to_owned(),
            password: password.to_owned(),
            totp_code: None,
        })
        .send()
        .await
        .unwrap()
        .into_inner();
    let client = authed_at(address, &pending.access_token);
    let enrolment = client.start_totp().send().await.unwrap().into_inner();
    let code = totp_now(&enrolment.secret);
    let enabled = client
        .verify_totp()
        .body(VerifyTotpRequest { code: code.clone() })
        .send()
        .await
        .unwrap()
        .into_inner();
    (
        enabled.session,
        enrolment.secret,
        enabled.recovery_codes,
        code,
    )
}

/// Text values of a one-column query, straight from the app's database (to check what is
/// stored, e.g. that personal data is encrypted).
pub async fn stored_strings(app: &TestApp, sql: &str) -> Vec<String> {
    use diesel_async::RunQueryDsl as _;
    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let db = weft::app::open_database(&app.settings).await.unwrap();
    let mut conn = db.conn().await.unwrap();
    let rows: Vec<Row> =
        weft_storage::db_run!(&mut conn, c => diesel::sql_query(sql).load::<Row>(c).await).unwrap();
    rows.into_iter().map(|r| r.v).collect()
}

/// A signed-up customer's session.
pub async fn customer(app: &TestApp, email: &str) -> AuthSession {
    app.client
        .register()
        .body(registration(email))
        .send()
        .await
        .unwrap()
        .into_inner()
}

/// A shop on a copy of the SQLite database a stopped shop kept in `data_dir`: its next
/// start. The copy goes to a new data dir because the stopped shop's search index stays
/// locked by this test process; the new shop builds its own from the database. Keep the
/// returned directory for as long as the shop runs.
pub async fn restarted_sqlite(data_dir: &std::path::Path) -> (TestApp, tempfile::TempDir) {
    let moved = tempfile::tempdir().unwrap();
    for file in ["weft.db", "weft.db-wal", "weft.db-shm"] {
        if data_dir.join(file).exists() {
            std::fs::copy(data_dir.join(file), moved.path().join(file)).unwrap();
        }
    }
    (sqlite_app_in(moved.path()).await, moved)
}

/// A SQLite shop keeping its data in `data_dir` (to stop it and read or restart on it).
pub async fn sqlite_app_in(data_dir: &std::path::Path) -> TestApp {
    weft_testkit::spawn_app_with(weft_testkit::Backend::Sqlite, |s| {
        s.data_dir = data_dir.to_path_buf();
    })
    .await
    .unwrap()
}

/// A product's price range in USD, as the REST API answers it.
pub fn usd_range(product: &serde_json::Value) -> serde_json::Value {
    product["price_ranges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["currency"] == "USD")
        .unwrap()
        .clone()
}

/// Runs one statement on the app's database (to age a row, as time would).
pub async fn execute_sql(app: &TestApp, sql: &str) -> usize {
    use diesel_async::RunQueryDsl as _;
    let db = weft::app::open_database(&app.settings).await.unwrap();
    let mut conn = db.conn().await.unwrap();
    weft_storage::db_run!(&mut conn, c => diesel::sql_query(sql).execute(c).await).unwrap()
}

/// RabbitMQ's URL for a run on `backend`: none on SQLite (events stay in-process); on
/// PostgreSQL the cluster's transport, from `WEFT_TEST_AMQP_URL` — which must be set under
/// CI=true, and is said to be missing otherwise (`what` names what then runs without it).
pub fn amqp_for(backend: Backend, what: &str) -> Option<String> {
    match backend {
        Backend::Sqlite => None,
        Backend::Postgres => match std::env::var("WEFT_TEST_AMQP_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                assert!(!in_ci(), "WEFT_TEST_AMQP_URL is unset under CI=true");
                eprintln!("skipped: WEFT_TEST_AMQP_URL unset ({what} on RabbitMQ not run)");
                None
            }
        },
    }
}
