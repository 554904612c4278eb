//! Consumers: a service's handler of other services' events, applied exactly once.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use weft_kernel::id::{EventId, PrefixedId};
use weft_storage::events::{self, DeadLetter};
use weft_storage::{Db, DbConn, StorageError};

use crate::Envelope;

/// Why a handler could not apply an event. Every error is retried with backoff until the
/// policy's last attempt, then the event is dead-lettered.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    #[error(transparent)]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Failed(String),
}

/// A service's reaction to events. It runs inside a transaction that also records the
/// event in the consumer's inbox: both commit, or neither does.
#[async_trait::async_trait]
pub trait EventHandler: Send + Sync + 'static {
    /// The consumer's name: its queue (`weft.<name>`) and its inbox scope. One per service.
    fn consumer(&self) -> &'static str;
    /// Wire names of the events it handles (`order.created`).
    fn event_types(&self) -> &'static [&'static str];
    /// Applies `event` using `conn`, which is inside the consumer's transaction.
    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError>;
    /// Runs once `handle`'s transaction committed (not for a duplicate): for what must
    /// not be seen before the change is, such as retiring cached answers that a reader
    /// could otherwise refill from the old state.
    async fn after_commit(&self, _event: &Envelope) {}
    /// Most events that may be applied together in one transaction through
    /// [`Self::handle_batch`] when several arrive at once (a bulk change, a backlog). 1,
    /// the default: each event in a transaction of its own.
    fn batch_limit(&self) -> usize {
        1
    }
    /// Applies `events` (in order, duplicates already left out) in one transaction that
    /// also records them all in the inbox. By default [`Self::handle`] for each; a
    /// handler whose work repeats across events (re-indexing one product for each of its
    /// variants) overrides it to do that work once.
    async fn handle_batch(
        &self,
        conn: &mut DbConn,
        events: &[&Envelope],
    ) -> Result<(), HandlerError> {
        for event in events {
            self.handle(conn, event).await?;
        }
        Ok(())
    }
    /// Runs once `handle_batch`'s transaction committed: [`Self::after_commit`] for each
    /// event by default; override to do once what each would repeat.
    async fn after_commit_batch(&self, events: &[&Envelope]) {
        for event in events {
            self.after_commit(event).await;
        }
    }
}

/// How hard to try before dead-lettering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Backoff before attempt `attempt + 1` (1-based `attempt` just failed): doubling.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.first_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// What one delivery did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Applied,
    /// Already in the inbox: a redelivery, ignored.
    Duplicate,
}

/// A handler with its database and retry policy.
pub struct Consumer {
    handler: Arc<dyn EventHandler>,
    db: Db,
    pub policy: RetryPolicy,
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("name", &self.name())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Consumer {
    pub fn new(handler: Arc<dyn EventHandler>, db: Db, policy: RetryPolicy) -> Self {
        Self {
            handler,
            db,
            policy,
        }
    }

    pub fn name(&self) -> &'static str {
        self.handler.consumer()
    }

    pub fn event_types(&self) -> &'static [&'static str] {
        self.handler.event_types()
    }

    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types().contains(&event_type)
    }

    /// One attempt: the inbox record and the handler's effects in one transaction, in a
    /// span that continues the trace of the request that wrote the event.
    pub async fn apply(&self, event: &Envelope) -> Result<Applied, HandlerError> {
        use tracing::Instrument as _;
        let span = tracing::info_span!(
            "consume",
            consumer = self.name(),
            event_type = %event.event_type,
            event_id = %event.id,
        );
        if let Some(traceparent) = &event.trace_context {
            weft_telemetry::trace_context::continue_from(&span, traceparent);
        }
        self.apply_once(event).instrument(span).await
    }

    async fn apply_once(&self, event: &Envelope) -> Result<Applied, HandlerError> {
        let consumer = self.name();
        let handler = Arc::clone(&self.handler);
        let event_id = event.id.to_string();
        let outcome = self
            .db
            .transaction(async |conn: &mut DbConn| {
                if !events::record_in_inbox(conn, consumer, &event_id, Utc::now().naive_utc())
                    .await?
                {
                    return Ok(Applied::Duplicate);
                }
                handler.handle(conn, event).await?;
                Ok::<_, HandlerError>(Applied::Applied)
            })
            .await;
        let label = match &outcome {
            Ok(Applied::Applied) => "applied",
            Ok(Applied::Duplicate) => "duplicate",
            Err(_) => "failed",
        };
        metrics::counter!("bus_events_handled_total", "consumer" => consumer, "result" => label)
            .increment(1);
        if matches!(outcome, Ok(Applied::Applied)) {
            handler.after_commit(event).await;
            let lag = (Utc::now() - event.occurred_at)
                .to_std()
                .unwrap_or_default();
            metrics::histogram!("bus_publish_to_handle_seconds", "consumer" => consumer)
                .record(lag.as_secs_f64());
        }
        outcome
    }

    /// Applies `events` in order, in transactions of up to the handler's
    /// [`EventHandler::batch_limit`]. A batch that fails is rolled back and its events
    /// applied again one at a time with retries, so one bad event is retried and
    /// dead-lettered alone while the others apply. Used in-process, where the relay waits
    /// for this to finish.
    pub async fn deliver_all(&self, events: &[&Envelope]) {
        let limit = self.handler.batch_limit().max(1);
        for chunk in events.chunks(limit) {
            if chunk.len() > 1 {
                match self.apply_batch(chunk).await {
                    Ok(()) => continue,
                    Err(err) => {
                        tracing::warn!(consumer = self.name(), events = chunk.len(), error = %err, "a batch of events failed; applying them one at a time");
                    }
                }
            }
            for event in chunk {
                self.deliver_with_retries(event).await;
            }
        }
    }

    /// One attempt at `events` in one transaction: each recorded in the inbox (a
    /// duplicate is left out), then the handler's batch.
    async fn apply_batch(&self, events: &[&Envelope]) -> Result<(), HandlerError> {
        use tracing::Instrument as _;
        let consumer = self.name();
        let handler = Arc::clone(&self.handler);
        let span = tracing::info_span!("consume_batch", consumer, events = events.len());
        let now = Utc::now().naive_utc();
        let outcome = self
            .db
            .transaction(async |conn: &mut DbConn| {
                // Positions, not references: the transaction's closure may not hand
                // back borrows of `events`.
                let mut fresh = Vec::with_capacity(events.len());
                for (i, event) in events.iter().enumerate() {
                    if events::record_in_inbox(conn, consumer, &event.id.to_string(), now).await? {
                        fresh.push(i);
                    }
                }
                let batch: Vec<&Envelope> = fresh.iter().map(|&i| events[i]).collect();
                handler.handle_batch(conn, &batch).await?;
                Ok::<_, HandlerError>(fresh)
            })
            .instrument(span)
            .await;
        let fresh: Vec<&Envelope> = match outcome {
            Ok(fresh) => fresh.into_iter().map(|i| events[i]).collect(),
            Err(err) => {
                metrics::counter!("bus_events_handled_total", "consumer" => consumer, "result" => "failed")
                    .increment(events.len() as u64);
                return Err(err);
            }
        };
        metrics::counter!("bus_events_handled_total", "consumer" => consumer, "result" => "applied")
            .increment(fresh.len() as u64);
        metrics::counter!("bus_events_handled_total", "consumer" => consumer, "result" => "duplicate")
            .increment((events.len() - fresh.len()) as u64);
        handler.after_commit_batch(&fresh).await;
        let applied_at = Utc::now();
        for event in &fresh {
            let lag = (applied_at - event.occurred_at)
                .to_std()
                .unwrap_or_default();
            metrics::histogram!("bus_publish_to_handle_seconds", "consumer" => consumer)
                .record(lag.as_secs_f64());
        }
        Ok(())
    }

    /// Applies `event`, retrying with backoff; after the last attempt it is dead-lettered.
    /// Used in-process, where the relay waits for this to finish.
    pub async fn deliver_with_retries(&self, event: &Envelope) {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.apply(event).await {
                Ok(_) => return,
                Err(err) if attempt >= self.policy.max_attempts => {
                    self.dead_letter(event, attempt, &err.to_string()).await;
                    return;
                }
                Err(err) => {
                    tracing::warn!(consumer = self.name(), event_id = %event.id, event_type = %event.event_type, attempt, error = %err, "event handler failed; retrying");
                    tokio::time::sleep(self.policy.backoff(attempt)).await;
                }
            }
        }
    }

    /// Records `event` as given up on: a row in `platform_dead_letters`, an error log
    /// line and `bus_dead_letters_total`.
    pub async fn dead_letter(&self, event: &Envelope, attempts: u32, error: &str) {
        tracing::error!(consumer = self.name(), event_id = %event.id, event_type = %event.event_type, attempts, error, "event dead-lettered");
        metrics::counter!("bus_dead_letters_total", "consumer" => self.name(), "event_type" => event.event_type.clone()).increment(1);
        let letter = DeadLetter {
            id: format!("dlq_{}", EventId::generate().uuid().simple()),
            consumer: self.name().to_owned(),
            event_id: event.id.to_string(),
            event_type: event.event_type.clone(),
            envelope: serde_json::to_string(event).unwrap_or_default(),
            attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
            last_error: error.chars().take(2000).collect(),
            failed_at: Utc::now().naive_utc(),
        };
        if let Err(err) = events::insert_dead_letter(&self.db, &letter).await {
            tracing::error!(error = %err, event_id = %event.id, "could not record a dead letter");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_attempts: 10,
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
        };
        assert_eq!(p.backoff(1), Duration::from_millis(100));
        assert_eq!(p.backoff(2), Duration::from_millis(200));
        assert_eq!(p.backoff(4), Duration::from_millis(800));
        assert_eq!(p.backoff(5), Duration::from_secs(1));
        assert_eq!(p.backoff(40), Duration::from_secs(1));
    }
}
