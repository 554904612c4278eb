//! Money in integer minor units with an ISO 4217 currency. Arithmetic is checked and
//! refuses to mix currencies, so a total can never silently overflow or add euros to
//! dollars. Every amount stays within ±[`MAX_AMOUNT`] (2^53 − 1), so it reads exactly
//! in any JSON reader (JavaScript's numbers included); prices within [`MAX_PRICE`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// An ISO 4217 currency code such as `USD`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// Parses an upper-case ISO 4217 alphabetic code.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        iso_currency::Currency::from_code(code)
            .map(Self)
            .ok_or_else(|| MoneyError::UnknownCurrency(code.chars().take(8).collect()))
    }

    pub fn code(self) -> &'static str {
        // iso_currency returns an owned String for codes; the static table avoids it.
        self.0.code()
    }

    /// Digits after the decimal point (USD 2, JPY 0, KWD 3).
    pub fn minor_unit_exponent(self) -> u32 {
        self.0.exponent().map_or(0, u32::from)
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The largest price (or any other amount a merchant types in) Weft accepts, in minor
/// units: 10^12, i.e. 10 billion of a two-decimal currency's major units. It leaves room
/// for a full cart (quantity × price × lines, shipping, tax) below [`MAX_AMOUNT`].
pub const MAX_PRICE: i64 = 1_000_000_000_000;

/// The largest magnitude any computed amount may reach: 2^53 − 1, the largest integer
/// every JSON reader holds exactly (a JavaScript number, a GraphQL client). Beyond it a
/// computation is refused ([`MoneyError::Overflow`]), never rounded or saturated.
pub const MAX_AMOUNT: i64 = 9_007_199_254_740_991;

/// `amount` if it is within ±[`MAX_AMOUNT`].
pub fn in_range(amount: i128) -> Result<i64, MoneyError> {
    if amount.abs() <= i128::from(MAX_AMOUNT) {
        i64::try_from(amount).map_err(|_| MoneyError::Overflow)
    } else {
        Err(MoneyError::Overflow)
    }
}

/// `a + b`, within ±[`MAX_AMOUNT`].
pub fn add_amounts(a: i64, b: i64) -> Result<i64, MoneyError> {
    in_range(i128::from(a) + i128::from(b))
}

/// `a − b`, within ±[`MAX_AMOUNT`].
pub fn sub_amounts(a: i64, b: i64) -> Result<i64, MoneyError> {
    in_range(i128::from(a) - i128::from(b))
}

/// `amount × factor` (a unit price times a quantity), within ±[`MAX_AMOUNT`].
pub fn mul_amount(amount: i64, factor: i64) -> Result<i64, MoneyError> {
    in_range(i128::from(amount) * i128::from(factor))
}

/// The sum of `amounts`, within ±[`MAX_AMOUNT`] (added in 128 bits: no step can wrap).
pub fn sum_amounts(amounts: impl IntoIterator<Item = i64>) -> Result<i64, MoneyError> {
    in_range(amounts.into_iter().map(i128::from).sum())
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    #[error("`{0}` is not an ISO 4217 currency code")]
    UnknownCurrency(String),
    #[error("cannot combine {0} and {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
}

/// An amount of money: `{ "amount": 1999, "currency": "USD" }` is $19.99.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The sum, within ±[`MAX_AMOUNT`].
    pub fn checked_add(self, other: Self) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        Ok(Self::new(
            add_amounts(self.amount, other.amount)?,
            self.currency,
        ))
    }

    /// The difference, within ±[`MAX_AMOUNT`].
    pub fn checked_sub(self, other: Self) -> Result<Self, MoneyError> {
        self.same_currency(other)?;
        Ok(Self::new(
            sub_amounts(self.amount, other.amount)?,
            self.currency,
        ))
    }

    /// `factor` times the amount, within ±[`MAX_AMOUNT`].
    pub fn checked_mul(self, factor: i64) -> Result<Self, MoneyError> {
        Ok(Self::new(mul_amount(self.amount, factor)?, self.currency))
    }

    fn same_currency(self, other: Self) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

/// `12345` in EUR → `123.45 EUR`; JPY has no minor unit.
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exponent = self.currency.minor_unit_exponent();
        let sign = if self.amount < 0 { "-" } else { "" };
        let abs = self.amount.unsigned_abs();
        if exponent == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let unit = 10u64.pow(exponent);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            abs / unit,
            abs % unit,
            self.currency,
            width = exponent as usize
        )
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    #[test]
    fn currencies_parse_strictly_and_know_their_minor_units() {
        assert_eq!(usd().minor_unit_exponent(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().minor_unit_exponent(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_unit_exponent(), 3);
        for bad in ["usd", "US", "USDD", "XYZ", ""] {
            assert!(Currency::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn money_serializes_as_amount_and_code() {
        let m = Money::new(1999, usd());
        assert_eq!(
            serde_json::to_value(m).unwrap(),
            serde_json::json!({"amount": 1999, "currency": "USD"})
        );
        let back: Money = serde_json::from_str(r#"{"amount":1999,"currency":"USD"}"#).unwrap();
        assert_eq!(back, m);
        assert!(serde_json::from_str::<Money>(r#"{"amount":19.99,"currency":"USD"}"#).is_err());
    }

    #[test]
    fn arithmetic_refuses_mixed_currencies_and_overflow() {
        let eur = Currency::parse("EUR").unwrap();
        assert!(matches!(
            Money::new(1, usd()).checked_add(Money::new(1, eur)),
            Err(MoneyError::CurrencyMismatch(..))
        ));
        assert_eq!(
            Money::new(i64::MAX, usd()).checked_add(Money::new(1, usd())),
            Err(MoneyError::Overflow)
        );
        assert_eq!(
            Money::new(i64::MAX, usd()).checked_mul(2),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn amounts_stop_at_two_to_the_53rd_minus_one() {
        assert_eq!(add_amounts(MAX_AMOUNT - 1, 1), Ok(MAX_AMOUNT));
        assert_eq!(add_amounts(MAX_AMOUNT, 1), Err(MoneyError::Overflow));
        assert_eq!(sub_amounts(-MAX_AMOUNT, 1), Err(MoneyError::Overflow));
        assert_eq!(mul_amount(MAX_PRICE, 99), Ok(99 * MAX_PRICE));
        assert_eq!(mul_amount(i64::MAX, 99), Err(MoneyError::Overflow));
        assert_eq!(
            sum_amounts([i64::MAX, i64::MAX, i64::MIN]),
            Err(MoneyError::Overflow)
        );
        assert_eq!(sum_amounts([MAX_AMOUNT, 1, -1]), Ok(MAX_AMOUNT));
        // The bound is what a JavaScript number holds exactly.
        #[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
        let round_trip = (MAX_AMOUNT as f64) as i64;
        assert_eq!(round_trip, MAX_AMOUNT);
    }

    proptest! {
        #[test]
        fn adding_then_subtracting_returns_the_original(a in -1_000_000_000i64..1_000_000_000, b in -1_000_000_000i64..1_000_000_000) {
            let x = Money::new(a, usd());
            let y = Money::new(b, usd());
            prop_assert_eq!(x.checked_add(y).unwrap().checked_sub(y).unwrap(), x);
        }
    }
}
