//! Secrets at rest.
//!
//! - [`keyfiles`]: 32-byte keys kept as hex files `<kid><suffix>` in a directory (the data
//!   dir's `keys/` embedded; a mounted Kubernetes Secret in a cluster, so every replica
//!   holds the same keys). The newest kid is the current one; older ones stay readable.
//! - [`Sealer`]: AES-256-GCM for PII columns. A sealed value is `<kid>:<base64(nonce ‖
//!   ciphertext ‖ tag)>`; the kid lets a new key take over while old rows stay readable,
//!   and the caller's associated data (a row id and a column) pins a ciphertext to its
//!   place, so it cannot be copied into another row and decrypt there.
//! - [`signature`]: timestamped HMAC signatures of webhook bodies (Stripe's inbound,
//!   Weft's outbound).

pub mod keyfiles;
pub mod signature;

use std::collections::HashMap;
use std::path::Path;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

const NONCE_LEN: usize = 12;
/// Suffix of the field-encryption key files.
pub const PII_KEY_SUFFIX: &str = ".aes256";

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("keys in {dir}: {source}")]
    Io {
        dir: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not a 32-byte hex key")]
    BadKeyFile(String),
    #[error("the system random source failed: {0}")]
    Random(String),
    #[error("sealed with key `{0}`, which this process does not hold")]
    UnknownKey(String),
    #[error("the sealed value is malformed or was tampered with")]
    Corrupt,
}

/// Encrypts and decrypts column values under a ring of AES-256 keys.
pub struct Sealer {
    current: String,
    keys: HashMap<String, Aes256Gcm>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealer")
            .field("current", &self.current)
            .field("kids", &self.keys.len())
            .finish()
    }
}

impl Sealer {
    /// The keys in `dir` (`*.aes256`), creating a first one when there is none.
    pub fn load_or_create(dir: &Path) -> Result<Self, SecretsError> {
        let keys = keyfiles::load_or_create(dir, PII_KEY_SUFFIX)?;
        Ok(Self::from_keys(keys))
    }

    /// A sealer over `keys` (kid, key); the greatest kid seals.
    pub fn from_keys(keys: Vec<(String, [u8; 32])>) -> Self {
        let current = keys
            .iter()
            .map(|(k, _)| k.clone())
            .max()
            .unwrap_or_default();
        let keys = keys
            .into_iter()
            .map(|(kid, key)| (kid, Aes256Gcm::new(&Key::<Aes256Gcm>::from(key))))
            .collect();
        Self { current, keys }
    }

    /// The kid new values are sealed with.
    pub fn current_kid(&self) -> &str {
        &self.current
    }

    /// Seals `plaintext`, bound to `aad` (say `usr_…/phone`).
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<String, SecretsError> {
        let cipher = &self.keys[&self.current];
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| SecretsError::Random(e.to_string()))?;
        let sealed = cipher
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .map_err(|_| SecretsError::Corrupt)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(format!("{}:{}", self.current, STANDARD_NO_PAD.encode(out)))
    }

    /// Opens a value [`Sealer::seal`] produced with the same `aad`.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Result<Vec<u8>, SecretsError> {
        let (kid, body) = sealed.split_once(':').ok_or(SecretsError::Corrupt)?;
        let cipher = self
            .keys
            .get(kid)
            .ok_or_else(|| SecretsError::UnknownKey(kid.to_owned()))?;
        let bytes = STANDARD_NO_PAD
            .decode(body)
            .map_err(|_| SecretsError::Corrupt)?;
        if bytes.len() < NONCE_LEN {
            return Err(SecretsError::Corrupt);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretsError::Corrupt)?;
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| SecretsError::Corrupt)
    }

    pub fn seal_str(&self, plaintext: &str, aad: &str) -> Result<String, SecretsError> {
        self.seal(plaintext.as_bytes(), aad.as_bytes())
    }

    pub fn open_str(&self, sealed: &str, aad: &str) -> Result<String, SecretsError> {
        String::from_utf8(self.open(sealed, aad.as_bytes())?).map_err(|_| SecretsError::Corrupt)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn seals_open_only_with_their_key_and_place() {
        let old = Sealer::from_keys(vec![("k1".to_owned(), [1; 32])]);
        let sealed = old.seal_str("+44 20 7946 0958", "usr_a/phone").unwrap();
        assert!(sealed.starts_with("k1:"));
        assert!(!sealed.contains("7946"));
        assert_eq!(
            old.open_str(&sealed, "usr_a/phone").unwrap(),
            "+44 20 7946 0958"
        );
        // Moved to another row: refused.
        assert!(matches!(
            old.open_str(&sealed, "usr_b/phone"),
            Err(SecretsError::Corrupt)
        ));
        // Rotated: the new key seals, the old one still opens old rows.
        let rotated =
            Sealer::from_keys(vec![("k1".to_owned(), [1; 32]), ("k2".to_owned(), [2; 32])]);
        assert_eq!(rotated.current_kid(), "k2");
        assert_eq!(
            rotated.open_str(&sealed, "usr_a/phone").unwrap(),
            "+44 20 7946 0958"
        );
        assert!(rotated.seal_str("x", "a").unwrap().starts_with("k2:"));
        // A key this process lacks, or a flipped bit: refused.
        let other = Sealer::from_keys(vec![("k3".to_owned(), [3; 32])]);
        assert!(matches!(
            other.open_str(&sealed, "usr_a/phone"),
            Err(SecretsError::UnknownKey(k)) if k == "k1"
        ));
        let mut tampered = sealed.clone().into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            old.open_str(std::str::from_utf8(&tampered).unwrap(), "usr_a/phone")
                .is_err()
        );
    }

    #[test]
    fn a_key_directory_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = Sealer::load_or_create(dir.path()).unwrap();
        let sealed = first.seal_str("secret", "row").unwrap();
        let again = Sealer::load_or_create(dir.path()).unwrap();
        assert_eq!(first.current_kid(), again.current_kid());
        assert_eq!(again.open_str(&sealed, "row").unwrap(), "secret");
    }
}
