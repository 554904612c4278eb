//! Single-use e-mail links (password reset, address verification) and the verified mark
//! they leave on an account.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use weft_storage::{DbConn, StorageError, db_run};

use super::identity_users as users;

diesel::table! {
    identity_account_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        purpose -> Text,
        email -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

use identity_account_tokens as account_tokens;

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = identity_account_tokens)]
pub(crate) struct AccountTokenRow {
    /// SHA-256 of the token, hex: the token itself is never stored.
    pub token_hash: String,
    pub user_id: String,
    /// `password_reset` or `email_verification` ([`crate::domain::TokenPurpose`]).
    pub purpose: String,
    /// The address the link was sent to.
    pub email: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

pub(crate) async fn insert_account_token(
    conn: &mut DbConn,
    row: &AccountTokenRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(account_tokens::table).values(row).execute(c).await)?;
    Ok(())
}

pub(crate) async fn find_account_token(
    conn: &mut DbConn,
    token_hash: &str,
) -> Result<Option<AccountTokenRow>, StorageError> {
    Ok(
        db_run!(conn, c => account_tokens::table.find(token_hash).first::<AccountTokenRow>(c).await.optional())?,
    )
}

/// Spends a token: `true` for exactly one caller while it is unused, unexpired and of
/// `purpose`. One guarded statement, so two requests racing with the same link cannot
/// both pass: PostgreSQL re-checks `used_at IS NULL` after waiting on the first one's row
/// lock, and SQLite runs writers one at a time (`BEGIN IMMEDIATE`).
pub(crate) async fn spend_account_token(
    conn: &mut DbConn,
    token_hash: &str,
    purpose: &str,
    now: NaiveDateTime,
) -> Result<bool, StorageError> {
    let n = db_run!(conn, c => diesel::update(
            account_tokens::table
                .find(token_hash)
                .filter(account_tokens::purpose.eq(purpose))
                .filter(account_tokens::used_at.is_null())
                .filter(account_tokens::expires_at.gt(now)),
        )
        .set(account_tokens::used_at.eq(Some(now)))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

/// Forgets a user's tokens of `purpose`, spent or not: a new link replaces the old ones,
/// and a user never holds more than one row per purpose.
pub(crate) async fn delete_account_tokens_for(
    conn: &mut DbConn,
    user_id: &str,
    purpose: &str,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::delete(
            account_tokens::table
                .filter(account_tokens::user_id.eq(user_id))
                .filter(account_tokens::purpose.eq(purpose)),
        )
        .execute(c)
        .await)?;
    Ok(())
}

/// Forgets every token of a user (erasure).
pub(crate) async fn delete_account_tokens(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::delete(account_tokens::table.filter(account_tokens::user_id.eq(user_id))).execute(c).await)?;
    Ok(())
}

/// Marks the account's address verified if it is still `email`; `false` when it already
/// was, or the account has another address now.
pub(crate) async fn mark_email_verified(
    conn: &mut DbConn,
    user_id: &str,
    email: &str,
    at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let n = db_run!(conn, c => diesel::update(
            users::table
                .find(user_id)
                .filter(users::email.eq(email))
                .filter(users::email_verified_at.is_null()),
        )
        .set(users::email_verified_at.eq(Some(at)))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

/// Sets or clears (erasure) the verified mark unconditionally.
pub(crate) async fn set_email_verified_at(
    conn: &mut DbConn,
    user_id: &str,
    at: Option<NaiveDateTime>,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(users::table.find(user_id))
        .set(users::email_verified_at.eq(at))
        .execute(c)
        .await)?;
    Ok(())
}
