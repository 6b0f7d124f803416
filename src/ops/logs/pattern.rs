//! Log lines into patterns: the values that change from one line to the next (numbers,
//! UUIDs and other ids, hex, quoted values) become placeholders, so "connection refused to
//! payments-db:5432 (attempt 3)" and "(attempt 4)" are one pattern; and a pattern's gist,
//! the words that say what went wrong, short enough to speak.

use std::sync::LazyLock;

use regex::{Captures, Regex};

fn re(expression: &str) -> Regex {
    Regex::new(expression).expect("the pattern expressions are valid (unit tests build each)")
}

static DOUBLE_QUOTED: LazyLock<Regex> = LazyLock::new(|| re(r#""(?:[^"\\]|\\.)*""#));
/// A single-quoted value, not an apostrophe ("can't"): it starts after a space or a
/// delimiter.
static SINGLE_QUOTED: LazyLock<Regex> = LazyLock::new(|| re(r"(^|[\s=:(\[,{])'[^'\n]*'"));
static UUID: LazyLock<Regex> = LazyLock::new(|| {
    re(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
});
/// `0x1f`, or a run of six or more hex digits with at least one digit in it (a request
/// id, a commit, a hash); a word of letters a to f alone ("defaced") stays a word.
static HEX: LazyLock<Regex> = LazyLock::new(|| re(r"\b(?:0[xX][0-9a-fA-F]+|[0-9a-fA-F]{6,})\b"));
static NUMBER: LazyLock<Regex> = LazyLock::new(|| re(r"\d+(?:\.\d+)?"));
static SPACES: LazyLock<Regex> = LazyLock::new(|| re(r"\s+"));

/// The text of a line: the message field of a JSON line (`msg`, `message`, `error`), else
/// the line itself. Every JSON line would otherwise be one pattern of quoted values.
fn text_of(line: &str) -> String {
    let trimmed = line.trim();
    if trimmed.starts_with('{')
        && let Ok(serde_json::Value::Object(fields)) = serde_json::from_str(trimmed)
    {
        for key in ["msg", "message", "error", "err"] {
            if let Some(serde_json::Value::String(text)) = fields.get(key) {
                return text.clone();
            }
        }
    }
    trimmed.to_owned()
}

/// The line's pattern: numbers as `<num>`, UUIDs as `<uuid>`, hex and ids as `<hex>`, quoted
/// values as `<str>`, runs of white space as one space.
#[must_use]
pub fn pattern(line: &str) -> String {
    let text = text_of(line);
    let text = DOUBLE_QUOTED.replace_all(&text, "<str>");
    let text = SINGLE_QUOTED.replace_all(&text, "$1<str>");
    let text = UUID.replace_all(&text, "<uuid>");
    let text = HEX.replace_all(&text, |c: &Captures<'_>| {
        let found = &c[0];
        if found.bytes().all(|b| b.is_ascii_digit()) {
            "<num>".to_owned()
        } else if found.bytes().any(|b| b.is_ascii_digit()) {
            "<hex>".to_owned()
        } else {
            found.to_owned()
        }
    });
    let text = NUMBER.replace_all(&text, "<num>");
    SPACES.replace_all(text.trim(), " ").into_owned()
}

/// Level words a line often starts with, which say nothing about what went wrong.
const LEVELS: [&str; 10] = [
    "error", "err", "fatal", "panic", "warn", "warning", "critical", "crit", "severe", "e",
];

/// Words a gist does not end on: they lead to the value that was cut.
const DANGLING: [&str; 14] = [
    "after", "for", "to", "with", "at", "of", "in", "from", "by", "on", "id", "user", "sku",
    "charge",
];

/// The most words a gist keeps.
const GIST_WORDS: usize = 12;

/// What the line says went wrong, short enough to speak: its pattern without a leading
/// time stamp or level, up to the first value that changes ("connection refused to
/// payments-db"), else every word that is not a value.
#[must_use]
pub fn gist(line: &str) -> String {
    let shape = pattern(line);
    let mut words: Vec<&str> = shape.split(' ').collect();
    // A leading time stamp (all placeholders and punctuation) and level word go.
    while let Some(first) = words.first() {
        let bare = first.trim_matches(|c: char| !c.is_alphanumeric() && c != '<' && c != '>');
        let stamp = !first.replace("<num>", "").chars().any(char::is_alphabetic) || is_stamp(first);
        let level = LEVELS.contains(&bare.to_ascii_lowercase().as_str())
            || bare.to_ascii_lowercase().starts_with("level=");
        if stamp || level {
            words.remove(0);
        } else {
            break;
        }
    }
    let mut kept: Vec<String> = Vec::new();
    for word in &words {
        if let Some(at) = placeholder_at(word) {
            let head = word[..at]
                .split([':', '=', '(', '[', '"', '{'])
                .next()
                .unwrap_or_default()
                .trim_end_matches(|c: char| !c.is_alphanumeric());
            if !head.is_empty() {
                kept.push(head.to_owned());
            }
            break;
        }
        kept.push((*word).to_owned());
        if kept.len() >= GIST_WORDS {
            break;
        }
    }
    // "timed out after <num> ms" says "timed out", not "timed out after".
    while kept.len() > 2
        && kept
            .last()
            .is_some_and(|w| DANGLING.contains(&w.to_ascii_lowercase().as_str()))
    {
        kept.pop();
    }
    if kept.len() < 2 {
        kept = words
            .iter()
            .filter(|w| placeholder_at(w).is_none())
            .take(GIST_WORDS)
            .map(|w| (*w).to_owned())
            .collect();
    }
    let gist = kept.join(" ");
    let gist = gist.trim_end_matches([':', ',', ';', '.', '-', '=']);
    if gist.is_empty() {
        shape
    } else {
        gist.to_owned()
    }
}

/// Where the first placeholder in `word` starts (a `<` of the log's own is text).
fn placeholder_at(word: &str) -> Option<usize> {
    ["<num>", "<hex>", "<uuid>", "<str>"]
        .iter()
        .filter_map(|p| word.find(p))
        .min()
}

/// `<num>-<num>-<num>T<num>:<num>:<num>Z` and the like.
fn is_stamp(word: &str) -> bool {
    let rest = word.replace("<num>", "");
    rest.chars()
        .all(|c| matches!(c, 'T' | 'Z' | ':' | '-' | '.' | '+' | '[' | ']' | ','))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_ids_hex_and_quoted_values_become_placeholders() {
        assert_eq!(
            pattern("connection refused to payments-db:5432 (attempt 3)"),
            "connection refused to payments-db:<num> (attempt <num>)"
        );
        assert_eq!(
            pattern("order 7f0c2a9e-3b1d-4c8e-9f2a-1b2c3d4e5f60 failed for user \"ana\""),
            "order <uuid> failed for user <str>"
        );
        assert_eq!(
            pattern("segfault at 0x7ffd1c2a in worker 3fa9c01e, key 'cart:991'"),
            "segfault at <hex> in worker <hex>, key <str>"
        );
        assert_eq!(pattern("can't parse 'x'"), "can't parse <str>");
        assert_eq!(pattern("timeout after 2.5 s"), "timeout after <num> s");
        assert_eq!(
            pattern("defaced   record"),
            "defaced record",
            "words of a to f stay"
        );
        assert_eq!(
            pattern(r#"{"level":"error","msg":"quota exceeded for tenant 42"}"#),
            "quota exceeded for tenant <num>"
        );
    }

    #[test]
    fn lines_that_differ_only_in_values_share_a_pattern() {
        let a = "2026-11-22T10:01:02.123Z ERROR request 8f3a91c2 timed out after 3000 ms";
        let b = "2026-11-22T10:05:59.900Z ERROR request 11aa22bb timed out after 3001 ms";
        assert_eq!(pattern(a), pattern(b));
        assert_ne!(
            pattern(a),
            pattern("ERROR connection refused to payments-db:5432")
        );
    }

    #[test]
    fn a_gist_drops_the_stamp_and_level_and_stops_at_the_first_value() {
        assert_eq!(
            gist("ERROR connection refused to payments-db:5432 (attempt 3)"),
            "connection refused to payments-db"
        );
        assert_eq!(
            gist("2026-11-22T10:01:02Z [ERROR] upstream timed out after 3000 ms"),
            "upstream timed out"
        );
        assert_eq!(
            gist("java.lang.NullPointerException at com.shop.Cart.total(Cart.java:42)"),
            "java.lang.NullPointerException at com.shop.Cart.total"
        );
        // A value first: the words around the values.
        assert_eq!(gist("42 retries exhausted"), "retries exhausted");
        assert!(!gist("error: <").is_empty(), "never empty");
    }
}
