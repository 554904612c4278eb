//! The orders' use cases the checkout saga and the back office call: create an order
//! (once per checkout), move it by a named transition (recorded), read it.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use weft_bus::Bus;
use weft_bus::events::{OrderCancelled, OrderCompleted, OrderCreated, OrderFulfilled, Units};
use weft_kernel::{
    Clock, Currency, Cursor, ErrorKind, FieldError, Money, Page, PageRequest, PostalAddress,
    ServiceError,
};
use weft_storage::{Db, DbConn, StorageError};

use crate::domain::{HistoryEntry, IllegalTransition, OrderStatus, Transition};
use crate::invoice::Seller;
use crate::ports::Payments;
use crate::store::{self, HistoryRow, LineRow, ListFilter, OrderRow, SettlementRow};

#[derive(Debug, thiserror::Error)]
pub enum OrdersError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("no such order")]
    NotFound,
    #[error("no such return")]
    ReturnNotFound,
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    /// The gateway refused to give the money back (the refund is recorded as failed).
    #[error("the payment gateway refused the refund: {0}")]
    RefundRefused(String),
    /// A refund is still waiting for the gateway: the order cannot be cancelled yet.
    #[error("a refund of this order is still waiting for the payment gateway; try again shortly")]
    RefundPending,
    /// The gateway did not answer: the refund stays pending and is retried.
    #[error("the payment gateway did not answer; the refund is retried: {0}")]
    GatewayUnavailable(String),
    #[error("stored order is unreadable: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for OrdersError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Invalid(_) => ErrorKind::Invalid,
            Self::NotFound | Self::ReturnNotFound => ErrorKind::NotFound,
            Self::Illegal(_) | Self::RefundRefused(_) | Self::RefundPending => ErrorKind::Conflict,
            Self::GatewayUnavailable(_) => ErrorKind::Unavailable,
            Self::Corrupt(_) => ErrorKind::Internal,
            Self::Storage(e) => e.kind(),
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Invalid(_) => "validation_failed",
            Self::NotFound => "order_not_found",
            Self::ReturnNotFound => "return_not_found",
            Self::Illegal(_) => "illegal_transition",
            Self::RefundRefused(_) => "refund_refused",
            Self::RefundPending => "refund_pending",
            Self::GatewayUnavailable(_) => "payment_gateway_unavailable",
            Self::Corrupt(_) => "internal_error",
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

/// A line as bought: the price it was bought at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderLine {
    pub variant_id: String,
    pub title: String,
    pub sku: Option<String>,
    pub quantity: i64,
    pub unit_price: i64,
    pub line_total: i64,
}

/// What a checkout asks to become an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    /// `ord_…`, chosen by the caller so that a retried create is the same order.
    pub id: String,
    pub checkout_id: String,
    pub customer_id: Option<String>,
    pub email: String,
    pub currency: Currency,
    pub lines: Vec<OrderLine>,
    pub subtotal: i64,
    pub discounts: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
    pub shipping_address: Option<PostalAddress>,
    pub billing_address: Option<PostalAddress>,
    pub shipping_method_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: String,
    pub checkout_id: String,
    pub customer_id: Option<String>,
    pub email: String,
    pub currency: String,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
    pub subtotal: i64,
    pub discounts: i64,
    pub shipping: i64,
    pub tax: i64,
    pub total: i64,
    pub refunded_total: i64,
    pub shipping_address: Option<PostalAddress>,
    pub billing_address: Option<PostalAddress>,
    pub shipping_method_id: Option<String>,
    /// The payment that paid it (`pay_…`), once paid.
    pub payment_id: Option<String>,
    pub history: Vec<HistoryEntry>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which orders a list shows.
#[derive(Debug, Clone, Default)]
pub struct OrderFilter {
    /// One customer's orders.
    pub customer_id: Option<String>,
    pub status: Option<OrderStatus>,
}

fn to_json(address: Option<&PostalAddress>) -> Option<String> {
    // Serializing plain data cannot fail.
    address.map(|a| serde_json::to_string(a).unwrap_or_default())
}

fn from_json(json: Option<&str>) -> Option<PostalAddress> {
    json.and_then(|j| serde_json::from_str(j).ok())
}

/// The orders service of this process.
#[derive(Clone)]
pub struct OrderService {
    pub(crate) db: Db,
    pub(crate) clock: Clock,
    /// How money goes back (refunds, cancellations); `None` refuses them.
    pub(crate) payments: Option<Arc<dyn Payments>>,
    pub(crate) bus: Option<Bus>,
    /// Who the invoices are from.
    pub(crate) seller: Arc<Seller>,
}

impl std::fmt::Debug for OrderService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderService").finish_non_exhaustive()
    }
}

impl OrderService {
    pub fn new(db: Db, clock: Clock) -> Self {
        Self {
            db,
            clock,
            payments: None,
            bus: None,
            seller: Arc::new(Seller {
                name: "Weft".to_owned(),
                address: Vec::new(),
                tax_id: None,
            }),
        }
    }

    /// Invoices name `seller`.
    #[must_use]
    pub fn with_seller(mut self, seller: Seller) -> Self {
        self.seller = Arc::new(seller);
        self
    }

    /// The order's invoice, as PDF bytes.
    pub async fn invoice(&self, id: &str) -> Result<(Order, Vec<u8>), OrdersError> {
        let order = self.get(id).await?;
        let pdf = crate::invoice::render(&order, &self.seller);
        Ok((order, pdf))
    }

    /// Gives money back through `payments` (refunds, cancelled orders).
    #[must_use]
    pub fn with_payments(mut self, payments: Arc<dyn Payments>) -> Self {
        self.payments = Some(payments);
        self
    }

    /// Wakes `bus`'s relay after a change, so its events go out at once.
    #[must_use]
    pub fn with_bus(mut self, bus: Bus) -> Self {
        self.bus = Some(bus);
        self
    }

    pub(crate) fn wake(&self) {
        if let Some(bus) = &self.bus {
            bus.wake();
        }
    }

    /// Creates the checkout's order, `pending`, with `OrderCreated` in the same
    /// transaction. A checkout has one order: asking again (a retried saga step) answers
    /// the one it has.
    pub async fn create(&self, new: NewOrder) -> Result<Order, OrdersError> {
        let now = self.clock.now().naive_utc();
        let id = new.id.clone();
        let row = OrderRow {
            id: id.clone(),
            checkout_id: new.checkout_id.clone(),
            customer_id: new.customer_id.clone(),
            email: new.email.clone(),
            currency: new.currency.code().to_owned(),
            subtotal: new.subtotal,
            discounts: new.discounts,
            shipping: new.shipping,
            tax: new.tax,
            total: new.total,
            status: OrderStatus::Pending.as_str().to_owned(),
            refunded_total: 0,
            created_at: now,
            updated_at: now,
            shipping_address: to_json(new.shipping_address.as_ref()),
            billing_address: to_json(new.billing_address.as_ref()),
            shipping_method_id: new.shipping_method_id.clone(),
            payment_id: None,
        };
        let items: Vec<LineRow> = new
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| LineRow {
                order_id: id.clone(),
                position: i32::try_from(i).unwrap_or(i32::MAX),
                variant_id: l.variant_id.clone(),
                title: l.title.clone(),
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit_price: l.unit_price,
                line_total: l.line_total,
            })
            .collect();
        let item_count =
            u32::try_from(new.lines.iter().map(|l| l.quantity).sum::<i64>()).unwrap_or(u32::MAX);
        let order_id = self
            .db
            .transaction(async |conn: &mut DbConn| {
                if let Some(existing) = store::by_checkout(conn, &new.checkout_id).await? {
                    return Ok::<_, OrdersError>(existing.id);
                }
                if !store::insert(conn, &row, &items).await? {
                    // Another request made it between the read and the insert.
                    let existing = store::by_checkout(conn, &new.checkout_id)
                        .await?
                        .ok_or(OrdersError::NotFound)?;
                    return Ok(existing.id);
                }
                weft_bus::append(
                    conn,
                    &OrderCreated {
                        order_id: row.id.clone(),
                        customer_id: row.customer_id.clone(),
                        email: row.email.clone(),
                        total: Money::new(row.total, new.currency),
                        item_count,
                        lines: items
                            .iter()
                            .map(|l| Units {
                                variant_id: l.variant_id.clone(),
                                quantity: l.quantity,
                            })
                            .collect(),
                    },
                )
                .await?;
                Ok(row.id.clone())
            })
            .await?;
        self.get(&order_id).await
    }

    /// A checkout's payment was captured: the order is `paid`. Asking again once it was
    /// paid is answered as done (a saga step run twice), whatever happened to it since;
    /// an order cancelled before it was paid is 409.
    pub async fn mark_paid(&self, id: &str, payment_id: &str) -> Result<(), OrdersError> {
        let transition = Transition::Paid {
            payment_ref: payment_id.to_owned(),
        };
        match self.transition(id, transition, "system").await {
            Ok(_) => Ok(()),
            Err(OrdersError::Illegal(e)) => {
                let order = self.get(id).await?;
                if order.status != OrderStatus::Pending && order.payment_id.is_some() {
                    Ok(())
                } else {
                    Err(OrdersError::Illegal(e))
                }
            }
            Err(e) => Err(e),
        }
    }

    /// A checkout undoes its order (a step after it failed for good). Its hold is
    /// released and its payment let go by the checkout's other steps, so nothing goes
    /// back on the shelf here. An order never made, or cancelled already, is done; one
    /// that moved past `paid` (fulfilled, refunded) is 409.
    pub async fn call_off(&self, id: &str, reason: &str) -> Result<(), OrdersError> {
        let transition = Transition::Cancelled {
            reason: reason.to_owned(),
            restock: false,
        };
        match self.transition(id, transition, "system").await {
            Ok(_) | Err(OrdersError::NotFound) => Ok(()),
            Err(OrdersError::Illegal(e)) => match self.get(id).await? {
                o if o.status == OrderStatus::Cancelled => Ok(()),
                _ => Err(OrdersError::Illegal(e)),
            },
            Err(e) => Err(e),
        }
    }

    /// Moves an order by `transition`, recorded with `actor`, under the order's row lock;
    /// 409 (`IllegalTransition`) when its status does not allow it.
    pub async fn transition(
        &self,
        id: &str,
        transition: Transition,
        actor: &str,
    ) -> Result<Order, OrdersError> {
        self.db
            .transaction(async |conn: &mut DbConn| {
                let row = store::find_locked(conn, id)
                    .await?
                    .ok_or(OrdersError::NotFound)?;
                self.move_in(conn, &row, transition.clone(), actor).await
            })
            .await?;
        self.get(id).await
    }

    /// Moves `row` (locked by the caller's transaction) by `transition`, with its
    /// history entry and events.
    pub(crate) async fn move_in(
        &self,
        conn: &mut DbConn,
        row: &OrderRow,
        transition: Transition,
        actor: &str,
    ) -> Result<OrderStatus, OrdersError> {
        let now = self.clock.now();
        let id = row.id.as_str();
        let from = OrderStatus::parse(&row.status)
            .ok_or_else(|| OrdersError::Corrupt(row.status.clone()))?;
        let to = transition.apply(from)?;
        let refunded_total = match &transition {
            Transition::Refunded { refunded_total, .. } => *refunded_total,
            _ => row.refunded_total,
        };
        let payment_id = match &transition {
            Transition::Paid { payment_ref } => Some(payment_ref.as_str()),
            _ => row.payment_id.as_deref(),
        };
        store::set_status(
            conn,
            id,
            to.as_str(),
            refunded_total,
            payment_id,
            now.naive_utc(),
        )
        .await?;
        let seq = i32::try_from(store::history_of(conn, id).await?.len()).unwrap_or(i32::MAX);
        store::add_history(
            conn,
            &HistoryRow {
                order_id: id.to_owned(),
                seq,
                from_status: from.as_str().to_owned(),
                to_status: to.as_str().to_owned(),
                transition: serde_json::to_string(&transition).unwrap_or_default(),
                actor: actor.to_owned(),
                at: now.naive_utc(),
            },
        )
        .await?;
        match &transition {
            Transition::Cancelled { reason, restock } => {
                let lines = store::lines_of(conn, id).await?;
                if *restock && let Some(payment_id) = &row.payment_id {
                    // The money goes back after this commits, retried until the
                    // gateway answers (`settle_pending`).
                    store::insert_settlement(
                        conn,
                        &SettlementRow {
                            order_id: id.to_owned(),
                            payment_id: payment_id.clone(),
                            status: "pending".to_owned(),
                            attempts: 0,
                            error: None,
                            updated_at: now.naive_utc(),
                        },
                    )
                    .await?;
                }
                weft_bus::append(
                    conn,
                    &OrderCancelled {
                        order_id: id.to_owned(),
                        reason: reason.clone(),
                        lines: lines
                            .iter()
                            .map(|l| Units {
                                variant_id: l.variant_id.clone(),
                                quantity: l.quantity,
                            })
                            .collect(),
                        restock: *restock,
                        payment_id: row.payment_id.clone(),
                    },
                )
                .await?;
            }
            Transition::Fulfilled {
                tracking_number,
                carrier,
            } => {
                weft_bus::append(
                    conn,
                    &OrderFulfilled {
                        order_id: id.to_owned(),
                        tracking_number: tracking_number.clone(),
                        carrier: carrier.clone(),
                    },
                )
                .await?;
            }
            Transition::Delivered => {
                weft_bus::append(
                    conn,
                    &OrderCompleted {
                        order_id: id.to_owned(),
                    },
                )
                .await?;
            }
            _ => {}
        }
        Ok(to)
    }

    /// An order with its lines and history.
    pub async fn get(&self, id: &str) -> Result<Order, OrdersError> {
        // Rows by key, as many as the order has lines and events: on the task's thread.
        weft_storage::short_reads(async {
            let mut conn = self.db.conn().await?;
            let row = store::find(&mut conn, id)
                .await?
                .ok_or(OrdersError::NotFound)?;
            let lines = store::lines_of(&mut conn, id).await?;
            let history = store::history_of(&mut conn, id).await?;
            order(row, lines, history)
        })
        .await
    }

    /// The order a checkout made, if it made one.
    pub async fn of_checkout(&self, checkout_id: &str) -> Result<Option<Order>, OrdersError> {
        let row = weft_storage::short_reads(async {
            let mut conn = self.db.conn().await?;
            Ok::<_, OrdersError>(store::by_checkout(&mut conn, checkout_id).await?)
        })
        .await?;
        match row {
            Some(row) => Ok(Some(self.get(&row.id).await?)),
            None => Ok(None),
        }
    }

    /// Orders newest first, with their lines (history is on the single order). Three
    /// queries a page, whatever its size.
    pub async fn list(
        &self,
        filter: &OrderFilter,
        page: &PageRequest,
    ) -> Result<Page<Order>, OrdersError> {
        let before: Option<String> = page
            .cursor
            .as_ref()
            .map(Cursor::decode::<String>)
            .transpose()
            .map_err(|_| {
                OrdersError::Invalid(vec![FieldError::new(
                    "cursor",
                    "is not a cursor this API issued",
                )])
            })?;
        let filter = ListFilter {
            customer_id: filter.customer_id.clone(),
            status: filter.status.map(|s| s.as_str().to_owned()),
        };
        let mut conn = self.db.conn().await?;
        let rows = store::list(&mut conn, &filter, before.as_deref(), page.fetch_size()).await?;
        let page = Page::from_rows(rows, page, |r: &OrderRow| r.id.clone());
        let ids: Vec<String> = page.data.iter().map(|r| r.id.clone()).collect();
        let mut lines: HashMap<String, Vec<LineRow>> = HashMap::new();
        for line in store::lines_of_many(&mut conn, &ids).await? {
            lines.entry(line.order_id.clone()).or_default().push(line);
        }
        let data = page
            .data
            .into_iter()
            .map(|row| {
                let l = lines.remove(&row.id).unwrap_or_default();
                order(row, l, Vec::new())
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            data,
            next_cursor: page.next_cursor,
        })
    }
}

fn order(
    row: OrderRow,
    lines: Vec<LineRow>,
    history: Vec<HistoryRow>,
) -> Result<Order, OrdersError> {
    let status =
        OrderStatus::parse(&row.status).ok_or_else(|| OrdersError::Corrupt(row.status.clone()))?;
    let history = history
        .into_iter()
        .map(|h| {
            Ok(HistoryEntry {
                from: OrderStatus::parse(&h.from_status)
                    .ok_or_else(|| OrdersError::Corrupt(h.from_status.clone()))?,
                to: OrderStatus::parse(&h.to_status)
                    .ok_or_else(|| OrdersError::Corrupt(h.to_status.clone()))?,
                transition: serde_json::from_str(&h.transition)
                    .map_err(|e| OrdersError::Corrupt(e.to_string()))?,
                actor: h.actor,
                at: h.at.and_utc(),
            })
        })
        .collect::<Result<Vec<_>, OrdersError>>()?;
    Ok(Order {
        shipping_address: from_json(row.shipping_address.as_deref()),
        billing_address: from_json(row.billing_address.as_deref()),
        id: row.id,
        checkout_id: row.checkout_id,
        customer_id: row.customer_id,
        email: row.email,
        currency: row.currency,
        status,
        lines: lines
            .into_iter()
            .map(|l| OrderLine {
                variant_id: l.variant_id,
                title: l.title,
                sku: l.sku,
                quantity: l.quantity,
                unit_price: l.unit_price,
                line_total: l.line_total,
            })
            .collect(),
        subtotal: row.subtotal,
        discounts: row.discounts,
        shipping: row.shipping,
        tax: row.tax,
        total: row.total,
        refunded_total: row.refunded_total,
        shipping_method_id: row.shipping_method_id,
        payment_id: row.payment_id,
        history,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}
