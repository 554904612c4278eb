//! What the catalog knows of stock: each variant's status as inventory last announced it
//! (`StockStatusChanged`), behind `stock_status`, `in_stock` and the `in_stock` filters.

use weft_storage::DbConn;

use crate::error::CatalogError;
use crate::store;

use super::CatalogService;

impl CatalogService {
    /// Records a variant's stock status, unless a newer one is recorded, and rewrites its
    /// product's search document. Runs inside the event's transaction; the consumer
    /// retires cached answers after it commits.
    pub async fn follow_stock(
        &self,
        conn: &mut DbConn,
        variant_id: &str,
        status: &str,
        version: i64,
        index_anyway: bool,
    ) -> Result<(), CatalogError> {
        let now = self.clock.now().naive_utc();
        // Another replica may have recorded it first; one with an index of its own must
        // still bring that index up to date (from what is stored, so an older event
        // writes the newer state).
        if !store::record_stock(conn, variant_id, status, version, now).await? && !index_anyway {
            return Ok(());
        }
        // A variant inventory knows but the catalog no longer has: nothing to index.
        if let Some(product) = store::product_of_variant(conn, variant_id).await?
            && self.search.is_some()
        {
            self.index_product(conn, &product).await?;
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
