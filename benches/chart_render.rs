//! Drawing a chart: the demo fleet's firing checkout latency alarm over 3 hours (180
//! points, a threshold, a shaded ALARM span, a deployment marker, the axes' text), encoded
//! as PNG; and its alt text. The bar is 50 ms a chart. Run: `cargo bench --bench chart_render`.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use opsvoice::channel::slack::chart::{Subject, picture};
use opsvoice::ops::demo::DemoFleet;
use opsvoice::ops::{FixedClock, ServiceRef};

const NOW: u64 = 1_795_341_600;

fn render(c: &mut Criterion) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW);
    let fleet = DemoFleet::new(Arc::new(FixedClock(now)));
    let renderer = opsvoice::speech::render::Renderer::embedded(None).unwrap();
    let say = renderer.say("en-US", opsvoice::dialog::Mode::Text);
    let subject = Subject::Alarm {
        name: "checkout-p99-latency-high".to_owned(),
        deployments: Some(ServiceRef::new("prod", "checkout")),
        window: Duration::from_secs(3 * 3600),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let picture = runtime
        .block_on(picture(&fleet, &say, &subject, now))
        .unwrap()
        .unwrap();
    let drawn = opsvoice::chart::render(&picture).unwrap();
    assert!(drawn.png.len() <= opsvoice::chart::MAX_BYTES);
    eprintln!("chart: {} bytes", drawn.png.len());
    c.bench_function("chart_render_3h_alarm", |b| {
        b.iter(|| opsvoice::chart::render(std::hint::black_box(&picture)).unwrap());
    });
    c.bench_function("chart_alt_text", |b| {
        b.iter(|| opsvoice::chart::alt_text(&say, std::hint::black_box(&picture)));
    });
}

criterion_group!(benches, render);
criterion_main!(benches);
