//! `POST /v1/webhooks/stripe`: Stripe's events, public (Stripe signs them; no Weft
//! credentials), verified over the exact bytes received and applied once per event id.

use poem::Request;
use poem::web::Data;
use poem_openapi::payload::{Json, ParsePayload, Payload};
use poem_openapi::registry::{MetaSchema, MetaSchemaRef};
use poem_openapi::{Object, OpenApi, Tags};
use weft_http::ApiResult;

use crate::service::PaymentService;

#[derive(Tags)]
enum Tag {
    /// Events from payment gateways (Stripe), verified by their signatures.
    Webhooks,
}

/// A gateway's event body, kept as the exact bytes received: the signature is over
/// them, so it is never parsed and re-serialized before being verified. Documented as
/// a JSON object (what Stripe sends); any `application/json` body is taken.
#[derive(Debug)]
pub struct RawEvent(pub Vec<u8>);

impl Payload for RawEvent {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        // Stripe sends `application/json; charset=utf-8`.
        content_type
            .split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
    }

    fn schema_ref() -> MetaSchemaRef {
        MetaSchemaRef::Inline(Box::new(MetaSchema {
            description: Some("A Stripe event object (`{id, type, data: {object}, …}`)."),
            ..MetaSchema::new("object")
        }))
    }
}

impl ParsePayload for RawEvent {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut poem::RequestBody) -> poem::Result<Self> {
        // The body limit of the HTTP stack applies before this is read.
        Ok(Self(
            <Vec<u8> as poem::FromRequest>::from_request(request, body).await?,
        ))
    }
}

poem_openapi::impl_apirequest_for_payload!(RawEvent,);

/// What Weft did with a delivered event.
#[derive(Debug, Clone, Object)]
pub struct WebhookReceipt {
    /// The gateway's event id (`evt_…`).
    pub event_id: String,
    /// The event's type (`payment_intent.succeeded`).
    pub kind: String,
    /// `processed`, `ignored` (about no payment of Weft's) or `replayed` (seen before:
    /// nothing done again).
    pub outcome: String,
}

/// Webhook endpoints of payment gateways.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookApi;

#[OpenApi]
impl WebhookApi {
    /// Receives a Stripe event
    ///
    /// Public: Stripe authenticates it with the `Stripe-Signature` header (HMAC-SHA256 of the raw body with the endpoint's
    /// signing secret, within `payments.webhook_tolerance_seconds`). A bad, missing or
    /// stale signature is 400 `webhook_signature_invalid`; an event already processed
    /// answers 200 `replayed` and does nothing again.
    #[oai(
        path = "/v1/webhooks/stripe",
        method = "post",
        operation_id = "receive_stripe_webhook",
        tag = "Tag::Webhooks"
    )]
    async fn stripe(
        &self,
        svc: Data<&PaymentService>,
        req: &Request,
        body: RawEvent,
    ) -> ApiResult<Json<WebhookReceipt>> {
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                value
                    .to_str()
                    .ok()
                    .map(|v| (name.as_str().to_ascii_lowercase(), v.to_owned()))
            })
            .collect();
        let (event, outcome) = svc.receive_webhook("stripe", &headers, &body.0).await?;
        Ok(Json(WebhookReceipt {
            event_id: event.id,
            kind: event.kind,
            outcome: outcome.as_str().to_owned(),
        }))
    }
}
