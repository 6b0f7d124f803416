//! `infra/template.json`: the function's IAM permissions are exactly the AWS calls the code
//! makes, named action by action, and the template wires what the code expects.
//! (cfn-lint and checkov validate the template in `scripts/test.sh`.)
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

/// The writes opsvoice makes to the fleet, all through the actions role: restart, roll back
/// and scale (`UpdateService`), silence and its end (`DisableAlarmActions`,
/// `EnableAlarmActions`).
const WRITES: [&str; 3] = [
    "ecs:UpdateService",
    "cloudwatch:DisableAlarmActions",
    "cloudwatch:EnableAlarmActions",
];

/// What the function needs to act as a person: assume the actions role, naming them.
const ASSUME: [&str; 2] = ["sts:AssumeRole", "sts:SetSourceIdentity"];

fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("infra/template.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `describe_services` -> `DescribeServices`.
fn pascal(snake: &str) -> String {
    snake
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Every `<receiver>.<operation>()` call on an AWS SDK client in `src/`, as an IAM action.
/// The receivers are the names the code gives its clients; each maps to a service.
fn sdk_calls() -> BTreeSet<String> {
    // (receiver, service, the file it must be in, if any): the Lex runtime and Polly
    // clients are each used in one file, behind their trait.
    const RECEIVERS: &[(&str, &str, Option<&str>)] = &[
        ("self.ecs", "ecs", None),
        ("self.cloudwatch", "cloudwatch", None),
        ("self.client", "lex", Some("channel/ask.rs")),
        ("self.client().await", "polly", Some("speech/polly.rs")),
        ("self.client", "dynamodb", Some("store/dynamo.rs")),
        ("sns", "sns", Some("notify/http.rs")),
    ];
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![root];
    let mut calls = BTreeSet::new();
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        // Without whitespace, a call chained over lines reads `bot.client.recognize_text()`.
        let source: String = std::fs::read_to_string(&path)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for (receiver, service, file) in RECEIVERS {
            if file.is_some_and(|f| !path.ends_with(f)) {
                continue;
            }
            let mut rest = source.as_str();
            while let Some(at) = rest.find(receiver) {
                let before = rest[..at].chars().next_back();
                rest = &rest[at + receiver.len()..];
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                    continue;
                }
                let Some(after) = rest.strip_prefix('.') else {
                    continue;
                };
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                let tail = &after[name.len()..];
                if !name.is_empty() && tail.starts_with("()") {
                    calls.insert(format!("{service}:{}", pascal(&name)));
                }
            }
        }
    }
    calls
}

fn function_actions(t: &Value) -> BTreeSet<String> {
    let resources = t["Resources"].as_object().unwrap();
    let mut documents = Vec::new();
    for policy in resources["FunctionRole"]["Properties"]["Policies"]
        .as_array()
        .unwrap()
    {
        documents.push(policy["PolicyDocument"].clone());
    }
    for resource in resources.values() {
        if resource["Type"] == "AWS::IAM::Policy"
            && resource["Properties"]["Roles"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["Ref"] == "FunctionRole")
        {
            documents.push(resource["Properties"]["PolicyDocument"].clone());
        }
    }
    let mut actions = BTreeSet::new();
    for doc in documents {
        for statement in doc["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow");
            let list = match &statement["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(a) => a.iter().map(|a| a.as_str().unwrap().to_owned()).collect(),
                other => panic!("unexpected Action {other}"),
            };
            for action in list {
                assert!(!action.contains('*'), "wildcard action {action}");
                assert!(actions.insert(action.clone()), "{action} granted twice");
            }
        }
    }
    actions
}

#[test]
fn the_function_may_make_exactly_the_calls_the_code_makes() {
    let calls = sdk_calls();
    // The scan finds the calls it should (so it cannot pass by finding nothing).
    for expected in [
        "ecs:ListClusters",
        "ecs:ListServices",
        "ecs:DescribeServices",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DescribeAlarmHistory",
        "cloudwatch:GetMetricData",
        "cloudwatch:ListMetrics",
        "polly:SynthesizeSpeech",
        "lex:RecognizeText",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:Scan",
        "sns:ConfirmSubscription",
    ] {
        assert!(
            calls.contains(expected),
            "the scan missed {expected}: {calls:?}"
        );
    }
    let granted = function_actions(&template());
    // Writing logs, and assuming the actions role; the writes themselves are the actions
    // role's (below), never the function's.
    let extra: BTreeSet<String> = ["logs:CreateLogStream", "logs:PutLogEvents"]
        .into_iter()
        .chain(ASSUME)
        .map(String::from)
        .collect();
    let expected: BTreeSet<String> = calls
        .iter()
        .filter(|c| !WRITES.contains(&c.as_str()))
        .chain(&extra)
        .cloned()
        .collect();
    assert_eq!(
        granted, expected,
        "granted (left) must equal the SDK calls in src/ but the writes, plus writing logs and \
         assuming the actions role (right)"
    );
}

#[test]
fn the_counted_upstream_calls_are_the_same_as_the_scanned_ones() {
    // ECS and CloudWatch calls are labelled for metrics as "service:Operation"; the labels
    // and the scan must agree, or one of them is wrong.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ops/aws");
    let mut labels = BTreeSet::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for piece in source.split('"').skip(1).step_by(2) {
            if let Some((service, op)) = piece.split_once(':')
                && ["ecs", "cloudwatch"].contains(&service)
                && op.chars().all(|c| c.is_ascii_alphabetic())
                && op.starts_with(|c: char| c.is_ascii_uppercase())
            {
                labels.insert(piece.to_owned());
            }
        }
    }
    let scanned: BTreeSet<String> = sdk_calls()
        .into_iter()
        .filter(|c| c.starts_with("ecs:") || c.starts_with("cloudwatch:"))
        .collect();
    assert_eq!(labels, scanned);
}

#[test]
fn the_template_wires_what_the_code_expects() {
    let t = template();
    let r = &t["Resources"];
    let function = &r["Function"]["Properties"];
    assert_eq!(function["Runtime"], "provided.al2023");
    assert_eq!(function["Handler"], "bootstrap");
    let env = function["Environment"]["Variables"].as_object().unwrap();
    // Only names from the configuration contract.
    let config: String =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/config"))
            .unwrap()
            .map(|f| std::fs::read_to_string(f.unwrap().path()).unwrap())
            .collect();
    for name in env.keys() {
        assert!(
            config.contains(&format!("\"{name}\"")),
            "{name} is not a setting"
        );
    }
    assert_eq!(env["OPSVOICE_BACKEND"], "aws");
    assert!(env.contains_key("OPSVOICE_COGNITO_USER_POOL_ID"));
    assert!(env.contains_key("OPSVOICE_COGNITO_CLIENT_IDS"));
    assert!(env.contains_key("OPSVOICE_POLICY_FILE"));
    // The code hook: the bot alias calls the function, and Lex may invoke it.
    let hook = &r["BotAlias"]["Properties"]["BotAliasLocaleSettings"][0]["BotAliasLocaleSetting"]["CodeHookSpecification"]
        ["LambdaCodeHook"];
    assert_eq!(hook["LambdaArn"]["Fn::GetAtt"][0], "Function");
    assert_eq!(hook["CodeHookInterfaceVersion"], "1.0");
    assert_eq!(
        r["LexPermission"]["Properties"]["Principal"],
        "lexv2.amazonaws.com"
    );
    // Alexa may invoke it, for this skill only.
    let alexa = &r["AlexaPermission"]["Properties"];
    assert_eq!(alexa["Principal"], "alexa-appkit.amazon.com");
    assert_eq!(alexa["EventSourceToken"]["Ref"], "AlexaSkillId");
    // The groups the example policy names exist.
    let groups: BTreeSet<&str> = r
        .as_object()
        .unwrap()
        .values()
        .filter(|v| v["Type"] == "AWS::Cognito::UserPoolGroup")
        .map(|v| v["Properties"]["GroupName"].as_str().unwrap())
        .collect();
    let policy =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("infra/policy.toml"))
            .unwrap();
    opsvoice::auth::policy::Policy::from_toml(&policy).unwrap();
    for group in &groups {
        assert!(policy.contains(&format!("[groups.{group}]")), "{group}");
    }
    // Logs are kept for a bounded time.
    assert!(
        r["LogGroup"]["Properties"]["RetentionInDays"]
            .get("Ref")
            .is_some()
    );
}

#[test]
fn the_slack_manifest_points_at_our_routes_with_the_scopes_we_use() {
    let raw = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("infra/slack-manifest.json"),
    )
    .unwrap();
    let m: Value = serde_json::from_str(&raw).unwrap();
    let settings = &m["settings"];
    assert!(
        settings["event_subscriptions"]["request_url"]
            .as_str()
            .unwrap()
            .ends_with("/slack/events")
    );
    assert!(
        settings["interactivity"]["request_url"]
            .as_str()
            .unwrap()
            .ends_with("/slack/interactions")
    );
    let command = &m["features"]["slash_commands"][0];
    assert_eq!(command["command"], "/ops");
    assert!(
        command["url"]
            .as_str()
            .unwrap()
            .ends_with("/slack/commands")
    );
    let events: BTreeSet<&str> = settings["event_subscriptions"]["bot_events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(events, BTreeSet::from(["app_mention", "message.im"]));
    let scopes: BTreeSet<&str> = m["oauth_config"]["scopes"]["bot"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    // chat.postMessage / postEphemeral / update need chat:write; the events need their
    // read scopes; the slash command needs commands. Nothing more.
    assert_eq!(
        scopes,
        BTreeSet::from([
            "app_mentions:read",
            "chat:write",
            "commands",
            "im:history",
            "im:read",
            "im:write"
        ])
    );
    // The Web API methods the code calls are the ones chat:write covers.
    let slack = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("src/channel/slack/mod.rs"),
    )
    .unwrap();
    for method in slack.split('"').filter(|s| s.starts_with("chat.")) {
        assert!(
            ["chat.postMessage", "chat.postEphemeral", "chat.update"].contains(&method),
            "{method}"
        );
    }
}

/// Every policy statement in `value` (IAM policies, key policies, topic policies, trust
/// policies), wherever it sits, with the path of the resource it is in.
fn statements<'a>(path: &str, value: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(list)) = map.get("Statement") {
                out.extend(list.iter().map(|s| (path.to_owned(), s)));
            }
            for (k, v) in map {
                statements(&format!("{path}/{k}"), v, out);
            }
        }
        Value::Array(list) => {
            for (i, v) in list.iter().enumerate() {
                statements(&format!("{path}/{i}"), v, out);
            }
        }
        _ => {}
    }
}

/// Whether `statement` is a key policy's account statement, which lets the account's own
/// IAM policies decide who uses the key (AWS's default key policy). Its `kms:*` grants
/// nobody anything by itself; without it the key would be unmanageable.
fn delegates_to_iam(path: &str, statement: &Value) -> bool {
    path.ends_with("/KeyPolicy")
        && statement["Sid"] == "AccountAdministers"
        && statement["Action"] == "kms:*"
        && statement["Principal"]["AWS"]["Fn::Sub"]
            == "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
}

#[test]
fn no_policy_in_the_template_grants_an_action_by_wildcard() {
    // Issue 30, defect 12: the data key's policy granted `kms:GenerateDataKey*`.
    let t = template();
    let mut found = Vec::new();
    statements("", &t["Resources"], &mut found);
    assert!(
        found.len() >= 10,
        "the scan found {} statements",
        found.len()
    );
    let mut wildcards = Vec::new();
    for (path, statement) in found {
        let actions: Vec<&str> = match &statement["Action"] {
            Value::String(a) => vec![a.as_str()],
            Value::Array(a) => a.iter().map(|a| a.as_str().unwrap()).collect(),
            Value::Null => Vec::new(),
            other => panic!("{path}: unexpected Action {other}"),
        };
        assert!(
            statement.get("NotAction").is_none(),
            "{path}: NotAction grants everything else"
        );
        for action in actions {
            if (action.contains('*') || action.contains('?')) && !delegates_to_iam(&path, statement)
            {
                wildcards.push(format!("{path}: {action}"));
            }
        }
    }
    assert!(wildcards.is_empty(), "wildcard actions: {wildcards:#?}");
}
