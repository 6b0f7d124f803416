//! Channel adapters: each wire format in and out, around the one shared
//! [`Assistant`](crate::assistant::Assistant).
//!
//! An adapter parses its format (leniently: unknown fields are fine), builds a
//! channel-neutral [`Turn`](crate::dialog::Turn), asks the assistant, and writes the
//! [`Exchange`] back in its own format within its own limits. Adapters read no data
//! source: the facts come from the dialog. The one AWS call an adapter makes is the Lex
//! runtime's `RecognizeText` (`ask`, when a bot is configured), to understand a question.

pub mod alexa;
pub mod ask;
pub mod lex;
pub mod slack;

use serde::{Deserialize, Deserializer};

pub(crate) use crate::assistant::audit;
pub use crate::assistant::{Arrival, Assistant, DEFAULT_DEADLINE, Exchange};

/// Why a request body could not be read as its type: what the client is told (a JSON
/// syntax error, or the path of the first field of the wrong shape).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the request body is not valid JSON: {0}")]
    InvalidJson(String),
    #[error("the request body does not have the expected shape: {0}")]
    WrongShape(String),
}

/// Parses a JSON body. Tracking the path costs on every field, so only a document that
/// fails is parsed again to say where (deserialisation is deterministic: it fails the
/// same way).
///
/// # Errors
/// Invalid JSON, or a value of the wrong shape (with its path).
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, BodyError> {
    if let Ok(value) = serde_json::from_slice(bytes) {
        return Ok(value);
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize::<_, T>(de) {
        Ok(value) => Ok(value),
        Err(error) => {
            let path = error.path().to_string();
            let inner = error.into_inner();
            let detail = if path == "." || path == "?" {
                inner.to_string()
            } else {
                format!("{path}: {inner}")
            };
            Err(if inner.is_syntax() || inner.is_eof() {
                BodyError::InvalidJson(detail)
            } else {
                BodyError::WrongShape(detail)
            })
        }
    }
}

/// Reads a field that may be `null` as its default: AWS sends `null` for empty objects
/// and lists in some events and omits them in others.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}
