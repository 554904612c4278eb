//! The catalog's tables and queries. Every function takes a connection; writes take one
//! inside the caller's transaction.

use chrono::NaiveDateTime;
use diesel::{
    BoolExpressionMethods, EscapeExpressionMethods, ExpressionMethods, JoinOnDsl,
    NullableExpressionMethods, OptionalExtension, QueryDsl, TextExpressionMethods,
};
use diesel_async::RunQueryDsl;
use weft_storage::any_of::AnyOf;
use weft_storage::{DbConn, StorageError, any_of, db_run};

diesel::table! {
    catalog_categories (id) {
        id -> Text,
        parent_id -> Nullable<Text>,
        handle -> Text,
        name -> Text,
        description -> Text,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    catalog_products (id) {
        id -> Text,
        handle -> Text,
        title -> Text,
        description -> Text,
        brand -> Text,
        status -> Text,
        material -> Nullable<Text>,
        care -> Nullable<Text>,
        fit -> Nullable<Text>,
        seo_title -> Nullable<Text>,
        seo_description -> Nullable<Text>,
        tags -> Text,
        images -> Text,
        options -> Text,
        size_chart -> Nullable<Text>,
        category_id -> Nullable<Text>,
        ordered -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        document -> Nullable<Text>,
    }
}

diesel::table! {
    catalog_variants (id) {
        id -> Text,
        product_id -> Text,
        sku -> Text,
        options_key -> Text,
        option_values -> Text,
        weight_grams -> Nullable<Integer>,
        barcode -> Nullable<Text>,
        position -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    catalog_variant_options (variant_id, name) {
        variant_id -> Text,
        product_id -> Text,
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    catalog_variant_prices (variant_id, currency) {
        variant_id -> Text,
        product_id -> Text,
        currency -> Text,
        amount -> BigInt,
        compare_at_amount -> Nullable<BigInt>,
    }
}

diesel::table! {
    catalog_product_prices (product_id, currency) {
        product_id -> Text,
        currency -> Text,
        min_amount -> BigInt,
        max_amount -> BigInt,
    }
}

diesel::table! {
    catalog_collections (id) {
        id -> Text,
        handle -> Text,
        title -> Text,
        description -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    catalog_collection_products (collection_id, product_id) {
        collection_id -> Text,
        product_id -> Text,
        position -> Integer,
    }
}

diesel::table! {
    catalog_variant_stock (variant_id) {
        variant_id -> Text,
        status -> Text,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    catalog_ratings (product_id) {
        product_id -> Text,
        score -> BigInt,
        count -> BigInt,
        version -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    catalog_products,
    catalog_ratings,
    catalog_product_prices,
    catalog_variant_options,
    catalog_collection_products,
    catalog_variants,
    catalog_variant_stock,
);

use catalog_categories as categories;
use catalog_collection_products as members;
use catalog_collections as collections;
use catalog_product_prices as ranges;
use catalog_products as products;
use catalog_ratings as ratings;
use catalog_variant_options as options;
use catalog_variant_prices as prices;
use catalog_variant_stock as stock;
use catalog_variants as variants;

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = catalog_categories)]
pub(crate) struct CategoryRow {
    pub id: String,
    pub parent_id: Option<String>,
    pub handle: String,
    pub name: String,
    pub description: String,
    pub position: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = catalog_products)]
pub(crate) struct ProductRow {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub brand: String,
    pub status: String,
    pub material: Option<String>,
    pub care: Option<String>,
    pub fit: Option<String>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    pub tags: String,
    pub images: String,
    pub options: String,
    pub size_chart: Option<String>,
    pub category_id: Option<String>,
    pub ordered: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The product's REST answer as last written (see `service::documents`); `None`
    /// until it is first written.
    pub document: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = catalog_variants)]
pub(crate) struct VariantRow {
    pub id: String,
    pub product_id: String,
    pub sku: String,
    pub options_key: String,
    pub option_values: String,
    pub weight_grams: Option<i32>,
    pub barcode: Option<String>,
    pub position: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = catalog_variant_options)]
pub(crate) struct OptionRow {
    pub variant_id: String,
    pub product_id: String,
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = catalog_variant_prices)]
pub(crate) struct PriceRow {
    pub variant_id: String,
    pub product_id: String,
    pub currency: String,
    pub amount: i64,
    pub compare_at_amount: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = catalog_product_prices)]
pub(crate) struct RangeRow {
    pub product_id: String,
    pub currency: String,
    pub min_amount: i64,
    pub max_amount: i64,
}

/// Whether a write failed on a unique constraint (a race the pre-checks could not see).
pub(crate) fn is_unique_violation(e: &StorageError) -> bool {
    matches!(
        e,
        StorageError::Query(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _
        ))
    )
}

// --- categories ----------------------------------------------------------------------

pub(crate) async fn list_categories(conn: &mut DbConn) -> Result<Vec<CategoryRow>, StorageError> {
    Ok(
        db_run!(conn, c => categories::table.order((categories::position, categories::id)).load::<CategoryRow>(c).await)?,
    )
}

pub(crate) async fn find_category(
    conn: &mut DbConn,
    id_or_handle: &str,
) -> Result<Option<CategoryRow>, StorageError> {
    Ok(db_run!(conn, c => categories::table
        .filter(categories::id.eq(id_or_handle).or(categories::handle.eq(id_or_handle)))
        .first::<CategoryRow>(c)
        .await
        .optional())?)
}

pub(crate) async fn category_handle_taken(
    conn: &mut DbConn,
    handle: &str,
    except: Option<&str>,
) -> Result<bool, StorageError> {
    let n: i64 = db_run!(conn, c => categories::table
        .filter(categories::handle.eq(handle))
        .filter(categories::id.ne(except.unwrap_or("")))
        .count()
        .get_result(c)
        .await)?;
    Ok(n > 0)
}

pub(crate) async fn insert_category(
    conn: &mut DbConn,
    row: &CategoryRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(categories::table).values(row).execute(c).await)?;
    Ok(())
}

pub(crate) async fn update_category(
    conn: &mut DbConn,
    row: &CategoryRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(categories::table.find(&row.id))
        .set((
            categories::parent_id.eq(&row.parent_id),
            categories::handle.eq(&row.handle),
            categories::name.eq(&row.name),
            categories::description.eq(&row.description),
            categories::position.eq(row.position),
            categories::updated_at.eq(row.updated_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

/// Whether anything hangs off a category (subcategories or products).
pub(crate) async fn category_in_use(conn: &mut DbConn, id: &str) -> Result<bool, StorageError> {
    let children: i64 = db_run!(conn, c => categories::table.filter(categories::parent_id.eq(id)).count().get_result(c).await)?;
    let members: i64 = db_run!(conn, c => products::table.filter(products::category_id.eq(id)).count().get_result(c).await)?;
    Ok(children + members > 0)
}

pub(crate) async fn delete_category(conn: &mut DbConn, id: &str) -> Result<bool, StorageError> {
    let n = db_run!(conn, c => diesel::delete(categories::table.find(id)).execute(c).await)?;
    Ok(n == 1)
}

// --- products ---------------------------------------------------------------------------

pub(crate) async fn find_product(
    conn: &mut DbConn,
    id_or_handle: &str,
) -> Result<Option<ProductRow>, StorageError> {
    Ok(db_run!(conn, c => products::table
        .filter(products::id.eq(id_or_handle).or(products::handle.eq(id_or_handle)))
        .first::<ProductRow>(c)
        .await
        .optional())?)
}

/// Products in id order after `after`: the walk of a reindex.
pub(crate) async fn products_after(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<ProductRow>, StorageError> {
    let after = after.unwrap_or_default().to_owned();
    Ok(db_run!(conn, c => products::table
        .filter(products::id.gt(after.clone()))
        .order(products::id.asc())
        .limit(limit)
        .load::<ProductRow>(c)
        .await)?)
}

pub(crate) async fn count_products(conn: &mut DbConn) -> Result<i64, StorageError> {
    Ok(db_run!(conn, c => products::table.count().get_result::<i64>(c).await)?)
}

/// How many variants exist, and how many of them have a stock status recorded.
pub(crate) async fn count_variants_with_stock(
    conn: &mut DbConn,
) -> Result<(i64, i64), StorageError> {
    let total = db_run!(conn, c => variants::table.count().get_result::<i64>(c).await)?;
    let known = db_run!(conn, c => variants::table
        .inner_join(stock::table.on(stock::variant_id.eq(variants::id)))
        .count()
        .get_result::<i64>(c)
        .await)?;
    Ok((total, known))
}

/// Products by id, in no particular order.
pub(crate) async fn products_by_ids(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<Vec<ProductRow>, StorageError> {
    Ok(db_run!(conn, c => products::table
        .filter(any_of(products::id, ids))
        .load::<ProductRow>(c)
        .await)?)
}

pub(crate) async fn product_handle_taken(
    conn: &mut DbConn,
    handle: &str,
    except: Option<&str>,
) -> Result<bool, StorageError> {
    let n: i64 = db_run!(conn, c => products::table
        .filter(products::handle.eq(handle))
        .filter(products::id.ne(except.unwrap_or("")))
        .count()
        .get_result(c)
        .await)?;
    Ok(n > 0)
}

/// Inserts `rows` (a `Vec` of owned rows) into `table` in one statement. diesel-async
/// cannot send a multi-row insert to SQLite, diesel's own connection can: there it runs
/// on the connection's thread (at once, in a write transaction).
macro_rules! insert_rows {
    ($conn:expr, $table:expr, $rows:expr) => {{
        let rows = $rows;
        match $conn {
            DbConn::Postgres(c) => diesel::insert_into($table)
                .values(&rows)
                .execute(&mut **c)
                .await
                .map(drop),
            DbConn::Sqlite(c) => c
                .spawn_blocking(move |c| {
                    diesel::RunQueryDsl::execute(diesel::insert_into($table).values(&rows), c)
                })
                .await
                .map(drop),
        }
    }};
}

/// Rows inserted per statement: well under SQLite's 32,766 and PostgreSQL's 65,535 bound
/// parameters for the widest row (products, 20 columns).
const INSERT_CHUNK: usize = 1000;

pub(crate) async fn insert_products(
    conn: &mut DbConn,
    rows: &[ProductRow],
) -> Result<(), StorageError> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        insert_rows!(conn, products::table, chunk.to_vec())?;
    }
    Ok(())
}

/// Which of `handles` products already have.
pub(crate) async fn handles_taken(
    conn: &mut DbConn,
    handles: &[String],
) -> Result<Vec<String>, StorageError> {
    let mut taken = Vec::new();
    for chunk in handles.chunks(INSERT_CHUNK) {
        taken.extend(db_run!(conn, c => products::table
            .filter(any_of(products::handle, chunk))
            .select(products::handle)
            .load::<String>(c)
            .await)?);
    }
    Ok(taken)
}

pub(crate) async fn update_product(
    conn: &mut DbConn,
    row: &ProductRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(products::table.find(&row.id))
        .set((
            products::handle.eq(&row.handle),
            products::title.eq(&row.title),
            products::description.eq(&row.description),
            products::brand.eq(&row.brand),
            products::status.eq(&row.status),
            products::material.eq(&row.material),
            products::care.eq(&row.care),
            products::fit.eq(&row.fit),
            products::seo_title.eq(&row.seo_title),
            products::seo_description.eq(&row.seo_description),
            products::tags.eq(&row.tags),
            products::images.eq(&row.images),
            products::size_chart.eq(&row.size_chart),
            products::category_id.eq(&row.category_id),
            products::updated_at.eq(row.updated_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

/// Holds these products' rows until the transaction ends, in id order (so two writers
/// never wait on each other crosswise). A transaction that rewrites documents takes it
/// before it reads what they show: on PostgreSQL two transactions could otherwise each
/// render from what the other had not committed yet, and the later commit would keep a
/// stale document. Variant writes take it first too (see `locked_variant`). SQLite's
/// writes already run one at a time.
pub(crate) async fn lock_products(conn: &mut DbConn, ids: &[String]) -> Result<(), StorageError> {
    if let DbConn::Postgres(c) = conn
        && !ids.is_empty()
    {
        products::table
            .filter(products::id.eq_any(ids))
            .order(products::id)
            .select(products::id)
            .for_update()
            .load::<String>(&mut **c)
            .await?;
    }
    Ok(())
}

/// Writes each (product id, document).
pub(crate) async fn set_documents(
    conn: &mut DbConn,
    documents: Vec<(String, String)>,
) -> Result<(), StorageError> {
    match conn {
        DbConn::Postgres(c) => {
            for (id, document) in &documents {
                diesel::update(products::table.find(id))
                    .set(products::document.eq(document))
                    .execute(&mut **c)
                    .await?;
            }
        }
        // All in one trip to the connection's thread.
        DbConn::Sqlite(c) => {
            c.spawn_blocking(move |c| {
                for (id, document) in &documents {
                    diesel::RunQueryDsl::execute(
                        diesel::update(products::table.find(id))
                            .set(products::document.eq(document)),
                        c,
                    )?;
                }
                Ok::<_, diesel::result::Error>(())
            })
            .await?;
        }
    }
    Ok(())
}

/// Up to `limit` ids of products whose document was never written, in id order.
pub(crate) async fn undocumented_products(
    conn: &mut DbConn,
    limit: i64,
) -> Result<Vec<String>, StorageError> {
    Ok(db_run!(conn, c => products::table
        .filter(products::document.is_null())
        .order(products::id)
        .select(products::id)
        .limit(limit)
        .load::<String>(c)
        .await)?)
}

pub(crate) async fn delete_product(conn: &mut DbConn, id: &str) -> Result<(), StorageError> {
    // Children first: SQLite only cascades with foreign keys on, and explicit is clearer.
    db_run!(conn, c => diesel::delete(ranges::table.filter(ranges::product_id.eq(id))).execute(c).await)?;
    db_run!(conn, c => diesel::delete(prices::table.filter(prices::product_id.eq(id))).execute(c).await)?;
    db_run!(conn, c => diesel::delete(options::table.filter(options::product_id.eq(id))).execute(c).await)?;
    db_run!(conn, c => diesel::delete(variants::table.filter(variants::product_id.eq(id))).execute(c).await)?;
    db_run!(conn, c => diesel::delete(members::table.filter(members::product_id.eq(id))).execute(c).await)?;
    db_run!(conn, c => diesel::delete(products::table.find(id)).execute(c).await)?;
    Ok(())
}

/// What a product listing asks for. Prices are in `currency`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ListFilter {
    pub statuses: Vec<String>,
    pub category_ids: Option<Vec<String>>,
    pub collection_id: Option<String>,
    pub brand: Option<String>,
    /// (option name, value) pairs every listed product must have a variant with.
    pub option_values: Vec<(String, String)>,
    pub currency: String,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Only products with (`true`) or without (`false`) a variant that can be bought now.
    pub in_stock: Option<bool>,
    /// The back office's search: products whose title, handle or brand contains this, or
    /// with a variant whose SKU does (any case). Plain SQL, so drafts are found too.
    pub text: Option<String>,
}

diesel::define_sql_function! {
    /// SQL `lower`, the same in SQLite and PostgreSQL (ASCII case-folding in SQLite).
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

diesel::define_sql_function! {
    /// SQL `coalesce` of a nullable integer and a default, the same in both databases.
    fn coalesce(
        x: diesel::sql_types::Nullable<diesel::sql_types::BigInt>,
        y: diesel::sql_types::BigInt
    ) -> diesel::sql_types::BigInt;
}

/// `text` as a LIKE pattern that matches it anywhere, its wildcards escaped (`\`).
fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for ch in text.to_lowercase().chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// Where a page starts: after this product in the chosen order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct ListCursor {
    /// The sort key: the lowest price (price sorts), the rating score (`rating`).
    pub price: Option<i64>,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListOrder {
    Newest,
    PriceAsc,
    PriceDesc,
    /// Best rated first (average × 100; unrated products last), newest among equals.
    Rating,
}

/// The boxed query of one page of products, built for whichever backend it is expanded
/// for (as [`db_run!`] expands its body once per backend): `filter: &ListFilter`,
/// `order: ListOrder`, `after: Option<&ListCursor>`, `limit: i64`. Selects each product
/// with its lowest price in the filter's currency and its rating score.
/// A product's columns with `NULL` for its document: for a scan that reads many rows and
/// shows none of them (recommendations' candidates), the documents are most of the bytes.
macro_rules! columns_but_document {
    () => {
        (
            products::id,
            products::handle,
            products::title,
            products::description,
            products::brand,
            products::status,
            products::material,
            products::care,
            products::fit,
            products::seo_title,
            products::seo_description,
            products::tags,
            products::images,
            products::options,
            products::size_chart,
            products::category_id,
            products::ordered,
            products::created_at,
            products::updated_at,
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>("NULL"),
        )
    };
}

macro_rules! list_query {
    ($filter:expr, $order:expr, $after:expr, $limit:expr) => {
        list_query!($filter, $order, $after, $limit, products::all_columns)
    };
    ($filter:expr, $order:expr, $after:expr, $limit:expr, $columns:expr) => {{
        let filter: &ListFilter = $filter;
        let order: ListOrder = $order;
        let after: Option<&ListCursor> = $after;
        let mut q = products::table
            .left_join(
                ranges::table.on(ranges::product_id
                    .eq(products::id)
                    .and(ranges::currency.eq(filter.currency.clone()))),
            )
            .left_join(ratings::table.on(ratings::product_id.eq(products::id)))
            .select((
                $columns,
                ranges::min_amount.nullable(),
                coalesce(ratings::score.nullable(), 0_i64),
            ))
            .into_boxed();
        // One status (a guest's `active`) as `=`: a list there, even one value as
        // `any_of`, keeps SQLite's planner from walking the status index in id order and
        // sorts every match instead (see `any_of`'s documentation).
        q = match filter.statuses.as_slice() {
            [one] => q.filter(products::status.eq(one.clone())),
            several => q.filter(products::status.eq_any(several.to_vec())),
        };
        // Likewise a leaf category as `=`, so its page walks `(category_id, status, id)`;
        // a parent's several as a list the planner can count.
        match filter.category_ids.as_deref() {
            None => {}
            Some([one]) => q = q.filter(products::category_id.eq(one.clone())),
            Some(several) => q = q.filter(products::category_id.eq_any(several.to_vec())),
        }
        if let Some(brand) = &filter.brand {
            q = q.filter(products::brand.eq(brand.clone()));
        }
        if let Some(collection) = &filter.collection_id {
            q = q.filter(
                products::id.eq_any(
                    members::table
                        .filter(members::collection_id.eq(collection.clone()))
                        .select(members::product_id),
                ),
            );
        }
        // Correlated (`EXISTS … product_id = products.id`), so a page walks its index and
        // probes each product it passes; `id IN (SELECT …)` built the list of every
        // product with that value first (all 10,000 for size M), for each page.
        for (name, value) in &filter.option_values {
            q = q.filter(diesel::dsl::exists(
                options::table
                    .filter(options::product_id.eq(products::id))
                    .filter(options::name.eq(name.clone()))
                    .filter(options::value.eq(value.clone())),
            ));
        }
        if let Some(wanted) = filter.in_stock {
            // Correlated too, for the same reason.
            let sellable = diesel::dsl::exists(
                variants::table
                    .inner_join(stock::table.on(stock::variant_id.eq(variants::id)))
                    .filter(variants::product_id.eq(products::id))
                    .filter(any_of(stock::status, crate::domain::SELLABLE)),
            );
            q = if wanted {
                q.filter(sellable)
            } else {
                q.filter(diesel::dsl::not(sellable))
            };
        }
        if let Some(text) = &filter.text {
            let pattern = contains_pattern(text);
            let by_sku = variants::table
                .filter(lower(variants::sku).like(pattern.clone()).escape('\\'))
                .select(variants::product_id);
            q = q.filter(
                lower(products::title)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(products::handle).like(pattern.clone()).escape('\\'))
                    .or(lower(products::brand).like(pattern.clone()).escape('\\'))
                    .or(products::id.eq_any(by_sku)),
            );
        }
        if let Some(min) = filter.min_price {
            q = q.filter(ranges::max_amount.ge(min));
        }
        if let Some(max) = filter.max_price {
            q = q.filter(ranges::min_amount.le(max));
        }
        match order {
            ListOrder::Newest => {
                if let Some(after) = after {
                    q = q.filter(products::id.lt(after.id.clone()));
                }
                q = q.order(products::id.desc());
            }
            ListOrder::PriceAsc => {
                q = q.filter(ranges::min_amount.is_not_null());
                if let Some(after) = after {
                    let price = after.price.unwrap_or_default();
                    q = q.filter(
                        ranges::min_amount.gt(price).or(ranges::min_amount
                            .eq(price)
                            .and(products::id.gt(after.id.clone()))),
                    );
                }
                q = q.order((ranges::min_amount.asc(), products::id.asc()));
            }
            ListOrder::PriceDesc => {
                q = q.filter(ranges::min_amount.is_not_null());
                if let Some(after) = after {
                    let price = after.price.unwrap_or_default();
                    q = q.filter(
                        ranges::min_amount.lt(price).or(ranges::min_amount
                            .eq(price)
                            .and(products::id.lt(after.id.clone()))),
                    );
                }
                q = q.order((ranges::min_amount.desc(), products::id.desc()));
            }
            ListOrder::Rating => {
                let score = coalesce(ratings::score.nullable(), 0_i64);
                if let Some(after) = after {
                    let key = after.price.unwrap_or_default();
                    q = q.filter(
                        score
                            .lt(key)
                            .or(score.eq(key).and(products::id.lt(after.id.clone()))),
                    );
                }
                q = q.order((score.desc(), products::id.desc()));
            }
        }
        q.limit($limit)
    }};
}

/// A page's rows as `(product, sort key)`: the key is the lowest price in the filter's
/// currency when sorting by price, the rating score when by rating.
fn with_keys(
    rows: Vec<(ProductRow, Option<i64>, i64)>,
    order: ListOrder,
) -> Vec<(ProductRow, Option<i64>)> {
    rows.into_iter()
        .map(|(row, price, score)| {
            let key = if order == ListOrder::Rating {
                Some(score)
            } else {
                price
            };
            (row, key)
        })
        .collect()
}

/// One page of products (`limit` rows), with each one's sort key: its lowest price in
/// the filter's currency when sorting by price, its rating score when by rating. Without
/// their documents (see `columns_but_document`).
pub(crate) async fn list_products(
    conn: &mut DbConn,
    filter: &ListFilter,
    order: ListOrder,
    after: Option<&ListCursor>,
    limit: i64,
) -> Result<Vec<(ProductRow, Option<i64>)>, StorageError> {
    let rows = db_run!(conn, c => list_query!(filter, order, after, limit, columns_but_document!())
        .load::<(ProductRow, Option<i64>, i64)>(c)
        .await)?;
    Ok(with_keys(rows, order))
}

/// One page of products, as [`list_products`], and the parts of its first `parts_for`
/// products (of those without a document, when `documented_too` is false). On SQLite
/// both are read in one trip to the blocking pool.
pub(crate) async fn list_page(
    conn: &mut DbConn,
    filter: &ListFilter,
    order: ListOrder,
    after: Option<&ListCursor>,
    limit: i64,
    parts_for: usize,
    documented_too: bool,
) -> Result<(Vec<(ProductRow, Option<i64>)>, ProductParts), StorageError> {
    let wanted = move |rows: &[(ProductRow, Option<i64>, i64)]| -> Vec<String> {
        rows.iter()
            .take(parts_for)
            .filter(|r| documented_too || r.0.document.is_none())
            .map(|r| r.0.id.clone())
            .collect()
    };
    match conn {
        DbConn::Postgres(c) => {
            let rows = list_query!(filter, order, after, limit)
                .load::<(ProductRow, Option<i64>, i64)>(&mut **c)
                .await?;
            let ids = wanted(&rows);
            let parts = parts_pg(c, &ids).await?;
            Ok((with_keys(rows, order), parts))
        }
        DbConn::Sqlite(c) => {
            let filter = filter.clone();
            let after = after.cloned();
            let (rows, parts) = c
                .spawn_blocking(move |c| {
                    let rows = diesel::RunQueryDsl::load::<(ProductRow, Option<i64>, i64)>(
                        list_query!(&filter, order, after.as_ref(), limit),
                        c,
                    )?;
                    let ids = wanted(&rows);
                    let parts = parts_sqlite(c, &ids)?;
                    Ok((rows, parts))
                })
                .await?;
            Ok((with_keys(rows, order), parts))
        }
    }
}

// --- a product's parts ------------------------------------------------------------------

/// Everything that hangs off some products, which the service assembles into answers.
#[derive(Debug, Default)]
pub(crate) struct ProductParts {
    /// In position order within each product.
    pub variants: Vec<VariantRow>,
    pub prices: Vec<PriceRow>,
    pub ranges: Vec<RangeRow>,
    /// (product id, score, count) of the rated ones.
    pub ratings: Vec<(String, i64, i64)>,
    /// (variant id, status) of the variants inventory announced.
    pub stock: Vec<(String, String)>,
}

#[diesel::dsl::auto_type(no_type_alias)]
fn variants_of_products<'a>(ids: &'a [String]) -> _ {
    let of: AnyOf<variants::product_id> = any_of(variants::product_id, ids);
    variants::table
        .filter(of)
        .order((variants::position, variants::id))
}

#[diesel::dsl::auto_type(no_type_alias)]
fn prices_of_products<'a>(ids: &'a [String]) -> _ {
    let of: AnyOf<prices::product_id> = any_of(prices::product_id, ids);
    prices::table
        .filter(of)
        .order((prices::variant_id, prices::currency))
}

#[diesel::dsl::auto_type(no_type_alias)]
fn ranges_of_products<'a>(ids: &'a [String]) -> _ {
    let of: AnyOf<ranges::product_id> = any_of(ranges::product_id, ids);
    ranges::table
        .filter(of)
        .order((ranges::product_id, ranges::currency))
}

#[diesel::dsl::auto_type(no_type_alias)]
fn ratings_of_products<'a>(ids: &'a [String]) -> _ {
    let of: AnyOf<ratings::product_id> = any_of(ratings::product_id, ids);
    let zero: i64 = 0;
    ratings::table
        .filter(of)
        .filter(ratings::count.gt(zero))
        .select((ratings::product_id, ratings::score, ratings::count))
}

#[diesel::dsl::auto_type(no_type_alias)]
fn stock_of_products<'a>(ids: &'a [String]) -> _ {
    let of: AnyOf<variants::product_id> = any_of(variants::product_id, ids);
    stock::table
        .filter(stock::variant_id.eq_any(variants::table.filter(of).select(variants::id)))
        .select((stock::variant_id, stock::status))
}

/// The parts of these products: five queries, whatever their number.
pub(crate) async fn parts_of(
    conn: &mut DbConn,
    ids: Vec<String>,
) -> Result<ProductParts, StorageError> {
    if ids.is_empty() {
        return Ok(ProductParts::default());
    }
    match conn {
        DbConn::Postgres(c) => parts_pg(c, &ids).await,
        DbConn::Sqlite(c) => Ok(c.spawn_blocking(move |c| parts_sqlite(c, &ids)).await?),
    }
}

/// PostgreSQL: the five queries pipelined on the connection (one round trip's wait).
async fn parts_pg(
    c: &mut diesel_async::AsyncPgConnection,
    ids: &[String],
) -> Result<ProductParts, StorageError> {
    if ids.is_empty() {
        return Ok(ProductParts::default());
    }
    // Futures on a shared reference are pipelined by diesel-async.
    let c: &diesel_async::AsyncPgConnection = c;
    let (variants, prices, ranges, ratings, stock) = futures::try_join!(
        variants_of_products(ids).load::<VariantRow>(&mut &*c),
        prices_of_products(ids).load::<PriceRow>(&mut &*c),
        ranges_of_products(ids).load::<RangeRow>(&mut &*c),
        ratings_of_products(ids).load::<(String, i64, i64)>(&mut &*c),
        stock_of_products(ids).load::<(String, String)>(&mut &*c),
    )?;
    Ok(ProductParts {
        variants,
        prices,
        ranges,
        ratings,
        stock,
    })
}

/// SQLite, on the blocking pool: rows decode straight into their types, with none of the
/// owned-row copies a trip per query through diesel-async's wrapper makes.
fn parts_sqlite(
    c: &mut diesel::SqliteConnection,
    ids: &[String],
) -> diesel::QueryResult<ProductParts> {
    if ids.is_empty() {
        return Ok(ProductParts::default());
    }
    Ok(ProductParts {
        variants: diesel::RunQueryDsl::load(variants_of_products(ids), c)?,
        prices: diesel::RunQueryDsl::load(prices_of_products(ids), c)?,
        ranges: diesel::RunQueryDsl::load(ranges_of_products(ids), c)?,
        ratings: diesel::RunQueryDsl::load(ratings_of_products(ids), c)?,
        stock: diesel::RunQueryDsl::load(stock_of_products(ids), c)?,
    })
}

// --- variants, options, prices -----------------------------------------------------------

/// The prices of exactly these variants (not their products' other variants).
pub(crate) async fn prices_of_variants(
    conn: &mut DbConn,
    variant_ids: &[String],
) -> Result<Vec<PriceRow>, StorageError> {
    Ok(db_run!(conn, c => prices::table
        .filter(any_of(prices::variant_id, variant_ids))
        .order((prices::variant_id, prices::currency))
        .load::<PriceRow>(c)
        .await)?)
}

pub(crate) async fn find_variant(
    conn: &mut DbConn,
    id: &str,
) -> Result<Option<VariantRow>, StorageError> {
    Ok(db_run!(conn, c => variants::table.find(id).first::<VariantRow>(c).await.optional())?)
}

/// Up to `limit` variant ids after `after`, in id order.
pub(crate) async fn variant_ids_after(
    conn: &mut DbConn,
    after: Option<&str>,
    limit: i64,
) -> Result<Vec<String>, StorageError> {
    Ok(db_run!(conn, c => variants::table
        .select(variants::id)
        .filter(variants::id.gt(after.unwrap_or_default()))
        .order(variants::id.asc())
        .limit(limit)
        .load::<String>(c)
        .await)?)
}

pub(crate) async fn variants_by_ids(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<Vec<VariantRow>, StorageError> {
    Ok(db_run!(conn, c => variants::table
        .filter(any_of(variants::id, ids))
        .load::<VariantRow>(c)
        .await)?)
}

pub(crate) async fn sku_taken(
    conn: &mut DbConn,
    sku: &str,
    except: Option<&str>,
) -> Result<bool, StorageError> {
    let n: i64 = db_run!(conn, c => variants::table
        .filter(variants::sku.eq(sku))
        .filter(variants::id.ne(except.unwrap_or("")))
        .count()
        .get_result(c)
        .await)?;
    Ok(n > 0)
}

pub(crate) async fn combination_taken(
    conn: &mut DbConn,
    product_id: &str,
    options_key: &str,
) -> Result<bool, StorageError> {
    let n: i64 = db_run!(conn, c => variants::table
        .filter(variants::product_id.eq(product_id))
        .filter(variants::options_key.eq(options_key))
        .count()
        .get_result(c)
        .await)?;
    Ok(n > 0)
}

pub(crate) async fn next_variant_position(
    conn: &mut DbConn,
    product_id: &str,
) -> Result<i32, StorageError> {
    let max: Option<i32> = db_run!(conn, c => variants::table
        .filter(variants::product_id.eq(product_id))
        .select(diesel::dsl::max(variants::position))
        .first(c)
        .await)?;
    Ok(max.map_or(0, |m| m + 1))
}

/// Writes a variant with its option rows and prices.
/// A new variant's rows.
#[derive(Debug, Clone)]
pub(crate) struct NewVariantRows {
    pub row: VariantRow,
    pub options: Vec<OptionRow>,
    pub prices: Vec<PriceRow>,
}

/// Inserts variants with their options and prices: one statement per table and chunk.
pub(crate) async fn insert_variants(
    conn: &mut DbConn,
    variants: &[&NewVariantRows],
) -> Result<(), StorageError> {
    let rows: Vec<&VariantRow> = variants.iter().map(|v| &v.row).collect();
    for chunk in rows.chunks(INSERT_CHUNK) {
        insert_rows!(
            conn,
            variants::table,
            chunk.iter().map(|r| (*r).clone()).collect::<Vec<_>>()
        )?;
    }
    let options: Vec<&OptionRow> = variants.iter().flat_map(|v| &v.options).collect();
    for chunk in options.chunks(INSERT_CHUNK) {
        insert_rows!(
            conn,
            options::table,
            chunk.iter().map(|r| (*r).clone()).collect::<Vec<_>>()
        )?;
    }
    let prices: Vec<&PriceRow> = variants.iter().flat_map(|v| &v.prices).collect();
    for chunk in prices.chunks(INSERT_CHUNK) {
        insert_rows!(
            conn,
            prices::table,
            chunk.iter().map(|r| (*r).clone()).collect::<Vec<_>>()
        )?;
    }
    Ok(())
}

/// Which of `skus` variants already have.
pub(crate) async fn skus_taken(
    conn: &mut DbConn,
    skus: &[String],
) -> Result<Vec<String>, StorageError> {
    let mut taken = Vec::new();
    for chunk in skus.chunks(INSERT_CHUNK) {
        taken.extend(db_run!(conn, c => variants::table
            .filter(any_of(variants::sku, chunk))
            .select(variants::sku)
            .load::<String>(c)
            .await)?);
    }
    Ok(taken)
}

pub(crate) async fn update_variant(
    conn: &mut DbConn,
    row: &VariantRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(variants::table.find(&row.id))
        .set((
            variants::sku.eq(&row.sku),
            variants::weight_grams.eq(row.weight_grams),
            variants::barcode.eq(&row.barcode),
            variants::updated_at.eq(row.updated_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn replace_prices(
    conn: &mut DbConn,
    variant_id: &str,
    price_rows: &[PriceRow],
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::delete(prices::table.filter(prices::variant_id.eq(variant_id))).execute(c).await)?;
    for p in price_rows {
        db_run!(conn, c => diesel::insert_into(prices::table).values(p).execute(c).await)?;
    }
    Ok(())
}

pub(crate) async fn delete_variant(conn: &mut DbConn, id: &str) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::delete(prices::table.filter(prices::variant_id.eq(id))).execute(c).await)?;
    db_run!(conn, c => diesel::delete(options::table.filter(options::variant_id.eq(id))).execute(c).await)?;
    db_run!(conn, c => diesel::delete(variants::table.find(id)).execute(c).await)?;
    Ok(())
}

/// Recomputes a product's price range per currency from its variants' prices.
pub(crate) async fn refresh_ranges(
    conn: &mut DbConn,
    product_id: &str,
) -> Result<(), StorageError> {
    let rows: Vec<PriceRow> = db_run!(conn, c => prices::table
        .filter(prices::product_id.eq(product_id))
        .load::<PriceRow>(c)
        .await)?;
    let mut by_currency: std::collections::BTreeMap<String, (i64, i64)> =
        std::collections::BTreeMap::new();
    for p in rows {
        let entry = by_currency
            .entry(p.currency)
            .or_insert((p.amount, p.amount));
        entry.0 = entry.0.min(p.amount);
        entry.1 = entry.1.max(p.amount);
    }
    db_run!(conn, c => diesel::delete(ranges::table.filter(ranges::product_id.eq(product_id))).execute(c).await)?;
    for (currency, (min_amount, max_amount)) in by_currency {
        let row = RangeRow {
            product_id: product_id.to_owned(),
            currency,
            min_amount,
            max_amount,
        };
        db_run!(conn, c => diesel::insert_into(ranges::table).values(&row).execute(c).await)?;
    }
    Ok(())
}

/// Inserts new products' price ranges.
pub(crate) async fn insert_ranges(
    conn: &mut DbConn,
    rows: &[RangeRow],
) -> Result<(), StorageError> {
    for chunk in rows.chunks(INSERT_CHUNK) {
        insert_rows!(conn, ranges::table, chunk.to_vec())?;
    }
    Ok(())
}

// --- collections -----------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = catalog_collections)]
pub(crate) struct CollectionRow {
    pub id: String,
    pub handle: String,
    pub title: String,
    pub description: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = catalog_collection_products)]
pub(crate) struct MemberRow {
    pub collection_id: String,
    pub product_id: String,
    pub position: i32,
}

pub(crate) async fn list_collections(
    conn: &mut DbConn,
) -> Result<Vec<CollectionRow>, StorageError> {
    Ok(
        db_run!(conn, c => collections::table.order(collections::id).load::<CollectionRow>(c).await)?,
    )
}

pub(crate) async fn find_collection(
    conn: &mut DbConn,
    id_or_handle: &str,
) -> Result<Option<CollectionRow>, StorageError> {
    Ok(db_run!(conn, c => collections::table
        .filter(collections::id.eq(id_or_handle).or(collections::handle.eq(id_or_handle)))
        .first::<CollectionRow>(c)
        .await
        .optional())?)
}

pub(crate) async fn collection_handle_taken(
    conn: &mut DbConn,
    handle: &str,
    except: Option<&str>,
) -> Result<bool, StorageError> {
    let n: i64 = db_run!(conn, c => collections::table
        .filter(collections::handle.eq(handle))
        .filter(collections::id.ne(except.unwrap_or("")))
        .count()
        .get_result(c)
        .await)?;
    Ok(n > 0)
}

pub(crate) async fn insert_collection(
    conn: &mut DbConn,
    row: &CollectionRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(collections::table).values(row).execute(c).await)?;
    Ok(())
}

pub(crate) async fn update_collection(
    conn: &mut DbConn,
    row: &CollectionRow,
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(collections::table.find(&row.id))
        .set((
            collections::handle.eq(&row.handle),
            collections::title.eq(&row.title),
            collections::description.eq(&row.description),
            collections::updated_at.eq(row.updated_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn delete_collection(conn: &mut DbConn, id: &str) -> Result<bool, StorageError> {
    db_run!(conn, c => diesel::delete(members::table.filter(members::collection_id.eq(id))).execute(c).await)?;
    let n = db_run!(conn, c => diesel::delete(collections::table.find(id)).execute(c).await)?;
    Ok(n == 1)
}

/// Product ids of a collection, in order.
pub(crate) async fn collection_members(
    conn: &mut DbConn,
    collection_ids: &[String],
) -> Result<Vec<MemberRow>, StorageError> {
    Ok(db_run!(conn, c => members::table
        .filter(any_of(members::collection_id, collection_ids))
        .order((members::collection_id, members::position))
        .load::<MemberRow>(c)
        .await)?)
}

/// The collections these products belong to.
pub(crate) async fn collections_of_products(
    conn: &mut DbConn,
    product_ids: &[String],
) -> Result<Vec<MemberRow>, StorageError> {
    Ok(db_run!(conn, c => members::table
        .filter(any_of(members::product_id, product_ids))
        .load::<MemberRow>(c)
        .await)?)
}

/// Replaces a collection's products.
pub(crate) async fn set_collection_members(
    conn: &mut DbConn,
    collection_id: &str,
    rows: &[MemberRow],
) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::delete(members::table.filter(members::collection_id.eq(collection_id))).execute(c).await)?;
    for row in rows {
        db_run!(conn, c => diesel::insert_into(members::table).values(row).execute(c).await)?;
    }
    Ok(())
}

/// Which of `ids` are products.
pub(crate) async fn existing_products(
    conn: &mut DbConn,
    ids: &[String],
) -> Result<Vec<String>, StorageError> {
    Ok(db_run!(conn, c => products::table
        .filter(any_of(products::id, ids))
        .select(products::id)
        .load::<String>(c)
        .await)?)
}

// --- jobs ------------------------------------------------------------------------------

diesel::table! {
    catalog_jobs (id) {
        id -> Text,
        kind -> Text,
        status -> Text,
        total -> Integer,
        processed -> Integer,
        succeeded -> Integer,
        failed -> Integer,
        problems -> Text,
        created_by -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = catalog_jobs)]
pub(crate) struct JobRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub total: i32,
    pub processed: i32,
    pub succeeded: i32,
    pub failed: i32,
    pub problems: String,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

pub(crate) async fn insert_job(conn: &mut DbConn, row: &JobRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::insert_into(catalog_jobs::table).values(row).execute(c).await)?;
    Ok(())
}

pub(crate) async fn update_job(conn: &mut DbConn, row: &JobRow) -> Result<(), StorageError> {
    db_run!(conn, c => diesel::update(catalog_jobs::table.find(&row.id))
        .set((
            catalog_jobs::status.eq(&row.status),
            catalog_jobs::total.eq(row.total),
            catalog_jobs::processed.eq(row.processed),
            catalog_jobs::succeeded.eq(row.succeeded),
            catalog_jobs::failed.eq(row.failed),
            catalog_jobs::problems.eq(&row.problems),
            catalog_jobs::updated_at.eq(row.updated_at),
            catalog_jobs::finished_at.eq(row.finished_at),
        ))
        .execute(c)
        .await)?;
    Ok(())
}

pub(crate) async fn find_job(conn: &mut DbConn, id: &str) -> Result<Option<JobRow>, StorageError> {
    Ok(db_run!(conn, c => catalog_jobs::table.find(id).first::<JobRow>(c).await.optional())?)
}

// --- stock status (from inventory's events) --------------------------------------------

/// Records a variant's stock status unless a newer one is recorded; `true` when written.
pub(crate) async fn record_stock(
    conn: &mut DbConn,
    variant_id: &str,
    status: &str,
    version: i64,
    now: NaiveDateTime,
) -> Result<bool, StorageError> {
    let (id, status) = (variant_id.to_owned(), status.to_owned());
    let current: Option<i64> = db_run!(conn, c => stock::table
        .find(id.clone())
        .select(stock::version)
        .first::<i64>(c)
        .await
        .optional())?;
    match current {
        Some(v) if v >= version => Ok(false),
        Some(_) => {
            db_run!(conn, c => diesel::update(stock::table.find(id.clone()))
                .set((stock::status.eq(status.clone()), stock::version.eq(version), stock::updated_at.eq(now)))
                .execute(c)
                .await)?;
            Ok(true)
        }
        None => {
            db_run!(conn, c => diesel::insert_into(stock::table)
                .values((stock::variant_id.eq(id.clone()), stock::status.eq(status.clone()), stock::version.eq(version), stock::updated_at.eq(now)))
                .execute(c)
                .await)?;
            Ok(true)
        }
    }
}

/// Records a product's rating summary unless a newer one is recorded; `true` when
/// written.
pub(crate) async fn record_rating(
    conn: &mut DbConn,
    product_id: &str,
    score: i64,
    count: i64,
    version: i64,
) -> Result<bool, StorageError> {
    let id = product_id.to_owned();
    let current: Option<i64> = db_run!(conn, c => ratings::table
        .find(id.clone())
        .select(ratings::version)
        .first::<i64>(c)
        .await
        .optional())?;
    match current {
        Some(v) if v >= version => return Ok(false),
        Some(_) => {
            db_run!(conn, c => diesel::update(ratings::table.find(id.clone()))
                .set((ratings::score.eq(score), ratings::count.eq(count), ratings::version.eq(version)))
                .execute(c)
                .await)?;
        }
        None => {
            db_run!(conn, c => diesel::insert_into(ratings::table)
                .values((ratings::product_id.eq(id.clone()), ratings::score.eq(score), ratings::count.eq(count), ratings::version.eq(version)))
                .execute(c)
                .await)?;
        }
    }
    Ok(true)
}
