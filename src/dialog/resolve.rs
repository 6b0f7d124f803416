//! Matching spoken names to real ones: "check out" is `checkout`, "payments API" is
//! `payments-api`, "recommendation" is `recommendations`.
//!
//! Speech recognition mangles hyphenated identifiers, so names are compared as normalised
//! keys and as word sets, with a Jaro-Winkler score for near misses. The rule that matters
//! most: when two names match about equally well the caller must ask, never pick one.

/// How well a spoken name matched.
#[derive(Debug, Clone, PartialEq)]
pub enum Match<T> {
    /// One clear winner; safe to use without asking.
    Found(T),
    /// Probably this one, but ask first ("Did you mean checkout?").
    Likely(T),
    /// Several match about equally well (best first); ask which.
    Ambiguous(Vec<T>),
    /// Nothing close.
    NoMatch,
}

/// Words people say around a name that are not part of it.
const FILLER: &[&str] = &[
    "the",
    "a",
    "an",
    "service",
    "services",
    "svc",
    "app",
    "application",
    "alarm",
    "alarms",
    "alert",
    "alerts",
    "please",
    "one",
    "cluster",
    "my",
    "our",
];

/// Scores at or above this are taken without asking, when no rival is close.
const SURE: f64 = 0.94;
/// Scores at or above this are offered as "did you mean".
const PLAUSIBLE: f64 = 0.84;
/// Two candidates this close are a tie.
const TIE: f64 = 0.03;

/// The words of a name or utterance: lowercase alphanumeric runs, fillers removed.
#[must_use]
pub fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty() && !FILLER.contains(w))
        .map(str::to_owned)
        .collect()
}

/// A name with everything but letters and digits removed: "Payments API" -> "paymentsapi".
#[must_use]
pub fn key(s: &str) -> String {
    words(s).concat()
}

fn singular(w: &str) -> &str {
    w.strip_suffix('s').filter(|s| s.len() >= 3).unwrap_or(w)
}

fn same_word(a: &str, b: &str) -> bool {
    a == b
        || singular(a) == singular(b)
        || (a.len() >= 5 && b.len() >= 5 && strsim::jaro_winkler(a, b) >= 0.93)
}

/// How well `spoken` names `name`, from 0 to 1.
#[must_use]
pub fn score(spoken: &str, name: &str) -> f64 {
    let (sk, nk) = (key(spoken), key(name));
    if sk.is_empty() || nk.is_empty() {
        return 0.0;
    }
    if sk == nk {
        return 1.0;
    }
    if singular(&sk) == singular(&nk) {
        return 0.97;
    }
    let jw = strsim::jaro_winkler(&sk, &nk);
    let (sw, nw) = (words(spoken), words(name));
    let matched = sw
        .iter()
        .filter(|s| nw.iter().any(|n| same_word(s, n)))
        .count();
    let containment = if matched == sw.len() {
        // Every spoken word is in the name: "sender" in email-sender, "checkout latency" in
        // checkout-p99-latency-high. Longer coverage of the name scores higher.
        0.86 + 0.1 * (matched as f64 / nw.len() as f64)
    } else if matched > 0 {
        0.55 + 0.25 * (matched as f64 / sw.len() as f64)
    } else {
        0.0
    };
    jw.max(containment)
}

/// What was said, as one word per space: `-`, `_`, `.` and runs of spaces each count as
/// one separator.
fn spaced(spoken: &str) -> String {
    spoken
        .split(|c: char| c.is_whitespace() || matches!(c, '-' | '_' | '.'))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `name` is the words `said` (as [`spaced`] writes them), case aside. A length
/// check first: this runs on every candidate of every turn.
fn same_words(name: &str, said: &str) -> bool {
    name.len() == said.len()
        && name.bytes().zip(said.bytes()).all(|(n, s)| {
            let n = if n.is_ascii_whitespace() || matches!(n, b'-' | b'_' | b'.') {
                b' '
            } else {
                n
            };
            n.eq_ignore_ascii_case(&s)
        })
}

/// Finds the candidate `spoken` refers to. `name` says how to read each candidate's name.
pub fn resolve<'a, T>(
    spoken: &str,
    candidates: &'a [T],
    name: impl Fn(&T) -> &str,
) -> Match<&'a T> {
    // Lex and Alexa usually hand us the exact name already, or the name as said, with
    // spaces for its dashes ("cart disk 042" for cart-disk-042); skip the scoring then.
    let said = spaced(spoken);
    let exact: Vec<&T> = candidates
        .iter()
        .filter(|c| !said.is_empty() && same_words(name(c), &said))
        .take(3)
        .collect();
    match exact.len() {
        0 => {}
        1 => return Match::Found(exact[0]),
        _ => return Match::Ambiguous(exact),
    }
    let mut scored: Vec<(f64, &T)> = candidates
        .iter()
        .map(|c| (score(spoken, name(c)), c))
        .filter(|(s, _)| *s >= PLAUSIBLE)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    let Some(&(best, first)) = scored.first() else {
        return Match::NoMatch;
    };
    let rivals: Vec<&T> = scored
        .iter()
        .take_while(|(s, _)| best - s <= TIE)
        .map(|(_, c)| *c)
        .take(3)
        .collect();
    if rivals.len() > 1 {
        Match::Ambiguous(rivals)
    } else if best >= SURE {
        Match::Found(first)
    } else {
        Match::Likely(first)
    }
}

/// The `AlarmNamePrefix` listings that can hold an alarm spoken as `spoken`: its first
/// word, fillers aside ("the checkout cpu alarm" is likely `checkout-…`), the service's
/// name when one was given, and the service among `services` that the first word or two
/// name loosely ("the indexer queue alarm" is likely `search-indexer-…`, "paymnets api 5xx"
/// `payments-api-…`). Lower case, as alarm names usually are; never empty (that would be
/// every alarm).
#[must_use]
pub fn alarm_name_prefixes(
    spoken: &str,
    service: Option<&String>,
    services: &[&str],
) -> Vec<String> {
    let said = words(spoken);
    let first = said.first().cloned();
    let named = [1, 2].into_iter().rev().find_map(|n| {
        if said.len() < n {
            return None;
        }
        match resolve(&said[..n].join(" "), services, |s| s) {
            Match::Found(s) | Match::Likely(s) => Some((*s).to_lowercase()),
            Match::Ambiguous(_) | Match::NoMatch => None,
        }
    });
    let mut prefixes: Vec<String> = Vec::with_capacity(3);
    for p in [first, service.map(|s| s.to_lowercase()), named]
        .into_iter()
        .flatten()
    {
        if !p.is_empty() && !prefixes.iter().any(|q| p.starts_with(q.as_str())) {
            prefixes.retain(|q| !q.starts_with(p.as_str()));
            prefixes.push(p);
        }
    }
    prefixes
}

/// The alarm a spoken `alarm` slot names, found as the dialog finds it: among the `firing`
/// alarms, and unless one of those is named exactly, among `all` the alarms whose names
/// start as [`alarm_name_prefixes`] says (the fleet's `services` only when the words alone
/// find none). `None` when the
/// dialog would have to ask.
#[must_use]
pub fn alarm_named<'a>(
    spoken: &str,
    service: Option<&String>,
    services: &[&str],
    firing: &'a [String],
    all: &'a [String],
) -> Option<&'a str> {
    let mut names: Vec<&'a str> = firing.iter().map(String::as_str).collect();
    let mut found = resolve(spoken, &names, |n| n);
    if !matches!(found, Match::Found(_)) {
        // As the dialog lists them: by the words' own first word and the service said;
        // by the service the words name loosely only when those find nothing.
        for services in [&[][..], services] {
            for prefix in alarm_name_prefixes(spoken, service, services) {
                for name in all.iter().filter(|a| a.starts_with(&prefix)) {
                    if !names.contains(&name.as_str()) {
                        names.push(name);
                    }
                }
            }
            found = resolve_alarm(spoken, &names, |n| n);
            if !matches!(found, Match::NoMatch) {
                break;
            }
        }
    }
    match found {
        Match::Found(name) | Match::Likely(name) => Some(*name),
        Match::Ambiguous(_) | Match::NoMatch => None,
    }
}

/// [`resolve`] for alarms: as said, else (when nothing matches) as described in the words
/// alarm names abbreviate: "checkout errors" is "checkout 5xx", which
/// `checkout-5xx-rate-high` has.
pub fn resolve_alarm<'a, T>(
    spoken: &str,
    candidates: &'a [T],
    name: impl Fn(&T) -> &str + Copy,
) -> Match<&'a T> {
    let found = resolve(spoken, candidates, name);
    if !matches!(found, Match::NoMatch) {
        return found;
    }
    let said = words(spoken);
    let described: Vec<&str> = said.iter().map(|w| alarm_word(w)).collect();
    if described.iter().zip(&said).all(|(d, s)| d == s) {
        return found;
    }
    resolve(&described.join(" "), candidates, name)
}

/// A word of an alarm's name, or of its description, reduced to what it means: "errors"
/// and "5xx" are the same to someone describing an alarm.
#[must_use]
pub fn alarm_word(w: &str) -> &str {
    match w {
        "5xx" | "error" | "errors" | "erroring" | "failures" | "500s" | "5xxs" => "5xx",
        "latency" | "p99" | "slow" | "slowness" | "response" | "responsetime" => "latency",
        "cust" => "customer",
        "cpu" | "processor" => "cpu",
        "lag" | "lagging" | "behind" => "lag",
        "task" | "tasks" => "tasks",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &[
        "checkout",
        "payments",
        "payments-api",
        "recommendations",
        "email-sender",
        "sms-sender",
        "image-resizer",
        "image-cache",
        "search",
        "search-indexer",
    ];

    fn r(spoken: &str) -> Match<&str> {
        match resolve(spoken, NAMES, |n| n) {
            Match::Found(n) => Match::Found(*n),
            Match::Likely(n) => Match::Likely(*n),
            Match::Ambiguous(v) => Match::Ambiguous(v.into_iter().copied().collect()),
            Match::NoMatch => Match::NoMatch,
        }
    }

    #[test]
    fn spoken_forms_of_hyphenated_names_resolve() {
        assert_eq!(r("check out"), Match::Found("checkout"));
        assert_eq!(r("payments API"), Match::Found("payments-api"));
        assert_eq!(r("the payments service"), Match::Found("payments"));
        assert_eq!(r("recommendation"), Match::Found("recommendations"));
        assert_eq!(r("search"), Match::Found("search"));
        assert_eq!(r("search indexer"), Match::Found("search-indexer"));
    }

    #[test]
    fn near_misses_resolve_or_are_offered() {
        assert_eq!(r("chekout"), Match::Found("checkout"));
        assert!(matches!(
            r("imagecash"),
            Match::Found("image-cache") | Match::Likely("image-cache")
        ));
    }

    #[test]
    fn near_ties_are_asked_back_never_guessed() {
        assert_eq!(
            r("sender"),
            Match::Ambiguous(vec!["email-sender", "sms-sender"])
        );
        assert!(matches!(r("image"), Match::Ambiguous(v) if v.len() == 2));
    }

    #[test]
    fn unrelated_words_do_not_match() {
        assert_eq!(r("kubernetes"), Match::NoMatch);
        assert_eq!(r(""), Match::NoMatch);
    }

    #[test]
    fn an_alarm_described_in_everyday_words_is_the_one_its_name_abbreviates() {
        let firing = vec!["checkout-p99-latency-high".to_owned()];
        let all = vec![
            "checkout-p99-latency-high".to_owned(),
            "checkout-5xx-rate-high".to_owned(),
            "pricing-5xx-rate-high".to_owned(),
        ];
        // Never the firing look-alike: "errors" is the 5xx alarm, quiet or not.
        assert_eq!(
            alarm_named("checkout errors", None, &[], &firing, &all),
            Some("checkout-5xx-rate-high")
        );
        assert_eq!(
            alarm_named("pricing errors", None, &[], &firing, &all),
            Some("pricing-5xx-rate-high")
        );
        assert_eq!(
            alarm_named("checkout slowness", None, &[], &firing, &all),
            Some("checkout-p99-latency-high")
        );
    }

    #[test]
    fn an_alarm_named_by_a_loose_or_misspelt_service_is_listed_under_that_service() {
        let services = [
            "search",
            "search-indexer",
            "payments",
            "payments-api",
            "pricing",
        ];
        let all = vec![
            "search-indexer-queue-depth".to_owned(),
            "payments-api-5xx-rate-high".to_owned(),
            "pricing-5xx-rate-high".to_owned(),
        ];
        // No alarm name starts "indexer" or "paymnets": the service they name does.
        for (said, want) in [
            ("indexer queue depth", "search-indexer-queue-depth"),
            ("paymnets api 5xx", "payments-api-5xx-rate-high"),
            ("paymentsapi 5xx rate high", "payments-api-5xx-rate-high"),
        ] {
            assert_eq!(
                alarm_named(said, None, &services, &[], &all),
                Some(want),
                "{said}"
            );
            assert_eq!(
                alarm_named(said, None, &[], &[], &all),
                None,
                "{said} without services"
            );
        }
        // A word that names no service adds no listing.
        assert_eq!(
            alarm_name_prefixes("kubernetes nodes", None, &services),
            ["kubernetes"]
        );
    }
}
