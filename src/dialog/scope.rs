//! Where a question is about, with accounts configured: an account ("in prod", "in the
//! staging account", "for payments team") and regions ("in eu-west-1", "in Ireland", "in
//! Europe"), from the `account` and `region` slots or, failing them, from the words (the
//! local NLU takes only names it knows, and an account or a region is neither a service
//! nor a cluster). Region names become codes; an area ("Europe") is every region of it.

use super::{Slot, Turn};
use crate::ops::Place;

/// Regions a question names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Regions {
    /// These regions (a code, or a place one region serves: "Ireland" is eu-west-1).
    Exactly(Vec<String>),
    /// Every region whose code starts so: "Europe" is `eu-`.
    Area(&'static str),
}

impl Regions {
    /// Whether `region` (a code) is one of them.
    #[must_use]
    pub fn contains(&self, region: &str) -> bool {
        match self {
            Regions::Exactly(codes) => codes.iter().any(|c| c == region),
            Regions::Area(prefix) => region.starts_with(prefix),
        }
    }
}

/// Places people say, and the region each one is (the AWS region's own location name).
pub(crate) const REGION_PLACES: &[(&str, &str)] = &[
    ("ireland", "eu-west-1"),
    ("dublin", "eu-west-1"),
    ("london", "eu-west-2"),
    ("paris", "eu-west-3"),
    ("frankfurt", "eu-central-1"),
    ("zurich", "eu-central-2"),
    ("stockholm", "eu-north-1"),
    ("milan", "eu-south-1"),
    ("spain", "eu-south-2"),
    ("north virginia", "us-east-1"),
    ("northern virginia", "us-east-1"),
    ("virginia", "us-east-1"),
    ("ohio", "us-east-2"),
    ("california", "us-west-1"),
    ("oregon", "us-west-2"),
    ("canada", "ca-central-1"),
    ("montreal", "ca-central-1"),
    ("sao paulo", "sa-east-1"),
    ("tokyo", "ap-northeast-1"),
    ("seoul", "ap-northeast-2"),
    ("osaka", "ap-northeast-3"),
    ("singapore", "ap-southeast-1"),
    ("sydney", "ap-southeast-2"),
    ("mumbai", "ap-south-1"),
    ("hong kong", "ap-east-1"),
    ("bahrain", "me-south-1"),
    ("cape town", "af-south-1"),
];

/// Areas people say, and the region codes' prefix.
const AREAS: &[(&str, &str)] = &[
    ("europe", "eu-"),
    ("the eu", "eu-"),
    ("eu", "eu-"),
    ("the us", "us-"),
    ("america", "us-"),
    ("north america", "us-"),
    ("the states", "us-"),
    ("asia pacific", "ap-"),
    ("asia", "ap-"),
    ("apac", "ap-"),
];

/// The words of `text`, lower case, with punctuation dropped but hyphens kept.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| c.is_whitespace() || c == ',' || c == '?' || c == '!')
        .map(|w| {
            w.trim_matches(|c: char| !(c.is_alphanumeric() || c == '-'))
                .replace('ã', "a")
        })
        .filter(|w| !w.is_empty())
        .collect()
}

/// A region code said as words or written: "eu-west-1", "eu west 1", "us east two".
fn code_at(words: &[String], i: usize) -> Option<(String, usize)> {
    let first = words.get(i)?;
    if is_code(first) {
        return Some((first.clone(), 1));
    }
    // "eu west 1", "us east two".
    let (area, direction, number) = (first, words.get(i + 1)?, words.get(i + 2)?);
    let number = match number.as_str() {
        "one" => "1",
        "two" => "2",
        "three" => "3",
        "four" => "4",
        n => n,
    };
    let code = format!("{area}-{direction}-{number}");
    is_code(&code).then_some((code, 3))
}

/// `eu-west-1`, `us-gov-west-1`: a region code's shape, with a direction word we know.
fn is_code(word: &str) -> bool {
    let parts: Vec<&str> = word.split('-').collect();
    let (area, rest) = match parts.as_slice() {
        [area, "gov", rest @ ..] | [area, rest @ ..] => (*area, rest),
        [] => return false,
    };
    const DIRECTIONS: &[&str] = &[
        "east",
        "west",
        "north",
        "south",
        "central",
        "northeast",
        "northwest",
        "southeast",
        "southwest",
    ];
    area.len() == 2
        && area.bytes().all(|b| b.is_ascii_lowercase())
        && matches!(rest, [d, n] if DIRECTIONS.contains(d)
            && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `phrase` (words) starts at `words[i]`.
fn phrase_at(words: &[String], i: usize, phrase: &str) -> usize {
    let said: Vec<&str> = phrase.split(' ').collect();
    let fits = said
        .iter()
        .enumerate()
        .all(|(k, w)| words.get(i + k).is_some_and(|x| x == w));
    if fits { said.len() } else { 0 }
}

/// The regions `text` names after "in", "on", "for" or "from" (or alone, when the whole
/// text is the region: a slot's value): codes, places, areas. `None` when it names none.
#[must_use]
pub fn regions_in(text: &str) -> Option<Regions> {
    let words = words(text);
    let alone = |len: usize| len == words.len();
    for i in 0..words.len() {
        let after_preposition = i > 0
            && matches!(
                words[i - 1].as_str(),
                "in" | "on" | "for" | "from" | "across"
            );
        if let Some((code, len)) = code_at(&words, i)
            && (after_preposition || alone(len) || i + len <= words.len())
        {
            return Some(Regions::Exactly(vec![code]));
        }
        if !(after_preposition || i == 0) {
            continue;
        }
        for (place, code) in REGION_PLACES {
            let len = phrase_at(&words, i, place);
            if len > 0 && (after_preposition || alone(len)) {
                return Some(Regions::Exactly(vec![(*code).to_owned()]));
            }
        }
        for (area, prefix) in AREAS {
            let len = phrase_at(&words, i, area);
            if len > 0 && (after_preposition || alone(len)) {
                return Some(Regions::Area(prefix));
            }
        }
    }
    None
}

/// The configured account `text` names: as a whole (a slot's value, "the staging
/// account"), or after "in", "on", "for" or "from" (optionally "the"), or before the word
/// "account". The longest name wins ("payments team" over "payments").
#[must_use]
pub fn account_in(text: &str, accounts: &[String]) -> Option<String> {
    let words = words(text);
    let mut best: Option<(usize, &String)> = None;
    for account in accounts {
        let name: Vec<&str> = account.split(' ').collect();
        let n = name.len();
        for i in 0..words.len() {
            if phrase_at(&words, i, account) == 0 {
                continue;
            }
            let before = |k: usize| {
                i.checked_sub(k)
                    .and_then(|j| words.get(j))
                    .map(String::as_str)
            };
            let preposition = |w: Option<&str>| matches!(w, Some("in" | "on" | "for" | "from"));
            let led =
                preposition(before(1)) || (before(1) == Some("the") && preposition(before(2)));
            let named = words
                .get(i + n)
                .is_some_and(|w| w == "account" || w == "accounts");
            let whole = {
                let rest: Vec<&String> = words
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| *k < i || *k >= i + n)
                    .map(|(_, w)| w)
                    .collect();
                rest.iter()
                    .all(|w| matches!(w.as_str(), "the" | "account" | "in" | "one"))
            };
            if (led || named || whole) && best.is_none_or(|(len, _)| n > len) {
                best = Some((n, account));
            }
        }
    }
    best.map(|(_, a)| a.clone())
}

/// Where a turn is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Where {
    pub account: Option<String>,
    pub regions: Option<Regions>,
}

impl Where {
    /// Whether `place` is in it (everything is, when it names nothing; so is a thing with
    /// no place, without accounts).
    #[must_use]
    pub fn holds(&self, place: Option<&Place>) -> bool {
        let Some(place) = place else { return true };
        self.account.as_ref().is_none_or(|a| a == &place.account)
            && self
                .regions
                .as_ref()
                .is_none_or(|r| r.contains(&place.region))
    }

    /// Whether it names anything.
    #[must_use]
    pub fn named(&self) -> bool {
        self.account.is_some() || self.regions.is_some()
    }
}

/// Where `turn` is about, among `accounts` (the configured account names): the `account`
/// and `region` slots first, then the words. Nothing without accounts.
#[must_use]
pub fn heard(turn: &Turn, accounts: &[String]) -> Where {
    if accounts.is_empty() {
        return Where::default();
    }
    let said = turn.transcript.as_deref().unwrap_or_default();
    let service = turn.slots.get(&Slot::Service).map_or("", String::as_str);
    let account = turn
        .slots
        .get(&Slot::Account)
        .and_then(|a| account_in(a, accounts))
        .or_else(|| account_in(said, accounts))
        .or_else(|| account_in(service, accounts).filter(|_| service.contains(' ')));
    let regions = turn
        .slots
        .get(&Slot::Region)
        .and_then(|r| regions_in(r))
        .or_else(|| regions_in(said));
    Where { account, regions }
}

/// The account names among `places`, in order of first appearance.
#[must_use]
pub fn accounts_of<'a>(places: impl IntoIterator<Item = Option<&'a Place>>) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for place in places.into_iter().flatten() {
        if !names.contains(&place.account) {
            names.push(place.account.clone());
        }
    }
    names
}

/// A spoken service name without the place said with it ("checkout in staging" is
/// checkout): what comes before " in " when what follows names an account or regions.
#[must_use]
pub fn without_place(spoken: &str, accounts: &[String]) -> String {
    let lower = spoken.to_lowercase();
    for sep in [" in ", " on ", " from "] {
        if let Some(at) = lower.rfind(sep) {
            let rest = &lower[at..];
            if account_in(rest, accounts).is_some() || regions_in(rest).is_some() {
                return spoken[..at].trim().to_owned();
            }
        }
    }
    spoken.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exactly(code: &str) -> Option<Regions> {
        Some(Regions::Exactly(vec![code.to_owned()]))
    }

    #[test]
    fn region_phrases_become_codes_and_areas() {
        for (said, want) in [
            ("how is checkout in eu-west-1", exactly("eu-west-1")),
            ("any alarms firing in Ireland?", exactly("eu-west-1")),
            ("how is checkout doing in eu west 1", exactly("eu-west-1")),
            ("anything broken in us east two", exactly("us-east-2")),
            ("how's the fleet in Frankfurt", exactly("eu-central-1")),
            ("is search up in north virginia", exactly("us-east-1")),
            ("eu-west-1", exactly("eu-west-1")),
            ("Ireland", exactly("eu-west-1")),
            ("any alarms in Europe", Some(Regions::Area("eu-"))),
            ("how is prod in the US", Some(Regions::Area("us-"))),
            ("Europe", Some(Regions::Area("eu-"))),
        ] {
            assert_eq!(regions_in(said), want, "{said}");
        }
        for said in [
            "how is checkout doing",
            "any alarms in the last hour",
            "what changed in prod",
            "the ireland-sync service",
            "is europe-feed up",
        ] {
            assert_eq!(regions_in(said), None, "{said}");
        }
    }

    #[test]
    fn areas_hold_their_regions_only() {
        let europe = Regions::Area("eu-");
        assert!(europe.contains("eu-west-1") && europe.contains("eu-central-1"));
        assert!(!europe.contains("us-east-1"));
        assert!(exactly("eu-west-1").unwrap().contains("eu-west-1"));
        assert!(!exactly("eu-west-1").unwrap().contains("eu-west-2"));
    }

    #[test]
    fn account_phrases_name_configured_accounts_only() {
        let accounts: Vec<String> = ["prod", "staging", "payments team", "payments"]
            .map(str::to_owned)
            .to_vec();
        for (said, want) in [
            ("how is checkout doing in prod", Some("prod")),
            ("how is checkout in the staging account", Some("staging")),
            ("any alarms for payments team", Some("payments team")),
            ("staging", Some("staging")),
            ("the staging one", Some("staging")),
            ("staging account", Some("staging")),
            ("how is checkout doing", None),
            ("how is the staging-sync service", None),
            ("is prod-api up", None),
            ("any alarms in dev", None),
        ] {
            assert_eq!(account_in(said, &accounts).as_deref(), want, "{said}");
        }
        assert_eq!(without_place("checkout in staging", &accounts), "checkout");
        assert_eq!(without_place("checkout in Ireland", &accounts), "checkout");
        assert_eq!(
            without_place("check in service", &accounts),
            "check in service"
        );
    }
}
