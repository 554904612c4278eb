//! The cart's tables and queries.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use weft_storage::{DbConn, StorageError, db_run};

diesel::table! {
    cart_carts (id) {
        id -> Text,
        customer_id -> Nullable<Text>,
        currency -> Text,
        country -> Nullable<Text>,
        region -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        expires_at -> Timestamp,
        shipping_method_id -> Nullable<Text>,
    }
}

diesel::table! {
    cart_items (id) {
        id -> Text,
        cart_id -> Text,
        variant_id -> Text,
        quantity -> BigInt,
        created_at -> Timestamp,
    }
}

use cart_carts as carts;
use cart_items as items;

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = cart_carts)]
pub(crate) struct CartRow {
    pub id: String,
    pub customer_id: Option<String>,
    pub currency: String,
    pub country: Option<String>,
    pub region: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub shipping_method_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = cart_items)]
pub(crate) struct ItemRow {
    pub id: String,
    pub cart_id: String,
    pub variant_id: String,
    pub quantity: i64,
    pub created_at: NaiveDateTime,
}

pub(crate) async fn insert_cart(conn: &mut DbConn, row: &CartRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(carts::table).values(row.clone()).execute(c).await)?;
    Ok(())
}

/// A cart that has not expired at `now`.
pub(crate) async fn find_live_cart(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
) -> Result<Option<CartRow>, StorageError> {
    let key = id.to_owned();
    Ok(db_run!(conn, c => carts::table
        .filter(carts::id.eq(key.clone()))
        .filter(carts::expires_at.gt(now))
        .first::<CartRow>(c)
        .await
        .optional())?)
}

/// The customer's most recently changed live cart.
pub(crate) async fn customer_cart(
    conn: &mut DbConn,
    customer_id: &str,
    now: NaiveDateTime,
) -> Result<Option<CartRow>, StorageError> {
    let key = customer_id.to_owned();
    Ok(db_run!(conn, c => carts::table
        .filter(carts::customer_id.eq(key.clone()))
        .filter(carts::expires_at.gt(now))
        .order(carts::updated_at.desc())
        .first::<CartRow>(c)
        .await
        .optional())?)
}

/// Marks a change: the cart lives another `ttl` from now.
pub(crate) async fn touch_cart(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<(), StorageError> {
    let key = id.to_owned();
    db_run!(conn, c => diesel::update(carts::table.find(key.clone()))
        .set((carts::updated_at.eq(now), carts::expires_at.eq(expires_at)))
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn set_destination(
    conn: &mut DbConn,
    id: &str,
    country: Option<&str>,
    region: Option<&str>,
) -> Result<(), StorageError> {
    let (key, country, region) = (
        id.to_owned(),
        country.map(str::to_owned),
        region.map(str::to_owned),
    );
    db_run!(conn, c => diesel::update(carts::table.find(key.clone()))
        .set((carts::country.eq(country.clone()), carts::region.eq(region.clone())))
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn set_shipping_method(
    conn: &mut DbConn,
    id: &str,
    method: Option<&str>,
) -> Result<(), StorageError> {
    let (key, method) = (id.to_owned(), method.map(str::to_owned));
    db_run!(conn, c => diesel::update(carts::table.find(key.clone()))
        .set(carts::shipping_method_id.eq(method.clone()))
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn items_of(
    conn: &mut DbConn,
    cart_id: &str,
) -> Result<Vec<ItemRow>, StorageError> {
    let key = cart_id.to_owned();
    Ok(db_run!(conn, c => items::table
        .filter(items::cart_id.eq(key.clone()))
        .order((items::created_at.asc(), items::id.asc()))
        .load::<ItemRow>(c)
        .await)?)
}

pub(crate) async fn insert_item(conn: &mut DbConn, row: &ItemRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(items::table).values(row.clone()).execute(c).await)?;
    Ok(())
}

pub(crate) async fn set_quantity(
    conn: &mut DbConn,
    item_id: &str,
    quantity: i64,
) -> Result<(), StorageError> {
    let key = item_id.to_owned();
    db_run!(conn, c => diesel::update(items::table.find(key.clone()))
        .set(items::quantity.eq(quantity))
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn delete_item(conn: &mut DbConn, item_id: &str) -> Result<(), StorageError> {
    let key = item_id.to_owned();
    db_run!(conn, c => diesel::delete(items::table.find(key.clone())).execute(c).await)?;
    Ok(())
}

pub(crate) async fn delete_cart(conn: &mut DbConn, id: &str) -> Result<(), StorageError> {
    let key = id.to_owned();
    db_run!(conn, c => diesel::delete(items::table.filter(items::cart_id.eq(key.clone()))).execute(c).await)?;
    db_run!(conn, c => diesel::delete(carts::table.find(key.clone())).execute(c).await)?;
    Ok(())
}

/// Deletes up to `limit` carts expired at `now` (their lines go with them); returns how many.
pub(crate) async fn delete_expired(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> Result<usize, StorageError> {
    let ids: Vec<String> = db_run!(conn, c => carts::table
        .filter(carts::expires_at.le(now))
        .select(carts::id)
        .limit(limit)
        .load::<String>(c)
        .await)?;
    if ids.is_empty() {
        return Ok(0);
    }
    db_run!(conn, c => diesel::delete(items::table.filter(items::cart_id.eq_any(ids.clone()))).execute(c).await)?;
    Ok(
        db_run!(conn, c => diesel::delete(carts::table.filter(carts::id.eq_any(ids.clone()))).execute(c).await)?,
    )
}
