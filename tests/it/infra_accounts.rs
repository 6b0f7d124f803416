//! Many accounts in `infra/` (issue 32): the member-account template's read role may make
//! exactly the read calls the code makes (ECS, CloudWatch, CloudWatch Logs) and its actions
//! role exactly the writes of acting, each trusting only the function's role; its one rule
//! forwards the events the notifier reads to the central bus; and the central template's
//! default event bus accepts `events:PutEvents` from the organisation only.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use crate::infra::{Deployed, WRITES, sdk_calls};

const FUNCTION_ROLE: &str = "arn:aws:iam::999999999999:role/opsvoice-FunctionRole-1AB2";
const BUS: &str = "arn:aws:events:eu-west-1:999999999999:event-bus/default";

fn load(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("infra")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The actions a role's inline policies allow (every statement an Allow, no wildcard).
fn allowed(role: &Value) -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    for policy in role["Properties"]["Policies"].as_array().unwrap() {
        for statement in policy["PolicyDocument"]["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow", "{statement}");
            for action in statement["Action"].as_array().unwrap() {
                let action = action.as_str().unwrap();
                assert!(!action.contains('*'), "wildcard action {action}");
                assert!(actions.insert(action.to_owned()), "{action} granted twice");
            }
        }
    }
    actions
}

/// The role's one trust statement.
fn trust(role: &Value) -> &Value {
    let statements = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    assert_eq!(statements.len(), 1, "{statements:#?}");
    &statements[0]
}

#[test]
fn the_member_roles_may_make_exactly_the_calls_the_code_makes_and_trust_only_the_function() {
    let t = load("member-account.json");
    let deployed = Deployed::new(
        &t,
        &[
            ("FunctionRoleArn", FUNCTION_ROLE),
            ("Actions", "on"),
            ("ExternalId", "opsvoice-7f3"),
            ("CentralEventBusArn", BUS),
        ],
    );
    let resources = deployed.resources(&t);
    // Reading: the code's ECS, CloudWatch and Logs calls, but the writes.
    let reads: BTreeSet<String> = sdk_calls()
        .into_iter()
        .filter(|c| {
            ["ecs:", "cloudwatch:", "logs:"]
                .iter()
                .any(|s| c.starts_with(s))
                && !WRITES.contains(&c.as_str())
        })
        .collect();
    assert!(reads.contains("logs:StartQuery") && reads.contains("ecs:DescribeServices"));
    assert_eq!(allowed(&resources["ReadRole"]), reads);
    let writes: BTreeSet<String> = WRITES.iter().map(|w| (*w).to_owned()).collect();
    assert_eq!(allowed(&resources["ActionsRole"]), writes);

    let read = trust(&resources["ReadRole"]);
    assert_eq!(read["Principal"], json!({ "AWS": FUNCTION_ROLE }));
    assert_eq!(read["Action"], "sts:AssumeRole");
    assert_eq!(
        read["Condition"],
        json!({ "StringEquals": { "sts:ExternalId": "opsvoice-7f3" } })
    );
    let act = trust(&resources["ActionsRole"]);
    assert_eq!(act["Principal"], json!({ "AWS": FUNCTION_ROLE }));
    assert_eq!(
        act["Action"],
        json!(["sts:AssumeRole", "sts:SetSourceIdentity"]),
        "the person is named on every write"
    );
    assert_eq!(
        resources["ReadRole"]["Properties"]["RoleName"],
        "opsvoice-read"
    );
    assert_eq!(
        resources["ActionsRole"]["Properties"]["RoleName"],
        "opsvoice-act"
    );

    // The one rule: the events the notifier reads, to the central bus, with a role.
    let rule = &resources["ForwardRule"]["Properties"];
    assert_eq!(
        rule["EventPattern"]["source"],
        json!(["aws.ecs", "aws.cloudwatch"])
    );
    assert_eq!(
        rule["EventPattern"]["detail-type"],
        json!([
            "ECS Deployment State Change",
            "ECS Service Action",
            "CloudWatch Alarm State Change"
        ])
    );
    assert_eq!(rule["Targets"][0]["Arn"], BUS);
    assert_eq!(rule["Targets"][0]["RoleArn"], "ForwardRole.Arn");
    assert_eq!(
        allowed(&resources["ForwardRole"]),
        BTreeSet::from(["events:PutEvents".to_owned()])
    );
    assert_eq!(
        resources["ForwardRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0]["Resource"],
        BUS
    );
    assert_eq!(
        trust(&resources["ForwardRole"])["Principal"],
        json!({ "Service": "events.amazonaws.com" })
    );
}

#[test]
fn the_member_template_makes_only_what_its_parameters_ask_for() {
    let t = load("member-account.json");
    let names = |overrides: &[(&str, &str)]| -> BTreeSet<String> {
        let mut all = vec![("FunctionRoleArn", FUNCTION_ROLE)];
        all.extend_from_slice(overrides);
        Deployed::new(&t, &all).resources(&t).into_keys().collect()
    };
    let set = |ids: &[&str]| ids.iter().map(|i| (*i).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(names(&[]), set(&["ReadRole"]), "read only by default");
    assert_eq!(
        names(&[("Roles", "off"), ("CentralEventBusArn", BUS)]),
        set(&["ForwardRole", "ForwardRule"]),
        "another region: the rule only (roles are global)"
    );
    let deployed = Deployed::new(&t, &[("FunctionRoleArn", FUNCTION_ROLE)]);
    let resources = deployed.resources(&t);
    assert!(
        trust(&resources["ReadRole"]).get("Condition").is_none(),
        "no external id: no condition"
    );
}

#[test]
fn the_central_bus_accepts_events_from_the_organisation_only() {
    let t = load("template.json");
    let org = "o-a1b2c3d4e5";
    let resources = Deployed::new(&t, &[("OrganizationId", org), ("Actions", "off")]).resources(&t);
    let policy = &resources["MemberAccountEvents"]["Properties"];
    assert_eq!(policy["EventBusName"], "default");
    let statement = &policy["Statement"];
    assert_eq!(statement["Action"], "events:PutEvents");
    assert_eq!(statement["Principal"], "*");
    assert_eq!(
        statement["Condition"],
        json!({ "StringEquals": { "aws:PrincipalOrgID": org } })
    );
    // The function may assume the member roles, in the organisation only.
    let assume =
        &resources["FunctionMemberAccountsPolicy"]["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(
        assume["Resource"],
        json!(["arn:aws:iam::*:role/opsvoice-read"])
    );
    assert_eq!(
        assume["Condition"],
        json!({ "StringEquals": { "aws:ResourceOrgID": org } })
    );
    let acting = Deployed::new(&t, &[("OrganizationId", org), ("Actions", "on")]).resources(&t);
    let statements =
        &acting["FunctionMemberAccountsPolicy"]["Properties"]["PolicyDocument"]["Statement"];
    assert_eq!(
        statements[0]["Resource"],
        json!([
            "arn:aws:iam::*:role/opsvoice-read",
            "arn:aws:iam::*:role/opsvoice-act"
        ])
    );
    assert_eq!(statements[1]["Action"], json!(["sts:SetSourceIdentity"]));
    assert_eq!(
        statements[1]["Resource"],
        "arn:aws:iam::*:role/opsvoice-act"
    );
    // Without an organisation: neither.
    let alone = Deployed::new(&t, &[]).resources(&t);
    assert!(!alone.contains_key("MemberAccountEvents"));
    assert!(!alone.contains_key("FunctionMemberAccountsPolicy"));
}
