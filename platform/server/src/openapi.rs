//! The REST contract as served and committed: poem-openapi's document, with null marked
//! where it can be answered.
//!
//! poem-openapi renders an `Option<T>` field as "not required" with `T`'s schema, which in
//! OpenAPI 3.0 means "absent, or a `T`" — never `null`. But a `None` is serialized as
//! `null` (unless the field skips it), so strict generated clients reject answers the
//! server really gives. [`mark_nullable`] fixes the document in one place instead of in
//! every DTO.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// poem-openapi's document with [`mark_nullable`] applied, in poem-openapi's key order.
pub fn contract(raw: &str) -> String {
    let mut doc: Json = match serde_json::from_str(raw) {
        Ok(doc) => doc,
        // poem-openapi's own output always parses; if it ever did not, serve it as it is.
        Err(_) => return raw.to_owned(),
    };
    mark_nullable(&mut doc);
    serde_json::to_string_pretty(&doc).unwrap_or_else(|_| raw.to_owned())
}

/// A JSON value that keeps its keys in document order (serde_json's `Value` sorts them
/// without its `preserve_order` feature, which would change every map in the workspace):
/// the document keeps poem-openapi's order, so its diffs and the SDK stay readable.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Json>),
    Object(Vec<(String, Json)>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Self::Object(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        match self {
            Self::Object(entries) => entries.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }
}

impl<'de> Deserialize<'de> for Json {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct JsonVisitor;
        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = Json;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<Json, E> {
                Ok(Json::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
                Ok(Json::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
                Ok(Json::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Json, E> {
                serde_json::Number::from_f64(v)
                    .map(Json::Number)
                    .ok_or_else(|| E::custom("a non-finite number"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Json, E> {
                Ok(Json::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<Json, E> {
                Ok(Json::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Json::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    entries.push(entry);
                }
                Ok(Json::Object(entries))
            }
        }
        deserializer.deserialize_any(JsonVisitor)
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Number(n) => n.serialize(serializer),
            Self::String(s) => serializer.serialize_str(s),
            Self::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Self::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// Marks `nullable: true` on every object property poem-openapi renders from an `Option`:
/// a property that is not required and has no `default` (a non-`Option` field is only
/// optional in poem-openapi's rendering through `#[oai(default)]`, which documents its
/// default). Such a field is answered as `null` when empty (or omitted, with
/// `skip_serializing_if_is_none`), and a body may send `null` for it. A `$ref` property
/// becomes `allOf: [$ref]` beside `nullable`, since OpenAPI 3.0 ignores the siblings of
/// a `$ref`.
pub fn mark_nullable(spec: &mut Json) {
    let Some(Json::Object(schemas)) = spec
        .get_mut("components")
        .and_then(|c| c.get_mut("schemas"))
    else {
        return;
    };
    for (_, schema) in schemas.iter_mut() {
        mark_object(schema);
    }
}

fn mark_object(schema: &mut Json) {
    let required: Vec<String> = match schema.get("required") {
        Some(Json::Array(names)) => names
            .iter()
            .filter_map(|n| match n {
                Json::String(s) => Some(s.clone()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    };
    let Some(Json::Object(properties)) = schema.get_mut("properties") else {
        return;
    };
    for (name, property) in properties.iter_mut() {
        // Inline objects (a field whose type is an inline struct) carry their own.
        mark_object(property);
        if required.contains(name) {
            continue;
        }
        let Json::Object(p) = property else {
            continue;
        };
        if p.iter().any(|(k, _)| k == "default") {
            continue;
        }
        if let Some(i) = p.iter().position(|(k, _)| k == "$ref") {
            let reference = p.remove(i);
            p.insert(
                i,
                (
                    "allOf".to_owned(),
                    Json::Array(vec![Json::Object(vec![reference])]),
                ),
            );
        }
        p.push(("nullable".to_owned(), Json::Bool(true)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn optional_properties_become_nullable_and_the_rest_stay_as_they_were() {
        let spec = json!({"components": {"schemas": {"Cart": {
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {"type": "string"},
                "customer_id": {"type": "string"},
                "tags": {"type": "array", "default": [], "items": {"type": "string"}},
                "price": {"$ref": "#/components/schemas/Money"},
                "total": {"allOf": [{"$ref": "#/components/schemas/Money"}, {"description": "d"}], "description": "d"},
            }
        }}}});
        let out: Value = serde_json::from_str(&contract(&spec.to_string())).unwrap();
        assert_eq!(
            out["components"]["schemas"]["Cart"]["properties"],
            json!({
                "id": {"type": "string"},
                "customer_id": {"type": "string", "nullable": true},
                "tags": {"type": "array", "default": [], "items": {"type": "string"}},
                "price": {"allOf": [{"$ref": "#/components/schemas/Money"}], "nullable": true},
                "total": {"allOf": [{"$ref": "#/components/schemas/Money"}, {"description": "d"}], "description": "d", "nullable": true},
            })
        );
    }
}

#[cfg(test)]
mod order {
    #[test]
    fn keys_keep_their_document_order() {
        let raw = r#"{"z": 1, "a": {"y": [true, null, 1.5, "s"], "b": -2}}"#;
        let out = super::contract(raw);
        let compact: String = out.split_whitespace().collect();
        assert_eq!(compact, r#"{"z":1,"a":{"y":[true,null,1.5,"s"],"b":-2}}"#);
    }
}
