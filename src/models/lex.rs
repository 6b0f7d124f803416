//! The Lex V2 bot in the LexJson import layout (Lex V2 developer guide, "JSON format for
//! importing and exporting bots"):
//!
//! ```text
//! manifest.json
//! <Bot>/Bot.json
//! <Bot>/BotLocales/en_US/BotLocale.json
//! <Bot>/BotLocales/en_US/Intents/<Intent>/Intent.json
//! <Bot>/BotLocales/en_US/Intents/<Intent>/Slots/<Slot>/Slot.json
//! <Bot>/BotLocales/en_US/SlotTypes/<Type>/SlotType.json
//! ```
//!
//! Every intent, built-ins included, calls the code hook for dialog and fulfilment, so the
//! webhook decides every turn. Built-ins Lex knows (help, stop, cancel, repeat, fallback)
//! are declared by their parent signature; "more", "yes" and "no" are custom intents with the
//! samples from `builtins.toml`. Two places where the guide's example differs from the
//! CreateSlot API: it spells `allowMutlipleValues`; we write the API's `allowMultipleValues`.

use std::io::Write;

use serde_json::{Value, json};

use super::{BuildError, Options, Source, identifier, to_json};
use crate::nlu::Confirm;

/// The Lex locale id for our samples' locale.
pub const LOCALE_ID: &str = "en_US";

/// The Lex name and parent signature of each built-in intent Lex provides.
const LEX_BUILTINS: &[(&str, &str)] = &[
    ("AMAZON.HelpIntent", "HelpIntent"),
    ("AMAZON.StopIntent", "StopIntent"),
    ("AMAZON.CancelIntent", "CancelIntent"),
    ("AMAZON.RepeatIntent", "RepeatIntent"),
];

/// Lex's name for one of our intents: `AMAZON.MoreIntent` becomes the custom `MoreIntent`.
#[must_use]
pub fn intent_name(name: &str) -> &str {
    name.strip_prefix("AMAZON.").unwrap_or(name)
}

/// The Lex type of a slot type in `intents/`. Times are Lex's own `AMAZON.Duration`, which
/// hears "half an hour" and "ninety minutes" alike and sends ISO 8601 (`PT30M`), the form
/// `parse_window` and `parse_duration` read first; counts are `AMAZON.Number` ("twelve" is
/// `12`). A custom type would have to list every way to say a time or a number.
pub fn slot_type_name(kind: &str) -> &str {
    match kind {
        "Duration" => "AMAZON.Duration",
        "Number" => "AMAZON.Number",
        other => other,
    }
}

fn plain_message(text: &str) -> Value {
    json!({
        "message": {
            "plainTextMessage": { "value": text },
            "ssmlMessage": null,
            "customPayload": null,
            "imageResponseCard": null
        },
        "variations": null
    })
}

/// An action intent's confirmation: the question Lex asks before fulfilment and what it says
/// on a no. The code hook answers every turn and asks with its own read-back
/// (`ConfirmIntent`), so these are Lex's fallback text; `{slot}` references are Lex's own.
/// Spelt as real exports spell a prompt (`promptSpecification.messageGroupsList`, as in
/// every Slot.json) and a response (`messageGroupsList`, `allowInterrupt`), with `isActive`
/// as exports say it for a code hook; CloudFormation's `IntentConfirmationSetting` has the
/// same fields (`PromptSpecification`, `DeclinationResponse`, `IsActive`).
fn confirmation(confirm: Option<&Confirm>) -> Value {
    let Some(confirm) = confirm else {
        return Value::Null;
    };
    json!({
        "promptSpecification": {
            "messageGroupsList": [plain_message(&confirm.prompt)],
            "maxRetries": 2,
            "allowInterrupt": true,
            "messageSelectionStrategy": "Random"
        },
        "declinationResponse": {
            "messageGroupsList": [plain_message(&confirm.declined)],
            "allowInterrupt": true
        },
        "isActive": true
    })
}

fn intent(
    name: &str,
    description: &str,
    parent: Option<&str>,
    samples: &[String],
    slots: &[String],
    confirm: Option<&Confirm>,
) -> Value {
    // Lex's fallback intent takes a fulfilment code hook only.
    let dialog_hook = parent != Some("AMAZON.FallbackIntent");
    json!({
        "name": name,
        "identifier": identifier("intent", name),
        "description": description,
        "parentIntentSignature": parent,
        "sampleUtterances": if parent.is_some() {
            Value::Null
        } else {
            samples.iter().map(|s| json!({ "utterance": s })).collect()
        },
        "dialogCodeHook": { "enabled": dialog_hook },
        "fulfillmentCodeHook": { "enabled": true },
        "intentConfirmationSetting": confirmation(confirm),
        "intentClosingSetting": null,
        "inputContexts": null,
        "outputContexts": null,
        "kendraConfiguration": null,
        "slotPriorities": slots
            .iter()
            .enumerate()
            .map(|(i, slot)| json!({ "slotName": slot, "priority": i + 1 }))
            .collect::<Vec<_>>(),
    })
}

/// The bot's files, by path inside the import (no leading directory).
#[must_use]
pub fn files(source: &Source, options: &Options) -> super::Files {
    let bot = &options.bot_name;
    let locale_dir = format!("{bot}/BotLocales/{LOCALE_ID}");
    let mut out = super::Files::new();
    out.insert(
        "manifest.json".to_owned(),
        to_json(&json!({
            "metadata": { "schemaVersion": "1.0", "fileFormat": "LexJson", "resourceType": "Bot" }
        })),
    );
    out.insert(
        format!("{bot}/Bot.json"),
        to_json(&json!({
            "name": bot,
            "identifier": identifier("bot", bot),
            "version": "DRAFT",
            "description": "opsvoice: ask about ECS services and CloudWatch alarms",
            "dataPrivacy": { "childDirected": false },
            "idleSessionTTLInSeconds": 300
        })),
    );
    out.insert(
        format!("{locale_dir}/BotLocale.json"),
        to_json(&json!({
            "name": "English (US)",
            "identifier": LOCALE_ID,
            "version": "DRAFT",
            "description": "Generated by opsvoice models build from intents/",
            "voiceSettings": { "voiceId": options.voice, "engine": options.engine },
            "nluConfidenceThreshold": 0.4
        })),
    );
    for def in &source.intents {
        let slots: Vec<String> = def.slots.iter().map(|s| s.name.clone()).collect();
        out.insert(
            format!("{locale_dir}/Intents/{}/Intent.json", def.name),
            to_json(&intent(
                &def.name,
                &def.description,
                None,
                &def.samples,
                &slots,
                def.confirm.as_ref(),
            )),
        );
        for slot in &def.slots {
            out.insert(
                format!(
                    "{locale_dir}/Intents/{}/Slots/{}/Slot.json",
                    def.name, slot.name
                ),
                // The spelling of real exports, not the Lex V2 guide's format page (whose
                // `slotValueElicitationSetting`, top-level `slotConstraint` and
                // `messageGroupList` no export uses). Checked against bots exported by the
                // Lex console: aws/lex-helper `examples/sample_airline_bot/lex-export/LexBot/
                // BotLocales/en_US/Intents/TrackBaggage/Slots/ReservationNumber/Slot.json`,
                // and sown1606/FastAIBookingWeb `infra/aws/lex/FastAIBookingBot-v7/
                // BotLocales/en_US/Intents/BookAppointmentIntent/Slots/customerPhone/Slot.json`;
                // CloudFormation's AWS::Lex::Bot spells them the same (ValueElicitationSetting
                // holding SlotConstraint, PromptSpecification.MessageGroupsList).
                to_json(&json!({
                    "name": slot.name,
                    "identifier": identifier("slot", &format!("{}/{}", def.name, slot.name)),
                    "description": format!("The {} {} asks about", slot.name, def.name),
                    "multipleValuesSetting": { "allowMultipleValues": false },
                    "slotTypeName": slot_type_name(&slot.kind),
                    "obfuscationSetting": null,
                    "valueElicitationSetting": {
                        "slotConstraint": if slot.required { "Required" } else { "Optional" },
                        "promptSpecification": {
                            "messageGroupsList": [plain_message(source.prompt(&slot.prompt))],
                            "maxRetries": 2,
                            "allowInterrupt": true,
                            "messageSelectionStrategy": "Random"
                        },
                        "defaultValueSpecification": null,
                        "sampleUtterances": null,
                        "slotCaptureSetting": null,
                        "waitAndContinueSpecification": null
                    }
                })),
            );
        }
    }
    for def in &source.builtins {
        let lex_builtin = LEX_BUILTINS.iter().find(|(ours, _)| *ours == def.name);
        let (name, parent) = match lex_builtin {
            Some((ours, lex)) => (*lex, Some(*ours)),
            None => (intent_name(&def.name), None),
        };
        out.insert(
            format!("{locale_dir}/Intents/{name}/Intent.json"),
            to_json(&intent(
                name,
                &def.description,
                parent,
                &def.samples,
                &[],
                None,
            )),
        );
    }
    out.insert(
        format!("{locale_dir}/Intents/FallbackIntent/Intent.json"),
        to_json(&intent(
            "FallbackIntent",
            "Anything the bot does not understand",
            Some("AMAZON.FallbackIntent"),
            &[],
            &[],
            None,
        )),
    );
    for kind in &source.types {
        out.insert(
            format!("{locale_dir}/SlotTypes/{}/SlotType.json", kind.name),
            to_json(&json!({
                "name": kind.name,
                "identifier": identifier("slotType", kind.name),
                "description": kind.description,
                "slotTypeValues": kind.values.iter().map(|v| json!({
                    "sampleValue": { "value": v.value },
                    "synonyms": if v.synonyms.is_empty() {
                        Value::Null
                    } else {
                        v.synonyms.iter().map(|s| json!({ "value": s })).collect()
                    }
                })).collect::<Vec<_>>(),
                "parentSlotTypeSignature": null,
                "valueSelectionSetting": {
                    "resolutionStrategy": if kind.closed { "TOP_RESOLUTION" } else { "ORIGINAL_VALUE" },
                    "regexFilter": null
                }
            })),
        );
    }
    out
}

/// The import zip: the same files, in path order, with fixed times and permissions.
///
/// # Errors
/// Only if the in-memory archive cannot be written.
pub fn zip(files: &super::Files) -> Result<Vec<u8>, BuildError> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (path, bytes) in files {
        writer.start_file(path.as_str(), options)?;
        writer.write_all(bytes).map_err(zip::result::ZipError::Io)?;
    }
    Ok(writer.finish()?.into_inner())
}
