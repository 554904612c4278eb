//! Identity's REST endpoints and their wire types.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, JsonBody, Principal};

use weft_kernel::PageRequest;

use crate::domain::Role;
use crate::error::IdentityError;
use crate::keys::Jwks;
use crate::service::{IdentityService, Tokens, User};

#[derive(Tags)]
enum Tag {
    /// Accounts, sign-in and tokens.
    Identity,
}

/// `POST /v1/auth/register`
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub email: String,
    /// At least 10 characters, not a common password.
    pub password: String,
    pub name: String,
}

/// `POST /v1/auth/login`
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// `PATCH /v1/me`
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    #[serde(default)]
    pub name: Option<String>,
}

/// A customer or an admin.
#[derive(Debug, Clone, Object)]
#[oai(rename = "User")]
pub struct UserDto {
    /// `usr_…`
    pub id: String,
    pub email: String,
    pub name: String,
    /// `customer` or `admin`.
    pub role: String,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserDto {
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

/// A signed-in session: the user and a fresh token pair.
#[derive(Debug, Clone, Object)]
pub struct AuthSession {
    pub user: UserDto,
    /// Bearer token for `Authorization`, valid for `expires_in` seconds (15 minutes).
    pub access_token: String,
    /// Opaque, single-use: trade it at `/v1/auth/refresh` (valid 7 days).
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: i64,
}

fn session(user: User, tokens: Tokens) -> AuthSession {
    AuthSession {
        user: user.into(),
        access_token: tokens.access_token,
        refresh_token: tokens.refresh_token,
        token_type: "Bearer".to_owned(),
        expires_in: tokens.expires_in,
    }
}

#[derive(ApiResponse)]
pub enum Registered {
    /// The account exists and is signed in.
    #[oai(status = 201)]
    Created(Json<AuthSession>),
}

#[derive(ApiResponse)]
pub enum LoggedOut {
    /// The session's refresh tokens are revoked.
    #[oai(status = 204)]
    Done,
}

/// The signed-in user, or 401.
fn caller(req: &Request) -> Result<&Principal, IdentityError> {
    req.data::<Principal>()
        .filter(|p| p.id.starts_with("usr_"))
        .ok_or(IdentityError::Unauthenticated)
}

/// A signed-in admin: 401 for a guest, 403 for anyone else.
fn require_admin(req: &Request) -> Result<&Principal, IdentityError> {
    let principal = caller(req)?;
    if principal.role.as_deref() == Some(Role::Admin.as_str()) {
        Ok(principal)
    } else {
        Err(IdentityError::Forbidden("admin"))
    }
}

/// One page of users.
#[derive(Debug, Clone, Object)]
pub struct UserPage {
    pub data: Vec<UserDto>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Identity's endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct IdentityApi;

#[OpenApi(tag = "Tag::Identity")]
impl IdentityApi {
    /// Creates a customer account and signs it in.
    #[oai(path = "/v1/auth/register", method = "post", operation_id = "register")]
    async fn register(
        &self,
        svc: Data<&IdentityService>,
        body: JsonBody<RegisterRequest>,
    ) -> ApiResult<Registered> {
        let (user, tokens) = svc
            .register(&body.0.email, &body.0.password, &body.0.name)
            .await?;
        Ok(Registered::Created(Json(session(user, tokens))))
    }

    /// Signs in; wrong email and wrong password get the same 401.
    #[oai(path = "/v1/auth/login", method = "post", operation_id = "login")]
    async fn login(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        body: JsonBody<LoginRequest>,
    ) -> ApiResult<Json<AuthSession>> {
        let ip = req.data::<weft_http::ClientIp>().and_then(|c| c.0);
        let (user, tokens) = svc.login(&body.0.email, &body.0.password, ip).await?;
        Ok(Json(session(user, tokens)))
    }

    /// Trades a refresh token for a new pair; the old one is dead from then on.
    #[oai(path = "/v1/auth/refresh", method = "post", operation_id = "refresh")]
    async fn refresh(
        &self,
        svc: Data<&IdentityService>,
        body: JsonBody<RefreshRequest>,
    ) -> ApiResult<Json<AuthSession>> {
        let (user, tokens) = svc.refresh(&body.0.refresh_token).await?;
        Ok(Json(session(user, tokens)))
    }

    /// Ends the session the refresh token belongs to.
    #[oai(path = "/v1/auth/logout", method = "post", operation_id = "logout")]
    async fn logout(
        &self,
        svc: Data<&IdentityService>,
        body: JsonBody<RefreshRequest>,
    ) -> ApiResult<LoggedOut> {
        svc.logout(&body.0.refresh_token).await?;
        Ok(LoggedOut::Done)
    }

    /// The signed-in user.
    #[oai(path = "/v1/me", method = "get", operation_id = "get_me")]
    async fn me(&self, svc: Data<&IdentityService>, req: &Request) -> ApiResult<Json<UserDto>> {
        let user = svc.me(&caller(req)?.id).await?;
        Ok(Json(user.into()))
    }

    /// Edits the signed-in user.
    #[oai(path = "/v1/me", method = "patch", operation_id = "update_me")]
    async fn update_me(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        body: JsonBody<UpdateMeRequest>,
    ) -> ApiResult<Json<UserDto>> {
        let user = svc
            .update_me(&caller(req)?.id, body.0.name.as_deref())
            .await?;
        Ok(Json(user.into()))
    }

    /// Every user, oldest first (admins only).
    #[oai(path = "/v1/admin/users", method = "get", operation_id = "list_users")]
    async fn list_users(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<UserPage>> {
        require_admin(req)?;
        let page = PageRequest::parse(limit.0, cursor.0.as_deref()).map_err(|e| {
            let field = if matches!(e, weft_kernel::page::PageError::Limit) {
                "limit"
            } else {
                "cursor"
            };
            IdentityError::Invalid(vec![weft_kernel::FieldError::new(field, e.to_string())])
        })?;
        let users = svc.list_users(&page).await?;
        Ok(Json(UserPage {
            data: users.data.into_iter().map(Into::into).collect(),
            next_cursor: users.next_cursor,
        }))
    }

    /// The public keys that verify access tokens (RFC 7517).
    #[oai(
        path = "/.well-known/jwks.json",
        method = "get",
        operation_id = "get_jwks"
    )]
    async fn jwks(&self, svc: Data<&IdentityService>) -> ApiResult<Json<Jwks>> {
        Ok(Json(svc.keys().jwks()))
    }
}
