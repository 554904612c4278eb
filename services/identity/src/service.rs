//! Identity's use cases: register, log in, refresh, log out, read and edit oneself.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use weft_bus::Bus;
use weft_bus::events::{AccountLocked, UserRegistered};
use weft_cache::Cache;
use weft_http::{Principal, Role};
use weft_kernel::id::PrefixedId;
use weft_kernel::{Clock, FieldError, Page, PageRequest};
use weft_secrets::Sealer;
use weft_storage::{Db, DbConn};

use crate::account_tokens;
use crate::domain::{Email, Name, Password, TokenPurpose, UserId};
use crate::error::IdentityError;
use crate::keys::SigningKeys;
use crate::passwords;
use crate::store::{self, RefreshRow, UserRow};
use crate::throttle::{EmailThrottle, LoginThrottle};

pub const ACCESS_TOKEN_SECONDS: i64 = 15 * 60;
pub const REFRESH_TOKEN_DAYS: i64 = 7;
const ISSUER: &str = "weft";
const AUDIENCE: &str = "weft";

/// A user as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub name: String,
    pub role: Role,
    /// Decrypted for the owner; `None` when unset.
    pub phone: Option<String>,
    /// Whether the holder proved they read mail at `email` (a verification link, a
    /// password reset, or a sign-in provider that vouches for the address).
    pub email_verified: bool,
    pub created_at: DateTime<Utc>,
}

/// The associated data a user's phone is sealed under: it only opens in its own row.
pub(crate) fn phone_aad(user_id: &str) -> String {
    format!("{user_id}/phone")
}

/// A fresh pair of tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in: i64,
}

/// The claims of an access token: a user's (`role`) or an app's (`scope`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Space-separated scopes (RFC 8693 §4.2), for apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// An admin who must enrol TOTP before anything else.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub mfa_pending: bool,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// The identity service of this process.
#[derive(Clone)]
pub struct IdentityService {
    pub(crate) db: Db,
    pub(crate) bus: Bus,
    pub(crate) cache: Cache,
    pub(crate) keys: Arc<SigningKeys>,
    pub(crate) sealer: Arc<Sealer>,
    pub(crate) clock: Clock,
    /// A real hash of nothing anyone knows: unknown emails are checked against it so a
    /// failed login costs the same time whether or not the account exists.
    dummy_hash: Arc<String>,
    pub(crate) throttle: LoginThrottle,
    pub(crate) mail_throttle: EmailThrottle,
    pub(crate) social: Arc<crate::social::Providers>,
}

impl std::fmt::Debug for IdentityService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityService")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

pub(crate) fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            use std::fmt::Write as _;
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// Parses the three account fields, reporting every invalid one at once.
fn parse_account(
    email: &str,
    password: &str,
    name: &str,
) -> Result<(Email, Password, Name), IdentityError> {
    let email = Email::parse(email);
    let password = Password::parse(password, email.as_ref().ok());
    let name = Name::parse(name);
    match (email, password, name) {
        (Ok(e), Ok(p), Ok(n)) => Ok((e, p, n)),
        (e, p, n) => Err(IdentityError::Invalid(
            [e.err(), p.err(), n.err()].into_iter().flatten().collect(),
        )),
    }
}

pub(crate) fn random_token() -> Result<String, IdentityError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| IdentityError::Internal(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

impl IdentityService {
    pub async fn new(
        db: Db,
        bus: Bus,
        cache: Cache,
        keys: SigningKeys,
        sealer: Sealer,
        social: crate::social::Providers,
        clock: Clock,
    ) -> Result<Self, IdentityError> {
        let dummy_hash = passwords::hash(random_token()?).await?;
        Ok(Self {
            db,
            bus,
            throttle: LoginThrottle::new(cache.clone()),
            mail_throttle: EmailThrottle::new(cache.clone()),
            cache,
            keys: Arc::new(keys),
            sealer: Arc::new(sealer),
            clock,
            dummy_hash: Arc::new(dummy_hash),
            social: Arc::new(social),
        })
    }

    /// The API view of a row, with its sealed fields opened.
    pub(crate) fn user(&self, row: UserRow) -> Result<User, IdentityError> {
        let phone = row
            .phone_sealed
            .as_deref()
            .map(|sealed| self.sealer.open_str(sealed, &phone_aad(&row.id)))
            .transpose()?;
        Ok(User {
            role: Role::parse(&row.role).unwrap_or(Role::Customer),
            phone,
            email_verified: row.email_verified_at.is_some(),
            id: row.id,
            email: row.email,
            name: row.name,
            created_at: row.created_at.and_utc(),
        })
    }

    pub fn keys(&self) -> &SigningKeys {
        &self.keys
    }

    /// Creates a customer account and signs it in; publishes `UserRegistered`, and
    /// `EmailVerificationRequested` with a link to confirm the address.
    #[tracing::instrument(skip_all)]
    pub async fn register(
        &self,
        email: &str,
        password: &str,
        name: &str,
    ) -> Result<(User, Tokens), IdentityError> {
        let (email, password, name) = parse_account(email, password, name)?;
        let row = self
            .new_row(&email, &password, &name, Role::Customer)
            .await?;
        let now = self.clock.now();
        let (user, tokens) = self
            .db
            .transaction(async |conn: &mut DbConn| {
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
                // In the same transaction: an account never exists without its link.
                account_tokens::issue(conn, &row, TokenPurpose::EmailVerification, now).await?;
                let tokens = self.issue(conn, &row, None).await?;
                Ok((self.user(row.clone())?, tokens))
            })
            .await?;
        self.bus.wake();
        tracing::info!(user_id = %user.id, "customer registered");
        Ok((user, tokens))
    }

    /// Creates an admin (from `weft admin create`); no event, no session.
    pub async fn create_admin(
        &self,
        email: &str,
        password: &str,
        name: &str,
    ) -> Result<User, IdentityError> {
        let (email, password, name) = parse_account(email, password, name)?;
        let row = self.new_row(&email, &password, &name, Role::Admin).await?;
        self.db
            .transaction(async |conn: &mut DbConn| {
                if !store::insert_user(conn, &row).await? {
                    return Err(IdentityError::EmailTaken);
                }
                self.user(row.clone())
            })
            .await
    }

    /// Users, oldest first, one page at a time (admins only; checked by the caller).
    pub async fn list_users(&self, page: &PageRequest) -> Result<Page<User>, IdentityError> {
        let after: Option<String> = page
            .cursor
            .as_ref()
            .map(weft_kernel::Cursor::decode::<String>)
            .transpose()
            .map_err(|_| {
                IdentityError::Invalid(vec![FieldError::new(
                    "cursor",
                    "is not a cursor this API issued",
                )])
            })?;
        let mut conn = self.db.conn().await?;
        let rows = store::list_users(&mut conn, after.as_deref(), page.fetch_size()).await?;
        let page = Page::from_rows(rows, page, |u| u.id.clone());
        Ok(Page {
            data: page
                .data
                .into_iter()
                .map(|row| self.user(row))
                .collect::<Result<_, _>>()?,
            next_cursor: page.next_cursor,
        })
    }

    /// One user, for the back office (an erased one is gone: 404).
    pub async fn user_by_id(&self, user_id: &str) -> Result<User, IdentityError> {
        self.live_user(user_id)
            .await?
            .ok_or(IdentityError::UserNotFound)
    }

    /// Changes a user's role (admins only; not their own). Their sessions end, so the
    /// new role applies from their next sign-in; access tokens already out keep the old
    /// role until they expire (15 minutes at most).
    pub async fn set_role(
        &self,
        actor: &str,
        user_id: &str,
        role: Role,
    ) -> Result<User, IdentityError> {
        if actor == user_id {
            return Err(IdentityError::OwnRole);
        }
        let now = self.clock.now().naive_utc();
        self.db
            .transaction(async |conn: &mut DbConn| {
                let mut row = store::find_user_by_id(conn, user_id)
                    .await?
                    .filter(|u| u.erased_at.is_none())
                    .ok_or(IdentityError::UserNotFound)?;
                if row.role != role.as_str() {
                    role.as_str().clone_into(&mut row.role);
                    row.updated_at = now;
                    store::update_user(conn, &row).await?;
                    store::revoke_user_sessions(conn, user_id, now).await?;
                    tracing::info!(%actor, %user_id, role = role.as_str(), "role changed");
                }
                self.user(row)
            })
            .await
    }

    async fn new_row(
        &self,
        email: &Email,
        password: &Password,
        name: &Name,
        role: Role,
    ) -> Result<UserRow, IdentityError> {
        let password_hash = passwords::hash(password.expose().to_owned()).await?;
        let now = self.clock.now().naive_utc();
        Ok(UserRow {
            id: UserId::generate().to_string(),
            email: email.as_str().to_owned(),
            name: name.as_str().to_owned(),
            password_hash,
            role: role.as_str().to_owned(),
            created_at: now,
            updated_at: now,
            phone_sealed: None,
            erased_at: None,
            email_verified_at: None,
        })
    }

    /// Signs in with email and password. Every failure is the same `BadCredentials`.
    #[tracing::instrument(skip_all)]
    pub async fn login(
        &self,
        email: &str,
        password: &str,
        totp_code: Option<&str>,
        ip: Option<std::net::IpAddr>,
    ) -> Result<(User, Tokens), IdentityError> {
        let throttle_key = Email::parse(email)
            .map_or_else(|_| email.trim().to_lowercase(), |e| e.as_str().to_owned());
        if let Some(wait) = self.throttle.blocked(&throttle_key, ip).await {
            return Err(IdentityError::Throttled(wait));
        }
        let found = match Email::parse(email) {
            Ok(email) => {
                let mut conn = self.db.conn().await?;
                store::find_user_by_email(&mut conn, email.as_str()).await?
            }
            Err(_) => None,
        };
        let phc = found.as_ref().map_or_else(
            || self.dummy_hash.as_ref().clone(),
            |u| u.password_hash.clone(),
        );
        let matches = passwords::verify(password.to_owned(), phc).await;
        if !matches {
            if self.throttle.failed(&throttle_key, ip).await
                && let Some(user) = &found
            {
                self.announce_lockout(user).await;
            }
            return Err(IdentityError::BadCredentials);
        }
        let Some(row) = found else {
            return Err(IdentityError::BadCredentials);
        };
        // The password was right; a second factor, when enrolled, must be too.
        if let Err(err) = self.check_second_factor(&row.id, totp_code).await {
            if matches!(err, IdentityError::BadTotp)
                && self.throttle.failed(&throttle_key, ip).await
            {
                self.announce_lockout(&row).await;
            }
            return Err(err);
        }
        self.throttle.succeeded(&throttle_key).await;
        let tokens = self
            .db
            .transaction(async |conn: &mut DbConn| self.issue(conn, &row, None).await)
            .await?;
        Ok((self.user(row)?, tokens))
    }

    /// Publishes `AccountLocked` so the holder hears of the attempts.
    async fn announce_lockout(&self, user: &UserRow) {
        let event = AccountLocked {
            user_id: user.id.clone(),
            email: user.email.clone(),
            locked_until: self.clock.now() + Duration::seconds(2),
        };
        let written = self
            .db
            .transaction(async |conn: &mut DbConn| weft_bus::append(conn, &event).await)
            .await;
        match written {
            Ok(_) => self.bus.wake(),
            Err(err) => tracing::warn!(error = %err, "could not record an account lockout"),
        }
        tracing::warn!(user_id = %user.id, "sign-in blocked after repeated failures");
    }

    /// Trades a refresh token for a new pair. Reusing a rotated token revokes its family.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, refresh_token: &str) -> Result<(User, Tokens), IdentityError> {
        let hash = digest(refresh_token);
        let now = self.clock.now().naive_utc();
        let outcome = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let Some(token) = store::find_refresh_token(conn, &hash).await? else {
                    return Ok(Err(IdentityError::BadRefreshToken));
                };
                if token.revoked_at.is_some() || token.expires_at <= now {
                    return Ok(Err(IdentityError::BadRefreshToken));
                }
                if token.rotated_at.is_some() || !store::mark_refresh_token_rotated(conn, &token.id, now).await? {
                    // A used token came back: whoever holds it, the session is compromised.
                    store::revoke_refresh_family(conn, &token.family_id, now).await?;
                    tracing::warn!(user_id = %token.user_id, family = %token.family_id, "refresh token reused; session revoked");
                    return Ok(Err(IdentityError::BadRefreshToken));
                }
                let Some(user) = store::find_user_by_id(conn, &token.user_id).await? else {
                    return Ok(Err(IdentityError::BadRefreshToken));
                };
                let tokens = self.issue(conn, &user, Some(&token.family_id)).await?;
                Ok::<_, IdentityError>(Ok((self.user(user)?, tokens)))
            })
            .await?;
        // The revocation above must commit even though the caller gets an error.
        outcome
    }

    /// Ends the session the refresh token belongs to.
    pub async fn logout(&self, refresh_token: &str) -> Result<(), IdentityError> {
        let hash = digest(refresh_token);
        let now = self.clock.now().naive_utc();
        self.db
            .transaction(async |conn: &mut DbConn| {
                if let Some(token) = store::find_refresh_token(conn, &hash).await? {
                    store::revoke_refresh_family(conn, &token.family_id, now).await?;
                }
                Ok::<_, IdentityError>(())
            })
            .await
    }

    pub async fn me(&self, user_id: &str) -> Result<User, IdentityError> {
        self.live_user(user_id)
            .await?
            .ok_or(IdentityError::Unauthenticated)
    }

    /// A user whose account is not erased.
    async fn live_user(&self, user_id: &str) -> Result<Option<User>, IdentityError> {
        let mut conn = self.db.conn().await?;
        store::find_user_by_id(&mut conn, user_id)
            .await?
            .filter(|u| u.erased_at.is_none())
            .map(|row| self.user(row))
            .transpose()
    }

    /// Edits the caller's name and phone (`Some("")` clears the phone).
    pub async fn update_me(
        &self,
        user_id: &str,
        name: Option<&str>,
        phone: Option<&str>,
    ) -> Result<User, IdentityError> {
        let name = name.map(Name::parse).transpose();
        let phone = phone.map(crate::domain::parse_phone).transpose();
        let (name, phone) = match (name, phone) {
            (Ok(n), Ok(p)) => (n, p),
            (n, p) => {
                return Err(IdentityError::Invalid(
                    [n.err(), p.err()].into_iter().flatten().collect(),
                ));
            }
        };
        let phone_sealed = phone
            .map(|p| {
                p.map(|p| self.sealer.seal_str(&p, &phone_aad(user_id)))
                    .transpose()
            })
            .transpose()?;
        let now = self.clock.now().naive_utc();
        self.db
            .transaction(async |conn: &mut DbConn| {
                let mut row = store::find_user_by_id(conn, user_id)
                    .await?
                    .filter(|u| u.erased_at.is_none())
                    .ok_or(IdentityError::Unauthenticated)?;
                if let Some(name) = &name {
                    name.as_str().clone_into(&mut row.name);
                }
                if let Some(sealed) = &phone_sealed {
                    row.phone_sealed.clone_from(sealed);
                }
                row.updated_at = now;
                store::update_user(conn, &row).await?;
                self.user(row)
            })
            .await
    }

    /// The principal a valid access token names, else `None`.
    pub async fn principal_for_token(&self, token: &str) -> Option<Principal> {
        let claims = self.verify_access(token)?;
        if claims.role.is_some() {
            return person(claims);
        }
        // An app's token is only as good as the app: revoking it stops its tokens at once.
        if !self.app_is_active(&claims.sub).await {
            return None;
        }
        let scopes = claims
            .scope
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        Some(Principal::app(claims.sub, scopes))
    }

    /// The claims of a valid access token signed by one of our keys, else `None`.
    pub fn verify_access(&self, token: &str) -> Option<AccessClaims> {
        decode_access(token, self.keys.verifying(&token_kid(token)?)?)
    }

    /// Signs an access token for `sub`, valid [`ACCESS_TOKEN_SECONDS`].
    pub(crate) fn sign_access(
        &self,
        sub: &str,
        role: Option<&str>,
        scope: Option<&str>,
        mfa_pending: bool,
    ) -> Result<String, IdentityError> {
        let now = self.clock.now();
        let claims = AccessClaims {
            sub: sub.to_owned(),
            role: role.map(str::to_owned),
            scope: scope.map(str::to_owned),
            mfa_pending,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now.timestamp(),
            exp: (now + Duration::seconds(ACCESS_TOKEN_SECONDS)).timestamp(),
        };
        let (kid, key) = self.keys.signing();
        let mut header = Header::new(Algorithm::EdDSA);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, &claims, key)
            .map_err(|e| IdentityError::Internal(e.to_string()))
    }

    /// Issues an access token and a refresh token (in `family`, or a new one) on `conn`.
    /// An admin without TOTP gets a token good for enrolment only.
    pub(crate) async fn issue(
        &self,
        conn: &mut DbConn,
        user: &UserRow,
        family: Option<&str>,
    ) -> Result<Tokens, IdentityError> {
        let now = self.clock.now();
        let mfa_pending = user.role == Role::Admin.as_str()
            && store::find_totp(conn, &user.id)
                .await?
                .is_none_or(|t| t.enabled_at.is_none());
        let access_token = self.sign_access(&user.id, Some(&user.role), None, mfa_pending)?;
        let refresh_token = random_token()?;
        let row = RefreshRow {
            id: format!("rtk_{}", uuid::Uuid::now_v7().simple()),
            user_id: user.id.clone(),
            family_id: family.map_or_else(
                || format!("rtf_{}", uuid::Uuid::now_v7().simple()),
                str::to_owned,
            ),
            token_hash: digest(&refresh_token),
            expires_at: (now + Duration::days(REFRESH_TOKEN_DAYS)).naive_utc(),
            rotated_at: None,
            revoked_at: None,
            created_at: now.naive_utc(),
        };
        store::insert_refresh_token(conn, &row).await?;
        Ok(Tokens {
            access_token,
            refresh_token,
            expires_in: ACCESS_TOKEN_SECONDS,
        })
    }
}

/// The key id of an EdDSA-signed token, else `None` (no other algorithm is ours).
pub(crate) fn token_kid(token: &str) -> Option<String> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if header.alg != Algorithm::EdDSA {
        return None;
    }
    header.kid
}

/// The claims of `token` if `key` signed it and it is one of our unexpired access tokens.
pub(crate) fn decode_access(token: &str, key: &jsonwebtoken::DecodingKey) -> Option<AccessClaims> {
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.leeway = 5;
    jsonwebtoken::decode::<AccessClaims>(token, key, &validation)
        .ok()
        .map(|d| d.claims)
}

/// The person an access token with a role names (an app's token has none).
pub(crate) fn person(claims: AccessClaims) -> Option<Principal> {
    let mut principal = Principal::user(claims.sub, Role::parse(claims.role.as_deref()?)?);
    principal.mfa_enrollment_pending = claims.mfa_pending;
    Some(principal)
}
