//! Checkout's use cases. The money is the cart's: a checkout's summary is its cart priced
//! for the checkout's destination and shipping method, by the cart service.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use weft_kernel::id::PrefixedId;
use weft_kernel::{Clock, Email, FieldError, PostalAddress};
use weft_storage::{Db, DbConn};

use crate::domain::{CheckoutId, CheckoutStatus};
use crate::error::CheckoutError;
use crate::store::{self, CheckoutRow};

/// A cart line, as the summary shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryLine {
    pub variant_id: String,
    pub title: String,
    pub sku: Option<String>,
    pub quantity: i64,
    pub unit_price: Option<i64>,
    pub line_total: i64,
    pub discount: i64,
    pub purchasable: bool,
}

/// A cart priced now, as checkout needs it (from the cart service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CartSummary {
    pub cart_id: String,
    pub customer_id: Option<String>,
    pub currency: String,
    pub lines: Vec<SummaryLine>,
    pub subtotal: i64,
    pub discounts: i64,
    pub shipping: i64,
    pub tax: i64,
    pub tax_inclusive: bool,
    pub total: i64,
    pub shipping_method_id: Option<String>,
}

/// A shipping method offered for the checkout's destination, priced for its cart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippingChoice {
    pub id: String,
    pub name: String,
    pub price: i64,
    pub delivery_estimate: String,
}

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

/// The checkout service of this process.
#[derive(Clone)]
pub struct CheckoutService {
    db: Db,
    carts: Arc<dyn Carts>,
    clock: Clock,
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
    pub fn new(db: Db, carts: Arc<dyn Carts>, clock: Clock) -> Self {
        Self { db, carts, clock }
    }

    fn now(&self) -> NaiveDateTime {
        self.clock.now().naive_utc()
    }

    /// A checkout `who` may use: a guest's for whoever holds its id, a customer's for
    /// that customer only (404 for anyone else).
    async fn owned(&self, id: &str, who: Option<&str>) -> Result<CheckoutRow, CheckoutError> {
        let mut conn = self.db.conn().await?;
        let row = store::find(&mut conn, id)
            .await?
            .ok_or(CheckoutError::NotFound)?;
        match &row.customer_id {
            Some(owner) if Some(owner.as_str()) != who => Err(CheckoutError::NotFound),
            _ => Ok(row),
        }
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
        if summary.shipping_method_id.is_none() {
            missing.push("shipping_method_id".to_owned());
        }
        Checkout {
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
        let summary = self
            .carts
            .cart(&row.cart_id, row.customer_id.as_deref())
            .await?;
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
        self.carts
            .shipping_options(&row.cart_id, row.customer_id.as_deref())
            .await
    }
}
