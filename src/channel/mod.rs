//! Channel adapters: each wire format in and out, around one shared [`Assistant`].
//!
//! An adapter parses its format (leniently: unknown fields are fine), builds a
//! channel-neutral [`Turn`], asks the assistant, and writes the [`Exchange`] back in its own
//! format within its own limits. Adapters never call AWS.

pub mod alexa;
pub mod ask;
pub mod lex;
pub mod slack;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;
use serde::{Deserialize, Deserializer};

use crate::dialog::{Answer, Dialog, Move, Reply, Turn};
use crate::nlu::Nlu;
use crate::speech::{Forms, Rendered, Renderer};

pub use crate::config::DEFAULT_DEADLINE;

/// One structured audit event per question: who, where, what about, the decision and how
/// long it took. Never the token.
pub(crate) fn audit(turn: &Turn, decision: &'static str, elapsed: std::time::Duration) {
    // The resource list costs allocations; build it only for a log that keeps it.
    if !tracing::enabled!(target: "opsvoice::audit", tracing::Level::INFO) {
        return;
    }
    let (sub, username) = turn.principal.as_ref().map_or(("-", "anonymous"), |p| {
        (p.sub.as_str(), p.username.as_str())
    });
    let resources: Vec<String> = turn
        .slots
        .iter()
        .map(|(k, v)| format!("{}={v}", k.name()))
        .collect();
    tracing::info!(
        target: "opsvoice::audit",
        sub,
        username,
        channel = turn.surface.platform.as_deref().unwrap_or("-"),
        intent = %turn.intent,
        resources = %resources.join(","),
        decision,
        latency_ms = elapsed.as_millis() as u64,
        "audit"
    );
}

/// Why a request body could not be read as its type: what the client is told (a JSON
/// syntax error, or the path of the first field of the wrong shape).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the request body does not have the expected shape: {0}")]
    WrongShape(String),
}

/// Parses a JSON body. Tracking the path costs on every field, so only a document that
/// fails is parsed again to say where (deserialisation is deterministic: it fails the
/// same way).
///
/// # Errors
/// Invalid JSON, or a value of the wrong shape (with its path).
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(value) => Ok(value),
        Err(error) => {
            let path = error.path().to_string();
            let inner = error.into_inner();
            let detail = if path == "." || path == "?" {
                inner.to_string()
            } else {
                format!("{path}: {inner}")
            };
            Err(if inner.is_syntax() || inner.is_eof() {
                BodyError::InvalidJson(detail)
            } else {
                BodyError::WrongShape(detail)
            })
        }
    }
}

/// Reads a field that may be `null` as its default: AWS sends `null` for empty objects
/// and lists in some events and omits them in others.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

impl Assistant {
    /// The session context in a channel's attributes, if it was sealed for `caller`.
    #[must_use]
    pub fn context_for(
        &self,
        attributes: &std::collections::HashMap<String, String>,
        caller: &crate::auth::Caller,
    ) -> crate::dialog::SessionContext {
        self.sealer.open(
            attributes,
            caller.principal.as_ref().map(|p| p.sub.as_str()),
        )
    }

    /// The first step of every channel: the caller `token` stands for, the session context
    /// in `attributes` if it was sealed for them, and the turn `build` makes of both.
    /// A refused caller gets [`crate::auth::Caller::nobody`] and an empty context.
    pub async fn arrive(
        &self,
        token: Option<&str>,
        attributes: &std::collections::HashMap<String, String>,
        build: impl FnOnce(crate::auth::Caller, crate::dialog::SessionContext) -> Turn,
    ) -> Arrival {
        match self.identity.caller(token).await {
            Ok(caller) => {
                let context = self.context_for(attributes, &caller);
                Arrival {
                    turn: build(caller, context),
                    refusal: None,
                }
            }
            Err(refusal) => Arrival {
                turn: build(
                    crate::auth::Caller::nobody(),
                    crate::dialog::SessionContext::default(),
                ),
                refusal: Some(refusal),
            },
        }
    }

    /// The answer to an arrival: the dialog's for a caller let in, or the refusal's (no
    /// data touched) for one who was not.
    pub async fn respond(&self, arrival: Arrival, forms: Forms) -> Exchange {
        match &arrival.refusal {
            None => self.converse(arrival.turn, forms).await,
            Some(refusal) => self.refuse(arrival.turn, forms, refusal),
        }
    }
}

/// A turn as it arrives on a channel, before the dialog: who asks (verified), and what,
/// with the session context opened for them alone.
#[derive(Debug)]
pub struct Arrival {
    pub turn: Turn,
    /// Why the caller was not let in; the turn then carries no principal, no grants and an
    /// empty context, and must not reach the dialog.
    pub refusal: Option<crate::auth::Refusal>,
}

impl Arrival {
    /// The subject the answer's context is sealed for.
    #[must_use]
    pub fn owner(&self) -> Option<String> {
        self.turn.principal.as_ref().map(|p| p.sub.clone())
    }
}

/// A turn's answer, in data and in words.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub answer: Answer,
    pub rendered: Rendered,
    /// Whose conversation this is: the subject the context is sealed for.
    pub owner: Option<String>,
}

/// Everything a channel needs to hold a conversation: dialog, prompts and local NLU.
#[derive(Debug)]
pub struct Assistant {
    pub dialog: Dialog,
    pub renderer: Renderer,
    pub nlu: Nlu,
    pub sessions: ask::Sessions,
    pub deadline: Duration,
    pub identity: crate::auth::Identity,
    /// The Lex bot `/v1/ask` goes through, when one is configured.
    pub lex: Option<Arc<dyn ask::Recognizer>>,
    /// Polly, for audio answers (its client is made on first use).
    pub voice: crate::speech::polly::Voice,
    /// Seals the session context to its owner.
    pub sealer: crate::dialog::context::Sealer,
}

impl Assistant {
    /// An assistant over `dialog` with the embedded prompts and model.
    #[must_use]
    pub fn new(dialog: Dialog, renderer: Renderer, nlu: Nlu) -> Arc<Self> {
        Arc::new(Self {
            dialog,
            renderer,
            nlu,
            sessions: ask::Sessions::default(),
            deadline: DEFAULT_DEADLINE,
            identity: crate::auth::Identity::open(),
            lex: None,
            voice: crate::speech::polly::Voice::new(crate::config::Polly::default()),
            sealer: crate::dialog::context::Sealer::random(),
        })
    }

    /// The answer for a caller who is not let in, without touching any data: "please
    /// sign in", or, when the sign-in could not be checked at all, "try again in a minute".
    #[must_use]
    pub fn refuse(&self, turn: Turn, forms: Forms, refusal: &crate::auth::Refusal) -> Exchange {
        let (decision, reply) = if refusal.is_outage() {
            ("unavailable", Reply::SignInUnavailable)
        } else {
            ("refused", Reply::SignIn)
        };
        audit(&turn, decision, std::time::Duration::ZERO);
        let answer = Answer::to(&turn, reply, Move::Fail);
        let rendered = self.renderer.render(&answer, &turn.locale, forms);
        let owner = turn.principal.map(|p| p.sub);
        Exchange {
            answer,
            rendered,
            owner,
        }
    }

    /// Answers `turn` within the deadline. Never fails: a panic or a timeout in the dialog
    /// becomes a spoken apology, so Lex and Alexa never turn a 500 into a generic error.
    pub async fn converse(&self, turn: Turn, forms: Forms) -> Exchange {
        let started = std::time::Instant::now();
        let fallback = turn.clone();
        let respond = AssertUnwindSafe(self.dialog.respond(turn)).catch_unwind();
        let mut answer = match tokio::time::timeout(self.deadline, respond).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_panic)) => {
                tracing::error!(intent = %fallback.intent, "the dialog panicked; answering with an apology");
                Answer::to(&fallback, Reply::InternalError, Move::Fail)
            }
            Err(_elapsed) => {
                tracing::warn!(intent = %fallback.intent, deadline = ?self.deadline, "answer missed its deadline");
                Answer::to(&fallback, Reply::TooSlow, Move::Fail)
            }
        };
        let rendered = self.renderer.render(&answer, &fallback.locale, forms);
        answer.context.said = rendered.said(fallback.surface.mode);
        let outcome = match answer.next {
            Move::Fail => "failed",
            Move::Close => "answered",
            _ => "asked",
        };
        metrics::counter!("opsvoice_answers_total", "intent" => answer.intent.name(), "outcome" => outcome)
            .increment(1);
        metrics::histogram!("opsvoice_answer_seconds", "intent" => answer.intent.name())
            .record(started.elapsed().as_secs_f64());
        let decision = if matches!(answer.reply, Reply::Denied) {
            "denied"
        } else {
            "allowed"
        };
        let mut audited = fallback;
        audited.slots = answer.slots.clone();
        audit(&audited, decision, started.elapsed());
        let owner = audited.principal.map(|p| p.sub);
        tracing::info!(
            intent = %answer.intent,
            outcome,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "answered"
        );
        Exchange {
            answer,
            rendered,
            owner,
        }
    }
}
