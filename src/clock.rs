//! Time, injected: the [`Clock`] everything that ages reads (alarm and deploy ages, token
//! expiry, the Alexa timestamp window, cache TTLs), so tests move time instead of sleeping.
//! A leaf: it imports nothing of the crate.

use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

/// The source of "now" for everything that ages: alarm ages, deploy ages, cache TTLs.
///
/// Injected so tests are deterministic and need no sleeps.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The real wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that stands still at a chosen instant (tests, benches, reproducible demos).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub SystemTime);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// A clock that moves only when told to (tests of TTLs and ages).
#[derive(Debug)]
pub struct ManualClock(Mutex<SystemTime>);

impl ManualClock {
    /// A clock standing at `start`.
    #[must_use]
    pub fn new(start: SystemTime) -> Self {
        Self(Mutex::new(start))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Time elapsed from `then` to `now`, zero if `then` is in the future (clock skew).
#[must_use]
pub fn age(now: SystemTime, then: SystemTime) -> Duration {
    now.duration_since(then).unwrap_or_default()
}
