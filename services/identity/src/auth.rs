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
        let credential = credential(req)?;
        if credential.starts_with(API_KEY_PREFIX) {
            self.0.principal_for_api_key(&credential).await
        } else {
            self.0.principal_for_token(&credential).await
        }
    }
}

/// The credential a request carries: `X-Api-Key`, else a bearer token, else (on a
/// WebSocket upgrade only) `?access_token=`.
pub fn credential(req: &Request) -> Option<String> {
    let headers = req.headers();
    if let Some(key) = headers.get("x-api-key") {
        return Some(key.to_str().ok()?.trim().to_owned());
    }
    if headers.get(poem::http::header::AUTHORIZATION).is_none()
        && headers
            .get(poem::http::header::UPGRADE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
    {
        // Browsers cannot set headers on a WebSocket: the token comes in the query.
        // Only for upgrades, and the request log records paths without queries.
        return req
            .uri()
            .query()?
            .split('&')
            .find_map(|pair| pair.strip_prefix("access_token="))
            .map(str::to_owned);
    }
    let header = headers
        .get(poem::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    Some(
        header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))?
            .trim()
            .to_owned(),
    )
}
