//! Slot values read leniently: `window` from ISO 8601 or from words, `metric` by name or
//! synonym.

use std::time::Duration;

use crate::ops::MetricKind;

/// The `window` slot: an ISO 8601 duration as Lex and Alexa send it (`PT1H`, `P1D`) or the
/// words a user types ("last 30 minutes", "past hour", "today"). Capped at 14 days.
#[must_use]
pub fn parse_window(value: &str) -> Option<Duration> {
    let v = value.trim().to_ascii_lowercase();
    let secs = parse_iso_duration(&v).or_else(|| parse_spoken_duration(&v))?;
    (secs > 0).then(|| Duration::from_secs(secs.min(14 * 24 * 3600)))
}

fn parse_iso_duration(v: &str) -> Option<u64> {
    let rest = v.strip_prefix('p')?;
    let (date, time) = rest.split_once('t').unwrap_or((rest, ""));
    let mut total = 0u64;
    for (part, units) in [
        (date, &[('w', 604_800u64), ('d', 86_400)][..]),
        (time, &[('h', 3600), ('m', 60), ('s', 1)][..]),
    ] {
        let mut num = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                num.push(c);
            } else {
                let (_, mult) = units.iter().find(|(u, _)| *u == c)?;
                total += num.parse::<u64>().ok()? * mult;
                num.clear();
            }
        }
        if !num.is_empty() {
            return None;
        }
    }
    Some(total)
}

/// Numbers as people say them before a unit of time ("twenty four hours", "a few
/// minutes"); the NLU finds windows by the same words.
pub(crate) const NUMBERS: &[(&str, u64)] = &[
    ("a", 1),
    ("an", 1),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("fifteen", 15),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("ninety", 90),
    ("few", 3),
];

fn parse_spoken_duration(v: &str) -> Option<u64> {
    if v.contains("today") || v.contains("last day") || v.contains("past day") {
        return Some(86_400);
    }
    if v.contains("half an hour") || v.contains("half hour") {
        return Some(1800);
    }
    // The unit is a word of its own: "three days" has "hr" in it, but is days. A count
    // may be stuck to it ("24hrs"), and punctuation to either ("an hour.").
    let spaced: String = v
        .chars()
        .zip(v.chars().skip(1).map(Some).chain(std::iter::once(None)))
        .flat_map(|(c, next)| {
            let split = c.is_ascii_digit() && next.is_some_and(|n| n.is_ascii_alphabetic());
            std::iter::once(if c.is_alphanumeric() { c } else { ' ' }).chain(split.then_some(' '))
        })
        .collect();
    let words: Vec<&str> = spaced.split_whitespace().collect();
    let (at, unit) = words.iter().enumerate().find_map(|(i, w)| {
        let unit = match w.trim_end_matches('s') {
            "second" | "sec" => 1u64,
            "minute" | "min" => 60,
            "hour" | "hr" => 3600,
            "day" => 86_400,
            "week" => 604_800,
            _ => return None,
        };
        Some((i, unit))
    })?;
    let before = words[..at].join(" ");
    let words = before
        .trim()
        .trim_start_matches("in ")
        .trim_start_matches("the ")
        .trim_start_matches("over ")
        .trim_start_matches("the ")
        .trim_start_matches("last")
        .trim_start_matches("past")
        .trim();
    let count = if words.is_empty() {
        1
    } else if let Ok(n) = words.split_whitespace().last().unwrap_or("").parse::<u64>() {
        n
    } else if words.ends_with("couple of") || words.ends_with("couple") {
        2
    } else {
        spoken_number(words, NUMBERS)?
    };
    Some(count.saturating_mul(unit))
}

/// The number the last words of `words` say: "four" is 4, "twenty four" is 24.
fn spoken_number(words: &str, numbers: &[(&str, u64)]) -> Option<u64> {
    let value = |w: &str| numbers.iter().find(|(n, _)| *n == w).map(|(_, v)| *v);
    let is_tens = |v: u64| v >= 20 && v.is_multiple_of(10);
    let mut rest = words.split_whitespace().rev();
    let last = value(rest.next()?)?;
    if is_tens(last) {
        return Some(last);
    }
    // "twenty four": a unit after a tens.
    Some(match rest.next().and_then(value) {
        Some(tens) if is_tens(tens) && last < 10 => tens + last,
        _ => last,
    })
}

/// The `metric` slot, read leniently.
#[must_use]
pub fn parse_metric(value: &str) -> Option<MetricKind> {
    MetricKind::parse(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_from_iso_and_from_words() {
        let h = Some(Duration::from_secs(3600));
        assert_eq!(parse_window("PT1H"), h);
        assert_eq!(parse_window("last hour"), h);
        assert_eq!(parse_window("the past hour"), h);
        assert_eq!(
            parse_window("in the last 30 minutes"),
            Some(Duration::from_secs(1800))
        );
        assert_eq!(
            parse_window("last two hours"),
            Some(Duration::from_secs(7200))
        );
        assert_eq!(parse_window("P1D"), Some(Duration::from_secs(86_400)));
        assert_eq!(
            parse_window("the last twenty four hours"),
            Some(Duration::from_secs(86_400))
        );
        assert_eq!(
            parse_window("past forty five minutes"),
            Some(Duration::from_secs(2700))
        );
        assert_eq!(
            parse_window("last couple of hours"),
            Some(Duration::from_secs(7200))
        );
        assert_eq!(parse_window("PT1H30M"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_window("today"), Some(Duration::from_secs(86_400)));
        assert_eq!(
            parse_window("P400D"),
            Some(Duration::from_secs(14 * 86_400))
        );
        // "three" has "hr" in it; the unit is the word "days".
        assert_eq!(
            parse_window("past three days"),
            Some(Duration::from_secs(3 * 86_400))
        );
        assert_eq!(
            parse_window("last 45 mins"),
            Some(Duration::from_secs(2700))
        );
        assert_eq!(parse_window("24hrs"), Some(Duration::from_secs(86_400)));
        assert_eq!(parse_window("an hour."), Some(Duration::from_secs(3600)));
        assert_eq!(
            parse_window("last 99999999999999999 hours"),
            Some(Duration::from_secs(14 * 86_400))
        );
        assert_eq!(parse_window("banana"), None);
        assert_eq!(parse_window("a mint"), None);
        assert_eq!(parse_window("PT"), None);
    }
}
