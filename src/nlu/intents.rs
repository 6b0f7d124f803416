//! The conversation model as written in `intents/*.toml`: its types, how the embedded files
//! are parsed, the rules every intent keeps, and the samples two intents would share.

use std::collections::HashSet;

use serde::Deserialize;

use super::tokens::{canonical, tokens};
use crate::vocab::{Intent, Slot};

pub use crate::embedded::{BUILTINS_FILE, INTENT_FILES, OUT_OF_DOMAIN_FILE};

/// Each custom intent needs at least this many sample utterances.
pub const MIN_SAMPLES: usize = 12;

/// One slot of an intent definition.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct SlotDef {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    pub prompt: String,
}

/// One intent of the conversation model, as written in `intents/<Name>.toml`.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct IntentDef {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub slots: Vec<SlotDef>,
    pub samples: Vec<String>,
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
        };
        let err = validate("x.toml", &def, false).unwrap_err().to_string();
        assert!(err.contains("not a slot"), "{err}");
    }
}
