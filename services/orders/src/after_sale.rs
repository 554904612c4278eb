//! After the sale: a customer calls off a paid order (the money goes back, the units
//! back on the shelf), asks to return some units (the back office approves, receives
//! and refunds them), and the back office gives money back, all or part.
//!
//! Money goes back through the [`Payments`](crate::ports::Payments) port. A
//! cancellation commits first, with a settlement row and `OrderCancelled` (inventory
//! restocks, carts give back promotion uses); the payment is then let go, and retried by
//! [`OrderService::run_settler`] until the gateway answers. A refund is recorded
//! `pending` under the caller's key before the gateway is asked with the refund's id as
//! its idempotency key, so a retry (or the settler, after a crash) is the same refund.

use std::time::Duration;

use chrono::{DateTime, Utc};
use weft_bus::events::{OrderRefunded, ReturnReceived, Units};
use weft_kernel::id::PrefixedId;
use weft_kernel::{Currency, Cursor, FieldError, Money, Page, PageRequest};
use weft_storage::DbConn;

use crate::domain::{
    OrderStatus, RefundId, ReturnId, ReturnItem, ReturnMove, ReturnStatus, Transition,
};
use crate::ports::PaymentError;
use crate::service::{Order, OrderService, OrdersError};
use crate::store::{self, RefundRow, ReturnRow};

/// Money given back on an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: String,
    pub order_id: String,
    pub return_id: Option<String>,
    pub amount: i64,
    pub reason: String,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// The gateway's refund id.
    pub provider_ref: Option<String>,
    pub error: Option<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// Units a customer sends back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Return {
    pub id: String,
    pub order_id: String,
    pub status: ReturnStatus,
    pub reason: String,
    pub items: Vec<ReturnItem>,
    pub history: Vec<ReturnMove>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What a refund asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// Minor units; defaults to the value of `return_id`'s units.
    pub amount: Option<i64>,
    pub reason: String,
    /// The received return this refund pays back.
    pub return_id: Option<String>,
}

fn refund(row: RefundRow) -> Refund {
    Refund {
        id: row.id,
        order_id: row.order_id,
        return_id: row.return_id,
        amount: row.amount,
        reason: row.reason,
        status: row.status,
        provider_ref: row.provider_ref,
        error: row.error,
        actor: row.actor,
        created_at: row.created_at.and_utc(),
    }
}

fn a_return(row: ReturnRow) -> Result<Return, OrdersError> {
    Ok(Return {
        status: ReturnStatus::parse(&row.status)
            .ok_or_else(|| OrdersError::Corrupt(row.status.clone()))?,
        items: serde_json::from_str(&row.items).map_err(|e| OrdersError::Corrupt(e.to_string()))?,
        history: serde_json::from_str(&row.history)
            .map_err(|e| OrdersError::Corrupt(e.to_string()))?,
        id: row.id,
        order_id: row.order_id,
        reason: row.reason,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

fn invalid(field: &str, message: impl Into<String>) -> OrdersError {
    OrdersError::Invalid(vec![FieldError::new(field, message)])
}

/// A free text of 1–`max` characters, trimmed.
pub(crate) fn text(field: &str, value: &str, max: usize) -> Result<String, OrdersError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(invalid(field, format!("must be 1–{max} characters")));
    }
    Ok(value.to_owned())
}

/// Which returns a list shows.
#[derive(Debug, Clone, Default)]
pub struct ReturnFilter {
    pub status: Option<ReturnStatus>,
}

impl OrderService {
    /// Calls off a paid, unshipped order: `cancelled` with `OrderCancelled` (units back
    /// on the shelf, promotion uses given back) and the payment let go (voided or
    /// refunded in full) once that committed. `customer_id` limits it to that
    /// customer's order (anyone else's is 404). 409 once fulfilled, or while checkout is
    /// still taking the payment (`pending`).
    #[tracing::instrument(skip_all, fields(order_id = %id))]
    pub async fn cancel(
        &self,
        id: &str,
        reason: &str,
        actor: &str,
        customer_id: Option<&str>,
    ) -> Result<Order, OrdersError> {
        let reason = text("reason", reason, 500)?;
        let order = self.get(id).await?;
        if customer_id.is_some() && order.customer_id.as_deref() != customer_id {
            return Err(OrdersError::NotFound);
        }
        if order.status == OrderStatus::Pending {
            // The saga moves a pending order on; calling it off belongs to the saga.
            return Err(OrdersError::Illegal(crate::domain::IllegalTransition {
                from: "pending",
                action: "cancelled",
            }));
        }
        if self.payments.is_none() {
            return Err(OrdersError::GatewayUnavailable(
                "no payments service is configured".into(),
            ));
        }
        self.db
            .transaction(async |conn: &mut DbConn| {
                let row = store::find_locked(conn, id)
                    .await?
                    .ok_or(OrdersError::NotFound)?;
                // A refund the gateway has not answered yet would race the cancellation's
                // own: let it settle first.
                if store::refunds_of(conn, id)
                    .await?
                    .iter()
                    .any(|r| r.status == "pending")
                {
                    return Err(OrdersError::RefundPending);
                }
                self.move_in(
                    conn,
                    &row,
                    Transition::Cancelled {
                        reason: reason.clone(),
                        restock: true,
                    },
                    actor,
                )
                .await
            })
            .await?;
        self.wake();
        // The money goes back now if the gateway answers; otherwise the settler retries.
        if let Err(err) = self.settle(id).await {
            tracing::warn!(error = %err, "the cancelled order's payment is let go later");
        }
        self.get(id).await
    }

    /// Lets go of a cancelled order's payment, once; records the outcome.
    async fn settle(&self, order_id: &str) -> Result<(), OrdersError> {
        let Some(payments) = self.payments.clone() else {
            return Ok(());
        };
        let settlement = {
            let mut conn = self.db.conn().await?;
            store::find_settlement(&mut conn, order_id).await?
        };
        let Some(settlement) = settlement.filter(|s| s.status == "pending") else {
            return Ok(());
        };
        let answer = payments.cancel(&settlement.payment_id).await;
        let now = self.clock.now().naive_utc();
        let attempts = settlement.attempts.saturating_add(1);
        match answer {
            Ok(()) => {
                self.db
                    .transaction(async |conn: &mut DbConn| {
                        let row = store::find_locked(conn, order_id)
                            .await?
                            .ok_or(OrdersError::NotFound)?;
                        store::finish_settlement(conn, order_id, "settled", attempts, None, now)
                            .await?;
                        let given_back = row.total;
                        if row.refunded_total < given_back {
                            store::set_refunded_total(conn, order_id, given_back, now).await?;
                            let currency = Currency::parse(&row.currency)
                                .map_err(|e| OrdersError::Corrupt(e.to_string()))?;
                            weft_bus::append(
                                conn,
                                &OrderRefunded {
                                    order_id: order_id.to_owned(),
                                    refund_id: format!("cancel:{order_id}"),
                                    amount: Money::new(given_back - row.refunded_total, currency),
                                    refunded_total: Money::new(given_back, currency),
                                    reason: "order cancelled".to_owned(),
                                },
                            )
                            .await?;
                        }
                        Ok::<_, OrdersError>(())
                    })
                    .await?;
                self.wake();
                tracing::info!(order_id, "cancelled order's payment let go");
                Ok(())
            }
            Err(PaymentError::Refused(message)) => {
                // Needs a person: the gateway will not take it back as asked.
                tracing::error!(order_id, error = %message, "the gateway refused to let a cancelled order's payment go");
                let mut conn = self.db.conn().await?;
                store::finish_settlement(
                    &mut conn,
                    order_id,
                    "failed",
                    attempts,
                    Some(&message),
                    now,
                )
                .await?;
                Err(OrdersError::RefundRefused(message))
            }
            Err(PaymentError::Transient(message)) => {
                let mut conn = self.db.conn().await?;
                store::finish_settlement(
                    &mut conn,
                    order_id,
                    "pending",
                    attempts,
                    Some(&message),
                    now,
                )
                .await?;
                Err(OrdersError::GatewayUnavailable(message))
            }
        }
    }

    /// Gives back money on a paid order (all or part), once per `key`: a retry with the
    /// same key answers the first refund. With `return_id`, pays back that received
    /// return (its units' value unless `amount` says otherwise) and marks it refunded.
    #[tracing::instrument(skip_all, fields(order_id = %order_id))]
    pub async fn refund(
        &self,
        order_id: &str,
        request: RefundRequest,
        key: &str,
        actor: &str,
    ) -> Result<(Order, Refund), OrdersError> {
        let payments = self.payments.clone().ok_or_else(|| {
            OrdersError::GatewayUnavailable("no payments service is configured".into())
        })?;
        let reason = text("reason", &request.reason, 500)?;
        let key = text("Idempotency-Key", key, 255)?;
        let now = self.clock.now().naive_utc();
        let row = self
            .db
            .transaction(async |conn: &mut DbConn| {
                let order = store::find_locked(conn, order_id)
                    .await?
                    .ok_or(OrdersError::NotFound)?;
                if let Some(done) = store::refund_by_key(conn, order_id, &key).await? {
                    return Ok(done);
                }
                let status = OrderStatus::parse(&order.status)
                    .ok_or_else(|| OrdersError::Corrupt(order.status.clone()))?;
                if order.payment_id.is_none() {
                    return Err(OrdersError::Illegal(crate::domain::IllegalTransition {
                        from: status.as_str(),
                        action: "refunded",
                    }));
                }
                let mut amount = request.amount;
                if let Some(return_id) = &request.return_id {
                    let ret = store::find_return(conn, return_id)
                        .await?
                        .filter(|r| r.order_id == order_id)
                        .ok_or(OrdersError::ReturnNotFound)?;
                    let ret = a_return(ret)?;
                    ret.status.moves_to(ReturnStatus::Refunded)?;
                    if amount.is_none() {
                        let lines = store::lines_of(conn, order_id).await?;
                        amount = Some(return_value(&ret.items, &lines).ok_or_else(|| {
                            invalid("return_id", "its units' value is out of range")
                        })?);
                    }
                }
                let amount =
                    amount.ok_or_else(|| invalid("amount", "is required without a return"))?;
                let pending = weft_kernel::money::sum_amounts(
                    store::refunds_of(conn, order_id)
                        .await?
                        .iter()
                        .filter(|r| r.status == "pending")
                        .map(|r| r.amount),
                )
                .map_err(|e| OrdersError::Corrupt(format!("pending refunds: {e}")))?;
                let left = order.total - order.refunded_total - pending;
                // The status machine decides whether this order can be refunded at all.
                Transition::Refunded {
                    amount: amount.max(1),
                    refunded_total: order.refunded_total,
                    paid_total: order.total,
                }
                .apply(status)?;
                if left < 1 {
                    // An order whose total was 0 (nothing charged), or given back in full.
                    return Err(invalid("amount", "nothing is left to give back"));
                }
                if amount < 1 || amount > left {
                    return Err(invalid(
                        "amount",
                        format!("must be 1–{left}, what is left to give back"),
                    ));
                }
                let row = RefundRow {
                    id: RefundId::generate().to_string(),
                    order_id: order_id.to_owned(),
                    return_id: request.return_id.clone(),
                    amount,
                    reason: reason.clone(),
                    idempotency_key: key.clone(),
                    status: "pending".to_owned(),
                    provider_ref: None,
                    error: None,
                    actor: actor.to_owned(),
                    created_at: now,
                    updated_at: now,
                };
                store::insert_refund(conn, &row).await?;
                Ok::<_, OrdersError>(row)
            })
            .await?;
        let row = match row.status.as_str() {
            "pending" => self.pay_back(&*payments, row).await?,
            "failed" => {
                return Err(OrdersError::RefundRefused(row.error.unwrap_or_default()));
            }
            _ => row,
        };
        Ok((self.get(order_id).await?, refund(row)))
    }

    /// Asks the gateway for a pending refund (its id is the gateway's idempotency key)
    /// and records the answer: the order moves to `partially_refunded` or `refunded`.
    async fn pay_back(
        &self,
        payments: &dyn crate::ports::Payments,
        row: RefundRow,
    ) -> Result<RefundRow, OrdersError> {
        let payment_id = {
            let mut conn = self.db.conn().await?;
            store::find(&mut conn, &row.order_id)
                .await?
                .and_then(|o| o.payment_id)
                .ok_or(OrdersError::NotFound)?
        };
        let answer = payments.refund(&payment_id, row.amount, &row.id).await;
        let now = self.clock.now();
        match answer {
            Ok(reference) => {
                self.db
                    .transaction(async |conn: &mut DbConn| {
                        let order = store::find_locked(conn, &row.order_id)
                            .await?
                            .ok_or(OrdersError::NotFound)?;
                        let current = store::find_refund(conn, &row.id)
                            .await?
                            .ok_or(OrdersError::NotFound)?;
                        if current.status != "pending" {
                            // Recorded by a concurrent retry (or the settler).
                            return Ok(());
                        }
                        store::finish_refund(
                            conn,
                            &row.id,
                            "succeeded",
                            Some(&reference),
                            None,
                            now.naive_utc(),
                        )
                        .await?;
                        let refunded_total = order.refunded_total + row.amount;
                        self.move_in(
                            conn,
                            &order,
                            Transition::Refunded {
                                amount: row.amount,
                                refunded_total,
                                paid_total: order.total,
                            },
                            &row.actor,
                        )
                        .await?;
                        let currency = Currency::parse(&order.currency)
                            .map_err(|e| OrdersError::Corrupt(e.to_string()))?;
                        weft_bus::append(
                            conn,
                            &OrderRefunded {
                                order_id: row.order_id.clone(),
                                refund_id: row.id.clone(),
                                amount: Money::new(row.amount, currency),
                                refunded_total: Money::new(refunded_total, currency),
                                reason: row.reason.clone(),
                            },
                        )
                        .await?;
                        if let Some(return_id) = &row.return_id {
                            self.move_return_in(
                                conn,
                                return_id,
                                ReturnStatus::Refunded,
                                &row.actor,
                                None,
                            )
                            .await?;
                        }
                        Ok::<_, OrdersError>(())
                    })
                    .await?;
                self.wake();
                tracing::info!(refund_id = %row.id, amount = row.amount, "refunded");
            }
            Err(PaymentError::Refused(message)) => {
                let mut conn = self.db.conn().await?;
                store::finish_refund(
                    &mut conn,
                    &row.id,
                    "failed",
                    None,
                    Some(&message),
                    now.naive_utc(),
                )
                .await?;
                return Err(OrdersError::RefundRefused(message));
            }
            Err(PaymentError::Transient(message)) => {
                return Err(OrdersError::GatewayUnavailable(message));
            }
        }
        let mut conn = self.db.conn().await?;
        store::find_refund(&mut conn, &row.id)
            .await?
            .ok_or(OrdersError::NotFound)
    }

    /// The refunds of an order, oldest first.
    pub async fn refunds(&self, order_id: &str) -> Result<Vec<Refund>, OrdersError> {
        let mut conn = self.db.conn().await?;
        Ok(store::refunds_of(&mut conn, order_id)
            .await?
            .into_iter()
            .map(refund)
            .collect())
    }

    /// A customer asks to send back some units of a shipped order: 1 to what they
    /// bought of each, less what other returns (not rejected) already hold.
    pub async fn request_return(
        &self,
        order_id: &str,
        customer_id: &str,
        items: Vec<ReturnItem>,
        reason: &str,
    ) -> Result<Return, OrdersError> {
        let reason = text("reason", reason, 500)?;
        if items.is_empty() {
            return Err(invalid("items", "must name at least one bought variant"));
        }
        if items.len() > 100 {
            return Err(invalid("items", "must be at most 100"));
        }
        let now = self.clock.now();
        let id = ReturnId::generate().to_string();
        self.db
            .transaction(async |conn: &mut DbConn| {
                let order = store::find_locked(conn, order_id)
                    .await?
                    .filter(|o| o.customer_id.as_deref() == Some(customer_id))
                    .ok_or(OrdersError::NotFound)?;
                let status = OrderStatus::parse(&order.status)
                    .ok_or_else(|| OrdersError::Corrupt(order.status.clone()))?;
                let shipped = matches!(
                    status,
                    OrderStatus::Fulfilled
                        | OrderStatus::Delivered
                        | OrderStatus::PartiallyRefunded
                ) && store::history_of(conn, order_id)
                    .await?
                    .iter()
                    .any(|h| h.to_status == OrderStatus::Fulfilled.as_str());
                if !shipped {
                    return Err(OrdersError::Illegal(crate::domain::IllegalTransition {
                        from: status.as_str(),
                        action: "returned",
                    }));
                }
                let lines = store::lines_of(conn, order_id).await?;
                let others = store::returns_of(conn, order_id)
                    .await?
                    .into_iter()
                    .map(a_return)
                    .collect::<Result<Vec<_>, _>>()?;
                let mut errors = Vec::new();
                let mut seen = std::collections::HashSet::new();
                for (i, item) in items.iter().enumerate() {
                    let field = format!("items[{i}]");
                    if !seen.insert(item.variant_id.clone()) {
                        errors.push(FieldError::new(field, "names a variant twice"));
                        continue;
                    }
                    let bought: i64 = lines
                        .iter()
                        .filter(|l| l.variant_id == item.variant_id)
                        .map(|l| l.quantity)
                        .sum();
                    if bought == 0 {
                        errors.push(FieldError::new(
                            format!("{field}.variant_id"),
                            "was not bought in this order",
                        ));
                        continue;
                    }
                    let held: i64 = others
                        .iter()
                        .filter(|r| r.status.holds_units())
                        .flat_map(|r| r.items.iter())
                        .filter(|x| x.variant_id == item.variant_id)
                        .map(|x| x.quantity)
                        .sum();
                    let left = bought - held;
                    if item.quantity < 1 || item.quantity > left {
                        errors.push(FieldError::new(
                            format!("{field}.quantity"),
                            format!("must be 1–{left}, what is left to return of it"),
                        ));
                    }
                }
                if !errors.is_empty() {
                    return Err(OrdersError::Invalid(errors));
                }
                let history = vec![ReturnMove {
                    status: ReturnStatus::Requested,
                    actor: format!("user:{customer_id}"),
                    at: now,
                    note: None,
                }];
                store::insert_return(
                    conn,
                    &ReturnRow {
                        id: id.clone(),
                        order_id: order_id.to_owned(),
                        status: ReturnStatus::Requested.as_str().to_owned(),
                        reason: reason.clone(),
                        items: serde_json::to_string(&items).unwrap_or_default(),
                        history: serde_json::to_string(&history).unwrap_or_default(),
                        created_at: now.naive_utc(),
                        updated_at: now.naive_utc(),
                    },
                )
                .await?;
                Ok::<_, OrdersError>(())
            })
            .await?;
        self.get_return(&id).await
    }

    pub async fn get_return(&self, id: &str) -> Result<Return, OrdersError> {
        let mut conn = self.db.conn().await?;
        a_return(
            store::find_return(&mut conn, id)
                .await?
                .ok_or(OrdersError::ReturnNotFound)?,
        )
    }

    /// The returns of an order, oldest first.
    pub async fn returns_of(&self, order_id: &str) -> Result<Vec<Return>, OrdersError> {
        let mut conn = self.db.conn().await?;
        store::returns_of(&mut conn, order_id)
            .await?
            .into_iter()
            .map(a_return)
            .collect()
    }

    /// Returns newest first (the back office's queue).
    pub async fn list_returns(
        &self,
        filter: &ReturnFilter,
        page: &PageRequest,
    ) -> Result<Page<Return>, OrdersError> {
        let before: Option<String> = page
            .cursor
            .as_ref()
            .map(Cursor::decode::<String>)
            .transpose()
            .map_err(|_| invalid("cursor", "is not a cursor this API issued"))?;
        let mut conn = self.db.conn().await?;
        let rows = store::list_returns(
            &mut conn,
            filter.status.map(ReturnStatus::as_str),
            before.as_deref(),
            page.fetch_size(),
        )
        .await?;
        let page = Page::from_rows(rows, page, |r: &ReturnRow| r.id.clone());
        Ok(Page {
            data: page
                .data
                .into_iter()
                .map(a_return)
                .collect::<Result<_, _>>()?,
            next_cursor: page.next_cursor,
        })
    }

    /// Approves or rejects a requested return (the back office).
    pub async fn decide_return(
        &self,
        id: &str,
        approve: bool,
        note: Option<String>,
        actor: &str,
    ) -> Result<Return, OrdersError> {
        let to = if approve {
            ReturnStatus::Approved
        } else {
            ReturnStatus::Rejected
        };
        self.db
            .transaction(async |conn: &mut DbConn| {
                self.move_return_in(conn, id, to, actor, note.clone()).await
            })
            .await?;
        self.get_return(id).await
    }

    /// The returned units arrived: `ReturnReceived` goes out, and inventory puts them
    /// back on sale when `restock` (not when damaged or worn).
    pub async fn receive_return(
        &self,
        id: &str,
        restock: bool,
        actor: &str,
    ) -> Result<Return, OrdersError> {
        self.db
            .transaction(async |conn: &mut DbConn| {
                let note = if restock {
                    "restocked"
                } else {
                    "not restocked"
                };
                let ret = self
                    .move_return_in(conn, id, ReturnStatus::Received, actor, Some(note.into()))
                    .await?;
                weft_bus::append(
                    conn,
                    &ReturnReceived {
                        return_id: ret.id.clone(),
                        order_id: ret.order_id.clone(),
                        lines: ret
                            .items
                            .iter()
                            .map(|i| Units {
                                variant_id: i.variant_id.clone(),
                                quantity: i.quantity,
                            })
                            .collect(),
                        restock,
                    },
                )
                .await?;
                Ok::<_, OrdersError>(())
            })
            .await?;
        self.wake();
        self.get_return(id).await
    }

    /// Moves a return under its order's lock, recording who and when.
    async fn move_return_in(
        &self,
        conn: &mut DbConn,
        id: &str,
        to: ReturnStatus,
        actor: &str,
        note: Option<String>,
    ) -> Result<Return, OrdersError> {
        let row = store::find_return(conn, id)
            .await?
            .ok_or(OrdersError::ReturnNotFound)?;
        store::find_locked(conn, &row.order_id).await?;
        // Read again under the lock: a concurrent move may have won.
        let row = store::find_return(conn, id)
            .await?
            .ok_or(OrdersError::ReturnNotFound)?;
        let mut ret = a_return(row)?;
        ret.status = ret.status.moves_to(to)?;
        let now = self.clock.now();
        ret.history.push(ReturnMove {
            status: to,
            actor: actor.to_owned(),
            at: now,
            note,
        });
        ret.updated_at = now;
        store::update_return(
            conn,
            id,
            to.as_str(),
            &serde_json::to_string(&ret.history).unwrap_or_default(),
            now.naive_utc(),
        )
        .await?;
        Ok(ret)
    }

    /// Lets go of cancelled orders' payments and finishes refunds the gateway had not
    /// answered (a crash, a timeout); returns how many it settled.
    pub async fn settle_pending(&self) -> Result<usize, OrdersError> {
        let Some(payments) = self.payments.clone() else {
            return Ok(0);
        };
        let (settlements, refunds) = {
            let mut conn = self.db.conn().await?;
            // A refund younger than a minute may still be in its request's hands.
            let before = (self.clock.now() - chrono::Duration::seconds(60)).naive_utc();
            (
                store::pending_settlements(&mut conn, 100).await?,
                store::pending_refunds(&mut conn, before, 100).await?,
            )
        };
        let mut settled = 0;
        for s in settlements {
            if self.settle(&s.order_id).await.is_ok() {
                settled += 1;
            }
        }
        for r in refunds {
            let id = r.id.clone();
            match self.pay_back(&*payments, r).await {
                Ok(_) => settled += 1,
                Err(err) => tracing::warn!(refund_id = %id, error = %err, "refund still pending"),
            }
        }
        Ok(settled)
    }

    /// What orders run in the process hosting them: the settler of payments of cancelled
    /// orders and refunds a gateway left unanswered (every `settle_every`).
    pub fn workers(&self, settle_every: Duration) -> Vec<weft_bus::Worker> {
        vec![
            weft_bus::Worker::task("payment-settler", self.clone().run_settler(settle_every)),
            weft_bus::Worker::consumer(crate::events::Privacy(self.clone())),
        ]
    }

    /// Runs [`Self::settle_pending`] now and every `every`.
    pub async fn run_settler(self, every: Duration) {
        loop {
            match self.settle_pending().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(settled = n, "pending payments settled"),
                Err(err) => tracing::warn!(error = %err, "settling pending payments failed"),
            }
            tokio::time::sleep(every).await;
        }
    }
}

/// What `items` of an order are worth: each unit at its line's price (discounts
/// included), rounded down. In 128 bits, then checked into the money range.
fn return_value(items: &[ReturnItem], lines: &[store::LineRow]) -> Option<i64> {
    let total: i128 = items
        .iter()
        .filter_map(|item| {
            let line = lines.iter().find(|l| l.variant_id == item.variant_id)?;
            (line.quantity > 0).then(|| {
                i128::from(line.line_total) * i128::from(item.quantity) / i128::from(line.quantity)
            })
        })
        .sum();
    weft_kernel::money::in_range(total).ok()
}
