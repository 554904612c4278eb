//! What a cluster's checkout process asks of carts over HTTP (`/v1/internal/…`, an
//! API key with the `internal` scope): read a cart, set where it ships, list its
//! shipping methods — each for the customer the checkout acts for — then count its
//! codes' uses for the order, give them back, and close it. The embedded profile makes
//! the same calls in-process.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, Done, JsonBody, authz};

use super::{CartDto, MoneyDto, ShippingMethodDto, ShippingMethodList};
use crate::service::{CartPatch, CartService};

#[derive(Tags)]
enum Tag {
    /// Carts, as a cluster's checkout process reaches them.
    CartInternal,
}

/// The order a cart's codes are counted for.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedeemCodesRequest {
    /// `ord_…`: counting again for the same order is done.
    pub order_id: String,
    /// Who uses the codes (the customer's id, or the e-mail of a guest): the
    /// once-per-customer limits count this.
    pub customer_key: String,
    /// The codes the order was priced with (those that took something off when
    /// checkout read the cart); omitted: those that take something off now. A code that
    /// takes nothing off is never counted.
    #[serde(default)]
    pub codes: Option<Vec<String>>,
}

/// Where a checkout's cart ships. Unlike `PATCH /v1/carts/{id}`, clearing the method
/// is said with a flag, not with `null`, so that generated clients can say it.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipCartRequest {
    /// ISO 3166-1 alpha-2; omitted keeps the cart's destination.
    #[serde(default)]
    pub country: Option<String>,
    /// With `country`: its region (omitted: none).
    #[serde(default)]
    pub region: Option<String>,
    /// Whether `shipping_method_id` is to be set (omitted with this: cleared).
    #[serde(default)]
    pub set_shipping_method: bool,
    #[serde(default)]
    pub shipping_method_id: Option<String>,
}

/// Carts' cluster-internal endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct CartInternalApi;

#[OpenApi]
impl CartInternalApi {
    /// A cart priced now, as `customer_id` (the checkout's customer; none for a guest
    /// cart) may see it. Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/carts/:id",
        method = "get",
        operation_id = "internal_get_cart",
        tag = "Tag::CartInternal"
    )]
    async fn get(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
        customer_id: Query<Option<String>>,
    ) -> ApiResult<Json<CartDto>> {
        authz::internal(req)?;
        Ok(Json(svc.get(&id.0, customer_id.0.as_deref()).await?.into()))
    }

    /// Sets where the cart ships (a country replaces the region with the one given)
    /// and, with `set_shipping_method`, its method (none clears it), for
    /// `customer_id`. Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/carts/:id/ship",
        method = "post",
        operation_id = "internal_ship_cart",
        tag = "Tag::CartInternal"
    )]
    async fn ship(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
        customer_id: Query<Option<String>>,
        body: JsonBody<ShipCartRequest>,
    ) -> ApiResult<Json<CartDto>> {
        authz::internal(req)?;
        let b = body.0;
        let patch = CartPatch {
            region: b.country.as_ref().map(|_| b.region.clone()),
            country: b.country.map(Some),
            shipping_method_id: b.set_shipping_method.then_some(b.shipping_method_id),
            currency: None,
        };
        Ok(Json(
            svc.update(&id.0, customer_id.0.as_deref(), patch)
                .await?
                .into(),
        ))
    }

    /// The shipping methods offered to the cart, priced for it, for `customer_id`.
    /// Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/carts/:id/shipping-methods",
        method = "get",
        operation_id = "internal_list_cart_shipping_methods",
        tag = "Tag::CartInternal"
    )]
    async fn shipping_methods(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
        customer_id: Query<Option<String>>,
    ) -> ApiResult<Json<ShippingMethodList>> {
        authz::internal(req)?;
        let who = customer_id.0.as_deref();
        let currency = svc.get(&id.0, who).await?.currency.code().to_owned();
        let data = svc
            .shipping_options(&id.0, who)
            .await?
            .into_iter()
            .map(|o| ShippingMethodDto {
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

    /// Counts the uses of the codes an order placed from the cart takes off; a counted
    /// code used up meanwhile refuses it (`promotion_exhausted`,
    /// `promotion_limit_reached`), one that takes nothing off is not counted. Needs the
    /// `internal` scope.
    #[oai(
        path = "/v1/internal/carts/:id/redemptions",
        method = "post",
        operation_id = "internal_redeem_cart_promotions",
        tag = "Tag::CartInternal"
    )]
    async fn redeem(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<RedeemCodesRequest>,
    ) -> ApiResult<Done> {
        authz::internal(req)?;
        let b = body.0;
        svc.redeem(
            &id.0,
            &b.order_id,
            Some(&b.customer_key),
            b.codes.as_deref(),
        )
        .await?;
        Ok(Done::NoContent)
    }

    /// Gives back the uses an order took (none: done). Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/redemptions/:order_id/release",
        method = "post",
        operation_id = "internal_release_redemptions",
        tag = "Tag::CartInternal"
    )]
    async fn release(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        order_id: Path<String>,
    ) -> ApiResult<Done> {
        authz::internal(req)?;
        svc.release_redemptions(&order_id.0).await?;
        Ok(Done::NoContent)
    }

    /// The cart became an order: it is closed (gone already: done). Needs the
    /// `internal` scope.
    #[oai(
        path = "/v1/internal/carts/:id/close",
        method = "post",
        operation_id = "internal_close_cart",
        tag = "Tag::CartInternal"
    )]
    async fn close(
        &self,
        svc: Data<&CartService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Done> {
        authz::internal(req)?;
        svc.close(&id.0).await?;
        Ok(Done::NoContent)
    }
}
