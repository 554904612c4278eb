//! The cart's tables and queries.

use chrono::NaiveDateTime;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, JoinOnDsl, NullableExpressionMethods,
    OptionalExtension, QueryDsl,
};
use diesel_async::RunQueryDsl;
use weft_storage::{DbConn, StorageError, any_of, db_run};

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

diesel::table! {
    cart_abandonments (cart_id) {
        cart_id -> Text,
        changed_at -> Timestamp,
        reported_at -> Timestamp,
    }
}

diesel::joinable!(cart_abandonments -> cart_carts (cart_id));
diesel::allow_tables_to_appear_in_same_query!(cart_carts, cart_abandonments);

use cart_carts as carts;
use cart_items as items;

#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    diesel::Queryable,
    diesel::Insertable,
)]
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

#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    diesel::Queryable,
    diesel::Insertable,
)]
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

/// Marks a change: the cart lives another `ttl` from now. `false` when there is no cart.
pub(crate) async fn touch_cart(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let key = id.to_owned();
    let n = db_run!(conn, c => diesel::update(carts::table.find(key.clone()))
        .set((carts::updated_at.eq(now), carts::expires_at.eq(expires_at)))
        .execute(c)
        .await)?;
    Ok(n == 1)
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

pub(crate) async fn set_currency(
    conn: &mut DbConn,
    id: &str,
    currency: &str,
) -> Result<(), StorageError> {
    let (key, currency) = (id.to_owned(), currency.to_owned());
    db_run!(conn, c => diesel::update(carts::table.find(key.clone()))
        .set(carts::currency.eq(currency.clone()))
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

/// Adds `quantity` units to the cart's line of `variant_id`, unless that makes more than
/// `max`; `false` when there is no such line or it would hold too many. One statement.
pub(crate) async fn add_to_line(
    conn: &mut DbConn,
    cart_id: &str,
    variant_id: &str,
    quantity: i64,
    max: i64,
) -> Result<bool, StorageError> {
    let (cart, variant) = (cart_id.to_owned(), variant_id.to_owned());
    let n = db_run!(conn, c => diesel::update(items::table
        .filter(items::cart_id.eq(cart.clone()))
        .filter(items::variant_id.eq(variant.clone()))
        .filter(items::quantity.le(max - quantity)))
        .set(items::quantity.eq(items::quantity + quantity))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

/// Inserts the line unless the cart has one for its variant; `true` when inserted.
pub(crate) async fn insert_item_if_absent(
    conn: &mut DbConn,
    row: &ItemRow,
) -> Result<bool, StorageError> {
    let n = db_run!(conn, c => diesel::insert_into(items::table)
        .values(row.clone())
        .on_conflict((items::cart_id, items::variant_id))
        .do_nothing()
        .execute(c)
        .await)?;
    Ok(n == 1)
}

/// [`touch_cart`] if the cart was last changed at `seen`: `true` when nobody changed it
/// since it was read then.
pub(crate) async fn touch_cart_if(
    conn: &mut DbConn,
    id: &str,
    seen: NaiveDateTime,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> Result<bool, StorageError> {
    let key = id.to_owned();
    let n = db_run!(conn, c => diesel::update(carts::table
        .filter(carts::id.eq(key.clone()))
        .filter(carts::updated_at.eq(seen)))
        .set((carts::updated_at.eq(now), carts::expires_at.eq(expires_at)))
        .execute(c)
        .await)?;
    Ok(n == 1)
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
    db_run!(conn, c => diesel::delete(cart_applied_promotions::table.filter(cart_applied_promotions::cart_id.eq(key.clone()))).execute(c).await)?;
    db_run!(conn, c => diesel::delete(cart_abandonments::table.find(key.clone())).execute(c).await)?;
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
    db_run!(conn, c => diesel::delete(cart_applied_promotions::table.filter(cart_applied_promotions::cart_id.eq_any(ids.clone()))).execute(c).await)?;
    db_run!(conn, c => diesel::delete(cart_abandonments::table.filter(cart_abandonments::cart_id.eq_any(ids.clone()))).execute(c).await)?;
    Ok(
        db_run!(conn, c => diesel::delete(carts::table.filter(carts::id.eq_any(ids.clone()))).execute(c).await)?,
    )
}

/// A customer's cart quiet since `changed_at`, with `units` in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QuietCart {
    pub id: String,
    pub customer_id: String,
    pub changed_at: NaiveDateTime,
    pub units: i64,
}

/// Up to `limit` live customer carts unchanged since `cutoff` whose quiet spell is not
/// reported yet; each is marked reported (in `conn`'s transaction), and only those this
/// call marked are returned. Empty carts are marked too, with no units, so they are not
/// looked at again. Also answers how many carts it looked at.
pub(crate) async fn take_quiet_carts(
    conn: &mut DbConn,
    cutoff: NaiveDateTime,
    now: NaiveDateTime,
    limit: i64,
) -> Result<(usize, Vec<QuietCart>), StorageError> {
    use cart_abandonments::dsl as a;
    let rows: Vec<(String, Option<String>, NaiveDateTime)> = db_run!(conn, c => carts::table
        .left_join(a::cart_abandonments)
        .filter(carts::customer_id.is_not_null())
        .filter(carts::updated_at.le(cutoff))
        .filter(carts::expires_at.gt(now))
        .filter(a::changed_at.is_null().or(a::changed_at.ne(carts::updated_at)))
        .select((carts::id, carts::customer_id, carts::updated_at))
        .order(carts::updated_at.asc())
        .limit(limit)
        .load(c)
        .await)?;
    if rows.is_empty() {
        return Ok((0, Vec::new()));
    }
    let looked = rows.len();
    let ids: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let lines: Vec<(String, i64)> = db_run!(conn, c => items::table
        .filter(any_of(items::cart_id, &ids))
        .select((items::cart_id, items::quantity))
        .load(c)
        .await)?;
    let mut quiet = Vec::with_capacity(rows.len());
    for (id, customer_id, changed_at) in rows {
        let units = lines
            .iter()
            .filter(|(cart, _)| *cart == id)
            .map(|(_, q)| *q)
            .sum();
        // Claimed by whichever sweeper changes the row: on PostgreSQL another cart
        // process's sweeper may have read the same cart; the row lock makes the later one
        // see the spell recorded (0 rows) and report nothing.
        let moved = db_run!(conn, c => diesel::update(
            a::cart_abandonments
                .filter(a::cart_id.eq(&id))
                .filter(a::changed_at.ne(changed_at)),
        )
        .set((a::changed_at.eq(changed_at), a::reported_at.eq(now)))
        .execute(c)
        .await)?;
        let claimed = moved
            + db_run!(conn, c => diesel::insert_into(a::cart_abandonments)
                .values((a::cart_id.eq(&id), a::changed_at.eq(changed_at), a::reported_at.eq(now)))
                .on_conflict_do_nothing()
                .execute(c)
                .await)?;
        if claimed == 0 {
            continue;
        }
        if let Some(customer_id) = customer_id {
            quiet.push(QuietCart {
                id,
                customer_id,
                changed_at,
                units,
            });
        }
    }
    Ok((looked, quiet))
}

// --- promotions ------------------------------------------------------------------------

diesel::table! {
    cart_promotions (id) {
        id -> Text,
        code -> Text,
        description -> Text,
        kind -> Text,
        percentage -> Nullable<BigInt>,
        amounts -> Text,
        minimum_subtotal -> Text,
        scope -> Text,
        scope_ids -> Text,
        combinable -> Bool,
        active -> Bool,
        starts_at -> Nullable<Timestamp>,
        ends_at -> Nullable<Timestamp>,
        usage_limit -> Nullable<BigInt>,
        per_customer_limit -> Nullable<BigInt>,
        times_used -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    cart_applied_promotions (cart_id, promotion_id) {
        cart_id -> Text,
        promotion_id -> Text,
        applied_at -> Timestamp,
    }
}

diesel::table! {
    cart_promotion_redemptions (promotion_id, order_id) {
        promotion_id -> Text,
        order_id -> Text,
        customer_key -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(cart_promotions, cart_applied_promotions);

use cart_applied_promotions as applied;
use cart_promotion_redemptions as redemptions;
use cart_promotions as promotions;

#[derive(
    Debug,
    Clone,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    diesel::Queryable,
    diesel::Insertable,
)]
#[diesel(table_name = cart_promotions)]
pub(crate) struct PromotionRow {
    pub id: String,
    pub code: String,
    pub description: String,
    pub kind: String,
    pub percentage: Option<i64>,
    /// JSON: currency → minor units.
    pub amounts: String,
    /// JSON: currency → minor units.
    pub minimum_subtotal: String,
    pub scope: String,
    /// JSON: category or collection ids.
    pub scope_ids: String,
    pub combinable: bool,
    pub active: bool,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    pub times_used: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = cart_promotion_redemptions)]
pub(crate) struct RedemptionRow {
    pub promotion_id: String,
    pub order_id: String,
    pub customer_key: Option<String>,
    pub created_at: NaiveDateTime,
}

pub(crate) async fn insert_promotion(
    conn: &mut DbConn,
    row: &PromotionRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(promotions::table).values(row.clone()).execute(c).await)?;
    Ok(())
}

/// Writes every field but the usage count, which only redemptions change.
pub(crate) async fn update_promotion(
    conn: &mut DbConn,
    row: &PromotionRow,
) -> Result<(), StorageError> {
    let r = row.clone();
    db_run!(conn, c => diesel::update(promotions::table.find(r.id.clone()))
        .set((
            promotions::code.eq(r.code.clone()),
            promotions::description.eq(r.description.clone()),
            promotions::kind.eq(r.kind.clone()),
            promotions::percentage.eq(r.percentage),
            promotions::amounts.eq(r.amounts.clone()),
            promotions::minimum_subtotal.eq(r.minimum_subtotal.clone()),
            promotions::scope.eq(r.scope.clone()),
            promotions::scope_ids.eq(r.scope_ids.clone()),
            promotions::combinable.eq(r.combinable),
            promotions::active.eq(r.active),
            promotions::starts_at.eq(r.starts_at),
            promotions::ends_at.eq(r.ends_at),
            promotions::usage_limit.eq(r.usage_limit),
            promotions::per_customer_limit.eq(r.per_customer_limit),
            promotions::updated_at.eq(r.updated_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn find_promotion(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<PromotionRow>, StorageError> {
    let key = id.to_owned();
    Ok(
        db_run!(conn, c => promotions::table.find(key.clone()).first::<PromotionRow>(c).await.optional())?,
    )
}

pub(crate) async fn promotion_by_code(
    conn: &mut DbConn,
    code: &str,
) -> Result<Option<PromotionRow>, StorageError> {
    let key = code.to_owned();
    Ok(db_run!(conn, c => promotions::table
        .filter(promotions::code.eq(key.clone()))
        .first::<PromotionRow>(c)
        .await
        .optional())?)
}

/// A page of promotions in id order (ids grow with time), after `after`.
pub(crate) async fn list_promotions(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<PromotionRow>, StorageError> {
    let after = after.map(str::to_owned);
    Ok(db_run!(conn, c => {
        let mut q = promotions::table.into_boxed();
        if let Some(a) = after.clone() {
            q = q.filter(promotions::id.gt(a));
        }
        q.order(promotions::id.asc()).limit(limit).load::<PromotionRow>(c).await
    })?)
}

pub(crate) async fn delete_promotion(conn: &mut DbConn, id: &str) -> Result<bool, StorageError> {
    let key = id.to_owned();
    db_run!(conn, c => diesel::delete(applied::table.filter(applied::promotion_id.eq(key.clone()))).execute(c).await)?;
    Ok(
        db_run!(conn, c => diesel::delete(promotions::table.find(key.clone())).execute(c).await)?
            > 0,
    )
}

/// A cart's promotions, in the order they were applied.
pub(crate) async fn promotions_of_cart(
    conn: &mut DbConn,
    cart_id: &str,
) -> Result<Vec<PromotionRow>, StorageError> {
    let key = cart_id.to_owned();
    Ok(db_run!(conn, c => applied::table
        .inner_join(promotions::table.on(promotions::id.eq(applied::promotion_id)))
        .filter(applied::cart_id.eq(key.clone()))
        .order((applied::applied_at.asc(), applied::promotion_id.asc()))
        .select(promotions::all_columns)
        .load::<PromotionRow>(c)
        .await)?)
}

pub(crate) async fn apply_promotion(
    conn: &mut DbConn,
    cart_id: &str,
    promotion_id: &str,
    now: NaiveDateTime,
) -> Result<(), StorageError> {
    let (cart, promotion) = (cart_id.to_owned(), promotion_id.to_owned());
    db_run!(conn, c => diesel::insert_into(applied::table)
        .values((applied::cart_id.eq(cart.clone()), applied::promotion_id.eq(promotion.clone()), applied::applied_at.eq(now)))
        .on_conflict_do_nothing()
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn unapply_promotion(
    conn: &mut DbConn,
    cart_id: &str,
    promotion_id: &str,
) -> Result<bool, StorageError> {
    let (cart, promotion) = (cart_id.to_owned(), promotion_id.to_owned());
    Ok(db_run!(conn, c => diesel::delete(applied::table
        .filter(applied::cart_id.eq(cart.clone()))
        .filter(applied::promotion_id.eq(promotion.clone())))
        .execute(c)
        .await)?
        > 0)
}

/// Moves a cart's codes to another (a guest cart merging), keeping the target's own.
pub(crate) async fn move_promotions(
    conn: &mut DbConn,
    from: &str,
    to: &str,
    now: NaiveDateTime,
) -> Result<(), StorageError> {
    let ids: Vec<String> = {
        let key = from.to_owned();
        db_run!(conn, c => applied::table.filter(applied::cart_id.eq(key.clone())).select(applied::promotion_id).load::<String>(c).await)?
    };
    for id in ids {
        apply_promotion(conn, to, &id, now).await?;
    }
    Ok(())
}

/// Counts one use, unless the total limit is reached: `false` then. The guarded update
/// takes the promotion's row lock, which serialises uses of one code.
pub(crate) async fn take_use(conn: &mut DbConn, promotion_id: &str) -> Result<bool, StorageError> {
    let key = promotion_id.to_owned();
    let n = db_run!(conn, c => diesel::update(promotions::table
        .filter(promotions::id.eq(key.clone()))
        .filter(promotions::usage_limit.is_null().or(promotions::times_used.lt(promotions::usage_limit.assume_not_null()))))
        .set(promotions::times_used.eq(promotions::times_used + 1))
        .execute(c)
        .await)?;
    Ok(n == 1)
}

pub(crate) async fn give_back_use(
    conn: &mut DbConn,
    promotion_id: &str,
) -> Result<(), StorageError> {
    let key = promotion_id.to_owned();
    db_run!(conn, c => diesel::update(promotions::table
        .filter(promotions::id.eq(key.clone()))
        .filter(promotions::times_used.gt(0)))
        .set(promotions::times_used.eq(promotions::times_used - 1))
        .execute(c)
        .await)?;
    Ok(())
}

/// How often `customer_key` used the promotion.
pub(crate) async fn uses_by(
    conn: &mut DbConn,
    promotion_id: &str,
    customer_key: &str,
) -> Result<i64, StorageError> {
    let (p, k) = (promotion_id.to_owned(), customer_key.to_owned());
    Ok(db_run!(conn, c => redemptions::table
        .filter(redemptions::promotion_id.eq(p.clone()))
        .filter(redemptions::customer_key.eq(k.clone()))
        .count()
        .get_result::<i64>(c)
        .await)?)
}

pub(crate) async fn redemptions_of_order(
    conn: &mut DbConn,
    order_id: &str,
) -> Result<Vec<RedemptionRow>, StorageError> {
    let key = order_id.to_owned();
    Ok(db_run!(conn, c => redemptions::table
        .filter(redemptions::order_id.eq(key.clone()))
        .load::<RedemptionRow>(c)
        .await)?)
}

pub(crate) async fn insert_redemption(
    conn: &mut DbConn,
    row: &RedemptionRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(redemptions::table).values(row.clone()).execute(c).await)?;
    Ok(())
}

pub(crate) async fn delete_redemption(
    conn: &mut DbConn,
    promotion_id: &str,
    order_id: &str,
) -> Result<(), StorageError> {
    let (p, o) = (promotion_id.to_owned(), order_id.to_owned());
    db_run!(conn, c => diesel::delete(redemptions::table
        .filter(redemptions::promotion_id.eq(p.clone()))
        .filter(redemptions::order_id.eq(o.clone())))
        .execute(c)
        .await)?;
    Ok(())
}
