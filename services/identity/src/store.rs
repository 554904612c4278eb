//! Identity's tables and queries. Every function takes a connection; writes take one
//! inside the caller's transaction.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use weft_storage::{DbConn, StorageError, db_run};

diesel::table! {
    identity_users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    identity_refresh_tokens (id) {
        id -> Text,
        user_id -> Text,
        family_id -> Text,
        token_hash -> Text,
        expires_at -> Timestamp,
        rotated_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

use identity_refresh_tokens as tokens;
use identity_users as users;

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = identity_users)]
pub(crate) struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = identity_refresh_tokens)]
pub(crate) struct RefreshRow {
    pub id: String,
    pub user_id: String,
    pub family_id: String,
    pub token_hash: String,
    pub expires_at: NaiveDateTime,
    pub rotated_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

/// Inserts `user`; `false` when the email is taken.
pub(crate) async fn insert_user(conn: &mut DbConn, user: &UserRow) -> Result<bool, StorageError> {
    let n = db_run!(conn, c => diesel::insert_into(users::table).values(user).on_conflict_do_nothing().execute(c).await)?;
    Ok(n == 1)
}

pub(crate) async fn find_user_by_email(
    conn: &mut DbConn,
    email: &str,
) -> Result<Option<UserRow>, StorageError> {
    Ok(
        db_run!(conn, c => users::table.filter(users::email.eq(email)).first::<UserRow>(c).await.optional())?,
    )
}

pub(crate) async fn find_user_by_id(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<UserRow>, StorageError> {
    Ok(db_run!(conn, c => users::table.find(id).first::<UserRow>(c).await.optional())?)
}

pub(crate) async fn update_user_name(
    conn: &mut DbConn,
    id: &str,
    name: &str,
    at: NaiveDateTime,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(users::table.find(id)).set((users::name.eq(name), users::updated_at.eq(at))).execute(c).await)?;
    Ok(())
}

pub(crate) async fn insert_refresh_token(
    conn: &mut DbConn,
    row: &RefreshRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(tokens::table).values(row).execute(c).await)?;
    Ok(())
}

pub(crate) async fn find_refresh_token(
    conn: &mut DbConn,
    token_hash: &str,
) -> Result<Option<RefreshRow>, StorageError> {
    Ok(
        db_run!(conn, c => tokens::table.filter(tokens::token_hash.eq(token_hash)).first::<RefreshRow>(c).await.optional())?,
    )
}

/// Marks a token used; `false` when another request rotated it first.
pub(crate) async fn mark_refresh_token_rotated(
    conn: &mut DbConn,
    id: &str,
    at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let n = db_run!(conn, c => diesel::update(tokens::table.find(id).filter(tokens::rotated_at.is_null()))
        .set(tokens::rotated_at.eq(Some(at)))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

/// Revokes every token of a family (a session and all its rotations).
pub(crate) async fn revoke_refresh_family(
    conn: &mut DbConn,
    family_id: &str,
    at: NaiveDateTime,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(tokens::table.filter(tokens::family_id.eq(family_id)).filter(tokens::revoked_at.is_null()))
        .set(tokens::revoked_at.eq(Some(at)))
        .execute(c)
        .await)?;
    Ok(())
}

/// Users after `after` (an id), oldest first.
pub(crate) async fn list_users(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<UserRow>, StorageError> {
    Ok(db_run!(conn, c => {
        let mut query = users::table.order(users::id).limit(limit).into_boxed();
        if let Some(after) = after {
            query = query.filter(users::id.gt(after));
        }
        query.load::<UserRow>(c).await
    })?)
}
