//! The conversation model as written in `intents/*.toml`: its types, how the embedded files
//! are parsed, the rules every intent keeps, and the samples two intents would share.

use std::collections::HashSet;

use serde::Deserialize;

use super::tokens::{canonical, tokens};
use crate::embedded::Orders;
use crate::vocab::{Intent, Slot};

pub use crate::embedded::{BUILTINS_FILE, INTENT_FILES, ORDERS_FILE, OUT_OF_DOMAIN_FILE};

/// Each custom intent needs at least this many sample utterances.
pub const MIN_SAMPLES: usize = 12;

/// The intents that change something (DESIGN §7): each confirmed before it acts, and never
/// what a question is taken for.
pub const ACTION_INTENTS: [Intent; 5] = [
    Intent::RestartService,
    Intent::RollbackService,
    Intent::ScaleService,
    Intent::SilenceAlarm,
    Intent::UnsilenceAlarm,
];

/// One slot of an intent definition. Unknown keys are refused, so a misspelt one is not
/// silently ignored.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SlotDef {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    pub prompt: String,
    /// The local matcher takes words no sample uses for this slot's value, when the intent
    /// has none ("how is frobnicator doing": a service no catalog has yet). At most one
    /// slot of an intent. The matcher's alone: Lex and Alexa never see it.
    #[serde(default)]
    pub guess: bool,
}

/// One intent of the conversation model, as written in `intents/<Name>.toml`. Unknown keys
/// are refused.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct IntentDef {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub slots: Vec<SlotDef>,
    pub samples: Vec<String>,
    /// The verbs of an order (only in [`ORDERS_FILE`]): the matcher's and the
    /// UnsupportedAction answer's; Lex and Alexa never see them.
    #[serde(default)]
    pub orders: Option<Orders>,
    /// What Lex and Alexa ask before an action is taken, and say when it is declined (every
    /// one of [`ACTION_INTENTS`], and only those).
    #[serde(default)]
    pub confirm: Option<Confirm>,
}

/// An action intent's confirmation, as the generated Lex bot and Alexa model carry it. The
/// code hook reads the action back in its own words every time; these are the platforms'
/// fallback text. `{slot}` references are filled in by the platform.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// The yes-or-no question ("Restart {service}?").
    pub prompt: String,
    /// What is said on a no.
    pub declined: String,
}

#[derive(Debug, Deserialize)]
struct Builtins {
    intent: Vec<IntentDef>,
}

/// Why the conversation model is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{file}: {source}")]
    Parse {
        file: String,
        #[source]
        source: toml::de::Error,
    },
    #[error("{file}: {problem}")]
    Invalid { file: String, problem: String },
}

/// Parses the embedded model: the custom intents, then the built-ins.
///
/// # Errors
/// A file that does not parse or breaks a rule of [`validate`].
pub fn embedded_model() -> Result<Vec<IntentDef>, ModelError> {
    let mut defs = Vec::new();
    for (file, source) in INTENT_FILES {
        let def: IntentDef = toml::from_str(source).map_err(|source| ModelError::Parse {
            file: (*file).to_owned(),
            source,
        })?;
        validate(file, &def, true)?;
        defs.push(def);
    }
    let builtins: Builtins = toml::from_str(BUILTINS_FILE).map_err(|source| ModelError::Parse {
        file: "builtins.toml".to_owned(),
        source,
    })?;
    for def in builtins.intent {
        validate("builtins.toml", &def, false)?;
        defs.push(def);
    }
    Ok(defs)
}

/// The out-of-domain examples: one request per line; blank lines and `#` comments skipped.
#[must_use]
pub fn out_of_domain() -> Vec<&'static str> {
    OUT_OF_DOMAIN_FILE
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

/// Checks one intent: a known name, enough samples, typed slots with known names, and
/// every placeholder in a sample declared as a slot.
///
/// # Errors
/// The first rule broken, naming the file.
pub fn validate(file: &str, def: &IntentDef, custom: bool) -> Result<(), ModelError> {
    let invalid = |problem: String| ModelError::Invalid {
        file: file.to_owned(),
        problem,
    };
    if Intent::parse(&def.name).is_none() {
        return Err(invalid(format!("unknown intent name `{}`", def.name)));
    }
    if custom && def.samples.len() < MIN_SAMPLES {
        return Err(invalid(format!(
            "{} has {} samples; at least {MIN_SAMPLES} are needed",
            def.name,
            def.samples.len()
        )));
    }
    for slot in &def.slots {
        if Slot::parse(&slot.name).is_none() {
            return Err(invalid(format!("unknown slot `{}`", slot.name)));
        }
        if slot.kind.trim().is_empty() {
            return Err(invalid(format!("slot `{}` has no type", slot.name)));
        }
    }
    let guessed: Vec<&str> = def
        .slots
        .iter()
        .filter(|s| s.guess)
        .map(|s| s.name.as_str())
        .collect();
    if guessed.len() > 1 {
        return Err(invalid(format!(
            "slots `{}` are all `guess = true`; words no sample uses can be guessed as one slot only",
            guessed.join("`, `")
        )));
    }
    if let Some(orders) = &def.orders {
        if Intent::parse(&def.name) != Some(Intent::UnsupportedAction) {
            return Err(invalid(format!(
                "`[orders]` belongs in {ORDERS_FILE}, not in {}",
                def.name
            )));
        }
        validate_orders(orders).map_err(invalid)?;
    }
    let acts = Intent::parse(&def.name).is_some_and(|i| ACTION_INTENTS.contains(&i));
    match (&def.confirm, acts) {
        (None, true) => {
            return Err(invalid(format!(
                "{} acts, so it needs a `[confirm]` prompt and declined answer",
                def.name
            )));
        }
        (Some(_), false) => {
            return Err(invalid(format!(
                "{} only answers, so it takes no `[confirm]`",
                def.name
            )));
        }
        (Some(confirm), true) => {
            if !confirm.prompt.trim_end().ends_with('?') || confirm.declined.trim().is_empty() {
                return Err(invalid(format!(
                    "{}: `[confirm]` needs a prompt that asks (ends with `?`) and a declined answer",
                    def.name
                )));
            }
            // The platform fills a reference from a slot it has: a required one.
            for placeholder in placeholders(&confirm.prompt) {
                if !def
                    .slots
                    .iter()
                    .any(|s| s.name == placeholder && s.required)
                {
                    return Err(invalid(format!(
                        "{}: the confirmation prompt uses `{{{placeholder}}}`, which is not a required slot",
                        def.name
                    )));
                }
            }
        }
        (None, false) => {}
    }
    let mut seen = HashSet::new();
    for sample in &def.samples {
        if !seen.insert(sample.to_lowercase()) {
            return Err(invalid(format!("duplicate sample `{sample}`")));
        }
        for placeholder in placeholders(sample) {
            if !def.slots.iter().any(|s| s.name == placeholder) {
                return Err(invalid(format!(
                    "sample `{sample}` uses `{{{placeholder}}}`, which is not a slot of {}",
                    def.name
                )));
            }
        }
    }
    Ok(())
}

/// Checks the verbs of an order: each a lowercase word (they are matched against words),
/// listed once; phrases in lowercase (matched against what was said, lowercased); and every
/// action known by something.
fn validate_orders(orders: &Orders) -> Result<(), String> {
    let mut verbs = HashSet::new();
    let all = orders
        .acting_verbs
        .iter()
        .chain(orders.actions.iter().flat_map(|a| &a.verbs));
    for verb in all {
        if verb.is_empty() || !verb.chars().all(|c| c.is_lowercase() || c.is_ascii_digit()) {
            return Err(format!(
                "order verb `{verb}` is not one lowercase word, so no request would match it"
            ));
        }
        if !verbs.insert(verb) {
            return Err(format!("order verb `{verb}` is listed twice"));
        }
    }
    for action in &orders.actions {
        if !action.answer.starts_with("action-") {
            return Err(format!(
                "action answer `{}` is not an `action-*` message",
                action.answer
            ));
        }
        if let Some(intent) = &action.intent {
            let acts = Intent::parse(intent).is_some_and(|i| ACTION_INTENTS.contains(&i));
            if !acts {
                return Err(format!(
                    "action `{}` names intent `{intent}`, which is not one of {}",
                    action.answer,
                    ACTION_INTENTS.map(Intent::name).join(", ")
                ));
            }
        }
        if action.verbs.is_empty() && action.phrases.is_empty() {
            return Err(format!(
                "action `{}` has no verbs and no phrases",
                action.answer
            ));
        }
        if let Some(phrase) = action
            .phrases
            .iter()
            .find(|p| p.trim().is_empty() || p.to_lowercase() != **p)
        {
            return Err(format!(
                "action `{}` has phrase `{phrase}`, which is blank or not lowercase",
                action.answer
            ));
        }
    }
    Ok(())
}

fn placeholders(sample: &str) -> Vec<&str> {
    sample
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

/// Pairs of samples in different intents that the matcher cannot tell apart (the same
/// normalised words): `(intent, sample, other intent, other sample)`.
#[must_use]
pub fn overlaps(defs: &[IntentDef]) -> Vec<(String, String, String, String)> {
    let mut seen: Vec<(&str, &str, Vec<String>)> = Vec::new();
    let mut out = Vec::new();
    for def in defs {
        for sample in &def.samples {
            let mut words = canonical(&tokens(sample));
            words.sort();
            words.dedup();
            for (name, other, other_words) in &seen {
                if *name != def.name && *other_words == words {
                    out.push((
                        (*name).to_owned(),
                        (*other).to_owned(),
                        def.name.clone(),
                        sample.clone(),
                    ));
                }
            }
            seen.push((&def.name, sample, words));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_model_is_valid() {
        let defs = embedded_model().expect("valid");
        // Every question intent in the registry has its intents/ file, and no file is for
        // an intent the registry lacks (a count of 7 was hard-coded before the registry).
        let questions: Vec<Intent> = defs
            .iter()
            .filter_map(|d| Intent::parse(&d.name))
            .filter(|i| Intent::QUESTIONS.contains(i))
            .collect();
        assert_eq!(questions.len(), Intent::QUESTIONS.len());
        for intent in Intent::QUESTIONS {
            assert!(questions.contains(&intent), "no intents/{intent}.toml");
        }
        assert!(questions.len() >= 7);
    }

    #[test]
    fn a_sample_with_an_undeclared_slot_is_rejected() {
        let def = IntentDef {
            name: "ServiceHealth".into(),
            description: String::new(),
            slots: vec![],
            samples: vec!["how is {service}".into()],
            orders: None,
            confirm: None,
        };
        let err = validate("x.toml", &def, false).unwrap_err().to_string();
        assert!(err.contains("not a slot"), "{err}");
    }

    /// The intent a test file defines, parsed and checked as `intents/` files are.
    fn checked(source: &str) -> Result<IntentDef, String> {
        let def: IntentDef = toml::from_str(source).map_err(|e| e.to_string())?;
        validate("x.toml", &def, false).map_err(|e| e.to_string())?;
        Ok(def)
    }

    #[test]
    fn a_guessed_slot_is_one_slot_of_an_intent_and_a_misspelt_key_is_refused() {
        let slots = |service: &str, cluster: &str| {
            format!(
                "name = \"ServiceHealth\"\nsamples = [\"how is {{service}}\"]\nslots = [\n\
                 {{ name = \"service\", type = \"ServiceName\", prompt = \"ask-service\"{service} }},\n\
                 {{ name = \"cluster\", type = \"ClusterName\", prompt = \"ask-cluster\"{cluster} }},\n]"
            )
        };
        let def = checked(&slots(", guess = true", "")).expect("one guessed slot");
        assert!(def.slots[0].guess && !def.slots[1].guess);
        let err = checked(&slots(", guess = true", ", guess = true")).unwrap_err();
        assert!(err.contains("one slot only"), "{err}");
        let err = checked(&slots(", gues = true", "")).unwrap_err();
        assert!(err.contains("unknown field `gues`"), "{err}");
    }

    #[test]
    fn every_action_and_only_an_action_is_confirmed_with_its_own_slots() {
        let file = |name: &str, confirm: &str| {
            format!(
                "name = \"{name}\"\nsamples = [\"restart {{service}}\"]\nslots = [\n\
                 {{ name = \"service\", type = \"ServiceName\", required = true, prompt = \"ask-service\" }},\n\
                 {{ name = \"cluster\", type = \"ClusterName\", prompt = \"ask-cluster\" }},\n]\n{confirm}"
            )
        };
        let confirm =
            |prompt: &str| format!("[confirm]\nprompt = \"{prompt}\"\ndeclined = \"Okay.\"");
        let def = checked(&file("RestartService", &confirm("Restart {service}?"))).expect("valid");
        assert_eq!(def.confirm.expect("confirm").prompt, "Restart {service}?");
        for (name, table, problem) in [
            ("RestartService", String::new(), "needs a `[confirm]`"),
            (
                "ServiceHealth",
                confirm("Restart {service}?"),
                "takes no `[confirm]`",
            ),
            (
                "RestartService",
                confirm("Restart {service}."),
                "ends with `?`",
            ),
            (
                "RestartService",
                confirm("Restart {service} in {cluster}?"),
                "`{cluster}`",
            ),
        ] {
            let err = checked(&file(name, &table)).unwrap_err();
            assert!(err.contains(problem), "{table}: {err}");
        }
    }

    #[test]
    fn order_verbs_are_single_words_listed_once_and_only_for_unsupported_actions() {
        let file = |name: &str, orders: &str| {
            format!("name = \"{name}\"\nsamples = [\"restart it\"]\n[orders]\n{orders}")
        };
        let def = checked(&file(
            "UnsupportedAction",
            "acting_verbs = [\"open\"]\n[[orders.actions]]\nanswer = \"action-restart\"\nverbs = [\"restart\"]",
        ))
        .expect("valid orders");
        assert_eq!(def.orders.expect("orders").actions[0].verbs, ["restart"]);
        for (name, orders, problem) in [
            (
                "ServiceHealth",
                "acting_verbs = [\"open\"]",
                "belongs in UnsupportedAction.toml",
            ),
            (
                "UnsupportedAction",
                "acting_verbs = [\"roll back\"]",
                "not one lowercase word",
            ),
            (
                "UnsupportedAction",
                "acting_verbs = [\"Open\"]",
                "not one lowercase word",
            ),
            (
                "UnsupportedAction",
                "acting_verbs = [\"open\", \"open\"]",
                "listed twice",
            ),
            (
                "UnsupportedAction",
                "[[orders.actions]]\nanswer = \"restart\"\nverbs = [\"restart\"]",
                "not an `action-*` message",
            ),
            (
                "UnsupportedAction",
                "[[orders.actions]]\nanswer = \"action-restart\"",
                "no verbs and no phrases",
            ),
            (
                "UnsupportedAction",
                "[[orders.actions]]\nanswer = \"action-restart\"\nphrases = [\"Roll Back\"]",
                "not lowercase",
            ),
            (
                "UnsupportedAction",
                "[[orders.actions]]\nanswer = \"action-restart\"\nverb = [\"restart\"]",
                "unknown field `verb`",
            ),
            (
                "UnsupportedAction",
                "[[orders.actions]]\nanswer = \"action-restart\"\nintent = \"ServiceHealth\"\nverbs = [\"restart\"]",
                "not one of RestartService",
            ),
        ] {
            let err = checked(&file(name, orders)).unwrap_err();
            assert!(err.contains(problem), "{orders}: {err}");
        }
    }
}
