//! Which data in an answer was stale: the cache records it here when it serves old data
//! because the upstream failed, and the dialog reads it to say so ("I can't reach
//! CloudWatch right now; this is from 2 minutes ago").
//!
//! A task-local rather than a field on every return value: the answer is assembled in one
//! task (concurrent fetches use `join!`, not spawned tasks), and no handler has to thread it.

use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;

/// The oldest stale data an answer used, and which system it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stale {
    pub system: &'static str,
    pub age: Duration,
}

tokio::task_local! {
    static STALE: RefCell<Option<Stale>>;
}

/// Runs `f`, returning its output and the oldest stale data it was served, if any.
pub async fn observe<F: Future>(f: F) -> (F::Output, Option<Stale>) {
    STALE
        .scope(RefCell::new(None), async {
            let out = f.await;
            let stale = STALE.with(|s| *s.borrow());
            (out, stale)
        })
        .await
}

/// Records that data `age` old from `system` was served. Outside [`observe`], does nothing.
pub fn note(system: &'static str, age: Duration) {
    let _ = STALE.try_with(|s| {
        let mut s = s.borrow_mut();
        if s.is_none_or(|old| old.age < age) {
            *s = Some(Stale { system, age });
        }
    });
}
