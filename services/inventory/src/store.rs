//! Inventory's tables and queries. Every function takes a connection; writes take one
//! inside the caller's transaction.

use chrono::NaiveDateTime;
use diesel::{BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use weft_storage::{DbConn, StorageError, any_of, db_run};

diesel::table! {
    inventory_locations (id) {
        id -> Text,
        code -> Text,
        name -> Text,
        is_default -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    inventory_items (variant_id) {
        variant_id -> Text,
        low_stock_threshold -> BigInt,
        allow_backorder -> Bool,
        low -> Bool,
        updated_at -> Timestamp,
        status -> Text,
        status_version -> BigInt,
    }
}

diesel::table! {
    inventory_levels (variant_id, location_id) {
        variant_id -> Text,
        location_id -> Text,
        on_hand -> BigInt,
        reserved -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    inventory_reservations (id) {
        id -> Text,
        variant_id -> Text,
        location_id -> Text,
        quantity -> BigInt,
        reference -> Text,
        status -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(inventory_levels -> inventory_locations (location_id));
diesel::allow_tables_to_appear_in_same_query!(inventory_levels, inventory_locations);

use inventory_items as items;
use inventory_levels as levels;
use inventory_locations as locations;
use inventory_reservations as reservations;

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = inventory_locations)]
pub(crate) struct LocationRow {
    pub id: String,
    pub code: String,
    pub name: String,
    pub is_default: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = inventory_items)]
pub(crate) struct ItemRow {
    pub variant_id: String,
    pub low_stock_threshold: i64,
    pub allow_backorder: bool,
    pub low: bool,
    pub updated_at: NaiveDateTime,
    /// The stock status last published.
    pub status: String,
    pub status_version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = inventory_levels)]
pub(crate) struct LevelRow {
    pub variant_id: String,
    pub location_id: String,
    pub on_hand: i64,
    pub reserved: i64,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = inventory_reservations)]
pub(crate) struct ReservationRow {
    pub id: String,
    pub variant_id: String,
    pub location_id: String,
    pub quantity: i64,
    pub reference: String,
    pub status: String,
    pub expires_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

// --- locations ---------------------------------------------------------------------------

pub(crate) async fn list_locations(conn: &mut DbConn) -> Result<Vec<LocationRow>, StorageError> {
    Ok(db_run!(conn, c => locations::table
        .order((locations::is_default.desc(), locations::code.asc()))
        .load::<LocationRow>(c)
        .await)?)
}

pub(crate) async fn find_location(
    conn: &mut DbConn,
    id_or_code: &str,
) -> Result<Option<LocationRow>, StorageError> {
    let key = id_or_code.to_owned();
    Ok(db_run!(conn, c => locations::table
        .filter(locations::id.eq(key.clone()).or(locations::code.eq(key.clone())))
        .first::<LocationRow>(c)
        .await
        .optional())?)
}

pub(crate) async fn insert_location(
    conn: &mut DbConn,
    row: &LocationRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(locations::table).values(row.clone()).execute(c).await)?;
    Ok(())
}

// --- items and levels --------------------------------------------------------------------

/// Up to `limit` items whose stock status was never announced.
pub(crate) async fn unannounced_items(
    conn: &mut DbConn,
    limit: i64,
) -> Result<Vec<ItemRow>, StorageError> {
    Ok(db_run!(conn, c => items::table
        .filter(items::status_version.eq(0))
        .order(items::variant_id.asc())
        .limit(limit)
        .load::<ItemRow>(c)
        .await)?)
}

pub(crate) async fn find_item(
    conn: &mut DbConn,
    variant_id: &str,
) -> Result<Option<ItemRow>, StorageError> {
    let key = variant_id.to_owned();
    Ok(db_run!(conn, c => items::table
        .find(key.clone())
        .first::<ItemRow>(c)
        .await
        .optional())?)
}

pub(crate) async fn insert_item(conn: &mut DbConn, row: &ItemRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(items::table).values(row.clone()).execute(c).await)?;
    Ok(())
}

pub(crate) async fn update_item(conn: &mut DbConn, row: &ItemRow) -> Result<(), StorageError> {
    let row = row.clone();
    db_run!(conn, c => diesel::update(items::table.find(row.variant_id.clone()))
        .set((
            items::low_stock_threshold.eq(row.low_stock_threshold),
            items::allow_backorder.eq(row.allow_backorder),
            items::low.eq(row.low),
            items::updated_at.eq(row.updated_at),
            items::status.eq(row.status.clone()),
            items::status_version.eq(row.status_version),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

/// Takes the variant's row lock on PostgreSQL (a no-op write), so every change to one
/// variant locks its item first and then its levels: one lock order, no deadlocks.
/// SQLite's write lock already serializes writers.
pub(crate) async fn lock_item(conn: &mut DbConn, variant_id: &str) -> Result<(), StorageError> {
    let key = variant_id.to_owned();
    db_run!(conn, c => diesel::update(items::table.find(key.clone()))
        .set(items::updated_at.eq(items::updated_at))
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn items_of(
    conn: &mut DbConn,
    variant_ids: &[String],
) -> Result<Vec<ItemRow>, StorageError> {
    let ids = variant_ids.to_vec();
    Ok(db_run!(conn, c => items::table
        .filter(any_of(items::variant_id, &ids))
        .load::<ItemRow>(c)
        .await)?)
}

/// Items in variant order after `after`; only those below their threshold when `low_only`.
pub(crate) async fn list_items(
    conn: &mut DbConn,
    low_only: bool,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ItemRow>, StorageError> {
    let after = after.unwrap_or_default().to_owned();
    Ok(db_run!(conn, c => {
        let mut q = items::table.filter(items::variant_id.gt(after.clone())).into_boxed();
        if low_only {
            q = q.filter(items::low.eq(true));
        }
        q.order(items::variant_id.asc()).limit(limit).load::<ItemRow>(c).await
    })?)
}

/// Levels of these variants, most available first (the allocation order).
pub(crate) async fn levels_of(
    conn: &mut DbConn,
    variant_ids: &[String],
) -> Result<Vec<LevelRow>, StorageError> {
    let ids = variant_ids.to_vec();
    Ok(db_run!(conn, c => levels::table
        .filter(any_of(levels::variant_id, &ids))
        .order((
            levels::variant_id.asc(),
            (levels::on_hand - levels::reserved).desc(),
            levels::location_id.asc(),
        ))
        .load::<LevelRow>(c)
        .await)?)
}

/// Sets a level's on-hand count, creating the level when missing.
pub(crate) async fn set_on_hand(
    conn: &mut DbConn,
    variant_id: &str,
    location_id: &str,
    on_hand: i64,
    now: NaiveDateTime,
) -> Result<(), StorageError> {
    let (v, l) = (variant_id.to_owned(), location_id.to_owned());
    let updated = db_run!(conn, c => diesel::update(levels::table.find((v.clone(), l.clone())))
        .set((levels::on_hand.eq(on_hand), levels::updated_at.eq(now)))
        .execute(c)
        .await)?;
    if updated == 0 {
        let row = LevelRow {
            variant_id: v,
            location_id: l,
            on_hand,
            reserved: 0,
            updated_at: now,
        };
        db_run!(conn, c => diesel::insert_into(levels::table).values(row.clone()).execute(c).await)?;
    }
    Ok(())
}

/// Adds `delta` to a level's on-hand and reserved counts. With `guard`, only when at least
/// `guard` units are available there; returns whether the row changed.
pub(crate) async fn adjust_level(
    conn: &mut DbConn,
    variant_id: &str,
    location_id: &str,
    on_hand_delta: i64,
    reserved_delta: i64,
    guard: Option<i64>,
    now: NaiveDateTime,
) -> Result<bool, StorageError> {
    let (v, l) = (variant_id.to_owned(), location_id.to_owned());
    // Without a guard the condition always holds.
    let floor = guard.unwrap_or(i64::MIN);
    // One statement, re-evaluated by PostgreSQL under the row lock (and alone under
    // SQLite's write lock): two buyers of the last unit cannot both pass.
    let changed = db_run!(conn, c => diesel::update(
            levels::table
                .filter(levels::variant_id.eq(v.clone()))
                .filter(levels::location_id.eq(l.clone()))
                .filter(levels::reserved.ge(-reserved_delta))
                .filter((levels::on_hand - levels::reserved).ge(floor)),
        )
        .set((
            levels::on_hand.eq(levels::on_hand + on_hand_delta),
            levels::reserved.eq(levels::reserved + reserved_delta),
            levels::updated_at.eq(now),
        ))
        .execute(c)
        .await)?;
    Ok(changed == 1)
}

// --- reservations --------------------------------------------------------------------------

pub(crate) async fn insert_reservation(
    conn: &mut DbConn,
    row: &ReservationRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(reservations::table).values(row.clone()).execute(c).await)?;
    Ok(())
}

pub(crate) async fn find_reservation(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<ReservationRow>, StorageError> {
    let key = id.to_owned();
    Ok(db_run!(conn, c => reservations::table
        .find(key.clone())
        .first::<ReservationRow>(c)
        .await
        .optional())?)
}

/// The active reservation of `variant_id` held by `reference`, if any.
pub(crate) async fn active_reservation_of(
    conn: &mut DbConn,
    variant_id: &str,
    reference: &str,
) -> Result<Option<ReservationRow>, StorageError> {
    let (variant, reference) = (variant_id.to_owned(), reference.to_owned());
    Ok(db_run!(conn, c => reservations::table
        .filter(reservations::variant_id.eq(variant.clone()))
        .filter(reservations::reference.eq(reference.clone()))
        .filter(reservations::status.eq("active"))
        .first::<ReservationRow>(c)
        .await
        .optional())?)
}

/// Every reservation `reference` made, of any status, in variant order.
pub(crate) async fn reservations_by_reference(
    conn: &mut DbConn,
    reference: &str,
) -> Result<Vec<ReservationRow>, StorageError> {
    let reference = reference.to_owned();
    Ok(db_run!(conn, c => reservations::table
        .filter(reservations::reference.eq(reference.clone()))
        .order((reservations::variant_id.asc(), reservations::id.asc()))
        .load::<ReservationRow>(c)
        .await)?)
}

/// Moves an active reservation to `status`; false when it was not active (any more).
pub(crate) async fn finish_reservation(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    now: NaiveDateTime,
) -> Result<bool, StorageError> {
    let (key, status) = (id.to_owned(), status.to_owned());
    let changed = db_run!(conn, c => diesel::update(
            reservations::table
                .filter(reservations::id.eq(key.clone()))
                .filter(reservations::status.eq("active")),
        )
        .set((reservations::status.eq(status.clone()), reservations::updated_at.eq(now)))
        .execute(c)
        .await)?;
    Ok(changed == 1)
}

/// Active reservations whose time ran out, oldest first.
pub(crate) async fn expired_reservations(
    conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> Result<Vec<String>, StorageError> {
    Ok(db_run!(conn, c => reservations::table
        .filter(reservations::status.eq("active"))
        .filter(reservations::expires_at.le(now))
        .order(reservations::expires_at.asc())
        .select(reservations::id)
        .limit(limit)
        .load::<String>(c)
        .await)?)
}
