//! How the other processes of a cluster know who a request acts for, without identity's
//! keys or tables: [`Remote`] is their [`Authenticator`].
//!
//! - A person's access token is verified where it arrives, with the public keys identity
//!   publishes (`/.well-known/jwks.json`), fetched once and kept. A token signed by a key
//!   not seen yet (identity rotated its keys) fetches them again, at most once every
//!   [`REFETCH_AFTER`], so forged key ids cannot make this process hammer identity.
//! - An API key, or an app's token (an app can be switched off before its token
//!   expires), is checked by asking identity (`POST /v1/internal/credentials`); the answer,
//!   yes or no, is cached for [`ANSWER_TTL`] under a digest of the credential. A revoked
//!   key is refused everywhere within that time.
//! - When identity cannot be asked, the caller is a guest: never trusted by default.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::DecodingKey;
use poem::Request;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use weft_cache::Cache;
use weft_http::{Authenticator, Principal, Role};
use weft_peer_client::{ClientError, Peer, retried, types};

use crate::apps::API_KEY_PREFIX;
use crate::service::{decode_access, person, token_kid};

const SERVICE: &str = "identity";
/// The least time between two fetches of the keys.
pub const REFETCH_AFTER: Duration = Duration::from_secs(5);
/// How long identity's answer about an API key or an app's token is kept.
pub const ANSWER_TTL: Duration = Duration::from_secs(15);

/// The keys fetched last, by key id, and when.
struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
}

/// Identity in another process, as an [`Authenticator`].
pub struct Remote {
    peer: Peer,
    cache: Cache,
    keys: RwLock<Keys>,
    /// One fetch at a time; the others wait for it and use what it brought.
    fetching: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Remote")
            .field("peer", &self.peer)
            .finish_non_exhaustive()
    }
}

/// What is cached of identity's answer: the owner, or `None` for a credential that is
/// not valid.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Owner {
    app: bool,
    id: String,
    role: Option<String>,
    scopes: Vec<String>,
    mfa_enrollment_pending: bool,
}

impl Owner {
    fn principal(self) -> Option<Principal> {
        let mut principal = if self.app {
            Principal::app(self.id, self.scopes)
        } else {
            Principal::user(self.id, Role::parse(self.role.as_deref()?)?)
        };
        principal.mfa_enrollment_pending = self.mfa_enrollment_pending;
        Some(principal)
    }
}

impl Remote {
    pub fn new(peer: Peer, cache: Cache) -> Self {
        Self {
            peer,
            cache,
            keys: RwLock::new(Keys {
                by_kid: HashMap::new(),
                fetched: None,
            }),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    /// The person a token signed by one of identity's keys names, or, for an app's
    /// token, what identity says of it.
    async fn token(&self, token: &str) -> Option<Principal> {
        let kid = token_kid(token)?;
        let claims = if let Some(claims) = self.verify(token, &kid) {
            claims
        } else {
            self.refetch().await;
            self.verify(token, &kid)?
        };
        if claims.role.is_some() {
            return person(claims);
        }
        self.ask(token).await
    }

    fn verify(&self, token: &str, kid: &str) -> Option<crate::service::AccessClaims> {
        let keys = self.keys.read().ok()?;
        decode_access(token, keys.by_kid.get(kid)?)
    }

    /// Fetches the keys again, unless they were fetched within [`REFETCH_AFTER`].
    async fn refetch(&self) {
        let _one = self.fetching.lock().await;
        let recent = self
            .keys
            .read()
            .ok()
            .and_then(|k| k.fetched)
            .is_some_and(|at| at.elapsed() < REFETCH_AFTER);
        if recent {
            return;
        }
        let client = self.peer.public();
        let fetched = retried(|| async { client.get_jwks().send().await }).await;
        let mut keys = match self.keys.write() {
            Ok(keys) => keys,
            Err(poisoned) => poisoned.into_inner(),
        };
        keys.fetched = Some(Instant::now());
        match fetched {
            Ok(jwks) => {
                keys.by_kid = jwks
                    .into_inner()
                    .keys
                    .into_iter()
                    .filter(|k| k.kty == "OKP" && k.crv == "Ed25519")
                    .filter_map(|k| Some((k.kid, DecodingKey::from_ed_components(&k.x).ok()?)))
                    .collect();
            }
            Err(err) => {
                tracing::warn!(error = %ClientError::call(SERVICE, &err), "cannot fetch identity's keys");
            }
        }
    }

    /// What identity says of `credential`, cached for [`ANSWER_TTL`].
    async fn ask(&self, credential: &str) -> Option<Principal> {
        let digest = Sha256::digest(credential.as_bytes());
        let key = format!("identity:credential:{}", hex(&digest));
        let client = self.peer.internal();
        // Longer than any credential of ours (the endpoint's bound): not valid.
        let credential = types::CredentialCheckCredential::try_from(credential.to_owned()).ok()?;
        let body = types::CredentialCheck { credential };
        let owner = self
            .cache
            .get_or_load::<Option<Owner>, _, _, _>(&key, ANSWER_TTL, async || {
                match retried(|| async {
                    client
                        .internal_check_credential()
                        .body(body.clone())
                        .send()
                        .await
                })
                .await
                {
                    Ok(owner) => {
                        let o = owner.into_inner();
                        Ok(Some(Owner {
                            app: o.kind == "app",
                            id: o.id,
                            role: o.role,
                            scopes: o.scopes,
                            mfa_enrollment_pending: o.mfa_enrollment_pending,
                        }))
                    }
                    Err(err) => match ClientError::call(SERVICE, &err) {
                        ClientError::Refused { .. } => Ok(None),
                        unavailable @ ClientError::Unavailable { .. } => Err(unavailable),
                    },
                }
            })
            .await;
        match owner {
            Ok(owner) => owner?.principal(),
            Err(err) => {
                tracing::warn!(error = %err, "cannot check a credential with identity; treated as a guest");
                None
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

#[async_trait::async_trait]
impl Authenticator for Remote {
    async fn principal(&self, req: &Request) -> Option<Principal> {
        let credential = crate::auth::credential(req)?;
        if credential.starts_with(API_KEY_PREFIX) {
            self.ask(&credential).await
        } else {
            self.token(&credential).await
        }
    }
}
