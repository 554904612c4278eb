//! Webhooks' REST endpoints (whose endpoint and delivery shapes GraphQL answers too), all under `/v1/admin/webhooks` and all behind
//! `staff("webhooks:write")`: an admin manages every endpoint, an app only its own (others
//! are 404 to it), subscribing only to events its scopes let it read.

use std::time::Duration;

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::principal::PrincipalKind;
use weft_http::{ApiResult, Done, JsonBody, authz};
use weft_kernel::{FieldError, PageRequest};

use crate::domain::{Attempt, Delivery, DeliveryStatus, Endpoint};
use crate::error::WebhooksError;
use crate::service::{Changes, Manager, WebhooksService};

/// How long a rotated-out secret keeps signing when the request does not say: a day.
const DEFAULT_OVERLAP_SECONDS: u32 = 86_400;
const MAX_OVERLAP_SECONDS: u32 = 7 * 86_400;

#[derive(Tags)]
enum Tag {
    /// Outbound webhooks: HTTPS endpoints subscribed to events, signed deliveries, their log
    /// (admins, apps with `webhooks:write`).
    Webhooks,
}

/// An HTTPS endpoint subscribed to events.
#[derive(Debug, Clone, Object, SimpleObject)]
#[oai(rename = "WebhookEndpoint")]
#[graphql(name = "WebhookEndpoint")]
pub struct EndpointDto {
    /// `whe_…`
    pub id: String,
    pub url: String,
    pub description: String,
    /// The event types it receives (`order.created`, …).
    pub events: Vec<String>,
    /// `enabled` or `disabled`.
    pub status: String,
    /// Why it is disabled (by staff, or by Weft after a delivery failed for 3 days).
    pub disabled_reason: Option<String>,
    /// The app that subscribed it; none for the shop's own.
    pub owner_id: Option<String>,
    /// Until when deliveries are also signed with the secret before the last rotation.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Endpoint> for EndpointDto {
    fn from(e: Endpoint) -> Self {
        Self {
            id: e.id,
            url: e.url,
            description: e.description,
            events: e.events,
            status: e.status.as_str().to_owned(),
            disabled_reason: e.disabled_reason,
            owner_id: e.owner_id,
            previous_secret_expires_at: e.previous_secret_expires_at,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// An endpoint with its signing secret, shown only in this answer.
#[derive(Debug, Clone, Object)]
#[oai(rename = "WebhookEndpointWithSecret")]
pub struct EndpointWithSecret {
    #[oai(flatten)]
    pub endpoint: EndpointDto,
    /// `whsec_…`: the HMAC-SHA256 key of `Weft-Signature` (the whole string). Store it now.
    pub secret: String,
}

/// One page of endpoints.
#[derive(Debug, Clone, Object)]
pub struct WebhookEndpointPage {
    pub data: Vec<EndpointDto>,
    pub next_cursor: Option<String>,
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, Object, SimpleObject)]
#[oai(rename = "WebhookDelivery")]
#[graphql(name = "WebhookDelivery")]
pub struct DeliveryDto {
    /// `whd_…` (also the `Weft-Delivery-Id` header).
    pub id: String,
    pub endpoint_id: String,
    /// `evt_…`, the same in every delivery of the event: de-duplicate by it.
    pub event_id: String,
    pub event_type: String,
    /// `pending`, `succeeded`, `failed` (every attempt of the retry window failed) or
    /// `cancelled` (its customer's data was erased before it went).
    pub status: String,
    pub attempt_count: i32,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The status code of the last answer, if any.
    pub last_response_status: Option<i32>,
    /// The exact body sent; none once its customer's data was erased.
    pub request_body: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryDto {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            event_type: d.event_type,
            status: d.status.as_str().to_owned(),
            attempt_count: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_response_status: d.last_response_status,
            request_body: d.payload,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// One try at a delivery.
#[derive(Debug, Clone, Object)]
#[oai(rename = "WebhookAttempt")]
pub struct AttemptDto {
    /// 1 for the first try.
    pub number: i32,
    pub attempted_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// The receiver's status code; none when it did not answer.
    pub response_status: Option<i32>,
    /// The first KiB of the receiver's answer.
    pub response_body: Option<String>,
    /// Why there was no answer (timed out, refused target, could not connect).
    pub error: Option<String>,
}

impl From<Attempt> for AttemptDto {
    fn from(a: Attempt) -> Self {
        Self {
            number: a.number,
            attempted_at: a.attempted_at,
            duration_ms: a.duration_ms,
            response_status: a.response_status,
            response_body: a.response_excerpt,
            error: a.error,
        }
    }
}

/// A delivery with every attempt, oldest first.
#[derive(Debug, Clone, Object)]
#[oai(rename = "WebhookDeliveryDetail")]
pub struct DeliveryDetail {
    #[oai(flatten)]
    pub delivery: DeliveryDto,
    pub attempts: Vec<AttemptDto>,
}

/// One page of deliveries, newest first.
#[derive(Debug, Clone, Object)]
pub struct WebhookDeliveryPage {
    pub data: Vec<DeliveryDto>,
    pub next_cursor: Option<String>,
}

/// A subscription.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// `https://…` on a public host (private, loopback and link-local addresses are
    /// refused after resolving the name).
    pub url: String,
    /// Event types to receive, e.g. `["order.created", "order.refunded"]`. An app needs
    /// the read scope of each (`orders:read` for `order.*`).
    pub events: Vec<String>,
    /// Up to 200 characters.
    #[serde(default)]
    pub description: Option<String>,
}

/// Changes to an endpoint; what is omitted stays.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    pub description: Option<String>,
    /// `true` enables a disabled endpoint (its pending deliveries resume); `false`
    /// stops deliveries to it.
    #[serde(default)]
    pub enabled: Option<bool>,
}

#[derive(ApiResponse)]
pub enum EndpointCreated {
    /// Subscribed; the secret is shown this once.
    #[oai(status = 201)]
    Created(Json<EndpointWithSecret>),
}

#[derive(ApiResponse)]
pub enum DeliveryQueued {
    /// Queued to be sent at once; follow it in the delivery log.
    #[oai(status = 202)]
    Accepted(Json<DeliveryDto>),
}

/// Webhooks' endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhooksApi;

/// The caller as a manager of endpoints: an admin, or an app with `webhooks:write`.
fn manager(req: &Request) -> Result<Manager<'_>, WebhooksError> {
    let p = authz::staff(req, "webhooks:write")?;
    Ok(match p.kind {
        PrincipalKind::App => Manager::App {
            id: &p.id,
            scopes: &p.scopes,
        },
        PrincipalKind::User => Manager::Admin,
    })
}

fn invalid(e: FieldError) -> WebhooksError {
    WebhooksError::Invalid(vec![e])
}

#[OpenApi]
impl WebhooksApi {
    /// Subscribes an HTTPS URL to events. Every delivery is a `POST` of
    /// `{id, type, created_at, data}` signed in `Weft-Signature: t=<unix>,v1=<hex>`
    /// (HMAC-SHA256 of `"{t}.{body}"` keyed with the secret answered here, once).
    #[oai(
        path = "/v1/admin/webhooks",
        method = "post",
        operation_id = "create_webhook",
        tag = "Tag::Webhooks"
    )]
    async fn create(
        &self,
        svc: Data<&WebhooksService>,
        req: &Request,
        body: JsonBody<CreateWebhookRequest>,
    ) -> ApiResult<EndpointCreated> {
        let who = manager(req)?;
        let b = body.0;
        let (endpoint, secret) = svc
            .subscribe(who, &b.url, &b.events, b.description.as_deref())
            .await?;
        Ok(EndpointCreated::Created(Json(EndpointWithSecret {
            endpoint: endpoint.into(),
            secret,
        })))
    }

    /// Endpoints, newest first (an app sees its own).
    #[oai(
        path = "/v1/admin/webhooks",
        method = "get",
        operation_id = "list_webhooks",
        tag = "Tag::Webhooks"
    )]
    async fn list(
        &self,
        svc: Data<&WebhooksService>,
        req: &Request,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<WebhookEndpointPage>> {
        let who = manager(req)?;
        let page = PageRequest::from_query(limit.0, cursor.0.as_deref()).map_err(invalid)?;
        let page = svc.list(who, &page).await?;
        Ok(Json(WebhookEndpointPage {
            data: page.data.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// An endpoint.
    #[oai(
        path = "/v1/admin/webhooks/:id",
        method = "get",
        operation_id = "get_webhook",
        tag = "Tag::Webhooks"
    )]
    async fn get(
        &self,
        svc: Data<&WebhooksService>,
        req: &Request,
        /// `whe_…`
        id: Path<String>,
    ) -> ApiResult<Json<EndpointDto>> {
        let who = manager(req)?;
        Ok(Json(svc.get(who, &id.0).await?.into()))
    }

    /// Changes an endpoint: its URL, events, description, or whether it is enabled.
    #[oai(
        path = "/v1/admin/webhooks/:id",
        method = "patch",
        operation_id = "update_webhook",
        tag = "Tag::Webhooks"
    )]
    async fn update(
        &self,
        svc: Data<&WebhooksService>,
        req: &Request,
        id: Path<String>,
        body: JsonBody<WebhookPatch>,
    ) -> ApiResult<Json<EndpointDto>> {
        let who = manager(req)?;
        let p = body.0;
        let changes = Changes {
            url: p.url,
            events: p.events,
            description: p.description,
            enabled: p.enabled,
        };
        Ok(Json(svc.update(who, &id.0, changes).await?.into()))
    }

    /// Deletes an endpoint and its delivery log.
    #[oai(
        path = "/v1/admin/webhooks/:id",
        method = "delete",
        operation_id = "delete_webhook",
        tag = "Tag::Webhooks"
    )]
    async fn delete(
        &self,
        svc: Data<&WebhooksService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<Done> {
        let who = manager(req)?;
        svc.delete(who, &id.0).await?;
        Ok(Done::NoContent)
    }

    /// Makes a new signing secret, answered this once. For `overlap_seconds` (default a
    /// day, at most 7; 0 for none) deliveries carry a second `v1` signature made with the
    /// old secret, so receivers switch without refusing any.
    #[oai(
        path = "/v1/admin/webhooks/:id/rotate-secret",
        method = "post",
        operation_id = "rotate_webhook_secret",
        tag = "Tag::Webhooks"
    )]
    async fn rotate(
        &self,
        svc: Data<&WebhooksService>,
        req: &Request,
        id: Path<String>,
        overlap_seconds: Query<Option<u32>>,
    ) -> ApiResult<Json<EndpointWithSecret>> {
        let who = manager(req)?;
        let overlap = overlap_seconds.0.unwrap_or(DEFAULT_OVERLAP_SECONDS);
        if overlap > MAX_OVERLAP_SECONDS {
            return Err(WebhooksError::field(
                "overlap_seconds",
                format!("at most {MAX_OVERLAP_SECONDS} (7 days)"),
            )
            .into());
        }
        let (endpoint, secret) = svc
            .rotate_secret(who, &id.0, Duration::from_secs(u64::from(overlap)))
            .await?;
        Ok(Json(EndpointWithSecret {
            endpoint: endpoint.into(),
            secret,
        }))
    }

    /// Sends a `webhook.test` event to the endpoint now (logged like any delivery).
    #[oai(
        path = "/v1/admin/webhooks/:id/test",
        method = "post",
        operation_id = "send_webhook_test",
        tag = "Tag::Webhooks"
    )]
    async fn test(
        &self,
        svc: Data<&WebhooksService>,
        req: &Request,
        id: Path<String>,
    ) -> ApiResult<DeliveryQueued> {
        let who = manager(req)?;
        Ok(DeliveryQueued::Accepted(Json(
            svc.send_test(who, &id.0).await?.into(),
        )))
    }

    /// An endpoint's deliveries, newest first.
    #[oai(
        path = "/v1/admin/webhooks/:id/deliveries",
        method = "get",
        operation_id = "list_webhook_deliveries",
        tag = "Tag::Webhooks"
    )]
    async fn deliveries(
        &self,
        svc: Data<&WebhooksService>,
        req: &Request,
        id: Path<String>,
        /// `pending`, `succeeded`, `failed` or `cancelled`.
        status: Query<Option<String>>,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<WebhookDeliveryPage>> {
        let who = manager(req)?;
        let status = match status.0.as_deref() {
            None => None,
            Some(s) => Some(DeliveryStatus::parse(s).ok_or_else(|| {
                WebhooksError::field("status", "one of pending, succeeded, failed, cancelled")
            })?),
        };
        let page = PageRequest::from_query(limit.0, cursor.0.as_deref()).map_err(invalid)?;
        let page = svc.deliveries(who, &id.0, status, &page).await?;
        Ok(Json(WebhookDeliveryPage {
            data: page.data.into_iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// A delivery with every attempt: status codes, timings, the start of each answer.
    #[oai(
        path = "/v1/admin/webhooks/:id/deliveries/:delivery_id",
        method = "get",
        operation_id = "get_webhook_delivery",
        tag = "Tag::Webhooks"
    )]
    async fn delivery(
        &self,
        svc: Data<&WebhooksService>,
        req: &Request,
        id: Path<String>,
        /// `whd_…`
        delivery_id: Path<String>,
    ) -> ApiResult<Json<DeliveryDetail>> {
        let who = manager(req)?;
        let (delivery, attempts) = svc.delivery(who, &id.0, &delivery_id.0).await?;
        Ok(Json(DeliveryDetail {
            delivery: delivery.into(),
            attempts: attempts.into_iter().map(Into::into).collect(),
        }))
    }

    /// Sends a finished delivery again now (one attempt).
    #[oai(
        path = "/v1/admin/webhooks/:id/deliveries/:delivery_id/redeliver",
        method = "post",
        operation_id = "redeliver_webhook",
        tag = "Tag::Webhooks"
    )]
    async fn redeliver(
        &self,
        svc: Data<&WebhooksService>,
        req: &Request,
        id: Path<String>,
        delivery_id: Path<String>,
    ) -> ApiResult<DeliveryQueued> {
        let who = manager(req)?;
        Ok(DeliveryQueued::Accepted(Json(
            svc.redeliver(who, &id.0, &delivery_id.0).await?.into(),
        )))
    }
}
