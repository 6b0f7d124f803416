//! A silenced alarm's cards say who silenced it and until when (issue 31, guard rail 8):
//! every card posted or edited while the desk's silence record runs, and none after it
//! ends.

use super::*;
use opsvoice::act::Target;
use opsvoice::act::desk::Silence;
use opsvoice::act::record::Person;
use opsvoice::store::Key;

const ALARM: &str = "checkout-p99-latency-high";

/// Silences `alarm` in the home account as `username` until `until`, as the desk records
/// it.
async fn silence(store: &dyn Store, alarm: &str, username: &str, until: i64) {
    let record = Silence {
        action: "act-1".to_owned(),
        target: Target::alarm(alarm, None),
        until,
        actions_were_enabled: true,
        by: Person {
            sub: "sub-ana".to_owned(),
            username: username.to_owned(),
        },
    };
    let keep = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(until).unwrap() + 86_400);
    store
        .put(
            &Key::silence("-", alarm),
            &opsvoice::store::record::encode(&record),
            keep,
        )
        .await
        .unwrap();
}

/// "HH:MM UTC" of `at` (seconds since the epoch), as the cards say clock times.
fn clock_of(at: i64) -> String {
    let day = at.rem_euclid(86_400);
    format!("{:02}:{:02} UTC", day / 3600, (day % 3600) / 60)
}

/// The context lines of `post`'s blocks.
fn context_lines(post: &Post) -> Vec<String> {
    post.body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "context")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .map(|e| e["text"].as_str().unwrap().to_owned())
        .collect()
}

fn cards(w: &World) -> Vec<Post> {
    w.posts_to(OPS)
        .into_iter()
        .filter(|p| matches!(p.method.as_str(), "chat.postMessage" | "chat.update"))
        .filter(|p| p.body.get("thread_ts").is_none())
        .collect()
}

#[tokio::test]
async fn cards_of_a_silenced_alarm_say_who_and_until_when_and_stop_after() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, w.clock.clone());
    let notifier = w.notifier(store.clone());
    let now = opsvoice::store::epoch(w.clock.now());
    let until = now + 3600;
    // The username is escaped where it is mrkdwn.
    silence(store.as_ref(), ALARM, "ana<&>", until).await;
    let line = format!("Silenced by ana&lt;&amp;&gt; until {}", clock_of(until));

    // Posted while silenced: the line is there, in blocks and in the fallback.
    accept(&notifier, &alarm_event(ALARM, "ALARM", "OK", w.clock.now())).await;
    w.settle(&notifier).await;
    let posted = cards(&w);
    assert_eq!(posted.len(), 1, "{posted:#?}");
    assert_eq!(posted[0].method, "chat.postMessage");
    assert!(
        context_lines(&posted[0]).contains(&line),
        "{:?}",
        context_lines(&posted[0])
    );
    assert!(
        text(&posted[0]).contains(&format!("{line}.")),
        "{}",
        text(&posted[0])
    );
    // Another alarm's card says nothing of it.
    accept(
        &notifier,
        &alarm_event("checkout-cpu-high", "ALARM", "OK", w.clock.now()),
    )
    .await;
    w.settle(&notifier).await;
    let other = cards(&w)
        .into_iter()
        .find(|p| text(p).contains("checkout-cpu-high"))
        .expect("the other alarm's card");
    assert!(!text(&other).contains("Silenced"), "{}", text(&other));

    // Edited while silenced (it resolves): still there.
    w.clock.advance(Duration::from_secs(60));
    accept(&notifier, &alarm_event(ALARM, "OK", "ALARM", w.clock.now())).await;
    w.settle(&notifier).await;
    let edit = cards(&w)
        .into_iter()
        .rfind(|p| p.method == "chat.update" && text(p).contains(ALARM))
        .expect("the resolve edits the card");
    assert!(
        context_lines(&edit).contains(&line),
        "{:?}",
        context_lines(&edit)
    );

    // The silence ends (its record outlives it until the tick takes it): a new episode's
    // card says nothing of it, nor does its edit.
    w.clock.advance(Duration::from_secs(3600));
    let before = cards(&w).len();
    accept(&notifier, &alarm_event(ALARM, "ALARM", "OK", w.clock.now())).await;
    w.settle(&notifier).await;
    w.clock.advance(Duration::from_secs(600));
    accept(&notifier, &alarm_event(ALARM, "OK", "ALARM", w.clock.now())).await;
    w.settle(&notifier).await;
    let after: Vec<Post> = cards(&w)
        .split_off(before)
        .into_iter()
        .filter(|p| text(p).contains(ALARM))
        .collect();
    assert!(after.len() >= 2, "a new card and its edit: {after:#?}");
    for card in &after {
        assert!(!text(card).contains("Silenced"), "{}", text(card));
        assert!(
            context_lines(card).iter().all(|l| !l.contains("Silenced")),
            "{:?}",
            context_lines(card)
        );
    }
    assert_valid(&w.slack);
}
