//! Type-prefixed ids (`prod_0192…`): a UUIDv7 in lowercase hex behind a prefix naming the
//! type, so ids sort by creation time, can't be mixed up across types, and say what they
//! are in a log line. One macro makes the whole family; each id parses strictly
//! (right prefix, 32 lowercase hex digits) so a path like `/orders/prod_…` is a 404, not
//! a lookup.

use std::fmt;

use thiserror::Error;
use uuid::Uuid;

/// Why a string is not an id of the expected type.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("expected an id of the form `{prefix}_` followed by 32 lowercase hex digits")]
pub struct IdParseError {
    pub prefix: &'static str,
}

/// Validates `s` as `<prefix>_<32 lowercase hex>` and returns the UUID inside.
pub fn parse_prefixed(prefix: &'static str, s: &str) -> Result<Uuid, IdParseError> {
    let err = IdParseError { prefix };
    let hex = s
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .ok_or(err.clone())?;
    // Only the canonical spelling is accepted so one id has exactly one string form.
    if hex.len() != 32 || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(err);
    }
    Uuid::try_parse(hex).map_err(|_| err)
}

/// Formats a UUID as `<prefix>_<32 lowercase hex>`.
pub fn format_prefixed(prefix: &str, uuid: Uuid) -> String {
    let mut out = String::with_capacity(prefix.len() + 33);
    out.push_str(prefix);
    out.push('_');
    out.push_str(uuid.simple().encode_lower(&mut Uuid::encode_buffer()));
    out
}

/// Behaviour shared by every generated id type.
pub trait PrefixedId: Sized + fmt::Display {
    /// The type prefix without its underscore, e.g. `prod`.
    const PREFIX: &'static str;
    /// A new id for something created now.
    fn generate() -> Self;
    /// The canonical string form.
    fn as_str(&self) -> &str;
}

/// Declares an id type: `define_id!(ProductId, "prod", "A product.");`
/// The calling crate needs `diesel` (its derives name it directly).
#[macro_export]
macro_rules! define_id {
    ($name:ident, $prefix:literal, $doc:literal) => {
        #[doc = $doc]
        #[derive(
            Clone,
            PartialEq,
            Eq,
            PartialOrd,
            Ord,
            Hash,
            ::diesel::AsExpression,
            ::diesel::FromSqlRow,
        )]
        #[diesel(sql_type = ::diesel::sql_types::Text)]
        pub struct $name(String);

        impl $crate::id::PrefixedId for $name {
            const PREFIX: &'static str = $prefix;
            fn generate() -> Self {
                Self($crate::id::format_prefixed($prefix, $crate::__private::uuid::Uuid::now_v7()))
            }
            fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl $name {
            /// The UUIDv7 inside the id.
            pub fn uuid(&self) -> $crate::__private::uuid::Uuid {
                // The string was validated on construction, so this cannot fail.
                $crate::id::parse_prefixed($prefix, &self.0).unwrap_or_default()
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::id::IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::id::parse_prefixed($prefix, s).map(|_| Self(s.to_owned()))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl $crate::__private::serde::Serialize for $name {
            fn serialize<S: $crate::__private::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> $crate::__private::serde::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as $crate::__private::serde::Deserialize>::deserialize(d)?;
                s.parse().map_err($crate::__private::serde::de::Error::custom)
            }
        }

        impl<DB> ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            String: ::diesel::serialize::ToSql<::diesel::sql_types::Text, DB>,
        {
            fn to_sql<'b>(
                &'b self,
                out: &mut ::diesel::serialize::Output<'b, '_, DB>,
            ) -> ::diesel::serialize::Result {
                self.0.to_sql(out)
            }
        }

        impl<DB> ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB> for $name
        where
            DB: ::diesel::backend::Backend,
            String: ::diesel::deserialize::FromSql<::diesel::sql_types::Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> ::diesel::deserialize::Result<Self> {
                let s = String::from_sql(bytes)?;
                Ok(s.parse()?)
            }
        }

        impl $crate::__private::poem_openapi::types::Type for $name {
            const IS_REQUIRED: bool = true;
            type RawValueType = Self;
            type RawElementValueType = Self;

            fn name() -> ::std::borrow::Cow<'static, str> {
                "string(id)".into()
            }

            fn schema_ref() -> $crate::__private::poem_openapi::registry::MetaSchemaRef {
                $crate::__private::poem_openapi::registry::MetaSchemaRef::Inline(Box::new(
                    $crate::__private::poem_openapi::registry::MetaSchema {
                        pattern: Some(concat!("^", $prefix, "_[0-9a-f]{32}$").to_owned()),
                        example: Some($crate::__private::serde_json::Value::String(
                            concat!($prefix, "_01936f0e8c8a7b1c9d2e3f4a5b6c7d8e").to_owned(),
                        )),
                        ..$crate::__private::poem_openapi::registry::MetaSchema::new("string")
                    },
                ))
            }

            fn as_raw_value(&self) -> Option<&Self::RawValueType> {
                Some(self)
            }

            fn raw_element_iter<'a>(
                &'a self,
            ) -> Box<dyn Iterator<Item = &'a Self::RawElementValueType> + 'a> {
                Box::new(self.as_raw_value().into_iter())
            }
        }

        impl $crate::__private::poem_openapi::types::ParseFromJSON for $name {
            fn parse_from_json(
                value: Option<$crate::__private::serde_json::Value>,
            ) -> $crate::__private::poem_openapi::types::ParseResult<Self> {
                match value {
                    Some($crate::__private::serde_json::Value::String(s)) => Ok(s.parse()?),
                    other => Err($crate::__private::poem_openapi::types::ParseError::expected_type(
                        other.unwrap_or_default(),
                    )),
                }
            }
        }

        impl $crate::__private::poem_openapi::types::ParseFromParameter for $name {
            fn parse_from_parameter(value: &str) -> $crate::__private::poem_openapi::types::ParseResult<Self> {
                Ok(value.parse()?)
            }
        }

        impl $crate::__private::poem_openapi::types::ToJSON for $name {
            fn to_json(&self) -> Option<$crate::__private::serde_json::Value> {
                Some($crate::__private::serde_json::Value::String(self.0.clone()))
            }
        }
    };
}

define_id!(EventId, "evt", "An event in the outbox and on the bus.");

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    define_id!(TestId, "tst", "An id used only by these tests.");

    #[test]
    fn generated_ids_parse_back_and_sort_by_creation_time() {
        let a = TestId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = TestId::generate();
        assert!(a.as_str().starts_with("tst_"));
        assert_eq!(a.as_str().parse::<TestId>().unwrap(), a);
        assert!(a < b, "{a} should sort before {b}");
        assert_eq!(a.uuid().get_version_num(), 7);
    }

    #[test]
    fn ids_with_the_wrong_shape_are_rejected() {
        for (case, input) in [
            ("empty", ""),
            ("wrong prefix", "prod_01936f0e8c8a7b1c9d2e3f4a5b6c7d8e"),
            ("no underscore", "tst01936f0e8c8a7b1c9d2e3f4a5b6c7d8e"),
            ("too short", "tst_01936f0e"),
            ("too long", "tst_01936f0e8c8a7b1c9d2e3f4a5b6c7d8e0"),
            ("uppercase hex", "tst_01936F0E8C8A7B1C9D2E3F4A5B6C7D8E"),
            (
                "hyphenated uuid",
                "tst_01936f0e-8c8a-7b1c-9d2e-3f4a5b6c7d8e",
            ),
            ("sql", "tst_' OR 1=1 --"),
        ] {
            assert!(
                input.parse::<TestId>().is_err(),
                "{case}: {input:?} was accepted"
            );
        }
    }

    proptest! {
        #[test]
        fn any_uuid_round_trips_through_its_string_form(bytes in any::<[u8; 16]>()) {
            let s = format_prefixed("tst", Uuid::from_bytes(bytes));
            let id: TestId = s.parse().unwrap();
            prop_assert_eq!(id.uuid(), Uuid::from_bytes(bytes));
            prop_assert_eq!(id.to_string(), s);
        }

        #[test]
        fn arbitrary_strings_never_panic_the_parser(s in ".{0,64}") {
            let _ = s.parse::<TestId>();
        }
    }
}
