//! Slack request signatures (REFERENCE.md, "Slack request signing"): `X-Slack-Signature`
//! is `v0=` and the hex HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` under
//! the signing secret. Checked on the raw bytes before anything is parsed, in constant
//! time, with the timestamp within five minutes of the injected clock (a replay of an old
//! request, or a recorded signature on another body, is refused).

use std::sync::Arc;

use aws_lc_rs::hmac;
use axum::http::HeaderMap;

use crate::clock::Clock;
use crate::config::Secret;

/// How far a request's timestamp may be from now, either way.
pub const WINDOW_SECS: i64 = 300;

/// Why a request was refused. Says which rule failed, never the expected signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlackRefusal {
    #[error("Slack is not set up on this server (OPSVOICE_SLACK_SIGNING_SECRET is not set)")]
    NotConfigured,
    #[error("the request has no X-Slack-Request-Timestamp or X-Slack-Signature")]
    Unsigned,
    #[error("the request timestamp is more than 5 minutes from now")]
    Stale,
    #[error("the request signature does not match")]
    BadSignature,
}

/// Verifies Slack requests.
pub struct SlackVerifier {
    key: Option<hmac::Key>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SlackVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackVerifier")
            .field("configured", &self.key.is_some())
            .finish_non_exhaustive()
    }
}

impl SlackVerifier {
    /// A verifier for `secret`; without one, every request is refused.
    #[must_use]
    pub fn new(secret: Option<&Secret>, clock: Arc<dyn Clock>) -> Self {
        Self {
            key: secret.map(|s| hmac::Key::new(hmac::HMAC_SHA256, s.expose())),
            clock,
        }
    }

    /// Checks `body` against the signature headers.
    ///
    /// # Errors
    /// No secret, missing headers, a stale timestamp or a signature that does not match.
    pub fn verify(&self, headers: &HeaderMap, body: &[u8]) -> Result<(), SlackRefusal> {
        let key = self.key.as_ref().ok_or(SlackRefusal::NotConfigured)?;
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let (Some(timestamp), Some(signature)) = (
            header("x-slack-request-timestamp"),
            header("x-slack-signature"),
        ) else {
            return Err(SlackRefusal::Unsigned);
        };
        let sent: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| SlackRefusal::Unsigned)?;
        let now = crate::store::epoch(self.clock.now());
        if now.abs_diff(sent) > WINDOW_SECS.unsigned_abs() {
            return Err(SlackRefusal::Stale);
        }
        let tag = signature
            .strip_prefix("v0=")
            .and_then(unhex)
            .ok_or(SlackRefusal::BadSignature)?;
        let mut signed = Vec::with_capacity(body.len() + timestamp.len() + 4);
        signed.extend_from_slice(b"v0:");
        signed.extend_from_slice(timestamp.as_bytes());
        signed.push(b':');
        signed.extend_from_slice(body);
        // `hmac::verify` compares in constant time.
        hmac::verify(key, &signed, &tag).map_err(|_| SlackRefusal::BadSignature)
    }
}

/// The bytes of a 64-character lowercase or uppercase hex string.
fn unhex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The signature headers for `body` at `timestamp` under `secret` (what Slack sends; for
/// tests and `scripts/`).
#[must_use]
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    use std::fmt::Write as _;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(format!("v0:{timestamp}:").as_bytes());
    ctx.update(body);
    let mut out = String::from("v0=");
    for b in ctx.sign().as_ref() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use std::time::{Duration, SystemTime};

    const NOW: u64 = 1_700_000_000;

    fn verifier() -> SlackVerifier {
        SlackVerifier::new(
            Some(&Secret::new(b"8f742231b10e8888abcd99yyyzzz85a5".to_vec())),
            Arc::new(FixedClock(
                SystemTime::UNIX_EPOCH + Duration::from_secs(NOW),
            )),
        )
    }

    fn headers(ts: &str, sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-slack-request-timestamp", ts.parse().unwrap());
        h.insert("x-slack-signature", sig.parse().unwrap());
        h
    }

    #[test]
    fn slacks_documented_example_verifies() {
        // The worked example in Slack's "Verifying requests from Slack".
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let v = SlackVerifier::new(
            Some(&Secret::new(b"8f742231b10e8888abcd99yyyzzz85a5".to_vec())),
            Arc::new(FixedClock(
                SystemTime::UNIX_EPOCH + Duration::from_secs(1_531_420_618),
            )),
        );
        let sig = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(
            sign(b"8f742231b10e8888abcd99yyyzzz85a5", 1_531_420_618, body),
            sig
        );
        assert_eq!(v.verify(&headers("1531420618", sig), body), Ok(()));
    }

    #[test]
    fn every_bad_signature_is_refused() {
        let v = verifier();
        let body = br#"{"type":"event_callback"}"#;
        let secret = b"8f742231b10e8888abcd99yyyzzz85a5";
        let now = NOW as i64;
        let good = sign(secret, now, body);
        assert_eq!(v.verify(&headers(&now.to_string(), &good), body), Ok(()));
        assert_eq!(
            v.verify(&headers(&now.to_string(), &good), b"{\"type\":\"other\"}"),
            Err(SlackRefusal::BadSignature),
            "a signature replayed on another body"
        );
        let old = now - 301;
        assert_eq!(
            v.verify(&headers(&old.to_string(), &sign(secret, old, body)), body),
            Err(SlackRefusal::Stale)
        );
        let edge = now - 300;
        assert_eq!(
            v.verify(&headers(&edge.to_string(), &sign(secret, edge, body)), body),
            Ok(())
        );
        assert_eq!(
            v.verify(
                &headers(&now.to_string(), &sign(b"another secret", now, body)),
                body
            ),
            Err(SlackRefusal::BadSignature)
        );
        assert_eq!(
            v.verify(&HeaderMap::new(), body),
            Err(SlackRefusal::Unsigned)
        );
        assert_eq!(
            v.verify(&headers(&now.to_string(), "v1=00"), body),
            Err(SlackRefusal::BadSignature)
        );
        let unset = SlackVerifier::new(None, Arc::new(crate::clock::SystemClock));
        assert_eq!(
            unset.verify(&headers(&now.to_string(), &good), body),
            Err(SlackRefusal::NotConfigured)
        );
    }
}
