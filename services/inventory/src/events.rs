//! What inventory does with orders' events: units a paid order took go back on the
//! shelf when it is cancelled, and returned units when they arrive in a state to be
//! sold again. Each in the inbox's transaction: once per event, however often it is
//! delivered.

use weft_bus::consumer::{EventHandler, HandlerError};
use weft_bus::events::{OrderCancelled, ReturnReceived, Units};
use weft_bus::{Envelope, Event as _};
use weft_storage::DbConn;

use crate::InventoryError;
use crate::service::InventoryService;

/// Restocks on `OrderCancelled` (when it says so) and `ReturnReceived`.
pub struct Restocker(pub InventoryService);

fn failed(e: InventoryError) -> HandlerError {
    match e {
        InventoryError::Storage(s) => HandlerError::Storage(s),
        e => HandlerError::Failed(e.to_string()),
    }
}

fn decode<E: weft_bus::Event>(event: &Envelope) -> Result<E, HandlerError> {
    event
        .decode()
        .map_err(|e| HandlerError::Failed(e.to_string()))
}

impl Restocker {
    async fn put_back(&self, conn: &mut DbConn, lines: &[Units]) -> Result<(), HandlerError> {
        for line in lines.iter().filter(|l| l.quantity > 0) {
            self.0
                .restock_in(conn, &line.variant_id, line.quantity, None)
                .await
                .map_err(failed)?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for Restocker {
    fn consumer(&self) -> &'static str {
        "inventory-restock"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[OrderCancelled::TYPE, ReturnReceived::TYPE]
    }

    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        if event.event_type == OrderCancelled::TYPE {
            let cancelled: OrderCancelled = decode(event)?;
            if cancelled.restock {
                self.put_back(conn, &cancelled.lines).await?;
            }
        } else if event.event_type == ReturnReceived::TYPE {
            let received: ReturnReceived = decode(event)?;
            if received.restock {
                self.put_back(conn, &received.lines).await?;
            }
        }
        Ok(())
    }

    async fn after_commit(&self, _event: &Envelope) {
        // Stock statuses the restock changed are in the outbox: send them now.
        self.0.wake();
    }
}
