//! The Lex V2 code-hook event, as Lex sends it: lenient wire types (unknown fields ignored,
//! `null` taken as missing, every slot shape, `nluConfidence` as a number or `{score}`) and
//! the channel-neutral [`Turn`] made from one.

use std::collections::HashMap;

use serde::Deserialize;

use crate::channel::null_default;
use crate::dialog::{
    Confirmation, Intent, Mode, Phase, SessionContext, Slot, Slots, Surface, Turn,
};

/// The request attribute naming the channel (e.g. `Slack`).
pub const PLATFORM_ATTRIBUTE: &str = "x-amz-lex:channels:platform";

/// A request attribute `/v1/ask` sets when it asks through Lex: with the value `both`, the
/// answer carries the chat text as `PlainText` messages and the speech as one `SSML`
/// message, so the caller gets both from one turn.
pub const FORMS_ATTRIBUTE: &str = "opsvoice:forms";

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
    pub(super) raw: Option<Box<serde_json::value::RawValue>>,
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
            session: self.session_id.as_deref().map(|id| format!("lex:{id}")),
            origin: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn confidence_is_read_as_a_number_or_a_score() {
        let n: Confidence = serde_json::from_str("0.8").unwrap();
        let s: Confidence = serde_json::from_str(r#"{"score": 0.8}"#).unwrap();
        assert_eq!(n.value(), s.value());
    }
}
