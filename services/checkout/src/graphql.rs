//! Checkout's GraphQL part: `checkout(id)`, `createCheckout`, `updateCheckout`,
//! `completeCheckout`, `confirmCheckout`, over the same use cases as `/v1/checkouts`.

use async_graphql::{Context, Json, Object, SimpleObject};
use weft_kernel::PostalAddress;

use weft_orders::graphql::OrderObject;

use crate::error::CheckoutError;
use weft_http::gql::MinorUnits;

use crate::service::{Checkout, CheckoutPatch, CheckoutService, Completed, PaymentChoice};

/// What completing answered: `completed` with the order, or `requires_action` with the
/// gateway's next action (3-D Secure), after which `confirmCheckout` goes on.
#[derive(Debug, Clone, SimpleObject)]
pub struct CheckoutCompletionObject {
    pub status: String,
    pub order: Option<OrderObject>,
    pub payment_id: Option<String>,
    pub next_action: Option<Json<serde_json::Value>>,
}

impl From<Completed> for CheckoutCompletionObject {
    fn from(c: Completed) -> Self {
        match c {
            Completed::Order(order) => Self {
                status: "completed".to_owned(),
                order: Some((*order).into()),
                payment_id: None,
                next_action: None,
            },
            Completed::RequiresAction {
                payment_id,
                next_action,
            } => Self {
                status: "requires_action".to_owned(),
                order: None,
                payment_id: Some(payment_id),
                next_action: Some(Json(next_action)),
            },
        }
    }
}

/// A checkout with its summary in minor units of `currency`.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Checkout")]
pub struct CheckoutObject {
    pub id: String,
    pub cart_id: String,
    pub email: Option<String>,
    pub status: String,
    /// The order it became, once completed.
    pub order_id: Option<String>,
    pub currency: String,
    pub shipping_address: Option<Json<PostalAddress>>,
    pub billing_address: Option<Json<PostalAddress>>,
    pub shipping_method_id: Option<String>,
    /// What is still needed before completing.
    pub missing: Vec<String>,
    pub subtotal: MinorUnits,
    pub discounts: MinorUnits,
    pub shipping: MinorUnits,
    pub tax: MinorUnits,
    pub total: MinorUnits,
}

impl From<Checkout> for CheckoutObject {
    fn from(c: Checkout) -> Self {
        Self {
            id: c.id,
            cart_id: c.cart_id,
            email: c.email,
            status: c.status,
            order_id: c.order_id,
            currency: c.summary.currency.clone(),
            shipping_address: c.shipping_address.map(Json),
            billing_address: c.billing_address.map(Json),
            shipping_method_id: c.summary.shipping_method_id.clone(),
            missing: c.missing,
            subtotal: c.summary.subtotal.into(),
            discounts: c.summary.discounts.into(),
            shipping: c.summary.shipping.into(),
            tax: c.summary.tax.into(),
            total: c.summary.total.into(),
        }
    }
}

#[derive(Debug, Default)]
pub struct CheckoutQuery;

#[Object]
impl CheckoutQuery {
    /// A checkout by id; null when there is none (or it is someone else's).
    async fn checkout(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<Option<CheckoutObject>> {
        match ctx
            .data::<CheckoutService>()?
            .get(&id, weft_http::gql::user_id(ctx))
            .await
        {
            Ok(c) => Ok(Some(c.into())),
            Err(CheckoutError::NotFound) => Ok(None),
            Err(e) => Err(weft_http::gql::error(e)),
        }
    }
}

#[derive(Debug, Default)]
pub struct CheckoutMutation;

#[Object]
impl CheckoutMutation {
    /// Starts a checkout of a cart.
    async fn create_checkout(
        &self,
        ctx: &Context<'_>,
        cart_id: String,
    ) -> async_graphql::Result<CheckoutObject> {
        let svc = ctx.data::<CheckoutService>()?;
        Ok(svc
            .create(&cart_id, weft_http::gql::user_id(ctx))
            .await
            .map_err(weft_http::gql::error)?
            .into())
    }

    /// Sets the e-mail, addresses (as JSON, validated as over REST) and shipping method.
    async fn update_checkout(
        &self,
        ctx: &Context<'_>,
        id: String,
        email: Option<String>,
        shipping_address: Option<Json<PostalAddress>>,
        billing_address: Option<Json<PostalAddress>>,
        shipping_method_id: Option<String>,
    ) -> async_graphql::Result<CheckoutObject> {
        let svc = ctx.data::<CheckoutService>()?;
        let patch = CheckoutPatch {
            email,
            shipping_address: shipping_address.map(|a| a.0),
            billing_address: billing_address.map(|a| Some(a.0)),
            shipping_method_id: shipping_method_id.map(Some),
        };
        Ok(svc
            .update(&id, weft_http::gql::user_id(ctx), patch)
            .await
            .map_err(weft_http::gql::error)?
            .into())
    }

    /// Places the order, as `POST /v1/checkouts/{id}/complete`. Retrying is safe: a
    /// checkout makes one order, and a completed one answers it. `provider` and `token`
    /// may be left out when the total is 0 (nothing is charged).
    async fn complete_checkout(
        &self,
        ctx: &Context<'_>,
        id: String,
        provider: Option<String>,
        token: Option<String>,
    ) -> async_graphql::Result<CheckoutCompletionObject> {
        let svc = ctx.data::<CheckoutService>()?;
        let payment = match (provider, token) {
            (None, None) => None,
            (provider, token) => Some(PaymentChoice {
                provider: provider.unwrap_or_default(),
                token: token.unwrap_or_default(),
            }),
        };
        Ok(svc
            .complete(&id, weft_http::gql::user_id(ctx), payment)
            .await
            .map_err(weft_http::gql::error)?
            .into())
    }

    /// After the customer acted on `requires_action`, as `POST /v1/checkouts/{id}/confirm`.
    async fn confirm_checkout(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<CheckoutCompletionObject> {
        let svc = ctx.data::<CheckoutService>()?;
        Ok(svc
            .confirm(&id, weft_http::gql::user_id(ctx))
            .await
            .map_err(weft_http::gql::error)?
            .into())
    }
}
