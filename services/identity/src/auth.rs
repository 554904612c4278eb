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
        let query_token;
        let credential = if let Some(key) = headers.get("x-api-key") {
            key.to_str().ok()?.trim()
        } else if headers.get(poem::http::header::AUTHORIZATION).is_none()
            && headers
                .get(poem::http::header::UPGRADE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
        {
            // Browsers cannot set headers on a WebSocket: the token comes in the query.
            // Only for upgrades, and the request log records paths without queries.
            query_token = req
                .uri()
                .query()
                .and_then(|q| {
                    q.split('&')
                        .find_map(|pair| pair.strip_prefix("access_token="))
                })?
                .to_owned();
            query_token.as_str()
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
