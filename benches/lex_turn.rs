//! The hot path for a Lex event: parse the JSON, build the turn, answer from the demo
//! fleet, render SSML, serialize the response. Run: `cargo bench --bench lex_turn`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use opsvoice::assistant::Assistant;
use opsvoice::auth::Identity;
use opsvoice::channel::lex::LexEvent;
use opsvoice::nlu::Nlu;
use opsvoice::ops::FixedClock;
use opsvoice::ops::demo::DemoFleet;

const VOICE: &str = include_str!("../tests/fixtures/lex/service-health-voice.json");
const SLACK: &str = include_str!("../tests/fixtures/lex/service-health-slack.json");

fn assistant() -> Arc<Assistant> {
    let clock = Arc::new(FixedClock(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_341_600),
    ));
    Assistant::builder(
        Arc::new(DemoFleet::new(clock.clone())),
        clock,
        Identity::open(),
    )
    .build()
    .unwrap()
}

fn lex_turn(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let assistant = assistant();
    for (name, body) in [("voice", VOICE), ("slack", SLACK)] {
        c.bench_function(&format!("lex_turn/{name}"), |b| {
            b.iter(|| {
                let event: LexEvent = serde_json::from_str(std::hint::black_box(body)).unwrap();
                let response = runtime.block_on(assistant.lex(&event));
                serde_json::to_vec(&response).unwrap()
            });
        });
    }
    c.bench_function("ask/fleet_summary", |b| {
        b.iter(|| {
            runtime.block_on(assistant.ask(
                opsvoice::channel::ask::AskRequest {
                    text: "how's prod looking".to_owned(),
                    session_id: Some("bench".to_owned()),
                },
                None,
            ))
        });
    });
}

/// Start-up's share of the local NLU: training the classifier on the embedded samples.
fn nlu_train(c: &mut Criterion) {
    let defs = opsvoice::nlu::embedded_model().unwrap();
    let out_of_domain = opsvoice::nlu::out_of_domain();
    c.bench_function("nlu/train", |b| {
        b.iter(|| Nlu::new(std::hint::black_box(&defs), &out_of_domain));
    });
}

criterion_group!(benches, lex_turn, nlu_train);
criterion_main!(benches);
