//! Listings under way, joined rather than made twice: the catalog and each cluster's
//! service names. Two reads of one account that need the same listing at the same moment
//! (the catalog and the firing alarms' names; a cluster's services and the catalog) share
//! one upstream call, and the firing alarms can wait for names a listing is about to find
//! instead of listing them again. Nothing is kept once a listing ends: this is not a
//! cache ([`crate::ops::cache::CachedOps`] is).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared, WeakShared};

type Flight<V> = Shared<BoxFuture<'static, V>>;

/// The listings under way, by key, each with the id it was started under.
type UnderWay<K, V> = Mutex<HashMap<K, (u64, WeakShared<BoxFuture<'static, V>>)>>;

/// Listings under way, by key.
pub(super) struct Flights<K, V: Clone> {
    next: AtomicU64,
    /// Held weakly: a listing every asker gave up on (and dropped) is gone, never joined
    /// half done later.
    under_way: Arc<UnderWay<K, V>>,
}

impl<K, V: Clone> Default for Flights<K, V> {
    fn default() -> Self {
        Self {
            next: AtomicU64::new(0),
            under_way: Arc::default(),
        }
    }
}

impl<K, V: Clone> std::fmt::Debug for Flights<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flights").finish_non_exhaustive()
    }
}

impl<K, V> Flights<K, V>
where
    K: Clone + Eq + Hash + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// The listing under way for `key`, joined, or `start`ed (and then joinable until it
    /// ends).
    pub(super) fn join_or_start(
        &self,
        key: K,
        start: impl FnOnce() -> BoxFuture<'static, V>,
    ) -> Flight<V> {
        let mut under_way = self
            .under_way
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(flight) = under_way.get(&key).and_then(|(_, weak)| weak.upgrade()) {
            return flight;
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let (listing, done) = (start(), self.under_way.clone());
        let ended = key.clone();
        let flight = async move {
            let value = listing.await;
            let mut done = done.lock().unwrap_or_else(PoisonError::into_inner);
            if done.get(&ended).is_some_and(|(current, _)| *current == id) {
                done.remove(&ended);
            }
            value
        }
        .boxed()
        .shared();
        if let Some(weak) = flight.downgrade() {
            under_way.insert(key, (id, weak));
        }
        flight
    }

    /// Every listing under way now, to wait for.
    pub(super) fn all_under_way(&self) -> Vec<Flight<V>> {
        self.under_way
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .filter_map(|(_, weak)| weak.upgrade())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    use super::*;

    fn counted(calls: &Arc<AtomicUsize>) -> BoxFuture<'static, usize> {
        let calls = calls.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            calls.fetch_add(1, Ordering::SeqCst) + 1
        }
        .boxed()
    }

    #[tokio::test]
    async fn askers_at_the_same_moment_share_one_listing_and_later_ones_list_again() {
        let flights: Flights<&str, usize> = Flights::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let a = flights.join_or_start("main", || counted(&calls));
        let b = flights.join_or_start("main", || counted(&calls));
        assert_eq!(flights.all_under_way().len(), 1);
        assert_eq!((a.await, b.await), (1, 1));
        assert!(
            flights.all_under_way().is_empty(),
            "nothing kept once it ended"
        );
        assert_eq!(flights.join_or_start("main", || counted(&calls)).await, 2);
    }

    #[tokio::test]
    async fn a_listing_everyone_gave_up_on_is_started_afresh_not_joined() {
        let flights: Flights<&str, usize> = Flights::default();
        let calls = Arc::new(AtomicUsize::new(0));
        let abandoned = flights.join_or_start("main", || counted(&calls));
        drop(abandoned);
        assert!(flights.all_under_way().is_empty());
        assert_eq!(flights.join_or_start("main", || counted(&calls)).await, 1);
    }
}
