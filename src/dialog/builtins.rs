//! The built-in intents: launch, help, stop and cancel, repeat, fallback, and the yes/no
//! and "tell me more" that arrive with nothing to act on.

use super::{Answer, Intent, Move, Reply, Turn};

pub(super) fn answer(turn: &Turn) -> Answer {
    let (reply, next) = match turn.intent {
        Intent::Launch => (Reply::Welcome, Move::ElicitIntent),
        Intent::Help => (Reply::Help, Move::ElicitIntent),
        Intent::Stop | Intent::Cancel => (Reply::Goodbye, Move::Close),
        Intent::Repeat if turn.context.said.is_empty() => {
            (Reply::NothingToRepeat, Move::ElicitIntent)
        }
        Intent::Repeat => (Reply::Said(turn.context.said.clone()), Move::Close),
        Intent::More => (Reply::NothingToRepeat, Move::ElicitIntent),
        // A bare yes or no, or anything we did not understand.
        _ => (Reply::Fallback, Move::ElicitIntent),
    };
    let mut answer = Answer::to(turn, reply, next);
    if matches!(turn.intent, Intent::Stop | Intent::Cancel) {
        answer.context.pending = None;
    }
    answer
}
