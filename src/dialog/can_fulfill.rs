//! "Can you answer this?" without answering: Alexa's CanFulfillIntentRequest, per slot, with
//! no data fetched but the catalog of names (and not even that when told not to).

use super::resolve::{self, Match};
use super::{Dialog, Intent, Slot};

/// How sure we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ability {
    Yes,
    Maybe,
    No,
}

impl Ability {
    /// Alexa's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Ability::Yes => "YES",
            Ability::Maybe => "MAYBE",
            Ability::No => "NO",
        }
    }
}

/// One slot's answer: whether its value is understood, and whether it can be acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotAbility {
    pub understand: Ability,
    pub fulfil: Ability,
}

/// The answer for an intent and its slots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanFulfill {
    pub overall: Ability,
    /// Each slot that had a value, by its wire name.
    pub slots: Vec<(String, SlotAbility)>,
}

/// A name resolved against the catalog: found, nothing close, or several near.
fn judged<T>(m: Match<T>) -> (Ability, Ability) {
    match m {
        Match::Found(_) => (Ability::Yes, Ability::Yes),
        Match::NoMatch => (Ability::No, Ability::No),
        _ => (Ability::Maybe, Ability::Yes),
    }
}

impl Dialog {
    /// Whether `intent` with `slots` (wire names and values) can be answered. With
    /// `check_names` false (callers must sign in, and this request carries no token),
    /// names are not checked against the catalog, so the answer reveals nothing of what
    /// exists.
    pub async fn can_fulfill(
        &self,
        intent: &str,
        slots: &[(String, String)],
        check_names: bool,
    ) -> CanFulfill {
        let ours = Intent::parse(intent).filter(|i| Intent::QUESTIONS.contains(i));
        let catalog = if check_names {
            self.ops().catalog().await.ok()
        } else {
            None
        };
        let known = |ok: bool| {
            if ok {
                (Ability::Yes, Ability::Yes)
            } else {
                (Ability::No, Ability::No)
            }
        };
        let mut overall = if ours.is_some() {
            Ability::Yes
        } else {
            Ability::No
        };
        let mut out = Vec::with_capacity(slots.len());
        for (name, value) in slots {
            let (understand, fulfil) = match (Slot::parse(name), &catalog) {
                (None, _) => (Ability::No, Ability::No),
                (Some(Slot::Service), Some(catalog)) => {
                    judged(resolve::resolve(value, &catalog.services, |s| {
                        s.name.as_str()
                    }))
                }
                (Some(Slot::Cluster), Some(catalog)) => {
                    judged(resolve::resolve(value, &catalog.clusters, String::as_str))
                }
                (Some(Slot::Metric), _) => known(super::parse_metric(value).is_some()),
                (Some(Slot::Window), _) => known(super::parse_window(value).is_some()),
                (Some(Slot::Count), _) => known(super::parse_count(value).is_some()),
                (Some(Slot::Duration), _) => known(
                    super::parse_silence_length(value, std::time::SystemTime::now()).is_some(),
                ),
                // Alarm names, or no catalog to check against: likely, not certain.
                _ => (Ability::Maybe, Ability::Yes),
            };
            if fulfil == Ability::No {
                overall = Ability::No;
            } else if understand == Ability::Maybe && overall == Ability::Yes {
                overall = Ability::Maybe;
            }
            out.push((name.clone(), SlotAbility { understand, fulfil }));
        }
        CanFulfill {
            overall,
            slots: out,
        }
    }
}
