//! `opsvoice models build`: the Lex V2 bot and the Alexa interaction model, generated from
//! the conversation model in `intents/` and the prompts in `prompts/`.
//!
//! `intents/` is the single source: the names, slots and sample utterances that Lex and
//! Alexa are trained on are the ones the local matcher uses, and the slot prompts are the
//! Fluent messages the webhook speaks. Slot values (service, cluster and alarm names) come
//! from a [`Vocabulary`]: the demo fleet, or a live backend.
//!
//! Output is deterministic: JSON objects are written with sorted keys, lists in a fixed
//! order, identifiers derived from names, and the zip with fixed times and permissions, so
//! two builds from the same input are byte-identical and a diff shows what changed.

pub mod alexa;
pub mod lex;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::nlu::{IntentDef, ModelError};
use crate::ops::{Catalog, MetricKind};
use crate::speech::Renderer;
use crate::speech::render::spoken_name;

/// The locale the sample utterances in `intents/` are written in.
pub const LOCALE: &str = "en-US";

/// The custom slot types `intents/` may use, and the built-ins `Duration` (a window, a
/// silence's length) and `Number` (a count of tasks).
pub const SLOT_TYPES: &[&str] = &[
    "ServiceName",
    "ClusterName",
    "AlarmName",
    "MetricName",
    "AccountName",
    "RegionName",
    "Duration",
    "Number",
];

/// The longest slot value Lex accepts, in characters.
const MAX_VALUE_CHARS: usize = 140;

/// The names the slots can take.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vocabulary {
    pub services: BTreeSet<String>,
    pub clusters: BTreeSet<String>,
    pub alarms: BTreeSet<String>,
    /// The configured accounts' spoken names (none without an accounts file).
    pub accounts: BTreeSet<String>,
}

impl Vocabulary {
    /// The names in a catalog and an alarm listing.
    #[must_use]
    pub fn new(catalog: &Catalog, alarms: impl IntoIterator<Item = String>) -> Self {
        Self {
            services: catalog.services.iter().map(|s| s.name.clone()).collect(),
            clusters: catalog.clusters.iter().cloned().collect(),
            alarms: alarms.into_iter().collect(),
            accounts: catalog
                .services
                .iter()
                .filter_map(|s| s.place.as_ref().map(|p| p.account.clone()))
                .collect(),
        }
    }
}

/// Reads the names from a data source: the demo fleet, or ECS and CloudWatch.
///
/// # Errors
/// When the source cannot list its services or alarms.
pub async fn vocabulary(
    ops: &dyn crate::ops::OpsSource,
) -> Result<Vocabulary, crate::ops::OpsError> {
    let catalog = ops.catalog().await?;
    let alarms = ops.all_alarms().await?;
    Ok(Vocabulary::new(
        &catalog,
        alarms.into_iter().map(|a| a.name),
    ))
}

/// Names and voice for the generated models.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The Lex bot's name (letters, digits, `_` and `-`; at most 100 characters).
    pub bot_name: String,
    /// What users say to open the Alexa skill ("Alexa, ask ops desk ...").
    pub invocation_name: String,
    /// The Polly voice and engine Lex speaks with.
    pub voice: String,
    pub engine: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            bot_name: "opsvoice".to_owned(),
            invocation_name: "ops desk".to_owned(),
            voice: "Joanna".to_owned(),
            engine: "neural".to_owned(),
        }
    }
}

/// Why the models could not be generated or written.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("the conversation model is invalid: {0}")]
    Model(#[from] ModelError),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the Lex zip: {0}")]
    Zip(#[from] zip::result::ZipError),
}

/// One value of a custom slot type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeValue {
    /// The exact name (what the webhook looks up), used as Alexa's value id.
    pub id: String,
    /// The value as spoken.
    pub value: String,
    /// Other ways to say it.
    pub synonyms: Vec<String>,
}

/// A custom slot type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotType {
    pub name: &'static str,
    pub description: &'static str,
    pub values: Vec<TypeValue>,
    /// Only the listed values are accepted (metrics); names are open, because services and
    /// alarms come and go between model builds and the webhook resolves them itself.
    pub closed: bool,
}

/// Everything both generators need, checked once.
#[derive(Debug, Clone)]
pub struct Source {
    /// The custom intents, in `intents/` order.
    pub intents: Vec<IntentDef>,
    /// The built-ins that have samples of their own in `builtins.toml`.
    pub builtins: Vec<IntentDef>,
    pub types: Vec<SlotType>,
    /// Slot prompt id -> the prompt's text.
    pub prompts: BTreeMap<String, String>,
}

impl Source {
    /// Checks the model against the prompts and the platforms' rules for utterances.
    ///
    /// # Errors
    /// A slot of an unknown type, a prompt id missing from the prompts, or a sample
    /// utterance that Lex or Alexa would reject.
    pub fn new(
        defs: &[IntentDef],
        vocabulary: &Vocabulary,
        renderer: &Renderer,
    ) -> Result<Self, BuildError> {
        let mut intents = Vec::new();
        let mut builtins = Vec::new();
        let mut prompts = BTreeMap::new();
        for def in defs {
            if def.name.contains('.') {
                builtins.push(def.clone());
            } else {
                intents.push(def.clone());
            }
            for sample in &def.samples {
                check_utterance(&def.name, sample)?;
            }
            for slot in &def.slots {
                if !SLOT_TYPES.contains(&slot.kind.as_str()) {
                    return Err(BuildError::Invalid(format!(
                        "{}: slot `{}` has type `{}`; the known types are {}",
                        def.name,
                        slot.name,
                        slot.kind,
                        SLOT_TYPES.join(", ")
                    )));
                }
                if !renderer.has_message(&slot.prompt, LOCALE) {
                    return Err(BuildError::Invalid(format!(
                        "{}: slot `{}` uses prompt `{}`, which is not a message in prompts/{LOCALE}",
                        def.name, slot.name, slot.prompt
                    )));
                }
                let text = renderer.render_message(&slot.prompt, LOCALE);
                if text.contains("{$") {
                    return Err(BuildError::Invalid(format!(
                        "{}: slot `{}` uses prompt `{}`, which needs arguments; a slot prompt is spoken as is",
                        def.name, slot.name, slot.prompt
                    )));
                }
                // The webhook elicits a slot with `ask-<slot>`; Lex and Alexa must ask the
                // same question, and never another slot's.
                let own = format!("ask-{}", slot.name);
                if slot.prompt != own {
                    let asks = slot
                        .prompt
                        .strip_prefix("ask-")
                        .map_or(String::new(), |other| format!(", which asks for `{other}`"));
                    return Err(BuildError::Invalid(format!(
                        "{}: slot `{}` uses prompt `{}`{asks}; a slot is prompted with `{own}`",
                        def.name, slot.name, slot.prompt
                    )));
                }
                prompts.insert(slot.prompt.clone(), text);
            }
            // The UnsupportedAction answer names an action by its message; Lex and Alexa
            // never see these, but a missing one would only show when it is spoken.
            for action in def.orders.iter().flat_map(|o| &o.actions) {
                if !renderer.has_message(&action.answer, LOCALE) {
                    return Err(BuildError::Invalid(format!(
                        "{}: action answer `{}` is not a message in prompts/{LOCALE}",
                        def.name, action.answer
                    )));
                }
            }
        }
        Ok(Self {
            intents,
            builtins,
            types: slot_types(vocabulary),
            prompts,
        })
    }

    /// The prompt text for a slot's prompt id.
    #[must_use]
    pub fn prompt(&self, id: &str) -> &str {
        self.prompts.get(id).map_or("", String::as_str)
    }
}

/// A sample utterance must be words (letters, apostrophes, periods of abbreviations) and
/// `{slot}` references: Alexa rejects digits and other punctuation in samples.
fn check_utterance(intent: &str, sample: &str) -> Result<(), BuildError> {
    let mut rest = sample;
    let mut plain = String::new();
    while let Some(open) = rest.find('{') {
        plain.push_str(&rest[..open]);
        plain.push(' ');
        rest = rest[open..].split_once('}').map_or("", |(_, after)| after);
    }
    plain.push_str(rest);
    if let Some(bad) = plain
        .chars()
        .find(|c| !(c.is_alphabetic() || *c == ' ' || *c == '\'' || *c == '.'))
    {
        return Err(BuildError::Invalid(format!(
            "{intent}: sample `{sample}` contains `{bad}`; samples may only use letters, spaces, \
             apostrophes, periods and {{slot}} references (spell numbers out)"
        )));
    }
    if sample.trim().is_empty() || sample.chars().count() > 200 {
        return Err(BuildError::Invalid(format!(
            "{intent}: sample `{sample}` must be 1 to 200 characters"
        )));
    }
    Ok(())
}

/// How a name is said: separators become spaces, symbols become words, and anything else
/// that is not a letter, digit or apostrophe is dropped.
#[must_use]
pub fn speakable(raw: &str) -> String {
    let mut out = String::new();
    for c in spoken_name(raw).chars() {
        match c {
            '&' => out.push_str(" and "),
            '%' => out.push_str(" percent "),
            '>' => out.push_str(" over "),
            '<' => out.push_str(" under "),
            '+' => out.push_str(" plus "),
            '@' => out.push_str(" at "),
            '=' => out.push_str(" equals "),
            c if c.is_alphanumeric() || c == '\'' => out.extend(c.to_lowercase()),
            _ => out.push(' '),
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    let mut joined = String::new();
    for word in words {
        if joined.chars().count() + 1 + word.chars().count() > MAX_VALUE_CHARS {
            break;
        }
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(word);
    }
    joined
}

/// Each region the dialog knows by a place, its code spoken ("eu west 1") and the places
/// as synonyms ("ireland", "dublin").
fn region_values() -> Vec<TypeValue> {
    let mut values: Vec<TypeValue> = Vec::new();
    for (place, code) in crate::dialog::scope::REGION_PLACES {
        match values.iter_mut().find(|v| v.id == *code) {
            Some(value) => value.synonyms.push((*place).to_owned()),
            None => values.push(TypeValue {
                id: (*code).to_owned(),
                value: speakable(code),
                synonyms: vec![(*place).to_owned()],
            }),
        }
    }
    values
}

fn name_values(names: &BTreeSet<String>, generic: &str) -> Vec<TypeValue> {
    let mut values: Vec<TypeValue> = Vec::new();
    let mut taken = BTreeSet::new();
    for name in names {
        let spoken = speakable(name);
        if spoken.is_empty() || !taken.insert(spoken.clone()) {
            continue;
        }
        let plain = name.to_lowercase().replace(['-', '_', '.', '/'], " ");
        let synonyms: Vec<String> = [plain]
            .into_iter()
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|s| *s != spoken && !s.is_empty() && speakable(s) == *s)
            .collect();
        values.push(TypeValue {
            id: name.clone(),
            value: spoken,
            synonyms,
        });
    }
    if values.is_empty() {
        // Both platforms need at least one value; the webhook still resolves any name.
        values.push(TypeValue {
            id: generic.to_owned(),
            value: generic.to_owned(),
            synonyms: Vec::new(),
        });
    }
    values
}

/// The custom slot types for `vocabulary`.
#[must_use]
pub fn slot_types(vocabulary: &Vocabulary) -> Vec<SlotType> {
    let metrics = MetricKind::ALL
        .iter()
        .map(|m| TypeValue {
            id: m.slot_value().to_owned(),
            value: m.slot_value().to_owned(),
            synonyms: m
                .synonyms()
                .iter()
                .filter(|s| speakable(s) == **s && **s != m.slot_value())
                .map(|s| (*s).to_owned())
                .collect(),
        })
        .collect();
    vec![
        SlotType {
            name: "ServiceName",
            description: "ECS service names",
            values: name_values(&vocabulary.services, "service"),
            closed: false,
        },
        SlotType {
            name: "ClusterName",
            description: "ECS cluster names",
            values: name_values(&vocabulary.clusters, "cluster"),
            closed: false,
        },
        SlotType {
            name: "AlarmName",
            description: "CloudWatch alarm names",
            values: name_values(&vocabulary.alarms, "alarm"),
            closed: false,
        },
        SlotType {
            name: "MetricName",
            description: "Metrics that can be asked about",
            values: metrics,
            closed: true,
        },
        SlotType {
            name: "AccountName",
            description: "The configured AWS accounts, by their spoken names",
            values: name_values(&vocabulary.accounts, "account"),
            closed: false,
        },
        SlotType {
            name: "RegionName",
            description: "AWS regions, by code or by the place they serve (and areas, such as Europe)",
            values: region_values(),
            closed: false,
        },
    ]
}

/// The generated files: path (relative to the output directory, `/`-separated) -> bytes.
pub type Files = BTreeMap<String, Vec<u8>>;

/// Generates every file: `lex/` (the LexJson layout), `lex.zip` and `alexa/<locale>.json`.
///
/// # Errors
/// An invalid model (see [`Source::new`]) or a zip that cannot be built.
pub fn build(
    defs: &[IntentDef],
    vocabulary: &Vocabulary,
    renderer: &Renderer,
    options: &Options,
) -> Result<Files, BuildError> {
    check_options(options)?;
    let source = Source::new(defs, vocabulary, renderer)?;
    let mut files = Files::new();
    let lex = lex::files(&source, options);
    files.insert("lex.zip".to_owned(), lex::zip(&lex)?);
    for (path, bytes) in lex {
        files.insert(format!("lex/{path}"), bytes);
    }
    files.insert(
        format!("alexa/{LOCALE}.json"),
        to_json(&alexa::model(&source, options)),
    );
    Ok(files)
}

fn check_options(options: &Options) -> Result<(), BuildError> {
    let bot = &options.bot_name;
    if bot.is_empty()
        || bot.len() > 100
        || !bot
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(BuildError::Invalid(format!(
            "bot name `{bot}` must be 1 to 100 letters, digits, `_` or `-`"
        )));
    }
    let invocation = &options.invocation_name;
    let words = invocation.split(' ').count();
    if invocation.len() < 2
        || invocation.len() > 50
        || words < 2
        || !invocation
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == ' ' || c == '\'' || c == '.')
    {
        return Err(BuildError::Invalid(format!(
            "invocation name `{invocation}` must be two or more lowercase words (letters, \
             spaces, apostrophes and periods), 2 to 50 characters"
        )));
    }
    Ok(())
}

/// Pretty JSON with a trailing newline. `serde_json`'s map keeps keys sorted, which is
/// what makes the output stable.
fn to_json(value: &serde_json::Value) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// A stable 10-character identifier for a named resource, as Lex exports carry.
fn identifier(kind: &str, name: &str) -> String {
    // FNV-1a: stable across Rust versions and platforms, unlike `DefaultHasher`.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in kind.bytes().chain([0]).chain(name.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    (0..10)
        .map(|i| {
            let digit = (hash >> (i * 6)) % 36;
            char::from(ALPHABET[usize::try_from(digit).unwrap_or(0)])
        })
        .collect()
}

/// Writes `files` under `out`, replacing what an earlier build left in `lex/` and `alexa/`
/// so nothing stale survives. Files are written next to their destination and renamed,
/// so a reader never sees half a file.
///
/// # Errors
/// A directory or file that cannot be created or replaced.
pub fn write(out: &Path, files: &Files) -> Result<(), BuildError> {
    let fail = |path: &Path| {
        let path = path.display().to_string();
        move |source| BuildError::Write { path, source }
    };
    for dir in ["lex", "alexa"] {
        let dir = out.join(dir);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(fail(&dir))?;
        }
    }
    for (relative, bytes) in files {
        let path = out.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(fail(parent))?;
        }
        let temporary = path.with_extension("partial");
        std::fs::write(&temporary, bytes).map_err(fail(&temporary))?;
        std::fs::rename(&temporary, &path).map_err(fail(&path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_speakable_values() {
        assert_eq!(speakable("payments-api"), "payments api");
        assert_eq!(
            speakable("shipping carrier timeouts > 5% & \"rising\""),
            "shipping carrier timeouts over 5 percent and rising"
        );
        assert_eq!(speakable("ml_scoring"), "ml scoring");
        assert!(speakable(&"x".repeat(300)).chars().count() <= MAX_VALUE_CHARS);
    }

    #[test]
    fn identifiers_are_stable_and_distinct() {
        assert_eq!(identifier("intent", "A"), identifier("intent", "A"));
        assert_ne!(identifier("intent", "A"), identifier("slot", "A"));
        assert_eq!(identifier("intent", "A").len(), 10);
    }

    #[test]
    fn utterances_with_digits_or_symbols_are_refused() {
        assert!(check_utterance("X", "how is {service} doing").is_ok());
        assert!(check_utterance("X", "what's {service}'s p.m. status").is_ok());
        let err = check_utterance("X", "cpu over 5 {service}").unwrap_err();
        assert!(err.to_string().contains("`5`"), "{err}");
        assert!(check_utterance("X", "is {service} up?").is_err());
    }

    #[test]
    fn unknown_slot_types_and_prompt_ids_are_reported() {
        let renderer = Renderer::embedded(None).unwrap();
        let mut defs = crate::nlu::embedded_model().unwrap();
        defs[0].slots[0].kind = "Colour".to_owned();
        let err = Source::new(&defs, &Vocabulary::default(), &renderer).unwrap_err();
        assert!(err.to_string().contains("type `Colour`"), "{err}");
        let mut defs = crate::nlu::embedded_model().unwrap();
        defs[0].slots[0].prompt = "ask-nothing".to_owned();
        let err = Source::new(&defs, &Vocabulary::default(), &renderer).unwrap_err();
        assert!(err.to_string().contains("`ask-nothing`"), "{err}");
        defs[0].slots[0].prompt = "stale".to_owned();
        let err = Source::new(&defs, &Vocabulary::default(), &renderer).unwrap_err();
        assert!(err.to_string().contains("needs arguments"), "{err}");
    }

    #[test]
    fn an_action_answer_missing_from_the_prompts_is_reported() {
        let renderer = Renderer::embedded(None).unwrap();
        let mut defs = crate::nlu::embedded_model().unwrap();
        assert!(Source::new(&defs, &Vocabulary::default(), &renderer).is_ok());
        let orders = defs
            .iter_mut()
            .find_map(|d| d.orders.as_mut())
            .expect("UnsupportedAction has its orders");
        orders.actions[0].answer = "action-juggle".to_owned();
        let err = Source::new(&defs, &Vocabulary::default(), &renderer).unwrap_err();
        assert!(err.to_string().contains("`action-juggle`"), "{err}");
    }

    /// Defect: MetricQuery's and WhatChanged's `window` was prompted with "Which metric…".
    #[test]
    fn a_slot_prompt_that_asks_for_another_slot_is_reported() {
        let renderer = Renderer::embedded(None).unwrap();
        let mut defs = crate::nlu::embedded_model().unwrap();
        let metric_query = defs.iter_mut().find(|d| d.name == "MetricQuery").unwrap();
        let window = metric_query
            .slots
            .iter_mut()
            .find(|s| s.name == "window")
            .unwrap();
        assert_eq!(
            window.prompt, "ask-window",
            "the shipped model asks for the window"
        );
        window.prompt = "ask-metric".to_owned();
        let err = Source::new(&defs, &Vocabulary::default(), &renderer).unwrap_err();
        assert!(
            err.to_string().contains(
                "MetricQuery: slot `window` uses prompt `ask-metric`, which asks for `metric`"
            ),
            "{err}"
        );
        let text = renderer.render_message("ask-window", LOCALE);
        assert!(!text.to_lowercase().contains("metric"), "{text}");
    }

    #[test]
    fn exactly_the_actions_are_confirmed_on_both_platforms() {
        let renderer = Renderer::embedded(None).unwrap();
        let defs = crate::nlu::embedded_model().unwrap();
        let source = Source::new(&defs, &Vocabulary::default(), &renderer).unwrap();
        let actions: BTreeSet<&str> = crate::nlu::ACTION_INTENTS
            .iter()
            .map(|i| i.name())
            .collect();
        let options = Options::default();
        let lex = lex::files(&source, &options);
        let mut confirmed = BTreeSet::new();
        for def in &source.intents {
            let path = format!("opsvoice/BotLocales/en_US/Intents/{}/Intent.json", def.name);
            let intent: serde_json::Value = serde_json::from_slice(&lex[&path]).unwrap();
            let setting = &intent["intentConfirmationSetting"];
            if !setting.is_null() {
                assert_eq!(setting["isActive"], true);
                let text = |v: &serde_json::Value| {
                    v["messageGroupsList"][0]["message"]["plainTextMessage"]["value"]
                        .as_str()
                        .unwrap()
                        .to_owned()
                };
                assert!(text(&setting["promptSpecification"]).ends_with('?'));
                assert!(!text(&setting["declinationResponse"]).is_empty());
                confirmed.insert(def.name.as_str());
            }
        }
        assert_eq!(confirmed, actions);
        let alexa = alexa::model(&source, &options);
        let model = &alexa["interactionModel"];
        let prompts: BTreeSet<&str> = model["prompts"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["id"].as_str())
            .collect();
        let confirmed: BTreeSet<&str> = model["dialog"]["intents"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|i| i["confirmationRequired"] == true)
            .map(|i| {
                let id = i["prompts"]["confirmation"].as_str().unwrap();
                assert!(
                    id.starts_with("Confirm.Intent.") && prompts.contains(id),
                    "{id}"
                );
                i["name"].as_str().unwrap()
            })
            .collect();
        assert_eq!(confirmed, actions);
    }

    #[test]
    fn counts_and_durations_are_the_platforms_built_in_types() {
        assert_eq!(lex::slot_type_name("Number"), "AMAZON.Number");
        assert_eq!(lex::slot_type_name("Duration"), "AMAZON.Duration");
        assert_eq!(alexa::slot_type_name("Number"), "AMAZON.NUMBER");
        assert_eq!(alexa::slot_type_name("Duration"), "AMAZON.DURATION");
        let defs = crate::nlu::embedded_model().unwrap();
        let kind = |intent: &str, slot: &str| {
            defs.iter()
                .find(|d| d.name == intent)
                .and_then(|d| d.slots.iter().find(|s| s.name == slot))
                .map(|s| s.kind.clone())
        };
        assert_eq!(kind("ScaleService", "count").as_deref(), Some("Number"));
        assert_eq!(
            kind("SilenceAlarm", "duration").as_deref(),
            Some("Duration")
        );
    }

    #[test]
    fn empty_vocabularies_still_give_one_value() {
        let types = slot_types(&Vocabulary::default());
        assert!(types.iter().all(|t| !t.values.is_empty()));
    }
}
