//! The single-use links identity e-mails: issuing one and spending one. Identity sends no
//! mail itself. It appends an event carrying the token in the transaction that stores the
//! token's digest, and whoever sends mail (the notifications service) builds the link. The
//! token is 32 random bytes; only its SHA-256 is kept, so the table alone opens nothing.

use chrono::{DateTime, NaiveDateTime, Utc};
use weft_bus::events::{EmailVerificationRequested, PasswordResetRequested};
use weft_storage::DbConn;

use crate::domain::TokenPurpose;
use crate::error::IdentityError;
use crate::service::{digest, random_token};
use crate::store::{self, AccountTokenRow, UserRow};

/// Issues a link of `purpose` to `user`'s address on `conn`, replacing any earlier one
/// of that purpose, and appends the event that has it e-mailed.
pub(crate) async fn issue(
    conn: &mut DbConn,
    user: &UserRow,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> Result<(), IdentityError> {
    let token = random_token()?;
    let expires_at = now + purpose.lifetime();
    store::delete_account_tokens_for(conn, &user.id, purpose.as_str()).await?;
    store::insert_account_token(
        conn,
        &AccountTokenRow {
            token_hash: digest(&token),
            user_id: user.id.clone(),
            purpose: purpose.as_str().to_owned(),
            email: user.email.clone(),
            created_at: now.naive_utc(),
            expires_at: expires_at.naive_utc(),
            used_at: None,
        },
    )
    .await?;
    let (user_id, email, name) = (user.id.clone(), user.email.clone(), user.name.clone());
    match purpose {
        TokenPurpose::PasswordReset => {
            weft_bus::append(
                conn,
                &PasswordResetRequested {
                    user_id,
                    email,
                    name,
                    token,
                    expires_at,
                },
            )
            .await?
        }
        TokenPurpose::EmailVerification => {
            weft_bus::append(
                conn,
                &EmailVerificationRequested {
                    user_id,
                    email,
                    name,
                    token,
                    expires_at,
                },
            )
            .await?
        }
    };
    Ok(())
}

/// Spends `token` as a link of `purpose` on `conn`: its row for the one caller that
/// spent it, `None` when it is unknown, used, expired or of another purpose.
pub(crate) async fn spend(
    conn: &mut DbConn,
    token: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> Result<Option<AccountTokenRow>, IdentityError> {
    let token_hash = digest(token);
    if !store::spend_account_token(conn, &token_hash, purpose.as_str(), now).await? {
        return Ok(None);
    }
    Ok(store::find_account_token(conn, &token_hash).await?)
}

/// Whether `token` is, right now, an unspent link of `purpose`, and whose: a read
/// without a transaction, to refuse a made-up token before any slow work. Only
/// [`spend`] decides.
pub(crate) async fn peek(
    conn: &mut DbConn,
    token: &str,
    purpose: TokenPurpose,
    now: NaiveDateTime,
) -> Result<Option<AccountTokenRow>, IdentityError> {
    Ok(store::find_account_token(conn, &digest(token))
        .await?
        .filter(|t| t.purpose == purpose.as_str() && t.used_at.is_none() && t.expires_at > now))
}
