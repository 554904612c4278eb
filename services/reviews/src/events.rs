//! What reviews do with other services' events, each in the inbox's transaction (once
//! per event, however often it is delivered): orders make their customers verified
//! buyers of what they bought, a call-off takes that back, and an erasure anonymises the
//! customer's reviews and forgets their votes, reports and purchases.

use weft_bus::consumer::{EventHandler, HandlerError};
use weft_bus::events::{OrderCancelled, OrderCreated, UserErased};
use weft_bus::{Envelope, Event as _};
use weft_storage::DbConn;

use crate::ReviewsError;
use crate::service::ReviewsService;

/// Follows `OrderCreated`, `OrderCancelled` and `UserErased`.
pub struct Follower(pub ReviewsService);

fn failed(e: ReviewsError) -> HandlerError {
    match e {
        ReviewsError::Storage(s) => HandlerError::Storage(s),
        e => HandlerError::Failed(e.to_string()),
    }
}

fn decode<E: weft_bus::Event>(event: &Envelope) -> Result<E, HandlerError> {
    event
        .decode()
        .map_err(|e| HandlerError::Failed(e.to_string()))
}

#[async_trait::async_trait]
impl EventHandler for Follower {
    fn consumer(&self) -> &'static str {
        "reviews-follower"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[OrderCreated::TYPE, OrderCancelled::TYPE, UserErased::TYPE]
    }

    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        if event.event_type == OrderCreated::TYPE {
            let order: OrderCreated = decode(event)?;
            // A guest's order makes no verified buyer: reviews need an account.
            if let Some(customer) = &order.customer_id {
                let variants: Vec<String> =
                    order.lines.iter().map(|l| l.variant_id.clone()).collect();
                self.0
                    .bought_in(conn, customer, &order.order_id, &variants)
                    .await
                    .map_err(failed)?;
            }
        } else if event.event_type == OrderCancelled::TYPE {
            let cancelled: OrderCancelled = decode(event)?;
            self.0
                .called_off(conn, &cancelled.order_id)
                .await
                .map_err(failed)?;
        } else if event.event_type == UserErased::TYPE {
            let erased: UserErased = decode(event)?;
            let n = self.0.erase(conn, &erased.user_id).await.map_err(failed)?;
            tracing::info!(reviews = n, "an erased customer's reviews anonymised");
        }
        Ok(())
    }
}
