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
    /// the documents and search documents of their products, each once. Runs inside the
    /// events' transaction; the consumer retires cached answers after it commits.
    pub async fn follow_stock(
        &self,
        conn: &mut DbConn,
        changes: &[StockChange<'_>],
        index_anyway: bool,
    ) -> Result<(), CatalogError> {
        let now = self.clock.now().naive_utc();
        let mut recorded = Vec::new();
        let mut unrecorded = Vec::new();
        for change in changes {
            let variant = change.variant_id.to_owned();
            if store::record_stock(conn, change.variant_id, change.status, change.version, now)
                .await?
            {
                recorded.push(variant);
            } else {
                unrecorded.push(variant);
            }
        }
        // A variant inventory knows but the catalog no longer has is skipped.
        let products_of = async |conn: &mut DbConn, variants: &[String]| {
            let mut ids: Vec<String> = store::variants_by_ids(conn, variants)
                .await?
                .into_iter()
                .map(|v| v.product_id)
                .collect();
            ids.sort_unstable();
            ids.dedup();
            Ok::<_, CatalogError>(ids)
        };
        let documented = products_of(conn, &recorded).await?;
        let products = self.write_documents(conn, &documented).await?;
        if self.search.is_some() {
            self.index_assembled(&documented, &products).await?;
            // Another replica recorded these first (and wrote their documents); one with
            // an index of its own must still bring that index up to date, from what is
            // stored, so an older event writes the newer state.
            if index_anyway {
                let mut rest = products_of(conn, &unrecorded).await?;
                rest.retain(|id| documented.binary_search(id).is_err());
                self.index_products(conn, &rest).await?;
            }
        }
        Ok(())
    }

    /// Records a product's rating summary from reviews (`score`: the average × 100),
    /// ignoring one older than what is recorded, and rewrites its document and search
    /// document.
    pub async fn follow_rating(
        &self,
        conn: &mut DbConn,
        product_id: &str,
        score: i64,
        count: i64,
        version: i64,
        index_anyway: bool,
    ) -> Result<(), CatalogError> {
        let ids = [product_id.to_owned()];
        if store::record_rating(conn, product_id, score, count, version).await? {
            let products = self.write_documents(conn, &ids).await?;
            if self.search.is_some() {
                self.index_assembled(&ids, &products).await?;
            }
        } else if index_anyway && self.search.is_some() {
            self.index_product(conn, product_id).await?;
        }
        Ok(())
    }
}
