//! UnsilenceAlarm: end a silence early: the alarm's notifications on again. Read back, confirmed, approved where the policy says, done once and
//! audited: the flow is [`super::acting`]'s, shared by every verb.

use super::acting::{self, Act};
use super::{Answer, Dialog, Reply, Turn};
use crate::ops::OpsError;
use crate::speech::render::{Button, Say};

/// The facts of a UnsilenceAlarm answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Report(pub Act);

pub(super) async fn answer(dialog: &Dialog, turn: &Turn) -> Result<Answer, OpsError> {
    acting::answer(dialog, turn, acting::Ask::Silence{ end: true }, |act| {
        Reply::from(Report(act))
    })
    .await
}

pub(crate) fn sentences(say: &Say<'_>, r: &Report, detail: bool) -> Vec<String> {
    acting::sentences(say, &r.0, detail)
}

pub(crate) fn links(say: &Say<'_>, r: &Report) -> Vec<String> {
    acting::links(say, &r.0)
}

pub(crate) fn card(say: &Say<'_>, r: &Report) -> (&'static str, Vec<Button>) {
    acting::card(say, &r.0)
}
