//! The outbox relay and the [`Bus`] handle services hold.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::Notify;
use weft_storage::Db;
use weft_storage::events;

use crate::{BusError, Consumer, Envelope, EventHandler, RetryPolicy, Transport};

/// Timings of the relay and consumers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusSettings {
    /// Rows leased per pass.
    pub batch_size: i64,
    /// How often the relay looks for rows when nobody woke it (other processes' writes,
    /// rows a crashed relay leased).
    pub poll_interval: Duration,
    /// How long a lease lasts before another relay may take the rows over.
    pub lease: Duration,
    /// Retries before dead-lettering.
    pub retry: RetryPolicy,
}

impl Default for BusSettings {
    fn default() -> Self {
        Self {
            batch_size: 100,
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            retry: RetryPolicy::default(),
        }
    }
}

/// The event bus of one process: its outbox relay and its consumers.
#[derive(Clone)]
pub struct Bus {
    db: Db,
    transport: Arc<dyn Transport>,
    wake: Arc<Notify>,
    relay_id: String,
    pub settings: BusSettings,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus")
            .field("transport", &self.transport.name())
            .field("relay_id", &self.relay_id)
            .finish_non_exhaustive()
    }
}

impl Bus {
    pub fn new(db: Db, transport: Arc<dyn Transport>, settings: BusSettings) -> Self {
        Self {
            db,
            transport,
            wake: Arc::new(Notify::new()),
            relay_id: format!("relay_{}", uuid::Uuid::now_v7().simple()),
            settings,
        }
    }

    pub fn transport(&self) -> &Arc<dyn Transport> {
        &self.transport
    }

    /// Tells the relay that events were committed, so it publishes now rather than at
    /// its next poll. Call after the transaction that appended them commits.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Registers `handler` to receive its event types.
    pub async fn subscribe(&self, handler: Arc<dyn EventHandler>) -> Result<(), BusError> {
        let consumer = Arc::new(Consumer::new(handler, self.db.clone(), self.settings.retry));
        self.transport.subscribe(consumer).await
    }

    /// One relay pass: lease a batch, publish it, mark it published. Returns how many
    /// events were published (0 when the outbox is drained).
    pub async fn relay_once(&self) -> Result<usize, BusError> {
        let now = Utc::now();
        let lease_until = now + chrono::Duration::from_std(self.settings.lease).unwrap_or_default();
        let rows = events::claim_outbox(
            &self.db,
            &self.relay_id,
            now.naive_utc(),
            lease_until.naive_utc(),
            self.settings.batch_size,
        )
        .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let mut batch = Vec::with_capacity(rows.len());
        for row in rows {
            match Envelope::from_outbox_row(row) {
                Ok(envelope) => batch.push(envelope),
                // Unreadable rows are logged and marked, or they would block the relay forever.
                Err(err) => tracing::error!(error = %err, "skipping a corrupt outbox row"),
            }
        }
        if let Err(err) = self.transport.publish(&batch).await {
            events::release_claim(&self.db, &ids).await?;
            return Err(err);
        }
        events::mark_published(&self.db, &ids, Utc::now().naive_utc()).await?;
        metrics::counter!("bus_events_published_total", "transport" => self.transport.name())
            .increment(ids.len() as u64);
        Ok(ids.len())
    }

    /// Publishes until the outbox is empty; returns how many events went out.
    pub async fn drain(&self) -> Result<usize, BusError> {
        let mut total = 0;
        loop {
            let n = self.relay_once().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// Runs the relay until the task is dropped: drains whenever woken or every
    /// `poll_interval`, backing off while the transport is down.
    pub fn spawn_relay(&self) -> tokio::task::JoinHandle<()> {
        let bus = self.clone();
        tokio::spawn(async move {
            let mut failures: u32 = 0;
            loop {
                match bus.drain().await {
                    Ok(_) => {
                        if failures > 0 {
                            tracing::info!(
                                transport = bus.transport.name(),
                                "event relay recovered"
                            );
                        }
                        failures = 0;
                        tokio::select! {
                            () = bus.wake.notified() => {}
                            () = tokio::time::sleep(bus.settings.poll_interval) => {}
                        }
                    }
                    Err(err) => {
                        failures += 1;
                        let wait = bus
                            .settings
                            .retry
                            .backoff(failures)
                            .min(Duration::from_secs(5));
                        tracing::warn!(error = %err, failures, "event relay could not publish; will retry");
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        })
    }

    /// Events still waiting to be published (for `/health/ready` and tests).
    pub async fn backlog(&self) -> Result<i64, BusError> {
        Ok(events::count_unpublished(&self.db).await?)
    }
}
