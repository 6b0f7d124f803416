//! Slot values read leniently: `window` and `duration` from ISO 8601 or from words, `count`
//! from digits or words, `metric` by name or synonym.

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
    if v.contains("today")
        || v.contains("yesterday")
        || v.contains("last day")
        || v.contains("past day")
    {
        return Some(86_400);
    }
    if v.contains("half an hour") || v.contains("half hour") {
        return Some(1800);
    }
    if v.contains("quarter hour") || v.contains("quarter of an hour") {
        return Some(900);
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
            "minute" | "min" | "m" => 60,
            "hour" | "hr" | "h" => 3600,
            "day" | "d" => 86_400,
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

/// The `duration` slot (how long to silence an alarm): an ISO 8601 duration as Lex and Alexa
/// send it (`PT30M`) or the words a user types: "30 minutes", "half an hour", "an hour and a
/// half", "two hours", "90m", "1h30m", "for a day". Unlike a window it is not capped (the
/// policy's `silence_max` is); `None` for anything else, or for no time at all.
#[must_use]
pub fn parse_duration(value: &str) -> Option<Duration> {
    let v = value.trim().to_ascii_lowercase();
    let secs = match parse_iso_duration(&v) {
        Some(secs) => secs,
        None => spoken_duration(&v)?,
    };
    (secs > 0).then(|| Duration::from_secs(secs))
}

/// A silence's length: a duration ([`parse_duration`]) or the time from `now` until an end
/// said as a time of day, in UTC, the time opsvoice speaks in (the read-back says "until
/// 17:00 UTC", so a person hears what was understood): "until 5pm", "till 17:30",
/// "until midnight", "overnight", "until tomorrow morning", "for the rest of the day",
/// "till end of day", "until monday", "over the weekend". `None` for anything else ("until
/// the fix is out"), or an end more than 8 days away.
#[must_use]
pub fn parse_silence_length(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    parse_duration(value).or_else(|| {
        let now = now.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
        let end = end_time(&value.trim().to_ascii_lowercase(), now)?;
        let length = end.checked_sub(now).filter(|&s| s > 0 && s <= 8 * 86_400)?;
        Some(Duration::from_secs(length))
    })
}

/// A fixed moment (Monday 2026-12-07, 10:00 UTC) against which an end said in words can be
/// read where no clock matters: whether words are an end at all, and two ends compared.
pub(crate) const SOME_MOMENT: std::time::Duration = Duration::from_secs(1_796_637_600);

/// Words that lead an end time ("until 5pm", "thru the night").
pub(crate) const UNTIL: &[&str] = &["until", "till", "til", "untill", "untl", "thru", "through"];

/// Words about an end time that say nothing of it ("until about 5 pm UTC please").
const END_FILLER: &[&str] = &[
    "for", "the", "about", "around", "roughly", "at", "utc", "gmt", "please", "pls", "of", "my",
    "our", "oclock", "o", "clock",
];

const DAY: u64 = 86_400;
const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The first moment after `now` (seconds since the epoch) at `hh:mm` UTC, `days_ahead`
/// days on at least (0: today if still to come, else tomorrow).
fn next_at(now: u64, hh: u64, mm: u64, days_ahead: u64) -> u64 {
    let day = now / DAY + days_ahead;
    let at = day * DAY + hh * 3600 + mm * 60;
    if at <= now { at + DAY } else { at }
}

/// The end an end-time phrase names, in seconds since the epoch, or `None`.
fn end_time(v: &str, now: u64) -> Option<u64> {
    let words: Vec<String> = number_tokens(v)
        .into_iter()
        .filter(|w| !UNTIL.contains(&w.as_str()) && !END_FILLER.contains(&w.as_str()))
        .collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    // The morning: 09:00; "tomorrow morning" said after midnight still means the coming one.
    let morning = |tomorrow: bool| {
        let hour = (now % DAY) / 3600;
        next_at(now, 9, 0, u64::from(tomorrow && hour >= 5))
    };
    let end_of_day = || {
        if (now % DAY) < 18 * 3600 {
            next_at(now, 18, 0, 0)
        } else {
            next_at(now, 0, 0, 0)
        }
    };
    match words.as_slice() {
        ["midnight"] => return Some(next_at(now, 0, 0, 0)),
        ["noon" | "midday" | "lunch" | "lunchtime"] => return Some(next_at(now, 12, 0, 0)),
        ["morning"] | ["overnight"] | ["night"] | ["rest", "night"] | ["tomorrow", "am"] => {
            return Some(morning(false));
        }
        ["tomorrow"] | ["tomorrow", "morning"] | ["morning", "tomorrow"] => {
            return Some(morning(true));
        }
        ["evening" | "tonight"] | ["this", "evening"] => return Some(next_at(now, 18, 0, 0)),
        ["eod"]
        | ["cob"]
        | ["end", "day"]
        | ["end", "today"]
        | ["close", "business"]
        | ["end", "business"]
        | ["rest", "day"]
        | ["rest", "today"] => {
            return Some(end_of_day());
        }
        // The weekend ends on Monday morning; a day named is its next morning, a week on
        // when it is today.
        ["weekend"] | ["over", "weekend"] | ["after", "weekend"] | ["weekend", "over"] => {
            return end_time("monday", now);
        }
        [day] | [day, "morning"] if WEEKDAYS.contains(day) => {
            let weekday = (now / DAY + 3) % 7; // 1970-01-01 was a Thursday (Monday is 0).
            let wanted = WEEKDAYS.iter().position(|d| d == day)? as u64;
            let ahead = match (wanted + 7 - weekday) % 7 {
                0 => 7,
                n => n,
            };
            return Some(next_at(now, 9, 0, ahead));
        }
        _ => {}
    }
    // A time of day: "5pm", "5 30 pm", "17 00", "9", "9am tomorrow", "5pm today".
    let (clock, day) = match words.as_slice() {
        [rest @ .., "tomorrow"] | ["tomorrow", rest @ ..] => (rest, 1),
        [rest @ .., "today" | "tonight"] => (rest, 0),
        rest => (rest, 0),
    };
    let number = |w: &str| w.parse::<u64>().ok();
    let (hh, mm, half) = match clock {
        [h] => (number(h)?, 0, None),
        [h, m] if number(m).is_some() => (number(h)?, number(m)?, None),
        [h, ap @ ("am" | "pm")] => (number(h)?, 0, Some(*ap)),
        [h, a @ ("a" | "p"), "m"] => (number(h)?, 0, Some(if *a == "a" { "am" } else { "pm" })),
        [h, m, ap @ ("am" | "pm")] => (number(h)?, number(m)?, Some(*ap)),
        // "1730", "0900".
        _ => return None,
    };
    let (hh, mm) = match clock {
        [h] if h.len() == 4 => (hh / 100, hh % 100),
        _ => (hh, mm),
    };
    if mm >= 60 {
        return None;
    }
    let hh = match half {
        Some(_) if !(1..=12).contains(&hh) => return None,
        Some("am") => hh % 12,
        Some(_) => hh % 12 + 12,
        None if hh >= 24 => return None,
        None => hh,
    };
    let at = next_at(now, hh, mm, day);
    // "until 9" with no am or pm and a 12-hour clock: the nearer of 9:00 and 21:00.
    if half.is_none() && day == 0 && (1..12).contains(&hh) && clock[0].len() <= 2 {
        return Some(at.min(next_at(now, hh + 12, mm, 0)));
    }
    Some(at)
}

/// Words a duration may carry that say nothing about its length ("for the next hour").
const DURATION_FILLER: &[&str] = &[
    "for", "the", "next", "another", "about", "around", "roughly", "of", "and", "just", "only",
    "please",
];

/// The seconds in a unit of time as written ("m", "mins", "hours").
fn time_unit(word: &str) -> Option<u64> {
    Some(match word {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "wk" | "wks" | "week" | "weeks" => 604_800,
        _ => return None,
    })
}

/// Words into tokens: digits and letters apart ("90m" is `90 m`, "1h30m" is `1 h 30 m`), a
/// decimal point kept between digits ("1.5 hours").
fn number_tokens(v: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let chars: Vec<char> = v.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let decimal_point = c == '.'
            && current.chars().last().is_some_and(|p| p.is_ascii_digit())
            && chars.get(i + 1).is_some_and(char::is_ascii_digit);
        if !(c.is_alphanumeric() || decimal_point) {
            if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
            continue;
        }
        let switches = current.chars().last().is_some_and(|p| {
            p.is_ascii_digit() != c.is_ascii_digit() && !decimal_point && p != '.'
        });
        if switches {
            out.push(std::mem::take(&mut current));
        }
        current.push(c);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// A duration in words: amounts each followed by their unit, added up. Every word must be
/// part of it (or say nothing, "for the next"), so "until morning" is no duration.
fn spoken_duration(v: &str) -> Option<u64> {
    let words = number_tokens(v);
    let mut total = 0.0_f64;
    // The amount said since the last unit, and whether anything was said at all.
    let mut amount: Option<f64> = None;
    let mut last_unit: Option<u64> = None;
    let mut i = 0;
    while i < words.len() {
        let word = words[i].as_str();
        if let Some(unit) = time_unit(word) {
            total += amount.take().unwrap_or(1.0) * unit as f64;
            last_unit = Some(unit);
            i += 1;
            continue;
        }
        // "an hour and a half": half of the unit just said.
        if word == "half" && amount.is_none() && last_unit.is_some() && i + 1 == words.len() {
            total += last_unit.map_or(0.0, |u| u as f64 / 2.0);
            i += 1;
            continue;
        }
        let (value, len) = match word {
            // "half an hour", "two and a half hours", "a quarter of an hour".
            "half" | "quarter" => {
                let part = if word == "half" { 0.5 } else { 0.25 };
                let rest = &words[i + 1..];
                let skip = rest
                    .iter()
                    .take_while(|w| matches!(w.as_str(), "a" | "an" | "of"))
                    .count();
                (amount.take().unwrap_or(0.0) + part, 1 + skip)
            }
            // "an hour and a half", "a quarter of an hour": the fraction says the amount.
            "a" | "an"
                if words
                    .get(i + 1)
                    .is_some_and(|w| w == "half" || w == "quarter") =>
            {
                i += 1;
                continue;
            }
            "a" | "an" => spoken_count(&words[i..]).map_or((1.0, 1), |(n, len)| (n as f64, len)),
            w if DURATION_FILLER.contains(&w) => {
                i += 1;
                continue;
            }
            w => {
                if let Ok(n) = w.parse::<f64>() {
                    (n, 1)
                } else {
                    let (n, len) = spoken_count(&words[i..])?;
                    (n as f64, len)
                }
            }
        };
        amount = Some(value);
        i += len;
    }
    if amount.is_some() || last_unit.is_none() {
        // An amount with no unit after it ("for 30"): not a duration.
        return None;
    }
    let secs = total.round();
    (secs.is_finite() && secs >= 0.0).then(|| secs.min(u64::MAX as f64) as u64)
}

/// The `count` slot (how many tasks): digits as Lex and Alexa send them, or the words a user
/// types ("five", "twenty five", "a dozen", "to 8 tasks", "zero"). `None` unless the words
/// say exactly one whole number.
#[must_use]
pub fn parse_count(value: &str) -> Option<u32> {
    let mut words: Vec<String> = number_tokens(&value.trim().to_ascii_lowercase())
        .into_iter()
        .filter(|w| !COUNT_FILLER.contains(&w.as_str()))
        .collect();
    // "a single task" is one.
    if let Some(at) = words.iter().position(|w| w == "single") {
        words[at] = "one".to_owned();
        if at > 0 && words[at - 1] == "a" {
            words.remove(at - 1);
        }
    }
    let (n, len) = match words.first().map(String::as_str) {
        Some(digits) if digits.chars().all(|c| c.is_ascii_digit()) => (digits.parse().ok()?, 1),
        Some(_) => spoken_count(&words)?,
        None => return None,
    };
    (len == words.len())
        .then(|| u32::try_from(n).ok())
        .flatten()
}

/// Words around a count that say nothing about the number ("up to 8 tasks").
const COUNT_FILLER: &[&str] = &[
    "to",
    "up",
    "down",
    "at",
    "of",
    "total",
    "in",
    "all",
    "just",
    "only",
    "exactly",
    "please",
    "task",
    "tasks",
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

/// Whole numbers in words, one word each.
const NUMBER_WORDS: &[(&str, u64)] = &[
    ("zero", 0),
    ("none", 0),
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
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
    ("dozen", 12),
    ("couple", 2),
    ("few", 3),
];

/// The whole number said by the words at the start of `words`, and how many words it took:
/// "twenty five" (25, 2), "a dozen" (12, 2), "half a dozen" (6, 3), "a hundred and
/// twenty" (120, 4), "a couple of" (2, 3). A lone "a" is no number.
#[must_use]
pub(crate) fn spoken_count<S: AsRef<str>>(words: &[S]) -> Option<(u64, usize)> {
    let word = |i: usize| words.get(i).map(AsRef::as_ref);
    let value = |i: usize| {
        word(i).and_then(|w| NUMBER_WORDS.iter().find(|(n, _)| *n == w).map(|(_, v)| *v))
    };
    let mut i = 0;
    // "half a dozen".
    if word(0) == Some("half") && matches!(word(1), Some("a" | "an")) && word(2) == Some("dozen") {
        return Some((6, 3));
    }
    // "a dozen", "a hundred", "a couple of", "a few".
    let article = matches!(word(0), Some("a" | "an"))
        && matches!(word(1), Some("dozen" | "hundred" | "couple" | "few"));
    let mut hundreds = 0;
    if article && word(1) == Some("hundred") {
        hundreds = 100;
        i = 2;
    } else if article {
        i = 1;
    }
    if hundreds == 0
        && let (Some(n @ 1..=9), Some("hundred")) = (value(i), word(i + 1))
    {
        hundreds = n * 100;
        i += 2;
    }
    if hundreds > 0 && word(i) == Some("and") && value(i + 1).is_some() {
        i += 1;
    }
    let mut rest = 0;
    if let Some(n) = value(i) {
        rest = n;
        i += 1;
        // "twenty five": a unit after a tens.
        if n >= 20
            && n % 10 == 0
            && let Some(unit @ 1..=9) = value(i)
        {
            rest += unit;
            i += 1;
        }
        // "a couple of tasks".
        if matches!(word(i - 1), Some("couple" | "few")) && word(i) == Some("of") {
            i += 1;
        }
    } else if hundreds == 0 {
        return None;
    }
    Some((hundreds + rest, i))
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
    fn a_silence_may_end_at_a_time_of_day_in_utc() {
        // Monday 2026-12-07, 10:00 UTC.
        let now = std::time::UNIX_EPOCH + Duration::from_secs(1_796_637_600);
        let length = |v: &str| parse_silence_length(v, now).map(|d| d.as_secs() / 60);
        for (said, minutes) in [
            ("an hour", Some(60)),
            ("until 5pm", Some(7 * 60)),
            ("till 5:30 pm", Some(7 * 60 + 30)),
            ("until 17:00", Some(7 * 60)),
            ("until 1730", Some(7 * 60 + 30)),
            ("til 9am", Some(23 * 60)),
            ("until 9am tomorrow", Some(23 * 60)),
            ("until tomorrow 9am", Some(23 * 60)),
            // No am or pm: the nearer of the two.
            ("until 3", Some(5 * 60)),
            ("until 11", Some(60)),
            ("until midnight", Some(14 * 60)),
            ("until noon", Some(2 * 60)),
            ("overnight", Some(23 * 60)),
            ("until tomorrow morning", Some(23 * 60)),
            ("until the morning", Some(23 * 60)),
            ("for the rest of the day", Some(8 * 60)),
            ("the rest of the day", Some(8 * 60)),
            ("till end of day", Some(8 * 60)),
            ("until eod", Some(8 * 60)),
            ("until this evening", Some(8 * 60)),
            ("until wednesday", Some((2 * 24 - 1) * 60)),
            ("until monday morning", Some((7 * 24 - 1) * 60)),
            ("over the weekend", Some((7 * 24 - 1) * 60)),
            ("until 5 pm utc", Some(7 * 60)),
            ("until the fix is out", None),
            ("until 25:00", None),
            ("until 13pm", None),
            ("until 5:75", None),
            ("whenever", None),
        ] {
            assert_eq!(length(said), minutes, "{said}");
        }
        // Said after midnight, "tomorrow morning" is still the coming morning.
        let early = std::time::UNIX_EPOCH + Duration::from_secs(1_796_637_600 - 8 * 3600);
        assert_eq!(
            parse_silence_length("until tomorrow morning", early).map(|d| d.as_secs() / 60),
            Some(7 * 60)
        );
    }

    #[test]
    fn durations_parse_from_iso_and_from_words() {
        let secs = |v: &str| parse_duration(v).map(|d| d.as_secs());
        for (said, want) in [
            ("PT30M", 1800),
            ("P1D", 86_400),
            ("30 minutes", 1800),
            ("for 30 minutes", 1800),
            ("half an hour", 1800),
            ("an hour", 3600),
            ("one hour", 3600),
            ("an hour and a half", 5400),
            ("two and a half hours", 9000),
            ("two hours", 7200),
            ("for the next two hours", 7200),
            ("90m", 5400),
            ("1h", 3600),
            ("1h30m", 5400),
            ("1.5 hours", 5400),
            ("forty five minutes", 2700),
            ("a quarter of an hour", 900),
            ("a couple of hours", 7200),
            ("half a day", 43_200),
            ("a day", 86_400),
            ("an hour.", 3600),
            ("3 weeks", 3 * 604_800),
        ] {
            assert_eq!(secs(said), Some(want), "{said}");
        }
        for nonsense in [
            "",
            "30",
            "till morning",
            "banana",
            "the rest of the day",
            "PT0S",
        ] {
            assert_eq!(secs(nonsense), None, "{nonsense}");
        }
    }

    #[test]
    fn counts_parse_from_digits_and_words() {
        for (said, want) in [
            ("5", 5),
            ("0", 0),
            ("five", 5),
            ("zero", 0),
            ("twelve", 12),
            ("twenty five", 25),
            ("a dozen", 12),
            ("half a dozen", 6),
            ("a hundred", 100),
            ("one hundred and twenty", 120),
            ("to 5", 5),
            ("to five tasks", 5),
            ("up to 8", 8),
            ("10 tasks", 10),
        ] {
            assert_eq!(parse_count(said), Some(want), "{said}");
        }
        for nonsense in ["", "a", "tasks", "5 10", "1.5", "lots", "five hours", "-"] {
            assert_eq!(parse_count(nonsense), None, "{nonsense}");
        }
    }

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
