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
//!
//! Acting (DESIGN §7) adds an `[actions]` table (off unless `enabled = true`) and, per
//! group, `accounts`, `actions` and `approve`: the verbs a member may ask for, and approve
//! for others, on what that same group lets them see. Files without these keys read as
//! before, and grant no verb. Unknown keys are refused at the top level and in `[actions]`
//! (a misspelt `[actions]` key would otherwise silently loosen or tighten a guard rail);
//! inside a group they are ignored, as they always were, so older files keep loading.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use super::Principal;
use crate::ops::ServiceRef;
use crate::vocab::{Intent, Verb};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    groups: BTreeMap<String, GroupFile>,
    actions: Option<ActionsFile>,
}

/// `[actions]` as written; checked into [`ActionSettings`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionsFile {
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    approval: Vec<String>,
    channel: Option<String>,
    approval_ttl: Option<String>,
    scale_max: Option<i64>,
    silence_max: Option<String>,
    per_service: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct GroupFile {
    #[serde(default)]
    clusters: Vec<String>,
    #[serde(default)]
    services: Vec<String>,
    #[serde(default)]
    intents: Vec<String>,
    /// Absent: every account (`["*"]`).
    accounts: Option<Vec<String>>,
    #[serde(default)]
    actions: Vec<String>,
    #[serde(default)]
    approve: Vec<String>,
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
    #[error(
        "policy group {group}: `{verb}` in `{key}` is not a verb{}; the verbs are restart, \
         rollback, scale and silence",
        did_you_mean(.closest)
    )]
    Verb {
        group: String,
        key: &'static str,
        verb: String,
        closest: Option<Verb>,
    },
    #[error("policy [actions] `{key}`: {reason}")]
    Actions { key: &'static str, reason: String },
}

fn did_you_mean(closest: &Option<Verb>) -> String {
    closest.map_or_else(String::new, |v| format!(" (did you mean `{v}`?)"))
}

/// The `[actions]` table, checked: whether anything may act, where a second person must
/// approve, and the bounds every action keeps.
#[derive(Debug, Clone)]
pub struct ActionSettings {
    /// `enabled`: without it (or without the table) no verb runs for anyone.
    pub enabled: bool,
    /// `approval`: the cluster (or `account/cluster`) globs as written.
    pub approval: Vec<String>,
    approval_set: GlobSet,
    /// `channel`: the Slack channel id approval cards go to (set when `approval` is).
    pub channel: Option<String>,
    /// `approval_ttl`: how long an approval card may wait.
    pub approval_ttl: Duration,
    /// `scale_max`: the most tasks a scale may ask for.
    pub scale_max: u32,
    /// `silence_max`: the longest silence.
    pub silence_max: Duration,
    /// `per_service`: executed actions per service per 10 minutes.
    pub per_service: u32,
}

impl ActionSettings {
    pub const DEFAULT_APPROVAL_TTL: Duration = Duration::from_secs(10 * 60);
    pub const DEFAULT_SCALE_MAX: u32 = 20;
    pub const DEFAULT_SILENCE_MAX: Duration = Duration::from_secs(4 * 3600);
    pub const DEFAULT_PER_SERVICE: u32 = 3;
    /// Bounds of `approval_ttl`: shorter leaves no time to find an approver; longer
    /// approves a change against a fleet that has long moved on.
    pub const APPROVAL_TTL_BOUNDS: (Duration, Duration) =
        (Duration::from_secs(60), Duration::from_secs(24 * 3600));
    /// Bounds of `silence_max`: a silence longer than a day hides an alarm past a shift.
    pub const SILENCE_MAX_BOUNDS: (Duration, Duration) =
        (Duration::from_secs(60), Duration::from_secs(24 * 3600));

    /// No verb for anyone (no `[actions]` table).
    #[must_use]
    pub fn off() -> Self {
        Self {
            enabled: false,
            approval: Vec::new(),
            approval_set: GlobSet::empty(),
            channel: None,
            approval_ttl: Self::DEFAULT_APPROVAL_TTL,
            scale_max: Self::DEFAULT_SCALE_MAX,
            silence_max: Self::DEFAULT_SILENCE_MAX,
            per_service: Self::DEFAULT_PER_SERVICE,
        }
    }

    fn from_file(file: ActionsFile) -> Result<Self, PolicyError> {
        let bad = |key: &'static str, reason: String| PolicyError::Actions { key, reason };
        let approval_set = globs("[actions]", &file.approval).map_err(|e| match e {
            PolicyError::Glob {
                pattern, reason, ..
            } => bad(
                "approval",
                format!("`{pattern}` is not a valid glob: {reason}"),
            ),
            other => other,
        })?;
        let channel = match file.channel {
            Some(c) if is_channel_id(&c) => Some(c),
            Some(c) => {
                return Err(bad(
                    "channel",
                    format!(
                        "`{c}` is not a Slack channel id (like C0123456789; the name will not do)"
                    ),
                ));
            }
            None => None,
        };
        if !file.approval.is_empty() && channel.is_none() {
            return Err(bad(
                "channel",
                "is required when `approval` is set: approval cards go to that Slack channel \
                 (channel = \"C0123456789\")"
                    .to_owned(),
            ));
        }
        let bounded = |key: &'static str,
                       text: Option<String>,
                       default: Duration,
                       (min, max): (Duration, Duration)|
         -> Result<Duration, PolicyError> {
            let Some(text) = text else {
                return Ok(default);
            };
            let d = parse_duration(&text).map_err(|reason| bad(key, reason))?;
            if d < min || d > max {
                return Err(bad(
                    key,
                    format!(
                        "`{text}` is out of bounds: between {}m and {}h",
                        min.as_secs() / 60,
                        max.as_secs() / 3600
                    ),
                ));
            }
            Ok(d)
        };
        let at_least_one =
            |key: &'static str, value: Option<i64>, default: u32| -> Result<u32, PolicyError> {
                match value {
                    None => Ok(default),
                    Some(n) => u32::try_from(n).ok().filter(|n| *n >= 1).ok_or_else(|| {
                        bad(key, format!("{n} is not a whole number of at least 1"))
                    }),
                }
            };
        Ok(Self {
            enabled: file.enabled,
            approval: file.approval,
            approval_set,
            channel,
            approval_ttl: bounded(
                "approval_ttl",
                file.approval_ttl,
                Self::DEFAULT_APPROVAL_TTL,
                Self::APPROVAL_TTL_BOUNDS,
            )?,
            scale_max: at_least_one("scale_max", file.scale_max, Self::DEFAULT_SCALE_MAX)?,
            silence_max: bounded(
                "silence_max",
                file.silence_max,
                Self::DEFAULT_SILENCE_MAX,
                Self::SILENCE_MAX_BOUNDS,
            )?,
            per_service: at_least_one("per_service", file.per_service, Self::DEFAULT_PER_SERVICE)?,
        })
    }

    /// Whether the policy asks for approval anywhere (then approval cards need a channel
    /// and a Slack app).
    #[must_use]
    pub fn approval_required(&self) -> bool {
        !self.approval.is_empty()
    }

    /// Whether an action on `cluster` (in `account`, when accounts are configured) needs a
    /// second person: an `approval` glob matches the cluster, or `account/cluster`.
    #[must_use]
    pub fn needs_approval(&self, account: Option<&str>, cluster: &str) -> bool {
        self.approval_set.is_match(cluster)
            || account.is_some_and(|a| self.approval_set.is_match(format!("{a}/{cluster}")))
    }
}

/// A Slack channel id (public `C…` or private `G…`), as notification routes take them.
fn is_channel_id(text: &str) -> bool {
    (9..=20).contains(&text.len())
        && text.starts_with(['C', 'G'])
        && text
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// A duration as the policy writes it: `90s`, `10m`, `4h`, `1h30m`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let refuse = || {
        format!("`{text}` is not a duration (write it like \"90s\", \"10m\", \"4h\" or \"1h30m\")")
    };
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.trim().chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(refuse()),
        };
        let n: u64 = digits.parse().map_err(|_| refuse())?;
        digits.clear();
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(refuse)?;
    }
    if !digits.is_empty() || total == 0 {
        return Err(refuse());
    }
    Ok(Duration::from_secs(total))
}

fn verbs(group: &str, key: &'static str, names: &[String]) -> Result<BTreeSet<Verb>, PolicyError> {
    names
        .iter()
        .map(|name| {
            Verb::parse(name).map_err(|closest| PolicyError::Verb {
                group: group.to_owned(),
                key,
                verb: name.clone(),
                closest,
            })
        })
        .collect()
}

#[derive(Debug)]
struct Rule {
    clusters: GlobSet,
    services: GlobSet,
    intents: Option<HashSet<Intent>>,
    all_services: bool,
    accounts: GlobSet,
    /// `accounts` has `*`: every account (the default).
    all_accounts: bool,
    /// The verbs a member may ask for, and approve for others.
    act: BTreeSet<Verb>,
    approve: BTreeSet<Verb>,
}

impl Rule {
    fn allows_intent(&self, intent: Intent) -> bool {
        // The acting intents are granted by `actions`, not `intents` (the desk's gate
        // says no, with the reason, to a group without the verb).
        intent.verb().is_some()
            || self
                .intents
                .as_ref()
                .is_none_or(|set| set.contains(&intent))
    }

    fn allows_service(&self, s: &ServiceRef) -> bool {
        // `*` and `*` match every name; skip the glob machinery, which is per service.
        (self.all_services
            || (self.clusters.is_match(&s.cluster) && self.services.is_match(&s.name)))
            && s.account().is_none_or(|a| self.allows_account(a))
    }

    fn allows_account(&self, account: &str) -> bool {
        self.all_accounts || self.accounts.is_match(account)
    }

    /// Whether the group sees a target at all: it may ask some question, in the target's
    /// account (when accounts are configured) and about its service (`None`: a target tied
    /// to no service, such as a composite alarm, which only groups seeing everything see).
    fn sees(&self, account: Option<&str>, service: Option<&ServiceRef>) -> bool {
        let asks_something = self.intents.as_ref().is_none_or(|set| !set.is_empty());
        asks_something
            && account.is_none_or(|a| self.accounts.is_match(a))
            && service.map_or(self.all_services, |s| self.allows_service(s))
    }
}

/// The compiled policy.
#[derive(Debug, Clone)]
pub struct Policy {
    groups: Arc<BTreeMap<String, Arc<Rule>>>,
    everyone: Option<Arc<Rule>>,
    actions: Arc<ActionSettings>,
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
    /// Bad TOML, an invalid glob, an unknown intent or verb (naming the group), or an
    /// `[actions]` value out of bounds (naming the key).
    pub fn from_toml(text: &str) -> Result<Self, PolicyError> {
        let file: File = toml::from_str(text)?;
        let actions = match file.actions {
            Some(a) => ActionSettings::from_file(a)?,
            None => ActionSettings::off(),
        };
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
                accounts: globs(&name, g.accounts.as_deref().unwrap_or(&["*".to_owned()]))?,
                all_accounts: g
                    .accounts
                    .as_ref()
                    .is_none_or(|a| a.iter().any(|p| p == "*")),
                act: verbs(&name, "actions", &g.actions)?,
                approve: verbs(&name, "approve", &g.approve)?,
            };
            groups.insert(name, Arc::new(rule));
        }
        Ok(Self {
            groups: Arc::new(groups),
            everyone: None,
            actions: Arc::new(actions),
        })
    }

    /// The `[actions]` table (off when the file has none).
    #[must_use]
    pub fn actions(&self) -> &ActionSettings {
        &self.actions
    }

    /// A policy that allows nothing (the `aws` backend without a policy file).
    #[must_use]
    pub fn deny_all() -> Self {
        Self {
            groups: Arc::default(),
            everyone: None,
            actions: Arc::new(ActionSettings::off()),
        }
    }

    /// A policy that allows everyone everything (the demo fleet: its data is fake), every
    /// verb included, with no approval.
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
                accounts: any("*"),
                all_accounts: true,
                act: Verb::ALL.into_iter().collect(),
                approve: Verb::ALL.into_iter().collect(),
            })),
            actions: Arc::new(ActionSettings {
                enabled: true,
                ..ActionSettings::off()
            }),
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
            actions: self.actions.enabled.then(|| self.actions.clone()),
        }
    }
}

/// What one caller may ask. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Grants {
    rules: Arc<[Arc<Rule>]>,
    /// The policy's `[actions]`, when it enables them.
    actions: Option<Arc<ActionSettings>>,
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

    /// Whether the caller may see things tied to no service (composite alarms) for `intent`,
    /// in every account.
    #[must_use]
    pub fn everything(&self, intent: Intent) -> bool {
        self.rules
            .iter()
            .any(|r| r.allows_intent(intent) && r.all_services && r.all_accounts)
    }

    /// Whether the caller may ask `intent` about `account` at all (a configured account's
    /// spoken name).
    #[must_use]
    pub fn account(&self, intent: Intent, account: &str) -> bool {
        self.rules
            .iter()
            .any(|r| r.allows_intent(intent) && r.allows_account(account))
    }

    /// Whether the caller may hear of `alarm` for `intent`: its service's grant, or for an
    /// alarm tied to no service (composite alarms) a group that sees every service of the
    /// alarm's account.
    #[must_use]
    pub fn alarm(&self, intent: Intent, alarm: &crate::ops::Alarm) -> bool {
        match &alarm.service {
            Some(s) => self.service(intent, s),
            None => self.rules.iter().any(|r| {
                r.allows_intent(intent)
                    && r.all_services
                    && alarm
                        .place
                        .as_ref()
                        .map_or(r.all_accounts, |p| r.allows_account(&p.account))
            }),
        }
    }

    /// Whether the caller may ask `intent` about `service` (`None`: a thing tied to no
    /// service, which only a group seeing every service sees) in `account`, a configured
    /// account's name (`None` without accounts: as [`Grants::service`] and
    /// [`Grants::everything`]). One group must allow all three.
    #[must_use]
    pub fn sees_in(
        &self,
        intent: Intent,
        account: Option<&str>,
        service: Option<&ServiceRef>,
    ) -> bool {
        self.rules.iter().any(|r| {
            r.allows_intent(intent)
                && account.is_none_or(|a| r.accounts.is_match(a))
                && service.map_or(r.all_services, |s| r.allows_service(s))
        })
    }

    /// The policy's `[actions]` settings, when it enables acting at all.
    #[must_use]
    pub fn actions(&self) -> Option<&ActionSettings> {
        self.actions.as_deref()
    }

    /// Whether the caller sees the target at all (any one group: some question about it).
    /// `account` is the target's configured account name (`None` without accounts);
    /// `service` is `None` for a target tied to no service.
    #[must_use]
    pub fn sees(&self, account: Option<&str>, service: Option<&ServiceRef>) -> bool {
        self.rules.iter().any(|r| r.sees(account, service))
    }

    /// Whether the caller may ask for `verb` on the target: acting is enabled, and one
    /// group both grants the verb and sees the target.
    #[must_use]
    pub fn may_act(&self, verb: Verb, account: Option<&str>, service: Option<&ServiceRef>) -> bool {
        self.actions.is_some()
            && self
                .rules
                .iter()
                .any(|r| r.act.contains(&verb) && r.sees(account, service))
    }

    /// Whether the caller may approve someone else's `verb` on the target: acting is
    /// enabled, and one group both grants approving the verb and sees the target. (That
    /// the approver is not the requester is the action's rule, not the policy's.)
    #[must_use]
    pub fn may_approve(
        &self,
        verb: Verb,
        account: Option<&str>,
        service: Option<&ServiceRef>,
    ) -> bool {
        self.actions.is_some()
            && self
                .rules
                .iter()
                .any(|r| r.approve.contains(&verb) && r.sees(account, service))
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

    #[test]
    fn account_globs_bound_what_a_group_sees_and_approval_knows_the_account() {
        use crate::ops::{Alarm, AlarmKind, AlarmState, Place};
        let policy = Policy::from_toml(
            r#"
[actions]
enabled = true
approval = ["prod/*", "shared"]
channel = "C0APPROVALS1"

[groups.apps]
clusters = ["*"]
services = ["*"]
intents  = ["*"]
accounts = ["prod*", "payments team"]
"#,
        )
        .unwrap();
        let apps = policy.group_grants("apps");
        let at =
            |account: &str| ServiceRef::new("web", "checkout").at(Place::new(account, "eu-west-1"));
        assert!(apps.service(Intent::ServiceHealth, &at("prod")));
        assert!(apps.service(Intent::ServiceHealth, &at("prod-eu")));
        assert!(apps.service(Intent::ServiceHealth, &at("payments team")));
        assert!(!apps.service(Intent::ServiceHealth, &at("staging")));
        assert!(apps.account(Intent::ActiveAlarms, "prod"));
        assert!(!apps.account(Intent::ActiveAlarms, "staging"));
        // Without accounts (no place) a service is its clusters' and names' as before.
        assert!(apps.service(Intent::ServiceHealth, &ServiceRef::new("web", "checkout")));
        // Tied to no service: only a group that sees every service of that account.
        let composite = |account: Option<&str>| Alarm {
            name: "customer-impact".to_owned(),
            kind: AlarmKind::Composite,
            state: AlarmState::Alarm,
            reason: String::new(),
            since: std::time::SystemTime::UNIX_EPOCH,
            service: None,
            metric: None,
            place: account.map(|a| Place::new(a, "eu-west-1")),
        };
        assert!(apps.alarm(Intent::ActiveAlarms, &composite(Some("prod"))));
        assert!(!apps.alarm(Intent::ActiveAlarms, &composite(Some("staging"))));
        assert!(!apps.everything(Intent::ActiveAlarms), "not every account");
        assert!(Grants::all().everything(Intent::ActiveAlarms));
        // `account/cluster` approval globs, and plain cluster globs in any account.
        let actions = policy.actions();
        assert!(actions.needs_approval(Some("prod"), "web"));
        assert!(!actions.needs_approval(Some("staging"), "web"));
        assert!(actions.needs_approval(Some("staging"), "shared"));
        assert!(!actions.needs_approval(None, "web"));
    }
}
