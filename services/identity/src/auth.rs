//! The stack's authenticator: `Authorization: Bearer <access JWT>` → the caller.

use poem::Request;
use weft_http::{Authenticator, Principal, PrincipalKind};

use crate::service::IdentityService;

/// Verifies bearer access tokens against this process's signing keys.
#[derive(Debug, Clone)]
pub struct JwtAuthenticator(pub IdentityService);

#[async_trait::async_trait]
impl Authenticator for JwtAuthenticator {
    async fn principal(&self, req: &Request) -> Option<Principal> {
        let header = req
            .headers()
            .get(poem::http::header::AUTHORIZATION)?
            .to_str()
            .ok()?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))?;
        let claims = self.0.verify_access(token.trim())?;
        Some(Principal {
            id: claims.sub,
            kind: PrincipalKind::User,
            role: Some(claims.role),
            scopes: Vec::new(),
        })
    }
}
