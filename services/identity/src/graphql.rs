//! Identity's GraphQL part, over the same use cases as REST.

use async_graphql::{ComplexObject, Context, Object, SimpleObject};
use weft_http::Principal;

use crate::addresses::SavedAddress;
use crate::service::{IdentityService, User};

/// A customer or an admin.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "User", complex)]
pub struct UserObject {
    pub id: String,
    pub email: String,
    pub name: String,
    /// `customer` or `admin`.
    pub role: String,
    pub phone: Option<String>,
    /// Whether the holder proved they read mail at `email`.
    pub email_verified: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

#[ComplexObject]
impl UserObject {
    /// The user's saved addresses (only ever resolved for the user themselves).
    async fn addresses(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<AddressObject>> {
        let list = ctx
            .data::<IdentityService>()?
            .list_addresses(&self.id)
            .await
            .map_err(|e| async_graphql::Error::new(e.to_string()))?;
        Ok(list.into_iter().map(AddressObject::from).collect())
    }
}

/// A saved postal address.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Address")]
pub struct AddressObject {
    pub id: String,
    pub name: String,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub phone: Option<String>,
    pub is_default: bool,
}

impl From<SavedAddress> for AddressObject {
    fn from(s: SavedAddress) -> Self {
        let a = s.address;
        Self {
            id: s.id,
            name: a.name,
            company: a.company,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
            is_default: s.is_default,
        }
    }
}

impl From<User> for UserObject {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role.as_str().to_owned(),
            phone: u.phone,
            email_verified: u.email_verified,
            created_at: u.created_at,
        }
    }
}

/// Identity's queries.
#[derive(Debug, Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The signed-in user (send `Authorization: Bearer <access token>`); null for a guest
    /// or an app.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<UserObject>> {
        let Some(principal) = ctx
            .data_opt::<Principal>()
            .filter(|p| p.kind == weft_http::PrincipalKind::User)
        else {
            return Ok(None);
        };
        let user = ctx
            .data::<IdentityService>()?
            .me(&principal.id)
            .await
            .map_err(|e| async_graphql::Error::new(e.to_string()))?;
        Ok(Some(user.into()))
    }
}
