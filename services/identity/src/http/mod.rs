//! Identity's REST endpoints and their wire types. Every authorization decision is one
//! call into [`weft_http::authz`].

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::form::FormBody;
use weft_http::{ApiResult, JsonBody, Role, authz};
use weft_kernel::{PageRequest, PostalAddress};

use crate::addresses::{AddressPatch, SavedAddress};
use crate::apps::{ApiKey, App, GrantError};
use crate::error::IdentityError;
use crate::keys::Jwks;
use crate::service::{IdentityService, Tokens, User};

pub mod internal;
mod recovery;
pub use internal::IdentityInternalApi;
pub use recovery::RecoveryApi;

#[derive(Tags)]
enum Tag {
    /// Accounts, sign-in and tokens.
    Identity,
    /// The signed-in customer's own data.
    Me,
    /// People, apps and API keys (admins).
    Admin,
    /// OAuth 2.0 for third-party apps.
    #[oai(rename = "OAuth")]
    OAuth,
}

/// Identity's endpoints: four groups merged into one spec.
pub type IdentityApi = (AccountApi, RecoveryApi, AdminApi, OAuthApi);

/// Identity's endpoints, ready to merge into the composition root.
pub fn api() -> IdentityApi {
    (AccountApi, RecoveryApi, AdminApi, OAuthApi)
}

// --- wire types ------------------------------------------------------------------------

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
    /// The current TOTP code, or an unused recovery code, for accounts with TOTP.
    #[serde(default)]
    pub totp_code: Option<String>,
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
    /// International format (`+44 20 7946 0958`); `""` removes it. Stored encrypted.
    #[serde(default)]
    pub phone: Option<String>,
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
    pub phone: Option<String>,
    /// Whether the holder proved they read mail at `email` (a verification link, a
    /// password reset, or a sign-in provider that vouches for it).
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

impl From<User> for UserDto {
    fn from(u: User) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            role: u.role.as_str().to_owned(),
            phone: u.phone,
            email_verified: u.email_verified,
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
pub enum Done {
    /// Done; nothing to show.
    #[oai(status = 204)]
    NoContent,
}

/// `POST /v1/me/mfa/totp/verify`
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyTotpRequest {
    /// The 6-digit code the authenticator app shows now.
    pub code: String,
}

/// A started TOTP enrolment.
#[derive(Debug, Clone, Object)]
pub struct TotpEnrolment {
    /// Base32 secret, to type into an authenticator app.
    pub secret: String,
    /// `otpauth://totp/…`, to show as a QR code.
    pub otpauth_uri: String,
}

#[derive(ApiResponse)]
pub enum EnrolmentStarted {
    /// Scan or type the secret, then confirm with a code.
    #[oai(status = 201)]
    Created(Json<TotpEnrolment>),
}

/// TOTP is on: keep the recovery codes somewhere safe (they are shown once).
#[derive(Debug, Clone, Object)]
pub struct TotpEnabled {
    /// Ten single-use codes for when the authenticator is lost.
    pub recovery_codes: Vec<String>,
    /// A fresh session without the enrolment restriction.
    pub session: AuthSession,
}

/// An address, as sent when saving one.
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAddressRequest {
    pub name: String,
    #[serde(default)]
    pub company: Option<String>,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    /// Required for US, CA, AU (codes: `NY`, `QC`, `NSW`), IN and JP.
    #[serde(default)]
    pub region: Option<String>,
    /// Required, in the country's format, for US, CA, GB, DE, FR, IN, AU, JP.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// Make it the default address (the first address always is).
    #[serde(default)]
    pub is_default: Option<bool>,
}

/// Changes to an address: omitted fields stay; `""` clears an optional one.
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAddressRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub line1: Option<String>,
    #[serde(default)]
    pub line2: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// `true` makes it the default.
    #[serde(default)]
    pub is_default: Option<bool>,
}

/// A saved address.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Address")]
pub struct AddressDto {
    /// `adr_…`
    pub id: String,
    pub name: String,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: String,
    pub phone: Option<String>,
    pub is_default: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<SavedAddress> for AddressDto {
    fn from(s: SavedAddress) -> Self {
        let a = s.address;
        Self {
            id: s.id,
            name: a.name,
            company: a.company,
            line1: a.line1,
            line2: a.line2,
            city: a.city,
            region: a.region,
            postal_code: a.postal_code,
            country: a.country,
            phone: a.phone,
            is_default: s.is_default,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// The caller's addresses.
#[derive(Debug, Clone, Object)]
pub struct AddressList {
    pub data: Vec<AddressDto>,
}

#[derive(ApiResponse)]
pub enum AddressCreated {
    #[oai(status = 201)]
    Created(Json<AddressDto>),
}

/// A session in the export (never a token).
#[derive(Debug, Clone, Object)]
pub struct SessionDto {
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A social sign-in provider this shop has configured.
#[derive(Debug, Clone, Object)]
pub struct SignInProvider {
    /// `google` or `facebook`: the `{provider}` of the OAuth paths.
    pub id: String,
    /// What a sign-in button says: "Google", "Facebook".
    pub name: String,
    /// Where to send the browser to start (`GET`, answers 302 to the provider).
    pub start_path: String,
}

/// The social sign-in providers, so a storefront shows only the buttons that work.
#[derive(Debug, Clone, Object)]
pub struct SignInProviderList {
    pub data: Vec<SignInProvider>,
}

/// A sign-in provider linked to the account.
#[derive(Debug, Clone, Object)]
pub struct LinkedAccountDto {
    pub provider: String,
    pub subject: String,
    pub linked_at: DateTime<Utc>,
}

/// Everything identity holds about the caller.
#[derive(Debug, Clone, Object)]
pub struct DataExport {
    pub exported_at: DateTime<Utc>,
    pub user: UserDto,
    pub addresses: Vec<AddressDto>,
    pub sessions: Vec<SessionDto>,
    pub linked_accounts: Vec<LinkedAccountDto>,
    pub mfa_enabled_at: Option<DateTime<Utc>>,
    pub recovery_codes_left: i64,
}

#[derive(ApiResponse)]
pub enum Redirect {
    /// Go to the provider's sign-in page.
    #[oai(status = 302)]
    Found(#[oai(header = "location")] String),
}

/// One page of users.
#[derive(Debug, Clone, Object)]
pub struct UserPage {
    pub data: Vec<UserDto>,
    /// Pass as `cursor` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// `PATCH /v1/admin/users/{id}`
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// `customer` or `admin`.
    pub role: String,
}

/// `POST /v1/admin/apps` and `POST /v1/admin/api-keys`
#[derive(Debug, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCredentialRequest {
    pub name: String,
    /// Scopes granted, e.g. `catalog:read`, `orders:write`.
    pub scopes: Vec<String>,
}

/// A third-party app.
#[derive(Debug, Clone, Object)]
#[oai(rename = "App")]
pub struct AppDto {
    /// `app_…`
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
}

impl From<App> for AppDto {
    fn from(a: App) -> Self {
        Self {
            id: a.id,
            name: a.name,
            client_id: a.client_id,
            scopes: a.scopes,
            created_at: a.created_at,
        }
    }
}

/// A new app with its secret, which is shown this once.
#[derive(Debug, Clone, Object)]
pub struct AppCreated {
    pub app: AppDto,
    pub client_secret: String,
}

#[derive(ApiResponse)]
pub enum AppCreatedResponse {
    #[oai(status = 201)]
    Created(Json<AppCreated>),
}

#[derive(Debug, Clone, Object)]
pub struct AppList {
    pub data: Vec<AppDto>,
}

/// An API key (only its first characters).
#[derive(Debug, Clone, Object)]
#[oai(rename = "ApiKey")]
pub struct ApiKeyDto {
    /// `key_…`
    pub id: String,
    pub name: String,
    /// The key's first characters, to recognise it.
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyDto {
    fn from(k: ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name,
            prefix: k.prefix,
            scopes: k.scopes,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
        }
    }
}

/// A new API key, shown this once: send it as `Authorization: Bearer wk_live_…`.
#[derive(Debug, Clone, Object)]
pub struct ApiKeyCreated {
    pub api_key: ApiKeyDto,
    pub key: String,
}

#[derive(ApiResponse)]
pub enum ApiKeyCreatedResponse {
    #[oai(status = 201)]
    Created(Json<ApiKeyCreated>),
}

#[derive(Debug, Clone, Object)]
pub struct ApiKeyList {
    pub data: Vec<ApiKeyDto>,
}

/// `POST /v1/oauth/token`, form-encoded (RFC 6749 §4.4.2). The client authenticates with
/// HTTP Basic or with `client_id` and `client_secret` in the form.
#[derive(Debug, Object, Deserialize)]
pub struct TokenRequest {
    /// `client_credentials`
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// Space-separated subset of the app's scopes; all of them when omitted.
    pub scope: Option<String>,
}

/// An access token for an app (RFC 6749 §5.1).
#[derive(Debug, Clone, Object)]
pub struct TokenGrant {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    pub expires_in: i64,
    pub scope: String,
}

/// An OAuth error (RFC 6749 §5.2).
#[derive(Debug, Clone, Object)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client`, `unsupported_grant_type` or `invalid_scope`.
    pub error: String,
    pub error_description: String,
}

#[derive(ApiResponse)]
pub enum TokenResponse {
    /// The token.
    #[oai(status = 200)]
    Granted(
        Json<TokenGrant>,
        #[oai(header = "cache-control")] String,
        #[oai(header = "pragma")] String,
    ),
    /// The request is malformed, the grant type unsupported or a scope not granted.
    #[oai(status = 400)]
    BadRequest(Json<OAuthError>, #[oai(header = "cache-control")] String),
    /// The client is unknown, revoked or its secret wrong.
    #[oai(status = 401)]
    Unauthorized(
        Json<OAuthError>,
        #[oai(header = "www-authenticate")] String,
        #[oai(header = "cache-control")] String,
    ),
}

fn oauth_error(error: GrantError) -> TokenResponse {
    let (code, description) = match error {
        GrantError::InvalidRequest(why) => ("invalid_request", why),
        GrantError::InvalidClient => ("invalid_client", "client authentication failed"),
        GrantError::UnsupportedGrantType => (
            "unsupported_grant_type",
            "only client_credentials is supported",
        ),
        GrantError::InvalidScope => (
            "invalid_scope",
            "a requested scope is not granted to this app",
        ),
    };
    let body = Json(OAuthError {
        error: code.to_owned(),
        error_description: description.to_owned(),
    });
    if error == GrantError::InvalidClient {
        TokenResponse::Unauthorized(
            body,
            "Basic realm=\"weft\"".to_owned(),
            "no-store".to_owned(),
        )
    } else {
        TokenResponse::BadRequest(body, "no-store".to_owned())
    }
}

/// Client credentials from `Authorization: Basic` (RFC 6749 §2.3.1: each part
/// form-urlencoded), if present.
fn basic_credentials(req: &Request) -> Option<Result<(String, String), GrantError>> {
    use base64::Engine as _;
    let header = req.headers().get(poem::http::header::AUTHORIZATION)?;
    let encoded = header.to_str().ok()?.strip_prefix("Basic ")?;
    let bad = GrantError::InvalidRequest("the Basic credentials are malformed");
    Some((|| {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| bad)?;
        let text = String::from_utf8(decoded).map_err(|_| bad)?;
        let (id, secret) = text.split_once(':').ok_or(bad)?;
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .map(std::borrow::Cow::into_owned)
                .map_err(|_| bad)
        };
        Ok((decode(id)?, decode(secret)?))
    })())
}

fn page_request(limit: Option<u32>, cursor: Option<&str>) -> Result<PageRequest, IdentityError> {
    PageRequest::from_query(limit, cursor).map_err(|e| IdentityError::Invalid(vec![e]))
}

// --- accounts -------------------------------------------------------------------------

/// Sign-up, sign-in, sessions, and the caller's own data.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountApi;

#[OpenApi]
impl AccountApi {
    /// Creates a customer account and signs it in.
    #[oai(
        path = "/v1/auth/register",
        method = "post",
        operation_id = "register",
        tag = "Tag::Identity"
    )]
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

    /// Signs in; wrong email and wrong password get the same 401. Accounts with TOTP also
    /// need `totp_code` (401 `totp_required` without it).
    #[oai(
        path = "/v1/auth/login",
        method = "post",
        operation_id = "login",
        tag = "Tag::Identity"
    )]
    async fn login(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        body: JsonBody<LoginRequest>,
    ) -> ApiResult<Json<AuthSession>> {
        let ip = req.data::<weft_http::ClientIp>().and_then(|c| c.0);
        let (user, tokens) = svc
            .login(
                &body.0.email,
                &body.0.password,
                body.0.totp_code.as_deref(),
                ip,
            )
            .await?;
        Ok(Json(session(user, tokens)))
    }

    /// Trades a refresh token for a new pair; the old one is dead from then on.
    #[oai(
        path = "/v1/auth/refresh",
        method = "post",
        operation_id = "refresh",
        tag = "Tag::Identity"
    )]
    async fn refresh(
        &self,
        svc: Data<&IdentityService>,
        body: JsonBody<RefreshRequest>,
    ) -> ApiResult<Json<AuthSession>> {
        let (user, tokens) = svc.refresh(&body.0.refresh_token).await?;
        Ok(Json(session(user, tokens)))
    }

    /// Ends the session the refresh token belongs to.
    #[oai(
        path = "/v1/auth/logout",
        method = "post",
        operation_id = "logout",
        tag = "Tag::Identity"
    )]
    async fn logout(
        &self,
        svc: Data<&IdentityService>,
        body: JsonBody<RefreshRequest>,
    ) -> ApiResult<Done> {
        svc.logout(&body.0.refresh_token).await?;
        Ok(Done::NoContent)
    }

    /// The social sign-in providers configured here (none by default). The provider sends
    /// the browser back to its configured `redirect_url`: Weft's callback, or a
    /// storefront page that hands `code` and `state` on to it.
    #[oai(
        path = "/v1/auth/providers",
        method = "get",
        operation_id = "list_sign_in_providers",
        tag = "Tag::Identity"
    )]
    async fn sign_in_providers(
        &self,
        svc: Data<&IdentityService>,
    ) -> ApiResult<Json<SignInProviderList>> {
        let data = svc
            .social_providers()
            .into_iter()
            .map(|id| SignInProvider {
                name: match id.as_str() {
                    "google" => "Google".to_owned(),
                    "facebook" => "Facebook".to_owned(),
                    other => other.to_owned(),
                },
                start_path: format!("/v1/auth/oauth/{id}/start"),
                id,
            })
            .collect();
        Ok(Json(SignInProviderList { data }))
    }

    /// Starts social sign-in: redirects to the provider (PKCE and state included).
    #[oai(
        path = "/v1/auth/oauth/:provider/start",
        method = "get",
        operation_id = "oauth_start",
        tag = "Tag::Identity"
    )]
    async fn oauth_start(
        &self,
        svc: Data<&IdentityService>,
        /// `google` or `facebook`.
        provider: Path<String>,
        /// Pre-fills the provider's account chooser.
        login_hint: Query<Option<String>>,
    ) -> ApiResult<Redirect> {
        let url = svc
            .oauth_start(&provider.0, login_hint.0.as_deref())
            .await?;
        Ok(Redirect::Found(url))
    }

    /// Where the provider sends the browser back: signs in (linking or creating the
    /// account by verified email) and answers the session.
    #[oai(
        path = "/v1/auth/oauth/:provider/callback",
        method = "get",
        operation_id = "oauth_callback",
        tag = "Tag::Identity"
    )]
    async fn oauth_callback(
        &self,
        svc: Data<&IdentityService>,
        provider: Path<String>,
        code: Query<Option<String>>,
        state: Query<Option<String>>,
        /// Set by the provider when the person declined.
        error: Query<Option<String>>,
    ) -> ApiResult<Json<AuthSession>> {
        let (user, tokens) = svc
            .oauth_callback(
                &provider.0,
                code.0.as_deref(),
                state.0.as_deref(),
                error.0.as_deref(),
            )
            .await?;
        Ok(Json(session(user, tokens)))
    }

    /// The signed-in user (also for admins who still have to enrol TOTP).
    #[oai(
        path = "/v1/me",
        method = "get",
        operation_id = "get_me",
        tag = "Tag::Me"
    )]
    async fn me(&self, svc: Data<&IdentityService>, req: &Request) -> ApiResult<Json<UserDto>> {
        let user = svc.me(&authz::enrolling(req)?.id).await?;
        Ok(Json(user.into()))
    }

    /// Edits the signed-in user.
    #[oai(
        path = "/v1/me",
        method = "patch",
        operation_id = "update_me",
        tag = "Tag::Me"
    )]
    async fn update_me(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        body: JsonBody<UpdateMeRequest>,
    ) -> ApiResult<Json<UserDto>> {
        let user = svc
            .update_me(
                &authz::signed_in(req)?.id,
                body.0.name.as_deref(),
                body.0.phone.as_deref(),
            )
            .await?;
        Ok(Json(user.into()))
    }

    /// Erases the signed-in customer's personal data; orders keep what the law requires.
    #[oai(
        path = "/v1/me",
        method = "delete",
        operation_id = "delete_me",
        tag = "Tag::Me"
    )]
    async fn delete_me(&self, svc: Data<&IdentityService>, req: &Request) -> ApiResult<Done> {
        svc.erase(&authz::signed_in(req)?.id).await?;
        Ok(Done::NoContent)
    }

    /// Everything Weft's identity service holds about the signed-in customer.
    #[oai(
        path = "/v1/me/export",
        method = "get",
        operation_id = "export_me",
        tag = "Tag::Me"
    )]
    async fn export(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
    ) -> ApiResult<Json<DataExport>> {
        let export = svc.export(&authz::signed_in(req)?.id).await?;
        Ok(Json(DataExport {
            exported_at: export.exported_at,
            user: export.user.into(),
            addresses: export.addresses.into_iter().map(Into::into).collect(),
            sessions: export
                .sessions
                .into_iter()
                .map(|s| SessionDto {
                    created_at: s.created_at,
                    expires_at: s.expires_at,
                    revoked_at: s.revoked_at,
                })
                .collect(),
            linked_accounts: export
                .linked_accounts
                .into_iter()
                .map(|l| LinkedAccountDto {
                    provider: l.provider,
                    subject: l.subject,
                    linked_at: l.linked_at,
                })
                .collect(),
            mfa_enabled_at: export.mfa_enabled_at,
            recovery_codes_left: export.recovery_codes_left,
        }))
    }

    /// Starts TOTP enrolment: a secret and an `otpauth://` URI.
    #[oai(
        path = "/v1/me/mfa/totp",
        method = "post",
        operation_id = "start_totp",
        tag = "Tag::Me"
    )]
    async fn start_totp(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
    ) -> ApiResult<EnrolmentStarted> {
        let enrolment = svc.start_totp(&authz::enrolling(req)?.id).await?;
        Ok(EnrolmentStarted::Created(Json(TotpEnrolment {
            secret: enrolment.secret,
            otpauth_uri: enrolment.otpauth_uri,
        })))
    }

    /// Confirms enrolment with a current code; answers recovery codes and a new session.
    #[oai(
        path = "/v1/me/mfa/totp/verify",
        method = "post",
        operation_id = "verify_totp",
        tag = "Tag::Me"
    )]
    async fn verify_totp(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        body: JsonBody<VerifyTotpRequest>,
    ) -> ApiResult<Json<TotpEnabled>> {
        let enrolled = svc
            .verify_totp(&authz::enrolling(req)?.id, &body.0.code)
            .await?;
        Ok(Json(TotpEnabled {
            recovery_codes: enrolled.recovery_codes,
            session: session(enrolled.user, enrolled.tokens),
        }))
    }

    /// The signed-in customer's addresses.
    #[oai(
        path = "/v1/me/addresses",
        method = "get",
        operation_id = "list_addresses",
        tag = "Tag::Me"
    )]
    async fn list_addresses(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
    ) -> ApiResult<Json<AddressList>> {
        let list = svc.list_addresses(&authz::signed_in(req)?.id).await?;
        Ok(Json(AddressList {
            data: list.into_iter().map(Into::into).collect(),
        }))
    }

    /// Saves an address (validated: country, postal code format, required lines).
    #[oai(
        path = "/v1/me/addresses",
        method = "post",
        operation_id = "create_address",
        tag = "Tag::Me"
    )]
    async fn create_address(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        body: JsonBody<CreateAddressRequest>,
    ) -> ApiResult<AddressCreated> {
        let b = body.0;
        let address = PostalAddress {
            name: b.name,
            company: b.company,
            line1: b.line1,
            line2: b.line2,
            city: b.city,
            region: b.region,
            postal_code: b.postal_code,
            country: b.country,
            phone: b.phone,
        };
        let saved = svc
            .add_address(
                &authz::signed_in(req)?.id,
                &address,
                b.is_default.unwrap_or(false),
            )
            .await?;
        Ok(AddressCreated::Created(Json(saved.into())))
    }

    /// Edits one of the caller's addresses (another customer's id is a 404).
    #[oai(
        path = "/v1/me/addresses/:id",
        method = "patch",
        operation_id = "update_address",
        tag = "Tag::Me"
    )]
    async fn update_address(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<UpdateAddressRequest>,
    ) -> ApiResult<Json<AddressDto>> {
        let b = body.0;
        let patch = AddressPatch {
            name: b.name,
            company: b.company,
            line1: b.line1,
            line2: b.line2,
            city: b.city,
            region: b.region,
            postal_code: b.postal_code,
            country: b.country,
            phone: b.phone,
            is_default: b.is_default,
        };
        let saved = svc
            .update_address(&authz::signed_in(req)?.id, &id.0, patch)
            .await?;
        Ok(Json(saved.into()))
    }

    /// Deletes one of the caller's addresses.
    #[oai(
        path = "/v1/me/addresses/:id",
        method = "delete",
        operation_id = "delete_address",
        tag = "Tag::Me"
    )]
    async fn delete_address(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Done> {
        svc.delete_address(&authz::signed_in(req)?.id, &id.0)
            .await?;
        Ok(Done::NoContent)
    }
}

// --- admin -----------------------------------------------------------------------------

/// People, apps and keys.
#[derive(Debug, Clone, Copy, Default)]
pub struct AdminApi;

#[OpenApi(tag = "Tag::Admin")]
impl AdminApi {
    /// Every user, oldest first (admins, or apps with `customers:read`).
    #[oai(path = "/v1/admin/users", method = "get", operation_id = "list_users")]
    async fn list_users(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<UserPage>> {
        authz::staff(req, "customers:read")?;
        let page = page_request(limit.0, cursor.0.as_deref())?;
        let users = svc.list_users(&page).await?;
        Ok(Json(UserPage {
            data: users.data.into_iter().map(Into::into).collect(),
            next_cursor: users.next_cursor,
        }))
    }

    /// One user (admins, or apps with `customers:read`); 404 for an unknown or erased one.
    #[oai(
        path = "/v1/admin/users/:id",
        method = "get",
        operation_id = "get_user"
    )]
    async fn get_user(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<UserDto>> {
        authz::staff(req, "customers:read")?;
        Ok(Json(svc.user_by_id(&id.0).await?.into()))
    }

    /// Changes a user's role; their sessions end (admins only, not their own role).
    #[oai(
        path = "/v1/admin/users/:id",
        method = "patch",
        operation_id = "update_user"
    )]
    async fn update_user(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<UpdateUserRequest>,
    ) -> ApiResult<Json<UserDto>> {
        let actor = authz::admin(req)?;
        let role = Role::parse(&body.0.role).ok_or_else(|| {
            IdentityError::Invalid(vec![weft_kernel::FieldError::new(
                "role",
                "must be `customer` or `admin`",
            )])
        })?;
        let user = svc.set_role(&actor.id, &id.0, role).await?;
        Ok(Json(user.into()))
    }

    /// Registers a third-party app; its client secret is in this answer only.
    #[oai(path = "/v1/admin/apps", method = "post", operation_id = "create_app")]
    async fn create_app(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        body: JsonBody<CreateCredentialRequest>,
    ) -> ApiResult<AppCreatedResponse> {
        let actor = authz::admin(req)?;
        let (app, secret) = svc
            .create_app(&actor.id, &body.0.name, &body.0.scopes)
            .await?;
        Ok(AppCreatedResponse::Created(Json(AppCreated {
            app: app.into(),
            client_secret: secret,
        })))
    }

    /// Live apps.
    #[oai(path = "/v1/admin/apps", method = "get", operation_id = "list_apps")]
    async fn list_apps(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
    ) -> ApiResult<Json<AppList>> {
        authz::admin(req)?;
        let apps = svc.list_apps().await?;
        Ok(Json(AppList {
            data: apps.into_iter().map(Into::into).collect(),
        }))
    }

    /// Revokes an app; its tokens stop working at once.
    #[oai(
        path = "/v1/admin/apps/:id",
        method = "delete",
        operation_id = "revoke_app"
    )]
    async fn revoke_app(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Done> {
        let actor = authz::admin(req)?;
        svc.revoke_app(&actor.id, &id.0).await?;
        Ok(Done::NoContent)
    }

    /// Creates an API key; the key is in this answer only.
    #[oai(
        path = "/v1/admin/api-keys",
        method = "post",
        operation_id = "create_api_key"
    )]
    async fn create_api_key(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        body: JsonBody<CreateCredentialRequest>,
    ) -> ApiResult<ApiKeyCreatedResponse> {
        let actor = authz::admin(req)?;
        let (key, secret) = svc
            .create_api_key(&actor.id, &body.0.name, &body.0.scopes)
            .await?;
        Ok(ApiKeyCreatedResponse::Created(Json(ApiKeyCreated {
            api_key: key.into(),
            key: secret,
        })))
    }

    /// Live API keys, with when each was last used.
    #[oai(
        path = "/v1/admin/api-keys",
        method = "get",
        operation_id = "list_api_keys"
    )]
    async fn list_api_keys(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
    ) -> ApiResult<Json<ApiKeyList>> {
        authz::admin(req)?;
        let keys = svc.list_api_keys().await?;
        Ok(Json(ApiKeyList {
            data: keys.into_iter().map(Into::into).collect(),
        }))
    }

    /// Revokes an API key at once.
    #[oai(
        path = "/v1/admin/api-keys/:id",
        method = "delete",
        operation_id = "revoke_api_key"
    )]
    async fn revoke_api_key(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Done> {
        let actor = authz::admin(req)?;
        svc.revoke_api_key(&actor.id, &id.0).await?;
        Ok(Done::NoContent)
    }
}

// --- OAuth for apps ------------------------------------------------------------------

/// The token endpoint and the public keys.
#[derive(Debug, Clone, Copy, Default)]
pub struct OAuthApi;

#[OpenApi(tag = "Tag::OAuth")]
impl OAuthApi {
    /// OAuth 2.0 client credentials grant (RFC 6749 §4.4); errors per §5.2.
    #[oai(
        path = "/v1/oauth/token",
        method = "post",
        operation_id = "oauth_token"
    )]
    async fn token(
        &self,
        svc: Data<&IdentityService>,
        req: &Request,
        body: FormBody<TokenRequest>,
    ) -> TokenResponse {
        // Any unusable body (wrong content type, not a form, a field of the wrong
        // shape) is an RFC 6749 `invalid_request`, never a problem+json.
        let form = match body.0 {
            Ok(form) => form,
            Err(why) => {
                return TokenResponse::BadRequest(
                    Json(OAuthError {
                        error: "invalid_request".to_owned(),
                        error_description: why,
                    }),
                    "no-store".to_owned(),
                );
            }
        };
        let credentials = match (basic_credentials(req), &form.client_id, &form.client_secret) {
            (Some(Err(e)), _, _) => return oauth_error(e),
            (Some(Ok(_)), _, Some(_)) => {
                return oauth_error(GrantError::InvalidRequest(
                    "use one client authentication method, not two",
                ));
            }
            (Some(Ok(pair)), _, None) => pair,
            (None, Some(id), Some(secret)) => (id.clone(), secret.clone()),
            (None, _, _) => return oauth_error(GrantError::InvalidClient),
        };
        match form.grant_type.as_deref() {
            Some("client_credentials") => {}
            Some(_) => return oauth_error(GrantError::UnsupportedGrantType),
            None => return oauth_error(GrantError::InvalidRequest("grant_type is required")),
        }
        match svc
            .client_credentials(&credentials.0, &credentials.1, form.scope.as_deref())
            .await
        {
            Ok(grant) => TokenResponse::Granted(
                Json(TokenGrant {
                    access_token: grant.access_token,
                    token_type: "Bearer".to_owned(),
                    expires_in: grant.expires_in,
                    scope: grant.scope,
                }),
                "no-store".to_owned(),
                "no-cache".to_owned(),
            ),
            Err(e) => oauth_error(e),
        }
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
