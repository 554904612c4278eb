//! Third-party access: apps that trade a client id and secret for scoped access tokens
//! (OAuth 2.0 client credentials, RFC 6749 §4.4), and API keys (`wk_live_…`). Secrets and
//! keys are random (256 bits), shown once and stored as SHA-256 digests: a slow password
//! hash adds nothing to a secret nobody chose. Revoking either takes effect at once: the
//! authenticator checks liveness through the platform cache, which revocation clears.

use std::time::Duration;

use chrono::{DateTime, Utc};
use subtle::ConstantTimeEq;
use weft_http::Principal;
use weft_http::authz::SCOPES;
use weft_kernel::FieldError;
use weft_storage::DbConn;

use crate::error::IdentityError;
use crate::service::{ACCESS_TOKEN_SECONDS, IdentityService, digest, random_token};
use crate::store::{self, ApiKeyRow, AppRow};

pub const API_KEY_PREFIX: &str = "wk_live_";
/// How long a liveness answer is cached; revocation clears it sooner.
const LIVENESS_TTL: Duration = Duration::from_mins(1);
/// API key uses are recorded at most this often per key.
const TOUCH_EVERY: Duration = Duration::from_mins(1);

/// An app as admins see it (never its secret).
#[derive(Debug, Clone)]
pub struct App {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// An API key as admins see it (only its prefix).
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Why the token endpoint refused, as RFC 6749 §5.2 names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantError {
    InvalidRequest(&'static str),
    InvalidClient,
    UnsupportedGrantType,
    InvalidScope,
}

/// A granted client-credentials token.
#[derive(Debug, Clone)]
pub struct Grant {
    pub access_token: String,
    pub expires_in: i64,
    pub scope: String,
}

/// Checks a requested scope list: known scopes, at least one, no repeats kept.
fn parse_scopes(scopes: &[String]) -> Result<Vec<String>, IdentityError> {
    let mut errors = Vec::new();
    let mut out: Vec<String> = Vec::new();
    for (i, scope) in scopes.iter().enumerate() {
        if !SCOPES.contains(&scope.as_str()) {
            errors.push(FieldError::new(
                format!("scopes[{i}]"),
                format!("is not a scope; known: {}", SCOPES.join(", ")),
            ));
        } else if !out.contains(scope) {
            out.push(scope.clone());
        }
    }
    if scopes.is_empty() {
        errors.push(FieldError::new("scopes", "must name at least one scope"));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(IdentityError::Invalid(errors))
    }
}

fn parse_name(name: &str) -> Result<String, IdentityError> {
    crate::domain::Name::parse(name)
        .map(|n| n.as_str().to_owned())
        .map_err(|e| IdentityError::Invalid(vec![e]))
}

fn split_scopes(scopes: &str) -> Vec<String> {
    scopes.split_whitespace().map(str::to_owned).collect()
}

fn app_key(id: &str) -> String {
    format!("identity:app-live:{id}")
}

fn api_key_key(hash: &str) -> String {
    format!("identity:api-key:{hash}")
}

impl From<AppRow> for App {
    fn from(row: AppRow) -> Self {
        Self {
            scopes: split_scopes(&row.scopes),
            id: row.id,
            name: row.name,
            client_id: row.client_id,
            created_at: row.created_at.and_utc(),
        }
    }
}

impl From<ApiKeyRow> for ApiKey {
    fn from(row: ApiKeyRow) -> Self {
        Self {
            scopes: split_scopes(&row.scopes),
            id: row.id,
            name: row.name,
            prefix: row.prefix,
            created_at: row.created_at.and_utc(),
            last_used_at: row.last_used_at.map(|t| t.and_utc()),
        }
    }
}

/// What the authenticator caches about an API key.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct KeyGrant {
    id: String,
    scopes: Vec<String>,
}

impl IdentityService {
    /// Registers an app; the secret is in the answer and nowhere else.
    pub async fn create_app(
        &self,
        actor: &str,
        name: &str,
        scopes: &[String],
    ) -> Result<(App, String), IdentityError> {
        let (name, scopes) = match (parse_name(name), parse_scopes(scopes)) {
            (Ok(n), Ok(s)) => (n, s),
            (n, s) => {
                let mut errors = Vec::new();
                for e in [n.err(), s.err()].into_iter().flatten() {
                    if let IdentityError::Invalid(fields) = e {
                        errors.extend(fields);
                    }
                }
                return Err(IdentityError::Invalid(errors));
            }
        };
        let secret = format!("wcs_{}", random_token()?);
        let row = AppRow {
            id: format!("app_{}", uuid::Uuid::now_v7().simple()),
            name,
            client_id: format!("wc_{}", uuid::Uuid::new_v4().simple()),
            secret_hash: digest(&secret),
            scopes: scopes.join(" "),
            created_by: actor.to_owned(),
            created_at: self.clock.now().naive_utc(),
            revoked_at: None,
        };
        self.db
            .transaction(async |conn: &mut DbConn| store::insert_app(conn, &row).await)
            .await?;
        tracing::info!(app_id = %row.id, %actor, "app created");
        Ok((App::from(row), secret))
    }

    pub async fn list_apps(&self) -> Result<Vec<App>, IdentityError> {
        let mut conn = self.db.conn().await?;
        Ok(store::list_apps(&mut conn)
            .await?
            .into_iter()
            .map(App::from)
            .collect())
    }

    /// Revokes an app: its tokens stop working at once.
    pub async fn revoke_app(&self, actor: &str, id: &str) -> Result<(), IdentityError> {
        let now = self.clock.now().naive_utc();
        let revoked = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let revoked = store::revoke_app(conn, id, now).await?;
                if revoked {
                    announce_revoked(conn, id, now).await?;
                }
                Ok::<_, IdentityError>(revoked)
            })
            .await?;
        if !revoked {
            return Err(IdentityError::AppNotFound);
        }
        self.bus.wake();
        self.cache.invalidate(&app_key(id)).await;
        tracing::info!(app_id = %id, %actor, "app revoked");
        Ok(())
    }

    /// The client-credentials grant: checks the client and the requested scopes (a
    /// subset of the app's; all of them when none are asked for).
    pub async fn client_credentials(
        &self,
        client_id: &str,
        client_secret: &str,
        scope: Option<&str>,
    ) -> Result<Grant, GrantError> {
        let app = {
            let mut conn =
                self.db.conn().await.map_err(|_| {
                    GrantError::InvalidRequest("the server could not check the client")
                })?;
            store::find_app_by_client_id(&mut conn, client_id)
                .await
                .map_err(|_| GrantError::InvalidRequest("the server could not check the client"))?
        };
        let secret_hash = digest(client_secret);
        let Some(app) = app.filter(|a| {
            a.revoked_at.is_none()
                && bool::from(a.secret_hash.as_bytes().ct_eq(secret_hash.as_bytes()))
        }) else {
            return Err(GrantError::InvalidClient);
        };
        let granted = split_scopes(&app.scopes);
        let scopes = match scope.map(split_scopes) {
            Some(asked) if !asked.is_empty() => {
                if asked.iter().any(|s| !granted.contains(s)) {
                    return Err(GrantError::InvalidScope);
                }
                asked
            }
            _ => granted,
        };
        let scope = scopes.join(" ");
        let access_token = self
            .sign_access(&app.id, None, Some(&scope), false)
            .map_err(|_| GrantError::InvalidRequest("the server could not sign a token"))?;
        Ok(Grant {
            access_token,
            expires_in: ACCESS_TOKEN_SECONDS,
            scope,
        })
    }

    /// Whether the app `id` exists and is not revoked (cached briefly).
    pub(crate) async fn app_is_active(&self, id: &str) -> bool {
        let loaded = self
            .cache
            .get_or_load(&app_key(id), LIVENESS_TTL, async || {
                let mut conn = self.db.conn().await?;
                Ok::<_, IdentityError>(
                    store::find_app(&mut conn, id)
                        .await?
                        .is_some_and(|a| a.revoked_at.is_none()),
                )
            })
            .await;
        loaded.unwrap_or_else(|err| {
            tracing::warn!(error = %err, "could not check an app");
            false
        })
    }

    /// Creates an API key; the key is in the answer and nowhere else.
    pub async fn create_api_key(
        &self,
        actor: &str,
        name: &str,
        scopes: &[String],
    ) -> Result<(ApiKey, String), IdentityError> {
        let (name, scopes) = match (parse_name(name), parse_scopes(scopes)) {
            (Ok(n), Ok(s)) => (n, s),
            (n, s) => {
                let mut errors = Vec::new();
                for e in [n.err(), s.err()].into_iter().flatten() {
                    if let IdentityError::Invalid(fields) = e {
                        errors.extend(fields);
                    }
                }
                return Err(IdentityError::Invalid(errors));
            }
        };
        let key = format!("{API_KEY_PREFIX}{}", random_token()?);
        let row = ApiKeyRow {
            id: format!("key_{}", uuid::Uuid::now_v7().simple()),
            name,
            prefix: key.chars().take(API_KEY_PREFIX.len() + 4).collect(),
            key_hash: digest(&key),
            scopes: scopes.join(" "),
            created_by: actor.to_owned(),
            created_at: self.clock.now().naive_utc(),
            last_used_at: None,
            revoked_at: None,
        };
        self.db
            .transaction(async |conn: &mut DbConn| store::insert_api_key(conn, &row).await)
            .await?;
        tracing::info!(key_id = %row.id, %actor, "API key created");
        Ok((ApiKey::from(row), key))
    }

    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>, IdentityError> {
        let mut conn = self.db.conn().await?;
        Ok(store::list_api_keys(&mut conn)
            .await?
            .into_iter()
            .map(ApiKey::from)
            .collect())
    }

    /// Revokes an API key; the next request with it is a guest's.
    pub async fn revoke_api_key(&self, actor: &str, id: &str) -> Result<(), IdentityError> {
        let now = self.clock.now().naive_utc();
        let row = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let row = store::revoke_api_key(conn, id, now).await?;
                if row.is_some() {
                    announce_revoked(conn, id, now).await?;
                }
                Ok::<_, IdentityError>(row)
            })
            .await?
            .ok_or(IdentityError::ApiKeyNotFound)?;
        self.bus.wake();
        self.cache.invalidate(&api_key_key(&row.key_hash)).await;
        tracing::info!(key_id = %id, %actor, "API key revoked");
        Ok(())
    }

    /// The app behind an API key, if the key is live; records the use (once a minute).
    pub async fn principal_for_api_key(&self, key: &str) -> Option<Principal> {
        let hash = digest(key);
        let grant: KeyGrant = self
            .cache
            .get_or_load::<Option<KeyGrant>, _, _, _>(
                &api_key_key(&hash),
                LIVENESS_TTL,
                async || {
                    let mut conn = self.db.conn().await?;
                    Ok::<_, IdentityError>(
                        store::find_api_key_by_hash(&mut conn, &hash)
                            .await?
                            .filter(|k| k.revoked_at.is_none())
                            .map(|k| KeyGrant {
                                scopes: split_scopes(&k.scopes),
                                id: k.id,
                            }),
                    )
                },
            )
            .await
            .unwrap_or_else(|err| {
                tracing::warn!(error = %err, "could not check an API key");
                None
            })?;
        self.touch_api_key(&grant.id).await;
        Some(Principal::app(grant.id, grant.scopes))
    }

    async fn touch_api_key(&self, id: &str) {
        let first_this_minute = self
            .cache
            .increment(&format!("identity:api-key-used:{id}"), TOUCH_EVERY)
            .await
            .is_none_or(|n| n == 1);
        if !first_this_minute {
            return;
        }
        let now = self.clock.now();
        let not_since =
            (now - chrono::Duration::from_std(TOUCH_EVERY).unwrap_or_default()).naive_utc();
        let written = self
            .db
            .transaction(async |conn: &mut DbConn| {
                store::touch_api_key(conn, id, now.naive_utc(), not_since).await
            })
            .await;
        if let Err(err) = written {
            tracing::warn!(error = %err, key_id = %id, "could not record an API key use");
        }
    }
}

/// Tells other services (webhooks) that `credential_id` is revoked, inside the revoking
/// transaction.
async fn announce_revoked(
    conn: &mut DbConn,
    credential_id: &str,
    at: chrono::NaiveDateTime,
) -> Result<(), IdentityError> {
    weft_bus::append(
        conn,
        &weft_bus::events::CredentialRevoked {
            credential_id: credential_id.to_owned(),
            revoked_at: at.and_utc(),
        },
    )
    .await?;
    Ok(())
}
