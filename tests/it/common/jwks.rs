//! The one JWT minter of the tests and benches. A [`SigningKey`] is either a fresh RSA key
//! (its JWKS served on loopback, as a Cognito pool's) or moto's own Cognito signing key (the
//! one moto's pools serve), and mints tokens with any header and claims, so each forged-token
//! case differs from a good token by exactly one thing. [`hs256`] and [`unsigned`] make the
//! tokens no real pool would issue.
#![allow(dead_code, clippy::unwrap_used)]

use base64::Engine as _;
use serde_json::{Value, json};

/// An RSA signing key with a key id.
pub struct SigningKey {
    pem: String,
    kid: String,
    /// The generated key pair, whose public half [`SigningKey::jwks`] publishes.
    pair: Option<rcgen::KeyPair>,
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
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

/// `header.claims` with `signature` appended, whatever the header claims to be.
pub fn unsigned(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes()),
        b64(signature)
    )
}

/// An HS256 token with `secret` as the HMAC key (the "public key as a secret" attack).
pub fn hs256(secret: &[u8], claims: &Value) -> String {
    let header = json!({"alg": "HS256", "typ": "JWT"});
    sign_with(
        &header,
        claims,
        &jsonwebtoken::EncodingKey::from_secret(secret),
        jsonwebtoken::Algorithm::HS256,
    )
}

fn sign_with(
    header: &Value,
    claims: &Value,
    key: &jsonwebtoken::EncodingKey,
    algorithm: jsonwebtoken::Algorithm,
) -> String {
    let message = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = jsonwebtoken::crypto::sign(message.as_bytes(), key, algorithm).unwrap();
    format!("{message}.{signature}")
}

impl SigningKey {
    /// A fresh key with key id `k1`.
    pub fn new() -> Self {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).unwrap();
        Self {
            pem: pair.serialize_pem(),
            kid: "k1".to_owned(),
            pair: Some(pair),
        }
    }

    /// moto's own Cognito signing key (key id `dummy`), read from the moto in `.venv` (which
    /// `scripts/test.sh` installs): tokens it signs verify against any moto pool's JWKS.
    pub fn moto() -> Self {
        let python = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
        let out = std::process::Command::new(python)
            .arg("-c")
            .arg(
                "from joserfc import jwk\n\
                 from moto.utilities.utils import load_resource\n\
                 key = jwk.RSAKey.import_key(load_resource('cognitoidp/resources/jwks-private.json'))\n\
                 print(key.kid)\n\
                 print(key.as_pem(private=True).decode())",
            )
            .output()
            .expect("the venv's python (run scripts/test.sh)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let (kid, pem) = text.split_once('\n').unwrap();
        Self {
            pem: pem.to_owned(),
            kid: kid.to_owned(),
            pair: None,
        }
    }

    /// The key id that verifiers find this key under.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// An RS256 signature over `header` and `claims` exactly as given.
    pub fn mint(&self, header: &Value, claims: &Value) -> String {
        sign_with(
            header,
            claims,
            &jsonwebtoken::EncodingKey::from_rsa_pem(self.pem.as_bytes()).unwrap(),
            jsonwebtoken::Algorithm::RS256,
        )
    }

    /// The header of a good token from this key.
    pub fn header(&self) -> Value {
        json!({"alg": "RS256", "kid": self.kid, "typ": "JWT"})
    }

    /// Claims like a real Cognito access token's for user `ana` in group `oncall` of `pool`,
    /// app client `client`, issued at `now` (Unix seconds) for an hour.
    pub fn access_claims(pool: &str, client: &str, now: u64) -> Value {
        json!({
            "iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}"),
            "sub": "3f1c", "client_id": client, "token_use": "access", "username": "ana",
            "cognito:groups": ["oncall"], "iat": now, "exp": now + 3600,
        })
    }

    /// A good access token: [`SigningKey::access_claims`] under [`SigningKey::header`].
    pub fn access_token(&self, pool: &str, client: &str, now: u64) -> String {
        self.mint(&self.header(), &Self::access_claims(pool, client, now))
    }

    /// The JWKS document with this key (PKCS#1 modulus and exponent, base64url). Only for a
    /// generated key: moto serves its own.
    pub fn jwks(&self) -> String {
        let pair = self.pair.as_ref().expect("moto serves its own key's JWKS");
        let (seq, _) = tlv(rcgen::PublicKeyData::der_bytes(pair), 0);
        let (n, next) = tlv(seq, 0);
        let (e, _) = tlv(seq, next);
        let unpadded = |bytes: &[u8]| b64(bytes.strip_prefix(&[0]).unwrap_or(bytes));
        json!({"keys": [{"kid": self.kid, "kty": "RSA", "alg": "RS256", "use": "sig",
                         "n": unpadded(n), "e": unpadded(e)}]})
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
}
