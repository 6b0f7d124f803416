//! The event log: what the notifier was told happened (alarms firing and resolving,
//! deployments failing, rolling back or completing, ECS service warnings), kept a day in
//! the shared store, for "what did I miss?".
//!
//! The record is the log's own: the notifier (its writer) and `WhatHappened` (its reader)
//! both depend on it, and neither owns the other's schema.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::ops::ServiceRef;
use crate::store::{Store, StoreError};

/// The store prefix of the event log.
pub const LOG_PREFIX: &str = "log#";

/// What an event in the log says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum What {
    AlarmFired,
    AlarmResolved,
    DeploymentFailed,
    DeploymentRolledBack,
    DeploymentCompleted,
    /// An ECS service action at `WARN` or `ERROR` (its event name is the subject).
    ServiceWarning,
}

/// One event in the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Happening {
    /// Seconds since the epoch.
    pub at: i64,
    pub what: What,
    /// The alarm's name, the service's, or the ECS service action's event name.
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceRef>,
}

/// The log key of `h` (time first, so the log lists in order).
#[must_use]
pub fn log_key(h: &Happening, id: &str) -> String {
    format!("{LOG_PREFIX}{:012}#{id}", h.at.max(0))
}

/// Appends `happening` to the log in `store`, kept until `keep`.
///
/// # Errors
/// The store's.
pub async fn append(
    store: &dyn Store,
    happening: &Happening,
    keep: SystemTime,
) -> Result<(), StoreError> {
    let key = log_key(happening, &uuid::Uuid::new_v4().to_string());
    let value = serde_json::to_string(happening).unwrap_or_default();
    store.put(&key, &value, keep).await
}

/// Every happening in the log (in time order); entries that do not read are skipped.
///
/// # Errors
/// The store's.
pub async fn read(store: &dyn Store) -> Result<Vec<Happening>, StoreError> {
    Ok(store
        .list(LOG_PREFIX)
        .await?
        .into_iter()
        .filter_map(|(_, raw)| serde_json::from_str(&raw).ok())
        .collect())
}
