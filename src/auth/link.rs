//! Account links: a Slack user (`team`, `user`) tied to a Cognito identity through one
//! sign-in at the Cognito hosted UI (OAuth 2.0 authorization code with PKCE S256).
//!
//! - [`Links::offer`] makes a link state: a random nonce kept in the store for 10 minutes
//!   with the Slack user it is for, and a token `nonce.expiry.mac` that carries it in the
//!   link button's URL. The MAC (under a key derived from `OPSVOICE_STORE_KEY`) covers the
//!   nonce, the expiry and the Slack team and user, so a state cannot be forged, stretched
//!   or moved to another user.
//! - [`Links::authorize_url`] (`GET /link/start`) checks the state and sends the browser to
//!   `/oauth2/authorize`. The PKCE verifier is derived from the nonce under another derived
//!   key, so it is never stored and never leaves this service except to `/oauth2/token`.
//! - [`Links::complete`] (`GET /link/callback`) takes the state out of the store (single
//!   use: a replay finds nothing), exchanges the code, verifies the access token with the
//!   pool's verifier, and stores the link with the refresh and access tokens sealed.
//! - [`Links::principal`] is who a linked Slack user is on a later turn, renewing the
//!   access token with the refresh token when it has expired (and re-reading the groups);
//!   a renewal Cognito refuses drops the link.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_lc_rs::{digest, hmac};
use serde::{Deserialize, Serialize};

use super::Principal;
use super::cognito::{AuthError, Verifier};
use crate::clock::Clock;
use crate::config::Secret;
use crate::store::cipher::{Cipher, CipherError, b64};
use crate::store::key::Key;
use crate::store::record;
use crate::store::{Store, StoreError, epoch};

/// How long a link state (the button's URL) is good for.
pub const STATE_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a call to the hosted UI's token endpoint may take.
pub const TOKEN_TIMEOUT: Duration = Duration::from_secs(5);
/// An access token this close to expiry is renewed before use.
const RENEW_AHEAD: Duration = Duration::from_secs(60);

/// A Slack user: ids are unique only within a team.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SlackUser {
    pub team: String,
    pub user: String,
}

impl SlackUser {
    fn key(&self) -> Key {
        Key::link(&self.team, &self.user)
    }
}

/// Why a link could not be made or used. Never carries a token or a code.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("the link is not valid: it was not made by this service")]
    BadState,
    #[error("the link has expired or was already used; ask for a new one in Slack")]
    StateUsed,
    #[error("the sign-in was refused ({0}); start again from Slack")]
    Refused(String),
    #[error("the sign-in could not be verified: {0}")]
    Unverified(#[from] AuthError),
    #[error("the sign-in service could not be reached; try again in a minute")]
    Unavailable,
    #[error("the link store failed: {0}")]
    Store(#[from] StoreError),
    #[error("a stored secret could not be used: {0}")]
    Cipher(#[from] CipherError),
}

impl LinkError {
    /// Whether trying again later may work (an outage rather than a refusal).
    #[must_use]
    pub fn is_outage(&self) -> bool {
        matches!(
            self,
            Self::Unavailable | Self::Store(_) | Self::Unverified(AuthError::JwksUnavailable)
        )
    }
}

/// The Cognito hosted UI (its OAuth 2.0 endpoints) and the app client used for linking.
#[derive(Debug, Clone)]
pub struct HostedUi {
    pub domain: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// `{OPSVOICE_PUBLIC_URL}/link/callback`, exactly as registered on the app client.
    pub redirect_uri: String,
}

/// What the token endpoint answers.
#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

/// What the token endpoint says when it refuses.
#[derive(Deserialize)]
struct OAuthError {
    error: String,
}

/// A pending link, kept in the store while the user signs in.
#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    team: String,
    user: String,
    /// Where to tell the user it worked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    channel: Option<String>,
}

impl crate::store::record::Record for Pending {
    const KIND: &'static str = "link state";
}

/// A stored link.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    sub: String,
    username: String,
    groups: Vec<String>,
    /// Sealed for this record.
    refresh: String,
    /// Sealed for this record; passed on only as the Lex `authorization` attribute.
    access: String,
    access_expires: i64,
    linked_at: i64,
    expires: i64,
}

impl crate::store::record::Record for Record {
    const KIND: &'static str = "account link";
}

/// A link just made.
#[derive(Debug, Clone)]
pub struct Completed {
    pub user: SlackUser,
    pub principal: Principal,
    /// The Slack channel the link was asked for from, to say it worked there.
    pub channel: Option<String>,
}

/// A linked user on a turn: who they are, and a current access token for them.
#[derive(Clone)]
pub struct Linked {
    pub principal: Principal,
    pub access_token: Secret,
}

impl std::fmt::Debug for Linked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Linked")
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

/// The account links.
pub struct Links {
    store: Arc<dyn Store>,
    cipher: Cipher,
    state_key: hmac::Key,
    pkce_key: hmac::Key,
    hosted: HostedUi,
    verifier: Arc<Verifier>,
    http: reqwest::Client,
    clock: Arc<dyn Clock>,
    /// How long a link lasts.
    pub ttl: Duration,
    /// `{OPSVOICE_PUBLIC_URL}/link/start`.
    start_url: String,
    /// One renewal at a time per link.
    renewing: moka::sync::Cache<String, Arc<tokio::sync::Mutex<()>>>,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Links")
            .field("hosted", &self.hosted.domain)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

/// Constant-time comparison of two MACs or strings.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && aws_lc_rs::constant_time::verify_slices_are_equal(a, b).is_ok()
}

impl Links {
    /// Links kept in `store`, secrets sealed with `cipher`, sign-ins at `hosted` verified
    /// by `verifier` (which must accept the linking app client's access tokens).
    #[must_use]
    pub fn new(
        store: Arc<dyn Store>,
        cipher: Cipher,
        hosted: HostedUi,
        public_url: &str,
        verifier: Arc<Verifier>,
        ttl: Duration,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let state_key = cipher.derived("opsvoice link state v1");
        let pkce_key = cipher.derived("opsvoice pkce verifier v1");
        Self {
            store,
            cipher,
            state_key,
            pkce_key,
            hosted,
            verifier,
            http: reqwest::Client::builder()
                .timeout(TOKEN_TIMEOUT)
                .connect_timeout(Duration::from_secs(2))
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            clock,
            ttl,
            start_url: format!("{public_url}/link/start"),
            renewing: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
        }
    }

    fn mac(&self, nonce: &str, expires: i64, user: &SlackUser) -> String {
        let mut ctx = hmac::Context::with_key(&self.state_key);
        for part in [nonce, &expires.to_string(), &user.team, &user.user] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part.as_bytes());
        }
        b64(&ctx.sign().as_ref()[..24])
    }

    fn verifier_for(&self, nonce: &str) -> String {
        b64(hmac::sign(&self.pkce_key, nonce.as_bytes()).as_ref())
    }

    /// A fresh link state for `user`: the URL of the link button.
    ///
    /// # Errors
    /// No randomness, or a store that fails.
    pub async fn offer(
        &self,
        user: &SlackUser,
        channel: Option<&str>,
    ) -> Result<String, LinkError> {
        let mut raw = [0u8; 18];
        aws_lc_rs::rand::fill(&mut raw).map_err(|_| CipherError::Random)?;
        let nonce = b64(&raw);
        let expires_at = self.clock.now() + STATE_TTL;
        let expires = epoch(expires_at);
        let pending = Pending {
            team: user.team.clone(),
            user: user.user.clone(),
            channel: channel.map(str::to_owned),
        };
        let value = record::encode(&pending);
        self.store
            .put(&Key::link_state(&nonce), &value, expires_at)
            .await?;
        let token = format!("{nonce}.{expires}.{}", self.mac(&nonce, expires, user));
        Ok(format!("{}?state={token}", self.start_url))
    }

    /// The nonce and expiry of a well-formed, unexpired state token (the MAC is checked
    /// against the pending record's user by the caller).
    fn parse_state<'a>(&self, token: &'a str) -> Result<(&'a str, i64, &'a str), LinkError> {
        let mut parts = token.split('.');
        let (Some(nonce), Some(expires), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(LinkError::BadState);
        };
        if nonce.len() != 24
            || !nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(LinkError::BadState);
        }
        let expires: i64 = expires.parse().map_err(|_| LinkError::BadState)?;
        if expires <= epoch(self.clock.now()) {
            return Err(LinkError::StateUsed);
        }
        Ok((nonce, expires, mac))
    }

    fn check_mac(&self, nonce: &str, expires: i64, mac: &str, pending: &Pending) -> bool {
        let user = SlackUser {
            team: pending.team.clone(),
            user: pending.user.clone(),
        };
        same(self.mac(nonce, expires, &user).as_bytes(), mac.as_bytes())
    }

    /// Where `GET /link/start` sends the browser: the hosted UI's authorize endpoint.
    ///
    /// # Errors
    /// A forged, expired or used state; a store that fails.
    pub async fn authorize_url(&self, state: &str) -> Result<String, LinkError> {
        let (nonce, expires, mac) = self.parse_state(state)?;
        let pending = self
            .store
            .get(&Key::link_state(nonce))
            .await?
            .and_then(|v| record::read::<Pending>(&v))
            .ok_or(LinkError::StateUsed)?;
        if !self.check_mac(nonce, expires, mac, &pending) {
            return Err(LinkError::BadState);
        }
        let challenge =
            b64(digest::digest(&digest::SHA256, self.verifier_for(nonce).as_bytes()).as_ref());
        let mut url = url::Url::parse(&format!("{}/oauth2/authorize", self.hosted.domain))
            .map_err(|_| LinkError::Unavailable)?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.hosted.client_id)
            .append_pair("redirect_uri", &self.hosted.redirect_uri)
            .append_pair("state", state)
            .append_pair("scope", "openid")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256")
            // Always a sign-in page, never a silent redirect on an existing session: a
            // link button someone else sent cannot link their Slack account to you unseen.
            .append_pair("prompt", "login");
        Ok(url.into())
    }

    /// Finishes a link (`GET /link/callback`): the state is used up whatever happens next.
    ///
    /// # Errors
    /// A forged, expired or replayed state; a code the hosted UI refuses; tokens that do
    /// not verify; an outage.
    pub async fn complete(&self, code: &str, state: &str) -> Result<Completed, LinkError> {
        let (nonce, expires, mac) = self.parse_state(state)?;
        let key = Key::link_state(nonce);
        // Check the MAC before using the state up, so a forged state cannot burn a real one.
        let pending = self
            .store
            .get(&key)
            .await?
            .and_then(|v| record::read::<Pending>(&v))
            .ok_or(LinkError::StateUsed)?;
        if !self.check_mac(nonce, expires, mac, &pending) {
            return Err(LinkError::BadState);
        }
        if self.store.take(&key).await?.is_none() {
            return Err(LinkError::StateUsed);
        }
        if code.is_empty() || code.len() > 2048 {
            return Err(LinkError::Refused("no authorization code".to_owned()));
        }
        let verifier = self.verifier_for(nonce);
        let tokens = self
            .token(&[
                ("grant_type", "authorization_code"),
                ("client_id", &self.hosted.client_id),
                ("code", code),
                ("redirect_uri", &self.hosted.redirect_uri),
                ("code_verifier", &verifier),
            ])
            .await?;
        let principal = self.verifier.verify(&tokens.access_token).await?;
        let refresh = tokens
            .refresh_token
            .ok_or_else(|| LinkError::Refused("no refresh token was issued".to_owned()))?;
        let user = SlackUser {
            team: pending.team,
            user: pending.user,
        };
        self.save(
            &user,
            &principal,
            &refresh,
            &tokens.access_token,
            tokens.expires_in,
            None,
            None,
        )
        .await?;
        tracing::info!(
            target: "opsvoice::audit",
            sub = %principal.sub,
            username = %principal.username,
            slack_team = %user.team,
            slack_user = %user.user,
            "account linked"
        );
        Ok(Completed {
            user,
            principal,
            channel: pending.channel,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn save(
        &self,
        user: &SlackUser,
        principal: &Principal,
        refresh: &str,
        access: &str,
        expires_in: Option<u64>,
        linked: Option<(i64, i64)>,
        previous: Option<&str>,
    ) -> Result<bool, LinkError> {
        let now = self.clock.now();
        let key = user.key();
        let (linked_at, expires) = linked.unwrap_or_else(|| (epoch(now), epoch(now + self.ttl)));
        let record = Record {
            sub: principal.sub.clone(),
            username: principal.username.clone(),
            groups: principal.groups.clone(),
            refresh: self.cipher.seal(&format!("{key}#refresh"), refresh)?,
            access: self.cipher.seal(&format!("{key}#access"), access)?,
            access_expires: epoch(
                now + Duration::from_secs(expires_in.unwrap_or(3600).min(86_400)),
            ),
            linked_at,
            expires,
        };
        let until =
            SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(expires).unwrap_or(0));
        let value = record::encode(&record);
        match previous {
            // A renewal: only over the record it renewed (an unlink meanwhile stays).
            Some(previous) => Ok(self.store.replace(&key, previous, &value, until).await?),
            None => {
                self.store.put(&key, &value, until).await?;
                Ok(true)
            }
        }
    }

    /// Calls the token endpoint with `form`.
    async fn token(&self, form: &[(&str, &str)]) -> Result<Tokens, LinkError> {
        let mut request = self
            .http
            .post(format!("{}/oauth2/token", self.hosted.domain))
            .form(form);
        if let Some(secret) = &self.hosted.client_secret {
            request = request.basic_auth(&self.hosted.client_id, Some(secret.expose_str()));
        }
        let response = request.send().await.map_err(|error| {
            tracing::warn!(error = %crate::error::ErrorChain(&error), "the hosted UI's token endpoint could not be reached");
            LinkError::Unavailable
        })?;
        let status = response.status();
        let body = response.bytes().await.map_err(|_| LinkError::Unavailable)?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|_| {
                tracing::warn!("the token endpoint answered with something that is not tokens");
                LinkError::Unavailable
            });
        }
        if status.is_client_error() {
            let reason = serde_json::from_slice::<OAuthError>(&body)
                .map(|e| e.error)
                .unwrap_or_else(|_| status.to_string());
            // Only OAuth's own error names reach the user and the log.
            let reason: String = reason
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                .take(40)
                .collect();
            return Err(LinkError::Refused(reason));
        }
        tracing::warn!(%status, "the token endpoint failed");
        Err(LinkError::Unavailable)
    }

    /// Who `user` is, if they are linked: renewed first when the access token has
    /// expired. A renewal Cognito refuses (or a link past its 30 days) drops the link and
    /// answers `Ok(None)`, so the user is asked to link again.
    ///
    /// # Errors
    /// An outage (the store, the token endpoint or the pool's keys): the link is kept.
    pub async fn principal(&self, user: &SlackUser) -> Result<Option<Linked>, LinkError> {
        self.principal_once(user, true).await
    }

    async fn principal_once(
        &self,
        user: &SlackUser,
        may_wait: bool,
    ) -> Result<Option<Linked>, LinkError> {
        let key = user.key();
        let Some(raw) = self.store.get(&key).await? else {
            return Ok(None);
        };
        let record = match record::decode::<Record>(&raw) {
            Ok(record) => record,
            // Written by a newer release during a rolling upgrade: not ours to drop.
            Err(error @ record::RecordError::TooNew { .. }) => {
                tracing::warn!(%error, "a stored link cannot be read here");
                return Ok(None);
            }
            Err(error) => {
                tracing::warn!(%error, "dropping a damaged link");
                self.store.delete(&key).await?;
                return Ok(None);
            }
        };
        let now = self.clock.now();
        if record.expires <= epoch(now) {
            self.store.delete(&key).await?;
            return Ok(None);
        }
        let principal = Principal {
            sub: record.sub.clone(),
            username: record.username.clone(),
            groups: record.groups.clone(),
        };
        if record.access_expires > epoch(now + RENEW_AHEAD) {
            let access = self.cipher.open(&format!("{key}#access"), &record.access)?;
            return Ok(Some(Linked {
                principal,
                access_token: Secret::new(access),
            }));
        }
        // One renewal at a time per user in this process: the others wait for it and then
        // read the renewed record (a refresh token used twice would be refused under
        // rotation, and the link wrongly dropped).
        let gate = self
            .renewing
            .get_with(key.to_string(), || Arc::new(tokio::sync::Mutex::new(())));
        let guard = match gate.try_lock() {
            Ok(guard) => guard,
            Err(_) if may_wait => {
                drop(gate.lock().await);
                return Box::pin(self.principal_once(user, false)).await;
            }
            Err(_) => gate.lock().await,
        };
        // Another renewal may have finished while this one waited: read again.
        match self.store.get(&key).await? {
            Some(now_raw) if now_raw != raw => {
                drop(guard);
                return if may_wait {
                    Box::pin(self.principal_once(user, false)).await
                } else {
                    Ok(None)
                };
            }
            None => return Ok(None),
            Some(_) => {}
        }
        let refresh = match self.cipher.open(&format!("{key}#refresh"), &record.refresh) {
            Ok(refresh) => refresh,
            Err(error) => {
                tracing::warn!(%error, "a stored refresh token does not open (was OPSVOICE_STORE_KEY changed?); dropping the link");
                self.store.delete(&key).await?;
                return Ok(None);
            }
        };
        let renewed = self
            .token(&[
                ("grant_type", "refresh_token"),
                ("client_id", &self.hosted.client_id),
                ("refresh_token", &refresh),
            ])
            .await;
        let renewed = match renewed {
            Ok(tokens) => match self.verifier.verify(&tokens.access_token).await {
                Ok(principal) => Ok((tokens, principal)),
                Err(AuthError::JwksUnavailable) => Err(LinkError::Unavailable),
                Err(error) => Err(LinkError::Unverified(error)),
            },
            Err(error) => Err(error),
        };
        match renewed {
            Ok((tokens, principal)) => {
                // Cognito returns a new refresh token only when rotation is on.
                let refresh = tokens.refresh_token.as_deref().unwrap_or(&refresh);
                let saved = self
                    .save(
                        user,
                        &principal,
                        refresh,
                        &tokens.access_token,
                        tokens.expires_in,
                        Some((record.linked_at, record.expires)),
                        Some(&raw),
                    )
                    .await?;
                if !saved {
                    // Unlinked (or renewed elsewhere) meanwhile: what is stored now decides.
                    drop(guard);
                    return match self.store.get(&key).await? {
                        Some(_) if may_wait => Box::pin(self.principal_once(user, false)).await,
                        _ => Ok(None),
                    };
                }
                Ok(Some(Linked {
                    principal,
                    access_token: Secret::new(tokens.access_token),
                }))
            }
            Err(error) if error.is_outage() => Err(error),
            Err(error) => {
                tracing::info!(
                    target: "opsvoice::audit",
                    sub = %record.sub,
                    %error,
                    "link renewal refused; the link is dropped"
                );
                // Only the record that was refused: one renewed elsewhere meanwhile stays.
                let _ = self
                    .store
                    .replace(&key, &raw, &raw, self.clock.now())
                    .await?;
                Ok(None)
            }
        }
    }

    /// Removes `user`'s link; whether there was one.
    ///
    /// # Errors
    /// A store that fails.
    pub async fn unlink(&self, user: &SlackUser) -> Result<bool, LinkError> {
        let key = user.key();
        let had = self.store.get(&key).await?.is_some();
        self.store.delete(&key).await?;
        if had {
            tracing::info!(target: "opsvoice::audit", slack_team = %user.team, slack_user = %user.user, "account unlinked");
        }
        Ok(had)
    }
}
