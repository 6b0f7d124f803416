//! Cognito access-token verification with the pool's keys already cached: header, RS256
//! signature, and every claim rule. Run: `cargo bench --bench cognito_verify`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use opsvoice::auth::cognito::{Settings, TokenUse, Verifier};
use opsvoice::ops::FixedClock;

const NOW: u64 = 1_795_341_600;

#[path = "../tests/it/common/jwks.rs"]
mod jwks;

fn verify(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let key = jwks::SigningKey::new();
    let url = runtime.block_on(key.serve()).1;
    let pool = "us-east-1_bench";
    let token = key.access_token(pool, "bench-client", NOW);
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
