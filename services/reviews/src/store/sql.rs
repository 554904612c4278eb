//! Reviews in the relational database (SQLite or PostgreSQL), and the tables reviews keep
//! there whatever stores the documents: purchases and rating versions.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::{BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use weft_storage::{DbConn, db_run};

use super::{Position, QueueFilter, ReviewStore};
use crate::domain::{ERASED, RatingSummary, Reply, Review, SizeFit, Sort, Status};
use crate::error::ReviewsError;

diesel::table! {
    reviews (id) {
        id -> Text,
        product_id -> Text,
        customer_id -> Nullable<Text>,
        author_name -> Text,
        rating -> Integer,
        title -> Text,
        body -> Text,
        size_fit -> Nullable<Text>,
        photos -> Text,
        verified_purchase -> Bool,
        status -> Text,
        moderation_note -> Nullable<Text>,
        reply_body -> Nullable<Text>,
        replied_at -> Nullable<Timestamp>,
        helpful_count -> BigInt,
        report_count -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    review_votes (review_id, customer_id) {
        review_id -> Text,
        customer_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    review_reports (review_id, customer_id) {
        review_id -> Text,
        customer_id -> Text,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    review_ratings (product_id) {
        product_id -> Text,
        version -> BigInt,
    }
}

diesel::table! {
    review_purchases (customer_id, variant_id, order_id) {
        customer_id -> Text,
        variant_id -> Text,
        order_id -> Text,
        created_at -> Timestamp,
    }
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Insertable, diesel::AsChangeset)]
#[diesel(table_name = reviews, treat_none_as_null = true)]
struct Row {
    id: String,
    product_id: String,
    customer_id: Option<String>,
    author_name: String,
    rating: i32,
    title: String,
    body: String,
    size_fit: Option<String>,
    photos: String,
    verified_purchase: bool,
    status: String,
    moderation_note: Option<String>,
    reply_body: Option<String>,
    replied_at: Option<NaiveDateTime>,
    helpful_count: i64,
    report_count: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl From<&Review> for Row {
    fn from(r: &Review) -> Self {
        Self {
            id: r.id.clone(),
            product_id: r.product_id.clone(),
            customer_id: r.customer_id.clone(),
            author_name: r.author_name.clone(),
            rating: r.rating,
            title: r.title.clone(),
            body: r.body.clone(),
            size_fit: r.size_fit.map(|f| f.as_str().to_owned()),
            // A list of strings always serializes.
            photos: serde_json::to_string(&r.photos).unwrap_or_else(|_| "[]".to_owned()),
            verified_purchase: r.verified_purchase,
            status: r.status.as_str().to_owned(),
            moderation_note: r.moderation_note.clone(),
            reply_body: r.reply.as_ref().map(|reply| reply.body.clone()),
            replied_at: r.reply.as_ref().map(|reply| reply.at.naive_utc()),
            helpful_count: r.helpful_count,
            report_count: r.report_count,
            created_at: r.created_at.naive_utc(),
            updated_at: r.updated_at.naive_utc(),
        }
    }
}

impl From<Row> for Review {
    fn from(row: Row) -> Self {
        let reply = match (row.reply_body, row.replied_at) {
            (Some(body), Some(at)) => Some(Reply {
                body,
                at: at.and_utc(),
            }),
            _ => None,
        };
        Self {
            id: row.id,
            product_id: row.product_id,
            customer_id: row.customer_id,
            author_name: row.author_name,
            rating: row.rating,
            title: row.title,
            body: row.body,
            size_fit: row.size_fit.as_deref().and_then(SizeFit::parse),
            photos: serde_json::from_str(&row.photos).unwrap_or_default(),
            verified_purchase: row.verified_purchase,
            status: Status::parse(&row.status).unwrap_or(Status::Pending),
            moderation_note: row.moderation_note,
            reply,
            helpful_count: row.helpful_count,
            report_count: row.report_count,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }
}

/// Reviews in the relational database, inside the caller's transaction.
#[derive(Debug, Clone, Copy, Default)]
pub struct SqlReviews;

fn rating_key(key: i64) -> i32 {
    i32::try_from(key).unwrap_or(if key < 0 { 0 } else { 6 })
}

#[async_trait::async_trait]
impl ReviewStore for SqlReviews {
    fn name(&self) -> &'static str {
        "relational"
    }

    async fn insert(&self, tx: &mut DbConn, review: &Review) -> Result<bool, ReviewsError> {
        let row = Row::from(review);
        let inserted = db_run!(tx, c => diesel::insert_into(reviews::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c)
            .await)
        .map_err(weft_storage::StorageError::from)?;
        Ok(inserted == 1)
    }

    async fn save(&self, tx: &mut DbConn, review: &Review) -> Result<(), ReviewsError> {
        let row = Row::from(review);
        db_run!(tx, c => diesel::update(reviews::table.find(&row.id))
            .set(&row)
            .execute(c)
            .await)
        .map_err(weft_storage::StorageError::from)?;
        Ok(())
    }

    async fn delete(&self, tx: &mut DbConn, id: &str) -> Result<bool, ReviewsError> {
        // Votes and reports go with it (ON DELETE CASCADE); said here as well, so a
        // SQLite connection without foreign keys leaves nothing behind either.
        let deleted = db_run!(tx, c => async {
            diesel::delete(review_votes::table.filter(review_votes::review_id.eq(id)))
                .execute(c)
                .await?;
            diesel::delete(review_reports::table.filter(review_reports::review_id.eq(id)))
                .execute(c)
                .await?;
            diesel::delete(reviews::table.find(id)).execute(c).await
        }.await)
        .map_err(weft_storage::StorageError::from)?;
        Ok(deleted == 1)
    }

    async fn get(&self, tx: &mut DbConn, id: &str) -> Result<Option<Review>, ReviewsError> {
        let row = db_run!(tx, c => reviews::table
            .find(id)
            .first::<Row>(c)
            .await
            .optional())
        .map_err(weft_storage::StorageError::from)?;
        Ok(row.map(Into::into))
    }

    async fn published(
        &self,
        tx: &mut DbConn,
        product_id: &str,
        sort: Sort,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<Vec<Review>, ReviewsError> {
        use reviews::dsl as r;
        let rows = db_run!(tx, c => {
            let mut q = r::reviews
                .filter(r::product_id.eq(product_id))
                .filter(r::status.eq(Status::Published.as_str()))
                .into_boxed();
            q = match sort {
                Sort::Newest => q.order((r::created_at.desc(), r::id.desc())),
                Sort::Helpful => q.order((r::helpful_count.desc(), r::created_at.desc(), r::id.desc())),
                Sort::Highest => q.order((r::rating.desc(), r::created_at.desc(), r::id.desc())),
                Sort::Lowest => q.order((r::rating.asc(), r::created_at.desc(), r::id.desc())),
            };
            if let Some(p) = after {
                let t = p.created_at.naive_utc();
                let older = r::created_at.lt(t).or(r::created_at.eq(t).and(r::id.lt(p.id.clone())));
                q = match sort {
                    Sort::Newest => q.filter(older),
                    Sort::Helpful => q.filter(
                        r::helpful_count.lt(p.key).or(r::helpful_count.eq(p.key).and(older)),
                    ),
                    Sort::Highest => {
                        let k = rating_key(p.key);
                        q.filter(r::rating.lt(k).or(r::rating.eq(k).and(older)))
                    }
                    Sort::Lowest => {
                        let k = rating_key(p.key);
                        q.filter(r::rating.gt(k).or(r::rating.eq(k).and(older)))
                    }
                };
            }
            q.limit(limit).load::<Row>(c).await
        })
        .map_err(weft_storage::StorageError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn queue(
        &self,
        tx: &mut DbConn,
        filter: &QueueFilter,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<Vec<Review>, ReviewsError> {
        use reviews::dsl as r;
        let rows = db_run!(tx, c => {
            let mut q = r::reviews
                .order((r::created_at.asc(), r::id.asc()))
                .into_boxed();
            if let Some(status) = filter.status {
                q = q.filter(r::status.eq(status.as_str()));
            }
            if let Some(product) = &filter.product_id {
                q = q.filter(r::product_id.eq(product.clone()));
            }
            if filter.reported {
                q = q.filter(r::report_count.gt(0));
            }
            if let Some(p) = after {
                let t = p.created_at.naive_utc();
                q = q.filter(r::created_at.gt(t).or(r::created_at.eq(t).and(r::id.gt(p.id.clone()))));
            }
            q.limit(limit).load::<Row>(c).await
        })
        .map_err(weft_storage::StorageError::from)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn vote(
        &self,
        tx: &mut DbConn,
        review_id: &str,
        customer_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, ReviewsError> {
        let at = at.naive_utc();
        let counted = db_run!(tx, c => async {
            let inserted = diesel::insert_into(review_votes::table)
                .values((
                    review_votes::review_id.eq(review_id),
                    review_votes::customer_id.eq(customer_id),
                    review_votes::created_at.eq(at),
                ))
                .on_conflict_do_nothing()
                .execute(c)
                .await?;
            if inserted == 1 {
                diesel::update(reviews::table.find(review_id))
                    .set(reviews::helpful_count.eq(reviews::helpful_count + 1))
                    .execute(c)
                    .await?;
            }
            Ok::<_, diesel::result::Error>(inserted == 1)
        }.await)
        .map_err(weft_storage::StorageError::from)?;
        Ok(counted)
    }

    async fn report(
        &self,
        tx: &mut DbConn,
        review_id: &str,
        customer_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>, ReviewsError> {
        let at = at.naive_utc();
        let count = db_run!(tx, c => async {
            let inserted = diesel::insert_into(review_reports::table)
                .values((
                    review_reports::review_id.eq(review_id),
                    review_reports::customer_id.eq(customer_id),
                    review_reports::reason.eq(reason),
                    review_reports::created_at.eq(at),
                ))
                .on_conflict_do_nothing()
                .execute(c)
                .await?;
            if inserted == 1 {
                diesel::update(reviews::table.find(review_id))
                    .set(reviews::report_count.eq(reviews::report_count + 1))
                    .returning(reviews::report_count)
                    .get_result::<i64>(c)
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        }.await)
        .map_err(weft_storage::StorageError::from)?;
        Ok(count)
    }

    async fn summary(
        &self,
        tx: &mut DbConn,
        product_id: &str,
    ) -> Result<RatingSummary, ReviewsError> {
        let counts: Vec<(i32, i64)> = db_run!(tx, c => reviews::table
            .filter(reviews::product_id.eq(product_id))
            .filter(reviews::status.eq(Status::Published.as_str()))
            .group_by(reviews::rating)
            .select((reviews::rating, diesel::dsl::count_star()))
            .load(c)
            .await)
        .map_err(weft_storage::StorageError::from)?;
        Ok(RatingSummary::from_counts(counts))
    }

    async fn erase_customer(
        &self,
        tx: &mut DbConn,
        customer_id: &str,
        at: DateTime<Utc>,
    ) -> Result<u64, ReviewsError> {
        let at = at.naive_utc();
        let erased = db_run!(tx, c => async {
            diesel::delete(review_votes::table.filter(review_votes::customer_id.eq(customer_id)))
                .execute(c)
                .await?;
            diesel::delete(review_reports::table.filter(review_reports::customer_id.eq(customer_id)))
                .execute(c)
                .await?;
            diesel::update(reviews::table.filter(reviews::customer_id.eq(customer_id)))
                .set((
                    reviews::customer_id.eq(None::<String>),
                    reviews::author_name.eq(ERASED),
                    reviews::photos.eq("[]"),
                    reviews::updated_at.eq(at),
                ))
                .execute(c)
                .await
        }.await)
        .map_err(weft_storage::StorageError::from)?;
        Ok(erased as u64)
    }
}

/// What customers bought, from orders' events (always relational).
pub mod purchases {
    use super::{
        DateTime, DbConn, ExpressionMethods, QueryDsl, ReviewsError, RunQueryDsl, Utc, db_run,
        review_purchases,
    };

    /// Records that `customer_id` bought `variant_ids` in `order_id` (again: nothing new).
    pub async fn record(
        tx: &mut DbConn,
        customer_id: &str,
        order_id: &str,
        variant_ids: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), ReviewsError> {
        let at = at.naive_utc();
        for variant_id in variant_ids {
            db_run!(&mut *tx, c => diesel::insert_into(review_purchases::table)
                .values((
                    review_purchases::customer_id.eq(customer_id),
                    review_purchases::variant_id.eq(variant_id),
                    review_purchases::order_id.eq(order_id),
                    review_purchases::created_at.eq(at),
                ))
                .on_conflict_do_nothing()
                .execute(c)
                .await)
            .map_err(weft_storage::StorageError::from)?;
        }
        Ok(())
    }

    /// An order called off bought nothing.
    pub async fn forget_order(tx: &mut DbConn, order_id: &str) -> Result<(), ReviewsError> {
        db_run!(tx, c => diesel::delete(
            review_purchases::table.filter(review_purchases::order_id.eq(order_id)),
        )
        .execute(c)
        .await)
        .map_err(weft_storage::StorageError::from)?;
        Ok(())
    }

    /// The variants `customer_id` bought (in orders not called off).
    pub async fn variants_of(
        tx: &mut DbConn,
        customer_id: &str,
    ) -> Result<Vec<String>, ReviewsError> {
        Ok(db_run!(tx, c => review_purchases::table
            .filter(review_purchases::customer_id.eq(customer_id))
            .select(review_purchases::variant_id)
            .distinct()
            .load::<String>(c)
            .await)
        .map_err(weft_storage::StorageError::from)?)
    }

    /// Forgets what an erased customer bought.
    pub async fn erase_customer(tx: &mut DbConn, customer_id: &str) -> Result<(), ReviewsError> {
        db_run!(tx, c => diesel::delete(
            review_purchases::table.filter(review_purchases::customer_id.eq(customer_id)),
        )
        .execute(c)
        .await)
        .map_err(weft_storage::StorageError::from)?;
        Ok(())
    }
}

/// How many rating summaries of each product were published (always relational).
pub mod ratings {
    use super::{DbConn, ExpressionMethods, ReviewsError, RunQueryDsl, db_run, review_ratings};

    /// The next version of `product_id`'s summary (1 for its first).
    pub async fn bump(tx: &mut DbConn, product_id: &str) -> Result<i64, ReviewsError> {
        use review_ratings::dsl as r;
        Ok(db_run!(tx, c => diesel::insert_into(r::review_ratings)
            .values((r::product_id.eq(product_id), r::version.eq(1_i64)))
            .on_conflict(r::product_id)
            .do_update()
            .set(r::version.eq(r::version + 1))
            .returning(r::version)
            .get_result::<i64>(c)
            .await)
        .map_err(weft_storage::StorageError::from)?)
    }
}
