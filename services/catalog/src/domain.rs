//! The catalog's vocabulary: ids, statuses, handles, SKUs, options and prices, each parsed
//! once at the edge so the rest of the crate can trust them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use weft_kernel::{Currency, FieldError, MAX_PRICE};

weft_kernel::define_id!(ProductId, "prod", "A product.");

/// Stock statuses (inventory's words) of a variant that can be bought now.
pub const SELLABLE: &[&str] = &["in_stock", "low_stock", "backorder"];

/// A variant inventory never announced.
pub const UNKNOWN_STOCK: &str = "out_of_stock";
weft_kernel::define_id!(
    VariantId,
    "var",
    "A variant of a product (one size and color)."
);
weft_kernel::define_id!(CategoryId, "cat", "A category in the catalog tree.");
weft_kernel::define_id!(CollectionId, "col", "A hand-picked collection of products.");

/// Who can see a product: guests only see `active` ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductStatus {
    Draft,
    Active,
    Archived,
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "draft" => Ok(Self::Draft),
            "active" => Ok(Self::Active),
            "archived" => Ok(Self::Archived),
            _ => Err(FieldError::new(
                "status",
                "must be `draft`, `active` or `archived`",
            )),
        }
    }
}

/// A URL-safe name: lower-case letters, digits and single hyphens, 1–100 characters.
pub fn parse_handle(field: &str, s: &str) -> Result<String, FieldError> {
    let ok = !s.is_empty()
        && s.len() <= 100
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--");
    if ok {
        Ok(s.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "must be 1–100 lower-case letters, digits and single hyphens",
        ))
    }
}

/// A handle made from a title: `Linen Shirt — Blue` → `linen-shirt-blue`.
pub fn handle_from(title: &str) -> String {
    let mut out = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    trimmed
        .chars()
        .take(100)
        .collect::<String>()
        .trim_end_matches('-')
        .to_owned()
}

/// A stock-keeping unit: 1–64 of letters, digits, `-`, `_`, `.`.
pub fn parse_sku(field: &str, s: &str) -> Result<String, FieldError> {
    let s = s.trim();
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(s.to_owned())
    } else {
        Err(FieldError::new(
            field,
            "must be 1–64 letters, digits, `-`, `_` or `.`",
        ))
    }
}

/// Trimmed text of 1..=max characters without control characters.
pub fn parse_text(field: &str, s: &str, max: usize) -> Result<String, FieldError> {
    let t = s.trim();
    let n = t.chars().count();
    if n == 0 || n > max || t.chars().any(|c| c.is_control() && c != '\n') {
        return Err(FieldError::new(
            field,
            format!("must be 1–{max} characters"),
        ));
    }
    Ok(t.to_owned())
}

/// A product option (`size` with its values `XS`…`XL`), in display order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductOption {
    pub name: String,
    pub values: Vec<String>,
}

/// A picture of the product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Image {
    pub url: String,
    pub alt: String,
}

/// A price in one currency, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Price {
    pub currency: Currency,
    pub amount: i64,
    pub compare_at_amount: Option<i64>,
}

/// Checks option definitions: 0–3 options, unique lower-case names, 1–100 unique values.
pub fn parse_options(options: &[ProductOption]) -> Result<Vec<ProductOption>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out: Vec<ProductOption> = Vec::new();
    if options.len() > 3 {
        errors.push(FieldError::new("options", "at most 3 options"));
    }
    for (i, option) in options.iter().enumerate() {
        let name = option.name.trim().to_lowercase();
        if name.is_empty() || name.len() > 30 {
            errors.push(FieldError::new(
                format!("options[{i}].name"),
                "must be 1–30 characters",
            ));
        } else if out.iter().any(|o| o.name == name) {
            errors.push(FieldError::new(format!("options[{i}].name"), "is repeated"));
        }
        let mut values: Vec<String> = Vec::new();
        for (j, value) in option.values.iter().enumerate() {
            let value = value.trim().to_owned();
            if value.is_empty() || value.chars().count() > 50 {
                errors.push(FieldError::new(
                    format!("options[{i}].values[{j}]"),
                    "must be 1–50 characters",
                ));
            } else if values.contains(&value) {
                errors.push(FieldError::new(
                    format!("options[{i}].values[{j}]"),
                    "is repeated",
                ));
            } else {
                values.push(value);
            }
        }
        if option.values.is_empty() || option.values.len() > 100 {
            errors.push(FieldError::new(
                format!("options[{i}].values"),
                "must hold 1–100 values",
            ));
        }
        out.push(ProductOption { name, values });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// Checks a variant's option values against the product's options: every option given
/// once, with one of its values. Returns them keyed by option name, and the canonical key
/// of the combination (`color=Black|size=M`).
pub fn parse_option_values(
    field: &str,
    options: &[ProductOption],
    given: &BTreeMap<String, String>,
) -> Result<(BTreeMap<String, String>, String), Vec<FieldError>> {
    let mut errors = Vec::new();
    let given: BTreeMap<String, String> = given
        .iter()
        .map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    for option in options {
        match given.get(&option.name) {
            None => errors.push(FieldError::new(
                format!("{field}.{}", option.name),
                "is required",
            )),
            Some(v) if !option.values.contains(v) => errors.push(FieldError::new(
                format!("{field}.{}", option.name),
                format!("must be one of: {}", option.values.join(", ")),
            )),
            Some(_) => {}
        }
    }
    for name in given.keys() {
        if !options.iter().any(|o| &o.name == name) {
            errors.push(FieldError::new(
                format!("{field}.{name}"),
                "is not an option of this product",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let key = given
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("|");
    Ok((given, key))
}

/// Checks a variant's prices: ISO currencies, each once, amounts 0–[`MAX_PRICE`] (so
/// a cart's totals stay exact), compare-at ≥ amount and within the same bound.
pub fn parse_prices(
    field: &str,
    prices: &[(String, i64, Option<i64>)],
) -> Result<Vec<Price>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut out: Vec<Price> = Vec::new();
    for (i, (currency, amount, compare_at)) in prices.iter().enumerate() {
        let path = format!("{field}[{i}]");
        let currency = match Currency::parse(&currency.trim().to_uppercase()) {
            Ok(c) => c,
            Err(e) => {
                errors.push(FieldError::new(format!("{path}.currency"), e.to_string()));
                continue;
            }
        };
        if out.iter().any(|p| p.currency == currency) {
            errors.push(FieldError::new(format!("{path}.currency"), "is repeated"));
        }
        if *amount < 0 {
            errors.push(FieldError::new(format!("{path}.amount"), "must be ≥ 0"));
        } else if *amount > MAX_PRICE {
            errors.push(FieldError::new(
                format!("{path}.amount"),
                format!("must be at most {MAX_PRICE} (minor units)"),
            ));
        }
        if compare_at.is_some_and(|c| c > MAX_PRICE) {
            errors.push(FieldError::new(
                format!("{path}.compare_at_amount"),
                format!("must be at most {MAX_PRICE} (minor units)"),
            ));
        } else if compare_at.is_some_and(|c| c < *amount) {
            errors.push(FieldError::new(
                format!("{path}.compare_at_amount"),
                "must be ≥ amount",
            ));
        }
        out.push(Price {
            currency,
            amount: *amount,
            compare_at_amount: *compare_at,
        });
    }
    if prices.is_empty() {
        errors.push(FieldError::new(field, "must hold at least one price"));
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn handles_are_made_and_checked() {
        assert_eq!(handle_from("Linen Shirt — Blue!"), "linen-shirt-blue");
        assert_eq!(handle_from("  Éte 2026 "), "te-2026");
        assert!(parse_handle("h", "linen-shirt").is_ok());
        for bad in ["", "Linen", "a--b", "-a", "a-", "a b", &"a".repeat(101)] {
            assert!(parse_handle("h", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn option_values_must_match_the_products_options() {
        let options = parse_options(&[
            ProductOption {
                name: "Size".into(),
                values: vec!["S".into(), "M".into()],
            },
            ProductOption {
                name: "color".into(),
                values: vec!["Black".into()],
            },
        ])
        .unwrap();
        let given: BTreeMap<String, String> = [
            ("size".into(), "M".into()),
            ("Color".into(), "Black".into()),
        ]
        .into();
        let (_, key) = parse_option_values("v", &options, &given).unwrap();
        assert_eq!(key, "color=Black|size=M");
        let wrong: BTreeMap<String, String> = [
            ("size".into(), "XL".into()),
            ("fabric".into(), "silk".into()),
        ]
        .into();
        let errors = parse_option_values("v", &options, &wrong).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["v.size", "v.color", "v.fabric"]);
    }

    #[test]
    fn prices_are_checked() {
        assert!(parse_prices("p", &[("USD".into(), 1999, Some(2999))]).is_ok());
        let errors = parse_prices(
            "p",
            &[
                ("USD".into(), -1, None),
                ("usd".into(), 5, Some(4)),
                ("XXX1".into(), 1, None),
                ("EUR".into(), MAX_PRICE + 1, None),
                ("GBP".into(), MAX_PRICE, Some(i64::MAX)),
            ],
        )
        .unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "p[0].amount",
                "p[1].currency",
                "p[1].compare_at_amount",
                "p[2].currency",
                "p[3].amount",
                "p[4].compare_at_amount"
            ]
        );
        assert!(parse_prices("p", &[]).is_err());
    }
}
