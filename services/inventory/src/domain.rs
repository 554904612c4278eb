//! The inventory's vocabulary, parsed at the edge.

use weft_kernel::FieldError;

weft_kernel::define_id!(LocationId, "loc", "A stock location (a warehouse).");
weft_kernel::define_id!(ReservationId, "res", "Stock held for a checkout.");

/// The location a `PUT` without `location_id` sets (created by the first migration).
pub const DEFAULT_LOCATION: &str = "loc_00000000000000000000000000000001";

/// Most units one reservation, restock or stock level may count.
pub const MAX_UNITS: i64 = 1_000_000_000;

/// What a reservation is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReservationStatus {
    /// Holding stock.
    Active,
    /// Given back (checkout failed or was abandoned).
    Released,
    /// Turned into a sale: the units left the shelf.
    Committed,
    /// Its time ran out and the sweeper gave the stock back.
    Expired,
}

impl ReservationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Released => "released",
            Self::Committed => "committed",
            Self::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "active" => Self::Active,
            "released" => Self::Released,
            "committed" => Self::Committed,
            "expired" => Self::Expired,
            _ => return None,
        })
    }
}

/// How a variant stands, for a storefront.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockStatus {
    InStock,
    /// At or below its low-stock threshold, but some left.
    LowStock,
    OutOfStock,
    /// None left, but it sells anyway.
    Backorder,
}

impl StockStatus {
    pub fn of(available: i64, threshold: i64, allow_backorder: bool) -> Self {
        if available <= 0 {
            if allow_backorder {
                Self::Backorder
            } else {
                Self::OutOfStock
            }
        } else if available <= threshold {
            Self::LowStock
        } else {
            Self::InStock
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::InStock => "in_stock",
            Self::LowStock => "low_stock",
            Self::OutOfStock => "out_of_stock",
            Self::Backorder => "backorder",
        }
    }
}

/// A variant id as the catalog makes them (`var_` + 32 hex); inventory keeps no copy of
/// the catalog, so a well-formed id it has never seen simply has no stock.
pub fn parse_variant_id(field: &str, s: &str) -> Result<String, FieldError> {
    weft_kernel::id::parse_prefixed("var", s)
        .map(|_| s.to_owned())
        .map_err(|e| FieldError::new(field, e.to_string()))
}

/// A count of units in `0..=MAX_UNITS` (or `1..` when `positive`).
pub fn parse_units(field: &str, n: i64, positive: bool) -> Result<i64, FieldError> {
    let min = i64::from(positive);
    if (min..=MAX_UNITS).contains(&n) {
        Ok(n)
    } else {
        Err(FieldError::new(
            field,
            format!("must be between {min} and {MAX_UNITS}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stock_status_follows_available_threshold_and_backorders() {
        assert_eq!(StockStatus::of(10, 3, false), StockStatus::InStock);
        assert_eq!(StockStatus::of(3, 3, false), StockStatus::LowStock);
        assert_eq!(StockStatus::of(0, 3, false), StockStatus::OutOfStock);
        assert_eq!(StockStatus::of(-2, 3, true), StockStatus::Backorder);
        assert_eq!(StockStatus::of(1, 0, false), StockStatus::InStock);
    }

    #[test]
    fn units_and_variant_ids_parse_strictly() {
        assert!(parse_units("q", 0, true).is_err());
        assert!(parse_units("q", -1, false).is_err());
        assert!(parse_units("q", MAX_UNITS + 1, false).is_err());
        assert_eq!(parse_units("q", 0, false).unwrap(), 0);
        assert!(parse_variant_id("v", "var_0123456789abcdef0123456789abcdef").is_ok());
        assert!(parse_variant_id("v", "prod_0123456789abcdef0123456789abcdef").is_err());
        assert!(parse_variant_id("v", "var_XYZ").is_err());
        assert_eq!(DEFAULT_LOCATION.len(), 36);
        assert!(weft_kernel::id::parse_prefixed("loc", DEFAULT_LOCATION).is_ok());
        for s in ["active", "released", "committed", "expired"] {
            assert_eq!(ReservationStatus::parse(s).unwrap().as_str(), s);
        }
    }
}
