//! What the catalog does with events: every `ProductUpdated` — from this process, another
//! process of the cluster, or `weft import` run beside a live shop — retires the cached
//! catalog answers. (Writes in this process retire them at once as well; this catches the
//! ones it did not make.)

use weft_bus::consumer::{EventHandler, HandlerError};
use weft_bus::{Envelope, Event as _};
use weft_storage::DbConn;

use crate::service::CatalogService;

/// Retires cached catalog answers on `ProductUpdated`.
pub struct CacheInvalidator(pub CatalogService);

#[async_trait::async_trait]
impl EventHandler for CacheInvalidator {
    fn consumer(&self) -> &'static str {
        "catalog-cache"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[weft_bus::events::ProductUpdated::TYPE]
    }

    async fn handle(&self, _conn: &mut DbConn, _event: &Envelope) -> Result<(), HandlerError> {
        self.0.retire_cached().await;
        Ok(())
    }
}
