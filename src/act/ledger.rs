//! Action records in the store: written once at the request, then moved one step at a time
//! with a conditional write from the value just read ([`Store::replace`]), so two instances
//! (a Slack retry, a double click, a re-delivered Lex turn) can never both make the same
//! step: of two racing claimers exactly one wins, and only the winner calls AWS. Each step
//! stored is one audit event, logged after the write and never for a write that lost.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::record::{ActionRecord, StepError, event};
use crate::clock::Clock;
use crate::store::record::{RecordError, decode, encode};
use crate::store::{Key, Store, StoreError};

/// How long an action's record is kept after its last step: it is the durable audit of
/// what was done, and "what did I miss?" reads it.
pub const RETENTION: Duration = Duration::from_secs(30 * 86_400);

/// Why a step could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Record(#[from] RecordError),
    #[error(transparent)]
    Step(#[from] StepError),
    #[error("no action {0} (unknown, or long gone)")]
    Missing(String),
    #[error("an action {0} already exists")]
    Exists(String),
    /// Another instance moved the action between our read and our write.
    #[error("action {0} was changed by another request at the same time")]
    Conflict(String),
}

/// The outcome of a claim.
#[derive(Debug)]
pub enum Claim {
    /// This instance holds the action and may call AWS, once.
    Won(Box<ActionRecord>),
    /// Another instance holds it (or held it): do nothing.
    Lost,
}

/// Action records in the store.
#[derive(Debug, Clone)]
pub struct Ledger {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
}

impl Ledger {
    #[must_use]
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self { store, clock }
    }

    fn keep_until(&self, now: SystemTime) -> SystemTime {
        now + RETENTION
    }

    /// Stores a new action (audit: `action_requested`).
    ///
    /// # Errors
    /// The store failed, or an action with this id exists.
    pub async fn open(&self, record: &ActionRecord) -> Result<(), LedgerError> {
        let now = self.clock.now();
        let created = self
            .store
            .create(
                &Key::action(record.id()),
                &encode(record),
                self.keep_until(now),
            )
            .await?;
        if !created {
            return Err(LedgerError::Exists(record.id().to_owned()));
        }
        record.audit(event::REQUESTED);
        Ok(())
    }

    /// The action `id`, as stored now.
    ///
    /// # Errors
    /// The store failed, or the stored record cannot be read.
    pub async fn get(&self, id: &str) -> Result<Option<ActionRecord>, LedgerError> {
        match self.store.get(&Key::action(id)).await? {
            Some(raw) => Ok(Some(decode(&raw)?)),
            None => Ok(None),
        }
    }

    /// Moves action `id` one step with `step` (one of [`ActionRecord`]'s transitions, given
    /// the record and the time), storing it only if nobody else moved it since it was
    /// read; then logs the step's audit event. Returns the record as stored.
    ///
    /// # Errors
    /// No such action, a step the record refuses (stored unchanged), another request
    /// moving it at the same time ([`LedgerError::Conflict`]), or the store.
    pub async fn step(
        &self,
        id: &str,
        step: impl FnOnce(&mut ActionRecord, SystemTime) -> Result<&'static str, StepError>,
    ) -> Result<ActionRecord, LedgerError> {
        let key = Key::action(id);
        let raw = self
            .store
            .get(&key)
            .await?
            .ok_or_else(|| LedgerError::Missing(id.to_owned()))?;
        let mut record: ActionRecord = decode(&raw)?;
        let now = self.clock.now();
        let event = step(&mut record, now)?;
        let stored = self
            .store
            .replace(&key, &raw, &encode(&record), self.keep_until(now))
            .await?;
        if !stored {
            return Err(LedgerError::Conflict(id.to_owned()));
        }
        record.audit(event);
        Ok(record)
    }

    /// Changes what action `id` notes without moving it a step (where its card is, how
    /// it ended), if nobody moved it since it was read. Logs nothing.
    ///
    /// # Errors
    /// As [`Self::step`].
    pub async fn note(
        &self,
        id: &str,
        note: impl FnOnce(&mut ActionRecord),
    ) -> Result<ActionRecord, LedgerError> {
        let key = Key::action(id);
        let raw = self
            .store
            .get(&key)
            .await?
            .ok_or_else(|| LedgerError::Missing(id.to_owned()))?;
        let mut record: ActionRecord = decode(&raw)?;
        note(&mut record);
        let now = self.clock.now();
        if !self
            .store
            .replace(&key, &raw, &encode(&record), self.keep_until(now))
            .await?
        {
            return Err(LedgerError::Conflict(id.to_owned()));
        }
        Ok(record)
    }

    /// Claims action `id` for `lease` before calling AWS (`UpdateService` takes no client
    /// token, so this conditional write is what makes the call happen once).
    ///
    /// # Errors
    /// No such action, one not ready to run (pending, awaiting approval, ended: the
    /// record says which), or the store. An action another instance holds is
    /// [`Claim::Lost`], not an error.
    pub async fn claim(&self, id: &str, lease: Duration) -> Result<Claim, LedgerError> {
        match self.step(id, |r, now| r.claim(lease, now)).await {
            Ok(record) => Ok(Claim::Won(Box::new(record))),
            Err(LedgerError::Conflict(_)) => Ok(Claim::Lost),
            Err(LedgerError::Step(StepError::Illegal {
                from: "claimed" | "executed" | "finished",
                ..
            })) => Ok(Claim::Lost),
            Err(e) => Err(e),
        }
    }
}
