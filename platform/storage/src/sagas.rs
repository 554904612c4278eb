//! The saga tables: `platform_sagas` (one row per run: status, position, context, lease)
//! and `platform_saga_steps` (each started step and its undo data). `weft-saga` drives
//! them; every function here takes a connection inside the caller's transaction.

use chrono::NaiveDateTime;
use diesel::{BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;

use crate::{DbConn, StorageError, db_run};

diesel::table! {
    platform_sagas (id) {
        id -> Text,
        kind -> Text,
        status -> Text,
        position -> Integer,
        context -> Text,
        failure -> Nullable<Text>,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    platform_saga_steps (saga_id, position) {
        saga_id -> Text,
        position -> Integer,
        name -> Text,
        status -> Text,
        undo -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

use platform_saga_steps as steps;
use platform_sagas as sagas;

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = platform_sagas)]
pub struct SagaRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub position: i32,
    /// JSON.
    pub context: String,
    /// JSON: why it is compensating or failed.
    pub failure: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = platform_saga_steps)]
pub struct StepRow {
    pub saga_id: String,
    pub position: i32,
    pub name: String,
    /// `running`, `done` or `undone`.
    pub status: String,
    /// JSON.
    pub undo: Option<String>,
    pub updated_at: NaiveDateTime,
}

/// Inserts a new run; `false` when one with this id exists.
pub async fn insert(conn: &mut DbConn, row: &SagaRow) -> Result<bool, StorageError> {
    let row = row.clone();
    let n = db_run!(conn, c => diesel::insert_into(sagas::table)
        .values(row.clone())
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(n == 1)
}

pub async fn find(conn: &mut DbConn, id: &str) -> Result<Option<SagaRow>, StorageError> {
    let key = id.to_owned();
    Ok(db_run!(conn, c => sagas::table.find(key.clone()).first::<SagaRow>(c).await.optional())?)
}

/// Takes the run's lease for `owner` until `until`, unless another owner holds an
/// unexpired one; `true` when taken. The guarded update is the lock.
pub async fn lease(
    conn: &mut DbConn,
    id: &str,
    owner: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<bool, StorageError> {
    let (key, owner) = (id.to_owned(), owner.to_owned());
    let n = db_run!(conn, c => diesel::update(sagas::table
        .filter(sagas::id.eq(key.clone()))
        .filter(
            sagas::lease_until
                .is_null()
                .or(sagas::lease_until.lt(now))
                .or(sagas::lease_owner.eq(owner.clone())),
        ))
        .set((sagas::lease_owner.eq(Some(owner.clone())), sagas::lease_until.eq(Some(until))))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

/// Writes the run's progress (and keeps its lease).
pub async fn save(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    position: i32,
    context: &str,
    failure: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), StorageError> {
    let (key, status, context, failure) = (
        id.to_owned(),
        status.to_owned(),
        context.to_owned(),
        failure.map(str::to_owned),
    );
    db_run!(conn, c => diesel::update(sagas::table.find(key.clone()))
        .set((
            sagas::status.eq(status.clone()),
            sagas::position.eq(position),
            sagas::context.eq(context.clone()),
            sagas::failure.eq(failure.clone()),
            sagas::updated_at.eq(now),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

/// Gives the lease back.
pub async fn release(conn: &mut DbConn, id: &str) -> Result<(), StorageError> {
    let key = id.to_owned();
    db_run!(conn, c => diesel::update(sagas::table.find(key.clone()))
        .set((sagas::lease_owner.eq(None::<String>), sagas::lease_until.eq(None::<NaiveDateTime>)))
        .execute(c)
        .await)?;
    Ok(())
}

/// Records a step's state (insert or overwrite), in one statement.
pub async fn put_step(conn: &mut DbConn, row: &StepRow) -> Result<(), StorageError> {
    let row = row.clone();
    db_run!(conn, c => diesel::insert_into(steps::table)
        .values(row.clone())
        .on_conflict((steps::saga_id, steps::position))
        .do_update()
        .set((
            steps::name.eq(row.name.clone()),
            steps::status.eq(row.status.clone()),
            steps::undo.eq(row.undo.clone()),
            steps::updated_at.eq(row.updated_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

/// A run's steps, in order.
pub async fn steps_of(conn: &mut DbConn, id: &str) -> Result<Vec<StepRow>, StorageError> {
    let key = id.to_owned();
    Ok(db_run!(conn, c => steps::table
        .filter(steps::saga_id.eq(key.clone()))
        .order(steps::position.asc())
        .load::<StepRow>(c)
        .await)?)
}

/// Ids of `kind`'s runs left `running` or `compensating` (a crash), whose lease lapsed.
pub async fn unfinished(
    conn: &mut DbConn,
    kind: &str,
    now: NaiveDateTime,
) -> Result<Vec<String>, StorageError> {
    let kind = kind.to_owned();
    Ok(db_run!(conn, c => sagas::table
        .filter(sagas::kind.eq(kind.clone()))
        .filter(sagas::status.eq_any(["running", "compensating"]))
        .filter(sagas::lease_until.is_null().or(sagas::lease_until.lt(now)))
        .order(sagas::created_at.asc())
        .select(sagas::id)
        .load::<String>(c)
        .await)?)
}

/// Ids of `kind`'s runs left `suspended` (waiting for someone) since before `before`.
pub async fn suspended_since(
    conn: &mut DbConn,
    kind: &str,
    before: NaiveDateTime,
) -> Result<Vec<String>, StorageError> {
    let kind = kind.to_owned();
    Ok(db_run!(conn, c => sagas::table
        .filter(sagas::kind.eq(kind.clone()))
        .filter(sagas::status.eq("suspended"))
        .filter(sagas::updated_at.lt(before))
        .order(sagas::updated_at.asc())
        .limit(100)
        .select(sagas::id)
        .load::<String>(c)
        .await)?)
}
