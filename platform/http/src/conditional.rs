//! Conditional GETs (RFC 9110 §13): a strong `ETag` computed from the JSON an endpoint
//! answers, and `If-None-Match` turning an unchanged answer into a bodiless 304.

use base64::Engine as _;
use poem::Request;
use poem::http::{HeaderMap, header};

/// `Cache-Control` for public answers that may be stored but must be revalidated, so a
/// changed price shows at once and an unchanged page costs a 304.
pub const PUBLIC_REVALIDATE: &str = "public, no-cache";
/// `Cache-Control` for answers only their caller may see.
pub const PRIVATE: &str = "private, no-store";
/// How long a cluster's gateway may keep a guest's answer (`max-age=N`), set by the
/// service; the gateway strips it. Not `Surrogate-Control`: CDNs honour that one, and
/// they hear no purges.
pub const GATEWAY_CACHE: &str = "weft-gateway-cache";

/// The strong ETag of an answer's bytes: a quoted 128-bit XXH3 of them. Not a
/// cryptographic digest: what it tells apart is a shop's own answers, which no client
/// writes, and SHA-256 of a page was 5-8% of an uncached listing's CPU.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = xxhash_rust::xxh3::xxh3_128(bytes).to_le_bytes();
    let short = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(digest);
    format!("\"{short}\"")
}

/// A JSON answer serialized once: the bytes that go out are the bytes its ETag digests
/// (with `Json<T>` the body is built and serialized again after the ETag's copy). In
/// the OpenAPI document it is `T` as `application/json`, exactly as `Json<T>` is.
pub struct JsonBytes<T> {
    bytes: Vec<u8>,
    of: std::marker::PhantomData<fn() -> T>,
}

impl<T: poem_openapi::types::ToJSON> JsonBytes<T> {
    pub fn new(value: &T) -> Self {
        let json = value.to_json().unwrap_or_default();
        Self {
            // Serializing a JSON value to memory cannot fail.
            bytes: serde_json::to_vec(&json).unwrap_or_default(),
            of: std::marker::PhantomData,
        }
    }
}

impl<T> JsonBytes<T> {
    /// JSON already written as `T`'s (stored documents pasted into a page, say). The
    /// caller answers for its shape; the contract tests check it against `T`'s schema.
    pub fn from_raw(bytes: Vec<u8>) -> Self {
        Self {
            bytes,
            of: std::marker::PhantomData,
        }
    }

    pub fn etag(&self) -> String {
        etag_of(&self.bytes)
    }
}

impl<T: poem_openapi::types::Type> poem_openapi::payload::Payload for JsonBytes<T> {
    const CONTENT_TYPE: &'static str =
        <poem_openapi::payload::Json<T> as poem_openapi::payload::Payload>::CONTENT_TYPE;

    fn schema_ref() -> poem_openapi::registry::MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        T::register(registry);
    }
}

/// As `Json<T>` answers: a 200 with `T` as `application/json`.
impl<T: poem_openapi::types::Type> poem_openapi::ApiResponse for JsonBytes<T> {
    fn meta() -> poem_openapi::registry::MetaResponses {
        use poem_openapi::payload::Payload as _;
        poem_openapi::registry::MetaResponses {
            responses: vec![poem_openapi::registry::MetaResponse {
                description: "",
                status: Some(200),
                status_range: None,
                content: vec![poem_openapi::registry::MetaMediaType {
                    content_type: Self::CONTENT_TYPE,
                    schema: Self::schema_ref(),
                }],
                headers: vec![],
            }],
        }
    }

    fn register(registry: &mut poem_openapi::registry::Registry) {
        T::register(registry);
    }
}

impl<T> poem::IntoResponse for JsonBytes<T> {
    fn into_response(self) -> poem::Response {
        // The same header `Json<T>` sends.
        poem::Response::builder()
            .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
            .body(self.bytes)
    }
}

/// Whether the request's `If-None-Match` names `etag` (or `*`).
pub fn not_modified(req: &Request, etag: &str) -> bool {
    not_modified_by(req.headers(), etag)
}

/// [`not_modified`], from a request's headers.
pub fn not_modified_by(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        // Weak comparison (RFC 9110 §13.1.2): W/"x" matches "x".
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == etag)
}

/// A whole answer kept as bytes (by a cache of answers): `head` as one JSON line, then
/// the body as it went out.
pub fn encode_kept<H: serde::Serialize>(head: &H, body: &[u8]) -> Option<Vec<u8>> {
    let mut out = serde_json::to_vec(head).ok()?;
    out.push(b'\n');
    out.extend_from_slice(body);
    Some(out)
}

/// What [`encode_kept`] made, back: (head, body).
pub fn decode_kept<H: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<(H, &[u8])> {
    let split = bytes.iter().position(|b| *b == b'\n')?;
    let head = serde_json::from_slice(&bytes[..split]).ok()?;
    Some((head, &bytes[split + 1..]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn etags_follow_content_and_if_none_match_compares_weakly() {
        let a = etag_of(br#"{"price":1}"#);
        assert_eq!(a, etag_of(br#"{"price":1}"#));
        assert_ne!(a, etag_of(br#"{"price":2}"#));
        let req = |v: &str| Request::builder().header(header::IF_NONE_MATCH, v).finish();
        assert!(not_modified(&req(&a), &a));
        assert!(not_modified(&req(&format!("\"x\", W/{a}")), &a));
        assert!(not_modified(&req("*"), &a));
        assert!(!not_modified(&req("\"other\""), &a));
        assert!(!not_modified(&Request::default(), &a));
    }
}
