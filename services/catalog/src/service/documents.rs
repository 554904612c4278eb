//! Each product's REST answer, stored beside its rows (`catalog_products.document`) and
//! rewritten in the transaction of every change to what it shows: its own fields, its
//! variants and prices, a variant's stock status, its rating. A page of products, a
//! product's page and the `?q=` listing paste these documents instead of assembling each
//! product from five tables and building its JSON on every request. Being written with
//! the change, a document cannot be stale, so it is not a cache.
//!
//! A product whose document was never written (rows older than the column, until
//! [`CatalogService::fill_documents`] reaches them) is assembled as before. GraphQL keeps
//! assembling the domain [`Product`]: it selects fields, so it has no one answer to paste.

use std::collections::HashMap;

use poem_openapi::types::ToJSON as _;
use weft_kernel::{Page, PageRequest};
use weft_storage::DbConn;

use super::{CatalogService, Product, ProductQuery, to_json};
use crate::domain::ProductStatus;
use crate::error::CatalogError;
use crate::store::{self, ProductParts, ProductRow};

/// Products per transaction when filling documents.
const FILL_BATCH: i64 = 200;

/// A product as the REST API answers it: the JSON of its `Product` schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDocument(String);

impl ProductDocument {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The document of `product`: what the REST API's `Product` schema makes of it. Rendered
/// by the HTTP module's own `ProductDto`, so the stored answer cannot drift from the one
/// the API defines.
pub(crate) fn render(product: &Product) -> Result<String, CatalogError> {
    let json = crate::http::ProductDto::from(product.clone()).to_json();
    to_json(&json)
}

/// The documents of `rows`, in order: each one's stored document, or one rendered from
/// `parts` where none was written yet (`parts` must hold those products' parts).
fn documents_of(
    rows: Vec<ProductRow>,
    parts: ProductParts,
) -> Result<Vec<ProductDocument>, CatalogError> {
    let undocumented: Vec<ProductRow> = rows
        .iter()
        .filter(|r| r.document.is_none())
        .cloned()
        .collect();
    let mut rendered: HashMap<String, String> = HashMap::new();
    if !undocumented.is_empty() {
        for product in super::assemble(undocumented, parts)? {
            rendered.insert(product.id.clone(), render(&product)?);
        }
    }
    rows.into_iter()
        .map(|row| {
            row.document
                .or_else(|| rendered.remove(&row.id))
                .map(ProductDocument)
                .ok_or_else(|| CatalogError::Internal(format!("no parts for {}", row.id)))
        })
        .collect()
}

impl CatalogService {
    /// Rewrites these products' documents from what is stored, in the caller's
    /// transaction, after any change to them; returns the products (gone ones left out).
    pub(super) async fn write_documents(
        &self,
        conn: &mut DbConn,
        ids: &[String],
    ) -> Result<Vec<Product>, CatalogError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        store::lock_products(conn, ids).await?;
        let rows = store::products_by_ids(conn, ids).await?;
        let products = self.assemble(conn, rows).await?;
        let documents = products
            .iter()
            .map(|p| Ok((p.id.clone(), render(p)?)))
            .collect::<Result<Vec<_>, CatalogError>>()?;
        store::set_documents(conn, documents).await?;
        Ok(products)
    }

    /// Writes every document never written (products stored before the column was),
    /// a batch per transaction; returns how many. Run at start; reads do without them
    /// meanwhile.
    pub async fn fill_documents(&self) -> Result<u64, CatalogError> {
        let mut done = 0u64;
        loop {
            let ids = {
                let mut conn = self.db.conn().await?;
                store::undocumented_products(&mut conn, FILL_BATCH).await?
            };
            if ids.is_empty() {
                return Ok(done);
            }
            self.db
                .transaction(async |conn: &mut DbConn| {
                    self.write_documents(conn, &ids).await.map(drop)
                })
                .await?;
            done += ids.len() as u64;
        }
    }

    /// A product's document by id or handle; guests only see active products.
    pub async fn product_document(
        &self,
        id_or_handle: &str,
        include_unpublished: bool,
    ) -> Result<ProductDocument, CatalogError> {
        // One product by key (and its parts, if it has no document yet).
        weft_storage::short_reads(async {
            let mut conn = self.read_conn(include_unpublished).await?;
            let row = store::find_product(&mut conn, id_or_handle)
                .await?
                .filter(|p| include_unpublished || p.status == ProductStatus::Active.as_str())
                .ok_or(CatalogError::ProductNotFound)?;
            let parts = if row.document.is_none() {
                store::parts_of(&mut conn, vec![row.id.clone()]).await?
            } else {
                ProductParts::default()
            };
            documents_of(vec![row], parts)?
                .pop()
                .ok_or(CatalogError::ProductNotFound)
        })
        .await
    }

    /// A page of products as [`Self::list_products`] finds them, as documents. Not
    /// cached here: the documents make a page one query, and guests' whole answers are
    /// cached by `http_cache` already.
    pub async fn list_documents(
        &self,
        query: &ProductQuery,
        page: &PageRequest,
    ) -> Result<Page<ProductDocument>, CatalogError> {
        if Self::searches(query) {
            return self.search_documents(query, page).await;
        }
        let (rows, parts) = self.load_rows(query, page, false).await?;
        Ok(Page {
            data: documents_of(rows.data, parts)?,
            next_cursor: rows.next_cursor,
        })
    }

    /// The documents of these products (by id) in this order, leaving out those gone
    /// and, unless `include_unpublished`, those not active.
    pub(super) async fn documents_by_ids(
        &self,
        ids: &[String],
        include_unpublished: bool,
    ) -> Result<Vec<ProductDocument>, CatalogError> {
        let mut conn = self.db.conn().await?;
        let mut rows: HashMap<String, ProductRow> = store::products_by_ids(&mut conn, ids)
            .await?
            .into_iter()
            .filter(|r| include_unpublished || r.status == ProductStatus::Active.as_str())
            .map(|r| (r.id.clone(), r))
            .collect();
        let undocumented: Vec<String> = rows
            .values()
            .filter(|r| r.document.is_none())
            .map(|r| r.id.clone())
            .collect();
        let parts = store::parts_of(&mut conn, undocumented).await?;
        let ordered = ids.iter().filter_map(|id| rows.remove(id)).collect();
        documents_of(ordered, parts)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_document_is_what_the_api_answers_for_the_product() {
        let product: Product = serde_json::from_value(serde_json::json!({
            "id": "prod_1", "handle": "coat", "title": "Coat \"Noir\"", "description": "",
            "brand": "Weft", "status": "active", "material": null, "care": "Dry clean",
            "fit": null, "seo_title": null, "seo_description": null, "tags": ["wool"],
            "images": [{"url": "/a.jpg", "alt": "front"}],
            "options": [{"name": "size", "values": ["S", "M"]}],
            "size_chart": {"S": {"chest": 90}}, "category_id": null,
            "price_ranges": [{"currency": "EUR", "min": 100, "max": 250}],
            "variants": [{"id": "var_1", "product_id": "prod_1", "sku": "C-S",
                "options": {"size": "S"}, "prices": [{"currency": "EUR", "amount": 100,
                "compare_at_amount": null}], "weight_grams": null, "barcode": null,
                "stock_status": "low_stock"}],
            "in_stock": true, "rating_average": 4.5, "rating_count": 2,
            "created_at": "2026-12-07T10:00:00.123456Z",
            "updated_at": "2026-12-07T11:00:00Z"
        }))
        .unwrap();
        let document: serde_json::Value = serde_json::from_str(&render(&product).unwrap()).unwrap();
        assert_eq!(
            document,
            crate::http::ProductDto::from(product.clone())
                .to_json()
                .unwrap()
        );
        assert_eq!(document["price_ranges"][0]["min"]["amount"], 100);
        assert_eq!(document["variants"][0]["stock_status"], "low_stock");
        // A stored document wins; one never written is rendered from the parts.
        let row = |id: &str, document: Option<&str>| ProductRow {
            id: id.into(),
            handle: id.into(),
            title: "T".into(),
            description: String::new(),
            brand: "B".into(),
            status: "active".into(),
            material: None,
            care: None,
            fit: None,
            seo_title: None,
            seo_description: None,
            tags: "[]".into(),
            images: "[]".into(),
            options: "[]".into(),
            size_chart: None,
            category_id: None,
            ordered: false,
            created_at: product.created_at.naive_utc(),
            updated_at: product.updated_at.naive_utc(),
            document: document.map(str::to_owned),
        };
        let out = documents_of(
            vec![row("prod_a", Some("{\"kept\":1}")), row("prod_b", None)],
            ProductParts::default(),
        )
        .unwrap();
        assert_eq!(out[0].as_str(), "{\"kept\":1}");
        let fresh: serde_json::Value = serde_json::from_str(out[1].as_str()).unwrap();
        assert_eq!(
            (fresh["id"].as_str(), fresh["in_stock"].as_bool()),
            (Some("prod_b"), Some(false))
        );
    }
}
