//! What carts do with other services' events: an order called off gives back the
//! promotion uses it counted, so a limited code can be used again.

use weft_bus::consumer::{EventHandler, HandlerError};
use weft_bus::{Envelope, Event as _};
use weft_storage::DbConn;

use crate::CartError;
use crate::service::CartService;

/// Gives back promotion uses on `OrderCancelled` (inside the inbox's transaction, so
/// once per event; checkout undoing its own order already did, and that finds none).
pub struct UsesReleaser(pub CartService);

#[async_trait::async_trait]
impl EventHandler for UsesReleaser {
    fn consumer(&self) -> &'static str {
        "cart-promotions"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[weft_bus::events::OrderCancelled::TYPE]
    }

    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        CartService::release_in(conn, &event.aggregate_id)
            .await
            .map(|_| ())
            .map_err(|e| match e {
                CartError::Storage(s) => HandlerError::Storage(s),
                e => HandlerError::Failed(e.to_string()),
            })
    }

    async fn after_commit(&self, _event: &Envelope) {
        self.0.promotions_changed().await;
    }
}
