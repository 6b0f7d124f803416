//! A place the words name that no slot took: "any alerts in staging", "the staging
//! cluster". The NLU takes only names it knows, so without this an unknown cluster would
//! be dropped in silence and the question answered for the whole fleet.
//!
//! Only a few unmistakable shapes count, so a window ("in the last hour") or a metric
//! ("alarms on cpu") is never taken for a place: `in`, `on` or `for` followed by one word
//! that ends the question, and a word before or after the word `cluster`.

use crate::ops::Catalog;

/// Words that end a question after "in", "on" or "for", or stand beside "cluster", without
/// being a place.
const NOT_PLACES: &[&str] = &[
    "a",
    "all",
    "an",
    "any",
    "at",
    "aws",
    "brief",
    "cloudwatch",
    "cluster",
    "clusters",
    "cpu",
    "detail",
    "details",
    "disk",
    "each",
    "ecs",
    "english",
    "error",
    "errors",
    "every",
    "everything",
    "exception",
    "exceptions",
    "fleet",
    "for",
    "full",
    "general",
    "here",
    "how",
    "in",
    "is",
    "it",
    "latency",
    "log",
    "logs",
    "me",
    "memory",
    "minute",
    "minutes",
    "my",
    "now",
    "of",
    "on",
    "one",
    "other",
    "our",
    "particular",
    "progress",
    "short",
    "slack",
    "summary",
    "that",
    "the",
    "them",
    "there",
    "these",
    "this",
    "those",
    "to",
    "today",
    "total",
    "traffic",
    "us",
    "voice",
    "what",
    "which",
    "whole",
    "words",
    "yesterday",
];

/// The place word of `transcript`, if it has one of the shapes above (not yet checked
/// against any catalog).
#[must_use]
pub(crate) fn candidate(transcript: Option<&str>) -> Option<String> {
    let said = transcript?.to_lowercase();
    let words: Vec<&str> = said
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_')))
        .filter(|w| !w.is_empty())
        .collect();
    let placelike = |w: &str| {
        w.chars().any(|c| c.is_ascii_alphabetic())
            && w.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    // "the staging cluster", "cluster staging".
    for (i, word) in words.iter().enumerate() {
        if *word != "cluster" {
            continue;
        }
        let before = i.checked_sub(1).and_then(|j| words.get(j));
        let after = words.get(i + 1);
        for near in [before, after].into_iter().flatten() {
            if placelike(near) && !is_common(near) {
                return Some((*near).to_owned());
            }
        }
    }
    // "... in staging", "... on staging?", "... for staging".
    let [.., preposition, last] = words.as_slice() else {
        return None;
    };
    (matches!(*preposition, "in" | "on" | "for") && placelike(last) && !is_common(last))
        .then(|| (*last).to_owned())
}

/// The place `transcript` names, when it is neither a cluster nor a service of `catalog`
/// (a name the NLU would have taken) nor a word some slot already holds (an alarm's name:
/// "details on checkout-p99-latency-high").
#[must_use]
pub(crate) fn unheard<'a>(
    transcript: Option<&str>,
    slots: impl IntoIterator<Item = &'a String>,
    catalog: &Catalog,
) -> Option<String> {
    let place = candidate(transcript)?;
    let key = key(&place);
    let known = catalog.clusters.iter().any(|c| key_matches(&key, c))
        || catalog.services.iter().any(|s| key_matches(&key, &s.name))
        || slots.into_iter().any(|v| self::key(v).contains(&key));
    (!known).then_some(place)
}

fn is_common(word: &str) -> bool {
    NOT_PLACES.contains(&word)
}

/// A name as the NLU compares names: letters and digits only, lower case.
fn key(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether `key` is `name`, or its plural or singular ("payments" for "payment").
fn key_matches(key: &str, name: &str) -> bool {
    let name = self::key(name);
    key == name || key.strip_suffix('s') == Some(&name) || name.strip_suffix('s') == Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::ServiceRef;

    fn catalog() -> Catalog {
        Catalog {
            clusters: vec!["prod".to_owned(), "data".to_owned()],
            services: vec![ServiceRef::new("prod", "checkout")],
        }
    }

    #[test]
    fn an_unknown_place_is_heard() {
        for (said, place) in [
            ("any alerts in staging", "staging"),
            ("how is checkout doing in staging?", "staging"),
            ("how is the staging cluster", "staging"),
            ("fleet summary for cluster qa", "qa"),
        ] {
            assert_eq!(
                unheard(Some(said), &[], &catalog()).as_deref(),
                Some(place),
                "{said}"
            );
        }
    }

    #[test]
    fn windows_metrics_and_known_names_are_not_places() {
        for said in [
            "any alarms in the last hour",
            "any alarms in prod",
            "what changed in the last 30 minutes",
            "any alarms on cpu",
            "how many alarms in total",
            "any alarms for checkout",
            "how is the cluster",
            "anything firing in the data cluster",
            "what's going on",
        ] {
            assert_eq!(unheard(Some(said), &[], &catalog()), None, "{said}");
        }
        // A word a slot took is that slot's, not a place.
        let alarm = ["checkout-p99-latency-high".to_owned()];
        let said = Some("details on checkout-p99-latency-high");
        assert_eq!(unheard(said, &alarm, &catalog()), None);
        assert!(unheard(said, &[], &catalog()).is_some());
    }
}
