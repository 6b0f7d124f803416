//! Many accounts and regions (issue 32), end to end: moto keeps a separate state per
//! account, and credentials from `AssumeRole` into `arn:aws:iam::<id>:role/...` read and
//! write that account's resources. Three accounts, two regions each, are seeded that way;
//! the real SDK clients read them through the counting proxy (every request recorded), the
//! accounts' roles assumed by the SDK's own provider, and the words and the calls are
//! checked: AssumeRole once per account however many questions, a service in two accounts
//! asked about (never answered from the wrong one), a caller without a grant on an account
//! hearing nothing of it, and an account that cannot be read named while the others answer.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::types::StateValue;
use opsvoice::auth::Identity;
use opsvoice::auth::policy::Policy;
use opsvoice::channel::Assistant;
use opsvoice::channel::ask::AskRequest;
use opsvoice::config::Config;
use opsvoice::ops::SystemClock;

use crate::common::moto::{Fleet, Moto, Seed, patient, sdk_for};
use crate::common::proxy::{Answer, Fault, Proxy};

const PROD: &str = "111111111111";
const STAGING: &str = "222222222222";
const PAYMENTS: &str = "333333333333";

fn role(id: &str) -> String {
    format!("arn:aws:iam::{id}:role/opsvoice-read")
}

fn accounts_file() -> String {
    format!(
        r#"
[[account]]
name = "prod"
role = "{}"
regions = ["us-east-1", "eu-west-1"]

[[account]]
name = "staging"
role = "{}"
external_id = "opsvoice-staging"
regions = ["us-east-1", "eu-west-1"]

[[account]]
name = "payments team"
role = "{}"
regions = ["us-east-1", "eu-west-1"]
"#,
        role(PROD),
        role(STAGING),
        role(PAYMENTS)
    )
}

/// `moto`'s configuration as the account `id` in `region`: credentials from AssumeRole
/// into its role (what moto keys the account's state by).
pub(crate) async fn as_account(moto: &SdkConfig, id: &str, region: &str) -> SdkConfig {
    let sts = aws_sdk_sts::Client::from_conf(
        aws_sdk_sts::config::Builder::from(moto)
            .timeout_config(patient())
            .build(),
    );
    let assumed = sts
        .assume_role()
        .role_arn(role(id))
        .role_session_name("seed")
        .send()
        .await
        .unwrap();
    let c = assumed.credentials().unwrap();
    let credentials = aws_sdk_ecs::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "seed",
    );
    moto.to_builder()
        .region(aws_sdk_ecs::config::Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_ecs::config::SharedCredentialsProvider::new(
            credentials,
        ))
        .build()
}

/// prod: checkout (healthy tasks, its CPU alarm firing) and cart in us-east-1, search in
/// eu-west-1. staging: checkout (2 of 4: deploying) with its latency alarm firing in
/// us-east-1, reports in eu-west-1. payments team: payments-api in us-east-1, ledger (2 of
/// 3) with its CPU alarm firing in eu-west-1.
async fn seeded() -> Moto {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let firing = "Threshold Crossed: 1 datapoint [95.0] was greater than the threshold (80.0).";
    let plant = [
        (
            PROD,
            "us-east-1",
            Fleet::new()
                .service("web", "checkout", 2)
                .service("web", "cart", 2)
                .alarm(
                    "checkout-cpu-high",
                    "web",
                    "checkout",
                    StateValue::Alarm,
                    firing,
                ),
        ),
        (
            PROD,
            "eu-west-1",
            Fleet::new().service("web-eu", "search", 2),
        ),
        (
            STAGING,
            "us-east-1",
            Fleet::new().service("web", "checkout", 4).alarm(
                "checkout-latency-high",
                "web",
                "checkout",
                StateValue::Alarm,
                firing,
            ),
        ),
        (
            STAGING,
            "eu-west-1",
            Fleet::new().service("batch", "reports", 2),
        ),
        (
            PAYMENTS,
            "us-east-1",
            Fleet::new().service("pay", "payments-api", 2),
        ),
        (
            PAYMENTS,
            "eu-west-1",
            Fleet::new().service("books", "ledger", 3).alarm(
                "ledger-cpu-high",
                "books",
                "ledger",
                StateValue::Alarm,
                firing,
            ),
        ),
    ];
    for (id, region, fleet) in plant {
        Seed::new(&as_account(&sdk, id, region).await)
            .await
            .plant(&fleet)
            .await;
    }
    moto
}

/// The assistant over every account, reading through `proxy`, for callers with `grants`
/// (everything when `None`), with an event log for "what did I miss?".
async fn assistant(proxy: &Proxy, policy: Option<&str>) -> Arc<Assistant> {
    assistant_with(proxy, policy, &Config::default()).await
}

/// [`assistant`], configured by `config` (its accounts settings).
async fn assistant_with(proxy: &Proxy, policy: Option<&str>, config: &Config) -> Arc<Assistant> {
    let home = sdk_for(&proxy.url).await;
    let accounts = opsvoice::config::accounts::parse(&accounts_file(), "us-east-1").unwrap();
    let clock: Arc<dyn opsvoice::ops::Clock> = Arc::new(SystemClock);
    let source = opsvoice::accounts_source(&home, &accounts, clock.clone(), config)
        .await
        .ops;
    let identity = match policy {
        Some(text) => {
            let policy = Policy::from_toml(text).unwrap();
            let grants = policy.group_grants("app");
            Identity::new(None, policy, Some(grants))
        }
        None => Identity::open(),
    };
    let path = std::env::temp_dir().join(format!(
        "opsvoice-it-accounts-{}-{}.db",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    let store: Arc<dyn opsvoice::store::Store> =
        Arc::new(opsvoice::store::file::FileStore::open(&path, clock.clone()).unwrap());
    Assistant::builder(Arc::new(source), clock, identity)
        .event_log(store)
        .build()
        .unwrap()
}

async fn ask_in(assistant: &Assistant, session: Option<&str>, text: &str) -> String {
    assistant
        .ask(
            AskRequest {
                text: text.to_owned(),
                session_id: session.map(str::to_owned),
            },
            None,
        )
        .await
        .unwrap()
        .text
}

async fn ask(assistant: &Assistant, text: &str) -> String {
    ask_in(assistant, None, text).await
}

/// What a speaker would say (the SSML).
async fn spoken(assistant: &Assistant, text: &str) -> String {
    assistant
        .ask(
            AskRequest {
                text: text.to_owned(),
                session_id: None,
            },
            None,
        )
        .await
        .unwrap()
        .ssml
}

/// moto, seeded, and the inspecting proxy in front of it.
async fn world() -> (Moto, Proxy) {
    let moto = seeded().await;
    let proxy = Proxy::start(format!("127.0.0.1:{}", moto.port)).await;
    proxy.set(Fault::Inspect);
    (moto, proxy)
}

fn assume_roles(proxy: &Proxy) -> Vec<String> {
    proxy
        .requests()
        .iter()
        .filter(|r| r.action() == "AssumeRole")
        .map(|r| r.param("RoleArn").unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn every_account_and_region_answers_and_each_role_is_assumed_once() {
    let (_moto, proxy) = world().await;
    let assistant = assistant(&proxy, None).await;

    let alarms = ask(&assistant, "any alarms firing").await;
    assert!(alarms.starts_with("3 alarms are firing."), "{alarms}");
    for named in [
        "checkout-cpu-high in prod",
        "checkout-latency-high in staging",
        "ledger-cpu-high in payments team",
    ] {
        assert!(alarms.contains(named), "{named}: {alarms}");
    }

    let fleet = ask(&assistant, "how is the fleet doing").await;
    assert!(
        fleet.starts_with("The fleet: 4 of 7 services healthy. 3 alarms firing."),
        "{fleet}"
    );
    assert!(
        fleet.contains("• staging/us-east-1/web/checkout: deploying"),
        "{fleet}"
    );
    // Spoken, the account is named: the fleet spans three.
    let fleet = spoken(&assistant, "how is the fleet doing").await;
    assert!(fleet.contains("checkout in prod"), "{fleet}");
    assert!(fleet.contains("checkout in staging"), "{fleet}");
    assert!(fleet.contains("ledger in payments team"), "{fleet}");

    // A service named once is answered from where it is, whatever the region.
    let search = ask(&assistant, "how is search doing").await;
    assert!(search.starts_with("search is healthy"), "{search}");
    let ledger = ask(&assistant, "is ledger healthy").await;
    assert!(ledger.starts_with("ledger is"), "{ledger}");
    assert!(ledger.contains("2 of 3"), "{ledger}");

    // Many questions later, each account's role was assumed once: one provider and one
    // identity cache per account, shared by its clients in both regions.
    for question in [
        "any alarms firing",
        "what changed in the last hour",
        "how is cart doing",
        "how is payments api doing",
    ] {
        ask(&assistant, question).await;
    }
    let mut assumed = assume_roles(&proxy);
    assumed.sort();
    assert_eq!(assumed, [role(PROD), role(STAGING), role(PAYMENTS)]);
    let staging = proxy
        .requests()
        .into_iter()
        .find(|r| r.action() == "AssumeRole" && r.param("RoleArn") == Some(role(STAGING)))
        .unwrap();
    assert_eq!(
        staging.param("ExternalId").as_deref(),
        Some("opsvoice-staging")
    );
    assert_eq!(
        staging.param("RoleSessionName").as_deref(),
        Some("opsvoice-read")
    );
}

#[tokio::test]
async fn a_service_in_two_accounts_is_asked_about_never_answered_from_the_wrong_one() {
    let (_moto, proxy) = world().await;
    let assistant = assistant(&proxy, None).await;

    // Asked about, it is answered for both, each named (two places are few enough).
    let both = ask_in(&assistant, Some("room-1"), "how is checkout doing").await;
    assert!(
        both.starts_with("In prod, checkout is degraded: all 2 tasks running"),
        "{both}"
    );
    assert!(
        both.contains("; in staging, checkout is deploying: 2 of 4 new tasks up"),
        "{both}"
    );
    // Asked to act on, it is asked which.
    let asked = ask_in(&assistant, Some("room-1"), "restart checkout").await;
    assert_eq!(
        asked,
        "checkout runs in the prod and staging accounts. Which one?"
    );

    for (question, verdict) in [
        ("how is checkout doing in prod", "checkout is degraded"),
        (
            "is checkout healthy in the staging account",
            "checkout is deploying",
        ),
        ("how is checkout in staging", "checkout is deploying"),
    ] {
        let said = ask(&assistant, question).await;
        assert!(said.starts_with(verdict), "{question}: {said}");
    }

    // Alarms in one account, and in one region.
    let staging_alarms = ask(&assistant, "any alarms firing in staging").await;
    assert!(
        staging_alarms.starts_with("One alarm is firing in staging"),
        "{staging_alarms}"
    );
    assert!(staging_alarms.contains("checkout-latency-high"));
    assert!(!staging_alarms.contains("checkout-cpu-high"));
    let europe = ask(&assistant, "any alarms firing in Europe").await;
    assert!(europe.starts_with("One alarm is firing"), "{europe}");
    assert!(europe.contains("ledger-cpu-high"), "{europe}");
    // Named in one account, the account goes unsaid.
    assert!(!europe.contains("in payments team"), "{europe}");
}

#[tokio::test]
async fn a_caller_without_a_grant_on_an_account_hears_nothing_of_it() {
    let (_moto, proxy) = world().await;
    let policy = r#"
[groups.app]
clusters = ["*"]
services = ["*"]
intents  = ["*"]
accounts = ["prod", "staging"]
"#;
    let assistant = assistant(&proxy, Some(policy)).await;

    let alarms = ask(&assistant, "any alarms firing").await;
    assert!(alarms.starts_with("2 alarms are firing."), "{alarms}");
    let fleet = ask(&assistant, "how is the fleet doing").await;
    assert!(fleet.contains("of 5 services healthy"), "{fleet}");
    let missed = ask(&assistant, "what did I miss").await;
    for said in [&alarms, &fleet, &missed] {
        assert!(!said.contains("ledger"), "{said}");
        assert!(!said.contains("payments"), "{said}");
    }
    // Its services sound exactly like services that do not exist, and so does the account.
    let hidden = ask(&assistant, "how is ledger doing").await;
    let missing = ask(&assistant, "how is frobnicator doing").await;
    assert_eq!(hidden, missing);
    // So does a cluster only it has.
    let hidden = ask(&assistant, "any alarms in the books cluster").await;
    let missing = ask(&assistant, "any alarms in the zebra cluster").await;
    assert_eq!(
        hidden.replace("books", "NAME"),
        missing.replace("zebra", "NAME")
    );
    let hidden = ask(&assistant, "any alarms firing in payments team").await;
    let missing = ask(&assistant, "any alarms firing in marketing team").await;
    assert_eq!(
        hidden.replace("payments team", "NAME"),
        missing.replace("marketing team", "NAME")
    );
}

#[tokio::test]
async fn an_account_whose_role_cannot_be_assumed_is_named_while_the_others_answer() {
    let (_moto, proxy) = world().await;
    proxy.answer(Answer::query_error("AssumeRole", 403, "AccessDenied").only_when(STAGING));
    let assistant = assistant(&proxy, None).await;

    let alarms = ask(&assistant, "any alarms firing").await;
    assert!(
        alarms.starts_with(
            "The staging account didn't answer; this is without it. 2 alarms are firing."
        ),
        "{alarms}"
    );
    assert!(alarms.contains("checkout-cpu-high in prod"), "{alarms}");
    assert!(
        alarms.contains("ledger-cpu-high in payments team"),
        "{alarms}"
    );
    let fleet = ask(&assistant, "how is the fleet doing").await;
    assert!(
        fleet.starts_with("The staging account didn't answer"),
        "{fleet}"
    );
    assert!(fleet.contains("of 5 services healthy"), "{fleet}");
}

#[tokio::test]
async fn a_slow_account_is_left_out_within_the_deadline() {
    let (_moto, proxy) = world().await;
    proxy.answer(Answer::hang("AssumeRole").only_when(PAYMENTS));
    let assistant = assistant(&proxy, None).await;

    let started = Instant::now();
    let alarms = ask(&assistant, "any alarms firing").await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(
        alarms.starts_with("The payments team account didn't answer; this is without it."),
        "{alarms}"
    );
    assert!(alarms.contains("2 alarms are firing"), "{alarms}");
    assert!(
        alarms.contains("checkout-latency-high in staging"),
        "{alarms}"
    );
}

#[tokio::test]
async fn check_validates_the_file_and_live_says_which_roles_fail() {
    let (moto, proxy) = world().await;
    proxy.answer(Answer::query_error("AssumeRole", 403, "AccessDenied").only_when(STAGING));
    let dir = std::env::temp_dir().join(format!(
        "opsvoice-accounts-{}",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("accounts.toml");
    std::fs::write(&good, accounts_file()).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[[account]]\nname = \"prod\"\nrgions = [\"eu-west-1\"]\n",
    )
    .unwrap();

    let run = |file: std::path::PathBuf, args: &'static [&'static str]| {
        let mut command = moto.opsvoice(args);
        command
            .env("AWS_ENDPOINT_URL", &proxy.url)
            .env("OPSVOICE_BACKEND", "demo")
            .env("OPSVOICE_ACCOUNTS_FILE", file);
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };
    let out = run(bad, &["check"]).await.unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("did you mean `regions`"), "{said}");
    assert!(!said.contains("does not act on it yet"), "{said}");

    let out = run(good, &["check", "--live"]).await.unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{said}");
    assert!(said.contains("account prod: ok"), "{said}");
    assert!(said.contains("account payments team: ok"), "{said}");
    assert!(said.contains("error: account staging:"), "{said}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 3 account(s) cannot be read"));
    let mut assumed = assume_roles(&proxy);
    assumed.sort();
    assert_eq!(
        assumed,
        [role(PROD), role(STAGING), role(PAYMENTS)],
        "each role tried once"
    );
}

fn lex_event(slots: &[(&str, &str)]) -> serde_json::Value {
    lex_asking("ServiceHealth", slots)
}

/// A Lex fulfillment event for `intent` with `slots` (the NLU is Lex's: the answer reads
/// only what its intent needs).
fn lex_asking(intent: &str, slots: &[(&str, &str)]) -> serde_json::Value {
    let mut e = crate::common::fixture("lex/service-health-voice.json");
    let mut map = serde_json::Map::new();
    for (name, value) in slots {
        map.insert(
            (*name).to_owned(),
            serde_json::json!({"shape": "Scalar", "value": {"originalValue": value, "interpretedValue": value, "resolvedValues": [value]}}),
        );
    }
    e["sessionState"]["intent"] = serde_json::json!({"name": intent, "state": "ReadyForFulfillment", "confirmationState": "None", "slots": map});
    e
}

#[tokio::test]
async fn lex_elicits_the_account_slot_and_answers_from_the_account_and_region_slots() {
    let (_moto, proxy) = world().await;
    let assistant = assistant(&proxy, None).await;
    let lex = |slots: &[(&str, &str)]| {
        let event = serde_json::from_value(lex_event(slots)).unwrap();
        let assistant = assistant.clone();
        async move { serde_json::to_value(assistant.lex(&event).await).unwrap() }
    };
    let said = |r: &serde_json::Value| r["messages"][0]["content"].as_str().unwrap().to_owned();
    // A question about a service in two accounts is answered for both.
    let both = lex(&[("service", "checkout")]).await;
    crate::common::assert_valid_lex_response(&both);
    assert_eq!(
        both["sessionState"]["dialogAction"]["type"], "Close",
        "{both}"
    );
    assert!(
        said(&both).contains("In prod, checkout is degraded"),
        "{both}"
    );
    assert!(
        said(&both).contains("in staging, checkout is deploying"),
        "{both}"
    );
    // An action on it asks which account.
    let mut restart = lex_event(&[("service", "checkout")]);
    restart["sessionState"]["intent"]["name"] = serde_json::json!("RestartService");
    let event = serde_json::from_value(restart).unwrap();
    let asked = serde_json::to_value(assistant.lex(&event).await).unwrap();
    crate::common::assert_valid_lex_response(&asked);
    let action = &asked["sessionState"]["dialogAction"];
    assert_eq!(action["type"], "ElicitSlot", "{asked}");
    assert_eq!(action["slotToElicit"], "account", "{asked}");

    let staging = lex(&[("service", "checkout"), ("account", "staging")]).await;
    assert!(
        said(&staging).contains("checkout is deploying"),
        "{staging}"
    );
    let prod = lex(&[("service", "checkout"), ("account", "prod")]).await;
    assert!(said(&prod).contains("checkout is degraded"), "{prod}");
    let ireland = lex(&[("service", "ledger"), ("region", "Ireland")]).await;
    assert!(said(&ireland).contains("ledger is"), "{ireland}");
    let nowhere = lex(&[("service", "ledger"), ("region", "us-east-1")]).await;
    assert!(!said(&nowhere).contains("ledger is"), "{nowhere}");
}

#[tokio::test]
async fn a_service_logs_are_read_in_its_own_account_only() {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    crate::logs::world_in(
        &as_account(&sdk, PROD, "us-east-1").await,
        &[],
        &["ERROR prod-only failure: timeout calling tax-service"],
    )
    .await;
    crate::logs::world_in(
        &as_account(&sdk, STAGING, "us-east-1").await,
        &[],
        &["ERROR staging-only failure: connection refused to staging-db"],
    )
    .await;
    let proxy = Proxy::start(format!("127.0.0.1:{}", moto.port)).await;
    proxy.set(Fault::Inspect);
    let home = sdk_for(&proxy.url).await;
    let file = format!(
        "[[account]]\nname = \"prod\"\nrole = \"{}\"\nregions = [\"us-east-1\"]\n\n[[account]]\nname = \"staging\"\nrole = \"{}\"\nregions = [\"us-east-1\"]\n",
        role(PROD),
        role(STAGING)
    );
    let accounts = opsvoice::config::accounts::parse(&file, "us-east-1").unwrap();
    let clock: Arc<dyn opsvoice::ops::Clock> = Arc::new(SystemClock);
    let read = opsvoice::accounts_source(&home, &accounts, clock.clone(), &Config::default()).await;
    let assistant = Assistant::builder(Arc::new(read.ops), clock, Identity::open())
        .logs(Arc::new(read.logs))
        .build()
        .unwrap();

    let staging = ask(&assistant, "what errors is checkout logging in staging").await;
    assert!(staging.contains("connection refused"), "{staging}");
    assert!(!staging.contains("tax-service"), "{staging}");
    let prod = ask(&assistant, "what errors is checkout logging in prod").await;
    assert!(prod.contains("tax-service"), "{prod}");
    assert!(!prod.contains("staging-db"), "{prod}");
}

/// An action on a service in an account and region the effector does not act in (here: an
/// effector over the home account alone) is refused with the reason, before any call.
/// Nothing is assumed or written. (Acting in the accounts themselves: `accounts_act`.)
#[tokio::test]
async fn an_action_in_an_account_opsvoice_cannot_act_in_is_refused_with_the_reason() {
    let (_moto, proxy) = world().await;
    let home = sdk_for(&proxy.url).await;
    let accounts = opsvoice::config::accounts::parse(&accounts_file(), "us-east-1").unwrap();
    let clock: Arc<dyn opsvoice::ops::Clock> = Arc::new(SystemClock);
    let source = opsvoice::accounts_source(&home, &accounts, clock.clone(), &Config::default())
        .await
        .ops;
    let policy = Policy::from_toml(
        r#"
[actions]
enabled = true

[groups.app]
clusters = ["*"]
services = ["*"]
intents  = ["*"]
actions  = ["restart", "scale"]
"#,
    )
    .unwrap();
    let grants = policy.group_grants("app");
    let path = std::env::temp_dir().join(format!(
        "opsvoice-it-accounts-act-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let store: Arc<dyn opsvoice::store::Store> =
        Arc::new(opsvoice::store::file::FileStore::open(&path, clock.clone()).unwrap());
    let effector = opsvoice::act::effect::aws::effector_with(
        &home,
        opsvoice::act::effect::aws::ActionRoles::home(Some(
            "arn:aws:iam::123456789012:role/opsvoice-act".to_owned(),
        )),
    );
    let desk = opsvoice::act::desk::Desk::new(
        store,
        clock.clone(),
        opsvoice::act::Gate::new(false),
        effector,
        None,
    );
    let assistant = Assistant::builder(
        Arc::new(source),
        clock,
        Identity::new(None, policy, Some(grants)),
    )
    .desk(Arc::new(desk))
    .build()
    .unwrap();
    let said = ask_in(&assistant, Some("s-1"), "restart cart in prod").await;
    assert!(said.contains("not set up to act in"), "{said}");
    let said = ask_in(&assistant, Some("s-1"), "yes").await;
    assert!(!said.contains("Restarting"), "{said}");
    let writes: Vec<String> = proxy
        .requests()
        .iter()
        .map(|r| r.action())
        .filter(|a| {
            matches!(
                a.as_str(),
                "UpdateService" | "DisableAlarmActions" | "EnableAlarmActions"
            )
        })
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
    assert!(
        !assume_roles(&proxy)
            .iter()
            .any(|r| r.contains("opsvoice-act")),
        "{:?}",
        assume_roles(&proxy)
    );
}

/// Which account (its id) each access key the accounts' roles were assumed into belongs to,
/// from the AssumeRole requests and moto's answers to them.
fn keys_of_accounts(proxy: &Proxy) -> std::collections::HashMap<String, String> {
    proxy
        .requests()
        .iter()
        .filter(|r| r.action() == "AssumeRole")
        .filter_map(|r| {
            let id = r.param("RoleArn")?.split(':').nth(4)?.to_owned();
            let answer = r.answer_text();
            let key = answer.split("<AccessKeyId>").nth(1)?.split('<').next()?;
            Some((key.to_owned(), id))
        })
        .collect()
}

/// The member (account id, region) a request was made for: by the key it was signed with
/// and the region it was signed for. `None` for AssumeRole (made with the home key).
fn member_of(
    request: &crate::common::proxy::Seen,
    keys: &std::collections::HashMap<String, String>,
) -> Option<(String, String)> {
    Some((
        keys.get(request.access_key()?)?.clone(),
        request.region()?.to_owned(),
    ))
}

/// The most members that had requests in flight together, in all and of one account, as
/// the proxy saw them (each request with those still unanswered when it arrived).
fn most_members_at_once(proxy: &Proxy) -> (usize, usize) {
    let requests = proxy.requests();
    let keys = keys_of_accounts(proxy);
    let (mut most, mut most_of_one) = (0, 0);
    for r in &requests {
        let Some(member) = member_of(r, &keys) else {
            continue;
        };
        let mut together: std::collections::BTreeSet<(String, String)> = r
            .in_flight_with
            .iter()
            .filter_map(|&i| member_of(&requests[i], &keys))
            .collect();
        together.insert(member);
        most = most.max(together.len());
        for (account, _) in &together {
            let of_one = together.iter().filter(|(a, _)| a == account).count();
            most_of_one = most_of_one.max(of_one);
        }
    }
    (most, most_of_one)
}

/// What the assistant says (SSML: the fixture is a voice turn) to a Lex fulfillment of
/// `intent`, no slots.
async fn lex_says(assistant: &Assistant, intent: &str) -> String {
    let event = serde_json::from_value(lex_asking(intent, &[])).unwrap();
    let r = serde_json::to_value(assistant.lex(&event).await).unwrap();
    r["messages"][0]["content"].as_str().unwrap().to_owned()
}

/// How many requests the proxy saw for `action`.
fn made(proxy: &Proxy, action: &str) -> usize {
    proxy
        .requests()
        .iter()
        .filter(|r| r.action() == action)
        .count()
}

/// The fan-out's bounds: with `accounts.concurrency = 1` and `accounts.answer_concurrency
/// = 2`, an answer never has more than two members' requests in flight, nor two regions
/// of one account, and still hears from every account. A member listing its services
/// counts as 4 calls: with a bound of 8, FleetSummary lists two members at a time. By
/// default (8 per account, 64 calls in all) the six members are asked at once, both
/// regions of an account together on the one AssumeRole of their account.
#[tokio::test]
async fn an_answer_asks_no_more_members_at_once_than_configured_in_all_and_per_account() {
    let (_moto, proxy) = world().await;
    // Each request held a little, as a region's round trip: what is asked at once is in
    // flight at once.
    proxy.hold_each(Duration::from_millis(50));

    let mut bounded = Config::default();
    bounded.accounts.concurrency = 1;
    bounded.accounts.answer_concurrency = 2;
    let narrow = assistant_with(&proxy, None, &bounded).await;
    let alarms = ask(&narrow, "any alarms firing").await;
    assert!(alarms.starts_with("3 alarms are firing."), "{alarms}");
    let (most, most_of_one) = most_members_at_once(&proxy);
    assert!(most <= 2, "{most} members asked at once, bound 2");
    assert_eq!(most_of_one, 1, "one region of an account at a time");
    assert_eq!(made(&proxy, "AssumeRole"), 3, "once per account");

    // FleetSummary asks each member for its services (4 calls at once) and its alarms at
    // once: a member counts once, as 4, its alarms never wait behind the other members'
    // services, and nothing is listed twice.
    proxy.forget();
    let mut listing = Config::default();
    listing.accounts.answer_concurrency = 8;
    let two = assistant_with(&proxy, None, &listing).await;
    let fleet = lex_says(&two, "FleetSummary").await;
    assert!(fleet.contains("4 of 7 services healthy"), "{fleet}");
    assert!(fleet.contains("3 alarms firing"), "{fleet}");
    let requests = proxy.requests();
    let keys = keys_of_accounts(&proxy);
    let listing_at_once = requests
        .iter()
        .filter(|r| matches!(r.action().as_str(), "ListServices" | "DescribeServices"))
        .map(|r| {
            let mut together: std::collections::BTreeSet<_> = r
                .in_flight_with
                .iter()
                .map(|&i| &requests[i])
                .filter(|o| matches!(o.action().as_str(), "ListServices" | "DescribeServices"))
                .filter_map(|o| member_of(o, &keys))
                .collect();
            together.extend(member_of(r, &keys));
            together.len()
        })
        .max()
        .unwrap_or(0);
    assert!(
        listing_at_once <= 2,
        "{listing_at_once} members listing at once, bound 8 calls"
    );
    for (action, n) in [
        ("AssumeRole", 3),
        ("ListClusters", 6),
        ("ListServices", 6),
        ("DescribeServices", 6),
        ("DescribeAlarms", 6),
    ] {
        assert_eq!(made(&proxy, action), n, "{action}");
    }

    proxy.forget();
    let wide = assistant(&proxy, None).await;
    let alarms = ask(&wide, "any alarms firing").await;
    assert!(alarms.starts_with("3 alarms are firing."), "{alarms}");
    let (most, most_of_one) = most_members_at_once(&proxy);
    assert!(most > 2, "by default the members are asked at once: {most}");
    assert_eq!(most_of_one, 2, "both regions of an account together");
    assert_eq!(made(&proxy, "AssumeRole"), 3, "once per account");
}

/// A member's reads are pipelined, never doubled: the firing alarms need the service names
/// only where an alarm has no dimension that ties it to its service, and then in that
/// member only; FleetSummary reads the services and the alarms of each member at once (the
/// alarms wait for the names that listing finds rather than list them again). Every call
/// is counted.
#[tokio::test]
async fn the_alarms_are_read_with_the_services_and_the_names_are_listed_only_where_needed() {
    let (moto, proxy) = world().await;
    proxy.hold_each(Duration::from_millis(50));
    /// Whether some `this` request of a member was in flight with a `that` of the same one.
    fn together(proxy: &Proxy, this: &str, that: &[&str]) -> bool {
        let requests = proxy.requests();
        let keys = keys_of_accounts(proxy);
        requests.iter().filter(|r| r.action() == this).any(|r| {
            r.in_flight_with.iter().any(|&i| {
                that.contains(&requests[i].action().as_str())
                    && member_of(&requests[i], &keys) == member_of(r, &keys)
            })
        })
    }

    // Every firing alarm has its ClusterName and ServiceName: no names are listed.
    let cold = assistant(&proxy, None).await;
    let alarms = lex_says(&cold, "ActiveAlarms").await;
    assert!(alarms.contains("3 alarms are firing."), "{alarms}");
    for (action, n) in [
        ("AssumeRole", 3),
        ("DescribeAlarms", 6),
        ("ListClusters", 0),
        ("ListServices", 0),
    ] {
        assert_eq!(made(&proxy, action), n, "{action}");
    }

    // An alarm without dimensions (cart's, by its name) firing in prod, us-east-1: that
    // member lists its names, once; the others do not.
    let cw =
        aws_sdk_cloudwatch::Client::new(&as_account(&moto.sdk().await, PROD, "us-east-1").await);
    cw.put_metric_alarm()
        .alarm_name("cart-errors-high")
        .namespace("Custom")
        .metric_name("Errors")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(60)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(aws_sdk_cloudwatch::types::ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .unwrap();
    cw.set_alarm_state()
        .alarm_name("cart-errors-high")
        .state_value(StateValue::Alarm)
        .state_reason("Threshold Crossed: 1 datapoint [5.0] was greater than the threshold (1.0).")
        .send()
        .await
        .unwrap();
    proxy.forget();
    let cold = assistant(&proxy, None).await;
    let alarms = lex_says(&cold, "ActiveAlarms").await;
    assert!(alarms.contains("4 alarms are firing."), "{alarms}");
    for (action, n) in [
        ("AssumeRole", 3),
        ("DescribeAlarms", 6),
        ("ListClusters", 1),
        ("ListServices", 1),
    ] {
        assert_eq!(made(&proxy, action), n, "{action}");
    }
    let keys = keys_of_accounts(&proxy);
    let listed = proxy
        .requests()
        .iter()
        .filter(|r| r.action() == "ListServices")
        .filter_map(|r| member_of(r, &keys))
        .collect::<Vec<_>>();
    assert_eq!(listed, [(PROD.to_owned(), "us-east-1".to_owned())]);

    proxy.forget();
    let cold = assistant(&proxy, None).await;
    let fleet = lex_says(&cold, "FleetSummary").await;
    // cart's alarm is tied to it by its name, from the services' own listing: cart is not
    // healthy now, and no names were listed for the alarms.
    assert!(fleet.contains("3 of 7 services healthy"), "{fleet}");
    assert!(fleet.contains("4 alarms firing"), "{fleet}");
    assert!(fleet.contains("cart"), "{fleet}");
    assert!(!fleet.contains("didn't answer"), "{fleet}");
    for (action, n) in [
        ("AssumeRole", 3),
        ("ListClusters", 6),
        ("ListServices", 6),
        ("DescribeServices", 6),
        ("DescribeAlarms", 6),
    ] {
        assert_eq!(made(&proxy, action), n, "{action}");
    }
    assert!(
        together(
            &proxy,
            "DescribeAlarms",
            &["ListServices", "DescribeServices"]
        ) || together(&proxy, "ListServices", &["DescribeAlarms"]),
        "a member's alarms are asked for with its services"
    );
}

/// What a Lex fulfillment of `intent` with `slots` gets said (SSML).
async fn lex_with(assistant: &Assistant, intent: &str, slots: &[(&str, &str)]) -> String {
    let event = serde_json::from_value(lex_asking(intent, slots)).unwrap();
    let r = serde_json::to_value(assistant.lex(&event).await).unwrap();
    r["messages"][0]["content"].as_str().unwrap().to_owned()
}

/// After one background refresh (what `serve` runs every few seconds), every answer about
/// everything is told from what it keeps: the fleet, what changed, the alarms and a
/// service's health make no call at all; an alarm the firing listing has costs its history
/// alone, and a quiet one named costs its alarm and its history, both only in the account
/// and region it is in (the index of alarm names says where: no member is asked who has
/// it). The refresh itself costs, per member here (one cluster, a few services, one page of
/// alarms): ListClusters, two ListServices (the names, then the statuses), one
/// DescribeServices, two DescribeAlarms (the firing ones, every alarm's name), and each
/// account's role assumed once.
#[tokio::test]
async fn after_a_refresh_questions_about_everything_make_no_call_and_an_alarm_is_read_only_where_it_is()
 {
    let (moto, proxy) = world().await;
    // A quiet alarm in prod, us-east-1.
    Seed::new(&as_account(&moto.sdk().await, PROD, "us-east-1").await)
        .await
        .service_alarm(
            "cart-cpu-high",
            "web",
            "cart",
            StateValue::Ok,
            "Threshold Crossed: 1 datapoint [12.0] was not greater than the threshold (80.0).",
        )
        .await;
    proxy.forget();
    let assistant = assistant(&proxy, None).await;
    assistant.dialog().ops().warm().await.unwrap();
    for (action, n) in [
        ("AssumeRole", 3),
        ("ListClusters", 6),
        ("ListServices", 12),
        ("DescribeServices", 6),
        ("DescribeAlarms", 12),
    ] {
        assert_eq!(made(&proxy, action), n, "the refresh's {action}");
    }
    assert_eq!(
        proxy.requests().len(),
        3 + 6 + 12 + 6 + 12,
        "{:?}",
        proxy.actions()
    );
    let keys = keys_of_accounts(&proxy);
    proxy.forget();

    let fleet = lex_says(&assistant, "FleetSummary").await;
    assert!(fleet.contains("4 of 7 services healthy"), "{fleet}");
    assert!(fleet.contains("3 alarms firing"), "{fleet}");
    let changed = lex_says(&assistant, "WhatChanged").await;
    assert!(!changed.contains("didn't answer"), "{changed}");
    let alarms = lex_says(&assistant, "ActiveAlarms").await;
    assert!(alarms.contains("3 alarms are firing"), "{alarms}");
    let health = lex_with(&assistant, "ServiceHealth", &[("service", "ledger")]).await;
    assert!(health.contains("2 of 3"), "{health}");
    assert_eq!(proxy.actions(), Vec::<String>::new(), "no call at all");

    // Firing in payments team, eu-west-1: its history there, nothing else.
    let firing = lex_with(&assistant, "AlarmDetail", &[("alarm", "ledger-cpu-high")]).await;
    assert!(
        firing.contains("ledger CPU high has been firing"),
        "{firing}"
    );
    assert_eq!(proxy.actions(), ["DescribeAlarmHistory"]);
    let payments = (PAYMENTS.to_owned(), "eu-west-1".to_owned());
    assert_eq!(member_of(&proxy.requests()[0], &keys), Some(payments));

    // Quiet, in prod, us-east-1: the alarm now (its state) and its history, there only.
    proxy.forget();
    let quiet = lex_with(&assistant, "AlarmDetail", &[("alarm", "cart-cpu-high")]).await;
    assert!(quiet.contains("cart CPU high"), "{quiet}");
    assert!(quiet.contains("is not firing; it has been OK"), "{quiet}");
    let mut actions = proxy.actions();
    actions.sort();
    assert_eq!(actions, ["DescribeAlarmHistory", "DescribeAlarms"]);
    let prod = (PROD.to_owned(), "us-east-1".to_owned());
    for r in proxy.requests() {
        assert_eq!(member_of(&r, &keys), Some(prod.clone()), "{}", r.action());
    }

    // A name no index has (an alarm made since they were, say) is asked for everywhere,
    // as without an index.
    proxy.forget();
    let unknown = lex_with(
        &assistant,
        "AlarmDetail",
        &[("alarm", "frobnicator-cpu-high")],
    )
    .await;
    assert!(!unknown.contains("firing"), "{unknown}");
    let asked: std::collections::BTreeSet<_> = proxy
        .requests()
        .iter()
        .filter(|r| r.action() == "DescribeAlarms")
        .filter_map(|r| member_of(r, &keys))
        .collect();
    assert_eq!(asked.len(), 6, "every member: {asked:?}");
}

/// `/metrics` with two accounts: the series of AWS calls (AssumeRole included), of the
/// cache, and of answers that left an account out carry the configured account's name as
/// `account`, and no other value (the accounts file bounds it). Alone in its process: the
/// recorder is process-wide.
#[tokio::test]
#[ignore = "reads process-wide metrics: run alone by `the_metrics_are_checked_alone`"]
async fn with_two_accounts_the_aws_series_carry_the_account_and_only_configured_names() {
    let metrics = opsvoice::telemetry::metrics();
    let (_moto, proxy) = world().await;
    // Two accounts: prod reads; staging's role cannot be assumed.
    proxy.answer(Answer::query_error("AssumeRole", 403, "AccessDenied").only_when(STAGING));
    let file = format!(
        "[[account]]\nname = \"prod\"\nrole = \"{}\"\nregions = [\"us-east-1\", \"eu-west-1\"]\n\n\
         [[account]]\nname = \"staging\"\nrole = \"{}\"\nregions = [\"us-east-1\"]\n",
        role(PROD),
        role(STAGING)
    );
    let accounts = opsvoice::config::accounts::parse(&file, "us-east-1").unwrap();
    let clock: Arc<dyn opsvoice::ops::Clock> = Arc::new(SystemClock);
    let home = sdk_for(&proxy.url).await;
    let source = opsvoice::accounts_source(&home, &accounts, clock.clone(), &Config::default())
        .await
        .ops;
    let assistant = Assistant::builder(Arc::new(source), clock, Identity::open())
        .build()
        .unwrap();
    let alarms = ask(&assistant, "any alarms firing").await;
    assert!(
        alarms.starts_with("The staging account didn't answer; this is without it."),
        "{alarms}"
    );
    ask(&assistant, "any alarms firing").await;

    let text = metrics.render();
    for needle in [
        "opsvoice_upstream_calls_total{api=\"sts:AssumeRole\",outcome=\"ok\",account=\"prod\"} 1",
        "opsvoice_upstream_calls_total{api=\"sts:AssumeRole\",outcome=\"error\",account=\"staging\"}",
        "opsvoice_upstream_calls_total{api=\"ecs:ListClusters\",outcome=\"ok\",account=\"prod\"} 2",
        "opsvoice_upstream_calls_total{api=\"cloudwatch:DescribeAlarms\",outcome=\"ok\",account=\"prod\"} 2",
        "opsvoice_upstream_seconds_count{api=\"cloudwatch:DescribeAlarms\",account=\"prod\"} 2",
        "opsvoice_cache_total{kind=\"firing_alarms\",result=\"miss\",account=\"prod\"} 2",
        "opsvoice_cache_total{kind=\"firing_alarms\",result=\"hit\",account=\"prod\"}",
        "opsvoice_answers_left_out_total{account=\"staging\"} 2",
    ] {
        assert!(text.contains(needle), "{needle} not in /metrics:\n{text}");
    }
    // Every account label is a configured account's name; the series that are not about a
    // place (answers by intent, HTTP) have none.
    for line in text.lines().filter(|l| l.contains("account=\"")) {
        assert!(
            line.contains("account=\"prod\"") || line.contains("account=\"staging\""),
            "{line}"
        );
        assert!(
            line.starts_with("opsvoice_upstream_")
                || line.starts_with("opsvoice_cache_total")
                || line.starts_with("opsvoice_answers_left_out_total"),
            "{line}"
        );
    }
}

/// Without accounts, `/metrics` is exactly as before: no series has an `account` label,
/// and the AWS calls are counted as they were. Alone in its process, as above.
#[tokio::test]
#[ignore = "reads process-wide metrics: run alone by `the_metrics_are_checked_alone`"]
async fn without_accounts_no_series_has_an_account_label() {
    let metrics = opsvoice::telemetry::metrics();
    let moto = Moto::seeded(&Fleet::new().service("web", "checkout", 2)).await;
    let live = crate::common::moto::Live::on(&moto.sdk().await, Arc::new(SystemClock));
    let health = ask(&live.assistant, "how is checkout doing").await;
    assert!(health.starts_with("checkout is healthy"), "{health}");
    let text = metrics.render();
    assert!(
        text.contains(
            "opsvoice_upstream_calls_total{api=\"ecs:DescribeServices\",outcome=\"ok\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("opsvoice_cache_total{kind=\"catalog\",result=\"miss\"}"),
        "{text}"
    );
    assert!(!text.contains("account="), "{text}");
    assert!(!text.contains("opsvoice_answers_left_out_total"), "{text}");
}

#[test]
fn the_metrics_are_checked_alone() {
    crate::common::alone(&[
        "accounts::with_two_accounts_the_aws_series_carry_the_account_and_only_configured_names",
        "accounts::without_accounts_no_series_has_an_account_label",
    ]);
}
