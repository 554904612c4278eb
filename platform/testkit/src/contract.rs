//! Every answer a test app gives is checked against the OpenAPI document it serves: the
//! status is declared for the operation, the content type is one declared for that
//! status, and a JSON body matches the schema (nullability and required fields
//! included). A mismatch is recorded with the request, the status and the schema error,
//! and fails the test that received it when its [`crate::TestApp`] is dropped.
//!
//! Test-only: the testkit wraps the application's endpoint with [`Validating`] through
//! [`weft::Application::map_endpoint`]; production code never carries it.
//!
//! Paths the document does not describe (GraphQL, `/docs`, `/metrics`, media, the live
//! cart WebSocket, unknown routes) and methods it does not list are not checked: there
//! is no contract to hold them to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use poem::{Endpoint, Request, Response};
use serde_json::{Map, Value};

/// The served document, turned into JSON Schema validators (built once per response).
pub struct Contract {
    /// `(segments of the path template, its operations)`.
    paths: Vec<(Vec<String>, Map<String, Value>)>,
    /// The document's `components`, converted, as the root of every validator.
    components: Value,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
}

impl Contract {
    /// Reads an OpenAPI 3.0 document.
    pub fn new(spec: &Value) -> Self {
        let paths = spec["paths"]
            .as_object()
            .map(|paths| {
                paths
                    .iter()
                    .map(|(template, ops)| {
                        (
                            template.split('/').map(str::to_owned).collect(),
                            ops.as_object().cloned().unwrap_or_default(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            paths,
            components: openapi_to_json_schema(&spec["components"]),
            validators: Mutex::new(HashMap::new()),
        }
    }

    /// The operation `method path` names, if the document describes it. A template with
    /// more literal segments wins (`/v1/products/import` over `/v1/products/{id}`).
    fn operation(&self, method: &str, path: &str) -> Option<&Value> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut best: Option<(usize, &Value)> = None;
        for (template, ops) in &self.paths {
            if template.len() != segments.len() {
                continue;
            }
            let mut literal = 0;
            let fits = template.iter().zip(&segments).all(|(t, s)| {
                if t.starts_with('{') {
                    !s.is_empty()
                } else {
                    literal += 1;
                    t == s
                }
            });
            if !fits {
                continue;
            }
            let Some(op) = ops.get(&method.to_ascii_lowercase()) else {
                continue;
            };
            if best.is_none_or(|(n, _)| literal > n) {
                best = Some((literal, op));
            }
        }
        best.map(|(_, op)| op)
    }

    /// Why the answer breaks the contract, if it does.
    pub fn check(
        &self,
        method: &str,
        path: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), String> {
        let Some(op) = self.operation(method, path) else {
            return Ok(());
        };
        let responses = &op["responses"];
        let code = status.to_string();
        let range = format!("{}XX", status / 100);
        let (key, response) = [code.as_str(), range.as_str(), "default"]
            .into_iter()
            .find_map(|k| responses.get(k).map(|r| (k, r)))
            .ok_or_else(|| format!("status {status} is not declared"))?;
        let content = response["content"].as_object();
        let Some(content) = content.filter(|c| !c.is_empty()) else {
            return if body.is_empty() || method == "HEAD" {
                Ok(())
            } else {
                Err(format!(
                    "a {} byte body where `{key}` declares none",
                    body.len()
                ))
            };
        };
        if method == "HEAD" {
            return Ok(());
        }
        let answered = content_type.map(essence).ok_or_else(|| {
            format!(
                "no content type; `{key}` declares {:?}",
                content.keys().collect::<Vec<_>>()
            )
        })?;
        let (declared, media) = content
            .iter()
            .find(|(declared, _)| essence(declared) == answered)
            .ok_or_else(|| {
                format!(
                    "content type `{answered}` is not declared for `{key}`: {:?}",
                    content.keys().collect::<Vec<_>>()
                )
            })?;
        if !(answered == "application/json" || answered.ends_with("+json")) {
            return Ok(());
        }
        let Some(schema) = media.get("schema") else {
            return Ok(());
        };
        let instance: Value = serde_json::from_slice(body)
            .map_err(|e| format!("a `{declared}` body that is not JSON: {e}"))?;
        let validator = self.validator(&format!("{method} {path} {key} {declared}"), schema)?;
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("at `{}`: {e}", e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "the body does not match the `{key}` schema: {}\n  body: {}",
                errors.join("; "),
                String::from_utf8_lossy(body)
            ))
        }
    }

    fn validator(&self, key: &str, schema: &Value) -> Result<Arc<jsonschema::Validator>, String> {
        let mut cache = self
            .validators
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(v) = cache.get(key) {
            return Ok(Arc::clone(v));
        }
        let mut root = openapi_to_json_schema(schema);
        if let Value::Object(root) = &mut root {
            root.insert("components".to_owned(), self.components.clone());
        }
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&root)
            .map_err(|e| format!("the document's schema does not compile: {e}"))?;
        let validator = Arc::new(validator);
        cache.insert(key.to_owned(), Arc::clone(&validator));
        Ok(validator)
    }
}

/// `application/json; charset=utf-8` → `application/json`.
fn essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// OpenAPI 3.0's schema dialect in JSON Schema 2020-12 terms: `nullable: true` admits
/// `null`; boolean `exclusiveMinimum`/`exclusiveMaximum` take their bound's value.
/// `$ref`s into `#/components/schemas` keep working because every validator's root
/// carries the converted `components`.
pub fn openapi_to_json_schema(schema: &Value) -> Value {
    match schema {
        Value::Array(items) => Value::Array(items.iter().map(openapi_to_json_schema).collect()),
        Value::Object(object) => {
            let mut out: Map<String, Value> = object
                .iter()
                .map(|(k, v)| (k.clone(), openapi_to_json_schema(v)))
                .collect();
            for (flag, bound) in [
                ("exclusiveMinimum", "minimum"),
                ("exclusiveMaximum", "maximum"),
            ] {
                if let Some(Value::Bool(exclusive)) = out.get(flag).cloned() {
                    out.remove(flag);
                    if exclusive && let Some(limit) = out.remove(bound) {
                        out.insert(flag.to_owned(), limit);
                    }
                }
            }
            if out.get("nullable") == Some(&Value::Bool(true)) {
                out.remove("nullable");
                return serde_json::json!({ "anyOf": [{ "type": "null" }, Value::Object(out)] });
            }
            if out.get("nullable") == Some(&Value::Bool(false)) {
                out.remove("nullable");
            }
            Value::Object(out)
        }
        other => other.clone(),
    }
}

/// Contract violations seen by one test app.
pub type Violations = Arc<Mutex<Vec<String>>>;

/// The application's endpoint, with every answer checked against [`Contract`].
pub struct Validating<E> {
    pub inner: E,
    pub contract: Arc<Contract>,
    pub violations: Violations,
}

impl<E: Endpoint<Output = Response>> Endpoint for Validating<E> {
    type Output = Response;

    async fn call(&self, req: Request) -> poem::Result<Response> {
        let method = req.method().as_str().to_owned();
        let path = req.uri().path().to_owned();
        let mut resp = self.inner.call(req).await?;
        let status = resp.status().as_u16();
        // A WebSocket upgrade's body is the connection itself; routes outside the
        // document are not held to it.
        if status == 101 || self.contract.operation(&method, &path).is_none() {
            return Ok(resp);
        }
        let content_type = resp.content_type().map(str::to_owned);
        let body = match resp.take_body().into_bytes().await {
            Ok(body) => body,
            Err(err) => {
                self.record(format!(
                    "{method} {path} → {status}: unreadable body: {err}"
                ));
                return Ok(resp);
            }
        };
        if let Err(why) =
            self.contract
                .check(&method, &path, status, content_type.as_deref(), &body)
        {
            self.record(format!("{method} {path} → {status}: {why}"));
        }
        resp.set_body(body);
        Ok(resp)
    }
}

impl<E> Validating<E> {
    fn record(&self, violation: String) {
        eprintln!("contract violation: {violation}");
        self.violations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(violation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn contract() -> Contract {
        Contract::new(&json!({
            "paths": {
                "/v1/carts/{id}": {"get": {"responses": {
                    "200": {"content": {"application/json; charset=utf-8": {"schema": {"$ref": "#/components/schemas/Cart"}}}},
                    "304": {"description": ""},
                    "4XX": {"content": {"application/problem+json": {"schema": {"type": "object"}}}}
                }}},
                "/v1/carts/merge": {"get": {"responses": {"204": {"description": ""}}}}
            },
            "components": {"schemas": {"Cart": {
                "type": "object",
                "required": ["id", "customer_id"],
                "properties": {
                    "id": {"type": "string"},
                    "customer_id": {"type": "string", "nullable": true},
                    "note": {"type": "string"},
                    "total": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}
                }
            }}}
        }))
    }

    /// (case, status, content type, body, what the error names)
    type Case<'a> = (&'a str, u16, Option<&'a str>, &'a [u8], &'a str);

    #[test]
    fn answers_are_held_to_their_operation() {
        let c = contract();
        let json = Some("application/json; charset=utf-8");
        let ok = br#"{"id": "cart_1", "customer_id": null, "total": 1}"#;
        assert_eq!(c.check("GET", "/v1/carts/cart_1", 200, json, ok), Ok(()));
        assert_eq!(c.check("GET", "/v1/carts/cart_1", 304, None, b""), Ok(()));
        assert_eq!(c.check("GET", "/v1/carts/merge", 204, None, b""), Ok(()));
        assert_eq!(c.check("GET", "/graphql", 200, json, b"<html>"), Ok(()));
        assert_eq!(c.check("POST", "/v1/carts/x", 200, json, b"x"), Ok(()));
        let p = Some("application/problem+json");
        assert_eq!(c.check("GET", "/v1/carts/x", 404, p, b"{}"), Ok(()));

        let broken: [Case; 6] = [
            (
                "undeclared status",
                500,
                p,
                b"{}",
                "status 500 is not declared",
            ),
            (
                "undeclared type",
                404,
                json,
                b"{}",
                "content type `application/json` is not declared",
            ),
            (
                "null where never null",
                200,
                json,
                br#"{"id": "c", "customer_id": null, "note": null}"#,
                "/note",
            ),
            (
                "missing required",
                200,
                json,
                br#"{"id": "c"}"#,
                "customer_id",
            ),
            (
                "exclusive minimum",
                200,
                json,
                br#"{"id": "c", "customer_id": "u", "total": 0}"#,
                "/total",
            ),
            ("body where none", 304, json, b"{}", "declares none"),
        ];
        for (case, status, content_type, body, expected) in broken {
            let err = c
                .check("GET", "/v1/carts/cart_1", status, content_type, body)
                .expect_err(case);
            assert!(err.contains(expected), "{case}: {err}");
        }
    }
}
