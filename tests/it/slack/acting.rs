//! Acting in Slack end to end, over the real routes: a linked user asks in a channel
//! thread, gets the read-back with Confirm and Cancel, presses them through signed
//! interactions; on a cluster under approval the card goes to the approvals channel and a
//! second linked person with the grant approves or denies it. The writes go through the
//! real AWS effector to moto, past the inspecting proxy, where they are counted.

use std::sync::Arc;

use serde_json::{Value, json};

use super::ack::{link, told};
use super::{World, ask, assert_all_valid, file_store, signed, until};
use crate::common;
use crate::common::moto::sdk_for;
use crate::common::proxy::{Fault, Proxy};
use crate::common::slack_stub::{Post, SlackStub};
use opsvoice::act::effect::aws::{ActionRoles, AwsEffector};
use opsvoice::ops::Clock;

const ROLE: &str = "arn:aws:iam::123456789012:role/opsvoice-act";
const WRITES: [&str; 3] = ["UpdateService", "DisableAlarmActions", "EnableAlarmActions"];
/// Where people ask, and the thread the question starts (the mention's `ts`).
const OPS: &str = "C0OPS";
const THREAD: &str = "1700000100.000200";
const APPROVALS: &str = "C0APPROVALS";

/// oncall may ask for and approve every verb; the conference room may do neither; `data`
/// needs a second person.
const POLICY: &str = r#"
[actions]
enabled  = true
approval = ["data"]
channel  = "C0APPROVALS"

[groups.oncall]
clusters = ["*"]
services = ["*"]
intents  = ["*"]
actions  = ["restart", "rollback", "scale", "silence"]
approve  = ["restart", "rollback", "scale", "silence"]

[groups.conference-room]
clusters = ["prod"]
services = ["*"]
intents  = ["FleetSummary", "ActiveAlarms", "ServiceHealth"]
"#;

/// The slack world under [`POLICY`], its actions written through the AWS effector past
/// the proxy, with cy (on call, like ana) in the pool too.
async fn world(dir: &tempfile::TempDir) -> (World, Proxy) {
    let mut world = World::with_policy(file_store(dir), POLICY).await;
    world.users.sign_in("cy", Some("oncall")).await;
    let proxy = Proxy::start(format!("127.0.0.1:{}", world.moto.port)).await;
    proxy.set(Fault::Inspect);
    let effector = AwsEffector::new(
        &sdk_for(&proxy.url).await,
        ActionRoles::home(Some(ROLE.to_owned())),
    );
    world.effector = Some(Arc::new(effector));
    (world, proxy)
}

/// The writes the app made to AWS, by API.
fn writes(proxy: &Proxy) -> Vec<String> {
    proxy
        .actions()
        .into_iter()
        .filter(|a| WRITES.contains(&a.as_str()))
        .collect()
}

/// A press of our button `action_id` (value `id`) by `user`, on the message at
/// `message_ts` in `channel` (in `thread`, if any).
fn press(
    user: &str,
    channel: &str,
    message_ts: &str,
    thread: Option<&str>,
    action_id: &str,
    id: &str,
) -> Vec<u8> {
    let mut message = json!({ "ts": message_ts, "text": "a message of ours" });
    let mut container =
        json!({ "type": "message", "message_ts": message_ts, "channel_id": channel });
    if let Some(thread) = thread {
        message["thread_ts"] = json!(thread);
        container["thread_ts"] = json!(thread);
    }
    let payload = json!({
        "type": "block_actions",
        "user": { "id": user, "username": user.to_lowercase(), "team_id": super::TEAM },
        "team": { "id": super::TEAM },
        "channel": { "id": channel },
        "container": container,
        "message": message,
        "actions": [{ "action_id": action_id, "block_id": "b1", "type": "button", "value": id }],
        "response_url": "https://hooks.slack.com/actions/T0001/1/abc",
    });
    format!(
        "payload={}",
        url::form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect::<String>()
    )
    .into_bytes()
}

/// Sends `body` to `/slack/interactions`, signed (as a retry `n` when given).
async fn interact(app: &common::TestApp, clock: &dyn Clock, body: Vec<u8>, retry: Option<u32>) {
    let (status, text) = super::send(
        app,
        "/slack/interactions",
        "application/x-www-form-urlencoded",
        &signed(clock, body, 0),
        retry,
    )
    .await;
    assert_eq!(status, 200, "{text}");
}

/// The buttons of `post` with action id `action_id`.
fn buttons(post: &Post, action_id: &str) -> Vec<Value> {
    post.body["blocks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .filter(|e| e["action_id"] == action_id)
        .collect()
}

fn text(post: &Post) -> String {
    post.body["text"].as_str().unwrap_or_default().to_owned()
}

/// The stand-in's `ts` for the post at index `at` (it numbers every accepted call).
fn ts_of(at: usize) -> String {
    format!("1700000000.{:06}", at + 1)
}

/// Asks `question` as `user` in the ops thread and waits for the read-back: the action's
/// id and the read-back's `ts`. Asserts the read-back carries Confirm and Cancel with the
/// id as their value, in the thread.
async fn read_back(
    world: &World,
    app: &common::TestApp,
    user: &str,
    question: &str,
    event: &str,
) -> (String, String) {
    let before = world.slack.posts().len();
    assert_eq!(
        ask(app, world.clock.as_ref(), user, question, event).await,
        200
    );
    let found = |posts: &[Post]| {
        posts
            .iter()
            .enumerate()
            .skip(before)
            .find(|(_, p)| p.method == "chat.postMessage" && !buttons(p, "act-confirm").is_empty())
            .map(|(i, p)| (i, p.clone()))
    };
    until("the read-back", || found(&world.slack.posts()).is_some()).await;
    let (at, post) = found(&world.slack.posts()).unwrap();
    assert_eq!(post.body["channel"], OPS);
    assert_eq!(post.body["thread_ts"], THREAD, "in the asker's thread");
    assert!(text(&post).ends_with("Shall I?"), "{}", text(&post));
    let confirm = buttons(&post, "act-confirm");
    let cancel = buttons(&post, "act-cancel");
    assert_eq!((confirm.len(), cancel.len()), (1, 1), "{:#}", post.body);
    let id = confirm[0]["value"].as_str().unwrap().to_owned();
    assert!(!id.is_empty());
    assert_eq!(cancel[0]["value"], id.as_str());
    (id, ts_of(at))
}

/// Waits until there are more than `n` posts; hands back the new ones.
async fn after(slack: &SlackStub, n: usize, what: &str) -> Vec<Post> {
    until(what, || slack.posts().len() > n).await;
    slack.posts().split_off(n)
}

/// Presses `action_id` on the read-back as `user` and waits for the answer to the press.
async fn press_read_back(
    world: &World,
    app: &common::TestApp,
    user: &str,
    read_back_ts: &str,
    action_id: &str,
    id: &str,
    retry: Option<u32>,
) -> Vec<Post> {
    let n = world.slack.posts().len();
    let body = press(user, OPS, read_back_ts, Some(THREAD), action_id, id);
    interact(app, world.clock.as_ref(), body, retry).await;
    after(&world.slack, n, "an answer to the press").await
}

/// The thread's public posts whose text contains `words`.
fn in_thread(slack: &SlackStub, words: &str) -> Vec<Post> {
    slack
        .posts()
        .into_iter()
        .filter(|p| {
            p.method == "chat.postMessage"
                && p.body["channel"] == OPS
                && p.body["thread_ts"] == THREAD
                && text(p).contains(words)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_requester_confirms_a_restart_once_and_it_is_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut world, proxy) = world(&dir).await;
    let (app, _store) = world.process().await;
    link(&world, &app, "UANA", "ana", "Ev1").await;
    link(&world, &app, "UCY", "cy", "Ev2").await;

    let (id, readback) = read_back(&world, &app, "UANA", "restart checkout", "Ev3").await;
    let asked = in_thread(&world.slack, "Restart checkout");
    assert_eq!(asked.len(), 1, "the read-back names the change");
    assert!(writes(&proxy).is_empty(), "a read-back writes nothing");

    // Someone else's Confirm does nothing, and says so only to them.
    let answer = press_read_back(&world, &app, "UCY", &readback, "act-confirm", &id, None).await;
    assert_eq!(answer.len(), 1);
    assert_eq!(
        answer[0].method, "chat.postEphemeral",
        "{:#}",
        answer[0].body
    );
    assert_eq!(answer[0].body["user"], "UCY");
    assert!(
        text(&answer[0]).contains("nothing waiting for your yes"),
        "{}",
        text(&answer[0])
    );
    assert!(writes(&proxy).is_empty());

    // The requester's Confirm: one write, and the outcome in the thread.
    let n = world.slack.posts().len();
    interact(
        &app,
        world.clock.as_ref(),
        press("UANA", OPS, &readback, Some(THREAD), "act-confirm", &id),
        None,
    )
    .await;
    until("the restart is told in the thread", || {
        !in_thread(&world.slack, "Restarting checkout").is_empty()
    })
    .await;
    until("one write", || writes(&proxy).len() == 1).await;
    assert_eq!(writes(&proxy), ["UpdateService"]);
    let update = proxy
        .requests()
        .into_iter()
        .find(|s| s.action() == "UpdateService")
        .unwrap();
    assert_eq!(update.json()["forceNewDeployment"], true);
    assert_eq!(update.json()["service"], "checkout");
    assert!(
        world.slack.posts()[n..]
            .iter()
            .all(|p| p.method != "chat.postEphemeral" || p.body["user"] != "UANA"),
        "the outcome is public, in the thread"
    );
    // The read-back's buttons are taken off once it is answered.
    until("the read-back is closed", || {
        world.slack.posts().iter().any(|p| {
            p.method == "chat.update"
                && p.body["ts"] == readback.as_str()
                && p.body["channel"] == OPS
        })
    })
    .await;
    let closed = world
        .slack
        .posts()
        .into_iter()
        .rfind(|p| p.method == "chat.update" && p.body["ts"] == readback.as_str())
        .unwrap();
    assert!(
        buttons(&closed, "act-confirm").is_empty(),
        "{:#}",
        closed.body
    );
    assert!(
        buttons(&closed, "act-cancel").is_empty(),
        "{:#}",
        closed.body
    );

    // Pressed again, and the same press redelivered: still the one write.
    // Each is answered to ana alone; the thread has the one outcome.
    let heard = told(&world.slack, "UANA").len();
    press_read_back(&world, &app, "UANA", &readback, "act-confirm", &id, None).await;
    until("the second press is answered", || {
        told(&world.slack, "UANA").len() > heard
    })
    .await;
    press_read_back(&world, &app, "UANA", &readback, "act-confirm", &id, Some(1)).await;
    until("the redelivery is answered", || {
        told(&world.slack, "UANA").len() > heard + 1
    })
    .await;
    assert_eq!(
        writes(&proxy),
        ["UpdateService"],
        "one write, whatever the presses"
    );
    assert_eq!(in_thread(&world.slack, "Restarting checkout").len(), 1);
    assert_all_valid(&world.slack);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_writes_nothing_and_a_scale_is_written_once() {
    let dir = tempfile::tempdir().unwrap();
    let (mut world, proxy) = world(&dir).await;
    let (app, _store) = world.process().await;
    link(&world, &app, "UANA", "ana", "Ev1").await;

    let (id, readback) = read_back(&world, &app, "UANA", "scale checkout to 4", "Ev2").await;
    assert_eq!(in_thread(&world.slack, "Scale checkout").len(), 1);
    press_read_back(&world, &app, "UANA", &readback, "act-cancel", &id, None).await;
    until("the cancel is told", || {
        !in_thread(&world.slack, "OK, I won't").is_empty()
    })
    .await;
    // A Confirm after the Cancel finds nothing waiting.
    let heard = told(&world.slack, "UANA").len();
    press_read_back(&world, &app, "UANA", &readback, "act-confirm", &id, None).await;
    until("the late press is answered", || {
        told(&world.slack, "UANA").len() > heard
    })
    .await;
    assert!(told(&world.slack, "UANA")[heard].contains("nothing waiting for your yes"));
    assert!(writes(&proxy).is_empty(), "{:?}", writes(&proxy));

    let (id, readback) = read_back(&world, &app, "UANA", "scale checkout to 4", "Ev3").await;
    press_read_back(&world, &app, "UANA", &readback, "act-confirm", &id, None).await;
    until("the scale is told", || {
        !in_thread(&world.slack, "Scaling checkout to 4").is_empty()
    })
    .await;
    assert_eq!(writes(&proxy), ["UpdateService"]);
    let update = proxy
        .requests()
        .into_iter()
        .find(|s| s.action() == "UpdateService")
        .unwrap();
    assert_eq!(update.json()["desiredCount"], 4);
    assert_all_valid(&world.slack);
}

/// The approval card in the approvals channel for action `id`: its index and post.
fn card(slack: &SlackStub, id: &str) -> Option<(usize, Post)> {
    slack.posts().into_iter().enumerate().find(|(_, p)| {
        p.method == "chat.postMessage"
            && p.body["channel"] == APPROVALS
            && buttons(p, "act-approve")
                .first()
                .is_some_and(|b| b["value"] == id)
    })
}

/// The edits of the card at `ts`, in order.
fn edits(slack: &SlackStub, ts: &str) -> Vec<Post> {
    slack
        .posts()
        .into_iter()
        .filter(|p| p.method == "chat.update" && p.body["ts"] == ts)
        .collect()
}

/// Asks for `question` as ana and confirms it: the approval card's id and `ts`.
async fn sent_for_approval(
    world: &World,
    app: &common::TestApp,
    question: &str,
    event: &str,
) -> (String, String, Post) {
    let (id, readback) = read_back(world, app, "UANA", question, event).await;
    press_read_back(world, app, "UANA", &readback, "act-confirm", &id, None).await;
    until("the approval card", || card(&world.slack, &id).is_some()).await;
    let (at, post) = card(&world.slack, &id).unwrap();
    assert_eq!(buttons(&post, "act-deny")[0]["value"], id.as_str());
    assert!(text(&post).contains("ana asks"), "{}", text(&post));
    until("the requester is told who approves", || {
        !in_thread(&world.slack, "asked for approval").is_empty()
    })
    .await;
    (id, ts_of(at), post)
}

async fn press_card(
    world: &World,
    app: &common::TestApp,
    user: &str,
    card_ts: &str,
    action_id: &str,
    id: &str,
) -> Vec<Post> {
    let n = world.slack.posts().len();
    let body = press(user, APPROVALS, card_ts, None, action_id, id);
    interact(app, world.clock.as_ref(), body, None).await;
    after(&world.slack, n, "an answer to the press").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_linked_person_with_the_grant_approves_and_only_they_can() {
    let dir = tempfile::tempdir().unwrap();
    let (mut world, proxy) = world(&dir).await;
    let (app, _store) = world.process().await;
    link(&world, &app, "UANA", "ana", "Ev1").await;
    link(&world, &app, "UBOB", "bob", "Ev2").await;
    link(&world, &app, "UCY", "cy", "Ev3").await;

    let (id, card_ts, posted) = sent_for_approval(&world, &app, "restart etl", "Ev4").await;
    assert!(text(&posted).contains("Restart etl"), "{}", text(&posted));
    assert!(writes(&proxy).is_empty(), "nothing before the approval");

    // The requester's own Approve does not count.
    let own = press_card(&world, &app, "UANA", &card_ts, "act-approve", &id).await;
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].method, "chat.postEphemeral");
    assert!(
        text(&own[0]).contains("your own request"),
        "{}",
        text(&own[0])
    );
    // Nor does an unlinked person's: they are told to link.
    let stranger = press_card(&world, &app, "UEVE", &card_ts, "act-approve", &id).await;
    assert_eq!(stranger[0].method, "chat.postEphemeral");
    assert_eq!(stranger[0].body["user"], "UEVE");
    assert!(
        text(&stranger[0]).contains("linked"),
        "{}",
        text(&stranger[0])
    );
    assert!(!told(&world.slack, "UEVE").is_empty());
    super::link_url(&stranger[0]);
    // Nor bob's: the conference room may not approve (nor see data).
    let bob = press_card(&world, &app, "UBOB", &card_ts, "act-approve", &id).await;
    assert_eq!(bob[0].method, "chat.postEphemeral");
    assert!(
        text(&bob[0]).contains("aren't allowed"),
        "{}",
        text(&bob[0])
    );
    assert!(writes(&proxy).is_empty(), "{:?}", writes(&proxy));
    assert!(
        edits(&world.slack, &card_ts).is_empty(),
        "the card still waits"
    );

    // cy, on call too, approves: one write, the card edited in place.
    let heard = told(&world.slack, "UCY").len();
    press_card(&world, &app, "UCY", &card_ts, "act-approve", &id).await;
    until("cy is told", || told(&world.slack, "UCY").len() > heard).await;
    assert!(
        told(&world.slack, "UCY")[heard].starts_with("Approved."),
        "{:?}",
        told(&world.slack, "UCY")
    );
    until("one write", || !writes(&proxy).is_empty()).await;
    until("the card shows it running", || {
        edits(&world.slack, &card_ts)
            .iter()
            .any(|p| text(p).contains("Approved by cy. Running."))
    })
    .await;
    for edit in edits(&world.slack, &card_ts) {
        assert_eq!(edit.body["channel"], APPROVALS);
        assert!(buttons(&edit, "act-approve").is_empty(), "{:#}", edit.body);
    }
    until("the requester's thread is told", || {
        !in_thread(&world.slack, "Approved by cy").is_empty()
    })
    .await;
    // A second Approve does nothing more.
    press_card(&world, &app, "UCY", &card_ts, "act-approve", &id).await;
    assert_eq!(writes(&proxy), ["UpdateService"]);
    let update = proxy
        .requests()
        .into_iter()
        .find(|s| s.action() == "UpdateService")
        .unwrap();
    assert_eq!(update.json()["service"], "etl");
    assert_eq!(update.json()["cluster"], "data");
    assert_all_valid(&world.slack);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_card_says_so_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let (mut world, proxy) = world(&dir).await;
    let (app, _store) = world.process().await;
    link(&world, &app, "UANA", "ana", "Ev1").await;
    link(&world, &app, "UCY", "cy", "Ev2").await;

    let (id, card_ts, _) = sent_for_approval(&world, &app, "scale etl to 3", "Ev3").await;
    press_card(&world, &app, "UCY", &card_ts, "act-deny", &id).await;
    until("the card says denied", || {
        edits(&world.slack, &card_ts)
            .iter()
            .any(|p| text(p).contains("Denied by cy"))
    })
    .await;
    let last = edits(&world.slack, &card_ts).pop().unwrap();
    assert!(buttons(&last, "act-approve").is_empty());
    // An Approve after the Deny changes nothing.
    press_card(&world, &app, "UCY", &card_ts, "act-approve", &id).await;
    assert!(writes(&proxy).is_empty(), "{:?}", writes(&proxy));
    assert_all_valid(&world.slack);
}
