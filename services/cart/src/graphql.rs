//! The cart's GraphQL part: `cart(id)` and the cart mutations, over the same use cases as
//! `/v1/carts`.

use async_graphql::{Context, Object, SimpleObject, Subscription};
use futures::{Stream, StreamExt as _};

use weft_http::gql::{Long, MinorUnits};

use crate::error::CartError;
use crate::service::{Cart, CartService};

#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "CartLine")]
pub struct LineObject {
    pub id: String,
    pub variant_id: String,
    pub title: String,
    pub quantity: Long,
    pub unit_price: Option<MinorUnits>,
    pub line_total: MinorUnits,
    /// What the cart's codes take off this line.
    pub discount: MinorUnits,
    pub purchasable: bool,
}

/// A code on a cart and what it takes off now.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(name = "CartPromotion")]
pub struct PromotionObject {
    pub code: String,
    pub kind: String,
    pub amount: MinorUnits,
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
    pub item_count: Long,
    pub subtotal: MinorUnits,
    pub discounts: MinorUnits,
    pub shipping: MinorUnits,
    pub tax: MinorUnits,
    pub total: MinorUnits,
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
                    quantity: l.quantity.into(),
                    unit_price: l.unit_price.map(MinorUnits),
                    line_total: l.line_total.into(),
                    discount: l.discount.into(),
                    purchasable: l.purchasable,
                })
                .collect(),
            promotions: cart
                .promotions
                .into_iter()
                .map(|p| PromotionObject {
                    kind: p.kind.as_str().to_owned(),
                    amount: p.amount.into(),
                    applied: p.rejection.is_none(),
                    reason: p.rejection.map(|r| r.code().to_owned()),
                    code: p.code,
                })
                .collect(),
            item_count: cart.item_count.into(),
            subtotal: cart.subtotal.into(),
            discounts: cart.discounts.into(),
            shipping: cart.shipping.into(),
            tax: cart.tax.into(),
            total: cart.total.into(),
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
        // `Int` as it always was: a cart holds at most `cart.max_quantity` of a variant,
        // far inside 32 bits, and clients' `$quantity: Int!` variables keep working.
        quantity: i32,
    ) -> async_graphql::Result<CartObject> {
        let svc = ctx.data::<CartService>()?;
        Ok(svc
            .add_item(
                &cart_id,
                weft_http::gql::user_id(ctx),
                &variant_id,
                i64::from(quantity),
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
        quantity: i32,
    ) -> async_graphql::Result<CartObject> {
        let svc = ctx.data::<CartService>()?;
        Ok(svc
            .update_item(
                &cart_id,
                weft_http::gql::user_id(ctx),
                &item_id,
                i64::from(quantity),
            )
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
