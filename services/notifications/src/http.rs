//! Notifications' REST endpoints: the delivery log under `/v1/admin/notifications`, read
//! with `customers:read` (it holds customers' addresses) and resent with
//! `customers:write`; a customer's own choices (`/v1/me/notification-preferences`,
//! `/v1/me/push-devices`); the one-click unsubscribe of marketing e-mail.

use chrono::{DateTime, Utc};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::types::MaybeUndefined;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use serde::Deserialize;
use weft_http::{ApiResult, Done, JsonBody, authz};
use weft_kernel::{FieldError, PageRequest};

use crate::domain::{Kind, Message, Status};
use crate::error::NotificationsError;
use crate::service::{NotificationsService, PreferencesPatch};
use crate::store::{Filter, Preferences, PushToken};

#[derive(Tags)]
enum Tag {
    /// Messages sent to customers and staff, and their delivery log (admins, apps with
    /// `customers:read`).
    Notifications,
}

/// A message as the log lists it.
#[derive(Debug, Clone, Object)]
#[oai(rename = "Notification")]
pub struct NotificationDto {
    /// `ntf_…`
    pub id: String,
    /// The event that made it (`evt_…`).
    pub event_id: String,
    /// `welcome`, `verify_email`, `password_reset`, `account_locked`,
    /// `order_confirmation`, `order_shipped`, `order_delivered`, `order_cancelled`,
    /// `order_refunded`, `return_received`, `low_stock`, `webhook_disabled` or
    /// `cart_reminder` (marketing).
    pub kind: String,
    /// `email`, `sms` or `push`.
    pub channel: String,
    /// The address, phone number or push token it went to; `erased` once its customer
    /// was.
    pub recipient: String,
    pub customer_id: Option<String>,
    /// The locale whose templates made it.
    pub locale: String,
    pub subject: String,
    /// `pending`, `sent`, `failed` (a dead letter: refused for good or out of tries) or
    /// `cancelled` (its customer was erased before it went).
    pub status: String,
    pub attempt_count: i32,
    /// When it is tried next, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// What the provider called it when it took it.
    pub provider_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl From<&Message> for NotificationDto {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id.clone(),
            event_id: m.event_id.clone(),
            kind: m.kind.as_str().to_owned(),
            channel: m.channel.as_str().to_owned(),
            recipient: m.recipient.clone(),
            customer_id: m.customer_id.clone(),
            locale: m.locale.clone(),
            subject: m.subject.clone(),
            status: m.status.as_str().to_owned(),
            attempt_count: m.attempts,
            next_attempt_at: m.next_attempt_at,
            last_error: m.last_error.clone(),
            provider_id: m.provider_id.clone(),
            created_at: m.created_at,
            updated_at: m.updated_at,
            sent_at: m.sent_at,
        }
    }
}

/// A message with what it said.
#[derive(Debug, Clone, Object)]
#[oai(rename = "NotificationDetail")]
pub struct NotificationDetailDto {
    #[oai(flatten)]
    pub notification: NotificationDto,
    /// The text part; none once forgotten (a single-use link after sending, an erasure).
    pub body_text: Option<String>,
    /// The HTML part; none once forgotten.
    pub body_html: Option<String>,
}

impl From<Message> for NotificationDetailDto {
    fn from(m: Message) -> Self {
        Self {
            notification: (&m).into(),
            body_text: m.body_text,
            body_html: m.body_html,
        }
    }
}

/// One page of the log.
#[derive(Debug, Clone, Object)]
pub struct NotificationPage {
    pub data: Vec<NotificationDto>,
    pub next_cursor: Option<String>,
}

#[derive(ApiResponse)]
pub enum Resent {
    /// Pending again, to be sent at once; follow it in the log.
    #[oai(status = 202)]
    Accepted(Json<NotificationDto>),
}

/// One of a customer's devices, for push messages.
#[derive(Debug, Clone, Object)]
#[oai(rename = "PushDevice")]
pub struct PushDeviceDto {
    /// The Expo push token, `ExponentPushToken[…]`.
    pub token: String,
    /// `ios`, `android` or `web`.
    pub platform: String,
    pub created_at: DateTime<Utc>,
}

impl From<PushToken> for PushDeviceDto {
    fn from(t: PushToken) -> Self {
        Self {
            token: t.token,
            platform: t.platform,
            created_at: t.created_at.and_utc(),
        }
    }
}

/// What a customer receives. Transactional e-mail (orders, account) always goes.
#[derive(Debug, Clone, Object)]
#[oai(rename = "NotificationPreferences")]
pub struct PreferencesDto {
    /// Marketing e-mail (a reminder of a cart left behind); off until the customer opts
    /// in, and every such e-mail can turn it off in one click.
    pub marketing_email: bool,
    /// For SMS, in E.164 form (`+33612345678`).
    pub phone: Option<String>,
    /// Order updates (confirmed, shipped, delivered, cancelled) by SMS too.
    pub sms_order_updates: bool,
    /// Order updates by push to the devices below too.
    pub push_order_updates: bool,
    pub push_devices: Vec<PushDeviceDto>,
    pub updated_at: DateTime<Utc>,
}

impl PreferencesDto {
    fn new(p: Preferences, devices: Vec<PushToken>) -> Self {
        Self {
            marketing_email: p.marketing_email,
            phone: p.phone,
            sms_order_updates: p.sms_order_updates,
            push_order_updates: p.push_order_updates,
            push_devices: devices.into_iter().map(Into::into).collect(),
            updated_at: p.updated_at.and_utc(),
        }
    }
}

/// Changes to what a customer receives: an omitted field stays, `null` clears `phone`.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferencesRequest {
    #[serde(default)]
    pub marketing_email: Option<bool>,
    /// E.164, e.g. `+33612345678`; `null` removes it (and needs `sms_order_updates` off).
    #[serde(default)]
    pub phone: MaybeUndefined<String>,
    /// Needs a phone number.
    #[serde(default)]
    pub sms_order_updates: Option<bool>,
    #[serde(default)]
    pub push_order_updates: Option<bool>,
}

/// A device to send push messages to.
#[derive(Debug, Clone, Object, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushDeviceRequest {
    /// The Expo push token the app got (`ExponentPushToken[…]`).
    pub token: String,
    /// `ios`, `android` or `web`.
    pub platform: String,
}

#[derive(ApiResponse)]
pub enum DeviceAdded {
    /// Registered (or moved to you from whoever had it).
    #[oai(status = 201)]
    Created(Json<PushDeviceDto>),
}

/// Notifications' endpoints.
#[derive(Debug, Clone, Copy, Default)]
pub struct NotificationsApi;

#[OpenApi]
impl NotificationsApi {
    /// The delivery log, newest first, filtered by recipient, status or kind.
    #[oai(
        path = "/v1/admin/notifications",
        method = "get",
        operation_id = "list_notifications",
        tag = "Tag::Notifications"
    )]
    #[allow(clippy::too_many_arguments)] // one per query parameter
    async fn list(
        &self,
        svc: Data<&NotificationsService>,
        req: &Request,
        /// An exact address.
        recipient: Query<Option<String>>,
        /// `pending`, `sent`, `failed` or `cancelled`.
        status: Query<Option<String>>,
        /// A kind, e.g. `password_reset`.
        kind: Query<Option<String>>,
        /// 1–100, default 20.
        limit: Query<Option<u32>>,
        cursor: Query<Option<String>>,
    ) -> ApiResult<Json<NotificationPage>> {
        authz::staff(req, "customers:read")?;
        let mut errors = Vec::new();
        let status = status.0.and_then(|s| {
            Status::parse(&s).or_else(|| {
                errors.push(FieldError::new(
                    "status",
                    "one of pending, sent, failed, cancelled",
                ));
                None
            })
        });
        let kind = kind.0.and_then(|k| {
            Kind::parse(&k).or_else(|| {
                let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
                errors.push(FieldError::new(
                    "kind",
                    format!("one of {}", names.join(", ")),
                ));
                None
            })
        });
        let page = match PageRequest::from_query(limit.0, cursor.0.as_deref()) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let (Some(page), true) = (page, errors.is_empty()) else {
            return Err(NotificationsError::Invalid(errors).into());
        };
        let filter = Filter {
            recipient: recipient.0.map(|r| r.trim().to_owned()),
            status,
            kind,
        };
        let page = svc.list(&filter, &page).await?;
        Ok(Json(NotificationPage {
            data: page.data.iter().map(Into::into).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    /// One message with its text and HTML parts.
    #[oai(
        path = "/v1/admin/notifications/:id",
        method = "get",
        operation_id = "get_notification",
        tag = "Tag::Notifications"
    )]
    async fn get(
        &self,
        svc: Data<&NotificationsService>,
        req: &Request,
        /// `ntf_…`
        id: Path<String>,
    ) -> ApiResult<Json<NotificationDetailDto>> {
        authz::staff(req, "customers:read")?;
        Ok(Json(svc.get(&id.0).await?.into()))
    }

    /// Sends a failed message (a dead letter) again, with a fresh set of tries. 409 for
    /// one that is not failed, or whose body was forgotten.
    #[oai(
        path = "/v1/admin/notifications/:id/resend",
        method = "post",
        operation_id = "resend_notification",
        tag = "Tag::Notifications"
    )]
    async fn resend(
        &self,
        svc: Data<&NotificationsService>,
        req: &Request,
        /// `ntf_…`
        id: Path<String>,
    ) -> ApiResult<Resent> {
        authz::staff(req, "customers:write")?;
        let m = svc.resend(&id.0).await?;
        Ok(Resent::Accepted(Json((&m).into())))
    }

    /// What the signed-in customer receives, and their devices.
    #[oai(
        path = "/v1/me/notification-preferences",
        method = "get",
        operation_id = "get_notification_preferences",
        tag = "Tag::Notifications"
    )]
    async fn preferences(
        &self,
        svc: Data<&NotificationsService>,
        req: &Request,
    ) -> ApiResult<Json<PreferencesDto>> {
        let me = authz::signed_in(req)?.id.clone();
        let (prefs, devices) = svc.preferences(&me).await?;
        Ok(Json(PreferencesDto::new(prefs, devices)))
    }

    /// Changes what the signed-in customer receives. Opting out of marketing cancels
    /// marketing messages not sent yet.
    #[oai(
        path = "/v1/me/notification-preferences",
        method = "patch",
        operation_id = "update_notification_preferences",
        tag = "Tag::Notifications"
    )]
    async fn update_preferences(
        &self,
        svc: Data<&NotificationsService>,
        req: &Request,
        body: JsonBody<PreferencesRequest>,
    ) -> ApiResult<Json<PreferencesDto>> {
        let me = authz::signed_in(req)?.id.clone();
        let b = body.0;
        let phone = match b.phone {
            MaybeUndefined::Undefined => None,
            MaybeUndefined::Null => Some(None),
            MaybeUndefined::Value(p) => Some(Some(p.trim().to_owned())),
        };
        svc.update_preferences(
            &me,
            PreferencesPatch {
                marketing_email: b.marketing_email,
                phone,
                sms_order_updates: b.sms_order_updates,
                push_order_updates: b.push_order_updates,
            },
        )
        .await?;
        let (prefs, devices) = svc.preferences(&me).await?;
        Ok(Json(PreferencesDto::new(prefs, devices)))
    }

    /// Registers a device of the signed-in customer for push messages.
    #[oai(
        path = "/v1/me/push-devices",
        method = "post",
        operation_id = "add_push_device",
        tag = "Tag::Notifications"
    )]
    async fn add_device(
        &self,
        svc: Data<&NotificationsService>,
        req: &Request,
        body: JsonBody<PushDeviceRequest>,
    ) -> ApiResult<DeviceAdded> {
        let me = authz::signed_in(req)?.id.clone();
        let device = svc
            .add_push_token(&me, body.0.token.trim(), body.0.platform.trim())
            .await?;
        Ok(DeviceAdded::Created(Json(device.into())))
    }

    /// Forgets one of the signed-in customer's devices.
    #[oai(
        path = "/v1/me/push-devices/:token",
        method = "delete",
        operation_id = "remove_push_device",
        tag = "Tag::Notifications"
    )]
    async fn remove_device(
        &self,
        svc: Data<&NotificationsService>,
        req: &Request,
        /// The device's push token.
        token: Path<String>,
    ) -> ApiResult<Done> {
        let me = authz::signed_in(req)?.id.clone();
        svc.remove_push_token(&me, &token.0).await?;
        Ok(Done::NoContent)
    }

    /// One-click unsubscribe from marketing e-mail (RFC 8058): the URL of a marketing
    /// e-mail's `List-Unsubscribe` header, which mail clients POST
    /// `List-Unsubscribe=One-Click` to; the storefront's unsubscribe page calls it too.
    /// No sign-in: the token is the proof. Any body is ignored; saying it twice is fine.
    #[oai(
        path = "/v1/notifications/unsubscribe",
        method = "post",
        operation_id = "unsubscribe_marketing",
        tag = "Tag::Notifications"
    )]
    async fn unsubscribe(
        &self,
        svc: Data<&NotificationsService>,
        /// From the e-mail's link.
        token: Query<String>,
    ) -> ApiResult<Done> {
        svc.unsubscribe(&token.0).await?;
        Ok(Done::NoContent)
    }
}
