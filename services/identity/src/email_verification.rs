//! Proving an address: registration e-mails a link good once for 7 days (through
//! `EmailVerificationRequested`), a signed-in user may ask for a new one, and spending
//! the link marks the account verified. A link proves only the address it was sent to.

use std::net::IpAddr;

use weft_storage::DbConn;

use crate::account_tokens;
use crate::domain::TokenPurpose;
use crate::error::IdentityError;
use crate::service::IdentityService;
use crate::store;

const PURPOSE: TokenPurpose = TokenPurpose::EmailVerification;

impl IdentityService {
    /// Spends a verification link: the account's address is verified from now on.
    #[tracing::instrument(skip_all)]
    pub async fn verify_email(&self, token: &str) -> Result<(), IdentityError> {
        let now = self.clock.now().naive_utc();
        let user_id = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let token = account_tokens::spend(conn, token, PURPOSE, now)
                    .await?
                    .ok_or(IdentityError::BadVerificationToken)?;
                let user = store::find_user_by_id(conn, &token.user_id)
                    .await?
                    .filter(|u| u.erased_at.is_none())
                    .ok_or(IdentityError::BadVerificationToken)?;
                // Sent to an address the account no longer has: it proves nothing now
                // (the error rolls the spending back; the link stays useless meanwhile).
                if user.email != token.email {
                    return Err(IdentityError::BadVerificationToken);
                }
                // `false` when a password reset verified the address meanwhile: the link
                // still did its job.
                store::mark_email_verified(conn, &user.id, &token.email, now).await?;
                Ok(user.id)
            })
            .await?;
        tracing::info!(%user_id, "e-mail address verified");
        Ok(())
    }

    /// E-mails the signed-in user a new verification link; the previous one stops
    /// working. Refused once the address is verified; rationed by
    /// [`crate::throttle::EmailThrottle`].
    #[tracing::instrument(skip_all)]
    pub async fn resend_email_verification(
        &self,
        user_id: &str,
        ip: Option<IpAddr>,
    ) -> Result<(), IdentityError> {
        // Read first so a verified account gets its 409 without using up the allowance.
        let user = {
            let mut conn = self.db.conn().await?;
            store::find_user_by_id(&mut conn, user_id)
                .await?
                .filter(|u| u.erased_at.is_none())
                .ok_or(IdentityError::Unauthenticated)?
        };
        if user.email_verified_at.is_some() {
            return Err(IdentityError::AlreadyVerified);
        }
        self.mail_throttle
            .check(PURPOSE.as_str(), &user.email, ip)
            .await
            .map_err(IdentityError::EmailThrottled)?;
        let now = self.clock.now();
        self.db
            .transaction(async |conn: &mut DbConn| {
                // Again inside the transaction: a link may have been spent meanwhile.
                let user = store::find_user_by_id(conn, user_id)
                    .await?
                    .filter(|u| u.erased_at.is_none())
                    .ok_or(IdentityError::Unauthenticated)?;
                if user.email_verified_at.is_some() {
                    return Err(IdentityError::AlreadyVerified);
                }
                account_tokens::issue(conn, &user, PURPOSE, now).await
            })
            .await?;
        self.bus.wake();
        tracing::info!(%user_id, "verification link issued again");
        Ok(())
    }
}
