//! Alexa custom skills (`POST /alexa`): the request envelope in, a response out.
//!
//! The envelope types are lenient like Lex's: unknown fields are ignored and optional
//! objects may be missing or `null`. Request verification lives in [`verify`] and runs on
//! the raw body before any of this.
//!
//! Conversation conventions:
//! - A one-shot request ("Alexa, ask ops desk how checkout is doing") is answered and the
//!   session ends. In a session the user opened ("Alexa, open ops desk"), an answer keeps
//!   the session open with "What else?" so follow-ups ("and its deploy?") work.
//! - Every response that keeps the session open carries a reprompt.
//! - Slot values resolved by entity resolution (`ER_SUCCESS_MATCH`) win over raw values.
//! - Speech is at most 8000 characters, card text at most 8000, the whole response at most
//!   24 KB: enforced by shortening, never by failing.

pub mod apl;
pub mod progress;
pub mod verify;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Assistant, Exchange, null_default};
use crate::dialog::{
    Confirmation, Intent, Mode, Move, Phase, Reply, SessionContext, Slot, Slots, Surface, Turn,
};
use crate::speech::Engine;

/// Alexa's cap on outputSpeech, in characters.
pub const MAX_SPEECH: usize = 8000;
/// Alexa's cap on all card text together, in characters.
pub const MAX_CARD: usize = 8000;
/// Alexa's cap on a whole response, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 24 * 1024;

/// The request envelope.
#[derive(Debug, Clone, Deserialize)]
pub struct Envelope {
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub session: Option<Session>,
    #[serde(default)]
    pub context: Option<Context>,
    pub request: Request,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    #[serde(default)]
    pub new: bool,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub application: Option<Application>,
    #[serde(default, deserialize_with = "null_default")]
    pub attributes: HashMap<String, Value>,
    #[serde(default)]
    pub user: Option<User>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub application_id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(default)]
    pub user_id: Option<String>,
    /// The account-linking access token. Never logged, never echoed.
    #[serde(default)]
    pub access_token: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Context {
    #[serde(rename = "System", default)]
    pub system: Option<System>,
}

#[derive(Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct System {
    #[serde(default)]
    pub application: Option<Application>,
    #[serde(default)]
    pub user: Option<User>,
    #[serde(default)]
    pub device: Option<Device>,
    /// Where this request's Alexa APIs are (progressive responses).
    #[serde(default)]
    pub api_endpoint: Option<String>,
    /// The token for those APIs. Never logged, never sent anywhere but [`progress::HOSTS`].
    #[serde(default)]
    pub api_access_token: Option<String>,
}

impl std::fmt::Debug for System {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("System")
            .field("application", &self.application)
            .field("device", &self.device)
            .field("api_endpoint", &self.api_endpoint)
            .field(
                "api_access_token",
                &self.api_access_token.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// `context.System.device`: what the device can do.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    /// Each interface the device supports, with its settings (APL: `runtime.maxVersion`).
    #[serde(default, deserialize_with = "null_default")]
    pub supported_interfaces: HashMap<String, Value>,
}

/// The request: one flat, lenient shape for every type.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub request_id: Option<String>,
    pub timestamp: String,
    #[serde(default)]
    pub locale: Option<String>,
    #[serde(default)]
    pub dialog_state: Option<String>,
    #[serde(default)]
    pub intent: Option<AlexaIntent>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub error: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlexaIntent {
    pub name: String,
    #[serde(default)]
    pub confirmation_status: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub slots: HashMap<String, AlexaSlot>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlexaSlot {
    #[serde(default)]
    pub value: Option<String>,
    #[serde(default)]
    pub confirmation_status: Option<String>,
    #[serde(default)]
    pub resolutions: Option<Resolutions>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Resolutions {
    #[serde(
        rename = "resolutionsPerAuthority",
        default,
        deserialize_with = "null_default"
    )]
    pub per_authority: Vec<Authority>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Authority {
    #[serde(default)]
    pub status: Option<Status>,
    #[serde(default, deserialize_with = "null_default")]
    pub values: Vec<ResolvedWrapper>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Status {
    pub code: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResolvedWrapper {
    pub value: ResolvedValue,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ResolvedValue {
    pub name: String,
    /// The value's id: in the generated model, the exact AWS name.
    #[serde(default)]
    pub id: Option<String>,
}

impl AlexaSlot {
    /// The entity-resolved value when an authority matched (its id, which the generated
    /// model sets to the exact name, else its name), else what was heard.
    #[must_use]
    pub fn text(&self) -> Option<String> {
        let resolved = self.resolutions.as_ref().and_then(|r| {
            r.per_authority
                .iter()
                .filter(|a| {
                    a.status
                        .as_ref()
                        .is_some_and(|s| s.code == "ER_SUCCESS_MATCH")
                })
                .find_map(|a| {
                    a.values.first().map(|v| {
                        v.value
                            .id
                            .clone()
                            .filter(|id| !id.trim().is_empty())
                            .unwrap_or_else(|| v.value.name.clone())
                    })
                })
        });
        resolved
            .or_else(|| self.value.clone())
            .filter(|v| !v.trim().is_empty())
    }
}

impl Envelope {
    /// The skill this request is for: from the session, else from `context.System`.
    #[must_use]
    pub fn application_id(&self) -> Option<&str> {
        self.session_application_id()
            .or_else(|| self.context_application_id())
    }

    /// `session.application.applicationId`, when there is a session.
    #[must_use]
    pub fn session_application_id(&self) -> Option<&str> {
        self.session
            .as_ref()
            .and_then(|s| s.application.as_ref())
            .map(|a| a.application_id.as_str())
    }

    /// `context.System.application.applicationId`.
    #[must_use]
    pub fn context_application_id(&self) -> Option<&str> {
        self.context
            .as_ref()
            .and_then(|c| c.system.as_ref())
            .and_then(|s| s.application.as_ref())
            .map(|a| a.application_id.as_str())
    }

    fn string_attributes(&self) -> HashMap<String, String> {
        self.session
            .as_ref()
            .map(|s| {
                s.attributes
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `context.System`, when the request has one.
    #[must_use]
    pub fn system(&self) -> Option<&System> {
        self.context.as_ref().and_then(|c| c.system.as_ref())
    }

    /// What a progressive response for this request needs, when it has all of it.
    #[must_use]
    pub fn heard(&self) -> Option<progress::Heard<'_>> {
        let system = self.system()?;
        fn present(v: Option<&String>) -> Option<&str> {
            v.map(String::as_str).filter(|v| !v.trim().is_empty())
        }
        Some(progress::Heard {
            api_endpoint: present(system.api_endpoint.as_ref())?,
            token: present(system.api_access_token.as_ref())?,
            request_id: present(self.request.request_id.as_ref())?,
        })
    }

    /// The account-linking token: `session.user.accessToken`, else the one in
    /// `context.System.user`.
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.session
            .as_ref()
            .and_then(|s| s.user.as_ref())
            .and_then(|u| u.access_token.as_deref())
            .or_else(|| {
                self.context
                    .as_ref()
                    .and_then(|c| c.system.as_ref())
                    .and_then(|s| s.user.as_ref())
                    .and_then(|u| u.access_token.as_deref())
            })
    }

    /// The channel-neutral turn for `caller`, for Launch and Intent requests, with the
    /// session `context` opened for them.
    #[must_use]
    pub fn to_turn(&self, caller: crate::auth::Caller, context: SessionContext) -> Turn {
        let request = &self.request;
        let intent = match (&*request.kind, &request.intent) {
            ("LaunchRequest", _) => Intent::Launch,
            (_, Some(i)) => Intent::parse(&i.name).unwrap_or(Intent::Fallback),
            _ => Intent::Fallback,
        };
        let mut slots = Slots::new();
        if let Some(i) = &request.intent {
            for (name, slot) in &i.slots {
                if let (Some(s), Some(v)) = (Slot::parse(name), slot.text()) {
                    slots.insert(s, v);
                }
            }
        }
        let confirmation = match request
            .intent
            .as_ref()
            .and_then(|i| i.confirmation_status.as_deref())
        {
            Some("CONFIRMED") => Confirmation::Confirmed,
            Some("DENIED") => Confirmation::Denied,
            _ => Confirmation::None,
        };
        Turn {
            intent,
            slots,
            confirmation,
            context,
            surface: Surface {
                mode: Mode::Voice,
                platform: Some("Alexa".to_owned()),
            },
            phase: match request.dialog_state.as_deref() {
                Some("STARTED" | "IN_PROGRESS") => Phase::Collect,
                _ => Phase::Fulfil,
            },
            transcript: None,
            locale: request.locale.clone().unwrap_or_else(|| "en-US".to_owned()),
            detail: false,
            principal: caller.principal,
            grants: caller.grants,
            session: self
                .session
                .as_ref()
                .and_then(|s| s.session_id.as_deref())
                .map(|id| format!("alexa:{id}")),
            origin: None,
        }
    }

    /// The session's attributes to send back: everything the client had, with our context
    /// written in, and credentials never echoed.
    fn attributes_out(&self, sealed: String) -> HashMap<String, Value> {
        let mut out: HashMap<String, Value> = self
            .session
            .as_ref()
            .map(|s| s.attributes.clone())
            .unwrap_or_default();
        for key in crate::dialog::context::NEVER_ECHO {
            out.remove(*key);
        }
        out.insert(
            crate::dialog::context::ATTRIBUTE.to_owned(),
            Value::String(sealed),
        );
        out
    }
}

/// An Alexa response, serialisable as sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AlexaResponse {
    version: &'static str,
    #[serde(skip_serializing_if = "HashMap::is_empty")]
    session_attributes: HashMap<String, Value>,
    response: Body,
}

/// The `response` object: only what is set is sent.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(skip_serializing_if = "Option::is_none")]
    output_speech: Option<Speech>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reprompt: Option<Reprompt>,
    #[serde(skip_serializing_if = "Option::is_none")]
    card: Option<Card>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    directives: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    can_fulfill_intent: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    should_end_session: Option<bool>,
}

/// `outputSpeech`: always SSML.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Speech {
    #[serde(rename = "type")]
    kind: &'static str,
    ssml: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
struct Reprompt {
    output_speech: Speech,
}

/// A `Simple` card (title and text) or the `LinkAccount` card (neither).
#[derive(Debug, Clone, PartialEq, Serialize)]
struct Card {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<String>,
}

impl AlexaResponse {
    /// An empty response (SessionEndedRequest and request types we do not handle).
    #[must_use]
    pub fn empty() -> Self {
        Self {
            version: "1.0",
            session_attributes: HashMap::new(),
            response: Body::default(),
        }
    }
}

/// `sentences` as Alexa's `outputSpeech`: as many as fit within Alexa's limits.
fn speech<'a>(sentences: impl IntoIterator<Item = &'a String>) -> Speech {
    let ssml =
        crate::speech::render::sentences_ssml(sentences, Engine::Alexa, MAX_SPEECH, MAX_SPEECH);
    Speech {
        kind: "SSML",
        ssml: ssml.into_string(),
    }
}

/// Cuts to at most `max` characters at a word boundary, with an ellipsis if cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    if let Some(i) = out
        .rfind(char::is_whitespace)
        .filter(|i| *i > out.len() / 2)
    {
        out.truncate(i);
    }
    out.push('…');
    out
}

impl Assistant {
    /// Answers a verified Alexa request (with no progressive response).
    pub async fn alexa(&self, envelope: &Envelope) -> AlexaResponse {
        self.alexa_with(envelope, None).await
    }

    /// Answers a verified Alexa request. With a `herald`, an answer that takes longer than
    /// [`progress::Herald::after`] is preceded by a progressive response ("Looking at
    /// checkout…"), sent beside it.
    pub async fn alexa_with(
        &self,
        envelope: &Envelope,
        herald: Option<&progress::Herald>,
    ) -> AlexaResponse {
        match envelope.request.kind.as_str() {
            "LaunchRequest" | "IntentRequest" => self.alexa_turn(envelope, herald).await,
            "CanFulfillIntentRequest" => self.can_fulfill(envelope).await,
            "SessionEndedRequest" => {
                tracing::info!(
                    reason = envelope.request.reason.as_deref().unwrap_or("-"),
                    error = %envelope.request.error.as_ref().map_or_else(String::new, |e| e.to_string()),
                    "Alexa session ended"
                );
                AlexaResponse::empty()
            }
            other => {
                tracing::info!(
                    kind = other,
                    "Alexa request type not handled; empty response"
                );
                AlexaResponse::empty()
            }
        }
    }

    async fn alexa_turn(
        &self,
        envelope: &Envelope,
        herald: Option<&progress::Herald>,
    ) -> AlexaResponse {
        let arrival = self
            .arrive(
                envelope.token(),
                &envelope.string_attributes(),
                |caller, context| envelope.to_turn(caller, context),
            )
            .await;
        match &arrival.refusal {
            Some(refusal) if refusal.is_outage() => return self.sign_in_unavailable(arrival.turn),
            Some(_) => return self.link_account(arrival.turn),
            None => {}
        }
        let owner = arrival.owner();
        let turn = arrival.turn;
        let one_shot = envelope.session.as_ref().is_none_or(|s| s.new)
            && envelope.request.kind == "IntentRequest";
        let event_intent = envelope.request.intent.clone();
        if turn.phase == Phase::Collect
            && event_intent
                .as_ref()
                .is_some_and(|i| Intent::parse(&i.name).is_none())
        {
            // Not ours: let Alexa's dialog model carry on.
            return AlexaResponse {
                version: "1.0",
                session_attributes: envelope.attributes_out(self.sealer.seal(
                    &turn.context,
                    owner.as_deref(),
                    crate::dialog::context::MAX_BYTES,
                )),
                response: Body {
                    directives: vec![json!({"type": "Dialog.Delegate"})],
                    ..Body::default()
                },
            };
        }
        let started = std::time::Instant::now();
        let screen = apl::renders(envelope.system());
        let looking = herald.zip(envelope.heard()).map(|(herald, heard)| {
            let service = turn.slots.get(&Slot::Service).cloned();
            (herald, heard, turn.intent, service, turn.locale.clone())
        });
        let answering = async {
            let exchange = self.converse(turn, crate::speech::Forms::Both).await;
            // Only a screen waits for the picture, within what is left of the budget.
            let sparkline = if screen && matches!(exchange.answer.next, Move::Close) {
                let budget = self
                    .deadline
                    .saturating_sub(started.elapsed())
                    .min(std::time::Duration::from_secs(1));
                self.dialog.sparkline(&exchange.answer, budget).await
            } else {
                None
            };
            (exchange, sparkline)
        };
        let (exchange, sparkline) = match looking {
            Some((herald, heard, intent, service, locale)) => {
                let mut answering = std::pin::pin!(answering);
                tokio::select! {
                    done = &mut answering => done,
                    () = tokio::time::sleep(herald.after()) => {
                        let said = progress::phrase(&self.renderer, &locale, intent, service.as_deref());
                        herald.speak(&heard, said);
                        answering.await
                    }
                }
            }
            None => answering.await,
        };
        let answer = &exchange.answer;
        let what_else = self.renderer.render_message(
            "reprompt",
            &envelope.request.locale.clone().unwrap_or_default(),
        );
        // An answer inside a conversation invites the next question; a one-shot ends.
        let (end, invite) = match answer.next {
            Move::Close if matches!(answer.reply, Reply::Goodbye) => (true, false),
            Move::Close => (one_shot, !one_shot),
            Move::Fail => (true, false),
            Move::ElicitSlot(_) | Move::ConfirmIntent | Move::ElicitIntent | Move::Delegate => {
                (false, false)
            }
        };
        let spoken = speech(
            exchange
                .rendered
                .spoken
                .iter()
                .chain(invite.then_some(&what_else)),
        );
        let reprompt = (!end).then(|| {
            exchange
                .rendered
                .reprompt
                .clone()
                .filter(|_| !invite)
                .unwrap_or_else(|| what_else.clone())
        });
        let reprompt = reprompt.map(|reprompt| Reprompt {
            output_speech: speech([&reprompt]),
        });
        let card = (!exchange.rendered.text.is_empty()).then(|| {
            let title = match exchange.rendered.card.as_ref() {
                Some(card) => cut(&card.title, 200),
                None => cut(
                    &self.renderer.render_message(
                        "card-title-default",
                        &envelope.request.locale.clone().unwrap_or_default(),
                    ),
                    200,
                ),
            };
            Card {
                kind: "Simple",
                title: Some(title),
                content: Some(cut(&exchange.rendered.text, MAX_CARD - 200)),
            }
        });
        let response = Body {
            output_speech: Some(spoken),
            reprompt,
            card,
            directives: directive(answer, event_intent.as_ref())
                .into_iter()
                .chain(
                    screen
                        .then(|| self.screen(envelope, &exchange, sparkline.as_ref()))
                        .flatten(),
                )
                .collect(),
            can_fulfill_intent: None,
            should_end_session: Some(end),
        };
        let mut out = AlexaResponse {
            version: "1.0",
            session_attributes: envelope.attributes_out(self.sealer.seal(
                &answer.context,
                exchange.owner.as_deref(),
                crate::dialog::context::MAX_BYTES,
            )),
            response,
        };
        fit(&mut out, &exchange, &self.sealer);
        out
    }

    /// The APL document for an answer a screen shows (see [`apl`]).
    fn screen(
        &self,
        envelope: &Envelope,
        exchange: &Exchange,
        sparkline: Option<&crate::dialog::picture::Sparkline>,
    ) -> Option<Value> {
        if !matches!(exchange.answer.next, Move::Close) {
            return None;
        }
        let locale = envelope.request.locale.clone().unwrap_or_default();
        let say = self.renderer.say(&locale, Mode::Text);
        let title = match &exchange.rendered.card {
            Some(card) => card.title.clone(),
            None => say.msg("card-title-default", []),
        };
        let rendered = &exchange.rendered;
        let headline = rendered
            .text_sentences
            .first()
            .or_else(|| rendered.spoken.first())?;
        apl::directive(&say, &exchange.answer.reply, &title, headline, sparkline)
    }

    /// The answer for an unlinked (or refused) account: say how to link it, and show the
    /// LinkAccount card in the Alexa app. Audited like any refusal.
    fn link_account(&self, turn: Turn) -> AlexaResponse {
        super::audit(&turn, "refused", std::time::Duration::ZERO);
        let said = self.renderer.render_message("link-account", &turn.locale);
        AlexaResponse {
            version: "1.0",
            session_attributes: HashMap::new(),
            response: Body {
                output_speech: Some(speech([&said])),
                card: Some(Card {
                    kind: "LinkAccount",
                    title: None,
                    content: None,
                }),
                should_end_session: Some(true),
                ..Body::default()
            },
        }
    }

    /// The answer when the linked account's token cannot be checked right now: no
    /// LinkAccount card (the link is fine), just "try again in a minute".
    fn sign_in_unavailable(&self, turn: Turn) -> AlexaResponse {
        super::audit(&turn, "unavailable", std::time::Duration::ZERO);
        let said = self
            .renderer
            .render_message("sign-in-unavailable", &turn.locale);
        AlexaResponse {
            version: "1.0",
            session_attributes: HashMap::new(),
            response: Body {
                output_speech: Some(speech([&said])),
                should_end_session: Some(true),
                ..Body::default()
            },
        }
    }

    /// CanFulfillIntentRequest: an honest answer, per slot, without fetching any data.
    async fn can_fulfill(&self, envelope: &Envelope) -> AlexaResponse {
        let Some(intent) = envelope.request.intent.as_ref() else {
            return AlexaResponse::empty();
        };
        let given: Vec<(String, String)> = intent
            .slots
            .iter()
            .filter_map(|(name, slot)| slot.text().map(|v| (name.clone(), v)))
            .collect();
        // CanFulfill requests carry no account token: where callers must sign in, names are
        // not checked against the catalog, so the answer reveals nothing about what exists.
        let answer = self
            .dialog
            .can_fulfill(&intent.name, &given, self.identity.anonymous_allowed())
            .await;
        let overall = answer.overall.as_str();
        let slots: serde_json::Map<String, Value> = answer
            .slots
            .into_iter()
            .map(|(name, a)| {
                (
                    name,
                    json!({"canUnderstand": a.understand.as_str(), "canFulfill": a.fulfil.as_str()}),
                )
            })
            .collect();
        AlexaResponse {
            version: "1.0",
            session_attributes: HashMap::new(),
            response: Body {
                can_fulfill_intent: Some(json!({"canFulfill": overall, "slots": slots})),
                ..Body::default()
            },
        }
    }
}

/// The dialog directive a move calls for, with the intent as we now understand it.
fn directive(answer: &crate::dialog::Answer, event: Option<&AlexaIntent>) -> Option<Value> {
    let updated = || {
        let mut slots = serde_json::Map::new();
        if let Some(event) = event {
            for name in event.slots.keys() {
                slots.insert(
                    name.clone(),
                    json!({"name": name, "confirmationStatus": "NONE"}),
                );
            }
        }
        for (slot, value) in &answer.slots {
            slots.insert(
                slot.name().to_owned(),
                json!({"name": slot.name(), "value": value, "confirmationStatus": "NONE"}),
            );
        }
        json!({"name": answer.intent.name(), "confirmationStatus": "NONE", "slots": slots})
    };
    let ours = Intent::QUESTIONS.contains(&answer.intent);
    match answer.next {
        Move::ElicitSlot(slot) if ours => Some(json!({
            "type": "Dialog.ElicitSlot",
            "slotToElicit": slot.name(),
            "updatedIntent": updated(),
        })),
        Move::ConfirmIntent if ours => {
            let mut intent = updated();
            if let Some(crate::dialog::Pending::Confirm { slot, value, .. }) =
                &answer.context.pending
            {
                intent["slots"][slot.name()] =
                    json!({"name": slot.name(), "value": value, "confirmationStatus": "NONE"});
            }
            Some(json!({"type": "Dialog.ConfirmIntent", "updatedIntent": intent}))
        }
        Move::Delegate => Some(json!({"type": "Dialog.Delegate"})),
        _ => None,
    }
}

/// A writer that only counts what it is given.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Keeps the response within 24 KB: the card's text goes first, then the session's repeat
/// buffer, then the speech is cut down to its first sentences.
fn fit(out: &mut AlexaResponse, exchange: &Exchange, sealer: &crate::dialog::context::Sealer) {
    let size = |o: &AlexaResponse| {
        // Counted, not written out: this runs on every answer.
        let mut counter = ByteCount(0);
        serde_json::to_writer(&mut counter, o).map_or(usize::MAX, |()| counter.0)
    };
    if size(out) <= MAX_RESPONSE_BYTES {
        return;
    }
    // The screen goes first: the words are the answer.
    out.response
        .directives
        .retain(|d| d["type"] != "Alexa.Presentation.APL.RenderDocument");
    if size(out) <= MAX_RESPONSE_BYTES {
        return;
    }
    if let Some(content) = out.response.card.as_mut().and_then(|c| c.content.as_mut()) {
        *content = cut(content, 1000);
    }
    if size(out) > MAX_RESPONSE_BYTES {
        // The repeat buffer goes first: sealed again without it.
        let mut ctx = exchange.answer.context.clone();
        ctx.said.clear();
        out.session_attributes.insert(
            crate::dialog::context::ATTRIBUTE.to_owned(),
            Value::String(sealer.seal(
                &ctx,
                exchange.owner.as_deref(),
                crate::dialog::context::MAX_BYTES,
            )),
        );
    }
    let mut keep = exchange.rendered.spoken.len();
    while size(out) > MAX_RESPONSE_BYTES && keep > 1 {
        keep -= 1;
        out.response.output_speech = Some(speech(&exchange.rendered.spoken[..keep]));
    }
    if size(out) > MAX_RESPONSE_BYTES {
        // Only client attributes can still be this large; they are the client's to fix.
        tracing::warn!(bytes = size(out), "Alexa response still over 24 KB");
    }
}

#[cfg(test)]
mod tests;
