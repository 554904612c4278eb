//! An order's life: its status machine and the history of how it moved.
//!
//! ```text
//! pending ──paid──▶ paid ──fulfil──▶ fulfilled ──deliver──▶ delivered
//!    │                │                  │                      │
//!    └──cancel──▶ cancelled ◀──cancel────┘ (not once fulfilled) │
//!                     paid/fulfilled/delivered ──refund──▶ partially_refunded ──▶ refunded
//! ```
//!
//! Every transition is named, checked here, and recorded with who made it and when;
//! anything else is refused (409 `illegal_transition` at the API).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

weft_kernel::define_id!(OrderId, "ord", "An order.");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Created; its payment authorized, not yet captured.
    Pending,
    Paid,
    Fulfilled,
    Delivered,
    Cancelled,
    PartiallyRefunded,
    Refunded,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Fulfilled => "fulfilled",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::PartiallyRefunded => "partially_refunded",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Pending,
            Self::Paid,
            Self::Fulfilled,
            Self::Delivered,
            Self::Cancelled,
            Self::PartiallyRefunded,
            Self::Refunded,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// What can happen to an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Transition {
    /// The payment was captured.
    Paid {
        payment_ref: String,
    },
    /// Shipped, with the carrier's tracking number.
    Fulfilled {
        tracking_number: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        carrier: Option<String>,
    },
    Delivered,
    /// Called off before fulfilment (the payment is voided or refunded).
    Cancelled {
        reason: String,
        /// The units it took go back on the shelf: a paid order called off by its
        /// customer or the back office. Not when checkout undoes its own order (its hold
        /// was released instead).
        #[serde(default)]
        restock: bool,
    },
    /// Money given back: `amount` now, `refunded_total` in all, of `paid_total`.
    Refunded {
        amount: i64,
        refunded_total: i64,
        paid_total: i64,
    },
}

/// Why a transition is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an order that is {from} cannot be {action}")]
pub struct IllegalTransition {
    pub from: &'static str,
    pub action: &'static str,
}

impl Transition {
    fn action(&self) -> &'static str {
        match self {
            Self::Paid { .. } => "paid",
            Self::Fulfilled { .. } => "fulfilled",
            Self::Delivered => "delivered",
            Self::Cancelled { .. } => "cancelled",
            Self::Refunded { .. } => "refunded",
        }
    }

    /// The status an order in `from` moves to, or why it cannot.
    pub fn apply(&self, from: OrderStatus) -> Result<OrderStatus, IllegalTransition> {
        use OrderStatus as S;
        let to = match (from, self) {
            (S::Pending, Self::Paid { .. }) => Some(S::Paid),
            (S::Paid, Self::Fulfilled { .. }) => Some(S::Fulfilled),
            (S::Fulfilled, Self::Delivered) => Some(S::Delivered),
            (S::Pending | S::Paid, Self::Cancelled { .. }) => Some(S::Cancelled),
            (
                S::Paid | S::Fulfilled | S::Delivered | S::PartiallyRefunded,
                Self::Refunded {
                    amount,
                    refunded_total,
                    paid_total,
                },
            ) if *amount > 0 && *refunded_total <= *paid_total => {
                Some(if refunded_total == paid_total {
                    S::Refunded
                } else {
                    S::PartiallyRefunded
                })
            }
            _ => None,
        };
        to.ok_or(IllegalTransition {
            from: from.as_str(),
            action: self.action(),
        })
    }
}

weft_kernel::define_id!(ReturnId, "ret", "A return of some of an order's units.");
weft_kernel::define_id!(RefundId, "rfd", "Money given back on an order.");

/// Where a return is.
///
/// ```text
/// requested ──approve──▶ approved ──receive──▶ received ──refund──▶ refunded
///     └──reject──▶ rejected
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnStatus {
    Requested,
    Approved,
    Rejected,
    Received,
    Refunded,
}

impl ReturnStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Received => "received",
            Self::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Requested,
            Self::Approved,
            Self::Rejected,
            Self::Received,
            Self::Refunded,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }

    /// The status `self` moves to by `to`'s action, or why it cannot.
    pub fn moves_to(self, to: Self) -> Result<Self, IllegalTransition> {
        use ReturnStatus as R;
        match (self, to) {
            (R::Requested, R::Approved | R::Rejected)
            | (R::Approved, R::Received)
            | (R::Received, R::Refunded) => Ok(to),
            _ => Err(IllegalTransition {
                from: self.as_str(),
                action: to.as_str(),
            }),
        }
    }

    /// Its units still count against what can be returned.
    pub fn holds_units(self) -> bool {
        self != Self::Rejected
    }
}

/// Units of one bought variant sent back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnItem {
    pub variant_id: String,
    pub quantity: i64,
}

/// One recorded move of a return.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnMove {
    pub status: ReturnStatus,
    pub actor: String,
    pub at: DateTime<Utc>,
    /// Why (a refusal's reason, whether received units were restocked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One recorded move of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub from: OrderStatus,
    pub to: OrderStatus,
    pub transition: Transition,
    /// `user:usr_…`, `app:app_…` or `system` (a saga, a webhook).
    pub actor: String,
    pub at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use OrderStatus as S;

    fn refund(amount: i64, total: i64) -> Transition {
        Transition::Refunded {
            amount,
            refunded_total: total,
            paid_total: 10_000,
        }
    }

    #[test]
    fn the_happy_path_goes_pending_paid_fulfilled_delivered() {
        let paid = Transition::Paid {
            payment_ref: "pi_1".into(),
        };
        assert_eq!(paid.apply(S::Pending), Ok(S::Paid));
        let shipped = Transition::Fulfilled {
            tracking_number: Some("1Z999".into()),
            carrier: Some("ups".into()),
        };
        assert_eq!(shipped.apply(S::Paid), Ok(S::Fulfilled));
        assert_eq!(Transition::Delivered.apply(S::Fulfilled), Ok(S::Delivered));
    }

    #[test]
    fn cancelling_stops_at_fulfilment() {
        let cancel = Transition::Cancelled {
            reason: "changed my mind".into(),
            restock: true,
        };
        assert_eq!(cancel.apply(S::Pending), Ok(S::Cancelled));
        assert_eq!(cancel.apply(S::Paid), Ok(S::Cancelled));
        for from in [S::Fulfilled, S::Delivered, S::Cancelled, S::Refunded] {
            let err = cancel.apply(from).unwrap_err();
            assert_eq!(err.action, "cancelled");
            assert_eq!(err.from, from.as_str());
        }
    }

    #[test]
    fn refunds_are_partial_until_everything_paid_is_back() {
        assert_eq!(
            refund(3000, 3000).apply(S::Delivered),
            Ok(S::PartiallyRefunded)
        );
        assert_eq!(
            refund(2000, 5000).apply(S::PartiallyRefunded),
            Ok(S::PartiallyRefunded)
        );
        assert_eq!(
            refund(5000, 10_000).apply(S::PartiallyRefunded),
            Ok(S::Refunded)
        );
        assert!(
            refund(1, 10_001).apply(S::Paid).is_err(),
            "more than was paid"
        );
        assert!(refund(0, 0).apply(S::Paid).is_err(), "nothing");
        assert!(
            refund(100, 100).apply(S::Pending).is_err(),
            "nothing was captured"
        );
        assert!(refund(100, 100).apply(S::Refunded).is_err());
    }

    #[test]
    fn nothing_skips_a_step_or_goes_back() {
        assert!(Transition::Delivered.apply(S::Paid).is_err());
        let shipped = Transition::Fulfilled {
            tracking_number: None,
            carrier: None,
        };
        assert!(shipped.apply(S::Pending).is_err(), "not before payment");
        let paid = Transition::Paid {
            payment_ref: "pi".into(),
        };
        for from in [S::Paid, S::Fulfilled, S::Cancelled] {
            assert!(paid.apply(from).is_err());
        }
        for s in ["pending", "partially_refunded", "refunded"] {
            assert_eq!(OrderStatus::parse(s).map(OrderStatus::as_str), Some(s));
        }
        assert_eq!(OrderStatus::parse("shipped"), None);
    }

    #[test]
    fn returns_are_approved_or_rejected_then_received_then_refunded() {
        use ReturnStatus as R;
        assert_eq!(R::Requested.moves_to(R::Approved), Ok(R::Approved));
        assert_eq!(R::Requested.moves_to(R::Rejected), Ok(R::Rejected));
        assert_eq!(R::Approved.moves_to(R::Received), Ok(R::Received));
        assert_eq!(R::Received.moves_to(R::Refunded), Ok(R::Refunded));
        assert!(
            R::Requested.moves_to(R::Received).is_err(),
            "not before approval"
        );
        assert!(R::Rejected.moves_to(R::Approved).is_err());
        assert!(
            R::Approved.moves_to(R::Refunded).is_err(),
            "not before it arrived"
        );
        assert!(R::Refunded.moves_to(R::Refunded).is_err());
        assert!(!R::Rejected.holds_units());
        assert!(R::Refunded.holds_units());
        assert_eq!(R::parse("received"), Some(R::Received));
    }
}
