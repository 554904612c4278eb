//! What orders do with other services' events, each in the inbox's transaction (once per
//! event): an erased customer's orders keep their amounts, lines and history (the books
//! need them) but no longer their e-mail address or postal addresses.

use weft_bus::consumer::{EventHandler, HandlerError};
use weft_bus::events::UserErased;
use weft_bus::{Envelope, Event as _};
use weft_storage::DbConn;

use crate::service::OrderService;
use crate::store;

/// Follows `UserErased`.
pub struct Privacy(pub OrderService);

#[async_trait::async_trait]
impl EventHandler for Privacy {
    fn consumer(&self) -> &'static str {
        "orders-privacy"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[UserErased::TYPE]
    }

    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        let erased: UserErased = event
            .decode()
            .map_err(|e| HandlerError::Failed(e.to_string()))?;
        let hex = erased.user_id.trim_start_matches("usr_");
        // The same placeholder identity gives the account: an address that can never
        // receive mail (`.invalid` is reserved), distinct per customer.
        let placeholder = format!("erased-{hex}@erased.invalid");
        let n = store::erase_customer(
            conn,
            &erased.user_id,
            &placeholder,
            self.0.clock.now().naive_utc(),
        )
        .await?;
        tracing::info!(
            orders = n,
            "an erased customer's orders keep no contact details"
        );
        Ok(())
    }
}
