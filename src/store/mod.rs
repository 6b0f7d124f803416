//! The store: small records that must outlive a process and be shared by every instance
//! (account links, Slack event ids already answered, single-use link states, thread
//! contexts). One trait ([`Store`]) with two real implementations:
//!
//! - [`dynamo::DynamoStore`], a DynamoDB table (production and Lambda): conditional writes
//!   make [`Store::create`] and [`Store::take`] atomic across processes and instances.
//! - [`file::FileStore`], an embedded SQLite file (the `serve` default). SQLite rather than
//!   redb: a redb file can be open in one process only, while `opsvoice serve` and a second
//!   `serve` (or `opsvoice check`) on one machine must be able to share the file; SQLite's
//!   WAL mode and transactions give that, with the same atomic conditional write.
//!
//! Every record has an expiry; an expired record reads as absent everywhere (DynamoDB's TTL
//! and the file store's purge remove them later). Values are text; secrets in them are
//! sealed first with [`cipher::Cipher`].

pub mod cipher;
pub mod dynamo;
pub mod file;
pub mod key;
pub mod record;

pub use key::{Key, Prefix};

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::clock::Clock;
use crate::config::{Config, StoreLocation};

/// Why the store could not answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store did not answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The database said no or could not be reached. The cause is kept whole, and shown
    /// with its own chain (not as `source()`, so that the many `%error` log lines that
    /// print a store error alone still name the cause).
    #[error("the store failed: {}", crate::error::ErrorChain(&**.0))]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    /// Another worker holds the record being written (a concurrent delivery).
    #[error("another delivery of this record is being written")]
    Busy,
}

/// Key-value records with an expiry, shared by every instance.
#[async_trait::async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// The value at `key`, unless it is absent or expired.
    async fn get(&self, key: &Key) -> Result<Option<String>, StoreError>;
    /// Writes `value` at `key` until `expires`, replacing what was there.
    async fn put(&self, key: &Key, value: &str, expires: SystemTime) -> Result<(), StoreError>;
    /// Writes `value` at `key` only if nothing unexpired is there; whether it did. Two
    /// callers racing on one key: exactly one gets `true`.
    async fn create(&self, key: &Key, value: &str, expires: SystemTime)
    -> Result<bool, StoreError>;
    /// Removes the record at `key` and returns its value, if it was there and unexpired.
    /// Two callers racing on one key: at most one gets the value.
    async fn take(&self, key: &Key) -> Result<Option<String>, StoreError>;
    /// Removes the record at `key`, if any.
    async fn delete(&self, key: &Key) -> Result<(), StoreError>;
    /// Replaces the value at `key` with `value` only if it is still `expected` (and
    /// unexpired); whether it did. Two callers racing from one value: exactly one wins.
    async fn replace(
        &self,
        key: &Key,
        expected: &str,
        value: &str,
        expires: SystemTime,
    ) -> Result<bool, StoreError>;
    /// Every unexpired record whose key starts with `prefix`, in key order (for small
    /// sets: the delivery queue and the event log).
    async fn list(&self, prefix: Prefix) -> Result<Vec<(Key, String)>, StoreError>;
}

impl StoreError {
    /// A backend failure caused by `error`.
    pub fn backend(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(error))
    }
}

/// How long one store call may take.
pub const DEADLINE: Duration = Duration::from_secs(2);

/// Seconds since the Unix epoch.
pub fn epoch(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Why the configured store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("no place for the store: set OPSVOICE_STORE (`dynamodb:<table>` or `file:<path>`)")]
    Nowhere,
    #[error("cannot open the store file {path}: {reason}")]
    File { path: String, reason: String },
}

/// Opens the store `config` names (DynamoDB with the standard AWS configuration, or the
/// file, created with its directory when missing).
///
/// # Errors
/// No location, or a file that cannot be created or opened.
pub async fn open(config: &Config, clock: Arc<dyn Clock>) -> Result<Arc<dyn Store>, OpenError> {
    match config.store_location().ok_or(OpenError::Nowhere)? {
        StoreLocation::Dynamo(table) => {
            let sdk = crate::aws::sdk_config().await;
            Ok(Arc::new(dynamo::DynamoStore::new(
                dynamo::client(&sdk),
                table,
                clock,
            )))
        }
        StoreLocation::File(path) => {
            let store = file::FileStore::open(&path, clock).map_err(|e| OpenError::File {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
            Ok(Arc::new(store))
        }
    }
}
