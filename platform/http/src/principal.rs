//! Who a request acts for. The identity service implements [`Authenticator`]; the stack
//! asks it once per request, before rate limiting, and puts the [`Principal`] in request
//! data, where rate limits and idempotency keys find it.

use poem::Request;

/// What kind of caller a principal is; each kind has its own rate-limit budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// A person: a customer or an admin.
    User,
    /// A third-party app (OAuth client or API key).
    App,
}

/// An authenticated caller: `usr_…` or `app_…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: String,
    pub kind: PrincipalKind,
    /// A user's role (`customer`, `admin`); `None` for apps.
    pub role: Option<String>,
    /// An app's granted scopes (`catalog:read`); empty for users.
    pub scopes: Vec<String>,
}

/// Resolves the caller of a request from its credentials; `None` for a guest (or
/// credentials that do not check out, which the endpoints then refuse).
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync + 'static {
    async fn principal(&self, req: &Request) -> Option<Principal>;
}
