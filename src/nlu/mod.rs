//! The local utterance matcher, trained from the sample utterances in `intents/`.
//!
//! It understands text that did not come through Lex or Alexa: `opsvoice ask`, `chat`, and
//! `/v1/ask` when no Lex bot is configured. It works in three steps:
//! 1. **Entities.** Known names (services, clusters, alarms from the [`Catalog`]), metric
//!    words and time windows are found in the text and replaced by slot placeholders, so
//!    "how's check out doing" becomes `how is {service} doing` with `service = checkout`.
//!    A name one slip from a known one ("chekout") is taken as it.
//! 2. **Words.** Each word is reduced to what it means for the intent ("deployed" and
//!    "rollout" are both `deploy`); a word no sample uses is taken as the sample word one
//!    slip from it, else marked unknown.
//! 3. **Intent.** A small linear classifier ([`model`]) over those words and their pairs,
//!    trained at start-up on the samples and on `intents/out-of-domain.txt`, gives each
//!    intent a probability. Below a threshold (tuned on `tests/nlu/dev.tsv`) the answer is
//!    `FallbackIntent`. Unknown words left over are likely a name the catalog does not
//!    know: they become the service slot, for the dialog's fuzzy matcher to resolve or ask
//!    about.

pub mod eval;
pub mod model;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Deserialize;

use crate::dialog::resolve::key;
use crate::ops::{Catalog, MetricKind};
use crate::vocab::{Intent, Slot, Slots};
use model::{Classifier, Example};

pub use crate::embedded::{BUILTINS_FILE, INTENT_FILES, OUT_OF_DOMAIN_FILE};

/// Each custom intent needs at least this many sample utterances.
pub const MIN_SAMPLES: usize = 12;

/// Below this probability the utterance is not understood (tuned on the tuning splits,
/// `tests/nlu/dev.tsv` and `dev2.tsv`: the middle of the best plateau, 0.25 to 0.35, where
/// out of domain is recognised as often as at 0.40; `opsvoice nlu eval` prints how other
/// values would do).
pub const THRESHOLD: f64 = 0.3;

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

/// What the matcher understood.
#[derive(Debug, Clone, PartialEq)]
pub struct Understanding {
    pub intent: Intent,
    pub slots: Slots,
    /// The model's probability for the intent, 0 to 1.
    pub confidence: f64,
}

/// The matcher.
#[derive(Debug, Clone)]
pub struct Nlu {
    model: Arc<Classifier>,
    /// The intent of each of the model's classes.
    classes: Arc<[Intent]>,
    /// Every canonical word the in-domain samples use, sorted: anything else is unknown
    /// (a misheard word close to one of these is taken as it).
    vocab: Arc<[String]>,
    /// Every word the in-domain samples use as written, sorted: a misheard word is
    /// matched against these ("alrams" is one slip from "alarms", two from `alarm`).
    spellings: Arc<[Spelling]>,
    /// The slots each intent takes: an utterance naming a thing an intent cannot take
    /// (a service, for FleetSummary) is unlikely to mean that intent.
    slots: HashMap<Intent, HashSet<Slot>>,
    /// Below this probability an utterance is not understood.
    threshold: f64,
}

/// A word as written, with what is compared first when looking for a slip.
#[derive(Debug)]
struct Spelling {
    word: String,
    len: usize,
    letters: u64,
}

impl Spelling {
    fn new(word: String) -> Self {
        Self {
            len: word.chars().count(),
            letters: letters(&word),
            word,
        }
    }

    /// How many slips `other` is from this word, if no more than `most`. Words further
    /// apart in length, or in the letters they use, cannot be that close (each slip adds
    /// or drops at most one letter of the alphabet, two bits of the difference, and a swap
    /// neither), so only the rest are spelt out.
    fn slips(&self, other: &Spelling, most: usize) -> Option<usize> {
        if self.len.abs_diff(other.len) > most
            || (self.letters ^ other.letters).count_ones() as usize > 2 * most
        {
            return None;
        }
        let d = strsim::osa_distance(&self.word, &other.word);
        (d <= most).then_some(d)
    }
}

/// Which letters and digits a word uses, one bit each (anything else shares bit 63).
fn letters(word: &str) -> u64 {
    word.chars().fold(0, |set, c| {
        let bit = match c {
            'a'..='z' => c as u32 - 'a' as u32,
            '0'..='9' => 26 + (c as u32 - '0' as u32),
            _ => 63,
        };
        set | 1 << bit
    })
}

/// Hesitations: never part of a sample, a name or an intent.
const FILLERS: &[&str] = &["uh", "uhh", "um", "umm", "er", "erm", "hmm", "hm", "ah"];

/// Articles and politeness, with the [`FILLERS`]: left out of the features.
const IGNORED: &[&str] = &[
    "the", "a", "an", "please", "hey", "oh", "pls", "plz", "kindly",
];

fn is_ignored(w: &str) -> bool {
    IGNORED.contains(&w) || FILLERS.contains(&w)
}

fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w) || FILLERS.contains(&w)
}

/// Words no sample uses become this (and are kept aside as a possible name).
const UNKNOWN: &str = "{unk}";

/// How much less likely an intent is for each named thing it cannot take.
const SLOT_MISMATCH: f32 = 0.3;

/// How much less likely out of domain is when the request names a service or an alarm of
/// ours ("search for flights" still is; "how are things with checkout" is not).
const NAMED_OUT_OF_DOMAIN: f32 = 0.4;

/// How much a sample with its `{alarm}` said as the alarm's parts counts.
const UNKNOWN_ALARM_WEIGHT: f32 = 0.3;

/// How much a sample with its `{service}` said as a word the matcher does not know counts:
/// "how is chekout doing" should still read as a health question.
const UNKNOWN_NAME_WEIGHT: f32 = 0.3;

/// Below this probability, a question about a service no catalog has (its name words no
/// sample uses) is taken for a request about something else.
const UNKNOWN_NAME_CONFIDENCE: f64 = 0.65;

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
    "somebody",
    "anybody",
    "anyone",
    "everyone",
    "people",
];

impl Nlu {
    /// Trains the matcher on intent definitions and out-of-domain examples (requests
    /// opsvoice cannot answer, one per entry, `{slot}` references allowed).
    #[must_use]
    pub fn new(defs: &[IntentDef], out_of_domain: &[&str]) -> Self {
        let mut classes: Vec<Intent> = vec![Intent::Fallback];
        let mut slots: HashMap<Intent, HashSet<Slot>> = HashMap::new();
        let mut samples: Vec<(usize, Vec<String>)> = Vec::new();
        let mut spellings: Vec<String> = Vec::new();
        for def in defs {
            let Some(intent) = Intent::parse(&def.name) else {
                continue;
            };
            let class = classes
                .iter()
                .position(|c| *c == intent)
                .unwrap_or_else(|| {
                    classes.push(intent);
                    classes.len() - 1
                });
            slots
                .entry(intent)
                .or_default()
                .extend(def.slots.iter().filter_map(|s| Slot::parse(&s.name)));
            for sample in &def.samples {
                let words = tokens(sample);
                spellings.extend(words.iter().filter(|w| !w.starts_with('{')).cloned());
                samples.push((class, canonical(&words)));
            }
        }
        let mut vocab: Vec<String> = samples
            .iter()
            .flat_map(|(_, words)| words.iter().filter(|w| !w.starts_with('{')).cloned())
            .collect();
        vocab.sort();
        vocab.dedup();
        spellings.sort();
        spellings.dedup();
        let spellings: Vec<Spelling> = spellings
            .into_iter()
            .map(Spelling::new)
            .filter(|s| s.len >= 4)
            .collect();
        let mut nlu = Self {
            model: Arc::new(Classifier::train(&[], 1)),
            classes: classes.clone().into(),
            vocab: vocab.into(),
            spellings: spellings.into(),
            slots,
            threshold: THRESHOLD,
        };
        // Out-of-domain requests are read as a real one would be: their words the samples
        // do not use are unknown, which is what the model learns to see as out of domain.
        for line in out_of_domain {
            samples.push((0, nlu.shape(&canonical(&tokens(line)))));
        }
        let mut count = vec![0usize; classes.len()];
        for (class, _) in &samples {
            count[*class] += 1;
        }
        let mean = samples.len() as f32 / classes.len() as f32;
        // Intents with few samples (the built-ins) count for as much, in all, as the rest.
        let balance = |class: usize| (mean / count[class].max(1) as f32).sqrt();
        let mut examples = Vec::with_capacity(samples.len() * 2);
        for (class, words) in &samples {
            examples.push(Example {
                features: features(words),
                class: *class,
                weight: balance(*class),
            });
            if words.iter().any(|w| w == "{service}") {
                let unknown: Vec<String> = words
                    .iter()
                    .map(|w| {
                        if w == "{service}" {
                            UNKNOWN.to_owned()
                        } else {
                            w.clone()
                        }
                    })
                    .collect();
                examples.push(Example {
                    features: features(&unknown),
                    class: *class,
                    weight: balance(*class) * UNKNOWN_NAME_WEIGHT,
                });
            }
        }
        // An alarm the matcher does not know by name (only firing ones are handed to it)
        // is heard as its parts: "pricing 5xx rate high" is `{service} {metric} rate high`.
        let alarm_detail = classes.iter().position(|c| *c == Intent::AlarmDetail);
        for (class, words) in samples.iter().filter(|(c, _)| Some(*c) == alarm_detail) {
            if !words.iter().any(|w| w == "{alarm}") {
                continue;
            }
            for parts in [
                &["{service}", "{metric}", "rate", "high"][..],
                &["{service}", "{metric}", "high"],
                // "search indexer queue depth": the service, then words no sample uses.
                &["{service}", UNKNOWN, UNKNOWN],
            ] {
                let heard: Vec<String> = words
                    .iter()
                    .flat_map(|w| {
                        if w == "{alarm}" {
                            parts.iter().map(|p| (*p).to_owned()).collect()
                        } else {
                            vec![w.clone()]
                        }
                    })
                    .collect();
                examples.push(Example {
                    features: features(&heard),
                    class: *class,
                    weight: balance(*class) * UNKNOWN_ALARM_WEIGHT,
                });
            }
        }
        nlu.model = Arc::new(Classifier::train(&examples, classes.len()));
        nlu
    }

    /// The matcher over the embedded model, trained once per process.
    ///
    /// # Errors
    /// When the embedded model is invalid (caught by `opsvoice check` and the tests).
    pub fn embedded() -> Result<Self, ModelError> {
        static TRAINED: std::sync::OnceLock<Nlu> = std::sync::OnceLock::new();
        if let Some(nlu) = TRAINED.get() {
            return Ok(nlu.clone());
        }
        let defs = embedded_model()?;
        let nlu = Self::new(&defs, &out_of_domain());
        Ok(TRAINED.get_or_init(|| nlu).clone())
    }

    /// The same matcher with another confidence threshold (for tuning it).
    #[must_use]
    pub fn with_threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// Canonical words as the model sees them: a word the samples do not use is taken as
    /// the sample word it is one slip from ("helthy"), else it is unknown.
    fn shape(&self, canon: &[String]) -> Vec<String> {
        canon
            .iter()
            .map(|w| {
                if w.starts_with('{') || self.knows(w) {
                    return w.clone();
                }
                self.near(w).unwrap_or_else(|| UNKNOWN.to_owned())
            })
            .collect()
    }

    /// Whether a sample uses this canonical word.
    fn knows(&self, canonical: &str) -> bool {
        self.vocab
            .binary_search_by(|v| v.as_str().cmp(canonical))
            .is_ok()
    }

    fn is_unknown(&self, canonical: &str) -> bool {
        !self.knows(canonical) && self.near(canonical).is_none()
    }

    /// The canonical form of the sample word one slip from `word` (two, for a long word),
    /// if there is one.
    fn near(&self, word: &str) -> Option<String> {
        let len = word.chars().count();
        if len < 5 || word.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        let most = if len >= 8 { 2 } else { 1 };
        let heard = Spelling::new(word.to_owned());
        self.spellings
            .iter()
            .filter_map(|v| v.slips(&heard, most).map(|d| (d, v)))
            .min_by_key(|(d, _)| *d)
            .map(|(_, v)| canonical_word(&v.word))
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
        let is_word = |w: &str| self.knows(&canonical_word(w));
        let (marked, slots) = extract(&words, catalog, alarms, &is_word);
        let mut shaped = self.shape(&canonical(&marked));
        // A word that could be part of a name of something: none of ours, no sample's.
        let foreign = |w: &str| may_describe(w) && self.is_unknown(&canonical_word(w));
        // "the ml scoring cpu alarm": one alarm described (singular) reads as that alarm
        // named; "kafka connect alarms" is a list.
        if !slots.contains_key(&Slot::Alarm)
            && words
                .iter()
                .enumerate()
                .any(|(i, w)| (w == "alarm" || w == "alert") && (i == 0 || words[i - 1] != "in"))
            && matches!(
                describe_alarm(&words, &[], alarms, &foreign),
                Described::One(_)
            )
        {
            shaped.push("{alarm}".to_owned());
        }
        let mut p = self.model.probabilities(&features(&shaped));
        let named: Vec<Slot> = slots
            .keys()
            .copied()
            .filter(|s| *s != Slot::Window)
            .collect();
        // A name of ours said is evidence the request is about our fleet.
        let names_ours = slots.contains_key(&Slot::Service) || slots.contains_key(&Slot::Alarm);
        for (class, intent) in self.classes.iter().enumerate() {
            if *intent == Intent::Fallback && names_ours {
                p[class] *= NAMED_OUT_OF_DOMAIN;
            }
            if matches!(intent, Intent::Fallback | Intent::UnsupportedAction) {
                continue;
            }
            let takes = self.slots.get(intent);
            let mismatched = named
                .iter()
                .filter(|s| takes.is_none_or(|t| !t.contains(s)))
                .count();
            p[class] *= SLOT_MISMATCH.powi(mismatched as i32);
        }
        let total: f32 = p.iter().sum();
        if total > 0.0 {
            p.iter_mut().for_each(|x| *x /= total);
        }
        let (class, confidence) =
            p.iter()
                .copied()
                .enumerate()
                .fold(
                    (0, 0.0_f32),
                    |best, (c, pc)| if pc > best.1 { (c, pc) } else { best },
                );
        let best = (self.classes[class], f64::from(confidence));
        let mut slots = slots;
        // Words no sample uses, in a row: most likely a name we do not know or misheard.
        let unknown: Vec<&str> = marked
            .iter()
            .filter(|w| {
                !w.starts_with('{')
                    && !is_stopword(w)
                    && !is_ignored(w)
                    && self.is_unknown(&canonical_word(w))
            })
            .map(String::as_str)
            .collect();
        let informative = shaped
            .iter()
            .any(|w| !w.starts_with('{') && !is_stopword(w));

        if let Some((intent, slot)) = expecting
            && (!informative || best.1 < self.threshold)
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
                confidence: best.1.max(self.threshold),
            };
        }
        let not_understood = best.1 < self.threshold || best.0 == Intent::Fallback;
        // A request to act that the model could not place is still a request to act: it
        // gets the honest "I can't", never "I didn't get that"; and an order is an order
        // whatever else its words look like ("ack it" is not "cancel").
        let order = best.0 != Intent::UnsupportedAction && orders_action(&marked);
        if self.classes.contains(&Intent::UnsupportedAction)
            && (order || not_understood && asks_to_act(&words))
        {
            return Understanding {
                intent: Intent::UnsupportedAction,
                slots: slots
                    .into_iter()
                    .filter(|(s, _)| matches!(s, Slot::Service | Slot::Cluster))
                    .collect(),
                confidence: best.1,
            };
        }
        let fallback = || Understanding {
            intent: Intent::Fallback,
            slots: Slots::new(),
            confidence: best.1,
        };
        if not_understood {
            return fallback();
        }
        let intent = best.0;
        let wants_service = matches!(
            intent,
            Intent::ServiceHealth | Intent::DeploymentStatus | Intent::MetricQuery
        );
        if wants_service && !slots.contains_key(&Slot::Service) && !unknown.is_empty() {
            // Words it does not know, taken for a service no catalog has, on a guess: more
            // likely a request about something else ("how's the weather in seattle").
            if best.1 < UNKNOWN_NAME_CONFIDENCE {
                return fallback();
            }
            slots.insert(Slot::Service, unknown.join(" "));
        }
        if intent == Intent::AlarmDetail && !slots.contains_key(&Slot::Alarm) {
            // Spoken alarm names are descriptions: "the checkout latency alarm". One alarm
            // whose name has every describing word is the one; else keep the describing
            // words for the dialog's fuzzy match: those no sample uses, and those some
            // alarm's name uses ("running tasks").
            let service_words = slots
                .get(&Slot::Service)
                .map(|s| crate::dialog::resolve::words(s))
                .unwrap_or_default();
            match describe_alarm(&words, &service_words, alarms, &foreign) {
                Described::One(name) => {
                    slots.remove(&Slot::Service);
                    slots.insert(Slot::Alarm, name);
                }
                Described::OnlyTheService if slots.contains_key(&Slot::Service) => {}
                Described::OnlyTheService | Described::Unsure => {
                    let alarm_words: HashSet<String> = alarms
                        .iter()
                        .flat_map(|a| crate::dialog::resolve::words(a))
                        .collect();
                    // A name is said in one piece: the longest run of describing words
                    // ("why is the pricing 5xx rate high alarm going off" describes
                    // `pricing 5xx rate high`, not "off").
                    let describing = longest_run(description_words(&words), |w| {
                        foreign(w) || alarm_words.contains(w) && may_describe(w)
                    });
                    if !describing.is_empty() {
                        // The service said as the start of the alarm's name is part of it.
                        if !service_words.is_empty()
                            && describing.concat().starts_with(&service_words.concat())
                        {
                            slots.remove(&Slot::Service);
                        }
                        slots.insert(Slot::Alarm, describing.join(" "));
                    }
                }
            }
        }
        // A name the intent cannot take says nothing to its answer.
        if let Some(takes) = self.slots.get(&intent) {
            slots.retain(|slot, _| takes.contains(slot));
        }
        Understanding {
            intent,
            slots,
            confidence: best.1,
        }
    }
}

/// Verbs that ask opsvoice to change something (it only reports), matched as whole words:
/// they decide the intent. The dialog's `unsupported_action::ACTIONS` only picks the
/// answer's wording, by substring, once the intent is decided.
const ACTION_VERBS: &[&str] = &[
    "restart",
    "reboot",
    "bounce",
    "recycle",
    "rollback",
    "revert",
    "scale",
    "redeploy",
    "kill",
    "drain",
    "terminate",
    "page",
    "wake",
    "escalate",
    "acknowledge",
    "ack",
    "silence",
    "mute",
    "snooze",
    "flush",
    "bump",
    "resize",
    "failover",
    "rotate",
    // "force a new deployment": ECS's own name for a redeploy.
    "force",
];

/// Verbs that ask for a change when they lead an order to something of ours ("open an
/// incident for checkout", "create a ticket"), and mean something else elsewhere ("open
/// the garage", "what changed").
const ORDER_VERBS: &[&str] = &[
    "create",
    "open",
    "file",
    "raise",
    "start",
    "launch",
    "increase",
    "decrease",
    "add",
    "remove",
    "delete",
    "disable",
    "enable",
    "turn",
    "notify",
    "ping",
    "shut",
    "spin",
    "flip",
    "toggle",
    "pause",
    "resume",
    "retry",
    "rerun",
    "purge",
    "clear",
    "upgrade",
    "downgrade",
    "promote",
    "cancel",
    "stop",
    "call",
    "text",
    "email",
    "message",
    "put",
    "move",
    "fix",
    "trigger",
    "roll",
    "patch",
    "reset",
    "resolve",
    "ship",
    "push",
    "modify",
    "configure",
    "update",
    "change",
    "set",
    "edit",
];

/// Words naming something of ours an order can be about.
const ORDER_OBJECTS: &[&str] = &[
    "alarm",
    "alarms",
    "alert",
    "alerts",
    "incident",
    "ticket",
    "jira",
    "deploy",
    "deployment",
    "release",
    "build",
    "task",
    "tasks",
    "container",
    "containers",
    "instance",
    "instances",
    "node",
    "nodes",
    "flag",
    "flags",
    "config",
    "cache",
    "queue",
    "traffic",
    "capacity",
    "replicas",
    "pods",
    "team",
    "oncall",
    "call",
    "engineer",
    "version",
    "everyone",
    "channel",
    "pager",
    "pagerduty",
    "env",
    "variable",
    "variables",
    "setting",
    "settings",
    "timeout",
    "limit",
    "limits",
    "threshold",
];

/// Words before the verb of an order: "could you please just restart it".
const ORDER_LEAD: &[&str] = &[
    "can", "could", "would", "will", "you", "please", "just", "go", "ahead", "and", "i", "want",
    "need", "to", "lets", "let", "us", "quickly", "now", "ok", "okay", "so", "hey", "yo",
    "opsvoice", "alexa", "then", "also", "pls", "plz", "kindly", "we", "someone", "somebody", "oh",
];

/// Whether the words ask for an action: an action verb, or "roll back"; or for who is on
/// call, which opsvoice cannot see either (and says so, with what it can tell).
fn asks_to_act(words: &[String]) -> bool {
    words
        .iter()
        .any(|w| ACTION_VERBS.contains(&w.as_str()) || w == "oncall")
        || words
            .windows(2)
            .any(|p| p[0] == "roll" && p[1] == "back" || p[0] == "on" && p[1] == "call")
}

/// Whether the words are an order to change something of ours. `marked` are the words with
/// the names found as `{slot}` placeholders. An order is led by its verb (after "could you
/// please" and the like, never after an article: "the page about checkout" is no order),
/// and the verb acts on something: the first word after it, past articles and "back",
/// "down" and the like, is a name of ours or a thing such as an alarm, a ticket or the on
/// call; after an action verb ("ack it", "restart them"), a pronoun too. So "restart count
/// on checkout" and "call volume on checkout" ask, and "create a ticket for checkout" orders.
fn orders_action(marked: &[String]) -> bool {
    let mut rest = marked
        .iter()
        .map(String::as_str)
        .skip_while(|w| ORDER_LEAD.contains(w) || FILLERS.contains(w));
    let Some(verb) = rest.next() else {
        return false;
    };
    let after: Vec<&str> = rest.collect();
    let strong = ACTION_VERBS.contains(&verb) || verb == "roll" && after.first() == Some(&"back");
    if !strong && !ORDER_VERBS.contains(&verb) {
        return false;
    }
    // "open" and "clear" are adjectives too ("open alarms on checkout" asks which), and
    // "update" and "change" nouns ("update on checkout?", "change log for prod"): as orders
    // they are followed by what they act on ("open an incident", "update the config").
    let adjective = matches!(
        verb,
        "open" | "clear" | "update" | "change" | "set" | "edit"
    ) && !after.first().is_some_and(|w| {
        matches!(
            *w,
            "a" | "an" | "the" | "this" | "that" | "it" | "up" | "another" | "new"
        )
    });
    if adjective {
        return false;
    }
    let start = after
        .iter()
        .position(|w| !ORDER_PARTICLES.contains(w) && !ORDER_ARTICLES.contains(w));
    let Some(start) = start else {
        // "roll back", "scale up": the verb and its particle are the whole order.
        return strong && after.iter().any(|w| ORDER_PARTICLES.contains(w));
    };
    if after[start] == "on" && after.get(start + 1) == Some(&"call") {
        return true;
    }
    // What it acts on runs to the next preposition: "raise the cpu alarm threshold on …".
    let object = after[start..]
        .iter()
        .take_while(|w| !ORDER_PHRASE_ENDS.contains(w));
    // "stop reading the alarms" is no order to the alarms.
    !after[start].ends_with("ing")
        && object.enumerate().any(|(i, w)| {
            matches!(*w, "{service}" | "{cluster}" | "{alarm}")
                || ORDER_OBJECTS.contains(w)
                || strong && i == 0 && ORDER_PRONOUNS.contains(w)
        })
}

/// Words that end what an order acts on.
const ORDER_PHRASE_ENDS: &[&str] = &[
    "on", "for", "in", "of", "to", "at", "with", "from", "and", "or", "so", "because", "why",
    "what", "which", "if", "since", "after", "before", "while", "is", "are",
];

/// Words between an order's verb and what it acts on.
const ORDER_PARTICLES: &[&str] = &["back", "down", "up", "off", "out", "over", "in"];
const ORDER_ARTICLES: &[&str] = &["a", "an", "the", "my", "our", "its", "their", "all", "of"];
/// What an action verb may act on without naming it: "ack it", "page whoever is on call".
const ORDER_PRONOUNS: &[&str] = &[
    "it",
    "them",
    "this",
    "that",
    "these",
    "those",
    "everything",
    "whoever",
    "someone",
    "somebody",
    "everyone",
    "anyone",
];

/// What a spoken description of an alarm names.
#[derive(Debug, PartialEq, Eq)]
enum Described {
    /// The one alarm whose name has every describing word.
    One(String),
    /// Several alarms, and no word but their service's name tells them apart.
    OnlyTheService,
    Unsure,
}

/// A word of an alarm's name, or of its description, reduced to what it means: "errors"
/// and "5xx" are the same to someone describing an alarm.
fn alarm_word(w: &str) -> &str {
    match w {
        "5xx" | "error" | "errors" | "erroring" | "failures" | "500s" | "5xxs" => "5xx",
        "latency" | "p99" | "slow" | "slowness" => "latency",
        "cpu" | "processor" => "cpu",
        "lag" | "lagging" | "behind" => "lag",
        "task" | "tasks" => "tasks",
        other => other,
    }
}

/// The words of a description, with spoken spellings joined: "m l scoring" is `ml scoring`,
/// "five x x" is `5xx`, "p ninety nine" is `p99`.
fn description_words(words: &[String]) -> Vec<String> {
    let text = format!(" {} ", words.join(" "))
        .replace(" five x x ", " 5xx ")
        .replace(" five xx ", " 5xx ")
        .replace(" five hundreds ", " 5xx ")
        .replace(" five hundred ", " 5xx ")
        .replace(" p ninety nine ", " p99 ")
        .replace(" p nine nine ", " p99 ")
        .replace(" ninety ninth ", " p99 ");
    let mut out: Vec<String> = Vec::new();
    let mut letters = String::new();
    let spoken: Vec<&str> = text.split_whitespace().collect();
    for (i, w) in spoken.iter().copied().enumerate() {
        // "a" is a letter when spelt with others ("a p i"), else the article.
        let letter = w.chars().count() == 1
            && (w != "a"
                || spoken
                    .get(i + 1)
                    .is_some_and(|n| n.chars().count() == 1 && *n != "a"));
        if letter {
            letters.push_str(w);
            continue;
        }
        if !letters.is_empty() {
            out.push(std::mem::take(&mut letters));
        }
        out.push(w.to_owned());
    }
    if !letters.is_empty() {
        out.push(letters);
    }
    out
}

/// Words that are never part of an alarm's description, though no sample may use them.
const NOT_DESCRIBING: &[&str] = &["off", "trip", "tripped", "tripping", "dig", "story", "deal"];

/// Whether a word may be part of what describes an alarm: not a stopword, filler or
/// [`NOT_DESCRIBING`].
fn may_describe(w: &str) -> bool {
    !is_stopword(w) && !is_ignored(w) && !NOT_DESCRIBING.contains(&w)
}

/// The longest run of consecutive `words` that are `describing` (the first, of equals).
/// A word other than a stopword between two describing words is part of the name too
/// ("search indexer queue depth", though samples use "queue").
fn longest_run(words: Vec<String>, describing: impl Fn(&str) -> bool) -> Vec<String> {
    let marks: Vec<bool> = words.iter().map(|w| describing(w)).collect();
    let bridges = |i: usize| {
        i > 0
            && i + 1 < words.len()
            && marks[i - 1]
            && marks[i + 1]
            && may_describe(&words[i])
            && canonical_word(&words[i]) != "alarm"
    };
    let mut best = 0..0;
    let mut start = 0;
    for (i, &marked) in marks.iter().enumerate() {
        if !marked && !bridges(i) {
            start = i + 1;
        } else if i + 1 - start > best.len() {
            best = start..i + 1;
        }
    }
    words.into_iter().take(best.end).skip(best.start).collect()
}

/// Whether a name's words have `word`, or a word of five letters or more it is one slip
/// from ("recomendations").
fn has_word(name: &[Spelling], word: &Spelling) -> bool {
    name.iter()
        .any(|n| n.word == word.word || n.len >= 5 && word.len >= 5 && n.slips(word, 1).is_some())
}

/// The alarm `words` describe; `service_words` (the service named, if any) must be in its
/// name too, and so must every `foreign` word (one that could be part of a name: "pricing
/// 5xx rate high" is not `recommendations-5xx-rate-high`).
fn describe_alarm(
    words: &[String],
    service_words: &[String],
    alarms: &[String],
    foreign: &dyn Fn(&str) -> bool,
) -> Described {
    let names: Vec<(&String, Vec<Spelling>)> = alarms
        .iter()
        .map(|a| {
            let words = crate::dialog::resolve::words(a);
            let mut words: Vec<String> = words.iter().map(|w| alarm_word(w).to_owned()).collect();
            words.sort();
            words.dedup();
            (a, words.into_iter().map(Spelling::new).collect())
        })
        .collect();
    // The describing words some alarm's name has; the rest ("why", "firing") say nothing
    // about which. A name is said in one piece, so the longest run of them is the one.
    let described: Vec<String> = description_words(words)
        .iter()
        .map(|w| alarm_word(w).to_owned())
        .collect();
    let content: Vec<Spelling> = longest_run(described, |w| {
        let w = Spelling::new(w.to_owned());
        names.iter().any(|(_, name)| has_word(name, &w)) || foreign(&w.word)
    })
    .into_iter()
    .chain(service_words.iter().cloned())
    .map(Spelling::new)
    .collect();
    if content.is_empty() {
        return Described::Unsure;
    }
    let fits: Vec<&String> = names
        .iter()
        .filter(|(_, name)| content.iter().all(|w| has_word(name, w)))
        .map(|(name, _)| *name)
        .collect();
    match fits[..] {
        [one] => Described::One(one.clone()),
        [_, _, ..] => Described::OnlyTheService,
        [] => Described::Unsure,
    }
}

/// `text` as a sample utterance: lowercase, fillers dropped, and every name found replaced
/// by its `{slot}` reference; with the slots found. For turning labelled phrasings into
/// samples (`opsvoice nlu samples`).
#[must_use]
pub fn sample_form(text: &str, catalog: &Catalog, alarms: &[String]) -> (String, Slots) {
    let words: Vec<String> = tokens(text)
        .into_iter()
        .filter(|w| !FILLERS.contains(&w.as_str()))
        .collect();
    let (marked, slots) = extract(&words, catalog, alarms, &|_| true);
    (marked.join(" "), slots)
}

/// The features of canonical words: each word, each pair of neighbours (with the start
/// and the end as words), and the length.
fn features(words: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(words.len() * 2 + 3);
    for w in words {
        out.push(format!("w:{w}"));
    }
    let mut prev = "^";
    for w in words.iter().map(String::as_str).chain(std::iter::once("$")) {
        out.push(format!("b:{prev} {w}"));
        prev = w;
    }
    let length = match words.len() {
        0..=1 => "n:1",
        2 => "n:2",
        3..=4 => "n:3",
        _ => "n:5",
    };
    out.push(length.to_owned());
    out
}

/// Lowercase words with contractions expanded; `{slot}` placeholders kept whole.
fn tokens(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase().replace(['\u{2019}', '`'], "'");
    let mut expanded = String::with_capacity(lowered.len() + 8);
    for word in lowered.split_whitespace() {
        // "w/" typed for "with" (before its slash is trimmed away).
        let word = if word == "w/" { "with" } else { word };
        // "re-deploy" is "redeploy", not "re" and "deploy".
        let joined;
        let word = match word.strip_prefix("re-") {
            Some(rest) if rest.chars().next().is_some_and(char::is_alphabetic) => {
                joined = format!("re{rest}");
                joined.as_str()
            }
            _ => word,
        };
        let word = match word
            .trim_matches(|c: char| !c.is_alphanumeric() && c != '{' && c != '}' && c != '\'')
        {
            "what's" => "what is",
            "nevermind" => "never mind",
            // Chat spellings.
            "wat" | "wut" | "wht" | "whta" => "what",
            "wats" | "wuts" => "what is",
            "ur" => "your",
            "im" => "i am",
            "theres" => "there is",
            "anythin" => "anything",
            "rn" => "now",
            "thx" | "thanx" | "ty" => "thanks",
            "whatd" => "what did",
            // Typed without the apostrophe.
            "whats" => "what is",
            "hows" => "how is",
            "wheres" => "where is",
            "whos" => "who is",
            "thats" => "that is",
            "isnt" => "is not",
            "didnt" => "did not",
            "doesnt" => "does not",
            "cant" => "can not",
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
    let mut words: Vec<String> = expanded
        .split(|c: char| !(c.is_alphanumeric() || c == '{' || c == '}'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    // "u" typed for "you", but not as a letter spelt out ("c p u").
    for i in 0..words.len() {
        let spelt = |j: usize| words.get(j).is_some_and(|w| w.chars().count() == 1);
        if words[i] == "u" && !(i > 0 && spelt(i - 1)) && !spelt(i + 1) {
            words[i] = "you".to_owned();
        }
    }
    words
}

/// One word reduced to what it means for intent matching.
fn canonical_word(w: &str) -> String {
    let c = match w {
        "alarm" | "alarms" | "alert" | "alerts" | "alarming" | "alerting" | "paging" => "alarm",
        "firing" | "fire" | "fired" | "fires" | "burning" => "fire",
        "deploy" | "deploys" | "deployed" | "deploying" | "deployment" | "deployments"
        | "rollout" | "rollouts" | "release" | "releases" | "released" | "shipped" | "version"
        | "out" | "went" | "ship" | "push" | "pushed" | "live" => "deploy",
        "roll" | "rolled" | "rolling" | "rollback" | "reverted" | "revert" => "roll",
        "healthy" | "health" | "ok" | "okay" | "fine" | "good" | "alright" | "well" => "health",
        "change" | "changed" | "changes" | "changing" | "new" | "lately" | "recent"
        | "recently" | "changelog" => "change",
        "done" | "finish" | "finished" | "complete" | "completed" | "successfully" | "succeed"
        | "succeeded" => "done",
        "why" | "reason" | "cause" | "caused" | "triggered" | "trigger" | "set" => "why",
        "summary" | "summarize" | "summarise" | "overview" | "everything" | "all" | "fleet"
        | "things" | "every" | "whole" | "entire" | "overall" | "general" => "summary",
        "unhealthy" | "degraded" | "broken" | "failing" | "down" | "dead" | "dying" => "unhealthy",
        "services" => "service",
        "list" | "show" | "which" => "which",
        other => other,
    };
    c.to_owned()
}

fn canonical(words: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for w in words.iter().filter(|w| !is_ignored(w)) {
        // "went off", "going off": an alarm firing, not a deploy going out; "what set it
        // off" ("set" reads as "why") asks why it fired.
        if w == "off"
            && out
                .last()
                .is_some_and(|p| matches!(p.as_str(), "deploy" | "why" | "go" | "goes" | "going"))
        {
            if out.last().is_some_and(|p| p != "why") {
                out.pop();
            }
            out.push("fire".to_owned());
            continue;
        }
        let c = canonical_word(w);
        // "in alarm" is a state: firing ("what's in alarm for ml scoring").
        if c == "alarm" && out.last().is_some_and(|p| p == "in") {
            out.pop();
            out.push("fire".to_owned());
            continue;
        }
        out.push(c);
    }
    out
}

/// Other names people use for a cluster: "production" for `prod`, and the like.
const CLUSTER_ALIASES: &[(&str, &[&str])] = &[
    ("prod", &["production"]),
    ("production", &["prod"]),
    ("staging", &["stage", "stg"]),
    ("stage", &["staging"]),
    ("dev", &["development"]),
    ("development", &["dev"]),
];

/// The one-word metric names long enough to be misheard as such ("memry"), with their
/// metric: built once.
fn metric_words() -> &'static [(&'static str, MetricKind)] {
    static WORDS: std::sync::LazyLock<Vec<(&'static str, MetricKind)>> =
        std::sync::LazyLock::new(|| {
            MetricKind::ALL
                .into_iter()
                .flat_map(|m| {
                    std::iter::once(m.slot_value())
                        .chain(m.synonyms().iter().copied())
                        .filter(|w| !w.contains(' ') && w.len() >= 5)
                        .map(move |w| (w, m))
                })
                .collect()
        });
    &WORDS
}

/// Finds entities, longest first, and returns the words with placeholders plus the slots.
///
/// A span not found exactly is tried against the service, cluster and metric names one
/// slip away ("chekout", "memry"), when none of its words is one the samples use
/// (`is_word`): those are never taken for part of a misheard name.
fn extract(
    words: &[String],
    catalog: &Catalog,
    alarms: &[String],
    is_word: &dyn Fn(&str) -> bool,
) -> (Vec<String>, Slots) {
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
    // Aliases after every real name, so a cluster really called "production" is itself.
    for cluster in &catalog.clusters {
        let aliases = CLUSTER_ALIASES
            .iter()
            .find(|(name, _)| *name == key(cluster))
            .map_or(&[][..], |(_, aliases)| *aliases);
        for alias in aliases {
            names
                .entry((*alias).to_owned())
                .or_insert((Slot::Cluster, cluster));
        }
    }
    let near = |span: &[String]| -> Option<(Slot, String)> {
        // Every word of it unknown: a word the samples use is itself, never part of a
        // misheard name ("is checkout" is not "ischeckout").
        if span
            .iter()
            .any(|w| is_word(w) || is_stopword(w) || w.starts_with('{'))
        {
            return None;
        }
        let joined = span.concat();
        let len = joined.chars().count();
        if len < 5 || joined.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        let most = if len >= 10 { 2 } else { 1 };
        let mut best: Option<(usize, Slot, &str)> = None;
        let mut tied = false;
        let candidates = names
            .iter()
            .filter(|(_, (slot, _))| *slot != Slot::Alarm)
            .map(|(k, (slot, value))| (k.as_str(), *slot, *value))
            .chain(
                metric_words()
                    .iter()
                    .filter(|_| span.len() == 1)
                    .map(|(w, m)| (*w, Slot::Metric, m.slot_value())),
            );
        for (k, slot, value) in candidates {
            if k.chars().count().abs_diff(len) > most {
                continue;
            }
            let d = strsim::osa_distance(&joined, k);
            if d > most {
                continue;
            }
            match &best {
                Some((bd, bslot, bvalue)) if *bd == d => {
                    tied |= *bslot != slot || *bvalue != value;
                }
                Some((bd, ..)) if *bd < d => {}
                _ => {
                    best = Some((d, slot, value));
                    tied = false;
                }
            }
        }
        best.filter(|_| !tied)
            .map(|(_, slot, value)| (slot, value.to_owned()))
    };
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
        let exact = |len: usize| {
            let span = &words[i..i + len];
            names
                .get(&span.concat())
                .filter(|(slot, _)| match slot {
                    Slot::Alarm => len >= 2,
                    // "pay ments a p i": a name spelt out runs long.
                    Slot::Service => len <= 6,
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
                })
        };
        let longest = 8.min(words.len() - i);
        let found = (1..=longest)
            .rev()
            .find_map(|len| exact(len).map(|f| (len, f)))
            .or_else(|| {
                (1..=3.min(longest))
                    .rev()
                    .find_map(|len| near(&words[i..i + len]).map(|f| (len, f)))
            });
        if let Some((len, (slot, value))) = found {
            i += len;
            if slots.contains_key(&slot) {
                // A second name of the same kind: keep the first, skip this one.
                continue 'outer;
            }
            slots.insert(slot, value);
            out.push(format!("{{{}}}", slot.name()));
            continue 'outer;
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
        "second", "seconds", "minute", "minutes", "min", "mins", "hour", "hours", "hr", "hrs",
        "day", "days", "week", "weeks",
    ];
    let first = words.first()?.as_str();
    if first == "today" || first == "yesterday" {
        return Some(1);
    }
    if first == "half" {
        // "half hour", "half an hour"
        return (2..=3.min(words.len())).find(|len| words[len - 1] == "hour");
    }
    // "over thirty minutes", "for 2 hours": a count after these is a window too.
    // Not "a" or "an": "hang on for a second" is no window.
    let counted = matches!(first, "over" | "for" | "within" | "in")
        && words.get(1).is_some_and(|w| {
            w.chars().all(|c| c.is_ascii_digit())
                || w != "a"
                    && w != "an"
                    && (w == "couple" || crate::dialog::slots::NUMBERS.iter().any(|(n, _)| n == w))
        });
    if !matches!(first, "last" | "past" | "previous") && !counted {
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
        let (marked, slots) = extract(
            &tokens("how's check out doing"),
            &catalog(),
            &alarms(),
            &|_| true,
        );
        assert_eq!(marked, ["how", "is", "{service}", "doing"]);
        assert_eq!(slots[&Slot::Service], "checkout");
        let (_, slots) = extract(
            &tokens("what's the p99 latency of payments API over the last 2 hours"),
            &catalog(),
            &alarms(),
            &|_| true,
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

    fn understood(text: &str) -> Understanding {
        Nlu::embedded()
            .unwrap()
            .understand(text, &catalog(), &alarms(), None)
    }

    #[test]
    fn requests_it_cannot_answer_are_not_answered_as_questions() {
        for text in [
            "what's a good place for dinner",
            "play something by the beatles",
            "zxq vrrp lorem",
        ] {
            assert_eq!(understood(text).intent, Intent::Fallback, "{text}");
        }
        for text in [
            "restart checkout",
            "roll back payments please",
            "page whoever is on call",
            // Words it has never seen, but a request to act all the same.
            "could somebody bounce the flux capacitor",
            // An order, whatever else its words look like.
            "ack it",
            "please just create a ticket for the outage",
            "stop the checkout tasks",
        ] {
            assert_eq!(understood(text).intent, Intent::UnsupportedAction, "{text}");
        }
        // Words it does not know taken for a service's name only when the rest is sure.
        assert_eq!(
            understood("how's the weather in seattle today").intent,
            Intent::Fallback
        );
        let u = understood("how is frobnicator doing");
        assert_eq!(u.intent, Intent::ServiceHealth);
        assert_eq!(u.slots[&Slot::Service], "frobnicator");
        // The same verbs, not ordering anything of ours.
        assert_eq!(understood("call my wife").intent, Intent::Fallback);
        assert_eq!(understood("stop").intent, Intent::Stop);
        assert_eq!(understood("cancel that").intent, Intent::Cancel);
        for text in [
            "give me checkout's cpu",
            "open alarms on checkout",
            "restart",
        ] {
            assert!(!orders_action(&tokens(text)), "{text}");
        }
        assert!(orders_action(&tokens("open an incident")));
        // The words that follow tell an order from a question about the same thing.
        for (text, order) in [
            ("restart count on {service}", false),
            ("rollback status for {service}", false),
            ("call volume on {service}", false),
            ("the page about {service} latency", false),
            ("a page just fired for {service}", false),
            ("cancel that", false),
            ("stop reading the alarms", false),
            ("can we restart {service}", true),
            ("page the on call", true),
            ("please roll back", true),
            ("scale it up", true),
            ("turn off {service}", true),
            ("turn off the lights", false),
            ("reset the {alarm}", true),
            ("resolve the incident", true),
        ] {
            assert_eq!(orders_action(&tokens(text)), order, "{text}");
        }
    }

    #[test]
    fn chat_spellings_and_slips_read_as_the_words_meant() {
        assert_eq!(tokens("wat are u doing"), ["what", "are", "you", "doing"]);
        // A letter spelt out stays a letter.
        assert_eq!(tokens("c p u"), ["c", "p", "u"]);
        assert_eq!(tokens("is the u i up"), ["is", "the", "u", "i", "up"]);
        assert_eq!(tokens("up w/ checkout"), ["up", "with", "checkout"]);
        assert_eq!(tokens("re-deploy it"), ["redeploy", "it"]);
        // Words that mean a state or a whole, not a name.
        assert_eq!(
            understood("what's in alarm for checkout").intent,
            Intent::ActiveAlarms
        );
        let u = understood("status of every service in prod");
        assert_eq!(u.intent, Intent::FleetSummary);
        assert_eq!(u.slots.get(&Slot::Service), None);
        // One slip from a sample's spelling ("alarms"), two from its canonical `alarm`.
        assert_eq!(understood("alrams firing?").intent, Intent::ActiveAlarms);
    }

    #[test]
    fn a_name_one_slip_off_and_a_cluster_by_another_name_are_found() {
        let u = understood("how is chekout doing");
        assert_eq!(u.intent, Intent::ServiceHealth);
        assert_eq!(u.slots[&Slot::Service], "checkout");
        let u = understood("any alarms in production");
        assert_eq!(u.intent, Intent::ActiveAlarms);
        assert_eq!(u.slots[&Slot::Cluster], "prod");
        // A word the samples use is never taken for part of a name.
        let (_, slots) = extract(
            &tokens("is checkout p99 latency high"),
            &catalog(),
            &alarms(),
            &|w| w == "is",
        );
        assert_eq!(slots[&Slot::Alarm], "checkout-p99-latency-high");
    }

    #[test]
    fn an_alarm_described_is_the_one_alarm_that_fits_or_left_to_the_dialog() {
        let alarms: Vec<String> = vec![
            "checkout-p99-latency-high".into(),
            "checkout-5xx-rate-high".into(),
            "payments-api-5xx-rate-high".into(),
        ];
        let words = |t: &str| tokens(t);
        assert_eq!(
            describe_alarm(
                &words("why is the checkout latency alarm firing"),
                &[],
                &alarms,
                &|_| false
            ),
            Described::One("checkout-p99-latency-high".into())
        );
        assert_eq!(
            describe_alarm(
                &words("the payments a p i five x x alarm"),
                &[],
                &alarms,
                &|_| false
            ),
            Described::One("payments-api-5xx-rate-high".into())
        );
        assert_eq!(
            describe_alarm(&words("the checkout alarm"), &[], &alarms, &|_| false),
            Described::OnlyTheService
        );
        // The service said must be in the name: pricing has none of these.
        assert_eq!(
            describe_alarm(
                &words("pricing 5xx alarm"),
                &["pricing".into()],
                &alarms,
                &|_| false
            ),
            Described::Unsure
        );
        // So must a word that could be a name's.
        assert_eq!(
            describe_alarm(&words("pricing 5xx rate alarm"), &[], &alarms, &|w| w
                == "pricing"),
            Described::Unsure
        );
        // An alarm it was not told of is left to the dialog as the words of its name, said
        // in one piece: not the words around it.
        for text in [
            "why is the pricing five xx rate high alarm going off",
            "what set off pricing 5xx rate high",
        ] {
            let u = understood(text);
            assert_eq!(u.intent, Intent::AlarmDetail, "{text}");
            assert_eq!(u.slots[&Slot::Alarm], "pricing 5xx rate high", "{text}");
        }
        assert_eq!(
            description_words(&words("the pay ments a p i alarm")),
            ["the", "pay", "ments", "api", "alarm"]
        );
    }
}
