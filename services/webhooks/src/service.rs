//! Webhooks' use cases: subscribing, rotating secrets, the delivery log, redelivery and
//! test events for the people and apps managing endpoints; making one delivery per event
//! and endpoint (in the event's inbox transaction); and the dispatcher that sends what
//! is due, signs it, records every attempt, and retries with backoff until the window
//! closes, then disables the endpoint and tells staff through an event.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, SubsecRound, Utc};
use tokio::sync::{Notify, Semaphore};
use weft_bus::events::WebhookEndpointDisabled;
use weft_bus::{Bus, Envelope};
use weft_http::AuthzError;
use weft_kernel::id::{EventId, PrefixedId};
use weft_kernel::{Clock, Cursor, FieldError, Page, PageRequest};
use weft_secrets::{Sealer, signature};
use weft_storage::{Db, DbConn};

use crate::domain::{
    self, Attempt, Delivery, DeliveryId, DeliveryStatus, Endpoint, EndpointId, EndpointStatus,
    Retry, TEST_EVENT,
};
use crate::error::WebhooksError;
use crate::store::{self, EndpointRow, Position};
use crate::target::{self, GuardedResolver, TargetRules};

/// How webhooks behave (settings `webhooks.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub targets: TargetRules,
    /// A receiver that has not answered by then has failed the attempt.
    pub timeout: Duration,
    pub retry: Retry,
    /// Finished deliveries older than this leave the log.
    pub retention: Duration,
    /// Deliveries sent at once by one process.
    pub concurrency: usize,
}

/// Who manages endpoints: an admin manages all of them, an app only its own and only for
/// events its scopes let it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manager<'a> {
    Admin,
    App { id: &'a str, scopes: &'a [String] },
}

impl Manager<'_> {
    fn owner(&self) -> Option<&str> {
        match self {
            Self::Admin => None,
            Self::App { id, .. } => Some(id),
        }
    }

    fn may_see(&self, endpoint: &EndpointRow) -> bool {
        match self {
            Self::Admin => true,
            Self::App { id, .. } => endpoint.owner_id.as_deref() == Some(*id),
        }
    }

    fn may_receive(&self, events: &[String]) -> Result<(), AuthzError> {
        let Self::App { scopes, .. } = self else {
            return Ok(());
        };
        for e in events {
            if let Some(scope) = domain::scope_of(e)
                && !scopes.iter().any(|s| s == scope)
            {
                return Err(AuthzError::MissingScope(scope));
            }
        }
        Ok(())
    }
}

/// Changes to an endpoint; what is `None` stays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// What one attempt got.
enum Outcome {
    Answered { status: u16, excerpt: String },
    NoAnswer(String),
}

/// The webhooks service of this process.
#[derive(Clone)]
pub struct WebhooksService {
    db: Db,
    bus: Bus,
    clock: Clock,
    sealer: Arc<Sealer>,
    policy: Policy,
    http: reqwest::Client,
    /// Rung when deliveries were made or a sending slot freed, so the dispatcher goes on
    /// at once.
    wake: Arc<Notify>,
    /// Attempts in flight in this process, at most `policy.concurrency`.
    slots: Arc<Semaphore>,
}

impl std::fmt::Debug for WebhooksService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhooksService")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

fn cursor_of(page: &PageRequest) -> Result<Option<Position>, WebhooksError> {
    page.cursor
        .as_ref()
        .map(Cursor::decode::<Position>)
        .transpose()
        .map_err(|e| WebhooksError::field("cursor", e.to_string()))
}

fn secret_aad(endpoint_id: &str, which: &str) -> String {
    format!("webhook_endpoints:{endpoint_id}:{which}")
}

impl WebhooksService {
    pub fn new(
        db: Db,
        bus: Bus,
        clock: Clock,
        sealer: Arc<Sealer>,
        policy: Policy,
    ) -> Result<Self, WebhooksError> {
        let http = reqwest::Client::builder()
            .timeout(policy.timeout)
            .connect_timeout(policy.timeout)
            // A redirect could lead anywhere, private networks included; a proxy would
            // resolve names where the guard cannot see.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(GuardedResolver {
                allow_private: policy.targets.allow_private,
            })
            .user_agent(concat!("Weft-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WebhooksError::Secrets(format!("the HTTP client: {e}")))?;
        Ok(Self {
            db,
            bus,
            clock,
            sealer,
            policy,
            http,
            wake: Arc::new(Notify::new()),
            slots: Arc::new(Semaphore::new(policy.concurrency.max(1))),
        })
    }

    /// Times are kept to the microsecond, as PostgreSQL does, so a cursor finds its item.
    fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(6)
    }

    /// Checks a target URL: its form, then every address its host resolves to.
    async fn target(&self, url: &str) -> Result<String, WebhooksError> {
        let parsed = target::parse(url.trim(), self.policy.targets)
            .map_err(|e| WebhooksError::field("url", e.to_string()))?;
        target::check(&parsed, self.policy.targets)
            .await
            .map_err(|e| WebhooksError::field("url", e.to_string()))?;
        Ok(parsed.to_string())
    }

    async fn row(&self, who: Manager<'_>, id: &str) -> Result<EndpointRow, WebhooksError> {
        let mut conn = self.db.conn().await?;
        store::endpoint(&mut conn, id)
            .await?
            .filter(|row| who.may_see(row))
            .ok_or(WebhooksError::EndpointNotFound)
    }

    /// Subscribes `url` to `events`. Returns the endpoint and its signing secret, which
    /// is shown this once.
    pub async fn subscribe(
        &self,
        who: Manager<'_>,
        url: &str,
        events: &[String],
        description: Option<&str>,
    ) -> Result<(Endpoint, String), WebhooksError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let events = domain::check_events(events)
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        // What the caller may not receive is refused before the URL is resolved.
        who.may_receive(&events)?;
        let description = domain::check_description(description.unwrap_or_default())
            .map_err(|e| errors.push(e))
            .unwrap_or_default();
        let url = match self.target(url).await {
            Ok(url) => url,
            Err(WebhooksError::Invalid(mut e)) => {
                errors.append(&mut e);
                String::new()
            }
            Err(e) => return Err(e),
        };
        if !errors.is_empty() {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            return Err(WebhooksError::Invalid(errors));
        }
        let now = self.now();
        let endpoint = Endpoint {
            id: EndpointId::generate().to_string(),
            owner_id: who.owner().map(str::to_owned),
            url,
            description,
            events,
            status: EndpointStatus::Enabled,
            disabled_reason: None,
            previous_secret_expires_at: None,
            created_at: now,
            updated_at: now,
        };
        let secret = domain::new_secret().map_err(|e| WebhooksError::Secrets(e.to_string()))?;
        let sealed = self
            .sealer
            .seal_str(&secret, &secret_aad(&endpoint.id, "current"))?;
        let row = EndpointRow::new(&endpoint, sealed);
        self.db
            .transaction(async |tx: &mut DbConn| store::insert_endpoint(tx, &row).await)
            .await?;
        Ok((endpoint, secret))
    }

    /// Endpoints newest first: all of them for an admin, an app's own for an app.
    pub async fn list(
        &self,
        who: Manager<'_>,
        page: &PageRequest,
    ) -> Result<Page<Endpoint>, WebhooksError> {
        let after = cursor_of(page)?;
        let mut conn = self.db.conn().await?;
        let rows =
            store::endpoints(&mut conn, who.owner(), after.as_ref(), page.fetch_size()).await?;
        let endpoints = rows.iter().map(EndpointRow::endpoint).collect();
        Ok(Page::from_rows(endpoints, page, |e: &Endpoint| Position {
            created_at: e.created_at,
            id: e.id.clone(),
        }))
    }

    pub async fn get(&self, who: Manager<'_>, id: &str) -> Result<Endpoint, WebhooksError> {
        Ok(self.row(who, id).await?.endpoint())
    }

    /// Changes an endpoint. Enabling a disabled one resumes its pending deliveries.
    pub async fn update(
        &self,
        who: Manager<'_>,
        id: &str,
        changes: Changes,
    ) -> Result<Endpoint, WebhooksError> {
        let mut errors: Vec<FieldError> = Vec::new();
        let events = match &changes.events {
            Some(e) => domain::check_events(e).map_err(|e| errors.push(e)).ok(),
            None => None,
        };
        if let Some(events) = &events {
            who.may_receive(events)?;
        }
        let description = match &changes.description {
            Some(d) => domain::check_description(d)
                .map_err(|e| errors.push(e))
                .ok(),
            None => None,
        };
        let url = match &changes.url {
            Some(url) => match self.target(url).await {
                Ok(url) => Some(url),
                Err(WebhooksError::Invalid(mut e)) => {
                    errors.append(&mut e);
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        if !errors.is_empty() {
            errors.sort_by(|a, b| a.field.cmp(&b.field));
            return Err(WebhooksError::Invalid(errors));
        }
        let mut row = self.row(who, id).await?;
        let mut endpoint = row.endpoint();
        if let Some(url) = url {
            endpoint.url = url;
        }
        if let Some(events) = events {
            endpoint.events = events;
        }
        if let Some(description) = description {
            endpoint.description = description;
        }
        match changes.enabled {
            Some(true) => {
                endpoint.status = EndpointStatus::Enabled;
                endpoint.disabled_reason = None;
            }
            Some(false) if endpoint.status == EndpointStatus::Enabled => {
                endpoint.status = EndpointStatus::Disabled;
                endpoint.disabled_reason = Some("disabled by staff".into());
            }
            _ => {}
        }
        endpoint.updated_at = self.now();
        row.set(&endpoint);
        self.db
            .transaction(async |tx: &mut DbConn| store::save_endpoint(tx, &row).await)
            .await?;
        if endpoint.status == EndpointStatus::Enabled {
            self.wake.notify_one();
        }
        Ok(endpoint)
    }

    /// Deletes an endpoint with its delivery log; nothing more is sent to it.
    pub async fn delete(&self, who: Manager<'_>, id: &str) -> Result<(), WebhooksError> {
        let row = self.row(who, id).await?;
        self.db
            .transaction(async |tx: &mut DbConn| store::delete_endpoint(tx, &row.id).await)
            .await?;
        Ok(())
    }

    /// Makes a new signing secret (returned, shown this once). For `overlap`, deliveries
    /// carry a signature with the old secret too, so receivers can switch without losing
    /// any; a zero overlap retires the old one at once.
    pub async fn rotate_secret(
        &self,
        who: Manager<'_>,
        id: &str,
        overlap: Duration,
    ) -> Result<(Endpoint, String), WebhooksError> {
        let mut row = self.row(who, id).await?;
        let now = self.now();
        let current = self
            .sealer
            .open_str(&row.secret_sealed, &secret_aad(&row.id, "current"))?;
        let secret = domain::new_secret().map_err(|e| WebhooksError::Secrets(e.to_string()))?;
        row.secret_sealed = self
            .sealer
            .seal_str(&secret, &secret_aad(&row.id, "current"))?;
        if overlap.is_zero() {
            row.previous_secret_sealed = None;
            row.previous_secret_expires_at = None;
        } else {
            row.previous_secret_sealed = Some(
                self.sealer
                    .seal_str(&current, &secret_aad(&row.id, "previous"))?,
            );
            let until = now
                + chrono::Duration::from_std(overlap)
                    .map_err(|_| WebhooksError::field("overlap_seconds", "too long"))?;
            row.previous_secret_expires_at = Some(until.naive_utc());
        }
        row.updated_at = now.naive_utc();
        self.db
            .transaction(async |tx: &mut DbConn| store::save_endpoint(tx, &row).await)
            .await?;
        Ok((row.endpoint(), secret))
    }

    /// The secrets a delivery is signed with now: the current one, and the previous one
    /// while its overlap lasts.
    fn signing_keys(
        &self,
        row: &EndpointRow,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, WebhooksError> {
        let mut keys = vec![
            self.sealer
                .open_str(&row.secret_sealed, &secret_aad(&row.id, "current"))?,
        ];
        if let (Some(sealed), Some(until)) =
            (&row.previous_secret_sealed, row.previous_secret_expires_at)
            && until.and_utc() > now
        {
            keys.push(
                self.sealer
                    .open_str(sealed, &secret_aad(&row.id, "previous"))?,
            );
        }
        Ok(keys)
    }

    /// Sends a `webhook.test` event to an endpoint now (one attempt, logged like any).
    pub async fn send_test(&self, who: Manager<'_>, id: &str) -> Result<Delivery, WebhooksError> {
        let row = self.row(who, id).await?;
        if row.status != EndpointStatus::Enabled.as_str() {
            return Err(WebhooksError::EndpointDisabled);
        }
        let now = self.now();
        let event_id = EventId::generate().to_string();
        let data = serde_json::json!({
            "endpoint_id": row.id,
            "message": "A test event from Weft: your endpoint receives and verifies webhooks.",
        });
        let delivery = Delivery {
            id: DeliveryId::generate().to_string(),
            endpoint_id: row.id.clone(),
            payload: Some(domain::body(&event_id, TEST_EVENT, now, &data)),
            event_id,
            event_type: TEST_EVENT.to_owned(),
            customer_id: None,
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Some(now),
            retry_until: now,
            last_response_status: None,
            manual: true,
            created_at: now,
            updated_at: now,
        };
        self.db
            .transaction(async |tx: &mut DbConn| store::insert_delivery(tx, &delivery).await)
            .await?;
        self.wake.notify_one();
        Ok(delivery)
    }

    /// An endpoint's deliveries, newest first.
    pub async fn deliveries(
        &self,
        who: Manager<'_>,
        id: &str,
        status: Option<DeliveryStatus>,
        page: &PageRequest,
    ) -> Result<Page<Delivery>, WebhooksError> {
        let row = self.row(who, id).await?;
        let after = cursor_of(page)?;
        let mut conn = self.db.conn().await?;
        let rows = store::deliveries(
            &mut conn,
            &row.id,
            status,
            after.as_ref(),
            page.fetch_size(),
        )
        .await?;
        Ok(Page::from_rows(rows, page, |d: &Delivery| Position {
            created_at: d.created_at,
            id: d.id.clone(),
        }))
    }

    /// One delivery of an endpoint with every attempt.
    pub async fn delivery(
        &self,
        who: Manager<'_>,
        id: &str,
        delivery_id: &str,
    ) -> Result<(Delivery, Vec<Attempt>), WebhooksError> {
        let row = self.row(who, id).await?;
        let mut conn = self.db.conn().await?;
        let delivery = store::delivery(&mut conn, delivery_id)
            .await?
            .filter(|d| d.endpoint_id == row.id)
            .ok_or(WebhooksError::DeliveryNotFound)?;
        let attempts = store::attempts(&mut conn, &delivery.id).await?;
        Ok((delivery, attempts))
    }

    /// Sends a delivery again now, whatever became of it (one attempt; its failure does
    /// not disable the endpoint).
    pub async fn redeliver(
        &self,
        who: Manager<'_>,
        id: &str,
        delivery_id: &str,
    ) -> Result<Delivery, WebhooksError> {
        let row = self.row(who, id).await?;
        if row.status != EndpointStatus::Enabled.as_str() {
            return Err(WebhooksError::EndpointDisabled);
        }
        let now = self.now();
        let delivery = self
            .db
            .transaction(async |tx: &mut DbConn| {
                let mut d = store::delivery(tx, delivery_id)
                    .await?
                    .filter(|d| d.endpoint_id == row.id)
                    .ok_or(WebhooksError::DeliveryNotFound)?;
                if d.status == DeliveryStatus::Pending {
                    return Err(WebhooksError::DeliveryPending);
                }
                if d.payload.is_none() {
                    return Err(WebhooksError::DeliveryErased);
                }
                d.status = DeliveryStatus::Pending;
                d.next_attempt_at = Some(now);
                d.retry_until = now;
                d.manual = true;
                d.updated_at = now;
                store::save_delivery(tx, &d).await?;
                Ok(d)
            })
            .await?;
        self.wake.notify_one();
        Ok(delivery)
    }

    /// Makes one delivery of `event` per enabled endpoint subscribed to it, inside the
    /// consumer's transaction (so a redelivered event makes none). Returns how many.
    pub async fn fan_out(&self, tx: &mut DbConn, event: &Envelope) -> Result<usize, WebhooksError> {
        let subscribers = store::subscribers(tx, &event.event_type).await?;
        if subscribers.is_empty() {
            return Ok(0);
        }
        let now = self.now();
        let window = chrono::Duration::from_std(self.policy.retry.window)
            .unwrap_or(chrono::Duration::days(3));
        let event_id = event.id.to_string();
        let payload = domain::body(
            &event_id,
            &event.event_type,
            event.occurred_at,
            &event.payload,
        );
        let customer = domain::customer_of(&event.event_type, &event.payload);
        let mut made = 0;
        for endpoint in subscribers {
            let delivery = Delivery {
                id: DeliveryId::generate().to_string(),
                endpoint_id: endpoint.id,
                event_id: event_id.clone(),
                event_type: event.event_type.clone(),
                customer_id: customer.clone(),
                payload: Some(payload.clone()),
                status: DeliveryStatus::Pending,
                attempts: 0,
                next_attempt_at: Some(now),
                retry_until: now + window,
                last_response_status: None,
                manual: false,
                created_at: now,
                updated_at: now,
            };
            if store::insert_delivery(tx, &delivery).await? {
                made += 1;
            }
        }
        Ok(made)
    }

    /// Forgets an erased customer's data in the delivery log (inside the consumer's
    /// transaction). Returns how many deliveries changed.
    pub async fn erase(&self, tx: &mut DbConn, customer_id: &str) -> Result<usize, WebhooksError> {
        Ok(store::erase_customer(tx, customer_id, self.now().naive_utc()).await?)
    }

    /// Disables the endpoints `owner_id` (a revoked app or API key) made, inside the
    /// consumer's transaction: nothing more is sent for a credential that no longer
    /// exists. Returns how many.
    pub async fn owner_revoked(
        &self,
        tx: &mut DbConn,
        owner_id: &str,
    ) -> Result<usize, WebhooksError> {
        Ok(store::disable_owned(
            tx,
            owner_id,
            "the app that made it was revoked",
            self.now().naive_utc(),
        )
        .await?)
    }

    /// Lets the dispatcher know deliveries were made.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Leases what is due, as many as there are free sending slots, and starts each
    /// attempt in its own task holding a slot: a slow receiver holds only its own slots,
    /// never a batch of others. Returns how many were started.
    pub async fn dispatch_due(&self) -> Result<usize, WebhooksError> {
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
        for d in due {
            // Only this loop takes slots, and it leased no more than were free.
            let Ok(slot) = Arc::clone(&self.slots).try_acquire_owned() else {
                break;
            };
            let this = self.clone();
            tokio::spawn(async move {
                let id = d.id.clone();
                if let Err(err) = this.attempt(d).await {
                    tracing::warn!(delivery = %id, error = %err, "a webhook attempt could not be recorded");
                }
                drop(slot);
                // A slot is free: what waits for one can go.
                this.wake.notify_one();
            });
            started += 1;
        }
        Ok(started)
    }

    /// One attempt at `delivery`, and what follows from it.
    async fn attempt(&self, delivery: Delivery) -> Result<(), WebhooksError> {
        let mut conn = self.db.conn().await?;
        let endpoint = store::endpoint(&mut conn, &delivery.endpoint_id).await?;
        drop(conn);
        let (Some(endpoint), Some(body)) = (endpoint, delivery.payload.as_deref()) else {
            return Ok(());
        };
        let number = delivery.attempts + 1;
        let at = self.now();
        let started = Instant::now();
        let outcome = self
            .send(&endpoint, &delivery, body, number, at)
            .await
            .unwrap_or_else(|e| Outcome::NoAnswer(e.to_string()));
        let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        let attempt = match &outcome {
            Outcome::Answered { status, excerpt } => Attempt {
                number,
                attempted_at: at,
                duration_ms,
                response_status: Some(i32::from(*status)),
                response_excerpt: Some(excerpt.clone()),
                error: None,
            },
            Outcome::NoAnswer(error) => Attempt {
                number,
                attempted_at: at,
                duration_ms,
                response_status: None,
                response_excerpt: None,
                error: Some(error.clone()),
            },
        };
        let succeeded =
            matches!(outcome, Outcome::Answered { status, .. } if (200..300).contains(&status));
        let retry = self.policy.retry;
        let disabled = self
            .db
            .transaction(async |tx: &mut DbConn| {
                // Erased or deleted meanwhile: the attempt went out, the log keeps no more.
                let Some(mut d) = store::delivery(tx, &delivery.id).await? else {
                    return Ok(None);
                };
                if d.status != DeliveryStatus::Pending || d.attempts != delivery.attempts {
                    return Ok(None);
                }
                store::insert_attempt(tx, &d.id, &attempt).await?;
                let now = self.now();
                d.attempts = number;
                d.last_response_status = attempt.response_status;
                d.updated_at = now;
                let mut disable = None;
                if succeeded {
                    d.status = DeliveryStatus::Succeeded;
                    d.next_attempt_at = None;
                } else {
                    let wait = chrono::Duration::from_std(
                        retry.delay(u32::try_from(number).unwrap_or(u32::MAX)),
                    )
                    .unwrap_or(chrono::Duration::hours(1));
                    let next = now + wait;
                    if next > d.retry_until {
                        d.status = DeliveryStatus::Failed;
                        d.next_attempt_at = None;
                        if !d.manual {
                            disable = Some(format!(
                                "a delivery ({}) failed every attempt for {} hours",
                                d.id,
                                retry.window.as_secs() / 3600
                            ));
                        }
                    } else {
                        d.next_attempt_at = Some(next);
                    }
                }
                store::save_delivery(tx, &d).await?;
                let Some(reason) = disable else {
                    return Ok(None);
                };
                let Some(mut row) = store::endpoint(tx, &d.endpoint_id).await? else {
                    return Ok(None);
                };
                if row.status != EndpointStatus::Enabled.as_str() {
                    return Ok(None);
                }
                let mut endpoint = row.endpoint();
                endpoint.status = EndpointStatus::Disabled;
                endpoint.disabled_reason = Some(reason.clone());
                endpoint.updated_at = now;
                row.set(&endpoint);
                store::save_endpoint(tx, &row).await?;
                weft_bus::append(
                    tx,
                    &WebhookEndpointDisabled {
                        endpoint_id: endpoint.id.clone(),
                        url: endpoint.url.clone(),
                        owner_id: endpoint.owner_id.clone(),
                        reason,
                    },
                )
                .await?;
                Ok::<_, WebhooksError>(Some(endpoint))
            })
            .await?;
        if let Some(endpoint) = disabled {
            tracing::warn!(
                endpoint = %endpoint.id,
                url = %endpoint.url,
                "webhook endpoint disabled: its deliveries failed for the whole retry window"
            );
            self.bus.wake();
        }
        Ok(())
    }

    /// Posts `body` to the endpoint, signed, and reads the start of the answer.
    async fn send(
        &self,
        endpoint: &EndpointRow,
        delivery: &Delivery,
        body: &str,
        number: i32,
        at: DateTime<Utc>,
    ) -> Result<Outcome, WebhooksError> {
        // Names are checked by the client's resolver as it connects; an address written
        // in the URL never reaches a resolver, so it is checked here.
        let url = match target::parse(&endpoint.url, self.policy.targets) {
            Ok(url) => url,
            Err(e) => return Ok(Outcome::NoAnswer(e.to_string())),
        };
        if !matches!(url.host(), Some(url::Host::Domain(_)))
            && let Err(e) = target::check(&url, self.policy.targets).await
        {
            return Ok(Outcome::NoAnswer(e.to_string()));
        }
        let keys = self.signing_keys(endpoint, at)?;
        let keys: Vec<&[u8]> = keys.iter().map(String::as_bytes).collect();
        let header = signature::header_with(&keys, at.timestamp(), body.as_bytes());
        let sent = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Weft-Signature", header)
            .header("Weft-Event-Id", &delivery.event_id)
            .header("Weft-Event-Type", &delivery.event_type)
            .header("Weft-Delivery-Id", &delivery.id)
            .header("Weft-Delivery-Attempt", number.to_string())
            .body(body.to_owned())
            .send()
            .await;
        let mut response = match sent {
            Ok(r) => r,
            Err(e) => return Ok(Outcome::NoAnswer(describe(&e))),
        };
        let status = response.status().as_u16();
        // Only the start of the answer is kept; the rest is not even read.
        let mut bytes = Vec::new();
        while bytes.len() < domain::EXCERPT_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        Ok(Outcome::Answered {
            status,
            excerpt: domain::excerpt(&String::from_utf8_lossy(&bytes)),
        })
    }

    /// Sends what is due, whenever deliveries are made and at least every second;
    /// prunes the log of finished deliveries past the retention once an hour.
    pub async fn run_dispatcher(self) {
        let mut pruned: Option<Instant> = None;
        loop {
            match self.dispatch_due().await {
                // Slots are still free and more may be due at once.
                Ok(n) if n > 0 && self.slots.available_permits() > 0 => continue,
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "webhook dispatch failed"),
            }
            if pruned.is_none_or(|t| t.elapsed() > Duration::from_hours(1)) {
                pruned = Some(Instant::now());
                let cutoff = self.now()
                    - chrono::Duration::from_std(self.policy.retention)
                        .unwrap_or(chrono::Duration::days(30));
                match store::delete_finished_before(&self.db, cutoff.naive_utc()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deliveries = n, "old webhook deliveries pruned"),
                    Err(err) => tracing::warn!(error = %err, "pruning webhook deliveries failed"),
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
            weft_bus::Worker::consumer(crate::events::Fanout(self.clone())),
            weft_bus::Worker::task("webhook-dispatcher", self.clone().run_dispatcher()),
        ]
    }
}

/// Why a request got no answer, in a receiver's owner's words.
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out: no answer within the time limit".into()
    } else if e.is_connect() {
        // The guard's refusal travels as the connect error's source.
        let mut source: Option<&dyn std::error::Error> = Some(e);
        while let Some(s) = source {
            if let Some(t) = s.downcast_ref::<target::TargetError>() {
                return t.to_string();
            }
            source = s.source();
        }
        "could not connect".into()
    } else {
        format!("the request failed: {e}")
    }
}
