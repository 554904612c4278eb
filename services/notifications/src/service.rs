//! Notifications' use cases: turning an event into its messages (in the event's inbox
//! transaction), the log and resending for staff, erasure, and the dispatcher that hands
//! what is due to its channel's provider, retrying with backoff until a provider takes it
//! or the tries run out (a dead letter).

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use serde_json::json;
use tokio::sync::{Notify, Semaphore};
use weft_bus::Envelope;
use weft_bus::Event as _;
use weft_bus::events::{
    AccountLocked, EmailVerificationRequested, InventoryLow, OrderCancelled, OrderCompleted,
    OrderCreated, OrderFulfilled, OrderRefunded, PasswordResetRequested, ReturnReceived,
    UserErased, UserRegistered, WebhookEndpointDisabled,
};
use weft_kernel::id::PrefixedId;
use weft_kernel::{Clock, Cursor, Page, PageRequest};
use weft_storage::{Db, DbConn};

use crate::channels::{SendError, Sender};
use crate::domain::{self, Channel, Kind, Message, MessageId, Retry, Status};
use crate::error::NotificationsError;
use crate::store::{self, Contact, Filter, OrderContact, Position};
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
    UserErased::TYPE,
];

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
    /// The merchant area, for staff messages.
    pub admin_url: String,
    /// Who gets staff messages (low stock, a disabled webhook).
    pub staff_emails: Vec<String>,
}

/// The providers of this process, one per channel it can use.
#[derive(Clone)]
pub struct Senders {
    pub email: Arc<dyn Sender>,
}

/// A message to make: who gets what, with which template variables.
struct Draft {
    kind: Kind,
    recipient: String,
    customer_id: Option<String>,
    locale: Option<String>,
    context: serde_json::Value,
}

/// The notifications service of this process.
#[derive(Clone)]
pub struct NotificationsService {
    db: Db,
    clock: Clock,
    templates: Arc<Templates>,
    senders: Senders,
    policy: Arc<Policy>,
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
        policy: Policy,
    ) -> Self {
        let slots = Arc::new(Semaphore::new(policy.concurrency.max(1)));
        Self {
            db,
            clock,
            templates: Arc::new(templates),
            senders,
            policy: Arc::new(policy),
            wake: Arc::new(Notify::new()),
            slots,
        }
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
            recipient: recipient.to_owned(),
            customer_id: customer_id.map(str::to_owned),
            locale: None,
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
                vec![customer(
                    Kind::OrderConfirmation,
                    &e.email,
                    e.customer_id.as_deref(),
                    json!({
                        "order_id": e.order_id,
                        "order_url": self.link(&format!("/account/orders/{}", e.order_id)),
                        "total": e.total.to_string(),
                        "item_count": e.item_count,
                    }),
                )]
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
        Ok(vec![Draft {
            kind,
            recipient: order.email,
            customer_id: order.customer_id,
            locale: None,
            context,
        }])
    }

    fn staff(&self, kind: Kind, context: &serde_json::Value) -> Vec<Draft> {
        self.policy
            .staff_emails
            .iter()
            .map(|email| Draft {
                kind,
                recipient: email.clone(),
                customer_id: None,
                locale: None,
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
        for draft in drafts {
            let locale = match (&draft.locale, &draft.customer_id) {
                (Some(l), _) => Some(l.clone()),
                (None, Some(c)) => store::contact(tx, c).await?.and_then(|c| c.locale),
                (None, None) => None,
            };
            let mut context = self.base();
            if let (Some(base), Some(own)) = (context.as_object_mut(), draft.context.as_object()) {
                base.extend(own.clone());
            }
            let now = self.now();
            let mut message = Message {
                id: MessageId::generate().as_str().to_owned(),
                event_id: event.id.to_string(),
                kind: draft.kind,
                channel: Channel::Email,
                recipient: draft.recipient,
                customer_id: draft.customer_id,
                locale: locale.clone().unwrap_or_default(),
                subject: String::new(),
                body_text: None,
                body_html: None,
                status: Status::Pending,
                attempts: 0,
                next_attempt_at: Some(now),
                last_error: None,
                provider_id: None,
                created_at: now,
                updated_at: now,
                sent_at: None,
            };
            match self
                .templates
                .render(draft.kind, locale.as_deref(), &context)
            {
                Ok(r) => {
                    message.locale = r.locale;
                    message.subject = r.subject;
                    message.body_text = Some(r.text);
                    message.body_html = Some(r.html);
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
            Channel::Sms | Channel::Push => None,
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

    /// One attempt at `message`, and what follows from it.
    async fn attempt(&self, message: Message) -> Result<(), NotificationsError> {
        let read = message.attempts;
        let outcome = match self.sender(message.channel) {
            Some(sender) => {
                match tokio::time::timeout(self.policy.timeout, sender.send(&message)).await {
                    Ok(r) => r,
                    Err(_) => Err(SendError::Retry(
                        "the provider did not answer in time".into(),
                    )),
                }
            }
            None => Err(SendError::Permanent(format!(
                "no {} provider is configured",
                message.channel.as_str()
            ))),
        };
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
                    SendError::Permanent(_) => None,
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
