//! Authorization, in one place. Every endpoint states what it needs with one call —
//! [`signed_in`], [`admin`], [`staff`], [`enrolling`] — on the [`Principal`] the stack
//! resolved; the answers are the same everywhere: 401 `unauthenticated` for a guest,
//! 403 `forbidden` for the wrong role, 403 `missing_scope` naming the scope an app lacks,
//! 403 `mfa_enrollment_required` for an admin who has not enrolled TOTP yet.

use poem::Request;
use weft_kernel::{ErrorKind, ServiceError};

use crate::principal::{Principal, PrincipalKind};

/// Every scope an app can be granted. Endpoints name one of these in [`staff`].
pub const SCOPES: &[&str] = &[
    "catalog:read",
    "catalog:write",
    "customers:read",
    "customers:write",
    "internal",
    "inventory:read",
    "inventory:write",
    "orders:read",
    "orders:write",
    "payments:read",
    "promotions:read",
    "promotions:write",
    "reviews:write",
    "webhooks:write",
];

/// Why a request may not proceed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthzError {
    #[error("a valid access token or API key is required")]
    Unauthenticated,
    #[error("this needs the `{0}` role")]
    Forbidden(&'static str),
    #[error("this needs the `{0}` scope")]
    MissingScope(&'static str),
    #[error("enrol a second factor first: POST /v1/me/mfa/totp, then /v1/me/mfa/totp/verify")]
    MfaEnrollmentRequired,
}

impl ServiceError for AuthzError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Unauthenticated => ErrorKind::Unauthenticated,
            _ => ErrorKind::Forbidden,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated => "unauthenticated",
            Self::Forbidden(_) => "forbidden",
            Self::MissingScope(_) => "missing_scope",
            Self::MfaEnrollmentRequired => "mfa_enrollment_required",
        }
    }
}

/// The caller, whoever it is, or 401.
pub fn principal(req: &Request) -> Result<&Principal, AuthzError> {
    req.data::<Principal>().ok_or(AuthzError::Unauthenticated)
}

/// The id of the signed-in person, if any: whose cart or checkout this is. Apps and
/// guests have none (apps act for the shop, not for a customer).
pub fn user_id(req: &Request) -> Option<&str> {
    req.data::<Principal>()
        .filter(|p| p.kind == PrincipalKind::User)
        .map(|p| p.id.as_str())
}

/// A signed-in person (customer or admin) acting for themselves. Apps are refused: they
/// act for the shop, not for a customer.
pub fn signed_in(req: &Request) -> Result<&Principal, AuthzError> {
    check_signed_in(req.data::<Principal>())
}

/// A signed-in person, including an admin who still has to enrol TOTP (the enrolment
/// endpoints and `GET /v1/me` only).
pub fn enrolling(req: &Request) -> Result<&Principal, AuthzError> {
    match req.data::<Principal>() {
        Some(p) if p.kind == PrincipalKind::User => Ok(p),
        Some(_) => Err(AuthzError::Forbidden("customer")),
        None => Err(AuthzError::Unauthenticated),
    }
}

/// An admin (never an app): managing people, apps and keys.
pub fn admin(req: &Request) -> Result<&Principal, AuthzError> {
    check_admin(req.data::<Principal>())
}

/// An admin, or an app granted `scope`: the shop's back office.
pub fn staff<'r>(req: &'r Request, scope: &'static str) -> Result<&'r Principal, AuthzError> {
    check_staff(req.data::<Principal>(), scope)
}

/// A cluster's own process calling another's `/v1/internal/…` endpoints: an API key or
/// app granted `internal`. Admins are refused too: these calls move money and stock on
/// a saga's behalf, and no person should make them by hand.
pub fn internal(req: &Request) -> Result<&Principal, AuthzError> {
    check_internal(req.data::<Principal>())
}

/// [`internal`] for callers that hold an `Option<&Principal>`.
pub fn check_internal(principal: Option<&Principal>) -> Result<&Principal, AuthzError> {
    let p = enrolled(principal)?;
    match p.kind {
        PrincipalKind::App if p.has_scope("internal") => Ok(p),
        PrincipalKind::App => Err(AuthzError::MissingScope("internal")),
        PrincipalKind::User => Err(AuthzError::Forbidden("internal")),
    }
}

/// The gate in front of every `/v1/admin/…` route, before its body is read: an admin,
/// or an app (whose scope the endpoint then checks).
pub fn check_back_office(principal: Option<&Principal>) -> Result<&Principal, AuthzError> {
    let p = enrolled(principal)?;
    match p.kind {
        PrincipalKind::App => Ok(p),
        PrincipalKind::User if p.is_admin() => Ok(p),
        PrincipalKind::User => Err(AuthzError::Forbidden("admin")),
    }
}

/// The gate the HTTP stack applies by path, before any body is read, so a caller who
/// could never be allowed gets 401/403 whatever the body (not a 400/415/422 that reads
/// it first). It is coarse on purpose — the kind of caller a route family admits — and
/// the endpoints still make their exact check (an admin endpoint's scope, MFA).
///
/// - `/v1/internal/…`: [`check_internal`], exactly;
/// - `/v1/admin/…`: [`check_back_office`] (an admin, or any app);
/// - `/v1/me…` and `/v1/orders…`: a signed-in person (an admin still enrolling TOTP
///   passes: `/v1/me/mfa/…` is where they enrol).
pub fn check_route(path: &str, principal: Option<&Principal>) -> Result<(), AuthzError> {
    if under(path, "/v1/internal") {
        check_internal(principal).map(drop)
    } else if under(path, "/v1/admin") {
        check_back_office(principal).map(drop)
    } else if under(path, "/v1/me") || under(path, "/v1/orders") {
        match principal {
            None => Err(AuthzError::Unauthenticated),
            Some(p) if p.kind == PrincipalKind::User => Ok(()),
            Some(_) => Err(AuthzError::Forbidden("customer")),
        }
    } else {
        Ok(())
    }
}

/// The gate for writes (any method but `GET`, `HEAD` and `OPTIONS`), after
/// [`check_route`] and as early: reviews are written, edited, voted on and reported by
/// signed-in people only (`/v1/reviews/…`, `/v1/products/{id}/reviews`), so a guest or an
/// app gets 401/403 whatever the body.
pub fn check_write_route(path: &str, principal: Option<&Principal>) -> Result<(), AuthzError> {
    let mut segments = path.trim_start_matches('/').split('/');
    let product_reviews = segments.next() == Some("v1")
        && segments.next() == Some("products")
        && segments.next().is_some_and(|id| !id.is_empty())
        && segments.next() == Some("reviews");
    if product_reviews || under(path, "/v1/reviews") {
        match principal {
            None => Err(AuthzError::Unauthenticated),
            Some(p) if p.kind == PrincipalKind::User => Ok(()),
            Some(_) => Err(AuthzError::Forbidden("customer")),
        }
    } else {
        Ok(())
    }
}

/// Whether `path` is a cluster-internal endpoint (`/v1/internal` or below it).
pub fn is_internal(path: &str) -> bool {
    under(path, "/v1/internal")
}

/// Whether `path` is `prefix` or below it (`/v1/meta` is not under `/v1/me`).
fn under(path: &str, prefix: &str) -> bool {
    path.strip_prefix(prefix)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// [`signed_in`] for callers that hold an `Option<&Principal>` (GraphQL).
pub fn check_signed_in(principal: Option<&Principal>) -> Result<&Principal, AuthzError> {
    let p = enrolled(principal)?;
    if p.kind == PrincipalKind::User {
        Ok(p)
    } else {
        Err(AuthzError::Forbidden("customer"))
    }
}

/// [`admin`] for callers that hold an `Option<&Principal>` (GraphQL).
pub fn check_admin(principal: Option<&Principal>) -> Result<&Principal, AuthzError> {
    let p = enrolled(principal)?;
    if p.is_admin() {
        Ok(p)
    } else {
        Err(AuthzError::Forbidden("admin"))
    }
}

/// [`staff`] for callers that hold an `Option<&Principal>` (GraphQL).
pub fn check_staff<'p>(
    principal: Option<&'p Principal>,
    scope: &'static str,
) -> Result<&'p Principal, AuthzError> {
    debug_assert!(SCOPES.contains(&scope), "unknown scope {scope}");
    let p = enrolled(principal)?;
    match p.kind {
        PrincipalKind::User if p.is_admin() => Ok(p),
        PrincipalKind::User => Err(AuthzError::Forbidden("admin")),
        PrincipalKind::App if p.has_scope(scope) => Ok(p),
        PrincipalKind::App => Err(AuthzError::MissingScope(scope)),
    }
}

fn enrolled(principal: Option<&Principal>) -> Result<&Principal, AuthzError> {
    match principal {
        None => Err(AuthzError::Unauthenticated),
        Some(p) if p.mfa_enrollment_pending => Err(AuthzError::MfaEnrollmentRequired),
        Some(p) => Ok(p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Role;

    #[test]
    fn guests_customers_admins_and_apps_get_the_documented_answers() {
        let customer = Principal::user("usr_1", Role::Customer);
        let admin = Principal::user("usr_2", Role::Admin);
        let mut pending = admin.clone();
        pending.mfa_enrollment_pending = true;
        let app = Principal::app("app_1", vec!["catalog:read".to_owned()]);

        assert_eq!(check_admin(None), Err(AuthzError::Unauthenticated));
        assert_eq!(
            check_admin(Some(&customer)),
            Err(AuthzError::Forbidden("admin"))
        );
        assert_eq!(
            check_admin(Some(&pending)),
            Err(AuthzError::MfaEnrollmentRequired)
        );
        assert_eq!(check_admin(Some(&admin)), Ok(&admin));
        assert_eq!(check_admin(Some(&app)), Err(AuthzError::Forbidden("admin")));

        assert_eq!(check_staff(Some(&app), "catalog:read"), Ok(&app));
        assert_eq!(
            check_staff(Some(&app), "catalog:write"),
            Err(AuthzError::MissingScope("catalog:write"))
        );
        assert_eq!(check_staff(Some(&admin), "catalog:write"), Ok(&admin));
        assert_eq!(
            check_staff(Some(&customer), "catalog:write"),
            Err(AuthzError::Forbidden("admin"))
        );

        assert_eq!(check_signed_in(Some(&customer)), Ok(&customer));
        assert_eq!(
            check_signed_in(Some(&app)),
            Err(AuthzError::Forbidden("customer"))
        );
        let peer = Principal::app("key_1", vec!["internal".to_owned()]);
        assert_eq!(check_internal(Some(&peer)), Ok(&peer));
        assert_eq!(
            check_internal(Some(&app)),
            Err(AuthzError::MissingScope("internal"))
        );
        assert_eq!(
            check_internal(Some(&admin)),
            Err(AuthzError::Forbidden("internal"))
        );
        assert_eq!(check_internal(None), Err(AuthzError::Unauthenticated));
        assert_eq!(check_route("/v1/meta", None), Ok(()));
        assert_eq!(
            check_write_route("/v1/products/prod_1/reviews", None),
            Err(AuthzError::Unauthenticated)
        );
        assert_eq!(
            check_write_route("/v1/reviews/rev_1/helpful", Some(&app)),
            Err(AuthzError::Forbidden("customer"))
        );
        assert_eq!(
            check_write_route("/v1/reviews/rev_1", Some(&customer)),
            Ok(())
        );
        assert_eq!(check_write_route("/v1/products/prod_1", None), Ok(()));
        assert_eq!(check_write_route("/v1/reviewsx", None), Ok(()));
        assert_eq!(check_route("/v1/carts", None), Ok(()));
        assert_eq!(
            check_route("/v1/me", None),
            Err(AuthzError::Unauthenticated)
        );
        assert_eq!(
            check_route("/v1/orders/ord_1/returns", Some(&app)),
            Err(AuthzError::Forbidden("customer"))
        );
        assert_eq!(check_route("/v1/me/mfa/totp", Some(&pending)), Ok(()));
        assert_eq!(
            check_route("/v1/internal/holds", Some(&customer)),
            Err(AuthzError::Forbidden("internal"))
        );
        assert_eq!(check_route("/v1/admin/products", Some(&app)), Ok(()));
        assert_eq!(
            check_route("/v1/admin/products", Some(&customer)),
            Err(AuthzError::Forbidden("admin"))
        );
        assert_eq!(AuthzError::MissingScope("x").kind().status(), 403);
        assert_eq!(AuthzError::Unauthenticated.kind().status(), 401);
    }
}
