//! A customer's address book. Addresses are validated by [`PostalAddress::validate`] and
//! stored sealed (AES-256-GCM) under associated data naming their owner and id, so a row
//! copied to another customer does not open. Another customer's address id is a 404, like
//! an id that does not exist.

use chrono::{DateTime, Utc};
use weft_kernel::PostalAddress;
use weft_storage::DbConn;

use crate::error::IdentityError;
use crate::service::IdentityService;
use crate::store::{self, AddressRow};

/// At most this many addresses per customer.
pub const MAX_ADDRESSES: i64 = 50;

/// A saved address.
#[derive(Debug, Clone)]
pub struct SavedAddress {
    pub id: String,
    pub address: PostalAddress,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Changes to an address; `None` keeps a field, `Some("")` clears an optional one.
#[derive(Debug, Clone, Default)]
pub struct AddressPatch {
    pub name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub is_default: Option<bool>,
}

fn aad(user_id: &str, id: &str) -> String {
    format!("{user_id}/address/{id}")
}

fn invalid(errors: Vec<weft_kernel::FieldError>) -> IdentityError {
    IdentityError::Invalid(errors)
}

impl IdentityService {
    fn open_address(&self, row: AddressRow) -> Result<SavedAddress, IdentityError> {
        let json = self
            .sealer
            .open_str(&row.sealed, &aad(&row.user_id, &row.id))?;
        let address: PostalAddress = serde_json::from_str(&json)
            .map_err(|e| IdentityError::Internal(format!("stored address: {e}")))?;
        Ok(SavedAddress {
            id: row.id,
            address,
            is_default: row.is_default,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        })
    }

    fn seal_address(
        &self,
        user_id: &str,
        id: &str,
        address: &PostalAddress,
    ) -> Result<String, IdentityError> {
        let json =
            serde_json::to_string(address).map_err(|e| IdentityError::Internal(e.to_string()))?;
        Ok(self.sealer.seal_str(&json, &aad(user_id, id))?)
    }

    pub async fn list_addresses(&self, user_id: &str) -> Result<Vec<SavedAddress>, IdentityError> {
        let mut conn = self.db.conn().await?;
        store::list_addresses(&mut conn, user_id)
            .await?
            .into_iter()
            .map(|row| self.open_address(row))
            .collect()
    }

    /// Saves a new address; the first one, or one marked so, becomes the default.
    pub async fn add_address(
        &self,
        user_id: &str,
        address: &PostalAddress,
        is_default: bool,
    ) -> Result<SavedAddress, IdentityError> {
        let address = address.validate("").map_err(invalid)?;
        let id = format!("adr_{}", uuid::Uuid::now_v7().simple());
        let sealed = self.seal_address(user_id, &id, &address)?;
        let now = self.clock.now().naive_utc();
        let row = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let count = store::count_addresses(conn, user_id).await?;
                if count >= MAX_ADDRESSES {
                    return Err(IdentityError::AddressLimit(MAX_ADDRESSES));
                }
                let is_default = is_default || count == 0;
                if is_default {
                    store::clear_default_address(conn, user_id).await?;
                }
                let row = AddressRow {
                    id: id.clone(),
                    user_id: user_id.to_owned(),
                    sealed: sealed.clone(),
                    is_default,
                    created_at: now,
                    updated_at: now,
                };
                store::insert_address(conn, &row).await?;
                Ok(row)
            })
            .await?;
        self.open_address(row)
    }

    /// Edits an address of the caller's (404 for anyone else's).
    pub async fn update_address(
        &self,
        user_id: &str,
        id: &str,
        patch: AddressPatch,
    ) -> Result<SavedAddress, IdentityError> {
        let now = self.clock.now().naive_utc();
        let row = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let mut row = store::find_address(conn, user_id, id)
                    .await?
                    .ok_or(IdentityError::AddressNotFound)?;
                let current = self.open_address(row.clone())?.address;
                let keep = |new: Option<String>, old: Option<String>| match new {
                    Some(v) if v.trim().is_empty() => None,
                    Some(v) => Some(v),
                    None => old,
                };
                let merged = PostalAddress {
                    name: patch.name.clone().unwrap_or(current.name),
                    company: keep(patch.company.clone(), current.company),
                    line1: patch.line1.clone().unwrap_or(current.line1),
                    line2: keep(patch.line2.clone(), current.line2),
                    city: patch.city.clone().unwrap_or(current.city),
                    region: keep(patch.region.clone(), current.region),
                    postal_code: keep(patch.postal_code.clone(), current.postal_code),
                    country: patch.country.clone().unwrap_or(current.country),
                    phone: keep(patch.phone.clone(), current.phone),
                }
                .validate("")
                .map_err(invalid)?;
                row.sealed = self.seal_address(user_id, id, &merged)?;
                if patch.is_default == Some(true) && !row.is_default {
                    store::clear_default_address(conn, user_id).await?;
                    row.is_default = true;
                }
                row.updated_at = now;
                store::update_address(conn, &row).await?;
                Ok::<_, IdentityError>(row)
            })
            .await?;
        self.open_address(row)
    }

    /// Deletes an address of the caller's (404 for anyone else's).
    pub async fn delete_address(&self, user_id: &str, id: &str) -> Result<(), IdentityError> {
        let deleted = self
            .db
            .transaction(async |conn: &mut DbConn| store::delete_address(conn, user_id, id).await)
            .await?;
        if deleted {
            Ok(())
        } else {
            Err(IdentityError::AddressNotFound)
        }
    }
}
