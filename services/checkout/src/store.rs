//! The checkout's table and queries.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use weft_storage::{DbConn, StorageError, db_run};

diesel::table! {
    checkout_checkouts (id) {
        id -> Text,
        cart_id -> Text,
        customer_id -> Nullable<Text>,
        email -> Nullable<Text>,
        shipping_address -> Nullable<Text>,
        billing_address -> Nullable<Text>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        attempt -> Integer,
        order_id -> Nullable<Text>,
        summary -> Nullable<Text>,
    }
}

use checkout_checkouts as checkouts;

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = checkout_checkouts)]
pub(crate) struct CheckoutRow {
    pub id: String,
    pub cart_id: String,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    /// JSON `PostalAddress`.
    pub shipping_address: Option<String>,
    pub billing_address: Option<String>,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The current completion attempt: 0 before the first, then 1, 2, … (a new one only
    /// after the last was undone).
    pub attempt: i32,
    pub order_id: Option<String>,
    /// JSON `CartSummary`: what was bought, once completed.
    pub summary: Option<String>,
}

pub(crate) async fn insert(conn: &mut DbConn, row: &CheckoutRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(checkouts::table).values(row.clone()).execute(c).await)?;
    Ok(())
}

pub(crate) async fn find(conn: &mut DbConn, id: &str) -> Result<Option<CheckoutRow>, StorageError> {
    let key = id.to_owned();
    Ok(
        db_run!(conn, c => checkouts::table.find(key.clone()).first::<CheckoutRow>(c).await.optional())?,
    )
}

pub(crate) async fn update(conn: &mut DbConn, row: &CheckoutRow) -> Result<(), StorageError> {
    let r = row.clone();
    db_run!(conn, c => diesel::update(checkouts::table.find(r.id.clone()))
        .set((
            checkouts::email.eq(r.email.clone()),
            checkouts::shipping_address.eq(r.shipping_address.clone()),
            checkouts::billing_address.eq(r.billing_address.clone()),
            checkouts::updated_at.eq(r.updated_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

/// Moves the checkout's current attempt from `from` to `from + 1`; `false` when another
/// request moved it first (it then runs that attempt).
pub(crate) async fn next_attempt(
    conn: &mut DbConn,
    id: &str,
    from: i32,
    now: NaiveDateTime,
) -> Result<bool, StorageError> {
    let key = id.to_owned();
    let n = db_run!(conn, c => diesel::update(
            checkouts::table
                .filter(checkouts::id.eq(key.clone()))
                .filter(checkouts::attempt.eq(from))
                .filter(checkouts::status.eq("open")),
        )
        .set((checkouts::attempt.eq(from + 1), checkouts::updated_at.eq(now)))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

/// Marks the checkout completed with its order and the summary it was bought at.
pub(crate) async fn complete(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    order_id: &str,
    summary: &str,
    now: NaiveDateTime,
) -> Result<(), StorageError> {
    let (key, status, order, summary) = (
        id.to_owned(),
        status.to_owned(),
        order_id.to_owned(),
        summary.to_owned(),
    );
    db_run!(conn, c => diesel::update(checkouts::table.find(key.clone()))
        .set((
            checkouts::status.eq(status.clone()),
            checkouts::order_id.eq(Some(order.clone())),
            checkouts::summary.eq(Some(summary.clone())),
            checkouts::updated_at.eq(now),
        ))
        .execute(c)
        .await)?;
    Ok(())
}
