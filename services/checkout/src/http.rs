//! Checkout's REST endpoints: made from a cart, then given an e-mail, addresses and a
//! shipping method; its summary is the cart priced for that destination.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Header, Path};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, JsonBody, authz};
use weft_kernel::PostalAddress;

use weft_kernel::ErrorKind;
use weft_orders::http::OrderDto;

use crate::service::{
    CartSummary, Checkout, CheckoutPatch, CheckoutService, Completed, PaymentChoice, ShippingChoice,
};

#[derive(Tags)]
enum Tag {
    /// Checkouts: a cart on its way to an order.
    Checkout,
}

/// An amount in one currency's minor units.
#[derive(Debug, Clone, Object)]
#[oai(rename = "CheckoutMoney")]
pub struct MoneyDto {
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Object)]
pub struct SummaryLineDto {
    pub variant_id: String,
    pub title: String,
    pub sku: Option<String>,
    pub quantity: i64,
    pub unit_price: Option<MoneyDto>,
    pub line_total: MoneyDto,
    pub discount: MoneyDto,
}

/// Every total of the order to be, computed by the cart service.
#[derive(Debug, Clone, Object)]
pub struct CheckoutSummaryDto {
    pub lines: Vec<SummaryLineDto>,
    pub subtotal: MoneyDto,
    pub discounts: MoneyDto,
    pub shipping: MoneyDto,
    pub tax: MoneyDto,
    pub tax_inclusive: bool,
    pub total: MoneyDto,
}

impl From<&CartSummary> for CheckoutSummaryDto {
    fn from(s: &CartSummary) -> Self {
        let money = |amount| MoneyDto {
            amount,
            currency: s.currency.clone(),
        };
        Self {
            lines: s
                .lines
                .iter()
                .map(|l| SummaryLineDto {
                    variant_id: l.variant_id.clone(),
                    title: l.title.clone(),
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    unit_price: l.unit_price.map(money),
                    line_total: money(l.line_total),
                    discount: money(l.discount),
                })
                .collect(),
            subtotal: money(s.subtotal),
            discounts: money(s.discounts),
            shipping: money(s.shipping),
            tax: money(s.tax),
            tax_inclusive: s.tax_inclusive,
            total: money(s.total),
        }
    }
}

/// A checkout.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Checkout")]
pub struct CheckoutDto {
    /// `chk_…`
    pub id: String,
    pub cart_id: String,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub shipping_address: Option<PostalAddress>,
    /// The shipping address unless another was given.
    pub billing_address: Option<PostalAddress>,
    pub shipping_method_id: Option<String>,
    /// `open` or `completed`.
    pub status: String,
    /// `ord_…`: the order it became, once completed.
    pub order_id: Option<String>,
    pub currency: String,
    pub summary: CheckoutSummaryDto,
    /// What is still needed before completing: `email`, `shipping_address`,
    /// `shipping_method_id`. Empty when ready.
    pub missing: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Checkout> for CheckoutDto {
    fn from(c: Checkout) -> Self {
        Self {
            summary: (&c.summary).into(),
            currency: c.summary.currency.clone(),
            shipping_method_id: c.summary.shipping_method_id.clone(),
            id: c.id,
            cart_id: c.cart_id,
            customer_id: c.customer_id,
            email: c.email,
            shipping_address: c.shipping_address,
            billing_address: c.billing_address,
            status: c.status,
            order_id: c.order_id,
            missing: c.missing,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateCheckoutRequest {
    /// `cart_…`: a cart the caller may read, with at least one line.
    pub cart_id: String,
}

/// Changes to a checkout: an omitted field stays; `billing_address: null` makes billing
/// follow shipping again, `shipping_method_id: null` clears the method.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateCheckoutRequest {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub shipping_address: Option<PostalAddress>,
    #[serde(default)]
    pub billing_address: MaybeUndefined<PostalAddress>,
    /// One of `GET /v1/checkouts/{id}/shipping-methods`.
    #[serde(default)]
    pub shipping_method_id: MaybeUndefined<String>,
}

#[derive(Debug, Clone, Object)]
pub struct CheckoutShippingMethod {
    pub id: String,
    pub name: String,
    pub price: MoneyDto,
    pub delivery_estimate: String,
}

#[derive(Debug, Clone, Object)]
pub struct CheckoutShippingMethodList {
    pub data: Vec<CheckoutShippingMethod>,
}

/// How the customer pays: never card data, only the provider's token for it.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    /// `test` (the embedded default) or `stripe` where configured.
    pub provider: String,
    /// The provider's token: `tok_visa`, `tok_chargeDeclined`, `tok_insufficientFunds`,
    /// `tok_threeDSecureRequired` on `test`; a PaymentMethod id (`pm_…`) on Stripe.
    pub token: String,
}

#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteCheckoutRequest {
    /// How the customer pays. May be left out when the total is 0: nothing is charged
    /// (the payment is recorded under the `none` provider); required otherwise.
    #[serde(default)]
    pub payment: Option<PaymentInput>,
}

/// What completing a checkout answered: `completed` with the order (201), or
/// `requires_action` (200) with what the customer must do (3-D Secure) before
/// `POST /v1/checkouts/{id}/confirm`.
#[derive(Debug, Clone, Object)]
pub struct CheckoutCompletion {
    /// `completed` or `requires_action`.
    pub status: String,
    /// The order, paid, when `completed`.
    pub order: Option<OrderDto>,
    /// `pay_…`: the payment waiting for the customer, when `requires_action`.
    pub payment_id: Option<String>,
    /// The gateway's next action (Stripe's shape: `{type: "redirect_to_url",
    /// redirect_to_url: {url}}`), when `requires_action`.
    pub next_action: Option<serde_json::Value>,
}

#[derive(ApiResponse)]
pub enum CompletionResponse {
    /// The order was placed and paid.
    #[oai(status = 201)]
    Completed(Json<CheckoutCompletion>),
    /// The customer must act first (3-D Secure), then confirm.
    #[oai(status = 200)]
    RequiresAction(Json<CheckoutCompletion>),
}

impl From<Completed> for CompletionResponse {
    fn from(c: Completed) -> Self {
        match c {
            Completed::Order(order) => Self::Completed(Json(CheckoutCompletion {
                status: "completed".to_owned(),
                order: Some((*order).into()),
                payment_id: None,
                next_action: None,
            })),
            Completed::RequiresAction {
                payment_id,
                next_action,
            } => Self::RequiresAction(Json(CheckoutCompletion {
                status: "requires_action".to_owned(),
                order: None,
                payment_id: Some(payment_id),
                next_action: Some(next_action),
            })),
        }
    }
}

#[derive(ApiResponse)]
pub enum CheckoutCreated {
    #[oai(status = 201)]
    Created(Json<CheckoutDto>),
}

/// The checkout endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckoutApi;

#[OpenApi]
impl CheckoutApi {
    /// Starts a checkout of a cart. 404 `cart_not_found` for a cart the caller may not
    /// read, 409 `cart_empty`, 409 `cart_not_purchasable` while a line cannot be bought.
    #[oai(
        path = "/v1/checkouts",
        method = "post",
        operation_id = "create_checkout",
        tag = "Tag::Checkout"
    )]
    async fn create(
        &self,
        svc: Data<&CheckoutService>,
        req: &Request,
        body: JsonBody<CreateCheckoutRequest>,
    ) -> ApiResult<CheckoutCreated> {
        let checkout = svc.create(&body.0.cart_id, authz::user_id(req)).await?;
        Ok(CheckoutCreated::Created(Json(checkout.into())))
    }

    /// A checkout with its summary priced now.
    #[oai(
        path = "/v1/checkouts/:id",
        method = "get",
        operation_id = "get_checkout",
        tag = "Tag::Checkout"
    )]
    async fn get(
        &self,
        svc: Data<&CheckoutService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<CheckoutDto>> {
        Ok(Json(svc.get(&id.0, authz::user_id(req)).await?.into()))
    }

    /// Sets the e-mail, the shipping and billing addresses (validated: country code,
    /// postal code format per country, required lines — errors name the field, e.g.
    /// `shipping_address.postal_code`) and the shipping method.
    #[oai(
        path = "/v1/checkouts/:id",
        method = "patch",
        operation_id = "update_checkout",
        tag = "Tag::Checkout"
    )]
    async fn update(
        &self,
        svc: Data<&CheckoutService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<UpdateCheckoutRequest>,
    ) -> ApiResult<Json<CheckoutDto>> {
        let b = body.0;
        let patch = CheckoutPatch {
            email: b.email,
            shipping_address: b.shipping_address,
            billing_address: b.billing_address.into(),
            shipping_method_id: b.shipping_method_id.into(),
        };
        Ok(Json(
            svc.update(&id.0, authz::user_id(req), patch).await?.into(),
        ))
    }

    /// Places the order: stock is held, the payment authorized, the order made, the
    /// payment captured, the stock committed and the cart closed — a saga whose every
    /// step is undone on failure. Needs an `Idempotency-Key` (400
    /// `idempotency_key_required` without one): a retry answers the first result.
    /// 201 `completed` with the order; 402 `payment_declined` (the stock is released,
    /// the cart kept: complete again with another card); 409 `out_of_stock` (nothing
    /// charged); 422 for a missing e-mail, address or shipping method, or a missing
    /// `payment` when the total is above 0 (at 0 nothing is charged and `payment` may
    /// be left out: the order is paid with provider `none`); 409
    /// `checkout_in_progress` while another request completes it; 200
    /// `requires_action` for 3-D Secure, then `POST /v1/checkouts/{id}/confirm`.
    #[oai(
        path = "/v1/checkouts/:id/complete",
        method = "post",
        operation_id = "complete_checkout",
        tag = "Tag::Checkout"
    )]
    async fn complete(
        &self,
        svc: Data<&CheckoutService>,
        req: &Request,
        id: Path<String>,
        /// Required: the same key on every retry of this completion (kept 24 h).
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CompleteCheckoutRequest>,
    ) -> ApiResult<CompletionResponse> {
        // The idempotency layer in front has already made this run once per key.
        if idempotency_key.0.is_none() {
            return Err(weft_http::ApiError::new(
                ErrorKind::BadRequest,
                "idempotency_key_required",
                "Completing a checkout charges a card: send an Idempotency-Key header, and the same one on every retry.",
            ));
        }
        let payment = body.0.payment.map(|p| PaymentChoice {
            provider: p.provider,
            token: p.token,
        });
        Ok(svc
            .complete(&id.0, authz::user_id(req), payment)
            .await?
            .into())
    }

    /// After the customer acted on `requires_action` (3-D Secure): the gateway is asked
    /// again and the completion goes on — 201 with the order, 402 `payment_declined`
    /// if the challenge failed, 200 `requires_action` while it is still open.
    #[oai(
        path = "/v1/checkouts/:id/confirm",
        method = "post",
        operation_id = "confirm_checkout",
        tag = "Tag::Checkout"
    )]
    async fn confirm(
        &self,
        svc: Data<&CheckoutService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<CompletionResponse> {
        Ok(svc.confirm(&id.0, authz::user_id(req)).await?.into())
    }

    /// The shipping methods offered for the checkout's shipping address, priced for its
    /// cart, cheapest first.
    #[oai(
        path = "/v1/checkouts/:id/shipping-methods",
        method = "get",
        operation_id = "list_checkout_shipping_methods",
        tag = "Tag::Checkout"
    )]
    async fn shipping_methods(
        &self,
        svc: Data<&CheckoutService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<CheckoutShippingMethodList>> {
        let checkout = svc.get(&id.0, authz::user_id(req)).await?;
        let currency = checkout.summary.currency.clone();
        let data = svc
            .shipping_options(&id.0, authz::user_id(req))
            .await?
            .into_iter()
            .map(|o: ShippingChoice| CheckoutShippingMethod {
                id: o.id,
                name: o.name,
                price: MoneyDto {
                    amount: o.price,
                    currency: currency.clone(),
                },
                delivery_estimate: o.delivery_estimate,
            })
            .collect();
        Ok(Json(CheckoutShippingMethodList { data }))
    }
}
