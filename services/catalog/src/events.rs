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

/// Whose index a handler writes: the catalog's one index (Elasticsearch, or the one
/// process of an embedded shop), or, when each replica of a cluster's catalog keeps an
/// index of its own (tantivy), this replica's: then every replica must hear every event,
/// so each consumes from a queue of its own, named after the replica.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexScope {
    Shared,
    Replica(&'static str),
}

impl IndexScope {
    /// A replica's own scope. Its name is part of a queue's and an inbox's name, and stays
    /// the same across the replica's restarts (so it catches up on what it missed).
    pub fn replica(name: &str) -> Self {
        // Leaked once per process start: handlers name their consumer as `&'static str`.
        Self::Replica(Box::leak(name.to_owned().into_boxed_str()))
    }

    fn consumer(self, base: &'static str) -> &'static str {
        match self {
            Self::Shared => base,
            Self::Replica(name) => Box::leak(format!("{base}.{name}").into_boxed_str()),
        }
    }
}

/// Writes each changed product into the search index.
pub struct SearchIndexer {
    catalog: CatalogService,
    consumer: &'static str,
}

impl SearchIndexer {
    pub fn new(catalog: CatalogService, scope: IndexScope) -> Self {
        Self {
            catalog,
            consumer: scope.consumer("catalog-search"),
        }
    }
}

#[async_trait::async_trait]
impl EventHandler for SearchIndexer {
    fn consumer(&self) -> &'static str {
        self.consumer
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[weft_bus::events::ProductUpdated::TYPE]
    }

    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        self.catalog
            .index_product(conn, &event.aggregate_id)
            .await
            .map_err(|e| match e {
                crate::CatalogError::Storage(s) => HandlerError::Storage(s),
                e => HandlerError::Failed(e.to_string()),
            })
    }

    async fn after_commit(&self, _event: &Envelope) {
        // After the commit: retired earlier, a reader could cache the old status anew.
        self.catalog.retire_cached().await;
    }
}

/// Follows inventory: records each variant's stock status (ignoring one older than what
/// is recorded), rewrites the product's search document, so
/// and retires cached answers once that committed, so `in_stock` filters and
/// `stock_status` follow stock within moments.
pub struct StockFollower {
    catalog: CatalogService,
    consumer: &'static str,
    /// Each replica has an index of its own: index even what another replica recorded.
    per_replica: bool,
}

impl StockFollower {
    pub fn new(catalog: CatalogService, scope: IndexScope) -> Self {
        Self {
            catalog,
            consumer: scope.consumer("catalog-stock"),
            per_replica: scope != IndexScope::Shared,
        }
    }
}

#[async_trait::async_trait]
impl EventHandler for StockFollower {
    fn consumer(&self) -> &'static str {
        self.consumer
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[weft_bus::events::StockStatusChanged::TYPE]
    }

    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        let change: weft_bus::events::StockStatusChanged = event
            .decode()
            .map_err(|e| HandlerError::Failed(e.to_string()))?;
        self.catalog
            .follow_stock(
                conn,
                &change.variant_id,
                &change.status,
                change.version,
                self.per_replica,
            )
            .await
            .map_err(|e| match e {
                crate::CatalogError::Storage(s) => HandlerError::Storage(s),
                e => HandlerError::Failed(e.to_string()),
            })
    }

    async fn after_commit(&self, _event: &Envelope) {
        // After the commit: retired earlier, a reader could cache the old status anew.
        self.catalog.retire_cached().await;
    }
}
