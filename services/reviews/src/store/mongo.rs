//! Reviews in MongoDB: collections `reviews`, `review_votes` and `review_reports` of the
//! configured database. Times are kept as microseconds since the epoch (exact, and they
//! sort as the relational store's timestamps do). The relational transaction each call
//! gets is not used: a document write is atomic on its own, and a vote or report is one
//! insert keyed by (review, customer), so racing requests count once.

use chrono::{DateTime, Utc};
use futures::TryStreamExt as _;
use mongodb::bson::{Bson, Document, doc};
use mongodb::options::{IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, IndexModel};
use serde::{Deserialize, Serialize};
use weft_storage::DbConn;

use super::{Position, QueueFilter, ReviewStore};
use crate::domain::{ERASED, RatingSummary, Reply, Review, SizeFit, Sort, Status};
use crate::error::ReviewsError;

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ReviewDoc {
    #[serde(rename = "_id")]
    id: String,
    product_id: String,
    customer_id: Option<String>,
    author_name: String,
    rating: i32,
    title: String,
    body: String,
    size_fit: Option<String>,
    photos: Vec<String>,
    verified_purchase: bool,
    status: String,
    moderation_note: Option<String>,
    reply_body: Option<String>,
    replied_us: Option<i64>,
    helpful_count: i64,
    report_count: i64,
    created_us: i64,
    updated_us: i64,
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

fn time(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

impl From<&Review> for ReviewDoc {
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
            photos: r.photos.clone(),
            verified_purchase: r.verified_purchase,
            status: r.status.as_str().to_owned(),
            moderation_note: r.moderation_note.clone(),
            reply_body: r.reply.as_ref().map(|reply| reply.body.clone()),
            replied_us: r.reply.as_ref().map(|reply| micros(reply.at)),
            helpful_count: r.helpful_count,
            report_count: r.report_count,
            created_us: micros(r.created_at),
            updated_us: micros(r.updated_at),
        }
    }
}

impl From<ReviewDoc> for Review {
    fn from(d: ReviewDoc) -> Self {
        let reply = match (d.reply_body, d.replied_us) {
            (Some(body), Some(at)) => Some(Reply { body, at: time(at) }),
            _ => None,
        };
        Self {
            id: d.id,
            product_id: d.product_id,
            customer_id: d.customer_id,
            author_name: d.author_name,
            rating: d.rating,
            title: d.title,
            body: d.body,
            size_fit: d.size_fit.as_deref().and_then(SizeFit::parse),
            photos: d.photos,
            verified_purchase: d.verified_purchase,
            status: Status::parse(&d.status).unwrap_or(Status::Pending),
            moderation_note: d.moderation_note,
            reply,
            helpful_count: d.helpful_count,
            report_count: d.report_count,
            created_at: time(d.created_us),
            updated_at: time(d.updated_us),
        }
    }
}

/// A customer's helpful vote or report: one document per (review, customer).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct MarkDoc {
    /// `<review id>:<customer id>`: the key that makes a second one a duplicate.
    #[serde(rename = "_id")]
    id: String,
    review_id: String,
    customer_id: String,
    reason: Option<String>,
    created_us: i64,
}

/// Reviews in a MongoDB database.
#[derive(Debug, Clone)]
pub struct MongoReviews {
    reviews: Collection<ReviewDoc>,
    votes: Collection<MarkDoc>,
    reports: Collection<MarkDoc>,
}

fn failed(e: &mongodb::error::Error) -> ReviewsError {
    ReviewsError::Store(e.to_string())
}

/// Whether `e` is a unique index refusing a duplicate (server error 11000).
fn duplicate(e: &mongodb::error::Error) -> bool {
    use mongodb::error::{ErrorKind, WriteFailure};
    matches!(
        e.kind.as_ref(),
        ErrorKind::Write(WriteFailure::WriteError(w)) if w.code == 11000
    )
}

fn index(keys: Document, unique: Option<Document>) -> IndexModel {
    let options = unique.map(|partial| {
        IndexOptions::builder()
            .unique(true)
            .partial_filter_expression(partial)
            .build()
    });
    IndexModel::builder().keys(keys).options(options).build()
}

/// Published reviews of a product after `after` in `sort` order: the `$or` of "a lower
/// key", "the same key, older", "the same key and time, a smaller id".
fn page_filter(product_id: &str, sort: Sort, after: Option<&Position>) -> Document {
    let mut filter = doc! { "product_id": product_id, "status": Status::Published.as_str() };
    if let Some(p) = after {
        let t = micros(p.created_at);
        let older = vec![
            doc! { "created_us": { "$lt": t } },
            doc! { "created_us": t, "_id": { "$lt": &p.id } },
        ];
        let key = match sort {
            Sort::Newest => None,
            Sort::Helpful => Some(("helpful_count", "$lt")),
            Sort::Highest => Some(("rating", "$lt")),
            Sort::Lowest => Some(("rating", "$gt")),
        };
        let branches: Vec<Document> = match key {
            None => older,
            Some((field, beyond)) => {
                let k = match field {
                    "rating" => Bson::Int32(i32::try_from(p.key).unwrap_or_default()),
                    _ => Bson::Int64(p.key),
                };
                let mut branches = vec![doc! { field: { beyond: k.clone() } }];
                for mut tail in older {
                    tail.insert(field, k.clone());
                    branches.push(tail);
                }
                branches
            }
        };
        filter.insert("$or", branches);
    }
    filter
}

fn page_order(sort: Sort) -> Document {
    match sort {
        Sort::Newest => doc! { "created_us": -1, "_id": -1 },
        Sort::Helpful => doc! { "helpful_count": -1, "created_us": -1, "_id": -1 },
        Sort::Highest => doc! { "rating": -1, "created_us": -1, "_id": -1 },
        Sort::Lowest => doc! { "rating": 1, "created_us": -1, "_id": -1 },
    }
}

impl MongoReviews {
    /// Connects to `url` and makes sure the collections' indexes exist.
    pub async fn connect(url: &str, database: &str) -> Result<Self, ReviewsError> {
        let client = Client::with_uri_str(url).await.map_err(|e| failed(&e))?;
        Self::open(&client, database).await
    }

    /// The store in `database` of a connected client (tests use a database each).
    pub async fn open(client: &Client, database: &str) -> Result<Self, ReviewsError> {
        let db = client.database(database);
        let store = Self {
            reviews: db.collection("reviews"),
            votes: db.collection("review_votes"),
            reports: db.collection("review_reports"),
        };
        store
            .reviews
            .create_indexes([
                // Erased authors' reviews have no customer: they never collide.
                index(
                    doc! { "product_id": 1, "customer_id": 1 },
                    Some(doc! { "customer_id": { "$type": "string" } }),
                ),
                index(
                    doc! { "product_id": 1, "status": 1, "created_us": -1 },
                    None,
                ),
                index(doc! { "status": 1, "created_us": 1 }, None),
                index(doc! { "customer_id": 1 }, None),
            ])
            .await
            .map_err(|e| failed(&e))?;
        for marks in [&store.votes, &store.reports] {
            marks
                .create_indexes([
                    index(doc! { "review_id": 1 }, None),
                    index(doc! { "customer_id": 1 }, None),
                ])
                .await
                .map_err(|e| failed(&e))?;
        }
        Ok(store)
    }

    /// Drops the store's collections (tests).
    pub async fn drop_all(&self) -> Result<(), ReviewsError> {
        self.reviews.drop().await.map_err(|e| failed(&e))?;
        self.votes.drop().await.map_err(|e| failed(&e))?;
        self.reports.drop().await.map_err(|e| failed(&e))
    }

    async fn load(
        &self,
        filter: Document,
        order: Document,
        limit: i64,
    ) -> Result<Vec<Review>, ReviewsError> {
        let cursor = self
            .reviews
            .find(filter)
            .sort(order)
            .limit(limit)
            .await
            .map_err(|e| failed(&e))?;
        let docs: Vec<ReviewDoc> = cursor.try_collect().await.map_err(|e| failed(&e))?;
        Ok(docs.into_iter().map(Into::into).collect())
    }

    /// Records a (review, customer) mark once: `true` when this call recorded it.
    async fn mark(
        marks: &Collection<MarkDoc>,
        review_id: &str,
        customer_id: &str,
        reason: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<bool, ReviewsError> {
        let mark = MarkDoc {
            id: format!("{review_id}:{customer_id}"),
            review_id: review_id.to_owned(),
            customer_id: customer_id.to_owned(),
            reason: reason.map(str::to_owned),
            created_us: micros(at),
        };
        match marks.insert_one(&mark).await {
            Ok(_) => Ok(true),
            Err(e) if duplicate(&e) => Ok(false),
            Err(e) => Err(failed(&e)),
        }
    }

    /// Adds one to a counter of a review; its value after.
    async fn count_up(&self, review_id: &str, field: &str) -> Result<i64, ReviewsError> {
        let after = self
            .reviews
            .find_one_and_update(doc! { "_id": review_id }, doc! { "$inc": { field: 1_i64 } })
            .return_document(ReturnDocument::After)
            .await
            .map_err(|e| failed(&e))?
            .ok_or(ReviewsError::NotFound)?;
        Ok(if field == "helpful_count" {
            after.helpful_count
        } else {
            after.report_count
        })
    }
}

#[async_trait::async_trait]
impl ReviewStore for MongoReviews {
    fn name(&self) -> &'static str {
        "mongodb"
    }

    async fn insert(&self, _tx: &mut DbConn, review: &Review) -> Result<bool, ReviewsError> {
        match self.reviews.insert_one(ReviewDoc::from(review)).await {
            Ok(_) => Ok(true),
            Err(e) if duplicate(&e) => Ok(false),
            Err(e) => Err(failed(&e)),
        }
    }

    async fn save(&self, _tx: &mut DbConn, review: &Review) -> Result<(), ReviewsError> {
        let d = ReviewDoc::from(review);
        // Counters move by `$inc` alone, so a save never undoes a racing vote.
        let changes = doc! { "$set": {
            "customer_id": d.customer_id.as_deref().map_or(Bson::Null, |c| Bson::String(c.to_owned())),
            "author_name": &d.author_name,
            "rating": d.rating,
            "title": &d.title,
            "body": &d.body,
            "size_fit": d.size_fit.as_deref().map_or(Bson::Null, |f| Bson::String(f.to_owned())),
            "photos": &d.photos,
            "verified_purchase": d.verified_purchase,
            "status": &d.status,
            "moderation_note": d.moderation_note.as_deref().map_or(Bson::Null, |n| Bson::String(n.to_owned())),
            "reply_body": d.reply_body.as_deref().map_or(Bson::Null, |b| Bson::String(b.to_owned())),
            "replied_us": d.replied_us.map_or(Bson::Null, Bson::Int64),
            "updated_us": d.updated_us,
        }};
        self.reviews
            .update_one(doc! { "_id": &d.id }, changes)
            .await
            .map_err(|e| failed(&e))?;
        Ok(())
    }

    async fn delete(&self, _tx: &mut DbConn, id: &str) -> Result<bool, ReviewsError> {
        let gone = self
            .reviews
            .delete_one(doc! { "_id": id })
            .await
            .map_err(|e| failed(&e))?;
        for marks in [&self.votes, &self.reports] {
            marks
                .delete_many(doc! { "review_id": id })
                .await
                .map_err(|e| failed(&e))?;
        }
        Ok(gone.deleted_count == 1)
    }

    async fn get(&self, _tx: &mut DbConn, id: &str) -> Result<Option<Review>, ReviewsError> {
        let found = self
            .reviews
            .find_one(doc! { "_id": id })
            .await
            .map_err(|e| failed(&e))?;
        Ok(found.map(Into::into))
    }

    async fn published(
        &self,
        _tx: &mut DbConn,
        product_id: &str,
        sort: Sort,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<Vec<Review>, ReviewsError> {
        self.load(
            page_filter(product_id, sort, after),
            page_order(sort),
            limit,
        )
        .await
    }

    async fn queue(
        &self,
        _tx: &mut DbConn,
        filter: &QueueFilter,
        after: Option<&Position>,
        limit: i64,
    ) -> Result<Vec<Review>, ReviewsError> {
        let mut find = Document::new();
        if let Some(status) = filter.status {
            find.insert("status", status.as_str());
        }
        if let Some(product) = &filter.product_id {
            find.insert("product_id", product);
        }
        if filter.reported {
            find.insert("report_count", doc! { "$gt": 0_i64 });
        }
        if let Some(p) = after {
            let t = micros(p.created_at);
            find.insert(
                "$or",
                vec![
                    doc! { "created_us": { "$gt": t } },
                    doc! { "created_us": t, "_id": { "$gt": &p.id } },
                ],
            );
        }
        self.load(find, doc! { "created_us": 1, "_id": 1 }, limit)
            .await
    }

    async fn vote(
        &self,
        _tx: &mut DbConn,
        review_id: &str,
        customer_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, ReviewsError> {
        if !Self::mark(&self.votes, review_id, customer_id, None, at).await? {
            return Ok(false);
        }
        self.count_up(review_id, "helpful_count").await?;
        Ok(true)
    }

    async fn report(
        &self,
        _tx: &mut DbConn,
        review_id: &str,
        customer_id: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<i64>, ReviewsError> {
        if !Self::mark(&self.reports, review_id, customer_id, Some(reason), at).await? {
            return Ok(None);
        }
        self.count_up(review_id, "report_count").await.map(Some)
    }

    async fn summary(
        &self,
        _tx: &mut DbConn,
        product_id: &str,
    ) -> Result<RatingSummary, ReviewsError> {
        let pipeline = [
            doc! { "$match": { "product_id": product_id, "status": Status::Published.as_str() } },
            doc! { "$group": { "_id": "$rating", "n": { "$sum": 1_i64 } } },
        ];
        let cursor = self
            .reviews
            .aggregate(pipeline)
            .await
            .map_err(|e| failed(&e))?;
        let groups: Vec<Document> = cursor.try_collect().await.map_err(|e| failed(&e))?;
        Ok(RatingSummary::from_counts(groups.iter().map(|group| {
            let rating = group.get_i32("_id").unwrap_or_default();
            let n = group
                .get_i64("n")
                .or_else(|_| group.get_i32("n").map(i64::from))
                .unwrap_or_default();
            (rating, n)
        })))
    }

    async fn erase_customer(
        &self,
        _tx: &mut DbConn,
        customer_id: &str,
        at: DateTime<Utc>,
    ) -> Result<u64, ReviewsError> {
        for marks in [&self.votes, &self.reports] {
            marks
                .delete_many(doc! { "customer_id": customer_id })
                .await
                .map_err(|e| failed(&e))?;
        }
        let erased = self
            .reviews
            .update_many(
                doc! { "customer_id": customer_id },
                doc! { "$set": {
                    "customer_id": Bson::Null,
                    "author_name": ERASED,
                    "photos": Vec::<String>::new(),
                    "updated_us": micros(at),
                }},
            )
            .await
            .map_err(|e| failed(&e))?;
        Ok(erased.modified_count)
    }
}
