//! UnsupportedAction: "deploy the new build", "page the on-call", "restart everything in
//! prod". opsvoice cannot take these actions (it takes some on one service or alarm at a
//! time, as intents of their own), so the answer says so, names what was asked, and says what
//! it can tell instead. It fetches nothing: the service is named as the user said it, so the
//! answer reveals nothing about what exists.

use super::{Answer, Dialog, Move, Reply, Slot, Turn};
use crate::ops::OpsError;

/// The facts of an UnsupportedAction answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Which kind of action was asked for (a message id of `action-*`).
    pub action: &'static str,
    /// The service named, as the user said it.
    pub service: Option<String>,
}

/// The kind of action in what was said; `action-other` when it names none we know. The
/// kinds and their words are the `[orders]` of `intents/UnsupportedAction.toml`, which the
/// local matcher tells an order by too.
fn action(transcript: Option<&str>) -> &'static str {
    let said = transcript.unwrap_or_default().to_lowercase();
    // A file that does not parse is reported by `opsvoice check` and the tests; here the
    // answer is only less precise.
    let actions = crate::embedded::orders().map_or(&[][..], |o| o.actions.as_slice());
    actions
        .iter()
        .find(|a| {
            a.verbs
                .iter()
                .chain(&a.phrases)
                .any(|w| said.contains(w.as_str()))
        })
        .map_or("action-other", |a| a.answer.as_str())
}

pub(super) async fn answer(_dialog: &Dialog, turn: &Turn) -> Result<Answer, OpsError> {
    let report = Report {
        action: action(turn.transcript.as_deref()),
        service: turn.slots.get(&Slot::Service).cloned(),
    };
    // The conversation stays on what it was about; nothing new was learnt.
    Ok(Answer::to(turn, Reply::from(report), Move::Close))
}

// What this answer says: its sentences, its links (chat) and its card.

use crate::speech::render::{Button, Say, s};

/// The one sentence: what cannot be done, and what can be asked instead.
pub(crate) fn sentences(say: &Say<'_>, r: &Report, _detail: bool) -> Vec<String> {
    let action = say.msg(r.action, []);
    vec![match &r.service {
        Some(service) => say.msg(
            "unsupported-action-service",
            [("action", s(action)), ("service", s(say.name(service)))],
        ),
        None => say.msg("unsupported-action", [("action", s(action))]),
    }]
}

/// Nothing to link to.
pub(crate) fn links(_say: &Say<'_>, _r: &Report) -> Vec<String> {
    Vec::new()
}

/// The card: what can be asked instead.
pub(crate) fn card(say: &Say<'_>, r: &Report) -> (&'static str, Vec<Button>) {
    let mut buttons = Vec::new();
    if let Some(service) = &r.service {
        buttons.push(say.button(
            "button-health",
            say.msg("say-health", [("service", s(service.clone()))]),
        ));
        buttons.push(say.button(
            "button-deploy",
            say.msg("say-deploy", [("service", s(service.clone()))]),
        ));
    }
    buttons.push(say.button("button-alarms", say.msg("say-alarms", [])));
    buttons.push(say.button("button-fleet", say.msg("say-fleet", [])));
    ("other", buttons)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_action_is_read_from_what_was_said() {
        // Words, whatever the request: "roll back payments" is RollbackService's, and "roll
        // back everything in prod" (this intent's) is known by the same words.
        assert_eq!(action(Some("roll back everything in prod")), "action-rollback");
        assert_eq!(action(Some("restart checkout")), "action-restart");
        assert_eq!(action(Some("redeploy all of platform")), "action-restart");
        assert_eq!(action(Some("deploy the new build")), "action-deploy");
        assert_eq!(action(Some("scale up prod")), "action-scale");
        assert_eq!(action(Some("page the on call")), "action-page");
        assert_eq!(action(Some("who is on call for checkout")), "action-oncall");
        assert_eq!(action(Some("Silence the alarms")), "action-silence");
        assert_eq!(action(Some("unmute every alarm")), "action-unsilence");
        assert_eq!(action(Some("acknowledge the alarms")), "action-acknowledge");
        assert_eq!(action(Some("make it better")), "action-other");
        assert_eq!(action(None), "action-other");
        // As written, anywhere: the first kind in intents/UnsupportedAction.toml that fits.
        assert_eq!(action(Some("Restarting checkout")), "action-restart");
        assert_eq!(action(Some("ack it")), "action-acknowledge");
        assert_eq!(action(Some("post it in slack")), "action-other");
        assert_eq!(action(Some("wake the on call")), "action-oncall");
        assert_eq!(action(Some("flush the cache")), "action-other");
    }
}
