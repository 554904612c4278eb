//! Strict JSON request bodies. poem-openapi's own `Json<T>` reports a parse failure as
//! one sentence without saying which field; [`JsonBody`] deserializes with serde (DTOs
//! carry `#[serde(deny_unknown_fields)]`) through `serde_path_to_error`, so a client gets
//! `errors: [{ field: "items[2].quantity", message }]`. Malformed JSON is a 400
//! `malformed_json`; well-formed JSON of the wrong shape is a 422 `validation_failed`.

use poem::{FromRequest, Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use serde::de::DeserializeOwned;
use weft_kernel::{ErrorKind, FieldError};

use crate::ApiError;

/// A JSON body parsed with per-field errors. The schema in the spec comes from `T`'s
/// poem-openapi `Object` derive; parsing comes from its serde `Deserialize` derive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonBody<T>(pub T);

impl<T: Type + Send> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        // `application/json`, optionally with parameters such as `charset=utf-8`.
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        essence.eq_ignore_ascii_case("application/json")
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned + Send> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = Vec::<u8>::from_request(request, body).await?;
        parse(&bytes).map(Self).map_err(Into::into)
    }
}

impl<'a, T: Type + DeserializeOwned + Send> poem_openapi::ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [poem_openapi::ApiExtractorType] =
        &[poem_openapi::ApiExtractorType::RequestObject];

    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<poem_openapi::registry::MetaRequest> {
        Some(poem_openapi::registry::MetaRequest {
            description: None,
            content: vec![poem_openapi::registry::MetaMediaType {
                content_type: <Self as Payload>::CONTENT_TYPE,
                schema: <Self as Payload>::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: poem_openapi::ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        use poem_openapi::error::ContentTypeError;
        match request.content_type() {
            Some(ct) if <Self as Payload>::check_content_type(ct) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            Some(ct) => Err(ContentTypeError::NotSupported {
                content_type: ct.to_owned(),
            }
            .into()),
            None => Err(ContentTypeError::ExpectContentType.into()),
        }
    }
}

/// Parses `bytes` as `T`, naming the offending field on failure.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::new(
            ErrorKind::BadRequest,
            "malformed_json",
            "The request body is empty; a JSON object was expected.",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::new(
                ErrorKind::BadRequest,
                "malformed_json",
                format!("The request body is not valid JSON: {inner}"),
            );
        }
        ApiError::validation(vec![field_error(&path, &inner)])
    })?;
    // Trailing characters after the value are malformed JSON too.
    de.end().map_err(|inner| {
        ApiError::new(
            ErrorKind::BadRequest,
            "malformed_json",
            format!("The request body is not valid JSON: {inner}"),
        )
    })?;
    refuse_nul(bytes)?;
    Ok(value)
}

/// PostgreSQL `text` cannot hold a NUL character (SQLite would keep it and cut it off in
/// places), so no string of a body may carry one: 422 naming each field that does. A raw
/// NUL byte is already malformed JSON; only the `\u0000` escape gets this far, so the
/// body is walked only when that escape appears in it.
fn refuse_nul(bytes: &[u8]) -> Result<(), ApiError> {
    if !bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Ok(());
    };
    let mut errors = Vec::new();
    find_nul(&value, String::new(), &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Collects a field error for every string (or key) under `value` holding a NUL, named
/// as serde_path_to_error names fields (`items[2].note`).
fn find_nul(value: &serde_json::Value, path: String, errors: &mut Vec<FieldError>) {
    const MESSAGE: &str = "must not contain a NUL character (U+0000)";
    match value {
        serde_json::Value::String(s) if s.contains('\0') => {
            let field = if path.is_empty() {
                "body".to_owned()
            } else {
                path
            };
            errors.push(FieldError::new(field, MESSAGE));
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                find_nul(item, format!("{path}[{i}]"), errors);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if key.contains('\0') {
                    errors.push(FieldError::new(child.clone(), MESSAGE));
                }
                find_nul(item, child, errors);
            }
        }
        _ => {}
    }
}

fn field_error(path: &str, err: &serde_json::Error) -> FieldError {
    let message = strip_position(&err.to_string());
    // serde_path_to_error's path already ends at the unknown field itself.
    if message.starts_with("unknown field `") {
        return FieldError::new(path, "unknown field");
    }
    let field = if path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    };
    FieldError::new(field, message)
}

/// serde_json appends " at line 1 column 23"; the field path says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Item {
        variant_id: String,
        quantity: i64,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Order {
        email: String,
        items: Vec<Item>,
    }

    fn err(body: &str) -> ApiError {
        parse::<Order>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn each_kind_of_bad_body_gets_its_own_answer() {
        let cases = [
            (
                "syntax error",
                "{\"email\": ",
                ErrorKind::BadRequest,
                "malformed_json",
                None,
            ),
            (
                "empty body",
                "  ",
                ErrorKind::BadRequest,
                "malformed_json",
                None,
            ),
            (
                "trailing garbage",
                r#"{"email":"a","items":[]} x"#,
                ErrorKind::BadRequest,
                "malformed_json",
                None,
            ),
            (
                "wrong type",
                r#"{"email":"a","items":[{"variant_id":"v","quantity":"2"}]}"#,
                ErrorKind::Invalid,
                "validation_failed",
                Some("items[0].quantity"),
            ),
            (
                "unknown nested field",
                r#"{"email":"a","items":[{"variant_id":"v","quantity":2,"price":1}]}"#,
                ErrorKind::Invalid,
                "validation_failed",
                Some("items[0].price"),
            ),
            (
                "unknown top field",
                r#"{"email":"a","items":[],"admin":true}"#,
                ErrorKind::Invalid,
                "validation_failed",
                Some("admin"),
            ),
            (
                "missing field",
                r#"{"items":[]}"#,
                ErrorKind::Invalid,
                "validation_failed",
                Some("body"),
            ),
            (
                "array for an object",
                "[1,2]",
                ErrorKind::Invalid,
                "validation_failed",
                Some("[0]"),
            ),
        ];
        for (case, body, kind, code, field) in cases {
            let e = err(body);
            assert_eq!((e.kind, e.code), (kind, code), "{case}: {e:?}");
            assert_eq!(
                e.errors.first().map(|f| f.field.as_str()),
                field,
                "{case}: {e:?}"
            );
        }
    }

    #[test]
    fn a_missing_field_is_named_in_the_message() {
        let e = err(r#"{"items":[]}"#);
        assert!(e.errors[0].message.contains("email"), "{e:?}");
    }

    #[test]
    fn a_nul_in_any_string_is_refused_naming_each_field() {
        let e = err(
            r#"{"email":"a\u0000b","items":[{"variant_id":"v","quantity":1},{"variant_id":"x\u0000","quantity":2}]}"#,
        );
        assert_eq!((e.kind, e.code), (ErrorKind::Invalid, "validation_failed"));
        let fields: Vec<&str> = e.errors.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["email", "items[1].variant_id"]);
        // An escaped backslash before `u0000` is not a NUL.
        let order: Order = parse(br#"{"email":"a\\u0000","items":[]}"#).unwrap();
        assert_eq!(order.email, "a\\u0000");
    }

    #[test]
    fn a_valid_body_parses() {
        let order: Order =
            parse(br#"{"email":"a@b.c","items":[{"variant_id":"v","quantity":2}]}"#).unwrap();
        assert_eq!(order.items[0].quantity, 2);
    }
}
