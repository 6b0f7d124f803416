//! ECS: clusters, services (listed 100 a page, described 10 a call, a few calls at once),
//! deployments, events, and the deployment history they imply.

use std::time::SystemTime;

use aws_sdk_ecs::types::{DeploymentRolloutState, Service};
use futures_util::{StreamExt, TryStreamExt, stream};

use super::AwsOps;
use crate::ops::{
    Deployment, DeploymentOutcome, DeploymentRecord, DeploymentRole, OpsError, RolloutState,
    ServiceEvent, ServiceRef, ServiceStatus,
};

/// DescribeServices takes at most 10 services a call.
pub const DESCRIBE_BATCH: usize = 10;
/// How many DescribeServices calls run at once for one cluster.
pub const DESCRIBE_CONCURRENCY: usize = 4;

/// The last path segment of an ARN (`.../service/prod/checkout` -> `checkout`).
fn arn_name(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// `arn:...:task-definition/checkout:42` -> `checkout:42`.
pub(crate) fn task_definition_name(arn: &str) -> String {
    arn_name(arn).to_owned()
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> SystemTime {
    t.and_then(|t| SystemTime::try_from(*t).ok())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn count(n: i32) -> u32 {
    u32::try_from(n).unwrap_or(0)
}

impl AwsOps {
    /// The configured clusters, else every cluster (ListClusters, all pages).
    pub(super) async fn cluster_names(&self) -> Result<Vec<String>, OpsError> {
        if let Some(clusters) = &self.clusters {
            return Ok(clusters.clone());
        }
        let mut names = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call(
                    "ecs:ListClusters",
                    self.ecs
                        .list_clusters()
                        .max_results(100)
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            names.extend(page.cluster_arns().iter().map(|a| arn_name(a).to_owned()));
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        if let Some(globs) = &self.cluster_globs {
            names.retain(|n| globs.is_match(n));
        }
        names.sort();
        Ok(names)
    }

    /// The services of a cluster (ListServices, 100 a page, all pages), remembered for
    /// tying alarms to services by name. A listing of the same cluster already under way is
    /// joined.
    pub(super) async fn service_names(&self, cluster: &str) -> Result<Vec<ServiceRef>, OpsError> {
        use futures_util::FutureExt as _;
        let (me, c) = (self.clone(), cluster.to_owned());
        self.listings
            .join_or_start(cluster.to_owned(), move || {
                async move {
                    let names = me.list_service_names(&c).await?;
                    me.remember(&names);
                    Ok(names)
                }
                .boxed()
            })
            .await
    }

    /// [`AwsOps::service_names`]' listing.
    async fn list_service_names(&self, cluster: &str) -> Result<Vec<ServiceRef>, OpsError> {
        let mut names = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .call(
                    "ecs:ListServices",
                    self.ecs
                        .list_services()
                        .cluster(cluster)
                        .max_results(100)
                        .set_next_token(token)
                        .send(),
                )
                .await?;
            names.extend(
                page.service_arns()
                    .iter()
                    .map(|a| ServiceRef::new(cluster, arn_name(a))),
            );
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(names)
    }

    /// Describes services of one cluster, 10 a call, a few calls at once, in name order.
    pub(super) async fn describe_services(
        &self,
        cluster: &str,
        names: &[String],
    ) -> Result<Vec<ServiceStatus>, OpsError> {
        let batches: Vec<Vec<String>> = names
            .chunks(DESCRIBE_BATCH)
            .map(<[String]>::to_vec)
            .collect();
        let described: Vec<Vec<ServiceStatus>> = stream::iter(batches)
            .map(|batch| async move {
                let out = self
                    .call(
                        "ecs:DescribeServices",
                        self.ecs
                            .describe_services()
                            .cluster(cluster)
                            .set_services(Some(batch))
                            .send(),
                    )
                    .await?;
                for failure in out.failures() {
                    tracing::debug!(
                        arn = failure.arn().unwrap_or("-"),
                        reason = failure.reason().unwrap_or("-"),
                        "service not described"
                    );
                }
                Ok::<_, OpsError>(
                    out.services()
                        .iter()
                        .filter(|s| s.status() != Some("INACTIVE"))
                        .map(|s| service_status(cluster, s))
                        .collect(),
                )
            })
            .buffered(DESCRIBE_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(described.into_iter().flatten().collect())
    }
}

/// Maps an ECS service to our domain type.
pub(crate) fn service_status(cluster: &str, s: &Service) -> ServiceStatus {
    let mut events: Vec<ServiceEvent> = s
        .events()
        .iter()
        .map(|e| ServiceEvent {
            at: time(e.created_at()),
            message: e.message().unwrap_or_default().to_owned(),
        })
        .collect();
    events.sort_by_key(|e| std::cmp::Reverse(e.at));
    ServiceStatus {
        service: ServiceRef::new(cluster, s.service_name().unwrap_or_default()),
        status: s.status().unwrap_or("ACTIVE").to_owned(),
        desired: count(s.desired_count()),
        running: count(s.running_count()),
        pending: count(s.pending_count()),
        deployments: s
            .deployments()
            .iter()
            .map(|d| Deployment {
                id: d.id().unwrap_or_default().to_owned(),
                role: if d.status() == Some("PRIMARY") {
                    DeploymentRole::Primary
                } else {
                    DeploymentRole::Active
                },
                rollout: match d.rollout_state() {
                    Some(DeploymentRolloutState::Failed) => RolloutState::Failed,
                    Some(DeploymentRolloutState::InProgress) => RolloutState::InProgress,
                    _ => RolloutState::Completed,
                },
                rollout_reason: d.rollout_state_reason().map(str::to_owned),
                task_definition: task_definition_name(d.task_definition().unwrap_or_default()),
                desired: count(d.desired_count()),
                running: count(d.running_count()),
                pending: count(d.pending_count()),
                failed_tasks: count(d.failed_tasks()),
                created_at: time(d.created_at()),
                updated_at: time(d.updated_at()),
            })
            .collect(),
        events,
        target_groups: s
            .load_balancers()
            .iter()
            .filter_map(|lb| lb.target_group_arn().map(str::to_owned))
            .collect(),
    }
}

/// The deployment history DescribeServices implies: its current deployments, and the
/// circuit breaker's rollbacks as recorded in the service events.
pub(super) fn history(s: &ServiceStatus) -> Vec<DeploymentRecord> {
    let mut records: Vec<DeploymentRecord> = s
        .deployments
        .iter()
        .map(|d| {
            let rolled_back = d.rollout == RolloutState::Failed
                && s.deployments
                    .iter()
                    .any(|p| p.role == DeploymentRole::Primary && p.id != d.id);
            let outcome = match d.rollout {
                RolloutState::InProgress => DeploymentOutcome::InProgress,
                RolloutState::Completed => DeploymentOutcome::Succeeded,
                RolloutState::Failed if rolled_back => DeploymentOutcome::RolledBack,
                RolloutState::Failed => DeploymentOutcome::Failed,
            };
            DeploymentRecord {
                service: s.service.clone(),
                task_definition: d.task_definition.clone(),
                outcome,
                started_at: d.created_at,
                finished_at: (outcome != DeploymentOutcome::InProgress).then_some(d.updated_at),
                reason: (outcome != DeploymentOutcome::Succeeded)
                    .then(|| d.rollout_reason.clone())
                    .flatten(),
            }
        })
        .collect();
    // A rollback whose failed deployment has already been drained is only in the events.
    if !records
        .iter()
        .any(|r| r.outcome == DeploymentOutcome::RolledBack)
        && let Some(event) = s.events.iter().find(|e| e.message.contains("rolling back"))
    {
        records.push(DeploymentRecord {
            service: s.service.clone(),
            task_definition: String::new(),
            outcome: DeploymentOutcome::RolledBack,
            started_at: event.at,
            finished_at: Some(event.at),
            reason: Some(event.message.clone()),
        });
    }
    records.sort_by_key(|r| std::cmp::Reverse(r.finished_at.unwrap_or(r.started_at)));
    records
}
