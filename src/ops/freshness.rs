//! Which data in an answer was stale: the cache records it here when it serves old data
//! because the upstream failed, and the dialog reads it to say so ("I can't reach
//! CloudWatch right now; this is from 2 minutes ago").
//!
//! A task-local rather than a field on every return value: the answer is assembled in one
//! task (concurrent fetches use `join!`, not spawned tasks), and no handler has to thread it.

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

/// The stale data an answer used: every system that served some, and the oldest age.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stale {
    /// The systems, as the user calls them ("CloudWatch", "ECS"), in name order, so that
    /// the answer does not depend on which concurrent fetch failed first.
    pub systems: Vec<&'static str>,
    /// The age of the oldest data served.
    pub age: Duration,
    /// Whether every failure behind it was slowness (a deadline that expired) rather than
    /// an upstream that could not be reached.
    pub slow: bool,
}

tokio::task_local! {
    static STALE: RefCell<Option<Stale>>;
}

/// Runs `f`, returning its output and the stale data it was served, if any.
pub async fn observe<F: Future>(f: F) -> (F::Output, Option<Stale>) {
    STALE
        .scope(RefCell::new(None), async {
            let out = f.await;
            let stale = STALE.with(|s| s.borrow_mut().take());
            (out, stale)
        })
        .await
}

/// Records that data `age` old from `system` was served, because `system` was `slow` (or
/// else unreachable). Outside [`observe`], does nothing.
pub fn note(system: &'static str, age: Duration, slow: bool) {
    let _ = STALE.try_with(|s| {
        let mut s = s.borrow_mut();
        let stale = s.get_or_insert_with(|| Stale {
            systems: Vec::with_capacity(2),
            age,
            slow,
        });
        stale.age = stale.age.max(age);
        stale.slow &= slow;
        if let Err(at) = stale.systems.binary_search(&system) {
            stale.systems.insert(at, system);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_system_is_named_in_one_order_with_the_oldest_age() {
        let forwards = observe(async {
            note("ECS", Duration::from_secs(60), true);
            note("CloudWatch", Duration::from_secs(120), false);
            note("ECS", Duration::from_secs(90), true);
        });
        let backwards = observe(async {
            note("ECS", Duration::from_secs(90), true);
            note("CloudWatch", Duration::from_secs(120), false);
            note("ECS", Duration::from_secs(60), true);
        });
        let expected = Stale {
            systems: vec!["CloudWatch", "ECS"],
            age: Duration::from_secs(120),
            slow: false,
        };
        assert_eq!(forwards.await.1, Some(expected.clone()));
        assert_eq!(backwards.await.1, Some(expected));
    }

    #[tokio::test]
    async fn slow_only_when_every_failure_was_slowness() {
        let slow = observe(async {
            note("ECS", Duration::from_secs(60), true);
            note("CloudWatch", Duration::from_secs(60), true);
        });
        assert!(slow.await.1.unwrap().slow);
    }

    #[tokio::test]
    async fn nothing_stale_is_none_and_outside_observe_nothing_is_kept() {
        note("ECS", Duration::from_secs(60), true);
        assert_eq!(observe(async {}).await.1, None);
    }
}
