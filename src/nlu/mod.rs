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
//!    know: they become the slot the intent's file marks `guess = true` (its service), for
//!    the dialog's fuzzy matcher to resolve or ask about.
//!
//! A request led by an order's verb (the `[orders]` of `intents/UnsupportedAction.toml`) is
//! `UnsupportedAction` whatever its other words.
//!
//! The parts: `intents` (the model as written, and its rules), `tokens` (words and what they
//! mean), `spelling` (slips), `entities` (names, metrics and windows found), `alarm`
//! (alarms described), `order` (orders versus questions), [`model`] (the classifier) and
//! [`eval`] (its evaluation); this file glues them into [`Nlu::understand`].

mod alarm;
mod entities;
pub mod eval;
mod intents;
pub mod model;
mod order;
mod spelling;
mod tokens;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::ops::Catalog;
use crate::vocab::{Intent, Slot, Slots};
use alarm::{Described, describe_alarm, description_words, longest_run, may_describe};
use entities::{extract, extract_all};
use model::{Classifier, Example};
use order::OrderVerbs;
use spelling::Spelling;
use tokens::{canonical, canonical_word, is_ignored, is_stopword, tokens};

pub use entities::sample_form;
pub use intents::{
    ACTION_INTENTS, BUILTINS_FILE, Confirm, INTENT_FILES, IntentDef, MIN_SAMPLES, ModelError,
    OUT_OF_DOMAIN_FILE, SlotDef, embedded_model, out_of_domain, overlaps, validate,
};

/// Below this probability the utterance is not understood (tuned on the tuning splits,
/// `tests/nlu/dev.tsv` and `dev2.tsv`: the middle of the best plateau, 0.25 to 0.35, where
/// out of domain is recognised as often as at 0.40; `opsvoice nlu eval` prints how other
/// values would do).
pub const THRESHOLD: f64 = 0.3;

/// A metric's word ("errors", "latency"). Anywhere but a question about logs it is found
/// as the `{metric}` slot before words are looked at, so the words samples use leave it out:
/// that LogErrors' samples say "errors" changes nothing for an alarm described as "the
/// checkout errors alarm" (its words no sample uses are its name). Kept as itself when a
/// question about logs leaves it a word.
fn is_metric_word(word: &str) -> bool {
    crate::ops::MetricKind::parse(word).is_some()
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
    /// The slot of each intent that words no sample uses are taken for (`guess = true`).
    guessed: HashMap<Intent, Slot>,
    /// The verbs that make a request an order.
    orders: Arc<OrderVerbs>,
    /// Below this probability an utterance is not understood.
    threshold: f64,
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

impl Nlu {
    /// Trains the matcher on intent definitions and out-of-domain examples (requests
    /// opsvoice cannot answer, one per entry, `{slot}` references allowed).
    #[must_use]
    pub fn new(defs: &[IntentDef], out_of_domain: &[&str]) -> Self {
        let mut classes: Vec<Intent> = vec![Intent::Fallback];
        let mut slots: HashMap<Intent, HashSet<Slot>> = HashMap::new();
        let mut guessed: HashMap<Intent, Slot> = HashMap::new();
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
            if let Some(slot) = def
                .slots
                .iter()
                .find(|s| s.guess)
                .and_then(|s| Slot::parse(&s.name))
            {
                guessed.insert(intent, slot);
            }
            for sample in &def.samples {
                let words = tokens(sample);
                spellings.extend(
                    words
                        .iter()
                        .filter(|w| !w.starts_with('{') && !is_metric_word(w))
                        .cloned(),
                );
                samples.push((class, canonical(&words)));
            }
        }
        let mut vocab: Vec<String> = samples
            .iter()
            .flat_map(|(_, words)| {
                words
                    .iter()
                    .filter(|w| !w.starts_with('{') && !is_metric_word(w))
                    .cloned()
            })
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
            guessed,
            orders: Arc::new(OrderVerbs::new(
                defs.iter().filter_map(|d| d.orders.as_ref()),
            )),
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
        // So is one to silence: every intent that takes an alarm learns it.
        let about_alarm: Vec<usize> = (0..classes.len())
            .filter(|c| {
                nlu.slots
                    .get(&classes[*c])
                    .is_some_and(|t| t.contains(&Slot::Alarm))
            })
            .collect();
        for (class, words) in samples.iter().filter(|(c, _)| about_alarm.contains(c)) {
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
                if w.starts_with('{') || self.knows(w) || is_metric_word(w) {
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

    /// The likeliest intent that does not act, from the model's probabilities `p`, with its
    /// share of what is left once the actions are set aside.
    fn best_answering(&self, p: &[f32]) -> (Intent, f64) {
        let answering = |c: &usize| !ACTION_INTENTS.contains(&self.classes[*c]);
        let rest: f32 = (0..p.len()).filter(answering).map(|c| p[c]).sum();
        (0..p.len())
            .filter(answering)
            .max_by(|a, b| p[*a].total_cmp(&p[*b]))
            .map_or((Intent::Fallback, 0.0), |c| {
                let share = if rest > 0.0 { p[c] / rest } else { 0.0 };
                (self.classes[c], f64::from(share))
            })
    }

    /// Whether an action is asked of one thing: a service (or none named: the one talked
    /// about, or the dialog asks which), never a whole cluster or "everything"; one alarm,
    /// never "the alarms", "all alarms" or a service's alarms.
    fn one_target(&self, intent: Intent, words: &[String], slots: &Slots, alarm: Target) -> bool {
        let said = |list: &[&str]| words.iter().any(|w| list.contains(&w.as_str()));
        let all = said(&["all", "everything", "every", "whole", "entire", "fleet"]);
        let takes = |slot| self.slots.get(&intent).is_some_and(|t| t.contains(&slot));
        if takes(Slot::Alarm) {
            // "Alerts for X" may be one alarm's, when X is more than a service.
            let plural = said(&["alarms", "alerts"]) && !alarm.specific;
            return alarm.named
                || !all
                    && !plural
                    && (slots.contains_key(&Slot::Alarm) || !slots.contains_key(&Slot::Cluster));
        }
        slots.contains_key(&Slot::Service) || !all && !slots.contains_key(&Slot::Cluster)
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
        let words = verbs_respelt(tokens(text), catalog, |w| self.knows(&canonical_word(w)));
        let is_word = |w: &str| self.knows(&canonical_word(w));
        let (mut marked, mut slots, repeated) = extract_all(&words, catalog, alarms, &is_word);
        // The words an alarm may be described by: not a time ("snooze that alarm for thirty
        // minutes" describes no alarm "thirty minutes"), a service by its name ("recs" is
        // `recommendations`).
        let untimed = entities::with_service_names(
            &without_values(&words, &slots, &[Slot::Window, Slot::Duration]),
            catalog,
        );
        // A word that could be part of a name of something: none of ours, no sample's.
        let foreign = |w: &str| may_describe(w) && self.is_unknown(&canonical_word(w));
        // "mute kafka lag", "silence customer impact", "the recs tasks low alarm": an alarm
        // described, said with a word of silencing or of alarms, is that alarm named. Without
        // one it may be a question about the metric ("checkout latency").
        // Never "all the alarms on checkout", nor an alarm told by its service alone ("ack the
        // alarm on checkout"): those are for the dialog, or no one alarm.
        let mut described_alarm = false;
        let one_alarm = !slots.contains_key(&Slot::Alarm)
            && order::about_an_alarm(&words)
            && !order::about_many(&words);
        // The one firing alarm described, else the words of the description for the dialog
        // to find among every alarm ("snooze pricing 5xx": that alarm is not firing).
        let described = one_alarm
            .then(|| match describe_alarm(&untimed, &[], alarms, &foreign) {
                Described::One(name) => Some(name),
                // Only to silence or unsilence one: "make a new alarm for cart memory"
                // describes none of ours.
                Described::OnlyTheService | Described::Unsure
                    if order::silencing(&words) || !order::changes_an_alarm(&words) =>
                {
                    alarm::described_run(&untimed, alarms, catalog, &foreign)
                }
                Described::OnlyTheService | Described::Unsure => None,
            })
            .flatten();
        if let Some(name) = described
            && alarm::told_by_more_than_names(&untimed, &name, catalog)
        {
            marked = alarm::mark(&marked, &slots, &name);
            slots.remove(&Slot::Metric);
            if slots
                .get(&Slot::Cluster)
                .is_some_and(|c| alarm::in_name(c, &name))
            {
                slots.remove(&Slot::Cluster);
            }
            slots.insert(Slot::Alarm, name);
            described_alarm = true;
        }
        let (marked, slots) = (marked, slots);
        let mut shaped = self.shape(&canonical(&marked));
        // "the ml scoring cpu alarm": one alarm described (singular) reads as that alarm
        // named; "kafka connect alarms" is a list.
        if !slots.contains_key(&Slot::Alarm)
            && words
                .iter()
                .enumerate()
                .any(|(i, w)| (w == "alarm" || w == "alert") && (i == 0 || words[i - 1] != "in"))
            && matches!(
                describe_alarm(&untimed, &[], alarms, &foreign),
                Described::One(_)
            )
        {
            shaped.push("{alarm}".to_owned());
        }
        let mut p = self.model.probabilities(&features(&shaped));
        // Names only: a time or a number is said in questions and orders alike.
        let named: Vec<Slot> = slots
            .keys()
            .copied()
            .filter(|s| !matches!(s, Slot::Window | Slot::Duration | Slot::Count))
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
        let mut best = (self.classes[class], f64::from(confidence));
        // A question about an action ("did the restart of checkout finish", "who restarted
        // checkout") is never taken for the action: the likeliest intent that only answers.
        if ACTION_INTENTS.contains(&best.0) && order::asks_a_question(&words) {
            best = self.best_answering(&p);
        }
        // "yes roll it back", "yeah bounce it": a yes to the order read back, repeating its
        // verb. Only when it names nothing (no service, alarm, count or time): "yes, restart
        // checkout in staging" is an order of its own. Taken before the order in it is.
        if (ACTION_INTENTS.contains(&best.0) || best.0 == Intent::Yes)
            && slots.is_empty()
            && self.classes.contains(&Intent::Yes)
            && order::opens_with_yes(&words)
        {
            return Understanding {
                intent: Intent::Yes,
                slots,
                confidence: best.1.max(self.threshold),
            };
        }
        let mut slots = slots;
        // Words no sample uses, in a row: most likely a name we do not know or misheard.
        let unknown: Vec<&str> = marked
            .iter()
            .filter(|w| {
                !w.starts_with('{')
                    && !is_stopword(w)
                    && !is_ignored(w)
                    && !is_metric_word(w)
                    && self.is_unknown(&canonical_word(w))
            })
            .map(String::as_str)
            .collect();
        let informative = shaped
            .iter()
            .any(|w| !w.starts_with('{') && !is_stopword(w));

        // "five" or "to a dozen" when asked how many tasks.
        if let Some((intent, Slot::Count)) = expecting
            && let Some(count) = crate::dialog::slots::parse_count(text)
        {
            slots.insert(Slot::Count, count.to_string());
            return Understanding {
                intent,
                slots,
                confidence: best.1.max(self.threshold),
            };
        }
        if let Some((intent, slot)) = expecting
            && (!informative || best.1 < self.threshold)
        {
            let takes = self.slots.get(&intent);
            entities::fit_time(&|s| takes.is_some_and(|t| t.contains(&s)), &mut slots);
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
        // An order is an order whatever else its words look like ("ack it" is not "cancel",
        // "bounce the gateway" no health question): the action the model heard, else the
        // one its verb asks for, else one opsvoice cannot take. A request to act that the
        // model could not place is still one: it gets the honest "I can't", never "I didn't
        // get that".
        // The order may come last, after what prompted it: "that deploy broke user profile,
        // roll it back", "checkout five xx alarm, silence it".
        // An action the model is unsure of is still taken when its verb orders it.
        // The model's action stands unless the leading verb asks for another action ("can
        // you quiet the checkout latency alarm" is a silence, whatever the model heard).
        let order = if ACTION_INTENTS.contains(&best.0) && !not_understood {
            self.orders.order_verb(&marked).filter(|verb| {
                self.orders
                    .intent_of(verb)
                    .is_some_and(|i| i != best.0 && ACTION_INTENTS.contains(&i))
            })
        } else {
            self.orders.order_verb(&marked).or_else(|| {
                text.split([',', ';', '.', '!', '?'])
                    .skip(1)
                    .find_map(|clause| {
                        let (marked, _) = extract(&tokens(clause), catalog, alarms, &is_word);
                        self.orders.order_verb(&marked)
                    })
            })
        };
        // "restart my laptop", "mute the tv at home": an order, but to nothing of a fleet's.
        // Asked too: "did my rent payment go through" is no deploy of payments.
        if (self.orders.order_verb(&marked).is_some() && slots.is_empty()
            || !ACTION_INTENTS.contains(&best.0) && !slots.contains_key(&Slot::Alarm))
            && order::personal(&marked)
            && self.classes.contains(&Intent::Fallback)
        {
            return Understanding {
                intent: Intent::Fallback,
                slots: Slots::new(),
                confidence: best.1,
            };
        }
        if self.classes.contains(&Intent::UnsupportedAction) && self.orders.not_ours(&marked) {
            best.0 = Intent::UnsupportedAction;
        } else if let Some(verb) = &order
            && let Some(intent) = self.orders.intent_of(verb)
            && self.classes.contains(&intent)
        {
            best.0 = intent;
        } else if self.classes.contains(&Intent::UnsupportedAction)
            && (order.is_some() || not_understood && self.orders.asks_to_act(&words))
        {
            best.0 = Intent::UnsupportedAction;
        }
        let unsupported = |slots: Slots| Understanding {
            intent: Intent::UnsupportedAction,
            slots: slots
                .into_iter()
                .filter(|(s, _)| matches!(s, Slot::Service | Slot::Cluster))
                .collect(),
            confidence: best.1,
        };
        if best.0 == Intent::UnsupportedAction {
            return unsupported(slots);
        }
        // The service said as part of the alarm described is the alarm's, not another slot.
        if described_alarm
            && let Some(alarm) = slots.get(&Slot::Alarm).cloned()
            && slots
                .get(&Slot::Service)
                .is_some_and(|s| alarm::in_name(s, &alarm))
        {
            slots.remove(&Slot::Service);
        }
        // As said, before any of it is taken for an alarm's description.
        let named = slots.clone();
        // An action the model is unsure of is taken only when a verb orders it: a request
        // that merely resembles one ("give orders a little more capacity") is not read back.
        let not_understood =
            not_understood && !(ACTION_INTENTS.contains(&best.0) && order.is_some());
        let fallback = || Understanding {
            intent: Intent::Fallback,
            slots: Slots::new(),
            confidence: best.1,
        };
        if not_understood {
            return fallback();
        }
        let intent = best.0;
        // The intent's file says which slot, if any, words no sample uses may fill
        // (`guess = true`: the service of a health, deployment or metric question).
        // An order acts on what follows its verb: only words no sample uses there are a
        // name ("bounce the flux capacitor"), not words elsewhere ("scale prod up, it's
        // getting hammered" names prod, and no service).
        let unknown: Vec<&str> = if ACTION_INTENTS.contains(&intent) {
            order::verb_object(&marked)
                .iter()
                .map(String::as_str)
                .take_while(|w| unknown.contains(w))
                .collect()
        } else {
            unknown
        };
        // "top 5 error patterns": a number names no service.
        let unknown: Vec<&str> = unknown
            .into_iter()
            .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
            .collect();
        if let Some(&slot) = self.guessed.get(&intent)
            && !slots.contains_key(&slot)
            && !unknown.is_empty()
        {
            // Words it does not know, taken for a service no catalog has, on a guess: more
            // likely a request about something else ("how's the weather in seattle"). An
            // order to act on it is about ours, and the dialog says it knows no such service.
            if best.1 < UNKNOWN_NAME_CONFIDENCE && !ACTION_INTENTS.contains(&intent) {
                return fallback();
            }
            slots.insert(slot, unknown.join(" "));
        }
        let takes = |slot: Slot| self.slots.get(&intent).is_some_and(|t| t.contains(&slot));
        // "silence the checkout alarm": the alarm, described by the service's name alone.
        if takes(Slot::Alarm)
            && !takes(Slot::Service)
            && let (false, Some(service)) = (
                slots.contains_key(&Slot::Alarm),
                slots.get(&Slot::Service).cloned(),
            )
            && matches!(
                describe_alarm(&untimed, &[], alarms, &foreign),
                Described::OnlyTheService
            )
        {
            slots.remove(&Slot::Service);
            slots.insert(Slot::Alarm, service);
        }
        if matches!(
            intent,
            Intent::AlarmDetail | Intent::SilenceAlarm | Intent::UnsilenceAlarm
        ) && !slots.contains_key(&Slot::Alarm)
        {
            // Spoken alarm names are descriptions: "the checkout latency alarm". One alarm
            // whose name has every describing word is the one; else keep the describing
            // words for the dialog's fuzzy match: those no sample uses, and those some
            // alarm's name uses ("running tasks").
            let service_words = slots
                .get(&Slot::Service)
                .map(|s| crate::dialog::resolve::words(s))
                .unwrap_or_default();
            match describe_alarm(&untimed, &service_words, alarms, &foreign) {
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
                    let describing = longest_run(description_words(&untimed), |w| {
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
        // An action is taken on one service or one alarm at a time: "restart everything in
        // prod" and "mute all the checkout alarms" are orders opsvoice cannot take.
        if ACTION_INTENTS.contains(&intent) {
            // Alarms described by more than the service's and the cluster's names: "alerts
            // for search indexer queue depth" are one alarm's, "the checkout alerts" all of
            // checkout's.
            let alarm_words: HashSet<String> = alarms
                .iter()
                .flat_map(|a| crate::dialog::resolve::words(a))
                .collect();
            let names: HashSet<String> = [Slot::Service, Slot::Cluster]
                .iter()
                .filter_map(|s| named.get(s))
                .flat_map(|n| crate::dialog::resolve::words(n))
                .collect();
            let specific = longest_run(description_words(&untimed), |w| {
                foreign(w) || alarm_words.contains(w) && may_describe(w)
            })
            .iter()
            .any(|w| !names.contains(w));
            let alarm = Target {
                named: named.contains_key(&Slot::Alarm),
                specific,
            };
            if !self.one_target(intent, &words, &slots, alarm) {
                return unsupported(named);
            }
            // "restart checkout and cart": two services (or alarms) at once, no one target.
            let joined = words
                .iter()
                .any(|w| matches!(w.as_str(), "and" | "&" | "plus" | "both" | "too" | "also"));
            let two = |slot| takes(slot) && repeated.contains(&slot);
            if joined && (two(Slot::Service) || two(Slot::Alarm) && !takes(Slot::Service)) {
                let mut named = named;
                named.remove(&Slot::Service);
                return unsupported(named);
            }
        }
        // A time is the intent's kind of time; a name the intent cannot take says nothing to
        // its answer.
        entities::fit_time(&takes, &mut slots);
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

/// How the alarm of an action was said.
#[derive(Debug, Clone, Copy)]
struct Target {
    /// By its exact name.
    named: bool,
    /// Described by words other than a service's or a cluster's name.
    specific: bool,
}

/// `words` without the words of the values of `kinds` found in them (each said in one run).
fn without_values(words: &[String], slots: &Slots, kinds: &[Slot]) -> Vec<String> {
    let mut out = words.to_vec();
    for value in kinds.iter().filter_map(|k| slots.get(k)) {
        let said: Vec<&str> = value.split_whitespace().collect();
        if said.is_empty() || said.len() > out.len() {
            continue;
        }
        let at = out
            .windows(said.len())
            .position(|run| run.iter().zip(&said).all(|(w, s)| w == s));
        if let Some(at) = at {
            out.drain(at..at + said.len());
        }
    }
    out
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

/// The verbs of acting, which a typo must not hide ("umute", "silense", "unmuet").
const VERBS: &[&str] = &[
    "mute",
    "unmute",
    "silence",
    "unsilence",
    "snooze",
    "unsnooze",
    "restart",
    "rollback",
    "revert",
    "scale",
    "bounce",
    "redeploy",
    "alarm",
    "alert",
];

/// `words` with each unknown word of four letters or more one slip (a letter added, lost,
/// changed or two swapped) from one verb of [`VERBS`] respelt as it, the one with the same
/// first letter when two are that near ("umute" is "unmute"). Never a word one slip from a
/// word of a service's name.
fn verbs_respelt(
    words: Vec<String>,
    catalog: &Catalog,
    known: impl Fn(&str) -> bool,
) -> Vec<String> {
    let near = |a: &str, b: &str| strsim::osa_distance(a, b) <= 1;
    words
        .into_iter()
        .map(|w| {
            if w.chars().count() < 4 || !w.chars().all(|c| c.is_ascii_alphabetic()) || known(&w) {
                return w;
            }
            let a_name = catalog
                .services
                .iter()
                .flat_map(|s| crate::dialog::resolve::words(&s.name))
                .any(|n| near(&n, &w));
            if a_name {
                return w;
            }
            let close: Vec<&str> = VERBS.iter().copied().filter(|v| near(v, &w)).collect();
            let pick = match close[..] {
                [one] => Some(one),
                [..] => {
                    let first = w.chars().next();
                    let same: Vec<&str> = close
                        .iter()
                        .copied()
                        .filter(|v| v.chars().next() == first)
                        .collect();
                    (same.len() == 1).then(|| same[0])
                }
            };
            pick.map_or(w, str::to_owned)
        })
        .collect()
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
    fn a_silence_until_a_time_and_a_verb_typed_wrong_are_understood() {
        for (text, intent, duration) in [
            (
                "snooze checkout latency overnight",
                Intent::SilenceAlarm,
                Some("overnight"),
            ),
            (
                "mute checkout latency until 5pm",
                Intent::SilenceAlarm,
                Some("until 5pm"),
            ),
            (
                "mute checkout latency for the rest of the day",
                Intent::SilenceAlarm,
                Some("for the rest of the day"),
            ),
            ("umute checkout latency", Intent::UnsilenceAlarm, None),
            ("silense checkout latency", Intent::SilenceAlarm, None),
        ] {
            let got = understood(text);
            assert_eq!(got.intent, intent, "{text}");
            assert_eq!(
                got.slots.get(&Slot::Alarm).map(String::as_str),
                Some("checkout-p99-latency-high"),
                "{text}"
            );
            assert_eq!(
                got.slots.get(&Slot::Duration).map(String::as_str),
                duration,
                "{text}"
            );
        }
        // An end time is no window: the catch-up has its own.
        let got = understood("what did i miss overnight");
        assert_eq!(got.intent, Intent::WhatHappened);
        assert!(got.slots.is_empty(), "{:?}", got.slots);
        // A service's name typed wrong is not a verb.
        assert_eq!(
            understood("restart checkout")
                .slots
                .get(&Slot::Service)
                .map(String::as_str),
            Some("checkout")
        );
    }

    #[test]
    fn a_yes_that_repeats_the_order_confirms_it() {
        for text in ["yes roll it back", "yeah, bounce it", "sure, restart it"] {
            assert_eq!(understood(text).intent, Intent::Yes, "{text}");
        }
        // Naming a target makes it an order of its own.
        let u = understood("yes restart checkout");
        assert_eq!(u.intent, Intent::RestartService);
        assert_eq!(
            u.slots.get(&Slot::Service).map(String::as_str),
            Some("checkout")
        );
    }

    #[test]
    fn an_order_after_its_reason_is_an_order() {
        let u = understood("that deploy broke checkout, roll it back");
        assert_eq!(u.intent, Intent::RollbackService);
        assert_eq!(
            u.slots.get(&Slot::Service).map(String::as_str),
            Some("checkout")
        );
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
            "page whoever is on call",
            // Words it has never seen, but a request to act all the same.
            "could somebody escalate the flux capacitor",
            // An order, whatever else its words look like.
            "ack it",
            "please just create a ticket for the outage",
            "stop the checkout tasks",
            // An action it takes, but on more than one thing at once.
            "restart everything in prod",
            "roll back all the services in data",
            // The order acts on a cluster; words elsewhere name no service.
            "scale data up, it is getting swamped",
            "mute all the checkout alarms",
            "silence every alarm for an hour",
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
        // Only an intent whose file says `guess = true` takes them: ActiveAlarms does not.
        let u = understood("any alarms firing for frobnicator");
        assert_eq!(u.intent, Intent::ActiveAlarms);
        assert_eq!(u.slots.get(&Slot::Service), None);
        // The same verbs, not ordering anything of ours.
        assert_eq!(understood("call my wife").intent, Intent::Fallback);
        assert_eq!(understood("stop").intent, Intent::Stop);
        assert_eq!(understood("cancel that").intent, Intent::Cancel);
        let orders = &Nlu::embedded().unwrap().orders;
        for text in [
            "give me checkout's cpu",
            "open alarms on checkout",
            "restart",
        ] {
            assert!(orders.order_verb(&tokens(text)).is_none(), "{text}");
        }
        assert!(orders.order_verb(&tokens("open an incident")).is_some());
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
            assert_eq!(orders.order_verb(&tokens(text)).is_some(), order, "{text}");
        }
    }

    #[test]
    fn an_order_to_a_host_a_roll_forward_or_a_vague_scale_is_never_an_action() {
        // Each sounds like one of the actions, and acting on it would change the wrong thing.
        for text in [
            "reboot the instance shipping is on",
            "restart the ec2 host under checkout",
            "roll checkout forward",
            "bounce the node running cart",
            "scale search up a bit",
            "scale payments down a little",
            "set up a cron to restart notifications every night",
            "restart checkout every morning",
            "promote the canary for web-frontend to 100%",
            "roll out v3.2 of the gateway to 10 percent",
            "give notifications more cpu",
            "bump the memory on ml-scoring to 8 gigs",
        ] {
            assert_eq!(understood(text).intent, Intent::UnsupportedAction, "{text}");
        }
        // Nor is a request the model only half places among the actions.
        assert!(!ACTION_INTENTS.contains(&understood("give orders a little more capacity").intent));
        // A question about instances, and the actions themselves, are untouched.
        assert_eq!(
            understood("restart checkout").intent,
            Intent::RestartService
        );
        assert_eq!(
            understood("roll checkout back").intent,
            Intent::RollbackService
        );
        // A direction alone is asked back ("To how many tasks?"), a number taken.
        assert_eq!(understood("scale search up").intent, Intent::ScaleService);
        assert_eq!(
            understood("scale search up a bit to 6").intent,
            Intent::ScaleService
        );
        // Questions about the same things are questions.
        assert_eq!(
            understood("give me checkout's cpu").intent,
            Intent::MetricQuery
        );
        assert_eq!(
            understood("can you quiet the checkout latency alarm for a bit").intent,
            Intent::SilenceAlarm
        );
        assert_ne!(
            understood("how many instances does checkout run").intent,
            Intent::UnsupportedAction
        );
    }

    #[test]
    fn ending_a_silence_is_an_unsilence_and_a_silence_may_follow_its_alarm() {
        let u = understood("cancel the snooze on checkout-5xx-rate-high");
        assert_eq!(u.intent, Intent::UnsilenceAlarm);
        assert_eq!(
            u.intent,
            understood("end the silence on checkout-5xx-rate-high").intent
        );
        for text in [
            "resume alerts on checkout-5xx-rate-high",
            "turn checkout-5xx-rate-high alerts back on",
        ] {
            assert_eq!(understood(text).intent, Intent::UnsilenceAlarm, "{text}");
        }
        assert_eq!(
            understood("restore the previous version of image-cache").intent,
            Intent::RollbackService
        );
        // "cancel that" is still the built-in.
        assert_eq!(understood("cancel that").intent, Intent::Cancel);
        let orders = &Nlu::embedded().unwrap().orders;
        assert!(orders.order_verb(&tokens("silence for an hour")).is_some());
        assert!(orders.order_verb(&tokens("restart for an hour")).is_none());
    }

    #[test]
    fn short_units_single_tasks_and_numbers_that_name_nothing() {
        use crate::dialog::slots::{parse_count, parse_window};
        assert_eq!(parse_window("last 24h").map(|d| d.as_secs()), Some(86_400));
        assert_eq!(parse_window("past 45m").map(|d| d.as_secs()), Some(2700));
        assert_eq!(parse_count("a single"), Some(1));
        let u = understood("top 5 error patterns in the last hour");
        assert_eq!(u.intent, Intent::LogErrors);
        assert_eq!(u.slots.get(&Slot::Service), None);
        let u = understood("how much memory is kafka-connect using in data");
        assert_eq!(
            u.slots.get(&Slot::Cluster).map(String::as_str),
            Some("data")
        );
    }

    #[test]
    fn a_count_from_one_number_to_another_is_the_second() {
        let u = understood("take catalog from 2 to 3 tasks");
        assert_eq!(u.intent, Intent::ScaleService);
        assert_eq!(u.slots.get(&Slot::Count).map(String::as_str), Some("3"));
    }

    #[test]
    fn do_with_an_article_orders_and_do_with_a_subject_asks() {
        for (text, question) in [
            ("do a rolling restart of checkout", false),
            ("do me a favour and bounce it", false),
            ("do the rollback on pricing", false),
            ("do we restart checkout every night", true),
            ("do you know who restarted cart", true),
        ] {
            assert_eq!(order::asks_a_question(&tokens(text)), question, "{text}");
        }
    }

    #[test]
    fn orders_it_takes_are_their_intents_with_their_slots() {
        let slots = |pairs: &[(Slot, &str)]| -> Slots {
            pairs.iter().map(|(s, v)| (*s, (*v).to_owned())).collect()
        };
        for (text, intent, want) in [
            (
                "restart checkout",
                Intent::RestartService,
                slots(&[(Slot::Service, "checkout")]),
            ),
            (
                "roll back payments please",
                Intent::RollbackService,
                slots(&[(Slot::Service, "payments")]),
            ),
            (
                "scale payments api to a dozen tasks in prod",
                Intent::ScaleService,
                slots(&[
                    (Slot::Service, "payments-api"),
                    (Slot::Count, "12"),
                    (Slot::Cluster, "prod"),
                ]),
            ),
            // A change without a number: the dialog asks how many, never a guess.
            (
                "scale up checkout",
                Intent::ScaleService,
                slots(&[(Slot::Service, "checkout")]),
            ),
            (
                "add two more tasks to checkout",
                Intent::ScaleService,
                slots(&[(Slot::Service, "checkout")]),
            ),
            (
                "silence checkout p99 latency high for half an hour",
                Intent::SilenceAlarm,
                slots(&[
                    (Slot::Alarm, "checkout-p99-latency-high"),
                    (Slot::Duration, "half an hour"),
                ]),
            ),
            // Found as a window ("for thirty minutes"), given to the silence as its duration.
            (
                "snooze the checkout latency alarm for thirty minutes",
                Intent::SilenceAlarm,
                slots(&[
                    (Slot::Alarm, "checkout-p99-latency-high"),
                    (Slot::Duration, "for thirty minutes"),
                ]),
            ),
            ("mute it", Intent::SilenceAlarm, Slots::new()),
            // A time is no part of an alarm's description.
            (
                "snooze that alarm for thirty minutes",
                Intent::SilenceAlarm,
                slots(&[(Slot::Duration, "1800")]),
            ),
            (
                "unmute checkout p99 latency high",
                Intent::UnsilenceAlarm,
                slots(&[(Slot::Alarm, "checkout-p99-latency-high")]),
            ),
            // Words it has never seen, after a verb it knows: a service the dialog resolves.
            (
                "could somebody bounce the flux frobnicator",
                Intent::RestartService,
                slots(&[(Slot::Service, "flux frobnicator")]),
            ),
            (
                "restart frobnicator in prod",
                Intent::RestartService,
                slots(&[(Slot::Service, "frobnicator"), (Slot::Cluster, "prod")]),
            ),
        ] {
            let u = understood(text);
            assert_eq!(u.intent, intent, "{text}");
            assert!(
                crate::nlu::eval::same_slots(&want, &u.slots),
                "{text}: {:?}",
                u.slots
            );
        }
        // A bare answer to "to how many tasks?".
        let u = Nlu::embedded().unwrap().understand(
            "five",
            &catalog(),
            &alarms(),
            Some((Intent::ScaleService, Slot::Count)),
        );
        assert_eq!(
            (u.intent, u.slots[&Slot::Count].as_str()),
            (Intent::ScaleService, "5")
        );
        // A question about an action is never the action.
        for text in [
            "did the restart of checkout finish",
            "who restarted checkout",
            "is payments scaled to five",
            "how is the rollback of pricing going",
        ] {
            let u = understood(text);
            assert!(!ACTION_INTENTS.contains(&u.intent), "{text}: {u:?}");
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
