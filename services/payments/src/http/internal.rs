//! What a cluster's checkout and orders processes ask of payments over HTTP
//! (`/v1/internal/…`, an API key with the `internal` scope): authorize a checkout
//! attempt's payment, find it again, confirm, capture, let go and refund it. The
//! embedded profile makes the same calls in-process.

use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, JsonBody, authz};
use weft_kernel::{Currency, FieldError, Money};

use super::PaymentDto;
use crate::service::{NewPayment, PaymentService, PaymentsError};

#[derive(Tags)]
enum Tag {
    /// Payments, as a cluster's checkout and orders processes reach them.
    PaymentsInternal,
}

/// The gateways this payments process can charge through.
#[derive(Debug, Clone, Object)]
pub struct PaymentProviderList {
    /// `test`, `stripe`, …
    pub data: Vec<String>,
}

/// A checkout attempt's payment to hold.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    /// The checkout attempt: one payment each, and the gateway's idempotency key.
    pub attempt: String,
    pub checkout_id: String,
    pub provider: String,
    /// The gateway's token; card numbers never reach Weft.
    pub token: String,
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
}

/// Where an authorization ended: a decline is an answer here, not an error, so that
/// the checkout keeps the gateway's decline code.
#[derive(Debug, Clone, Object)]
pub struct AuthorizeResult {
    /// `declined`, or the payment's status (`authorized`, `requires_action`, …).
    pub status: String,
    /// `pay_…`, unless declined.
    pub payment_id: Option<String>,
    /// What the customer must do (3-D Secure), with `requires_action`.
    pub next_action: Option<serde_json::Value>,
    /// The gateway's decline code, with `declined`.
    pub decline_code: Option<String>,
    /// The gateway's words, with `declined`.
    pub message: Option<String>,
}

/// The order a capture pays.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaptureRequest {
    /// `ord_…`
    pub order_id: String,
}

/// Money to give back; the same key is the same refund.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InternalRefundRequest {
    /// Minor units.
    pub amount: i64,
    pub key: String,
}

/// A refund the gateway made.
#[derive(Debug, Clone, Object)]
pub struct InternalRefund {
    /// The gateway's refund reference.
    pub reference: String,
    pub payment: PaymentDto,
}

/// Payments' cluster-internal endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct PaymentInternalApi;

#[OpenApi]
impl PaymentInternalApi {
    /// The gateways a checkout may name. Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/payment-providers",
        method = "get",
        operation_id = "internal_list_payment_providers",
        tag = "Tag::PaymentsInternal"
    )]
    async fn providers(
        &self,
        svc: Data<&PaymentService>,
        req: &Request,
    ) -> ApiResult<Json<PaymentProviderList>> {
        authz::internal(req)?;
        Ok(Json(PaymentProviderList {
            data: svc
                .provider_names()
                .into_iter()
                .map(str::to_owned)
                .collect(),
        }))
    }

    /// Holds a checkout attempt's amount; the same attempt again answers its payment.
    /// Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/payments",
        method = "post",
        operation_id = "internal_authorize_payment",
        tag = "Tag::PaymentsInternal"
    )]
    async fn authorize(
        &self,
        svc: Data<&PaymentService>,
        req: &Request,
        body: JsonBody<AuthorizeRequest>,
    ) -> ApiResult<Json<AuthorizeResult>> {
        authz::internal(req)?;
        let b = body.0;
        let currency = Currency::parse(&b.currency).map_err(|e| {
            PaymentsError::Invalid(vec![FieldError::new("currency", e.to_string())])
        })?;
        let authorized = svc
            .authorize(NewPayment {
                attempt: b.attempt,
                checkout_id: b.checkout_id,
                provider: b.provider,
                token: b.token,
                amount: Money::new(b.amount, currency),
            })
            .await;
        Ok(Json(match authorized {
            Ok(p) => AuthorizeResult {
                status: p.status.as_str().to_owned(),
                payment_id: Some(p.id),
                next_action: p.next_action,
                decline_code: None,
                message: None,
            },
            Err(PaymentsError::Declined { code, message }) => AuthorizeResult {
                status: "declined".to_owned(),
                payment_id: None,
                next_action: None,
                decline_code: Some(code),
                message: Some(message),
            },
            Err(e) => return Err(e.into()),
        }))
    }

    /// The payment of a checkout attempt; 404 `payment_not_found` when it has none.
    /// Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/checkout-attempts/:attempt/payment",
        method = "get",
        operation_id = "internal_get_attempt_payment",
        tag = "Tag::PaymentsInternal"
    )]
    async fn of_attempt(
        &self,
        svc: Data<&PaymentService>,
        req: &Request,
        attempt: Path<String>,
    ) -> ApiResult<Json<PaymentDto>> {
        authz::internal(req)?;
        let payment = svc
            .of_attempt(&attempt.0)
            .await?
            .ok_or(PaymentsError::NotFound)?;
        Ok(Json(payment.into()))
    }

    /// Asks the gateway again after the customer acted on `next_action`. Needs the
    /// `internal` scope.
    #[oai(
        path = "/v1/internal/payments/:id/confirm",
        method = "post",
        operation_id = "internal_confirm_payment",
        tag = "Tag::PaymentsInternal"
    )]
    async fn confirm(
        &self,
        svc: Data<&PaymentService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<PaymentDto>> {
        authz::internal(req)?;
        Ok(Json(svc.confirm(&id.0).await?.into()))
    }

    /// Charges the held amount for an order (again: the same capture). Needs the
    /// `internal` scope.
    #[oai(
        path = "/v1/internal/payments/:id/capture",
        method = "post",
        operation_id = "internal_capture_payment",
        tag = "Tag::PaymentsInternal"
    )]
    async fn capture(
        &self,
        svc: Data<&PaymentService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<CaptureRequest>,
    ) -> ApiResult<Json<PaymentDto>> {
        authz::internal(req)?;
        Ok(Json(svc.capture(&id.0, &body.0.order_id).await?.into()))
    }

    /// Lets the payment go in full: a hold is voided, a charge refunded (again: done).
    /// Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/payments/:id/cancel",
        method = "post",
        operation_id = "internal_cancel_payment",
        tag = "Tag::PaymentsInternal"
    )]
    async fn cancel(
        &self,
        svc: Data<&PaymentService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Json<PaymentDto>> {
        authz::internal(req)?;
        Ok(Json(svc.cancel(&id.0).await?.into()))
    }

    /// Gives back part of a charge; the same key answers the same refund. 409
    /// `payment_refused` over what is left. Needs the `internal` scope.
    #[oai(
        path = "/v1/internal/payments/:id/refunds",
        method = "post",
        operation_id = "internal_refund_payment",
        tag = "Tag::PaymentsInternal"
    )]
    async fn refund(
        &self,
        svc: Data<&PaymentService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<InternalRefundRequest>,
    ) -> ApiResult<Json<InternalRefund>> {
        authz::internal(req)?;
        let (payment, reference) = svc.refund(&id.0, body.0.amount, &body.0.key).await?;
        Ok(Json(InternalRefund {
            reference,
            payment: payment.into(),
        }))
    }
}
