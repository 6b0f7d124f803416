//! Events from several accounts (issue 32): each keeps its account and region, the cards
//! name them, one alarm name in two accounts is two episodes, a redelivery is still one,
//! a route's `accounts` globs and the channel's grant (`accounts` in the policy) filter by
//! account, and an account the accounts file does not list is dropped and counted.

use super::*;
use opsvoice::notify::Outcome;
use opsvoice::notify::origin::Accounts;

const PROD: &str = "111111111111";
const STAGING: &str = "222222222222";
const HOME: &str = "123456789012";
const ALL: &str = "C0ALL00001";
const PROD_ROOM: &str = "C0PROD0001";

const ACCOUNTS: &str = r#"
[[account]]
name = "prod"
role = "arn:aws:iam::111111111111:role/opsvoice-read"
regions = ["eu-west-1", "us-east-1"]

[[account]]
name = "staging"
role = "arn:aws:iam::222222222222:role/opsvoice-read"
regions = ["eu-west-1"]

[[account]]
name = "home"
"#;

const POLICY: &str = r#"
[groups.oncall]
clusters = ["*"]
services = ["*"]
intents  = ["*"]

[groups.prod-watchers]
clusters = ["*"]
services = ["*"]
intents  = ["*"]
accounts = ["prod"]
"#;

fn accounts() -> Accounts {
    let list = opsvoice::config::accounts::parse(ACCOUNTS, "us-east-1").unwrap();
    Accounts::new(&list, Some(HOME))
}

/// `event` as sent from `account` in `region`.
fn from(mut event: Value, account: &str, region: &str) -> Value {
    event["account"] = json!(account);
    event["region"] = json!(region);
    event
}

async fn take(notifier: &Notifier, event: &Value) -> Outcome {
    let event = opsvoice::notify::event::from_eventbridge(event).unwrap();
    notifier.accept("eventbridge", event).await.unwrap()
}

/// A notifier over the accounts, routing every event to [`ALL`] for `oncall`.
fn to_all_with_accounts(w: &World, store: Arc<dyn Store>) -> Notifier {
    w.notifier_with(
        store,
        &format!("[[route]]\nchannel = \"{ALL}\"\ngroup = \"oncall\"\n"),
    )
    .with_accounts(accounts())
}

fn tops(w: &World, channel: &str) -> Vec<Post> {
    w.posts_to(channel)
        .into_iter()
        .filter(|p| p.method == "chat.postMessage" && p.body["thread_ts"].is_null())
        .collect()
}

fn ack_values(post: &Post) -> Vec<String> {
    post.body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().clone())
        .filter(|e| e["action_id"] == "ack")
        .map(|e| e["value"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn one_alarm_name_in_two_accounts_is_two_cards_each_naming_its_account_and_a_redelivery_is_one()
 {
    let w = World::with_policy(POLICY).await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, w.clock.clone());
    let notifier = to_all_with_accounts(&w, store.clone());
    let t0 = w.clock.now();
    let prod = from(
        alarm_event("checkout-p99-latency-high", "ALARM", "OK", t0),
        PROD,
        "eu-west-1",
    );
    // The same event id from another account is another event.
    let staging = from(prod.clone(), STAGING, "eu-west-1");
    assert_eq!(take(&notifier, &prod).await, Outcome::Accepted(1));
    assert_eq!(take(&notifier, &staging).await, Outcome::Accepted(1));
    // Delivered again: nothing more.
    assert_eq!(take(&notifier, &prod).await, Outcome::Duplicate);
    assert_eq!(take(&notifier, &staging).await, Outcome::Duplicate);
    w.settle(&notifier).await;
    let cards = tops(&w, ALL);
    assert_eq!(cards.len(), 2, "{cards:#?}");
    let texts: Vec<String> = cards.iter().map(text).collect();
    for account in ["prod", "staging"] {
        let said = format!("In the {account} account, eu-west-1.");
        let card = cards
            .iter()
            .find(|c| text(c).contains(&said))
            .unwrap_or_else(|| panic!("{said}: {texts:#?}"));
        assert!(
            text(card).starts_with("checkout-p99-latency-high is firing"),
            "{}",
            text(card)
        );
        let blocks = card.body["blocks"].to_string();
        assert!(
            blocks.contains(&format!("In the {account} account, eu-west-1\"")),
            "the card's context line: {blocks}"
        );
        let other = if account == "prod" { "staging" } else { "prod" };
        assert!(!text(card).contains(other), "{}", text(card));
        assert_eq!(
            ack_values(card)
                .iter()
                .filter(|v| v.contains(&format!("{account}@eu-west-1#checkout-p99-latency-high")))
                .count(),
            1,
            "the Acknowledge button names the account's episode: {:?}",
            ack_values(card)
        );
    }

    // "What did I miss?" reads each firing with its account, for the policy to filter.
    let mut logged: Vec<Option<String>> = opsvoice::eventlog::read(store.as_ref())
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.account)
        .collect();
    logged.sort();
    assert_eq!(
        logged,
        [Some("prod".to_owned()), Some("staging".to_owned())]
    );

    // Prod resolves: only prod's card is edited.
    w.clock.advance(Duration::from_secs(600));
    let ok = from(
        alarm_event(
            "checkout-p99-latency-high",
            "OK",
            "ALARM",
            t0 + Duration::from_secs(600),
        ),
        PROD,
        "eu-west-1",
    );
    assert_eq!(take(&notifier, &ok).await, Outcome::Accepted(1));
    w.settle(&notifier).await;
    let edits: Vec<Post> = w
        .posts_to(ALL)
        .into_iter()
        .filter(|p| p.method == "chat.update")
        .collect();
    assert_eq!(edits.len(), 1, "{edits:#?}");
    assert!(
        text(&edits[0]).contains("resolved after 10 minutes")
            && text(&edits[0]).contains("In the prod account, eu-west-1."),
        "{}",
        text(&edits[0])
    );
    let prod_card = cards
        .iter()
        .find(|c| text(c).contains("prod account"))
        .unwrap();
    assert_eq!(
        edits[0].body["ts"],
        card_ts_of(&w, prod_card),
        "the prod card is the one edited"
    );
    assert_valid(&w.slack);
}

/// The `ts` Slack gave a posted card (the stand-in numbers its posts in order).
fn card_ts_of(w: &World, card: &Post) -> Value {
    let index = w
        .slack
        .posts()
        .iter()
        .position(|p| p.body == card.body)
        .unwrap();
    json!(format!("1700000000.{:06}", index + 1))
}

#[tokio::test]
async fn a_route_or_a_grant_for_prod_gets_only_prods_alarms_and_deployments() {
    let w = World::with_policy(POLICY).await;
    let dir = tempfile::tempdir().unwrap();
    let routes = r#"
[[route]]
channel = "C0OPS00001"
group = "oncall"
accounts = ["prod"]
deployments = true

[[route]]
channel = "C0PROD0001"
group = "prod-watchers"
deployments = true

[[route]]
channel = "C0ALL00001"
group = "oncall"
deployments = true
"#;
    let notifier = w
        .notifier_with(file_store(&dir, w.clock.clone()), routes)
        .with_accounts(accounts());
    let t0 = w.clock.now();
    let deployment = fixture("ecs-deployment-state-change-failed.json");
    for (account, region, alarm) in [
        (PROD, "us-east-1", "prod-cpu-high"),
        (STAGING, "eu-west-1", "staging-cpu-high"),
    ] {
        take(
            &notifier,
            &from(alarm_event(alarm, "ALARM", "OK", t0), account, region),
        )
        .await;
        // The documented deployment, with one deployment id in both accounts.
        take(&notifier, &from(deployment.clone(), account, region)).await;
    }
    w.settle(&notifier).await;
    for channel in [OPS, PROD_ROOM] {
        let texts: Vec<String> = tops(&w, channel).iter().map(text).collect();
        assert_eq!(texts.len(), 2, "{channel}: {texts:#?}");
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("prod-cpu-high is firing")),
            "{channel}: {texts:#?}"
        );
        assert!(
            texts
                .iter()
                .any(|t| t.starts_with("servicetest's deployment failed in default.")),
            "{channel}: {texts:#?}"
        );
        assert!(
            texts
                .iter()
                .all(|t| t.contains("In the prod account, us-east-1.") && !t.contains("staging")),
            "{channel}: {texts:#?}"
        );
    }
    let everything: Vec<String> = tops(&w, ALL).iter().map(text).collect();
    assert_eq!(everything.len(), 4, "{everything:#?}");
    assert_eq!(
        everything
            .iter()
            .filter(|t| t.contains("In the staging account, eu-west-1."))
            .count(),
        2,
        "{everything:#?}"
    );
    assert_valid(&w.slack);
}

/// The total of `opsvoice_events_skipped_total` for unknown accounts (process-wide: the
/// test that reads it runs alone).
fn unknown_accounts() -> u64 {
    opsvoice::telemetry::metrics()
        .render()
        .lines()
        .filter(|l| {
            l.starts_with("opsvoice_events_skipped_total{")
                && l.contains("reason=\"unknown_account\"")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

#[tokio::test]
#[ignore = "counts process-wide metrics: run alone by `the_unknown_account_counter_is_checked_alone`"]
async fn an_event_from_an_account_not_listed_is_dropped_and_counted() {
    let w = World::with_policy(POLICY).await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = w
        .notifier_with(
            file_store(&dir, w.clock.clone()),
            "[[route]]\nchannel = \"C0ALL00001\"\ngroup = \"oncall\"\ndeployments = true\n",
        )
        .with_accounts(accounts());
    let before = unknown_accounts();
    let t0 = w.clock.now();
    let stranger = from(
        alarm_event("checkout-p99-latency-high", "ALARM", "OK", t0),
        "999999999999",
        "eu-west-1",
    );
    assert_eq!(take(&notifier, &stranger).await, Outcome::UnknownAccount);
    // An envelope naming no account, about nothing whose ARN names one, is nobody's either.
    let mut nameless = alarm_event("checkout-p99-latency-high", "ALARM", "OK", t0);
    nameless.as_object_mut().unwrap().remove("account");
    nameless["resources"] = json!([]);
    assert_eq!(take(&notifier, &nameless).await, Outcome::UnknownAccount);
    // The deployment fixture's own account (111122223333) is not listed either.
    assert_eq!(
        take(
            &notifier,
            &fixture("ecs-deployment-state-change-failed.json")
        )
        .await,
        Outcome::UnknownAccount
    );
    // The home account (no role: the caller identity's id) is listed.
    assert_eq!(
        take(
            &notifier,
            &from(
                alarm_event("home-alarm", "ALARM", "OK", t0),
                HOME,
                "us-east-1"
            )
        )
        .await,
        Outcome::Accepted(1)
    );
    w.settle(&notifier).await;
    let texts: Vec<String> = w.slack.posts().iter().map(text).collect();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(
        texts[0].starts_with("home-alarm is firing") && texts[0].contains("In the home account"),
        "{texts:#?}"
    );
    assert_eq!(unknown_accounts() - before, 3);
}

#[tokio::test]
async fn an_sns_alarm_notification_is_placed_by_its_aws_account_id() {
    let w = World::with_policy(POLICY).await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = w
        .notifier_with(
            file_store(&dir, w.clock.clone()),
            "[[route]]\nchannel = \"C0ALL00001\"\ngroup = \"oncall\"\n",
        )
        .with_accounts(accounts());
    let mut message = fixture("cloudwatch-alarm-sns-message.json");
    message["AWSAccountId"] = json!(PROD);
    // As real notifications write them: a display name, and the code in the ARN.
    message["Region"] = json!("EU (Ireland)");
    message["AlarmArn"] = json!("arn:aws:cloudwatch:eu-west-1:111111111111:alarm:EXAMPLE");
    let event = opsvoice::notify::event::from_sns_message(&message.to_string(), "sns-1").unwrap();
    assert_eq!(
        notifier.accept("sns", event).await.unwrap(),
        Outcome::Accepted(1)
    );
    w.settle(&notifier).await;
    let texts: Vec<String> = tops(&w, ALL).iter().map(text).collect();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(
        texts[0].contains("In the prod account, eu-west-1."),
        "{texts:#?}"
    );
}

#[tokio::test]
async fn the_home_accounts_id_is_the_caller_identitys_and_unknown_when_sts_cannot_say() {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(ACCOUNTS.as_bytes()).unwrap();
    let config = Config {
        accounts: opsvoice::config::Accounts {
            file: Some(file.path().to_owned()),
            ..opsvoice::config::Accounts::default()
        },
        ..Config::default()
    };
    // moto answers GetCallerIdentity with its default account.
    let moto = common::moto::Moto::start();
    let accounts = Accounts::load(&config, &moto.sdk().await)
        .await
        .unwrap()
        .unwrap();
    assert!(accounts.unplaced().is_empty());
    assert_eq!(
        accounts
            .resolve(Some(HOME), Some("us-east-1"), None)
            .unwrap()
            .account,
        "home"
    );
    assert_eq!(
        accounts.resolve(Some(PROD), None, None).unwrap().account,
        "prod",
        "a role's account is its ARN's, no call needed"
    );
    // Nothing listening: the home account's id is unknown, said, and its events dropped.
    let nowhere = common::moto::sdk_for("http://127.0.0.1:9").await;
    let blind = Accounts::load(&config, &nowhere).await.unwrap().unwrap();
    assert_eq!(blind.unplaced(), ["home"]);
    assert_eq!(blind.resolve(Some(HOME), None, None), None);
    // Without the file, nothing to place.
    assert!(
        Accounts::load(&Config::default(), &nowhere)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn a_mute_holds_in_its_account_only_and_a_burst_lists_each_alarms_account() {
    let w = World::with_policy(POLICY).await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, w.clock.clone());
    let notifier = to_all_with_accounts(&w, store.clone());
    // What prod's card's Mute button stores for the alarm (tied to no service).
    let subject = "alarm:checkout-p99-latency-high in prod@eu-west-1";
    store
        .put(
            &opsvoice::store::Key::mute(ALL, subject),
            "U0ANA",
            w.clock.now() + Duration::from_secs(3600),
        )
        .await
        .unwrap();
    let t0 = w.clock.now();
    for account in [PROD, STAGING] {
        take(
            &notifier,
            &from(
                alarm_event("checkout-p99-latency-high", "ALARM", "OK", t0),
                account,
                "eu-west-1",
            ),
        )
        .await;
    }
    w.settle(&notifier).await;
    let texts: Vec<String> = tops(&w, ALL).iter().map(text).collect();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(texts[0].contains("In the staging account"), "{texts:#?}");

    // Three new episodes at once: one summary, each alarm with its account.
    w.clock.advance(Duration::from_secs(120));
    let t1 = w.clock.now();
    for (account, alarm) in [(PROD, "a-high"), (STAGING, "b-high"), (HOME, "c-high")] {
        let region = if account == HOME {
            "us-east-1"
        } else {
            "eu-west-1"
        };
        take(
            &notifier,
            &from(alarm_event(alarm, "ALARM", "OK", t1), account, region),
        )
        .await;
    }
    w.settle(&notifier).await;
    let summary = tops(&w, ALL).pop().unwrap();
    let list = summary.body["blocks"][1]["text"]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    for line in [
        "a-high in the prod account, eu-west-1",
        "b-high in the staging account, eu-west-1",
        "c-high in the home account, us-east-1",
    ] {
        assert!(list.contains(line), "{line}: {list}");
    }
    assert_valid(&w.slack);
}

#[tokio::test]
async fn through_the_lambda_entry_an_unlisted_account_is_acknowledged_and_a_listed_one_posted() {
    let w = World::with_policy(POLICY).await;
    let dir = tempfile::tempdir().unwrap();
    let notifier = Arc::new(
        w.notifier_with(
            file_store(&dir, w.clock.clone()),
            "[[route]]\nchannel = \"C0ALL00001\"\ngroup = \"oncall\"\n",
        )
        .with_accounts(accounts()),
    );
    let state = opsvoice::builder(&Config::default())
        .with_assistant(w.assistant.clone())
        .alexa(
            opsvoice::channel::alexa::verify::Verifier::new(vec![], None, None, w.clock.clone())
                .unwrap(),
        )
        .events(opsvoice::notify::http::EventsState {
            verifier: None,
            notifier: Some(notifier.clone()),
            sns: None,
        })
        .build()
        .await
        .unwrap();
    let function = opsvoice::lambda::Function::new(state, &Config::default());
    let t0 = w.clock.now();
    let invoke = |event: Value| {
        let function = &function;
        async move {
            function
                .invoke(event, lambda_runtime::Context::default())
                .await
                .unwrap()
        }
    };
    let stranger = invoke(from(
        alarm_event("checkout-p99-latency-high", "ALARM", "OK", t0),
        "999999999999",
        "eu-west-1",
    ))
    .await;
    assert_eq!(stranger["ok"], false, "{stranger}");
    assert!(
        stranger["reason"]
            .as_str()
            .unwrap()
            .contains("not in the accounts file"),
        "{stranger}"
    );
    let prod = invoke(from(
        alarm_event("checkout-p99-latency-high", "ALARM", "OK", t0),
        PROD,
        "eu-west-1",
    ))
    .await;
    assert_eq!(prod["ok"], true, "{prod}");
    w.settle(&notifier).await;
    let texts: Vec<String> = tops(&w, ALL).iter().map(text).collect();
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(
        texts[0].contains("In the prod account, eu-west-1."),
        "{texts:#?}"
    );
}

/// The test that counts dropped events, alone in a process, so that the others' unknown
/// accounts do not move the counter it compares.
#[test]
fn the_unknown_account_counter_is_checked_alone() {
    common::alone(&[
        "notify::accounts::an_event_from_an_account_not_listed_is_dropped_and_counted",
    ]);
}

/// "What did I miss?" tells a caller only what happened in the accounts its grant covers:
/// a group granted `prod` hears prod's alarm and nothing of staging's.
#[tokio::test]
async fn what_did_i_miss_says_nothing_of_an_account_the_caller_may_not_see() {
    let w = World::with_policy(POLICY).await;
    let dir = tempfile::tempdir().unwrap();
    let store = file_store(&dir, w.clock.clone());
    let notifier = to_all_with_accounts(&w, store.clone());
    let t0 = w.clock.now();
    let prod = from(
        alarm_event("checkout-p99-latency-high", "ALARM", "OK", t0),
        PROD,
        "eu-west-1",
    );
    let staging = from(
        alarm_event("payments-5xx-high", "ALARM", "OK", t0),
        STAGING,
        "eu-west-1",
    );
    assert_eq!(take(&notifier, &prod).await, Outcome::Accepted(1));
    assert_eq!(take(&notifier, &staging).await, Outcome::Accepted(1));
    w.settle(&notifier).await;
    w.clock.advance(Duration::from_secs(60));

    let policy = opsvoice::auth::policy::Policy::from_toml(POLICY).unwrap();
    for (group, hears, never) in [
        (
            "prod-watchers",
            vec!["checkout-p99-latency-high"],
            vec!["payments-5xx-high"],
        ),
        (
            "oncall",
            vec!["checkout-p99-latency-high", "payments-5xx-high"],
            vec![],
        ),
    ] {
        let grants = policy.grants(Some(&opsvoice::auth::Principal {
            sub: "s".into(),
            username: "u".into(),
            groups: vec![group.into()],
        }));
        let assistant = opsvoice::builder(&Config::default())
            .clock(w.clock.clone())
            .store(store.clone())
            .identity(opsvoice::auth::Identity::new(
                None,
                policy.clone(),
                Some(grants),
            ))
            .lex(None)
            .assistant()
            .await
            .unwrap();
        let answer = assistant
            .ask(
                opsvoice::channel::ask::AskRequest {
                    text: "what did I miss".to_owned(),
                    session_id: None,
                },
                None,
            )
            .await
            .unwrap();
        assert_eq!(answer.intent, "WhatHappened");
        for name in hears {
            assert!(answer.text.contains(name), "{group}: {}", answer.text);
        }
        for name in never {
            assert!(!answer.text.contains(name), "{group}: {}", answer.text);
        }
    }
}
