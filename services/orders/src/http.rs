//! Orders over REST: a customer's own (`GET /v1/orders`, `GET /v1/orders/{id}`, its PDF
//! invoice, cancelling before fulfilment, asking to return units; another customer's
//! order is 404), and the back office's (`/v1/admin/orders…`: list by status, fulfil with
//! a tracking number, mark delivered, cancel, refund; `/v1/admin/returns…`: approve,
//! reject, receive).

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::{Binary, Json};
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiError, ApiResult, JsonBody, Principal, PrincipalKind, authz};
use weft_kernel::{ErrorKind, FieldError, PageRequest, PostalAddress};

use crate::after_sale::{Refund, RefundRequest, Return, ReturnFilter};
use crate::domain::{HistoryEntry, OrderStatus, ReturnItem, ReturnStatus, Transition};
use crate::service::{Order, OrderFilter, OrderService, OrdersError};

mod internal;
pub use internal::OrderInternalApi;

#[derive(Tags)]
enum Tag {
    /// A customer's orders.
    Orders,
    /// Orders in the back office: lists, fulfilments, deliveries, cancellations,
    /// refunds.
    OrdersAdmin,
    /// Returns in the back office: approve, reject, receive (refund through the order).
    ReturnsAdmin,
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
    /// Its returns, oldest first (empty in lists).
    pub returns: Vec<ReturnDto>,
    /// Money given back, oldest first (empty in lists).
    pub refunds: Vec<RefundDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Units of one bought variant, sent back.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnItemDto {
    pub variant_id: String,
    pub quantity: i64,
}

/// One move of a return.
#[derive(Debug, Clone, Object)]
pub struct ReturnMoveDto {
    pub status: String,
    pub actor: String,
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

/// Units a customer sends back, and where that stands.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Return")]
pub struct ReturnDto {
    /// `ret_…`
    pub id: String,
    pub order_id: String,
    /// `requested`, `approved`, `rejected`, `received` or `refunded`.
    pub status: String,
    pub reason: String,
    pub items: Vec<ReturnItemDto>,
    pub history: Vec<ReturnMoveDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Return> for ReturnDto {
    fn from(r: Return) -> Self {
        Self {
            id: r.id,
            order_id: r.order_id,
            status: r.status.as_str().to_owned(),
            reason: r.reason,
            items: r
                .items
                .into_iter()
                .map(|i| ReturnItemDto {
                    variant_id: i.variant_id,
                    quantity: i.quantity,
                })
                .collect(),
            history: r
                .history
                .into_iter()
                .map(|m| ReturnMoveDto {
                    status: m.status.as_str().to_owned(),
                    actor: m.actor,
                    at: m.at,
                    note: m.note,
                })
                .collect(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// Money given back on an order.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Refund")]
pub struct RefundDto {
    /// `rfd_…`
    pub id: String,
    pub order_id: String,
    pub return_id: Option<String>,
    /// Minor units of the order's currency.
    pub amount: i64,
    pub reason: String,
    /// `pending` (the gateway has not answered; retried), `succeeded` or `failed`.
    pub status: String,
    /// The gateway's refund id.
    pub provider_ref: Option<String>,
    pub error: Option<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

impl From<Refund> for RefundDto {
    fn from(r: Refund) -> Self {
        Self {
            id: r.id,
            order_id: r.order_id,
            return_id: r.return_id,
            amount: r.amount,
            reason: r.reason,
            status: r.status,
            provider_ref: r.provider_ref,
            error: r.error,
            actor: r.actor,
            created_at: r.created_at,
        }
    }
}

impl OrderDto {
    /// The order with its returns and refunds (single-order reads).
    async fn whole(svc: &OrderService, order: Order) -> Result<Self, OrdersError> {
        let returns = svc.returns_of(&order.id).await?;
        let refunds = svc.refunds(&order.id).await?;
        let mut dto = Self::from(order);
        dto.returns = returns.into_iter().map(Into::into).collect();
        dto.refunds = refunds.into_iter().map(Into::into).collect();
        Ok(dto)
    }
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
            returns: Vec::new(),
            refunds: Vec::new(),
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

/// Why an order is called off.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelOrderRequest {
    /// Default `customer request` (a customer) or `cancelled by the shop`.
    #[serde(default)]
    pub reason: Option<String>,
}

/// What a customer sends back, and why.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateReturnRequest {
    /// 1–100 bought variants with how many units of each.
    pub items: Vec<ReturnItemDto>,
    /// `too small`, `changed my mind`, … (1–500 characters).
    pub reason: String,
}

/// Money to give back.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRefundRequest {
    /// Minor units; required unless `return_id` is given (then its units' value).
    #[serde(default)]
    pub amount: Option<i64>,
    /// Why (1–500 characters), shown to the customer.
    pub reason: String,
    /// A received return this refund pays back (it becomes `refunded`).
    #[serde(default)]
    pub return_id: Option<String>,
}

/// A refund made, and the order after it.
#[derive(Debug, Clone, Object)]
pub struct RefundResult {
    pub refund: RefundDto,
    pub order: OrderDto,
}

/// A decision on a requested return.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnDecisionRequest {
    /// Shown in the return's history (a rejection's reason).
    #[serde(default)]
    pub note: Option<String>,
}

/// Returned units arrived.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiveReturnRequest {
    /// Put the units back on sale (default `true`; `false` when damaged or worn).
    #[serde(default)]
    pub restock: Option<bool>,
}

#[derive(Debug, Clone, Object)]
pub struct ReturnPage {
    pub data: Vec<ReturnDto>,
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum ReturnCreated {
    #[oai(status = 201)]
    Created(Json<ReturnDto>),
}

#[derive(ApiResponse)]
pub enum RefundCreated {
    #[oai(status = 201)]
    Created(Json<RefundResult>),
}

/// An invoice as a PDF.
#[derive(ApiResponse)]
pub enum InvoicePdf {
    #[oai(status = 200, content_type = "application/pdf")]
    Pdf(
        Binary<Vec<u8>>,
        #[oai(header = "Content-Disposition")] String,
    ),
}

pub(crate) fn invoice_response(order: &Order, pdf: Vec<u8>) -> InvoicePdf {
    InvoicePdf::Pdf(
        Binary(pdf),
        format!("inline; filename=\"invoice-{}.pdf\"", order.id),
    )
}

/// Approves or rejects a return for the back office.
async fn decide(
    svc: &OrderService,
    req: &Request,
    id: &str,
    body: ReturnDecisionRequest,
    approve: bool,
) -> ApiResult<Json<ReturnDto>> {
    let who = authz::staff(req, "orders:write")?;
    let note = bounded("note", body.note, 500)?;
    let ret = svc.decide_return(id, approve, note, &actor(who)).await?;
    Ok(Json(ret.into()))
}

fn return_status(status: Option<&str>) -> Result<Option<ReturnStatus>, OrdersError> {
    status
        .map(|s| {
            ReturnStatus::parse(s).ok_or_else(|| {
                OrdersError::Invalid(vec![FieldError::new("status", "is not a return status")])
            })
        })
        .transpose()
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

/// An optional text: blank is none, anything else [`crate::after_sale::text`].
fn bounded(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, OrdersError> {
    value
        .filter(|v| !v.trim().is_empty())
        .map(|v| crate::after_sale::text(field, &v, max))
        .transpose()
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
        Ok(Json(OrderDto::whole(&svc, order).await?))
    }

    /// The invoice of one of the signed-in customer's orders, as a PDF: seller, buyer,
    /// lines, taxes, totals, order number and date.
    #[oai(
        path = "/v1/orders/:id/invoice",
        method = "get",
        operation_id = "get_order_invoice",
        tag = "Tag::Orders"
    )]
    async fn invoice(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<InvoicePdf> {
        let me = authz::signed_in(req)?;
        let (order, pdf) = svc.invoice(&id.0).await?;
        if order.customer_id.as_deref() != Some(me.id.as_str()) {
            return Err(OrdersError::NotFound.into());
        }
        Ok(invoice_response(&order, pdf))
    }

    /// Calls off one of the signed-in customer's orders before it ships: the payment
    /// is voided or refunded in full, the units go back on sale, promotion uses are
    /// given back. 409 `illegal_transition` once fulfilled (ask for a return instead) or
    /// while checkout is still taking the payment.
    #[oai(
        path = "/v1/orders/:id/cancel",
        method = "post",
        operation_id = "cancel_my_order",
        tag = "Tag::Orders"
    )]
    async fn cancel_mine(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<CancelOrderRequest>,
    ) -> ApiResult<Json<OrderDto>> {
        let me = authz::signed_in(req)?;
        let reason = body.0.reason.unwrap_or_else(|| "customer request".into());
        let order = svc
            .cancel(&id.0, &reason, &actor(me), Some(me.id.as_str()))
            .await?;
        Ok(Json(OrderDto::whole(&svc, order).await?))
    }

    /// Asks to send back units of one of the signed-in customer's shipped orders: each
    /// a bought variant, 1 to what was bought of it less what other returns hold.
    #[oai(
        path = "/v1/orders/:id/returns",
        method = "post",
        operation_id = "request_return",
        tag = "Tag::Orders"
    )]
    async fn request_return(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<CreateReturnRequest>,
    ) -> ApiResult<ReturnCreated> {
        let me = authz::signed_in(req)?;
        let b = body.0;
        let items = b
            .items
            .into_iter()
            .map(|i| ReturnItem {
                variant_id: i.variant_id,
                quantity: i.quantity,
            })
            .collect();
        let ret = svc.request_return(&id.0, &me.id, items, &b.reason).await?;
        Ok(ReturnCreated::Created(Json(ret.into())))
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
        let order = svc.get(&id.0).await?;
        Ok(Json(OrderDto::whole(&svc, order).await?))
    }

    /// Any order's invoice, as a PDF. Needs `orders:read`.
    #[oai(
        path = "/v1/admin/orders/:id/invoice",
        method = "get",
        operation_id = "admin_get_order_invoice",
        tag = "Tag::OrdersAdmin"
    )]
    async fn admin_invoice(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<InvoicePdf> {
        authz::staff(req, "orders:read")?;
        let (order, pdf) = svc.invoice(&id.0).await?;
        Ok(invoice_response(&order, pdf))
    }

    /// Calls off a paid order before it ships, as its customer can: payment let go,
    /// units back on sale. Needs `orders:write`.
    #[oai(
        path = "/v1/admin/orders/:id/cancel",
        method = "post",
        operation_id = "cancel_order",
        tag = "Tag::OrdersAdmin"
    )]
    async fn admin_cancel(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<CancelOrderRequest>,
    ) -> ApiResult<Json<OrderDto>> {
        let who = authz::staff(req, "orders:write")?;
        let reason = body
            .0
            .reason
            .unwrap_or_else(|| "cancelled by the shop".into());
        let order = svc.cancel(&id.0, &reason, &actor(who), None).await?;
        Ok(Json(OrderDto::whole(&svc, order).await?))
    }

    /// Gives money back on a paid order, all or part, through its gateway: the order
    /// becomes `partially_refunded` or `refunded`. With `return_id`, pays back that
    /// received return. Needs an `Idempotency-Key` (the same refund for the same key)
    /// and `orders:write`. 422 over what is left to give back; 409 `refund_refused` when
    /// the gateway refuses; 503 when it does not answer (the refund stays `pending` and
    /// is retried).
    #[oai(
        path = "/v1/admin/orders/:id/refunds",
        method = "post",
        operation_id = "refund_order",
        tag = "Tag::OrdersAdmin"
    )]
    async fn refund(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
        /// Required: the same key on every retry of this refund.
        #[oai(name = "Idempotency-Key")]
        idempotency_key: Header<Option<String>>,
        body: JsonBody<CreateRefundRequest>,
    ) -> ApiResult<RefundCreated> {
        let who = authz::staff(req, "orders:write")?;
        let Some(key) = idempotency_key.0 else {
            return Err(ApiError::new(
                ErrorKind::BadRequest,
                "idempotency_key_required",
                "A refund moves money: send an Idempotency-Key header, and the same one on every retry.",
            ));
        };
        let b = body.0;
        let (order, refund) = svc
            .refund(
                &id.0,
                RefundRequest {
                    amount: b.amount,
                    reason: b.reason,
                    return_id: b.return_id,
                },
                &key,
                &actor(who),
            )
            .await?;
        Ok(RefundCreated::Created(Json(RefundResult {
            refund: refund.into(),
            order: OrderDto::whole(&svc, order).await?,
        })))
    }

    /// Returns, newest first; `status` narrows them (`requested` is the queue). Needs
    /// `orders:read`.
    #[oai(
        path = "/v1/admin/returns",
        method = "get",
        operation_id = "list_returns",
        tag = "Tag::ReturnsAdmin"
    )]
    async fn list_returns(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        status: Query<Option<String>>,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<ReturnPage>> {
        authz::staff(req, "orders:read")?;
        let filter = ReturnFilter {
            status: return_status(status.0.as_deref())?,
        };
        let page = svc
            .list_returns(&filter, &page_of(limit.0, cursor.0.as_deref())?)
            .await?;
        Ok(Json(ReturnPage {
            data: page.data.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// Accepts a requested return: the customer may send the units. Needs
    /// `orders:write`.
    #[oai(
        path = "/v1/admin/returns/:id/approve",
        method = "post",
        operation_id = "approve_return",
        tag = "Tag::ReturnsAdmin"
    )]
    async fn approve_return(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<ReturnDecisionRequest>,
    ) -> ApiResult<Json<ReturnDto>> {
        decide(&svc, req, &id.0, body.0, true).await
    }

    /// Refuses a requested return (its units can be asked for again). Needs
    /// `orders:write`.
    #[oai(
        path = "/v1/admin/returns/:id/reject",
        method = "post",
        operation_id = "reject_return",
        tag = "Tag::ReturnsAdmin"
    )]
    async fn reject_return(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<ReturnDecisionRequest>,
    ) -> ApiResult<Json<ReturnDto>> {
        decide(&svc, req, &id.0, body.0, false).await
    }

    /// Records that an approved return's units arrived; they go back on sale unless
    /// `restock` is `false`. Refund it with `POST /v1/admin/orders/{id}/refunds`
    /// `{return_id}`. Needs `orders:write`.
    #[oai(
        path = "/v1/admin/returns/:id/receive",
        method = "post",
        operation_id = "receive_return",
        tag = "Tag::ReturnsAdmin"
    )]
    async fn receive_return(
        &self,
        svc: Data<&OrderService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<ReceiveReturnRequest>,
    ) -> ApiResult<Json<ReturnDto>> {
        let who = authz::staff(req, "orders:write")?;
        let restock = body.0.restock.unwrap_or(true);
        Ok(Json(
            svc.receive_return(&id.0, restock, &actor(who))
                .await?
                .into(),
        ))
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
