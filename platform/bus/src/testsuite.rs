//! The contract every [`Transport`] must meet with the outbox, relay and consumers around
//! it, as plain async functions. `tests/contract.rs` runs them in-process (SQLite and
//! PostgreSQL) and over a real RabbitMQ. Each test uses its own database and its own
//! consumer name, so tests sharing a broker never see each other's events.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)]

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use diesel::{ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;
use weft_storage::{Db, DbConn, StorageError, db_run};

use crate::events::OrderCancelled;
use crate::{Bus, BusSettings, Envelope, EventHandler, HandlerError, RetryPolicy, Transport};

diesel::table! {
    bus_test_effects (id) {
        id -> Text,
        consumer -> Text,
        event_id -> Text,
        aggregate_id -> Text,
    }
}

/// Makes a fresh transport for a test (a new one stands for a restarted process).
pub type MakeTransport =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Arc<dyn Transport>> + Send>> + Send + Sync>;

/// What a contract test gets: its own database, a way to build transports, and a name.
pub struct Fixture {
    pub db: Db,
    pub make_transport: MakeTransport,
    /// Unique per test: the consumer's queue and inbox scope.
    pub consumer: &'static str,
    /// Whatever must outlive the test (its temporary database).
    pub keep: Vec<Box<dyn std::any::Any + Send + Sync>>,
    /// Renders the process's Prometheus metrics, when a recorder is installed.
    pub metrics: Option<fn() -> String>,
}

impl Fixture {
    pub async fn new(db: Db, make_transport: MakeTransport) -> Self {
        weft_storage::migrate::run(&db, &[&weft_storage::migrate::PLATFORM])
            .await
            .unwrap();
        let mut conn = db.conn().await.unwrap();
        db_run!(&mut conn, c => diesel::sql_query(
            "CREATE TABLE bus_test_effects (id TEXT PRIMARY KEY, consumer TEXT NOT NULL, event_id TEXT NOT NULL, aggregate_id TEXT NOT NULL)"
        ).execute(c).await).unwrap();
        let consumer: &'static str =
            Box::leak(format!("test_{}", uuid::Uuid::now_v7().simple()).into_boxed_str());
        Self {
            db,
            make_transport,
            consumer,
            keep: Vec::new(),
            metrics: None,
        }
    }

    /// A bus as a freshly started process would have it, with the recorder subscribed.
    pub async fn start(&self, recorder: &Arc<Recorder>, retry: RetryPolicy) -> Bus {
        let settings = BusSettings {
            poll_interval: Duration::from_millis(100),
            lease: Duration::from_secs(2),
            retry,
            ..BusSettings::default()
        };
        let bus = Bus::new(self.db.clone(), (self.make_transport)().await, settings);
        bus.subscribe(Arc::clone(recorder) as Arc<dyn EventHandler>)
            .await
            .unwrap();
        bus
    }

    pub fn recorder(&self) -> Arc<Recorder> {
        Arc::new(Recorder {
            consumer: self.consumer,
            failures: Mutex::new(HashMap::new()),
        })
    }

    /// Appends `OrderCancelled` events for `orders` in one committed transaction.
    pub async fn commit(&self, orders: &[String]) -> Vec<Envelope> {
        self.db
            .transaction(async |conn: &mut DbConn| {
                let mut out = Vec::new();
                for order in orders {
                    out.push(
                        crate::append(
                            conn,
                            &OrderCancelled {
                                order_id: order.clone(),
                                reason: "test".into(),
                                ..OrderCancelled::default()
                            },
                        )
                        .await?,
                    );
                }
                Ok::<_, StorageError>(out)
            })
            .await
            .unwrap()
    }

    /// How many times each of `orders` was applied.
    pub async fn applied(&self, orders: &[String]) -> Vec<i64> {
        let mut conn = self.db.conn().await.unwrap();
        let mut counts = Vec::with_capacity(orders.len());
        for order in orders {
            let n = db_run!(&mut conn, c => bus_test_effects::table
                .filter(bus_test_effects::consumer.eq(self.consumer))
                .filter(bus_test_effects::aggregate_id.eq(order))
                .count()
                .get_result::<i64>(c)
                .await)
            .unwrap();
            counts.push(n);
        }
        counts
    }

    /// Waits (up to 60 s, a liveness bound, not a speed target) until every order was applied.
    pub async fn wait_applied(&self, orders: &[String]) -> Vec<i64> {
        let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
        loop {
            let counts = self.applied(orders).await;
            if counts.iter().all(|n| *n >= 1) || tokio::time::Instant::now() > deadline {
                return counts;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The outbox's unpublished rows once the relay marked what it published (it does so
    /// just after the consumers applied it), or after a minute.
    pub async fn settled_backlog(bus: &Bus) -> i64 {
        let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
        loop {
            let backlog = bus.backlog().await.unwrap();
            if backlog == 0 || tokio::time::Instant::now() > deadline {
                return backlog;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub async fn dead_letters(&self) -> Vec<weft_storage::events::DeadLetter> {
        weft_storage::events::list_dead_letters(&self.db, self.consumer, 100)
            .await
            .unwrap()
    }
}

/// Order ids unique to one test.
pub fn orders(prefix: &str, n: usize) -> Vec<String> {
    let run = uuid::Uuid::now_v7().simple().to_string();
    (0..n).map(|i| format!("{prefix}-{run}-{i}")).collect()
}

/// The test consumer: records each applied event as a row in `bus_test_effects`, in the
/// consumer's transaction. Orders named `fail-always-…` always fail; `fail-twice-…` fail
/// their first two attempts.
pub struct Recorder {
    consumer: &'static str,
    failures: Mutex<HashMap<String, u32>>,
}

#[async_trait::async_trait]
impl EventHandler for Recorder {
    fn consumer(&self) -> &'static str {
        self.consumer
    }

    fn event_types(&self) -> &'static [&'static str] {
        &["order.cancelled"]
    }

    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        let order = event
            .decode::<OrderCancelled>()
            .map_err(|e| HandlerError::Failed(e.to_string()))?
            .order_id;
        if order.starts_with("fail-always") {
            return Err(HandlerError::Failed("this order always fails".into()));
        }
        if order.starts_with("fail-twice") {
            let mut failures = self.failures.lock().unwrap();
            let n = failures.entry(order.clone()).or_insert(0);
            *n += 1;
            if *n <= 2 {
                return Err(HandlerError::Failed(format!("failure {n} of 2")));
            }
        }
        let id = uuid::Uuid::now_v7().to_string();
        let event_id = event.id.to_string();
        db_run!(conn, c => diesel::insert_into(bus_test_effects::table)
            .values((
                bus_test_effects::id.eq(&id),
                bus_test_effects::consumer.eq(self.consumer),
                bus_test_effects::event_id.eq(&event_id),
                bus_test_effects::aggregate_id.eq(&order),
            ))
            .execute(c)
            .await)
        .map_err(StorageError::from)?;
        Ok(())
    }
}

fn fast_retries(max_attempts: u32) -> RetryPolicy {
    RetryPolicy {
        max_attempts,
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
    }
}

pub async fn a_committed_event_is_applied_exactly_once(f: Fixture) {
    let recorder = f.recorder();
    let bus = f.start(&recorder, fast_retries(3)).await;
    let _relay = bus.spawn_relay();
    let ids = orders("one", 1);
    let written = f.commit(&ids).await;
    bus.wake();
    assert_eq!(f.wait_applied(&ids).await, vec![1]);
    assert_eq!(Fixture::settled_backlog(&bus).await, 0);
    assert_eq!(written[0].event_type, "order.cancelled");
}

pub async fn an_event_in_a_rolled_back_transaction_is_never_delivered(f: Fixture) {
    let recorder = f.recorder();
    let bus = f.start(&recorder, fast_retries(3)).await;
    let _relay = bus.spawn_relay();
    let rolled_back = orders("rolled-back", 1);
    let result =
        f.db.transaction(async |conn: &mut DbConn| {
            crate::append(
                conn,
                &OrderCancelled {
                    order_id: rolled_back[0].clone(),
                    reason: "x".into(),
                    ..OrderCancelled::default()
                },
            )
            .await?;
            Err::<(), StorageError>(StorageError::Migration("the change failed".into()))
        })
        .await;
    assert!(result.is_err());
    // A committed event after it proves the relay ran past where the first would be.
    let committed = orders("committed", 1);
    f.commit(&committed).await;
    bus.wake();
    assert_eq!(f.wait_applied(&committed).await, vec![1]);
    assert_eq!(f.applied(&rolled_back).await, vec![0]);
    assert_eq!(
        Fixture::settled_backlog(&bus).await,
        0,
        "nothing of the rollback is in the outbox"
    );
}

pub async fn an_event_committed_before_a_crash_is_delivered_after_restart(f: Fixture) {
    let ids = orders("crash", 3);
    // The process commits, then dies before its relay publishes anything.
    f.commit(&ids).await;
    // A relay that leased the rows and died mid-publish: its lease must lapse, not block.
    let now = chrono::Utc::now();
    let leased = weft_storage::events::claim_outbox(
        &f.db,
        "relay_that_died",
        now.naive_utc(),
        (now + chrono::Duration::milliseconds(300)).naive_utc(),
        100,
    )
    .await
    .unwrap();
    assert_eq!(leased.len(), 3);

    // The restarted process.
    let recorder = f.recorder();
    let bus = f.start(&recorder, fast_retries(3)).await;
    let _relay = bus.spawn_relay();
    assert_eq!(f.wait_applied(&ids).await, vec![1, 1, 1]);
}

pub async fn redelivered_events_are_applied_once(f: Fixture) {
    let recorder = f.recorder();
    let bus = f.start(&recorder, fast_retries(3)).await;
    let ids = orders("redelivered", 50);
    f.commit(&ids).await;
    assert_eq!(bus.drain().await.unwrap(), 50);
    assert!(f.wait_applied(&ids).await.iter().all(|n| *n == 1));

    // Everything is published again, as after a relay crash between publish and mark.
    let mut conn = f.db.conn().await.unwrap();
    db_run!(&mut conn, c => diesel::sql_query("UPDATE platform_outbox SET published_at = NULL").execute(c).await).unwrap();
    drop(conn);
    assert_eq!(bus.drain().await.unwrap(), 50);
    // Let the duplicates arrive, then count: still exactly once each.
    let marker = orders("marker", 1);
    f.commit(&marker).await;
    bus.drain().await.unwrap();
    assert_eq!(f.wait_applied(&marker).await, vec![1]);
    let counts = f.applied(&ids).await;
    assert!(counts.iter().all(|n| *n == 1), "applied twice: {counts:?}");
}

pub async fn a_handler_that_fails_then_succeeds_applies_once(f: Fixture) {
    let recorder = f.recorder();
    let bus = f.start(&recorder, fast_retries(5)).await;
    let _relay = bus.spawn_relay();
    let ids = orders("fail-twice", 1);
    f.commit(&ids).await;
    bus.wake();
    assert_eq!(f.wait_applied(&ids).await, vec![1]);
    assert!(f.dead_letters().await.is_empty());
}

pub async fn a_handler_that_keeps_failing_ends_in_the_dead_letters(f: Fixture) {
    let recorder = f.recorder();
    let bus = f.start(&recorder, fast_retries(3)).await;
    let _relay = bus.spawn_relay();
    let poison = orders("fail-always", 1);
    f.commit(&poison).await;
    let healthy = orders("healthy", 1);
    f.commit(&healthy).await;
    bus.wake();
    assert_eq!(
        f.wait_applied(&healthy).await,
        vec![1],
        "a poison event does not block the others"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
    let letters = loop {
        let letters = f.dead_letters().await;
        if !letters.is_empty() || tokio::time::Instant::now() > deadline {
            break letters;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].attempts, 3);
    assert_eq!(letters[0].event_type, "order.cancelled");
    assert!(letters[0].last_error.contains("always fails"));
    assert!(letters[0].envelope.contains(&poison[0]));
    assert_eq!(f.applied(&poison).await, vec![0]);
    if let Some(metrics) = &f.metrics {
        let text = metrics();
        let line = format!(
            "bus_dead_letters_total{{consumer=\"{}\",event_type=\"order.cancelled\"}} 1",
            f.consumer
        );
        assert!(
            text.contains(&line),
            "dead letters are counted in /metrics: {line}"
        );
    }
}

/// Instantiates every contract test; `$fixture` is an async expression giving
/// `Option<Fixture>` (`None` skips).
#[macro_export]
macro_rules! bus_contract {
    ($fixture:expr) => {
        $crate::bus_contract!(@each $fixture;
            a_committed_event_is_applied_exactly_once,
            an_event_in_a_rolled_back_transaction_is_never_delivered,
            an_event_committed_before_a_crash_is_delivered_after_restart,
            redelivered_events_are_applied_once,
            a_handler_that_fails_then_succeeds_applies_once,
            a_handler_that_keeps_failing_ends_in_the_dead_letters,
        );
    };
    (@each $fixture:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(fixture) = $fixture.await {
                    $crate::testsuite::$name(fixture).await;
                }
            }
        )*
    };
}
