//! The payments log's tables and queries (`payments_payments`, `payments_transactions`).

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use weft_storage::{DbConn, StorageError, any_of, db_run};

diesel::table! {
    payments_payments (id) {
        id -> Text,
        attempt -> Text,
        checkout_id -> Text,
        order_id -> Nullable<Text>,
        provider -> Text,
        provider_ref -> Nullable<Text>,
        amount -> BigInt,
        currency -> Text,
        status -> Text,
        captured -> BigInt,
        refunded -> BigInt,
        decline_code -> Nullable<Text>,
        next_action -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    payments_transactions (payment_id, seq) {
        payment_id -> Text,
        seq -> Integer,
        kind -> Text,
        status -> Text,
        amount -> BigInt,
        provider_ref -> Nullable<Text>,
        code -> Nullable<Text>,
        idempotency_key -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

use payments_payments as payments;
use payments_transactions as transactions;

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = payments_payments)]
pub(crate) struct PaymentRow {
    pub id: String,
    /// The checkout attempt (saga run) it pays for: one payment per attempt.
    pub attempt: String,
    pub checkout_id: String,
    pub order_id: Option<String>,
    pub provider: String,
    pub provider_ref: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub status: String,
    pub captured: i64,
    pub refunded: i64,
    pub decline_code: Option<String>,
    /// JSON: what the client must do (3-D Secure), while `requires_action`.
    pub next_action: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = payments_transactions)]
pub(crate) struct TransactionRow {
    pub payment_id: String,
    pub seq: i32,
    /// `authorize`, `confirm`, `capture`, `void` or `refund`.
    pub kind: String,
    /// `succeeded`, `requires_action` or `declined`.
    pub status: String,
    pub amount: i64,
    /// The gateway's reference (a refund's own id for refunds).
    pub provider_ref: Option<String>,
    pub code: Option<String>,
    pub idempotency_key: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Inserts a payment unless its attempt has one; `false` then.
pub(crate) async fn insert(conn: &mut DbConn, row: &PaymentRow) -> Result<bool, StorageError> {
    let row = row.clone();
    let n = db_run!(conn, c => diesel::insert_into(payments::table)
        .values(row.clone())
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(n == 1)
}

pub(crate) async fn by_attempt(
    conn: &mut DbConn,
    attempt: &str,
) -> Result<Option<PaymentRow>, StorageError> {
    let key = attempt.to_owned();
    Ok(db_run!(conn, c => payments::table
        .filter(payments::attempt.eq(key.clone()))
        .first::<PaymentRow>(c)
        .await
        .optional())?)
}

pub(crate) async fn find(conn: &mut DbConn, id: &str) -> Result<Option<PaymentRow>, StorageError> {
    let key = id.to_owned();
    Ok(
        db_run!(conn, c => payments::table.find(key.clone()).first::<PaymentRow>(c).await.optional())?,
    )
}

/// A payment, locked until the transaction ends (`FOR UPDATE` on PostgreSQL; SQLite's
/// write transaction is exclusive already): two refunds cannot both pass the bound.
pub(crate) async fn find_locked(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<PaymentRow>, StorageError> {
    let key = id.to_owned();
    Ok(match conn {
        DbConn::Postgres(c) => {
            let c: &mut diesel_async::AsyncPgConnection = &mut *c;
            payments::table
                .find(key)
                .for_update()
                .first::<PaymentRow>(c)
                .await
                .optional()?
        }
        DbConn::Sqlite(c) => {
            let c: &mut weft_storage::SqliteConn = &mut *c;
            payments::table
                .find(key)
                .first::<PaymentRow>(c)
                .await
                .optional()?
        }
    })
}

pub(crate) async fn update(conn: &mut DbConn, row: &PaymentRow) -> Result<(), StorageError> {
    let r = row.clone();
    db_run!(conn, c => diesel::update(payments::table.find(r.id.clone()))
        .set((
            payments::order_id.eq(r.order_id.clone()),
            payments::provider_ref.eq(r.provider_ref.clone()),
            payments::status.eq(r.status.clone()),
            payments::captured.eq(r.captured),
            payments::refunded.eq(r.refunded),
            payments::decline_code.eq(r.decline_code.clone()),
            payments::next_action.eq(r.next_action.clone()),
            payments::updated_at.eq(r.updated_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

/// Filters of the admin list.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListFilter {
    pub checkout_id: Option<String>,
    pub order_id: Option<String>,
    pub status: Option<String>,
}

/// Payments newest first, after `before` (an id: ids sort by time).
pub(crate) async fn list(
    conn: &mut DbConn,
    filter: &ListFilter,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<PaymentRow>, StorageError> {
    let (f, before) = (filter.clone(), before.map(str::to_owned));
    Ok(db_run!(conn, c => {
        let mut q = payments::table.into_boxed();
        if let Some(v) = &f.checkout_id {
            q = q.filter(payments::checkout_id.eq(v.clone()));
        }
        if let Some(v) = &f.order_id {
            q = q.filter(payments::order_id.eq(v.clone()));
        }
        if let Some(v) = &f.status {
            q = q.filter(payments::status.eq(v.clone()));
        }
        if let Some(b) = &before {
            q = q.filter(payments::id.lt(b.clone()));
        }
        q.order(payments::id.desc()).limit(limit).load::<PaymentRow>(c).await
    })?)
}

pub(crate) async fn transactions_of(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<Vec<TransactionRow>, StorageError> {
    let ids = ids.to_vec();
    Ok(db_run!(conn, c => transactions::table
        .filter(any_of(transactions::payment_id, &ids))
        .order((transactions::payment_id.asc(), transactions::seq.asc()))
        .load::<TransactionRow>(c)
        .await)?)
}

/// Appends a transaction to a payment's log (its next `seq`).
pub(crate) async fn add_transaction(
    conn: &mut DbConn,
    mut row: TransactionRow,
) -> Result<(), StorageError> {
    let key = row.payment_id.clone();
    let last: Option<i32> = db_run!(conn, c => transactions::table
        .filter(transactions::payment_id.eq(key.clone()))
        .select(diesel::dsl::max(transactions::seq))
        .first::<Option<i32>>(c)
        .await)?;
    row.seq = last.map_or(0, |s| s + 1);
    db_run!(conn, c => diesel::insert_into(transactions::table).values(row.clone()).execute(c).await)?;
    Ok(())
}

/// A refund already made under `key` for this payment.
pub(crate) async fn refund_by_key(
    conn: &mut DbConn,
    payment_id: &str,
    key: &str,
) -> Result<Option<TransactionRow>, StorageError> {
    let (id, key) = (payment_id.to_owned(), key.to_owned());
    Ok(db_run!(conn, c => transactions::table
        .filter(transactions::payment_id.eq(id.clone()))
        .filter(transactions::kind.eq("refund"))
        .filter(transactions::idempotency_key.eq(key.clone()))
        .first::<TransactionRow>(c)
        .await
        .optional())?)
}

diesel::table! {
    payments_webhook_events (provider, event_id) {
        provider -> Text,
        event_id -> Text,
        kind -> Text,
        provider_ref -> Nullable<Text>,
        outcome -> Text,
        received_at -> Timestamp,
    }
}

use payments_webhook_events as webhook_events;

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = payments_webhook_events)]
pub(crate) struct WebhookEventRow {
    pub provider: String,
    pub event_id: String,
    pub kind: String,
    pub provider_ref: Option<String>,
    /// `processed` or `ignored` (no payment of Weft's, or a kind it does not act on).
    pub outcome: String,
    pub received_at: NaiveDateTime,
}

/// Records a gateway event as processed unless it was already: `false` for a replay.
/// Concurrent deliveries of one event wait on the key; only the first inserts.
pub(crate) async fn claim_webhook_event(
    conn: &mut DbConn,
    row: &WebhookEventRow,
) -> Result<bool, StorageError> {
    let row = row.clone();
    let n = db_run!(conn, c => diesel::insert_into(webhook_events::table)
        .values(row.clone())
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(n == 1)
}

pub(crate) async fn set_webhook_outcome(
    conn: &mut DbConn,
    provider: &str,
    event_id: &str,
    outcome: &str,
) -> Result<(), StorageError> {
    let (p, e, o) = (provider.to_owned(), event_id.to_owned(), outcome.to_owned());
    db_run!(conn, c => diesel::update(webhook_events::table.find((p.clone(), e.clone())))
        .set(webhook_events::outcome.eq(o.clone()))
        .execute(c)
        .await)?;
    Ok(())
}

/// The payment a gateway reference belongs to, locked as [`find_locked`] does.
pub(crate) async fn find_locked_by_ref(
    conn: &mut DbConn,
    provider: &str,
    provider_ref: &str,
) -> Result<Option<PaymentRow>, StorageError> {
    let (p, r) = (provider.to_owned(), provider_ref.to_owned());
    let id: Option<String> = db_run!(conn, c => payments::table
        .filter(payments::provider.eq(p.clone()))
        .filter(payments::provider_ref.eq(r.clone()))
        .select(payments::id)
        .first::<String>(c)
        .await
        .optional())?;
    match id {
        Some(id) => find_locked(conn, &id).await,
        None => Ok(None),
    }
}

/// Whether the payment's log already has a transaction with this gateway reference (a
/// refund recorded from an earlier event).
pub(crate) async fn has_transaction_ref(
    conn: &mut DbConn,
    payment_id: &str,
    provider_ref: &str,
) -> Result<bool, StorageError> {
    let (id, r) = (payment_id.to_owned(), provider_ref.to_owned());
    let n: i64 = db_run!(conn, c => transactions::table
        .filter(transactions::payment_id.eq(id.clone()))
        .filter(transactions::provider_ref.eq(r.clone()))
        .count()
        .get_result::<i64>(c)
        .await)?;
    Ok(n > 0)
}
