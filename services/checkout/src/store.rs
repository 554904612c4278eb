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
            checkouts::status.eq(r.status.clone()),
            checkouts::updated_at.eq(r.updated_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}
