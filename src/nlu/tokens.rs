//! Words: text into lowercase tokens (contractions and chat spellings expanded), each word
//! reduced to what it means for the intent, and the words that carry no intent.

/// Hesitations: never part of a sample, a name or an intent.
pub(super) const FILLERS: &[&str] = &["uh", "uhh", "um", "umm", "er", "erm", "hmm", "hm", "ah"];

/// Articles and politeness, with the [`FILLERS`]: left out of the features.
const IGNORED: &[&str] = &[
    "the", "a", "an", "please", "hey", "oh", "pls", "plz", "kindly",
];

pub(super) fn is_ignored(w: &str) -> bool {
    IGNORED.contains(&w) || FILLERS.contains(&w)
}

pub(super) fn is_stopword(w: &str) -> bool {
    STOPWORDS.contains(&w) || FILLERS.contains(&w)
}

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

/// Lowercase words with contractions expanded; `{slot}` placeholders kept whole.
pub(super) fn tokens(text: &str) -> Vec<String> {
    let lowered = text.to_lowercase().replace(['\u{2019}', '`'], "'");
    let mut expanded = String::with_capacity(lowered.len() + 8);
    for word in lowered.split_whitespace() {
        // "w/" typed for "with" (before its slash is trimmed away).
        let word = if word == "w/" { "with" } else { word };
        // "re-deploy" is "redeploy", not "re" and "deploy"; "un-snooze" is "unsnooze".
        let joined;
        let word = match ["re-", "un-"]
            .iter()
            .find_map(|p| Some((&p[..2], word.strip_prefix(p)?)))
        {
            Some((prefix, rest)) if rest.chars().next().is_some_and(char::is_alphabetic) => {
                joined = format!("{prefix}{rest}");
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
pub(super) fn canonical_word(w: &str) -> String {
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
        // A time is a time to the classifier; which slot it fills is the intent's to say
        // (a metric's window, a silence's duration).
        "{duration}" => "{window}",
        // So is a number: "scale it to 8 tasks" and "bump the memory limit to 8 gigs" differ
        // in what is counted, not in the number ("one" is too often no number at all).
        "{count}" | "two" | "three" | "four" | "five" | "six" | "seven" | "eight" | "nine"
        | "ten" | "eleven" | "twelve" | "fifteen" | "twenty" | "thirty" | "forty" | "fifty"
        | "hundred" | "dozen" => "{number}",
        digits if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) => "{number}",
        other => other,
    };
    c.to_owned()
}

pub(super) fn canonical(words: &[String]) -> Vec<String> {
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
        // "for thirty minutes" is found whole as a window, "for an hour" as "for" and a
        // duration: the same to the classifier.
        if c == "{window}" && out.last().is_some_and(|p| p == "for") {
            out.pop();
        }
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
