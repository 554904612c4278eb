//! What the other processes of a cluster ask identity over HTTP (`/v1/internal/…`, an API
//! key with the `internal` scope): whose a credential is. Access tokens of people are
//! checked against the published keys (JWKS) where they arrive; API keys and apps' tokens
//! need identity's own records (a key may be revoked, an app switched off), so they are
//! asked here.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiError, ApiResult, JsonBody, Principal, PrincipalKind, authz};
use weft_kernel::ErrorKind;

use crate::apps::API_KEY_PREFIX;
use crate::service::IdentityService;

#[derive(Tags)]
enum Tag {
    /// Credentials, as a cluster's other processes check them.
    IdentityInternal,
}

/// A credential to check: an API key (`wk_live_…`) or an access token.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialCheck {
    #[oai(validator(min_length = 1, max_length = 8192))]
    pub credential: String,
}

/// Whose a valid credential is and what it may do.
#[derive(Debug, Clone, Object)]
pub struct CredentialOwner {
    /// `user` or `app`.
    pub kind: String,
    /// `usr_…`, `app_…` or `key_…`.
    pub id: String,
    /// A person's role (`customer`, `admin`); none for apps.
    pub role: Option<String>,
    /// An app's scopes; empty for people.
    pub scopes: Vec<String>,
    /// An admin who must enrol a second factor before anything else.
    pub mfa_enrollment_pending: bool,
}

impl From<Principal> for CredentialOwner {
    fn from(p: Principal) -> Self {
        Self {
            kind: match p.kind {
                PrincipalKind::User => "user",
                PrincipalKind::App => "app",
            }
            .to_owned(),
            id: p.id,
            role: p.role.map(|r| r.as_str().to_owned()),
            scopes: p.scopes,
            mfa_enrollment_pending: p.mfa_enrollment_pending,
        }
    }
}

/// Identity's cluster-internal endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityInternalApi;

#[OpenApi]
impl IdentityInternalApi {
    /// Whose `credential` is: 200 with its owner, 404 `credential_not_valid` for a key or
    /// token that is unknown, revoked, expired or forged. Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/credentials",
        method = "post",
        operation_id = "internal_check_credential",
        tag = "Tag::IdentityInternal"
    )]
    async fn check(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        body: JsonBody<CredentialCheck>,
    ) -> ApiResult<Json<CredentialOwner>> {
        authz::internal(req)?;
        let credential = body.0.credential;
        let credential = credential.trim();
        let owner = if credential.starts_with(API_KEY_PREFIX) {
            svc.principal_for_api_key(credential).await
        } else {
            svc.principal_for_token(credential).await
        };
        owner.map(|p| Json(p.into())).ok_or_else(|| {
            ApiError::new(
                ErrorKind::NotFound,
                "credential_not_valid",
                "the credential is unknown, revoked, expired or not ours",
            )
        })
    }
}
