//! The Lex V2 code-hook response, written so that it can only be valid: a
//! [`DialogAction`] carries exactly what its type requires, [`Message`] content is always
//! 1..=1024 UTF-16 units, cards and buttons are cut to Lex's limits, and the whole response
//! fits the 25 KB Lambda output quota (12 KB of it session attributes).

use std::collections::HashMap;

use serde::Serialize;

use super::event::{LexIntent, LexSlot};
use crate::channel::Exchange;
use crate::dialog::{Slot, Slots};
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
    /// The answer when a response could not be built (a programming error): `ElicitIntent`
    /// with `message` and nothing else, which Lex always accepts.
    pub(super) fn apology(message: Option<Message>) -> Self {
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
            messages: message.into_iter().collect(),
        }
    }

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
pub(super) fn attribute_bytes(name: &str, value: &str) -> usize {
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
pub(super) fn text_messages(text: &str) -> Vec<Message> {
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

/// The event's intent with our resolved slot values written in; slots we left unresolved
/// (or cleared to ask again) are `null`.
pub(super) fn echo_intent(event: &LexIntent, name: &str, resolved: &Slots) -> ResponseIntent {
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

pub(super) fn slot_value(v: &str) -> ResponseSlot {
    ResponseSlot {
        shape: "Scalar",
        value: ResponseSlotValue {
            original_value: v.to_owned(),
            interpreted_value: v.to_owned(),
            resolved_values: vec![v.to_owned()],
        },
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
}
