//! The event tables: `platform_outbox` (events waiting to be published, written inside
//! the transaction that caused them), `platform_inbox` (events each consumer applied) and
//! `platform_dead_letters` (events a consumer gave up on). The bus crate drives them.

use chrono::NaiveDateTime;
use diesel::{BoolExpressionMethods, ExpressionMethods, QueryDsl};
use diesel_async::RunQueryDsl;

use crate::{Db, DbConn, StorageError, db_run};

diesel::table! {
    platform_outbox (id) {
        id -> Text,
        event_type -> Text,
        event_version -> Integer,
        aggregate_id -> Text,
        payload -> Text,
        trace_context -> Nullable<Text>,
        occurred_at -> Timestamp,
        claimed_by -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        published_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    platform_inbox (consumer, event_id) {
        consumer -> Text,
        event_id -> Text,
        handled_at -> Timestamp,
    }
}

diesel::table! {
    platform_dead_letters (id) {
        id -> Text,
        consumer -> Text,
        event_id -> Text,
        event_type -> Text,
        envelope -> Text,
        attempts -> Integer,
        last_error -> Text,
        failed_at -> Timestamp,
    }
}

use platform_dead_letters as dead;
use platform_inbox as inbox;
use platform_outbox as outbox;

/// One outbox row, as written and as read back for publishing.
#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = platform_outbox)]
pub struct OutboxRow {
    pub id: String,
    pub event_type: String,
    pub event_version: i32,
    pub aggregate_id: String,
    pub payload: String,
    pub trace_context: Option<String>,
    pub occurred_at: NaiveDateTime,
}

/// Appends events to the outbox on `conn`, which must be inside the transaction making
/// the change they describe: they commit, or vanish, together.
pub async fn append_outbox(conn: &mut DbConn, rows: &[OutboxRow]) -> Result<(), StorageError> {
    // One statement per row: SQLite cannot batch rows with optional (DEFAULT) columns,
    // and a transaction rarely writes more than a few events.
    for row in rows {
        db_run!(conn, c => diesel::insert_into(outbox::table).values(row).execute(c).await)?;
    }
    Ok(())
}

/// Leases up to `limit` unpublished events to relay `relay` until `lease_until`, oldest
/// first, skipping rows another live relay holds; returns them.
pub async fn claim_outbox(
    db: &Db,
    relay: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> Result<Vec<OutboxRow>, StorageError> {
    db.transaction(async |conn: &mut DbConn| {
        let free = outbox::published_at.is_null().and(
            outbox::claimed_until
                .is_null()
                .or(outbox::claimed_until.lt(now)),
        );
        let ids: Vec<String> = match conn {
            // Concurrent relays skip each other's locked rows instead of waiting on them.
            DbConn::Postgres(c) => {
                outbox::table
                    .select(outbox::id)
                    .filter(free)
                    .order(outbox::id)
                    .limit(limit)
                    .for_update()
                    .skip_locked()
                    .load(&mut ***c)
                    .await?
            }
            // BEGIN IMMEDIATE already holds SQLite's single write lock.
            DbConn::Sqlite(c) => {
                outbox::table
                    .select(outbox::id)
                    .filter(free)
                    .order(outbox::id)
                    .limit(limit)
                    .load(&mut **c)
                    .await?
            }
        };
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        db_run!(conn, c => diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set((outbox::claimed_by.eq(relay), outbox::claimed_until.eq(lease_until)))
            .execute(c)
            .await)?;
        let rows = db_run!(conn, c => outbox::table
            .filter(outbox::id.eq_any(&ids))
            .order(outbox::id)
            .select((
                outbox::id,
                outbox::event_type,
                outbox::event_version,
                outbox::aggregate_id,
                outbox::payload,
                outbox::trace_context,
                outbox::occurred_at,
            ))
            .load::<OutboxRow>(c)
            .await)?;
        Ok(rows)
    })
    .await
}

/// Records that `ids` were published (confirmed by the broker, or handled in-process).
pub async fn mark_published(
    db: &Db,
    ids: &[String],
    at: NaiveDateTime,
) -> Result<(), StorageError> {
    db.transaction(async |conn: &mut DbConn| {
        db_run!(conn, c => diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
            .set((outbox::published_at.eq(Some(at)), outbox::claimed_by.eq(None::<String>), outbox::claimed_until.eq(None::<NaiveDateTime>)))
            .execute(c)
            .await)?;
        Ok::<_, StorageError>(())
    })
    .await
}

/// Gives back a lease without publishing (the broker was unreachable).
pub async fn release_claim(db: &Db, ids: &[String]) -> Result<(), StorageError> {
    db.transaction(async |conn: &mut DbConn| {
        db_run!(conn, c => diesel::update(outbox::table.filter(outbox::id.eq_any(ids)).filter(outbox::published_at.is_null()))
            .set((outbox::claimed_by.eq(None::<String>), outbox::claimed_until.eq(None::<NaiveDateTime>)))
            .execute(c)
            .await)?;
        Ok::<_, StorageError>(())
    })
    .await
}

/// How many events still wait to be published.
pub async fn count_unpublished(db: &Db) -> Result<i64, StorageError> {
    let mut conn = db.conn().await?;
    Ok(
        db_run!(&mut conn, c => outbox::table.filter(outbox::published_at.is_null()).count().get_result::<i64>(c).await)?,
    )
}

/// Deletes events published before `before`; returns how many.
pub async fn delete_published_before(
    db: &Db,
    before: NaiveDateTime,
) -> Result<usize, StorageError> {
    db.transaction(async |conn: &mut DbConn| {
        Ok(
            db_run!(conn, c => diesel::delete(outbox::table.filter(outbox::published_at.lt(before))).execute(c).await)?,
        )
    })
    .await
}

/// Records that `consumer` handled `event_id`, on `conn` inside the consumer's own
/// transaction. `false` means it already had: the caller must apply nothing.
pub async fn record_in_inbox(
    conn: &mut DbConn,
    consumer: &str,
    event_id: &str,
    at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let inserted = db_run!(conn, c => diesel::insert_into(inbox::table)
        .values((inbox::consumer.eq(consumer), inbox::event_id.eq(event_id), inbox::handled_at.eq(at)))
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(inserted == 1)
}

/// Forgets inbox records older than `before` (far older than any redelivery).
pub async fn delete_inbox_before(db: &Db, before: NaiveDateTime) -> Result<usize, StorageError> {
    db.transaction(async |conn: &mut DbConn| {
        Ok(
            db_run!(conn, c => diesel::delete(inbox::table.filter(inbox::handled_at.lt(before))).execute(c).await)?,
        )
    })
    .await
}

/// How many events `consumer` has handled.
pub async fn count_inbox(db: &Db, consumer: &str) -> Result<i64, StorageError> {
    let mut conn = db.conn().await?;
    Ok(
        db_run!(&mut conn, c => inbox::table.filter(inbox::consumer.eq(consumer)).count().get_result::<i64>(c).await)?,
    )
}

/// A dead-lettered event.
#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = platform_dead_letters)]
pub struct DeadLetter {
    pub id: String,
    pub consumer: String,
    pub event_id: String,
    pub event_type: String,
    pub envelope: String,
    pub attempts: i32,
    pub last_error: String,
    pub failed_at: NaiveDateTime,
}

pub async fn insert_dead_letter(db: &Db, letter: &DeadLetter) -> Result<(), StorageError> {
    db.transaction(async |conn: &mut DbConn| {
        db_run!(conn, c => diesel::insert_into(dead::table).values(letter).on_conflict_do_nothing().execute(c).await)?;
        Ok::<_, StorageError>(())
    })
    .await
}

/// Dead letters of `consumer`, newest first.
pub async fn list_dead_letters(
    db: &Db,
    consumer: &str,
    limit: i64,
) -> Result<Vec<DeadLetter>, StorageError> {
    let mut conn = db.conn().await?;
    Ok(db_run!(&mut conn, c => dead::table
        .filter(dead::consumer.eq(consumer))
        .order(dead::failed_at.desc())
        .limit(limit)
        .load::<DeadLetter>(c)
        .await)?)
}
