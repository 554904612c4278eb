//! Reviews' use cases. Every change runs in one relational transaction that also writes
//! the product's new rating summary (`ProductRated`) to the outbox when what shoppers see
//! of its ratings changed, so the catalog follows.

use std::sync::Arc;

use chrono::{DateTime, SubsecRound, Utc};
use weft_bus::Bus;
use weft_bus::events::ProductRated;
use weft_kernel::id::PrefixedId;
use weft_kernel::{Clock, Cursor, Page, PageRequest};
use weft_storage::{Db, DbConn};

use crate::domain::{
    Content, MAX_REASON, MAX_REPLY, Moderation, RatingSummary, Reply, Review, ReviewId, Sort,
    Status,
};
use crate::error::ReviewsError;
use crate::store::{Position, QueueFilter, ReviewStore, purchases, ratings};

/// What the shop decided about reviews (settings `reviews.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rules {
    pub moderation: Moderation,
    /// Customers who did not buy a product may review it, marked unverified.
    pub allow_unverified: bool,
    /// Reports that send a published review back to the moderation queue.
    pub report_threshold: i64,
}

/// The reviews service of this process.
#[derive(Clone)]
pub struct ReviewsService {
    db: Db,
    bus: Bus,
    clock: Clock,
    store: Arc<dyn ReviewStore>,
    catalog: Arc<dyn weft_catalog::client::Catalog>,
    rules: Rules,
}

impl std::fmt::Debug for ReviewsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReviewsService")
            .field("store", &self.store.name())
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// Who acts on a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    Customer(&'a str),
    Staff,
}

fn upstream(err: &weft_peer_client::ClientError) -> ReviewsError {
    ReviewsError::CatalogUnavailable(err.to_string())
}

fn cursor_of(page: &PageRequest) -> Result<Option<Position>, ReviewsError> {
    page.cursor
        .as_ref()
        .map(Cursor::decode::<Position>)
        .transpose()
        .map_err(|e| ReviewsError::field("cursor", e.to_string()))
}

impl ReviewsService {
    pub fn new(
        db: Db,
        bus: Bus,
        clock: Clock,
        store: Arc<dyn ReviewStore>,
        catalog: Arc<dyn weft_catalog::client::Catalog>,
        rules: Rules,
    ) -> Self {
        Self {
            db,
            bus,
            clock,
            store,
            catalog,
            rules,
        }
    }

    /// Times are kept to the microsecond, as PostgreSQL does, so a cursor made from a
    /// review finds it again.
    fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// The product `id_or_handle` names, as shoppers see it, or 404.
    async fn product(&self, id_or_handle: &str) -> Result<String, ReviewsError> {
        self.catalog
            .product_id(id_or_handle)
            .await
            .map_err(|e| upstream(&e))?
            .ok_or(ReviewsError::ProductNotFound)
    }

    /// Whether `customer_id` bought a variant of `product_id` (in an order not called off).
    async fn bought(&self, customer_id: &str, product_id: &str) -> Result<bool, ReviewsError> {
        let mut conn = self.db.conn().await?;
        let variants = purchases::variants_of(&mut conn, customer_id).await?;
        drop(conn);
        if variants.is_empty() {
            return Ok(false);
        }
        let found = self
            .catalog
            .variants(&variants)
            .await
            .map_err(|e| upstream(&e))?;
        Ok(found.iter().any(|v| v.product_id == product_id))
    }

    /// Writes `product_id`'s new rating summary to the outbox (inside `tx`).
    async fn rated(&self, tx: &mut DbConn, product_id: &str) -> Result<(), ReviewsError> {
        let summary = self.store.summary(tx, product_id).await?;
        let version = ratings::bump(tx, product_id).await?;
        weft_bus::append(
            tx,
            &ProductRated {
                product_id: product_id.to_owned(),
                distribution: summary.distribution,
                version,
            },
        )
        .await?;
        Ok(())
    }

    /// A customer reviews a product (an id or a handle). A verified purchase when they
    /// bought it; otherwise refused (403 `purchase_required`) unless the shop allows
    /// unverified reviews. Published at once when the moderation rule lets it through,
    /// else pending. One review per customer and product (409 `review_exists`).
    pub async fn create(
        &self,
        customer_id: &str,
        product: &str,
        content: Content,
    ) -> Result<Review, ReviewsError> {
        let valid = content.validate().map_err(ReviewsError::Invalid)?;
        let product_id = self.product(product).await?;
        let verified = self.bought(customer_id, &product_id).await?;
        if !verified && !self.rules.allow_unverified {
            return Err(ReviewsError::PurchaseRequired);
        }
        let held = self
            .rules
            .moderation
            .holds(verified, &valid.title, &valid.body);
        let now = self.now();
        let review = Review {
            id: ReviewId::generate().to_string(),
            product_id,
            customer_id: Some(customer_id.to_owned()),
            author_name: valid.author_name,
            rating: valid.rating,
            title: valid.title,
            body: valid.body,
            size_fit: valid.size_fit,
            photos: valid.photos,
            verified_purchase: verified,
            status: if held.is_some() {
                Status::Pending
            } else {
                Status::Published
            },
            moderation_note: held.map(str::to_owned),
            reply: None,
            helpful_count: 0,
            report_count: 0,
            created_at: now,
            updated_at: now,
        };
        self.db
            .transaction(async |tx: &mut DbConn| {
                if !self.store.insert(tx, &review).await? {
                    return Err(ReviewsError::AlreadyReviewed);
                }
                if review.status == Status::Published {
                    self.rated(tx, &review.product_id).await?;
                }
                Ok(())
            })
            .await?;
        self.bus.wake();
        Ok(review)
    }

    /// A review anyone may see (published), or its author's own and staff's in any state.
    pub async fn get(&self, id: &str, viewer: Option<Actor<'_>>) -> Result<Review, ReviewsError> {
        let mut conn = self.db.conn().await?;
        let review = self
            .store
            .get(&mut conn, id)
            .await?
            .ok_or(ReviewsError::NotFound)?;
        let visible = review.status == Status::Published
            || match viewer {
                Some(Actor::Staff) => true,
                Some(Actor::Customer(me)) => review.customer_id.as_deref() == Some(me),
                None => false,
            };
        if visible {
            Ok(review)
        } else {
            Err(ReviewsError::NotFound)
        }
    }

    /// Loads a review for a change by `actor` inside `tx`: 404 when missing, 403 when a
    /// customer's change touches another's review.
    async fn owned(
        &self,
        tx: &mut DbConn,
        id: &str,
        actor: Actor<'_>,
    ) -> Result<Review, ReviewsError> {
        let review = self
            .store
            .get(tx, id)
            .await?
            .ok_or(ReviewsError::NotFound)?;
        match actor {
            Actor::Staff => Ok(review),
            Actor::Customer(me) if review.customer_id.as_deref() == Some(me) => Ok(review),
            // Another's review that is not public stays invisible.
            Actor::Customer(_) if review.status != Status::Published => Err(ReviewsError::NotFound),
            Actor::Customer(_) => Err(ReviewsError::NotYours),
        }
    }

    /// The author rewrites their review (`change` makes the new content from the
    /// current review); it is moderated again by the same rule, so a rejected review goes
    /// back to the queue: rewriting is how an author appeals.
    pub async fn edit(
        &self,
        customer_id: &str,
        id: &str,
        change: impl FnOnce(&Review) -> Content + Send,
    ) -> Result<Review, ReviewsError> {
        let now = self.now();
        let review = self
            .db
            .transaction(async |tx: &mut DbConn| {
                let mut review = self.owned(tx, id, Actor::Customer(customer_id)).await?;
                let valid = change(&review).validate().map_err(ReviewsError::Invalid)?;
                let was_public = review.status == Status::Published;
                let held = self.rules.moderation.holds(
                    review.verified_purchase,
                    &valid.title,
                    &valid.body,
                );
                review.rating = valid.rating;
                review.title = valid.title;
                review.body = valid.body;
                review.size_fit = valid.size_fit;
                review.photos = valid.photos;
                review.author_name = valid.author_name;
                review.status = if held.is_some() {
                    Status::Pending
                } else {
                    Status::Published
                };
                review.moderation_note = held.map(str::to_owned);
                review.updated_at = now;
                self.store.save(tx, &review).await?;
                if was_public || review.status == Status::Published {
                    self.rated(tx, &review.product_id).await?;
                }
                Ok::<_, ReviewsError>(review)
            })
            .await?;
        self.bus.wake();
        Ok(review)
    }

    /// The author (or staff) removes a review, with its votes and reports.
    pub async fn delete(&self, actor: Actor<'_>, id: &str) -> Result<(), ReviewsError> {
        self.db
            .transaction(async |tx: &mut DbConn| {
                let review = self.owned(tx, id, actor).await?;
                self.store.delete(tx, id).await?;
                if review.status == Status::Published {
                    self.rated(tx, &review.product_id).await?;
                }
                Ok::<_, ReviewsError>(())
            })
            .await?;
        self.bus.wake();
        Ok(())
    }

    /// A shopper found a published review helpful: counted once per customer, however
    /// often (and however concurrently) they ask. Authors cannot vote for their own.
    /// Returns the review and whether this call counted.
    pub async fn vote(&self, customer_id: &str, id: &str) -> Result<(Review, bool), ReviewsError> {
        let now = self.now();
        self.db
            .transaction(async |tx: &mut DbConn| {
                let review = self.get_in(tx, id).await?;
                if review.customer_id.as_deref() == Some(customer_id) {
                    return Err(ReviewsError::OwnReview);
                }
                let counted = self.store.vote(tx, id, customer_id, now).await?;
                let review = self
                    .store
                    .get(tx, id)
                    .await?
                    .ok_or(ReviewsError::NotFound)?;
                Ok((review, counted))
            })
            .await
    }

    /// A published review, read inside `tx` (404 for any other).
    async fn get_in(&self, tx: &mut DbConn, id: &str) -> Result<Review, ReviewsError> {
        match self.store.get(tx, id).await? {
            Some(review) if review.status == Status::Published => Ok(review),
            _ => Err(ReviewsError::NotFound),
        }
    }

    /// A shopper reports a published review as abusive (once each). Enough reports
    /// (`reviews.report_threshold`) send it back to the moderation queue.
    pub async fn report(
        &self,
        customer_id: &str,
        id: &str,
        reason: &str,
    ) -> Result<Review, ReviewsError> {
        let reason = reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON {
            return Err(ReviewsError::field(
                "reason",
                format!("1–{MAX_REASON} characters"),
            ));
        }
        let now = self.now();
        let threshold = self.rules.report_threshold.max(1);
        let review = self
            .db
            .transaction(async |tx: &mut DbConn| {
                let review = self.get_in(tx, id).await?;
                let Some(count) = self.store.report(tx, id, customer_id, reason, now).await? else {
                    return Ok(review);
                };
                let mut review = self
                    .store
                    .get(tx, id)
                    .await?
                    .ok_or(ReviewsError::NotFound)?;
                if count >= threshold && review.status == Status::Published {
                    review.status = Status::Pending;
                    review.moderation_note = Some(format!("reported by {count} shoppers"));
                    review.updated_at = now;
                    self.store.save(tx, &review).await?;
                    self.rated(tx, &review.product_id).await?;
                }
                Ok::<_, ReviewsError>(review)
            })
            .await?;
        self.bus.wake();
        Ok(review)
    }

    /// Staff decide: publish, or reject with a reason the author is shown.
    pub async fn moderate(
        &self,
        id: &str,
        publish: bool,
        reason: Option<&str>,
    ) -> Result<Review, ReviewsError> {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if !publish && reason.is_none() {
            return Err(ReviewsError::field("reason", "say why it is rejected"));
        }
        if reason.is_some_and(|r| r.chars().count() > MAX_REASON) {
            return Err(ReviewsError::field(
                "reason",
                format!("at most {MAX_REASON} characters"),
            ));
        }
        let now = self.now();
        let review = self
            .db
            .transaction(async |tx: &mut DbConn| {
                let mut review = self.owned(tx, id, Actor::Staff).await?;
                let was_public = review.status == Status::Published;
                review.status = if publish {
                    Status::Published
                } else {
                    Status::Rejected
                };
                review.moderation_note = reason.map(str::to_owned);
                review.updated_at = now;
                self.store.save(tx, &review).await?;
                if was_public != publish {
                    self.rated(tx, &review.product_id).await?;
                }
                Ok::<_, ReviewsError>(review)
            })
            .await?;
        self.bus.wake();
        Ok(review)
    }

    /// Staff answer a review in public (replacing an earlier answer); an empty body
    /// removes it.
    pub async fn reply(&self, id: &str, body: &str) -> Result<Review, ReviewsError> {
        let body = body.trim();
        if body.chars().count() > MAX_REPLY {
            return Err(ReviewsError::field(
                "body",
                format!("at most {MAX_REPLY} characters"),
            ));
        }
        let now = self.now();
        self.db
            .transaction(async |tx: &mut DbConn| {
                let mut review = self.owned(tx, id, Actor::Staff).await?;
                review.reply = (!body.is_empty()).then(|| Reply {
                    body: body.to_owned(),
                    at: now,
                });
                review.updated_at = now;
                self.store.save(tx, &review).await?;
                Ok(review)
            })
            .await
    }

    /// A page of a product's published reviews.
    pub async fn published(
        &self,
        product: &str,
        sort: Sort,
        page: &PageRequest,
    ) -> Result<Page<Review>, ReviewsError> {
        let product_id = self.product(product).await?;
        self.published_of(&product_id, sort, page).await
    }

    /// As [`Self::published`], for a product id already known to exist.
    pub async fn published_of(
        &self,
        product_id: &str,
        sort: Sort,
        page: &PageRequest,
    ) -> Result<Page<Review>, ReviewsError> {
        let after = cursor_of(page)?;
        let mut conn = self.db.conn().await?;
        let rows = self
            .store
            .published(
                &mut conn,
                product_id,
                sort,
                after.as_ref(),
                page.fetch_size(),
            )
            .await?;
        Ok(Page::from_rows(rows, page, |r| Position::of(r, sort)))
    }

    /// The product `id_or_handle` names, and how many of its published reviews gave
    /// each rating.
    pub async fn summary_of(
        &self,
        id_or_handle: &str,
    ) -> Result<(String, RatingSummary), ReviewsError> {
        let product_id = self.product(id_or_handle).await?;
        let summary = self.summary(&product_id).await?;
        Ok((product_id, summary))
    }

    /// How many published reviews of a product gave each rating.
    pub async fn summary(&self, product_id: &str) -> Result<RatingSummary, ReviewsError> {
        let mut conn = self.db.conn().await?;
        self.store.summary(&mut conn, product_id).await
    }

    /// The moderation queue (and every other review), oldest first.
    pub async fn queue(
        &self,
        filter: &QueueFilter,
        page: &PageRequest,
    ) -> Result<Page<Review>, ReviewsError> {
        let after = cursor_of(page)?;
        let mut conn = self.db.conn().await?;
        let rows = self
            .store
            .queue(&mut conn, filter, after.as_ref(), page.fetch_size())
            .await?;
        Ok(Page::from_rows(rows, page, |r| {
            Position::of(r, Sort::Newest)
        }))
    }

    /// Records a customer's order (a verified purchase for what it bought).
    pub(crate) async fn bought_in(
        &self,
        tx: &mut DbConn,
        customer_id: &str,
        order_id: &str,
        variant_ids: &[String],
    ) -> Result<(), ReviewsError> {
        purchases::record(tx, customer_id, order_id, variant_ids, self.now()).await
    }

    /// An order was called off: it bought nothing. Reviews already written stay verified.
    pub(crate) async fn called_off(
        &self,
        tx: &mut DbConn,
        order_id: &str,
    ) -> Result<(), ReviewsError> {
        purchases::forget_order(tx, order_id).await
    }

    /// A customer's data was erased: their reviews stay (the ratings shoppers relied on)
    /// but carry nothing of them; their votes, reports and purchases are forgotten.
    pub(crate) async fn erase(
        &self,
        tx: &mut DbConn,
        customer_id: &str,
    ) -> Result<u64, ReviewsError> {
        let erased = self
            .store
            .erase_customer(tx, customer_id, self.now())
            .await?;
        purchases::erase_customer(tx, customer_id).await?;
        Ok(erased)
    }

    /// Reviews' background work: following orders and erasures.
    pub fn workers(&self) -> Vec<weft_bus::Worker> {
        vec![weft_bus::Worker::consumer(crate::events::Follower(
            self.clone(),
        ))]
    }
}
