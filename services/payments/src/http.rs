//! The payments log in the back office: `GET /v1/admin/payments` (newest first, with
//! every call made to the gateway) and `GET /v1/admin/payments/{id}`.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use weft_http::{ApiResult, authz};
use weft_kernel::{FieldError, PageRequest};

use crate::service::{Payment, PaymentFilter, PaymentService, PaymentStatus, PaymentsError};

mod internal;
mod webhooks;
pub use internal::PaymentInternalApi;
pub use webhooks::WebhookApi;

#[derive(Tags)]
enum Tag {
    /// The payments log: every payment and every call made to its gateway.
    PaymentsAdmin,
}

/// One call made to the gateway.
#[derive(Debug, Clone, Object)]
pub struct PaymentTransactionDto {
    /// `authorize`, `confirm`, `capture`, `void`, `refund` or `webhook` (an event from
    /// the gateway).
    pub kind: String,
    /// `succeeded`, `requires_action` or `declined`; for `webhook`, the event's type
    /// (`payment_intent.succeeded`, `charge.refunded`).
    pub status: String,
    pub amount: i64,
    /// The gateway's reference (a refund's own id for refunds, and for refunds made
    /// outside Weft that a `charge.refunded` event reported).
    pub provider_ref: Option<String>,
    /// The gateway's decline code.
    pub code: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A payment: what was held, charged and given back, through which gateway.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Payment")]
pub struct PaymentDto {
    /// `pay_…`
    pub id: String,
    pub checkout_id: String,
    pub order_id: Option<String>,
    /// `test`, `stripe`, …
    pub provider: String,
    /// The gateway's id (a PaymentIntent's `pi_…`).
    pub provider_ref: Option<String>,
    pub amount: i64,
    pub currency: String,
    /// `pending`, `requires_action`, `authorized`, `declined`, `voided`, `captured`,
    /// `partially_refunded` or `refunded`.
    pub status: String,
    pub captured: i64,
    pub refunded: i64,
    pub decline_code: Option<String>,
    pub transactions: Vec<PaymentTransactionDto>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Payment> for PaymentDto {
    fn from(p: Payment) -> Self {
        Self {
            id: p.id,
            checkout_id: p.checkout_id,
            order_id: p.order_id,
            provider: p.provider,
            provider_ref: p.provider_ref,
            amount: p.amount,
            currency: p.currency,
            status: p.status.as_str().to_owned(),
            captured: p.captured,
            refunded: p.refunded,
            decline_code: p.decline_code,
            transactions: p
                .transactions
                .into_iter()
                .map(|t| PaymentTransactionDto {
                    kind: t.kind,
                    status: t.status,
                    amount: t.amount,
                    provider_ref: t.provider_ref,
                    code: t.code,
                    created_at: t.created_at,
                })
                .collect(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Clone, Object)]
pub struct PaymentPage {
    pub data: Vec<PaymentDto>,
    pub next_cursor: Option<String>,
}

/// The payments log endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct PaymentApi;

#[OpenApi]
impl PaymentApi {
    /// Payments, newest first, each with its transactions; filter by `checkout_id`,
    /// `order_id` or `status`. Needs `payments:read`.
    #[oai(
        path = "/v1/admin/payments",
        method = "get",
        operation_id = "list_payments",
        tag = "Tag::PaymentsAdmin"
    )]
    #[allow(clippy::too_many_arguments)] // one per query parameter
    async fn list(
        &self,
        svc: Data<&PaymentService>,
        req: &Request,
        checkout_id: Query<Option<String>>,
        order_id: Query<Option<String>>,
        status: Query<Option<String>>,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<PaymentPage>> {
        authz::staff(req, "payments:read")?;
        let page = PageRequest::from_query(limit.0, cursor.0.as_deref())
            .map_err(|e| PaymentsError::Invalid(vec![e]))?;
        let status = status
            .0
            .as_deref()
            .map(|s| {
                PaymentStatus::parse(s).ok_or_else(|| {
                    PaymentsError::Invalid(vec![FieldError::new(
                        "status",
                        "is not a payment status",
                    )])
                })
            })
            .transpose()?;
        let filter = PaymentFilter {
            checkout_id: checkout_id.0,
            order_id: order_id.0,
            status,
        };
        let page = svc.list(&filter, &page).await?;
        Ok(Json(PaymentPage {
            data: page.data.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One payment with its transactions. Needs `payments:read`.
    #[oai(
        path = "/v1/admin/payments/:id",
        method = "get",
        operation_id = "get_payment",
        tag = "Tag::PaymentsAdmin"
    )]
    async fn get(
        &self,
        svc: Data<&PaymentService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<PaymentDto>> {
        authz::staff(req, "payments:read")?;
        Ok(Json(svc.get(&id.0).await?.into()))
    }
}
