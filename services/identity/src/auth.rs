//! The stack's authenticator: `Authorization: Bearer <access JWT | wk_live_… API key>`
//! (or `X-Api-Key: wk_live_…`) → the caller.

use poem::Request;
use weft_http::{Authenticator, Principal};

use crate::apps::API_KEY_PREFIX;
use crate::service::IdentityService;

/// Verifies bearer access tokens and API keys.
#[derive(Debug, Clone)]
pub struct JwtAuthenticator(pub IdentityService);

#[async_trait::async_trait]
impl Authenticator for JwtAuthenticator {
    async fn principal(&self, req: &Request) -> Option<Principal> {
        let headers = req.headers();
        let credential = if let Some(key) = headers.get("x-api-key") {
            key.to_str().ok()?.trim()
        } else {
            let header = headers
                .get(poem::http::header::AUTHORIZATION)?
                .to_str()
                .ok()?;
            header
                .strip_prefix("Bearer ")
                .or_else(|| header.strip_prefix("bearer "))?
                .trim()
        };
        if credential.starts_with(API_KEY_PREFIX) {
            self.0.principal_for_api_key(credential).await
        } else {
            self.0.principal_for_token(credential).await
        }
    }
}
