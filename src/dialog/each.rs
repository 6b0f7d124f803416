//! A name in two or three places: the same service (or alarm) name in other accounts or
//! regions. A question about it is answered for each place, one short clause each, in one
//! sentence ("In prod, checkout is healthy: …; in staging, checkout is deploying: …"),
//! rather than asked back. An action is never: it always asks which ([`super::target`]),
//! and so does a question about more places than [`MOST`], or one whose answer in some
//! place is not a plain answer (it asks back, or fails), or a name in two clusters of one
//! place (the places are not told apart by account or region).

use std::future::Future;
use std::pin::Pin;

use super::{Answer, Dialog, Move, OpsError, Reply, Report, Slot, Turn, context};
use crate::ops::Place;

/// The most places a question is answered for at once; more are asked which.
pub const MOST: usize = 3;

/// One place's answer, with the words that tell its place from the others'.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    /// The account, when the places are in more than one.
    pub account: Option<String>,
    /// The region, when one account's places are in more than one.
    pub region: Option<String>,
    pub report: Report,
}

/// What one place is: where, and the slots that pin a turn there.
#[derive(Debug, Clone)]
pub(crate) struct Spot {
    pub place: Place,
    /// Slots set for this place (the cluster of a service, the alarm's name).
    pub slots: Vec<(Slot, String)>,
}

type Handled<'a> = Pin<Box<dyn Future<Output = Option<Result<Answer, OpsError>>> + Send + 'a>>;

impl Dialog {
    /// `turn` answered once in each of `places` (the turn's account and region slots set
    /// to it, its words dropped so they name no other), as one answer: `None` when it
    /// must be asked which instead (an action, more than [`MOST`] places, two in one
    /// place, or an answer in some place that is not a plain one).
    ///
    /// A boxed future of its own: it runs the very handlers that call it.
    pub(crate) fn in_each<'a>(
        &'a self,
        turn: &'a Turn,
        places: Vec<Spot>,
    ) -> Pin<Box<dyn Future<Output = Option<Answer>> + Send + 'a>> {
        Box::pin(self.in_each_now(turn, places))
    }

    async fn in_each_now(&self, turn: &Turn, places: Vec<Spot>) -> Option<Answer> {
        if turn.intent.verb().is_some() || !(2..=MOST).contains(&places.len()) {
            return None;
        }
        let mut distinct: Vec<&Place> = places.iter().map(|p| &p.place).collect();
        distinct.sort();
        distinct.dedup();
        if distinct.len() != places.len() {
            return None;
        }
        let turns: Vec<Turn> = places
            .iter()
            .map(|p| {
                let mut sub = turn.clone();
                sub.transcript = None;
                sub.context.pending = None;
                for (slot, value) in &p.slots {
                    sub.slots.insert(*slot, value.clone());
                }
                sub.slots.insert(Slot::Account, p.place.account.clone());
                sub.slots.insert(Slot::Region, p.place.region.clone());
                sub
            })
            .collect();
        // Each place's answer is the question's own handler, pinned there: boxed, as
        // the handler is what asked for this.
        let asked: Vec<Handled<'_>> = turns
            .iter()
            .map(|sub| Box::pin(super::handle(self, sub)) as Handled<'_>)
            .collect();
        let answers = futures_util::future::join_all(asked).await;
        let several_accounts = {
            let mut a: Vec<&str> = places.iter().map(|p| p.place.account.as_str()).collect();
            a.sort_unstable();
            a.dedup();
            a.len() > 1
        };
        let mut placed = Vec::with_capacity(places.len());
        for (p, answer) in places.iter().zip(answers) {
            let answer = answer?.ok()?;
            let Reply::Report(report) = answer.reply else {
                return None;
            };
            if answer.next != Move::Close {
                return None;
            }
            let same_account = places
                .iter()
                .filter(|o| o.place.account == p.place.account)
                .count();
            placed.push(Placed {
                account: several_accounts.then(|| p.place.account.clone()),
                region: (same_account > 1).then(|| p.place.region.clone()),
                report,
            });
        }
        let mut answer = Answer::to(turn, Reply::InEach(placed), Move::Close);
        // "It" is no one place now: a follow-up ("restart it") asks again rather than
        // act on a service talked about before. An alarm is its name, which asks which.
        answer.context.service = None;
        answer.context.cluster = None;
        if let Some((_, alarm)) = places
            .first()
            .and_then(|p| p.slots.iter().find(|(slot, _)| *slot == Slot::Alarm))
        {
            answer.context.alarm = Some(alarm.clone());
        }
        answer.context.pending = None;
        answer.context.last = Some(context::Asked {
            intent: turn.intent,
            slots: turn.slots.clone(),
        });
        Some(answer)
    }
}

// What such an answer says.

use crate::speech::render::{Say, s};

/// One sentence: each place's leading sentence, after where it is.
pub(crate) fn sentences(say: &Say<'_>, placed: &[Placed]) -> Vec<String> {
    let clauses: Vec<String> = placed
        .iter()
        .map(|p| {
            let lead = p
                .report
                .sentences(say, false)
                .into_iter()
                .next()
                .unwrap_or_default();
            // One clause of the sentence: its own semicolons become commas.
            let lead = lead.trim().trim_end_matches('.').replace("; ", ", ");
            say.msg(
                "in-each-place",
                [
                    (
                        "account",
                        s(p.account
                            .as_deref()
                            .map(|a| say.name(a))
                            .unwrap_or_default()),
                    ),
                    (
                        "region",
                        s(p.region.as_deref().map(|r| say.name(r)).unwrap_or_default()),
                    ),
                    ("answer", s(lead)),
                ],
            )
        })
        .collect();
    let joined = clauses.join("; ");
    let mut chars = joined.chars();
    match chars.next() {
        Some(first) => vec![format!("{}{}.", first.to_uppercase(), chars.as_str())],
        None => Vec::new(),
    }
}

/// Chat's links: each place's own, each once.
pub(crate) fn links(say: &Say<'_>, placed: &[Placed]) -> Vec<String> {
    let mut links: Vec<String> = Vec::new();
    for link in placed.iter().flat_map(|p| p.report.links(say)) {
        if !links.contains(&link) {
            links.push(link);
        }
    }
    links
}
