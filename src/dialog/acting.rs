//! Acting, as a conversation: every verb's request, read-back, yes or no, and what
//! happened, over the [`crate::act::desk::Desk`].
//!
//! A request resolves its target as a question would (asking back when it is missing or
//! unclear), then the desk checks the guard rails and reads the target fresh; the answer
//! reads the change back and asks "Shall I?" ([`Move::ConfirmIntent`]), and remembers the
//! pending action in the session. Only the next turn's explicit yes, from the same person
//! in the same session, goes on; anything else is a no.

use std::time::Duration;

use super::{Answer, Confirmation, Dialog, Intent, Move, Pending, Reply, Slot, Turn, need};
use crate::act::desk::{Answered, Asker, Params, Requested};
use crate::act::record::{ActionRecord, Change};
use crate::act::{Refusal, Target};
use crate::ops::OpsError;
use crate::speech::render::{Button, Say, n, s};
use crate::vocab::Verb;

/// What was asked for: a verb, and for silences whether it ends one ("unsilence").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    Restart,
    Rollback,
    Scale,
    Silence { end: bool },
}

impl Ask {
    #[must_use]
    pub fn verb(self) -> Verb {
        match self {
            Ask::Restart => Verb::Restart,
            Ask::Rollback => Verb::Rollback,
            Ask::Scale => Verb::Scale,
            Ask::Silence { .. } => Verb::Silence,
        }
    }
}

/// The facts of an answer about an action.
#[derive(Debug, Clone, PartialEq)]
pub struct Act {
    pub verb: Verb,
    /// The service or alarm, as named.
    pub name: String,
    /// The service's cluster, when the target is a service.
    pub cluster: Option<String>,
    /// Where the target is, as said: its account (with accounts), and its region when
    /// the account is read in more than one.
    pub at: At,
    pub step: Step,
}

/// An action's target's account and region, as the read-back and the card say them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct At {
    pub account: Option<String>,
    pub region: Option<String>,
}

impl At {
    /// Where `target` is: its account, and its region when `region_named`.
    #[must_use]
    pub fn of(target: &Target, region_named: bool) -> Self {
        Self {
            account: target.account.clone(),
            region: target.region.clone().filter(|_| region_named),
        }
    }

    /// " (the prod account, eu-west-1)", or nothing without an account.
    fn words(&self, say: &Say<'_>) -> String {
        let Some(account) = &self.account else {
            return String::new();
        };
        say.msg(
            "act-place",
            [
                ("account", s(say.name(account))),
                (
                    "region",
                    s(self
                        .region
                        .as_deref()
                        .map(|r| say.name(r))
                        .unwrap_or_default()),
                ),
            ],
        )
    }
}

/// Where the action stands, as this answer tells it.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// "Restart checkout in prod? … Shall I?"
    ReadBack {
        id: String,
        change: Change,
        needs_approval: bool,
    },
    Refused(Refusal),
    NothingToConfirm,
    Cancelled,
    Expired,
    AwaitingApproval {
        channel: String,
    },
    ApprovalUnavailable,
    /// The write was made; the result follows (in the thread, the card, "what did I miss?").
    Started {
        change: Change,
        slack: bool,
    },
    /// A silence set or ended.
    Done {
        change: Change,
    },
    Failed {
        detail: String,
    },
    Unknown,
    InProgress,
    Unavailable,
}

fn parse_count(value: &str) -> Option<u32> {
    super::slots::parse_count(value)
}

fn parse_length(value: &str, now: std::time::SystemTime) -> Option<Duration> {
    super::slots::parse_silence_length(value, now)
}

fn asker<'a>(turn: &'a Turn, principal: &'a crate::auth::Principal, session: &'a str) -> Asker<'a> {
    Asker {
        principal,
        grants: &turn.grants,
        session,
        origin: turn.origin.clone(),
    }
}

/// A new request for `ask`.
pub(super) async fn answer(
    dialog: &Dialog,
    turn: &Turn,
    ask: Ask,
    wrap: impl FnOnce(Act) -> Reply,
) -> Result<Answer, OpsError> {
    let verb = ask.verb();
    // A yes or no on the platform (Lex, Alexa) that no read-back of ours in this session
    // explains: a replayed or crafted confirmation does nothing.
    if turn.confirmation != Confirmation::None {
        let act = Act {
            verb,
            name: String::new(),
            cluster: None,
            at: At::default(),
            step: Step::NothingToConfirm,
        };
        return Ok(Answer::to(turn, wrap(act), Move::Close));
    }
    let (target, name, cluster) = match ask {
        Ask::Silence { .. } => {
            let alarm = need!(Box::pin(super::alarm_detail::target_alarm(dialog, turn)).await?);
            // With accounts, the alarm's one place: never the first of several.
            let place =
                need!(Box::pin(super::alarm_detail::the_place(dialog, turn, &alarm)).await?);
            let detail = match &place {
                Some(p) => dialog.ops().alarm_at(&alarm, p).await?,
                None => dialog.ops().alarm(&alarm).await?,
            };
            let (service, stamped) =
                detail.map_or((None, None), |d| (d.alarm.service, d.alarm.place));
            (
                Target::alarm_at(alarm.clone(), service, place.or(stamped)),
                alarm,
                None,
            )
        }
        _ => {
            let service = need!(Box::pin(dialog.target_service(turn)).await?);
            let name = service.name.clone();
            let cluster = Some(service.cluster.clone());
            (Target::service(service), name, cluster)
        }
    };
    let count = turn.slots.get(&Slot::Count).and_then(|c| parse_count(c));
    if ask == Ask::Scale && count.is_none() {
        let mut asking = turn.clone();
        asking.slots.insert(Slot::Service, name.clone());
        if let Some(c) = &cluster {
            asking.slots.insert(Slot::Cluster, c.clone());
        }
        return Ok(dialog.elicit(&asking, Slot::Count, Reply::Ask(Slot::Count)));
    }
    let at = At::of(&target, false);
    let act = |step| Act {
        verb,
        name: name.clone(),
        cluster: cluster.clone(),
        at: at.clone(),
        step,
    };
    let Some(desk) = dialog.desk() else {
        return Ok(Answer::to(
            turn,
            wrap(act(Step::Refused(Refusal::NotEnabled))),
            Move::Close,
        ));
    };
    let principal = turn
        .principal
        .clone()
        .unwrap_or_else(crate::auth::Principal::anonymous);
    let Some(session) = turn.session.clone() else {
        return Ok(Answer::to(
            turn,
            wrap(act(Step::Refused(Refusal::NotEnabled))),
            Move::Close,
        ));
    };
    let params = Params {
        count,
        duration: turn
            .slots
            .get(&Slot::Duration)
            .and_then(|d| parse_length(d, dialog.now())),
        end: matches!(ask, Ask::Silence { end: true }),
    };
    let requested = desk
        .request(&asker(turn, &principal, &session), verb, target, params)
        .await?;
    Ok(match requested {
        Requested::ReadBack(record) => {
            let step = Step::ReadBack {
                id: record.id().to_owned(),
                change: record.change().clone(),
                needs_approval: record.needs_approval(),
            };
            let act = Act {
                at: At::of(record.target(), record.region_named()),
                ..act(step)
            };
            let mut answer = Answer::to(turn, wrap(act), Move::ConfirmIntent);
            answer.context.pending = Some(Pending::Action {
                id: record.id().to_owned(),
                intent: turn.intent,
            });
            answer
        }
        Requested::Refused(reason) => {
            Answer::to(turn, wrap(act(Step::Refused(reason))), Move::Close)
        }
        Requested::Missing => match ask {
            Ask::Silence { .. } => dialog.elicit(turn, Slot::Alarm, Reply::UnknownAlarm(name)),
            _ => dialog.elicit(turn, Slot::Service, Reply::UnknownService(name)),
        },
    })
}

/// The answer to a read-back: `yes` only for an explicit yes. The record decides whether
/// it is this person's, in this session, and still waiting.
pub(super) async fn decide(
    dialog: &Dialog,
    mut turn: Turn,
    id: &str,
    intent: Intent,
    yes: bool,
) -> Answer {
    turn.context.pending = None;
    turn.confirmation = Confirmation::None;
    let principal = turn
        .principal
        .clone()
        .unwrap_or_else(crate::auth::Principal::anonymous);
    let session = turn.session.clone().unwrap_or_default();
    let Some(desk) = dialog.desk() else {
        return Answer::to(&turn, Reply::Fallback, Move::ElicitIntent);
    };
    let record = desk.ledger().get(id).await.ok().flatten();
    let answered = desk
        .answer(id, &asker(&turn, &principal, &session), yes)
        .await;
    let (intent, reply) = reply_for_intent(intent, record.as_ref(), answered);
    turn.intent = intent;
    Answer::to(&turn, reply, Move::Close)
}

/// The reply that tells where an action stands after an answer, for the intent it was.
pub(crate) fn reply_for(record: Option<&ActionRecord>, answered: Answered) -> (Intent, Reply) {
    let intent = record.map_or(Intent::RestartService, |r| match (&r.change(), r.verb()) {
        (Change::Unsilence, _) => Intent::UnsilenceAlarm,
        (_, Verb::Silence) => Intent::SilenceAlarm,
        (_, Verb::Scale) => Intent::ScaleService,
        (_, Verb::Rollback) => Intent::RollbackService,
        (_, Verb::Restart) => Intent::RestartService,
    });
    reply_for_intent(intent, record, answered)
}

fn reply_for_intent(
    intent: Intent,
    record: Option<&ActionRecord>,
    answered: Answered,
) -> (Intent, Reply) {
    let (verb, name, cluster, at) = record.map_or(
        (Verb::Restart, String::new(), None, At::default()),
        describe,
    );
    let step = match answered {
        Answered::NothingToConfirm => Step::NothingToConfirm,
        Answered::Cancelled => Step::Cancelled,
        Answered::Expired => Step::Expired,
        Answered::Refused(r) => Step::Refused(r),
        Answered::AwaitingApproval { channel } => Step::AwaitingApproval { channel },
        Answered::ApprovalUnavailable => Step::ApprovalUnavailable,
        Answered::Started(r) => Step::Started {
            change: r.change().clone(),
            slack: r.origin().is_some(),
        },
        Answered::Done(r) => Step::Done {
            change: r.change().clone(),
        },
        Answered::Failed(r) => Step::Failed {
            detail: r.detail().unwrap_or_default().to_owned(),
        },
        Answered::Unknown(_) => Step::Unknown,
        Answered::InProgress => Step::InProgress,
        Answered::Rejected | Answered::NotAllowed | Answered::SelfApproval => {
            Step::NothingToConfirm
        }
        Answered::Unavailable => Step::Unavailable,
    };
    let act = Act {
        verb,
        name,
        cluster,
        at,
        step,
    };
    (intent, wrap_for(intent, act))
}

/// A pending read-back answered with something else: that is a no.
pub(super) async fn drop_pending(dialog: &Dialog, turn: &Turn, id: &str) {
    if let Some(desk) = dialog.desk() {
        let principal = turn
            .principal
            .clone()
            .unwrap_or_else(crate::auth::Principal::anonymous);
        let session = turn.session.clone().unwrap_or_default();
        let _ = desk
            .answer(id, &asker(turn, &principal, &session), false)
            .await;
    }
}

fn describe(record: &ActionRecord) -> (Verb, String, Option<String>, At) {
    let at = At::of(record.target(), record.region_named());
    match &record.target().subject {
        crate::act::Subject::Service { service } => (
            record.verb(),
            service.name.clone(),
            Some(service.cluster.clone()),
            at,
        ),
        crate::act::Subject::Alarm { alarm, .. } => (record.verb(), alarm.clone(), None, at),
    }
}

fn wrap_for(intent: Intent, act: Act) -> Reply {
    match intent {
        Intent::RollbackService => Reply::from(super::rollback_service::Report(act)),
        Intent::ScaleService => Reply::from(super::scale_service::Report(act)),
        Intent::SilenceAlarm => Reply::from(super::silence_alarm::Report(act)),
        Intent::UnsilenceAlarm => Reply::from(super::unsilence_alarm::Report(act)),
        _ => Reply::from(super::restart_service::Report(act)),
    }
}

// What these answers say.

fn readback(say: &Say<'_>, act: &Act, change: &Change) -> String {
    let target = s(say.name(&act.name));
    let cluster = s(act
        .cluster
        .as_deref()
        .map(|c| say.name(c))
        .unwrap_or_default());
    let place = || s(act.at.words(say));
    match change {
        Change::Restart { running } => say.msg(
            "act-readback-restart",
            [
                ("target", target),
                ("cluster", cluster),
                ("place", place()),
                ("running", n(f64::from(*running))),
            ],
        ),
        Change::Rollback {
            from,
            to,
            ran_until,
        } => say.msg(
            "act-readback-rollback",
            [
                ("target", target),
                ("cluster", cluster),
                ("place", place()),
                ("from", s(say.taskdef(from))),
                ("to", s(say.taskdef(to))),
                (
                    "until",
                    s(ran_until.map(|t| say.clock(t)).unwrap_or_default()),
                ),
            ],
        ),
        Change::Scale { from, to } => say.msg(
            "act-readback-scale",
            [
                ("target", target),
                ("cluster", cluster),
                ("place", place()),
                ("from", n(f64::from(*from))),
                ("to", n(f64::from(*to))),
            ],
        ),
        Change::Silence { until, .. } => say.msg(
            "act-readback-silence",
            [
                ("target", target),
                ("place", place()),
                ("until", s(say.clock(*until))),
            ],
        ),
        Change::Unsilence => say.msg(
            "act-readback-unsilence",
            [("target", target), ("place", place())],
        ),
    }
}

pub(crate) fn sentences(say: &Say<'_>, act: &Act, _detail: bool) -> Vec<String> {
    let target = || s(say.name(&act.name));
    let verb = || s(act.verb.spoken());
    match &act.step {
        Step::ReadBack {
            change,
            needs_approval,
            ..
        } => {
            let mut out = vec![readback(say, act, change)];
            if *needs_approval {
                out.push(say.msg("act-needs-approval", []));
            }
            out.push(say.msg("act-shall-i", []));
            out
        }
        Step::Refused(reason) => vec![
            say.msg(
                reason.message_id(),
                [
                    ("verb", verb()),
                    ("target", target()),
                    (
                        "account",
                        s(act
                            .at
                            .account
                            .as_deref()
                            .map(|a| say.name(a))
                            .unwrap_or_default()),
                    ),
                ],
            ),
        ],
        Step::NothingToConfirm => vec![say.msg("act-nothing-to-confirm", [])],
        Step::Cancelled => vec![say.msg("act-cancelled", [("verb", verb()), ("target", target())])],
        Step::Expired => vec![say.msg("act-expired", [])],
        Step::AwaitingApproval { channel } => vec![say.msg(
            "act-awaiting-approval",
            [(
                "channel",
                s(if say.voice() {
                    String::new()
                } else {
                    format!("<#{channel}>")
                }),
            )],
        )],
        Step::ApprovalUnavailable => vec![say.msg("act-approval-unavailable", [])],
        Step::Started { change, slack } => {
            let to = match change {
                Change::Scale { to, .. } => to.to_string(),
                Change::Rollback { to, .. } => say.taskdef(to),
                _ => String::new(),
            };
            vec![
                say.msg(
                    "act-started",
                    [
                        ("verb", s(act.verb.policy_name())),
                        ("target", target()),
                        ("to", s(to)),
                    ],
                ),
                say.msg(
                    if *slack {
                        "act-where-thread"
                    } else {
                        "act-where"
                    },
                    [("target", target())],
                ),
            ]
        }
        Step::Done { change } => vec![match change {
            Change::Silence { until, .. } => say.msg(
                "act-done-silence",
                [("target", target()), ("until", s(say.clock(*until)))],
            ),
            _ => say.msg("act-done-unsilence", [("target", target())]),
        }],
        Step::Failed { detail } => vec![say.msg(
            "act-failed",
            [
                ("verb", verb()),
                ("target", target()),
                ("detail", s(detail.clone())),
            ],
        )],
        Step::Unknown => vec![say.msg("act-unknown", [("verb", verb()), ("target", target())])],
        Step::InProgress => vec![say.msg("act-in-progress", [])],
        Step::Unavailable => vec![say.msg("act-unavailable", [])],
    }
}

pub(crate) fn links(_say: &Say<'_>, _act: &Act) -> Vec<String> {
    Vec::new()
}

/// No follow-up buttons: a read-back's Confirm and Cancel are the Slack channel's own.
pub(crate) fn card(_say: &Say<'_>, _act: &Act) -> (&'static str, Vec<Button>) {
    ("act", Vec::new())
}

impl Act {
    /// The pending action's id, when this is a read-back.
    #[must_use]
    pub fn pending(&self) -> Option<&str> {
        match &self.step {
            Step::ReadBack { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// The read-back of `record` as one sentence, with who asks: what an approval card says.
pub(crate) fn describe_record(say: &Say<'_>, record: &ActionRecord) -> String {
    let (verb, name, cluster, at) = describe(record);
    let act = Act {
        verb,
        name,
        cluster,
        at,
        step: Step::Unavailable,
    };
    say.msg(
        "act-card-what",
        [
            ("who", s(record.requester().username.clone())),
            ("change", s(readback(say, &act, record.change()))),
        ],
    )
}

/// Where `record` stands, in a few words: an approval card's status line, and what the
/// requester's thread is told.
pub(crate) fn status(say: &Say<'_>, record: &ActionRecord) -> String {
    use crate::act::record::State;
    let approver = s(record
        .approver()
        .map(|a| a.username.clone())
        .unwrap_or_default());
    let (_, name, _, at) = describe(record);
    let target = s(say.name(&name));
    let account = s(at
        .account
        .as_deref()
        .map(|a| say.name(a))
        .unwrap_or_default());
    let detail = s(record.detail().unwrap_or_default().to_owned());
    match record.state() {
        State::Pending | State::Confirmed => say.msg("act-status-pending", []),
        State::AwaitingApproval => say.msg(
            "act-status-waiting",
            [(
                "until",
                s(record.deadline().map(|d| say.clock(d)).unwrap_or_default()),
            )],
        ),
        State::Approved => say.msg("act-status-approved", [("approver", approver)]),
        State::Denied => say.msg("act-status-cancelled", []),
        State::Rejected => say.msg("act-status-rejected", [("approver", approver)]),
        State::Expired => say.msg("act-status-expired", []),
        State::Refused { reason } => say.msg(
            "act-status-refused",
            [(
                "reason",
                s(say.msg(
                    reason.message_id(),
                    [
                        ("verb", s(record.verb().spoken())),
                        ("target", target),
                        ("account", account),
                    ],
                )),
            )],
        ),
        State::Claimed { .. } | State::Executed { .. } => {
            say.msg("act-status-running", [("approver", approver)])
        }
        State::Finished { outcome } => say.msg(
            "act-status-finished",
            [
                ("outcome", s(outcome.name())),
                ("at", s(say.clock(record.updated()))),
                ("detail", detail),
                ("approver", approver),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::act::record::Person;
    use crate::ops::{Place, ServiceRef};
    use crate::speech::Renderer;
    use crate::vocab::Mode;

    fn record(place: Option<Place>, region_named: bool) -> ActionRecord {
        let mut service = ServiceRef::new("web", "checkout");
        service.place = place;
        ActionRecord::request(
            "a1",
            Change::Restart { running: 3 },
            Target::service(service),
            Person {
                sub: "s-ana".into(),
                username: "ana".into(),
            },
            "ask:1",
            true,
            Duration::from_secs(600),
            std::time::SystemTime::UNIX_EPOCH,
        )
        .unwrap()
        .with_region_named(region_named)
    }

    #[test]
    fn the_card_names_the_account_and_the_region_only_when_the_account_has_several() {
        let renderer = Renderer::embedded(None).unwrap();
        let say = renderer.say("en-US", Mode::Text);
        let prod = Some(Place::new("prod", "eu-west-1"));
        assert_eq!(
            describe_record(&say, &record(prod.clone(), true)),
            "ana asks: Restart checkout in web (the prod account, eu-west-1)? It has 3 running tasks, and a new deployment will replace them."
        );
        assert_eq!(
            describe_record(&say, &record(prod, false)),
            "ana asks: Restart checkout in web (the prod account)? It has 3 running tasks, and a new deployment will replace them."
        );
        // Without accounts, as it always was.
        assert_eq!(
            describe_record(&say, &record(None, false)),
            "ana asks: Restart checkout in web? It has 3 running tasks, and a new deployment will replace them."
        );
        // Spoken, the region is said as words.
        let voice = renderer.say("en-US", Mode::Voice);
        let spoken = describe_record(&voice, &record(Some(Place::new("prod", "eu-west-1")), true));
        assert!(spoken.contains("(the prod account, "), "{spoken}");
    }

    #[test]
    fn a_read_only_account_is_named_in_the_refusal() {
        let renderer = Renderer::embedded(None).unwrap();
        let say = renderer.say("en-US", Mode::Text);
        let target =
            Target::service(ServiceRef::new("web", "checkout").at(Place::new("dev", "us-east-1")));
        assert_eq!(
            Refusal::NoActionsRole.explain(&say, Verb::Scale, &target),
            "I won't scale checkout: the dev account is read only for me, with no actions role set up there. Nothing was changed."
        );
        assert_eq!(Refusal::NoActionsRole.code(), "no_actions_role");
    }
}
