//! Orders over REST: a customer's own (`GET /v1/orders`, `GET /v1/orders/{id}`; another
//! customer's order is 404), and the back office's (`/v1/admin/orders…`: list by
//! status, fulfil with a tracking number, mark delivered).

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, JsonBody, Principal, PrincipalKind, authz};
use weft_kernel::{FieldError, PageRequest, PostalAddress};

use crate::domain::{HistoryEntry, OrderStatus, Transition};
use crate::service::{Order, OrderFilter, OrderService, OrdersError};

#[derive(Tags)]
enum Tag {
    /// A customer's orders.
    Orders,
    /// Orders in the back office: lists, fulfilments, deliveries.
    OrdersAdmin,
}

/// An amount in one currency's minor units.
#[derive(Debug, Clone, Object)]
#[oai(rename = "OrderMoney")]
pub struct MoneyDto {
    pub amount: i64,
    pub currency: String,
}

#[derive(Debug, Clone, Object)]
pub struct OrderLineDto {
    pub variant_id: String,
    pub title: String,
    pub sku: Option<String>,
    pub quantity: i64,
    pub unit_price: MoneyDto,
    pub line_total: MoneyDto,
}

/// One move of an order: from, to, what happened, who did it, when.
#[derive(Debug, Clone, Object)]
pub struct OrderHistoryDto {
    pub from: String,
    pub to: String,
    /// `paid`, `fulfilled`, `delivered`, `cancelled` or `refunded`.
    pub transition: String,
    /// What came with it: the payment, the tracking number, the reason, the amount.
    pub detail: serde_json::Value,
    /// `user:usr_…`, `app:…` or `system`.
    pub actor: String,
    pub at: DateTime<Utc>,
}

impl From<HistoryEntry> for OrderHistoryDto {
    fn from(h: HistoryEntry) -> Self {
        let mut detail = serde_json::to_value(&h.transition).unwrap_or_default();
        let kind = detail
            .as_object_mut()
            .and_then(|o| o.remove("kind"))
            .and_then(|k| k.as_str().map(str::to_owned))
            .unwrap_or_default();
        Self {
            from: h.from.as_str().to_owned(),
            to: h.to.as_str().to_owned(),
            transition: kind,
            detail,
            actor: h.actor,
            at: h.at,
        }
    }
}

/// An order: what was bought, at which prices, where it ships, and where it is now.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Order")]
pub struct OrderDto {
    /// `ord_…`
    pub id: String,
    pub checkout_id: String,
    pub customer_id: Option<String>,
    pub email: String,
    /// `pending`, `paid`, `fulfilled`, `delivered`, `cancelled`, `partially_refunded` or
    /// `refunded`.
    pub status: String,
    pub currency: String,
    pub lines: Vec<OrderLineDto>,
    pub subtotal: MoneyDto,
    pub discounts: MoneyDto,
    pub shipping: MoneyDto,
    pub tax: MoneyDto,
    pub total: MoneyDto,
    pub refunded: MoneyDto,
    pub shipping_address: Option<PostalAddress>,
    pub billing_address: Option<PostalAddress>,
    pub shipping_method_id: Option<String>,
    /// `pay_…`, once paid.
    pub payment_id: Option<String>,
    /// Every move, oldest first (empty in lists).
    pub history: Vec<OrderHistoryDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Order> for OrderDto {
    fn from(o: Order) -> Self {
        let money = |amount| MoneyDto {
            amount,
            currency: o.currency.clone(),
        };
        Self {
            lines: o
                .lines
                .iter()
                .map(|l| OrderLineDto {
                    variant_id: l.variant_id.clone(),
                    title: l.title.clone(),
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    unit_price: money(l.unit_price),
                    line_total: money(l.line_total),
                })
                .collect(),
            subtotal: money(o.subtotal),
            discounts: money(o.discounts),
            shipping: money(o.shipping),
            tax: money(o.tax),
            total: money(o.total),
            refunded: money(o.refunded_total),
            status: o.status.as_str().to_owned(),
            history: o.history.into_iter().map(Into::into).collect(),
            id: o.id,
            checkout_id: o.checkout_id,
            customer_id: o.customer_id,
            email: o.email,
            currency: o.currency,
            shipping_address: o.shipping_address,
            billing_address: o.billing_address,
            shipping_method_id: o.shipping_method_id,
            payment_id: o.payment_id,
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct OrderPage {
    pub data: Vec<OrderDto>,
    pub next_cursor: Option<String>,
}

/// A shipment of the whole order.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateFulfillmentRequest {
    /// The carrier's tracking number.
    #[serde(default)]
    pub tracking_number: Option<String>,
    /// `ups`, `dhl`, …
    #[serde(default)]
    pub carrier: Option<String>,
}

#[derive(ApiResponse)]
pub enum OrderMoved {
    #[oai(status = 201)]
    Created(Json<OrderDto>),
}

/// Who made a move, as the history records it.
pub fn actor(p: &Principal) -> String {
    match p.kind {
        PrincipalKind::User => format!("user:{}", p.id),
        PrincipalKind::App => format!("app:{}", p.id),
    }
}

pub(crate) fn status_filter(status: Option<&str>) -> Result<Option<OrderStatus>, OrdersError> {
    status
        .map(|s| {
            OrderStatus::parse(s).ok_or_else(|| {
                OrdersError::Invalid(vec![FieldError::new("status", "is not an order status")])
            })
        })
        .transpose()
}

fn page_of(limit: Option<u32>, cursor: Option<&str>) -> Result<PageRequest, OrdersError> {
    PageRequest::from_query(limit, cursor).map_err(|e| OrdersError::Invalid(vec![e]))
}

fn bounded(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, OrdersError> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(v) if v.chars().count() > max => Err(OrdersError::Invalid(vec![FieldError::new(
            field,
            format!("must be at most {max} characters"),
        )])),
        other => Ok(other),
    }
}

/// The order endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrderApi;

#[OpenApi]
impl OrderApi {
    /// The signed-in customer's orders, newest first; `status` narrows them.
    #[oai(
        path = "/v1/orders",
        method = "get",
        operation_id = "list_my_orders",
        tag = "Tag::Orders"
    )]
    async fn mine(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        status: Query<Option<String>>,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<OrderPage>> {
        let me = authz::signed_in(req)?;
        let filter = OrderFilter {
            customer_id: Some(me.id.clone()),
            status: status_filter(status.0.as_deref())?,
        };
        let page = svc
            .list(&filter, &page_of(limit.0, cursor.0.as_deref())?)
            .await?;
        Ok(Json(OrderPage {
            data: page.data.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One of the signed-in customer's orders, with its history; anyone else's is 404.
    #[oai(
        path = "/v1/orders/:id",
        method = "get",
        operation_id = "get_order",
        tag = "Tag::Orders"
    )]
    async fn get(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<OrderDto>> {
        let me = authz::signed_in(req)?;
        let order = svc.get(&id.0).await?;
        if order.customer_id.as_deref() != Some(me.id.as_str()) {
            return Err(OrdersError::NotFound.into());
        }
        Ok(Json(order.into()))
    }

    /// Every order, newest first; `status` and `customer_id` narrow them. Needs
    /// `orders:read`.
    #[oai(
        path = "/v1/admin/orders",
        method = "get",
        operation_id = "list_orders",
        tag = "Tag::OrdersAdmin"
    )]
    #[allow(clippy::too_many_arguments)] // one per query parameter
    async fn list(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        status: Query<Option<String>>,
        customer_id: Query<Option<String>>,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<OrderPage>> {
        authz::staff(req, "orders:read")?;
        let filter = OrderFilter {
            customer_id: customer_id.0,
            status: status_filter(status.0.as_deref())?,
        };
        let page = svc
            .list(&filter, &page_of(limit.0, cursor.0.as_deref())?)
            .await?;
        Ok(Json(OrderPage {
            data: page.data.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// Any order, with its history. Needs `orders:read`.
    #[oai(
        path = "/v1/admin/orders/:id",
        method = "get",
        operation_id = "admin_get_order",
        tag = "Tag::OrdersAdmin"
    )]
    async fn admin_get(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<OrderDto>> {
        authz::staff(req, "orders:read")?;
        Ok(Json(svc.get(&id.0).await?.into()))
    }

    /// Ships a paid order (all of it), with the carrier's tracking number. 409
    /// `illegal_transition` unless it is paid. Needs `orders:write`.
    #[oai(
        path = "/v1/admin/orders/:id/fulfillments",
        method = "post",
        operation_id = "fulfill_order",
        tag = "Tag::OrdersAdmin"
    )]
    async fn fulfill(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<CreateFulfillmentRequest>,
    ) -> ApiResult<OrderMoved> {
        let who = authz::staff(req, "orders:write")?;
        let b = body.0;
        let tracking_number = bounded("tracking_number", b.tracking_number, 100)?;
        let carrier = bounded("carrier", b.carrier, 50)?;
        let order = svc
            .transition(
                &id.0,
                Transition::Fulfilled {
                    tracking_number,
                    carrier,
                },
                &actor(who),
            )
            .await?;
        Ok(OrderMoved::Created(Json(order.into())))
    }

    /// Records that a fulfilled order arrived (`OrderCompleted` goes out). 409
    /// `illegal_transition` unless it is fulfilled. Needs `orders:write`.
    #[oai(
        path = "/v1/admin/orders/:id/delivered",
        method = "post",
        operation_id = "deliver_order",
        tag = "Tag::OrdersAdmin"
    )]
    async fn delivered(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<OrderDto>> {
        let who = authz::staff(req, "orders:write")?;
        let order = svc
            .transition(&id.0, Transition::Delivered, &actor(who))
            .await?;
        Ok(Json(order.into()))
    }
}
