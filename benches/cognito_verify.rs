//! Cognito access-token verification with the pool's keys already cached: header, RS256
//! signature, and every claim rule. Run: `cargo bench --bench cognito_verify`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use opsvoice::auth::cognito::{Settings, TokenUse, Verifier};
use opsvoice::ops::FixedClock;
use rcgen::{KeyPair, PKCS_RSA_SHA256, PublicKeyData};

const NOW: u64 = 1_795_341_600;

/// Reads one DER TLV at `at`; returns (tag, value, next offset).
fn tlv(der: &[u8], at: usize) -> (u8, &[u8], usize) {
    let tag = der[at];
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
    (tag, &der[start..start + len], start + len)
}

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let key = KeyPair::generate_for(&PKCS_RSA_SHA256).unwrap();
    // PKCS#1 RSAPublicKey: SEQUENCE { modulus INTEGER, publicExponent INTEGER }.
    let public = key.der_bytes();
    let (_, seq, _) = tlv(public, 0);
    let (_, n, next) = tlv(seq, 0);
    let (_, e, _) = tlv(seq, next);
    let b64 = |bytes: &[u8]| {
        let trimmed: &[u8] = if bytes.first() == Some(&0) {
            &bytes[1..]
        } else {
            bytes
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(trimmed)
    };
    let jwks = serde_json::json!({"keys": [{"kid": "k1", "kty": "RSA", "alg": "RS256", "use": "sig", "n": b64(n), "e": b64(e)}]}).to_string();
    let url = runtime.block_on(async move {
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || async move { jwks }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/jwks.json")
    });
    let pool = "us-east-1_bench";
    let claims = serde_json::json!({
        "iss": format!("https://cognito-idp.us-east-1.amazonaws.com/{pool}"),
        "sub": "3f1c", "client_id": "bench-client", "token_use": "access", "username": "ana",
        "cognito:groups": ["oncall"], "iat": NOW, "exp": NOW + 3600,
    });
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some("k1".to_owned());
    let token = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_rsa_pem(key.serialize_pem().as_bytes()).unwrap(),
    )
    .unwrap();
    let verifier = Verifier::new(
        Settings {
            region: "us-east-1".to_owned(),
            user_pool_id: pool.to_owned(),
            client_ids: vec!["bench-client".to_owned()],
            token_use: TokenUse::Access,
            leeway: Duration::from_secs(5),
            jwks_url: Some(url),
        },
        Arc::new(FixedClock(
            SystemTime::UNIX_EPOCH + Duration::from_secs(NOW),
        )),
    )
    .unwrap();
    // Warm the key cache.
    runtime.block_on(verifier.verify(&token)).unwrap();
    c.bench_function("cognito_verify/warm_keys", |b| {
        b.iter(|| {
            runtime
                .block_on(verifier.verify(std::hint::black_box(&token)))
                .unwrap()
        });
    });
}

criterion_group!(benches, verify);
criterion_main!(benches);
