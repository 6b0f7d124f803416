//! AlarmDetail: "why is the checkout latency alarm firing?" The state reason, how long it
//! has been in that state, and how often it flipped recently.
//!
//! Spoken alarm names are rarely exact, so the alarm is found by fuzzy match; failing an
//! alarm name, a service's single firing alarm will do, and several are asked back.

use std::time::Duration;

use super::resolve::{self, Match};
use super::{Answer, Dialog, Reply, Slot, Turn, need};
use crate::ops::{AlarmKind, AlarmState, OpsError, ServiceRef};

/// The facts of an AlarmDetail answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub name: String,
    pub kind: AlarmKind,
    pub state: AlarmState,
    pub age: Duration,
    /// The state reason, without CloudWatch's "Threshold Crossed:" preamble.
    pub reason: String,
    pub service: Option<ServiceRef>,
    /// State changes in the last 24 hours; `None` when the history was unavailable.
    pub changes_today: Option<usize>,
    /// Its running silence: who silenced it, and until when (epoch seconds).
    pub silenced: Option<(String, i64)>,
    /// Our newest silence or unsilence of it that ended in the last day.
    pub acted: Option<Box<super::what_happened::Item>>,
}

pub(super) async fn answer(dialog: &Dialog, turn: &Turn) -> Result<Answer, OpsError> {
    let name = need!(target_alarm(dialog, turn).await?);
    let detail = match need!(the_place(dialog, turn, &name).await?) {
        Some(place) => dialog.ops().alarm_at(&name, &place).await?,
        None => dialog.ops().alarm(&name).await?,
    };
    let Some(detail) = detail else {
        return Ok(dialog.elicit(turn, Slot::Alarm, Reply::UnknownAlarm(name)));
    };
    let allowed = turn.grants.alarm(turn.intent, &detail.alarm);
    if !allowed {
        return Ok(Answer::to(turn, Reply::Denied, super::Move::Fail));
    }
    let day = Duration::from_secs(24 * 3600);
    let alarm = detail.alarm;
    let silenced = match dialog.desk() {
        Some(desk) => desk
            .silence_of(&crate::act::Target::alarm_at(
                alarm.name.clone(),
                alarm.service.clone(),
                alarm.place.clone(),
            ))
            .await
            .filter(|silence| silence.until > crate::store::epoch(dialog.now()))
            .map(|silence| (silence.by.username, silence.until)),
        None => None,
    };
    let acted = super::what_happened::last_acted(dialog, turn, |h| h.subject == alarm.name).await
    .map(Box::new);
    let report = Report {
        silenced,
        acted,
        changes_today: detail
            .history
            .as_ref()
            .map(|h| h.iter().filter(|t| dialog.age(t.at) <= day).count()),
        age: dialog.age(alarm.since),
        reason: alarm
            .reason
            .trim_start_matches("Threshold Crossed:")
            .trim()
            .to_owned(),
        name: alarm.name.clone(),
        kind: alarm.kind,
        state: alarm.state,
        service: alarm.service.clone(),
    };
    let mut answer = Answer::about(turn, Reply::from(report), alarm.service.as_ref());
    answer.slots.insert(Slot::Alarm, alarm.name.clone());
    answer.context.alarm = Some(alarm.name);
    Ok(answer)
}

/// With accounts, the one place of the alarm `name` the turn is about: among the alarms
/// by that exact name (firing or not) the caller may see, in the account and regions the
/// turn names. Several: a question is answered in each of two or three
/// ([`Dialog::in_each`]), an action (and a question about more) asks which. None: the
/// alarm is not there, said as for any unknown alarm. `Have(None)` without accounts (the
/// one account's alarm, as always).
pub(super) async fn the_place(
    dialog: &Dialog,
    turn: &Turn,
    name: &str,
) -> Result<super::Need<Option<crate::ops::Place>>, OpsError> {
    use super::Need::{Ask, Have};
    if dialog.ops().accounts().is_empty() {
        return Ok(Have(None));
    }
    let heard = dialog.place(turn);
    let mut places: Vec<crate::ops::Place> = Vec::new();
    for alarm in dialog.ops().alarms_named(name).await? {
        if alarm.name == name
            && turn.grants.alarm(turn.intent, &alarm)
            && heard.holds(alarm.place.as_ref())
            && let Some(place) = alarm.place
            && !places.contains(&place)
        {
            places.push(place);
        }
    }
    match places.len() {
        0 => Ok(Ask(Box::new(dialog.elicit(
            turn,
            Slot::Alarm,
            Reply::UnknownAlarm(name.to_owned()),
        )))),
        1 => Ok(Have(places.pop())),
        _ => {
            let spots = places
                .iter()
                .map(|place| super::each::Spot {
                    place: place.clone(),
                    slots: vec![(Slot::Alarm, name.to_owned())],
                })
                .collect();
            if let Some(each) = Box::pin(dialog.in_each(turn, spots)).await {
                return Ok(Ask(Box::new(each)));
            }
            Ok(Ask(Box::new(which_place(dialog, turn, name, &places))))
        }
    }
}

/// "There is a checkout-cpu-high alarm in the prod and staging accounts. Which one?" (or,
/// in one account, which region), the alarm's name kept for the answer.
fn which_place(
    dialog: &Dialog,
    turn: &Turn,
    name: &str,
    places: &[crate::ops::Place],
) -> Answer {
    let mut turn = turn.clone();
    turn.slots.insert(Slot::Alarm, name.to_owned());
    let accounts = super::scope::accounts_of(places.iter().map(Some));
    if accounts.len() > 1 {
        return dialog.elicit(
            &turn,
            Slot::Account,
            Reply::WhichAccount {
                service: name.to_owned(),
                accounts,
                alarm: true,
            },
        );
    }
    let regions = places.iter().map(|p| p.region.clone()).collect();
    dialog.elicit(
        &turn,
        Slot::Region,
        Reply::WhichRegion {
            service: name.to_owned(),
            regions,
            alarm: true,
        },
    )
}

/// Like `need!`, inside a function that itself returns a `Need`.
macro_rules! need_ok {
    ($e:expr) => {
        match $e {
            super::Need::Have(v) => v,
            super::Need::Ask(answer) => return Ok(super::Need::Ask(answer)),
        }
    };
}

pub(super) async fn target_alarm(dialog: &Dialog, turn: &Turn) -> Result<super::Need<String>, OpsError> {
    use super::Need::{Ask, Have};
    let ops = dialog.ops();
    if let Some(spoken) = turn.slots.get(&Slot::Alarm) {
        // Only the alarms the caller may see can be named. The firing ones first (the
        // list every answer shares); then those named like the words or the service.
        // One name once, however many accounts have an alarm by it (which one is asked
        // or answered for each once the name is known).
        let visible = |alarms: Vec<crate::ops::Alarm>| -> Vec<String> {
            let mut names: Vec<String> = Vec::new();
            for a in alarms {
                if turn.grants.alarm(turn.intent, &a) && !names.contains(&a.name) {
                    names.push(a.name);
                }
            }
            names
        };
        let mut names = visible(ops.firing_alarms().await?);
        let mut found = resolve::resolve(spoken, &names, String::as_str);
        // Only an exact match among the firing ones ends the search: a near one may be
        // a firing alarm standing in for the quiet one that was named exactly
        // ("checkout-5xx-rate-high" is not "checkout-p99-latency-high").
        if !matches!(found, Match::Found(_)) {
            // Listed by the words' first word and the service said; only when those find
            // nothing, by the service the words name loosely ("the indexer queue alarm"),
            // from the catalog when it can be read (it is no reason to fail the answer).
            let mut listed: Vec<String> = Vec::new();
            for round in 0..2 {
                let services: Vec<String> = if round == 0 {
                    Vec::new()
                } else {
                    match ops.catalog().await {
                        Ok(c) => c.services.iter().map(|s| s.name.clone()).collect(),
                        Err(_) => break,
                    }
                };
                let services: Vec<&str> = services.iter().map(String::as_str).collect();
                for prefix in
                    resolve::alarm_name_prefixes(spoken, turn.slots.get(&Slot::Service), &services)
                {
                    if listed.contains(&prefix) {
                        continue;
                    }
                    for name in visible(ops.alarms_named(&prefix).await?) {
                        if !names.contains(&name) {
                            names.push(name);
                        }
                    }
                    listed.push(prefix);
                }
                found = resolve::resolve_alarm(spoken, &names, String::as_str);
                if !matches!(found, Match::NoMatch) {
                    break;
                }
            }
        }
        return Ok(match found {
            Match::Found(name) | Match::Likely(name) => Have(name.clone()),
            Match::Ambiguous(names) => Ask(Box::new(dialog.elicit(
                turn,
                Slot::Alarm,
                Reply::WhichAlarm(names.into_iter().cloned().collect()),
            ))),
            Match::NoMatch if turn.slots.contains_key(&Slot::Service) => {
                let mut narrower = turn.clone();
                narrower.slots.remove(&Slot::Alarm);
                return Box::pin(target_alarm(dialog, &narrower)).await;
            }
            Match::NoMatch if !turn.grants.everything(turn.intent) => {
                Ask(Box::new(Answer::to(turn, Reply::Denied, super::Move::Fail)))
            }
            Match::NoMatch => Ask(Box::new(dialog.elicit(
                turn,
                Slot::Alarm,
                Reply::UnknownAlarm(spoken.clone()),
            ))),
        });
    }
    if turn.slots.contains_key(&Slot::Service) || turn.context.alarm.is_none() {
        if turn.slots.contains_key(&Slot::Service) || turn.context.service.is_some() {
            let service = need_ok!(dialog.target_service(turn).await?);
            let firing: Vec<String> = ops
                .service_firing_alarms(&service)
                .await?
                .into_iter()
                .filter(|a| a.state == AlarmState::Alarm)
                .map(|a| a.name)
                .collect();
            return Ok(match firing.len() {
                0 => Ask(Box::new(Answer::to(
                    turn,
                    Reply::NoFiringAlarm(service),
                    super::Move::Close,
                ))),
                1 => Have(firing.into_iter().next().unwrap_or_default()),
                _ => Ask(Box::new(dialog.elicit(
                    turn,
                    Slot::Alarm,
                    Reply::WhichAlarm(firing),
                ))),
            });
        }
        return Ok(Ask(Box::new(dialog.elicit(
            turn,
            Slot::Alarm,
            Reply::Ask(Slot::Alarm),
        ))));
    }
    match &turn.context.alarm {
        // The alarm last talked about is resolved exactly as if it had been said: through
        // the caller's grants, so a hidden and a missing alarm get the same words.
        Some(alarm) => {
            let mut named = turn.clone();
            named.slots.insert(Slot::Alarm, alarm.clone());
            Box::pin(target_alarm(dialog, &named)).await
        }
        None => Ok(Ask(Box::new(dialog.elicit(
            turn,
            Slot::Alarm,
            Reply::Ask(Slot::Alarm),
        )))),
    }
}

// What this answer says: its sentences, its links (chat) and its card.

use crate::speech::render::{Button, Say, n, s};

/// The sentences of an alarm's answer.
pub(crate) fn sentences(say: &Say<'_>, r: &Report, _detail: bool) -> Vec<String> {
    let name = say.name(&r.name);
    let state = match r.state {
        AlarmState::Alarm => "alarm",
        AlarmState::Ok => "ok",
        AlarmState::InsufficientData => "insufficient-data",
    };
    let mut out = vec![say.msg(
        "alarm-state",
        [
            ("state", s(state)),
            ("name", s(name)),
            ("age", s(say.duration(r.age))),
        ],
    )];
    if r.kind == AlarmKind::Composite {
        out.push(say.msg("alarm-composite", []));
    }
    if !r.reason.is_empty() {
        out.push(say.msg("alarm-reason", [("reason", s(r.reason.clone()))]));
    }
    if let Some(service) = &r.service {
        out.push(say.msg("alarm-service", [("service", s(say.service(service)))]));
    }
    if let Some((who, until)) = &r.silenced {
        out.push(say.msg(
            "alarm-silenced",
            [("who", s(say.name(who))), ("until", s(say.clock(*until)))],
        ));
    }
    if let Some(changes) = r.changes_today {
        out.push(say.msg("alarm-changes", [("count", n(changes as f64))]));
    }
    // The running silence already says who; else who silenced or unsilenced it last.
    if let (None, Some(acted)) = (&r.silenced, &r.acted) {
        out.push(super::what_happened::item(say, acted));
    }
    out
}

/// The alarm's console link.
pub(crate) fn links(say: &Say<'_>, r: &Report) -> Vec<String> {
    vec![say.msg("console-alarm", [("url", s(say.alarm_url(&r.name)))])]
}

/// The card: its title kind and the natural follow-ups.
pub(crate) fn card(say: &Say<'_>, r: &Report) -> (&'static str, Vec<Button>) {
    let mut buttons = vec![say.button("button-alarms", say.msg("say-alarms", []))];
    if let Some(svc) = &r.service {
        buttons.insert(0, say.button("button-health", say.about("say-health", svc)));
    }
    ("alarm", buttons)
}
