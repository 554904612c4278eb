//! Postal addresses, validated the same way wherever one is taken (a customer's address
//! book, a checkout's shipping and billing addresses).
//!
//! Rules: an ISO 3166-1 alpha-2 country; a recipient name, a first line and a city; a
//! postal code in the country's format for the countries listed in [`POSTAL_FORMATS`]
//! (normalised to its canonical spelling, e.g. `sw1a1aa` → `SW1A 1AA`); a region where the
//! post needs one (US states, Canadian provinces, Australian states by code; Indian and
//! Japanese ones by name). Patterns follow Google's address metadata (libaddressinput).

use std::str::FromStr;
use std::sync::LazyLock;

use poem_openapi::Object;
use regex::Regex;
use serde::{Deserialize, Serialize};

use crate::FieldError;

/// A postal address as clients send it and as it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Object, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostalAddress {
    /// The recipient.
    pub name: String,
    #[serde(default)]
    pub company: Option<String>,
    pub line1: String,
    #[serde(default)]
    pub line2: Option<String>,
    pub city: String,
    /// State, province or prefecture: required for US, CA, AU (as codes: `NY`, `QC`,
    /// `NSW`), IN and JP.
    #[serde(default)]
    pub region: Option<String>,
    /// Required, in the country's format, for US, CA, GB, DE, FR, IN, AU, JP.
    #[serde(default)]
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2 (`US`, `GB`, `DE`).
    pub country: String,
    /// International format, `+` and 7–15 digits (spaces, dashes and dots allowed).
    #[serde(default)]
    pub phone: Option<String>,
}

/// Postal code patterns of the countries Weft checks, on the normalised (upper-case) code.
pub const POSTAL_FORMATS: &[(&str, &str)] = &[
    ("US", r"^\d{5}(-\d{4})?$"),
    (
        "CA",
        r"^[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] \d[ABCEGHJ-NPRSTV-Z]\d$",
    ),
    ("GB", r"^([A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}|GIR 0AA)$"),
    ("DE", r"^\d{5}$"),
    ("FR", r"^\d{5}$"),
    ("IN", r"^[1-9]\d{5}$"),
    ("AU", r"^\d{4}$"),
    ("JP", r"^\d{3}-\d{4}$"),
];

static PATTERNS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    POSTAL_FORMATS
        .iter()
        .filter_map(|(country, pattern)| Regex::new(pattern).ok().map(|re| (*country, re)))
        .collect()
});

const US_STATES: &[&str] = &[
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN", "IA",
    "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM",
    "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA",
    "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI", "AA", "AE", "AP",
];
const CA_PROVINCES: &[&str] = &[
    "AB", "BC", "MB", "NB", "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT",
];
const AU_STATES: &[&str] = &["ACT", "NSW", "NT", "QLD", "SA", "TAS", "VIC", "WA"];

/// Regions by code, for countries whose post wants one of a closed list.
fn region_codes(country: &str) -> Option<&'static [&'static str]> {
    match country {
        "US" => Some(US_STATES),
        "CA" => Some(CA_PROVINCES),
        "AU" => Some(AU_STATES),
        _ => None,
    }
}

fn region_required(country: &str) -> bool {
    matches!(country, "US" | "CA" | "AU" | "IN" | "JP")
}

/// What a phone number must look like, for error messages.
pub const PHONE_RULE: &str = "must be in international format: + and 7 to 15 digits";

/// A phone number in international format as `+` and its digits (E.164), or `None` when
/// `raw` is not one. Spaces, dashes, dots and parentheses between digits are allowed.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let rest = raw.trim().strip_prefix('+')?;
    let shape_ok = rest
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'));
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    (shape_ok && (7..=15).contains(&digits.len())).then(|| format!("+{digits}"))
}

/// The canonical spelling of a postal code: upper case, single spaces, and the space or
/// hyphen where the country's format puts one.
fn normalise_postal(country: &str, raw: &str) -> String {
    let compact: String = raw
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .flat_map(char::to_uppercase)
        .collect();
    match country {
        "CA" | "GB" if compact.len() > 3 => {
            let (outward, inward) = compact.split_at(compact.len() - 3);
            format!("{outward} {inward}")
        }
        "US" if compact.len() == 9 => format!("{}-{}", &compact[..5], &compact[5..]),
        "JP" if compact.len() == 7 => format!("{}-{}", &compact[..3], &compact[3..]),
        "US" | "DE" | "FR" | "IN" | "AU" | "JP" => compact,
        _ => raw
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase(),
    }
}

fn text(
    errors: &mut Vec<FieldError>,
    prefix: &str,
    field: &str,
    value: &str,
    max: usize,
) -> String {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len == 0 {
        errors.push(FieldError::new(format!("{prefix}{field}"), "is required"));
    } else if len > max || trimmed.chars().any(char::is_control) {
        errors.push(FieldError::new(
            format!("{prefix}{field}"),
            format!("must be at most {max} characters without control characters"),
        ));
    }
    trimmed.to_owned()
}

fn optional_text(
    errors: &mut Vec<FieldError>,
    prefix: &str,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    Some(text(errors, prefix, field, value, max))
}

impl PostalAddress {
    /// Checks every rule and returns the address in canonical form, or every problem at
    /// once with field paths under `prefix` (say `shipping_address.`).
    pub fn validate(&self, prefix: &str) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let name = text(&mut errors, prefix, "name", &self.name, 100);
        let company = optional_text(&mut errors, prefix, "company", self.company.as_deref(), 100);
        let line1 = text(&mut errors, prefix, "line1", &self.line1, 200);
        let line2 = optional_text(&mut errors, prefix, "line2", self.line2.as_deref(), 200);
        let city = text(&mut errors, prefix, "city", &self.city, 100);

        let country = self.country.trim().to_uppercase();
        let known_country = country.len() == 2 && iso_country::Country::from_str(&country).is_ok();
        if !known_country {
            errors.push(FieldError::new(
                format!("{prefix}country"),
                "must be an ISO 3166-1 alpha-2 country code",
            ));
        }

        let region = self
            .region
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(|r| match region_codes(&country) {
                Some(_) => r.to_uppercase(),
                None => r.to_owned(),
            });
        match (&region, region_codes(&country)) {
            (None, _) if known_country && region_required(&country) => errors.push(
                FieldError::new(format!("{prefix}region"), "is required for this country"),
            ),
            (Some(r), Some(codes)) if !codes.contains(&r.as_str()) => errors.push(FieldError::new(
                format!("{prefix}region"),
                format!("must be one of this country's codes ({})", codes.join(", ")),
            )),
            (Some(r), _) if r.chars().count() > 100 => errors.push(FieldError::new(
                format!("{prefix}region"),
                "must be at most 100 characters",
            )),
            _ => {}
        }

        let pattern = PATTERNS
            .iter()
            .find(|(c, _)| *c == country)
            .map(|(_, re)| re);
        let postal_code = match self
            .postal_code
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            None => {
                if pattern.is_some() {
                    errors.push(FieldError::new(
                        format!("{prefix}postal_code"),
                        "is required for this country",
                    ));
                }
                None
            }
            Some(raw) => {
                let code = normalise_postal(&country, raw);
                let valid = match pattern {
                    Some(re) => re.is_match(&code),
                    None => {
                        code.chars().count() <= 16
                            && code
                                .chars()
                                .all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-')
                    }
                };
                if !valid {
                    errors.push(FieldError::new(
                        format!("{prefix}postal_code"),
                        format!("is not a valid postal code for {country}"),
                    ));
                }
                Some(code)
            }
        };

        let phone = self
            .phone
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|raw| {
                normalise_phone(raw).unwrap_or_else(|| {
                    errors.push(FieldError::new(format!("{prefix}phone"), PHONE_RULE));
                    raw.to_owned()
                })
            });

        if errors.is_empty() {
            Ok(Self {
                name,
                company,
                line1,
                line2,
                city,
                region,
                postal_code,
                country,
                phone,
            })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn address(country: &str, region: Option<&str>, postal: Option<&str>) -> PostalAddress {
        PostalAddress {
            name: " Ada Lovelace ".to_owned(),
            company: None,
            line1: "12 St James's Square".to_owned(),
            line2: Some("  ".to_owned()),
            city: "London".to_owned(),
            region: region.map(str::to_owned),
            postal_code: postal.map(str::to_owned),
            country: country.to_owned(),
            phone: None,
        }
    }

    #[test]
    fn each_checked_country_accepts_its_format_and_normalises_it() {
        for (country, region, raw, canonical) in [
            ("US", Some("ny"), "10001", "10001"),
            ("US", Some("CA"), "94105 1234", "94105-1234"),
            ("CA", Some("QC"), "h2x1y4", "H2X 1Y4"),
            ("GB", None, "sw1a1aa", "SW1A 1AA"),
            ("GB", None, "M1 1AE", "M1 1AE"),
            ("DE", None, "10115", "10115"),
            ("FR", None, "75 008", "75008"),
            ("IN", Some("Maharashtra"), "400 001", "400001"),
            ("AU", Some("nsw"), "2000", "2000"),
            ("JP", Some("Tokyo"), "1000001", "100-0001"),
            ("gb", None, "EC1A 1BB", "EC1A 1BB"),
            ("NL", None, "1012 ab", "1012 AB"),
        ] {
            let valid = address(country, region, Some(raw)).validate("").unwrap();
            assert_eq!(
                valid.postal_code.as_deref(),
                Some(canonical),
                "{country} {raw}"
            );
            assert_eq!(valid.name, "Ada Lovelace");
            assert_eq!(valid.line2, None);
            assert_eq!(valid.country, country.to_uppercase());
        }
    }

    #[test]
    fn wrong_codes_regions_and_countries_are_named() {
        for (country, region, raw) in [
            ("US", Some("NY"), "1000"),
            ("US", Some("NY"), "ABCDE"),
            ("CA", Some("QC"), "D2X 1Y4"),
            ("GB", None, "12345"),
            ("DE", None, "1011"),
            ("FR", None, "750080"),
            ("IN", Some("Goa"), "040001"),
            ("AU", Some("VIC"), "30000"),
            ("JP", Some("Osaka"), "12-3456"),
        ] {
            let errors = address(country, region, Some(raw))
                .validate("shipping_address.")
                .unwrap_err();
            assert_eq!(errors.len(), 1, "{country} {raw}: {errors:?}");
            assert_eq!(errors[0].field, "shipping_address.postal_code");
        }
        let errors = address("US", None, None).validate("").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["region", "postal_code"]);
        let errors = address("US", Some("XX"), Some("10001"))
            .validate("")
            .unwrap_err();
        assert_eq!(errors[0].field, "region");
        let errors = address("ZZ", None, None).validate("").unwrap_err();
        assert_eq!(errors[0].field, "country");
        let errors = address("USA", None, None).validate("").unwrap_err();
        assert_eq!(errors[0].field, "country");
        let mut missing = address("DE", None, Some("10115"));
        missing.name = " ".to_owned();
        missing.line1 = String::new();
        missing.city = "x".repeat(101);
        missing.phone = Some("12345".to_owned());
        let fields: Vec<_> = missing
            .validate("")
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["name", "line1", "city", "phone"]);
    }

    #[test]
    fn phones_are_kept_in_e164() {
        let mut a = address("GB", None, Some("SW1A 1AA"));
        a.phone = Some("+44 (20) 7946-0958".to_owned());
        assert_eq!(
            a.validate("").unwrap().phone.as_deref(),
            Some("+442079460958")
        );
    }
}
