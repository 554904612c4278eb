//! What notifications do with events, each in the inbox's transaction (once per event,
//! however often it is delivered): make its messages, keep the contacts later events
//! need, and forget an erased customer.

use weft_bus::Envelope;
use weft_bus::consumer::{EventHandler, HandlerError};
use weft_storage::DbConn;

use crate::NotificationsError;
use crate::service::{CONSUMED, NotificationsService};

/// Follows every event that makes a message, and erasures.
pub struct Messages(pub NotificationsService);

#[async_trait::async_trait]
impl EventHandler for Messages {
    fn consumer(&self) -> &'static str {
        "notifications"
    }

    fn event_types(&self) -> &'static [&'static str] {
        CONSUMED
    }

    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        match self.0.handle(conn, event).await {
            Ok(_) => Ok(()),
            Err(NotificationsError::Storage(s)) => Err(HandlerError::Storage(s)),
            Err(e) => Err(HandlerError::Failed(e.to_string())),
        }
    }

    async fn after_commit(&self, _event: &Envelope) {
        self.0.wake();
    }
}
