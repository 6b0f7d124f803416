//! An alarm card's Acknowledge button, end to end: the app's own notifier posts the card
//! from a documented alarm event, linked Slack users (moto Cognito, through the hosted UI
//! stand-in) press the button through signed `/slack/interactions` requests, and the card,
//! the store, "what did I miss?" and the AWS call counts say what happened.
#![allow(clippy::unwrap_used)]

use super::*;

const CHANNEL: &str = "C0OPS00001";
const ALARM: &str = "etl-cpu-high";

/// The Acknowledge press of `user` on the card at `ts` with `value`, as Slack posts it.
fn press(user: &str, ts: &str, value: &str) -> Vec<u8> {
    let payload = json!({
        "type": "block_actions",
        "user": { "id": user, "username": user.to_lowercase(), "team_id": TEAM },
        "team": { "id": TEAM },
        "channel": { "id": CHANNEL },
        "container": { "type": "message", "message_ts": ts, "channel_id": CHANNEL },
        "message": { "ts": ts, "text": "etl-cpu-high is firing" },
        "actions": [{ "action_id": "ack", "block_id": "b1", "type": "button", "value": value }],
        "response_url": "https://hooks.slack.com/actions/T0001/1/abc",
    });
    format!(
        "payload={}",
        url::form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect::<String>()
    )
    .into_bytes()
}

async fn interact(app: &common::TestApp, clock: &dyn Clock, body: Vec<u8>) -> u16 {
    send(
        app,
        "/slack/interactions",
        "application/x-www-form-urlencoded",
        &signed(clock, body, 0),
        None,
    )
    .await
    .0
}

/// Links Slack user `id` as pool user `name`: asks, follows the link button, and waits
/// for the "Linked as" message.
pub(super) async fn link(world: &World, app: &common::TestApp, id: &str, name: &str, event: &str) {
    let clock = world.clock.clone();
    assert_eq!(
        ask(app, clock.as_ref(), id, "any alarms firing", event).await,
        200
    );
    let offered = |posts: &[Post]| {
        posts
            .iter()
            .rfind(|p| p.method == "chat.postEphemeral" && p.body["user"] == id)
            .cloned()
    };
    until("the link button", || {
        offered(&world.slack.posts()).is_some()
    })
    .await;
    let url = link_url(&offered(&world.slack.posts()).unwrap());
    let (status, page) = world.follow(app, &url, name).await;
    assert_eq!(status, 200, "{page}");
    let linked = format!("Linked as {name}");
    until("the linked message", || {
        world
            .slack
            .posts()
            .iter()
            .any(|p| p.body["user"] == id && p.body["text"].as_str().unwrap().contains(&linked))
    })
    .await;
}

/// The ephemeral messages to Slack user `id`, in order.
pub(super) fn told(slack: &SlackStub, id: &str) -> Vec<String> {
    slack
        .posts()
        .iter()
        .filter(|p| p.method == "chat.postEphemeral" && p.body["user"] == id)
        .map(|p| p.body["text"].as_str().unwrap().to_owned())
        .collect()
}

/// The edits of the card at `ts`, in order.
fn edits(slack: &SlackStub, ts: &str) -> Vec<Post> {
    slack
        .posts()
        .into_iter()
        .filter(|p| p.method == "chat.update" && p.body["ts"] == ts)
        .collect()
}

fn ack_buttons(post: &Post) -> Vec<Value> {
    post.body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .filter(|e| e["action_id"] == "ack")
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_linked_user_acknowledges_an_alarm_card_once_and_it_stays_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::new(file_store(&dir)).await;
    let routes = dir.path().join("notify.toml");
    std::fs::write(
        &routes,
        format!("[[route]]\nchannel = \"{CHANNEL}\"\ngroup = \"oncall\"\n"),
    )
    .unwrap();
    let Process {
        app,
        store,
        notifier,
        calls,
    } = world.process_with(Some(&routes)).await;
    let notifier = notifier.unwrap();
    let clock = world.clock.clone();
    // ana is on call (every service); bob is in the conference room (prod only).
    link(&world, &app, "UANA", "ana", "Ev1").await;
    link(&world, &app, "UBOB", "bob", "Ev2").await;

    // etl's CPU alarm fires (the documented event, placed on data/etl by its metric): the
    // notifier posts its card, with an Acknowledge button.
    let event = |state: &str, previous: &str| {
        let mut e = crate::notify::alarm_event(ALARM, state, previous, clock.now());
        e["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"] = json!({
            "namespace": "AWS/ECS", "name": "CPUUtilization",
            "dimensions": { "ClusterName": "data", "ServiceName": "etl" },
        });
        e
    };
    crate::notify::accept(&notifier, &event("ALARM", "OK")).await;
    clock.advance(opsvoice::notify::SETTLE + Duration::from_millis(10));
    for _ in 0..3 {
        notifier.deliver_due().await;
    }
    let posts = world.slack.posts();
    let at = posts
        .iter()
        .position(|p| {
            p.method == "chat.postMessage"
                && p.body["channel"] == CHANNEL
                && p.body["text"]
                    .as_str()
                    .unwrap()
                    .contains("etl-cpu-high is firing")
        })
        .expect("the alarm's card");
    let card = posts[at].clone();
    let ts = format!("1700000000.{:06}", at + 1);
    let buttons = ack_buttons(&card);
    assert_eq!(buttons.len(), 1, "{:#}", card.body);
    assert_eq!(buttons[0]["text"]["text"], "Acknowledge");
    let value = buttons[0]["value"].as_str().unwrap().to_owned();
    let (opened_at, alarm) = opsvoice::notify::card::read_ack_value(&value).unwrap();
    assert_eq!(alarm, ALARM);
    let ack_key = opsvoice::store::Key::ack(CHANNEL, opened_at, ALARM);

    // A press with a bad signature is refused before anything is read.
    let mut forged = signed(clock.as_ref(), press("UANA", &ts, &value), 0);
    forged.signature = format!("v0={}", "0".repeat(64));
    let (status, _) = send(
        &app,
        "/slack/interactions",
        "application/x-www-form-urlencoded",
        &forged,
        None,
    )
    .await;
    assert_eq!(status, 401);
    // An unlinked user is offered the link, privately.
    assert_eq!(
        interact(&app, clock.as_ref(), press("UCAROL", &ts, &value)).await,
        200
    );
    until("carol is told to link", || {
        !told(&world.slack, "UCAROL").is_empty()
    })
    .await;
    let to_carol = world
        .slack
        .posts()
        .into_iter()
        .find(|p| p.body["user"] == "UCAROL")
        .unwrap();
    assert!(
        to_carol.body["text"]
            .as_str()
            .unwrap()
            .contains("Link your Slack account"),
        "{:#}",
        to_carol.body
    );
    link_url(&to_carol);
    // bob's groups do not cover data/etl.
    assert_eq!(
        interact(&app, clock.as_ref(), press("UBOB", &ts, &value)).await,
        200
    );
    let refusals = |slack: &SlackStub| {
        told(slack, "UBOB")
            .iter()
            .filter(|t| t.contains("can't acknowledge"))
            .count()
    };
    until("bob is refused", || refusals(&world.slack) == 1).await;
    assert_eq!(store.get(&ack_key).await.unwrap(), None, "nothing recorded");
    assert!(edits(&world.slack, &ts).is_empty(), "the card is untouched");

    // ana presses twice at once (a double click, or Slack delivering it again): one
    // acknowledgement, one edit, and the second press is told who was first.
    let before = told(&world.slack, "UANA").len();
    let (a, b) = tokio::join!(
        interact(&app, clock.as_ref(), press("UANA", &ts, &value)),
        interact(&app, clock.as_ref(), press("UANA", &ts, &value)),
    );
    assert_eq!((a, b), (200, 200));
    until("the card is edited and the second press answered", || {
        !edits(&world.slack, &ts).is_empty() && told(&world.slack, "UANA").len() > before
    })
    .await;
    let edited = edits(&world.slack, &ts);
    assert_eq!(edited.len(), 1, "{edited:#?}");
    let blocks = edited[0].body["blocks"].to_string();
    assert!(blocks.contains("Acknowledged by <@UANA>"), "{blocks}");
    assert!(
        blocks.contains("etl-cpu-high"),
        "the rest of the card: {blocks}"
    );
    assert!(ack_buttons(&edited[0]).is_empty(), "{blocks}");
    assert_eq!(
        told(&world.slack, "UANA")
            .iter()
            .filter(|t| t.contains("Already acknowledged by <@UANA>"))
            .count(),
        1,
        "{:?}",
        told(&world.slack, "UANA")
    );
    let record: Value = serde_json::from_str(&store.get(&ack_key).await.unwrap().unwrap()).unwrap();
    assert_eq!(record["user"], "UANA");
    assert_eq!(record["username"], "ana");
    assert!(!record["sub"].as_str().unwrap().is_empty(), "{record}");
    // bob, still refused, changes nothing either now.
    assert_eq!(
        interact(&app, clock.as_ref(), press("UBOB", &ts, &value)).await,
        200
    );
    until("bob is refused again", || refusals(&world.slack) == 2).await;
    assert_eq!(edits(&world.slack, &ts).len(), 1);

    // "What did I miss?" says who took it.
    assert_eq!(
        ask(&app, clock.as_ref(), "UANA", "what did I miss", "Ev3").await,
        200
    );
    answered(store.as_ref(), "Ev3").await;
    let caught_up = world
        .slack
        .posts()
        .into_iter()
        .rfind(|p| p.method == "chat.postMessage" && p.body["thread_ts"] == "1700000100.000200")
        .unwrap();
    let said = caught_up.body["text"].as_str().unwrap();
    assert!(said.contains("etl-cpu-high fired"), "{said}");
    assert!(said.contains("ana acknowledged it"), "{said}");

    // The alarm resolves: the notifier's edit keeps who took it.
    clock.advance(Duration::from_secs(5 * 60));
    crate::notify::accept(&notifier, &event("OK", "ALARM")).await;
    for _ in 0..3 {
        notifier.deliver_due().await;
    }
    let edited = edits(&world.slack, &ts);
    assert_eq!(edited.len(), 2, "{edited:#?}");
    let resolved = &edited[1];
    assert!(
        resolved.body["text"]
            .as_str()
            .unwrap()
            .contains("resolved after"),
        "{:#}",
        resolved.body
    );
    assert!(
        resolved.body["blocks"]
            .to_string()
            .contains("Acknowledged by <@UANA>"),
        "{:#}",
        resolved.body
    );

    // Acknowledging changed nothing in AWS: every call made was a read.
    let made = calls.snapshot();
    assert!(!made.is_empty(), "the card's health line reads ECS");
    assert!(
        made.keys().all(|api| {
            let operation = api.rsplit(':').next().unwrap();
            ["Describe", "List", "Get"]
                .iter()
                .any(|read| operation.starts_with(read))
        }),
        "{made:?}"
    );
    assert_all_valid(&world.slack);
}
