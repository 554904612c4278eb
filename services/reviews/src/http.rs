//! Reviews' REST endpoints. Published reviews and rating summaries are public; writing,
//! editing, voting and reporting take a signed-in person (the stack's write gate answers
//! 401/403 before any body is read); moderation is `staff("reviews:write")`.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, Done, JsonBody, authz};
use weft_kernel::PageRequest;

use crate::domain::{Content, RatingSummary, Review, Sort, Status};
use crate::error::ReviewsError;
use crate::service::{Actor, ReviewsService};
use crate::store::QueueFilter;

#[derive(Tags)]
enum Tag {
    /// Customers' reviews of products: ratings, size feedback, photos, helpful votes.
    Reviews,
    /// Moderating reviews and answering them (admins, apps with `reviews:write`).
    #[oai(rename = "Reviews admin")]
    ReviewsAdmin,
}

/// A staff answer shown under a review.
#[derive(Debug, Clone, Object)]
#[oai(rename = "ReviewReply")]
pub struct ReplyDto {
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A customer's review of a product.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Review")]
pub struct ReviewDto {
    /// `rev_…`
    pub id: String,
    /// `prod_…`
    pub product_id: String,
    /// The name the author chose to show (`Customer` when none; `Former customer` once
    /// their data was erased).
    pub author_name: String,
    /// 1–5.
    pub rating: i32,
    pub title: String,
    pub body: String,
    /// `runs_small`, `true_to_size` or `runs_large`.
    pub size_fit: Option<String>,
    /// `https://` URLs of the author's photos.
    pub photos: Vec<String>,
    /// The author bought the product (set by Weft from their orders).
    pub verified_purchase: bool,
    /// `pending`, `published` or `rejected`; only `published` reviews are public.
    pub status: String,
    /// Why it was rejected or put back in the queue (the author and staff see it).
    pub moderation_note: Option<String>,
    pub reply: Option<ReplyDto>,
    pub helpful_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ReviewDto {
    /// What `viewer` may see of `review`: the moderation note is the author's and
    /// staff's business.
    fn shown(review: Review, viewer: Option<Actor<'_>>) -> Self {
        let own = match viewer {
            Some(Actor::Staff) => true,
            Some(Actor::Customer(me)) => review.customer_id.as_deref() == Some(me),
            None => false,
        };
        Self {
            id: review.id,
            product_id: review.product_id,
            author_name: review.author_name,
            rating: review.rating,
            title: review.title,
            body: review.body,
            size_fit: review.size_fit.map(|f| f.as_str().to_owned()),
            photos: review.photos,
            verified_purchase: review.verified_purchase,
            status: review.status.as_str().to_owned(),
            moderation_note: review.moderation_note.filter(|_| own),
            reply: review.reply.map(|r| ReplyDto {
                body: r.body,
                created_at: r.at,
            }),
            helpful_count: review.helpful_count,
            created_at: review.created_at,
            updated_at: review.updated_at,
        }
    }
}

/// A review as staff see it: with its author and reports.
#[derive(Debug, Clone, Object)]
#[oai(rename = "AdminReview")]
pub struct AdminReviewDto {
    #[oai(flatten)]
    pub review: ReviewDto,
    /// `usr_…`; none once the author's data was erased.
    pub customer_id: Option<String>,
    pub report_count: i64,
}

impl From<Review> for AdminReviewDto {
    fn from(review: Review) -> Self {
        Self {
            customer_id: review.customer_id.clone(),
            report_count: review.report_count,
            review: ReviewDto::shown(review, Some(Actor::Staff)),
        }
    }
}

/// How many published reviews gave each rating, one star to five.
#[derive(Debug, Clone, Object)]
pub struct RatingDistribution {
    pub one: i64,
    pub two: i64,
    pub three: i64,
    pub four: i64,
    pub five: i64,
}

/// A product's published ratings.
#[derive(Debug, Clone, Object)]
#[oai(rename = "RatingSummary")]
pub struct RatingSummaryDto {
    pub product_id: String,
    pub count: i64,
    /// Mean rating to two decimals; none without reviews.
    pub average: Option<f64>,
    pub distribution: RatingDistribution,
}

impl RatingSummaryDto {
    pub fn of(product_id: String, summary: &RatingSummary) -> Self {
        let [one, two, three, four, five] = summary.distribution;
        Self {
            product_id,
            count: summary.count(),
            average: summary.average(),
            distribution: RatingDistribution {
                one,
                two,
                three,
                four,
                five,
            },
        }
    }
}

/// One page of reviews.
#[derive(Debug, Clone, Object)]
pub struct ReviewPage {
    pub data: Vec<ReviewDto>,
    pub next_cursor: Option<String>,
}

/// One page of reviews for staff.
#[derive(Debug, Clone, Object)]
pub struct AdminReviewPage {
    pub data: Vec<AdminReviewDto>,
    pub next_cursor: Option<String>,
}

/// A new review.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// 1–5.
    pub rating: i32,
    /// 1–150 characters.
    pub title: String,
    /// 1–5,000 characters.
    pub body: String,
    /// `runs_small`, `true_to_size` or `runs_large`.
    #[serde(default)]
    pub size_fit: Option<String>,
    /// Up to 6 `https://` URLs.
    #[serde(default)]
    pub photos: Option<Vec<String>>,
    /// The name to show (1–60 characters); `Customer` when omitted.
    #[serde(default)]
    pub author_name: Option<String>,
}

/// Changes to one's review; what is omitted stays. It is moderated again.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReviewPatch {
    #[serde(default)]
    pub rating: Option<i32>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub size_fit: Option<String>,
    #[serde(default)]
    pub photos: Option<Vec<String>>,
    #[serde(default)]
    pub author_name: Option<String>,
}

/// Why a review is reported (1–500 characters).
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    pub reason: String,
}

/// Why a review is rejected (1–500 characters; its author sees it).
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RejectRequest {
    pub reason: String,
}

/// The shop's public answer (up to 2,000 characters; empty removes it).
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    pub body: String,
}

/// A helpful vote's outcome.
#[derive(Debug, Clone, Object)]
pub struct VoteResult {
    pub review: ReviewDto,
    /// This call counted the vote (`false`: it had been counted before).
    pub counted: bool,
}

#[derive(ApiResponse)]
pub enum ReviewCreated {
    /// Written: published, or pending moderation (`status` says which).
    #[oai(status = 201)]
    Created(Json<ReviewDto>),
}

/// Reviews' endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReviewsApi;

fn viewer(req: &Request) -> Option<Actor<'_>> {
    if authz::staff(req, "reviews:write").is_ok() {
        Some(Actor::Staff)
    } else {
        authz::user_id(req).map(Actor::Customer)
    }
}

fn invalid(e: weft_kernel::FieldError) -> ReviewsError {
    ReviewsError::Invalid(vec![e])
}

#[OpenApi]
impl ReviewsApi {
    /// A product's published reviews, newest first unless `sort` says otherwise.
    #[oai(
        path = "/v1/products/:id/reviews",
        method = "get",
        operation_id = "list_product_reviews",
        tag = "Tag::Reviews"
    )]
    async fn list(
        &self,
        svc: Data<&ReviewsService>,
        req: &Request,
        /// `prod_…` or a handle.
        id: Path<String>,
        /// `newest` (default), `helpful`, `highest` (also `rating`) or `lowest`.
        sort: Query<Option<String>>,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ReviewPage>> {
        let sort = Sort::parse("sort", sort.0.as_deref()).map_err(invalid)?;
        let page = PageRequest::from_query(limit.0, cursor.0.as_deref()).map_err(invalid)?;
        let page = svc.published(&id.0, sort, &page).await?;
        let who = viewer(req);
        Ok(Json(ReviewPage {
            data: page
                .data
                .into_iter()
                .map(|r| ReviewDto::shown(r, who))
                .collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// A product's published ratings: count, average and how many gave each star.
    #[oai(
        path = "/v1/products/:id/reviews/summary",
        method = "get",
        operation_id = "get_rating_summary",
        tag = "Tag::Reviews"
    )]
    async fn summary(
        &self,
        svc: Data<&ReviewsService>,
        /// `prod_…` or a handle.
        id: Path<String>,
    ) -> ApiResult<Json<RatingSummaryDto>> {
        let (product_id, summary) = svc.summary_of(&id.0).await?;
        Ok(Json(RatingSummaryDto::of(product_id, &summary)))
    }

    /// Reviews a product (a signed-in customer, once per product). `verified_purchase`
    /// is set by Weft from the customer's orders; without a purchase the review is
    /// refused (403 `purchase_required`) unless the shop allows unverified reviews.
    /// Verified reviews without links or blocked words are published at once; others
    /// wait for a moderator.
    #[oai(
        path = "/v1/products/:id/reviews",
        method = "post",
        operation_id = "create_review",
        tag = "Tag::Reviews"
    )]
    async fn create(
        &self,
        svc: Data<&ReviewsService>,
        req: &Request,
        /// `prod_…` or a handle.
        id: Path<String>,
        body: JsonBody<ReviewRequest>,
    ) -> ApiResult<ReviewCreated> {
        let me = authz::signed_in(req)?.id.clone();
        let b = body.0;
        let review = svc
            .create(
                &me,
                &id.0,
                Content {
                    rating: b.rating,
                    title: b.title,
                    body: b.body,
                    size_fit: b.size_fit,
                    photos: b.photos.unwrap_or_default(),
                    author_name: b.author_name,
                },
            )
            .await?;
        Ok(ReviewCreated::Created(Json(ReviewDto::shown(
            review,
            Some(Actor::Customer(&me)),
        ))))
    }

    /// A review: published ones for anyone; the author and staff see theirs in any state.
    #[oai(
        path = "/v1/reviews/:id",
        method = "get",
        operation_id = "get_review",
        tag = "Tag::Reviews"
    )]
    async fn get(
        &self,
        svc: Data<&ReviewsService>,
        req: &Request,
        /// `rev_…`
        id: Path<String>,
    ) -> ApiResult<Json<ReviewDto>> {
        let who = viewer(req);
        Ok(Json(ReviewDto::shown(svc.get(&id.0, who).await?, who)))
    }

    /// Edits one's own review (what is omitted stays); it is moderated again.
    #[oai(
        path = "/v1/reviews/:id",
        method = "patch",
        operation_id = "update_review",
        tag = "Tag::Reviews"
    )]
    async fn update(
        &self,
        svc: Data<&ReviewsService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<ReviewPatch>,
    ) -> ApiResult<Json<ReviewDto>> {
        let me = authz::signed_in(req)?.id.clone();
        let p = body.0;
        let review = svc
            .edit(&me, &id.0, |current| Content {
                rating: p.rating.unwrap_or(current.rating),
                title: p.title.unwrap_or_else(|| current.title.clone()),
                body: p.body.unwrap_or_else(|| current.body.clone()),
                size_fit: p
                    .size_fit
                    .or_else(|| current.size_fit.map(|f| f.as_str().to_owned())),
                photos: p.photos.unwrap_or_else(|| current.photos.clone()),
                author_name: Some(p.author_name.unwrap_or_else(|| current.author_name.clone())),
            })
            .await?;
        Ok(Json(ReviewDto::shown(review, Some(Actor::Customer(&me)))))
    }

    /// Deletes one's own review.
    #[oai(
        path = "/v1/reviews/:id",
        method = "delete",
        operation_id = "delete_review",
        tag = "Tag::Reviews"
    )]
    async fn delete(
        &self,
        svc: Data<&ReviewsService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Done> {
        let me = authz::signed_in(req)?.id.clone();
        svc.delete(Actor::Customer(&me), &id.0).await?;
        Ok(Done::NoContent)
    }

    /// Marks a published review helpful: one vote per customer, however often asked.
    #[oai(
        path = "/v1/reviews/:id/helpful",
        method = "post",
        operation_id = "vote_review_helpful",
        tag = "Tag::Reviews"
    )]
    async fn helpful(
        &self,
        svc: Data<&ReviewsService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<VoteResult>> {
        let me = authz::signed_in(req)?.id.clone();
        let (review, counted) = svc.vote(&me, &id.0).await?;
        Ok(Json(VoteResult {
            review: ReviewDto::shown(review, Some(Actor::Customer(&me))),
            counted,
        }))
    }

    /// Reports a published review as abusive (once per customer); enough reports send it
    /// back to moderation.
    #[oai(
        path = "/v1/reviews/:id/report",
        method = "post",
        operation_id = "report_review",
        tag = "Tag::Reviews"
    )]
    async fn report(
        &self,
        svc: Data<&ReviewsService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<ReportRequest>,
    ) -> ApiResult<Done> {
        let me = authz::signed_in(req)?.id.clone();
        svc.report(&me, &id.0, &body.0.reason).await?;
        Ok(Done::NoContent)
    }

    /// Every review, oldest first: `status=pending` is the moderation queue,
    /// `reported=true` keeps reviews shoppers reported.
    #[oai(
        path = "/v1/admin/reviews",
        method = "get",
        operation_id = "list_reviews_admin",
        tag = "Tag::ReviewsAdmin"
    )]
    #[allow(clippy::too_many_arguments)] // one per query parameter
    async fn queue(
        &self,
        svc: Data<&ReviewsService>,
        req: &Request,
        /// `pending`, `published` or `rejected`.
        status: Query<Option<String>>,
        /// `prod_…`
        product_id: Query<Option<String>>,
        reported: Query<Option<bool>>,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<AdminReviewPage>> {
        authz::staff(req, "reviews:write")?;
        let status = match status.0.as_deref() {
            None => None,
            Some(s) => Some(Status::parse(s).ok_or_else(|| {
                ReviewsError::field("status", "must be pending, published or rejected")
            })?),
        };
        let page = PageRequest::from_query(limit.0, cursor.0.as_deref()).map_err(invalid)?;
        let filter = QueueFilter {
            status,
            product_id: product_id.0,
            reported: reported.0.unwrap_or(false),
        };
        let page = svc.queue(&filter, &page).await?;
        Ok(Json(AdminReviewPage {
            data: page.data.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// Publishes a review (pending, rejected, or put back by reports).
    #[oai(
        path = "/v1/admin/reviews/:id/approve",
        method = "post",
        operation_id = "approve_review",
        tag = "Tag::ReviewsAdmin"
    )]
    async fn approve(
        &self,
        svc: Data<&ReviewsService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<AdminReviewDto>> {
        authz::staff(req, "reviews:write")?;
        Ok(Json(svc.moderate(&id.0, true, None).await?.into()))
    }

    /// Rejects a review with a reason its author sees; it leaves the product page.
    #[oai(
        path = "/v1/admin/reviews/:id/reject",
        method = "post",
        operation_id = "reject_review",
        tag = "Tag::ReviewsAdmin"
    )]
    async fn reject(
        &self,
        svc: Data<&ReviewsService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<RejectRequest>,
    ) -> ApiResult<Json<AdminReviewDto>> {
        authz::staff(req, "reviews:write")?;
        Ok(Json(
            svc.moderate(&id.0, false, Some(&body.0.reason))
                .await?
                .into(),
        ))
    }

    /// Answers a review in public (replacing an earlier answer; an empty body removes it).
    #[oai(
        path = "/v1/admin/reviews/:id/reply",
        method = "post",
        operation_id = "reply_to_review",
        tag = "Tag::ReviewsAdmin"
    )]
    async fn reply(
        &self,
        svc: Data<&ReviewsService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<ReplyRequest>,
    ) -> ApiResult<Json<AdminReviewDto>> {
        authz::staff(req, "reviews:write")?;
        Ok(Json(svc.reply(&id.0, &body.0.body).await?.into()))
    }

    /// Removes any review (abuse the rules did not catch).
    #[oai(
        path = "/v1/admin/reviews/:id",
        method = "delete",
        operation_id = "delete_review_admin",
        tag = "Tag::ReviewsAdmin"
    )]
    async fn remove(
        &self,
        svc: Data<&ReviewsService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Done> {
        authz::staff(req, "reviews:write")?;
        svc.delete(Actor::Staff, &id.0).await?;
        Ok(Done::NoContent)
    }
}
