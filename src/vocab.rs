//! The conversation's vocabulary: every [`Intent`] a user can ask and every [`Slot`] it may
//! carry, named as in Lex, Alexa and `intents/`. A leaf, so `auth` (whose policy grants
//! intents) and `nlu` use it without importing `dialog`.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The registry of question intents: one line each, the intent's name (the contract shared
/// with Lex, Alexa and `intents/`) and its handler module in `dialog`. The `Intent`
/// variants and their names, the handler modules, the dispatch and the reply's `Report`
/// variants are all generated from this list, so a new intent is one line here, its
/// `dialog/<module>.rs`, its `intents/<Name>.toml` and its `prompts/<locale>/<module>.ftl`.
///
/// `questions!(then)` calls the macro `then!` (in scope where it is used) with the list.
macro_rules! questions {
    ($then:ident) => {
        $then! {
            ServiceHealth => service_health,
            DeploymentStatus => deployment_status,
            ActiveAlarms => active_alarms,
            AlarmDetail => alarm_detail,
            MetricQuery => metric_query,
            FleetSummary => fleet_summary,
            WhatChanged => what_changed,
            WhatHappened => what_happened,
            UnsupportedAction => unsupported_action,
            RestartService => restart_service,
            RollbackService => rollback_service,
            ScaleService => scale_service,
            SilenceAlarm => silence_alarm,
            UnsilenceAlarm => unsilence_alarm,
            LogErrors => log_errors,
        }
    };
}

macro_rules! intents {
    ($($name:ident => $module:ident,)*) => {
        /// Everything a user can ask: the questions of the registry (`questions!`), then
        /// the built-ins under their platform names.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum Intent {
            $($name,)*
    #[serde(rename = "AMAZON.HelpIntent")]
    Help,
    #[serde(rename = "AMAZON.StopIntent")]
    Stop,
    #[serde(rename = "AMAZON.CancelIntent")]
    Cancel,
    #[serde(rename = "AMAZON.RepeatIntent")]
    Repeat,
    /// "Tell me more": the last answer again, in detail.
    #[serde(rename = "AMAZON.MoreIntent")]
    More,
    #[serde(rename = "AMAZON.YesIntent")]
    Yes,
    #[serde(rename = "AMAZON.NoIntent")]
    No,
    #[serde(rename = "AMAZON.FallbackIntent")]
    Fallback,
    /// The session was opened without a question ("Alexa, open ops desk").
    Launch,
        }

        impl Intent {
            /// The intents that answer from operational data, in registry order.
            pub const QUESTIONS: [Intent; [$(stringify!($name)),*].len()] = [$(Intent::$name),*];

            /// Reads an intent name as Lex or Alexa send it: `AMAZON.HelpIntent`, Lex's
            /// `FallbackIntent`, or a custom name such as `HelpIntent` built on a built-in.
            #[must_use]
            pub fn parse(name: &str) -> Option<Self> {
                let bare = name.strip_prefix("AMAZON.").unwrap_or(name);
                $(
                    if bare == stringify!($name) {
                        return Some(Intent::$name);
                    }
                )*
                Some(match bare {
            "HelpIntent" | "Help" => Intent::Help,
            "StopIntent" | "Stop" => Intent::Stop,
            "CancelIntent" | "Cancel" => Intent::Cancel,
            "RepeatIntent" | "Repeat" => Intent::Repeat,
            "MoreIntent" | "More" => Intent::More,
            "YesIntent" | "Yes" => Intent::Yes,
            "NoIntent" | "No" => Intent::No,
            "FallbackIntent" | "Fallback" => Intent::Fallback,
            "Launch" | "LaunchRequest" => Intent::Launch,
                    _ => return None,
                })
            }

            /// The canonical name (the platform name for built-ins).
            #[must_use]
            pub fn name(self) -> &'static str {
                match self {
                    $(Intent::$name => stringify!($name),)*
            Intent::Help => "AMAZON.HelpIntent",
            Intent::Stop => "AMAZON.StopIntent",
            Intent::Cancel => "AMAZON.CancelIntent",
            Intent::Repeat => "AMAZON.RepeatIntent",
            Intent::More => "AMAZON.MoreIntent",
            Intent::Yes => "AMAZON.YesIntent",
            Intent::No => "AMAZON.NoIntent",
            Intent::Fallback => "AMAZON.FallbackIntent",
            Intent::Launch => "Launch",
                }
            }
        }
    };
}

pub(crate) use questions;

questions!(intents);

impl Intent {
    /// The verb an acting intent asks for (`None` for a question).
    #[must_use]
    pub fn verb(self) -> Option<Verb> {
        match self {
            Intent::RestartService => Some(Verb::Restart),
            Intent::RollbackService => Some(Verb::Rollback),
            Intent::ScaleService => Some(Verb::Scale),
            Intent::SilenceAlarm | Intent::UnsilenceAlarm => Some(Verb::Silence),
            _ => None,
        }
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The slots, named as in Lex, Alexa and `intents/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Slot {
    Service,
    Cluster,
    Alarm,
    Metric,
    Window,
    /// How many tasks (ScaleService): a number.
    Count,
    /// How long (SilenceAlarm): "30 minutes", "an hour".
    Duration,
    /// Which configured account (DESIGN §7): "prod", "the staging account".
    Account,
    /// Which region: a code ("eu-west-1"), a place ("Ireland") or an area ("Europe").
    Region,
}

impl Slot {
    pub const ALL: [Slot; 9] = [
        Slot::Service,
        Slot::Cluster,
        Slot::Alarm,
        Slot::Metric,
        Slot::Window,
        Slot::Count,
        Slot::Duration,
        Slot::Account,
        Slot::Region,
    ];

    /// The wire name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Slot::Service => "service",
            Slot::Cluster => "cluster",
            Slot::Alarm => "alarm",
            Slot::Metric => "metric",
            Slot::Window => "window",
            Slot::Count => "count",
            Slot::Duration => "duration",
            Slot::Account => "account",
            Slot::Region => "region",
        }
    }

    /// Reads a wire name.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        Slot::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// Slot values as the user gave them (already the platform's interpreted value).
pub type Slots = BTreeMap<Slot, String>;

/// Voice answers are spoken and short; text answers may list and link.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Voice,
    Text,
}

/// The things opsvoice may do to the fleet (issue 31): four typed verbs, never a free-form
/// command. Here, a leaf, because the policy (`auth`) grants them and `act` runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verb {
    Restart,
    Rollback,
    Scale,
    Silence,
}

impl Verb {
    pub const ALL: [Verb; 4] = [Verb::Restart, Verb::Rollback, Verb::Scale, Verb::Silence];

    /// The name in the policy file (`actions = ["restart"]`) and in stored records.
    #[must_use]
    pub fn policy_name(self) -> &'static str {
        match self {
            Verb::Restart => "restart",
            Verb::Rollback => "rollback",
            Verb::Scale => "scale",
            Verb::Silence => "silence",
        }
    }

    /// The verb as a sentence says it ("roll back checkout").
    #[must_use]
    pub fn spoken(self) -> &'static str {
        match self {
            Verb::Restart => "restart",
            Verb::Rollback => "roll back",
            Verb::Scale => "scale",
            Verb::Silence => "silence",
        }
    }

    /// The intent that asks for it (DESIGN §7).
    #[must_use]
    pub fn intent_name(self) -> &'static str {
        match self {
            Verb::Restart => "RestartService",
            Verb::Rollback => "RollbackService",
            Verb::Scale => "ScaleService",
            Verb::Silence => "SilenceAlarm",
        }
    }

    /// Reads a policy name.
    ///
    /// # Errors
    /// Not a verb: the verb closest to what was written, if one is close enough to be the
    /// likely meaning.
    pub fn parse(name: &str) -> Result<Self, Option<Self>> {
        let lower = name.trim().to_ascii_lowercase();
        if let Some(verb) = Verb::ALL.into_iter().find(|v| v.policy_name() == lower) {
            return Ok(verb);
        }
        // "roll back" and "roll-back" read as the verb they spell, but are still refused:
        // the file names a verb one way, so a search for it finds every grant.
        let squeezed: String = lower.chars().filter(char::is_ascii_alphabetic).collect();
        Err(Verb::ALL
            .into_iter()
            .map(|v| (edit_distance(&squeezed, v.policy_name()), v))
            .min()
            .filter(|(d, _)| *d <= 3)
            .map(|(_, v)| v))
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.policy_name())
    }
}

/// Levenshtein distance over characters (short words only: policy verbs).
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intent_names_parse_in_every_platform_spelling() {
        assert_eq!(Intent::parse("AMAZON.HelpIntent"), Some(Intent::Help));
        assert_eq!(Intent::parse("FallbackIntent"), Some(Intent::Fallback));
        assert_eq!(Intent::parse("ServiceHealth"), Some(Intent::ServiceHealth));
        assert_eq!(Intent::parse("OrderPizza"), None);
        for intent in Intent::QUESTIONS {
            assert_eq!(Intent::parse(intent.name()), Some(intent));
        }
    }

    #[test]
    fn verbs_parse_by_policy_name_and_a_typo_names_the_closest() {
        for verb in Verb::ALL {
            assert_eq!(Verb::parse(verb.policy_name()), Ok(verb));
        }
        assert_eq!(Verb::parse("Restart"), Ok(Verb::Restart));
        assert_eq!(Verb::parse("rollbak"), Err(Some(Verb::Rollback)));
        assert_eq!(Verb::parse("roll back"), Err(Some(Verb::Rollback)));
        assert_eq!(Verb::parse("scael"), Err(Some(Verb::Scale)));
        assert_eq!(Verb::parse("deploy"), Err(None));
    }
}
