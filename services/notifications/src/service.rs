//! Notifications' use cases: turning an event into its messages (in the event's inbox
//! transaction), the log and resending for staff, erasure, and the dispatcher that hands
//! what is due to its channel's provider, retrying with backoff until a provider takes it
//! or the tries run out (a dead letter).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::json;
use tokio::sync::{Notify, Semaphore};
use weft_bus::Envelope;
use weft_bus::Event as _;
use weft_bus::events::{
    AccountLocked, CartAbandoned, EmailVerificationRequested, InventoryLow, OrderCancelled,
    OrderCompleted, OrderCreated, OrderFulfilled, OrderRefunded, PasswordResetRequested,
    ReturnReceived, UserErased, UserRegistered, WebhookEndpointDisabled,
};
use weft_kernel::id::PrefixedId;
use weft_kernel::{Clock, Cursor, Page, PageRequest};
use weft_storage::{Db, DbConn};

use crate::channels::{SendError, Sender};
use crate::domain::{self, Channel, Kind, Message, MessageId, Retry, Status};
use crate::error::NotificationsError;
use crate::store::{self, Contact, Filter, OrderContact, Position, Preferences, PushToken};
use crate::templates::Templates;

/// The events notifications follow.
pub const CONSUMED: &[&str] = &[
    UserRegistered::TYPE,
    EmailVerificationRequested::TYPE,
    PasswordResetRequested::TYPE,
    AccountLocked::TYPE,
    OrderCreated::TYPE,
    OrderFulfilled::TYPE,
    OrderCompleted::TYPE,
    OrderCancelled::TYPE,
    OrderRefunded::TYPE,
    ReturnReceived::TYPE,
    InventoryLow::TYPE,
    WebhookEndpointDisabled::TYPE,
    CartAbandoned::TYPE,
    UserErased::TYPE,
];

/// What an unsubscribe token is sealed for (it opens for nothing else).
const UNSUBSCRIBE_AAD: &str = "notifications/unsubscribe";

/// How much of a provider's refusal the log keeps.
const ERROR_BYTES: usize = 1000;

/// How notifications behave (settings `notifications.*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub retry: Retry,
    /// Messages handed to providers at once by one process.
    pub concurrency: usize,
    /// How long a provider gets before the attempt counts as failed (and a lease lasts).
    pub timeout: Duration,
    /// Finished messages older than this leave the log.
    pub retention: Duration,
    /// The shop's name, in every message.
    pub shop_name: String,
    /// Where links in messages lead: the storefront's `/account/…` pages.
    pub storefront_url: String,
    /// Where this API is reached from outside, for links to it (one-click unsubscribe).
    pub api_url: String,
    /// The merchant area, for staff messages.
    pub admin_url: String,
    /// Who gets staff messages (low stock, a disabled webhook).
    pub staff_emails: Vec<String>,
}

/// The providers of this process, one per channel it can use; a channel without one
/// makes no messages.
#[derive(Clone)]
pub struct Senders {
    pub email: Arc<dyn Sender>,
    pub sms: Option<Arc<dyn Sender>>,
    pub push: Option<Arc<dyn Sender>>,
}

/// A message to make: who gets what, with which template variables.
struct Draft {
    kind: Kind,
    channel: Channel,
    recipient: String,
    customer_id: Option<String>,
    context: serde_json::Value,
}

/// A change to a customer's choices; `None` leaves a choice as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreferencesPatch {
    pub marketing_email: Option<bool>,
    /// `Some(None)` removes the number.
    pub phone: Option<Option<String>>,
    pub sms_order_updates: Option<bool>,
    pub push_order_updates: Option<bool>,
}

/// Whether `phone` is an E.164 number: `+`, then 8 to 15 digits, the first not 0.
fn is_e164(phone: &str) -> bool {
    phone.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// Whether `token` looks like an Expo push token (`ExponentPushToken[…]`).
fn is_push_token(token: &str) -> bool {
    ["ExponentPushToken[", "ExpoPushToken["]
        .iter()
        .any(|p| token.starts_with(p))
        && token.ends_with(']')
        && token.len() <= 200
}

/// The notifications service of this process.
#[derive(Clone)]
pub struct NotificationsService {
    db: Db,
    clock: Clock,
    templates: Arc<Templates>,
    senders: Senders,
    policy: Arc<Policy>,
    /// Orders, for the invoices attached to confirmations; none: sent without.
    invoices: Option<Arc<dyn weft_orders::client::Orders>>,
    /// Seals customers' ids into unsubscribe links.
    sealer: Arc<weft_secrets::Sealer>,
    /// Rung when messages were made or a sending slot freed.
    wake: Arc<Notify>,
    /// Attempts in flight in this process, at most `policy.concurrency`.
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for NotificationsService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotificationsService")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

fn decode<E: weft_bus::Event>(event: &Envelope) -> Result<E, NotificationsError> {
    event
        .decode()
        .map_err(|e| NotificationsError::field("event", e.to_string()))
}

/// Whole minutes (rounded up) from `from` to `to`, at least one.
fn minutes_between(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    ((to - from).num_seconds() + 59).div_euclid(60).max(1)
}

impl NotificationsService {
    pub fn new(
        db: Db,
        clock: Clock,
        templates: Templates,
        senders: Senders,
        sealer: Arc<weft_secrets::Sealer>,
        policy: Policy,
    ) -> Self {
        let slots = Arc::new(Semaphore::new(policy.concurrency.max(1)));
        Self {
            db,
            clock,
            templates: Arc::new(templates),
            senders,
            invoices: None,
            sealer,
            policy: Arc::new(policy),
            wake: Arc::new(Notify::new()),
            slots,
        }
    }

    /// Attaches each order confirmation's invoice, fetched from `orders` when the e-mail
    /// is sent.
    #[must_use]
    pub fn with_invoices(mut self, orders: Arc<dyn weft_orders::client::Orders>) -> Self {
        self.invoices = Some(orders);
        self
    }

    /// Times are kept to the microsecond, as PostgreSQL does, so a cursor finds its item.
    fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// The variables every template may use.
    fn base(&self) -> serde_json::Value {
        json!({
            "shop_name": self.policy.shop_name,
            "storefront_url": self.policy.storefront_url,
            "admin_url": self.policy.admin_url,
        })
    }

    fn link(&self, path: &str) -> String {
        format!("{}{path}", self.policy.storefront_url.trim_end_matches('/'))
    }

    /// The messages an event asks for; also keeps the contacts later events need.
    async fn drafts(
        &self,
        tx: &mut DbConn,
        event: &Envelope,
    ) -> Result<Vec<Draft>, NotificationsError> {
        let now = self.now();
        let customer = |kind, recipient: &str, customer_id: Option<&str>, context| Draft {
            kind,
            channel: Channel::Email,
            recipient: recipient.to_owned(),
            customer_id: customer_id.map(str::to_owned),
            context,
        };
        Ok(match event.event_type.as_str() {
            UserRegistered::TYPE => {
                let e: UserRegistered = decode(event)?;
                store::upsert_contact(
                    tx,
                    &Contact {
                        customer_id: e.user_id.clone(),
                        email: e.email.clone(),
                        name: e.name.clone(),
                        locale: None,
                        updated_at: now.naive_utc(),
                    },
                )
                .await?;
                vec![customer(
                    Kind::Welcome,
                    &e.email,
                    Some(&e.user_id),
                    json!({ "name": e.name }),
                )]
            }
            EmailVerificationRequested::TYPE => {
                let e: EmailVerificationRequested = decode(event)?;
                let days = minutes_between(event.occurred_at, e.expires_at).div_euclid(1440);
                vec![customer(
                    Kind::VerifyEmail,
                    &e.email,
                    Some(&e.user_id),
                    json!({
                        "name": e.name,
                        "link": self.link(&format!("/account/verify-email?token={}", e.token)),
                        "expires_in_days": days.max(1),
                    }),
                )]
            }
            PasswordResetRequested::TYPE => {
                let e: PasswordResetRequested = decode(event)?;
                vec![customer(
                    Kind::PasswordReset,
                    &e.email,
                    Some(&e.user_id),
                    json!({
                        "name": e.name,
                        "link": self.link(&format!("/account/reset-password?token={}", e.token)),
                        "expires_in_minutes": minutes_between(event.occurred_at, e.expires_at),
                    }),
                )]
            }
            AccountLocked::TYPE => {
                let e: AccountLocked = decode(event)?;
                vec![customer(
                    Kind::AccountLocked,
                    &e.email,
                    Some(&e.user_id),
                    json!({ "locked_until": e.locked_until.format("%Y-%m-%d %H:%M UTC").to_string() }),
                )]
            }
            OrderCreated::TYPE => {
                let e: OrderCreated = decode(event)?;
                store::insert_order(
                    tx,
                    &OrderContact {
                        order_id: e.order_id.clone(),
                        customer_id: e.customer_id.clone(),
                        email: e.email.clone(),
                        created_at: now.naive_utc(),
                    },
                )
                .await?;
                let draft = customer(
                    Kind::OrderConfirmation,
                    &e.email,
                    e.customer_id.as_deref(),
                    json!({
                        "order_id": e.order_id,
                        "order_url": self.link(&format!("/account/orders/{}", e.order_id)),
                        "total": e.total.to_string(),
                        "item_count": e.item_count,
                    }),
                );
                self.with_order_channels(tx, draft).await?
            }
            OrderFulfilled::TYPE => {
                let e: OrderFulfilled = decode(event)?;
                self.order_news(
                    tx,
                    Kind::OrderShipped,
                    &e.order_id,
                    json!({ "tracking_number": e.tracking_number, "carrier": e.carrier }),
                )
                .await?
            }
            OrderCompleted::TYPE => {
                let e: OrderCompleted = decode(event)?;
                self.order_news(tx, Kind::OrderDelivered, &e.order_id, json!({}))
                    .await?
            }
            OrderCancelled::TYPE => {
                let e: OrderCancelled = decode(event)?;
                self.order_news(
                    tx,
                    Kind::OrderCancelled,
                    &e.order_id,
                    json!({ "reason": e.reason }),
                )
                .await?
            }
            OrderRefunded::TYPE => {
                let e: OrderRefunded = decode(event)?;
                self.order_news(
                    tx,
                    Kind::OrderRefunded,
                    &e.order_id,
                    json!({
                        "amount": e.amount.to_string(),
                        "refunded_total": e.refunded_total.to_string(),
                        "reason": e.reason,
                    }),
                )
                .await?
            }
            ReturnReceived::TYPE => {
                let e: ReturnReceived = decode(event)?;
                self.order_news(
                    tx,
                    Kind::ReturnReceived,
                    &e.order_id,
                    json!({ "restock": e.restock }),
                )
                .await?
            }
            InventoryLow::TYPE => {
                let e: InventoryLow = decode(event)?;
                self.staff(
                    Kind::LowStock,
                    &json!({
                        "variant_id": e.variant_id,
                        "available": e.available,
                        "threshold": e.threshold,
                    }),
                )
            }
            CartAbandoned::TYPE => {
                let e: CartAbandoned = decode(event)?;
                self.cart_reminder(tx, &e).await?
            }
            WebhookEndpointDisabled::TYPE => {
                let e: WebhookEndpointDisabled = decode(event)?;
                self.staff(
                    Kind::WebhookDisabled,
                    &json!({ "endpoint_id": e.endpoint_id, "url": e.url, "reason": e.reason }),
                )
            }
            _ => Vec::new(),
        })
    }

    /// News of an order for whoever placed it (known from its `order.created`).
    async fn order_news(
        &self,
        tx: &mut DbConn,
        kind: Kind,
        order_id: &str,
        mut context: serde_json::Value,
    ) -> Result<Vec<Draft>, NotificationsError> {
        let Some(order) = store::order(tx, order_id).await? else {
            // Placed before notifications ran, or its customer was erased.
            tracing::debug!(
                order = order_id,
                kind = kind.as_str(),
                "no contact for the order: nothing sent"
            );
            return Ok(Vec::new());
        };
        context["order_id"] = json!(order_id);
        context["order_url"] = json!(self.link(&format!("/account/orders/{order_id}")));
        let draft = Draft {
            kind,
            channel: Channel::Email,
            recipient: order.email,
            customer_id: order.customer_id,
            context,
        };
        self.with_order_channels(tx, draft).await
    }

    /// `email` and, for an order update to a customer who asked for them, the same news
    /// by SMS to their number and by push to each of their devices — on the channels this
    /// process has a provider for.
    async fn with_order_channels(
        &self,
        tx: &mut DbConn,
        email: Draft,
    ) -> Result<Vec<Draft>, NotificationsError> {
        let Some(customer_id) = email
            .customer_id
            .clone()
            .filter(|_| email.kind.is_order_update())
        else {
            return Ok(vec![email]);
        };
        // No choices saved yet: the defaults (push to the devices they registered).
        let now = self.now().naive_utc();
        let prefs = store::preferences(tx, &customer_id)
            .await?
            .unwrap_or_else(|| Preferences::defaults(&customer_id, now));
        let also = |channel, recipient: String| Draft {
            kind: email.kind,
            channel,
            recipient,
            customer_id: Some(customer_id.clone()),
            context: email.context.clone(),
        };
        let mut drafts = Vec::new();
        if let (true, Some(phone), Some(_)) =
            (prefs.sms_order_updates, &prefs.phone, &self.senders.sms)
        {
            drafts.push(also(Channel::Sms, phone.clone()));
        }
        if prefs.push_order_updates && self.senders.push.is_some() {
            for device in store::push_tokens(tx, &customer_id).await? {
                drafts.push(also(Channel::Push, device.token));
            }
        }
        drafts.insert(0, email);
        Ok(drafts)
    }

    /// A reminder of a quiet cart, for a customer who allowed marketing e-mail (checked
    /// now, and again when they unsubscribe: what is not sent yet is cancelled).
    async fn cart_reminder(
        &self,
        tx: &mut DbConn,
        e: &CartAbandoned,
    ) -> Result<Vec<Draft>, NotificationsError> {
        let allowed = store::preferences(tx, &e.customer_id)
            .await?
            .is_some_and(|p| p.marketing_email);
        if !allowed {
            return Ok(Vec::new());
        }
        let Some(contact) = store::contact(tx, &e.customer_id).await? else {
            return Ok(Vec::new());
        };
        Ok(vec![Draft {
            kind: Kind::CartReminder,
            channel: Channel::Email,
            recipient: contact.email,
            customer_id: Some(e.customer_id.clone()),
            context: json!({
                "name": contact.name,
                "item_count": e.item_count,
                "cart_url": self.link("/cart"),
            }),
        }])
    }

    /// A link that unsubscribes `customer_id` from marketing: the API's one-click URL
    /// (for mail clients, RFC 8058) and the storefront's page (for people).
    fn unsubscribe_links(&self, customer_id: &str) -> Result<(String, String), NotificationsError> {
        let sealed = self
            .sealer
            .seal_str(customer_id, UNSUBSCRIBE_AAD)
            .map_err(|e| NotificationsError::Sealing(e.to_string()))?;
        let token: String = url::form_urlencoded::byte_serialize(sealed.as_bytes()).collect();
        Ok((
            format!(
                "{}/v1/notifications/unsubscribe?token={token}",
                self.policy.api_url.trim_end_matches('/')
            ),
            self.link(&format!("/account/unsubscribe?token={token}")),
        ))
    }

    fn staff(&self, kind: Kind, context: &serde_json::Value) -> Vec<Draft> {
        self.policy
            .staff_emails
            .iter()
            .map(|email| Draft {
                kind,
                channel: Channel::Email,
                recipient: email.clone(),
                customer_id: None,
                context: context.clone(),
            })
            .collect()
    }

    /// Makes the messages `event` asks for, once however often it arrives. A template
    /// that does not render makes a failed message naming why (staff see it in the log
    /// and can resend it once the template is fixed), never a stuck event.
    pub async fn handle(
        &self,
        tx: &mut DbConn,
        event: &Envelope,
    ) -> Result<usize, NotificationsError> {
        if event.event_type == UserErased::TYPE {
            let e: UserErased = decode(event)?;
            let n = store::erase_customer(tx, &e.user_id, self.now().naive_utc()).await?;
            tracing::info!(
                messages = n,
                "an erased customer's data left the notification log"
            );
            return Ok(0);
        }
        let drafts = self.drafts(tx, event).await?;
        let mut made = 0;
        // One event's drafts (e-mail, SMS, push) are usually for one customer: one lookup.
        let mut locales: HashMap<String, Option<String>> = HashMap::new();
        for draft in drafts {
            let locale = match &draft.customer_id {
                Some(c) => {
                    if let Some(l) = locales.get(c) {
                        l.clone()
                    } else {
                        let l = store::contact(tx, c).await?.and_then(|c| c.locale);
                        locales.insert(c.clone(), l.clone());
                        l
                    }
                }
                None => None,
            };
            let mut context = self.base();
            if let (Some(base), Some(own)) = (context.as_object_mut(), draft.context.as_object()) {
                base.extend(own.clone());
            }
            let mut unsubscribe_url = None;
            if let (true, Some(customer)) = (draft.kind.is_marketing(), &draft.customer_id) {
                let (one_click, page) = self.unsubscribe_links(customer)?;
                context["unsubscribe_url"] = json!(page);
                unsubscribe_url = Some(one_click);
            }
            let now = self.now();
            let mut message = Message {
                id: MessageId::generate().as_str().to_owned(),
                event_id: event.id.to_string(),
                kind: draft.kind,
                channel: draft.channel,
                recipient: draft.recipient,
                customer_id: draft.customer_id,
                locale: locale.clone().unwrap_or_default(),
                subject: String::new(),
                body_text: None,
                body_html: None,
                unsubscribe_url,
                invoice_order_id: (draft.kind == Kind::OrderConfirmation
                    && draft.channel == Channel::Email)
                    .then(|| draft.context["order_id"].as_str().map(str::to_owned))
                    .flatten(),
                status: Status::Pending,
                attempts: 0,
                next_attempt_at: Some(now),
                last_error: None,
                provider_id: None,
                created_at: now,
                updated_at: now,
                sent_at: None,
            };
            let rendered = match draft.channel {
                Channel::Email => self
                    .templates
                    .render(draft.kind, locale.as_deref(), &context),
                Channel::Sms | Channel::Push => {
                    self.templates
                        .render_short(draft.kind, locale.as_deref(), &context)
                }
            };
            match rendered {
                Ok(r) => {
                    message.locale = r.locale;
                    message.subject = r.subject;
                    message.body_text = Some(r.text);
                    message.body_html = r.html;
                }
                Err(e) => {
                    tracing::error!(kind = draft.kind.as_str(), error = %e, "a notification template did not render");
                    message.status = Status::Failed;
                    message.next_attempt_at = None;
                    message.last_error = Some(domain::clip(&e.to_string(), ERROR_BYTES));
                }
            }
            if store::insert_message(tx, &message).await? {
                made += 1;
            }
        }
        Ok(made)
    }

    /// The log, newest first.
    pub async fn list(
        &self,
        filter: &Filter,
        page: &PageRequest,
    ) -> Result<Page<Message>, NotificationsError> {
        let after = page
            .cursor
            .as_ref()
            .map(Cursor::decode::<Position>)
            .transpose()
            .map_err(|e| NotificationsError::field("cursor", e.to_string()))?;
        let mut conn = self.db.conn().await?;
        let rows = store::messages(&mut conn, filter, after.as_ref(), page.fetch_size()).await?;
        Ok(Page::from_rows(rows, page, |m: &Message| Position {
            created_at: m.created_at,
            id: m.id.clone(),
        }))
    }

    pub async fn get(&self, id: &str) -> Result<Message, NotificationsError> {
        let mut conn = self.db.conn().await?;
        store::message(&mut conn, id)
            .await?
            .ok_or(NotificationsError::NotFound)
    }

    /// Sends a dead letter again: it is pending once more, with its tries counted afresh.
    pub async fn resend(&self, id: &str) -> Result<Message, NotificationsError> {
        let message = self
            .db
            .transaction(async |tx: &mut DbConn| {
                let mut m = store::message(tx, id)
                    .await?
                    .ok_or(NotificationsError::NotFound)?;
                if m.status != Status::Failed {
                    return Err(NotificationsError::NotFailed(m.status.as_str()));
                }
                if m.body_text.is_none() {
                    return Err(NotificationsError::Forgotten);
                }
                let now = self.now();
                m.status = Status::Pending;
                m.attempts = 0;
                m.next_attempt_at = Some(now);
                m.updated_at = now;
                store::save_message(tx, &m).await?;
                Ok(m)
            })
            .await?;
        self.wake();
        Ok(message)
    }

    /// Lets the dispatcher know messages were made.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    fn sender(&self, channel: Channel) -> Option<&Arc<dyn Sender>> {
        match channel {
            Channel::Email => Some(&self.senders.email),
            Channel::Sms => self.senders.sms.as_ref(),
            Channel::Push => self.senders.push.as_ref(),
        }
    }

    /// What `customer_id` chose to receive, and their devices.
    pub async fn preferences(
        &self,
        customer_id: &str,
    ) -> Result<(Preferences, Vec<PushToken>), NotificationsError> {
        let mut conn = self.db.conn().await?;
        let prefs = store::preferences(&mut conn, customer_id)
            .await?
            .unwrap_or_else(|| Preferences::defaults(customer_id, self.now().naive_utc()));
        let devices = store::push_tokens(&mut conn, customer_id).await?;
        Ok((prefs, devices))
    }

    /// Changes what `customer_id` receives. Opting out of marketing cancels the
    /// marketing messages not sent yet.
    pub async fn update_preferences(
        &self,
        customer_id: &str,
        patch: PreferencesPatch,
    ) -> Result<Preferences, NotificationsError> {
        let mut errors = Vec::new();
        if let Some(Some(phone)) = &patch.phone
            && !is_e164(phone)
        {
            errors.push(weft_kernel::FieldError::new(
                "phone",
                "an international number in E.164 form, like +33612345678",
            ));
        }
        if !errors.is_empty() {
            return Err(NotificationsError::Invalid(errors));
        }
        let now = self.now().naive_utc();
        self.db
            .transaction(async |tx: &mut DbConn| {
                let mut p = store::preferences(tx, customer_id)
                    .await?
                    .unwrap_or_else(|| Preferences::defaults(customer_id, now));
                if let Some(v) = patch.marketing_email {
                    p.marketing_email = v;
                }
                if let Some(v) = patch.phone.clone() {
                    p.phone = v;
                }
                if let Some(v) = patch.sms_order_updates {
                    p.sms_order_updates = v;
                }
                if let Some(v) = patch.push_order_updates {
                    p.push_order_updates = v;
                }
                if p.sms_order_updates && p.phone.is_none() {
                    return Err(NotificationsError::field(
                        "sms_order_updates",
                        "SMS needs a phone number",
                    ));
                }
                p.updated_at = now;
                store::save_preferences(tx, &p).await?;
                if !p.marketing_email {
                    store::cancel_pending_marketing(tx, customer_id, now).await?;
                }
                Ok(p)
            })
            .await
    }

    /// One-click unsubscribe from a marketing e-mail's link: no sign-in, the sealed
    /// token is the proof. Saying it twice is fine.
    pub async fn unsubscribe(&self, token: &str) -> Result<(), NotificationsError> {
        let customer_id = self
            .sealer
            .open_str(token, UNSUBSCRIBE_AAD)
            .map_err(|_| NotificationsError::InvalidUnsubscribeToken)?;
        self.update_preferences(
            &customer_id,
            PreferencesPatch {
                marketing_email: Some(false),
                ..PreferencesPatch::default()
            },
        )
        .await?;
        tracing::info!("a customer unsubscribed from marketing e-mail");
        Ok(())
    }

    /// Registers one of `customer_id`'s devices for push messages.
    pub async fn add_push_token(
        &self,
        customer_id: &str,
        token: &str,
        platform: &str,
    ) -> Result<PushToken, NotificationsError> {
        let mut errors = Vec::new();
        if !is_push_token(token) {
            errors.push(weft_kernel::FieldError::new(
                "token",
                "an Expo push token, ExponentPushToken[…]",
            ));
        }
        if !["ios", "android", "web"].contains(&platform) {
            errors.push(weft_kernel::FieldError::new(
                "platform",
                "one of ios, android, web",
            ));
        }
        if !errors.is_empty() {
            return Err(NotificationsError::Invalid(errors));
        }
        let device = PushToken {
            token: token.to_owned(),
            customer_id: customer_id.to_owned(),
            platform: platform.to_owned(),
            created_at: self.now().naive_utc(),
        };
        let mut conn = self.db.conn().await?;
        store::save_push_token(&mut conn, &device).await?;
        Ok(device)
    }

    /// Forgets one of `customer_id`'s devices.
    pub async fn remove_push_token(
        &self,
        customer_id: &str,
        token: &str,
    ) -> Result<(), NotificationsError> {
        let mut conn = self.db.conn().await?;
        if store::delete_push_token(&mut conn, token, Some(customer_id)).await? {
            Ok(())
        } else {
            Err(NotificationsError::PushTokenNotFound)
        }
    }

    /// Leases what is due, as many as there are free sending slots, and starts each
    /// attempt in its own task holding a slot. Returns how many were started.
    pub async fn dispatch_due(&self) -> Result<usize, NotificationsError> {
        let free = self.slots.available_permits();
        // Leasing is a write: take slots a few at a time, not one per finished attempt.
        if free < (self.policy.concurrency / 4).max(1) {
            return Ok(0);
        }
        let now = self.now();
        let lease = chrono::Duration::from_std(self.policy.timeout + Duration::from_secs(30))
            .unwrap_or(chrono::Duration::minutes(1));
        let limit = i64::try_from(free).unwrap_or(i64::MAX);
        let due =
            store::lease_due(&self.db, now.naive_utc(), (now + lease).naive_utc(), limit).await?;
        let mut started = 0;
        for m in due {
            // Only this loop takes slots, and it leased no more than were free.
            let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
                break;
            };
            let this = self.clone();
            tokio::spawn(async move {
                let id = m.id.clone();
                if let Err(err) = this.attempt(m).await {
                    tracing::warn!(notification = %id, error = %err, "a notification attempt could not be recorded");
                }
                drop(slot);
                this.wake.notify_one();
            });
            started += 1;
        }
        Ok(started)
    }

    /// The files `message` goes with: its order's invoice, from orders. Orders being
    /// unreachable postpones the message (a confirmation without its invoice would be
    /// incomplete); an order orders does not know goes without.
    async fn attachments(&self, message: &Message) -> Result<Vec<domain::Attachment>, SendError> {
        let (Some(order_id), Some(orders)) = (&message.invoice_order_id, &self.invoices) else {
            return Ok(Vec::new());
        };
        match orders.invoice(order_id).await {
            Ok(pdf) => Ok(vec![domain::Attachment {
                filename: format!("invoice-{order_id}.pdf"),
                content_type: "application/pdf".to_owned(),
                content: pdf,
            }]),
            Err(weft_peer_client::ClientError::Refused { code, .. }) => {
                tracing::warn!(order = %order_id, %code, "no invoice for the confirmation: sent without");
                Ok(Vec::new())
            }
            Err(e) => Err(SendError::Retry(format!(
                "the invoice could not be fetched: {e}"
            ))),
        }
    }

    /// One attempt at `message`, and what follows from it.
    async fn attempt(&self, message: Message) -> Result<(), NotificationsError> {
        let read = message.attempts;
        let outcome = match (
            self.sender(message.channel),
            self.attachments(&message).await,
        ) {
            (_, Err(e)) => Err(e),
            (Some(sender), Ok(files)) => {
                match tokio::time::timeout(self.policy.timeout, sender.send(&message, &files)).await
                {
                    Ok(r) => r,
                    Err(_) => Err(SendError::Retry(
                        "the provider did not answer in time".into(),
                    )),
                }
            }
            (None, Ok(_)) => Err(SendError::Permanent(format!(
                "no {} provider is configured",
                message.channel.as_str()
            ))),
        };
        let gone = message.channel == Channel::Push && matches!(outcome, Err(SendError::Gone(_)));
        let now = self.now();
        let mut m = message;
        m.attempts = read + 1;
        m.updated_at = now;
        match outcome {
            Ok(provider_id) => {
                m.status = Status::Sent;
                m.sent_at = Some(now);
                m.next_attempt_at = None;
                m.provider_id = Some(provider_id);
                m.last_error = None;
            }
            Err(e) => {
                let retry = match &e {
                    SendError::Retry(_) => self
                        .policy
                        .retry
                        .after(u32::try_from(m.attempts).unwrap_or(u32::MAX)),
                    SendError::Permanent(_) | SendError::Gone(_) => None,
                };
                m.last_error = Some(domain::clip(&e.to_string(), ERROR_BYTES));
                if let Some(wait) = retry {
                    m.next_attempt_at = Some(
                        now + chrono::Duration::from_std(wait)
                            .unwrap_or(chrono::Duration::hours(1)),
                    );
                } else {
                    m.status = Status::Failed;
                    m.next_attempt_at = None;
                    tracing::warn!(notification = %m.id, kind = m.kind.as_str(), error = %e, "a notification is a dead letter");
                }
            }
        }
        if m.status != Status::Pending && m.kind.carries_secret() {
            // The link worked once or not at all; the log needs no copy of it.
            m.body_text = None;
            m.body_html = None;
        }
        let mut conn = self.db.conn().await?;
        if gone {
            // The app was uninstalled: later messages would fail the same way.
            store::delete_push_token(&mut conn, &m.recipient, None).await?;
        }
        let saved = store::save_message_if(&mut conn, &m, read).await?;
        if !saved {
            tracing::debug!(notification = %m.id, "the notification changed meanwhile; this attempt's outcome is not recorded");
        }
        Ok(())
    }

    /// Sends what is due, whenever messages are made and at least every second; prunes
    /// the log of finished messages past the retention once an hour.
    pub async fn run_dispatcher(self) {
        let mut pruned: Option<Instant> = None;
        loop {
            match self.dispatch_due().await {
                Ok(n) if n > 0 && self.slots.available_permits() > 0 => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "notification dispatch failed"),
            }
            if pruned.is_none_or(|t| t.elapsed() > Duration::from_hours(1)) {
                pruned = Some(Instant::now());
                let cutoff = self.now()
                    - chrono::Duration::from_std(self.policy.retention)
                        .unwrap_or(chrono::Duration::days(90));
                match store::delete_finished_before(&self.db, cutoff.naive_utc()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(messages = n, "old notifications pruned"),
                    Err(err) => tracing::warn!(error = %err, "pruning notifications failed"),
                }
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    pub fn workers(&self) -> Vec<weft_bus::Worker> {
        vec![
            weft_bus::Worker::consumer(crate::events::Messages(self.clone())),
            weft_bus::Worker::task("notification-dispatcher", self.clone().run_dispatcher()),
        ]
    }
}
