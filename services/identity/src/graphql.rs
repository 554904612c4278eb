//! Identity's GraphQL part, over the same use cases as REST.

use async_graphql::{Context, Object, SimpleObject};
use weft_http::Principal;

use crate::service::{IdentityService, User};

/// A customer or an admin.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "User")]
pub struct UserObject {
    pub id: String,
    pub email: String,
    pub name: String,
    /// `customer` or `admin`.
    pub role: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<User> for UserObject {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role.as_str().to_owned(),
            created_at: u.created_at,
        }
    }
}

/// Identity's queries.
#[derive(Debug, Default)]
pub struct IdentityQuery;

#[Object]
impl IdentityQuery {
    /// The signed-in user (send `Authorization: Bearer <access token>`); null for a guest.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<UserObject>> {
        let Some(principal) = ctx
            .data_opt::<Principal>()
            .filter(|p| p.id.starts_with("usr_"))
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
