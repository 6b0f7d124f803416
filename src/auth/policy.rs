//! What a principal may ask about: a TOML file mapping Cognito groups to the clusters and
//! services (glob patterns) and the intents they may ask about.
//!
//! ```toml
//! [groups.oncall]
//! clusters = ["*"]
//! services = ["*"]
//! intents  = ["*"]
//!
//! [groups.conference-room]
//! clusters = ["prod"]
//! services = ["*"]
//! intents  = ["FleetSummary", "ActiveAlarms", "ServiceHealth"]
//! ```
//!
//! A principal may ask what any one of its groups allows: the intent, the cluster and the
//! service must all be allowed by the same group. A group not in the file allows nothing,
//! and so does an empty pattern list. Help, stop and the other built-ins are always allowed.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use super::Principal;
use crate::ops::ServiceRef;
use crate::vocab::Intent;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    groups: BTreeMap<String, GroupFile>,
}

#[derive(Debug, Deserialize)]
struct GroupFile {
    #[serde(default)]
    clusters: Vec<String>,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    intents: Vec<String>,
}

/// Why a policy file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("policy file: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("policy group {group}: `{pattern}` is not a valid glob: {reason}")]
    Glob {
        group: String,
        pattern: String,
        reason: String,
    },
    #[error(
        "policy group {group}: `{intent}` is not an intent (use \"*\" or a name such as ServiceHealth)"
    )]
    Intent { group: String, intent: String },
}

#[derive(Debug)]
struct Rule {
    clusters: GlobSet,
    services: GlobSet,
    intents: Option<HashSet<Intent>>,
    all_services: bool,
}

impl Rule {
    fn allows_intent(&self, intent: Intent) -> bool {
        self.intents
            .as_ref()
            .is_none_or(|set| set.contains(&intent))
    }

    fn allows_service(&self, s: &ServiceRef) -> bool {
        // `*` and `*` match every name; skip the glob machinery, which is per service.
        self.all_services || (self.clusters.is_match(&s.cluster) && self.services.is_match(&s.name))
    }
}

/// The compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    groups: Arc<BTreeMap<String, Arc<Rule>>>,
    everyone: Option<Arc<Rule>>,
}

fn globs(group: &str, patterns: &[String]) -> Result<GlobSet, PolicyError> {
    let mut set = GlobSetBuilder::new();
    for p in patterns {
        set.add(Glob::new(p).map_err(|e| PolicyError::Glob {
            group: group.to_owned(),
            pattern: p.clone(),
            reason: e.kind().to_string(),
        })?);
    }
    set.build().map_err(|e| PolicyError::Glob {
        group: group.to_owned(),
        pattern: patterns.join(","),
        reason: e.to_string(),
    })
}

impl Policy {
    /// Parses a policy file.
    ///
    /// # Errors
    /// Bad TOML, an invalid glob or an unknown intent, naming the group.
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let file: File = toml::from_str(text)?;
        let mut groups = BTreeMap::new();
        for (name, g) in file.groups {
            let intents = if g.intents.iter().any(|i| i == "*") {
                None
            } else {
                let mut set = HashSet::new();
                for i in &g.intents {
                    let intent = Intent::parse(i)
                        .filter(|i| Intent::QUESTIONS.contains(i))
                        .ok_or_else(|| PolicyError::Intent {
                            group: name.clone(),
                            intent: i.clone(),
                        })?;
                    set.insert(intent);
                }
                Some(set)
            };
            let rule = Rule {
                clusters: globs(&name, &g.clusters)?,
                services: globs(&name, &g.services)?,
                all_services: g.clusters.iter().any(|c| c == "*")
                    && g.services.iter().any(|s| s == "*"),
                intents,
            };
            groups.insert(name, Arc::new(rule));
        }
        Ok(Self {
            groups: Arc::new(groups),
            everyone: None,
        })
    }

    /// A policy that allows nothing (the `aws` backend without a policy file).
    #[must_use]
    pub fn deny_all() -> Self {
        Self {
            groups: Arc::default(),
            everyone: None,
        }
    }

    /// A policy that allows everyone everything (the demo fleet: its data is fake).
    #[must_use]
    pub fn allow_all() -> Self {
        let any = |p: &str| globs("everyone", &[p.to_owned()]).unwrap_or_else(|_| GlobSet::empty());
        Self {
            groups: Arc::default(),
            everyone: Some(Arc::new(Rule {
                clusters: any("*"),
                services: any("*"),
                intents: None,
                all_services: true,
            })),
        }
    }

    /// The groups the policy names; `None` when it allows everyone everything (the demo),
    /// so that any group name is as good as another.
    #[must_use]
    pub fn group_names(&self) -> Option<Vec<String>> {
        if self.everyone.is_some() {
            return None;
        }
        Some(self.groups.keys().cloned().collect())
    }

    /// What a member of `group` alone may ask (what a channel routed for it may be sent).
    #[must_use]
    pub fn group_grants(&self, group: &str) -> Grants {
        self.grants(Some(&Principal {
            sub: format!("group:{group}"),
            username: group.to_owned(),
            groups: vec![group.to_owned()],
        }))
    }

    /// What `principal` (or an anonymous caller) may ask.
    #[must_use]
    pub fn grants(&self, principal: Option<&Principal>) -> Grants {
        let mut rules: Vec<Arc<Rule>> = self.everyone.iter().cloned().collect();
        if let Some(p) = principal {
            rules.extend(p.groups.iter().filter_map(|g| self.groups.get(g).cloned()));
        }
        Grants {
            rules: rules.into(),
        }
    }
}

/// What one caller may ask. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    rules: Arc<[Arc<Rule>]>,
}

impl Grants {
    /// Everything, for everyone (tests and the demo).
    #[must_use]
    pub fn all() -> Self {
        Policy::allow_all().grants(None)
    }

    /// Whether the caller may ask this intent about anything at all.
    #[must_use]
    pub fn intent(&self, intent: Intent) -> bool {
        !Intent::QUESTIONS.contains(&intent) || self.rules.iter().any(|r| r.allows_intent(intent))
    }

    /// Whether the caller may ask `intent` about `service`.
    #[must_use]
    pub fn service(&self, intent: Intent, service: &ServiceRef) -> bool {
        self.rules
            .iter()
            .any(|r| r.allows_intent(intent) && r.allows_service(service))
    }

    /// Whether the caller may ask `intent` about `cluster` (about some service in it).
    #[must_use]
    pub fn cluster(&self, intent: Intent, cluster: &str) -> bool {
        self.rules
            .iter()
            .any(|r| r.allows_intent(intent) && r.clusters.is_match(cluster))
    }

    /// Whether the caller may see things tied to no service (composite alarms) for `intent`.
    #[must_use]
    pub fn everything(&self, intent: Intent) -> bool {
        self.rules
            .iter()
            .any(|r| r.allows_intent(intent) && r.all_services)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
[groups.oncall]
clusters = ["*"]
services = ["*"]
intents  = ["*"]

[groups.conference-room]
clusters = ["prod"]
services = ["*"]
intents  = ["FleetSummary", "ActiveAlarms", "ServiceHealth"]

[groups.payments-team]
clusters = ["prod", "staging"]
services = ["payments*"]
intents  = ["*"]
"#;

    fn who(groups: &[&str]) -> Principal {
        Principal {
            sub: "s".into(),
            username: "u".into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    #[test]
    fn groups_grant_what_their_rules_say_and_nothing_more() {
        let policy = Policy::from_toml(FILE).unwrap();
        let prod_checkout = ServiceRef::new("prod", "checkout");
        let data_etl = ServiceRef::new("data", "etl");
        let room = policy.grants(Some(&who(&["conference-room"])));
        assert!(room.service(Intent::ServiceHealth, &prod_checkout));
        assert!(!room.service(Intent::ServiceHealth, &data_etl));
        assert!(!room.intent(Intent::MetricQuery));
        assert!(room.intent(Intent::Help), "built-ins are always allowed");
        assert!(!room.everything(Intent::ActiveAlarms));

        let payments = policy.grants(Some(&who(&["payments-team"])));
        assert!(payments.service(
            Intent::MetricQuery,
            &ServiceRef::new("prod", "payments-api")
        ));
        assert!(!payments.service(Intent::MetricQuery, &prod_checkout));

        let both = policy.grants(Some(&who(&["conference-room", "payments-team"])));
        assert!(both.service(Intent::MetricQuery, &ServiceRef::new("staging", "payments")));
        assert!(
            !both.service(Intent::MetricQuery, &prod_checkout),
            "no single group allows it"
        );

        assert!(
            policy
                .grants(Some(&who(&["oncall"])))
                .everything(Intent::WhatChanged)
        );
        assert!(
            !policy
                .grants(Some(&who(&["unknown-group"])))
                .intent(Intent::ServiceHealth)
        );
        assert!(!policy.grants(None).intent(Intent::FleetSummary));
        assert!(
            !Policy::deny_all()
                .grants(Some(&who(&["oncall"])))
                .intent(Intent::FleetSummary)
        );
        assert!(
            Policy::allow_all()
                .grants(None)
                .service(Intent::MetricQuery, &data_etl)
        );
    }

    #[test]
    fn mistakes_in_the_file_are_named() {
        let err = Policy::from_toml("[groups.x]\nintents = [\"ServceHealth\"]\n").unwrap_err();
        assert!(
            err.to_string().contains("`ServceHealth` is not an intent"),
            "{err}"
        );
        let err = Policy::from_toml("[groups.x]\nclusters = [\"[\"]\n").unwrap_err();
        assert!(err.to_string().contains("not a valid glob"), "{err}");
        assert!(Policy::from_toml("[grups.x]\n").is_err());
    }
}
