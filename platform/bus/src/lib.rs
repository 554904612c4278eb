//! Events between Weft's services, delivered at least once and applied exactly once.
//!
//! - A service writes typed [`Event`]s with [`append`] on the connection of the very
//!   transaction that makes the change (`platform_outbox`): the change and its events
//!   commit together or not at all.
//! - The [`relay`] leases unpublished rows, hands them to a [`Transport`] and marks them
//!   published once the transport confirms. Crash anywhere and the rows are still there:
//!   the next relay publishes them again.
//! - Embedded, the [`memory::MemoryTransport`] dispatches to in-process consumers; in a
//!   cluster the [`amqp::AmqpTransport`] publishes to a RabbitMQ topic exchange with
//!   publisher confirms, and each consuming service reads its own durable queue.
//! - A [`consumer::Consumer`] applies an event and records its id in `platform_inbox` in
//!   one transaction, so a redelivered event changes nothing. A handler that keeps failing
//!   is retried with backoff and, after the last attempt, dead-lettered.

pub mod amqp;
pub mod consumer;
pub mod envelope;
pub mod events;
pub mod live;
pub mod memory;
pub mod relay;
#[cfg(feature = "testsuite")]
pub mod testsuite;
pub mod worker;

use std::sync::Arc;

pub use consumer::{Consumer, EventHandler, HandlerError, RetryPolicy};
pub use envelope::{Envelope, Event};
pub use relay::{Bus, BusSettings};
pub use worker::Worker;

use weft_storage::{DbConn, StorageError};

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("message broker unavailable: {0}")]
    Unavailable(String),
    #[error("the broker refused {0} event(s)")]
    Nacked(usize),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Where published events go.
#[async_trait::async_trait]
pub trait Transport: Send + Sync + 'static {
    /// `memory` or `amqp`.
    fn name(&self) -> &'static str;
    /// Publishes `batch`, returning only once every event is safely handed over (handled
    /// in-process, or confirmed by the broker).
    async fn publish(&self, batch: &[Envelope]) -> Result<(), BusError>;
    /// Starts delivering the consumer's event types to it, until the process ends.
    async fn subscribe(&self, consumer: Arc<Consumer>) -> Result<(), BusError>;
    /// Whether the transport can publish now (for `/health/ready`).
    async fn health(&self) -> Result<(), BusError>;
}

/// Writes `event` to the outbox on `conn`, which must be inside the transaction making
/// the change the event describes. Call [`Bus::wake`] after the commit to publish at once.
pub async fn append<E: Event>(conn: &mut DbConn, event: &E) -> Result<Envelope, StorageError> {
    let envelope = Envelope::new(event, chrono::Utc::now());
    weft_storage::events::append_outbox(conn, &[envelope.to_outbox_row()]).await?;
    Ok(envelope)
}
