//! Writing the category tree.

use weft_kernel::FieldError;
use weft_kernel::id::PrefixedId as _;
use weft_storage::DbConn;

use super::{CatalogService, Category, CategoryInput, descendants, unique_to_conflict};
use crate::domain::{CategoryId, handle_from, parse_handle, parse_text};
use crate::error::CatalogError;
use crate::store::{self, CategoryRow};

impl CatalogService {
    // --- writing categories ------------------------------------------------------------

    pub async fn create_category(&self, input: CategoryInput) -> Result<Category, CatalogError> {
        let mut errors = Vec::new();
        let name = parse_text("name", input.name.as_deref().unwrap_or(""), 100)
            .map_err(|e| errors.push(e))
            .ok();
        let handle = match &input.handle {
            Some(h) => parse_handle("handle", h.trim())
                .map_err(|e| errors.push(e))
                .ok(),
            None => name.as_deref().map(handle_from).filter(|h| !h.is_empty()),
        };
        let (Some(name), Some(handle), true) = (name, handle, errors.is_empty()) else {
            if errors.is_empty() {
                errors.push(FieldError::new(
                    "handle",
                    "cannot be made from this name; give one",
                ));
            }
            return Err(CatalogError::Invalid(errors));
        };
        let now = self.clock.now().naive_utc();
        let id = CategoryId::generate().to_string();
        self.db
            .transaction(async |conn: &mut DbConn| {
                let parent_id = match input.parent_id.as_deref().filter(|p| !p.is_empty()) {
                    Some(p) => Some(
                        store::find_category(conn, p)
                            .await?
                            .ok_or_else(|| CatalogError::field("parent_id", "is not a category"))?
                            .id,
                    ),
                    None => None,
                };
                if store::category_handle_taken(conn, &handle, None).await? {
                    return Err(CatalogError::HandleTaken(handle.clone()));
                }
                store::insert_category(
                    conn,
                    &CategoryRow {
                        id: id.clone(),
                        parent_id,
                        handle: handle.clone(),
                        name: name.clone(),
                        description: input
                            .description
                            .clone()
                            .unwrap_or_default()
                            .trim()
                            .to_owned(),
                        position: input.position.unwrap_or(0),
                        created_at: now,
                        updated_at: now,
                    },
                )
                .await?;
                Ok(())
            })
            .await
            .map_err(unique_to_conflict)?;
        self.changed().await;
        self.category(&id).await
    }

    pub async fn update_category(
        &self,
        id: &str,
        input: CategoryInput,
    ) -> Result<Category, CatalogError> {
        let mut errors = Vec::new();
        let name = input
            .name
            .as_deref()
            .map(|n| parse_text("name", n, 100))
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
                let all = store::list_categories(conn).await?;
                let mut row = all
                    .iter()
                    .find(|r| r.id == id)
                    .cloned()
                    .ok_or(CatalogError::CategoryNotFound)?;
                if let Some(n) = &name {
                    row.name.clone_from(n);
                }
                if let Some(h) = &handle {
                    if store::category_handle_taken(conn, h, Some(id)).await? {
                        return Err(CatalogError::HandleTaken(h.clone()));
                    }
                    row.handle.clone_from(h);
                }
                if let Some(d) = &input.description {
                    d.trim().clone_into(&mut row.description);
                }
                if let Some(p) = input.position {
                    row.position = p;
                }
                if let Some(parent) = &input.parent_id {
                    row.parent_id = if parent.is_empty() {
                        None
                    } else {
                        let found = all
                            .iter()
                            .find(|r| &r.id == parent || &r.handle == parent)
                            .ok_or_else(|| CatalogError::field("parent_id", "is not a category"))?;
                        // A category cannot move under itself or its own subtree.
                        if descendants(&all, id).contains(&found.id) {
                            return Err(CatalogError::field("parent_id", "would make a cycle"));
                        }
                        Some(found.id.clone())
                    };
                }
                row.updated_at = now;
                store::update_category(conn, &row).await?;
                Ok(())
            })
            .await
            .map_err(unique_to_conflict)?;
        self.changed().await;
        self.category(id).await
    }

    pub async fn delete_category(&self, id: &str) -> Result<(), CatalogError> {
        self.db
            .transaction(async |conn: &mut DbConn| {
                if store::find_category(conn, id)
                    .await?
                    .is_none_or(|c| c.id != id)
                {
                    return Err(CatalogError::CategoryNotFound);
                }
                if store::category_in_use(conn, id).await? {
                    return Err(CatalogError::CategoryInUse);
                }
                store::delete_category(conn, id).await?;
                Ok(())
            })
            .await?;
        self.changed().await;
        Ok(())
    }
}
