//! A Cognito-like signing key for tests and benches: an RSA key, its JWKS served on
//! loopback, and access tokens signed with it.

use base64::Engine as _;
use serde_json::json;

/// An RSA signing key with key id `k1`.
pub struct SigningKey {
    pair: rcgen::KeyPair,
}

/// Reads one DER TLV at `at`; returns (value, next offset).
fn tlv(der: &[u8], at: usize) -> (&[u8], usize) {
    let (len, start) = match der[at + 1] {
        l if l < 0x80 => (l as usize, at + 2),
        l => {
            let n = (l & 0x7f) as usize;
            let len = der[at + 2..at + 2 + n]
                .iter()
                .fold(0usize, |a, b| (a << 8) | *b as usize);
            (len, at + 2 + n)
        }
    };
    (&der[start..start + len], start + len)
}

impl SigningKey {
    pub fn new() -> Self {
        Self {
            pair: rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap(),
        }
    }

    /// The JWKS document with this key (PKCS#1 modulus and exponent, base64url).
    pub fn jwks(&self) -> String {
        let (seq, _) = tlv(rcgen::PublicKeyData::der_bytes(&self.pair), 0);
        let (n, next) = tlv(seq, 0);
        let (e, _) = tlv(seq, next);
        let b64 = |bytes: &[u8]| {
            let bytes = bytes.strip_prefix(&[0]).unwrap_or(bytes);
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
        };
        json!({"keys": [{"kid": "k1", "kty": "RSA", "alg": "RS256", "use": "sig",
                         "n": b64(n), "e": b64(e)}]})
        .to_string()
    }

    /// Serves the JWKS on loopback; returns `host:port` and the URL of the document.
    pub async fn serve(&self) -> (String, String) {
        let jwks = self.jwks();
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || async move { jwks }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        (addr.to_string(), format!("http://{addr}/jwks.json"))
    }

    /// An access token for user `ana` in group `oncall` of `pool`, app client `client`,
    /// issued at `now` (Unix seconds) for an hour.
    pub fn access_token(&self, pool: &str, client: &str, now: u64) -> String {
        let claims = json!({
            "iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}"),
            "sub": "3f1c", "client_id": client, "token_use": "access", "username": "ana",
            "cognito:groups": ["oncall"], "iat": now, "exp": now + 3600,
        });
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some("k1".to_owned());
        jsonwebtoken::encode(
            &header,
            &claims,
            &jsonwebtoken::EncodingKey::from_rsa_pem(self.pair.serialize_pem().as_bytes()).unwrap(),
        )
        .unwrap()
    }
}
