//! Who a request acts for, and what it may do. The identity service implements
//! [`Authenticator`]; the stack asks it once per request, before rate limiting, and puts
//! the [`Principal`] in request data, where rate limits, idempotency keys and the
//! authorization checks of [`crate::authz`] find it.

use poem::Request;

/// What kind of caller a principal is; each kind has its own rate-limit budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PrincipalKind {
    /// A person: a customer or an admin.
    User,
    /// A third-party app (OAuth client or API key).
    App,
}

/// A person's role. Apps have none: they hold scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Customer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "customer" => Some(Self::Customer),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// An authenticated caller: `usr_…` or `app_…`/`key_…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub id: String,
    pub kind: PrincipalKind,
    /// A user's role; `None` for apps.
    pub role: Option<Role>,
    /// An app's granted scopes (`catalog:read`); empty for users.
    pub scopes: Vec<String>,
    /// An admin who has not enrolled a second factor yet: only enrolment is allowed.
    pub mfa_enrollment_pending: bool,
}

impl Principal {
    /// A signed-in person.
    pub fn user(id: impl Into<String>, role: Role) -> Self {
        Self {
            id: id.into(),
            kind: PrincipalKind::User,
            role: Some(role),
            scopes: Vec::new(),
            mfa_enrollment_pending: false,
        }
    }

    /// An app (client credentials or API key) holding `scopes`.
    pub fn app(id: impl Into<String>, scopes: Vec<String>) -> Self {
        Self {
            id: id.into(),
            kind: PrincipalKind::App,
            role: None,
            scopes,
            mfa_enrollment_pending: false,
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Some(Role::Admin)
    }

    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }
}

/// Resolves the caller of a request from its credentials; `None` for a guest (or
/// credentials that do not check out, which the endpoints then refuse).
#[async_trait::async_trait]
pub trait Authenticator: Send + Sync + 'static {
    async fn principal(&self, req: &Request) -> Option<Principal>;
}
