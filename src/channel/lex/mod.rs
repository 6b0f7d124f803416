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
//!
//! `event` holds the wire types in, `response` the wire types out; this file answers one
//! event with the other.

mod event;
mod response;

use std::collections::HashMap;

use super::Assistant;
use crate::dialog::{Intent, Mode, Move, Phase, SessionContext};

pub use event::{
    Bot, Confidence, FORMS_ATTRIBUTE, Interpretation, LexEvent, LexIntent, LexSlot,
    PLATFORM_ATTRIBUTE, SessionState, SlotValue,
};
pub use response::{
    CardButton, DialogAction, Fulfilment, ImageResponseCard, InvalidResponse, LexResponse,
    MAX_BUTTON_CHARS, MAX_BUTTONS, MAX_CARD_TITLE, MAX_MESSAGE, MAX_MESSAGES, MAX_RESPONSE_BYTES,
    MAX_SESSION_BYTES, Message, ResponseIntent, ResponseSlot, ResponseSlotValue,
};
use response::{attribute_bytes, echo_intent, slot_value, text_messages};

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

impl Assistant {
    /// `LexResponse::new` fails only on a programming error; answer with a plain apology.
    fn unreachable_response(&self, error: &InvalidResponse, locale: &str) -> LexResponse {
        tracing::error!(%error, "built an invalid Lex response");
        LexResponse::apology(Message::plain(
            &self.renderer.render_message("internal-error", locale),
        ))
    }
}
