//! What webhooks do with events, each in the inbox's transaction (once per event, however
//! often it is delivered): every event an endpoint may subscribe to becomes one delivery
//! per subscribed endpoint, an erasure removes the customer's data from the log, and a
//! revoked app's endpoints are disabled.

use weft_bus::consumer::{EventHandler, HandlerError};
use weft_bus::events::{CredentialRevoked, UserErased};
use weft_bus::{Envelope, Event as _};
use weft_storage::DbConn;

use crate::WebhooksError;
use crate::domain::CONSUMED;
use crate::service::WebhooksService;

/// Follows every subscribable event, and revocations.
pub struct Fanout(pub WebhooksService);

fn failed(e: WebhooksError) -> HandlerError {
    match e {
        WebhooksError::Storage(s) => HandlerError::Storage(s),
        e => HandlerError::Failed(e.to_string()),
    }
}

#[async_trait::async_trait]
impl EventHandler for Fanout {
    fn consumer(&self) -> &'static str {
        "webhooks-fanout"
    }

    fn event_types(&self) -> &'static [&'static str] {
        CONSUMED
    }

    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        if event.event_type == CredentialRevoked::TYPE {
            let revoked: CredentialRevoked = event
                .decode()
                .map_err(|e| HandlerError::Failed(e.to_string()))?;
            let n = self
                .0
                .owner_revoked(conn, &revoked.credential_id)
                .await
                .map_err(failed)?;
            if n > 0 {
                tracing::info!(endpoints = n, owner = %revoked.credential_id, "a revoked app's webhook endpoints disabled");
            }
            return Ok(());
        }
        // Apps learn of an erasure too (to erase their own copies) before the log forgets.
        self.0.fan_out(conn, event).await.map_err(failed)?;
        if event.event_type == UserErased::TYPE {
            let erased: UserErased = event
                .decode()
                .map_err(|e| HandlerError::Failed(e.to_string()))?;
            let n = self.0.erase(conn, &erased.user_id).await.map_err(failed)?;
            tracing::info!(
                deliveries = n,
                "an erased customer's data left the webhook log"
            );
        }
        Ok(())
    }

    async fn after_commit(&self, _event: &Envelope) {
        self.0.wake();
    }

    /// A bulk change (a catalog import, the demo's seed) arrives as thousands of events;
    /// each one's fan-out is a few rows, so 64 share a transaction (a batch that fails is
    /// applied again one event at a time by the bus).
    fn batch_limit(&self) -> usize {
        64
    }

    async fn after_commit_batch(&self, events: &[&Envelope]) {
        if !events.is_empty() {
            self.0.wake();
        }
    }
}
