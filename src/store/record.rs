//! Typed records: each kind of record the store keeps is a Rust type that says what it is
//! and which schema version this code writes. A record is stored as JSON with its version
//! in `v`, so that code after an upgrade knows what it reads:
//!
//! - a record with no `v` was written before versions existed, and reads as version 1 (the
//!   shape it had then, which version 1 is);
//! - a record older than [`Record::VERSION`] is brought up to date by [`Record::upgrade`]
//!   before it is read;
//! - a record newer than this code knows is refused with a clear error (an instance left on
//!   an old version during a rolling upgrade must not misread, or overwrite, what a newer
//!   one wrote).

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// A kind of record the store keeps.
pub trait Record: Serialize + DeserializeOwned {
    /// What the record is, for errors and logs ("account link").
    const KIND: &'static str;
    /// The schema version this code writes.
    const VERSION: u32 = 1;

    /// Brings a stored record of version `from` (older than [`Record::VERSION`]) to the
    /// current shape. Version 1 is the first, so there is nothing to do until a version 2.
    fn upgrade(_from: u32, value: Value) -> Value {
        value
    }
}

/// Why a stored record cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("a stored {kind} record is damaged: {reason}")]
    Damaged { kind: &'static str, reason: String },
    #[error(
        "a stored {kind} record is version {found}, newer than this code reads ({known}): \
         every instance must run the same release"
    )]
    TooNew {
        kind: &'static str,
        found: u64,
        known: u32,
    },
}

/// The field that holds the version.
const VERSION_FIELD: &str = "v";

/// `record` as stored: its fields and its version.
#[must_use]
pub fn encode<R: Record>(record: &R) -> String {
    let mut value = serde_json::to_value(record).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut value {
        fields.insert(VERSION_FIELD.to_owned(), Value::from(R::VERSION));
    }
    value.to_string()
}

/// The record stored as `raw`, brought up to the current version.
///
/// # Errors
/// Text that is not a record of this kind, or a version newer than this code knows.
pub fn decode<R: Record>(raw: &str) -> Result<R, RecordError> {
    let damaged = |reason: String| RecordError::Damaged {
        kind: R::KIND,
        reason,
    };
    let mut value: Value = serde_json::from_str(raw).map_err(|e| damaged(e.to_string()))?;
    let Value::Object(fields) = &mut value else {
        return Err(damaged("not a JSON object".to_owned()));
    };
    let version = match fields.remove(VERSION_FIELD) {
        None => 1,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| damaged(format!("its version is not a number: {v}")))?,
    };
    if version > u64::from(R::VERSION) {
        return Err(RecordError::TooNew {
            kind: R::KIND,
            found: version,
            known: R::VERSION,
        });
    }
    let value = match u32::try_from(version) {
        Ok(v) if v < R::VERSION => R::upgrade(v, value),
        _ => value,
    };
    serde_json::from_value(value).map_err(|e| damaged(e.to_string()))
}

/// The record stored as `raw`, or `None` (with a warning that says why) when it cannot be
/// read: for the lists that skip what they cannot use (a queue, a log), so that a damaged
/// record, or one a newer release wrote, is passed over loudly and left as it is.
#[must_use]
pub fn read<R: Record>(raw: &str) -> Option<R> {
    match decode(raw) {
        Ok(record) => Some(record),
        Err(error) => {
            tracing::warn!(%error, "a stored record is passed over");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Note {
        text: String,
    }

    impl Record for Note {
        const KIND: &'static str = "note";
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct NoteV2 {
        text: String,
        lang: String,
    }

    impl Record for NoteV2 {
        const KIND: &'static str = "note";
        const VERSION: u32 = 2;
        fn upgrade(from: u32, mut value: Value) -> Value {
            if from < 2 {
                value["lang"] = Value::from("en");
            }
            value
        }
    }

    #[test]
    fn a_record_carries_its_version_and_reads_back() {
        let note = Note { text: "hi".into() };
        let raw = encode(&note);
        assert_eq!(raw, r#"{"text":"hi","v":1}"#);
        assert_eq!(decode::<Note>(&raw).unwrap(), note);
    }

    #[test]
    fn a_record_from_before_versions_reads_as_version_one_and_upgrades() {
        assert_eq!(
            decode::<Note>(r#"{"text":"hi"}"#).unwrap(),
            Note { text: "hi".into() }
        );
        assert_eq!(
            decode::<NoteV2>(r#"{"text":"hi"}"#).unwrap(),
            NoteV2 {
                text: "hi".into(),
                lang: "en".into()
            }
        );
        assert_eq!(
            decode::<NoteV2>(r#"{"text":"hi","v":1}"#).unwrap().lang,
            "en"
        );
    }

    #[test]
    fn a_newer_or_damaged_record_is_refused_with_a_reason() {
        let newer = decode::<Note>(r#"{"text":"hi","v":2}"#).unwrap_err();
        assert!(matches!(
            newer,
            RecordError::TooNew {
                found: 2,
                known: 1,
                ..
            }
        ));
        assert!(newer.to_string().contains("version 2"), "{newer}");
        for raw in ["", "[]", r#"{"v":"one","text":"x"}"#, r#"{"txt":"x"}"#] {
            assert!(
                matches!(decode::<Note>(raw), Err(RecordError::Damaged { .. })),
                "{raw:?}"
            );
        }
    }
}
