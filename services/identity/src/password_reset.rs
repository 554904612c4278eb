//! Forgotten passwords. `forgot_password` e-mails a link good once for 30 minutes
//! (through `PasswordResetRequested`) and answers the same whether or not an account uses
//! the address; `reset_password` spends the link to set a new password and ends every
//! session of the account. A second factor, when enrolled, is still asked at sign-in: a
//! reset replaces the password, not the TOTP.

use std::net::IpAddr;

use weft_storage::DbConn;

use crate::account_tokens;
use crate::domain::{Email, Password, TokenPurpose};
use crate::error::IdentityError;
use crate::passwords;
use crate::service::IdentityService;
use crate::store;

const PURPOSE: TokenPurpose = TokenPurpose::PasswordReset;

impl IdentityService {
    /// Sends a reset link to `email` if a live account uses it. Nothing in the outcome
    /// (the answer, the throttling, the statements run) depends on whether one does.
    #[tracing::instrument(skip_all)]
    pub async fn forgot_password(
        &self,
        email: &str,
        ip: Option<IpAddr>,
    ) -> Result<(), IdentityError> {
        let email = Email::parse(email).map_err(|e| IdentityError::Invalid(vec![e]))?;
        self.mail_throttle
            .check(PURPOSE.as_str(), email.as_str(), ip)
            .await
            .map_err(IdentityError::EmailThrottled)?;
        let now = self.clock.now();
        let issued_to = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let user = store::find_user_by_email(conn, email.as_str())
                    .await?
                    .filter(|u| u.erased_at.is_none());
                if let Some(user) = user {
                    account_tokens::issue(conn, &user, PURPOSE, now).await?;
                    Ok(Some(user.id))
                } else {
                    // The statement a known address runs first, matching nothing, so an
                    // unknown one is not answered measurably sooner.
                    store::delete_account_tokens_for(conn, "", PURPOSE.as_str()).await?;
                    Ok::<_, IdentityError>(None)
                }
            })
            .await?;
        self.bus.wake();
        if let Some(user_id) = issued_to {
            tracing::info!(%user_id, "password reset link issued");
        }
        Ok(())
    }

    /// Sets a new password with a reset link. In one transaction: the link is spent (by
    /// one request only, however many race), the password replaced, every session
    /// revoked, and the address marked verified (the link reached its holder). Access
    /// tokens already out keep working until they expire (15 minutes at most).
    #[tracing::instrument(skip_all)]
    pub async fn reset_password(&self, token: &str, password: &str) -> Result<(), IdentityError> {
        let now = self.clock.now().naive_utc();
        // Looked at before the slow hash, so a made-up token costs no Argon2 time; the
        // password policy also needs the account's address.
        let user = {
            let mut conn = self.db.conn().await?;
            match account_tokens::peek(&mut conn, token, PURPOSE, now).await? {
                Some(t) => store::find_user_by_id(&mut conn, &t.user_id)
                    .await?
                    .filter(|u| u.erased_at.is_none()),
                None => None,
            }
        }
        .ok_or(IdentityError::BadResetToken)?;
        let email = Email::parse(&user.email).ok();
        let password = Password::parse(password, email.as_ref())
            .map_err(|e| IdentityError::Invalid(vec![e]))?;
        let password_hash = passwords::hash(password.expose().to_owned()).await?;
        let row = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let token = account_tokens::spend(conn, token, PURPOSE, now)
                    .await?
                    .ok_or(IdentityError::BadResetToken)?;
                let mut row = store::find_user_by_id(conn, &token.user_id)
                    .await?
                    .filter(|u| u.erased_at.is_none())
                    .ok_or(IdentityError::BadResetToken)?;
                row.password_hash = password_hash;
                row.updated_at = now;
                store::update_user(conn, &row).await?;
                // Whoever else holds a session (perhaps the reason for the reset) is out.
                store::revoke_user_sessions(conn, &row.id, now).await?;
                store::mark_email_verified(conn, &row.id, &token.email, now).await?;
                Ok::<_, IdentityError>(row)
            })
            .await?;
        self.throttle.forgive(&row.email).await;
        tracing::info!(user_id = %row.id, "password reset; sessions revoked");
        Ok(())
    }
}
