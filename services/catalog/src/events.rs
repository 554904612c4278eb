//! What the catalog does with events: every `ProductUpdated` — from this process, another
//! process of the cluster, or `weft import` run beside a live shop — retires the cached
//! catalog answers (writes in this process retire them at once as well; this catches the
//! ones it did not make) and brings the product's search document up to date.

use weft_bus::consumer::{EventHandler, HandlerError};
use weft_bus::{Envelope, Event as _};
use weft_storage::DbConn;

use crate::service::{CatalogService, StockChange};

impl CatalogService {
    /// What the catalog runs in the process hosting it: retiring cached answers on
    /// product events; with a search index, keeping it in step (`scope`: whose index) and,
    /// when it is new (`fill_index`), filling it from the catalog; and following stock —
    /// subscribed after search is settled, as it rewrites the search documents it changes.
    pub fn workers(&self, scope: IndexScope, fill_index: bool) -> Vec<weft_bus::Worker> {
        use weft_bus::Worker;
        let mut workers = vec![Worker::consumer(CacheInvalidator(self.clone()))];
        if self.search_index().is_ok() {
            workers.push(Worker::consumer(SearchIndexer::new(self.clone(), scope)));
            if fill_index {
                workers.push(Worker::task(
                    "search-filler",
                    self.clone().fill_search_index(),
                ));
            }
        }
        workers.push(Worker::task(
            "document-filler",
            self.clone().fill_missing_documents(),
        ));
        workers.push(Worker::consumer(StockFollower::new(self.clone(), scope)));
        workers.push(Worker::consumer(RatingFollower::new(self.clone(), scope)));
        workers
    }

    /// Writes the documents of products stored before documents were (see
    /// `service::documents`); pages assemble those products meanwhile.
    async fn fill_missing_documents(self) {
        let started = std::time::Instant::now();
        match self.fill_documents().await {
            Ok(0) => {}
            Ok(written) => tracing::info!(
                written,
                elapsed_ms = started.elapsed().as_millis(),
                "product documents written"
            ),
            Err(err) => {
                tracing::error!(error = %err, "cannot write the products' documents; they are assembled per request until the next start");
            }
        }
    }

    /// Fills an empty search index from the catalog (a first start, a deleted index, an
    /// index of an older layout), while the shop already serves.
    async fn fill_search_index(self) {
        let started = std::time::Instant::now();
        match self.reindex(false, &|_, _| {}).await {
            Ok(0) => {}
            Ok(indexed) => tracing::info!(
                indexed,
                elapsed_ms = started.elapsed().as_millis(),
                "search index filled from the catalog"
            ),
            Err(err) => {
                tracing::error!(error = %err, "cannot fill the search index; run `weft reindex`");
            }
        }
    }
}

/// Most events the catalog's consumers apply in one transaction: a bulk change (a drop,
/// an import, the demo's stocking) re-indexes each product and retires the cached
/// answers once per batch, not once per event, and holds the writer for a few ms.
const BATCH: usize = 64;

/// The distinct products a batch of `ProductUpdated` names, in order.
fn products_of(events: &[&Envelope]) -> Vec<String> {
    let mut ids: Vec<String> = events.iter().map(|e| e.aggregate_id.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

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

    fn batch_limit(&self) -> usize {
        BATCH
    }

    async fn handle_batch(
        &self,
        _conn: &mut DbConn,
        events: &[&Envelope],
    ) -> Result<(), HandlerError> {
        if !events.is_empty() {
            self.0.retire_cached().await;
        }
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

/// A catalog failure as a consumer's: storage trouble is retried as such.
fn handler_error(e: crate::CatalogError) -> HandlerError {
    match e {
        crate::CatalogError::Storage(s) => HandlerError::Storage(s),
        e => HandlerError::Failed(e.to_string()),
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
            .map_err(handler_error)
    }

    async fn after_commit(&self, _event: &Envelope) {
        // After the commit: retired earlier, a reader could cache the old status anew.
        self.catalog.retire_cached().await;
    }

    fn batch_limit(&self) -> usize {
        BATCH
    }

    async fn handle_batch(
        &self,
        conn: &mut DbConn,
        events: &[&Envelope],
    ) -> Result<(), HandlerError> {
        self.catalog
            .index_products(conn, &products_of(events))
            .await
            .map_err(handler_error)
    }

    async fn after_commit_batch(&self, events: &[&Envelope]) {
        if !events.is_empty() {
            self.catalog.retire_cached().await;
        }
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
        self.handle_batch(conn, &[event]).await
    }

    async fn after_commit(&self, _event: &Envelope) {
        // After the commit: retired earlier, a reader could cache the old status anew.
        self.catalog.retire_cached().await;
    }

    fn batch_limit(&self) -> usize {
        BATCH
    }

    async fn handle_batch(
        &self,
        conn: &mut DbConn,
        events: &[&Envelope],
    ) -> Result<(), HandlerError> {
        let changes = events
            .iter()
            .map(|event| event.decode::<weft_bus::events::StockStatusChanged>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| HandlerError::Failed(e.to_string()))?;
        let changes: Vec<StockChange<'_>> = changes
            .iter()
            .map(|c| StockChange {
                variant_id: &c.variant_id,
                status: &c.status,
                version: c.version,
            })
            .collect();
        self.catalog
            .follow_stock(conn, &changes, self.per_replica)
            .await
            .map_err(handler_error)
    }

    async fn after_commit_batch(&self, events: &[&Envelope]) {
        if !events.is_empty() {
            self.catalog.retire_cached().await;
        }
    }
}

/// Follows reviews' `ProductRated`: each product's rating average and count, which
/// products show, `sort=rating` orders by and search filters and counts. A late summary
/// (a lower `version`) is ignored.
pub struct RatingFollower {
    catalog: CatalogService,
    consumer: &'static str,
    /// Each replica has an index of its own: index even what another replica recorded.
    per_replica: bool,
}

impl RatingFollower {
    pub fn new(catalog: CatalogService, scope: IndexScope) -> Self {
        Self {
            catalog,
            consumer: scope.consumer("catalog-ratings"),
            per_replica: scope != IndexScope::Shared,
        }
    }
}

#[async_trait::async_trait]
impl EventHandler for RatingFollower {
    fn consumer(&self) -> &'static str {
        self.consumer
    }

    fn event_types(&self) -> &'static [&'static str] {
        &[weft_bus::events::ProductRated::TYPE]
    }

    async fn handle(&self, conn: &mut DbConn, event: &Envelope) -> Result<(), HandlerError> {
        let rated: weft_bus::events::ProductRated = event
            .decode()
            .map_err(|e| HandlerError::Failed(e.to_string()))?;
        let average = weft_bus::events::rating_average(&rated.distribution).unwrap_or_default();
        // Two decimals, as an integer: exact, and what listings sort by.
        #[allow(clippy::cast_possible_truncation)]
        let score = (average * 100.0).round() as i64;
        let count = rated.distribution.iter().sum();
        self.catalog
            .follow_rating(
                conn,
                &rated.product_id,
                score,
                count,
                rated.version,
                self.per_replica,
            )
            .await
            .map_err(handler_error)
    }

    async fn after_commit(&self, _event: &Envelope) {
        self.catalog.retire_cached().await;
    }
}
