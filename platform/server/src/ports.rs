//! How services reach each other inside one process: the cart's catalog and stock ports
//! over the catalog and inventory services. (A cart process of a cluster needs the same
//! ports over HTTP with the SDK; they are not written yet.)

use std::collections::HashMap;

use weft_cart::CartError;
use weft_cart::service::{Availability, Catalog, Stock, VariantInfo};
use weft_catalog::CatalogService;
use weft_inventory::InventoryService;

/// The catalog as the cart sees it.
#[derive(Debug, Clone)]
pub struct LocalCatalog(pub CatalogService);

#[async_trait::async_trait]
impl Catalog for LocalCatalog {
    async fn variants(&self, ids: &[String]) -> Result<Vec<VariantInfo>, CartError> {
        let found = self
            .0
            .variant_summaries(ids)
            .await
            .map_err(|e| CartError::Upstream(format!("catalog: {e}")))?;
        Ok(found
            .into_iter()
            .map(|v| VariantInfo {
                purchasable: v.product_status == "active",
                prices: v
                    .prices
                    .iter()
                    .map(|p| {
                        (
                            p.currency.code().to_owned(),
                            (p.amount, p.compare_at_amount),
                        )
                    })
                    .collect(),
                image_url: v.image.map(|i| i.url),
                variant_id: v.variant_id,
                product_id: v.product_id,
                title: v.product_title,
                handle: v.product_handle,
                sku: v.sku,
                options: v.options,
                category_ids: v.category_ids,
                collection_ids: v.collection_ids,
            })
            .collect())
    }
}

/// Inventory as the cart sees it.
#[derive(Debug, Clone)]
pub struct LocalStock(pub InventoryService);

#[async_trait::async_trait]
impl Stock for LocalStock {
    async fn availability(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Availability>, CartError> {
        let stocks = self
            .0
            .stocks(ids)
            .await
            .map_err(|e| CartError::Upstream(format!("inventory: {e}")))?;
        Ok(stocks
            .into_iter()
            .map(|s| {
                (
                    s.variant_id,
                    Availability {
                        available: s.available,
                        backorder: s.allow_backorder,
                    },
                )
            })
            .collect())
    }
}
