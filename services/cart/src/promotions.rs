//! Promotion codes: the merchant's CRUD, a cart applying and dropping codes, and an order
//! counting their use — atomically, when it is placed, not when a code is applied.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use weft_kernel::id::PrefixedId;
use weft_kernel::{Currency, Cursor, FieldError, Page, PageRequest};
use weft_storage::DbConn;

use crate::domain::{PromotionId, PromotionKind, PromotionRules, PromotionScope, Rejection};
use crate::error::CartError;
use crate::service::{Cart, CartService};
use crate::store::{self, PromotionRow, RedemptionRow};

/// A promotion as the merchant sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Promotion {
    pub id: String,
    pub code: String,
    pub description: String,
    pub kind: PromotionKind,
    pub percentage: Option<i64>,
    pub amounts: BTreeMap<String, i64>,
    pub minimum_subtotal: BTreeMap<String, i64>,
    pub scope: PromotionScope,
    pub combinable: bool,
    pub active: bool,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit: Option<i64>,
    pub per_customer_limit: Option<i64>,
    /// Orders placed with it (cancelled unpaid orders give theirs back).
    pub times_used: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new promotion (`code` and `kind` required) or changes to one: `None` keeps a field,
/// `Some(None)` clears a nullable one.
#[derive(Debug, Clone, Default)]
pub struct PromotionPatch {
    pub code: Option<String>,
    pub description: Option<String>,
    pub kind: Option<String>,
    pub percentage: Option<Option<i64>>,
    pub amounts: Option<BTreeMap<String, i64>>,
    pub minimum_subtotal: Option<BTreeMap<String, i64>>,
    /// `all`, `categories` or `collections`.
    pub scope: Option<String>,
    pub scope_ids: Option<Vec<String>>,
    pub combinable: Option<bool>,
    pub active: Option<bool>,
    pub starts_at: Option<Option<DateTime<Utc>>>,
    pub ends_at: Option<Option<DateTime<Utc>>>,
    pub usage_limit: Option<Option<i64>>,
    pub per_customer_limit: Option<Option<i64>>,
}

/// One use of a code by an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redemption {
    pub promotion_id: String,
    pub code: String,
    pub order_id: String,
    pub customer_key: Option<String>,
}

const CODE_MAX: usize = 40;
const DESCRIPTION_MAX: usize = 500;
const SCOPE_IDS_MAX: usize = 100;

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, CartError> {
    serde_json::from_str(s).map_err(|e| CartError::Upstream(format!("stored promotion: {e}")))
}

/// The rules a stored promotion stands for.
pub(crate) fn rules_of(row: &PromotionRow) -> Result<PromotionRules, CartError> {
    let p = promotion_of(row.clone())?;
    Ok(PromotionRules {
        code: p.code,
        kind: p.kind,
        percentage: p.percentage,
        amounts: p.amounts,
        minimum_subtotal: p.minimum_subtotal,
        scope: p.scope,
        combinable: p.combinable,
        active: p.active,
        starts_at: p.starts_at,
        ends_at: p.ends_at,
        usage_limit: p.usage_limit,
        times_used: p.times_used,
    })
}

fn promotion_of(row: PromotionRow) -> Result<Promotion, CartError> {
    let kind = PromotionKind::parse(&row.kind)
        .ok_or_else(|| CartError::Upstream(format!("stored promotion kind {}", row.kind)))?;
    let ids: Vec<String> = from_json(&row.scope_ids)?;
    let scope = match row.scope.as_str() {
        "categories" => PromotionScope::Categories(ids),
        "collections" => PromotionScope::Collections(ids),
        _ => PromotionScope::All,
    };
    Ok(Promotion {
        kind,
        scope,
        amounts: from_json(&row.amounts)?,
        minimum_subtotal: from_json(&row.minimum_subtotal)?,
        id: row.id,
        code: row.code,
        description: row.description,
        percentage: row.percentage,
        combinable: row.combinable,
        active: row.active,
        starts_at: row.starts_at.map(|t| t.and_utc()),
        ends_at: row.ends_at.map(|t| t.and_utc()),
        usage_limit: row.usage_limit,
        per_customer_limit: row.per_customer_limit,
        times_used: row.times_used,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

/// Codes are matched without regard to case or surrounding space.
fn normalize_code(code: &str) -> String {
    code.trim().to_uppercase()
}

fn check_amounts(field: &str, amounts: &BTreeMap<String, i64>, errors: &mut Vec<FieldError>) {
    for (currency, amount) in amounts {
        if Currency::parse(currency).is_err() || currency.to_uppercase() != *currency {
            errors.push(FieldError::new(
                format!("{field}.{currency}"),
                "must be an upper-case ISO 4217 currency code",
            ));
        } else if *amount < 0 || *amount > 100_000_000_000 {
            errors.push(FieldError::new(
                format!("{field}.{currency}"),
                "must be between 0 and 100,000,000,000 minor units",
            ));
        }
    }
}

/// Applies `patch` to `row` and checks the result as a whole.
fn merge(row: &mut PromotionRow, patch: PromotionPatch) -> Result<(), CartError> {
    let mut errors = Vec::new();
    if let Some(code) = patch.code {
        row.code = normalize_code(&code);
    }
    if row.code.len() < 3
        || row.code.len() > CODE_MAX
        || !row
            .code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        errors.push(FieldError::new(
            "code",
            format!("must be 3–{CODE_MAX} letters, digits, '-' or '_'"),
        ));
    }
    if let Some(d) = patch.description {
        d.trim().clone_into(&mut row.description);
    }
    if row.description.chars().count() > DESCRIPTION_MAX {
        errors.push(FieldError::new(
            "description",
            format!("must be at most {DESCRIPTION_MAX} characters"),
        ));
    }
    if let Some(kind) = patch.kind {
        row.kind = kind;
    }
    let kind = PromotionKind::parse(&row.kind);
    if kind.is_none() {
        errors.push(FieldError::new(
            "kind",
            "must be percentage, fixed_amount or free_shipping",
        ));
    }
    if let Some(p) = patch.percentage {
        row.percentage = p;
    }
    if let Some(a) = patch.amounts {
        check_amounts("amounts", &a, &mut errors);
        row.amounts = to_json(&a);
    }
    if let Some(m) = patch.minimum_subtotal {
        check_amounts("minimum_subtotal", &m, &mut errors);
        row.minimum_subtotal = to_json(&m);
    }
    match kind {
        Some(PromotionKind::Percentage) => {
            if !row.percentage.is_some_and(|p| (1..=100).contains(&p)) {
                errors.push(FieldError::new(
                    "percentage",
                    "is required for a percentage promotion: 1–100",
                ));
            }
        }
        Some(PromotionKind::FixedAmount) => {
            let amounts: BTreeMap<String, i64> = from_json(&row.amounts)?;
            if amounts.is_empty() || amounts.values().any(|a| *a == 0) {
                errors.push(FieldError::new(
                    "amounts",
                    "is required for a fixed_amount promotion: currency → amount above 0",
                ));
            }
            row.percentage = None;
        }
        Some(PromotionKind::FreeShipping) | None => row.percentage = None,
    }
    if let Some(scope) = patch.scope {
        row.scope = scope;
    }
    if let Some(ids) = patch.scope_ids {
        let mut ids: Vec<String> = ids.into_iter().map(|i| i.trim().to_owned()).collect();
        ids.sort();
        ids.dedup();
        row.scope_ids = to_json(&ids);
    }
    let ids: Vec<String> = from_json(&row.scope_ids)?;
    let prefix = match row.scope.as_str() {
        "all" => None,
        "categories" => Some("cat"),
        "collections" => Some("col"),
        _ => {
            errors.push(FieldError::new(
                "scope",
                "must be all, categories or collections",
            ));
            None
        }
    };
    match prefix {
        None if row.scope == "all" && !ids.is_empty() => errors.push(FieldError::new(
            "scope_ids",
            "must be empty when the scope is all",
        )),
        Some(prefix) => {
            if ids.is_empty() || ids.len() > SCOPE_IDS_MAX {
                errors.push(FieldError::new(
                    "scope_ids",
                    format!("must list 1–{SCOPE_IDS_MAX} ids for this scope"),
                ));
            }
            if let Some(bad) = ids.iter().find(|i| !i.starts_with(&format!("{prefix}_"))) {
                errors.push(FieldError::new(
                    "scope_ids",
                    format!("{bad:?} is not a {prefix}_… id"),
                ));
            }
        }
        None => {}
    }
    if let Some(c) = patch.combinable {
        row.combinable = c;
    }
    if let Some(a) = patch.active {
        row.active = a;
    }
    if let Some(s) = patch.starts_at {
        row.starts_at = s.map(|t| t.naive_utc());
    }
    if let Some(e) = patch.ends_at {
        row.ends_at = e.map(|t| t.naive_utc());
    }
    if let (Some(s), Some(e)) = (row.starts_at, row.ends_at)
        && e <= s
    {
        errors.push(FieldError::new("ends_at", "must be after starts_at"));
    }
    if let Some(l) = patch.usage_limit {
        row.usage_limit = l;
    }
    if let Some(l) = patch.per_customer_limit {
        row.per_customer_limit = l;
    }
    for (field, limit) in [
        ("usage_limit", row.usage_limit),
        ("per_customer_limit", row.per_customer_limit),
    ] {
        if limit.is_some_and(|l| l < 1) {
            errors.push(FieldError::new(
                field,
                "must be at least 1 (or null: no limit)",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CartError::Invalid(errors))
    }
}

/// A unique-key violation on the code column.
fn code_taken(err: CartError) -> CartError {
    match err {
        CartError::Storage(weft_storage::StorageError::Query(
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _,
            ),
        )) => CartError::PromotionCodeTaken,
        other => other,
    }
}

impl CartService {
    /// Creates a promotion. 409 `promotion_code_taken` when the code exists.
    pub async fn create_promotion(&self, patch: PromotionPatch) -> Result<Promotion, CartError> {
        let mut missing = Vec::new();
        if patch.code.is_none() {
            missing.push(FieldError::new("code", "is required"));
        }
        if patch.kind.is_none() {
            missing.push(FieldError::new("kind", "is required"));
        }
        if !missing.is_empty() {
            return Err(CartError::Invalid(missing));
        }
        let now = self.now();
        let mut row = PromotionRow {
            id: PromotionId::generate().to_string(),
            code: String::new(),
            description: String::new(),
            kind: String::new(),
            percentage: None,
            amounts: "{}".to_owned(),
            minimum_subtotal: "{}".to_owned(),
            scope: "all".to_owned(),
            scope_ids: "[]".to_owned(),
            combinable: false,
            active: true,
            starts_at: None,
            ends_at: None,
            usage_limit: None,
            per_customer_limit: None,
            times_used: 0,
            created_at: now,
            updated_at: now,
        };
        merge(&mut row, patch)?;
        self.db
            .transaction(async |conn: &mut DbConn| {
                if store::promotion_by_code(conn, &row.code).await?.is_some() {
                    return Err(CartError::PromotionCodeTaken);
                }
                store::insert_promotion(conn, &row).await?;
                Ok(())
            })
            .await
            .map_err(code_taken)?;
        promotion_of(row)
    }

    pub async fn promotion(&self, id: &str) -> Result<Promotion, CartError> {
        let mut conn = self.db.conn().await?;
        let row = store::find_promotion(&mut conn, id)
            .await?
            .ok_or(CartError::PromotionNotFound)?;
        promotion_of(row)
    }

    /// Promotions oldest first, a page at a time.
    pub async fn promotions(&self, page: &PageRequest) -> Result<Page<Promotion>, CartError> {
        let after: Option<String> = page
            .cursor
            .as_ref()
            .map(Cursor::decode::<String>)
            .transpose()
            .map_err(|_| CartError::field("cursor", "is not a cursor this API issued"))?;
        let mut conn = self.db.conn().await?;
        let rows = store::list_promotions(&mut conn, after.as_deref(), page.fetch_size()).await?;
        let page = Page::from_rows(rows, page, |r: &PromotionRow| r.id.clone());
        Ok(Page {
            data: page
                .data
                .into_iter()
                .map(promotion_of)
                .collect::<Result<_, _>>()?,
            next_cursor: page.next_cursor,
        })
    }

    pub async fn update_promotion(
        &self,
        id: &str,
        patch: PromotionPatch,
    ) -> Result<Promotion, CartError> {
        let now = self.now();
        let row = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let mut row = store::find_promotion(conn, id)
                    .await?
                    .ok_or(CartError::PromotionNotFound)?;
                merge(&mut row, patch.clone())?;
                if let Some(other) = store::promotion_by_code(conn, &row.code).await?
                    && other.id != row.id
                {
                    return Err(CartError::PromotionCodeTaken);
                }
                row.updated_at = now;
                store::update_promotion(conn, &row).await?;
                // The count as stored (redemptions may have moved it meanwhile).
                store::find_promotion(conn, id)
                    .await?
                    .ok_or(CartError::PromotionNotFound)
            })
            .await
            .map_err(code_taken)?;
        self.promotions_changed().await;
        promotion_of(row)
    }

    /// Deletes a promotion and takes it off every cart. Orders keep what they paid.
    pub async fn delete_promotion(&self, id: &str) -> Result<(), CartError> {
        let deleted = self
            .db
            .transaction(async |conn: &mut DbConn| {
                Ok::<_, CartError>(store::delete_promotion(conn, id).await?)
            })
            .await?;
        if deleted {
            self.promotions_changed().await;
            Ok(())
        } else {
            Err(CartError::PromotionNotFound)
        }
    }

    /// Puts a code on a cart. 422 with a code saying why when it cannot take anything
    /// off this cart now (unknown, not started, expired, used up, minimum not met, nothing
    /// in scope, not combinable with the cart's codes). Applying a code the cart holds
    /// changes nothing.
    pub async fn apply_code(
        &self,
        cart_id: &str,
        who: Option<&str>,
        code: &str,
    ) -> Result<Cart, CartError> {
        let code = normalize_code(code);
        if code.is_empty() || code.len() > CODE_MAX {
            return Err(CartError::Promotion(Rejection::Inactive));
        }
        let (mut stored, promotion) = {
            let mut conn = self.db.conn().await?;
            let cart = self.owned(&mut conn, cart_id, who).await?;
            let promotion = store::promotion_by_code(&mut conn, &code)
                .await?
                .filter(|p| p.active)
                .ok_or(CartError::Promotion(Rejection::Inactive))?;
            (Self::load(&mut conn, cart).await?, promotion)
        };
        if stored.promotions.iter().any(|p| p.id == promotion.id) {
            return self.price(stored).await;
        }
        // Price the cart as it would be with the code, and refuse it unless it counts.
        let promotion_id = promotion.id.clone();
        if let (Some(customer), Some(limit)) = (
            stored.cart.customer_id.clone(),
            promotion.per_customer_limit,
        ) {
            let mut conn = self.db.conn().await?;
            if store::uses_by(&mut conn, &promotion.id, &customer).await? >= limit {
                return Err(CartError::Promotion(Rejection::LimitReached));
            }
        }
        stored.promotions.push(promotion);
        let trial = self.price(stored).await?;
        let outcome = trial
            .promotions
            .iter()
            .find(|p| p.promotion_id == promotion_id)
            .and_then(|p| p.rejection);
        if let Some(rejection) = outcome {
            return Err(CartError::Promotion(rejection));
        }
        let now = self.now();
        let expires_at = self.expiry(now);
        self.db
            .transaction(async |conn: &mut DbConn| {
                let cart = self.owned(conn, cart_id, who).await?;
                store::apply_promotion(conn, &cart.id, &promotion_id, now).await?;
                store::touch_cart(conn, &cart.id, now, expires_at).await?;
                Ok::<_, CartError>(())
            })
            .await?;
        self.changed(cart_id).await;
        self.get(cart_id, who).await
    }

    /// Takes a code off a cart; 404 `promotion_not_found` when the cart does not hold it.
    pub async fn remove_code(
        &self,
        cart_id: &str,
        who: Option<&str>,
        code: &str,
    ) -> Result<Cart, CartError> {
        let code = normalize_code(code);
        let now = self.now();
        let expires_at = self.expiry(now);
        self.db
            .transaction(async |conn: &mut DbConn| {
                let cart = self.owned(conn, cart_id, who).await?;
                let held = store::promotions_of_cart(conn, &cart.id)
                    .await?
                    .into_iter()
                    .find(|p| p.code == code)
                    .ok_or(CartError::PromotionNotFound)?;
                store::unapply_promotion(conn, &cart.id, &held.id).await?;
                store::touch_cart(conn, &cart.id, now, expires_at).await?;
                Ok::<_, CartError>(())
            })
            .await?;
        self.changed(cart_id).await;
        self.get(cart_id, who).await
    }

    /// Counts the use of the codes an order placed from the cart takes off, for
    /// `order_id`: all or none. `codes` are the codes the order was priced with (those that
    /// took something off when checkout priced the cart): a code on the cart that took
    /// nothing off then (used up by other orders, minimum not met…) is not among them,
    /// so it is neither counted nor refuses the order. `None` (a caller that does not
    /// say) counts every code that applies now or is refused only for its counts. Each count is a
    /// guarded update under the promotion's row lock, so a code limited to N uses is used
    /// N times however many orders race for it: a counted code used up meanwhile refuses
    /// the order (`promotion_exhausted`), as does a per-customer limit checked under the
    /// same lock. `customer_key` is the customer id or, for a guest, their e-mail (the
    /// cart's customer when omitted). Repeating the call for the same order changes
    /// nothing (a retried checkout step).
    pub async fn redeem(
        &self,
        cart_id: &str,
        order_id: &str,
        customer_key: Option<&str>,
        codes: Option<&[String]>,
    ) -> Result<Vec<Redemption>, CartError> {
        let order_id = order_id.trim();
        if order_id.is_empty() || order_id.len() > 64 {
            return Err(CartError::field("order_id", "must be 1–64 characters"));
        }
        let stored = {
            let mut conn = self.db.conn().await?;
            let cart = store::find_live_cart(&mut conn, cart_id, self.now())
                .await?
                .ok_or(CartError::CartNotFound)?;
            Self::load(&mut conn, cart).await?
        };
        let key = customer_key
            .map(|k| k.trim().to_lowercase())
            .or_else(|| stored.cart.customer_id.clone());
        let rows = stored.promotions.clone();
        // The codes to count: the ones the order was priced with, or (not said) those
        // that may take something off the cart now.
        let counted: Vec<PromotionRow> = if let Some(codes) = codes {
            let wanted: Vec<String> = codes.iter().map(|c| normalize_code(c)).collect();
            let mut out: Vec<PromotionRow> = rows
                .iter()
                .filter(|r| wanted.contains(&r.code))
                .cloned()
                .collect();
            // A code taken off the cart since it was priced still counts for the order
            // that got its discount (a deleted one has nothing to count).
            let mut conn = self.db.conn().await?;
            for code in &wanted {
                if !out.iter().any(|r| &r.code == code)
                    && let Some(row) = store::promotion_by_code(&mut conn, code).await?
                {
                    out.push(row);
                }
            }
            out
        } else {
            // Without the codes the order was priced with, a code used up meanwhile
            // cannot be told from one used up before: one refused only for its counts
            // is counted under the lock below, or refuses the order (a retry of this
            // order finds the use it holds).
            let cart = self.price(stored).await?;
            rows.into_iter()
                .filter(|r| {
                    cart.promotions.iter().any(|p| {
                        p.promotion_id == r.id
                            && matches!(
                                p.rejection,
                                None | Some(Rejection::Exhausted | Rejection::LimitReached)
                            )
                    })
                })
                .collect()
        };
        let now = self.now();
        let redeemed = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let already = store::redemptions_of_order(conn, order_id).await?;
                let mut out = Vec::new();
                for row in &counted {
                    let redemption = Redemption {
                        promotion_id: row.id.clone(),
                        code: row.code.clone(),
                        order_id: order_id.to_owned(),
                        customer_key: key.clone(),
                    };
                    if already.iter().any(|r| r.promotion_id == row.id) {
                        out.push(redemption);
                        continue;
                    }
                    if !store::take_use(conn, &row.id).await? {
                        return Err(CartError::Promotion(Rejection::Exhausted));
                    }
                    if let (Some(key), Some(limit)) = (&key, row.per_customer_limit)
                        && store::uses_by(conn, &row.id, key).await? >= limit
                    {
                        return Err(CartError::Promotion(Rejection::LimitReached));
                    }
                    store::insert_redemption(
                        conn,
                        &RedemptionRow {
                            promotion_id: row.id.clone(),
                            order_id: order_id.to_owned(),
                            customer_key: key.clone(),
                            created_at: now,
                        },
                    )
                    .await?;
                    out.push(redemption);
                }
                Ok(out)
            })
            .await?;
        // Use counts moved: every cart's copy of the codes, and this cart's limits.
        if !redeemed.is_empty() {
            self.promotions_changed().await;
            self.changed(cart_id).await;
        }
        Ok(redeemed)
    }

    /// Gives back the uses an order took (its checkout failed, or it was cancelled
    /// before payment). Returns how many; a second call finds none.
    pub async fn release_redemptions(&self, order_id: &str) -> Result<usize, CartError> {
        let released = self
            .db
            .transaction(async |conn: &mut DbConn| Self::release_in(conn, order_id).await)
            .await?;
        if released > 0 {
            self.promotions_changed().await;
        }
        Ok(released)
    }

    /// Gives back the uses `order_id` counted, in the caller's transaction (an event
    /// handler's); call `promotions_changed` once it committed.
    pub(crate) async fn release_in(conn: &mut DbConn, order_id: &str) -> Result<usize, CartError> {
        let rows = store::redemptions_of_order(conn, order_id).await?;
        for row in &rows {
            store::delete_redemption(conn, &row.promotion_id, order_id).await?;
            store::give_back_use(conn, &row.promotion_id).await?;
        }
        Ok(rows.len())
    }
}
