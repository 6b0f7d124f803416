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
    /// The account it is in, said only when the answer spans more than one account.
    pub account: Option<String>,
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
    /// The account asked about, if any ("any alarms in staging").
    pub account: Option<String>,
}

pub(super) async fn answer(dialog: &Dialog, turn: &Turn) -> Result<Answer, OpsError> {
    let ops = dialog.ops();
    let service = if turn.slots.contains_key(&Slot::Service) {
        Some(need!(dialog.target_service(turn).await?))
    } else {
        None
    };
    let cluster = need!(dialog.target_place(turn).await?);
    let place = dialog.place(turn);
    let firing: Vec<crate::ops::Alarm> = ops
        .firing_alarms()
        .await?
        .into_iter()
        .filter(|a| turn.grants.alarm(turn.intent, a))
        .filter(|a| place.holds(a.place.as_ref()))
        .collect();
    // The account is said only where it matters: when the alarms span more than one.
    let accounts = super::scope::accounts_of(firing.iter().map(|a| a.place.as_ref()));
    let name_accounts = accounts.len() > 1;
    let firing: Vec<Firing> = firing
        .into_iter()
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
            account: a.place.filter(|_| name_accounts).map(|p| p.account),
            name: a.name,
            kind: a.kind,
            service: a.service,
        })
        .collect();
    let mut answer = Answer::about(
        turn,
        Reply::from(Report {
            cluster: cluster.clone(),
            service: service.clone(),
            firing,
            account: place.account.clone(),
        }),
        service.as_ref(),
    );
    if let Some(cluster) = cluster {
        answer.context.cluster = Some(cluster);
    }
    Ok(answer)
}

// What this answer says: its sentences, its links (chat) and its card.

use crate::speech::render::{Button, Say, n, s};

/// The sentences of an alarms answer.
pub(crate) fn sentences(say: &Say<'_>, r: &Report, detail: bool) -> Vec<String> {
    let scope = r
        .service
        .as_ref()
        .map(|svc| say.service(svc))
        .or_else(|| r.cluster.as_ref().map(|c| say.name(c)))
        .or_else(|| r.account.as_ref().map(|a| say.name(a)));
    let count = n(r.firing.len() as f64);
    let mut out = vec![match (&scope, r.firing.is_empty()) {
        (None, true) => say.msg("alarms-none", []),
        (Some(scope), true) => say.msg("alarms-none-in", [("scope", s(scope.clone()))]),
        (None, false) => say.msg("alarms-count", [("count", count)]),
        (Some(scope), false) => say.msg(
            "alarms-count-in",
            [("count", count), ("scope", s(scope.clone()))],
        ),
    }];
    if say.voice() {
        let max = if detail { 5 } else { 2 };
        for alarm in r.firing.iter().take(max) {
            out.push(item(say, alarm));
        }
        if r.firing.len() > max {
            out.push(say.msg(
                "alarms-and-more",
                [("count", n((r.firing.len() - max) as f64))],
            ));
        }
    }
    out
}

/// One firing alarm, as a list item.
pub(crate) fn item(say: &Say<'_>, alarm: &Firing) -> String {
    let id = match alarm.kind {
        AlarmKind::Composite => "alarms-item-composite",
        AlarmKind::Metric => "alarms-item",
    };
    let name = match &alarm.account {
        Some(account) => say.msg(
            "in-account",
            [
                ("name", s(say.name(&alarm.name))),
                ("account", s(say.name(account))),
            ],
        ),
        None => say.name(&alarm.name),
    };
    say.msg(id, [("name", s(name)), ("age", s(say.duration(alarm.age)))])
}

/// Every firing alarm with its service (to twelve), and the console link.
pub(crate) fn links(say: &Say<'_>, r: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for alarm in r.firing.iter().take(12) {
        let owner = alarm
            .service
            .as_ref()
            .map(|svc| format!(" [{svc}]"))
            .unwrap_or_default();
        out.push(format!("• {}{owner}", item(say, alarm)));
    }
    if r.firing.len() > 12 {
        out.push(format!(
            "• {}",
            say.msg(
                "alarms-and-more",
                [("count", n((r.firing.len() - 12) as f64))]
            )
        ));
    }
    if !r.firing.is_empty() {
        out.push(say.msg("console-alarms", [("url", s(say.alarms_url()))]));
    }
    out
}

/// The card: its title kind and the natural follow-ups.
pub(crate) fn card(say: &Say<'_>, r: &Report) -> (&'static str, Vec<Button>) {
    let mut buttons: Vec<Button> = r
        .firing
        .iter()
        .take(3)
        .map(|a| Button {
            text: a.name.clone(),
            value: say.msg("say-why", [("alarm", s(a.name.clone()))]),
        })
        .collect();
    buttons.push(say.button("button-fleet", say.msg("say-fleet", [])));
    ("alarms", buttons)
}
