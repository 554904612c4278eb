//! Timestamped webhook signatures, the scheme Stripe signs its webhooks with
//! (docs.stripe.com/webhooks#verify-manually) and Weft signs its own with (`Weft-Signature`):
//! the header is `t=<unix seconds>,v1=<hex>[,v1=<hex>…][,v0=…]`, each `v1` an HMAC-SHA256,
//! keyed with the endpoint's signing secret (`whsec_…`, used whole), of `"{t}.{raw body}"`. Several `v1` appear while a secret is being rolled: any one
//! matching is enough. `t` must be within the tolerance of now, so a captured delivery
//! cannot be replayed later (replays inside the window are caught by the event id).

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Why a signature was refused. Worded for the problem's detail: it never echoes the
/// header or the expected signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the signature header is missing")]
    Missing,
    #[error("the signature header has no timestamp (t=) or no v1 signature")]
    Malformed,
    #[error("the signature's timestamp is outside the tolerance window")]
    OutsideTolerance,
    #[error("no v1 signature matches the body")]
    Mismatch,
}

/// Verifies `header` against `body`, at `now` (unix seconds), allowing `tolerance_seconds`
/// of difference between the signed timestamp and now (either way).
pub fn verify(
    secret: &[u8],
    header: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance_seconds: u64,
) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let mut timestamp: Option<&str> = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) if timestamp.is_none() => timestamp = Some(t),
            Some(("v1", v)) => candidates.push(v),
            _ => {}
        }
    }
    let t = timestamp.ok_or(SignatureError::Malformed)?;
    let signed_at: i64 = t.parse().map_err(|_| SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if now.abs_diff(signed_at) > tolerance_seconds {
        return Err(SignatureError::OutsideTolerance);
    }
    let expected = sign(secret, t, body);
    // Constant time per candidate, so the comparison leaks nothing of the expected value;
    // a candidate of another length is simply unequal.
    let matched = candidates.iter().fold(subtle::Choice::from(0), |any, c| {
        any | c.as_bytes().ct_eq(expected.as_bytes())
    });
    if bool::from(matched) {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The lower-case hex `v1` signature of `body` signed at `timestamp`.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        use std::fmt::Write as _;
        let _ = write!(hex, "{byte:02x}");
    }
    hex
}

/// A signature header for `body` signed at `timestamp` with `secret`, as Stripe sends it
/// (for tests and tools that play Stripe).
pub fn header(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    header_with(&[secret], timestamp, body)
}

/// A signature header with one `v1` per secret, in order: while a secret is being
/// rotated, receivers holding either the old or the new one can verify.
pub fn header_with(secrets: &[&[u8]], timestamp: i64, body: &[u8]) -> String {
    let t = timestamp.to_string();
    let mut header = format!("t={t}");
    for secret in secrets {
        header.push_str(",v1=");
        header.push_str(&sign(secret, &t, body));
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;
    const NOW: i64 = 1_800_000_000;

    /// (case, header, body, now, expected refusal)
    type Case<'a> = (&'a str, Option<String>, &'a [u8], i64, SignatureError);

    #[test]
    fn a_signature_made_with_the_secret_over_the_exact_body_passes() {
        let h = header(SECRET, NOW, BODY);
        assert_eq!(verify(SECRET, Some(&h), BODY, NOW, 300), Ok(()));
        assert_eq!(verify(SECRET, Some(&h), BODY, NOW + 300, 300), Ok(()));
    }

    #[test]
    fn a_known_vector_matches_stripe_s_scheme() {
        // HMAC-SHA256(key "whsec_test_secret", "1800000000." + body), computed apart from
        // this code (Python's hmac module).
        assert_eq!(
            sign(SECRET, "1800000000", BODY),
            "334f9dbfd609cf6c38f112f028756732c80faa7fdbeab117549d6303a5dcf896"
        );
    }

    #[test]
    fn any_of_several_v1_signatures_may_match() {
        let good = sign(SECRET, &NOW.to_string(), BODY);
        let h = format!("t={NOW},v1={},v0=abc,v1={good}", "0".repeat(64));
        assert_eq!(verify(SECRET, Some(&h), BODY, NOW, 300), Ok(()));
    }

    #[test]
    fn bad_signatures_are_refused_for_the_reason_named() {
        let h = header(SECRET, NOW, BODY);
        let cases: [Case; 7] = [
            ("missing header", None, BODY, NOW, SignatureError::Missing),
            (
                "no timestamp",
                Some(format!("v1={}", "a".repeat(64))),
                BODY,
                NOW,
                SignatureError::Malformed,
            ),
            (
                "no v1",
                Some(format!("t={NOW},v0=abc")),
                BODY,
                NOW,
                SignatureError::Malformed,
            ),
            (
                "tampered body",
                Some(h.clone()),
                br#"{"id":"evt_2"}"#,
                NOW,
                SignatureError::Mismatch,
            ),
            (
                "other secret",
                Some(header(b"whsec_other", NOW, BODY)),
                BODY,
                NOW,
                SignatureError::Mismatch,
            ),
            (
                "too old",
                Some(h.clone()),
                BODY,
                NOW + 301,
                SignatureError::OutsideTolerance,
            ),
            (
                "from the future",
                Some(h.clone()),
                BODY,
                NOW - 301,
                SignatureError::OutsideTolerance,
            ),
        ];
        for (case, header, body, now, expected) in cases {
            assert_eq!(
                verify(SECRET, header.as_deref(), body, now, 300),
                Err(expected),
                "{case}"
            );
        }
    }
}
