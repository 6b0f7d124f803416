//! Which accounts (or regions of one) an answer had to leave out: with accounts configured,
//! a member that fails, is slow or whose role cannot be assumed is recorded here by
//! [`super::accounts::AccountsOps`], and the dialog reads it to say so ("the staging account
//! didn't answer") while the others are answered.
//!
//! A task-local, as [`super::freshness`] is and for the same reason: the answer is
//! assembled in one task (the fan-out polls its members in that task, never spawns them),
//! and no handler has to thread it.

use std::cell::{Cell, RefCell};
use std::future::Future;

/// One account left out of an answer, or one region of it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Left {
    /// The account's spoken name.
    pub account: String,
    /// The region left out, when the account's other regions answered; `None` when the
    /// whole account did not.
    pub region: Option<String>,
}

tokio::task_local! {
    static LEFT: RefCell<Vec<Left>>;
    /// When the answer's fan-outs must be done by: set by the first, kept by the others, so
    /// an answer that asks the accounts twice (the clusters, then their services) still
    /// waits on them for one deadline in all.
    static UNTIL: Cell<Option<tokio::time::Instant>>;
}

/// Runs `f`, returning its output and what it had to leave out, sorted, each once.
pub async fn observe<F: Future>(f: F) -> (F::Output, Vec<Left>) {
    LEFT.scope(
        RefCell::new(Vec::new()),
        UNTIL.scope(Cell::new(None), async {
            let out = f.await;
            let left = LEFT.with(|l| std::mem::take(&mut *l.borrow_mut()));
            (out, left)
        }),
    )
    .await
}

/// When a fan-out must be done by: within [`observe`], the answer's one deadline (`budget`
/// from its first fan-out); outside, `budget` from now.
#[must_use]
pub fn until(budget: std::time::Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    UNTIL
        .try_with(|u| {
            let at = u.get().unwrap_or(now + budget);
            u.set(Some(at));
            at
        })
        .unwrap_or(now + budget)
}

/// Records that `account` (or its `region`) did not answer. Outside [`observe`], does
/// nothing. A whole account left out covers any of its regions noted before or after.
pub fn note(account: &str, region: Option<&str>) {
    let _ = LEFT.try_with(|l| {
        let mut l = l.borrow_mut();
        let whole = |x: &Left| x.account == account && x.region.is_none();
        if l.iter().any(whole) {
            return;
        }
        if region.is_none() {
            l.retain(|x| x.account != account);
        }
        let left = Left {
            account: account.to_owned(),
            region: region.map(str::to_owned),
        };
        if let Err(at) = l.binary_search(&left) {
            l.insert(at, left);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_account_once_in_name_order_and_a_whole_account_covers_its_regions() {
        let ((), left) = observe(async {
            note("staging", Some("eu-west-1"));
            note("dev", None);
            note("staging", None);
            note("staging", Some("us-east-1"));
            note("dev", None);
            note("prod", Some("us-east-1"));
        })
        .await;
        let names: Vec<(&str, Option<&str>)> = left
            .iter()
            .map(|l| (l.account.as_str(), l.region.as_deref()))
            .collect();
        assert_eq!(
            names,
            [
                ("dev", None),
                ("prod", Some("us-east-1")),
                ("staging", None)
            ]
        );
    }

    #[tokio::test]
    async fn an_answer_has_one_deadline_for_all_its_fan_outs() {
        let budget = std::time::Duration::from_secs(2);
        let ((first, second), _) = observe(async {
            let first = until(budget);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            (first, until(budget))
        })
        .await;
        assert_eq!(first, second);
        assert!(
            until(budget) > first,
            "outside an answer, each call has its own"
        );
    }

    #[tokio::test]
    async fn outside_observe_nothing_is_kept() {
        note("staging", None);
        assert!(observe(async {}).await.1.is_empty());
    }
}
