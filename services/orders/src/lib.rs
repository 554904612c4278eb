//! Orders: what was bought, for how much, and where it is in its life.
//!
//! So far: the status machine and its history ([`domain`]), checked by unit tests. The
//! tables, the use cases the checkout saga calls (create an order, mark it paid, cancel
//! it), the customer and admin endpoints, and the invoice come with the rest of issue 7.
//! Invariants: an order moves only by a named [`domain::Transition`] its status allows;
//! every move is recorded with who made it and when.

pub mod domain;
