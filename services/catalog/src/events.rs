//! What the catalog does with events: every `ProductUpdated` — from this process, another
//! process of the cluster, or `weft import` run beside a live shop — retires the cached
//! catalog answers (writes in this process retire them at once as well; this catches the
//! ones it did not make) and brings the product's search document up to date.

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

/// Writes each changed product into the search index.
pub struct SearchIndexer(pub CatalogService);

#[async_trait::async_trait]
impl EventHandler for SearchIndexer {
    fn consumer(&self) -> &'static str {
        "catalog-search"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[weft_bus::events::ProductUpdated::TYPE]
    }

    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        self.0
            .index_product(conn, &event.aggregate_id)
            .await
            .map_err(|e| match e {
                crate::CatalogError::Storage(s) => HandlerError::Storage(s),
                e => HandlerError::Failed(e.to_string()),
            })
    }

    async fn after_commit(&self, _event: &Envelope) {
        // After the commit: retired earlier, a reader could cache the old status anew.
        self.0.retire_cached().await;
    }
}

/// Follows inventory: records each variant's stock status (ignoring one older than what
/// is recorded), rewrites the product's search document, so
/// and retires cached answers once that committed, so `in_stock` filters and
/// `stock_status` follow stock within moments.
pub struct StockFollower(pub CatalogService);

#[async_trait::async_trait]
impl EventHandler for StockFollower {
    fn consumer(&self) -> &'static str {
        "catalog-stock"
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[weft_bus::events::StockStatusChanged::TYPE]
    }

    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        let change: weft_bus::events::StockStatusChanged = event
            .decode()
            .map_err(|e| HandlerError::Failed(e.to_string()))?;
        self.0
            .follow_stock(conn, &change.variant_id, &change.status, change.version)
            .await
            .map_err(|e| match e {
                crate::CatalogError::Storage(s) => HandlerError::Storage(s),
                e => HandlerError::Failed(e.to_string()),
            })
    }

    async fn after_commit(&self, _event: &Envelope) {
        // After the commit: retired earlier, a reader could cache the old status anew.
        self.0.retire_cached().await;
    }
}
