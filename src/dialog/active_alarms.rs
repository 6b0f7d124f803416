//! ActiveAlarms: "any alarms firing?", "what's on fire in prod?" Metric and composite
//! alarms in ALARM, newest first, optionally within one cluster or for one service.

use std::time::Duration;

use super::{Answer, Dialog, Reply, Slot, Turn, need};
use crate::ops::{AlarmKind, OpsError, ServiceRef};

/// One firing alarm.
#[derive(Debug, Clone, PartialEq)]
pub struct Firing {
    pub name: String,
    pub kind: AlarmKind,
    pub age: Duration,
    pub service: Option<ServiceRef>,
}

/// The facts of an ActiveAlarms answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The cluster asked about, if any.
    pub cluster: Option<String>,
    /// The service asked about, if any.
    pub service: Option<ServiceRef>,
    /// Newest first.
    pub firing: Vec<Firing>,
}

pub(super) async fn answer(dialog: &Dialog, turn: &Turn) -> Result<Answer, OpsError> {
    let ops = dialog.ops();
    let service = if turn.slots.contains_key(&Slot::Service) {
        Some(need!(dialog.target_service(turn).await?))
    } else {
        None
    };
    let cluster = if turn.slots.contains_key(&Slot::Cluster) {
        let clusters = ops.clusters().await?;
        need!(dialog.target_cluster(turn, &clusters))
    } else {
        None
    };
    let firing: Vec<Firing> = ops
        .firing_alarms()
        .await?
        .into_iter()
        .filter(|a| match &a.service {
            Some(s) => turn.grants.service(turn.intent, s),
            None => turn.grants.everything(turn.intent),
        })
        .filter(|a| match (&service, &cluster) {
            (Some(s), _) => a.is_about(s),
            // Composite alarms belong to no service; keep them when they name the cluster.
            (None, Some(c)) => a
                .service
                .as_ref()
                .map_or(a.name.contains(c.as_str()), |s| &s.cluster == c),
            (None, None) => true,
        })
        .map(|a| Firing {
            age: dialog.age(a.since),
            name: a.name,
            kind: a.kind,
            service: a.service,
        })
        .collect();
    let mut answer = Answer::about(
        turn,
        Reply::Alarms(Report {
            cluster: cluster.clone(),
            service: service.clone(),
            firing,
        }),
        service.as_ref(),
    );
    if let Some(cluster) = cluster {
        answer.context.cluster = Some(cluster);
    }
    Ok(answer)
}
