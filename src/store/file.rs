//! The embedded store: one SQLite file (`rusqlite`, SQLite built from source).
//!
//! WAL mode, so readers never wait for the writer and several processes can share the
//! file; a busy timeout, so a second process waits for a lock rather than failing. Calls
//! run on the blocking pool, each within the store deadline. Expired rows are purged when
//! the file is opened and then every few hundred writes.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use rusqlite::{Connection, OptionalExtension, params};

use super::{DEADLINE, Key, Prefix, Store, StoreError, epoch};
use crate::clock::Clock;

/// Writes between two purges of expired rows.
const PURGE_EVERY: u32 = 256;

/// The SQLite store.
pub struct FileStore {
    db: Arc<Mutex<Connection>>,
    clock: Arc<dyn Clock>,
    writes: AtomicU32,
    path: String,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileStore {
    /// Opens (or creates) the store at `path`, creating its directory (private to the
    /// user) when missing.
    ///
    /// # Errors
    /// A directory or file that cannot be created, or a file that is not a store.
    pub fn open(path: &Path, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir).map_err(StoreError::backend)?;
        }
        let db = Connection::open(path).map_err(backend)?;
        db.busy_timeout(DEADLINE).map_err(backend)?;
        db.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        db.pragma_update(None, "synchronous", "NORMAL")
            .map_err(backend)?;
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS records (
                 key     TEXT PRIMARY KEY NOT NULL,
                 value   TEXT NOT NULL,
                 expires INTEGER NOT NULL
             ) WITHOUT ROWID;",
        )
        .map_err(backend)?;
        db.execute(
            "DELETE FROM records WHERE expires <= ?1",
            params![epoch(clock.now())],
        )
        .map_err(backend)?;
        Ok(Self {
            db: Arc::new(Mutex::new(db)),
            clock,
            writes: AtomicU32::new(0),
            path: path.display().to_string(),
        })
    }

    /// Runs `f` on the connection on the blocking pool, within the deadline.
    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection, i64) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, StoreError> {
        let db = self.db.clone();
        let now = epoch(self.clock.now());
        let work = tokio::task::spawn_blocking(move || {
            let db = db.lock().unwrap_or_else(PoisonError::into_inner);
            f(&db, now)
        });
        match tokio::time::timeout(DEADLINE, work).await {
            Err(_) => Err(StoreError::Timeout(DEADLINE)),
            Ok(Err(join)) => Err(StoreError::backend(join)),
            Ok(Ok(result)) => result.map_err(backend),
        }
    }

    /// Counts a write, purging expired rows every [`PURGE_EVERY`].
    fn wrote(&self) -> bool {
        self.writes.fetch_add(1, Ordering::Relaxed) % PURGE_EVERY == PURGE_EVERY - 1
    }
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::backend(e)
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

fn purge(db: &Connection, now: i64) -> rusqlite::Result<()> {
    db.execute("DELETE FROM records WHERE expires <= ?1", params![now])
        .map(|_| ())
}

#[async_trait::async_trait]
impl Store for FileStore {
    async fn get(&self, key: &Key) -> Result<Option<String>, StoreError> {
        let key = key.as_str();
        let key = key.to_owned();
        self.with(move |db, now| {
            db.query_row(
                "SELECT value FROM records WHERE key = ?1 AND expires > ?2",
                params![key, now],
                |row| row.get(0),
            )
            .optional()
        })
        .await
    }

    async fn put(&self, key: &Key, value: &str, expires: SystemTime) -> Result<(), StoreError> {
        let key = key.as_str();
        let (key, value, expires) = (key.to_owned(), value.to_owned(), epoch(expires));
        let purging = self.wrote();
        self.with(move |db, now| {
            db.execute(
                "INSERT INTO records (key, value, expires) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires",
                params![key, value, expires],
            )?;
            if purging {
                purge(db, now)?;
            }
            Ok(())
        })
        .await
    }

    async fn create(
        &self,
        key: &Key,
        value: &str,
        expires: SystemTime,
    ) -> Result<bool, StoreError> {
        let key = key.as_str();
        let (key, value, expires) = (key.to_owned(), value.to_owned(), epoch(expires));
        let purging = self.wrote();
        self.with(move |db, now| {
            // One statement: SQLite holds the write lock for it, so two processes racing
            // on a key cannot both see it free.
            let changed = db.execute(
                "INSERT INTO records (key, value, expires) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires
                 WHERE records.expires <= ?4",
                params![key, value, expires, now],
            )?;
            if purging {
                purge(db, now)?;
            }
            Ok(changed == 1)
        })
        .await
    }

    async fn take(&self, key: &Key) -> Result<Option<String>, StoreError> {
        let key = key.as_str();
        let key = key.to_owned();
        self.with(move |db, now| {
            db.query_row(
                "DELETE FROM records WHERE key = ?1 AND expires > ?2 RETURNING value",
                params![key, now],
                |row| row.get(0),
            )
            .optional()
        })
        .await
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        let key = key.as_str();
        let key = key.to_owned();
        self.with(move |db, _| {
            db.execute("DELETE FROM records WHERE key = ?1", params![key])
                .map(|_| ())
        })
        .await
    }

    async fn replace(
        &self,
        key: &Key,
        expected: &str,
        value: &str,
        expires: SystemTime,
    ) -> Result<bool, StoreError> {
        let key = key.as_str();
        let (key, expected, value, expires) = (
            key.to_owned(),
            expected.to_owned(),
            value.to_owned(),
            epoch(expires),
        );
        self.with(move |db, now| {
            db.execute(
                "UPDATE records SET value = ?3, expires = ?4
                 WHERE key = ?1 AND value = ?2 AND expires > ?5",
                params![key, expected, value, expires, now],
            )
            .map(|changed| changed == 1)
        })
        .await
    }

    async fn list(&self, prefix: Prefix) -> Result<Vec<(Key, String)>, StoreError> {
        let prefix = prefix.as_str();
        let prefix = prefix.to_owned();
        self.with(move |db, now| {
            // `key >= prefix AND key < prefix + U+10FFFF`: the prefix range, on the index.
            let end = format!("{prefix}\u{10FFFF}");
            let mut query = db.prepare_cached(
                "SELECT key, value FROM records
                 WHERE key >= ?1 AND key < ?2 AND expires > ?3 ORDER BY key",
            )?;
            let rows = query.query_map(params![prefix, end, now], |row| {
                Ok((Key::listed(row.get(0)?), row.get(1)?))
            })?;
            rows.collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use std::time::Duration;

    #[tokio::test]
    async fn records_expire_create_is_once_and_take_is_single_use() {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(
            SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000),
        ));
        let store = FileStore::open(&dir.path().join("a/store.db"), clock.clone()).unwrap();
        let soon = clock.now() + Duration::from_secs(60);
        assert!(store.create(&Key::event("k"), "one", soon).await.unwrap());
        assert!(!store.create(&Key::event("k"), "two", soon).await.unwrap());
        assert_eq!(
            store.get(&Key::event("k")).await.unwrap().as_deref(),
            Some("one")
        );
        clock.advance(Duration::from_secs(61));
        assert_eq!(
            store.get(&Key::event("k")).await.unwrap(),
            None,
            "expired reads as absent"
        );
        assert!(
            store
                .create(
                    &Key::event("k"),
                    "three",
                    clock.now() + Duration::from_secs(60)
                )
                .await
                .unwrap()
        );
        assert_eq!(
            store.take(&Key::event("k")).await.unwrap().as_deref(),
            Some("three")
        );
        assert_eq!(
            store.take(&Key::event("k")).await.unwrap(),
            None,
            "taken once"
        );
        store
            .put(&Key::event("p"), "x", clock.now() + Duration::from_secs(5))
            .await
            .unwrap();
        store
            .put(&Key::event("p"), "y", clock.now() + Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(
            store.get(&Key::event("p")).await.unwrap().as_deref(),
            Some("y")
        );
        store.delete(&Key::event("p")).await.unwrap();
        assert_eq!(store.get(&Key::event("p")).await.unwrap(), None);
        let later = clock.now() + Duration::from_secs(60);
        store.put(&Key::job("1"), "a", later).await.unwrap();
        store.put(&Key::job("2"), "b", later).await.unwrap();
        store.put(&Key::burst("1"), "c", later).await.unwrap();
        assert!(
            store
                .replace(&Key::job("1"), "a", "a2", later)
                .await
                .unwrap()
        );
        assert!(
            !store
                .replace(&Key::job("1"), "a", "a3", later)
                .await
                .unwrap(),
            "no longer `a`"
        );
        assert_eq!(
            store.list(Prefix::JOBS).await.unwrap(),
            vec![
                (Key::job("1"), "a2".to_owned()),
                (Key::job("2"), "b".to_owned())
            ]
        );
    }

    #[tokio::test]
    async fn a_second_process_sees_the_same_file_and_a_reopen_keeps_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.db");
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        let later = clock.now() + Duration::from_secs(600);
        let a = FileStore::open(&path, clock.clone()).unwrap();
        let b = FileStore::open(&path, clock.clone()).unwrap();
        assert!(a.create(&Key::event("e1"), "1", later).await.unwrap());
        assert!(
            !b.create(&Key::event("e1"), "1", later).await.unwrap(),
            "the other connection sees it"
        );
        drop((a, b));
        let c = FileStore::open(&path, clock).unwrap();
        assert_eq!(
            c.get(&Key::event("e1")).await.unwrap().as_deref(),
            Some("1")
        );
    }
}
