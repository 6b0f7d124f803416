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
    let cluster = need!(dialog.target_place(turn).await?);
    let place = dialog.place(turn);
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
        .filter(|r| place.holds(r.service.place.as_ref()))
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
    let mut answer = Answer::about(turn, Reply::from(report), None);
    if let Some(cluster) = cluster {
        answer.context.cluster = Some(cluster);
    }
    Ok(answer)
}

// What this answer says: its sentences, its links (chat) and its card.

use crate::speech::render::{Button, Say, n, s};

/// The sentences of a changes answer.
pub(crate) fn sentences(say: &Say<'_>, r: &Report, detail: bool) -> Vec<String> {
    let window = s(say.window(r.window));
    if r.changes.is_empty() {
        return vec![say.msg("changes-none", [("window", window)])];
    }
    let mut out = vec![say.msg(
        "changes-count",
        [("count", n(r.changes.len() as f64)), ("window", window)],
    )];
    if say.voice() {
        for change in r.changes.iter().take(say.max_items(detail)) {
            out.push(item(say, change));
        }
    }
    out
}

/// One change, as a list item.
pub(crate) fn item(say: &Say<'_>, c: &Change) -> String {
    let outcome = match c.outcome {
        DeploymentOutcome::InProgress => "in-progress",
        DeploymentOutcome::Succeeded => "succeeded",
        DeploymentOutcome::Failed => "failed",
        DeploymentOutcome::RolledBack => "rolled-back",
    };
    say.msg(
        "changes-item",
        [
            ("outcome", s(outcome)),
            ("service", s(say.service(&c.service))),
            ("taskdef", s(say.taskdef(&c.task_definition))),
            ("age", s(say.duration(c.age))),
        ],
    )
}

/// Each change, as a list item (to twelve).
pub(crate) fn links(say: &Say<'_>, r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for c in r.changes.iter().take(12) {
        out.push(format!("• {}", item(say, c)));
    }
    out
}

/// The card: the changed services, and the alarms.
pub(crate) fn card(say: &Say<'_>, r: &Report) -> (&'static str, Vec<Button>) {
    (
        "changes",
        r.changes
            .iter()
            .take(3)
            .map(|c| Button {
                text: c.service.name.clone(),
                value: say.about("say-deploy", &c.service),
            })
            .chain([say.button("button-alarms", say.msg("say-alarms", []))])
            .collect(),
    )
}
