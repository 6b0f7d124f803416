//! The `aws` data source over the accounts file (`OPSVOICE_ACCOUNTS_FILE`): one member per
//! (account, region), each the single-account source ([`super::live_source`]'s
//! [`ops::aws::AwsOps`] behind its own cache) with the account's credentials in that
//! region, and all of them behind one [`ops::accounts::AccountsOps`].

use std::sync::Arc;

use aws_config::SdkConfig;

use crate::clock::Clock;
use crate::config::Config;
use crate::config::accounts::Account;
use crate::ops;

/// The time a fan-out over the members may take: well inside the answer deadline, which
/// also holds the understanding of the question (its names come from a fan-out too) and
/// the words; a member still busy then is left out.
fn fan_out_deadline(config: &Config) -> std::time::Duration {
    config
        .server
        .answer_deadline
        .mul_f64(0.6)
        .max(std::time::Duration::from_millis(150))
}

/// Each member's cache: upstream fetches give up before the fan-out does, so a member
/// with older data answers from it instead of being left out.
fn member_cache(
    source: Arc<dyn ops::OpsSource>,
    account: &str,
    clock: Arc<dyn Clock>,
    config: &Config,
) -> ops::cache::CachedOps {
    let settings = ops::cache::Settings {
        upstream_deadline: fan_out_deadline(config)
            .saturating_sub(std::time::Duration::from_millis(300))
            .max(std::time::Duration::from_millis(100)),
        ..ops::cache::Settings::default()
    };
    ops::cache::CachedOps::new(source, clock, settings).in_account(account)
}

/// Every account read: the data source over all of them, their logs, the count of calls
/// made to AWS (AssumeRole included) by all of them, and each place's configuration (the
/// account's read credentials in that region), which the effector reads with too.
#[derive(Debug, Clone)]
pub struct Accounts {
    pub ops: ops::accounts::AccountsOps,
    pub logs: ops::accounts::AccountsLogs,
    pub calls: Arc<ops::aws::CallCounts>,
    pub configs: Vec<(ops::Place, SdkConfig)>,
}

impl Accounts {
    /// The effector that acts in these accounts: each place read as the data source
    /// reads it, and written through its account's `actions_role` (the home account,
    /// listed without a read role, through `home_role`: `OPSVOICE_ACTIONS_ROLE_ARN`).
    /// `None` when no role writes anywhere.
    #[must_use]
    pub fn effector(
        &self,
        home: &SdkConfig,
        home_role: Option<String>,
        accounts: &[Account],
    ) -> Option<Arc<dyn crate::act::effect::Effector>> {
        crate::act::effect::aws::effector_over(home, home_role, accounts, self.configs.clone())
    }
}

/// Every account's members behind one source, on `home`'s endpoint, timeouts and base
/// credentials: each account's credentials shared by its data and its logs clients.
pub async fn accounts_source(
    home: &SdkConfig,
    accounts: &[Account],
    clock: Arc<dyn Clock>,
    config: &Config,
) -> Accounts {
    let calls = Arc::new(ops::aws::CallCounts::default());
    let mut members = Vec::new();
    let mut logs: Vec<(ops::Place, Arc<dyn ops::logs::LogSource>)> = Vec::new();
    let mut configs = Vec::new();
    for account in accounts {
        for (region, sdk) in
            ops::aws::credentials::account_configs(home, account, calls.clone()).await
        {
            let (clusters, globs) = watched(account, config);
            let mut aws = ops::aws::AwsOps::new(
                aws_sdk_ecs::Client::new(&sdk),
                aws_sdk_cloudwatch::Client::new(&sdk),
                clusters,
                ops::aws::Association {
                    by_name_prefix: config.aws.alarm_name_match,
                },
                clock.clone(),
            )
            .counting_in(calls.clone())
            .in_account(&account.name);
            if let Some(globs) = globs {
                aws = aws.watching(globs);
            }
            let place = ops::Place::new(account.name.clone(), region);
            configs.push((place.clone(), sdk.clone()));
            logs.push((
                place.clone(),
                Arc::new(
                    ops::logs::aws::AwsLogs::new(
                        aws_sdk_ecs::Client::new(&sdk),
                        aws_sdk_cloudwatchlogs::Client::new(&sdk),
                    )
                    .in_account(&account.name),
                ),
            ));
            members.push(ops::accounts::Member {
                place,
                source: Arc::new(member_cache(
                    Arc::new(aws),
                    &account.name,
                    clock.clone(),
                    config,
                )),
            });
        }
    }
    Accounts {
        ops: ops::accounts::AccountsOps::new(
            members,
            ops::accounts::Concurrency {
                per_account: config.accounts.concurrency,
                answers: config.accounts.answer_concurrency,
                refresh: config.accounts.concurrency,
            },
            fan_out_deadline(config),
        ),
        logs: ops::accounts::AccountsLogs::new(logs),
        calls,
        configs,
    }
}

/// The clusters an account's members watch: its `clusters` as names when they are plain
/// names (no listing needed), every cluster listed when one is `*` or none is given
/// (`OPSVOICE_CLUSTERS` then, as for one account), else the listed ones its globs match.
fn watched(account: &Account, config: &Config) -> (Option<Vec<String>>, Option<globset::GlobSet>) {
    if account.clusters.is_empty() {
        return (config.aws.clusters.clone(), None);
    }
    if account.clusters.iter().any(|c| c == "*") {
        return (None, None);
    }
    let plain = |c: &String| !c.contains(['*', '?', '[', '{']);
    if account.clusters.iter().all(plain) {
        return (Some(account.clusters.clone()), None);
    }
    let mut set = globset::GlobSetBuilder::new();
    for glob in &account.clusters {
        // Checked when the file was read.
        if let Ok(glob) = globset::Glob::new(glob) {
            set.add(glob);
        }
    }
    (None, set.build().ok())
}

/// `opsvoice check --live`: each configured account's role assumed once and one cheap
/// read made with it (ECS `ListClusters`, one result) in its first region; per account,
/// in the file's order, `Ok` or what failed (the cause chain, never a credential).
///
/// # Errors
/// No accounts file, or one that cannot be read or is wrong.
pub async fn check_live(
    config: &Config,
) -> Result<Vec<(String, Result<(), String>)>, crate::config::accounts::AccountsError> {
    let home = crate::aws::sdk_config().await;
    let region = home.region().map_or("us-east-1", |r| r.as_ref()).to_owned();
    let Some(path) = &config.accounts.file else {
        return Ok(Vec::new());
    };
    let accounts = crate::config::accounts::load(path, &region)?;
    let calls = Arc::new(ops::aws::CallCounts::default());
    let mut out = Vec::with_capacity(accounts.len());
    for account in &accounts {
        let configs = ops::aws::credentials::account_configs(&home, account, calls.clone()).await;
        let result = match configs.first() {
            Some((_, sdk)) => aws_sdk_ecs::Client::new(sdk)
                .list_clusters()
                .max_results(1)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| crate::error::ErrorChain(&e).to_string()),
            None => Err("no region to read".to_owned()),
        };
        out.push((account.name.clone(), result));
    }
    Ok(out)
}
