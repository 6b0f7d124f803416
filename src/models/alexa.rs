//! The Alexa interaction model (`interactionModel.languageModel`, `dialog`, `prompts`), as
//! the ASK CLI keeps it in `skill-package/interactionModels/custom/<locale>.json`.
//!
//! The dialog model is what lets the webhook answer with `Dialog.ElicitSlot`: each required
//! slot has an elicitation prompt, the Fluent message the webhook would speak; and with
//! `Dialog.ConfirmIntent`: each action intent requires confirmation, with a prompt. Delegation
//! is `SKILL_RESPONSE`: the webhook, not Alexa, decides every turn.

use serde_json::{Value, json};

use super::{Options, Source};
use crate::nlu::SlotDef;

/// The built-in intents the skill declares. `AMAZON.NavigateHomeIntent` is required in
/// every custom skill; the others are ones the webhook handles.
const BUILTINS: &[&str] = &[
    "AMAZON.CancelIntent",
    "AMAZON.FallbackIntent",
    "AMAZON.HelpIntent",
    "AMAZON.MoreIntent",
    "AMAZON.NavigateHomeIntent",
    "AMAZON.NoIntent",
    "AMAZON.RepeatIntent",
    "AMAZON.StopIntent",
    "AMAZON.YesIntent",
];

/// The Alexa type of a slot type in `intents/`: Alexa's own `AMAZON.DURATION` (ISO 8601,
/// `PT30M`) and `AMAZON.NUMBER` for times and counts.
pub fn slot_type_name(kind: &str) -> &str {
    match kind {
        "Duration" => "AMAZON.DURATION",
        "Number" => "AMAZON.NUMBER",
        other => other,
    }
}

/// What a user may answer when asked for the slot.
fn slot_samples(slot: &SlotDef) -> Vec<String> {
    let s = &slot.name;
    match slot.kind.as_str() {
        "ServiceName" => vec![format!("{{{s}}}"), format!("the {{{s}}} service")],
        "ClusterName" => vec![
            format!("{{{s}}}"),
            format!("the {{{s}}} cluster"),
            format!("in {{{s}}}"),
        ],
        "AlarmName" => vec![format!("{{{s}}}"), format!("the {{{s}}} alarm")],
        "AccountName" => vec![
            format!("{{{s}}}"),
            format!("the {{{s}}} account"),
            format!("in {{{s}}}"),
        ],
        "RegionName" => vec![format!("{{{s}}}"), format!("in {{{s}}}")],
        // A window is "the last hour"; a silence lasts "for an hour".
        "Duration" if slot.name == "window" => {
            vec![format!("{{{s}}}"), format!("the last {{{s}}}")]
        }
        "Duration" => vec![format!("{{{s}}}"), format!("for {{{s}}}")],
        "Number" => vec![
            format!("{{{s}}}"),
            format!("{{{s}}} tasks"),
            format!("to {{{s}}}"),
        ],
        _ => vec![format!("{{{s}}}")],
    }
}

fn prompt_id(intent: &str, slot: &str) -> String {
    format!("Elicit.Slot.{intent}.{slot}")
}

fn confirmation_id(intent: &str) -> String {
    format!("Confirm.Intent.{intent}")
}

/// The interaction model for [`super::LOCALE`].
#[must_use]
pub fn model(source: &Source, options: &Options) -> Value {
    let mut intents: Vec<Value> = source
        .intents
        .iter()
        .map(|def| {
            json!({
                "name": def.name,
                "slots": def.slots.iter().map(|slot| json!({
                    "name": slot.name,
                    "type": slot_type_name(&slot.kind),
                    "samples": slot_samples(slot),
                })).collect::<Vec<_>>(),
                "samples": def.samples,
            })
        })
        .collect();
    intents.extend(
        BUILTINS
            .iter()
            .map(|name| json!({ "name": name, "samples": [] })),
    );
    let types: Vec<Value> = source
        .types
        .iter()
        .map(|kind| {
            json!({
                "name": kind.name,
                "values": kind.values.iter().map(|v| {
                    let mut name = json!({ "value": v.value });
                    if !v.synonyms.is_empty() {
                        name["synonyms"] = json!(v.synonyms);
                    }
                    json!({ "id": v.id, "name": name })
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let mut prompts = Vec::new();
    let dialog_intents: Vec<Value> = source
        .intents
        .iter()
        .filter(|def| !def.slots.is_empty())
        .map(|def| {
            let slots: Vec<Value> = def
                .slots
                .iter()
                .map(|slot| {
                    let mut entry = json!({
                        "name": slot.name,
                        "type": slot_type_name(&slot.kind),
                        "confirmationRequired": false,
                        "elicitationRequired": slot.required,
                        "prompts": {},
                    });
                    if slot.required {
                        let id = prompt_id(&def.name, &slot.name);
                        entry["prompts"] = json!({ "elicitation": id });
                        prompts.push(json!({
                            "id": id,
                            "variations": [{ "type": "PlainText", "value": source.prompt(&slot.prompt) }],
                        }));
                    }
                    entry
                })
                .collect();
            // An action is confirmed before it is taken. The webhook reads it back in its
            // own words (`Dialog.ConfirmIntent`); this prompt is Alexa's fallback text.
            let mut prompts_of_intent = json!({});
            if let Some(confirm) = &def.confirm {
                let id = confirmation_id(&def.name);
                prompts_of_intent = json!({ "confirmation": id });
                prompts.push(json!({
                    "id": id,
                    "variations": [{ "type": "PlainText", "value": confirm.prompt }],
                }));
            }
            json!({
                "name": def.name,
                "delegationStrategy": "SKILL_RESPONSE",
                "confirmationRequired": def.confirm.is_some(),
                "prompts": prompts_of_intent,
                "slots": slots,
            })
        })
        .collect();
    json!({
        "interactionModel": {
            "languageModel": {
                "invocationName": options.invocation_name,
                "intents": intents,
                "types": types,
            },
            "dialog": {
                "delegationStrategy": "SKILL_RESPONSE",
                "intents": dialog_intents,
            },
            "prompts": prompts,
        }
    })
}
