//! The built-in `test` gateway (the embedded default): deterministic test tokens, and a
//! ledger of its own (`payments_test_intents`, `payments_test_refunds`) so it behaves
//! like a real gateway across retries and restarts — one authorization per idempotency
//! key, captures and refunds bounded by what was held.
//!
//! | token | outcome |
//! |---|---|
//! | `tok_visa` | authorized |
//! | `tok_chargeDeclined` | declined, `card_declined` |
//! | `tok_insufficientFunds` | declined, `insufficient_funds` |
//! | `tok_threeDSecureRequired` | requires action (3-D Secure), authorized on confirm |

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl};
use diesel_async::RunQueryDsl;
use serde_json::json;
use weft_kernel::{Clock, Money};
use weft_storage::{Db, DbConn, StorageError, db_run};

use crate::provider::{Authorization, Authorize, PaymentProvider, ProviderError, WebhookEvent};

diesel::table! {
    payments_test_intents (id) {
        id -> Text,
        idempotency_key -> Text,
        token -> Text,
        amount -> BigInt,
        currency -> Text,
        status -> Text,
        decline_code -> Nullable<Text>,
        captured -> BigInt,
        refunded -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    payments_test_refunds (id) {
        id -> Text,
        intent_id -> Text,
        idempotency_key -> Text,
        amount -> BigInt,
        created_at -> Timestamp,
    }
}

use payments_test_intents as intents;
use payments_test_refunds as refunds;

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = payments_test_intents)]
struct IntentRow {
    id: String,
    idempotency_key: String,
    token: String,
    amount: i64,
    currency: String,
    /// `requires_action`, `authorized`, `captured`, `voided` or `declined`.
    status: String,
    decline_code: Option<String>,
    captured: i64,
    refunded: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Eq, diesel::Queryable, diesel::Insertable)]
#[diesel(table_name = payments_test_refunds)]
struct RefundRow {
    id: String,
    intent_id: String,
    idempotency_key: String,
    amount: i64,
    created_at: NaiveDateTime,
}

/// The `test` gateway.
#[derive(Clone)]
pub struct TestGateway {
    db: Db,
    clock: Clock,
}

impl std::fmt::Debug for TestGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestGateway").finish_non_exhaustive()
    }
}

/// What a token does when authorized.
enum Card {
    Good,
    ThreeDs,
    Declined(&'static str, &'static str),
}

fn card(token: &str) -> Option<Card> {
    match token {
        "tok_visa" => Some(Card::Good),
        "tok_threeDSecureRequired" => Some(Card::ThreeDs),
        "tok_chargeDeclined" => Some(Card::Declined("card_declined", "Your card was declined.")),
        "tok_insufficientFunds" => Some(Card::Declined(
            "insufficient_funds",
            "Your card has insufficient funds.",
        )),
        _ => None,
    }
}

fn next_action(id: &str) -> serde_json::Value {
    // Stripe's shape: the client sends the customer to the URL, then confirms.
    json!({
        "type": "redirect_to_url",
        "redirect_to_url": {"url": format!("https://test-gateway.invalid/3ds/{id}"), "return_url": null}
    })
}

impl TestGateway {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self { db, clock }
    }

    fn now(&self) -> NaiveDateTime {
        self.clock.now().naive_utc()
    }

    fn answer(row: &IntentRow) -> Result<Authorization, ProviderError> {
        match row.status.as_str() {
            "declined" => {
                let code = row
                    .decline_code
                    .clone()
                    .unwrap_or_else(|| "card_declined".into());
                let message = match card(&row.token) {
                    Some(Card::Declined(_, m)) => m.to_owned(),
                    _ => "Your card was declined.".to_owned(),
                };
                Err(ProviderError::Declined { code, message })
            }
            "requires_action" => Ok(Authorization::RequiresAction {
                provider_ref: row.id.clone(),
                next_action: next_action(&row.id),
            }),
            _ => Ok(Authorization::Authorized {
                provider_ref: row.id.clone(),
            }),
        }
    }

    /// Reads an intent inside `conn`'s transaction, locked until it ends: `FOR UPDATE` on
    /// PostgreSQL; SQLite's write transaction is exclusive already. So two refunds of one
    /// payment cannot both pass the bound check.
    async fn intent(conn: &mut DbConn, id: &str) -> Result<IntentRow, ProviderError> {
        let key = id.to_owned();
        let found = match conn {
            DbConn::Postgres(c) => {
                let c: &mut diesel_async::AsyncPgConnection = &mut *c;
                intents::table
                    .find(key)
                    .for_update()
                    .first::<IntentRow>(c)
                    .await
                    .optional()
            }
            DbConn::Sqlite(c) => {
                let c: &mut weft_storage::SqliteConn = &mut *c;
                intents::table
                    .find(key)
                    .first::<IntentRow>(c)
                    .await
                    .optional()
            }
        };
        found
            .map_err(|e| ProviderError::from(StorageError::from(e)))?
            .ok_or_else(|| ProviderError::Invalid(format!("no such payment intent {id}")))
    }

    async fn set(conn: &mut DbConn, row: &IntentRow) -> Result<(), ProviderError> {
        let r = row.clone();
        db_run!(conn, c => diesel::update(intents::table.find(r.id.clone()))
            .set((
                intents::status.eq(r.status.clone()),
                intents::captured.eq(r.captured),
                intents::refunded.eq(r.refunded),
                intents::updated_at.eq(r.updated_at),
            ))
            .execute(c)
            .await)
        .map_err(|e| ProviderError::from(StorageError::from(e)))?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl PaymentProvider for TestGateway {
    fn name(&self) -> &'static str {
        "test"
    }

    async fn authorize(&self, request: &Authorize) -> Result<Authorization, ProviderError> {
        let Some(card) = card(&request.token) else {
            return Err(ProviderError::Invalid(format!(
                "unknown test token {:?}: use tok_visa, tok_chargeDeclined, \
                 tok_insufficientFunds or tok_threeDSecureRequired",
                request.token
            )));
        };
        if request.amount.amount <= 0 {
            return Err(ProviderError::Invalid("the amount must be above 0".into()));
        }
        let now = self.now();
        let (status, decline) = match card {
            Card::Good => ("authorized", None),
            Card::ThreeDs => ("requires_action", None),
            Card::Declined(code, _) => ("declined", Some(code.to_owned())),
        };
        let row = IntentRow {
            id: format!("pi_test_{}", uuid::Uuid::now_v7().simple()),
            idempotency_key: request.idempotency_key.clone(),
            token: request.token.clone(),
            amount: request.amount.amount,
            currency: request.amount.currency.code().to_owned(),
            status: status.to_owned(),
            decline_code: decline,
            captured: 0,
            refunded: 0,
            created_at: now,
            updated_at: now,
        };
        let stored = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let key = row.idempotency_key.clone();
                // The key's first request wins; a retry gets its answer.
                db_run!(conn, c => diesel::insert_into(intents::table)
                    .values(row.clone())
                    .on_conflict_do_nothing()
                    .execute(c)
                    .await)?;
                Ok::<_, StorageError>(db_run!(conn, c => intents::table
                    .filter(intents::idempotency_key.eq(key.clone()))
                    .first::<IntentRow>(c)
                    .await)?)
            })
            .await
            .map_err(ProviderError::from)?;
        if stored.amount != row.amount
            || stored.currency != row.currency
            || stored.token != row.token
        {
            return Err(ProviderError::Invalid(
                "this idempotency key was used for a different authorization".into(),
            ));
        }
        Self::answer(&stored)
    }

    async fn find_by_key(&self, idempotency_key: &str) -> Result<Option<String>, ProviderError> {
        let key = idempotency_key.to_owned();
        let mut conn = self.db.conn().await?;
        let found = db_run!(&mut conn, c => intents::table
            .filter(intents::idempotency_key.eq(key.clone()))
            .select(intents::id)
            .first::<String>(c)
            .await
            .optional())
        .map_err(|e| ProviderError::from(StorageError::from(e)))?;
        Ok(found)
    }

    async fn confirm(&self, provider_ref: &str) -> Result<Authorization, ProviderError> {
        let now = self.now();
        let row = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let mut row = Self::intent(conn, provider_ref).await?;
                if row.status == "requires_action" {
                    // The test customer always passes 3-D Secure.
                    row.status = "authorized".into();
                    row.updated_at = now;
                    Self::set(conn, &row).await?;
                }
                Ok::<_, ProviderError>(row)
            })
            .await?;
        match row.status.as_str() {
            "voided" => Err(ProviderError::Invalid(
                "the authorization was voided".into(),
            )),
            _ => Self::answer(&row),
        }
    }

    async fn capture(&self, provider_ref: &str, amount: Money) -> Result<(), ProviderError> {
        let now = self.now();
        self.db
            .transaction(async |conn: &mut DbConn| {
                let mut row = Self::intent(conn, provider_ref).await?;
                if amount.currency.code() != row.currency {
                    return Err(ProviderError::Invalid("capture in another currency".into()));
                }
                match row.status.as_str() {
                    // Capturing again what was captured is the same capture.
                    "captured" if row.captured == amount.amount => Ok(()),
                    "authorized" if (1..=row.amount).contains(&amount.amount) => {
                        row.status = "captured".into();
                        row.captured = amount.amount;
                        row.updated_at = now;
                        Self::set(conn, &row).await
                    }
                    "authorized" => Err(ProviderError::Invalid(format!(
                        "cannot capture {} of an authorization of {}",
                        amount.amount, row.amount
                    ))),
                    other => Err(ProviderError::Invalid(format!(
                        "cannot capture a payment that is {other}"
                    ))),
                }
            })
            .await
    }

    async fn void(&self, provider_ref: &str) -> Result<(), ProviderError> {
        let now = self.now();
        self.db
            .transaction(async |conn: &mut DbConn| {
                let mut row = Self::intent(conn, provider_ref).await?;
                match row.status.as_str() {
                    "voided" | "declined" => Ok(()),
                    "authorized" | "requires_action" => {
                        row.status = "voided".into();
                        row.updated_at = now;
                        Self::set(conn, &row).await
                    }
                    _ => Err(ProviderError::Invalid(
                        "cannot void a captured payment: refund it".into(),
                    )),
                }
            })
            .await
    }

    async fn refund(
        &self,
        provider_ref: &str,
        amount: Money,
        idempotency_key: &str,
    ) -> Result<String, ProviderError> {
        let now = self.now();
        self.db
            .transaction(async |conn: &mut DbConn| {
                let key = idempotency_key.to_owned();
                let existing = db_run!(conn, c => refunds::table
                    .filter(refunds::idempotency_key.eq(key.clone()))
                    .first::<RefundRow>(c)
                    .await
                    .optional())
                .map_err(|e| ProviderError::from(StorageError::from(e)))?;
                if let Some(done) = existing {
                    return if done.intent_id == provider_ref && done.amount == amount.amount {
                        Ok(done.id)
                    } else {
                        Err(ProviderError::Invalid(
                            "this idempotency key was used for a different refund".into(),
                        ))
                    };
                }
                let mut row = Self::intent(conn, provider_ref).await?;
                if row.status != "captured" {
                    return Err(ProviderError::Invalid(format!(
                        "cannot refund a payment that is {}",
                        row.status
                    )));
                }
                if amount.currency.code() != row.currency
                    || amount.amount <= 0
                    || amount.amount > row.captured - row.refunded
                {
                    return Err(ProviderError::Invalid(format!(
                        "cannot refund {} of {} left",
                        amount.amount,
                        row.captured - row.refunded
                    )));
                }
                row.refunded += amount.amount;
                row.updated_at = now;
                Self::set(conn, &row).await?;
                let refund = RefundRow {
                    id: format!("re_test_{}", uuid::Uuid::now_v7().simple()),
                    intent_id: row.id.clone(),
                    idempotency_key: idempotency_key.to_owned(),
                    amount: amount.amount,
                    created_at: now,
                };
                db_run!(conn, c => diesel::insert_into(refunds::table).values(refund.clone()).execute(c).await)
                    .map_err(|e| ProviderError::from(StorageError::from(e)))?;
                Ok(refund.id)
            })
            .await
    }

    async fn handle_webhook(
        &self,
        _headers: &[(String, String)],
        _body: &[u8],
    ) -> Result<WebhookEvent, ProviderError> {
        // Its answers are synchronous: there is nothing to tell later.
        Err(ProviderError::Invalid(
            "the test gateway sends no webhooks".into(),
        ))
    }
}

impl From<StorageError> for ProviderError {
    fn from(e: StorageError) -> Self {
        Self::Unavailable(e.to_string())
    }
}
