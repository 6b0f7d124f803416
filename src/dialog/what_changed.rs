//! WhatChanged: "what changed in the last hour?" Deployments started or finished in the
//! window, across clusters (or within one), newest first.

use std::time::Duration;

use super::{Answer, Dialog, Reply, Slot, Turn, need, parse_window};
use crate::ops::{DeploymentOutcome, OpsError, ServiceRef};

/// The window used when the user names none.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(3600);

/// One deployment in the window.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub service: ServiceRef,
    pub outcome: DeploymentOutcome,
    pub task_definition: String,
    /// Since it finished, or since it started when still running.
    pub age: Duration,
}

/// The facts of a WhatChanged answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub window: Duration,
    pub cluster: Option<String>,
    /// Newest first.
    pub changes: Vec<Change>,
}

pub(super) async fn answer(dialog: &Dialog, turn: &Turn) -> Result<Answer, OpsError> {
    let ops = dialog.ops();
    let cluster = if turn.slots.contains_key(&Slot::Cluster) {
        let clusters = ops.clusters().await?;
        need!(dialog.target_cluster(turn, &clusters))
    } else {
        None
    };
    let window = turn
        .slots
        .get(&Slot::Window)
        .and_then(|w| parse_window(w))
        .unwrap_or(DEFAULT_WINDOW);
    let since = dialog.now() - window;
    let mut changes: Vec<Change> = ops
        .deployments_since(since)
        .await?
        .into_iter()
        .filter(|r| cluster.as_ref().is_none_or(|c| &r.service.cluster == c))
        .filter(|r| turn.grants.service(turn.intent, &r.service))
        .map(|r| Change {
            age: dialog.age(r.finished_at.unwrap_or(r.started_at)),
            service: r.service,
            outcome: r.outcome,
            task_definition: r.task_definition,
        })
        .collect();
    changes.sort_by_key(|c| c.age);
    let report = Report {
        window,
        cluster: cluster.clone(),
        changes,
    };
    let mut answer = Answer::about(turn, Reply::Changes(report), None);
    if let Some(cluster) = cluster {
        answer.context.cluster = Some(cluster);
    }
    Ok(answer)
}
