//! The event log: what the notifier was told happened (alarms firing and resolving,
//! deployments failing, rolling back or completing, ECS service warnings) and who took an
//! alarm (an Acknowledge on its card), kept a day in the shared store, for "what did I
//! miss?".
//!
//! The record is the log's own: the notifier (its writer) and `WhatHappened` (its reader)
//! both depend on it, and neither owns the other's schema.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::ops::ServiceRef;
use crate::store::record::{self, Record};
use crate::store::{Key, Prefix, Store, StoreError};

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
    /// An action of ours ended (restart, roll back, scale, silence): `acted` says which.
    ActionFinished,
    /// Someone took the alarm (the subject) with its card's Acknowledge button; `by` says
    /// who. A release from before acknowledgements passes such an entry over (with a
    /// warning) and reads the rest of the log as before, so this needs no new version.
    AlarmAcknowledged,
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
    /// Who did it, when a person did (the username of an acknowledgement's linked
    /// principal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// For [`What::ActionFinished`]: who did what, and how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acted: Option<Acted>,
    /// The configured account it happened in (`OPSVOICE_ACCOUNTS_FILE`), by its name;
    /// `None` without accounts. A caller the policy does not grant the account hears
    /// nothing of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// An action as "what did I miss?" tells it: "At 14:02 Ana rolled back checkout in prod,
/// approved by Bob; it finished at 14:05."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acted {
    /// The verb's policy name (`restart`, `rollback`, `scale`, `silence`).
    pub verb: String,
    /// The requester's username.
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_by: Option<String>,
    /// When it was asked for (epoch seconds); the happening's `at` is when it ended.
    pub asked_at: i64,
    /// `done`, `failed` or `unknown`.
    pub outcome: String,
    /// For a scale, the count; for a silence, until when (epoch seconds); for a
    /// rollback, the task definition it went back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// `true` when it ended a silence.
    #[serde(default)]
    pub unsilence: bool,
}

impl Record for Happening {
    const KIND: &'static str = "event log";
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
    let key = Key::log(happening.at, &uuid::Uuid::new_v4().to_string());
    let value = record::encode(happening);
    store.put(&key, &value, keep).await
}

/// Every happening in the log (in time order); entries that do not read are skipped.
///
/// # Errors
/// The store's.
pub async fn read(store: &dyn Store) -> Result<Vec<Happening>, StoreError> {
    Ok(store
        .list(Prefix::LOG)
        .await?
        .into_iter()
        .filter_map(|(_, raw)| record::read(&raw))
        .collect())
}
