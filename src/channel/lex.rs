//! Amazon Lex V2 code hooks (`POST /lex`): the event in, a response out.
//!
//! The event types are lenient, because AWS adds fields without a version change: unknown
//! fields are ignored, optional objects may be missing or `null`, slots may be `null` or
//! `Scalar`/`List`/`Composite`, and `nluConfidence` may be a bare number or `{score}`.
//!
//! The response types can only express valid responses: a [`DialogAction`] carries exactly
//! what its type requires, [`Message`] content is always 1..=1024 UTF-16 units, cards and
//! buttons are cut to Lex's limits, and [`LexResponse::fit`] keeps the whole response
//! within the 25 KB Lambda output quota (12 KB of it session attributes).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::null_default;

use super::{Assistant, Exchange};
use crate::dialog::{
    Confirmation, Intent, Mode, Move, Phase, SessionContext, Slot, Slots, Surface, Turn,
};
use crate::speech::Engine;
use crate::speech::render::Card;

/// Lex's cap on one message's content, in UTF-16 units.
pub const MAX_MESSAGE: usize = 1024;
/// Lex's cap on messages in one response.
pub const MAX_MESSAGES: usize = 10;
/// Lex's cap on a Lambda response, in bytes.
pub const MAX_RESPONSE_BYTES: usize = 25 * 1024;
/// Lex's cap on session attributes, in bytes.
pub const MAX_SESSION_BYTES: usize = 12 * 1024;
/// Lex's cap on card buttons and on their text and value.
pub const MAX_BUTTONS: usize = 5;
pub const MAX_BUTTON_CHARS: usize = 50;
/// Lex's cap on a card's title and subtitle.
pub const MAX_CARD_TITLE: usize = 250;
/// The request attribute naming the channel (e.g. `Slack`).
pub const PLATFORM_ATTRIBUTE: &str = "x-amz-lex:channels:platform";

/// A Lex V2 code-hook event.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LexEvent {
    #[serde(default)]
    pub message_version: Option<String>,
    pub invocation_source: String,
    #[serde(default)]
    pub input_mode: Option<String>,
    #[serde(default)]
    pub response_content_type: Option<String>,
    #[serde(default)]
    pub session_id: Option<String>,
    #[serde(default)]
    pub input_transcript: Option<String>,
    #[serde(default)]
    pub invocation_label: Option<String>,
    #[serde(default)]
    pub bot: Option<Bot>,
    /// Lex's best guess at the intent; the others (up to four more) are never used, so
    /// they are skipped rather than built.
    #[serde(
        default,
        rename = "interpretations",
        deserialize_with = "first_interpretation"
    )]
    pub top_interpretation: Option<Interpretation>,
    #[serde(default, deserialize_with = "null_default")]
    pub request_attributes: HashMap<String, String>,
    pub session_state: SessionState,
}

/// The bot that sent the event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Bot {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub alias_id: Option<String>,
    #[serde(default)]
    pub locale_id: Option<String>,
    #[serde(default)]
    pub version: Option<String>,
}

/// The first of a list of interpretations (or none, for a missing, `null` or empty list),
/// skipping the rest without building them.
fn first_interpretation<'de, D>(d: D) -> Result<Option<Interpretation>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    struct First;
    impl<'de> serde::de::Visitor<'de> for First {
        type Value = Option<Interpretation>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list of interpretations")
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_seq(self)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let first = seq.next_element::<Interpretation>()?;
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(first)
        }
    }
    d.deserialize_option(First)
}

/// One of Lex's guesses at the intent.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Interpretation {
    /// The intent, its slots kept as JSON: `sessionState.intent` is the one a code hook
    /// works on, and this stands in only when that is missing, so the hot path never
    /// builds a second copy of the same slots.
    #[serde(rename = "intent")]
    guess: GuessedIntent,
    #[serde(skip)]
    parsed: std::sync::OnceLock<Option<LexIntent>>,
    #[serde(default)]
    pub nlu_confidence: Option<Confidence>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GuessedIntent {
    name: String,
    #[serde(default)]
    slots: Option<Box<serde_json::value::RawValue>>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    confirmation_state: Option<String>,
}

impl Interpretation {
    /// The intent Lex guessed; `None` when its slots are not slots.
    #[must_use]
    pub fn intent(&self) -> Option<&LexIntent> {
        self.parsed
            .get_or_init(|| {
                let guess = &self.guess;
                let slots = match &guess.slots {
                    Some(raw) => {
                        serde_json::from_str::<Option<HashMap<String, Option<LexSlot>>>>(raw.get())
                            .ok()?
                            .unwrap_or_default()
                    }
                    None => HashMap::new(),
                };
                Some(LexIntent::from(IntentFields {
                    name: guess.name.clone(),
                    slots,
                    state: guess.state.clone(),
                    confirmation_state: guess.confirmation_state.clone(),
                }))
            })
            .as_ref()
    }
}

/// `nluConfidence`: a bare number in real events, `{score}` in older docs.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Confidence {
    Number(f64),
    Score { score: f64 },
}

impl Confidence {
    /// The score, 0 to 1.
    #[must_use]
    pub fn value(self) -> f64 {
        match self {
            Confidence::Number(v) | Confidence::Score { score: v } => v,
        }
    }
}

/// `sessionState` of the event.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionState {
    /// Passed back unchanged: we never manage Lex contexts, and a response without them
    /// would end the ones the bot set.
    #[serde(default, deserialize_with = "null_default")]
    pub active_contexts: Vec<Box<serde_json::value::RawValue>>,
    #[serde(default, deserialize_with = "null_default")]
    pub session_attributes: HashMap<String, String>,
    #[serde(default)]
    pub intent: Option<LexIntent>,
    #[serde(default)]
    pub originating_request_id: Option<String>,
}

/// An intent with its slots, as Lex sends it, and the JSON it came as.
///
/// The JSON is kept because an intent that is not ours is handed back to Lex exactly as it
/// came (Lex takes the returned intent as its new state): every slot shape, every
/// `resolvedValues`, and fields we do not model.
#[derive(Debug, Clone)]
pub struct LexIntent {
    pub name: String,
    pub slots: HashMap<String, Option<LexSlot>>,
    pub state: Option<String>,
    pub confirmation_state: Option<String>,
    /// The JSON as sent: kept for `sessionState.intent` only, the one Lex may be handed
    /// back (an interpretation is parsed once, without it).
    raw: Option<Box<serde_json::value::RawValue>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntentFields {
    name: String,
    #[serde(default, deserialize_with = "null_default")]
    slots: HashMap<String, Option<LexSlot>>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    confirmation_state: Option<String>,
}

impl<'de> Deserialize<'de> for LexIntent {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<serde_json::value::RawValue>::deserialize(d)?;
        let fields: IntentFields =
            serde_json::from_str(raw.get()).map_err(serde::de::Error::custom)?;
        Ok(Self {
            raw: Some(raw),
            ..fields.into()
        })
    }
}

impl From<IntentFields> for LexIntent {
    fn from(fields: IntentFields) -> Self {
        Self {
            name: fields.name,
            slots: fields.slots,
            state: fields.state,
            confirmation_state: fields.confirmation_state,
            raw: None,
        }
    }
}

/// A filled slot: `Scalar` has a `value`, `List` has `values`, `Composite` has `subSlots`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LexSlot {
    #[serde(default)]
    pub shape: Option<String>,
    #[serde(default)]
    pub value: Option<SlotValue>,
    #[serde(default, deserialize_with = "null_default")]
    pub values: Vec<LexSlot>,
    #[serde(default, deserialize_with = "null_default")]
    pub sub_slots: HashMap<String, Option<LexSlot>>,
}

/// A slot's value; `interpretedValue` is the one to trust.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotValue {
    #[serde(default)]
    pub original_value: Option<String>,
    #[serde(default)]
    pub interpreted_value: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub resolved_values: Vec<String>,
}

impl LexSlot {
    /// The value to use: the interpreted value, else the first resolved or original one; for
    /// a `List` slot, the first item's.
    #[must_use]
    pub fn text(&self) -> Option<String> {
        let own = self.value.as_ref().and_then(|v| {
            v.interpreted_value
                .clone()
                .or_else(|| v.resolved_values.first().cloned())
                .or_else(|| v.original_value.clone())
        });
        own.or_else(|| self.values.iter().find_map(LexSlot::text))
            .filter(|s| !s.trim().is_empty())
    }
}

impl LexEvent {
    /// The intent Lex is working on: `sessionState.intent`, else the top interpretation.
    #[must_use]
    pub fn intent(&self) -> Option<&LexIntent> {
        self.session_state.intent.as_ref().or_else(|| {
            self.top_interpretation
                .as_ref()
                .and_then(Interpretation::intent)
        })
    }

    /// The token the caller sent: the `authorization` request attribute, else the session
    /// attribute of that name (raw or `Bearer <token>`).
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.request_attributes
            .get("authorization")
            .or_else(|| self.session_state.session_attributes.get("authorization"))
            .map(String::as_str)
    }

    /// The channel-neutral turn, for `caller`, with the session `context` opened for them.
    #[must_use]
    pub fn to_turn(&self, caller: crate::auth::Caller, context: SessionContext) -> Turn {
        let lex_intent = self.intent();
        let intent = lex_intent
            .and_then(|i| Intent::parse(&i.name))
            .unwrap_or(Intent::Fallback);
        let mut slots = Slots::new();
        if let Some(i) = lex_intent {
            for (name, slot) in &i.slots {
                if let (Some(slot_name), Some(value)) =
                    (Slot::parse(name), slot.as_ref().and_then(LexSlot::text))
                {
                    slots.insert(slot_name, value);
                }
            }
        }
        let confirmation = match lex_intent.and_then(|i| i.confirmation_state.as_deref()) {
            Some("Confirmed") => Confirmation::Confirmed,
            Some("Denied") => Confirmation::Denied,
            _ => Confirmation::None,
        };
        let voice = matches!(self.input_mode.as_deref(), Some("Speech" | "DTMF"));
        Turn {
            intent,
            slots,
            confirmation,
            context,
            surface: Surface {
                mode: if voice { Mode::Voice } else { Mode::Text },
                platform: self.request_attributes.get(PLATFORM_ATTRIBUTE).cloned(),
            },
            phase: if self.invocation_source == "DialogCodeHook" {
                Phase::Collect
            } else {
                Phase::Fulfil
            },
            transcript: self.input_transcript.clone(),
            locale: self
                .bot
                .as_ref()
                .and_then(|b| b.locale_id.as_deref())
                .unwrap_or("en_US")
                .replace('_', "-"),
            detail: false,
            principal: caller.principal,
            grants: caller.grants,
        }
    }
}

/// A request attribute `/v1/ask` sets when it asks through Lex: with the value `both`, the
/// answer carries the chat text as `PlainText` messages and the speech as one `SSML`
/// message, so the caller gets both from one turn.
pub const FORMS_ATTRIBUTE: &str = "opsvoice:forms";

/// Lex's fulfilment states for `Close`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Fulfilment {
    Fulfilled,
    Failed,
}

/// What Lex should do next. Each variant carries exactly what Lex requires of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialogAction {
    Close(Fulfilment),
    ElicitSlot(String),
    ConfirmIntent,
    Delegate,
    ElicitIntent,
}

/// A message: content is always 1..=1024 UTF-16 units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "contentType")]
pub enum Message {
    PlainText {
        content: String,
    },
    #[serde(rename = "SSML")]
    Ssml {
        content: String,
    },
    ImageResponseCard {
        #[serde(rename = "imageResponseCard")]
        card: ImageResponseCard,
    },
}

impl Message {
    /// Plain text, cut at a word boundary to Lex's limit; `None` if empty.
    #[must_use]
    pub fn plain(text: &str) -> Option<Self> {
        let content = cut_utf16(text.trim(), MAX_MESSAGE);
        (!content.is_empty()).then_some(Message::PlainText { content })
    }

    /// SSML built within Lex's limit.
    #[must_use]
    pub fn ssml(exchange: &Exchange) -> Self {
        // SSML here is ASCII markup plus text; chars >= UTF-16 units only for astral
        // characters, so keep a margin for them.
        let ssml = exchange
            .rendered
            .ssml(Engine::PollyNeural, MAX_MESSAGE - 64, MAX_MESSAGE - 128);
        Message::Ssml {
            content: ssml.into_string(),
        }
    }
}

/// A response card with up to five buttons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageResponseCard {
    pub title: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub buttons: Vec<CardButton>,
}

/// A card button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardButton {
    pub text: String,
    pub value: String,
}

impl ImageResponseCard {
    /// A card from the rendered one, cut to Lex's limits. Buttons whose value would not fit
    /// are left out (a cut value would say something else).
    #[must_use]
    pub fn from_card(card: &Card) -> Option<Self> {
        let title = cut_utf16(&card.title, MAX_CARD_TITLE);
        if title.is_empty() {
            return None;
        }
        Some(Self {
            title,
            subtitle: card
                .subtitle
                .as_deref()
                .map(|s| cut_utf16(s, MAX_CARD_TITLE))
                .filter(|s| !s.is_empty()),
            buttons: card
                .buttons
                .iter()
                .filter(|b| utf16_len(&b.value) <= MAX_BUTTON_CHARS && !b.value.is_empty())
                .map(|b| CardButton {
                    text: cut_utf16(&b.text, MAX_BUTTON_CHARS),
                    value: b.value.clone(),
                })
                .filter(|b| !b.text.is_empty())
                .take(MAX_BUTTONS)
                .collect(),
        })
    }
}

/// The response's intent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseIntent {
    pub name: String,
    pub slots: HashMap<String, Option<ResponseSlot>>,
    pub state: &'static str,
    pub confirmation_state: &'static str,
}

/// A slot in the response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseSlot {
    pub shape: &'static str,
    pub value: ResponseSlotValue,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseSlotValue {
    pub original_value: String,
    pub interpreted_value: String,
    pub resolved_values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
struct WireDialogAction {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    slot_to_elicit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct ResponseSessionState {
    session_attributes: HashMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    active_contexts: Vec<Box<serde_json::value::RawValue>>,
    dialog_action: WireDialogAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    intent: Option<WireIntent>,
}

/// The intent in a response: ours, or someone else's exactly as Lex sent it.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
enum WireIntent {
    Ours(ResponseIntent),
    Verbatim(Box<serde_json::value::RawValue>),
}

impl PartialEq for WireIntent {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (WireIntent::Ours(a), WireIntent::Ours(b)) => a == b,
            (WireIntent::Verbatim(a), WireIntent::Verbatim(b)) => a.get() == b.get(),
            _ => false,
        }
    }
}

impl PartialEq for ResponseSessionState {
    fn eq(&self, other: &Self) -> bool {
        self.session_attributes == other.session_attributes
            && self.dialog_action == other.dialog_action
            && self.intent == other.intent
            && self.active_contexts.len() == other.active_contexts.len()
            && self
                .active_contexts
                .iter()
                .zip(&other.active_contexts)
                .all(|(a, b)| a.get() == b.get())
    }
}

/// A Lex V2 code-hook response. Built by [`LexResponse::new`], which enforces Lex's rules.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LexResponse {
    session_state: ResponseSessionState,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    messages: Vec<Message>,
}

/// Why a response could not be built (a programming error caught by tests, never by users).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InvalidResponse {
    #[error("{0:?} needs at least one message")]
    NeedsMessage(DialogAction),
    #[error("{0:?} needs an intent")]
    NeedsIntent(DialogAction),
}

impl LexResponse {
    /// Builds a response.
    ///
    /// # Errors
    /// When the action lacks what Lex requires of it: `ElicitIntent` and `ConfirmIntent`
    /// need a message; every action but `Delegate` and `ElicitIntent` needs the intent.
    pub fn new(
        action: DialogAction,
        intent: Option<ResponseIntent>,
        session_attributes: HashMap<String, String>,
        mut messages: Vec<Message>,
    ) -> Result<Self, InvalidResponse> {
        messages.truncate(MAX_MESSAGES);
        if matches!(
            action,
            DialogAction::ElicitIntent | DialogAction::ConfirmIntent
        ) && messages.is_empty()
        {
            return Err(InvalidResponse::NeedsMessage(action));
        }
        let intent = match (&action, intent) {
            (DialogAction::ElicitIntent, _) => None,
            (DialogAction::Delegate, intent) => intent,
            (_, None) => return Err(InvalidResponse::NeedsIntent(action)),
            (DialogAction::Close(state), Some(mut intent)) => {
                intent.state = match state {
                    Fulfilment::Fulfilled => "Fulfilled",
                    Fulfilment::Failed => "Failed",
                };
                Some(intent)
            }
            (_, Some(mut intent)) => {
                intent.state = "InProgress";
                Some(intent)
            }
        };
        let (kind, slot_to_elicit) = match &action {
            DialogAction::Close(_) => ("Close", None),
            DialogAction::ElicitSlot(slot) => ("ElicitSlot", Some(slot.clone())),
            DialogAction::ConfirmIntent => ("ConfirmIntent", None),
            DialogAction::Delegate => ("Delegate", None),
            DialogAction::ElicitIntent => ("ElicitIntent", None),
        };
        let mut response = Self {
            session_state: ResponseSessionState {
                session_attributes,
                active_contexts: Vec::new(),
                dialog_action: WireDialogAction {
                    kind,
                    slot_to_elicit,
                },
                intent: intent.map(WireIntent::Ours),
            },
            messages,
        };
        response.fit();
        Ok(response)
    }

    /// Hands an intent that is not ours back to Lex's own dialog management, exactly as
    /// Lex sent it.
    #[must_use]
    pub fn delegate_verbatim(
        intent: &LexIntent,
        session_attributes: HashMap<String, String>,
    ) -> Self {
        let mut response = Self {
            session_state: ResponseSessionState {
                session_attributes,
                active_contexts: Vec::new(),
                dialog_action: WireDialogAction {
                    kind: "Delegate",
                    slot_to_elicit: None,
                },
                intent: Some(match &intent.raw {
                    Some(raw) => WireIntent::Verbatim(raw.clone()),
                    // Only an interpretation lacks its JSON (no `sessionState.intent` was
                    // sent): what Lex understood, as understood.
                    None => WireIntent::Ours(ResponseIntent {
                        name: intent.name.clone(),
                        slots: intent
                            .slots
                            .iter()
                            .map(|(k, v)| {
                                let value = v.as_ref().and_then(LexSlot::text);
                                (k.clone(), value.map(|t| slot_value(&t)))
                            })
                            .collect(),
                        state: "InProgress",
                        confirmation_state: "None",
                    }),
                }),
            },
            messages: Vec::new(),
        };
        response.fit();
        response
    }

    /// Returns the event's active contexts with the response, as they came.
    #[must_use]
    pub fn with_active_contexts(mut self, contexts: &[Box<serde_json::value::RawValue>]) -> Self {
        self.session_state.active_contexts = contexts.to_vec();
        self
    }

    /// The session attributes being returned.
    #[must_use]
    pub fn session_attributes(&self) -> &HashMap<String, String> {
        &self.session_state.session_attributes
    }

    /// The messages being returned.
    #[must_use]
    pub fn messages(&self) -> &[Message] {
        &self.messages
    }

    /// Keeps the response within Lex's quotas: session attributes within 12 KB (shedding
    /// our own repeat buffer first), then the whole within 25 KB (dropping the card, then
    /// trailing messages, never the first).
    fn fit(&mut self) {
        let attrs_bytes = |a: &HashMap<String, String>| -> usize {
            a.iter().map(|(k, v)| attribute_bytes(k, v)).sum()
        };
        // Our context was sealed within what the client's attributes left of the quota
        // (see `session_attributes`); only the client's own can still be too many.
        let attrs = &mut self.session_state.session_attributes;
        if attrs_bytes(attrs) > MAX_SESSION_BYTES {
            attrs.remove(crate::dialog::context::ATTRIBUTE);
            tracing::warn!("session attributes over 12 KB even without our context");
        }
        let size = |r: &Self| {
            let mut counted = ByteCount(0);
            serde_json::to_writer(&mut counted, r).map_or(usize::MAX, |()| counted.0)
        };
        while size(self) > MAX_RESPONSE_BYTES && self.messages.len() > 1 {
            let card = self
                .messages
                .iter()
                .position(|m| matches!(m, Message::ImageResponseCard { .. }));
            match card {
                Some(i) => self.messages.remove(i),
                None => self.messages.pop().unwrap_or(Message::PlainText {
                    content: String::new(),
                }),
            };
        }
    }
}

/// Counts what is written to it: a response's size without building its JSON.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 += bytes.len();
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// What one session attribute counts against Lex's 12 KB: its name, its value, and the
/// JSON around them.
fn attribute_bytes(name: &str, value: &str) -> usize {
    name.len() + value.len() + 6
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Cuts `s` to at most `max` UTF-16 units, at a word boundary with an ellipsis when cut.
fn cut_utf16(s: &str, max: usize) -> String {
    if utf16_len(s) <= max {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut units = 0;
    for c in s.chars() {
        if units + c.len_utf16() > max.saturating_sub(1) {
            break;
        }
        units += c.len_utf16();
        out.push(c);
    }
    if let Some(space) = out.rfind(' ').filter(|i| *i > out.len() / 2) {
        out.truncate(space);
    }
    out.push('…');
    out
}

/// Splits chat text into messages of at most 1024 units, at line breaks where possible.
fn text_messages(text: &str) -> Vec<Message> {
    let mut chunks: Vec<String> = Vec::new();
    for line in text.lines() {
        match chunks.last_mut() {
            Some(last) if utf16_len(last) + 1 + utf16_len(line) <= MAX_MESSAGE => {
                last.push('\n');
                last.push_str(line);
            }
            _ => chunks.push(line.to_owned()),
        }
    }
    chunks.iter().filter_map(|c| Message::plain(c)).collect()
}

impl Assistant {
    /// Answers a Lex V2 code-hook event.
    pub async fn lex(&self, event: &LexEvent) -> LexResponse {
        let arrival = self
            .arrive(
                event.token(),
                &event.session_state.session_attributes,
                |caller, context| event.to_turn(caller, context),
            )
            .await;
        let owner = arrival.owner();
        let turn = &arrival.turn;
        let locale = turn.locale.clone();
        let signed_in = arrival.refusal.is_none();
        let event_intent = event.intent();
        // Someone else's intent in the dialog phase: let Lex's own dialog carry on.
        if let Some(foreign) = event_intent.filter(|i| {
            signed_in && turn.phase == Phase::Collect && Intent::parse(&i.name).is_none()
        }) {
            let attributes = self.session_attributes(event, &turn.context, owner.as_deref());
            return LexResponse::delegate_verbatim(foreign, attributes)
                .with_active_contexts(&event.session_state.active_contexts);
        }
        let voice = turn.surface.mode == Mode::Voice;
        let slack = turn
            .surface
            .platform
            .as_deref()
            .is_some_and(|p| p.eq_ignore_ascii_case("slack"));
        // `/v1/ask` through Lex asks for both: the text to show and the SSML to speak.
        let both = event
            .request_attributes
            .get(FORMS_ATTRIBUTE)
            .is_some_and(|v| v == "both");
        let forms = if both {
            crate::speech::Forms::Both
        } else if voice {
            crate::speech::Forms::Voice
        } else {
            crate::speech::Forms::Text
        };
        let exchange = self.respond(arrival, forms).await;
        let answer = &exchange.answer;
        let mut messages = if both {
            let mut m = text_messages(&exchange.rendered.text);
            m.truncate(MAX_MESSAGES - 1);
            m.push(Message::ssml(&exchange));
            m
        } else if voice {
            vec![Message::ssml(&exchange)]
        } else {
            text_messages(&exchange.rendered.text)
        };
        if !voice
            && slack
            && !both
            && let Some(card) = exchange
                .rendered
                .card
                .as_ref()
                .and_then(ImageResponseCard::from_card)
        {
            messages.truncate(MAX_MESSAGES - 1);
            messages.push(Message::ImageResponseCard { card });
        }
        // The name the bot knows the intent by: the event's own spelling when unchanged.
        let name = match event_intent {
            Some(i) if Intent::parse(&i.name) == Some(answer.intent) => i.name.clone(),
            _ => answer.intent.name().to_owned(),
        };
        let same_intent = event_intent.is_some_and(|i| i.name == name);
        let intent = match event_intent {
            Some(i) if same_intent => echo_intent(i, &name, &answer.slots),
            _ => ResponseIntent {
                name,
                slots: answer
                    .slots
                    .iter()
                    .map(|(k, v)| (k.name().to_owned(), Some(slot_value(v))))
                    .collect(),
                state: "InProgress",
                confirmation_state: "None",
            },
        };
        let action = match answer.next {
            Move::Close => DialogAction::Close(Fulfilment::Fulfilled),
            Move::Fail => DialogAction::Close(Fulfilment::Failed),
            Move::ElicitSlot(slot) => DialogAction::ElicitSlot(slot.name().to_owned()),
            Move::ConfirmIntent => DialogAction::ConfirmIntent,
            Move::ElicitIntent => DialogAction::ElicitIntent,
            Move::Delegate => DialogAction::Delegate,
        };
        let attributes = self.session_attributes(event, &answer.context, exchange.owner.as_deref());
        LexResponse::new(action, Some(intent), attributes, messages)
            .unwrap_or_else(|e| self.unreachable_response(&e, &locale))
            .with_active_contexts(&event.session_state.active_contexts)
    }
}

impl Assistant {
    /// The event's session attributes with our context sealed for `owner`, within what
    /// the client's own attributes leave of Lex's 12 KB (the repeat buffer goes first).
    fn session_attributes(
        &self,
        event: &LexEvent,
        context: &SessionContext,
        owner: Option<&str>,
    ) -> HashMap<String, String> {
        let theirs: usize = event
            .session_state
            .session_attributes
            .iter()
            .filter(|(k, _)| k.as_str() != crate::dialog::context::ATTRIBUTE)
            .map(|(k, v)| attribute_bytes(k, v))
            .sum();
        // What our attribute's name and quoting take, before its value.
        let ours = attribute_bytes(crate::dialog::context::ATTRIBUTE, "");
        let budget = MAX_SESSION_BYTES
            .saturating_sub(theirs)
            .saturating_sub(ours);
        context.merge_into(
            &event.session_state.session_attributes,
            &self.sealer,
            owner,
            budget,
        )
    }
}

/// The event's intent with our resolved slot values written in; slots we left unresolved
/// (or cleared to ask again) are `null`.
fn echo_intent(event: &LexIntent, name: &str, resolved: &Slots) -> ResponseIntent {
    let mut slots: HashMap<String, Option<ResponseSlot>> = event
        .slots
        .keys()
        .map(|k| {
            let value = Slot::parse(k)
                .and_then(|s| resolved.get(&s))
                .map(|t| slot_value(t));
            (k.clone(), value)
        })
        .collect();
    for (slot, value) in resolved {
        slots
            .entry(slot.name().to_owned())
            .or_insert_with(|| Some(slot_value(value)));
    }
    ResponseIntent {
        name: name.to_owned(),
        slots,
        state: "InProgress",
        // A confirmation is used up by the answer it confirmed.
        confirmation_state: "None",
    }
}

fn slot_value(v: &str) -> ResponseSlot {
    ResponseSlot {
        shape: "Scalar",
        value: ResponseSlotValue {
            original_value: v.to_owned(),
            interpreted_value: v.to_owned(),
            resolved_values: vec![v.to_owned()],
        },
    }
}

impl Assistant {
    /// `LexResponse::new` fails only on a programming error; answer with a plain apology.
    fn unreachable_response(&self, error: &InvalidResponse, locale: &str) -> LexResponse {
        tracing::error!(%error, "built an invalid Lex response");
        LexResponse {
            session_state: ResponseSessionState {
                session_attributes: HashMap::new(),
                active_contexts: Vec::new(),
                dialog_action: WireDialogAction {
                    kind: "ElicitIntent",
                    slot_to_elicit: None,
                },
                intent: None,
            },
            messages: Message::plain(&self.renderer.render_message("internal-error", locale))
                .into_iter()
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent() -> ResponseIntent {
        ResponseIntent {
            name: "ServiceHealth".into(),
            slots: HashMap::new(),
            state: "InProgress",
            confirmation_state: "None",
        }
    }

    #[test]
    fn the_top_interpretation_stands_in_for_a_missing_session_intent() {
        let event = |interpretations: &str| {
            serde_json::from_str::<LexEvent>(&format!(
                r#"{{"invocationSource": "DialogCodeHook", "sessionState": {{}} {interpretations}}}"#
            ))
        };
        let top = event(
            r#", "interpretations": [
                {"intent": {"name": "ActiveAlarms", "slots": null}, "nluConfidence": 0.9},
                {"intent": {"name": "FallbackIntent"}, "extra": [1, {"a": null}]},
                {"intent": {"name": "Help"}}]"#,
        )
        .unwrap();
        assert_eq!(top.intent().map(|i| i.name.as_str()), Some("ActiveAlarms"));
        for none in [
            "",
            r#", "interpretations": null"#,
            r#", "interpretations": []"#,
        ] {
            assert!(event(none).unwrap().intent().is_none(), "{none}");
        }
        // A malformed first guess is still an error, and so is broken JSON in the rest.
        assert!(event(r#", "interpretations": [{"intent": 3}]"#).is_err());
        assert!(event(r#", "interpretations": {"intent": {"name": "Help"}}"#).is_err());
        assert!(event(r#", "interpretations": [{"intent": {"name": "Help"}}, ]"#).is_err());
    }

    #[test]
    fn the_builder_refuses_what_lex_would_reject() {
        assert_eq!(
            LexResponse::new(DialogAction::ElicitIntent, None, HashMap::new(), vec![]),
            Err(InvalidResponse::NeedsMessage(DialogAction::ElicitIntent))
        );
        assert_eq!(
            LexResponse::new(
                DialogAction::Close(Fulfilment::Fulfilled),
                None,
                HashMap::new(),
                vec![]
            ),
            Err(InvalidResponse::NeedsIntent(DialogAction::Close(
                Fulfilment::Fulfilled
            )))
        );
        let ok = LexResponse::new(
            DialogAction::Close(Fulfilment::Failed),
            Some(intent()),
            HashMap::new(),
            vec![],
        )
        .unwrap();
        let json = serde_json::to_value(&ok).unwrap();
        assert_eq!(json["sessionState"]["intent"]["state"], "Failed");
        assert_eq!(json["sessionState"]["dialogAction"]["type"], "Close");
    }

    #[test]
    fn messages_and_cards_are_cut_to_lex_limits() {
        let long = "word ".repeat(400);
        let Some(Message::PlainText { content }) = Message::plain(&long) else {
            panic!("expected text");
        };
        assert!(utf16_len(&content) <= MAX_MESSAGE);
        assert!(content.ends_with('…'));
        let card = Card {
            title: "t".repeat(300),
            subtitle: None,
            buttons: (0..8)
                .map(|i| crate::speech::render::Button {
                    text: format!("button {i} {}", "x".repeat(60)),
                    value: if i == 0 {
                        "v".repeat(51)
                    } else {
                        format!("value {i}")
                    },
                })
                .collect(),
        };
        let card = ImageResponseCard::from_card(&card).unwrap();
        assert!(utf16_len(&card.title) <= MAX_CARD_TITLE);
        assert_eq!(card.buttons.len(), MAX_BUTTONS);
        assert!(
            card.buttons
                .iter()
                .all(|b| utf16_len(&b.text) <= 50 && b.value.len() <= 50)
        );
        assert_eq!(
            card.buttons[0].value, "value 1",
            "an overlong value is left out, not cut"
        );
    }

    #[test]
    fn oversized_responses_shed_trailing_messages() {
        let messages: Vec<Message> = (0..12)
            .map(|_| Message::plain(&"x".repeat(5000)).unwrap())
            .collect();
        let mut attrs = HashMap::new();
        attrs.insert("big".to_owned(), "y".repeat(11 * 1024));
        let response = LexResponse::new(
            DialogAction::Close(Fulfilment::Fulfilled),
            Some(intent()),
            attrs,
            messages,
        )
        .unwrap();
        assert!(serde_json::to_vec(&response).unwrap().len() <= MAX_RESPONSE_BYTES);
        assert!(!response.messages().is_empty());
    }

    #[test]
    fn confidence_is_read_as_a_number_or_a_score() {
        let n: Confidence = serde_json::from_str("0.8").unwrap();
        let s: Confidence = serde_json::from_str(r#"{"score": 0.8}"#).unwrap();
        assert_eq!(n.value(), s.value());
    }
}
