//! Acting in member accounts, and names in several places (issue 32 with issue 31): moto
//! keeps each account's state apart behind AssumeRole, so a write made with the wrong
//! credentials lands in the wrong account, visibly. The assistant is wired as `serve`
//! wires it over an accounts file (the accounts' source, then the effector over the same
//! places), and every request goes through the inspecting proxy, where the writes, the
//! roles assumed and the keys each write was signed with are read.
//!
//! The world: the home account (moto's default, 123456789012) runs `web/checkout` and its
//! `checkout-cpu-high` alarm but is not in the accounts file; prod (two regions) and
//! staging each have an actions role; dev has none (read only). checkout runs in prod,
//! staging and dev (three places), search in four, cart in prod only;
//! `checkout-cpu-high` exists in prod (firing) and in staging (quiet).
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_sdk_cloudwatch::types::StateValue;
use opsvoice::act::desk::Desk;
use opsvoice::auth::Identity;
use opsvoice::auth::policy::Policy;
use opsvoice::channel::Assistant;
use opsvoice::channel::ask::AskRequest;
use opsvoice::clock::ManualClock;
use opsvoice::config::Config;

use crate::accounts::as_account;
use crate::common::moto::{Fleet, Moto, Seed, sdk_for};
use crate::common::proxy::{Fault, Proxy, Seen};

const HOME: &str = "123456789012";
const PROD: &str = "111111111111";
const STAGING: &str = "222222222222";
const DEV: &str = "333333333333";

fn read_role(id: &str) -> String {
    format!("arn:aws:iam::{id}:role/opsvoice-read")
}

fn act_role(id: &str) -> String {
    format!("arn:aws:iam::{id}:role/opsvoice-act")
}

fn accounts_file() -> String {
    format!(
        r#"
[[account]]
name = "prod"
role = "{}"
regions = ["us-east-1", "eu-west-1"]
actions_role = "{}"

[[account]]
name = "staging"
role = "{}"
regions = ["us-east-1"]
actions_role = "{}"

[[account]]
name = "dev"
role = "{}"
regions = ["us-east-1"]
"#,
        read_role(PROD),
        act_role(PROD),
        read_role(STAGING),
        act_role(STAGING),
        read_role(DEV),
    )
}

/// Every verb for everyone (the test's one group), under `actions`.
fn policy(actions: &str) -> String {
    format!(
        r#"
[actions]
enabled = true
{actions}

[groups.app]
clusters = ["*"]
services = ["*"]
intents  = ["*"]
actions  = ["restart", "rollback", "scale", "silence"]
approve  = ["restart", "rollback", "scale", "silence"]
"#
    )
}

const FIRING: &str = "Threshold Crossed: 1 datapoint [95.0] was greater than the threshold (80.0).";

async fn seeded() -> Moto {
    let moto = Moto::start();
    let sdk = moto.sdk().await;
    let checkout = |desired| Fleet::new().service("web", "checkout", desired);
    let plant = [
        (
            HOME,
            "us-east-1",
            checkout(2).alarm(
                "checkout-cpu-high",
                "web",
                "checkout",
                StateValue::Ok,
                "fine",
            ),
        ),
        (
            PROD,
            "us-east-1",
            checkout(2)
                .service("web", "cart", 2)
                .service("web", "search", 2)
                .alarm(
                    "checkout-cpu-high",
                    "web",
                    "checkout",
                    StateValue::Alarm,
                    FIRING,
                ),
        ),
        (PROD, "eu-west-1", Fleet::new().service("web", "search", 2)),
        (
            STAGING,
            "us-east-1",
            checkout(4).service("web", "search", 2).alarm(
                "checkout-cpu-high",
                "web",
                "checkout",
                StateValue::Ok,
                "fine",
            ),
        ),
        (DEV, "us-east-1", checkout(2).service("web", "search", 2)),
    ];
    for (id, region, fleet) in plant {
        let sdk = if id == HOME {
            sdk.clone()
        } else {
            as_account(&sdk, id, region).await
        };
        Seed::new(&sdk).await.plant(&fleet).await;
    }
    moto
}

struct World {
    _moto: Moto,
    moto_sdk: SdkConfig,
    proxy: Proxy,
    clock: Arc<ManualClock>,
    desk: Arc<Desk>,
    assistant: Arc<Assistant>,
}

/// The assistant over the accounts file, as `serve` builds it: the accounts' source, and
/// the effector over the same places (their read credentials; each account's actions
/// role for writes), with no home actions role. Callers are the policy's `app` group.
async fn world(policy: &str) -> World {
    world_with(policy, None).await
}

/// [`world`], with approval cards posted to `announcer`.
async fn world_with(
    policy: &str,
    announcer: Option<Arc<dyn opsvoice::act::desk::Announcer>>,
) -> World {
    let moto = seeded().await;
    let moto_sdk = moto.sdk().await;
    let proxy = Proxy::start(format!("127.0.0.1:{}", moto.port)).await;
    proxy.set(Fault::Inspect);
    let home = sdk_for(&proxy.url).await;
    let accounts = opsvoice::config::accounts::parse(&accounts_file(), "us-east-1").unwrap();
    let clock = Arc::new(ManualClock::new(SystemTime::now()));
    let clock_dyn: Arc<dyn opsvoice::clock::Clock> = clock.clone();
    let read =
        opsvoice::accounts_source(&home, &accounts, clock_dyn.clone(), &Config::default()).await;
    let effector = read
        .effector(&home, None, &accounts)
        .expect("two accounts have an actions role");
    let ops: Arc<dyn opsvoice::ops::OpsSource> = Arc::new(read.ops.clone());
    let path = std::env::temp_dir().join(format!(
        "opsvoice-it-accounts-act-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let store: Arc<dyn opsvoice::store::Store> =
        Arc::new(opsvoice::store::file::FileStore::open(&path, clock_dyn.clone()).unwrap());
    let desk = Arc::new(
        Desk::new(
            store.clone(),
            clock_dyn.clone(),
            opsvoice::act::Gate::new(false),
            effector,
            announcer,
        )
        .answering_from(ops.clone()),
    );
    let policy = Policy::from_toml(policy).unwrap();
    let grants = policy.group_grants("app");
    let assistant = Assistant::builder(ops, clock_dyn, Identity::new(None, policy, Some(grants)))
        .desk(desk.clone())
        .event_log(store)
        .build()
        .unwrap();
    World {
        _moto: moto,
        moto_sdk,
        proxy,
        clock,
        desk,
        assistant,
    }
}

impl World {
    async fn ask(&self, session: &str, text: &str) -> String {
        self.assistant
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

    /// The requests the proxy saw for `action`.
    fn seen(&self, action: &str) -> Vec<Seen> {
        self.proxy
            .requests()
            .into_iter()
            .filter(|r| r.action() == action)
            .collect()
    }

    /// The write calls made, by API.
    fn writes(&self) -> Vec<String> {
        self.proxy
            .actions()
            .into_iter()
            .filter(|a| {
                matches!(
                    a.as_str(),
                    "UpdateService" | "DisableAlarmActions" | "EnableAlarmActions"
                )
            })
            .collect()
    }

    /// The actions roles assumed (never the read roles), in order.
    fn acted_as(&self) -> Vec<Seen> {
        self.seen("AssumeRole")
            .into_iter()
            .filter(|r| {
                r.param("RoleArn")
                    .is_some_and(|a| a.ends_with("opsvoice-act"))
            })
            .collect()
    }

    /// moto as account `id` in `region`, past the proxy (the home account: as it is).
    async fn moto_as(&self, id: &str, region: &str) -> Seed {
        if id == HOME {
            return Seed::new(&self.moto_sdk).await;
        }
        Seed::new(&as_account(&self.moto_sdk, id, region).await).await
    }

    /// The id of `web/checkout`'s primary deployment in account `id` (a forced new
    /// deployment gives it a new one in moto).
    async fn deployment(&self, id: &str) -> String {
        let seed = self.moto_as(id, "us-east-1").await;
        let out = seed
            .ecs
            .describe_services()
            .cluster("web")
            .services("checkout")
            .send()
            .await
            .unwrap();
        out.services()[0].deployments()[0]
            .id()
            .unwrap_or_default()
            .to_owned()
    }

    async fn actions_enabled(&self, id: &str) -> bool {
        let seed = self.moto_as(id, "us-east-1").await;
        seed.cw
            .describe_alarms()
            .alarm_names("checkout-cpu-high")
            .send()
            .await
            .unwrap()
            .metric_alarms()[0]
            .actions_enabled()
            .unwrap()
    }
}

/// The value of `<tag>` in an XML answer.
fn xml(text: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = text.find(&open).unwrap() + open.len();
    let end = start + text[start..].find('<').unwrap();
    text[start..end].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_in_a_member_account_writes_there_through_its_own_actions_role() {
    let w = world(&policy("")).await;
    let before = [
        w.deployment(HOME).await,
        w.deployment(PROD).await,
        w.deployment(STAGING).await,
    ];

    let said = w.ask("s-1", "restart checkout in prod").await;
    // prod is read in two regions: the read-back names the region too.
    assert!(
        said.starts_with(
            "Restart checkout in web (the prod account, us-east-1)? It has 2 running tasks"
        ),
        "{said}"
    );
    assert!(w.writes().is_empty() && w.acted_as().is_empty());
    let said = w.ask("s-1", "yes").await;
    assert!(said.starts_with("Restarting checkout"), "{said}");
    let said = w.ask("s-1", "yes").await;
    assert!(!said.contains("Restarting"), "{said}");

    // Exactly one write, signed with the credentials of prod's actions role, assumed once
    // for this action with the person as SourceIdentity.
    assert_eq!(w.writes(), ["UpdateService"]);
    let assumed = w.acted_as();
    assert_eq!(assumed.len(), 1);
    let role = &assumed[0];
    assert_eq!(role.param("RoleArn"), Some(act_role(PROD)));
    assert_eq!(role.param("SourceIdentity").as_deref(), Some("anonymous"));
    assert_eq!(
        role.param("RoleSessionName").as_deref(),
        Some("opsvoice-anonymous")
    );
    let key = xml(&role.answer_text(), "AccessKeyId");
    let update = &w.seen("UpdateService")[0];
    assert_eq!(update.access_key(), Some(key.as_str()));
    assert!(
        update
            .header("authorization")
            .unwrap()
            .contains("/us-east-1/ecs/aws4_request"),
        "written in the service's own region"
    );
    assert_eq!(update.json()["forceNewDeployment"], true);

    // In moto, the change is in prod only: not in the home account, not in staging.
    let after = [
        w.deployment(HOME).await,
        w.deployment(PROD).await,
        w.deployment(STAGING).await,
    ];
    assert_eq!(after[0], before[0], "the home account is untouched");
    assert_ne!(after[1], before[1], "prod's checkout was restarted");
    assert_eq!(after[2], before[2], "staging is untouched");

    // The follow-up reads the same account and region, with prod's read credentials (its
    // read role, assumed once by the accounts' source and shared): never the home ones.
    let read_key = w
        .seen("AssumeRole")
        .iter()
        .find(|r| r.param("RoleArn") == Some(read_role(PROD)))
        .map(|r| xml(&r.answer_text(), "AccessKeyId"))
        .unwrap();
    w.proxy.forget();
    let ticked = w.desk.tick().await;
    let follows = w.seen("DescribeServices");
    assert_eq!(ticked.finished, 1, "the restart, followed to its end");
    assert!(!follows.is_empty());
    for read in &follows {
        assert_eq!(read.access_key(), Some(read_key.as_str()));
        assert!(
            read.header("authorization")
                .unwrap()
                .contains("/us-east-1/ecs/aws4_request")
        );
    }
    assert!(w.writes().is_empty(), "a follow-up writes nothing");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_without_an_actions_role_is_refused_with_the_reason_and_nothing_written() {
    let w = world(&policy("")).await;
    let said = w.ask("s-1", "restart checkout in dev").await;
    assert_eq!(
        said,
        "I won't restart checkout: the dev account is read only for me, with no actions role set up there. Nothing was changed."
    );
    let said = w.ask("s-1", "yes").await;
    assert!(!said.contains("Restarting"), "{said}");
    let said = w.ask("s-2", "scale checkout in dev to 3").await;
    assert!(said.contains("read only"), "{said}");
    assert!(w.writes().is_empty(), "{:?}", w.writes());
    assert!(w.acted_as().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silence_in_a_member_account_disables_and_later_enables_that_account_s_alarm() {
    let w = world(&policy("")).await;
    // The alarm is in prod and staging: an action on it asks which, never the first.
    let mut said = w
        .ask("s-1", "silence checkout-cpu-high for 30 minutes")
        .await;
    if said.starts_with("Which alarm") || said.starts_with("I can't find") {
        // The embedded model knows the demo's alarm names, not moto's: it asks back.
        said = w.ask("s-1", "checkout-cpu-high").await;
    }
    assert_eq!(
        said,
        "There is a checkout-cpu-high alarm in the prod and staging accounts. Which one?"
    );
    let said = w.ask("s-1", "staging").await;
    assert!(
        said.starts_with("Silence checkout-cpu-high (the staging account) until"),
        "{said}"
    );
    assert!(w.writes().is_empty());
    let said = w.ask("s-1", "yes").await;
    assert!(
        said.starts_with("checkout-cpu-high is silenced until"),
        "{said}"
    );

    assert_eq!(w.writes(), ["DisableAlarmActions"]);
    assert!(
        !w.actions_enabled(STAGING).await,
        "staging's alarm is silenced"
    );
    assert!(w.actions_enabled(PROD).await, "prod's is not");
    assert!(w.actions_enabled(HOME).await, "nor the home account's");
    // Asked about in its account, staging's says who silenced it (its silence is kept
    // by account and region); prod's says nothing of it.
    for (account, silenced) in [("staging", true), ("prod", false)] {
        let mut said = w
            .ask(
                account,
                &format!("tell me about the checkout-cpu-high alarm in {account}"),
            )
            .await;
        if !said.starts_with("checkout-cpu-high") {
            said = w.ask(account, "checkout-cpu-high").await;
        }
        assert_eq!(
            said.contains("silenced by anonymous until"),
            silenced,
            "{account}: {said}"
        );
    }

    // Not due yet: nothing. Past its end, the tick enables staging's alarm again, through
    // staging's actions role.
    assert_eq!(w.desk.tick().await.silences_ended, 0);
    w.clock.advance(Duration::from_secs(31 * 60));
    assert_eq!(w.desk.tick().await.silences_ended, 1);
    assert_eq!(w.desk.tick().await.silences_ended, 0, "ended once");
    assert_eq!(w.writes(), ["DisableAlarmActions", "EnableAlarmActions"]);
    assert!(w.actions_enabled(STAGING).await);
    let roles: Vec<Option<String>> = w.acted_as().iter().map(|r| r.param("RoleArn")).collect();
    assert_eq!(roles, [Some(act_role(STAGING)), Some(act_role(STAGING))]);
    for (role, write) in w.acted_as().iter().zip(
        w.seen("DisableAlarmActions")
            .iter()
            .chain(&w.seen("EnableAlarmActions")),
    ) {
        assert_eq!(role.param("SourceIdentity").as_deref(), Some("anonymous"));
        let key = xml(&role.answer_text(), "AccessKeyId");
        assert_eq!(write.access_key(), Some(key.as_str()));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_cluster_approval_glob_asks_a_second_person_only_in_that_account() {
    let w = world(&policy(
        r#"approval = ["prod/*"]
channel = "C0APPROVALS""#,
    ))
    .await;
    let prod = w.ask("s-1", "restart checkout in prod").await;
    assert!(
        prod.contains("A second person will have to approve it in Slack."),
        "{prod}"
    );
    let staging = w.ask("s-2", "restart checkout in staging").await;
    assert!(
        staging.starts_with("Restart checkout in web (the staging account)? It has"),
        "staging is read in one region: its region goes unsaid: {staging}"
    );
    assert!(!staging.contains("approve"), "{staging}");
    // Staging's yes acts; prod's waits for a card that cannot be posted here (no Slack):
    // nothing is written for it.
    let said = w.ask("s-2", "yes").await;
    assert!(said.starts_with("Restarting checkout"), "{said}");
    let said = w.ask("s-1", "yes").await;
    assert!(said.contains("can't post the approval card"), "{said}");
    assert_eq!(w.writes(), ["UpdateService"]);
    let roles: Vec<Option<String>> = w.acted_as().iter().map(|r| r.param("RoleArn")).collect();
    assert_eq!(roles, [Some(act_role(STAGING))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_counts_per_account_so_one_name_in_two_accounts_has_two_budgets() {
    let w = world(&policy("per_service = 1")).await;
    w.ask("s-1", "restart checkout in prod").await;
    let said = w.ask("s-1", "yes").await;
    assert!(said.starts_with("Restarting checkout"), "{said}");
    // prod's web/checkout has had its one; staging's web/checkout has its own.
    w.ask("s-2", "restart checkout in prod").await;
    let said = w.ask("s-2", "yes").await;
    assert!(said.contains("too many changes"), "{said}");
    w.ask("s-3", "restart checkout in staging").await;
    let said = w.ask("s-3", "yes").await;
    assert!(said.starts_with("Restarting checkout"), "{said}");
    assert_eq!(w.writes(), ["UpdateService", "UpdateService"]);
    let roles: Vec<Option<String>> = w.acted_as().iter().map(|r| r.param("RoleArn")).collect();
    assert_eq!(roles, [Some(act_role(PROD)), Some(act_role(STAGING))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_about_a_name_in_a_few_places_is_answered_for_each_and_an_action_asks() {
    let w = world(&policy("")).await;
    // Three places: one sentence, each place named.
    w.ask("q-1", "how is cart doing").await;
    let said = w.ask("q-1", "how is checkout doing").await;
    let first = said.lines().next().unwrap();
    assert!(
        first.starts_with("In prod, checkout is degraded: all 2 tasks running, 1 alarm firing"),
        "{said}"
    );
    assert!(
        first.contains("; in staging, checkout is deploying: 2 of 4 new tasks up"),
        "{said}"
    );
    assert!(
        first.contains("; in dev, checkout is healthy: all 2 tasks running"),
        "{said}"
    );
    assert_eq!(first.matches(". ").count(), 0, "one sentence: {first}");
    // "It" is none of them (nor cart, asked about before): a follow-up asks rather than
    // act on one.
    let said = w.ask("q-1", "restart it").await;
    assert!(said.starts_with("Which service"), "{said}");
    // Two regions of one account: the regions tell them apart.
    let said = w.ask("q-2", "how is search doing in prod").await;
    assert!(
        said.starts_with("In us-east-1, search is healthy")
            && said.contains("; in eu-west-1, search is healthy"),
        "{said}"
    );
    // Four places are too many for one sentence: asked which.
    let said = w.ask("q-3", "how is search doing").await;
    assert_eq!(
        said,
        "search runs in the prod, staging, and dev accounts. Which one?"
    );
    // An action never picks one: asked which, then read back for the one chosen.
    let said = w.ask("a-1", "restart checkout").await;
    assert_eq!(
        said,
        "checkout runs in the prod, staging, and dev accounts. Which one?"
    );
    let said = w.ask("a-1", "staging").await;
    assert!(
        said.starts_with("Restart checkout in web (the staging account)?"),
        "{said}"
    );
    let said = w.ask("a-1", "no").await;
    assert!(said.contains("I won't restart checkout"), "{said}");
    // A name in one place is answered as always.
    let said = w.ask("q-4", "how is cart doing").await;
    assert!(said.starts_with("cart is healthy"), "{said}");
    assert!(w.writes().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_named_in_two_accounts_is_told_for_both_never_the_first_in_file_order() {
    let w = world(&policy("")).await;
    let mut said = w
        .ask("q-1", "tell me about the checkout-cpu-high alarm")
        .await;
    if said.starts_with("Which alarm") || said.starts_with("I can't find") {
        said = w.ask("q-1", "checkout-cpu-high").await;
    }
    let first = said.lines().next().unwrap();
    assert!(
        first.starts_with("In prod, checkout-cpu-high"),
        "the firing one in prod: {said}"
    );
    assert!(
        first.contains("; in staging, checkout-cpu-high is not firing, it has been OK"),
        "{said}"
    );
    // Named with its account, the one place is answered (the quiet one in staging).
    let said = w
        .ask(
            "q-2",
            "tell me about the checkout-cpu-high alarm in staging",
        )
        .await;
    let said = if said.starts_with("Which alarm") || said.starts_with("I can't find") {
        w.ask("q-2", "checkout-cpu-high").await
    } else {
        said
    };
    assert!(!said.contains("In prod"), "{said}");
    assert!(said.starts_with("checkout-cpu-high"), "{said}");
}

/// Approval cards, kept instead of posted (what a card says is the read-back, tested with
/// the renderer; here, which record it is for).
#[derive(Debug, Default)]
struct Cards(std::sync::Mutex<Vec<opsvoice::act::record::ActionRecord>>);

#[async_trait::async_trait]
impl opsvoice::act::desk::Announcer for Cards {
    async fn ask_approval(
        &self,
        _channel: &str,
        record: &opsvoice::act::record::ActionRecord,
    ) -> Result<opsvoice::act::record::Place, String> {
        self.0.lock().unwrap().push(record.clone());
        Ok(opsvoice::act::record::Place {
            channel: "C0APPROVALS".into(),
            ts: "1.2".into(),
        })
    }

    async fn update_card(
        &self,
        _card: &opsvoice::act::record::Place,
        _record: &opsvoice::act::record::ActionRecord,
    ) {
    }

    async fn tell(
        &self,
        _origin: &opsvoice::act::record::Place,
        _record: &opsvoice::act::record::ActionRecord,
    ) {
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approved_action_in_a_member_account_is_checked_again_and_written_there() {
    let cards = Arc::new(Cards::default());
    let text = policy(
        r#"approval = ["prod/*"]
channel = "C0APPROVALS""#,
    );
    let w = world_with(&text, Some(cards.clone())).await;
    let before = w.deployment(PROD).await;
    w.ask("s-1", "restart checkout in prod").await;
    let said = w.ask("s-1", "yes").await;
    assert!(said.starts_with("I've asked for approval"), "{said}");
    let card = cards.0.lock().unwrap().pop().unwrap();
    assert_eq!(card.target().account.as_deref(), Some("prod"));
    assert_eq!(card.target().region.as_deref(), Some("us-east-1"));
    assert!(card.region_named(), "prod is read in two regions");
    assert!(w.writes().is_empty() && w.acted_as().is_empty());

    // Bob approves: the target is read again in prod (with prod's read credentials), then
    // written there through prod's actions role, named for the requester.
    let bob = opsvoice::auth::Principal {
        sub: "bob".into(),
        username: "bob".into(),
        groups: vec!["app".into()],
    };
    let grants = Policy::from_toml(&text).unwrap().group_grants("app");
    let prod_read_key = w
        .seen("AssumeRole")
        .iter()
        .find(|r| r.param("RoleArn") == Some(read_role(PROD)))
        .map(|r| xml(&r.answer_text(), "AccessKeyId"))
        .unwrap();
    w.proxy.forget();
    let answered = w.desk.judge(card.id(), &bob, &grants, true).await;
    assert!(
        matches!(answered, opsvoice::act::desk::Answered::Started(_)),
        "{answered:?}"
    );
    let rechecks = w.seen("DescribeServices");
    assert!(!rechecks.is_empty(), "the re-check on approval");
    for read in &rechecks {
        assert_eq!(read.access_key(), Some(prod_read_key.as_str()));
        assert!(
            read.header("authorization")
                .unwrap()
                .contains("/us-east-1/ecs/aws4_request")
        );
    }
    assert_eq!(w.writes(), ["UpdateService"]);
    let assumed = w.acted_as();
    assert_eq!(assumed.len(), 1);
    assert_eq!(assumed[0].param("RoleArn"), Some(act_role(PROD)));
    assert_eq!(
        assumed[0].param("SourceIdentity").as_deref(),
        Some("anonymous"),
        "the requester is named on the write"
    );
    assert_ne!(w.deployment(PROD).await, before);
    // A second approval does nothing more.
    w.desk.judge(card.id(), &bob, &grants, true).await;
    assert_eq!(w.writes(), ["UpdateService"]);
}
