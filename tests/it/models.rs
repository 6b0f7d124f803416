//! `opsvoice models build`: the generated Lex V2 import and Alexa interaction model follow
//! the documented structures, carry every intent, slot and sample of `intents/`, and are
//! byte-identical across runs.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use serde_json::Value;

use opsvoice::nlu::{IntentDef, embedded_model};

fn build(out: &Path, extra: &[&str]) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_opsvoice"))
        .args(["models", "build", "--out"])
        .arg(out)
        .args(extra)
        .env_remove("OPSVOICE_BACKEND")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "models build failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn read_tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(root).unwrap().to_string_lossy();
                out.insert(relative.replace('\\', "/"), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn json(files: &BTreeMap<String, Vec<u8>>, path: &str) -> Value {
    let bytes = files
        .get(path)
        .unwrap_or_else(|| panic!("{path} is missing"));
    serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{path} is not JSON: {e}"))
}

/// The intents that act (DESIGN §7, and "unsilence"): confirmed before they are taken.
const ACTIONS: [&str; 5] = [
    "RestartService",
    "RollbackService",
    "ScaleService",
    "SilenceAlarm",
    "UnsilenceAlarm",
];

fn custom_intents() -> Vec<IntentDef> {
    embedded_model()
        .unwrap()
        .into_iter()
        .filter(|d| !d.name.contains('.'))
        .collect()
}

fn str_of<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("`{key}` is not a string in {v}"))
}

/// Lex V2 names: letters and digits, with single `_` or `-` between them.
fn is_lex_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && !name.contains("__")
        && !name.contains("--")
}

#[test]
fn two_builds_are_byte_identical() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let said = build(a.path(), &[]);
    assert!(said.contains("lex.zip"), "{said}");
    build(b.path(), &[]);
    let (ta, tb) = (read_tree(a.path()), read_tree(b.path()));
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (path, bytes) in &ta {
        assert!(bytes == &tb[path], "{path} differs between two builds");
    }
    // A rebuild over an earlier output leaves nothing stale behind.
    std::fs::create_dir_all(a.path().join("lex/stale")).unwrap();
    std::fs::write(a.path().join("lex/stale/Old.json"), b"{}").unwrap();
    build(a.path(), &[]);
    assert_eq!(read_tree(a.path()), ta);
}

#[test]
fn the_lex_import_follows_the_lexjson_layout_and_carries_every_intent() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), &["--bot-name", "OpsDesk"]);
    let files = read_tree(dir.path());
    let manifest = json(&files, "lex/manifest.json");
    assert_eq!(manifest["metadata"]["fileFormat"], "LexJson");
    assert_eq!(manifest["metadata"]["schemaVersion"], "1.0");
    assert_eq!(manifest["metadata"]["resourceType"], "Bot");
    let bot = json(&files, "lex/OpsDesk/Bot.json");
    assert_eq!(bot["name"], "OpsDesk");
    assert!(bot["dataPrivacy"]["childDirected"].is_boolean());
    assert!(bot["idleSessionTTLInSeconds"].as_u64().unwrap() >= 60);
    let locale_dir = "lex/OpsDesk/BotLocales/en_US";
    let locale = json(&files, &format!("{locale_dir}/BotLocale.json"));
    assert_eq!(locale["identifier"], "en_US");
    assert!(locale["voiceSettings"]["voiceId"].is_string());
    let threshold = locale["nluConfidenceThreshold"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&threshold));

    let types: BTreeSet<String> = files
        .keys()
        .filter_map(|k| k.strip_prefix(&format!("{locale_dir}/SlotTypes/")))
        .map(|rest| rest.split('/').next().unwrap().to_owned())
        .collect();
    assert_eq!(
        types,
        [
            "AccountName",
            "AlarmName",
            "ClusterName",
            "MetricName",
            "RegionName",
            "ServiceName"
        ]
        .map(String::from)
        .into()
    );
    for name in &types {
        let t = json(
            &files,
            &format!("{locale_dir}/SlotTypes/{name}/SlotType.json"),
        );
        assert_eq!(str_of(&t, "name"), name);
        let values = t["slotTypeValues"].as_array().unwrap();
        assert!(!values.is_empty(), "{name} has values");
        for v in values {
            let value = v["sampleValue"]["value"].as_str().unwrap();
            assert!((1..=140).contains(&value.chars().count()), "{value}");
            if let Some(synonyms) = v["synonyms"].as_array() {
                assert!(synonyms.iter().all(|s| s["value"].is_string()));
            }
        }
        let strategy = str_of(&t["valueSelectionSetting"], "resolutionStrategy");
        assert!(["ORIGINAL_VALUE", "TOP_RESOLUTION"].contains(&strategy));
    }
    // The demo fleet's names are the values.
    let services = json(
        &files,
        &format!("{locale_dir}/SlotTypes/ServiceName/SlotType.json"),
    );
    let values: Vec<&str> = services["slotTypeValues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["sampleValue"]["value"].as_str().unwrap())
        .collect();
    assert!(values.contains(&"checkout"), "{values:?}");
    assert!(values.contains(&"payments api"), "{values:?}");

    for def in custom_intents() {
        let path = format!("{locale_dir}/Intents/{}/Intent.json", def.name);
        let intent = json(&files, &path);
        assert_eq!(str_of(&intent, "name"), def.name);
        assert!(is_lex_name(&def.name));
        let utterances: Vec<&str> = intent["sampleUtterances"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["utterance"].as_str().unwrap())
            .collect();
        assert_eq!(utterances, def.samples, "{} samples", def.name);
        assert_eq!(intent["dialogCodeHook"]["enabled"], true);
        assert_eq!(intent["fulfillmentCodeHook"]["enabled"], true);
        // Exactly the actions are confirmed, with a question and an answer to a no (the
        // code hook asks with its own read-back; these are Lex's fallback text).
        let confirmation = &intent["intentConfirmationSetting"];
        if ACTIONS.contains(&def.name.as_str()) {
            assert_eq!(confirmation["isActive"], true, "{}", def.name);
            let prompt = &confirmation["promptSpecification"];
            let asked = prompt["messageGroupsList"][0]["message"]["plainTextMessage"]["value"]
                .as_str()
                .unwrap();
            assert!(asked.ends_with('?'), "{}: {asked}", def.name);
            assert!(prompt["maxRetries"].as_u64().is_some());
            for guide_only in ["messageGroupList", "messageGroups"] {
                assert!(prompt.get(guide_only).is_none(), "{}", def.name);
            }
            let declined = confirmation["declinationResponse"]["messageGroupsList"][0]["message"]
                ["plainTextMessage"]["value"]
                .as_str()
                .unwrap();
            assert!(!declined.is_empty(), "{}", def.name);
            // Every slot it names is one Lex elicits first.
            for slot in def
                .slots
                .iter()
                .filter(|s| asked.contains(&format!("{{{}}}", s.name)))
            {
                assert!(slot.required, "{}: {asked}", def.name);
            }
        } else {
            assert!(confirmation.is_null(), "{} is confirmed", def.name);
        }
        let priorities = intent["slotPriorities"].as_array().unwrap();
        assert_eq!(priorities.len(), def.slots.len());
        let ranks: BTreeSet<u64> = priorities
            .iter()
            .map(|p| p["priority"].as_u64().unwrap())
            .collect();
        assert_eq!(ranks.len(), def.slots.len(), "distinct priorities");
        for slot in &def.slots {
            assert!(
                priorities
                    .iter()
                    .any(|p| p["slotName"] == slot.name.as_str()),
                "{} prioritises {}",
                def.name,
                slot.name
            );
            let s = json(
                &files,
                &format!(
                    "{locale_dir}/Intents/{}/Slots/{}/Slot.json",
                    def.name, slot.name
                ),
            );
            assert_eq!(str_of(&s, "name"), slot.name);
            let kind = str_of(&s, "slotTypeName");
            assert!(
                types.contains(kind) || ["AMAZON.Duration", "AMAZON.Number"].contains(&kind),
                "{}.{} has type {kind}",
                def.name,
                slot.name
            );
            // A time is Lex's duration, a count its number: resolved by Lex, not listed.
            match slot.name.as_str() {
                "window" | "duration" => assert_eq!(kind, "AMAZON.Duration"),
                "count" => assert_eq!(kind, "AMAZON.Number"),
                _ => {}
            }
            // Defect: the Lex guide's spelling (`slotValueElicitationSetting`, a top-level
            // `slotConstraint`, `messageGroupList`), which no real export uses.
            for guide_only in [
                "slotValueElicitationSetting",
                "slotConstraint",
                "defaultValueSpec",
            ] {
                assert!(
                    s.get(guide_only).is_none(),
                    "{}.{}: {guide_only}",
                    def.name,
                    slot.name
                );
            }
            let elicitation = &s["valueElicitationSetting"];
            assert_eq!(
                str_of(elicitation, "slotConstraint"),
                if slot.required {
                    "Required"
                } else {
                    "Optional"
                }
            );
            let prompt = &elicitation["promptSpecification"];
            assert!(prompt.get("messageGroupList").is_none());
            let text = prompt["messageGroupsList"][0]["message"]["plainTextMessage"]["value"]
                .as_str()
                .unwrap();
            assert!(text.ends_with('?'), "a question: {text}");
            assert!(prompt["maxRetries"].as_u64().is_some());
        }
    }
    for (name, parent) in [
        ("HelpIntent", Some("AMAZON.HelpIntent")),
        ("StopIntent", Some("AMAZON.StopIntent")),
        ("CancelIntent", Some("AMAZON.CancelIntent")),
        ("RepeatIntent", Some("AMAZON.RepeatIntent")),
        ("FallbackIntent", Some("AMAZON.FallbackIntent")),
        ("MoreIntent", None),
        ("YesIntent", None),
        ("NoIntent", None),
    ] {
        let intent = json(&files, &format!("{locale_dir}/Intents/{name}/Intent.json"));
        assert_eq!(intent["parentIntentSignature"].as_str(), parent, "{name}");
        if parent.is_none() {
            assert!(!intent["sampleUtterances"].as_array().unwrap().is_empty());
        }
        // Each reaches the webhook, which maps the Lex name back to the intent.
        assert!(opsvoice::dialog::Intent::parse(name).is_some(), "{name}");
    }

    // The zip holds exactly the directory's files, same bytes, manifest at the root.
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(files["lex.zip"].clone())).unwrap();
    let mut zipped = BTreeMap::new();
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        zipped.insert(format!("lex/{}", entry.name().unwrap()), bytes);
    }
    let directory: BTreeMap<String, Vec<u8>> = files
        .iter()
        .filter(|(k, _)| k.starts_with("lex/"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(zipped, directory);
}

#[test]
fn the_alexa_model_has_every_intent_slot_sample_and_prompt() {
    let dir = tempfile::tempdir().unwrap();
    build(dir.path(), &["--invocation-name", "ops room"]);
    let files = read_tree(dir.path());
    let model = json(&files, "alexa/en-US.json");
    let language = &model["interactionModel"]["languageModel"];
    assert_eq!(language["invocationName"], "ops room");
    let intents = language["intents"].as_array().unwrap();
    let types: BTreeMap<&str, &Value> = language["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (str_of(t, "name"), t))
        .collect();
    for t in types.values() {
        let values = t["values"].as_array().unwrap();
        assert!(!values.is_empty());
        let mut ids = BTreeSet::new();
        for v in values {
            assert!(ids.insert(str_of(v, "id")), "ids are unique");
            let value = str_of(&v["name"], "value");
            assert!(!value.is_empty());
        }
    }
    let mut all_samples = BTreeSet::new();
    for def in custom_intents() {
        let intent = intents
            .iter()
            .find(|i| i["name"] == def.name.as_str())
            .unwrap_or_else(|| panic!("{} missing", def.name));
        let samples: Vec<&str> = intent["samples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(samples, def.samples);
        for s in &samples {
            assert!(all_samples.insert(s.to_lowercase()), "`{s}` used twice");
            assert!(!s.chars().any(|c| c.is_ascii_digit()), "`{s}` has digits");
        }
        let slots = intent["slots"].as_array().unwrap();
        assert_eq!(slots.len(), def.slots.len());
        for slot in &def.slots {
            let s = slots
                .iter()
                .find(|s| s["name"] == slot.name.as_str())
                .unwrap();
            let kind = str_of(s, "type");
            assert!(
                types.contains_key(kind) || ["AMAZON.DURATION", "AMAZON.NUMBER"].contains(&kind),
                "{kind}"
            );
            match slot.name.as_str() {
                "window" | "duration" => assert_eq!(kind, "AMAZON.DURATION"),
                "count" => assert_eq!(kind, "AMAZON.NUMBER"),
                _ => {}
            }
            for sample in s["samples"].as_array().unwrap() {
                assert!(
                    sample
                        .as_str()
                        .unwrap()
                        .contains(&format!("{{{}}}", slot.name))
                );
            }
        }
    }
    for required in [
        "AMAZON.CancelIntent",
        "AMAZON.HelpIntent",
        "AMAZON.StopIntent",
        "AMAZON.NavigateHomeIntent",
        "AMAZON.FallbackIntent",
        "AMAZON.RepeatIntent",
        "AMAZON.MoreIntent",
        "AMAZON.YesIntent",
        "AMAZON.NoIntent",
    ] {
        assert!(intents.iter().any(|i| i["name"] == required), "{required}");
    }

    // Every required slot has an elicitation prompt, and every prompt it names exists.
    let prompts: BTreeMap<&str, &Value> = model["interactionModel"]["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (str_of(p, "id"), p))
        .collect();
    let dialog = &model["interactionModel"]["dialog"];
    assert_eq!(dialog["delegationStrategy"], "SKILL_RESPONSE");
    assert_eq!(
        opsvoice::nlu::ACTION_INTENTS.map(|i| i.name()),
        ACTIONS,
        "the actions are the matcher's"
    );
    // Exactly the actions require confirmation, each with a prompt of its own.
    let dialog_intents = dialog["intents"].as_array().unwrap();
    let confirmed: BTreeSet<&str> = dialog_intents
        .iter()
        .filter(|i| i["confirmationRequired"] == true)
        .map(|i| str_of(i, "name"))
        .collect();
    assert_eq!(confirmed, ACTIONS.into_iter().collect());
    for i in dialog_intents {
        let name = str_of(i, "name");
        let id = i["prompts"]["confirmation"].as_str();
        if !confirmed.contains(name) {
            assert!(id.is_none(), "{name}");
            continue;
        }
        let id = id.unwrap_or_else(|| panic!("{name} has no confirmation prompt"));
        assert!(id.starts_with("Confirm.Intent."), "{id}");
        let variation = &prompts[id]["variations"][0];
        assert_eq!(variation["type"], "PlainText");
        assert!(str_of(variation, "value").ends_with('?'), "{name}");
    }
    for def in custom_intents() {
        for slot in def.slots.iter().filter(|s| s.required) {
            let d = dialog["intents"]
                .as_array()
                .unwrap()
                .iter()
                .find(|i| i["name"] == def.name.as_str())
                .unwrap();
            let s = d["slots"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == slot.name.as_str())
                .unwrap();
            assert_eq!(s["elicitationRequired"], true);
            let id = str_of(&s["prompts"], "elicitation");
            let variation = &prompts[id]["variations"][0];
            assert_eq!(variation["type"], "PlainText");
            assert!(str_of(variation, "value").ends_with('?'));
        }
    }
}

#[test]
fn bad_names_are_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_opsvoice"))
        .args(["models", "build", "--out"])
        .arg(dir.path())
        .args(["--invocation-name", "Ops"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("invocation name `Ops`"), "{err}");
    assert!(!dir.path().join("lex").exists(), "nothing half-written");
}
