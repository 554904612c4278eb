//! Service errors on their way out of GraphQL: the same stable `code` as REST in the
//! extensions, and no internal detail (storage, upstream) in the message.

use async_graphql::ErrorExtensions as _;
use weft_kernel::ServiceError;

/// A service error as a GraphQL error; reads as `.map_err(gql::error)`.
#[allow(clippy::needless_pass_by_value)]
pub fn error(e: impl ServiceError) -> async_graphql::Error {
    let code = e.code();
    let message = if e.kind().is_server_error() {
        "internal error".to_owned()
    } else {
        e.to_string()
    };
    async_graphql::Error::new(message).extend_with(|_, ext| ext.set("code", code))
}

/// The id of the signed-in person making a GraphQL request, as [`crate::authz::user_id`].
pub fn user_id<'c>(ctx: &'c async_graphql::Context<'_>) -> Option<&'c str> {
    ctx.data_opt::<crate::Principal>()
        .filter(|p| p.kind == crate::PrincipalKind::User)
        .map(|p| p.id.as_str())
}

/// Reads a 64-bit integer given as a GraphQL Int or as a string of digits.
fn integer(value: &async_graphql::Value) -> Option<i64> {
    match value {
        async_graphql::Value::Number(n) => n.as_i64(),
        async_graphql::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An amount of money in minor units of its currency (cents for USD): GraphQL's `Int`
/// is 32-bit by the spec, too small for money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MinorUnits(pub i64);

/// An amount of money in minor units of its currency (1999 is $19.99), as a JSON
/// integer. Weft keeps every amount within ±(2^53 − 1), so it is exact in any JSON
/// reader, JavaScript's numbers included. Also read from a string of digits.
#[async_graphql::Scalar(name = "MinorUnits")]
impl async_graphql::ScalarType for MinorUnits {
    fn parse(value: async_graphql::Value) -> async_graphql::InputValueResult<Self> {
        match integer(&value) {
            Some(amount) if amount.abs() <= weft_kernel::MAX_AMOUNT => Ok(Self(amount)),
            Some(_) => Err(async_graphql::InputValueError::custom(format!(
                "must be within ±{} minor units",
                weft_kernel::MAX_AMOUNT
            ))),
            None => Err(async_graphql::InputValueError::expected_type(value)),
        }
    }

    fn is_valid(value: &async_graphql::Value) -> bool {
        integer(value).is_some_and(|a| a.abs() <= weft_kernel::MAX_AMOUNT)
    }

    fn to_value(&self) -> async_graphql::Value {
        async_graphql::Value::Number(self.0.into())
    }
}

impl From<i64> for MinorUnits {
    fn from(amount: i64) -> Self {
        Self(amount)
    }
}

/// A 64-bit count (units in stock, quantities, hits) where GraphQL's 32-bit `Int`
/// would not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Long(pub i64);

/// A signed 64-bit integer (units in stock, quantities, counts), as a JSON integer;
/// also read from a string of digits. Values above 2^53 − 1 are not exact in
/// JavaScript numbers; Weft's counts stay far below.
#[async_graphql::Scalar(name = "Long")]
impl async_graphql::ScalarType for Long {
    fn parse(value: async_graphql::Value) -> async_graphql::InputValueResult<Self> {
        integer(&value)
            .map(Self)
            .ok_or_else(|| async_graphql::InputValueError::expected_type(value))
    }

    fn is_valid(value: &async_graphql::Value) -> bool {
        integer(value).is_some()
    }

    fn to_value(&self) -> async_graphql::Value {
        async_graphql::Value::Number(self.0.into())
    }
}

impl From<i64> for Long {
    fn from(n: i64) -> Self {
        Self(n)
    }
}

impl From<u64> for Long {
    /// Counts come as `u64` from the search index; none reaches 2^63.
    fn from(n: u64) -> Self {
        Self(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
