//! The checkout's vocabulary.

weft_kernel::define_id!(CheckoutId, "chk", "A checkout.");

/// Where a checkout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckoutStatus {
    /// Collecting e-mail, addresses and a shipping method.
    Open,
    /// An order was made from it.
    Completed,
}

impl CheckoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Completed => "completed",
        }
    }
}
