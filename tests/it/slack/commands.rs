//! `/slack/commands` and `/slack/interactions` on the demo fleet: slash commands, follow-up
//! and mute buttons, and direct messages.
#![allow(clippy::unwrap_used)]

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_commands_and_buttons_answer_on_the_demo_fleet() {
    let dir = tempfile::tempdir().unwrap();
    let Demo {
        app,
        slack,
        store: mute_store,
        clock,
    } = demo(&dir).await;

    // A question as a slash command: answered in the response, privately, as Block Kit.
    let form = "team_id=T0001&user_id=UANA&channel_id=C0OPS&command=%2Fops&text=any+alarms+firing%3F&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2F1";
    let (status, text) = send(
        &app,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), form.as_bytes().to_vec(), 0),
        None,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["response_type"], "ephemeral");
    assert!(
        reply["text"].as_str().unwrap().contains("alarm"),
        "{reply:#}"
    );
    assert_eq!(block_kit_problem(&reply), None, "{reply:#}");
    // `/ops` alone is help.
    let help = "team_id=T0001&user_id=UANA&channel_id=C0OPS&command=%2Fops&text=";
    let (_, text) = send(
        &app,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), help.as_bytes().to_vec(), 0),
        None,
    )
    .await;
    assert!(text.to_lowercase().contains("ask"), "{text}");
    // Without account linking set up, `/ops link` says so rather than failing.
    let link = "team_id=T0001&user_id=UANA&channel_id=C0OPS&command=%2Fops&text=link";
    let (_, text) = send(
        &app,
        "/slack/commands",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), link.as_bytes().to_vec(), 0),
        None,
    )
    .await;
    assert!(text.contains("not set up"), "{text}");

    // A follow-up button: answered in the button's thread, for everyone there.
    let payload = json!({
        "type": "block_actions",
        "user": { "id": "UANA", "team_id": TEAM },
        "team": { "id": TEAM },
        "channel": { "id": "C0OPS" },
        "container": { "type": "message", "message_ts": "1700000200.000100", "channel_id": "C0OPS" },
        "message": { "ts": "1700000200.000100", "thread_ts": "1700000100.000200" },
        "actions": [{ "action_id": "ask-2", "type": "button", "value": "what's the cpu of checkout" }],
        "response_url": "https://hooks.slack.com/actions/1",
    });
    let form = format!(
        "payload={}",
        url::form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect::<String>()
    );
    let (status, _) = send(
        &app,
        "/slack/interactions",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), form.into_bytes(), 0),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let posts = slack.wait_for(1, WAIT).await;
    assert_eq!(posts[0].method, "chat.postMessage");
    assert_eq!(posts[0].body["thread_ts"], "1700000100.000200");
    assert!(
        posts[0].body["text"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("cpu"),
        "{:#}",
        posts[0].body
    );

    // A button on a private (slash-command) answer: answered privately, through the
    // interaction's response_url.
    let payload = json!({
        "type": "block_actions",
        "user": { "id": "UANA", "team_id": TEAM },
        "team": { "id": TEAM },
        "channel": { "id": "D0SOMEONE" },
        "container": { "type": "message", "message_ts": "1700000600.000100", "channel_id": "D0SOMEONE", "is_ephemeral": true },
        "actions": [{ "action_id": "ask-0", "type": "button", "value": "any alarms firing" }],
        "response_url": slack.response_url("private-1"),
    });
    let form = format!(
        "payload={}",
        url::form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect::<String>()
    );
    let (status, _) = send(
        &app,
        "/slack/interactions",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), form.into_bytes(), 0),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let posts = slack.wait_for(2, WAIT).await;
    assert_eq!(posts[1].method, "response_url", "{:#}", posts[1].body);
    assert_eq!(posts[1].body["response_type"], "ephemeral");
    assert!(posts[1].body["text"].as_str().unwrap().contains("alarm"));

    // A card's "Mute for 1 hour": recorded for that channel, and said in the thread.
    let payload = json!({
        "type": "block_actions",
        "user": { "id": "UANA", "team_id": TEAM },
        "team": { "id": TEAM },
        "channel": { "id": "C0OPS" },
        "message": { "ts": "1700000500.000100" },
        "actions": [{ "action_id": "mute", "type": "button", "value": "prod/checkout" }],
    });
    let form = format!(
        "payload={}",
        url::form_urlencoded::byte_serialize(payload.to_string().as_bytes()).collect::<String>()
    );
    let (status, _) = send(
        &app,
        "/slack/interactions",
        "application/x-www-form-urlencoded",
        &signed(clock.as_ref(), form.into_bytes(), 0),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let posts = slack.wait_for(3, WAIT).await;
    assert!(
        posts[2].body["text"]
            .as_str()
            .unwrap()
            .starts_with("Muted prod/checkout here for an hour"),
        "{:#}",
        posts[2].body
    );
    assert_eq!(posts[2].body["thread_ts"], "1700000500.000100");
    assert!(
        mute_store
            .get(&opsvoice::store::Key::mute("C0OPS", "prod/checkout"))
            .await
            .unwrap()
            .is_some()
    );

    // Direct messages are answered; bot messages and edits are not.
    for (id, extra) in [
        ("Ev30", json!({})),
        ("Ev31", json!({ "bot_id": "B1" })),
        ("Ev32", json!({ "subtype": "message_changed" })),
    ] {
        let mut event = json!({
            "type": "event_callback", "team_id": TEAM, "event_id": id,
            "event": { "type": "message", "channel_type": "im", "user": "UANA", "text": "how is checkout doing", "ts": "1700000300.000100", "channel": "D0ANA" },
        });
        for (k, v) in extra.as_object().unwrap() {
            event["event"][k] = v.clone();
        }
        let body = serde_json::to_vec(&event).unwrap();
        assert_eq!(
            send(
                &app,
                "/slack/events",
                "application/json",
                &signed(clock.as_ref(), body, 0),
                None
            )
            .await
            .0,
            200
        );
    }
    // The bot message and the edit are dropped on arrival, unclaimed; once the direct
    // message's answer is settled, nothing more can come.
    for ignored in ["Ev31", "Ev32"] {
        let record = mute_store
            .get(&opsvoice::store::Key::slack_event(ignored))
            .await
            .unwrap();
        assert_eq!(record, None, "{ignored} was taken as a question");
    }
    answered(mute_store.as_ref(), "Ev30").await;
    let posts = slack.posts();
    assert_eq!(posts.len(), 4, "{posts:?}");
    assert_eq!(posts[3].body["channel"], "D0ANA");
    assert!(slack.refused().is_empty(), "{:?}", slack.refused());
}
