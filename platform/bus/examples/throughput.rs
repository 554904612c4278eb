//! Throughput and latency of the outbox → relay → consumer path, for `bench/bus.sh`.
//!
//! `cargo run --release -p weft-bus --example throughput -- [memory|amqp] [sqlite|postgres]`
//! (RabbitMQ from `WEFT_TEST_AMQP_URL`, PostgreSQL from `WEFT_TEST_DATABASE_URL`).
//! Phase 1 writes 20,000 events with the relay stopped, then times the drain until every
//! event is applied by a consumer (inbox row in its own transaction). Phase 2 writes
//! 2,000 events one per transaction at about 400/s with the relay running and reports
//! the latency from just before the commit to the consumer applying it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft_bus::amqp::AmqpTransport;
use weft_bus::events::OrderCancelled;
use weft_bus::memory::MemoryTransport;
use weft_bus::{Bus, BusSettings, Envelope, EventHandler, HandlerError, Transport};
use weft_storage::testing::TestDatabase;
use weft_storage::{DbConn, StorageError};

struct Timing {
    lags: Mutex<Vec<Duration>>,
    committed: Mutex<std::collections::HashMap<String, Instant>>,
}

struct Sink(Arc<Timing>);

#[async_trait::async_trait]
impl EventHandler for Sink {
    fn consumer(&self) -> &'static str {
        "bench"
    }
    fn event_types(&self) -> &'static [&'static str] {
        &["order.cancelled"]
    }
    async fn handle(&self, _conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        if let Some(at) = self.0.committed.lock().unwrap().get(&event.aggregate_id) {
            self.0.lags.lock().unwrap().push(at.elapsed());
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let transport_kind = args.first().map_or("memory", String::as_str).to_owned();
    let database_kind = args.get(1).map_or("sqlite", String::as_str).to_owned();

    let database = if database_kind == "postgres" {
        TestDatabase::postgres(
            &std::env::var("WEFT_TEST_DATABASE_URL").expect("WEFT_TEST_DATABASE_URL"),
        )
        .await
        .unwrap()
    } else {
        TestDatabase::sqlite().unwrap()
    };
    let db = database.open(16).await.unwrap();
    weft_storage::migrate::run(&db, &[&weft_storage::migrate::PLATFORM])
        .await
        .unwrap();
    let namespace = format!("weft-bench-{}", uuid::Uuid::now_v7().simple());
    let transport: Arc<dyn Transport> = if transport_kind == "amqp" {
        let url = std::env::var("WEFT_TEST_AMQP_URL").expect("WEFT_TEST_AMQP_URL");
        Arc::new(
            AmqpTransport::connect(&url, &namespace)
                .await
                .unwrap()
                .with_idle_queue_expiry(Duration::from_mins(5)),
        )
    } else {
        Arc::new(MemoryTransport::new())
    };
    let settings = BusSettings {
        batch_size: 500,
        poll_interval: Duration::from_millis(50),
        ..BusSettings::default()
    };
    let bus = Bus::new(db.clone(), transport, settings);
    let timing = Arc::new(Timing {
        lags: Mutex::new(Vec::new()),
        committed: Mutex::new(std::collections::HashMap::new()),
    });
    bus.subscribe(Arc::new(Sink(Arc::clone(&timing))))
        .await
        .unwrap();

    // Phase 1: drain a backlog.
    let n: usize = 20_000;
    for chunk in 0..n / 100 {
        db.transaction(async |conn: &mut DbConn| {
            for i in 0..100 {
                weft_bus::append(
                    conn,
                    &OrderCancelled {
                        order_id: format!("backlog-{chunk}-{i}"),
                        reason: String::new(),
                        ..OrderCancelled::default()
                    },
                )
                .await?;
            }
            Ok::<_, StorageError>(())
        })
        .await
        .unwrap();
    }
    let started = Instant::now();
    let relay = bus.spawn_relay();
    loop {
        let handled = weft_storage::events::count_inbox(&db, "bench")
            .await
            .unwrap();
        if handled as usize >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    println!(
        "{transport_kind}/{database_kind}: {n} events relayed and applied in {:.2} s = {:.0} events/s",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );

    // Phase 2: latency at a steady rate.
    let m = 2_000;
    let mut tick = tokio::time::interval(Duration::from_micros(2_500));
    for i in 0..m {
        tick.tick().await;
        let id = format!("latency-{i}");
        // Stamped just before the transaction so a fast relay cannot apply it unstamped.
        timing
            .committed
            .lock()
            .unwrap()
            .insert(id.clone(), Instant::now());
        db.transaction(async |conn: &mut DbConn| {
            weft_bus::append(
                conn,
                &OrderCancelled {
                    order_id: id.clone(),
                    reason: String::new(),
                    ..OrderCancelled::default()
                },
            )
            .await?;
            Ok::<_, StorageError>(())
        })
        .await
        .unwrap();
        bus.wake();
    }
    loop {
        if timing.lags.lock().unwrap().len() >= m {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.abort();
    let mut lags = timing.lags.lock().unwrap().clone();
    lags.sort();
    let pct = |p: f64| lags[((lags.len() as f64 * p) as usize).min(lags.len() - 1)];
    println!(
        "{transport_kind}/{database_kind}: commit-to-applied latency over {m} events at ~400/s: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(0.50).as_secs_f64() * 1000.0,
        pct(0.99).as_secs_f64() * 1000.0,
        lags.last().unwrap().as_secs_f64() * 1000.0
    );
    drop(database);
}
