//! TOTP second factor (RFC 6238: SHA-1, 6 digits, 30 s steps, ±1 step of skew) with
//! single-use recovery codes. Admins must enrol before their tokens allow anything else;
//! anyone who has enrolled must send a code at sign-in. A code is accepted once: the last
//! accepted time step is stored and only later steps pass.

use chrono::{DateTime, Utc};
use totp_rs::{Algorithm, Builder, Secret, Totp};
use weft_storage::DbConn;

use crate::error::IdentityError;
use crate::service::{IdentityService, Tokens, User, digest};
use crate::store::{self, RecoveryRow, TotpRow};

const ISSUER: &str = "Weft";
pub const RECOVERY_CODES: usize = 10;

/// A started enrolment: the secret to put in an authenticator app.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// Base32, for typing in.
    pub secret: String,
    /// `otpauth://totp/…`, for a QR code.
    pub otpauth_uri: String,
}

/// A finished enrolment: recovery codes (shown once) and a session without restrictions.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub recovery_codes: Vec<String>,
    pub user: User,
    pub tokens: Tokens,
}

fn totp(secret: Vec<u8>, account: &str) -> Result<Totp, IdentityError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(Secret::from(secret))
        .with_issuer(Some(ISSUER))
        .with_account_name(account.replace(':', ""))
        .build()
        .map_err(|e| IdentityError::Internal(format!("totp: {e}")))
}

fn secret_aad(user_id: &str) -> String {
    format!("{user_id}/totp")
}

/// `abcd-efgh-jkmn`: 12 characters from an alphabet without look-alikes (~60 bits).
fn recovery_code() -> Result<String, IdentityError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).map_err(|e| IdentityError::Internal(e.to_string()))?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

fn normalise_recovery(code: &str) -> String {
    code.trim().to_lowercase().replace(' ', "")
}

impl IdentityService {
    fn unix_now(&self) -> u64 {
        u64::try_from(self.clock.now().timestamp()).unwrap_or_default()
    }

    /// Starts (or restarts) TOTP enrolment for `user_id`.
    pub async fn start_totp(&self, user_id: &str) -> Result<Enrolment, IdentityError> {
        let user = self.me(user_id).await?;
        let mut secret = vec![0u8; 20];
        getrandom::fill(&mut secret).map_err(|e| IdentityError::Internal(e.to_string()))?;
        let generator = totp(secret.clone(), &user.email)?;
        let base32 = generator.secret().to_base32();
        let otpauth_uri = generator
            .to_url()
            .map_err(|e| IdentityError::Internal(format!("totp: {e}")))?;
        let row = TotpRow {
            user_id: user_id.to_owned(),
            secret_sealed: self.sealer.seal_str(&base32, &secret_aad(user_id))?,
            enabled_at: None,
            last_step: None,
            created_at: self.clock.now().naive_utc(),
        };
        self.db
            .transaction(async |conn: &mut DbConn| {
                if store::find_totp(conn, user_id)
                    .await?
                    .is_some_and(|t| t.enabled_at.is_some())
                {
                    return Err(IdentityError::MfaAlreadyEnabled);
                }
                store::put_pending_totp(conn, &row).await?;
                Ok(())
            })
            .await?;
        Ok(Enrolment {
            secret: base32,
            otpauth_uri,
        })
    }

    /// Confirms enrolment with a current code: TOTP is on from now, recovery codes are
    /// issued, and a fresh session without the enrolment restriction is returned.
    pub async fn verify_totp(&self, user_id: &str, code: &str) -> Result<Enrolled, IdentityError> {
        let now = self.clock.now();
        let codes: Vec<String> = (0..RECOVERY_CODES)
            .map(|_| recovery_code())
            .collect::<Result<_, _>>()?;
        let rows: Vec<RecoveryRow> = codes
            .iter()
            .map(|c| RecoveryRow {
                id: format!("rec_{}", uuid::Uuid::now_v7().simple()),
                user_id: user_id.to_owned(),
                code_hash: digest(&normalise_recovery(c)),
                used_at: None,
            })
            .collect();
        let (user, tokens) = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let pending = match store::find_totp(conn, user_id).await? {
                    Some(t) if t.enabled_at.is_some() => {
                        return Err(IdentityError::MfaAlreadyEnabled);
                    }
                    Some(t) => t,
                    None => return Err(IdentityError::MfaNotStarted),
                };
                let Some(step) = self.check_code(&pending, code)? else {
                    return Err(IdentityError::Invalid(vec![weft_kernel::FieldError::new(
                        "code",
                        "is not the current code of this secret",
                    )]));
                };
                store::enable_totp(conn, user_id, step, now.naive_utc()).await?;
                store::replace_recovery_codes(conn, user_id, &rows).await?;
                let user = store::find_user_by_id(conn, user_id)
                    .await?
                    .ok_or(IdentityError::Unauthenticated)?;
                let tokens = self.issue(conn, &user, None).await?;
                Ok((self.user(user)?, tokens))
            })
            .await?;
        tracing::info!(%user_id, "TOTP enabled");
        Ok(Enrolled {
            recovery_codes: codes,
            user,
            tokens,
        })
    }

    /// The time step `code` matches for this secret, if any.
    fn check_code(&self, row: &TotpRow, code: &str) -> Result<Option<i64>, IdentityError> {
        let base32 = self
            .sealer
            .open_str(&row.secret_sealed, &secret_aad(&row.user_id))?;
        let secret = Secret::try_from_base32(&base32)
            .map_err(|e| IdentityError::Internal(format!("totp secret: {e}")))?;
        let generator = totp(secret.as_ref().to_vec(), "")?;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        Ok(generator
            .check(&code, self.unix_now())
            .and_then(|step| i64::try_from(step).ok()))
    }

    /// At sign-in: passes when the account has no TOTP, or `code` is a fresh TOTP code or
    /// an unused recovery code.
    pub(crate) async fn check_second_factor(
        &self,
        user_id: &str,
        code: Option<&str>,
    ) -> Result<(), IdentityError> {
        let now = self.clock.now().naive_utc();
        // Most accounts have no TOTP: find that out without taking the write lock.
        let enabled = {
            let mut conn = self.db.conn().await?;
            store::find_totp(&mut conn, user_id)
                .await?
                .is_some_and(|t| t.enabled_at.is_some())
        };
        if !enabled {
            return Ok(());
        }
        self.db
            .transaction(async |conn: &mut DbConn| {
                let Some(row) = store::find_totp(conn, user_id)
                    .await?
                    .filter(|t| t.enabled_at.is_some())
                else {
                    return Ok(());
                };
                let code = code
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .ok_or(IdentityError::TotpRequired)?;
                if let Some(step) = self.check_code(&row, code)? {
                    return if store::advance_totp_step(conn, user_id, step).await? {
                        Ok(())
                    } else {
                        tracing::warn!(%user_id, "TOTP code replayed");
                        Err(IdentityError::BadTotp)
                    };
                }
                let hash = digest(&normalise_recovery(code));
                if store::use_recovery_code(conn, user_id, &hash, now).await? {
                    tracing::info!(%user_id, "signed in with a recovery code");
                    Ok(())
                } else {
                    Err(IdentityError::BadTotp)
                }
            })
            .await
    }

    /// Whether TOTP is on, since when, and how many recovery codes are left.
    pub async fn mfa_status(
        &self,
        user_id: &str,
    ) -> Result<(Option<DateTime<Utc>>, i64), IdentityError> {
        let mut conn = self.db.conn().await?;
        let enabled = store::find_totp(&mut conn, user_id)
            .await?
            .and_then(|t| t.enabled_at)
            .map(|t| t.and_utc());
        let left = store::count_unused_recovery_codes(&mut conn, user_id).await?;
        Ok((enabled, left))
    }
}
