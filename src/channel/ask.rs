//! `POST /v1/ask`: a question as text, the answer as text and SSML (and, on request, as
//! audio from Polly), with session context kept by `session_id`. Also what `opsvoice ask`
//! and `opsvoice chat` use in-process.
//!
//! With a Lex bot configured the question goes through Lex `RecognizeText`, so the same
//! NLU that serves Slack understands it; the caller's token travels as the `authorization`
//! request attribute for the code hook to verify, and Lex keeps the session. Without one,
//! or when Lex cannot be reached, the local matcher understands it and the session is kept
//! here. Either way the caller is verified before anything else happens.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::assistant::Assistant;
pub use crate::assistant::{RecognizeError, Recognized, Recognizer, Sessions};
use crate::dialog::{Intent, Mode, Pending, Phase, Reply, SessionContext, Surface, Turn};
use crate::speech::polly::Speech;
use crate::speech::ssml::{POLLY_MAX_TEXT, POLLY_MAX_TOTAL};

/// The longest question accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 1024;
/// The shortest and longest session ids accepted (Lex takes 2 to 100; a caller scope is
/// put in front of ours).
pub const MIN_SESSION_ID: usize = 2;
pub const MAX_SESSION_ID: usize = 64;

/// The request body.
#[derive(Debug, Clone, Deserialize)]
pub struct AskRequest {
    pub text: String,
    #[serde(default)]
    pub session_id: Option<String>,
}

/// The response body (the README's `/v1/ask` section; clients rely on these names).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AskResponse {
    pub text: String,
    pub ssml: String,
    pub intent: String,
    pub slots: BTreeMap<String, String>,
    pub session_id: String,
    pub end_session: bool,
}

/// Why a question was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AskError {
    #[error("`text` is empty")]
    EmptyText,
    #[error("`text` is longer than {MAX_TEXT_CHARS} characters")]
    TextTooLong,
    #[error(
        "`session_id` must be {MIN_SESSION_ID} to {MAX_SESSION_ID} characters of letters, digits, `-`, `_`, `.` or `:`"
    )]
    BadSessionId,
    #[error("{0}")]
    Unauthorized(#[from] crate::auth::Refusal),
}

impl AskRequest {
    /// Checks the request's fields.
    ///
    /// # Errors
    /// An empty or overlong text, or a malformed session id.
    pub fn validate(&self) -> Result<(), AskError> {
        if self.text.trim().is_empty() {
            return Err(AskError::EmptyText);
        }
        if self.text.chars().count() > MAX_TEXT_CHARS {
            return Err(AskError::TextTooLong);
        }
        if let Some(id) = &self.session_id {
            let ok = id.len() >= MIN_SESSION_ID
                && id.len() <= MAX_SESSION_ID
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:".contains(c));
            if !ok {
                return Err(AskError::BadSessionId);
            }
        }
        Ok(())
    }
}

/// A Lex V2 bot alias that questions go through.
#[derive(Debug, Clone)]
pub struct LexBot {
    pub client: aws_sdk_lexruntimev2::Client,
    pub bot_id: String,
    pub bot_alias_id: String,
    pub locale_id: String,
}

/// The deadline of one `RecognizeText` call: Lex runs the code hook inside it.
const LEX_TIMEOUT: Duration = crate::assistant::RECOGNIZE_TIMEOUT;

impl LexBot {
    /// The bot in `settings`, with a client from the standard AWS configuration; `None`
    /// when no bot is configured.
    pub async fn from_config(settings: &crate::config::Lex) -> Option<Self> {
        let (Some(bot_id), Some(bot_alias_id)) = (&settings.bot_id, &settings.bot_alias_id) else {
            return None;
        };
        let sdk = crate::aws::sdk_config().await;
        let config = aws_sdk_lexruntimev2::config::Builder::from(&sdk)
            .timeout_config(
                aws_smithy_types::timeout::TimeoutConfig::builder()
                    .connect_timeout(Duration::from_millis(500))
                    .operation_attempt_timeout(LEX_TIMEOUT)
                    .operation_timeout(LEX_TIMEOUT)
                    .build(),
            )
            .build();
        Some(Self {
            client: aws_sdk_lexruntimev2::Client::from_conf(config),
            bot_id: bot_id.clone(),
            bot_alias_id: bot_alias_id.clone(),
            locale_id: settings
                .locale
                .clone()
                .unwrap_or_else(|| "en_US".to_owned()),
        })
    }
}

#[async_trait::async_trait]
impl Recognizer for LexBot {
    async fn recognize(
        &self,
        text: &str,
        session_id: &str,
        token: Option<&str>,
    ) -> Result<Recognized, RecognizeError> {
        let mut call = self
            .client
            .recognize_text()
            .bot_id(&self.bot_id)
            .bot_alias_id(&self.bot_alias_id)
            .locale_id(&self.locale_id)
            .session_id(session_id)
            .text(text)
            .request_attributes(super::lex::FORMS_ATTRIBUTE, "both");
        if let Some(token) = token {
            call = call.request_attributes("authorization", token);
        }
        let output = tokio::time::timeout(LEX_TIMEOUT + Duration::from_millis(250), call.send())
            .await
            .map_err(|_| RecognizeError::Timeout)?
            .map_err(|e| RecognizeError::Call(Box::new(e)))?;
        let mut recognized = Recognized::default();
        for message in output.messages() {
            let content = message.content().unwrap_or_default();
            match message.content_type() {
                aws_sdk_lexruntimev2::types::MessageContentType::PlainText => {
                    recognized.plain.push(content.to_owned());
                }
                aws_sdk_lexruntimev2::types::MessageContentType::Ssml => {
                    recognized.ssml = Some(content.to_owned());
                }
                _ => {}
            }
        }
        if recognized.plain.is_empty() && recognized.ssml.is_none() {
            return Err(RecognizeError::NoMessage);
        }
        let state = output.session_state();
        // After `ElicitIntent` the state has no intent; what Lex understood is the top
        // interpretation.
        let lex_intent = state
            .and_then(|s| s.intent())
            .or_else(|| output.interpretations().first().and_then(|i| i.intent()));
        recognized.intent = lex_intent.map(|i| i.name().to_owned());
        recognized.slots = lex_intent
            .and_then(|i| i.slots())
            .map(|slots| {
                slots
                    .iter()
                    .filter_map(|(name, slot)| {
                        let value = slot.value()?.interpreted_value();
                        (!value.is_empty()).then(|| (name.clone(), value.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        recognized.closed = state
            .and_then(|s| s.dialog_action())
            .is_some_and(|a| *a.r#type() == aws_sdk_lexruntimev2::types::DialogActionType::Close);
        Ok(recognized)
    }
}

/// An answer, with what to say if it is to be heard.
#[derive(Debug, Clone)]
pub struct Asked {
    pub response: AskResponse,
    pub speech: Speech,
}

/// Session ids are per caller: another caller who sends the same id gets a conversation of
/// their own, never this one's context.
/// The prefix is 64 bits of SHA-256 of the subject: a 32-bit non-cryptographic hash (as
/// before) left two callers sharing a prefix within reach of a large user pool.
fn scoped(principal: Option<&crate::auth::Principal>, session_id: &str) -> String {
    use std::fmt::Write as _;
    let subject = principal.map_or("anonymous", |p| p.sub.as_str());
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, subject.as_bytes());
    let mut scoped = String::with_capacity(17 + session_id.len());
    for byte in &digest.as_ref()[..8] {
        let _ = write!(scoped, "{byte:02x}");
    }
    scoped.push('.');
    scoped.push_str(session_id);
    scoped
}

impl Assistant {
    /// Answers a typed or transcribed question for the caller `token` stands for (raw or
    /// `Bearer <token>`), keeping the session's context.
    ///
    /// # Errors
    /// An invalid request (see [`AskRequest::validate`]), or a caller who is not let in.
    pub async fn ask(
        &self,
        request: AskRequest,
        token: Option<&str>,
    ) -> Result<AskResponse, AskError> {
        Ok(self.answer(request, token).await?.response)
    }

    /// As [`Self::ask`], also returning what to say for an audio answer.
    ///
    /// # Errors
    /// As [`Self::ask`].
    pub async fn answer(
        &self,
        request: AskRequest,
        token: Option<&str>,
    ) -> Result<Asked, AskError> {
        request.validate()?;
        let caller = self.identity.caller(token).await?;
        let session_id = request
            .session_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let scope = scoped(caller.principal.as_ref(), &session_id);
        if let Some(bot) = &self.lex {
            match self
                .through_lex(bot.as_ref(), &request.text, &scope, token)
                .await
            {
                Ok(mut asked) => {
                    metrics::counter!("opsvoice_ask_lex_total", "outcome" => "answered")
                        .increment(1);
                    asked.response.session_id = session_id;
                    return Ok(asked);
                }
                Err(error) => {
                    metrics::counter!("opsvoice_ask_lex_total", "outcome" => "fallback")
                        .increment(1);
                    tracing::warn!(
                        error = %crate::error::ErrorChain(&error),
                        "Lex RecognizeText failed; answering with the local matcher"
                    );
                }
            }
        }
        Ok(self.locally(request, caller, session_id, scope).await)
    }

    /// Sends the question through the Lex bot; its code hook (this service) answers.
    async fn through_lex(
        &self,
        bot: &dyn Recognizer,
        text: &str,
        scope: &str,
        token: Option<&str>,
    ) -> Result<Asked, RecognizeError> {
        let Recognized {
            plain,
            ssml,
            intent,
            slots,
            closed,
        } = bot.recognize(text, scope, token).await?;
        let text = plain.join("\n");
        let ssml = match ssml {
            Some(ssml) => ssml,
            None => {
                // Someone else's code hook: speak its text.
                let mut builder = crate::speech::SsmlBuilder::with_limits(
                    self.voice.engine(),
                    POLLY_MAX_TOTAL,
                    POLLY_MAX_TEXT,
                );
                for line in &plain {
                    builder.sentence(line);
                }
                builder.build().into_string()
            }
        };
        let intent = intent
            .as_deref()
            .and_then(Intent::parse)
            .unwrap_or(Intent::Fallback);
        Ok(Asked {
            response: AskResponse {
                text,
                ssml: ssml.clone(),
                intent: intent.name().to_owned(),
                slots,
                session_id: String::new(),
                end_session: closed && matches!(intent, Intent::Stop | Intent::Cancel),
            },
            speech: Speech::Ssml(ssml),
        })
    }

    /// Understands the question with the local matcher and answers it here.
    async fn locally(
        &self,
        request: AskRequest,
        caller: crate::auth::Caller,
        session_id: String,
        scope: String,
    ) -> Asked {
        let context = self.sessions.get(&scope);
        let understood = self
            .understand_text(&request.text, &context, &caller.grants)
            .await;
        let turn = Turn {
            intent: understood.intent,
            slots: understood.slots,
            confirmation: Default::default(),
            context,
            surface: Surface {
                mode: Mode::Text,
                platform: Some("api".to_owned()),
            },
            phase: Phase::Fulfil,
            transcript: Some(request.text.clone()),
            locale: "en-US".to_owned(),
            detail: false,
            principal: caller.principal,
            grants: caller.grants,
            session: Some(format!("ask:{scope}")),
            origin: None,
        };
        let exchange = self.converse(turn, crate::speech::Forms::Both).await;
        let answer = &exchange.answer;
        self.sessions.keep(scope, answer.context.clone());
        Asked {
            response: AskResponse {
                text: exchange.rendered.text.clone(),
                ssml: exchange
                    .rendered
                    .ssml(self.voice.engine(), POLLY_MAX_TOTAL, POLLY_MAX_TEXT)
                    .into_string(),
                intent: answer.intent.name().to_owned(),
                slots: answer
                    .slots
                    .iter()
                    .map(|(k, v)| (k.name().to_owned(), v.clone()))
                    .collect(),
                session_id,
                end_session: matches!(answer.reply, Reply::Goodbye)
                    || answer.intent == Intent::Stop,
            },
            speech: Speech::Sentences(exchange.rendered.spoken.clone()),
        }
    }

    /// What the local NLU makes of `text` in `context`, with the live service, cluster
    /// and alarm names (without them the words still reach the dialog, which resolves, or
    /// reports, them itself).
    /// Only the services `grants` let the caller see are names to it: a service it may not
    /// see is heard as words, exactly as one that does not exist.
    pub(crate) async fn understand_text(
        &self,
        text: &str,
        context: &SessionContext,
        grants: &crate::auth::policy::Grants,
    ) -> crate::nlu::Understanding {
        let ops = self.dialog.ops();
        let (catalog, alarms) = tokio::join!(ops.catalog(), ops.firing_alarms());
        let catalog = catalog.unwrap_or_else(|error| {
            tracing::warn!(error = %crate::error::ErrorChain(&error), "service names unavailable");
            std::sync::Arc::default()
        });
        let catalog = if catalog
            .services
            .iter()
            .all(|s| grants.sees(s.account(), Some(s)))
        {
            catalog
        } else {
            std::sync::Arc::new(crate::ops::Catalog {
                clusters: catalog.clusters.clone(),
                services: catalog
                    .services
                    .iter()
                    .filter(|s| grants.sees(s.account(), Some(s)))
                    .cloned()
                    .collect(),
            })
        };
        let alarms: Vec<String> = alarms
            .map(|a| a.into_iter().map(|a| a.name).collect())
            .unwrap_or_else(|error| {
                tracing::warn!(error = %crate::error::ErrorChain(&error), "alarm names unavailable");
                Vec::new()
            });
        let expecting = match &context.pending {
            Some(Pending::Fill { intent, slot, .. }) => Some((*intent, *slot)),
            _ => None,
        };
        let understood = self.nlu.understand(text, &catalog, &alarms, expecting);
        tracing::debug!(intent = %understood.intent, confidence = understood.confidence, "understood");
        understood
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(sub: &str) -> crate::auth::Principal {
        crate::auth::Principal {
            sub: sub.to_owned(),
            username: "someone".to_owned(),
            groups: Vec::new(),
        }
    }

    #[test]
    fn session_scopes_are_per_caller_stable_and_fit_lex() {
        let id = "a".repeat(MAX_SESSION_ID);
        let alice = scoped(Some(&principal("alice")), &id);
        assert_eq!(alice, scoped(Some(&principal("alice")), &id));
        assert_ne!(alice, scoped(Some(&principal("bob")), &id));
        assert_ne!(alice, scoped(None, &id));
        // Lex V2 session ids: 2 to 100 of [0-9a-zA-Z._:-].
        assert!(alice.len() <= 100, "{}", alice.len());
        assert!(
            alice
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._:-".contains(c))
        );
        assert!(alice.ends_with(&format!(".{id}")));
        assert_eq!(alice.find('.'), Some(16));
    }
}
