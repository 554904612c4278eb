//! The payments log: Weft's own record of every payment and of every call made to its
//! gateway. Checkout authorizes through it, then captures, voids or refunds; the back
//! office lists it. A payment belongs to one checkout attempt (its saga run), so a
//! retried step finds the payment it made, and the gateway is always asked with the
//! same idempotency key: one hold, one charge, however often a step runs.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use weft_bus::events::{PaymentFailed, PaymentSucceeded};
use weft_kernel::id::PrefixedId;
use weft_kernel::{Clock, Currency, Cursor, ErrorKind, FieldError, Money, Page, PageRequest};
use weft_storage::{Db, DbConn, StorageError};

use crate::no_charge::{NO_CHARGE, NoCharge};
use crate::provider::{Authorization, Authorize, PaymentProvider, ProviderError};
use crate::store::{self, ListFilter, PaymentRow, TransactionRow};

mod webhooks;
pub use webhooks::WebhookOutcome;

weft_kernel::define_id!(PaymentId, "pay", "A payment.");

/// Where a payment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    /// Recorded; the gateway has not answered yet (a crash here is asked again).
    Pending,
    RequiresAction,
    Authorized,
    Declined,
    Voided,
    Captured,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::RequiresAction => "requires_action",
            Self::Authorized => "authorized",
            Self::Declined => "declined",
            Self::Voided => "voided",
            Self::Captured => "captured",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::RequiresAction,
            Self::Authorized,
            Self::Declined,
            Self::Voided,
            Self::Captured,
            Self::PartiallyRefunded,
            Self::Refunded,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no such payment")]
    NotFound,
    #[error("the card was declined ({code}): {message}")]
    Declined { code: String, message: String },
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("stored payment is unreadable: {0}")]
    Corrupt(String),
    /// A webhook that cannot be verified (bad, missing or stale signature) or read.
    #[error("the webhook was refused: {0}")]
    WebhookSignatureInvalid(String),
    /// A webhook for a gateway this process does not have.
    #[error("no `{0}` payment gateway is configured here")]
    WebhookNotConfigured(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl weft_kernel::ServiceError for PaymentsError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotFound | Self::WebhookNotConfigured(_) => ErrorKind::NotFound,
            Self::Declined { .. } => ErrorKind::PaymentRequired,
            Self::Refused(_) => ErrorKind::Conflict,
            Self::Unavailable(_) => ErrorKind::Unavailable,
            Self::Corrupt(_) => ErrorKind::Internal,
            Self::WebhookSignatureInvalid(_) => ErrorKind::BadRequest,
            Self::Storage(e) => e.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::NotFound => "payment_not_found",
            Self::Declined { .. } => "payment_declined",
            Self::Refused(_) => "payment_refused",
            Self::Unavailable(_) => "payment_gateway_unavailable",
            Self::Corrupt(_) => "internal_error",
            Self::WebhookSignatureInvalid(_) => "webhook_signature_invalid",
            Self::WebhookNotConfigured(_) => "webhook_not_configured",
            Self::Storage(e) => e.code(),
        }
    }

    fn field_errors(&self) -> Vec<FieldError> {
        match self {
            Self::Invalid(errors) => errors.clone(),
            _ => Vec::new(),
        }
    }
}

impl From<ProviderError> for PaymentsError {
    fn from(e: ProviderError) -> Self {
        match e {
            ProviderError::Declined { code, message } => Self::Declined { code, message },
            ProviderError::Invalid(m) => Self::Refused(m),
            ProviderError::Unavailable(m) => Self::Unavailable(m),
        }
    }
}

/// One call made to the gateway for a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub kind: String,
    pub status: String,
    pub amount: i64,
    pub provider_ref: Option<String>,
    pub code: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub id: String,
    pub checkout_id: String,
    pub order_id: Option<String>,
    pub provider: String,
    pub provider_ref: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub status: PaymentStatus,
    pub captured: i64,
    pub refunded: i64,
    pub decline_code: Option<String>,
    pub next_action: Option<serde_json::Value>,
    pub transactions: Vec<Transaction>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A payment to authorize for a checkout attempt.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// The attempt (saga run id): one payment per attempt, and the gateway's idempotency
    /// key.
    pub attempt: String,
    pub checkout_id: String,
    pub provider: String,
    pub token: String,
    pub amount: Money,
}

/// The admin list's filters.
#[derive(Debug, Clone, Default)]
pub struct PaymentFilter {
    pub checkout_id: Option<String>,
    pub order_id: Option<String>,
    pub status: Option<PaymentStatus>,
}

/// The payments service of this process.
#[derive(Clone)]
pub struct PaymentService {
    db: Db,
    clock: Clock,
    providers: Arc<HashMap<&'static str, Arc<dyn PaymentProvider>>>,
}

impl std::fmt::Debug for PaymentService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.providers.keys().collect();
        names.sort();
        f.debug_struct("PaymentService")
            .field("providers", &names)
            .finish_non_exhaustive()
    }
}

fn txn(
    payment_id: &str,
    kind: &str,
    status: &str,
    amount: i64,
    now: NaiveDateTime,
) -> TransactionRow {
    TransactionRow {
        payment_id: payment_id.to_owned(),
        seq: 0,
        kind: kind.to_owned(),
        status: status.to_owned(),
        amount,
        provider_ref: None,
        code: None,
        idempotency_key: None,
        created_at: now,
    }
}

impl PaymentService {
    pub fn new(db: Db, clock: Clock, providers: Vec<Arc<dyn PaymentProvider>>) -> Self {
        let mut providers: HashMap<_, _> = providers.into_iter().map(|p| (p.name(), p)).collect();
        // Zero totals are recorded without a gateway, whichever gateways are configured.
        providers.insert(NO_CHARGE, Arc::new(NoCharge) as Arc<dyn PaymentProvider>);
        Self {
            db,
            clock,
            providers: Arc::new(providers),
        }
    }

    fn now(&self) -> NaiveDateTime {
        self.clock.now().naive_utc()
    }

    /// The providers a customer can pay through, by name (`none` is not one: it is
    /// chosen for them when there is nothing to pay).
    pub fn provider_names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self
            .providers
            .keys()
            .copied()
            .filter(|n| *n != NO_CHARGE)
            .collect();
        names.sort_unstable();
        names
    }

    fn provider(&self, name: &str) -> Result<&Arc<dyn PaymentProvider>, PaymentsError> {
        self.providers.get(name).ok_or_else(|| {
            PaymentsError::Invalid(vec![FieldError::new(
                "payment.provider",
                format!("must be one of: {}", self.provider_names().join(", ")),
            )])
        })
    }

    /// Authorizes the attempt's payment (or answers the one it has): `Authorized` or
    /// `RequiresAction` as a [`Payment`], `Declined` as an error (with `PaymentFailed`
    /// in the outbox). Asking again is safe: the gateway is asked with the attempt as
    /// its idempotency key. An amount of 0 is recorded under the `none` provider, with no
    /// gateway and no token, whichever provider was named: there is nothing to charge.
    #[tracing::instrument(skip_all, fields(attempt = %new.attempt))]
    pub async fn authorize(&self, mut new: NewPayment) -> Result<Payment, PaymentsError> {
        let free = new.amount.amount == 0;
        if free {
            NO_CHARGE.clone_into(&mut new.provider);
            NO_CHARGE.clone_into(&mut new.token);
        } else if new.provider == NO_CHARGE {
            return Err(PaymentsError::Invalid(vec![FieldError::new(
                "payment.provider",
                format!(
                    "`none` pays only totals of 0; must be one of: {}",
                    self.provider_names().join(", ")
                ),
            )]));
        }
        let provider = Arc::clone(self.provider(&new.provider)?);
        let token = new.token.trim().to_owned();
        if token.is_empty() || token.len() > 255 {
            return Err(PaymentsError::Invalid(vec![FieldError::new(
                "payment.token",
                "must be the gateway's token (1–255 characters)",
            )]));
        }
        let now = self.now();
        let fresh = PaymentRow {
            id: PaymentId::generate().to_string(),
            attempt: new.attempt.clone(),
            checkout_id: new.checkout_id.clone(),
            order_id: None,
            provider: new.provider.clone(),
            provider_ref: None,
            amount: new.amount.amount,
            currency: new.amount.currency.code().to_owned(),
            status: PaymentStatus::Pending.as_str().to_owned(),
            captured: 0,
            refunded: 0,
            decline_code: None,
            next_action: None,
            created_at: now,
            updated_at: now,
        };
        let row = self
            .db
            .transaction(async |conn: &mut DbConn| {
                store::insert(conn, &fresh).await?;
                store::by_attempt(conn, &fresh.attempt)
                    .await?
                    .ok_or(PaymentsError::NotFound)
            })
            .await?;
        match PaymentStatus::parse(&row.status) {
            Some(PaymentStatus::Pending) => {}
            Some(PaymentStatus::Declined) => {
                return Err(PaymentsError::Declined {
                    code: row.decline_code.unwrap_or_else(|| "card_declined".into()),
                    message: "the card was declined".into(),
                });
            }
            // Asked before: its answer stands (3-D Secure is moved on by `confirm`).
            _ => return self.get(&row.id).await,
        }
        let answer = provider
            .authorize(&Authorize {
                idempotency_key: row.attempt.clone(),
                amount: new.amount,
                token,
                reference: row.checkout_id.clone(),
            })
            .await;
        let now = self.now();
        let mut updated = row.clone();
        updated.updated_at = now;
        let mut log = txn(&row.id, "authorize", "succeeded", row.amount, now);
        let mut failure = None;
        match answer {
            Ok(Authorization::Authorized { provider_ref }) => {
                PaymentStatus::Authorized
                    .as_str()
                    .clone_into(&mut updated.status);
                log.provider_ref = Some(provider_ref.clone());
                updated.provider_ref = Some(provider_ref);
            }
            Ok(Authorization::RequiresAction {
                provider_ref,
                next_action,
            }) => {
                PaymentStatus::RequiresAction
                    .as_str()
                    .clone_into(&mut updated.status);
                updated.next_action = Some(next_action.to_string());
                "requires_action".clone_into(&mut log.status);
                log.provider_ref = Some(provider_ref.clone());
                updated.provider_ref = Some(provider_ref);
            }
            Err(ProviderError::Declined { code, message }) => {
                PaymentStatus::Declined
                    .as_str()
                    .clone_into(&mut updated.status);
                updated.decline_code = Some(code.clone());
                "declined".clone_into(&mut log.status);
                log.code = Some(code.clone());
                failure = Some((code, message));
            }
            // Not reached or refused as asked: the row stays pending, to be asked again.
            Err(other) => return Err(other.into()),
        }
        self.db
            .transaction(async |conn: &mut DbConn| {
                store::update(conn, &updated).await?;
                store::add_transaction(conn, log.clone()).await?;
                if let Some((code, _)) = &failure {
                    weft_bus::append(
                        conn,
                        &PaymentFailed {
                            payment_id: updated.id.clone(),
                            checkout_id: updated.checkout_id.clone(),
                            amount: new.amount,
                            provider: updated.provider.clone(),
                            code: code.clone(),
                        },
                    )
                    .await?;
                }
                Ok::<_, PaymentsError>(())
            })
            .await?;
        if let Some((code, message)) = failure {
            tracing::info!(payment_id = %updated.id, code = %code, "payment declined");
            return Err(PaymentsError::Declined { code, message });
        }
        self.get(&updated.id).await
    }

    /// The payment after the customer acted on its `next_action` (3-D Secure): the
    /// gateway is asked where it stands now.
    pub async fn confirm(&self, id: &str) -> Result<Payment, PaymentsError> {
        let row = self.row(id).await?;
        if row.status != PaymentStatus::RequiresAction.as_str() {
            return self.get(id).await;
        }
        let provider = Arc::clone(self.provider(&row.provider)?);
        let reference = row.provider_ref.clone().unwrap_or_default();
        let answer = provider.confirm(&reference).await;
        let now = self.now();
        let mut updated = row.clone();
        updated.updated_at = now;
        let mut log = txn(&row.id, "confirm", "succeeded", row.amount, now);
        log.provider_ref = Some(reference);
        let mut declined = None;
        match answer {
            Ok(Authorization::Authorized { .. }) => {
                PaymentStatus::Authorized
                    .as_str()
                    .clone_into(&mut updated.status);
                updated.next_action = None;
            }
            Ok(Authorization::RequiresAction { .. }) => return self.get(id).await,
            Err(ProviderError::Declined { code, message }) => {
                PaymentStatus::Declined
                    .as_str()
                    .clone_into(&mut updated.status);
                updated.decline_code = Some(code.clone());
                updated.next_action = None;
                "declined".clone_into(&mut log.status);
                log.code = Some(code.clone());
                declined = Some((code, message));
            }
            Err(other) => return Err(other.into()),
        }
        self.db
            .transaction(async |conn: &mut DbConn| {
                store::update(conn, &updated).await?;
                store::add_transaction(conn, log.clone()).await?;
                if let Some((code, _)) = &declined {
                    let amount = money(updated.amount, &updated.currency)?;
                    weft_bus::append(
                        conn,
                        &PaymentFailed {
                            payment_id: updated.id.clone(),
                            checkout_id: updated.checkout_id.clone(),
                            amount,
                            provider: updated.provider.clone(),
                            code: code.clone(),
                        },
                    )
                    .await?;
                }
                Ok::<_, PaymentsError>(())
            })
            .await?;
        if let Some((code, message)) = declined {
            return Err(PaymentsError::Declined { code, message });
        }
        self.get(id).await
    }

    /// Charges the whole authorized amount for `order_id`, once (`PaymentSucceeded` in
    /// the same transaction as the record). Capturing a captured payment answers it.
    #[tracing::instrument(skip_all, fields(payment_id = %id, order_id = %order_id))]
    pub async fn capture(&self, id: &str, order_id: &str) -> Result<Payment, PaymentsError> {
        let row = self.row(id).await?;
        match PaymentStatus::parse(&row.status) {
            Some(PaymentStatus::Authorized) => {}
            Some(
                PaymentStatus::Captured
                | PaymentStatus::PartiallyRefunded
                | PaymentStatus::Refunded,
            ) => return self.get(id).await,
            _ => {
                return Err(PaymentsError::Refused(format!(
                    "cannot capture a payment that is {}",
                    row.status
                )));
            }
        }
        let provider = Arc::clone(self.provider(&row.provider)?);
        let amount = money(row.amount, &row.currency)?;
        let reference = row.provider_ref.clone().unwrap_or_default();
        provider.capture(&reference, amount).await?;
        let now = self.now();
        self.db
            .transaction(async |conn: &mut DbConn| {
                let mut locked = store::find_locked(conn, id)
                    .await?
                    .ok_or(PaymentsError::NotFound)?;
                if locked.status != PaymentStatus::Authorized.as_str() {
                    // A concurrent capture recorded it first.
                    return Ok(());
                }
                PaymentStatus::Captured
                    .as_str()
                    .clone_into(&mut locked.status);
                locked.captured = locked.amount;
                locked.order_id = Some(order_id.to_owned());
                locked.updated_at = now;
                store::update(conn, &locked).await?;
                let mut log = txn(id, "capture", "succeeded", locked.amount, now);
                log.provider_ref = Some(reference.clone());
                store::add_transaction(conn, log).await?;
                weft_bus::append(
                    conn,
                    &PaymentSucceeded {
                        payment_id: locked.id.clone(),
                        order_id: order_id.to_owned(),
                        amount,
                        provider: locked.provider.clone(),
                    },
                )
                .await?;
                Ok::<_, PaymentsError>(())
            })
            .await?;
        tracing::info!(amount = row.amount, "payment captured");
        self.get(id).await
    }

    /// Lets the payment go: a hold is voided, a captured payment refunded in full, a
    /// payment the gateway never answered or declined is left as it is. Safe twice.
    #[tracing::instrument(skip_all, fields(payment_id = %id))]
    pub async fn cancel(&self, id: &str) -> Result<Payment, PaymentsError> {
        let row = self.row(id).await?;
        match PaymentStatus::parse(&row.status) {
            Some(PaymentStatus::Captured | PaymentStatus::PartiallyRefunded) => {
                let left = row.captured - row.refunded;
                if left == 0 {
                    // Nothing was charged (a total of 0): nothing to give back.
                    return self.get(id).await;
                }
                return self
                    .refund(id, left, &format!("cancel:{id}"))
                    .await
                    .map(|(p, _)| p);
            }
            Some(PaymentStatus::Authorized | PaymentStatus::RequiresAction) => {}
            Some(PaymentStatus::Pending) if row.provider_ref.is_none() => {
                // The gateway may hold an authorization we never heard of: ask again
                // with the same key, then let what it answers go.
                return self.void_unanswered(row).await;
            }
            _ => return self.get(id).await,
        }
        let provider = Arc::clone(self.provider(&row.provider)?);
        let reference = row.provider_ref.clone().unwrap_or_default();
        provider.void(&reference).await?;
        self.record_void(&row, Some(&reference)).await
    }

    async fn void_unanswered(&self, row: PaymentRow) -> Result<Payment, PaymentsError> {
        let provider = Arc::clone(self.provider(&row.provider)?);
        // The crash lost the gateway's answer: ask it what it made under the attempt's
        // key, and let that go. Nothing made means nothing to void.
        let reference = provider.find_by_key(&row.attempt).await?;
        if let Some(reference) = &reference {
            provider.void(reference).await?;
        }
        self.record_void(&row, reference.as_deref()).await
    }

    async fn record_void(
        &self,
        row: &PaymentRow,
        reference: Option<&str>,
    ) -> Result<Payment, PaymentsError> {
        let now = self.now();
        let mut updated = row.clone();
        PaymentStatus::Voided
            .as_str()
            .clone_into(&mut updated.status);
        if let Some(r) = reference {
            updated.provider_ref = Some(r.to_owned());
        }
        updated.next_action = None;
        updated.updated_at = now;
        self.db
            .transaction(async |conn: &mut DbConn| {
                store::update(conn, &updated).await?;
                // What was held is let go: nothing, if the gateway never made a hold.
                let held = if reference.is_some() { row.amount } else { 0 };
                let mut log = txn(&row.id, "void", "succeeded", held, now);
                log.provider_ref = reference.map(str::to_owned);
                store::add_transaction(conn, log).await?;
                Ok::<_, PaymentsError>(())
            })
            .await?;
        tracing::info!(payment_id = %row.id, "payment voided");
        self.get(&row.id).await
    }

    /// Gives back `amount` of what was captured; one refund per `key` (a retry answers
    /// the first). Returns the payment and the gateway's refund reference.
    #[tracing::instrument(skip_all, fields(payment_id = %id, amount))]
    pub async fn refund(
        &self,
        id: &str,
        amount: i64,
        key: &str,
    ) -> Result<(Payment, String), PaymentsError> {
        let row = self.row(id).await?;
        {
            let mut conn = self.db.conn().await?;
            if let Some(done) = store::refund_by_key(&mut conn, id, key).await? {
                if done.amount != amount {
                    return Err(PaymentsError::Refused(
                        "this key was used for a refund of another amount".into(),
                    ));
                }
                return Ok((self.get(id).await?, done.provider_ref.unwrap_or_default()));
            }
        }
        if amount <= 0 || amount > row.captured - row.refunded {
            return Err(PaymentsError::Refused(format!(
                "cannot refund {amount} of the {} left",
                row.captured - row.refunded
            )));
        }
        let provider = Arc::clone(self.provider(&row.provider)?);
        let reference = row.provider_ref.clone().unwrap_or_default();
        let refund_ref = provider
            .refund(
                &reference,
                money(amount, &row.currency)?,
                &format!("{id}:{key}"),
            )
            .await?;
        let now = self.now();
        self.db
            .transaction(async |conn: &mut DbConn| {
                if store::refund_by_key(conn, id, key).await?.is_some() {
                    return Ok(());
                }
                let mut locked = store::find_locked(conn, id)
                    .await?
                    .ok_or(PaymentsError::NotFound)?;
                locked.refunded += amount;
                let status = if locked.refunded >= locked.captured {
                    PaymentStatus::Refunded
                } else {
                    PaymentStatus::PartiallyRefunded
                };
                status.as_str().clone_into(&mut locked.status);
                locked.updated_at = now;
                store::update(conn, &locked).await?;
                let mut log = txn(id, "refund", "succeeded", amount, now);
                log.provider_ref = Some(refund_ref.clone());
                log.idempotency_key = Some(key.to_owned());
                store::add_transaction(conn, log).await?;
                Ok::<_, PaymentsError>(())
            })
            .await?;
        tracing::info!(refund = %refund_ref, "payment refunded");
        Ok((self.get(id).await?, refund_ref))
    }

    async fn row(&self, id: &str) -> Result<PaymentRow, PaymentsError> {
        let mut conn = self.db.conn().await?;
        store::find(&mut conn, id)
            .await?
            .ok_or(PaymentsError::NotFound)
    }

    /// The payment made for a checkout attempt, if any.
    pub async fn of_attempt(&self, attempt: &str) -> Result<Option<Payment>, PaymentsError> {
        let row = {
            let mut conn = self.db.conn().await?;
            store::by_attempt(&mut conn, attempt).await?
        };
        match row {
            Some(row) => Ok(Some(self.get(&row.id).await?)),
            None => Ok(None),
        }
    }

    /// A payment with its transactions.
    pub async fn get(&self, id: &str) -> Result<Payment, PaymentsError> {
        let mut conn = self.db.conn().await?;
        let row = store::find(&mut conn, id)
            .await?
            .ok_or(PaymentsError::NotFound)?;
        let txns = store::transactions_of(&mut conn, std::slice::from_ref(&row.id)).await?;
        payment(row, txns)
    }

    /// Payments newest first, with their transactions.
    pub async fn list(
        &self,
        filter: &PaymentFilter,
        page: &PageRequest,
    ) -> Result<Page<Payment>, PaymentsError> {
        let before: Option<String> = page
            .cursor
            .as_ref()
            .map(Cursor::decode::<String>)
            .transpose()
            .map_err(|_| {
                PaymentsError::Invalid(vec![FieldError::new(
                    "cursor",
                    "is not a cursor this API issued",
                )])
            })?;
        let filter = ListFilter {
            checkout_id: filter.checkout_id.clone(),
            order_id: filter.order_id.clone(),
            status: filter.status.map(|s| s.as_str().to_owned()),
        };
        let mut conn = self.db.conn().await?;
        let rows = store::list(&mut conn, &filter, before.as_deref(), page.fetch_size()).await?;
        let page = Page::from_rows(rows, page, |r: &PaymentRow| r.id.clone());
        let ids: Vec<String> = page.data.iter().map(|r| r.id.clone()).collect();
        let mut by_payment: HashMap<String, Vec<TransactionRow>> = HashMap::new();
        for t in store::transactions_of(&mut conn, &ids).await? {
            by_payment.entry(t.payment_id.clone()).or_default().push(t);
        }
        let data = page
            .data
            .into_iter()
            .map(|row| {
                let txns = by_payment.remove(&row.id).unwrap_or_default();
                payment(row, txns)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            data,
            next_cursor: page.next_cursor,
        })
    }
}

fn money(amount: i64, currency: &str) -> Result<Money, PaymentsError> {
    let currency = Currency::parse(currency).map_err(|e| PaymentsError::Corrupt(e.to_string()))?;
    Ok(Money::new(amount, currency))
}

fn payment(row: PaymentRow, txns: Vec<TransactionRow>) -> Result<Payment, PaymentsError> {
    Ok(Payment {
        status: PaymentStatus::parse(&row.status)
            .ok_or_else(|| PaymentsError::Corrupt(row.status.clone()))?,
        next_action: row
            .next_action
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok()),
        transactions: txns
            .into_iter()
            .map(|t| Transaction {
                kind: t.kind,
                status: t.status,
                amount: t.amount,
                provider_ref: t.provider_ref,
                code: t.code,
                created_at: t.created_at.and_utc(),
            })
            .collect(),
        id: row.id,
        checkout_id: row.checkout_id,
        order_id: row.order_id,
        provider: row.provider,
        provider_ref: row.provider_ref,
        amount: row.amount,
        currency: row.currency,
        captured: row.captured,
        refunded: row.refunded,
        decline_code: row.decline_code,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}
