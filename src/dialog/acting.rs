//! Acting, as a conversation: every verb's request, read-back, yes or no, approval and
//! report, over [`crate::act`]. (Work in progress: the flow lands in steps.)

use super::{Answer, Dialog, Move, Reply, Turn};
use crate::act::Refusal;
use crate::ops::OpsError;
use crate::speech::render::{Button, Say};
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
    pub step: Step,
}

/// Where the action stands, as this answer tells it.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Refused(Refusal),
}

pub(super) async fn answer(
    _dialog: &Dialog,
    turn: &Turn,
    ask: Ask,
    wrap: impl FnOnce(Act) -> Reply,
) -> Result<Answer, OpsError> {
    let act = Act {
        verb: ask.verb(),
        name: String::new(),
        step: Step::Refused(Refusal::NotEnabled),
    };
    Ok(Answer::to(turn, wrap(act), Move::Close))
}

pub(crate) fn sentences(say: &Say<'_>, act: &Act, _detail: bool) -> Vec<String> {
    match &act.step {
        Step::Refused(reason) => vec![say.msg(
            reason.message_id(),
            [
                ("verb", crate::speech::render::s(act.verb.spoken())),
                ("target", crate::speech::render::s(say.name(&act.name))),
            ],
        )],
    }
}

pub(crate) fn links(_say: &Say<'_>, _act: &Act) -> Vec<String> {
    Vec::new()
}

pub(crate) fn card(_say: &Say<'_>, _act: &Act) -> (&'static str, Vec<Button>) {
    ("other", Vec::new())
}
