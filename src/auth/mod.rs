//! Who is asking: Cognito tokens verified into a [`Principal`] (`cognito`), and what that
//! principal may ask about (`policy`, next).

pub mod cognito;
pub mod link;
pub mod policy;

/// A verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Cognito's stable user id.
    pub sub: String,
    pub username: String,
    /// `cognito:groups`; empty when the user is in none.
    pub groups: Vec<String>,
}

impl Principal {
    /// The person an anonymous caller acts as (the demo fleet is the only place one is
    /// let in): named, so an action's record and audit say who, and bound like anyone
    /// else's to the session it was asked in.
    #[must_use]
    pub fn anonymous() -> Self {
        Self {
            sub: "anonymous".to_owned(),
            username: "anonymous".to_owned(),
            groups: Vec::new(),
        }
    }
}

use std::sync::Arc;

use policy::{Grants, Policy};

/// Who is asking, and what they may ask.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Option<Principal>,
    pub grants: Grants,
}

impl Caller {
    /// A caller who may ask nothing (for answering a refused request in its channel).
    #[must_use]
    pub fn nobody() -> Self {
        Self {
            principal: None,
            grants: Grants::default(),
        }
    }
}

/// Why a caller was not let in. Says nothing of the token itself.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error("no token was sent, and this deployment answers only signed-in callers")]
    Missing,
    #[error("the token was refused: {0}")]
    Invalid(#[from] cognito::AuthError),
}
impl Refusal {
    /// Whether the token could not be checked at all (the pool's keys are out of reach),
    /// as opposed to being refused: the caller should try again, not sign in again.
    #[must_use]
    pub fn is_outage(&self) -> bool {
        matches!(self, Refusal::Invalid(cognito::AuthError::JwksUnavailable))
    }
}

/// Turns a channel's token into a [`Caller`].
#[derive(Debug, Clone)]
pub struct Identity {
    verifier: Option<Arc<cognito::Verifier>>,
    policy: Policy,
    /// What a caller without a token may ask; `None` means they are refused.
    anonymous: Option<Grants>,
}

impl Identity {
    /// Zero-config demo: no sign-in, everyone may ask everything (the data is fake).
    #[must_use]
    pub fn open() -> Self {
        Self {
            verifier: None,
            policy: Policy::allow_all(),
            anonymous: Some(Grants::all()),
        }
    }

    /// Tokens verified by `verifier`, granted by `policy`; anonymous callers get
    /// `anonymous` (`None`: refused, as with live data).
    #[must_use]
    pub fn new(
        verifier: Option<Arc<cognito::Verifier>>,
        policy: Policy,
        anonymous: Option<Grants>,
    ) -> Self {
        Self {
            verifier,
            policy,
            anonymous,
        }
    }

    /// The group policy.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The caller a principal verified some other way (an account link) stands for.
    #[must_use]
    pub fn caller_for(&self, principal: Principal) -> Caller {
        Caller {
            grants: self.policy.grants(Some(&principal)),
            principal: Some(principal),
        }
    }

    /// What an anonymous caller may ask, if anything (only on the demo fleet).
    #[must_use]
    pub fn anonymous(&self) -> Option<Caller> {
        self.anonymous.clone().map(|grants| Caller {
            principal: None,
            grants,
        })
    }

    /// Whether callers without a token may ask anything (only on the demo fleet).
    #[must_use]
    pub fn anonymous_allowed(&self) -> bool {
        self.anonymous.is_some()
    }

    /// The caller a token (raw or `Bearer <token>`) stands for.
    ///
    /// # Errors
    /// A missing token where one is required, or a token the verifier refuses.
    pub async fn caller(&self, token: Option<&str>) -> Result<Caller, Refusal> {
        let token = token.map(bearer).filter(|t| !t.is_empty());
        match (token, &self.verifier) {
            (Some(token), Some(verifier)) => match verifier.verify(token).await {
                Ok(principal) => Ok(Caller {
                    grants: self.policy.grants(Some(&principal)),
                    principal: Some(principal),
                }),
                Err(error) => {
                    tracing::info!(%error, "token refused");
                    Err(Refusal::Invalid(error))
                }
            },
            _ => self
                .anonymous
                .clone()
                .map(|grants| Caller {
                    principal: None,
                    grants,
                })
                .ok_or(Refusal::Missing),
        }
    }
}

/// A token without its `Bearer ` prefix, if it has one.
fn bearer(raw: &str) -> &str {
    let raw = raw.trim();
    match raw.get(..7) {
        Some(prefix) if prefix.eq_ignore_ascii_case("bearer ") => raw[7..].trim(),
        _ => raw,
    }
}
