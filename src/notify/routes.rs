//! Notification routes (`OPSVOICE_NOTIFY_FILE`, shape in the README): which clusters, services
//! and alarm names go to which Slack channel, on behalf of which Cognito group. A channel
//! only ever receives what its group's policy allows; the route narrows it further.

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

/// One route.
#[derive(Debug, Clone)]
pub struct Route {
    /// 1-based, as `check` names it.
    pub number: usize,
    pub channel: String,
    pub group: String,
    clusters: GlobSet,
    services: GlobSet,
    alarms: GlobSet,
    /// Globs over configured account names (`accounts`, default all).
    accounts: GlobSet,
    /// `accounts` is `["*"]` (or left out).
    all_accounts: bool,
    pub deployments: bool,
}

impl Route {
    /// Whether an alarm named `alarm` on `service` (`cluster`, `name`), if known, is for
    /// this route. An alarm tied to no service matches only a route for every cluster
    /// and service.
    #[must_use]
    pub fn wants_alarm(&self, alarm: &str, service: Option<(&str, &str)>) -> bool {
        self.alarms.is_match(alarm)
            && match service {
                Some((cluster, name)) => {
                    self.clusters.is_match(cluster) && self.services.is_match(name)
                }
                None => self.clusters.is_match("*") && self.services.is_match("*"),
            }
    }

    /// Whether an event from `account` (a configured account's name; `None` without an
    /// accounts file, which every route takes) is for this route.
    #[must_use]
    pub fn wants_account(&self, account: Option<&str>) -> bool {
        account.is_none_or(|a| self.accounts.is_match(a))
    }

    /// Whether a deployment event on `cluster`/`service` is for this route.
    #[must_use]
    pub fn wants_deployment(&self, cluster: &str, service: &str) -> bool {
        self.deployments && self.clusters.is_match(cluster) && self.services.is_match(service)
    }
}

/// The routes.
#[derive(Debug, Clone, Default)]
pub struct Routes(pub Vec<Route>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    route: Vec<RawRoute>,
}

fn everything() -> Vec<String> {
    vec!["*".to_owned()]
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    channel: String,
    group: String,
    #[serde(default = "everything")]
    clusters: Vec<String>,
    #[serde(default = "everything")]
    services: Vec<String>,
    #[serde(default = "everything")]
    alarms: Vec<String>,
    #[serde(default = "everything")]
    accounts: Vec<String>,
    #[serde(default)]
    deployments: bool,
}

/// What is wrong with the routes file, naming the entry.
#[derive(Debug, thiserror::Error)]
pub enum RoutesError {
    #[error("the notification routes are not valid TOML: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("route {number}: {problem}")]
    Entry { number: usize, problem: String },
}

fn globs(number: usize, field: &str, patterns: &[String]) -> Result<GlobSet, RoutesError> {
    let mut set = GlobSetBuilder::new();
    if patterns.is_empty() {
        return Err(RoutesError::Entry {
            number,
            problem: format!(
                "`{field}` is empty, so the route matches nothing; use [\"*\"] for all"
            ),
        });
    }
    for p in patterns {
        let glob = Glob::new(p).map_err(|e| RoutesError::Entry {
            number,
            problem: format!("`{field}` pattern `{p}` is not a glob: {e}"),
        })?;
        set.add(glob);
    }
    set.build().map_err(|e| RoutesError::Entry {
        number,
        problem: format!("`{field}`: {e}"),
    })
}

/// The names of the accounts in `config`'s accounts file (`None` without one), for
/// [`Routes::check_accounts`].
///
/// # Errors
/// An unreadable or invalid accounts file.
pub fn account_names(config: &crate::config::Config) -> Result<Option<Vec<String>>, String> {
    let Some(path) = &config.accounts.file else {
        return Ok(None);
    };
    // Only the names are wanted here: the region filled in for accounts naming none is
    // not used.
    crate::config::accounts::load(path, "us-east-1")
        .map(|list| Some(list.into_iter().map(|a| a.name).collect()))
        .map_err(|e| format!("OPSVOICE_ACCOUNTS_FILE {e}"))
}

impl Routes {
    /// Checks each route's `accounts` against the configured account names (`None`: no
    /// accounts file): globs that match no configured account would send the channel
    /// nothing, and narrowing by account without an accounts file narrows nothing.
    ///
    /// # Errors
    /// The first route whose `accounts` is one of those, naming it.
    pub fn check_accounts(&self, names: Option<&[String]>) -> Result<(), RoutesError> {
        for route in &self.0 {
            let problem = match names {
                None if !route.all_accounts => {
                    "`accounts` narrows by account, but OPSVOICE_ACCOUNTS_FILE is not set, so every event is the one account's".to_owned()
                }
                Some(names) if !names.iter().any(|n| route.accounts.is_match(n)) => format!(
                    "`accounts` matches none of the configured accounts ({})",
                    names.join(", ")
                ),
                _ => continue,
            };
            return Err(RoutesError::Entry {
                number: route.number,
                problem,
            });
        }
        Ok(())
    }

    /// Parses a routes file; `groups` are the policy's groups (`None`: a policy that
    /// allows everyone, as on the demo), and a route for a group the policy does not name
    /// is refused (it would receive nothing).
    ///
    /// # Errors
    /// Invalid TOML, an unknown key, a channel that is not a Slack channel id, a bad glob,
    /// or a group the policy does not name.
    pub fn from_toml(text: &str, groups: Option<&[String]>) -> Result<Self, RoutesError> {
        let file: File = toml::from_str(text)?;
        let mut routes = Vec::with_capacity(file.route.len());
        for (i, raw) in file.route.into_iter().enumerate() {
            let number = i + 1;
            let channel_ok = raw.channel.len() >= 9
                && raw.channel.len() <= 20
                && raw.channel.starts_with(['C', 'G', 'D'])
                && raw
                    .channel
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if !channel_ok {
                return Err(RoutesError::Entry {
                    number,
                    problem: format!(
                        "channel `{}` is not a Slack channel id (like C0123456789; the name will not do)",
                        raw.channel
                    ),
                });
            }
            if groups.is_some_and(|groups| !groups.contains(&raw.group)) {
                return Err(RoutesError::Entry {
                    number,
                    problem: format!(
                        "group `{}` is not in the policy file, so the channel could be sent nothing",
                        raw.group
                    ),
                });
            }
            routes.push(Route {
                number,
                clusters: globs(number, "clusters", &raw.clusters)?,
                services: globs(number, "services", &raw.services)?,
                alarms: globs(number, "alarms", &raw.alarms)?,
                accounts: globs(number, "accounts", &raw.accounts)?,
                all_accounts: raw.accounts.iter().any(|a| a == "*"),
                channel: raw.channel,
                group: raw.group,
                deployments: raw.deployments,
            });
        }
        Ok(Self(routes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_match_and_bad_entries_are_named() {
        let groups = vec!["oncall".to_owned()];
        let routes = Routes::from_toml(
            "[[route]]\nchannel = \"C0123456789\"\ngroup = \"oncall\"\nclusters = [\"prod\"]\nalarms = [\"checkout-*\"]\ndeployments = true\n",
            Some(&groups),
        )
        .unwrap();
        let r = &routes.0[0];
        assert!(r.wants_alarm("checkout-latency", Some(("prod", "checkout"))));
        assert!(!r.wants_alarm("checkout-latency", Some(("staging", "checkout"))));
        assert!(!r.wants_alarm("etl-cpu", Some(("prod", "etl"))));
        assert!(
            !r.wants_alarm("checkout-latency", None),
            "unplaced alarms need a route for all"
        );
        assert!(r.wants_deployment("prod", "pricing"));
        assert!(r.wants_account(Some("staging")), "accounts default to all");
        assert!(r.wants_account(None));
        let only_prod = Routes::from_toml(
            "[[route]]\nchannel = \"C0123456789\"\ngroup = \"oncall\"\naccounts = [\"prod*\"]\n",
            Some(&groups),
        )
        .unwrap();
        assert!(only_prod.0[0].wants_account(Some("prod-eu")));
        assert!(!only_prod.0[0].wants_account(Some("staging")));
        assert!(
            only_prod.0[0].wants_account(None),
            "without an accounts file every event is the home account's"
        );
        let names = ["prod-eu".to_owned(), "staging".to_owned()];
        assert!(only_prod.check_accounts(Some(&names)).is_ok());
        let err = only_prod.check_accounts(Some(&names[1..])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "route 1: `accounts` matches none of the configured accounts (staging)"
        );
        let err = only_prod.check_accounts(None).unwrap_err();
        assert!(
            err.to_string()
                .contains("OPSVOICE_ACCOUNTS_FILE is not set"),
            "{err}"
        );
        assert!(routes.check_accounts(None).is_ok(), "all accounts, no file");
        // The shipped example reads, with or without accounts.
        let shipped =
            Routes::from_toml(include_str!("../../infra/notify.toml"), Some(&groups)).unwrap();
        assert!(shipped.check_accounts(None).is_ok());
        assert!(shipped.check_accounts(Some(&names)).is_ok());
        let err = Routes::from_toml(
            "[[route]]\nchannel = \"C0123456789\"\ngroup = \"oncall\"\n[[route]]\nchannel = \"#ops\"\ngroup = \"oncall\"\n",
            Some(&groups),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("route 2: channel `#ops`"),
            "{err}"
        );
        let err = Routes::from_toml(
            "[[route]]\nchannel = \"C0123456789\"\ngroup = \"interns\"\n",
            Some(&groups),
        )
        .unwrap_err();
        assert!(err.to_string().contains("group `interns`"), "{err}");
        let err = Routes::from_toml(
            "[[route]]\nchannel = \"C0123456789\"\ngroup = \"oncall\"\nalarms = [\"[\"]\n",
            Some(&groups),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("route 1: `alarms` pattern"),
            "{err}"
        );
        assert!(Routes::from_toml("[[route]]\nchanel = \"C1\"\n", Some(&groups)).is_err());
    }
}
