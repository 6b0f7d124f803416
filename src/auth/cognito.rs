//! Verifying Cognito user-pool tokens (JWTs), following aws-jwt-verify's rules:
//!
//! - `alg` must be RS256: `none` and every HMAC algorithm are refused before anything else.
//! - The key is chosen by `kid` from the pool's JWKS; a JWK must be RSA, `use: sig`, and
//!   `alg: RS256` when it says. Keys are cached; an unknown `kid` refetches the JWKS, but
//!   at most once per 10 seconds (a "penalty box"), so forged kids cannot make us hammer
//!   the endpoint. Fetches time out after 3 seconds.
//! - `iss` must be exactly `https://cognito-idp.<region>.amazonaws.com/<pool>`, also when
//!   the keys come from a test-only JWKS URL.
//! - `exp` and `nbf` are checked against the injected clock with a small grace.
//! - `token_use` must be the one expected (access by default); the app client is
//!   `client_id` in access tokens and `aud` in ID tokens, and must be a configured one.
//!
//! Tokens are never logged; errors name what was wrong, not the token.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::Principal;
use crate::clock::{Clock, age};

/// Tokens longer than this are refused unread.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The least time between two JWKS fetches.
pub const PENALTY_BOX: Duration = Duration::from_secs(10);
/// How long a JWKS fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

/// Which Cognito token is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenUse {
    Access,
    Id,
}

impl TokenUse {
    fn as_str(self) -> &'static str {
        match self {
            TokenUse::Access => "access",
            TokenUse::Id => "id",
        }
    }
}

/// What the verifier checks against.
#[derive(Debug, Clone)]
pub struct Settings {
    pub region: String,
    pub user_pool_id: String,
    pub client_ids: Vec<String>,
    pub token_use: TokenUse,
    /// Grace for `exp` and `nbf`.
    pub leeway: Duration,
    /// Test only: where the keys are fetched. The issuer is still the pool's.
    pub jwks_url: Option<String>,
}

/// Why a token was refused. Never carries the token itself.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error("the token is larger than {MAX_TOKEN_BYTES} bytes")]
    TooLarge,
    #[error("the token is not a well-formed JWT")]
    Malformed(#[source] jsonwebtoken::errors::Error),
    #[error("the token's algorithm {0} is not RS256")]
    WrongAlgorithm(String),
    #[error("the token has no key id")]
    NoKeyId,
    #[error("the token's key id is not one of the pool's keys")]
    UnknownKey,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token was issued by {0}, not the configured pool")]
    WrongIssuer(String),
    #[error("the token was issued to an app client that is not configured")]
    WrongClient,
    #[error("the token is an {found} token; {expected} tokens are expected")]
    WrongTokenUse {
        found: String,
        expected: &'static str,
    },
    #[error("the token lacks the {0} claim")]
    MissingClaim(&'static str),
    /// The cause (URL, HTTP error) is logged where it happens; it never reaches a client.
    #[error("the pool's signing keys could not be fetched")]
    JwksUnavailable,
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kid: Option<String>,
    kty: String,
    #[serde(default)]
    alg: Option<String>,
    #[serde(rename = "use", default)]
    usage: Option<String>,
    #[serde(default)]
    n: Option<String>,
    #[serde(default)]
    e: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    exp: Option<u64>,
    nbf: Option<u64>,
    token_use: Option<String>,
    client_id: Option<String>,
    #[serde(default, deserialize_with = "one_or_many")]
    aud: Vec<String>,
    username: Option<String>,
    #[serde(rename = "cognito:username")]
    cognito_username: Option<String>,
    #[serde(rename = "cognito:groups", default)]
    groups: Vec<String>,
}

fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::One(s)) => vec![s],
        Some(OneOrMany::Many(v)) => v,
    })
}

/// The verifier, with its key cache.
pub struct Verifier {
    settings: Settings,
    issuer: String,
    jwks_url: String,
    keys: RwLock<HashMap<String, Arc<DecodingKey>>>,
    /// When the keys were last fetched, and whether that fetch worked.
    last_fetch: tokio::sync::Mutex<Option<(SystemTime, bool)>>,
    fetches: AtomicU64,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verifier")
            .field("issuer", &self.issuer)
            .field("jwks_url", &self.jwks_url)
            .finish_non_exhaustive()
    }
}

impl Verifier {
    /// A verifier for the pool in `settings`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built.
    pub fn new(settings: Settings, clock: Arc<dyn Clock>) -> Result<Self, AuthError> {
        let issuer = format!(
            "https://cognito-idp.{}.amazonaws.com/{}",
            settings.region, settings.user_pool_id
        );
        let jwks_url = settings
            .jwks_url
            .clone()
            .unwrap_or_else(|| format!("{issuer}/.well-known/jwks.json"));
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .map_err(|e| {
                    tracing::error!(error = %crate::error::ErrorChain(&e), "cannot build the JWKS HTTP client");
                    AuthError::JwksUnavailable
                })?,
            settings,
            issuer,
            jwks_url,
            keys: RwLock::new(HashMap::new()),
            last_fetch: tokio::sync::Mutex::new(None),
            fetches: AtomicU64::new(0),
            clock,
        })
    }

    /// How many times the JWKS has been fetched.
    #[must_use]
    pub fn jwks_fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// Verifies a token (without any `Bearer ` prefix) into the principal it names.
    ///
    /// # Errors
    /// The first rule the token breaks.
    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::TooLarge);
        }
        let header = jsonwebtoken::decode_header(token).map_err(AuthError::Malformed)?;
        if header.alg != Algorithm::RS256 {
            return Err(AuthError::WrongAlgorithm(format!("{:?}", header.alg)));
        }
        let kid = header.kid.ok_or(AuthError::NoKeyId)?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        // Time, issuer and client are checked below against our own clock and rules.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let claims = jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => AuthError::BadSignature,
                _ => AuthError::Malformed(e),
            })?
            .claims;
        self.check(claims)
    }

    fn check(&self, c: Claims) -> Result<Principal, AuthError> {
        let now = self
            .clock
            .now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let leeway = self.settings.leeway.as_secs();
        let exp = c.exp.ok_or(AuthError::MissingClaim("exp"))?;
        if exp + leeway <= now {
            return Err(AuthError::Expired);
        }
        if c.nbf.is_some_and(|nbf| nbf > now + leeway) {
            return Err(AuthError::NotYetValid);
        }
        let iss = c.iss.ok_or(AuthError::MissingClaim("iss"))?;
        if iss != self.issuer {
            return Err(AuthError::WrongIssuer(iss));
        }
        let expected = self.settings.token_use.as_str();
        let found = c.token_use.ok_or(AuthError::MissingClaim("token_use"))?;
        if found != expected {
            return Err(AuthError::WrongTokenUse { found, expected });
        }
        let client_ok = match self.settings.token_use {
            TokenUse::Access => c
                .client_id
                .is_some_and(|id| self.settings.client_ids.contains(&id)),
            TokenUse::Id => c.aud.iter().any(|a| self.settings.client_ids.contains(a)),
        };
        if !client_ok {
            return Err(AuthError::WrongClient);
        }
        let sub = c.sub.ok_or(AuthError::MissingClaim("sub"))?;
        let username = match self.settings.token_use {
            TokenUse::Access => c.username,
            TokenUse::Id => c.cognito_username,
        }
        .unwrap_or_else(|| sub.clone());
        Ok(Principal {
            sub,
            username,
            groups: c.groups,
        })
    }

    /// The key for `kid`, refetching the JWKS for an unknown kid at most once per
    /// [`PENALTY_BOX`].
    async fn key(&self, kid: &str) -> Result<Arc<DecodingKey>, AuthError> {
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let mut last = self.last_fetch.lock().await;
        // Someone may have fetched while we waited for the lock.
        if let Some(key) = self.cached(kid) {
            return Ok(key);
        }
        let now = self.clock.now();
        if let Some((at, worked)) = *last
            && age(now, at) < PENALTY_BOX
        {
            // Only a key set we hold says a kid is not the pool's; while the keys cannot
            // be fetched, nobody can be told their token is bad.
            return Err(if worked {
                AuthError::UnknownKey
            } else {
                AuthError::JwksUnavailable
            });
        }
        let fetched = self.fetch().await;
        *last = Some((now, fetched.is_ok()));
        fetched?;
        self.cached(kid).ok_or(AuthError::UnknownKey)
    }

    fn cached(&self, kid: &str) -> Option<Arc<DecodingKey>> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(kid)
            .cloned()
    }

    async fn fetch(&self) -> Result<(), AuthError> {
        self.fetches.fetch_add(1, Ordering::Relaxed);
        metrics::counter!("opsvoice_jwks_fetches_total").increment(1);
        let unavailable = |e: &(dyn std::error::Error + 'static)| {
            tracing::warn!(url = %self.jwks_url, error = %crate::error::ErrorChain(e), "JWKS fetch failed");
            AuthError::JwksUnavailable
        };
        let response = self
            .http
            .get(&self.jwks_url)
            .send()
            .await
            .map_err(|e| unavailable(&e))?;
        if !response.status().is_success() {
            tracing::warn!(url = %self.jwks_url, status = %response.status(), "JWKS fetch failed");
            return Err(AuthError::JwksUnavailable);
        }
        let jwks: Jwks = response.json().await.map_err(|e| unavailable(&e))?;
        let mut keys = HashMap::new();
        for jwk in jwks.keys {
            let usable = jwk.kty == "RSA"
                && jwk.usage.as_deref().is_none_or(|u| u == "sig")
                && jwk.alg.as_deref().is_none_or(|a| a == "RS256");
            if let (true, Some(kid), Some(n), Some(e)) = (usable, jwk.kid, jwk.n, jwk.e)
                && let Ok(key) = DecodingKey::from_rsa_components(&n, &e)
            {
                keys.insert(kid, Arc::new(key));
            }
        }
        if keys.is_empty() {
            // Static stability: an empty or unusable key set never replaces keys that work.
            tracing::warn!(url = %self.jwks_url, "the pool's JWKS holds no usable RS256 key");
            return Err(AuthError::JwksUnavailable);
        }
        tracing::info!(url = %self.jwks_url, keys = keys.len(), "fetched the pool's signing keys");
        *self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = keys;
        Ok(())
    }
}
