//! Without an accounts file, cards are what they were before events knew their account:
//! the Web API calls of a documented alarm (fired, then resolved), its SNS form and a
//! failed deployment are compared, as canonical JSON, with the calls the code before
//! accounts made (`tests/fixtures/notify/cards-without-accounts.json`, recorded from that
//! code with `OPSVOICE_RECORD_CARDS=1`).

use super::*;

/// A fixed moment, so every time a card shows comes from the events.
fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000 + secs)
}

/// The calls a notifier with the default routes makes for the sample events.
pub(super) async fn sample_calls(w: &World, notifier: &Notifier) -> Vec<Value> {
    let mut fired = fixture("cloudwatch-alarm-state-change.json");
    fired["time"] = json!(iso(at(0)));
    fired["detail"]["state"]["timestamp"] = json!(iso(at(0)));
    accept(notifier, &fired).await;
    w.settle(notifier).await;
    let mut resolved = fired.clone();
    resolved["id"] = json!("5ab0f2a4-0d61-4d8e-8c0b-9d3e1e0c0001");
    resolved["time"] = json!(iso(at(14 * 60)));
    resolved["detail"]["state"]["value"] = json!("OK");
    resolved["detail"]["state"]["timestamp"] = json!(iso(at(14 * 60)));
    resolved["detail"]["previousState"]["value"] = json!("ALARM");
    accept(notifier, &resolved).await;
    w.settle(notifier).await;
    let mut message = fixture("cloudwatch-alarm-sns-message.json");
    message["StateChangeTime"] = json!("2023-11-14T22:13:20.000+0000");
    let event =
        opsvoice::notify::event::from_sns_message(&message.to_string(), "sns-message-1").unwrap();
    notifier.accept("sns", event).await.unwrap();
    w.settle(notifier).await;
    accept(
        notifier,
        &fixture("ecs-deployment-state-change-failed.json"),
    )
    .await;
    w.settle(notifier).await;
    // A resolve's edit and thread reply are queued at the same moment and may go in
    // either order: the calls are compared as a set.
    let mut calls: Vec<Value> = w
        .slack
        .posts()
        .into_iter()
        .map(|p| json!({ "method": p.method, "body": p.body }))
        .collect();
    calls.sort_by_key(|c| c.to_string());
    calls
}

#[tokio::test]
async fn without_an_accounts_file_cards_are_byte_for_byte_as_before() {
    let w = World::new().await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = w.notifier(file_store(&dir, w.clock.clone()));
    let calls = sample_calls(&w, &notifier).await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/notify/cards-without-accounts.json");
    if std::env::var_os("OPSVOICE_RECORD_CARDS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&calls).unwrap() + "\n").unwrap();
    }
    let mut before: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    before.sort_by_key(|c| c.to_string());
    assert_eq!(
        calls.len(),
        5,
        "card, edit, reply, SNS card, deployment: {calls:#?}"
    );
    assert_eq!(calls.len(), before.len());
    for (now, then) in calls.iter().zip(&before) {
        assert_eq!(
            serde_json::to_string(now).unwrap(),
            serde_json::to_string(then).unwrap(),
            "a card changed without accounts"
        );
    }
    assert_valid(&w.slack);
}
