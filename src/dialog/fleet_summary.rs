//! FleetSummary: "how's prod?", "anything unhealthy?" Every service of one cluster (or all
//! of them) judged at once, the unhealthy ones named worst first, plus the alarm count.

use std::collections::HashMap;

use futures_util::future::try_join_all;

use super::service_health::{Verdict, assess};
use super::{Answer, Dialog, Reply, Slot, Turn, need};
use crate::ops::{OpsError, ServiceRef};

/// A service that is not healthy.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub service: ServiceRef,
    pub verdict: Verdict,
    pub running: u32,
    pub desired: u32,
    /// Alarms firing for the service.
    pub firing: usize,
    /// Its account, said only when the summary spans more than one account.
    pub account: Option<String>,
}

/// The facts of a FleetSummary answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The cluster asked about; `None` means the whole fleet.
    pub cluster: Option<String>,
    /// The account asked about ("how's staging?"), with accounts configured.
    pub account: Option<String>,
    pub clusters: usize,
    pub services: usize,
    pub healthy: usize,
    /// Worst first.
    pub problems: Vec<Problem>,
    /// Alarms firing in scope; why not, when CloudWatch could not tell.
    pub firing: Result<usize, super::Missing>,
}

pub(super) async fn answer(dialog: &Dialog, turn: &Turn) -> Result<Answer, OpsError> {
    let ops = dialog.ops();
    let cluster = need!(dialog.target_place(turn).await?);
    let place = dialog.place(turn);
    let all = ops.clusters().await?;
    let clusters: Vec<&String> = all
        .iter()
        .filter(|c| cluster.as_ref().is_none_or(|want| want == *c))
        .filter(|c| turn.grants.cluster(turn.intent, c))
        .collect();
    // The services and the firing alarms at once. The services are asked first: their
    // listing is under way when the alarms need the names that tie them to services, so
    // the alarms wait for it instead of listing the names again (the firing list, shared
    // with every other answer, is built once, complete). With the background refresh the
    // alarms are warm anyway.
    let (statuses, alarms) = tokio::join!(
        try_join_all(clusters.iter().map(|c| ops.services(c))),
        ops.firing_alarms()
    );
    let statuses: Vec<_> = statuses?
        .into_iter()
        .flatten()
        .filter(|s| turn.grants.service(turn.intent, &s.service))
        .filter(|s| place.holds(s.service.place.as_ref()))
        .collect();
    let name_accounts =
        super::scope::accounts_of(statuses.iter().map(|s| s.service.place.as_ref())).len() > 1;
    let alarms = alarms.map_err(|error| {
        tracing::warn!(error = %super::ErrorChain(&error), "alarms left out of the summary");
        super::Missing::from(&error)
    });
    let mut firing_per_service: HashMap<&ServiceRef, usize> = HashMap::new();
    let mut firing_in_scope = 0;
    let visible = |a: &&crate::ops::Alarm| {
        turn.grants.alarm(turn.intent, a) && place.holds(a.place.as_ref())
    };
    for alarm in alarms.iter().flatten().filter(visible) {
        let in_scope = match (&alarm.service, &cluster) {
            (Some(s), Some(c)) => &s.cluster == c,
            (None, Some(c)) => alarm.name.contains(c.as_str()),
            (_, None) => true,
        };
        if in_scope {
            firing_in_scope += 1;
        }
        if let Some(service) = &alarm.service {
            *firing_per_service.entry(service).or_default() += 1;
        }
    }
    let mut problems: Vec<Problem> = statuses
        .iter()
        .filter_map(|s| {
            let firing = firing_per_service.get(&s.service).copied().unwrap_or(0);
            let verdict = assess(s, firing);
            matches!(
                verdict,
                Verdict::Down | Verdict::Degraded | Verdict::Deploying
            )
            .then(|| Problem {
                service: s.service.clone(),
                verdict,
                running: s.running,
                desired: s.desired,
                firing,
                account: s
                    .service
                    .place
                    .as_ref()
                    .filter(|_| name_accounts)
                    .map(|p| p.account.clone()),
            })
        })
        .collect();
    problems.sort_by(|a, b| a.verdict.cmp(&b.verdict).then(a.service.cmp(&b.service)));
    let report = Report {
        clusters: clusters.len(),
        services: statuses.len(),
        healthy: statuses.len() - problems.len(),
        problems,
        firing: alarms.as_ref().map(|_| firing_in_scope).map_err(|m| *m),
        cluster: cluster.clone(),
        account: place.account.clone(),
    };
    let mut answer = Answer::about(turn, Reply::from(report), None);
    if let Some(cluster) = cluster {
        answer.slots.insert(Slot::Cluster, cluster.clone());
        answer.context.cluster = Some(cluster);
    }
    Ok(answer)
}

// What this answer says: its sentences, its links (chat) and its card.

use crate::speech::render::{Button, Say, n, s};

/// The sentences of a fleet summary.
pub(crate) fn sentences(say: &Say<'_>, r: &Report, detail: bool) -> Vec<String> {
    let scope = match (&r.cluster, &r.account) {
        (Some(c), _) => say.name(c),
        (None, Some(a)) => say.name(a),
        (None, None) => say.msg("fleet-scope-all", []),
    };
    let mut out = Vec::new();
    if r.problems.is_empty() {
        out.push(say.msg(
            "fleet-all-healthy",
            [("scope", s(scope)), ("total", n(r.services as f64))],
        ));
    } else {
        out.push(say.msg(
            "fleet-healthy",
            [
                ("scope", s(scope)),
                ("healthy", n(r.healthy as f64)),
                ("total", n(r.services as f64)),
            ],
        ));
        if say.voice() {
            for verdict in [Verdict::Down, Verdict::Degraded, Verdict::Deploying] {
                let names: Vec<String> = r
                    .problems
                    .iter()
                    .filter(|p| p.verdict == verdict)
                    .map(|p| match &p.account {
                        Some(account) => say.msg(
                            "in-account",
                            [
                                ("name", s(say.service(&p.service))),
                                ("account", s(say.name(account))),
                            ],
                        ),
                        None => say.service(&p.service),
                    })
                    .collect();
                if !names.is_empty() {
                    out.push(say.msg(
                        "fleet-group",
                        [
                            ("verdict", s(verdict.as_str())),
                            ("count", n(names.len() as f64)),
                            ("names", s(say.list(&names, say.max_items(detail)))),
                        ],
                    ));
                }
            }
        }
    }
    out.push(match r.firing {
        Ok(count) => say.msg("fleet-alarms", [("count", n(count as f64))]),
        Err(super::Missing::Unreachable) => say.msg("fleet-alarms-unknown", []),
        Err(super::Missing::Slow) => say.msg("fleet-alarms-slow", []),
    });
    out
}

/// Each problem service, as a list item (to twelve).
pub(crate) fn links(say: &Say<'_>, r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for p in r.problems.iter().take(12) {
        out.push(format!(
            "• {}",
            say.msg(
                "fleet-problem-text",
                [
                    ("service", s(p.service.to_string())),
                    ("verdict", s(p.verdict.as_str())),
                    ("running", n(p.running)),
                    ("desired", n(p.desired)),
                    ("firing", n(p.firing as f64)),
                ],
            )
        ));
    }
    out
}

/// The card: the problem services, and the alarms.
pub(crate) fn card(say: &Say<'_>, r: &Report) -> (&'static str, Vec<Button>) {
    (
        "fleet",
        r.problems
            .iter()
            .take(3)
            .map(|p| Button {
                text: p.service.name.clone(),
                value: say.about("say-health", &p.service),
            })
            .chain([
                say.button("button-alarms", say.msg("say-alarms", [])),
                say.more(),
            ])
            .collect(),
    )
}
