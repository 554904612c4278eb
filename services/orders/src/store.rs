//! The orders' tables and queries.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use weft_storage::{DbConn, StorageError, any_of, db_run};

diesel::table! {
    orders_orders (id) {
        id -> Text,
        checkout_id -> Text,
        customer_id -> Nullable<Text>,
        email -> Text,
        currency -> Text,
        subtotal -> BigInt,
        discounts -> BigInt,
        shipping -> BigInt,
        tax -> BigInt,
        total -> BigInt,
        status -> Text,
        refunded_total -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        shipping_address -> Nullable<Text>,
        billing_address -> Nullable<Text>,
        shipping_method_id -> Nullable<Text>,
        payment_id -> Nullable<Text>,
    }
}

diesel::table! {
    orders_lines (order_id, position) {
        order_id -> Text,
        position -> Integer,
        variant_id -> Text,
        title -> Text,
        quantity -> BigInt,
        unit_price -> BigInt,
        line_total -> BigInt,
        sku -> Nullable<Text>,
    }
}

diesel::table! {
    orders_history (order_id, seq) {
        order_id -> Text,
        seq -> Integer,
        from_status -> Text,
        to_status -> Text,
        transition -> Text,
        actor -> Text,
        at -> Timestamp,
    }
}

use orders_history as history;
use orders_lines as lines;
use orders_orders as orders;

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = orders_orders)]
pub(crate) struct OrderRow {
    pub id: String,
    pub checkout_id: String,
    pub customer_id: Option<String>,
    pub email: String,
    pub currency: String,
    pub subtotal: i64,
    pub discounts: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
    pub status: String,
    pub refunded_total: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// JSON `PostalAddress`.
    pub shipping_address: Option<String>,
    pub billing_address: Option<String>,
    pub shipping_method_id: Option<String>,
    pub payment_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = orders_lines)]
pub(crate) struct LineRow {
    pub order_id: String,
    pub position: i32,
    pub variant_id: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
    pub sku: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = orders_history)]
pub(crate) struct HistoryRow {
    pub order_id: String,
    pub seq: i32,
    pub from_status: String,
    pub to_status: String,
    /// JSON `Transition`.
    pub transition: String,
    pub actor: String,
    pub at: NaiveDateTime,
}

/// Inserts an order unless its checkout has one; `false` then.
pub(crate) async fn insert(
    conn: &mut DbConn,
    row: &OrderRow,
    items: &[LineRow],
) -> Result<bool, StorageError> {
    let (row, items) = (row.clone(), items.to_vec());
    let n = db_run!(conn, c => diesel::insert_into(orders::table)
        .values(row.clone())
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    if n == 1 {
        // One row at a time: SQLite's diesel backend has no batch insert with defaults.
        for item in items {
            db_run!(conn, c => diesel::insert_into(lines::table).values(item.clone()).execute(c).await)?;
        }
    }
    Ok(n == 1)
}

pub(crate) async fn by_checkout(
    conn: &mut DbConn,
    checkout_id: &str,
) -> Result<Option<OrderRow>, StorageError> {
    let key = checkout_id.to_owned();
    Ok(db_run!(conn, c => orders::table
        .filter(orders::checkout_id.eq(key.clone()))
        .first::<OrderRow>(c)
        .await
        .optional())?)
}

/// An order, locked until the transaction ends (`FOR UPDATE` on PostgreSQL; SQLite's
/// write transaction is exclusive already).
pub(crate) async fn find_locked(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<OrderRow>, StorageError> {
    let key = id.to_owned();
    Ok(match conn {
        DbConn::Postgres(c) => {
            let c: &mut diesel_async::AsyncPgConnection = &mut *c;
            orders::table
                .find(key)
                .for_update()
                .first::<OrderRow>(c)
                .await
                .optional()?
        }
        DbConn::Sqlite(c) => {
            let c: &mut weft_storage::SqliteConn = &mut *c;
            orders::table
                .find(key)
                .first::<OrderRow>(c)
                .await
                .optional()?
        }
    })
}

pub(crate) async fn find(conn: &mut DbConn, id: &str) -> Result<Option<OrderRow>, StorageError> {
    let key = id.to_owned();
    Ok(db_run!(conn, c => orders::table.find(key.clone()).first::<OrderRow>(c).await.optional())?)
}

pub(crate) async fn lines_of(conn: &mut DbConn, id: &str) -> Result<Vec<LineRow>, StorageError> {
    let key = id.to_owned();
    Ok(db_run!(conn, c => lines::table
        .filter(lines::order_id.eq(key.clone()))
        .order(lines::position.asc())
        .load::<LineRow>(c)
        .await)?)
}

pub(crate) async fn history_of(
    conn: &mut DbConn,
    id: &str,
) -> Result<Vec<HistoryRow>, StorageError> {
    let key = id.to_owned();
    Ok(db_run!(conn, c => history::table
        .filter(history::order_id.eq(key.clone()))
        .order(history::seq.asc())
        .load::<HistoryRow>(c)
        .await)?)
}

pub(crate) async fn set_status(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    refunded_total: i64,
    payment_id: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), StorageError> {
    let (key, status, payment) = (
        id.to_owned(),
        status.to_owned(),
        payment_id.map(str::to_owned),
    );
    db_run!(conn, c => diesel::update(orders::table.find(key.clone()))
        .set((
            orders::status.eq(status.clone()),
            orders::refunded_total.eq(refunded_total),
            orders::payment_id.eq(payment.clone()),
            orders::updated_at.eq(now),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

/// Which orders a list shows.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListFilter {
    pub customer_id: Option<String>,
    pub status: Option<String>,
}

/// Orders newest first, after `before` (an id: ids sort by time).
pub(crate) async fn list(
    conn: &mut DbConn,
    filter: &ListFilter,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<OrderRow>, StorageError> {
    let (f, before) = (filter.clone(), before.map(str::to_owned));
    Ok(db_run!(conn, c => {
        let mut q = orders::table.into_boxed();
        if let Some(v) = &f.customer_id {
            q = q.filter(orders::customer_id.eq(v.clone()));
        }
        if let Some(v) = &f.status {
            q = q.filter(orders::status.eq(v.clone()));
        }
        if let Some(b) = &before {
            q = q.filter(orders::id.lt(b.clone()));
        }
        q.order(orders::id.desc()).limit(limit).load::<OrderRow>(c).await
    })?)
}

/// The lines of many orders, by order then position.
pub(crate) async fn lines_of_many(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<Vec<LineRow>, StorageError> {
    let ids = ids.to_vec();
    Ok(db_run!(conn, c => lines::table
        .filter(any_of(lines::order_id, &ids))
        .order((lines::order_id.asc(), lines::position.asc()))
        .load::<LineRow>(c)
        .await)?)
}

pub(crate) async fn add_history(conn: &mut DbConn, row: &HistoryRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(history::table).values(row.clone()).execute(c).await)?;
    Ok(())
}

diesel::table! {
    orders_refunds (id) {
        id -> Text,
        order_id -> Text,
        return_id -> Nullable<Text>,
        amount -> BigInt,
        reason -> Text,
        idempotency_key -> Text,
        status -> Text,
        provider_ref -> Nullable<Text>,
        error -> Nullable<Text>,
        actor -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    orders_returns (id) {
        id -> Text,
        order_id -> Text,
        status -> Text,
        reason -> Text,
        items -> Text,
        history -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    orders_settlements (order_id) {
        order_id -> Text,
        payment_id -> Text,
        status -> Text,
        attempts -> Integer,
        error -> Nullable<Text>,
        updated_at -> Timestamp,
    }
}

use orders_refunds as refunds;
use orders_returns as returns;
use orders_settlements as settlements;

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = orders_refunds)]
pub(crate) struct RefundRow {
    pub id: String,
    pub order_id: String,
    pub return_id: Option<String>,
    pub amount: i64,
    pub reason: String,
    pub idempotency_key: String,
    /// `pending` (the gateway not yet answered), `succeeded` or `failed`.
    pub status: String,
    pub provider_ref: Option<String>,
    pub error: Option<String>,
    pub actor: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = orders_returns)]
pub(crate) struct ReturnRow {
    pub id: String,
    pub order_id: String,
    pub status: String,
    pub reason: String,
    /// JSON `[ReturnItem]`.
    pub items: String,
    /// JSON `[ReturnMove]`.
    pub history: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = orders_settlements)]
pub(crate) struct SettlementRow {
    pub order_id: String,
    pub payment_id: String,
    /// `pending`, `settled` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub error: Option<String>,
    pub updated_at: NaiveDateTime,
}

pub(crate) async fn insert_refund(conn: &mut DbConn, row: &RefundRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(refunds::table).values(row.clone()).execute(c).await)?;
    Ok(())
}

pub(crate) async fn refund_by_key(
    conn: &mut DbConn,
    order_id: &str,
    key: &str,
) -> Result<Option<RefundRow>, StorageError> {
    let (order, key) = (order_id.to_owned(), key.to_owned());
    Ok(db_run!(conn, c => refunds::table
        .filter(refunds::order_id.eq(order.clone()))
        .filter(refunds::idempotency_key.eq(key.clone()))
        .first::<RefundRow>(c)
        .await
        .optional())?)
}

pub(crate) async fn find_refund(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<RefundRow>, StorageError> {
    let key = id.to_owned();
    Ok(db_run!(conn, c => refunds::table.find(key.clone()).first::<RefundRow>(c).await.optional())?)
}

pub(crate) async fn refunds_of(
    conn: &mut DbConn,
    order_id: &str,
) -> Result<Vec<RefundRow>, StorageError> {
    let key = order_id.to_owned();
    Ok(db_run!(conn, c => refunds::table
        .filter(refunds::order_id.eq(key.clone()))
        .order(refunds::id.asc())
        .load::<RefundRow>(c)
        .await)?)
}

/// Refunds still waiting for the gateway's answer, last touched before `before`.
pub(crate) async fn pending_refunds(
    conn: &mut DbConn,
    before: NaiveDateTime,
    limit: i64,
) -> Result<Vec<RefundRow>, StorageError> {
    Ok(db_run!(conn, c => refunds::table
        .filter(refunds::status.eq("pending"))
        .filter(refunds::updated_at.lt(before))
        .order(refunds::updated_at.asc())
        .limit(limit)
        .load::<RefundRow>(c)
        .await)?)
}

pub(crate) async fn finish_refund(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    provider_ref: Option<&str>,
    error: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), StorageError> {
    let (key, status, reference, error) = (
        id.to_owned(),
        status.to_owned(),
        provider_ref.map(str::to_owned),
        error.map(str::to_owned),
    );
    db_run!(conn, c => diesel::update(refunds::table.find(key.clone()))
        .set((
            refunds::status.eq(status.clone()),
            refunds::provider_ref.eq(reference.clone()),
            refunds::error.eq(error.clone()),
            refunds::updated_at.eq(now),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn insert_return(conn: &mut DbConn, row: &ReturnRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(returns::table).values(row.clone()).execute(c).await)?;
    Ok(())
}

pub(crate) async fn find_return(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<ReturnRow>, StorageError> {
    let key = id.to_owned();
    Ok(db_run!(conn, c => returns::table.find(key.clone()).first::<ReturnRow>(c).await.optional())?)
}

pub(crate) async fn returns_of(
    conn: &mut DbConn,
    order_id: &str,
) -> Result<Vec<ReturnRow>, StorageError> {
    let key = order_id.to_owned();
    Ok(db_run!(conn, c => returns::table
        .filter(returns::order_id.eq(key.clone()))
        .order(returns::id.asc())
        .load::<ReturnRow>(c)
        .await)?)
}

/// Returns newest first, after `before`, in `status` when given.
pub(crate) async fn list_returns(
    conn: &mut DbConn,
    status: Option<&str>,
    before: Option<&str>,
    limit: i64,
) -> Result<Vec<ReturnRow>, StorageError> {
    let (status, before) = (status.map(str::to_owned), before.map(str::to_owned));
    Ok(db_run!(conn, c => {
        let mut q = returns::table.into_boxed();
        if let Some(s) = &status {
            q = q.filter(returns::status.eq(s.clone()));
        }
        if let Some(b) = &before {
            q = q.filter(returns::id.lt(b.clone()));
        }
        q.order(returns::id.desc()).limit(limit).load::<ReturnRow>(c).await
    })?)
}

pub(crate) async fn update_return(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    history: &str,
    now: NaiveDateTime,
) -> Result<(), StorageError> {
    let (key, status, history) = (id.to_owned(), status.to_owned(), history.to_owned());
    db_run!(conn, c => diesel::update(returns::table.find(key.clone()))
        .set((
            returns::status.eq(status.clone()),
            returns::history.eq(history.clone()),
            returns::updated_at.eq(now),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn insert_settlement(
    conn: &mut DbConn,
    row: &SettlementRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(settlements::table)
        .values(row.clone())
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn find_settlement(
    conn: &mut DbConn,
    order_id: &str,
) -> Result<Option<SettlementRow>, StorageError> {
    let key = order_id.to_owned();
    Ok(
        db_run!(conn, c => settlements::table.find(key.clone()).first::<SettlementRow>(c).await.optional())?,
    )
}

pub(crate) async fn pending_settlements(
    conn: &mut DbConn,
    limit: i64,
) -> Result<Vec<SettlementRow>, StorageError> {
    Ok(db_run!(conn, c => settlements::table
        .filter(settlements::status.eq("pending"))
        .order(settlements::updated_at.asc())
        .limit(limit)
        .load::<SettlementRow>(c)
        .await)?)
}

pub(crate) async fn finish_settlement(
    conn: &mut DbConn,
    order_id: &str,
    status: &str,
    attempts: i32,
    error: Option<&str>,
    now: NaiveDateTime,
) -> Result<(), StorageError> {
    let (key, status, error) = (
        order_id.to_owned(),
        status.to_owned(),
        error.map(str::to_owned),
    );
    db_run!(conn, c => diesel::update(settlements::table.find(key.clone()))
        .set((
            settlements::status.eq(status.clone()),
            settlements::attempts.eq(attempts),
            settlements::error.eq(error.clone()),
            settlements::updated_at.eq(now),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn set_refunded_total(
    conn: &mut DbConn,
    id: &str,
    refunded_total: i64,
    now: NaiveDateTime,
) -> Result<(), StorageError> {
    let key = id.to_owned();
    db_run!(conn, c => diesel::update(orders::table.find(key.clone()))
        .set((orders::refunded_total.eq(refunded_total), orders::updated_at.eq(now)))
        .execute(c)
        .await)?;
    Ok(())
}

/// Replaces the e-mail address of `customer_id`'s orders with `placeholder` and drops
/// their postal addresses. Returns how many orders changed.
pub async fn erase_customer(
    conn: &mut DbConn,
    customer_id: &str,
    placeholder: &str,
    now: NaiveDateTime,
) -> Result<usize, StorageError> {
    Ok(
        db_run!(conn, c => diesel::update(orders::table.filter(orders::customer_id.eq(customer_id)))
        .set((
            orders::email.eq(placeholder),
            orders::shipping_address.eq(None::<String>),
            orders::billing_address.eq(None::<String>),
            orders::updated_at.eq(now),
        ))
        .execute(c)
        .await)?,
    )
}
