//! Alarm names as people say them: a description ("the checkout latency alarm") matched to
//! the one alarm it fits, or the words of a name said in one piece.

use super::spelling::Spelling;
use super::tokens::{canonical_word, is_ignored, is_stopword};
use crate::dialog::resolve::alarm_word;

/// What a spoken description of an alarm names.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Described {
    /// The one alarm whose name has every describing word.
    One(String),
    /// Several alarms, and no word but their service's name tells them apart.
    OnlyTheService,
    Unsure,
}

/// The words of a description, with spoken spellings joined: "m l scoring" is `ml scoring`,
/// "five x x" is `5xx`, "p ninety nine" is `p99`.
pub(super) fn description_words(words: &[String]) -> Vec<String> {
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
pub(super) fn may_describe(w: &str) -> bool {
    !is_stopword(w) && !is_ignored(w) && !NOT_DESCRIBING.contains(&w)
}

/// The runs of consecutive `words` that are `describing`, longest first (the earlier, of
/// equals). A word other than a stopword between two describing words is part of the name
/// too ("search indexer queue depth", though samples use "queue").
pub(super) fn runs(words: &[String], describing: impl Fn(&str) -> bool) -> Vec<Vec<String>> {
    let marks: Vec<bool> = words.iter().map(|w| describing(w)).collect();
    let bridges = |i: usize| {
        i > 0
            && i + 1 < words.len()
            && marks[i - 1]
            && marks[i + 1]
            && may_describe(&words[i])
            && canonical_word(&words[i]) != "alarm"
    };
    let mut found: Vec<std::ops::Range<usize>> = Vec::new();
    let mut start: Option<usize> = None;
    for (i, inside) in marks
        .iter()
        .enumerate()
        .map(|(i, &marked)| (i, marked || bridges(i)))
        .chain(std::iter::once((words.len(), false)))
    {
        match (inside, start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                found.push(from..i);
                start = None;
            }
            _ => {}
        }
    }
    // Stable: the earlier of equals stays first.
    found.sort_by_key(|r| std::cmp::Reverse(r.len()));
    found.into_iter().map(|r| words[r].to_vec()).collect()
}

/// The longest of [`runs`], or none.
pub(super) fn longest_run(words: Vec<String>, describing: impl Fn(&str) -> bool) -> Vec<String> {
    runs(&words, describing)
        .into_iter()
        .next()
        .unwrap_or_default()
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
pub(super) fn describe_alarm(
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
    // about which. A name is said in one piece: each run of them, longest first, until
    // one tells an alarm ("mute checkout latency overnight, load test tonight").
    let described: Vec<String> = description_words(words)
        .iter()
        .map(|w| alarm_word(w).to_owned())
        .collect();
    let mut outcome = Described::Unsure;
    let runs = runs(&described, |w| {
        let w = Spelling::new(w.to_owned());
        names.iter().any(|(_, name)| has_word(name, &w)) || foreign(&w.word)
    });
    // Every word of any alarm's name said anywhere must be in the one named: "checkout
    // 5xx rate high" is no firing alarm, though "checkout" alone would be one.
    let placed: Vec<Spelling> = runs
        .iter()
        .flatten()
        .map(|w| Spelling::new(w.clone()))
        .filter(|w| names.iter().any(|(_, name)| has_word(name, w)))
        .collect();
    let has_all = |alarm: &str| {
        names
            .iter()
            .find(|(n, _)| n.as_str() == alarm)
            .is_some_and(|(_, name)| placed.iter().all(|w| has_word(name, w)))
    };
    for run in runs.iter().cloned() {
        let content: Vec<Spelling> = run
            .into_iter()
            .chain(service_words.iter().cloned())
            .map(Spelling::new)
            .collect();
        match fitting(&names, &content, foreign) {
            Described::One(name) if has_all(&name) => return Described::One(name),
            Described::One(_) => {}
            Described::OnlyTheService => outcome = Described::OnlyTheService,
            Described::Unsure => {}
        }
    }
    // Told by its service alone only when nothing else was said of it.
    if service_words.is_empty() || !runs.is_empty() {
        return outcome;
    }
    let content: Vec<Spelling> = service_words.iter().cloned().map(Spelling::new).collect();
    fitting(&names, &content, foreign)
}

/// The alarm of `names` that `content` (a run of describing words) names: the one that has
/// every word; else the one that has the most, two at least, when the rest are words of no
/// alarm ("customer impact composite", "checkout response time"), never a word that may be
/// a name of something else.
fn fitting(
    names: &[(&String, Vec<Spelling>)],
    content: &[Spelling],
    foreign: &dyn Fn(&str) -> bool,
) -> Described {
    if content.is_empty() {
        return Described::Unsure;
    }
    let fits: Vec<&String> = names
        .iter()
        .filter(|(_, name)| content.iter().all(|w| has_word(name, w)))
        .map(|(name, _)| *name)
        .collect();
    match fits[..] {
        [one] => return Described::One(one.clone()),
        [_, _, ..] => return Described::OnlyTheService,
        [] => {}
    }
    // The words no alarm has must say nothing of a name.
    let unplaced = |w: &Spelling| !names.iter().any(|(_, name)| has_word(name, w));
    if content.iter().any(|w| unplaced(w) && foreign(&w.word)) {
        return Described::Unsure;
    }
    // Every word some alarm has must be in this one's name: "checkout 5xx rate high" is
    // not `recommendations-5xx-rate-high`, whatever else matches.
    let placed: Vec<&Spelling> = content.iter().filter(|w| !unplaced(w)).collect();
    let overlap = |name: &[Spelling]| {
        if placed.iter().all(|w| has_word(name, w)) {
            placed.len()
        } else {
            0
        }
    };
    let best = names.iter().map(|(_, n)| overlap(n)).max().unwrap_or(0);
    let at_best: Vec<&String> = names
        .iter()
        .filter(|(_, n)| overlap(n) == best)
        .map(|(name, _)| *name)
        .collect();
    match at_best[..] {
        [one] if best >= 2 => Described::One(one.clone()),
        _ => Described::Unsure,
    }
}

/// Whether a name (a service's, a cluster's) is part of the alarm's name.
pub(super) fn in_name(name: &str, alarm: &str) -> bool {
    let alarm = crate::dialog::resolve::words(alarm);
    let name = crate::dialog::resolve::words(name);
    !name.is_empty() && name.iter().all(|w| alarm.contains(w))
}

/// `marked` with the words describing `alarm` (those of its name, the service, metric and
/// cluster found among them) as one `{alarm}`, where the first of them was.
pub(super) fn mark(marked: &[String], slots: &crate::vocab::Slots, alarm: &str) -> Vec<String> {
    use crate::vocab::Slot;
    let name: Vec<String> = crate::dialog::resolve::words(alarm)
        .iter()
        .map(|w| alarm_word(w).to_owned())
        .collect();
    let placeholder_in_name = |w: &str| match w {
        "{metric}" => true,
        "{service}" => slots.get(&Slot::Service).is_some_and(|s| in_name(s, alarm)),
        "{cluster}" => slots.get(&Slot::Cluster).is_some_and(|c| in_name(c, alarm)),
        _ => false,
    };
    let mut out: Vec<String> = Vec::with_capacity(marked.len());
    let mut placed = false;
    for w in description_words(marked) {
        let describing =
            placeholder_in_name(&w) || may_describe(&w) && name.iter().any(|n| n == alarm_word(&w));
        if !describing {
            out.push(w);
        } else if !placed {
            out.push("{alarm}".to_owned());
            placed = true;
        }
    }
    out
}

/// Whether `words` describe `alarm` by more than the names of services and clusters ("kafka
/// lag", "customer impact", not "the checkout alarm", which the dialog asks about).
pub(super) fn told_by_more_than_names(
    words: &[String],
    alarm: &str,
    catalog: &crate::ops::Catalog,
) -> bool {
    let name: Vec<String> = crate::dialog::resolve::words(alarm)
        .iter()
        .map(|w| alarm_word(w).to_owned())
        .collect();
    let names: std::collections::HashSet<String> = catalog
        .services
        .iter()
        .map(|s| s.name.as_str())
        .chain(catalog.clusters.iter().map(String::as_str))
        .flat_map(crate::dialog::resolve::words)
        .collect();
    description_words(words)
        .iter()
        .any(|w| may_describe(w) && !names.contains(w) && name.iter().any(|n| n == alarm_word(w)))
}

/// Words alarm names are made of, beyond the fleet's names ("queue depth", "5xx rate
/// high"), as [`alarm_word`] reduces them.
const ALARM_VOCABULARY: &[&str] = &[
    "queue",
    "depth",
    "rate",
    "high",
    "low",
    "impact",
    "lag",
    "latency",
    "5xx",
    "cpu",
    "memory",
    "tasks",
    "running",
    "consumer",
    "customer",
    "composite",
    "backlog",
    "timeouts",
    "throttles",
    "health",
    "disk",
    "saturation",
    "availability",
    "budget",
    "burn",
];

/// The words describing an alarm that is not among `firing` ("pricing 5xx", "search indexer
/// queue depth"): the longest run of words of alarm names, of the fleet's names and
/// `foreign` ones (a name no one told us of), at least two, for the dialog to find among
/// every alarm.
pub(super) fn described_run(
    words: &[String],
    firing: &[String],
    catalog: &crate::ops::Catalog,
    foreign: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let vocabulary: std::collections::HashSet<String> = firing
        .iter()
        .flat_map(|a| crate::dialog::resolve::words(a))
        .chain(
            catalog
                .services
                .iter()
                .map(|s| s.name.as_str())
                .chain(catalog.clusters.iter().map(String::as_str))
                .flat_map(crate::dialog::resolve::words),
        )
        .map(|w| alarm_word(&w).to_owned())
        .chain(ALARM_VOCABULARY.iter().map(|w| (*w).to_owned()))
        .collect();
    let run = longest_run(description_words(words), |w| {
        may_describe(w) && vocabulary.contains(alarm_word(w)) || foreign(w)
    });
    (run.len() >= 2).then(|| run.join(" "))
}
