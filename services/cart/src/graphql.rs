//! The cart's GraphQL part: `cart(id)` and the cart mutations, over the same use cases as
//! `/v1/carts`.

use async_graphql::{Context, Object, SimpleObject, Subscription};
use futures::{Stream, StreamExt as _};

use crate::error::CartError;
use crate::service::{Cart, CartService};

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "CartLine")]
pub struct LineObject {
    pub id: String,
    pub variant_id: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price: Option<i64>,
    pub line_total: i64,
    /// What the cart's codes take off this line.
    pub discount: i64,
    pub purchasable: bool,
}

/// A code on a cart and what it takes off now.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "CartPromotion")]
pub struct PromotionObject {
    pub code: String,
    pub kind: String,
    pub amount: i64,
    pub applied: bool,
    /// Why it takes nothing now (`promotion_minimum_not_met`, …).
    pub reason: Option<String>,
}

/// A cart with its totals in minor units of `currency`.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "Cart")]
pub struct CartObject {
    pub id: String,
    pub currency: String,
    pub items: Vec<LineObject>,
    pub promotions: Vec<PromotionObject>,
    pub item_count: i64,
    pub subtotal: i64,
    pub discounts: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
}

impl From<Cart> for CartObject {
    fn from(cart: Cart) -> Self {
        Self {
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
                    discount: l.discount,
                    purchasable: l.purchasable,
                })
                .collect(),
            promotions: cart
                .promotions
                .into_iter()
                .map(|p| PromotionObject {
                    kind: p.kind.as_str().to_owned(),
                    amount: p.amount,
                    applied: p.rejection.is_none(),
                    reason: p.rejection.map(|r| r.code().to_owned()),
                    code: p.code,
                })
                .collect(),
            item_count: cart.item_count,
            subtotal: cart.subtotal,
            discounts: cart.discounts,
            shipping: cart.shipping,
            tax: cart.tax,
            total: cart.total,
        }
    }
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
        match ctx
            .data::<CartService>()?
            .get(&id, weft_http::gql::user_id(ctx))
            .await
        {
            Ok(cart) => Ok(Some(cart.into())),
            Err(CartError::CartNotFound) => Ok(None),
            Err(e) => Err(weft_http::gql::error(e)),
        }
    }
}

/// The cart's mutations; each answers the cart as it is after the change, and fails with
/// the REST error's `code` in `extensions`.
#[derive(Debug, Default)]
pub struct CartMutation;

#[Object]
impl CartMutation {
    /// A new cart, or the signed-in customer's existing one.
    async fn create_cart(
        &self,
        ctx: &Context<'_>,
        currency: Option<String>,
    ) -> async_graphql::Result<CartObject> {
        let svc = ctx.data::<CartService>()?;
        let (cart, _) = svc
            .create(weft_http::gql::user_id(ctx), currency.as_deref())
            .await
            .map_err(weft_http::gql::error)?;
        Ok(cart.into())
    }

    async fn add_cart_item(
        &self,
        ctx: &Context<'_>,
        cart_id: String,
        variant_id: String,
        quantity: i64,
    ) -> async_graphql::Result<CartObject> {
        let svc = ctx.data::<CartService>()?;
        Ok(svc
            .add_item(
                &cart_id,
                weft_http::gql::user_id(ctx),
                &variant_id,
                quantity,
            )
            .await
            .map_err(weft_http::gql::error)?
            .into())
    }

    async fn update_cart_item(
        &self,
        ctx: &Context<'_>,
        cart_id: String,
        item_id: String,
        quantity: i64,
    ) -> async_graphql::Result<CartObject> {
        let svc = ctx.data::<CartService>()?;
        Ok(svc
            .update_item(&cart_id, weft_http::gql::user_id(ctx), &item_id, quantity)
            .await
            .map_err(weft_http::gql::error)?
            .into())
    }

    async fn remove_cart_item(
        &self,
        ctx: &Context<'_>,
        cart_id: String,
        item_id: String,
    ) -> async_graphql::Result<CartObject> {
        let svc = ctx.data::<CartService>()?;
        Ok(svc
            .remove_item(&cart_id, weft_http::gql::user_id(ctx), &item_id)
            .await
            .map_err(weft_http::gql::error)?
            .into())
    }

    async fn apply_promotion_code(
        &self,
        ctx: &Context<'_>,
        cart_id: String,
        code: String,
    ) -> async_graphql::Result<CartObject> {
        let svc = ctx.data::<CartService>()?;
        Ok(svc
            .apply_code(&cart_id, weft_http::gql::user_id(ctx), &code)
            .await
            .map_err(weft_http::gql::error)?
            .into())
    }

    async fn remove_promotion_code(
        &self,
        ctx: &Context<'_>,
        cart_id: String,
        code: String,
    ) -> async_graphql::Result<CartObject> {
        let svc = ctx.data::<CartService>()?;
        Ok(svc
            .remove_code(&cart_id, weft_http::gql::user_id(ctx), &code)
            .await
            .map_err(weft_http::gql::error)?
            .into())
    }
}

/// The cart's subscriptions (over `GET /graphql/ws`, graphql-transport-ws or graphql-ws).
#[derive(Debug, Default)]
pub struct CartSubscription;

#[Subscription]
impl CartSubscription {
    /// The cart now, then after every change to it from any process; the subscription
    /// completes when the cart is gone. An error (`cart_not_found`) for a cart the caller
    /// may not see, as `cart(id)` is null for it.
    async fn cart(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<impl Stream<Item = CartObject> + use<>> {
        let svc = ctx.data::<CartService>()?;
        let changes = svc
            .watch(&id, weft_http::gql::user_id(ctx))
            .await
            .map_err(weft_http::gql::error)?;
        Ok(changes.map(CartObject::from))
    }
}
