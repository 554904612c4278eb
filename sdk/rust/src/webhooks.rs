//! Receiving Weft's webhooks: check that a delivery is Weft's and recent, then read it.
//!
//! Every delivery is a `POST` whose `Weft-Signature` header is `t=<unix seconds>,v1=<hex>`
//! (two `v1` while the endpoint's secret is being rotated): each `v1` is the lower-case
//! hex HMAC-SHA256 of `"{t}.{raw body}"`, keyed with the endpoint's secret (`whsec_…`,
//! the whole string). Verify the raw bytes, before parsing them; then de-duplicate by the
//! event's `id`, which every delivery of one event shares.
//!
//! ```
//! use weft_sdk::webhooks;
//! # let (secret, header, body) = ("whsec_x", "t=0,v1=00", b"{}".as_slice());
//! match webhooks::verify(secret, Some(header), body, std::time::Duration::from_secs(300)) {
//!     Ok(event) => println!("{} {}", event.id, event.event_type),
//!     Err(refused) => eprintln!("answer 400: {refused}"),
//! }
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "Weft-Signature";

/// A delivered event.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Event {
    /// `evt_…`: the same in every delivery of this event (redeliveries, retries).
    pub id: String,
    /// `order.created`, `user.erased`, `webhook.test`, …
    #[serde(rename = "type")]
    pub event_type: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// The event's payload, as documented for its type.
    pub data: serde_json::Value,
}

/// Why a delivery was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no Weft-Signature header")]
    Missing,
    #[error("Weft-Signature has no timestamp or no v1 signature")]
    Malformed,
    #[error("Weft-Signature was made too long ago (or in the future)")]
    Stale,
    #[error("no signature matches the body: another secret, or a changed body")]
    Mismatch,
    #[error("the body is not a Weft event: {0}")]
    Body(String),
}

/// Verifies a delivery's `Weft-Signature` against its raw body with the endpoint's
/// `secret`, allowing `tolerance` between the signature's time and now (5 minutes is
/// usual), and reads the event.
pub fn verify(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    tolerance: Duration,
) -> Result<Event, Refused> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    verify_at(secret, header, body, now, tolerance)?;
    serde_json::from_slice(body).map_err(|e| Refused::Body(e.to_string()))
}

/// [`verify`]'s signature check alone, at `now` (unix seconds).
pub fn verify_at(
    secret: &str,
    header: Option<&str>,
    body: &[u8],
    now: u64,
    tolerance: Duration,
) -> Result<(), Refused> {
    let header = header.ok_or(Refused::Missing)?;
    let mut signed_at = None;
    let mut signatures = Vec::new();
    for (key, value) in header.split(',').filter_map(|kv| kv.trim().split_once('=')) {
        match key {
            "t" => signed_at = value.parse::<u64>().ok(),
            "v1" => signatures.push(value),
            _ => {}
        }
    }
    let signed_at = signed_at.ok_or(Refused::Malformed)?;
    if signatures.is_empty() {
        return Err(Refused::Malformed);
    }
    if now.abs_diff(signed_at) > tolerance.as_secs() {
        return Err(Refused::Stale);
    }
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return Err(Refused::Mismatch);
    };
    mac.update(format!("{signed_at}.").as_bytes());
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let any = signatures.iter().fold(subtle::Choice::from(0), |any, s| {
        any | s.as_bytes().ct_eq(expected.as_bytes())
    });
    if bool::from(any) {
        Ok(())
    } else {
        Err(Refused::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    const T: u64 = 1_800_000_000;
    // HMAC-SHA256("whsec_test_secret", "1800000000." + BODY), computed with Python's hmac.
    const V1: &str = "334f9dbfd609cf6c38f112f028756732c80faa7fdbeab117549d6303a5dcf896";

    #[test]
    fn a_known_signature_verifies_and_anything_else_is_refused() {
        let five = Duration::from_secs(300);
        let good = format!("t={T},v1={V1}");
        assert_eq!(verify_at(SECRET, Some(&good), BODY, T + 299, five), Ok(()));
        let rotating = format!("t={T},v1={},v1={V1}", "0".repeat(64));
        assert_eq!(verify_at(SECRET, Some(&rotating), BODY, T, five), Ok(()));
        assert_eq!(
            verify_at(SECRET, None, BODY, T, five),
            Err(Refused::Missing)
        );
        assert_eq!(
            verify_at(SECRET, Some("v1=ab"), BODY, T, five),
            Err(Refused::Malformed)
        );
        assert_eq!(
            verify_at(SECRET, Some(&good), BODY, T + 301, five),
            Err(Refused::Stale)
        );
        assert_eq!(
            verify_at(SECRET, Some(&good), b"{}", T, five),
            Err(Refused::Mismatch)
        );
        assert_eq!(
            verify_at("whsec_other", Some(&good), BODY, T, five),
            Err(Refused::Mismatch)
        );
    }
}
