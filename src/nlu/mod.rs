//! The local utterance matcher, built from the sample utterances in `intents/`.
//!
//! It understands text that did not come through Lex or Alexa: `opsvoice ask`, and
//! `/v1/ask` when no Lex bot is configured. It works in two steps:
//! 1. **Entities.** Known names (services, clusters, alarms from the [`Catalog`]), metric
//!    words and time windows are found in the text and replaced by slot placeholders, so
//!    "how's check out doing" becomes `how is {service} doing` with `service = checkout`.
//! 2. **Intent.** The placeholder text is compared with every sample, as sets of
//!    normalised words weighted by how specific each word is to an intent (an IDF over
//!    intents), and the closest intent wins. Words no sample uses are likely names the
//!    catalog does not know (or misheard ones): they become the service slot, for the
//!    dialog's fuzzy matcher to resolve or ask about.

pub mod eval;

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use crate::dialog::resolve::key;
use crate::ops::{Catalog, MetricKind};
use crate::vocab::{Intent, Slot, Slots};

pub use crate::embedded::{BUILTINS_FILE, INTENT_FILES};

/// Each custom intent needs at least this many sample utterances.
pub const MIN_SAMPLES: usize = 12;

/// Below this similarity the utterance is not understood.
const THRESHOLD: f64 = 0.42;

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

/// What the matcher understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Understanding {
    pub intent: Intent,
    pub slots: Slots,
    /// Similarity to the closest sample, 0 to 1.
    pub confidence: f64,
}

/// The matcher.
#[derive(Debug, Clone)]
pub struct Nlu {
    samples: Vec<(Intent, HashSet<String>)>,
    weight: HashMap<String, f64>,
    /// The slots each intent takes: an utterance naming a thing an intent cannot take
    /// (a service, for FleetSummary) is unlikely to mean that intent.
    slots: HashMap<Intent, HashSet<Slot>>,
}

/// Words too common to say anything about the intent; left out of the comparison.
const IGNORED: &[&str] = &[
    "the",
    "a",
    "an",
    "right",
    "now",
    "currently",
    "please",
    "hey",
    "me",
    "us",
    "just",
    "so",
    "there",
    "to",
    "for",
    "of",
    "on",
    "in",
    "at",
    "with",
    "about",
    "my",
    "our",
    "we",
    "you",
    "i",
];

/// How much a mismatched entity lowers an intent's score.
const SLOT_MISMATCH: f64 = 0.7;
/// How much a sample's placeholder that the utterance does not fill lowers its score.
const SLOT_MISSING: f64 = 0.85;

/// Words that carry no intent by themselves; never taken as part of a name.
const STOPWORDS: &[&str] = &[
    "the",
    "a",
    "an",
    "is",
    "are",
    "was",
    "be",
    "of",
    "in",
    "on",
    "for",
    "to",
    "me",
    "my",
    "our",
    "and",
    "its",
    "it",
    "please",
    "hey",
    "ok",
    "so",
    "now",
    "right",
    "currently",
    "at",
    "with",
    "about",
    "this",
    "that",
    "what",
    "how",
    "any",
    "service",
    "services",
    "cluster",
    "there",
    "do",
    "does",
    "did",
    "has",
    "have",
    "been",
    "just",
    "can",
    "you",
    "tell",
    "i",
    "we",
    "from",
    "by",
    "over",
    "during",
    "going",
    "look",
    "looking",
    "like",
    "doing",
    "up",
    "show",
    "give",
    "something",
    "someone",
    "stuff",
    "us",
    "one",
    "first",
    "second",
    "them",
    "they",
    "yet",
    "still",
    "again",
    "really",
];

impl Nlu {
    /// Builds the matcher from intent definitions.
    #[must_use]
    pub fn new(defs: &[IntentDef]) -> Self {
        let mut samples = Vec::new();
        let mut slots: HashMap<Intent, HashSet<Slot>> = HashMap::new();
        let mut intents_with: HashMap<String, HashSet<Intent>> = HashMap::new();
        for def in defs {
            let Some(intent) = Intent::parse(&def.name) else {
                continue;
            };
            slots
                .entry(intent)
                .or_default()
                .extend(def.slots.iter().filter_map(|s| Slot::parse(&s.name)));
            for sample in &def.samples {
                let words: HashSet<String> = canonical(&tokens(sample)).into_iter().collect();
                for w in &words {
                    intents_with.entry(w.clone()).or_default().insert(intent);
                }
                samples.push((intent, words));
            }
        }
        let intents = defs.len().max(1) as f64;
        let weight = intents_with
            .into_iter()
            .map(|(w, set)| (w, (1.0 + intents / set.len() as f64).ln()))
            .collect();
        Self {
            samples,
            weight,
            slots,
        }
    }

    /// The matcher over the embedded model.
    ///
    /// # Errors
    /// When the embedded model is invalid (caught by `opsvoice check` and the tests).
    pub fn embedded() -> Result<Self, ModelError> {
        Ok(Self::new(&embedded_model()?))
    }

    /// Understands `text`, resolving names against `catalog` and the `alarms` names. When the conversation is
    /// waiting for a slot (`expecting`), a bare answer ("the email one") is taken as it.
    #[must_use]
    pub fn understand(
        &self,
        text: &str,
        catalog: &Catalog,
        alarms: &[String],
        expecting: Option<(Intent, Slot)>,
    ) -> Understanding {
        let words = tokens(text);
        let (marked, slots) = extract(&words, catalog, alarms);
        let mut canon = canonical(&marked);
        // Words no sample uses are most likely a name the catalog does not know or that was
        // misheard ("chekout"): score them as the service they probably are.
        let has_unknown = marked.iter().any(|w| {
            !w.starts_with('{')
                && !STOPWORDS.contains(&w.as_str())
                && !IGNORED.contains(&w.as_str())
                && !self.weight.contains_key(&canonical_word(w))
        });
        if has_unknown && !slots.contains_key(&Slot::Service) && !slots.contains_key(&Slot::Alarm) {
            canon.push("{service}".to_owned());
        }
        let named: Vec<Slot> = slots
            .keys()
            .copied()
            .filter(|s| *s != Slot::Window)
            .collect();
        let known: HashSet<&String> = canon
            .iter()
            .filter(|w| self.weight.contains_key(*w))
            .collect();
        let norm_u: f64 = known.iter().map(|w| self.weight[*w]).sum();
        let mut best = (Intent::Fallback, 0.0_f64);
        for (intent, sample) in &self.samples {
            let norm_s: f64 = sample.iter().map(|w| self.weight[w]).sum();
            let shared: f64 = known
                .iter()
                .filter(|w| sample.contains(**w))
                .map(|w| self.weight[*w])
                .sum();
            if norm_u > 0.0 && norm_s > 0.0 {
                let takes = self.slots.get(intent);
                let mismatched = named
                    .iter()
                    .filter(|s| takes.is_none_or(|t| !t.contains(s)))
                    .count();
                let missing = sample
                    .iter()
                    .filter(|w| w.starts_with('{') && !canon.contains(w))
                    .count();
                let sim = shared / (norm_u * norm_s).sqrt()
                    * SLOT_MISMATCH.powi(mismatched as i32)
                    * SLOT_MISSING.powi(missing as i32);
                if sim > best.1 {
                    best = (*intent, sim);
                }
            }
        }
        let mut slots = slots;
        // Words no sample uses, in a row: most likely a name we do not know or misheard.
        let unknown: Vec<&str> = marked
            .iter()
            .filter(|w| {
                !w.starts_with('{')
                    && !self.weight.contains_key(&canonical_word(w))
                    && !STOPWORDS.contains(&w.as_str())
            })
            .map(String::as_str)
            .collect();
        let informative = known
            .iter()
            .any(|w| !w.starts_with('{') && !STOPWORDS.contains(&w.as_str()));

        if let Some((intent, slot)) = expecting
            && (!informative || best.1 < THRESHOLD)
        {
            slots.entry(slot).or_insert_with(|| {
                if unknown.is_empty() {
                    text.trim().to_owned()
                } else {
                    unknown.join(" ")
                }
            });
            return Understanding {
                intent,
                slots,
                confidence: best.1.max(THRESHOLD),
            };
        }
        if best.1 < THRESHOLD {
            return Understanding {
                intent: Intent::Fallback,
                slots,
                confidence: best.1,
            };
        }
        let intent = best.0;
        let wants_service = matches!(
            intent,
            Intent::ServiceHealth | Intent::DeploymentStatus | Intent::MetricQuery
        );
        if wants_service && !slots.contains_key(&Slot::Service) && !unknown.is_empty() {
            slots.insert(Slot::Service, unknown.join(" "));
        }
        if intent == Intent::AlarmDetail && !slots.contains_key(&Slot::Alarm) {
            // Spoken alarm names are descriptions: "the checkout latency alarm". Keep the
            // describing words for the dialog's fuzzy match: those no sample uses, and
            // those some alarm's name uses ("running tasks").
            let alarm_words: HashSet<String> = alarms
                .iter()
                .flat_map(|a| crate::dialog::resolve::words(a))
                .collect();
            let describing: Vec<String> = words
                .iter()
                .filter(|w| {
                    !STOPWORDS.contains(&w.as_str())
                        && (alarm_words.contains(w.as_str())
                            || !self.weight.contains_key(&canonical_word(w)))
                })
                .cloned()
                .collect();
            if !describing.is_empty() {
                slots.insert(Slot::Alarm, describing.join(" "));
            }
        }
        Understanding {
            intent,
            slots,
            confidence: best.1,
        }
    }
}

/// Lowercase words with contractions expanded; `{slot}` placeholders kept whole.
fn tokens(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase().replace(['\u{2019}', '`'], "'");
    let mut expanded = String::with_capacity(lowered.len() + 8);
    for word in lowered.split_whitespace() {
        let word = match word
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '{' && c != '}' && c != '\'')
        {
            "what's" => "what is",
            "how's" => "how is",
            "it's" => "it is",
            "isn't" => "is not",
            "aren't" => "are not",
            "what're" => "what are",
            "where's" => "where is",
            "who's" => "who is",
            "that's" => "that is",
            "there's" => "there is",
            "didn't" => "did not",
            "doesn't" => "does not",
            "haven't" => "have not",
            "hasn't" => "has not",
            "wasn't" => "was not",
            w => w,
        };
        expanded.push_str(word.trim_end_matches("'s"));
        expanded.push(' ');
    }
    expanded
        .split(|c: char| !(c.is_alphanumeric() || c == '{' || c == '}'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// One word reduced to what it means for intent matching.
fn canonical_word(w: &str) -> String {
    let c = match w {
        "alarm" | "alarms" | "alert" | "alerts" | "alarming" | "paging" | "page" | "pages" => {
            "alarm"
        }
        "firing" | "fire" | "fired" | "fires" | "burning" => "fire",
        "deploy" | "deploys" | "deployed" | "deploying" | "deployment" | "deployments"
        | "rollout" | "rollouts" | "release" | "releases" | "released" | "shipped" | "ship"
        | "ships" | "version" | "out" | "went" => "deploy",
        "roll" | "rolled" | "rolling" | "rollback" | "reverted" | "revert" => "roll",
        "healthy" | "health" | "ok" | "okay" | "fine" | "good" | "alright" | "well" => "health",
        "change" | "changed" | "changes" | "changing" | "new" | "lately" | "recent"
        | "recently" => "change",
        "done" | "finish" | "finished" | "complete" | "completed" | "successfully" | "succeed"
        | "succeeded" => "done",
        "why" | "reason" | "cause" | "caused" | "triggered" | "trigger" | "set" => "why",
        "summary" | "summarize" | "summarise" | "overview" | "everything" | "all" | "fleet"
        | "things" => "summary",
        "unhealthy" | "degraded" | "broken" | "failing" | "down" => "unhealthy",
        "services" => "service",
        "list" | "show" | "which" => "which",
        other => other,
    };
    c.to_owned()
}

fn canonical(words: &[String]) -> Vec<String> {
    words
        .iter()
        .filter(|w| !IGNORED.contains(&w.as_str()))
        .map(|w| canonical_word(w))
        .collect()
}

/// Finds entities, longest first, and returns the words with placeholders plus the slots.
fn extract(words: &[String], catalog: &Catalog, alarms: &[String]) -> (Vec<String>, Slots) {
    // Every known name by its key ("payments-api" -> "paymentsapi"); first kind wins, in
    // the order alarms, services, clusters. Plural and singular both point at a service.
    let mut names: HashMap<String, (Slot, &str)> = HashMap::new();
    for alarm in alarms {
        names.entry(key(alarm)).or_insert((Slot::Alarm, alarm));
    }
    for service in &catalog.services {
        let k = key(&service.name);
        if let Some(singular) = k.strip_suffix('s') {
            names
                .entry(singular.to_owned())
                .or_insert((Slot::Service, &service.name));
        }
        names
            .entry(format!("{k}s"))
            .or_insert((Slot::Service, &service.name));
        names.insert(k, (Slot::Service, &service.name));
    }
    for cluster in &catalog.clusters {
        names
            .entry(key(cluster))
            .or_insert((Slot::Cluster, cluster));
    }
    let mut out = Vec::with_capacity(words.len());
    let mut slots = Slots::new();
    let mut i = 0;
    'outer: while i < words.len() {
        if let Some(len) = window_span(&words[i..]) {
            slots
                .entry(Slot::Window)
                .or_insert_with(|| words[i..i + len].join(" "));
            out.push("{window}".to_owned());
            i += len;
            continue;
        }
        for len in (1..=8.min(words.len() - i)).rev() {
            let span = &words[i..i + len];
            let joined = span.concat();
            let found = names
                .get(&joined)
                .filter(|(slot, _)| match slot {
                    Slot::Alarm => len >= 2,
                    Slot::Service => len <= 4,
                    _ => len <= 3,
                })
                .map(|(slot, value)| (*slot, (*value).to_owned()))
                .or_else(|| {
                    (len <= 3)
                        .then(|| {
                            MetricKind::parse(&span.join(" "))
                                .map(|m| (Slot::Metric, m.slot_value().to_owned()))
                        })
                        .flatten()
                });
            if let Some((slot, value)) = found {
                if slots.contains_key(&slot) {
                    // A second name of the same kind: keep the first, skip this one.
                    i += len;
                    continue 'outer;
                }
                slots.insert(slot, value);
                out.push(format!("{{{}}}", slot.name()));
                i += len;
                continue 'outer;
            }
        }
        out.push(words[i].clone());
        i += 1;
    }
    // "the pricing 5xx alarm" describes an alarm; its metric word is part of the name.
    let about_alarms = words.iter().any(|w| canonical_word(w) == "alarm");
    if about_alarms && slots.contains_key(&Slot::Metric) && !slots.contains_key(&Slot::Alarm) {
        slots.remove(&Slot::Metric);
        return (unmark_metric(words, &out), slots);
    }
    (out, slots)
}

/// Puts the words of a `{metric}` placeholder back.
fn unmark_metric(words: &[String], marked: &[String]) -> Vec<String> {
    // Re-walk: every placeholder but {metric} stands for the same words as before, so
    // rebuild by replacing {metric} with the words the other tokens do not account for.
    let mut out = Vec::with_capacity(words.len());
    let mut wi = 0;
    for (mi, token) in marked.iter().enumerate() {
        if token != "{metric}" {
            out.push(token.clone());
            if !token.starts_with('{') {
                wi = words[wi..]
                    .iter()
                    .position(|w| w == token)
                    .map_or(wi, |p| wi + p + 1);
            } else {
                wi += 1;
            }
            continue;
        }
        // The metric's words run up to the next plain token.
        let next = marked[mi + 1..].iter().find(|t| !t.starts_with('{'));
        let end = next
            .and_then(|n| words[wi..].iter().position(|w| w == n).map(|p| wi + p))
            .unwrap_or(words.len());
        out.extend(words[wi..end].iter().cloned());
        wi = end;
    }
    out
}

/// The length of a time window at the start of `words` ("last hour", "past 30 minutes",
/// "today"), if there is one.
fn window_span(words: &[String]) -> Option<usize> {
    const UNITS: &[&str] = &[
        "second", "seconds", "minute", "minutes", "min", "mins", "hour", "hours", "day", "days",
        "week", "weeks",
    ];
    let first = words.first()?.as_str();
    if first == "today" || first == "yesterday" {
        return Some(1);
    }
    if first != "last" && first != "past" {
        return None;
    }
    (2..=4.min(words.len())).find(|len| UNITS.contains(&words[len - 1].as_str()))
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
    use crate::ops::ServiceRef;

    fn alarms() -> Vec<String> {
        vec!["checkout-p99-latency-high".into()]
    }

    fn catalog() -> Catalog {
        Catalog {
            clusters: vec!["prod".into(), "data".into()],
            services: vec![
                ServiceRef::new("prod", "checkout"),
                ServiceRef::new("prod", "payments-api"),
                ServiceRef::new("prod", "payments"),
            ],
        }
    }

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
    fn entities_are_found_in_their_spoken_forms() {
        let (marked, slots) = extract(&tokens("how's check out doing"), &catalog(), &alarms());
        assert_eq!(marked, ["how", "is", "{service}", "doing"]);
        assert_eq!(slots[&Slot::Service], "checkout");
        let (_, slots) = extract(
            &tokens("what's the p99 latency of payments API over the last 2 hours"),
            &catalog(),
            &alarms(),
        );
        assert_eq!(slots[&Slot::Service], "payments-api");
        assert_eq!(slots[&Slot::Metric], "latency");
        assert_eq!(slots[&Slot::Window], "last 2 hours");
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

    #[test]
    fn a_bare_answer_fills_the_expected_slot() {
        let nlu = Nlu::embedded().unwrap();
        let u = nlu.understand(
            "payments api",
            &catalog(),
            &alarms(),
            Some((Intent::DeploymentStatus, Slot::Service)),
        );
        assert_eq!(u.intent, Intent::DeploymentStatus);
        assert_eq!(u.slots[&Slot::Service], "payments-api");
        let u = nlu.understand(
            "any alarms firing",
            &catalog(),
            &alarms(),
            Some((Intent::DeploymentStatus, Slot::Service)),
        );
        assert_eq!(u.intent, Intent::ActiveAlarms);
    }
}
