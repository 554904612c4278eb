//! What a cluster's checkout and notifications processes ask of orders over HTTP
//! (`/v1/internal/…`, an API key with the `internal` scope): make a checkout's order,
//! mark it paid, call it off, read it and its invoice. Each call is safe to repeat; the embedded profile makes the same
//! calls in-process.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, Done, JsonBody, authz};
use weft_kernel::{Currency, FieldError, PostalAddress};

use super::{InvoicePdf, OrderDto, invoice_response};
use crate::service::{NewOrder, OrderLine, OrderService, OrdersError};

#[derive(Tags)]
enum Tag {
    /// Orders, as a cluster's checkout process reaches them.
    OrdersInternal,
}

/// One line of a new order, priced by the cart.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrderLineDto {
    pub variant_id: String,
    pub title: String,
    #[serde(default)]
    pub sku: Option<String>,
    pub quantity: i64,
    /// Minor units of the order's currency.
    pub unit_price: i64,
    pub line_total: i64,
}

/// A checkout's order, as its saga makes it; amounts in minor units of `currency`.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrderRequest {
    /// `ord_…`, chosen by the checkout: asking again answers the same order.
    pub id: String,
    pub checkout_id: String,
    #[serde(default)]
    pub customer_id: Option<String>,
    pub email: String,
    pub currency: String,
    pub lines: Vec<NewOrderLineDto>,
    pub subtotal: i64,
    pub discounts: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
    #[serde(default)]
    pub shipping_address: Option<PostalAddress>,
    #[serde(default)]
    pub billing_address: Option<PostalAddress>,
    #[serde(default)]
    pub shipping_method_id: Option<String>,
}

/// The payment that paid an order.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkPaidRequest {
    /// `pay_…`
    pub payment_id: String,
}

/// Why a checkout undoes its order.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallOffRequest {
    pub reason: String,
}

/// Orders' cluster-internal endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrderInternalApi;

#[OpenApi]
impl OrderInternalApi {
    /// Makes a checkout's order (`pending`, with `OrderCreated`); the same id again
    /// answers that order, and another id for a checkout that has one answers the
    /// checkout's order. Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/orders",
        method = "post",
        operation_id = "internal_create_order",
        tag = "Tag::OrdersInternal"
    )]
    async fn create(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        body: JsonBody<NewOrderRequest>,
    ) -> ApiResult<Json<OrderDto>> {
        authz::internal(req)?;
        let b = body.0;
        let currency = Currency::parse(&b.currency)
            .map_err(|e| OrdersError::Invalid(vec![FieldError::new("currency", e.to_string())]))?;
        let order = svc
            .create(NewOrder {
                id: b.id,
                checkout_id: b.checkout_id,
                customer_id: b.customer_id,
                email: b.email,
                currency,
                lines: b
                    .lines
                    .into_iter()
                    .map(|l| OrderLine {
                        variant_id: l.variant_id,
                        title: l.title,
                        sku: l.sku,
                        quantity: l.quantity,
                        unit_price: l.unit_price,
                        line_total: l.line_total,
                    })
                    .collect(),
                subtotal: b.subtotal,
                discounts: b.discounts,
                shipping: b.shipping,
                tax: b.tax,
                total: b.total,
                shipping_address: b.shipping_address,
                billing_address: b.billing_address,
                shipping_method_id: b.shipping_method_id,
            })
            .await?;
        Ok(Json(order.into()))
    }

    /// One order, whoever it belongs to. Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/orders/:id",
        method = "get",
        operation_id = "internal_get_order",
        tag = "Tag::OrdersInternal"
    )]
    async fn get(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<OrderDto>> {
        authz::internal(req)?;
        Ok(Json(svc.get(&id.0).await?.into()))
    }

    /// One order's invoice as a PDF, whoever it belongs to (notifications attach it to
    /// the confirmation). Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/orders/:id/invoice",
        method = "get",
        operation_id = "internal_get_order_invoice",
        tag = "Tag::OrdersInternal"
    )]
    async fn invoice(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<InvoicePdf> {
        authz::internal(req)?;
        let (order, pdf) = svc.invoice(&id.0).await?;
        Ok(invoice_response(&order, pdf))
    }

    /// The order's payment was captured: it is `paid` (again: done). 409
    /// `illegal_transition` when it was cancelled. Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/orders/:id/paid",
        method = "post",
        operation_id = "internal_mark_order_paid",
        tag = "Tag::OrdersInternal"
    )]
    async fn paid(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<MarkPaidRequest>,
    ) -> ApiResult<Done> {
        authz::internal(req)?;
        svc.mark_paid(&id.0, &body.0.payment_id).await?;
        Ok(Done::NoContent)
    }

    /// A checkout undoes its order: `cancelled`, nothing restocked (the checkout
    /// releases its own hold). An order never made or cancelled already: done. Needs
    /// the `internal` scope.
    #[oai(
        path = "/v1/internal/orders/:id/call-off",
        method = "post",
        operation_id = "internal_call_off_order",
        tag = "Tag::OrdersInternal"
    )]
    async fn call_off(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<CallOffRequest>,
    ) -> ApiResult<Done> {
        authz::internal(req)?;
        svc.call_off(&id.0, &body.0.reason).await?;
        Ok(Done::NoContent)
    }
}
