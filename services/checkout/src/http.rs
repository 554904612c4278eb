//! Checkout's REST endpoints: made from a cart, then given an e-mail, addresses and a
//! shipping method; its summary is the cart priced for that destination.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, JsonBody, authz};
use weft_kernel::PostalAddress;

use crate::service::{CartSummary, Checkout, CheckoutPatch, CheckoutService, ShippingChoice};

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
