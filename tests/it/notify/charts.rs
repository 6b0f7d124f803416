//! An alarm card's chart: posted after the card, in its thread, through Slack's three
//! steps (a PNG within the size bound, alt text naming the threshold and the time in
//! ALARM); and a chart whose upload fails (500s, then a 429 past its budget) leaves the
//! card posted once, is not retried, and holds up no other card.

use super::*;
use common::slack_stub::FileStep;
use opsvoice::chart;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_card_is_followed_by_its_chart_in_its_thread() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = w.notifier(file_store(&dir, w.clock.clone()));
    accept(
        &notifier,
        &alarm_event("checkout-p99-latency-high", "ALARM", "OK", w.clock.now()),
    )
    .await;
    w.settle(&notifier).await;
    let cards = w.posts_to(OPS);
    assert_eq!(cards.len(), 1, "{cards:?}");
    let files = w.slack.files();
    assert_eq!(files.len(), 1, "calls: {:?}", w.slack.file_calls());
    let file = &files[0];
    assert_eq!(file.channel.as_deref(), Some(OPS));
    // The stand-in's first ts is the card's.
    assert_eq!(file.thread_ts.as_deref(), Some("1700000000.000001"));
    assert_eq!(file.title, "checkout-p99-latency-high");
    assert!(file.bytes.len() <= chart::MAX_BYTES);
    let (width, height, pixels) = common::decode_png(&file.bytes);
    assert_eq!((width, height), (chart::WIDTH, chart::HEIGHT));
    // The threshold (1500 ms) is drawn: some row of the plot is mostly the threshold's red.
    let red = |p: &[u8; 3]| {
        let c = chart::THRESHOLD;
        p[0].abs_diff(c.0) < 12 && p[1].abs_diff(c.1) < 12 && p[2].abs_diff(c.2) < 12
    };
    let reddest = (chart::PLOT.top..=chart::PLOT.bottom)
        .map(|y| {
            (chart::PLOT.left..=chart::PLOT.right)
                .filter(|x| red(&pixels[(y as u32 * width + *x as u32) as usize]))
                .count()
        })
        .max()
        .unwrap();
    assert!(
        reddest > 500,
        "a threshold line: {reddest} red pixels in its row"
    );
    let alt = file.alt.clone().unwrap_or_default();
    for words in [
        "TargetResponseTime",
        "checkout",
        "threshold, 1500",
        "ALARM since",
        "deployment, checkout:42",
    ] {
        assert!(alt.contains(words), "{words}: {alt}");
    }
    // Delivered: the chart's job is gone, and another round posts nothing more.
    notifier.deliver_due().await;
    assert_eq!(w.slack.files().len(), 1);
    assert_eq!(w.posts_to(OPS).len(), 1);
    assert_valid(&w.slack);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chart_that_fails_to_upload_leaves_its_card_posted_once() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = w.notifier(file_store(&dir, w.clock.clone()));
    // The first chart's completion fails on every attempt; the second's first step is
    // rate limited for longer than a chart may wait.
    for _ in 0..3 {
        w.slack
            .fail_file_step(FileStep::Complete, Failure::ServerError);
    }
    w.slack.fail_file_step(
        FileStep::GetUploadUrl,
        Failure::RateLimited { retry_after: 0 },
    );
    w.slack.fail_file_step(
        FileStep::GetUploadUrl,
        Failure::RateLimited { retry_after: 60 },
    );
    accept(
        &notifier,
        &alarm_event("checkout-p99-latency-high", "ALARM", "OK", w.clock.now()),
    )
    .await;
    w.settle(&notifier).await;
    accept(
        &notifier,
        &alarm_event("ml-scoring-cpu-high", "ALARM", "OK", w.clock.now()),
    )
    .await;
    w.settle(&notifier).await;
    for _ in 0..3 {
        w.clock.advance(Duration::from_secs(60));
        notifier.deliver_due().await;
    }
    let cards = w.posts_to(OPS);
    assert_eq!(cards.len(), 2, "each card once: {cards:?}");
    assert!(text(&cards[0]).contains("checkout-p99-latency-high"));
    assert!(text(&cards[1]).contains("ml-scoring-cpu-high"));
    // Of three charts (checkout's, and ml-scoring's in each channel), only one of
    // ml-scoring's went through: the others failed and were not tried again.
    let files = w.slack.files();
    assert_eq!(files.len(), 1, "{:?}", w.slack.file_calls());
    assert_eq!(files[0].title, "ml-scoring-cpu-high");
    let calls = w.slack.file_calls();
    let completes = calls
        .iter()
        .filter(|(s, _)| *s == FileStep::Complete)
        .count();
    assert!(completes >= 3, "{calls:?}");
    assert!(calls.contains(&(FileStep::GetUploadUrl, 429)), "{calls:?}");
    // The data team's channel got its own ml-scoring card, unharmed.
    assert_eq!(w.posts_to(DATA_ONLY).len(), 1);
    assert_valid(&w.slack);
}
