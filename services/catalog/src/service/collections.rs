//! Collections: hand-picked, ordered groups of products.

use weft_kernel::FieldError;
use weft_kernel::id::PrefixedId as _;
use weft_storage::DbConn;

use super::{CatalogService, unique_to_conflict};
use crate::domain::{CollectionId, handle_from, parse_handle, parse_text};
use crate::error::CatalogError;
use crate::store::{self, CollectionRow, MemberRow};

/// A collection with its products' ids in order.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Collection {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub product_ids: Vec<String>,
}

/// A collection to create, or the changes to one (`product_ids` replaces the list).
#[derive(Debug, Clone, Default)]
pub struct CollectionInput {
    pub title: Option<String>,
    pub handle: Option<String>,
    pub description: Option<String>,
    pub product_ids: Option<Vec<String>>,
}

impl CatalogService {
    /// Every collection, oldest first (cached).
    pub async fn collections(&self) -> Result<Vec<Collection>, CatalogError> {
        let key = self.key("collections").await;
        self.cache
            .get_or_load(&key, self.ttls.product, async || {
                let mut conn = self.db.conn().await?;
                let rows = store::list_collections(&mut conn).await?;
                Self::with_members(&mut conn, rows).await
            })
            .await
    }

    /// One collection by id or handle.
    pub async fn collection(&self, id_or_handle: &str) -> Result<Collection, CatalogError> {
        let mut conn = self.db.conn().await?;
        let row = store::find_collection(&mut conn, id_or_handle)
            .await?
            .ok_or(CatalogError::CollectionNotFound)?;
        Self::with_members(&mut conn, vec![row])
            .await?
            .pop()
            .ok_or(CatalogError::CollectionNotFound)
    }

    async fn with_members(
        conn: &mut DbConn,
        rows: Vec<CollectionRow>,
    ) -> Result<Vec<Collection>, CatalogError> {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let members = store::collection_members(conn, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| Collection {
                product_ids: members
                    .iter()
                    .filter(|m| m.collection_id == r.id)
                    .map(|m| m.product_id.clone())
                    .collect(),
                id: r.id,
                handle: r.handle,
                title: r.title,
                description: r.description,
            })
            .collect())
    }

    pub async fn create_collection(
        &self,
        input: CollectionInput,
    ) -> Result<Collection, CatalogError> {
        let mut errors = Vec::new();
        let title = parse_text("title", input.title.as_deref().unwrap_or(""), 200)
            .map_err(|e| errors.push(e))
            .ok();
        let handle = match &input.handle {
            Some(h) => parse_handle("handle", h.trim())
                .map_err(|e| errors.push(e))
                .ok(),
            None => title.as_deref().map(handle_from).filter(|h| !h.is_empty()),
        };
        let (Some(title), Some(handle), true) = (title, handle, errors.is_empty()) else {
            if errors.is_empty() {
                errors.push(FieldError::new(
                    "handle",
                    "cannot be made from this title; give one",
                ));
            }
            return Err(CatalogError::Invalid(errors));
        };
        let now = self.clock.now().naive_utc();
        let id = CollectionId::generate().to_string();
        let row = CollectionRow {
            id: id.clone(),
            handle: handle.clone(),
            title,
            description: input
                .description
                .clone()
                .unwrap_or_default()
                .trim()
                .to_owned(),
            created_at: now,
            updated_at: now,
        };
        self.db
            .transaction(async |conn: &mut DbConn| {
                if store::collection_handle_taken(conn, &handle, None).await? {
                    return Err(CatalogError::HandleTaken(handle.clone()));
                }
                store::insert_collection(conn, &row).await?;
                if let Some(products) = &input.product_ids {
                    set_members(conn, &id, products).await?;
                }
                Ok(())
            })
            .await
            .map_err(unique_to_conflict)?;
        self.changed().await;
        self.collection(&id).await
    }

    pub async fn update_collection(
        &self,
        id: &str,
        input: CollectionInput,
    ) -> Result<Collection, CatalogError> {
        let mut errors = Vec::new();
        let title = input
            .title
            .as_deref()
            .map(|t| parse_text("title", t, 200))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let handle = input
            .handle
            .as_deref()
            .map(|h| parse_handle("handle", h.trim()))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        if !errors.is_empty() {
            return Err(CatalogError::Invalid(errors));
        }
        let now = self.clock.now().naive_utc();
        self.db
            .transaction(async |conn: &mut DbConn| {
                let mut row = store::find_collection(conn, id)
                    .await?
                    .filter(|r| r.id == id)
                    .ok_or(CatalogError::CollectionNotFound)?;
                if let Some(t) = &title {
                    row.title.clone_from(t);
                }
                if let Some(h) = &handle {
                    if store::collection_handle_taken(conn, h, Some(id)).await? {
                        return Err(CatalogError::HandleTaken(h.clone()));
                    }
                    row.handle.clone_from(h);
                }
                if let Some(d) = &input.description {
                    d.trim().clone_into(&mut row.description);
                }
                row.updated_at = now;
                store::update_collection(conn, &row).await?;
                if let Some(products) = &input.product_ids {
                    set_members(conn, id, products).await?;
                }
                Ok(())
            })
            .await
            .map_err(unique_to_conflict)?;
        self.changed().await;
        self.collection(id).await
    }

    pub async fn delete_collection(&self, id: &str) -> Result<(), CatalogError> {
        let deleted = self
            .db
            .transaction(async |conn: &mut DbConn| store::delete_collection(conn, id).await)
            .await?;
        if !deleted {
            return Err(CatalogError::CollectionNotFound);
        }
        self.changed().await;
        Ok(())
    }
}

/// Replaces a collection's products, checking each is a product and none repeats.
async fn set_members(conn: &mut DbConn, id: &str, products: &[String]) -> Result<(), CatalogError> {
    if products.len() > 1000 {
        return Err(CatalogError::field("product_ids", "at most 1000 products"));
    }
    let existing = store::existing_products(conn, products).await?;
    let mut errors = Vec::new();
    let mut seen: Vec<&String> = Vec::new();
    for (i, p) in products.iter().enumerate() {
        if !existing.contains(p) {
            errors.push(FieldError::new(
                format!("product_ids[{i}]"),
                "is not a product",
            ));
        } else if seen.contains(&p) {
            errors.push(FieldError::new(format!("product_ids[{i}]"), "is repeated"));
        }
        seen.push(p);
    }
    if !errors.is_empty() {
        return Err(CatalogError::Invalid(errors));
    }
    let rows: Vec<MemberRow> = products
        .iter()
        .enumerate()
        .map(|(position, p)| MemberRow {
            collection_id: id.to_owned(),
            product_id: p.clone(),
            position: i32::try_from(position).unwrap_or(i32::MAX),
        })
        .collect();
    store::set_collection_members(conn, id, &rows).await?;
    Ok(())
}
