//! Acting through the channels over moto: the assistant answers from live ECS and
//! CloudWatch (moto), and acts through the real AWS effector behind the inspecting proxy,
//! which counts every write. Each refusal, on `/v1/ask` and on the Lex code hook, makes
//! zero write calls (and assumes no role); an executed action exactly one, however often
//! the yes is re-delivered.

use std::sync::Arc;

use serde_json::json;

use opsvoice::act::desk::Desk;
use opsvoice::assistant::Assistant;
use opsvoice::auth::Identity;
use opsvoice::channel::ask::AskRequest;

use super::effect::{WRITES, rig};
use crate::common::moto::sdk_for;
use crate::common::proxy::Seen;

/// Writes (and role assumptions) the proxy has seen.
fn writes(rig: &super::effect::Rig) -> Vec<String> {
    rig.proxy
        .requests()
        .iter()
        .map(Seen::action)
        .filter(|a| WRITES.contains(&a.as_str()) || a == "AssumeRole")
        .collect()
}

async fn assistant(rig: &super::effect::Rig, kill_switch: bool) -> Arc<Assistant> {
    assistant_and_source(rig, kill_switch).await.0
}

/// The assistant over moto as `serve` wires it (its desk tells the cached source to forget
/// what an action changed), and that source.
async fn assistant_and_source(
    rig: &super::effect::Rig,
    kill_switch: bool,
) -> (Arc<Assistant>, Arc<dyn opsvoice::ops::OpsSource>) {
    let clock: Arc<dyn opsvoice::clock::Clock> = Arc::new(opsvoice::clock::SystemClock);
    let sdk = sdk_for(&rig.moto.url()).await;
    let (live, _) = opsvoice::app::live_source(
        aws_sdk_ecs::Client::new(&sdk),
        aws_sdk_cloudwatch::Client::new(&sdk),
        clock.clone(),
        &opsvoice::config::Config::default(),
    );
    let live: Arc<dyn opsvoice::ops::OpsSource> = Arc::new(live);
    let path = std::env::temp_dir().join(format!(
        "opsvoice-it-moto-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let store: Arc<dyn opsvoice::store::Store> =
        Arc::new(opsvoice::store::file::FileStore::open(&path, clock.clone()).unwrap());
    let desk = Desk::new(
        store,
        clock.clone(),
        opsvoice::act::Gate::new(kill_switch),
        Arc::new(rig.effector.clone()),
        None,
    )
    .answering_from(live.clone());
    let assistant = Assistant::builder(live.clone(), clock, Identity::open())
        .desk(Arc::new(desk))
        .build()
        .unwrap();
    (assistant, live)
}

async fn ask(assistant: &Assistant, text: &str, session: &str) -> String {
    assistant
        .ask(
            AskRequest {
                text: text.to_owned(),
                session_id: Some(session.to_owned()),
            },
            None,
        )
        .await
        .unwrap()
        .text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_on_ask_write_nothing_and_a_yes_writes_once() {
    let rig = rig().await;
    let off = assistant(&rig, true).await;
    let said = ask(&off, "restart checkout in prod", "session-k").await;
    assert!(said.contains("switched off"), "{said}");
    assert!(writes(&rig).is_empty());

    let a = assistant(&rig, false).await;
    let said = ask(&a, "restart gateway in prod", "session-r").await;
    assert!(said.contains("CodeDeploy"), "{said}");
    let said = ask(&a, "roll back checkout in prod", "session-r").await;
    assert!(said.contains("can't tell which version"), "{said}");
    let mut said = ask(&a, "silence checkout-cpu-high for an hour", "session-a").await;
    if said.starts_with("Which alarm") {
        // The embedded model knows the demo's alarm names, not moto's: it asks back.
        said = ask(&a, "checkout-cpu-high", "session-a").await;
    }
    assert!(said.contains("does more than notify"), "{said}");
    let said = ask(&a, "scale checkout in prod to 2", "session-r").await;
    assert!(said.contains("already"), "{said}");
    // A read-back, then a yes from another session, then a no.
    let said = ask(&a, "scale checkout in prod to 3", "session-1").await;
    assert!(
        said.contains("from 2 to 3") && said.contains("Shall I?"),
        "{said}"
    );
    let said = ask(&a, "yes", "session-2").await;
    assert!(!said.contains("Scaling"), "{said}");
    let said = ask(&a, "no", "session-1").await;
    assert!(said.contains("I won't scale checkout"), "{said}");
    assert!(writes(&rig).is_empty(), "{:?}", writes(&rig));

    // The real yes: one AssumeRole, one UpdateService; a second yes nothing more.
    ask(&a, "scale checkout in prod to 3", "session-3").await;
    let said = ask(&a, "yes", "session-3").await;
    assert!(said.contains("Scaling checkout to 3"), "{said}");
    let said = ask(&a, "yes", "session-3").await;
    assert!(!said.contains("Scaling"), "{said}");
    assert_eq!(writes(&rig), ["AssumeRole", "UpdateService"]);
    let service = rig
        .seed
        .ecs
        .describe_services()
        .cluster("prod")
        .services("checkout")
        .send()
        .await
        .unwrap()
        .services()[0]
        .clone();
    assert_eq!(service.desired_count(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lex_redeliveries_and_crafted_confirmations_write_once_at_most() {
    let rig = rig().await;
    let app = crate::common::spawn(assistant(&rig, false).await).await;
    let event = |confirmation: &str, session: &str| {
        let mut e = crate::common::fixture("lex/service-health-voice.json");
        e["inputMode"] = json!("Text");
        e["sessionId"] = json!(session);
        e["interpretations"] = json!([]);
        e["sessionState"]["intent"] = json!({
            "name": "RestartService",
            "state": "ReadyForFulfillment",
            "confirmationState": confirmation,
            "slots": {
                "service": {"shape": "Scalar", "value": {"originalValue": "checkout", "interpretedValue": "checkout", "resolvedValues": ["checkout"]}},
                "cluster": {"shape": "Scalar", "value": {"originalValue": "prod", "interpretedValue": "prod", "resolvedValues": ["prod"]}},
            },
        });
        e
    };
    let (_, crafted) = app.post_json("/lex", &event("Confirmed", "L1")).await;
    assert_eq!(crafted["sessionState"]["dialogAction"]["type"], "Close");
    let (_, first) = app.post_json("/lex", &event("None", "L1")).await;
    assert_eq!(
        first["sessionState"]["dialogAction"]["type"], "ConfirmIntent",
        "{first}"
    );
    assert!(writes(&rig).is_empty());
    let mut yes = event("Confirmed", "L1");
    yes["sessionState"]["sessionAttributes"] = first["sessionState"]["sessionAttributes"].clone();
    for _ in 0..3 {
        let (status, _) = app.post_json("/lex", &yes).await;
        assert_eq!(status, 200);
    }
    assert_eq!(writes(&rig), ["AssumeRole", "UpdateService"]);
    let update = rig
        .proxy
        .requests()
        .into_iter()
        .find(|s| s.action() == "UpdateService")
        .unwrap();
    let body = String::from_utf8_lossy(&update.body).into_owned();
    assert!(body.contains("forceNewDeployment"), "{body}");
}

/// After an action, the next question about its target is answered from ECS, not from the
/// cache that answered just before it (which would say the old count for up to 15 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answer_after_an_action_reads_its_target_fresh() {
    let rig = rig().await;
    let (a, live) = assistant_and_source(&rig, false).await;

    // Cached now: the service as it was, desired 2.
    let before = live
        .service(&opsvoice::ops::ServiceRef::new("prod", "checkout"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(before.desired, 2);
    ask(&a, "scale checkout in prod to 3", "session-f").await;
    let said = ask(&a, "yes", "session-f").await;
    assert!(said.contains("Scaling checkout to 3"), "{said}");
    assert_eq!(writes(&rig), ["AssumeRole", "UpdateService"]);
    // Without the desk telling the cache to forget, this would still say 2.
    let after = live
        .service(&opsvoice::ops::ServiceRef::new("prod", "checkout"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after.desired, 3);
}
