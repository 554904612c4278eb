//! `platform_idempotency_keys`: what the `Idempotency-Key` middleware remembers. A key is
//! claimed before the request runs (so a concurrent retry sees it in progress), completed
//! with the response, or released when the run failed on the server side so a retry may
//! run again. Records live 24 hours.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;

use crate::{Db, DbConn, StorageError, db_run};

diesel::table! {
    platform_idempotency_keys (principal, idempotency_key) {
        principal -> Text,
        idempotency_key -> Text,
        request_method -> Text,
        request_path -> Text,
        request_hash -> Text,
        locked_until -> Nullable<Timestamp>,
        response_status -> Nullable<Integer>,
        response_content_type -> Nullable<Text>,
        response_body -> Nullable<Binary>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

use platform_idempotency_keys as keys;

/// Identifies one request: who sent it, with which key, and what it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedRequest {
    pub principal: String,
    pub key: String,
    pub method: String,
    pub path: String,
    /// A digest of method, path and body: the same key with another request is refused.
    pub hash: String,
}

/// A stored answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// This request runs; complete or release the key afterwards.
    Acquired,
    /// The first request is still running.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
    /// The first request finished; here is its answer.
    Completed(StoredResponse),
}

#[derive(diesel::Queryable)]
struct Row {
    request_method: String,
    request_path: String,
    request_hash: String,
    locked_until: Option<NaiveDateTime>,
    response_status: Option<i32>,
    response_content_type: Option<String>,
    response_body: Option<Vec<u8>>,
}

/// Claims `req`'s key at `now`, holding it for `lock_for` and remembering it until
/// `expires_at`.
pub async fn claim(
    db: &Db,
    req: &KeyedRequest,
    now: NaiveDateTime,
    lock_until: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<Claim, StorageError> {
    db.transaction(async |conn: &mut DbConn| {
        // An expired record is as good as none.
        db_run!(conn, c => diesel::delete(keys::table
            .filter(keys::principal.eq(&req.principal))
            .filter(keys::idempotency_key.eq(&req.key))
            .filter(keys::expires_at.le(now)))
            .execute(c)
            .await)?;
        let inserted = db_run!(conn, c => diesel::insert_into(keys::table)
            .values((
                keys::principal.eq(&req.principal),
                keys::idempotency_key.eq(&req.key),
                keys::request_method.eq(&req.method),
                keys::request_path.eq(&req.path),
                keys::request_hash.eq(&req.hash),
                keys::locked_until.eq(Some(lock_until)),
                keys::created_at.eq(now),
                keys::expires_at.eq(expires_at),
            ))
            .on_conflict_do_nothing()
            .execute(c)
            .await)?;
        if inserted == 1 {
            return Ok(Claim::Acquired);
        }
        let row: Option<Row> = db_run!(conn, c => keys::table
            .filter(keys::principal.eq(&req.principal))
            .filter(keys::idempotency_key.eq(&req.key))
            .select((
                keys::request_method,
                keys::request_path,
                keys::request_hash,
                keys::locked_until,
                keys::response_status,
                keys::response_content_type,
                keys::response_body,
            ))
            .first::<Row>(c)
            .await
            .optional())?;
        let Some(row) = row else {
            // Expired and deleted by another claim between our insert and select: tell
            // the client to retry, which will then claim the key afresh.
            return Ok(Claim::InProgress);
        };
        if row.request_hash != req.hash
            || row.request_method != req.method
            || row.request_path != req.path
        {
            return Ok(Claim::Mismatch);
        }
        if let Some(status) = row.response_status {
            return Ok(Claim::Completed(StoredResponse {
                status: u16::try_from(status).unwrap_or(500),
                content_type: row.response_content_type,
                body: row.response_body.unwrap_or_default(),
            }));
        }
        match row.locked_until {
            Some(until) if until > now => Ok(Claim::InProgress),
            stale => {
                // The first run died without an answer: take the lock over, once.
                let taken = db_run!(conn, c => diesel::update(keys::table
                    .filter(keys::principal.eq(&req.principal))
                    .filter(keys::idempotency_key.eq(&req.key))
                    .filter(keys::locked_until.eq(stale)))
                    .set(keys::locked_until.eq(Some(lock_until)))
                    .execute(c)
                    .await)?;
                Ok(if taken == 1 {
                    Claim::Acquired
                } else {
                    Claim::InProgress
                })
            }
        }
    })
    .await
}

/// Records the answer to a claimed key.
pub async fn complete(
    db: &Db,
    req: &KeyedRequest,
    response: &StoredResponse,
) -> Result<(), StorageError> {
    db.transaction(async |conn: &mut DbConn| {
        db_run!(conn, c => diesel::update(keys::table
            .filter(keys::principal.eq(&req.principal))
            .filter(keys::idempotency_key.eq(&req.key)))
            .set((
                keys::locked_until.eq(None::<NaiveDateTime>),
                keys::response_status.eq(Some(i32::from(response.status))),
                keys::response_content_type.eq(response.content_type.as_deref()),
                keys::response_body.eq(Some(response.body.as_slice())),
            ))
            .execute(c)
            .await)?;
        Ok::<_, StorageError>(())
    })
    .await
}

/// Forgets a claimed key whose run failed on the server side, so a retry runs again.
pub async fn release(db: &Db, req: &KeyedRequest) -> Result<(), StorageError> {
    db.transaction(async |conn: &mut DbConn| {
        db_run!(conn, c => diesel::delete(keys::table
            .filter(keys::principal.eq(&req.principal))
            .filter(keys::idempotency_key.eq(&req.key))
            .filter(keys::response_status.is_null()))
            .execute(c)
            .await)?;
        Ok::<_, StorageError>(())
    })
    .await
}

/// Deletes records past their expiry; returns how many.
pub async fn delete_expired(db: &Db, now: NaiveDateTime) -> Result<usize, StorageError> {
    db.transaction(async |conn: &mut DbConn| {
        Ok(
            db_run!(conn, c => diesel::delete(keys::table.filter(keys::expires_at.le(now))).execute(c).await)?,
        )
    })
    .await
}
