//! The cart's GraphQL part: `cart(id)`, as `GET /v1/carts/{id}`.

use async_graphql::{Context, Object, SimpleObject};
use weft_http::{Principal, PrincipalKind};

use crate::error::CartError;
use crate::service::CartService;

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "CartLine")]
pub struct LineObject {
    pub id: String,
    pub variant_id: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price: Option<i64>,
    pub line_total: i64,
    pub purchasable: bool,
}

/// A cart with its totals in minor units of `currency`.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Cart")]
pub struct CartObject {
    pub id: String,
    pub currency: String,
    pub items: Vec<LineObject>,
    pub item_count: i64,
    pub subtotal: i64,
    pub discounts: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
}

/// The cart's queries.
#[derive(Debug, Default)]
pub struct CartQuery;

#[Object]
impl CartQuery {
    /// A cart by id; null when there is none (or it is someone else's).
    async fn cart(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<Option<CartObject>> {
        let who = ctx
            .data_opt::<Principal>()
            .filter(|p| p.kind == PrincipalKind::User)
            .map(|p| p.id.as_str());
        let cart = match ctx.data::<CartService>()?.get(&id, who).await {
            Ok(cart) => cart,
            Err(CartError::CartNotFound) => return Ok(None),
            Err(e) => return Err(weft_http::gql::error(e)),
        };
        Ok(Some(CartObject {
            id: cart.id,
            currency: cart.currency.code().to_owned(),
            items: cart
                .items
                .into_iter()
                .map(|l| LineObject {
                    id: l.id,
                    variant_id: l.variant_id,
                    title: l.title,
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    line_total: l.line_total,
                    purchasable: l.purchasable,
                })
                .collect(),
            item_count: cart.item_count,
            subtotal: cart.subtotal,
            discounts: cart.discounts,
            shipping: cart.shipping,
            tax: cart.tax,
            total: cart.total,
        }))
    }
}
