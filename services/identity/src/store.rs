//! Identity's tables and queries. Every function takes a connection; writes take one
//! inside the caller's transaction.

use chrono::NaiveDateTime;
use diesel::{BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use weft_storage::{DbConn, StorageError, db_run};

mod account_tokens;
pub(crate) use account_tokens::{
    AccountTokenRow, delete_account_tokens, delete_account_tokens_for, find_account_token,
    insert_account_token, mark_email_verified, set_email_verified_at, spend_account_token,
};

diesel::table! {
    identity_users (id) {
        id -> Text,
        email -> Text,
        name -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        phone_sealed -> Nullable<Text>,
        erased_at -> Nullable<Timestamp>,
        email_verified_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    identity_totp (user_id) {
        user_id -> Text,
        secret_sealed -> Text,
        enabled_at -> Nullable<Timestamp>,
        last_step -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    identity_recovery_codes (id) {
        id -> Text,
        user_id -> Text,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    identity_apps (id) {
        id -> Text,
        name -> Text,
        client_id -> Text,
        secret_hash -> Text,
        scopes -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    identity_api_keys (id) {
        id -> Text,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        scopes -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    identity_addresses (id) {
        id -> Text,
        user_id -> Text,
        sealed -> Text,
        is_default -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    identity_oauth_links (provider, subject) {
        provider -> Text,
        subject -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    identity_oauth_states (state_hash) {
        state_hash -> Text,
        provider -> Text,
        verifier_sealed -> Text,
        expires_at -> Timestamp,
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

use identity_addresses as addresses;
use identity_api_keys as api_keys;
use identity_apps as apps;
use identity_oauth_links as links;
use identity_oauth_states as states;
use identity_recovery_codes as recovery;
use identity_refresh_tokens as tokens;
use identity_totp as totp;
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
    pub phone_sealed: Option<String>,
    pub erased_at: Option<NaiveDateTime>,
    /// Written only by [`mark_email_verified`] and [`set_email_verified_at`], never by
    /// [`update_user`]: an edit that read the row before a verification landed must not
    /// write the old state back.
    pub email_verified_at: Option<NaiveDateTime>,
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

/// Writes a user's editable fields (name, role, phone, password, erasure) as they are in
/// `user`; not `email_verified_at` (see [`UserRow`]).
pub(crate) async fn update_user(conn: &mut DbConn, user: &UserRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(users::table.find(&user.id))
        .set((
            users::email.eq(&user.email),
            users::name.eq(&user.name),
            users::password_hash.eq(&user.password_hash),
            users::role.eq(&user.role),
            users::phone_sealed.eq(&user.phone_sealed),
            users::erased_at.eq(user.erased_at),
            users::updated_at.eq(user.updated_at),
        ))
        .execute(c)
        .await)?;
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

/// Revokes every live refresh token of a user (role change, erasure).
pub(crate) async fn revoke_user_sessions(
    conn: &mut DbConn,
    user_id: &str,
    at: NaiveDateTime,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(tokens::table.filter(tokens::user_id.eq(user_id)).filter(tokens::revoked_at.is_null()))
        .set(tokens::revoked_at.eq(Some(at)))
        .execute(c)
        .await)?;
    Ok(())
}

/// Sessions of a user (for the export).
pub(crate) async fn list_refresh_tokens(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<Vec<RefreshRow>, StorageError> {
    Ok(
        db_run!(conn, c => tokens::table.filter(tokens::user_id.eq(user_id)).order(tokens::created_at).load::<RefreshRow>(c).await)?,
    )
}

// --- TOTP -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = identity_totp)]
pub(crate) struct TotpRow {
    pub user_id: String,
    pub secret_sealed: String,
    pub enabled_at: Option<NaiveDateTime>,
    pub last_step: Option<i64>,
    pub created_at: NaiveDateTime,
}

pub(crate) async fn find_totp(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<Option<TotpRow>, StorageError> {
    Ok(db_run!(conn, c => totp::table.find(user_id).first::<TotpRow>(c).await.optional())?)
}

/// Starts (or restarts, while not yet enabled) an enrolment.
pub(crate) async fn put_pending_totp(conn: &mut DbConn, row: &TotpRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::delete(totp::table.find(&row.user_id)).execute(c).await)?;
    db_run!(conn, c => diesel::insert_into(totp::table).values(row).execute(c).await)?;
    Ok(())
}

pub(crate) async fn enable_totp(
    conn: &mut DbConn,
    user_id: &str,
    step: i64,
    at: NaiveDateTime,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(totp::table.find(user_id))
        .set((totp::enabled_at.eq(Some(at)), totp::last_step.eq(Some(step))))
        .execute(c)
        .await)?;
    Ok(())
}

/// Records `step` as used; `false` when it (or a later one) already was — a replay.
pub(crate) async fn advance_totp_step(
    conn: &mut DbConn,
    user_id: &str,
    step: i64,
) -> Result<bool, StorageError> {
    let n = db_run!(conn, c => diesel::update(
            totp::table
                .find(user_id)
                .filter(totp::last_step.is_null().or(totp::last_step.lt(step))),
        )
        .set(totp::last_step.eq(Some(step)))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

pub(crate) async fn delete_totp(conn: &mut DbConn, user_id: &str) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::delete(totp::table.find(user_id)).execute(c).await)?;
    db_run!(conn, c => diesel::delete(recovery::table.filter(recovery::user_id.eq(user_id))).execute(c).await)?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = identity_recovery_codes)]
pub(crate) struct RecoveryRow {
    pub id: String,
    pub user_id: String,
    pub code_hash: String,
    pub used_at: Option<NaiveDateTime>,
}

/// Replaces a user's recovery codes.
pub(crate) async fn replace_recovery_codes(
    conn: &mut DbConn,
    user_id: &str,
    rows: &[RecoveryRow],
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::delete(recovery::table.filter(recovery::user_id.eq(user_id))).execute(c).await)?;
    for row in rows {
        db_run!(conn, c => diesel::insert_into(recovery::table).values(row).execute(c).await)?;
    }
    Ok(())
}

/// Spends a recovery code; `false` when it is unknown or already spent.
pub(crate) async fn use_recovery_code(
    conn: &mut DbConn,
    user_id: &str,
    code_hash: &str,
    at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let n = db_run!(conn, c => diesel::update(
            recovery::table
                .filter(recovery::user_id.eq(user_id))
                .filter(recovery::code_hash.eq(code_hash))
                .filter(recovery::used_at.is_null()),
        )
        .set(recovery::used_at.eq(Some(at)))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

pub(crate) async fn count_unused_recovery_codes(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<i64, StorageError> {
    Ok(db_run!(conn, c => recovery::table
        .filter(recovery::user_id.eq(user_id))
        .filter(recovery::used_at.is_null())
        .count()
        .get_result::<i64>(c)
        .await)?)
}

// --- apps and API keys ------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = identity_apps)]
pub(crate) struct AppRow {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub secret_hash: String,
    pub scopes: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

pub(crate) async fn insert_app(conn: &mut DbConn, row: &AppRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(apps::table).values(row).execute(c).await)?;
    Ok(())
}

pub(crate) async fn find_app_by_client_id(
    conn: &mut DbConn,
    client_id: &str,
) -> Result<Option<AppRow>, StorageError> {
    Ok(
        db_run!(conn, c => apps::table.filter(apps::client_id.eq(client_id)).first::<AppRow>(c).await.optional())?,
    )
}

pub(crate) async fn find_app(conn: &mut DbConn, id: &str) -> Result<Option<AppRow>, StorageError> {
    Ok(db_run!(conn, c => apps::table.find(id).first::<AppRow>(c).await.optional())?)
}

pub(crate) async fn list_apps(conn: &mut DbConn) -> Result<Vec<AppRow>, StorageError> {
    Ok(
        db_run!(conn, c => apps::table.filter(apps::revoked_at.is_null()).order(apps::id).load::<AppRow>(c).await)?,
    )
}

/// Revokes an app; `false` when there is no live app with that id.
pub(crate) async fn revoke_app(
    conn: &mut DbConn,
    id: &str,
    at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let n = db_run!(conn, c => diesel::update(apps::table.find(id).filter(apps::revoked_at.is_null()))
        .set(apps::revoked_at.eq(Some(at)))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = identity_api_keys)]
pub(crate) struct ApiKeyRow {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub scopes: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub(crate) async fn insert_api_key(conn: &mut DbConn, row: &ApiKeyRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(api_keys::table).values(row).execute(c).await)?;
    Ok(())
}

pub(crate) async fn find_api_key_by_hash(
    conn: &mut DbConn,
    key_hash: &str,
) -> Result<Option<ApiKeyRow>, StorageError> {
    Ok(
        db_run!(conn, c => api_keys::table.filter(api_keys::key_hash.eq(key_hash)).first::<ApiKeyRow>(c).await.optional())?,
    )
}

pub(crate) async fn list_api_keys(conn: &mut DbConn) -> Result<Vec<ApiKeyRow>, StorageError> {
    Ok(
        db_run!(conn, c => api_keys::table.filter(api_keys::revoked_at.is_null()).order(api_keys::id).load::<ApiKeyRow>(c).await)?,
    )
}

/// Revokes a key; the row (without the key) is returned so its cache entry can go too.
pub(crate) async fn revoke_api_key(
    conn: &mut DbConn,
    id: &str,
    at: NaiveDateTime,
) -> Result<Option<ApiKeyRow>, StorageError> {
    let Some(row) = db_run!(conn, c => api_keys::table.find(id).filter(api_keys::revoked_at.is_null()).first::<ApiKeyRow>(c).await.optional())?
    else {
        return Ok(None);
    };
    db_run!(conn, c => diesel::update(api_keys::table.find(id))
        .set(api_keys::revoked_at.eq(Some(at)))
        .execute(c)
        .await)?;
    Ok(Some(row))
}

/// Records a use, at most once per `every` per key so busy keys do not write per request.
pub(crate) async fn touch_api_key(
    conn: &mut DbConn,
    id: &str,
    at: NaiveDateTime,
    not_since: NaiveDateTime,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(
            api_keys::table
                .find(id)
                .filter(api_keys::last_used_at.is_null().or(api_keys::last_used_at.lt(not_since))),
        )
        .set(api_keys::last_used_at.eq(Some(at)))
        .execute(c)
        .await)?;
    Ok(())
}

// --- addresses -------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = identity_addresses)]
pub(crate) struct AddressRow {
    pub id: String,
    pub user_id: String,
    pub sealed: String,
    pub is_default: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub(crate) async fn list_addresses(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<Vec<AddressRow>, StorageError> {
    Ok(
        db_run!(conn, c => addresses::table.filter(addresses::user_id.eq(user_id)).order(addresses::id).load::<AddressRow>(c).await)?,
    )
}

/// The address `id` if it belongs to `user_id`.
pub(crate) async fn find_address(
    conn: &mut DbConn,
    user_id: &str,
    id: &str,
) -> Result<Option<AddressRow>, StorageError> {
    Ok(
        db_run!(conn, c => addresses::table.find(id).filter(addresses::user_id.eq(user_id)).first::<AddressRow>(c).await.optional())?,
    )
}

pub(crate) async fn count_addresses(conn: &mut DbConn, user_id: &str) -> Result<i64, StorageError> {
    Ok(
        db_run!(conn, c => addresses::table.filter(addresses::user_id.eq(user_id)).count().get_result::<i64>(c).await)?,
    )
}

pub(crate) async fn insert_address(
    conn: &mut DbConn,
    row: &AddressRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(addresses::table).values(row).execute(c).await)?;
    Ok(())
}

pub(crate) async fn update_address(
    conn: &mut DbConn,
    row: &AddressRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(addresses::table.find(&row.id))
        .set((
            addresses::sealed.eq(&row.sealed),
            addresses::is_default.eq(row.is_default),
            addresses::updated_at.eq(row.updated_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

/// Makes `id` the user's only default address.
pub(crate) async fn clear_default_address(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(addresses::table.filter(addresses::user_id.eq(user_id)))
        .set(addresses::is_default.eq(false))
        .execute(c)
        .await)?;
    Ok(())
}

/// Deletes the address `id` if it belongs to `user_id`; `false` otherwise.
pub(crate) async fn delete_address(
    conn: &mut DbConn,
    user_id: &str,
    id: &str,
) -> Result<bool, StorageError> {
    let n = db_run!(conn, c => diesel::delete(addresses::table.find(id).filter(addresses::user_id.eq(user_id))).execute(c).await)?;
    Ok(n == 1)
}

pub(crate) async fn delete_addresses(conn: &mut DbConn, user_id: &str) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::delete(addresses::table.filter(addresses::user_id.eq(user_id))).execute(c).await)?;
    Ok(())
}

// --- social sign-in -------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = identity_oauth_links)]
pub(crate) struct LinkRow {
    pub provider: String,
    pub subject: String,
    pub user_id: String,
    pub created_at: NaiveDateTime,
}

pub(crate) async fn find_link(
    conn: &mut DbConn,
    provider: &str,
    subject: &str,
) -> Result<Option<LinkRow>, StorageError> {
    Ok(
        db_run!(conn, c => links::table.find((provider, subject)).first::<LinkRow>(c).await.optional())?,
    )
}

pub(crate) async fn list_links(
    conn: &mut DbConn,
    user_id: &str,
) -> Result<Vec<LinkRow>, StorageError> {
    Ok(
        db_run!(conn, c => links::table.filter(links::user_id.eq(user_id)).load::<LinkRow>(c).await)?,
    )
}

pub(crate) async fn insert_link(conn: &mut DbConn, row: &LinkRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(links::table).values(row).on_conflict_do_nothing().execute(c).await)?;
    Ok(())
}

pub(crate) async fn delete_links(conn: &mut DbConn, user_id: &str) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::delete(links::table.filter(links::user_id.eq(user_id))).execute(c).await)?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = identity_oauth_states)]
pub(crate) struct StateRow {
    pub state_hash: String,
    pub provider: String,
    pub verifier_sealed: String,
    pub expires_at: NaiveDateTime,
}

pub(crate) async fn insert_state(conn: &mut DbConn, row: &StateRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(states::table).values(row).execute(c).await)?;
    Ok(())
}

/// Takes (finds and deletes) a state: each is good for one callback.
pub(crate) async fn take_state(
    conn: &mut DbConn,
    state_hash: &str,
) -> Result<Option<StateRow>, StorageError> {
    let row =
        db_run!(conn, c => states::table.find(state_hash).first::<StateRow>(c).await.optional())?;
    if row.is_some() {
        db_run!(conn, c => diesel::delete(states::table.find(state_hash)).execute(c).await)?;
    }
    Ok(row)
}

/// Forgets states nobody came back for.
pub(crate) async fn delete_states_before(
    conn: &mut DbConn,
    at: NaiveDateTime,
) -> Result<usize, StorageError> {
    Ok(
        db_run!(conn, c => diesel::delete(states::table.filter(states::expires_at.lt(at))).execute(c).await)?,
    )
}
