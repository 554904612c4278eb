//! Guests' catalog reads on a real streaming replica (`database_replica_urls`): a second
//! PostgreSQL made from the first with `pg_basebackup -R` (`scripts/pg-replica-pair.sh`),
//! so replication and its lag are real. The replica's replay is paused to make the lag as
//! long as the test needs, then the replica is killed.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;
use weft_sdk::types::UpdateProductRequest;
use weft_testkit::{Backend, TestApp, in_ci, spawn_app_with};

use crate::support::{authed, enrolled_admin};

/// A primary and its replica, stopped and removed when dropped.
struct Pair {
    dir: String,
    primary: String,
    replica: String,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-replica-pair.sh")
}

/// Two ports below the ephemeral range that nothing listens on now.
fn two_ports() -> (u16, u16) {
    let seed = uuid::Uuid::now_v7().as_u128();
    let mut free = (0..2000u128)
        .map(|i| u16::try_from(20_000 + (seed + i * 7919) % 12_000).unwrap())
        .filter(|port| std::net::TcpListener::bind(("127.0.0.1", *port)).is_ok());
    (free.next().unwrap(), free.next().unwrap())
}

impl Pair {
    /// `None` (the test skipped) where PostgreSQL's server binaries are missing; under
    /// `CI=true` that is a failure.
    fn start() -> Option<Self> {
        let dir = format!("/tmp/weft-replicas-{}", uuid::Uuid::now_v7().simple());
        let (primary, replica) = two_ports();
        let out = std::process::Command::new(script())
            .args(["start", &dir, &primary.to_string(), &replica.to_string()])
            .output()
            .unwrap();
        let pair = Self {
            dir,
            primary: format!("postgres://postgres@127.0.0.1:{primary}/postgres"),
            replica: format!("postgres://postgres@127.0.0.1:{replica}/postgres"),
        };
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).into_owned();
            assert!(!in_ci(), "a primary and replica could not be made: {why}");
            eprintln!("skipped: no PostgreSQL primary/replica pair here ({why})");
            return None;
        }
        Some(pair)
    }

    fn kill_replica(&self) {
        let out = std::process::Command::new(script())
            .args(["stop-replica", &self.dir])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = std::process::Command::new(script())
            .args(["stop", &self.dir])
            .output();
    }
}

async fn on_replica(pair: &Pair, sql: &str) {
    use diesel_async::RunQueryDsl as _;
    let db = weft_storage::Db::postgres(&pair.replica, 1).await.unwrap();
    let mut conn = db.conn().await.unwrap();
    weft_storage::db_run!(&mut conn, c => diesel::sql_query(sql).execute(c).await).unwrap();
}

/// A shop on the pair whose guests may read a replica trailing by up to `max_lag_ms`.
async fn shop(pair: &Pair, max_lag_ms: u64) -> Option<TestApp> {
    let (primary, replica) = (pair.primary.clone(), pair.replica.clone());
    spawn_app_with(Backend::Postgres, move |s| {
        s.database_url = Some(primary);
        s.database_replica_urls = replica;
        s.database_replica_max_lag_ms = max_lag_ms;
    })
    .await
}

async fn title(client: &weft_sdk::Client, product: &str) -> String {
    client
        .get_product()
        .id(product)
        .send()
        .await
        .unwrap()
        .into_inner()
        .title
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_read_the_replica_staff_the_primary_and_a_lagging_or_dead_replica_is_passed_over() {
    let Some(pair) = Pair::start() else {
        return;
    };
    // A shop that tolerates any lag, so its guests do read what the replica has.
    let Some(patient) = shop(&pair, 3_600_000).await else {
        return;
    };
    let (session, _, _) = enrolled_admin(&patient, "replicas@example.com").await;
    let admin = authed(&patient, &session.access_token);
    crate::purchase::variant(&admin, "REPLICA-1", 5).await;
    let product = patient
        .client
        .list_products()
        .send()
        .await
        .unwrap()
        .into_inner()
        .data[0]
        .id
        .clone();
    let deadline = Instant::now() + Duration::from_secs(10);
    while patient
        .client
        .get_product()
        .id(&product)
        .send()
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "the replica never had the product"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The replica stops applying what it receives: from now on it trails for real.
    on_replica(&pair, "SELECT pg_wal_replay_pause()").await;
    admin
        .update_product()
        .id(&product)
        .body(
            serde_json::from_value::<UpdateProductRequest>(
                json!({"title": "Renamed on the primary"}),
            )
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    // Read-your-writes needs the primary: the admin reads it and sees her change ...
    assert_eq!(title(&admin, &product).await, "Renamed on the primary");
    // ... while a guest, on the replica, still reads the old title.
    assert_eq!(
        title(&patient.client, &product).await,
        "Linen Shirt REPLICA-1"
    );

    // A shop that tolerates one second sees the replica trail further and reads the
    // primary instead.
    let Some(strict) = shop(&pair, 1_000).await else {
        return;
    };
    // Each page size is a listing no cache kept (this shop hears no event of the other's
    // write), so every read asks a database.
    let deadline = Instant::now() + Duration::from_secs(15);
    for reads in 1u64.. {
        let listed = strict
            .client
            .list_products()
            .brand("Plain")
            .limit(reads % 100 + 1)
            .send()
            .await
            .unwrap()
            .into_inner();
        if listed.data[0].title == "Renamed on the primary" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "a lagging replica was not passed over"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // The replica dies: the patient shop's guests are answered from the primary, and
    // not one read fails meanwhile.
    pair.kill_replica();
    let deadline = Instant::now() + Duration::from_secs(15);
    for reads in 1u64.. {
        // Each page size is a listing the cache has not kept: every read reaches a database.
        let listed = patient
            .client
            .list_products()
            .brand("Plain")
            .limit(reads % 50 + 1)
            .send()
            .await
            .unwrap_or_else(|e| panic!("read {reads} failed with the replica down: {e:?}"))
            .into_inner();
        if listed.data[0].title == "Renamed on the primary" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still not the primary's answer after {reads} reads"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    strict.stop().await.unwrap();
    patient.stop().await.unwrap();
}
