//! Reviews in GraphQL, over the same use cases as REST: `productReviews` and
//! `ratingSummary` for anyone; `createReview`, `updateReview`, `deleteReview`,
//! `voteReviewHelpful` and `reportReview` for signed-in customers; `moderateReview` and
//! `replyToReview` for staff (`reviews:write`).

use async_graphql::{Context, InputObject, Object};
use weft_catalog::ports::{RatingSummaryObject, ReviewConnection, ReviewObject, ReviewSort};
use weft_http::{Principal, authz};
use weft_kernel::PageRequest;

use crate::domain::{Content, Review, Sort};
use crate::error::ReviewsError;
use crate::service::{Actor, ReviewsService};

/// `r` as `viewer` may see it: the moderation note is its author's and staff's business.
pub(crate) fn shown(r: Review, viewer: Option<Actor<'_>>) -> ReviewObject {
    let own = match viewer {
        Some(Actor::Staff) => true,
        Some(Actor::Customer(me)) => r.customer_id.as_deref() == Some(me),
        None => false,
    };
    ReviewObject {
        id: r.id,
        product_id: r.product_id,
        author_name: r.author_name,
        rating: r.rating,
        title: r.title,
        body: r.body,
        size_fit: r.size_fit.map(|f| f.as_str().to_owned()),
        photos: r.photos,
        verified_purchase: r.verified_purchase,
        status: r.status.as_str().to_owned(),
        moderation_note: r.moderation_note.filter(|_| own),
        reply: r.reply.map(|reply| reply.body),
        helpful_count: r.helpful_count.into(),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

impl From<ReviewSort> for Sort {
    fn from(s: ReviewSort) -> Self {
        match s {
            ReviewSort::Newest => Self::Newest,
            ReviewSort::Helpful => Self::Helpful,
            ReviewSort::Highest => Self::Highest,
            ReviewSort::Lowest => Self::Lowest,
        }
    }
}

/// A review's content (all of it for a new one; what changes for an edit).
#[derive(Debug, Clone, Default, InputObject)]
pub struct ReviewInput {
    pub rating: Option<i32>,
    pub title: Option<String>,
    pub body: Option<String>,
    pub size_fit: Option<String>,
    pub photos: Option<Vec<String>>,
    pub author_name: Option<String>,
}

fn viewer<'c>(ctx: &'c Context<'_>) -> Option<Actor<'c>> {
    let principal = ctx.data_opt::<Principal>();
    if authz::check_staff(principal, "reviews:write").is_ok() {
        Some(Actor::Staff)
    } else {
        weft_http::gql::user_id(ctx).map(Actor::Customer)
    }
}

fn customer<'c>(ctx: &'c Context<'_>) -> async_graphql::Result<&'c str> {
    authz::check_signed_in(ctx.data_opt::<Principal>())
        .map(|p| p.id.as_str())
        .map_err(weft_http::gql::error)
}

fn err(e: ReviewsError) -> async_graphql::Error {
    weft_http::gql::error(e)
}

/// Reviews' queries.
#[derive(Debug, Default)]
pub struct ReviewsQuery;

#[Object]
impl ReviewsQuery {
    /// A product's published reviews (`productId` is an id or a handle).
    async fn product_reviews(
        &self,
        ctx: &Context<'_>,
        product_id: String,
        #[graphql(default = 20)] first: u32,
        after: Option<String>,
        #[graphql(default_with = "ReviewSort::Newest")] sort: ReviewSort,
    ) -> async_graphql::Result<ReviewConnection> {
        let page = PageRequest::from_query(Some(first), after.as_deref())
            .map_err(|e| err(ReviewsError::Invalid(vec![e])))?;
        let page = ctx
            .data::<ReviewsService>()?
            .published(&product_id, sort.into(), &page)
            .await
            .map_err(err)?;
        let who = viewer(ctx);
        Ok(ReviewConnection {
            nodes: page.data.into_iter().map(|r| shown(r, who)).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// A product's published ratings.
    async fn rating_summary(
        &self,
        ctx: &Context<'_>,
        product_id: String,
    ) -> async_graphql::Result<RatingSummaryObject> {
        let (_, summary) = ctx
            .data::<ReviewsService>()?
            .summary_of(&product_id)
            .await
            .map_err(err)?;
        Ok(RatingSummaryObject::of(summary.distribution))
    }
}

/// Reviews' mutations.
#[derive(Debug, Default)]
pub struct ReviewsMutation;

#[Object]
impl ReviewsMutation {
    /// Reviews a product, as `POST /v1/products/{id}/reviews`.
    async fn create_review(
        &self,
        ctx: &Context<'_>,
        product_id: String,
        input: ReviewInput,
    ) -> async_graphql::Result<ReviewObject> {
        let me = customer(ctx)?;
        let content = Content {
            rating: input.rating.unwrap_or_default(),
            title: input.title.unwrap_or_default(),
            body: input.body.unwrap_or_default(),
            size_fit: input.size_fit,
            photos: input.photos.unwrap_or_default(),
            author_name: input.author_name,
        };
        let review = ctx
            .data::<ReviewsService>()?
            .create(me, &product_id, content)
            .await
            .map_err(err)?;
        Ok(shown(review, Some(Actor::Customer(me))))
    }

    /// Edits one's review (what is omitted stays), as `PATCH /v1/reviews/{id}`.
    async fn update_review(
        &self,
        ctx: &Context<'_>,
        id: String,
        input: ReviewInput,
    ) -> async_graphql::Result<ReviewObject> {
        let me = customer(ctx)?;
        let review = ctx
            .data::<ReviewsService>()?
            .edit(me, &id, |current| Content {
                rating: input.rating.unwrap_or(current.rating),
                title: input.title.unwrap_or_else(|| current.title.clone()),
                body: input.body.unwrap_or_else(|| current.body.clone()),
                size_fit: input
                    .size_fit
                    .or_else(|| current.size_fit.map(|f| f.as_str().to_owned())),
                photos: input.photos.unwrap_or_else(|| current.photos.clone()),
                author_name: Some(
                    input
                        .author_name
                        .unwrap_or_else(|| current.author_name.clone()),
                ),
            })
            .await
            .map_err(err)?;
        Ok(shown(review, Some(Actor::Customer(me))))
    }

    /// Deletes one's review; `true` when done.
    async fn delete_review(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<bool> {
        let me = customer(ctx)?;
        ctx.data::<ReviewsService>()?
            .delete(Actor::Customer(me), &id)
            .await
            .map_err(err)?;
        Ok(true)
    }

    /// Marks a review helpful (one vote per customer); returns the review.
    async fn vote_review_helpful(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<ReviewObject> {
        let me = customer(ctx)?;
        let (review, _) = ctx
            .data::<ReviewsService>()?
            .vote(me, &id)
            .await
            .map_err(err)?;
        Ok(shown(review, Some(Actor::Customer(me))))
    }

    /// Reports a review as abusive (once per customer); `true` when recorded.
    async fn report_review(
        &self,
        ctx: &Context<'_>,
        id: String,
        reason: String,
    ) -> async_graphql::Result<bool> {
        let me = customer(ctx)?;
        ctx.data::<ReviewsService>()?
            .report(me, &id, &reason)
            .await
            .map_err(err)?;
        Ok(true)
    }

    /// Publishes (`approve: true`) or rejects a review with a reason (staff).
    async fn moderate_review(
        &self,
        ctx: &Context<'_>,
        id: String,
        approve: bool,
        reason: Option<String>,
    ) -> async_graphql::Result<ReviewObject> {
        authz::check_staff(ctx.data_opt::<Principal>(), "reviews:write")
            .map_err(weft_http::gql::error)?;
        let review = ctx
            .data::<ReviewsService>()?
            .moderate(&id, approve, reason.as_deref())
            .await
            .map_err(err)?;
        Ok(shown(review, Some(Actor::Staff)))
    }

    /// Answers a review in public (staff); an empty body removes the answer.
    async fn reply_to_review(
        &self,
        ctx: &Context<'_>,
        id: String,
        body: String,
    ) -> async_graphql::Result<ReviewObject> {
        authz::check_staff(ctx.data_opt::<Principal>(), "reviews:write")
            .map_err(weft_http::gql::error)?;
        let review = ctx
            .data::<ReviewsService>()?
            .reply(&id, &body)
            .await
            .map_err(err)?;
        Ok(shown(review, Some(Actor::Staff)))
    }
}
