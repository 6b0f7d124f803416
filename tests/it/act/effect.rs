//! The AWS effector against moto, through the inspecting proxy: reads are fresh and write
//! nothing; each action is one `sts:AssumeRole` (session `opsvoice-<user>`, the person as
//! `SourceIdentity`) and one write signed with its credentials, made once, whose effect
//! moto shows; a 5xx, throttling or a silent upstream is unknown after one attempt, a 4xx
//! is refused.
//!
//! What moto does and does not do (5.2.5), which these tests rely on or work around:
//! - `UpdateService` applies at once and leaves `deployments[]` as it was (one PRIMARY
//!   deployment, made at creation): no new deployment for a new task definition, so ECS's
//!   own evidence of a previous one never shows here (the mapping is unit-tested);
//!   `forceNewDeployment` gives that deployment a new id. `events[]` is always empty.
//! - `deploymentController` is kept and returned; a `CODE_DEPLOY` service has no deployments.
//! - `AssumeRole` accepts `SourceIdentity` but neither keeps nor returns it, needs no role
//!   to exist and checks no trust policy: what the request carried is read at the proxy.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_sdk_ecs::types::{ContainerDefinition, DeploymentController, DeploymentControllerType};
use opsvoice::act::Target;
use opsvoice::act::effect::aws::{ActionRoles, AwsEffector};
use opsvoice::act::effect::{EffectError, Effector};
use opsvoice::act::record::{Change, Person};
use opsvoice::ops::ServiceRef;

use crate::common::moto::{Moto, Seed, sdk_for};
use crate::common::proxy::{Answer, Fault, Proxy, Seen};

const ROLE: &str = "arn:aws:iam::123456789012:role/opsvoice-act";
const PAGES: &str = "arn:aws:sns:us-east-1:123456789012:oncall-pages";
const SCALE_OUT: &str = "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:7d3e1f20-5a6b-4c8d-9e0f-1a2b3c4d5e6f:resource/ecs/service/prod/checkout:policyName/checkout-scale-out";
pub(super) const WRITES: [&str; 3] = ["UpdateService", "DisableAlarmActions", "EnableAlarmActions"];

/// The trust policy the actions role needs: AssumeRole and SetSourceIdentity.
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":["sts:AssumeRole","sts:SetSourceIdentity"]}]}"#;

pub(super) struct Rig {
    pub(super) moto: Moto,
    pub(super) proxy: Proxy,
    pub(super) seed: Seed,
    pub(super) effector: AwsEffector,
}

/// moto holding prod/checkout (task definitions :1 and :2, running :2, 2 tasks),
/// prod/gateway (CodeDeploy), an alarm that only pages and one that scales, and the
/// actions role; the effector reaches it through the inspecting proxy.
pub(super) async fn rig() -> Rig {
    let moto = Moto::start();
    let seed = Seed::new(&moto.sdk().await).await;
    seed.cluster("prod").await;
    for image in ["app:1", "app:2"] {
        seed.ecs
            .register_task_definition()
            .family("checkout")
            .container_definitions(
                ContainerDefinition::builder()
                    .name("app")
                    .image(image)
                    .memory(256)
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    seed.ecs
        .create_service()
        .cluster("prod")
        .service_name("checkout")
        .task_definition("checkout:2")
        .desired_count(2)
        .send()
        .await
        .unwrap();
    seed.ecs
        .create_service()
        .cluster("prod")
        .service_name("gateway")
        .task_definition("checkout:1")
        .desired_count(2)
        .deployment_controller(
            DeploymentController::builder()
                .r#type(DeploymentControllerType::CodeDeploy)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    for (name, action) in [
        ("checkout-5xx-high", PAGES),
        ("checkout-cpu-high", SCALE_OUT),
    ] {
        seed.cw
            .put_metric_alarm()
            .alarm_name(name)
            .namespace("AWS/ECS")
            .metric_name("CPUUtilization")
            .statistic(Statistic::Average)
            .period(60)
            .evaluation_periods(1)
            .threshold(80.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .alarm_actions(action)
            .ok_actions(PAGES)
            .send()
            .await
            .unwrap();
    }
    create_role(&moto).await;
    let proxy = Proxy::start(format!("127.0.0.1:{}", moto.port)).await;
    proxy.set(Fault::Inspect);
    let effector = AwsEffector::new(
        &sdk_for(&proxy.url).await,
        ActionRoles::home(Some(ROLE.to_owned())),
    );
    Rig {
        moto,
        proxy,
        seed,
        effector,
    }
}

/// `iam:CreateRole` with [`TRUST`], sent as the query protocol (moto checks no signature;
/// the credential scope routes it to IAM): the crate has no IAM client.
async fn create_role(moto: &Moto) {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("Action", "CreateRole")
        .append_pair("Version", "2010-05-08")
        .append_pair("RoleName", "opsvoice-act")
        .append_pair("AssumeRolePolicyDocument", TRUST)
        .finish();
    let answer = reqwest::Client::new()
        .post(moto.url())
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, \
             SignedHeaders=host, Signature=0",
        )
        .body(form)
        .send()
        .await
        .unwrap();
    let status = answer.status();
    let text = answer.text().await.unwrap();
    assert!(status.is_success(), "{status}: {text}");
    assert!(text.contains(ROLE), "{text}");
}

fn alice() -> Person {
    Person {
        sub: "4f2c8a1e-9b7d-4e3a-8c6f-1d2e3f4a5b6c".to_owned(),
        username: "alice".to_owned(),
    }
}

fn checkout() -> Target {
    Target::service(ServiceRef::new("prod", "checkout"))
}

fn alarm(name: &str) -> Target {
    Target::alarm(name, Some(ServiceRef::new("prod", "checkout")))
}

/// The one service moto holds under `name`, read past the proxy.
async fn in_moto(rig: &Rig, name: &str) -> aws_sdk_ecs::types::Service {
    rig.seed
        .ecs
        .describe_services()
        .cluster("prod")
        .services(name)
        .send()
        .await
        .unwrap()
        .services()[0]
        .clone()
}

async fn actions_enabled(rig: &Rig, name: &str) -> bool {
    rig.seed
        .cw
        .describe_alarms()
        .alarm_names(name)
        .send()
        .await
        .unwrap()
        .metric_alarms()[0]
        .actions_enabled()
        .unwrap()
}

/// The value of `<tag>` in an XML answer.
fn xml(text: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = text.find(&open).unwrap() + open.len();
    let end = start + text[start..].find('<').unwrap();
    text[start..end].to_owned()
}

/// Asserts what one action sent: one AssumeRole as `user`, then `write`, once, signed
/// with the credentials the AssumeRole gave. Hands back the write.
fn one_write_as(proxy: &Proxy, user: &str, write: &str) -> Seen {
    let seen = proxy.requests();
    assert_eq!(
        seen.iter().map(Seen::action).collect::<Vec<_>>(),
        ["AssumeRole", write],
        "one AssumeRole, then one write"
    );
    let assume = &seen[0];
    assert_eq!(assume.param("RoleArn").as_deref(), Some(ROLE));
    assert_eq!(
        assume.param("RoleSessionName"),
        Some(format!("opsvoice-{user}"))
    );
    assert_eq!(assume.param("SourceIdentity").as_deref(), Some(user));
    assert_eq!(assume.param("DurationSeconds").as_deref(), Some("900"));
    assert_eq!(
        assume.access_key(),
        Some("test"),
        "assumed with the read credentials"
    );
    let key = xml(&assume.answer_text(), "AccessKeyId");
    let write = seen[1].clone();
    assert_eq!(
        write.access_key(),
        Some(key.as_str()),
        "written with the role's credentials"
    );
    write
}

#[tokio::test]
async fn reads_are_fresh_and_write_nothing() {
    let rig = rig().await;
    let e = &rig.effector;
    let now = e.service(&checkout()).await.unwrap().unwrap();
    assert_eq!(now.service, ServiceRef::new("prod", "checkout"));
    assert_eq!(now.controller, "ECS");
    assert_eq!(now.task_definition, "checkout:2");
    assert_eq!((now.desired, now.running), (2, 2));
    assert_eq!(now.deployments.len(), 1);
    assert_eq!(now.deployments[0].task_definition, "checkout:2");
    // moto lists only the current deployment: no evidence of :1, and :1 is not guessed.
    assert_eq!(now.previous, None);

    let gateway = Target::service(ServiceRef::new("prod", "gateway"));
    assert_eq!(
        e.service(&gateway).await.unwrap().unwrap().controller,
        "CODE_DEPLOY"
    );
    let missing = Target::service(ServiceRef::new("prod", "nope"));
    assert_eq!(e.service(&missing).await.unwrap(), None);

    let pages = e.alarm(&alarm("checkout-5xx-high")).await.unwrap().unwrap();
    assert_eq!(pages.actions, [PAGES, PAGES]);
    assert!(pages.actions_enabled && pages.notification_only());
    let scales = e.alarm(&alarm("checkout-cpu-high")).await.unwrap().unwrap();
    assert!(scales.actions.contains(&SCALE_OUT.to_owned()));
    assert!(!scales.notification_only());
    assert_eq!(e.alarm(&alarm("nope")).await.unwrap(), None);

    // Read again: asked of AWS again, never cached.
    e.service(&checkout()).await.unwrap();
    assert_eq!(
        rig.proxy.actions(),
        [
            "DescribeServices",
            "DescribeServices",
            "DescribeServices",
            "DescribeAlarms",
            "DescribeAlarms",
            "DescribeAlarms",
            "DescribeServices",
        ]
    );
    assert!(
        rig.proxy
            .requests()
            .iter()
            .all(|r| r.access_key() == Some("test")),
        "reads use the read credentials"
    );
    assert_eq!(e.calls().get("sts:AssumeRole"), 0);
}

#[tokio::test]
async fn each_action_is_one_assume_role_and_one_write_that_moto_shows() {
    let rig = rig().await;
    let e = &rig.effector;

    // Scale.
    let before = in_moto(&rig, "checkout").await;
    let applied = e
        .apply(&alice(), &checkout(), &Change::Scale { from: 2, to: 3 })
        .await
        .unwrap();
    let write = one_write_as(&rig.proxy, "alice", "UpdateService");
    assert_eq!(
        write.json(),
        serde_json::json!({"cluster": "prod", "service": "checkout", "desiredCount": 3})
    );
    assert_eq!(
        Some(applied.request_id.as_str()),
        write.answer_header("x-amzn-RequestId"),
        "the request id is AWS's"
    );
    assert_eq!(in_moto(&rig, "checkout").await.desired_count(), 3);
    assert_eq!(before.desired_count(), 2);

    // Rollback.
    rig.proxy.forget();
    let rollback = Change::Rollback {
        from: "checkout:2".to_owned(),
        to: "checkout:1".to_owned(),
        ran_until: None,
    };
    e.apply(&alice(), &checkout(), &rollback).await.unwrap();
    let write = one_write_as(&rig.proxy, "alice", "UpdateService");
    assert_eq!(write.json()["taskDefinition"], "checkout:1");
    assert!(
        in_moto(&rig, "checkout")
            .await
            .task_definition()
            .unwrap()
            .ends_with("checkout:1")
    );
    assert_eq!(
        e.service(&checkout())
            .await
            .unwrap()
            .unwrap()
            .task_definition,
        "checkout:1"
    );

    // Restart: a forced new deployment (moto renews the deployment's id).
    rig.proxy.forget();
    let deployment = |s: &aws_sdk_ecs::types::Service| s.deployments()[0].id().unwrap().to_owned();
    let old = deployment(&in_moto(&rig, "checkout").await);
    e.apply(&alice(), &checkout(), &Change::Restart { running: 3 })
        .await
        .unwrap();
    let write = one_write_as(&rig.proxy, "alice", "UpdateService");
    assert_eq!(write.json()["forceNewDeployment"], true);
    assert_eq!(
        write.json().as_object().unwrap().len(),
        3,
        "{}",
        write.json()
    );
    assert_ne!(deployment(&in_moto(&rig, "checkout").await), old);

    // Silence, then unsilence.
    rig.proxy.forget();
    let silence = Change::Silence {
        until: 0,
        actions_were_enabled: true,
    };
    e.apply(&alice(), &alarm("checkout-5xx-high"), &silence)
        .await
        .unwrap();
    let write = one_write_as(&rig.proxy, "alice", "DisableAlarmActions");
    assert_eq!(
        write.param("AlarmNames.member.1").as_deref(),
        Some("checkout-5xx-high")
    );
    assert!(!actions_enabled(&rig, "checkout-5xx-high").await);
    assert!(
        actions_enabled(&rig, "checkout-cpu-high").await,
        "only that alarm"
    );
    rig.proxy.forget();
    let applied = e
        .unsilence(&alice(), &alarm("checkout-5xx-high"))
        .await
        .unwrap();
    let write = one_write_as(&rig.proxy, "alice", "EnableAlarmActions");
    assert!(!applied.request_id.is_empty() && applied.request_id != "-");
    assert_eq!(
        write.param("AlarmNames.member.1").as_deref(),
        Some("checkout-5xx-high")
    );
    assert!(actions_enabled(&rig, "checkout-5xx-high").await);

    // A username STS cannot take: the sub names the session.
    rig.proxy.forget();
    let jose = Person {
        sub: "0b9e7c1d-2f3a-4b5c-8d6e-7f8091a2b3c4".to_owned(),
        username: "José García".to_owned(),
    };
    e.apply(&jose, &checkout(), &Change::Scale { from: 3, to: 2 })
        .await
        .unwrap();
    one_write_as(&rig.proxy, &jose.sub, "UpdateService");
    assert_eq!(in_moto(&rig, "checkout").await.desired_count(), 2);
}

#[tokio::test]
async fn a_failed_write_is_unknown_or_refused_and_never_tried_twice() {
    let rig = rig().await;
    // The full write deadline, so that a retry (after its backoff) would have had time to
    // show; only the unanswered write gets a short one.
    let e = &rig.effector;
    let impatient = rig
        .effector
        .clone()
        .write_timeout(Duration::from_millis(400));
    let scale = Change::Scale { from: 2, to: 5 };
    let silence = Change::Silence {
        until: 0,
        actions_were_enabled: true,
    };
    let writes = |proxy: &Proxy| {
        proxy
            .actions()
            .into_iter()
            .filter(|a| WRITES.contains(&a.as_str()))
            .count()
    };

    // Unknown: a 5xx, throttling, a write never answered. One attempt each.
    let unknown = [
        (
            Answer::json_error("UpdateService", 500, "ServerException"),
            "ECS",
        ),
        (
            Answer::json_error("UpdateService", 400, "ThrottlingException"),
            "ECS",
        ),
        (Answer::hang("UpdateService"), "ECS"),
        (
            Answer::query_error("DisableAlarmActions", 500, "InternalFailure"),
            "CloudWatch",
        ),
        (
            Answer::query_error("DisableAlarmActions", 400, "Throttling"),
            "CloudWatch",
        ),
    ];
    for (answer, system) in unknown {
        rig.proxy.pass_all();
        rig.proxy.answer(answer.clone());
        rig.proxy.forget();
        let e = if answer.hang { &impatient } else { e };
        let result = if system == "ECS" {
            e.apply(&alice(), &checkout(), &scale).await
        } else {
            e.apply(&alice(), &alarm("checkout-5xx-high"), &silence)
                .await
        };
        match result {
            Err(EffectError::Unknown { system: s, .. }) => assert_eq!(s, system, "{answer:?}"),
            other => panic!("{answer:?}: {other:?}"),
        }
        assert_eq!(writes(&rig.proxy), 1, "{answer:?}: one attempt, no retry");
    }
    // None of them reached moto.
    assert_eq!(in_moto(&rig, "checkout").await.desired_count(), 2);
    assert!(actions_enabled(&rig, "checkout-5xx-high").await);

    // Refused: a 4xx, injected or moto's own. Nothing written, one attempt each.
    rig.proxy.pass_all();
    rig.proxy.answer(Answer::json_error(
        "UpdateService",
        400,
        "AccessDeniedException",
    ));
    rig.proxy.answer(Answer::query_error(
        "DisableAlarmActions",
        403,
        "AccessDenied",
    ));
    rig.proxy.forget();
    let denied = e.apply(&alice(), &checkout(), &scale).await;
    assert!(
        matches!(&denied, Err(EffectError::Refused { system: "ECS", message }) if message.starts_with("AccessDeniedException")),
        "{denied:?}"
    );
    let denied = e
        .apply(&alice(), &alarm("checkout-5xx-high"), &silence)
        .await;
    assert!(
        matches!(&denied, Err(EffectError::Refused { system: "CloudWatch", message }) if message.starts_with("AccessDenied")),
        "{denied:?}"
    );
    assert_eq!(writes(&rig.proxy), 2);
    rig.proxy.pass_all();
    rig.proxy.forget();
    let unregistered = Change::Rollback {
        from: "checkout:2".to_owned(),
        to: "checkout:9".to_owned(),
        ran_until: None,
    };
    let refused = e.apply(&alice(), &checkout(), &unregistered).await;
    assert!(
        matches!(&refused, Err(EffectError::Refused { message, .. }) if message.starts_with("ClientException")),
        "{refused:?}"
    );
    let gone = Target::service(ServiceRef::new("prod", "nope"));
    let refused = e.apply(&alice(), &gone, &scale).await;
    assert!(
        matches!(&refused, Err(EffectError::Refused { message, .. }) if message.starts_with("ServiceNotFoundException")),
        "{refused:?}"
    );
    assert_eq!(writes(&rig.proxy), 2);
    assert_eq!(in_moto(&rig, "checkout").await.desired_count(), 2);
    assert!(actions_enabled(&rig, "checkout-5xx-high").await);

    // The role not assumed: nothing is written at all.
    rig.proxy
        .answer(Answer::query_error("AssumeRole", 403, "AccessDenied"));
    rig.proxy.forget();
    let role = e.apply(&alice(), &checkout(), &scale).await;
    assert!(matches!(role, Err(EffectError::Role(_))), "{role:?}");
    assert_eq!(writes(&rig.proxy), 0);
    rig.proxy.pass_all();
    rig.proxy.forget();
    let unconfigured = AwsEffector::new(&sdk_for(&rig.proxy.url).await, ActionRoles::default());
    let role = unconfigured.apply(&alice(), &checkout(), &scale).await;
    assert!(matches!(role, Err(EffectError::Role(_))), "{role:?}");
    let elsewhere = Target {
        account: Some("staging".to_owned()),
        ..checkout()
    };
    let role = e.apply(&alice(), &elsewhere, &scale).await;
    assert!(matches!(role, Err(EffectError::Role(_))), "{role:?}");
    assert!(rig.proxy.requests().is_empty(), "not even an AssumeRole");
}
