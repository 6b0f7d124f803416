//! Charts after answers: a MetricQuery answered in Slack is followed in its thread by the
//! metric's chart, uploaded through Slack's three steps (a PNG within the size bound, with
//! alt text); when the upload fails (a 429 whose Retry-After is past the chart's budget, a
//! 500 on every attempt) the answer is still posted exactly once, and nothing else.

use super::*;
use common::slack_stub::{Failure, FileStep};
use opsvoice::chart;

const THREAD: &str = "1700000100.000200";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metric_answer_is_followed_by_its_chart_in_the_thread() {
    let dir = tempfile::tempdir().unwrap();
    let Demo {
        app, slack, clock, ..
    } = demo(&dir).await;
    // Slack rate limits the first step once, briefly: the chart waits its Retry-After.
    slack.fail_file_step(
        FileStep::GetUploadUrl,
        Failure::RateLimited { retry_after: 1 },
    );
    let status = ask(
        &app,
        clock.as_ref(),
        "UANA",
        "what's the CPU of checkout over the last 2 hours",
        "EvC1",
    )
    .await;
    assert_eq!(status, 200);
    let files = slack.wait_for_files(1, WAIT).await;
    assert_eq!(files.len(), 1, "calls: {:?}", slack.file_calls());
    let posts = slack.posts();
    assert_eq!(posts.len(), 1, "the answer, once: {posts:?}");
    assert!(
        posts[0].body["text"].as_str().unwrap().contains("CPU"),
        "{:?}",
        posts[0].body
    );
    assert_eq!(
        slack.file_calls(),
        vec![
            (FileStep::GetUploadUrl, 429),
            (FileStep::GetUploadUrl, 200),
            (FileStep::Upload, 200),
            (FileStep::Complete, 200),
        ]
    );
    let file = &files[0];
    assert_eq!(file.channel.as_deref(), Some("C0OPS"));
    assert_eq!(
        file.thread_ts.as_deref(),
        Some(THREAD),
        "in the answer's thread"
    );
    assert!(file.filename.ends_with(".png"), "{}", file.filename);
    assert!(
        file.bytes.len() <= chart::MAX_BYTES,
        "{} bytes",
        file.bytes.len()
    );
    let (w, h, _) = common::decode_png(&file.bytes);
    assert_eq!((w, h), (chart::WIDTH, chart::HEIGHT));
    let alt = file.alt.clone().unwrap_or_default();
    for words in ["CPU", "checkout", "last 2 hours", "peak", "deployment"] {
        assert!(alt.contains(words), "{words}: {alt}");
    }
    assert_all_valid(&slack);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chart_that_cannot_be_uploaded_leaves_the_answer_posted_once() {
    let dir = tempfile::tempdir().unwrap();
    let Demo {
        app,
        slack,
        clock,
        store,
    } = demo(&dir).await;
    // A Retry-After longer than a chart may wait: given up, not waited for.
    slack.fail_file_step(
        FileStep::GetUploadUrl,
        Failure::RateLimited { retry_after: 60 },
    );
    assert_eq!(
        ask(
            &app,
            clock.as_ref(),
            "UANA",
            "how is checkout doing",
            "EvC2"
        )
        .await,
        200
    );
    answered(store.as_ref(), "EvC2").await;
    until("the chart's first step was refused", || {
        slack.file_calls() == vec![(FileStep::GetUploadUrl, 429)]
    })
    .await;
    // The upload URL failing on every attempt (a 500 each time).
    for _ in 0..3 {
        slack.fail_file_step(FileStep::Upload, Failure::ServerError);
    }
    let body = mention(
        "UANA",
        "what's the memory of checkout",
        "EvC3",
        "1700000200.000300",
    );
    let (status, _) = send(
        &app,
        "/slack/events",
        "application/json",
        &signed(clock.as_ref(), body, 0),
        None,
    )
    .await;
    assert_eq!(status, 200);
    answered(store.as_ref(), "EvC3").await;
    until("the upload was tried three times", || {
        slack
            .file_calls()
            .iter()
            .filter(|(step, status)| *step == FileStep::Upload && *status == 500)
            .count()
            == 3
    })
    .await;
    // Give a wrongly retried chart or answer the time to show up: none does.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = slack.posts();
    assert_eq!(posts.len(), 2, "each answer once: {posts:?}");
    assert!(posts[0].body["text"].as_str().unwrap().contains("checkout"));
    assert!(posts[1].body["text"].as_str().unwrap().contains("emory"));
    assert!(slack.files().is_empty(), "no chart was shared");
    assert!(
        !slack
            .file_calls()
            .iter()
            .any(|(step, _)| *step == FileStep::Complete),
        "nothing completed: {:?}",
        slack.file_calls()
    );
    assert_all_valid(&slack);
}
