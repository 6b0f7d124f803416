//! Entities: the names of services, clusters and alarms, metric words and time windows found
//! in the words and replaced by `{slot}` placeholders, a name one slip off included.

use std::collections::HashMap;

use super::tokens::{FILLERS, canonical_word, is_stopword, tokens};
use crate::dialog::resolve::key;
use crate::ops::{Catalog, MetricKind};
use crate::vocab::{Slot, Slots};

/// `text` as a sample utterance of an intent that takes the slots `takes`: lowercase,
/// fillers dropped, and every name found replaced by its `{slot}` reference; with the slots
/// found. A time is the intent's kind of time: "for thirty minutes" is a silence's
/// `for {duration}`, "an hour" a metric's `{window}`. For turning labelled phrasings into
/// samples (`opsvoice nlu samples`).
#[must_use]
pub fn sample_form(
    text: &str,
    catalog: &Catalog,
    alarms: &[String],
    takes: &[Slot],
) -> (String, Slots) {
    let words: Vec<String> = tokens(text)
        .into_iter()
        .filter(|w| !FILLERS.contains(&w.as_str()))
        .collect();
    let (mut marked, mut slots) = extract(&words, catalog, alarms, &|_| true);
    let takes = |slot: Slot| takes.contains(&slot);
    let said_duration = slots.get(&Slot::Duration).cloned();
    let moved = fit_time(&takes, &mut slots);
    // An end time dropped as no window ("what did I miss overnight") is words again.
    if let Some(end) =
        said_duration.filter(|_| moved.is_none() && !slots.contains_key(&Slot::Duration))
    {
        marked = marked
            .into_iter()
            .flat_map(|w| {
                if w == "{duration}" {
                    end.split_whitespace().map(str::to_owned).collect()
                } else {
                    vec![w]
                }
            })
            .collect();
    }
    if let Some(moved) = moved {
        let (from, to) = match moved {
            Slot::Duration => ("{window}", "{duration}"),
            _ => ("{duration}", "{window}"),
        };
        // A window found as "for thirty minutes" took its "for" along; a duration says it.
        let lead = slots
            .get(&moved)
            .and_then(|v| v.split_whitespace().next())
            .filter(|w| WINDOW_LEADS.contains(w) && moved == Slot::Duration)
            .map(str::to_owned);
        marked = marked
            .into_iter()
            .flat_map(|w| match (&lead, w == from) {
                (Some(lead), true) => vec![lead.clone(), to.to_owned()],
                (None, true) => vec![to.to_owned()],
                (_, false) => vec![w],
            })
            .collect();
    }
    (marked.join(" "), slots)
}

/// A time found as one kind of slot given to an intent that takes the other: a window
/// ("for thirty minutes") is a silence's duration, a duration ("an hour") a metric's
/// window. Returns the slot the time moved to, if it moved.
pub(super) fn fit_time(takes: &dyn Fn(Slot) -> bool, slots: &mut Slots) -> Option<Slot> {
    let (from, to) = if takes(Slot::Duration) && !takes(Slot::Window) {
        (Slot::Window, Slot::Duration)
    } else if takes(Slot::Window) && !takes(Slot::Duration) {
        (Slot::Duration, Slot::Window)
    } else {
        return None;
    };
    if slots.contains_key(&to) {
        return None;
    }
    // An end ("overnight", "until 5pm") is no window: "what did I miss overnight" asks for
    // the catch-up, whose own window is since the person last looked.
    if from == Slot::Duration
        && slots
            .get(&from)
            .is_some_and(|v| crate::dialog::parse_duration(v).is_none())
    {
        slots.remove(&from);
        return None;
    }
    let value = slots.remove(&from)?;
    slots.insert(to, value);
    Some(to)
}

/// Words that lead a counted window ("for 2 hours", "over thirty minutes").
const WINDOW_LEADS: &[&str] = &["over", "for", "within", "in"];

/// Other names people use for a cluster: "production" for `prod`, and the like.
const CLUSTER_ALIASES: &[(&str, &[&str])] = &[
    ("prod", &["production"]),
    ("production", &["prod"]),
    ("staging", &["stage", "stg"]),
    ("stage", &["staging"]),
    ("dev", &["development"]),
    ("development", &["dev"]),
];

/// Words that take back the name said before them: "restart checkout, no wait, cart".
const CORRECTIONS: &[&str] = &[
    "wait",
    "sorry",
    "actually",
    "mean",
    "rather",
    "instead",
    "correction",
];

/// Words that are part of a service's name but said for other things too ("check the
/// logs", "the api", "clear the cache"): never taken for the service alone.
const NOT_ALIASES: &[&str] = &[
    "check",
    "log",
    "logs",
    "user",
    "users",
    "store",
    "connect",
    "export",
    "cache",
    "api",
    "mobile",
    "profile",
    "image",
    "feature",
    "sender",
    "web",
    "data",
    "service",
    "app",
    "job",
    "worker",
    "workers",
    "task",
    "tasks",
    "cat",
    "ship",
    "rep",
    "pay",
    "order",
    "sea",
    "ord",
    "inv",
    "not",
    "use",
    "red",
    "led",
    "aud",
    "fea",
    "ima",
    "ema",
    "gat",
    "pri",
    "repo",
    "res",
    "rev",
    "email",
    "sms",
    "ing",
    "int",
    "con",
    "sco",
    "fro",
    "che",
    "ind",
    "shi",
    // Technologies: "the redis cache" or "a kafka topic" need not be the service built on it.
    "redis",
    "kafka",
    "postgres",
    "mysql",
    "mongo",
    "nginx",
    "elastic",
    "rabbit",
    "memcached",
];

/// The other names of `catalog`'s services: each word of a name that no other service's
/// name has ("bff" for `mobile-bff`, "kafka" for `kafka-connect`, "indexer" for
/// `search-indexer`), and the short forms people type, a few letters of one such word
/// with an optional plural ("recs" and "reco" for `recommendations`, "notifs" for
/// `notifications`). Never a stopword, a word of [`NOT_ALIASES`], a service's own name or
/// a word two services share.
pub(super) fn service_aliases(catalog: &Catalog) -> Vec<(String, &str)> {
    let mut owners: HashMap<&str, Vec<&str>> = HashMap::new();
    for service in &catalog.services {
        for part in service.name.split(|c: char| !c.is_alphanumeric()) {
            let names = owners.entry(part).or_default();
            if !names.contains(&service.name.as_str()) {
                names.push(&service.name);
            }
        }
    }
    let own_names: std::collections::HashSet<String> =
        catalog.services.iter().map(|s| key(&s.name)).collect();
    let own_name = |w: &str| own_names.contains(w);
    let usable = |w: &str| {
        w.len() >= 2
            && w.chars().all(|c| c.is_ascii_alphabetic())
            && !is_stopword(w)
            && !NOT_ALIASES.contains(&w)
            && !own_name(w)
    };
    // Sorted, so the words a short form begins are one run (a catalog has thousands).
    let mut owners: Vec<(String, Vec<&str>)> = owners
        .into_iter()
        .filter(|(part, _)| part.len() >= 2 && part.is_ascii())
        .map(|(part, names)| (part.to_ascii_lowercase(), names))
        .collect();
    owners.sort();
    let mut aliases: Vec<(String, &str)> = Vec::new();
    for (part, names) in &owners {
        let [service] = names[..] else { continue };
        if !own_name(part) {
            aliases.push((format!("{part}s"), service));
            aliases.push((part.clone(), service));
        }
        // Short forms of a long word: three to five letters ("recs", "notif").
        if part.len() < 7 {
            continue;
        }
        for cut in 3..=5 {
            let short = &part[..cut];
            let from = owners.partition_point(|(other, _)| other.as_str() < short);
            let shared = owners[from..]
                .iter()
                .take_while(|(other, _)| other.starts_with(short))
                .any(|(_, n)| n.as_slice() != [service]);
            if !shared {
                aliases.push((short.to_owned(), service));
                aliases.push((format!("{short}s"), service));
            }
        }
    }
    aliases.retain(|(a, _)| usable(a));
    aliases.sort();
    aliases.dedup();
    aliases
}

/// `words` with each other name of a service ([`service_aliases`]) as the words of the
/// service's name: "recs tasks low" is "recommendations tasks low".
pub(super) fn with_service_names(words: &[String], catalog: &Catalog) -> Vec<String> {
    let aliases: HashMap<String, &str> = service_aliases(catalog).into_iter().collect();
    let mut out: Vec<String> = Vec::with_capacity(words.len());
    for w in words {
        match aliases.get(w) {
            Some(service) => {
                let name = crate::dialog::resolve::words(service);
                // "search indexer" said whole already: no "search search indexer".
                let said = usize::from(out.last().is_some_and(|l| name.first() == Some(l)));
                out.extend(name.into_iter().skip(said));
            }
            None => out.push(w.clone()),
        }
    }
    out
}

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
pub(super) fn extract(
    words: &[String],
    catalog: &Catalog,
    alarms: &[String],
    is_word: &dyn Fn(&str) -> bool,
) -> (Vec<String>, Slots) {
    let (marked, slots, _) = extract_all(words, catalog, alarms, is_word);
    (marked, slots)
}

/// [`extract`], and the kinds of name said more than once ("restart checkout and cart"
/// names two services; the slots keep the first).
pub(super) fn extract_all(
    words: &[String],
    catalog: &Catalog,
    alarms: &[String],
    is_word: &dyn Fn(&str) -> bool,
) -> (Vec<String>, Slots, Vec<Slot>) {
    let mut repeated: Vec<Slot> = Vec::new();
    // A correction said since the last name ("no wait", "sorry", "i mean").
    let mut corrected = false;
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
        // "payment api" for `payments-api`: any word of the name without its plural.
        let words = crate::dialog::resolve::words(&service.name);
        if words.len() > 1 {
            let singular: String = words
                .iter()
                .map(|w| w.strip_suffix('s').filter(|w| w.len() >= 3).unwrap_or(w))
                .collect();
            names
                .entry(singular)
                .or_insert((Slot::Service, &service.name));
        }
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
    // What people call a service by part of its name ("the bff", "recs"): said exactly,
    // never a slip from one ("price" is no short form of "pricing").
    let aliases: HashMap<String, &str> = service_aliases(catalog)
        .into_iter()
        .filter(|(alias, _)| !names.contains_key(alias))
        .collect();
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
    // The words the `{metric}` placeholder stands for, to put back.
    let mut metric_said = 0..0;
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
        // A time that is no window ("an hour", "90m", "until 5pm"): how long, for a silence.
        if let Some(len) = duration_span(&words[i..]).or_else(|| until_span(&words[i..])) {
            slots
                .entry(Slot::Duration)
                .or_insert_with(|| words[i..i + len].join(" "));
            out.push("{duration}".to_owned());
            i += len;
            continue;
        }
        // "scale web-frontend 10", "cart scale 4": a number right after the service's name
        // or "scale" in an order to scale is the count asked for.
        let scaling = words
            .iter()
            .any(|w| matches!(w.as_str(), "scale" | "scaled"));
        let before = match i.checked_sub(1).map(|p| words[p].as_str()) {
            Some(_) if corrected && slots.contains_key(&Slot::Count) => Some("to"),
            Some(_)
                if scaling
                    && matches!(out.last().map(String::as_str), Some("{service}" | "scale")) =>
            {
                Some("to")
            }
            before => before,
        };
        if let Some(len) = count_span(&words[i..], before) {
            let said = words[i..i + len].join(" ");
            if let Some(n) = crate::dialog::slots::parse_count(&said) {
                // "from 2 to 3 tasks": the count asked for is the one after "to"; "two no
                // make it three": the one after a correction.
                if i > 0 && words[i - 1] == "to" || corrected {
                    corrected = false;
                    slots.insert(Slot::Count, n.to_string());
                } else {
                    slots.entry(Slot::Count).or_insert_with(|| n.to_string());
                }
                out.push("{count}".to_owned());
                i += len;
                continue;
            }
        }
        let exact = |len: usize| {
            let span = &words[i..i + len];
            names
                .get(&span.concat())
                .filter(|(slot, _)| match slot {
                    Slot::Alarm => len >= 2,
                    // "serving stale data": a cluster's name said as the word it is.
                    Slot::Cluster
                        if i > 0
                            && matches!(
                                words[i - 1].as_str(),
                                "stale"
                                    | "bad"
                                    | "old"
                                    | "wrong"
                                    | "corrupt"
                                    | "corrupted"
                                    | "missing"
                                    | "duplicate"
                                    | "fresh"
                                    | "more"
                                    | "less"
                                    | "much"
                                    | "some"
                                    | "any"
                                    | "our"
                                    | "your"
                                    | "their"
                            )
                            && !words.get(i + len).is_some_and(|w| w.starts_with("cluster")) =>
                    {
                        false
                    }
                    // "pay ments a p i": a name spelt out runs long.
                    Slot::Service => len <= 6,
                    _ => len <= 3,
                })
                .map(|(slot, value)| (*slot, (*value).to_owned()))
                .or_else(|| {
                    (len == 1)
                        .then(|| aliases.get(&span[0]))
                        .flatten()
                        .map(|service| (Slot::Service, (*service).to_owned()))
                })
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
            if slots.get(&slot).is_some_and(|first| *first != value) {
                // "restart checkout no wait cart": a second name after a correction is the
                // one meant. Else a second name of the same kind: keep the first, skip this.
                if corrected {
                    slots.insert(slot, value);
                    corrected = false;
                } else {
                    repeated.push(slot);
                }
                continue 'outer;
            }
            if slots.contains_key(&slot) {
                continue 'outer;
            }
            if slot == Slot::Metric {
                metric_said = i - len..i;
            }
            slots.insert(slot, value);
            out.push(format!("{{{}}}", slot.name()));
            continue 'outer;
        }
        // "restart cart no catalog", "to two no make it three": a "no" after what it takes back.
        let no_then = words[i] == "no"
            && i > 0
            && !matches!(
                words[i - 1].as_str(),
                "is" | "are" | "say" | "said" | "with" | "have"
            );
        corrected |= !slots.is_empty()
            && (CORRECTIONS.contains(&words[i].as_str())
                || no_then
                || words[i] == "make"
                    && matches!(words.get(i + 1).map(String::as_str), Some("that" | "it")));
        out.push(words[i].clone());
        i += 1;
    }
    // "the pricing 5xx alarm" describes an alarm; its metric word is part of the name.
    let about_alarms = words.iter().any(|w| canonical_word(w) == "alarm");
    if about_alarms && slots.contains_key(&Slot::Metric) && !slots.contains_key(&Slot::Alarm) {
        slots.remove(&Slot::Metric);
        return (unmark_metric(&out, &words[metric_said]), slots, repeated);
    }
    // "what errors is checkout logging", "top errors for checkout": errors in the logs are
    // what they say (LogErrors), not the error rate (MetricQuery), so "errors" stays a word.
    if slots.get(&Slot::Metric).is_some_and(|m| m == "errors") && errors_said_as_text(words) {
        slots.remove(&Slot::Metric);
        return (unmark_metric(&out, &words[metric_said]), slots, repeated);
    }
    (out, slots, repeated)
}

/// Whether "errors" in `words` are what the errors say, not how many: said with a word of
/// logs ("logging", "exceptions", "top"), asked as "what errors" or "what's the error" (not
/// "what's the error rate"), or since a deployment ("errors since the deploy": what it
/// brought).
fn errors_said_as_text(words: &[String]) -> bool {
    let w = |i: usize| words.get(i).map_or("", String::as_str);
    let measure = |i: usize| matches!(w(i), "rate" | "rates" | "count" | "percentage" | "percent");
    let error = |i: usize| matches!(w(i), "error" | "errors");
    let since_deploy = words.iter().enumerate().any(|(i, word)| {
        word == "since"
            && [w(i + 1), w(i + 2)]
                .iter()
                .any(|x| matches!(*x, "deploy" | "deployment" | "release" | "rollout"))
    });
    let asks_what = (0..words.len()).any(|i| {
        // ("what's" is read as "what is".)
        let what = matches!(w(i), "what" | "which");
        (what && error(i + 1) && !measure(i + 2))
            || (w(i) == "what"
                && w(i + 1) == "is"
                && w(i + 2) == "the"
                && error(i + 3)
                && !measure(i + 4))
    });
    // "what's it erroring on", "errors from the last hour, what are they", "show me its
    // errors".
    let erroring_on =
        (0..words.len()).any(|i| w(i) == "erroring" && matches!(w(i + 1), "on" | "with" | "about"));
    let what_they_are = (0..words.len()).any(|i| {
        w(i) == "what" && matches!(w(i + 1), "are" | "were") && matches!(w(i + 2), "they" | "those")
    });
    let shown = (0..words.len()).any(|i| {
        matches!(w(i), "show" | "read" | "list")
            && (i + 1..(i + 5).min(words.len())).any(|j| error(j) && !measure(j + 1))
    });
    // "how many failures has it logged", "just the number": a count all the same.
    let counted = (0..words.len()).any(|i| {
        (w(i) == "how" && w(i + 1) == "many")
            || (matches!(w(i), "number" | "count") && w(i + 1) == "of")
            || (w(i) == "the" && w(i + 1) == "number")
    });
    if counted {
        return false;
    }
    // "why is cart throwing 500s" asks what the errors are; "is cart throwing errors" how
    // many.
    let why_throwing = words.iter().any(|x| x == "why")
        && words
            .iter()
            .any(|x| matches!(x.as_str(), "throwing" | "throws" | "erroring" | "failing"));
    words.iter().any(|x| LOG_WORDS.contains(&x.as_str()))
        || why_throwing
        || since_deploy
        || asks_what
        || erroring_on
        || what_they_are
        || shown
}

/// Words that make "errors" the errors a service logs rather than its error rate.
const LOG_WORDS: &[&str] = &[
    "log",
    "logs",
    "logging",
    "logged",
    "exception",
    "exceptions",
    "stack",
    "trace",
    "traces",
    "stacktrace",
    "stacktraces",
    "say",
    "saying",
    "says",
    "message",
    "messages",
    "pattern",
    "patterns",
    "top",
    "common",
    "kind",
    "kinds",
    "grep",
    "msg",
    "msgs",
    "dump",
    "summarise",
    "summarize",
    "summary",
    "complaining",
    "moaning",
    "spewing",
];

/// `marked` with its `{metric}` placeholder as the words `said` it stood for.
fn unmark_metric(marked: &[String], said: &[String]) -> Vec<String> {
    marked
        .iter()
        .flat_map(|token| {
            if token == "{metric}" {
                said.to_vec()
            } else {
                vec![token.clone()]
            }
        })
        .collect()
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

/// Units a duration is said in (not seconds: "hang on a second" is no duration).
const DURATION_UNITS: &[&str] = &[
    "minute", "minutes", "min", "mins", "hour", "hours", "hr", "hrs", "day", "days", "week",
    "weeks",
];

/// The length of a duration at the start of `words` ("an hour", "thirty minutes", "an hour
/// and a half", "90m", "1h"), if there is one. Windows are found first: "the last hour" is
/// no duration.
fn duration_span(words: &[String]) -> Option<usize> {
    let first = words.first()?.as_str();
    // "90m", "1h", "2hrs", "30min": digits with their unit.
    let digits = first.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && digits < first.len() {
        let unit = &first[digits..];
        return matches!(unit, "m" | "h" | "d" | "min" | "mins" | "hr" | "hrs").then_some(1);
    }
    let amount = match crate::dialog::slots::spoken_count(words) {
        Some((_, len)) => len,
        // "the next hour": one.
        None if first.chars().all(|c| c.is_ascii_digit())
            || first == "a"
            || first == "an"
            || first == "next" =>
        {
            1
        }
        None => return None,
    };
    let unit = words.get(amount)?;
    if !DURATION_UNITS.contains(&unit.as_str()) {
        return None;
    }
    let mut len = amount + 1;
    // "an hour and a half".
    if words[len..].starts_with(&["and".to_owned(), "a".to_owned(), "half".to_owned()]) {
        len += 3;
    }
    Some(len)
}

/// The length of an end time at the start of `words` ("until 5pm", "till tomorrow morning",
/// "overnight", "the rest of the day", "over the weekend"), if there is one: the longest
/// run of up to six words that [`crate::dialog::parse_silence_length`] reads as an end.
/// It begins with a word that leads an end, never with one that only may ("the morning" of
/// "what happened in the morning" is no end).
fn until_span(words: &[String]) -> Option<usize> {
    let first = words.first()?.as_str();
    let second = words.get(1).map(String::as_str);
    let leads = crate::dialog::slots::UNTIL.contains(&first)
        || matches!(first, "overnight" | "rest" | "eod" | "cob")
        || (first == "the" && second == Some("rest"))
        || (first == "for" && second == Some("the"))
        || (first == "over" && matches!(second, Some("the" | "weekend")));
    if !leads {
        return None;
    }
    // Any fixed moment will do: only whether the words read as an end matters here.
    let then = std::time::UNIX_EPOCH + crate::dialog::slots::SOME_MOMENT;
    (1..=6.min(words.len()))
        .rev()
        .find(|&len| crate::dialog::parse_silence_length(&words[..len].join(" "), then).is_some())
}

/// Words naming what a count counts.
const COUNTED: &[&str] = &[
    "task",
    "tasks",
    "worker",
    "workers",
    "instance",
    "instances",
    "replica",
    "replicas",
    "container",
    "containers",
    "copy",
    "copies",
    "pod",
    "pods",
];

/// The length of a count of tasks at the start of `words`, after the word `before`: a number
/// said as a target ("to 5", "to twelve", "at a dozen", "8 tasks"), not as a change ("add 2
/// more tasks", "by three") or anything else ("sev one").
fn count_span(words: &[String], before: Option<&str>) -> Option<usize> {
    let first = words.first()?.as_str();
    let len = if first.chars().all(|c| c.is_ascii_digit()) {
        1
    } else if first == "a" && words.get(1).is_some_and(|w| w == "single") {
        // "to a single task".
        2
    } else if matches!(first, "few" | "couple" | "none") {
        return None;
    } else {
        crate::dialog::slots::spoken_count(words)?.1
    };
    let after = words.get(len).map(String::as_str);
    let more = |w: &str| matches!(w, "more" | "extra" | "additional" | "fewer" | "less");
    let relative = matches!(
        before,
        Some("add" | "by" | "remove" | "another" | "extra" | "plus" | "minus" | "more")
    ) || after.is_some_and(more);
    // What it counts follows it, maybe after the service's name ("4 redis proxy tasks").
    let counts_tasks = words[len..]
        .iter()
        .take(4)
        .take_while(|w| !more(w))
        .any(|w| COUNTED.contains(&w.as_str()));
    // "desired count 5".
    let target = matches!(before, Some("to" | "at" | "count")) || counts_tasks;
    (target && !relative).then_some(len)
}
