//! "You may also like": products similar to one, by category, brand, tags and price band.
//! Co-purchase signals can join once orders exist.

use std::collections::HashMap;

use super::{CatalogService, Product, from_json};
use crate::domain::ProductStatus;
use crate::error::CatalogError;
use crate::store::{self, ListFilter, ListOrder};

/// How many candidates are scored: the newest of the product's department.
const CANDIDATES: i64 = 300;

/// Similarity of a candidate: shared category 4, same brand 1, each shared tag 1, a
/// lowest USD price within ±30% of the product's 2.
fn score(
    product: &Product,
    tags: &[String],
    usd: Option<i64>,
    candidate: &store::ProductRow,
    candidate_tags: &[String],
    candidate_usd: Option<i64>,
) -> i64 {
    let mut score = 0;
    if candidate.category_id.is_some() && candidate.category_id == product.category_id {
        score += 4;
    }
    if candidate.brand == product.brand {
        score += 1;
    }
    score += i64::try_from(candidate_tags.iter().filter(|t| tags.contains(t)).count())
        .unwrap_or_default();
    if let (Some(a), Some(b)) = (usd, candidate_usd)
        && (b - a).abs() * 10 <= a * 3
    {
        score += 2;
    }
    score
}

impl CatalogService {
    /// Up to `limit` active products most like `id_or_handle`, best first (cached).
    pub async fn recommendations(
        &self,
        id_or_handle: &str,
        limit: usize,
    ) -> Result<Vec<Product>, CatalogError> {
        let key = self.key(&format!("recs:{limit}:{id_or_handle}")).await;
        self.cache
            .get_or_load(&key, self.ttls.product, async || {
                self.load_recommendations(id_or_handle, limit).await
            })
            .await
    }

    async fn load_recommendations(
        &self,
        id_or_handle: &str,
        limit: usize,
    ) -> Result<Vec<Product>, CatalogError> {
        let product = self.load_product(id_or_handle, false).await?;
        let mut conn = self.db.conn().await?;
        // Candidates: the product's department (the root above its category), or all.
        let tree = store::list_categories(&mut conn).await?;
        let mut root = product.category_id.clone();
        while let Some(parent) = root
            .as_ref()
            .and_then(|id| tree.iter().find(|c| &c.id == id))
            .and_then(|c| c.parent_id.clone())
        {
            root = Some(parent);
        }
        let filter = ListFilter {
            statuses: vec![ProductStatus::Active.as_str().to_owned()],
            category_ids: root.map(|r| super::descendants(&tree, &r)),
            currency: "USD".to_owned(),
            ..ListFilter::default()
        };
        let rows =
            store::list_products(&mut conn, &filter, ListOrder::Newest, None, CANDIDATES).await?;
        let usd_of = |p: &Product| {
            p.price_ranges
                .iter()
                .find(|r| r.currency.code() == "USD")
                .map(|r| r.min)
        };
        let usd = usd_of(&product);
        let mut scored: Vec<(i64, store::ProductRow)> = Vec::new();
        for (row, candidate_usd) in rows {
            if row.id == product.id {
                continue;
            }
            let tags: Vec<String> = from_json(&row.tags)?;
            let s = score(&product, &product.tags, usd, &row, &tags, candidate_usd);
            if s > 0 {
                scored.push((s, row));
            }
        }
        // Best first; among equals, the newest.
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| b.1.id.cmp(&a.1.id)));
        scored.truncate(limit);
        let order: HashMap<String, usize> = scored
            .iter()
            .enumerate()
            .map(|(i, (_, r))| (r.id.clone(), i))
            .collect();
        let mut products = self
            .assemble(&mut conn, scored.into_iter().map(|(_, r)| r).collect())
            .await?;
        products.sort_by_key(|p| order.get(&p.id).copied().unwrap_or(usize::MAX));
        Ok(products)
    }
}
