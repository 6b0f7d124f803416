//! Charts from live data: a spike and a deployment seeded in moto (PutMetricData with
//! timestamps, an ECS service deployed, a CPU alarm forced into ALARM) read back through
//! the AWS source and drawn, and the decoded image checked against the data: its size, the
//! threshold line on the row the threshold's value is on, the deployment marker on the
//! column its time is on, the peak of the spike where it was, the time in ALARM shaded,
//! and the alt text saying the same.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::types::StateValue;
use opsvoice::channel::slack::chart::{Subject, picture};
use opsvoice::chart::{self, ALARM_SHADE, DEPLOYMENT, LINE, PLOT, THRESHOLD};
use opsvoice::ops::{ManualClock, OpsSource, ServiceRef};

use crate::common;
use crate::common::moto::{Moto, Seed};

fn near(a: [u8; 3], b: (u8, u8, u8)) -> bool {
    a[0].abs_diff(b.0) <= 12 && a[1].abs_diff(b.1) <= 12 && a[2].abs_diff(b.2) <= 12
}

/// How many pixels of row `y` across the plot are of `colour`.
fn in_row(pixels: &[[u8; 3]], y: i32, colour: (u8, u8, u8)) -> usize {
    (PLOT.left..=PLOT.right)
        .filter(|x| {
            near(
                pixels[(y as u32 * chart::WIDTH + *x as u32) as usize],
                colour,
            )
        })
        .count()
}

/// How many pixels of column `x` down the plot are of `colour`.
fn in_column(pixels: &[[u8; 3]], x: i32, colour: (u8, u8, u8)) -> usize {
    (PLOT.top..=PLOT.bottom)
        .filter(|y| {
            near(
                pixels[(*y as u32 * chart::WIDTH + x as u32) as usize],
                colour,
            )
        })
        .count()
}

/// The pixel column of `t` in a window `[start, start + window]`, computed here from the
/// plot's documented bounds (not with the renderer's own mapping).
fn column(start: SystemTime, window: Duration, t: SystemTime) -> i32 {
    let f = t.duration_since(start).unwrap().as_secs_f64() / window.as_secs_f64();
    PLOT.left + (f * f64::from(PLOT.right - PLOT.left)).round() as i32
}

fn row(value: f64, y_min: f64, y_max: f64) -> i32 {
    let f = (value - y_min) / (y_max - y_min);
    PLOT.bottom - (f * f64::from(PLOT.bottom - PLOT.top)).round() as i32
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seeded_spike_and_deployment_are_drawn_where_the_data_says() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let seed = Seed::new(&sdk).await;
    seed.cluster("prod").await;
    // The deployment: moto dates it now (the real now).
    seed.service("prod", "checkout", 2, None).await;
    // Three hours of CPU around 20%, with a spike to 95% from 70 to 55 minutes ago.
    let points: Vec<(u64, f64)> = (1..=170)
        .map(|ago| {
            (
                ago,
                if (55..=70).contains(&ago) {
                    95.0
                } else {
                    20.0 + (ago % 5) as f64
                },
            )
        })
        .collect();
    seed.ecs_metric("prod", "checkout", "CPUUtilization", &points)
        .await;
    seed.service_alarm(
        "checkout-cpu-high",
        "prod",
        "checkout",
        StateValue::Alarm,
        "Threshold Crossed: 1 datapoint (95) was greater than the threshold (80).",
    )
    .await;
    // Our clock runs 30 minutes ahead of moto's, so the deployment (and the moment the
    // alarm fired) sit inside the window rather than on its right edge.
    let real_now = SystemTime::now();
    let now = real_now + Duration::from_secs(30 * 60);
    let clock = Arc::new(ManualClock::new(now));
    let ops = opsvoice::ops::aws::AwsOps::from_config(&sdk, None, clock.clone());
    let service = ServiceRef::new("prod", "checkout");
    let deployed = ops.service_deployments(&service).await.unwrap()[0].started_at;
    let alarm = ops.alarm("checkout-cpu-high").await.unwrap().unwrap().alarm;

    let renderer = opsvoice::speech::render::Renderer::embedded(None).unwrap();
    let say = renderer.say("en-US", opsvoice::dialog::Mode::Text);
    let window = Duration::from_secs(3 * 3600);
    let subject = Subject::Alarm {
        name: "checkout-cpu-high".to_owned(),
        deployments: Some(service.clone()),
        window,
    };
    let picture = picture(&ops, &say, &subject, now).await.unwrap().unwrap();
    assert_eq!(picture.threshold, Some(80.0));
    assert!(picture.points.len() >= 140, "{}", picture.points.len());
    assert_eq!(picture.deployment.as_ref().map(|d| d.0), Some(deployed));
    // moto keeps no alarm history: the shading is from when it entered ALARM.
    assert_eq!(picture.in_alarm, vec![(alarm.since, None)]);

    let started = std::time::Instant::now();
    let drawn = chart::render(&picture).unwrap();
    let took = started.elapsed();
    assert!(
        drawn.png.len() <= chart::MAX_BYTES,
        "{} bytes",
        drawn.png.len()
    );
    let (w, h, pixels) = common::decode_png(&drawn.png);
    assert_eq!((w, h), (chart::WIDTH, chart::HEIGHT));
    assert!(
        drawn.y_max >= 95.0 && drawn.y_max <= 1.5 * 95.0,
        "{}",
        drawn.y_max
    );
    assert_eq!(drawn.y_min, 0.0);

    // The threshold: a red row at 80 on the scale, across most of the plot.
    let start = now - window;
    let y80 = row(80.0, drawn.y_min, drawn.y_max);
    let width = (PLOT.right - PLOT.left) as usize;
    assert!(
        in_row(&pixels, y80, THRESHOLD) > width * 8 / 10,
        "threshold row {y80}"
    );
    // ... and only there: 10 rows above and below there is none.
    assert_eq!(in_row(&pixels, y80 - 10, THRESHOLD), 0);
    assert_eq!(in_row(&pixels, y80 + 10, THRESHOLD), 0);

    // The deployment: a purple column where its time falls, none 10 columns away.
    let x_deploy = column(start, window, deployed);
    let height = (PLOT.bottom - PLOT.top) as usize;
    assert!(
        in_column(&pixels, x_deploy, DEPLOYMENT) > height * 8 / 10,
        "deployment column {x_deploy}"
    );
    assert_eq!(in_column(&pixels, x_deploy - 10, DEPLOYMENT), 0);
    assert!(
        x_deploy > PLOT.left + 500,
        "about 5/6 of the way: {x_deploy}"
    );

    // The spike: the line reaches the row of 95 in the spike's minutes, and stays low
    // an hour before it.
    let y95 = row(95.0, drawn.y_min, drawn.y_max);
    let x_spike = column(start, window, real_now - Duration::from_secs(62 * 60));
    let high = (x_spike - 3..=x_spike + 3)
        .flat_map(|x| (y95 - 2..=y95 + 2).map(move |y| (x, y)))
        .any(|(x, y)| near(pixels[(y as u32 * chart::WIDTH + x as u32) as usize], LINE));
    assert!(high, "the spike is drawn at ({x_spike}, {y95})");
    let x_before = column(start, window, real_now - Duration::from_secs(120 * 60));
    assert!(
        !(PLOT.top..row(40.0, drawn.y_min, drawn.y_max)).any(|y| near(
            pixels[(y as u32 * chart::WIDTH + x_before as u32) as usize],
            LINE
        )),
        "two hours ago the line is under 40%"
    );

    // The time in ALARM is shaded from when it fired to the end, and not before the spike.
    let x_fired = column(start, window, alarm.since);
    let mid = (x_fired + PLOT.right) / 2;
    assert!(
        in_column(&pixels, mid, ALARM_SHADE) > height / 3,
        "shaded at {mid}"
    );
    assert_eq!(in_column(&pixels, x_before, ALARM_SHADE), 0);

    // The alt text says the same.
    let alt = chart::alt_text(&say, &picture);
    for words in [
        "CPUUtilization",
        "checkout",
        "peak 95",
        "threshold, 80",
        "ALARM since",
        "deployment",
        "checkout:1",
    ] {
        assert!(alt.contains(words), "{words}: {alt}");
    }
    eprintln!("rendered in {took:?}, {} bytes", drawn.png.len());
    // To look at it: OPSVOICE_CHART_PNG=/tmp/chart.png cargo test --test it charts::
    if let Ok(path) = std::env::var("OPSVOICE_CHART_PNG") {
        std::fs::write(path, &drawn.png).unwrap();
    }
}
