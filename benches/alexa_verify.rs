//! Alexa request verification with the chain already cached: URL rules, chain path to a
//! trusted root with validity dates, SAN, the RSA-SHA256 body signature, timestamp and
//! skill id. Run: `cargo bench --bench alexa_verify`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use opsvoice::channel::alexa::verify::Verifier;
use opsvoice::ops::FixedClock;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, PKCS_RSA_SHA256, SigningKey,
};

const NOW: u64 = 1_795_341_600;
const BODY: &str = include_str!("../tests/fixtures/alexa/service-health.json");

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // A root and an RSA leaf for echo-api.amazon.com.
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "bench root");
    let root =
        CertifiedIssuer::self_signed(ca, KeyPair::generate_for(&PKCS_RSA_SHA256).unwrap()).unwrap();
    let mut leaf = CertificateParams::new(vec!["echo-api.amazon.com".to_owned()]).unwrap();
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate_for(&PKCS_RSA_SHA256).unwrap();
    let leaf = leaf.signed_by(&leaf_key, &root).unwrap();
    let chain = leaf.pem();

    // Serve the chain on loopback, as S3 would.
    let base = runtime.block_on(async move {
        let app = axum::Router::new().route(
            "/echo.api/cert.pem",
            axum::routing::get(move || async move { chain }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}/")
    });
    let clock = Arc::new(FixedClock(
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW),
    ));
    let verifier = Verifier::new(
        vec!["amzn1.ask.skill.11111111-2222-3333-4444-555555555555".to_owned()],
        Some(("bench root", root.pem().as_bytes())),
        Some(&base),
        clock,
    )
    .unwrap();
    let mut body: serde_json::Value = serde_json::from_str(BODY).unwrap();
    body["request"]["timestamp"] = serde_json::json!("2026-11-22T10:00:00Z");
    let body = serde_json::to_vec(&body).unwrap();
    let signature = base64::engine::general_purpose::STANDARD.encode(leaf_key.sign(&body).unwrap());
    let mut headers = HeaderMap::new();
    headers.insert(
        "signaturecertchainurl",
        HeaderValue::from_static("https://s3.amazonaws.com/echo.api/cert.pem"),
    );
    headers.insert("signature-256", HeaderValue::from_str(&signature).unwrap());
    // The first request fetches and caches the chain.
    runtime.block_on(verifier.verify(&headers, &body)).unwrap();

    c.bench_function("alexa_verify/cached_chain", |b| {
        b.iter(|| {
            runtime
                .block_on(
                    verifier.verify(std::hint::black_box(&headers), std::hint::black_box(&body)),
                )
                .unwrap()
        });
    });
}

criterion_group!(benches, verify);
criterion_main!(benches);
