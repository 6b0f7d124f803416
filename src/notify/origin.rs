//! Which configured account an event comes from. Events name their account by its 12-digit
//! id (EventBridge's `account`, an SNS alarm message's `AWSAccountId`); the accounts file
//! (`OPSVOICE_ACCOUNTS_FILE`) names accounts by what people say ("prod"). An account's id
//! is its read role's (the ARN holds it), else its actions role's; an account read with the
//! default credentials (no role) is the home account, whose id the caller identity gives.
//!
//! With no accounts file there is nothing to map and events are taken as they always were;
//! with one, an event from an account it does not list is dropped (and counted), never
//! posted: nobody configured who may see it.

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::{Deserialize, Serialize};

use crate::config::accounts::Account;

/// Where an event happened, as the notifier keeps it: the configured account's spoken name,
/// its id, and the region when the event said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The configured account's name ("prod").
    pub account: String,
    /// The account id (12 digits).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

impl Origin {
    /// The place as the store spells it for this account and region (`prod@eu-west-1`,
    /// `-` for a region not said): as a silence's key does, so a card finds its alarm's
    /// silence.
    #[must_use]
    pub fn place(&self) -> String {
        format!("{}@{}", self.account, self.region.as_deref().unwrap_or("-"))
    }
}

#[derive(Debug)]
struct Entry {
    id: Option<String>,
    name: String,
    regions: Vec<String>,
    clusters: Option<GlobSet>,
}

/// The configured accounts by id.
#[derive(Debug)]
pub struct Accounts {
    entries: Vec<Entry>,
}

/// The account id in a role ARN (`arn:aws:iam::111111111111:role/x`).
fn arn_account(arn: &str) -> Option<String> {
    arn.split(':').nth(4).and_then(super::event::account_id)
}

impl Accounts {
    /// Whether some account's id is known only from the caller identity (it has neither a
    /// read role nor an actions role to read it from).
    #[must_use]
    pub fn needs_home(accounts: &[Account]) -> bool {
        accounts
            .iter()
            .any(|a| a.role.is_none() && a.actions_role.is_none())
    }

    /// The accounts of the file; `home` is the default credentials' account id (when it
    /// could be learned), for the accounts without a role.
    #[must_use]
    pub fn new(accounts: &[Account], home: Option<&str>) -> Self {
        let entries = accounts
            .iter()
            .map(|a| Entry {
                id: match &a.role {
                    Some(role) => arn_account(role),
                    None => a
                        .actions_role
                        .as_deref()
                        .and_then(arn_account)
                        .or_else(|| home.and_then(super::event::account_id)),
                },
                name: a.name.clone(),
                regions: a.regions.clone(),
                clusters: (!a.clusters.is_empty()).then(|| {
                    let mut set = GlobSetBuilder::new();
                    for glob in &a.clusters {
                        // Checked when the file was read.
                        if let Ok(glob) = Glob::new(glob) {
                            set.add(glob);
                        }
                    }
                    set.build().unwrap_or_else(|_| GlobSet::empty())
                }),
            })
            .collect();
        Self { entries }
    }

    /// The accounts of `config`'s accounts file, by id (`None` without one), with `sdk`'s
    /// region as the default and its credentials as the default ones: a role's ARN
    /// holds its account's id; an account read with the default credentials is the caller
    /// identity's (one `GetCallerIdentity`, which needs no permission, 5 s at most, only
    /// when some account needs it). An account whose id stays unknown is warned of: its
    /// events are dropped.
    ///
    /// # Errors
    /// An unreadable or invalid accounts file, said for a person.
    pub async fn load(
        config: &crate::config::Config,
        sdk: &aws_config::SdkConfig,
    ) -> Result<Option<Self>, String> {
        let Some(path) = &config.accounts.file else {
            return Ok(None);
        };
        let region = sdk
            .region()
            .map_or_else(|| "us-east-1".to_owned(), |r| r.as_ref().to_owned());
        let list = crate::config::accounts::load(path, &region)
            .map_err(|e| format!("OPSVOICE_ACCOUNTS_FILE {e}"))?;
        let home = if Self::needs_home(&list) {
            let sts = aws_sdk_sts::Client::new(sdk);
            match tokio::time::timeout(
                std::time::Duration::from_secs(5),
                sts.get_caller_identity().send(),
            )
            .await
            {
                Ok(Ok(identity)) => identity.account().map(str::to_owned),
                Ok(Err(error)) => {
                    tracing::warn!(error = %crate::error::ErrorChain(&error), "the default credentials' account id is unknown");
                    None
                }
                Err(_) => {
                    tracing::warn!(
                        "GetCallerIdentity timed out; the default credentials' account id is unknown"
                    );
                    None
                }
            }
        } else {
            None
        };
        let accounts = Self::new(&list, home.as_deref());
        for name in accounts.unplaced() {
            tracing::warn!(
                account = name,
                "this account's id is unknown (no role ARN, and the caller identity could not be read), so its events are dropped"
            );
        }
        Ok(Some(accounts))
    }

    /// The names of the accounts whose id is unknown (their events cannot be told apart).
    #[must_use]
    pub fn unplaced(&self) -> Vec<&str> {
        self.entries
            .iter()
            .filter(|e| e.id.is_none())
            .map(|e| e.name.as_str())
            .collect()
    }

    /// The configured account an event from `account` (its id), in `region`, about
    /// `cluster` (when the event names one) comes from; `None` when the file lists no
    /// account with that id. Where one id is listed more than once (one account split by
    /// clusters or regions), the entry whose regions and clusters cover the event wins.
    #[must_use]
    pub fn resolve(
        &self,
        account: Option<&str>,
        region: Option<&str>,
        cluster: Option<&str>,
    ) -> Option<Origin> {
        let account = account?;
        let candidates: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.id.as_deref() == Some(account))
            .collect();
        let covers = |e: &&&Entry| {
            region.is_none_or(|r| e.regions.iter().any(|x| x == r))
                && cluster.is_none_or(|c| e.clusters.as_ref().is_none_or(|g| g.is_match(c)))
        };
        let entry = candidates
            .iter()
            .find(covers)
            .or_else(|| candidates.first())?;
        Some(Origin {
            account: entry.name.clone(),
            id: account.to_owned(),
            region: region.map(str::to_owned),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts() -> Vec<Account> {
        crate::config::accounts::parse(
            r#"
[[account]]
name = "prod"
role = "arn:aws:iam::111111111111:role/opsvoice-read"
regions = ["eu-west-1", "us-east-1"]

[[account]]
name = "payments team"
role = "arn:aws:iam::222222222222:role/opsvoice-read"
clusters = ["payments-*"]

[[account]]
name = "platform"
role = "arn:aws:iam::222222222222:role/opsvoice-read"
clusters = ["platform-*"]

[[account]]
name = "home"
"#,
            "eu-west-1",
        )
        .unwrap()
    }

    #[test]
    fn an_event_is_placed_in_the_configured_account_its_id_and_cluster_name() {
        let list = accounts();
        assert!(Accounts::needs_home(&list));
        let accounts = Accounts::new(&list, Some("333333333333"));
        let prod = accounts
            .resolve(Some("111111111111"), Some("us-east-1"), None)
            .unwrap();
        assert_eq!(prod.account, "prod");
        assert_eq!(prod.place(), "prod@us-east-1");
        assert_eq!(
            accounts
                .resolve(
                    Some("222222222222"),
                    Some("eu-west-1"),
                    Some("platform-core")
                )
                .unwrap()
                .account,
            "platform",
            "one account split by clusters"
        );
        assert_eq!(
            accounts
                .resolve(Some("333333333333"), None, None)
                .unwrap()
                .account,
            "home",
            "no role: the caller identity's account"
        );
        assert_eq!(accounts.resolve(Some("444444444444"), None, None), None);
        assert_eq!(accounts.resolve(None, None, None), None);
        let unknown_home = Accounts::new(&list, None);
        assert_eq!(unknown_home.unplaced(), ["home"]);
        assert_eq!(unknown_home.resolve(Some("333333333333"), None, None), None);
    }
}
