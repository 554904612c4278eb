//! The customer's rights over their data (GDPR art. 15 and 17): an export of everything
//! identity holds about them, and erasure. Erasure keeps the account row, because orders
//! refer to it and tax law keeps invoices for years, but strips it of everything personal
//! and publishes `UserErased` so every other service anonymises its own copies. Pending
//! password-reset and verification links are deleted with the rest.

use chrono::{DateTime, Utc};
use weft_bus::events::UserErased;
use weft_http::Role;
use weft_storage::DbConn;

use crate::addresses::SavedAddress;
use crate::error::IdentityError;
use crate::service::{IdentityService, User};
use crate::store;

/// A session as the export shows it (never the token).
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A linked sign-in provider.
#[derive(Debug, Clone)]
pub struct LinkedAccount {
    pub provider: String,
    pub subject: String,
    pub linked_at: DateTime<Utc>,
}

/// Everything identity holds about one person.
#[derive(Debug, Clone)]
pub struct Export {
    pub exported_at: DateTime<Utc>,
    pub user: User,
    pub addresses: Vec<SavedAddress>,
    pub sessions: Vec<SessionRecord>,
    pub linked_accounts: Vec<LinkedAccount>,
    pub mfa_enabled_at: Option<DateTime<Utc>>,
    pub recovery_codes_left: i64,
}

impl IdentityService {
    pub async fn export(&self, user_id: &str) -> Result<Export, IdentityError> {
        let user = self.me(user_id).await?;
        let addresses = self.list_addresses(user_id).await?;
        let (mfa_enabled_at, recovery_codes_left) = self.mfa_status(user_id).await?;
        let mut conn = self.db.conn().await?;
        let sessions = store::list_refresh_tokens(&mut conn, user_id)
            .await?
            .into_iter()
            // Rotations are one session; its first token tells when it began.
            .filter(|t| t.rotated_at.is_none())
            .map(|t| SessionRecord {
                created_at: t.created_at.and_utc(),
                expires_at: t.expires_at.and_utc(),
                revoked_at: t.revoked_at.map(|r| r.and_utc()),
            })
            .collect();
        let linked_accounts = store::list_links(&mut conn, user_id)
            .await?
            .into_iter()
            .map(|l| LinkedAccount {
                provider: l.provider,
                subject: l.subject,
                linked_at: l.created_at.and_utc(),
            })
            .collect();
        Ok(Export {
            exported_at: self.clock.now(),
            user,
            addresses,
            sessions,
            linked_accounts,
            mfa_enabled_at,
            recovery_codes_left,
        })
    }

    /// Erases a customer's personal data (admins must be demoted first: a shop must not
    /// lose its last admin to a stray click).
    pub async fn erase(&self, user_id: &str) -> Result<(), IdentityError> {
        let now = self.clock.now();
        self.db
            .transaction(async |conn: &mut DbConn| {
                let mut row = store::find_user_by_id(conn, user_id)
                    .await?
                    .filter(|u| u.erased_at.is_none())
                    .ok_or(IdentityError::Unauthenticated)?;
                if row.role == Role::Admin.as_str() {
                    return Err(IdentityError::Authz(weft_http::AuthzError::Forbidden(
                        "customer",
                    )));
                }
                let hex = user_id.trim_start_matches("usr_");
                row.email = format!("erased-{hex}@erased.invalid");
                "Erased customer".clone_into(&mut row.name);
                // Not a PHC string: no password matches it.
                "!erased".clone_into(&mut row.password_hash);
                row.phone_sealed = None;
                row.erased_at = Some(now.naive_utc());
                row.updated_at = now.naive_utc();
                store::update_user(conn, &row).await?;
                store::delete_addresses(conn, user_id).await?;
                store::delete_links(conn, user_id).await?;
                store::delete_totp(conn, user_id).await?;
                // Pending links name the old address, and the placeholder is nobody's.
                store::delete_account_tokens(conn, user_id).await?;
                store::set_email_verified_at(conn, user_id, None).await?;
                store::revoke_user_sessions(conn, user_id, now.naive_utc()).await?;
                weft_bus::append(
                    conn,
                    &UserErased {
                        user_id: user_id.to_owned(),
                        erased_at: now,
                    },
                )
                .await?;
                Ok(())
            })
            .await?;
        self.bus.wake();
        tracing::info!(%user_id, "customer data erased");
        Ok(())
    }
}
