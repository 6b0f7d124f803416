//! Places that do not exist: "any alerts in staging" on a fleet without a `staging` cluster
//! is told there is no such cluster, never answered for the whole fleet, by every handler
//! that takes a cluster; and a caller who may not see a cluster hears the very same words.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use opsvoice::auth::policy::Policy;
use opsvoice::auth::{Identity, Principal};

/// What the demo fleet says to `question` (the demo has clusters prod, data and edge; no
/// staging).
async fn says(app: &common::DemoApp, question: &str) -> String {
    app.ask(question).await.text
}

#[tokio::test]
async fn a_cluster_that_does_not_exist_is_named_not_dropped() {
    // The user's words (issue 30, defect 11): "any alerts in staging" listed every alarm.
    let app = common::demo_app();
    for question in [
        "any alerts in staging",
        "what's on fire in staging?",
        "fleet summary for staging",
        "how is the staging cluster",
        "what changed in staging",
        "how is checkout doing in staging",
    ] {
        let text = says(&app, question).await;
        assert!(
            text.starts_with("I don't know a cluster called staging."),
            "{question}: {text}"
        );
        assert!(!text.contains("firing"), "{question}: {text}");
    }
}

#[tokio::test]
async fn windows_metrics_and_real_clusters_still_answer() {
    let app = common::demo_app();
    for (question, expected) in [
        ("any alarms in prod", "firing in prod"),
        ("any alarms firing", "alarms are firing"),
        (
            "what changed in the last hour",
            "deployments in the last hour",
        ),
    ] {
        let text = says(&app, question).await;
        assert!(text.contains(expected), "{question}: {text}");
    }
}

#[tokio::test]
async fn a_cluster_the_caller_may_not_see_sounds_like_one_that_does_not_exist() {
    let policy = Policy::from_toml(
        r#"
[groups.prod-only]
clusters = ["prod"]
services = ["*"]
intents  = ["*"]
"#,
    )
    .unwrap();
    let grants = policy.grants(Some(&Principal {
        sub: "s1".to_owned(),
        username: "pat".to_owned(),
        groups: vec!["prod-only".to_owned()],
    }));
    let assistant = common::demo(Identity::new(None, policy, Some(grants)))
        .build()
        .unwrap();
    let app = common::DemoApp { assistant };
    let hidden = says(&app, "any alarms in data").await;
    let missing = says(&app, "any alarms in staging").await;
    assert_eq!(
        hidden.replace("data", "NAME"),
        missing.replace("staging", "NAME"),
        "a hidden cluster must sound like a missing one"
    );
    assert!(
        hidden.starts_with("I don't know a cluster called data."),
        "{hidden}"
    );
    // Their own cluster is answered.
    assert!(says(&app, "any alarms in prod").await.contains("in prod"));
}
