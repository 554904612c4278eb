//! Signing keys for access tokens: Ed25519 (JWT `alg` EdDSA), each with a `kid`. Keys live
//! in `<data_dir>/keys/` (created on first start, mode 0600); the newest signs, every key
//! present still verifies, so a rotated-out key keeps its tokens valid until they expire.
//! The public halves are served as a JWKS at `/.well-known/jwks.json`.

use std::collections::HashMap;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::Serialize;

use crate::error::IdentityError;

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410 §7); the 32-byte seed follows.
const PKCS8_ED25519_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];
const SUFFIX: &str = ".ed25519";

struct Key {
    encoding: EncodingKey,
    decoding: DecodingKey,
    public: [u8; 32],
}

/// The keys this process signs and verifies with.
pub struct SigningKeys {
    current: String,
    keys: HashMap<String, Key>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeys")
            .field("current", &self.current)
            .field("kids", &self.keys.len())
            .finish()
    }
}

/// A JSON Web Key Set (RFC 7517) of the public keys.
#[derive(Debug, Serialize, poem_openapi::Object)]
pub struct Jwks {
    pub keys: Vec<Jwk>,
}

/// One public key: `kty` OKP, `crv` Ed25519, `x` the key (RFC 8037).
#[derive(Debug, Serialize, poem_openapi::Object)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    #[oai(rename = "use")]
    #[serde(rename = "use")]
    pub use_: String,
    pub alg: String,
}

fn key_from_seed(seed: [u8; 32]) -> Key {
    let signing = SigningKey::from_bytes(&seed);
    let public = signing.verifying_key().to_bytes();
    let mut der = PKCS8_ED25519_PREFIX.to_vec();
    der.extend_from_slice(&seed);
    Key {
        encoding: EncodingKey::from_ed_der(&der),
        decoding: DecodingKey::from_ed_der(&public),
        public,
    }
}

impl SigningKeys {
    /// Loads the keys under `dir` (`*.ed25519`), creating a first key when there is none.
    pub fn load_or_create(dir: &Path) -> Result<Self, IdentityError> {
        let keys: HashMap<String, Key> = weft_secrets::keyfiles::load_or_create(dir, SUFFIX)
            .map_err(|e| IdentityError::Internal(e.to_string()))?
            .into_iter()
            .map(|(kid, seed)| (kid, key_from_seed(seed)))
            .collect();
        // Kids are time-ordered, so the greatest is the newest.
        let current = keys.keys().max().cloned().unwrap_or_default();
        Ok(Self { current, keys })
    }

    /// The key that signs new tokens: (kid, key).
    pub fn signing(&self) -> (&str, &EncodingKey) {
        let key = &self.keys[&self.current];
        (&self.current, &key.encoding)
    }

    /// The key with `kid`, if this process trusts it.
    pub fn verifying(&self, kid: &str) -> Option<&DecodingKey> {
        self.keys.get(kid).map(|k| &k.decoding)
    }

    pub fn jwks(&self) -> Jwks {
        let mut keys: Vec<Jwk> = self
            .keys
            .iter()
            .map(|(kid, key)| Jwk {
                kty: "OKP".to_owned(),
                crv: "Ed25519".to_owned(),
                x: URL_SAFE_NO_PAD.encode(key.public),
                kid: kid.clone(),
                use_: "sig".to_owned(),
                alg: "EdDSA".to_owned(),
            })
            .collect();
        keys.sort_by(|a, b| b.kid.cmp(&a.kid));
        Jwks { keys }
    }
}
