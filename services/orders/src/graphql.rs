//! Orders in GraphQL: `orders` and `order(id)` for the signed-in customer, over the same
//! use cases as `GET /v1/orders`, and the mutations `cancelOrder` and `requestReturn`.
//! Another customer's order is null (or `order_not_found`), as it is 404 in REST.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};
use weft_http::gql::{Long, MinorUnits};
use weft_kernel::PageRequest;

use crate::after_sale::Return;
use crate::domain::ReturnItem;
use crate::http::{actor, status_filter};
use crate::service::{Order, OrderFilter, OrderService, OrdersError};

/// A line as bought; amounts in minor units of the order's currency.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "OrderLine")]
pub struct OrderLineObject {
    pub variant_id: String,
    pub title: String,
    pub sku: Option<String>,
    pub quantity: Long,
    pub unit_price: MinorUnits,
    pub line_total: MinorUnits,
}

/// An order; amounts in minor units of `currency`.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Order")]
pub struct OrderObject {
    pub id: String,
    pub checkout_id: String,
    pub status: String,
    pub email: String,
    pub currency: String,
    pub lines: Vec<OrderLineObject>,
    pub subtotal: MinorUnits,
    pub discounts: MinorUnits,
    pub shipping: MinorUnits,
    pub tax: MinorUnits,
    pub total: MinorUnits,
    pub refunded: MinorUnits,
    pub payment_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Order> for OrderObject {
    fn from(o: Order) -> Self {
        Self {
            status: o.status.as_str().to_owned(),
            lines: o
                .lines
                .into_iter()
                .map(|l| OrderLineObject {
                    variant_id: l.variant_id,
                    title: l.title,
                    sku: l.sku,
                    quantity: l.quantity.into(),
                    unit_price: l.unit_price.into(),
                    line_total: l.line_total.into(),
                })
                .collect(),
            id: o.id,
            checkout_id: o.checkout_id,
            email: o.email,
            currency: o.currency,
            subtotal: o.subtotal.into(),
            discounts: o.discounts.into(),
            shipping: o.shipping.into(),
            tax: o.tax.into(),
            total: o.total.into(),
            refunded: o.refunded_total.into(),
            payment_id: o.payment_id,
            created_at: o.created_at,
        }
    }
}

/// A page of orders; pass `nextCursor` as `after` for the next.
#[derive(Debug, Clone, SimpleObject)]
pub struct OrderConnection {
    pub nodes: Vec<OrderObject>,
    pub next_cursor: Option<String>,
}

#[derive(Debug, Default)]
pub struct OrdersQuery;

#[Object]
impl OrdersQuery {
    /// The signed-in customer's orders, newest first.
    async fn orders(
        &self,
        ctx: &Context<'_>,
        status: Option<String>,
        #[graphql(default = 20)] first: u32,
        after: Option<String>,
    ) -> async_graphql::Result<OrderConnection> {
        let me = weft_http::authz::check_signed_in(ctx.data_opt::<weft_http::Principal>())
            .map_err(weft_http::gql::error)?;
        let filter = OrderFilter {
            customer_id: Some(me.id.clone()),
            status: status_filter(status.as_deref()).map_err(weft_http::gql::error)?,
        };
        let page = PageRequest::from_query(Some(first), after.as_deref())
            .map_err(|e| weft_http::gql::error(OrdersError::Invalid(vec![e])))?;
        let page = ctx
            .data::<OrderService>()?
            .list(&filter, &page)
            .await
            .map_err(weft_http::gql::error)?;
        Ok(OrderConnection {
            nodes: page.data.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        })
    }

    /// One of the signed-in customer's orders; null for anyone else's.
    async fn order(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<Option<OrderObject>> {
        let me = weft_http::authz::check_signed_in(ctx.data_opt::<weft_http::Principal>())
            .map_err(weft_http::gql::error)?;
        match ctx.data::<OrderService>()?.get(&id).await {
            Ok(o) if o.customer_id.as_deref() == Some(me.id.as_str()) => Ok(Some(o.into())),
            Ok(_) | Err(OrdersError::NotFound) => Ok(None),
            Err(e) => Err(weft_http::gql::error(e)),
        }
    }
}

/// Units of one bought variant to send back.
#[derive(Debug, Clone, async_graphql::InputObject)]
#[graphql(name = "ReturnItemInput")]
pub struct ReturnItemInput {
    pub variant_id: String,
    pub quantity: Long,
}

/// A return and where it stands (`requested`, `approved`, `rejected`, `received`,
/// `refunded`).
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Return")]
pub struct ReturnObject {
    pub id: String,
    pub order_id: String,
    pub status: String,
    pub reason: String,
    pub created_at: DateTime<Utc>,
}

impl From<Return> for ReturnObject {
    fn from(r: Return) -> Self {
        Self {
            id: r.id,
            order_id: r.order_id,
            status: r.status.as_str().to_owned(),
            reason: r.reason,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Default)]
pub struct OrdersMutation;

#[Object]
impl OrdersMutation {
    /// Calls off one of the signed-in customer's paid orders before it ships (as
    /// `POST /v1/orders/{id}/cancel`): money back, units back on sale.
    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        id: String,
        reason: Option<String>,
    ) -> async_graphql::Result<OrderObject> {
        let me = weft_http::authz::check_signed_in(ctx.data_opt::<weft_http::Principal>())
            .map_err(weft_http::gql::error)?;
        let reason = reason.unwrap_or_else(|| "customer request".into());
        Ok(ctx
            .data::<OrderService>()?
            .cancel(&id, &reason, &actor(me), Some(me.id.as_str()))
            .await
            .map_err(weft_http::gql::error)?
            .into())
    }

    /// Asks to return units of one of the signed-in customer's shipped orders (as
    /// `POST /v1/orders/{id}/returns`).
    async fn request_return(
        &self,
        ctx: &Context<'_>,
        order_id: String,
        items: Vec<ReturnItemInput>,
        reason: String,
    ) -> async_graphql::Result<ReturnObject> {
        let me = weft_http::authz::check_signed_in(ctx.data_opt::<weft_http::Principal>())
            .map_err(weft_http::gql::error)?;
        let items = items
            .into_iter()
            .map(|i| ReturnItem {
                variant_id: i.variant_id,
                quantity: i.quantity.0,
            })
            .collect();
        Ok(ctx
            .data::<OrderService>()?
            .request_return(&order_id, &me.id, items, &reason)
            .await
            .map_err(weft_http::gql::error)?
            .into())
    }
}
