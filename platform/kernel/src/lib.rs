//! The vocabulary every Weft crate shares and nothing else: type-prefixed ids, money in
//! minor units, opaque pagination cursors, the error kinds that decide HTTP statuses and
//! the RFC 9457 problem body they render to, and a clock that tests can hold still.
//!
//! Invariants: an id always carries its own type prefix and a UUIDv7 (so ids sort by
//! creation time); money is never a float; an error kind alone decides a status code.

pub mod address;
pub mod clock;
pub mod email;
pub mod error;
pub mod id;
pub mod money;
pub mod page;

pub use address::PostalAddress;
pub use clock::Clock;
pub use email::Email;
pub use error::{ErrorKind, FieldError, Problem, ServiceError};
pub use money::{Currency, MAX_AMOUNT, MAX_PRICE, Money, MoneyError};
pub use page::{Cursor, Page, PageRequest};

/// Crates the `define_id!` expansion names, so callers need not depend on them.
#[doc(hidden)]
pub mod __private {
    pub use poem_openapi;
    pub use serde;
    pub use serde_json;
    pub use uuid;
}
