//! The app's core: the [`Assistant`] every channel talks to, and how it is built.
//!
//! A channel adapter parses its wire format into a [`Turn`], asks the assistant, and writes
//! the [`Exchange`] back. The assistant verifies the caller ([`Assistant::arrive`]), answers
//! within its deadline ([`Assistant::converse`]) and audits each question. It is built once,
//! whole, by [`Assistant::builder`], which takes the identity as an argument: there is no
//! default that lets anyone in.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;

use crate::dialog::{Answer, Dialog, Move, Reply, SessionContext, Turn};
use crate::nlu::Nlu;
use crate::speech::{Forms, Rendered, Renderer};

pub use crate::config::DEFAULT_DEADLINE;

/// The deadline of one recognition (Lex `RecognizeText`: Lex runs the code hook inside it).
pub const RECOGNIZE_TIMEOUT: Duration = Duration::from_secs(6);

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

/// The app's core: everything a channel needs to hold a conversation (the dialog over its
/// data, prompts, the local NLU, who may ask what, and how sessions are sealed).
///
/// It is made only by [`Builder::build`], whole: every part is given before it is shared,
/// and nothing is patched in afterwards. In particular there is no default identity: the
/// builder takes the [`Identity`](crate::auth::Identity) as an argument, so an app over live
/// data cannot be left answering anyone because a late swap was skipped.
#[derive(Debug)]
pub struct Assistant {
    pub(crate) dialog: Dialog,
    pub(crate) renderer: Renderer,
    pub(crate) nlu: Nlu,
    pub(crate) sessions: Sessions,
    pub(crate) deadline: Duration,
    pub(crate) identity: crate::auth::Identity,
    /// The Lex bot `/v1/ask` goes through, when one is configured.
    pub(crate) lex: Option<Arc<dyn Recognizer>>,
    /// Polly, for audio answers (its client is made on first use).
    pub(crate) voice: crate::speech::polly::Voice,
    /// Seals the session context to its owner.
    pub(crate) sealer: crate::dialog::context::Sealer,
}

/// Everything an [`Assistant`] is made of. The data source, the clock and the identity
/// have no default; the rest defaults to the embedded prompts and model, the default
/// deadline, no Lex bot, the default Polly voice and a per-process session key.
#[must_use = "a builder does nothing until it is built"]
pub struct Builder {
    ops: Arc<dyn crate::ops::OpsSource>,
    clock: Arc<dyn crate::clock::Clock>,
    identity: crate::auth::Identity,
    log: Option<Arc<dyn crate::store::Store>>,
    desk: Option<Arc<crate::act::desk::Desk>>,
    logs: Option<Arc<dyn crate::ops::logs::LogSource>>,
    renderer: Option<Renderer>,
    region: Option<String>,
    nlu: Option<Nlu>,
    deadline: Duration,
    lex: Option<Arc<dyn Recognizer>>,
    voice: Option<crate::speech::polly::Voice>,
    sealer: Option<crate::dialog::context::Sealer>,
}

/// Why an assistant could not be built: the embedded prompts or model are invalid (caught
/// by `opsvoice check` and the tests long before a deployment).
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the prompts are invalid: {0}")]
    Prompts(#[from] crate::speech::render::PromptError),
    #[error("the conversation model is invalid: {0}")]
    Model(#[from] crate::nlu::ModelError),
}

impl Builder {
    /// Answers within `deadline` (else "that took too long").
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Reads the notifier's event log from `store` ("what did I miss?").
    pub fn event_log(mut self, store: Arc<dyn crate::store::Store>) -> Self {
        self.log = Some(store);
        self
    }

    /// Reads services' logs from `logs` (without one, LogErrors says CloudWatch Logs is
    /// unavailable).
    pub fn logs(mut self, logs: Arc<dyn crate::ops::logs::LogSource>) -> Self {
        self.logs = Some(logs);
        self
    }

    /// Takes actions to `desk` (without one, every verb is refused as not enabled).
    pub fn desk(mut self, desk: Arc<crate::act::desk::Desk>) -> Self {
        self.desk = Some(desk);
        self
    }

    /// Sends `/v1/ask` questions through this Lex bot.
    pub fn lex(mut self, bot: Option<Arc<dyn Recognizer>>) -> Self {
        self.lex = bot;
        self
    }

    /// Speaks audio answers with this Polly voice.
    pub fn voice(mut self, voice: crate::speech::polly::Voice) -> Self {
        self.voice = Some(voice);
        self
    }

    /// Seals session contexts with this key (the same on every instance).
    pub fn sealer(mut self, sealer: crate::dialog::context::Sealer) -> Self {
        self.sealer = Some(sealer);
        self
    }

    /// The embedded prompts, with console links for `region`.
    pub fn region(mut self, region: Option<String>) -> Self {
        self.region = region;
        self
    }

    /// These prompts instead of the embedded ones.
    pub fn renderer(mut self, renderer: Renderer) -> Self {
        self.renderer = Some(renderer);
        self
    }

    /// This NLU model instead of the embedded one.
    pub fn nlu(mut self, nlu: Nlu) -> Self {
        self.nlu = Some(nlu);
        self
    }

    /// The finished assistant, shared and immutable from here on.
    ///
    /// # Errors
    /// Invalid embedded prompts or model.
    pub fn build(self) -> Result<Arc<Assistant>, BuildError> {
        let mut dialog = Dialog::new(self.ops, self.clock);
        if let Some(log) = self.log {
            dialog = dialog.with_log(log);
        }
        if let Some(desk) = self.desk {
            dialog = dialog.with_desk(desk);
        }
        if let Some(logs) = self.logs {
            dialog = dialog.with_logs(logs);
        }
        let renderer = match self.renderer {
            Some(renderer) => renderer,
            None => Renderer::embedded(self.region)?,
        };
        let nlu = match self.nlu {
            Some(nlu) => nlu,
            None => Nlu::embedded()?,
        };
        Ok(Arc::new(Assistant {
            dialog,
            renderer,
            nlu,
            sessions: Sessions::default(),
            deadline: self.deadline,
            identity: self.identity,
            lex: self.lex,
            voice: self.voice.unwrap_or_else(|| {
                crate::speech::polly::Voice::new(crate::config::Polly::default())
            }),
            sealer: self
                .sealer
                .unwrap_or_else(crate::dialog::context::Sealer::random),
        }))
    }
}

impl Assistant {
    /// The one way to make an assistant: over `ops`, measuring time with `clock`, letting in
    /// whom `identity` lets in.
    pub fn builder(
        ops: Arc<dyn crate::ops::OpsSource>,
        clock: Arc<dyn crate::clock::Clock>,
        identity: crate::auth::Identity,
    ) -> Builder {
        Builder {
            ops,
            clock,
            identity,
            log: None,
            desk: None,
            logs: None,
            renderer: None,
            region: None,
            nlu: None,
            deadline: DEFAULT_DEADLINE,
            lex: None,
            voice: None,
            sealer: None,
        }
    }

    /// The dialog (and through it the data source and event log).
    #[must_use]
    pub fn dialog(&self) -> &Dialog {
        &self.dialog
    }

    /// Who may ask what.
    #[must_use]
    pub fn identity(&self) -> &crate::auth::Identity {
        &self.identity
    }

    /// What seals session contexts to their owner.
    #[must_use]
    pub fn sealer(&self) -> &crate::dialog::context::Sealer {
        &self.sealer
    }

    /// The Polly voice audio answers are spoken with.
    #[must_use]
    pub fn voice(&self) -> &crate::speech::polly::Voice {
        &self.voice
    }

    /// The most an answer may take.
    #[must_use]
    pub fn deadline(&self) -> Duration {
        self.deadline
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

/// Server-side session memory for `/v1/ask`, forgotten after 15 idle minutes.
#[derive(Debug, Clone)]
pub struct Sessions(moka::sync::Cache<String, SessionContext>);

impl Sessions {
    /// The context kept for `scope`, or a fresh one.
    #[must_use]
    pub fn get(&self, scope: &str) -> SessionContext {
        self.0.get(scope).unwrap_or_default()
    }

    /// Keeps `context` for `scope`.
    pub fn keep(&self, scope: String, context: SessionContext) {
        self.0.insert(scope, context);
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Self(
            moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(15 * 60))
                .build(),
        )
    }
}

/// What Lex understood and answered for one `RecognizeText`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recognized {
    /// The `PlainText` messages, in order.
    pub plain: Vec<String>,
    /// The `SSML` message, when the code hook sent one.
    pub ssml: Option<String>,
    /// The intent Lex is on (after `ElicitIntent`, its top interpretation).
    pub intent: Option<String>,
    /// The filled slots' interpreted values.
    pub slots: BTreeMap<String, String>,
    /// Whether the dialog action is `Close`.
    pub closed: bool,
}

/// Why Lex gave no answer to use.
#[derive(Debug, thiserror::Error)]
pub enum RecognizeError {
    #[error("Lex did not answer within {} seconds", RECOGNIZE_TIMEOUT.as_secs())]
    Timeout,
    #[error("Lex RecognizeText failed")]
    Call(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the bot answered with no message")]
    NoMessage,
}

/// The Lex V2 runtime, behind a small trait (so tests put a stand-in there): the channel
/// module's `ask::LexBot` is the real one.
#[async_trait::async_trait]
pub trait Recognizer: Send + Sync + std::fmt::Debug {
    /// Sends `text` in session `session_id`, with the caller's `token` as the
    /// `authorization` request attribute for the code hook.
    ///
    /// # Errors
    /// A call that failed, timed out, or came back with no message.
    async fn recognize(
        &self,
        text: &str,
        session_id: &str,
        token: Option<&str>,
    ) -> Result<Recognized, RecognizeError>;
}
