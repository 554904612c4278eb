//! What other services ask of the catalog about variants (a cart pricing its lines), by
//! id, with a constant number of queries however many they ask about.

use std::collections::{BTreeMap, HashMap};

use crate::domain::{Image, Price};
use crate::error::CatalogError;
use crate::store;

use super::CatalogService;

/// A variant as a cart line shows it, with its product's state.
#[derive(Debug, Clone, PartialEq)]
pub struct VariantSummary {
    pub variant_id: String,
    pub product_id: String,
    pub product_title: String,
    pub product_handle: String,
    /// `draft`, `active` or `archived`: only active products can be bought.
    pub product_status: String,
    pub sku: String,
    pub options: BTreeMap<String, String>,
    pub image: Option<Image>,
    pub prices: Vec<Price>,
}

impl CatalogService {
    /// Every variant's id (the demo stocks them all).
    pub async fn variant_ids(&self) -> Result<Vec<String>, CatalogError> {
        let mut conn = self.db.conn().await?;
        Ok(store::all_variant_ids(&mut conn).await?)
    }

    /// The variants among `ids` that exist (unknown ids are left out).
    pub async fn variant_summaries(
        &self,
        ids: &[String],
    ) -> Result<Vec<VariantSummary>, CatalogError> {
        let mut conn = self.db.conn().await?;
        let variants = store::variants_by_ids(&mut conn, ids).await?;
        let mut product_ids: Vec<String> = variants.iter().map(|v| v.product_id.clone()).collect();
        product_ids.sort();
        product_ids.dedup();
        let rows = store::products_by_ids(&mut conn, &product_ids).await?;
        let products: HashMap<String, super::Product> = self
            .assemble(&mut conn, rows)
            .await?
            .into_iter()
            .map(|p| (p.id.clone(), p))
            .collect();
        Ok(variants
            .iter()
            .filter_map(|v| {
                let product = products.get(&v.product_id)?;
                let variant = product.variants.iter().find(|x| x.id == v.id)?;
                Some(VariantSummary {
                    variant_id: variant.id.clone(),
                    product_id: product.id.clone(),
                    product_title: product.title.clone(),
                    product_handle: product.handle.clone(),
                    product_status: product.status.clone(),
                    sku: variant.sku.clone(),
                    options: variant.options.clone(),
                    image: product.images.first().cloned(),
                    prices: variant.prices.clone(),
                })
            })
            .collect())
    }
}
