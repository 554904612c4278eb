//! Checkout's use cases. The money is the cart's: a checkout's summary is its cart priced
//! for the checkout's destination and shipping method, by the cart service.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use weft_kernel::id::PrefixedId;
use weft_kernel::{Clock, Email, FieldError, PostalAddress};
use weft_orders::Order;
use weft_orders::domain::OrderId;
use weft_saga::{Outcome, Saga, SagaError};
use weft_storage::{Db, DbConn};

use crate::domain::{CheckoutId, CheckoutStatus};
use crate::error::{CheckoutError, known_code};
use crate::saga::{Completion, Ports, SagaSettings};
use crate::store::{self, CheckoutRow};

/// A cart priced now, its lines and the shipping methods it may take: the cart's own
/// answer ([`weft_cart::client`]).
pub use weft_cart::client::{ShippingChoice, Summary as CartSummary, SummaryLine};

/// Carts, as checkout uses them: in-process embedded, over HTTP in a cluster.
#[async_trait::async_trait]
pub trait Carts: Send + Sync + 'static {
    /// The cart priced now, as `who` may see it (404 `cart_not_found` otherwise).
    async fn cart(&self, id: &str, who: Option<&str>) -> Result<CartSummary, CheckoutError>;
    /// Sets where the cart ships and, when given, how (`Some(None)` clears the method).
    async fn ship(
        &self,
        id: &str,
        who: Option<&str>,
        country: Option<String>,
        region: Option<String>,
        method: Option<Option<String>>,
    ) -> Result<CartSummary, CheckoutError>;
    /// The methods offered for the cart's destination, priced for it.
    async fn shipping_options(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<Vec<ShippingChoice>, CheckoutError>;
}

/// A checkout as clients see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkout {
    pub id: String,
    pub cart_id: String,
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub shipping_address: Option<PostalAddress>,
    /// The shipping address when none was given.
    pub billing_address: Option<PostalAddress>,
    pub status: String,
    /// The order it became, once completed.
    pub order_id: Option<String>,
    pub summary: CartSummary,
    /// What is still needed before it can be completed (`email`, `shipping_address`,
    /// `shipping_method_id`); empty when ready.
    pub missing: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Changes to a checkout; `None` keeps a field, `Some(None)` clears a billing address
/// (billing then follows shipping) or the shipping method.
#[derive(Debug, Clone, Default)]
pub struct CheckoutPatch {
    pub email: Option<String>,
    pub shipping_address: Option<PostalAddress>,
    pub billing_address: Option<Option<PostalAddress>>,
    pub shipping_method_id: Option<Option<String>>,
}

/// How the customer pays: a provider this process knows and that provider's token.
#[derive(Debug, Clone)]
pub struct PaymentChoice {
    pub provider: String,
    pub token: String,
}

/// The provider a completion without a payment names: the payments service records a
/// total of 0 under it without asking a gateway (and refuses it for anything else).
pub const NO_PAYMENT: &str = "none";

/// What completing answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Completed {
    /// The order, paid.
    Order(Box<Order>),
    /// The customer must act (3-D Secure), then confirm.
    RequiresAction {
        payment_id: String,
        next_action: serde_json::Value,
    },
}

/// The checkout service of this process.
#[derive(Clone)]
pub struct CheckoutService {
    db: Db,
    carts: Arc<dyn Carts>,
    ports: Ports,
    saga: Arc<Saga<Completion>>,
    clock: Clock,
}

/// The saga run of a checkout's `n`-th attempt: the checkout id itself for the first.
fn attempt_id(checkout_id: &str, n: i32) -> String {
    if n <= 1 {
        checkout_id.to_owned()
    } else {
        format!("{checkout_id}.{n}")
    }
}

impl std::fmt::Debug for CheckoutService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CheckoutService").finish_non_exhaustive()
    }
}

fn address(json: Option<&str>) -> Option<PostalAddress> {
    json.and_then(|j| serde_json::from_str(j).ok())
}

fn to_json(address: &PostalAddress) -> String {
    // Serializing plain data cannot fail.
    serde_json::to_string(address).unwrap_or_default()
}

impl CheckoutService {
    pub fn new(db: Db, ports: Ports, clock: Clock, settings: &SagaSettings) -> Self {
        let saga = Arc::new(crate::saga::completion(
            db.clone(),
            clock.clone(),
            &ports,
            settings,
        ));
        Self {
            db,
            carts: Arc::clone(&ports.carts),
            ports,
            saga,
            clock,
        }
    }

    /// What checkout runs in the process hosting it: recovery of completions a dead
    /// process left mid-way (resumed or compensated now, then whenever another process's
    /// lease on one lapses; looked for every `recover_every`).
    pub fn workers(&self, recover_every: std::time::Duration) -> Vec<weft_bus::Worker> {
        vec![weft_bus::Worker::task(
            "checkout-recovery",
            self.saga().run_recovery(recover_every),
        )]
    }

    /// The completion saga, for the process to run its recovery.
    pub fn saga(&self) -> Arc<Saga<Completion>> {
        Arc::clone(&self.saga)
    }

    fn now(&self) -> NaiveDateTime {
        self.clock.now().naive_utc()
    }

    /// A checkout `who` may use: a guest's for whoever holds its id, a customer's for
    /// that customer only (404 for anyone else).
    async fn owned(&self, id: &str, who: Option<&str>) -> Result<CheckoutRow, CheckoutError> {
        let row = weft_storage::short_reads(async {
            let mut conn = self.db.conn().await?;
            Ok::<_, CheckoutError>(store::find(&mut conn, id).await?)
        })
        .await?
        .ok_or(CheckoutError::NotFound)?;
        match &row.customer_id {
            Some(owner) if Some(owner.as_str()) != who => Err(CheckoutError::NotFound),
            _ => Ok(row),
        }
    }

    /// The summary of a checkout: as bought once completed, else its cart priced now.
    async fn summary_of(&self, row: &CheckoutRow) -> Result<CartSummary, CheckoutError> {
        if let Some(bought) = row
            .summary
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok())
        {
            return Ok(bought);
        }
        self.carts
            .cart(&row.cart_id, row.customer_id.as_deref())
            .await
    }

    fn view(row: CheckoutRow, summary: CartSummary) -> Checkout {
        let shipping_address = address(row.shipping_address.as_deref());
        let billing_address =
            address(row.billing_address.as_deref()).or_else(|| shipping_address.clone());
        let mut missing = Vec::new();
        if row.email.is_none() {
            missing.push("email".to_owned());
        }
        if shipping_address.is_none() {
            missing.push("shipping_address".to_owned());
        }
        if summary.shipping_method_id.is_none() && row.order_id.is_none() {
            missing.push("shipping_method_id".to_owned());
        }
        Checkout {
            order_id: row.order_id,
            id: row.id,
            cart_id: row.cart_id,
            customer_id: row.customer_id,
            email: row.email,
            shipping_address,
            billing_address,
            status: row.status,
            summary,
            missing,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
        }
    }

    /// Starts a checkout of `cart_id`, which `who` must be able to read. 409
    /// `cart_empty` for an empty cart, `cart_not_purchasable` when a line cannot be
    /// bought now.
    pub async fn create(
        &self,
        cart_id: &str,
        who: Option<&str>,
    ) -> Result<Checkout, CheckoutError> {
        let summary = self.carts.cart(cart_id.trim(), who).await?;
        if summary.lines.is_empty() {
            return Err(CheckoutError::CartEmpty);
        }
        if summary.lines.iter().any(|l| !l.purchasable) {
            return Err(CheckoutError::CartNotPurchasable);
        }
        let now = self.now();
        let row = CheckoutRow {
            id: CheckoutId::generate().to_string(),
            cart_id: summary.cart_id.clone(),
            customer_id: summary.customer_id.clone(),
            email: None,
            shipping_address: None,
            billing_address: None,
            status: CheckoutStatus::Open.as_str().to_owned(),
            created_at: now,
            updated_at: now,
            attempt: 0,
            order_id: None,
            summary: None,
        };
        self.db
            .transaction(async |conn: &mut DbConn| {
                store::insert(conn, &row).await?;
                Ok::<_, CheckoutError>(())
            })
            .await?;
        Ok(Self::view(row, summary))
    }

    pub async fn get(&self, id: &str, who: Option<&str>) -> Result<Checkout, CheckoutError> {
        let row = self.owned(id, who).await?;
        let summary = self.summary_of(&row).await?;
        Ok(Self::view(row, summary))
    }

    /// Sets the e-mail, addresses (validated as the address book validates them) and the
    /// shipping method; the cart's destination follows the shipping address, so tax and
    /// the methods offered follow it too.
    pub async fn update(
        &self,
        id: &str,
        who: Option<&str>,
        patch: CheckoutPatch,
    ) -> Result<Checkout, CheckoutError> {
        let mut row = self.owned(id, who).await?;
        if row.status != CheckoutStatus::Open.as_str() {
            return Err(CheckoutError::Completed);
        }
        let mut errors: Vec<FieldError> = Vec::new();
        if let Some(raw) = &patch.email {
            match Email::parse(raw) {
                Ok(email) => row.email = Some(email.as_str().to_owned()),
                Err(e) => errors.push(e),
            }
        }
        let mut destination = None;
        if let Some(a) = &patch.shipping_address {
            match a.validate("shipping_address.") {
                Ok(valid) => {
                    destination = Some((valid.country.clone(), valid.region.clone()));
                    row.shipping_address = Some(to_json(&valid));
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        match &patch.billing_address {
            Some(Some(a)) => match a.validate("billing_address.") {
                Ok(valid) => row.billing_address = Some(to_json(&valid)),
                Err(mut e) => errors.append(&mut e),
            },
            Some(None) => row.billing_address = None,
            None => {}
        }
        if !errors.is_empty() {
            return Err(CheckoutError::Invalid(errors));
        }
        // The cart first: a method it refuses (not offered there) changes nothing here.
        let owner = row.customer_id.clone();
        let summary = if destination.is_some() || patch.shipping_method_id.is_some() {
            let (country, region) = match (&destination, address(row.shipping_address.as_deref())) {
                (Some((c, r)), _) => (Some(c.clone()), r.clone()),
                (None, Some(a)) => (Some(a.country), a.region),
                (None, None) => (None, None),
            };
            self.carts
                .ship(
                    &row.cart_id,
                    owner.as_deref(),
                    country,
                    region,
                    patch.shipping_method_id.clone(),
                )
                .await?
        } else {
            self.carts.cart(&row.cart_id, owner.as_deref()).await?
        };
        row.updated_at = self.now();
        self.db
            .transaction(async |conn: &mut DbConn| {
                store::update(conn, &row).await?;
                Ok::<_, CheckoutError>(())
            })
            .await?;
        Ok(Self::view(row, summary))
    }

    /// The shipping methods offered for the checkout's destination, priced for its cart.
    pub async fn shipping_options(
        &self,
        id: &str,
        who: Option<&str>,
    ) -> Result<Vec<ShippingChoice>, CheckoutError> {
        let row = self.owned(id, who).await?;
        if row.status != CheckoutStatus::Open.as_str() {
            return Err(CheckoutError::Completed);
        }
        self.carts
            .shipping_options(&row.cart_id, row.customer_id.as_deref())
            .await
    }

    /// Completes the checkout: the saga runs (stock held, payment authorized, order
    /// made, payment captured, stock committed, cart closed) and its outcome is the
    /// answer. A completed checkout answers its order; a suspended one (3-D Secure) runs
    /// its waiting step again; one whose last attempt was undone starts a new attempt
    /// (another card after a decline). Requests racing for one checkout run one attempt:
    /// the others get 409 `checkout_in_progress`. Without a `payment` only a total of 0
    /// completes (nothing is charged; 422 `payment` otherwise).
    #[tracing::instrument(skip_all, fields(checkout_id = %id))]
    pub async fn complete(
        &self,
        id: &str,
        who: Option<&str>,
        payment: Option<PaymentChoice>,
    ) -> Result<Completed, CheckoutError> {
        let Some(payment) = payment else {
            let row = self.owned(id, who).await?;
            // Refused before anything is held; the saga checks again against the total
            // it prices (the cart may change meanwhile).
            if row.order_id.is_none() && self.summary_of(&row).await?.total != 0 {
                return Err(payment_required());
            }
            return self.run_completion(id, who, NO_PAYMENT, "").await;
        };
        let mut errors = Vec::new();
        let provider = payment.provider.trim().to_lowercase();
        let providers = self
            .ports
            .payments
            .providers()
            .await
            .map_err(|e| CheckoutError::Upstream(e.to_string()))?;
        if !providers.contains(&provider) {
            errors.push(FieldError::new(
                "payment.provider",
                format!("must be one of: {}", providers.join(", ")),
            ));
        }
        let token = payment.token.trim().to_owned();
        if token.is_empty() || token.len() > 255 {
            errors.push(FieldError::new(
                "payment.token",
                "must be the payment provider's token (1–255 characters); card numbers never reach Weft",
            ));
        }
        if !errors.is_empty() {
            return Err(CheckoutError::Invalid(errors));
        }
        self.run_completion(id, who, &provider, &token).await
    }

    /// Starts (or answers, or resumes) the checkout's completion, paying with
    /// `provider`'s `token`.
    async fn run_completion(
        &self,
        id: &str,
        who: Option<&str>,
        provider: &str,
        token: &str,
    ) -> Result<Completed, CheckoutError> {
        loop {
            let row = self.owned(id, who).await?;
            if let Some(order_id) = &row.order_id {
                return self.order(order_id).await;
            }
            if row.attempt > 0 {
                match self.saga.resume(&attempt_id(id, row.attempt)).await {
                    Ok(Outcome::Compensated { .. }) => {}
                    Ok(outcome) => return self.answer(outcome).await,
                    // The attempt was claimed and its run is not written yet.
                    Err(SagaError::NotFound(_)) => return Err(CheckoutError::InProgress),
                    Err(e) => return Err(saga_error(e)),
                }
            }
            let context = Self::context(&row, provider, token)?;
            let claimed = self
                .db
                .transaction(async |conn: &mut DbConn| {
                    Ok::<_, CheckoutError>(
                        store::next_attempt(conn, id, row.attempt, self.now()).await?,
                    )
                })
                .await?;
            if !claimed {
                // Another request moved the checkout on first: answer for its attempt.
                continue;
            }
            tracing::info!(attempt = %context.attempt, "checkout completion started");
            let outcome = self
                .saga
                .start(&context.attempt.clone(), context)
                .await
                .map_err(saga_error)?;
            return self.answer(outcome).await;
        }
    }

    /// After the customer acted on a `requires_action` answer: the gateway is asked
    /// again and the waiting completion goes on.
    #[tracing::instrument(skip_all, fields(checkout_id = %id))]
    pub async fn confirm(&self, id: &str, who: Option<&str>) -> Result<Completed, CheckoutError> {
        let row = self.owned(id, who).await?;
        if let Some(order_id) = &row.order_id {
            return self.order(order_id).await;
        }
        if row.attempt == 0 {
            return Err(CheckoutError::Refused {
                code: "checkout_not_started",
                message: "complete the checkout first".into(),
            });
        }
        let attempt = attempt_id(id, row.attempt);
        match self.ports.payments.confirm(&attempt).await {
            // A refusal (declined at the challenge) is what the waiting step finds next.
            Ok(()) | Err(crate::ports::PortError::Refused { .. }) => {}
            Err(crate::ports::PortError::Transient(m)) => return Err(CheckoutError::Upstream(m)),
        }
        let outcome = self.saga.resume(&attempt).await.map_err(saga_error)?;
        self.answer(outcome).await
    }

    fn context(
        row: &CheckoutRow,
        provider: &str,
        token: &str,
    ) -> Result<Completion, CheckoutError> {
        let shipping_address = address(row.shipping_address.as_deref());
        let mut errors = Vec::new();
        if row.email.is_none() {
            errors.push(FieldError::new("email", "is required before completing"));
        }
        if shipping_address.is_none() {
            errors.push(FieldError::new(
                "shipping_address",
                "is required before completing",
            ));
        }
        let (Some(email), Some(shipping_address)) = (row.email.clone(), shipping_address) else {
            return Err(CheckoutError::Invalid(errors));
        };
        let billing_address =
            address(row.billing_address.as_deref()).unwrap_or_else(|| shipping_address.clone());
        Ok(Completion {
            checkout_id: row.id.clone(),
            attempt: attempt_id(&row.id, row.attempt + 1),
            order_id: OrderId::generate().to_string(),
            cart_id: row.cart_id.clone(),
            customer_id: row.customer_id.clone(),
            email,
            shipping_address,
            billing_address,
            provider: provider.to_owned(),
            token: token.to_owned(),
            summary: None,
            payment_id: None,
        })
    }

    async fn order(&self, order_id: &str) -> Result<Completed, CheckoutError> {
        let order = self
            .ports
            .orders
            .get(order_id)
            .await
            .map_err(|e| CheckoutError::Upstream(e.to_string()))?;
        Ok(Completed::Order(Box::new(order)))
    }

    /// The client's answer for where a run ended up.
    async fn answer(&self, outcome: Outcome<Completion>) -> Result<Completed, CheckoutError> {
        match outcome {
            Outcome::Completed(cx) => self.order(&cx.order_id).await,
            Outcome::Suspended { detail, .. } => Ok(Completed::RequiresAction {
                payment_id: detail["payment_id"].as_str().unwrap_or_default().to_owned(),
                next_action: detail["next_action"].clone(),
            }),
            Outcome::Busy => Err(CheckoutError::InProgress),
            Outcome::Stuck { failure, .. } => Err(CheckoutError::NeedsAttention(failure.message)),
            // A peer is away: the run goes on when asked again or by recovery.
            Outcome::Deferred { failure, .. } => Err(CheckoutError::Upstream(failure.message)),
            Outcome::Compensated { failure, .. } => Err(match failure.code.as_str() {
                "out_of_stock" => CheckoutError::OutOfStock(failure.message),
                "payment_declined" => {
                    let (code, message) = failure
                        .message
                        .split_once(": ")
                        .map_or(("card_declined", failure.message.as_str()), |(c, m)| (c, m));
                    CheckoutError::PaymentDeclined {
                        code: code.to_owned(),
                        message: message.to_owned(),
                    }
                }
                "payment_failed" => CheckoutError::PaymentFailed(failure.message),
                "checkout_incomplete" => CheckoutError::Invalid(vec![FieldError::new(
                    "shipping_method_id",
                    failure.message,
                )]),
                "payment_required" => payment_required(),
                "unavailable" => CheckoutError::Upstream(failure.message),
                // Left at 3-D Secure past `checkout.abandon_after_seconds`: undone.
                "abandoned" => CheckoutError::Refused {
                    code: "checkout_abandoned",
                    message: failure.message,
                },
                code => CheckoutError::Refused {
                    code: known_code(code),
                    message: failure.message,
                },
            }),
        }
    }
}

/// A completion without a payment of a checkout whose total is above 0.
fn payment_required() -> CheckoutError {
    CheckoutError::Invalid(vec![FieldError::new(
        "payment",
        "is required: the total is above 0",
    )])
}

fn saga_error(e: SagaError) -> CheckoutError {
    match e {
        SagaError::Storage(e) => CheckoutError::Storage(e),
        other => CheckoutError::NeedsAttention(other.to_string()),
    }
}
