//! Session memory: what the conversation is about, carried between turns in the channel's
//! session attributes so follow-ups ("and its deployment?") work.
//!
//! It lives under one namespaced key, as compact JSON, within a fixed byte budget well
//! inside Lex's 12 KB session-attribute quota. It is client-visible, so it never holds a
//! token or anything secret; and because clients can edit it, decoding is lenient: a
//! damaged value is dropped (and logged), never an error for the user.
//!
//! It is also bound to whoever it belongs to: the value is `<tag>.<json>`, where the tag is
//! an HMAC-SHA256 (cut to 128 bits) over the caller's subject and the JSON under a
//! [`Sealer`]'s key. Sent back with another caller's token (or edited), it is ignored, so
//! "repeat" cannot replay an answer someone else was given.

use std::collections::{BTreeMap, HashMap};

use aws_lc_rs::hmac;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::{Intent, Slot};
use crate::ops::ServiceRef;

/// The session attribute that holds the context.
pub const ATTRIBUTE: &str = "opsvoice.ctx";

/// The most the encoded context may take, in bytes.
pub const MAX_BYTES: usize = 4096;

/// What a context usually encodes to, and then some (`said` is one spoken answer).
const TYPICAL_BYTES: usize = 640;

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
    /// "Restart checkout in prod? Shall I?": the next answer decides action `id` (only
    /// an explicit yes goes on; the action's record checks it is the same person and
    /// session).
    Action { id: String, intent: Intent },
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
    /// Reads the context from JSON; a damaged value gives an empty context.
    pub(crate) fn decode(raw: &str) -> Self {
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
        self.encode_within(MAX_BYTES)
    }

    /// Encodes the context within `budget` bytes (at most [`MAX_BYTES`]), shedding as
    /// [`Self::encode`] does.
    #[must_use]
    pub fn encode_within(&self, budget: usize) -> String {
        self.encode_after(0, budget)
    }

    /// [`Self::encode_within`], after `room` spaces kept free at the front (for a seal to
    /// be written into without copying the JSON).
    fn encode_after(&self, room: usize, budget: usize) -> String {
        let budget = budget.min(MAX_BYTES);
        let encode = |ctx: &Self| {
            // Room for a typical context, so it is written without regrowing; under 1 KiB
            // in all, the allocator's small-chunk size (a larger request makes it tidy up
            // its free lists on every answer).
            let mut out = Vec::with_capacity(room + TYPICAL_BYTES);
            out.resize(room, b' ');
            match serde_json::to_writer(&mut out, ctx) {
                Ok(()) => out,
                Err(_) => {
                    out.truncate(room);
                    out.extend_from_slice(b"{}");
                    out
                }
            }
        };
        // JSON and spaces are UTF-8.
        let text = |bytes: Vec<u8>| String::from_utf8(bytes).unwrap_or_default();
        // Almost every context fits as it is: shed parts (from a copy) only when not.
        let whole = encode(self);
        if whole.len() - room <= budget {
            return text(whole);
        }
        let mut ctx = self.clone();
        loop {
            let encoded = encode(&ctx);
            if encoded.len() - room <= budget {
                return text(encoded);
            }
            if !ctx.said.is_empty() {
                ctx.said.clear();
            } else if ctx.pending.is_some() {
                ctx.pending = None;
            } else if ctx.last.is_some() {
                ctx.last = None;
            } else {
                return format!("{}{{}}", " ".repeat(room));
            }
        }
    }

    /// Returns `attributes` with the context sealed for `owner` and written in, within
    /// `budget` bytes for the context, with credentials removed, keeping every other
    /// attribute the client set.
    #[must_use]
    pub fn merge_into(
        &self,
        attributes: &HashMap<String, String>,
        sealer: &Sealer,
        owner: Option<&str>,
        budget: usize,
    ) -> HashMap<String, String> {
        let mut out: HashMap<String, String> = attributes
            .iter()
            .filter(|(k, _)| !NEVER_ECHO.contains(&k.as_str()) && k.as_str() != ATTRIBUTE)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        out.insert(ATTRIBUTE.to_owned(), sealer.seal(self, owner, budget));
        out
    }
}

/// The bytes a sealed value's tag adds: 22 characters of base64 and a dot.
pub const SEAL_BYTES: usize = 23;

/// Seals contexts to their owner and opens only the ones sealed for the same owner.
///
/// The key comes from `OPSVOICE_SESSION_KEY`, so every instance of a deployment opens the
/// others' contexts; without one, each process makes its own (a conversation that moves to
/// another instance starts afresh, never with someone else's memory).
#[derive(Clone)]
pub struct Sealer {
    /// Shared by clones; a random key is made on first use, so a process that never seals
    /// (`opsvoice ask`) never pays for seeding the random number generator.
    key: std::sync::Arc<std::sync::OnceLock<hmac::Key>>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    /// A sealer keyed with `secret`.
    #[must_use]
    pub fn new(secret: &[u8]) -> Self {
        let key = std::sync::OnceLock::new();
        let _ = key.set(hmac::Key::new(hmac::HMAC_SHA256, secret));
        Self {
            key: std::sync::Arc::new(key),
        }
    }

    /// A sealer with a fresh random key, for this process only (made when first used).
    #[must_use]
    pub fn random() -> Self {
        Self {
            key: std::sync::Arc::default(),
        }
    }

    /// Makes the key now, if it is made on first use (a server warms it in the background
    /// at start, so its first sealed answer does not wait for it).
    pub fn warm(&self) {
        let _ = self.key();
    }

    /// The key; for a random sealer, made now if this is its first use.
    ///
    /// # Panics
    /// When the OS has no entropy source at all: a key anyone could guess would let any
    /// caller forge any context, so nothing is sealed with one.
    fn key(&self) -> &hmac::Key {
        self.key.get_or_init(|| {
            let mut secret = [0u8; 32];
            #[allow(clippy::expect_used)]
            aws_lc_rs::rand::fill(&mut secret).expect(
                "the system random number generator is unavailable; cannot make a session key",
            );
            hmac::Key::new(hmac::HMAC_SHA256, &secret)
        })
    }

    fn tag(&self, owner: Option<&str>, json: &str) -> hmac::Tag {
        let owner = owner.unwrap_or("");
        let mut ctx = hmac::Context::with_key(self.key());
        ctx.update(&(owner.len() as u64).to_be_bytes());
        ctx.update(owner.as_bytes());
        ctx.update(json.as_bytes());
        ctx.sign()
    }

    /// The context, encoded within `budget` bytes in all, sealed for `owner`.
    #[must_use]
    pub fn seal(&self, context: &SessionContext, owner: Option<&str>, budget: usize) -> String {
        // The JSON is written after room for the seal, which then goes in front in place:
        // this runs on every answer, and the JSON is neither copied nor allocated twice.
        let mut sealed = context.encode_after(SEAL_BYTES, budget.saturating_sub(SEAL_BYTES));
        let tag = self.tag(owner, &sealed[SEAL_BYTES..]);
        let mut seal = [b'.'; SEAL_BYTES];
        let written = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode_slice(&tag.as_ref()[..16], &mut seal)
            .unwrap_or(0);
        debug_assert_eq!(written, SEAL_BYTES - 1);
        sealed.replace_range(..SEAL_BYTES, std::str::from_utf8(&seal).unwrap_or_default());
        sealed
    }

    /// The context in `attributes` if it was sealed for `owner`; else an empty one.
    #[must_use]
    pub fn open(
        &self,
        attributes: &HashMap<String, String>,
        owner: Option<&str>,
    ) -> SessionContext {
        let Some(raw) = attributes.get(ATTRIBUTE) else {
            return SessionContext::default();
        };
        let Some((tag, json)) = raw.split_once('.') else {
            tracing::info!("session context without a seal; starting afresh");
            return SessionContext::default();
        };
        let expected = self.tag(owner, json);
        let ours = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(tag)
            .ok()
            .filter(|t| t.len() == 16)
            .is_some_and(|t| {
                aws_lc_rs::constant_time::verify_slices_are_equal(&t, &expected.as_ref()[..16])
                    .is_ok()
            });
        if !ours {
            tracing::info!("session context sealed for someone else, or edited; starting afresh");
            return SessionContext::default();
        }
        SessionContext::decode(json)
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
        let sealer = Sealer::random();
        let attrs = ctx.merge_into(&HashMap::new(), &sealer, Some("alice"), MAX_BYTES);
        assert_eq!(sealer.open(&attrs, Some("alice")), ctx);
    }

    #[test]
    fn damaged_context_starts_afresh_and_tokens_are_never_echoed() {
        let mut attrs = HashMap::new();
        attrs.insert(ATTRIBUTE.to_owned(), "{not json".to_owned());
        attrs.insert("authorization".to_owned(), "Bearer secret".to_owned());
        attrs.insert("team".to_owned(), "payments".to_owned());
        let sealer = Sealer::random();
        let ctx = sealer.open(&attrs, None);
        assert_eq!(ctx, SessionContext::default());
        let out = ctx.merge_into(&attrs, &sealer, None, MAX_BYTES);
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

    /// Hardening: one user's context, sent back with another user's token, let "repeat"
    /// replay an answer that user may not see.
    #[test]
    fn a_context_opens_only_for_its_owner_and_only_unedited() {
        let sealer = Sealer::random();
        let ctx = SessionContext {
            said: vec!["prod-secret is down.".into()],
            ..Default::default()
        };
        let attrs = ctx.merge_into(&HashMap::new(), &sealer, Some("alice"), MAX_BYTES);
        assert_eq!(sealer.open(&attrs, Some("alice")), ctx);
        assert_eq!(sealer.open(&attrs, Some("bob")), SessionContext::default());
        assert_eq!(sealer.open(&attrs, None), SessionContext::default());
        assert_eq!(
            Sealer::random().open(&attrs, Some("alice")),
            SessionContext::default(),
            "another key"
        );
        let mut edited = attrs.clone();
        let raw = edited[ATTRIBUTE].replace("prod-secret", "prod-secreT");
        edited.insert(ATTRIBUTE.to_owned(), raw);
        assert_eq!(
            sealer.open(&edited, Some("alice")),
            SessionContext::default()
        );
        // Unsealed JSON (what a client could write by hand) is ignored too.
        let mut bare = HashMap::new();
        bare.insert(ATTRIBUTE.to_owned(), ctx.encode());
        assert_eq!(sealer.open(&bare, Some("alice")), SessionContext::default());
        // Owners are length-prefixed: "a" + "b..." never equals "ab" + "...".
        let sealed = sealer.seal(&ctx, Some("ab"), MAX_BYTES);
        let mut shifted = HashMap::new();
        shifted.insert(ATTRIBUTE.to_owned(), sealed);
        assert_eq!(sealer.open(&shifted, Some("a")), SessionContext::default());
    }
}
