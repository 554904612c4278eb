//! The cart's REST endpoints. Anyone may make a cart; a guest cart is used by whoever
//! holds its id, a customer's cart by that customer only.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, JsonBody, PrincipalKind, authz};

use crate::service::{Cart, CartPatch, CartService, Line, ShippingOption};

mod internal;
mod promotions;
pub use internal::CartInternalApi;
pub use promotions::PromotionApi;

#[derive(Tags)]
enum Tag {
    /// Carts: lines priced by the catalog, totals computed by the server.
    Cart,
}

/// An amount in one currency's minor units.
#[derive(Debug, Clone, Object)]
#[oai(rename = "CartMoney")]
pub struct MoneyDto {
    pub amount: i64,
    pub currency: String,
}

/// A line: a variant and how many.
#[derive(Debug, Clone, Object)]
#[oai(rename = "CartItem")]
pub struct LineDto {
    /// `item_…`
    pub id: String,
    pub variant_id: String,
    pub product_id: Option<String>,
    pub title: String,
    pub handle: Option<String>,
    pub sku: Option<String>,
    /// Option name → value (`size`, `color`).
    pub options: BTreeMap<String, String>,
    pub image_url: Option<String>,
    pub quantity: i64,
    /// The catalog's price now; absent when the line cannot be bought.
    pub unit_price: Option<MoneyDto>,
    pub compare_at_price: Option<MoneyDto>,
    pub line_total: MoneyDto,
    /// What the cart's codes take off this line.
    pub discount: MoneyDto,
    /// False when the product left sale or has no price in this currency: the line
    /// counts for nothing until removed.
    pub purchasable: bool,
}

/// A code on a cart and what it takes off now.
#[derive(Debug, Clone, Object)]
pub struct CartPromotionDto {
    pub code: String,
    pub description: String,
    /// `percentage`, `fixed_amount` or `free_shipping`.
    pub kind: String,
    /// Taken off now, goods and shipping.
    pub amount: MoneyDto,
    /// False while it takes nothing off (see `reason`); it stays on the cart and counts
    /// again once the cart qualifies.
    pub applied: bool,
    /// Why it does not apply now: the same codes as the 422s of applying it
    /// (`promotion_minimum_not_met`, `promotion_expired`, …).
    pub reason: Option<String>,
}

/// A cart with every total, recomputed on the server at each read.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Cart")]
pub struct CartDto {
    /// `cart_…`
    pub id: String,
    /// The owner; `null` for a guest cart.
    pub customer_id: Option<String>,
    pub currency: String,
    /// Where it ships (ISO 3166-1 alpha-2), which sets the tax rate.
    pub country: Option<String>,
    pub region: Option<String>,
    /// The chosen shipping method, while it is offered for the destination.
    pub shipping_method_id: Option<String>,
    pub items: Vec<LineDto>,
    /// The codes the cart holds, in the order applied.
    pub promotions: Vec<CartPromotionDto>,
    /// Units over every line.
    pub item_count: i64,
    pub subtotal: MoneyDto,
    /// Over every code: off the goods and off shipping.
    pub discounts: MoneyDto,
    /// The chosen method's price (a free-shipping code shows in `discounts`).
    pub shipping: MoneyDto,
    /// Rounded half to even; included in the prices when `tax_inclusive`.
    pub tax: MoneyDto,
    /// Basis points (7.25% = 725).
    pub tax_rate_bps: u32,
    pub tax_inclusive: bool,
    /// subtotal + shipping − discounts (+ tax unless included).
    pub total: MoneyDto,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Seven days after the last change; then the cart is gone (404).
    pub expires_at: DateTime<Utc>,
}

impl From<Cart> for CartDto {
    fn from(c: Cart) -> Self {
        let code = c.currency.code().to_owned();
        let money = |amount| MoneyDto {
            amount,
            currency: code.clone(),
        };
        Self {
            items: c
                .items
                .into_iter()
                .map(|l: Line| LineDto {
                    unit_price: l.unit_price.map(money),
                    compare_at_price: l.compare_at_price.map(money),
                    line_total: money(l.line_total),
                    discount: money(l.discount),
                    id: l.id,
                    variant_id: l.variant_id,
                    product_id: l.product_id,
                    title: l.title,
                    handle: l.handle,
                    sku: l.sku,
                    options: l.options,
                    image_url: l.image_url,
                    quantity: l.quantity,
                    purchasable: l.purchasable,
                })
                .collect(),
            promotions: c
                .promotions
                .into_iter()
                .map(|p| CartPromotionDto {
                    amount: money(p.amount),
                    applied: p.rejection.is_none(),
                    reason: p.rejection.map(|r| r.code().to_owned()),
                    kind: p.kind.as_str().to_owned(),
                    code: p.code,
                    description: p.description,
                })
                .collect(),
            subtotal: money(c.subtotal),
            discounts: money(c.discounts),
            shipping: money(c.shipping),
            tax: money(c.tax),
            total: money(c.total),
            id: c.id,
            customer_id: c.customer_id,
            currency: code.clone(),
            country: c.country,
            region: c.region,
            shipping_method_id: c.shipping_method_id,
            item_count: c.item_count,
            tax_rate_bps: c.tax_rate_bps,
            tax_inclusive: c.tax_inclusive,
            created_at: c.created_at,
            updated_at: c.updated_at,
            expires_at: c.expires_at,
        }
    }
}

#[derive(Debug, Clone, Object, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct CreateCartRequest {
    /// ISO 4217; the shop's default (USD) when omitted.
    #[serde(default)]
    pub currency: Option<String>,
}

/// Changes to a cart: an omitted field stays, `null` clears it.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCartRequest {
    /// ISO 3166-1 alpha-2.
    #[serde(default)]
    pub country: MaybeUndefined<String>,
    /// A region code of the country (`CA` for California).
    #[serde(default)]
    pub region: MaybeUndefined<String>,
    /// One of `GET /v1/carts/{id}/shipping-methods`.
    #[serde(default)]
    pub shipping_method_id: MaybeUndefined<String>,
    /// ISO 4217: re-prices the cart in this currency (a shopper who switched). A line
    /// without a price in it stays in the cart with `purchasable: false`; a shipping
    /// method not priced in it ships nothing until another is chosen.
    #[serde(default)]
    pub currency: Option<String>,
}

/// A shipping method offered to a cart, priced for it.
#[derive(Debug, Clone, Object)]
pub struct ShippingMethodDto {
    pub id: String,
    pub name: String,
    /// For this cart: 0 once its goods reach the method's free-shipping threshold.
    pub price: MoneyDto,
    pub delivery_estimate: String,
}

#[derive(Debug, Clone, Object)]
pub struct ShippingMethodList {
    pub data: Vec<ShippingMethodDto>,
}

#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddItemRequest {
    /// `var_…`
    pub variant_id: String,
    /// 1–99 (the line's total after adding must stay within it).
    pub quantity: i64,
}

#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateItemRequest {
    /// 1–99; remove the line to drop it.
    pub quantity: i64,
}

#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplyCodeRequest {
    /// The promotion code, in any case.
    pub code: String,
}

#[derive(ApiResponse)]
pub enum CartCreated {
    /// A new cart.
    #[oai(status = 201)]
    Created(Json<CartDto>),
    /// The signed-in customer's cart, which they already had.
    #[oai(status = 200)]
    Existing(Json<CartDto>),
}

/// The cart's endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct CartApi;

#[OpenApi]
impl CartApi {
    /// Makes a cart: a guest cart, or — signed in — the customer's (their existing one
    /// when they have it).
    #[oai(
        path = "/v1/carts",
        method = "post",
        operation_id = "create_cart",
        tag = "Tag::Cart"
    )]
    async fn create_cart(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        body: JsonBody<CreateCartRequest>,
    ) -> ApiResult<CartCreated> {
        let (cart, created) = svc
            .create(authz::user_id(req), body.0.currency.as_deref())
            .await?;
        Ok(if created {
            CartCreated::Created(Json(cart.into()))
        } else {
            CartCreated::Existing(Json(cart.into()))
        })
    }

    /// A cart with its lines priced now.
    #[oai(
        path = "/v1/carts/:id",
        method = "get",
        operation_id = "get_cart",
        tag = "Tag::Cart"
    )]
    async fn get_cart(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<CartDto>> {
        Ok(Json(svc.get(&id.0, authz::user_id(req)).await?.into()))
    }

    /// Sets where the cart ships (which sets its tax rate and the shipping methods
    /// offered) and its shipping method.
    #[oai(
        path = "/v1/carts/:id",
        method = "patch",
        operation_id = "update_cart",
        tag = "Tag::Cart"
    )]
    async fn update_cart(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<UpdateCartRequest>,
    ) -> ApiResult<Json<CartDto>> {
        let body = body.0;
        let patch = CartPatch {
            country: body.country.into(),
            region: body.region.into(),
            shipping_method_id: body.shipping_method_id.into(),
            currency: body.currency,
        };
        Ok(Json(
            svc.update(&id.0, authz::user_id(req), patch).await?.into(),
        ))
    }

    /// Moves a guest cart into the signed-in customer's cart — quantities summed, capped
    /// by the line limit and by what is available — and deletes the guest cart. Call it
    /// right after sign-in with the cart the shopper filled as a guest. 401 for guests;
    /// 404 when `id` is not a live guest cart.
    #[oai(
        path = "/v1/carts/:id/merge",
        method = "post",
        operation_id = "merge_cart",
        tag = "Tag::Cart"
    )]
    async fn merge(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        /// The guest cart's id.
        id: Path<String>,
    ) -> ApiResult<Json<CartDto>> {
        let customer = authz::signed_in(req)?;
        if customer.kind != PrincipalKind::User {
            return Err(weft_http::AuthzError::Forbidden("customer").into());
        }
        Ok(Json(svc.merge(&id.0, &customer.id).await?.into()))
    }

    /// The shipping methods offered for the cart's destination and currency, priced for
    /// this cart, cheapest first.
    #[oai(
        path = "/v1/carts/:id/shipping-methods",
        method = "get",
        operation_id = "list_cart_shipping_methods",
        tag = "Tag::Cart"
    )]
    async fn shipping_methods(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<ShippingMethodList>> {
        let cart = svc.get(&id.0, authz::user_id(req)).await?;
        let currency = cart.currency.code().to_owned();
        let data = svc
            .shipping_options(&id.0, authz::user_id(req))
            .await?
            .into_iter()
            .map(|o: ShippingOption| ShippingMethodDto {
                id: o.id,
                name: o.name,
                price: MoneyDto {
                    amount: o.price,
                    currency: currency.clone(),
                },
                delivery_estimate: o.delivery_estimate,
            })
            .collect();
        Ok(Json(ShippingMethodList { data }))
    }

    /// Adds units of a variant. 409 `product_unavailable` (not on sale),
    /// `price_unavailable` (no price in the cart's currency) or `out_of_stock`.
    #[oai(
        path = "/v1/carts/:id/items",
        method = "post",
        operation_id = "add_cart_item",
        tag = "Tag::Cart"
    )]
    async fn add_item(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<AddItemRequest>,
    ) -> ApiResult<Json<CartDto>> {
        let cart = svc
            .add_item(
                &id.0,
                authz::user_id(req),
                &body.0.variant_id,
                body.0.quantity,
            )
            .await?;
        Ok(Json(cart.into()))
    }

    /// Sets a line's quantity.
    #[oai(
        path = "/v1/carts/:id/items/:item_id",
        method = "patch",
        operation_id = "update_cart_item",
        tag = "Tag::Cart"
    )]
    async fn update_item(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
        item_id: Path<String>,
        body: JsonBody<UpdateItemRequest>,
    ) -> ApiResult<Json<CartDto>> {
        let cart = svc
            .update_item(&id.0, authz::user_id(req), &item_id.0, body.0.quantity)
            .await?;
        Ok(Json(cart.into()))
    }

    /// Removes a line.
    #[oai(
        path = "/v1/carts/:id/items/:item_id",
        method = "delete",
        operation_id = "remove_cart_item",
        tag = "Tag::Cart"
    )]
    async fn remove_item(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
        item_id: Path<String>,
    ) -> ApiResult<Json<CartDto>> {
        Ok(Json(
            svc.remove_item(&id.0, authz::user_id(req), &item_id.0)
                .await?
                .into(),
        ))
    }

    /// Puts a promotion code on the cart. 422 with a code saying why it cannot:
    /// `promotion_not_found`, `promotion_not_started`, `promotion_expired`,
    /// `promotion_exhausted`, `promotion_limit_reached`, `promotion_minimum_not_met`,
    /// `promotion_not_applicable` or `promotion_not_combinable`. Applying a code the cart
    /// holds changes nothing. Uses are counted when an order is placed, not here.
    #[oai(
        path = "/v1/carts/:id/promotions",
        method = "post",
        operation_id = "apply_cart_promotion",
        tag = "Tag::Cart"
    )]
    async fn apply_code(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<ApplyCodeRequest>,
    ) -> ApiResult<Json<CartDto>> {
        Ok(Json(
            svc.apply_code(&id.0, authz::user_id(req), &body.0.code)
                .await?
                .into(),
        ))
    }

    /// Takes a code off the cart; 404 `promotion_not_found` when the cart does not hold
    /// it.
    #[oai(
        path = "/v1/carts/:id/promotions/:code",
        method = "delete",
        operation_id = "remove_cart_promotion",
        tag = "Tag::Cart"
    )]
    async fn remove_code(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
        code: Path<String>,
    ) -> ApiResult<Json<CartDto>> {
        Ok(Json(
            svc.remove_code(&id.0, authz::user_id(req), &code.0)
                .await?
                .into(),
        ))
    }
}

/// The cart service's REST endpoint: carts, promotions, their internal operations and
/// the live-cart WebSocket.
pub fn endpoint() -> poem::endpoint::BoxEndpoint<'static> {
    use poem::EndpointExt as _;
    poem::Route::new()
        .at("/v1/carts/:id/live", poem::get(live))
        .nest_no_strip(
            "/",
            weft_http::rest_endpoint((CartApi, PromotionApi, CartInternalApi)),
        )
        .boxed()
}

/// `GET /v1/carts/{id}/live`: a WebSocket that sends the cart (as `GET /v1/carts/{id}`
/// answers it, one JSON text message each) at once and after every change from any
/// process, and closes (1000) when the cart is gone. The same rights as reading the cart:
/// 404 before the upgrade for a cart the caller may not see. Browsers, which cannot set
/// headers on a WebSocket, may pass the access token as `?access_token=`.
#[poem::handler]
pub async fn live(
    poem::web::Path(id): poem::web::Path<String>,
    ws: poem::web::websocket::WebSocket,
    svc: Data<&CartService>,
    req: &Request,
) -> poem::Result<impl poem::IntoResponse> {
    use futures::{SinkExt as _, StreamExt as _};
    use poem::web::websocket::{CloseCode, Message};
    use poem_openapi::types::ToJSON as _;

    let changes = svc
        .watch(&id, authz::user_id(req))
        .await
        .map_err(weft_http::ApiError::from)?;
    // The upgrade callback must be `Sync`; the stream (database futures inside) is only
    // `Send`, so it travels in a mutex, taken once.
    let changes = std::sync::Mutex::new(Some(changes.boxed()));
    Ok(ws.on_upgrade(move |socket| async move {
        let (mut sink, mut incoming) = socket.split();
        let Some(mut changes) = changes.lock().ok().and_then(|mut c| c.take()) else {
            return;
        };
        loop {
            tokio::select! {
                next = changes.next() => {
                    let Some(cart) = next else {
                        let _ = sink
                            .send(Message::Close(Some((CloseCode::Normal, "the cart is gone".into()))))
                            .await;
                        break;
                    };
                    let json = CartDto::from(cart).to_json_string();
                    if sink.send(Message::Text(json)).await.is_err() {
                        break;
                    }
                }
                message = incoming.next() => match message {
                    // The client left; pings are answered by the WebSocket layer.
                    None | Some(Err(_) | Ok(Message::Close(_))) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
    }))
}
