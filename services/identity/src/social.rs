//! Social sign-in: OAuth 2.0 authorization code with PKCE (RFC 7636) and a single-use
//! `state`, through the `oauth2` crate, then the provider's userinfo endpoint. Accounts are
//! found by the provider's subject, else linked by a verified email, else created.
//!
//! Google is OpenID Connect (`sub`, `email_verified`); Facebook's Graph API answers `id`
//! and only ever returns confirmed emails. Both run on any provider whose endpoints are
//! configured, which is how the tests run them against a real local OIDC provider.

use std::collections::HashMap;
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use weft_bus::events::UserRegistered;
use weft_http::Role;
use weft_kernel::id::PrefixedId as _;
use weft_storage::DbConn;

use crate::error::IdentityError;
use crate::service::{IdentityService, Tokens, User, digest, random_token};
use crate::store::{self, LinkRow, StateRow, UserRow};

/// A sign-in attempt must come back within this long.
const STATE_TTL_MINUTES: i64 = 10;
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// One provider's client registration and endpoints.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_url: String,
    pub auth_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    pub scopes: Vec<String>,
    /// Send the client secret in the form body rather than HTTP Basic (Facebook).
    pub secret_in_body: bool,
    /// The provider only returns confirmed emails, without an `email_verified` claim.
    pub emails_always_verified: bool,
}

/// Optional overrides of a provider's defaults.
#[derive(Debug, Clone, Default)]
pub struct ProviderOverrides {
    pub auth_url: Option<String>,
    pub token_url: Option<String>,
    pub userinfo_url: Option<String>,
    pub scopes: Option<Vec<String>>,
}

impl ProviderConfig {
    pub fn google(
        client_id: String,
        client_secret: String,
        redirect_url: String,
        o: ProviderOverrides,
    ) -> Self {
        Self {
            client_id,
            client_secret,
            redirect_url,
            auth_url: o
                .auth_url
                .unwrap_or_else(|| "https://accounts.google.com/o/oauth2/v2/auth".to_owned()),
            token_url: o
                .token_url
                .unwrap_or_else(|| "https://oauth2.googleapis.com/token".to_owned()),
            userinfo_url: o
                .userinfo_url
                .unwrap_or_else(|| "https://openidconnect.googleapis.com/v1/userinfo".to_owned()),
            scopes: o
                .scopes
                .unwrap_or_else(|| vec!["openid".into(), "email".into(), "profile".into()]),
            secret_in_body: false,
            emails_always_verified: false,
        }
    }

    pub fn facebook(
        client_id: String,
        client_secret: String,
        redirect_url: String,
        o: ProviderOverrides,
    ) -> Self {
        Self {
            client_id,
            client_secret,
            redirect_url,
            auth_url: o
                .auth_url
                .unwrap_or_else(|| "https://www.facebook.com/v19.0/dialog/oauth".to_owned()),
            token_url: o.token_url.unwrap_or_else(|| {
                "https://graph.facebook.com/v19.0/oauth/access_token".to_owned()
            }),
            userinfo_url: o
                .userinfo_url
                .unwrap_or_else(|| "https://graph.facebook.com/me?fields=id,name,email".to_owned()),
            scopes: o
                .scopes
                .unwrap_or_else(|| vec!["email".into(), "public_profile".into()]),
            secret_in_body: true,
            emails_always_verified: true,
        }
    }
}

/// The configured providers, by name (`google`, `facebook`).
#[derive(Debug, Clone)]
pub struct Providers {
    http: reqwest::Client,
    providers: HashMap<String, ProviderConfig>,
}

impl Default for Providers {
    fn default() -> Self {
        Self::new(HashMap::new())
    }
}

impl Providers {
    pub fn new(providers: HashMap<String, ProviderConfig>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(PROVIDER_TIMEOUT)
            // Following redirects from a token endpoint would open an SSRF hole.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { http, providers }
    }

    pub fn names(&self) -> Vec<&str> {
        self.providers.keys().map(String::as_str).collect()
    }
}

/// `oauth2`'s HTTP client trait over the process's reqwest client (the crate's own
/// reqwest integration would pull a second reqwest major into the build).
struct Http<'a>(&'a reqwest::Client);

impl<'c> oauth2::AsyncHttpClient<'c> for Http<'_> {
    type Error = reqwest::Error;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<oauth2::HttpResponse, reqwest::Error>> + Send + 'c>,
    >;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await?;
            let mut out = http::Response::builder().status(response.status());
            for (name, value) in response.headers() {
                out = out.header(name, value);
            }
            let bytes = response.bytes().await?;
            Ok(out.body(bytes.to_vec()).unwrap_or_default())
        })
    }
}

/// What a provider tells about the person.
#[derive(Debug, Clone)]
struct Profile {
    subject: String,
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
}

fn parse_profile(v: &serde_json::Value, always_verified: bool) -> Option<Profile> {
    let subject = match (&v["sub"], &v["id"]) {
        (serde_json::Value::String(s), _) | (_, serde_json::Value::String(s)) => s.clone(),
        (_, serde_json::Value::Number(n)) => n.to_string(),
        _ => return None,
    };
    let email = v["email"].as_str().map(str::to_owned);
    let email_verified = match &v["email_verified"] {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => s == "true",
        _ => always_verified && email.is_some(),
    };
    Some(Profile {
        subject,
        email,
        email_verified,
        name: v["name"].as_str().map(str::to_owned),
    })
}

/// A customer who signed up through a provider: no password until they set one (with a
/// password reset), and the address verified, since only a provider that vouches for it
/// gets this far.
async fn create_customer(
    conn: &mut DbConn,
    email: &crate::domain::Email,
    name: Option<&str>,
    now: chrono::NaiveDateTime,
) -> Result<UserRow, IdentityError> {
    let row = UserRow {
        id: crate::domain::UserId::generate().to_string(),
        email: email.as_str().to_owned(),
        name: name.map_or_else(
            || {
                email
                    .as_str()
                    .split('@')
                    .next()
                    .unwrap_or("customer")
                    .to_owned()
            },
            str::to_owned,
        ),
        // Not a PHC string: no password matches it.
        password_hash: "!social".to_owned(),
        role: Role::Customer.as_str().to_owned(),
        created_at: now,
        updated_at: now,
        phone_sealed: None,
        erased_at: None,
        email_verified_at: Some(now),
    };
    if !store::insert_user(conn, &row).await? {
        return Err(IdentityError::EmailTaken);
    }
    weft_bus::append(
        conn,
        &UserRegistered {
            user_id: row.id.clone(),
            email: row.email.clone(),
            name: row.name.clone(),
        },
    )
    .await?;
    Ok(row)
}

impl IdentityService {
    /// The configured social sign-in providers' names, sorted (`facebook`, `google`).
    pub fn social_providers(&self) -> Vec<String> {
        let mut names: Vec<String> = self.social.providers.keys().cloned().collect();
        names.sort();
        names
    }

    fn provider(&self, name: &str) -> Result<&ProviderConfig, IdentityError> {
        self.social
            .providers
            .get(name)
            .ok_or_else(|| IdentityError::UnknownProvider(name.to_owned()))
    }

    /// Starts a sign-in: the URL to send the browser to. `login_hint` pre-fills the
    /// provider's account chooser.
    pub async fn oauth_start(
        &self,
        provider: &str,
        login_hint: Option<&str>,
    ) -> Result<String, IdentityError> {
        let config = self.provider(provider)?;
        let bad_config =
            |e: &dyn std::fmt::Display| IdentityError::Internal(format!("social.{provider}: {e}"));
        let client = BasicClient::new(ClientId::new(config.client_id.clone()))
            .set_auth_uri(AuthUrl::new(config.auth_url.clone()).map_err(|e| bad_config(&e))?)
            .set_redirect_uri(
                RedirectUrl::new(config.redirect_url.clone()).map_err(|e| bad_config(&e))?,
            );
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = random_token()?;
        let mut request = client
            .authorize_url(|| CsrfToken::new(state.clone()))
            .set_pkce_challenge(challenge);
        for scope in &config.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        if let Some(hint) = login_hint.filter(|h| !h.is_empty()) {
            request = request.add_extra_param("login_hint", hint.to_owned());
        }
        let (url, _) = request.url();
        let state_hash = digest(&state);
        let now = self.clock.now();
        let row = StateRow {
            verifier_sealed: self.sealer.seal_str(verifier.secret(), &state_hash)?,
            state_hash,
            provider: provider.to_owned(),
            expires_at: (now + chrono::Duration::minutes(STATE_TTL_MINUTES)).naive_utc(),
        };
        self.db
            .transaction(async |conn: &mut DbConn| {
                store::delete_states_before(conn, now.naive_utc()).await?;
                store::insert_state(conn, &row).await
            })
            .await?;
        Ok(url.to_string())
    }

    /// Finishes a sign-in from the provider's redirect.
    pub async fn oauth_callback(
        &self,
        provider: &str,
        code: Option<&str>,
        state: Option<&str>,
        error: Option<&str>,
    ) -> Result<(User, Tokens), IdentityError> {
        let config = self.provider(provider)?.clone();
        // The state is spent whatever happens next: a callback is good once.
        let state_hash = digest(state.ok_or(IdentityError::BadOAuthState)?);
        let now = self.clock.now();
        let row = self
            .db
            .transaction(async |conn: &mut DbConn| store::take_state(conn, &state_hash).await)
            .await?
            .filter(|r| r.provider == provider && r.expires_at > now.naive_utc())
            .ok_or(IdentityError::BadOAuthState)?;
        if let Some(error) = error {
            return Err(IdentityError::OAuthDenied(error.to_owned()));
        }
        let code = code.ok_or_else(|| IdentityError::OAuthDenied("no code".to_owned()))?;
        let verifier = self.sealer.open_str(&row.verifier_sealed, &state_hash)?;
        let profile = self.fetch_profile(&config, code, verifier).await?;
        self.sign_in_with(provider, profile).await
    }

    async fn fetch_profile(
        &self,
        config: &ProviderConfig,
        code: &str,
        verifier: String,
    ) -> Result<Profile, IdentityError> {
        let bad_config =
            |e: &dyn std::fmt::Display| IdentityError::Internal(format!("social: {e}"));
        let client = BasicClient::new(ClientId::new(config.client_id.clone()))
            .set_client_secret(ClientSecret::new(config.client_secret.clone()))
            .set_token_uri(TokenUrl::new(config.token_url.clone()).map_err(|e| bad_config(&e))?)
            .set_redirect_uri(
                RedirectUrl::new(config.redirect_url.clone()).map_err(|e| bad_config(&e))?,
            )
            .set_auth_type(if config.secret_in_body {
                AuthType::RequestBody
            } else {
                AuthType::BasicAuth
            });
        let http = &self.social.http;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&Http(http))
            .await
            .map_err(|e| match e {
                oauth2::RequestTokenError::ServerResponse(r) => {
                    IdentityError::OAuthDenied(r.error().to_string())
                }
                other => IdentityError::Provider(other.to_string()),
            })?;
        let response = http
            .get(&config.userinfo_url)
            .bearer_auth(token.access_token().secret())
            .send()
            .await
            .map_err(|e| IdentityError::Provider(e.to_string()))?;
        if !response.status().is_success() {
            return Err(IdentityError::Provider(format!(
                "userinfo answered {}",
                response.status()
            )));
        }
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|e| IdentityError::Provider(format!("userinfo: {e}")))?;
        parse_profile(&body, config.emails_always_verified)
            .ok_or_else(|| IdentityError::Provider("userinfo has no subject".to_owned()))
    }

    /// The account for a provider's profile: linked, or linked now by verified email,
    /// or new.
    async fn sign_in_with(
        &self,
        provider: &str,
        profile: Profile,
    ) -> Result<(User, Tokens), IdentityError> {
        let email = profile
            .email
            .as_deref()
            .and_then(|e| crate::domain::Email::parse(e).ok());
        let name = profile
            .name
            .as_deref()
            .and_then(|n| crate::domain::Name::parse(n).ok())
            .map(|n| n.as_str().to_owned());
        let now = self.clock.now().naive_utc();
        let (user, tokens, created) = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let linked = match store::find_link(conn, provider, &profile.subject).await? {
                    Some(link) => store::find_user_by_id(conn, &link.user_id).await?,
                    None => None,
                };
                let (row, created) = if let Some(row) = linked {
                    (row, false)
                } else {
                    let (Some(email), true) = (&email, profile.email_verified) else {
                        return Err(IdentityError::EmailNotVerified);
                    };
                    let (row, created) =
                        match store::find_user_by_email(conn, email.as_str()).await? {
                            Some(mut row) => {
                                // The provider vouches that this person reads the address.
                                if store::mark_email_verified(conn, &row.id, email.as_str(), now)
                                    .await?
                                {
                                    row.email_verified_at = Some(now);
                                }
                                (row, false)
                            }
                            None => (
                                create_customer(conn, email, name.as_deref(), now).await?,
                                true,
                            ),
                        };
                    store::insert_link(
                        conn,
                        &LinkRow {
                            provider: provider.to_owned(),
                            subject: profile.subject.clone(),
                            user_id: row.id.clone(),
                            created_at: now,
                        },
                    )
                    .await?;
                    (row, created)
                };
                if row.erased_at.is_some() {
                    return Err(IdentityError::Unauthenticated);
                }
                // A second factor cannot ride along a redirect: accounts that need one
                // (every admin) sign in with their password and code.
                let needs_second_factor = row.role == Role::Admin.as_str()
                    || store::find_totp(conn, &row.id)
                        .await?
                        .is_some_and(|t| t.enabled_at.is_some());
                if needs_second_factor {
                    return Err(IdentityError::TotpRequired);
                }
                let tokens = self.issue(conn, &row, None).await?;
                Ok((self.user(row)?, tokens, created))
            })
            .await?;
        if created {
            self.bus.wake();
        }
        tracing::info!(user_id = %user.id, %provider, created, "signed in with a provider");
        Ok((user, tokens))
    }
}
