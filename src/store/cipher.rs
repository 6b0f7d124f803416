//! Secrets at rest: AES-256-GCM under `OPSVOICE_STORE_KEY`, a fresh random 96-bit nonce for
//! each value, and the record the value belongs to as associated data (a sealed refresh
//! token copied into another user's record does not open). Also the keys derived from it
//! for signing link states and PKCE verifiers, so one setting covers them all.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hmac;
use base64::Engine as _;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why a sealed value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    #[error("the sealed value is damaged, or was sealed under another key or for another record")]
    Unopenable,
    #[error("the system random number generator failed")]
    Random,
}

/// Seals and opens secrets; derives the other keys.
pub struct Cipher {
    key: LessSafeKey,
    derive: hmac::Key,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(..)")
    }
}

impl Cipher {
    /// A cipher under the 32-byte `key`.
    ///
    /// # Errors
    /// A key that is not 32 bytes.
    pub fn new(key: &[u8]) -> Result<Self, CipherError> {
        if key.len() != 32 {
            return Err(CipherError::Unopenable);
        }
        let derive = hmac::Key::new(hmac::HMAC_SHA256, key);
        // The encryption key is itself derived, so it is never the same bytes as the
        // derivation key.
        let enc = hmac::sign(&derive, b"opsvoice store encryption v1");
        let unbound =
            UnboundKey::new(&AES_256_GCM, enc.as_ref()).map_err(|_| CipherError::Unopenable)?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            derive,
        })
    }

    /// `plain` sealed for `record`: base64url of nonce, ciphertext and tag.
    ///
    /// # Errors
    /// No randomness for the nonce.
    pub fn seal(&self, record: &str, plain: &str) -> Result<String, CipherError> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).map_err(|_| CipherError::Random)?;
        let mut data = plain.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(record.as_bytes()),
                &mut data,
            )
            .map_err(|_| CipherError::Random)?;
        let mut out = Vec::with_capacity(NONCE_LEN + data.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&data);
        Ok(B64.encode(out))
    }

    /// The plain text of `sealed`, if it was sealed under this key for `record`.
    ///
    /// # Errors
    /// A damaged value, another key or another record.
    pub fn open(&self, record: &str, sealed: &str) -> Result<String, CipherError> {
        let raw = B64.decode(sealed).map_err(|_| CipherError::Unopenable)?;
        if raw.len() < NONCE_LEN {
            return Err(CipherError::Unopenable);
        }
        let (nonce, data) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| CipherError::Unopenable)?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(record.as_bytes()), &mut data)
            .map_err(|_| CipherError::Unopenable)?;
        String::from_utf8(plain.to_vec()).map_err(|_| CipherError::Unopenable)
    }

    /// A MAC key for `purpose`, derived from the store key.
    #[must_use]
    pub fn derived(&self, purpose: &str) -> hmac::Key {
        let bytes = hmac::sign(&self.derive, purpose.as_bytes());
        hmac::Key::new(hmac::HMAC_SHA256, bytes.as_ref())
    }
}

/// `bytes` as base64url without padding.
#[must_use]
pub fn b64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_and_record() {
        let a = Cipher::new(&[7u8; 32]).unwrap();
        let b = Cipher::new(&[8u8; 32]).unwrap();
        let sealed = a.seal("link#T#U", "refresh-token").unwrap();
        assert!(!sealed.contains("refresh"));
        assert_ne!(
            sealed,
            a.seal("link#T#U", "refresh-token").unwrap(),
            "fresh nonce"
        );
        assert_eq!(a.open("link#T#U", &sealed).unwrap(), "refresh-token");
        assert_eq!(a.open("link#T#V", &sealed), Err(CipherError::Unopenable));
        assert_eq!(b.open("link#T#U", &sealed), Err(CipherError::Unopenable));
        let mut damaged = sealed.into_bytes();
        let last = damaged.len() - 2;
        damaged[last] = if damaged[last] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            a.open("link#T#U", std::str::from_utf8(&damaged).unwrap()),
            Err(CipherError::Unopenable)
        );
        assert!(Cipher::new(&[1u8; 16]).is_err());
    }
}
