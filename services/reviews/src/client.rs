//! How other services reach reviews: the catalog's [`ProductReviews`] port (a product's
//! reviews and ratings under its GraphQL `Product`), served in-process by [`Local`] or
//! over HTTP by [`Remote`] (the public `GET /v1/products/{id}/reviews` and `…/summary`,
//! retried: they are reads).

use weft_catalog::ports::{
    ProductReviews, RatingSummaryObject, ReviewConnection, ReviewObject, ReviewSort,
};
use weft_kernel::PageRequest;
use weft_peer_client::{ClientError, Peer, retried};

use crate::service::ReviewsService;

const SERVICE: &str = "reviews";

/// Reviews in this process.
#[derive(Debug, Clone)]
pub struct Local(pub ReviewsService);

#[async_trait::async_trait]
impl ProductReviews for Local {
    async fn page(
        &self,
        product_id: &str,
        sort: ReviewSort,
        first: u32,
        after: Option<&str>,
    ) -> Result<ReviewConnection, ClientError> {
        let page = PageRequest::from_query(Some(first), after)
            .map_err(|e| ClientError::of(SERVICE, &crate::ReviewsError::Invalid(vec![e])))?;
        let page = self
            .0
            .published_of(product_id, sort.into(), &page)
            .await
            .map_err(|e| ClientError::of(SERVICE, &e))?;
        Ok(ReviewConnection {
            nodes: page
                .data
                .into_iter()
                .map(|r| crate::graphql::shown(r, None))
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    async fn summary(&self, product_id: &str) -> Result<RatingSummaryObject, ClientError> {
        let summary = self
            .0
            .summary(product_id)
            .await
            .map_err(|e| ClientError::of(SERVICE, &e))?;
        Ok(RatingSummaryObject::of(summary.distribution))
    }
}

/// Reviews of another process.
#[derive(Debug, Clone)]
pub struct Remote(pub Peer);

fn review(r: weft_sdk::types::Review) -> ReviewObject {
    ReviewObject {
        id: r.id,
        product_id: r.product_id,
        author_name: r.author_name,
        rating: r.rating,
        title: r.title,
        body: r.body,
        size_fit: r.size_fit,
        photos: r.photos,
        verified_purchase: r.verified_purchase,
        status: r.status,
        moderation_note: r.moderation_note,
        reply: r.reply.map(|reply| reply.body),
        helpful_count: r.helpful_count.into(),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

#[async_trait::async_trait]
impl ProductReviews for Remote {
    async fn page(
        &self,
        product_id: &str,
        sort: ReviewSort,
        first: u32,
        after: Option<&str>,
    ) -> Result<ReviewConnection, ClientError> {
        let client = self.0.public();
        let page = retried(|| async {
            let mut call = client
                .list_product_reviews()
                .id(product_id)
                .sort(sort.as_str())
                .limit(i64::from(first));
            if let Some(after) = after {
                call = call.cursor(after);
            }
            call.send().await
        })
        .await
        .map_err(|e| ClientError::call(SERVICE, &e))?
        .into_inner();
        Ok(ReviewConnection {
            nodes: page.data.into_iter().map(review).collect(),
            next_cursor: page.next_cursor,
        })
    }

    async fn summary(&self, product_id: &str) -> Result<RatingSummaryObject, ClientError> {
        let client = self.0.public();
        let s = retried(|| async { client.get_rating_summary().id(product_id).send().await })
            .await
            .map_err(|e| ClientError::call(SERVICE, &e))?
            .into_inner()
            .distribution;
        Ok(RatingSummaryObject::of([
            s.one, s.two, s.three, s.four, s.five,
        ]))
    }
}
