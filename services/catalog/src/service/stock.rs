//! What the catalog knows of stock: each variant's status as inventory last announced it
//! (`StockStatusChanged`), behind `stock_status`, `in_stock` and the `in_stock` filters.

use weft_storage::DbConn;

use crate::error::CatalogError;
use crate::store;

use super::CatalogService;

/// One variant's stock status as inventory announced it.
#[derive(Debug, Clone, Copy)]
pub struct StockChange<'a> {
    pub variant_id: &'a str,
    pub status: &'a str,
    pub version: i64,
}

impl CatalogService {
    /// Records each variant's stock status, unless a newer one is recorded, and rewrites
    /// the search documents of their products, each once. Runs inside the events'
    /// transaction; the consumer retires cached answers after it commits.
    pub async fn follow_stock(
        &self,
        conn: &mut DbConn,
        changes: &[StockChange<'_>],
        index_anyway: bool,
    ) -> Result<(), CatalogError> {
        let now = self.clock.now().naive_utc();
        let mut products = std::collections::BTreeSet::new();
        for change in changes {
            // Another replica may have recorded it first; one with an index of its own
            // must still bring that index up to date (from what is stored, so an older
            // event writes the newer state).
            let recorded =
                store::record_stock(conn, change.variant_id, change.status, change.version, now)
                    .await?;
            if (!recorded && !index_anyway) || self.search.is_none() {
                continue;
            }
            // A variant inventory knows but the catalog no longer has: nothing to index.
            if let Some(product) = store::product_of_variant(conn, change.variant_id).await? {
                products.insert(product);
            }
        }
        if !products.is_empty() {
            let ids: Vec<String> = products.into_iter().collect();
            self.index_products(conn, &ids).await?;
        }
        Ok(())
    }

    /// Records a product's rating summary from reviews (`score`: the average × 100),
    /// ignoring one older than what is recorded, and rewrites its search document.
    pub async fn follow_rating(
        &self,
        conn: &mut DbConn,
        product_id: &str,
        score: i64,
        count: i64,
        version: i64,
        index_anyway: bool,
    ) -> Result<(), CatalogError> {
        if !store::record_rating(conn, product_id, score, count, version).await? && !index_anyway {
            return Ok(());
        }
        if self.search.is_some() {
            self.index_product(conn, product_id).await?;
        }
        Ok(())
    }
}
