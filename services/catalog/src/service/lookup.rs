//! What other services ask of the catalog about variants (a cart pricing its lines), by
//! id, with a constant number of queries however many they ask about.

use std::collections::{BTreeMap, HashMap};

use crate::domain::{Image, Price};
use crate::error::CatalogError;
use crate::store::{self, ProductRow};

use super::CatalogService;

/// A variant as a cart line shows it, with its product's state and where the product
/// sits in the catalog (what promotions are scoped by).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// The product's category and every ancestor of it, nearest first.
    pub category_ids: Vec<String>,
    pub collection_ids: Vec<String>,
}

/// Counts of the catalog's contents (see [`CatalogService::census`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Census {
    pub products: u64,
    pub variants: u64,
    /// Variants whose stock status inventory has announced.
    pub variants_with_stock: u64,
}

impl CatalogService {
    /// How big the catalog is, and how much of its stock it has heard of: until
    /// inventory's announcements arrive a variant never reads as in stock, so the demo
    /// waits for all of them before it says it is ready.
    pub async fn census(&self) -> Result<Census, CatalogError> {
        let mut conn = self.db.conn().await?;
        let products = store::count_products(&mut conn).await?;
        let (variants, stocked) = store::count_variants_with_stock(&mut conn).await?;
        let count = |n: i64| u64::try_from(n).unwrap_or_default();
        Ok(Census {
            products: count(products),
            variants: count(variants),
            variants_with_stock: count(stocked),
        })
    }

    /// Up to `limit` variant ids after `after`, in id order: every variant a page at a time
    /// (the demo stocks them all; 100,000 products have 1.3 M).
    pub async fn variant_ids_after(
        &self,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<String>, CatalogError> {
        let mut conn = self.db.conn().await?;
        Ok(store::variant_ids_after(&mut conn, after, limit).await?)
    }

    /// The variants among `ids` that exist (unknown ids are left out), through the cache,
    /// one entry per variant: a cart asks about the same lines at every read, and one new
    /// line costs one load, not its whole cart's. Any catalog write moves the generation,
    /// so a price or status change shows at once.
    pub async fn variant_summaries(
        &self,
        ids: &[String],
    ) -> Result<Vec<VariantSummary>, CatalogError> {
        let mut sorted: Vec<&str> = ids.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        // One generation for the whole answer (read once, not per variant).
        let base = self.key("variant:").await;
        let mut found = Vec::with_capacity(sorted.len());
        let mut missing = Vec::new();
        for id in sorted {
            match self
                .cache
                .get_json::<VariantSummary>(&format!("{base}{id}"))
                .await
            {
                Some(summary) => found.push(summary),
                None => missing.push(id.to_owned()),
            }
        }
        if !missing.is_empty() {
            let loaded = self.load_variant_summaries(&missing).await?;
            for summary in &loaded {
                self.cache
                    .set_json(
                        &format!("{base}{}", summary.variant_id),
                        summary,
                        self.ttls.product,
                    )
                    .await;
            }
            found.extend(loaded);
        }
        Ok(found)
    }

    /// Loads only the asked-for variants and their prices (not whole products), with a
    /// constant number of queries.
    async fn load_variant_summaries(
        &self,
        ids: &[String],
    ) -> Result<Vec<VariantSummary>, CatalogError> {
        // Rows by key, as many as asked for: read on the task's own thread.
        let (variants, prices, products, members) = weft_storage::short_reads(async {
            let mut conn = self.db.conn().await?;
            let variants = store::variants_by_ids(&mut conn, ids).await?;
            let mut product_ids: Vec<String> =
                variants.iter().map(|v| v.product_id.clone()).collect();
            product_ids.sort();
            product_ids.dedup();
            let prices = store::prices_of_variants(&mut conn, ids).await?;
            let products = store::products_by_ids(&mut conn, &product_ids).await?;
            let members = store::collections_of_products(&mut conn, &product_ids).await?;
            Ok::<_, CatalogError>((variants, prices, products, members))
        })
        .await?;
        // Through the cache, after the connection went back.
        let tree = self.categories().await?;
        let mut parents: HashMap<&str, Option<&str>> = HashMap::new();
        let mut stack: Vec<&super::Category> = tree.iter().collect();
        while let Some(c) = stack.pop() {
            parents.insert(c.id.as_str(), c.parent_id.as_deref());
            stack.extend(c.children.iter());
        }
        let lineage = |first: Option<&str>| {
            let mut out = Vec::new();
            let mut next = first;
            while let Some(id) = next {
                if out.iter().any(|x: &String| x == id) {
                    break; // never loop, whatever the stored tree holds
                }
                out.push(id.to_owned());
                next = parents.get(id).copied().flatten();
            }
            out
        };
        let mut prices_by_variant: HashMap<String, Vec<Price>> = HashMap::new();
        for p in prices {
            let currency = weft_kernel::Currency::parse(&p.currency)
                .map_err(|e| CatalogError::Internal(e.to_string()))?;
            prices_by_variant
                .entry(p.variant_id)
                .or_default()
                .push(Price {
                    currency,
                    amount: p.amount,
                    compare_at_amount: p.compare_at_amount,
                });
        }
        let mut collections: HashMap<String, Vec<String>> = HashMap::new();
        for m in members {
            collections
                .entry(m.product_id)
                .or_default()
                .push(m.collection_id);
        }
        let products: HashMap<String, ProductRow> =
            products.into_iter().map(|p| (p.id.clone(), p)).collect();
        variants
            .into_iter()
            .filter_map(|v| {
                let product = products.get(&v.product_id)?;
                Some((v, product))
            })
            .map(|(v, product)| {
                let images: Vec<Image> = super::from_json(&product.images)?;
                Ok(VariantSummary {
                    product_id: product.id.clone(),
                    product_title: product.title.clone(),
                    product_handle: product.handle.clone(),
                    product_status: product.status.clone(),
                    sku: v.sku,
                    options: super::from_json(&v.option_values)?,
                    image: images.into_iter().next(),
                    prices: prices_by_variant.remove(&v.id).unwrap_or_default(),
                    category_ids: lineage(product.category_id.as_deref()),
                    collection_ids: collections.get(&product.id).cloned().unwrap_or_default(),
                    variant_id: v.id,
                })
            })
            .collect()
    }
}
