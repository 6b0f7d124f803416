//! Session memory: what the conversation is about, carried between turns in the channel's
//! session attributes so follow-ups ("and its deployment?") work.
//!
//! It lives under one namespaced key, as compact JSON, within a fixed byte budget well
//! inside Lex's 12 KB session-attribute quota. It is client-visible, so it never holds a
//! token or anything secret; and because clients can edit it, decoding is lenient: a
//! damaged value is dropped (and logged), never an error for the user.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::{Intent, Slot};
use crate::ops::ServiceRef;

/// The session attribute that holds the context.
pub const ATTRIBUTE: &str = "opsvoice.ctx";

/// The most the encoded context may take, in bytes.
pub const MAX_BYTES: usize = 4096;

/// Session attributes that must never be echoed back to a client (they carry credentials).
pub const NEVER_ECHO: &[&str] = &["authorization", "Authorization"];

/// What the last answered question was, so "tell me more" and "repeat" can redo it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Asked {
    pub intent: Intent,
    #[serde(default)]
    pub slots: BTreeMap<Slot, String>,
}

/// A question we asked the user and are waiting on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    /// "Did you mean checkout?": yes fills `slot` with `value` and answers `intent`.
    Confirm {
        intent: Intent,
        slots: BTreeMap<Slot, String>,
        slot: Slot,
        value: String,
    },
    /// "Which service?": the next answer fills `slot` and answers `intent`.
    Fill {
        intent: Intent,
        slots: BTreeMap<Slot, String>,
        slot: Slot,
        /// The choices we offered, if any ("email-sender or sms-sender?").
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        options: Vec<String>,
    },
}

/// Conversation memory carried between turns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SessionContext {
    /// The service last talked about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceRef>,
    /// The cluster last talked about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// The alarm last talked about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alarm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<Asked>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    /// The sentences of the last reply, for "repeat".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub said: Vec<String>,
}

impl SessionContext {
    /// Reads the context from session attributes; a missing or damaged value gives an
    /// empty context.
    #[must_use]
    pub fn from_attributes(attributes: &HashMap<String, String>) -> Self {
        let Some(raw) = attributes.get(ATTRIBUTE) else {
            return Self::default();
        };
        if raw.len() > MAX_BYTES * 2 {
            tracing::warn!(
                bytes = raw.len(),
                "session context too large; starting afresh"
            );
            return Self::default();
        }
        serde_json::from_str(raw).unwrap_or_else(|error| {
            tracing::warn!(%error, "session context unreadable; starting afresh");
            Self::default()
        })
    }

    /// Encodes the context within [`MAX_BYTES`], dropping the least useful parts first
    /// (the repeat buffer, then pending questions) if it would not fit.
    #[must_use]
    pub fn encode(&self) -> String {
        let mut ctx = self.clone();
        loop {
            let encoded = serde_json::to_string(&ctx).unwrap_or_else(|_| "{}".to_owned());
            if encoded.len() <= MAX_BYTES {
                return encoded;
            }
            if !ctx.said.is_empty() {
                ctx.said.clear();
            } else if ctx.pending.is_some() {
                ctx.pending = None;
            } else if ctx.last.is_some() {
                ctx.last = None;
            } else {
                return "{}".to_owned();
            }
        }
    }

    /// Returns `attributes` with the context written in and credentials removed, keeping
    /// every other attribute the client set.
    #[must_use]
    pub fn merge_into(&self, attributes: &HashMap<String, String>) -> HashMap<String, String> {
        let mut out: HashMap<String, String> = attributes
            .iter()
            .filter(|(k, _)| !NEVER_ECHO.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.insert(ATTRIBUTE.to_owned(), self.encode());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_round_trips_through_session_attributes() {
        let ctx = SessionContext {
            service: Some(ServiceRef::new("prod", "checkout")),
            said: vec!["Checkout is degraded.".into()],
            ..Default::default()
        };
        let attrs = ctx.merge_into(&HashMap::new());
        assert_eq!(SessionContext::from_attributes(&attrs), ctx);
    }

    #[test]
    fn damaged_context_starts_afresh_and_tokens_are_never_echoed() {
        let mut attrs = HashMap::new();
        attrs.insert(ATTRIBUTE.to_owned(), "{not json".to_owned());
        attrs.insert("authorization".to_owned(), "Bearer secret".to_owned());
        attrs.insert("team".to_owned(), "payments".to_owned());
        let ctx = SessionContext::from_attributes(&attrs);
        assert_eq!(ctx, SessionContext::default());
        let out = ctx.merge_into(&attrs);
        assert!(!out.contains_key("authorization"));
        assert_eq!(out["team"], "payments");
    }

    #[test]
    fn oversized_context_sheds_the_repeat_buffer_first() {
        let ctx = SessionContext {
            service: Some(ServiceRef::new("prod", "checkout")),
            said: vec!["x".repeat(MAX_BYTES)],
            ..Default::default()
        };
        let encoded = ctx.encode();
        assert!(encoded.len() <= MAX_BYTES);
        assert!(encoded.contains("checkout"));
    }
}
