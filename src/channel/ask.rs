//! `POST /v1/ask`: a question as text, the answer as text and SSML, with session context
//! kept on the server by `session_id`. Also what `opsvoice ask` uses in-process.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Assistant;
use crate::dialog::{Intent, Mode, Pending, Phase, Reply, SessionContext, Surface, Turn};
use crate::speech::Engine;
use crate::speech::ssml::{POLLY_MAX_TEXT, POLLY_MAX_TOTAL};

/// The longest question accepted, in characters.
pub const MAX_TEXT_CHARS: usize = 1024;
/// The longest session id accepted.
pub const MAX_SESSION_ID: usize = 128;

/// Server-side session memory for `/v1/ask`, forgotten after 15 idle minutes.
#[derive(Debug, Clone)]
pub struct Sessions(moka::sync::Cache<String, SessionContext>);

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

/// The request body.
#[derive(Debug, Clone, Deserialize)]
pub struct AskRequest {
    pub text: String,
    #[serde(default)]
    pub session_id: Option<String>,
}

/// The response body (DESIGN.md §3).
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
        "`session_id` must be 1 to {MAX_SESSION_ID} characters of letters, digits, `-`, `_`, `.` or `:`"
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
            let ok = !id.is_empty()
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
        request.validate()?;
        let caller = self.identity.caller(token).await?;
        let session_id = request
            .session_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let context = self.sessions.0.get(&session_id).unwrap_or_default();
        // Names to recognise; without them the words still reach the dialog, which
        // resolves (or reports) them itself.
        let ops = self.dialog.ops();
        let (catalog, alarms) = tokio::join!(ops.catalog(), ops.all_alarms());
        let catalog = catalog.unwrap_or_else(|error| {
            tracing::warn!(error = %crate::dialog::ErrorChain(&error), "service names unavailable");
            std::sync::Arc::default()
        });
        let alarms: Vec<String> = alarms
            .map(|a| a.into_iter().map(|a| a.name).collect())
            .unwrap_or_else(|error| {
                tracing::warn!(error = %crate::dialog::ErrorChain(&error), "alarm names unavailable");
                Vec::new()
            });
        let expecting = match &context.pending {
            Some(Pending::Fill { intent, slot, .. }) => Some((*intent, *slot)),
            _ => None,
        };
        let understood = self
            .nlu
            .understand(&request.text, &catalog, &alarms, expecting);
        tracing::debug!(intent = %understood.intent, confidence = understood.confidence, "understood");
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
        };
        let exchange = self.converse(turn, crate::speech::Forms::Both).await;
        let answer = &exchange.answer;
        self.sessions
            .0
            .insert(session_id.clone(), answer.context.clone());
        Ok(AskResponse {
            text: exchange.rendered.text.clone(),
            ssml: exchange
                .rendered
                .ssml(Engine::PollyNeural, POLLY_MAX_TOTAL, POLLY_MAX_TEXT)
                .into_string(),
            intent: answer.intent.name().to_owned(),
            slots: answer
                .slots
                .iter()
                .map(|(k, v)| (k.name().to_owned(), v.clone()))
                .collect(),
            session_id,
            end_session: matches!(answer.reply, Reply::Goodbye) || answer.intent == Intent::Stop,
        })
    }
}
