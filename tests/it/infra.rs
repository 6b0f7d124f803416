//! `infra/template.json`: the function's IAM permissions are exactly the AWS calls the code
//! makes, named action by action; the only writes to the fleet go through the actions role,
//! which only the function may assume, naming the person; and the template wires what the
//! code expects. (cfn-lint and checkov validate the template in `scripts/test.sh`.)
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use opsvoice::auth::Principal;
use opsvoice::auth::policy::Policy;
use opsvoice::ops::ServiceRef;
use opsvoice::vocab::Verb;
use serde_json::{Value, json};

/// The writes opsvoice makes to the fleet, all through the actions role: restart, roll back
/// and scale (`UpdateService`), silence and its end (`DisableAlarmActions`,
/// `EnableAlarmActions`).
pub(super) const WRITES: [&str; 3] = [
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
pub(super) fn sdk_calls() -> BTreeSet<String> {
    // (receiver, service, the file it must be in, if any): the Lex runtime and Polly
    // clients are each used in one file, behind their trait.
    const RECEIVERS: &[(&str, &str, Option<&str>)] = &[
        ("self.ecs", "ecs", None),
        ("self.cloudwatch", "cloudwatch", None),
        ("self.client", "lex", Some("channel/ask.rs")),
        ("self.client().await", "polly", Some("speech/polly.rs")),
        ("self.client", "dynamodb", Some("store/dynamo.rs")),
        ("sns", "sns", Some("notify/http.rs")),
        ("self.logs", "logs", Some("ops/logs/aws.rs")),
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
            // A statement present under a condition: as when it holds.
            let statement = statement
                .get("Fn::If")
                .map_or(statement, |branches| &branches[1]);
            assert_eq!(statement["Effect"], "Allow");
            let list = match &statement["Action"] {
                Value::String(a) => vec![a.clone()],
                Value::Array(a) => a.iter().map(|a| a.as_str().unwrap().to_owned()).collect(),
                other => panic!("unexpected Action {other}"),
            };
            for action in list {
                assert!(!action.contains('*'), "wildcard action {action}");
                // Assuming roles is granted twice: this account's actions role, and the
                // member accounts' roles (with many accounts); anything else once.
                assert!(
                    actions.insert(action.clone()) || ASSUME.contains(&action.as_str()),
                    "{action} granted twice"
                );
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
        "logs:StartQuery",
        "logs:GetQueryResults",
        "logs:StopQuery",
        "ecs:DescribeTaskDefinition",
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
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/ops");
    let mut labels = BTreeSet::new();
    let sources = std::fs::read_dir(src.join("aws"))
        .unwrap()
        .chain(std::fs::read_dir(src.join("logs")).unwrap());
    for entry in sources {
        let source = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for piece in source.split('"').skip(1).step_by(2) {
            if let Some((service, op)) = piece.split_once(':')
                && ["ecs", "cloudwatch", "logs"].contains(&service)
                && op.chars().all(|c| c.is_ascii_alphabetic())
                && op.starts_with(|c: char| c.is_ascii_uppercase())
            {
                labels.insert(piece.to_owned());
            }
        }
    }
    let scanned: BTreeSet<String> = sdk_calls()
        .into_iter()
        .filter(|c| c.starts_with("ecs:") || c.starts_with("cloudwatch:") || c.starts_with("logs:"))
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
    // read scopes; the slash command needs commands; a chart's upload
    // (files.getUploadURLExternal, files.completeUploadExternal) needs files:write.
    // Nothing more.
    assert_eq!(
        scopes,
        BTreeSet::from([
            "app_mentions:read",
            "chat:write",
            "commands",
            "files:write",
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

// ---------------------------------------------------------------------------------------
// Acting (issue 31): the actions role, its trust, the function's way to it, the schedule.
// ---------------------------------------------------------------------------------------

/// The account and region the template is resolved in below (the partition is `aws`).
const ACCOUNT: &str = "111111111111";
const REGION: &str = "eu-west-1";

/// The template as CloudFormation would deploy it with these parameter values (the rest at
/// their defaults): conditions decided, `Fn::If`, `Fn::Sub`, `Fn::Join`, `Fn::Split` and
/// `Fn::Select` applied, `AWS::NoValue` dropped, resources whose condition is false left
/// out. `Ref` to a resource gives its logical id; `Fn::GetAtt` gives `Id.Attribute`.
pub(super) struct Deployed {
    params: BTreeMap<String, String>,
    conditions: BTreeMap<String, Value>,
}

impl Deployed {
    pub(super) fn new(t: &Value, overrides: &[(&str, &str)]) -> Self {
        let mut params = BTreeMap::new();
        for (name, spec) in t["Parameters"].as_object().unwrap() {
            let value = match &spec["Default"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                _ => String::new(),
            };
            params.insert(name.clone(), value);
        }
        for (name, value) in overrides {
            assert!(params.contains_key(*name), "no parameter {name}");
            params.insert((*name).to_owned(), (*value).to_owned());
        }
        let conditions = t["Conditions"]
            .as_object()
            .unwrap()
            .clone()
            .into_iter()
            .collect();
        Self { params, conditions }
    }

    pub(super) fn holds(&self, name: &str) -> bool {
        self.condition(&self.conditions[name])
    }

    fn condition(&self, c: &Value) -> bool {
        let (f, args) = c.as_object().unwrap().iter().next().unwrap();
        match f.as_str() {
            "Fn::Equals" => self.resolve(&args[0]) == self.resolve(&args[1]),
            "Fn::Not" => !self.condition(&args[0]),
            "Fn::And" => args.as_array().unwrap().iter().all(|a| self.condition(a)),
            "Fn::Or" => args.as_array().unwrap().iter().any(|a| self.condition(a)),
            "Condition" => self.holds(args.as_str().unwrap()),
            other => panic!("condition function {other}"),
        }
    }

    fn reference(&self, name: &str) -> Option<String> {
        Some(match name {
            "AWS::NoValue" => return None,
            "AWS::Partition" => "aws".to_owned(),
            "AWS::Region" => REGION.to_owned(),
            "AWS::AccountId" => ACCOUNT.to_owned(),
            "AWS::StackName" => "opsvoice".to_owned(),
            _ => self
                .params
                .get(name)
                .cloned()
                .unwrap_or_else(|| name.to_owned()),
        })
    }

    fn sub(&self, template: &str, vars: &BTreeMap<String, Value>) -> String {
        let mut out = String::new();
        let mut rest = template;
        while let Some(at) = rest.find("${") {
            out.push_str(&rest[..at]);
            let end = rest[at..].find('}').unwrap() + at;
            let name = &rest[at + 2..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str(&format!("${{{literal}}}"));
            } else if let Some(v) = vars.get(name) {
                out.push_str(v.as_str().unwrap());
            } else {
                out.push_str(&self.reference(name).unwrap());
            }
            rest = &rest[end + 1..];
        }
        out + rest
    }

    /// `value` resolved; `None` for `AWS::NoValue`.
    fn resolve(&self, value: &Value) -> Option<Value> {
        match value {
            Value::Array(list) => Some(list.iter().filter_map(|v| self.resolve(v)).collect()),
            Value::Object(map) if map.len() == 1 => {
                let (k, args) = map.iter().next().unwrap();
                let s = |v: &Value| self.resolve(v).unwrap();
                Some(match k.as_str() {
                    "Ref" => Value::String(self.reference(args.as_str().unwrap())?),
                    "Fn::GetAtt" => json!(format!(
                        "{}.{}",
                        args[0].as_str().unwrap(),
                        args[1].as_str().unwrap()
                    )),
                    "Fn::If" => {
                        let branch = if self.holds(args[0].as_str().unwrap()) {
                            &args[1]
                        } else {
                            &args[2]
                        };
                        return self.resolve(branch);
                    }
                    "Fn::Sub" => match args {
                        Value::String(t) => json!(self.sub(t, &BTreeMap::new())),
                        _ => {
                            let vars = args[1]
                                .as_object()
                                .unwrap()
                                .iter()
                                .map(|(k, v)| (k.clone(), s(v)))
                                .collect();
                            json!(self.sub(args[0].as_str().unwrap(), &vars))
                        }
                    },
                    "Fn::Join" => {
                        let parts: Vec<String> = s(&args[1])
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|p| p.as_str().unwrap().to_owned())
                            .collect();
                        json!(parts.join(args[0].as_str().unwrap()))
                    }
                    "Fn::Split" => {
                        let whole = s(&args[1]);
                        json!(
                            whole
                                .as_str()
                                .unwrap()
                                .split(args[0].as_str().unwrap())
                                .collect::<Vec<_>>()
                        )
                    }
                    "Fn::Select" => {
                        let i: usize = s(&args[0]).as_str().map_or_else(
                            || args[0].as_u64().unwrap() as usize,
                            |n| n.parse().unwrap(),
                        );
                        s(&args[1])[i].clone()
                    }
                    f if f.starts_with("Fn::") => panic!("{f} is not resolved here"),
                    _ => Value::Object(self.object(map)),
                })
            }
            Value::Object(map) => Some(Value::Object(self.object(map))),
            other => Some(other.clone()),
        }
    }

    fn object(&self, map: &serde_json::Map<String, Value>) -> serde_json::Map<String, Value> {
        map.iter()
            .filter_map(|(k, v)| Some((k.clone(), self.resolve(v)?)))
            .collect()
    }

    /// The resources that exist with these parameters, resolved.
    pub(super) fn resources(&self, t: &Value) -> BTreeMap<String, Value> {
        t["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Condition"].as_str().is_none_or(|c| self.holds(c)))
            .map(|(id, r)| (id.clone(), self.resolve(r).unwrap()))
            .collect()
    }
}

/// Every policy document that grants `role` something: its inline policies and the
/// policies attached to it (with its managed policies refused outright).
fn role_documents(resources: &BTreeMap<String, Value>, role: &str) -> Vec<Value> {
    let Some(r) = resources.get(role) else {
        return Vec::new();
    };
    assert!(
        r["Properties"].get("ManagedPolicyArns").is_none(),
        "{role}: a managed policy grants what this test cannot see"
    );
    let mut docs: Vec<Value> = r["Properties"]["Policies"]
        .as_array()
        .map(|p| p.iter().map(|p| p["PolicyDocument"].clone()).collect())
        .unwrap_or_default();
    for resource in resources.values() {
        let attached = ["AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"]
            .contains(&resource["Type"].as_str().unwrap())
            && resource["Properties"]["Roles"]
                .as_array()
                .is_some_and(|roles| roles.iter().any(|r| r.as_str() == Some(role)));
        if attached {
            docs.push(resource["Properties"]["PolicyDocument"].clone());
        }
    }
    docs
}

fn list(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(|s| s.as_str().unwrap().to_owned()).collect(),
        other => panic!("not a string or list: {other}"),
    }
}

fn role_actions(resources: &BTreeMap<String, Value>, role: &str) -> BTreeSet<String> {
    role_documents(resources, role)
        .iter()
        .flat_map(|d| d["Statement"].as_array().unwrap().clone())
        .flat_map(|s| list(&s["Action"]))
        .collect()
}

/// IAM's `*` and `?` wildcards, case-sensitive (as in ARNs).
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether the role's policies allow `action` on `resource` in a request with `context`
/// (condition keys and values). Only `Allow` statements exist here (checked elsewhere);
/// a condition operator this does not know fails the test rather than being ignored.
fn allows(docs: &[Value], action: &str, resource: &str, context: &[(&str, &str)]) -> bool {
    docs.iter()
        .flat_map(|d| d["Statement"].as_array().unwrap().clone())
        .any(|s| {
            assert_eq!(s["Effect"], "Allow");
            list(&s["Action"]).iter().any(|a| a == action)
                // A trust policy has no `Resource`: it is the role itself.
                && s.get("Resource")
                    .is_none_or(|r| list(r).iter().any(|r| glob(r, resource)))
                && conditions_hold(&s["Condition"], context)
        })
}

fn conditions_hold(conditions: &Value, context: &[(&str, &str)]) -> bool {
    let Some(conditions) = conditions.as_object() else {
        return true;
    };
    conditions.iter().all(|(op, keys)| {
        keys.as_object().unwrap().iter().all(|(key, wanted)| {
            let Some((_, have)) = context.iter().find(|(k, _)| k == key) else {
                return false;
            };
            let wanted = list(wanted);
            match op.as_str() {
                "StringLike" | "ArnLike" => wanted.iter().any(|w| glob(w, have)),
                "StringEquals" | "ArnEquals" => wanted.iter().any(|w| w == have),
                other => panic!("condition operator {other}"),
            }
        })
    })
}

/// The parameter sets the acting tests deploy with.
const DEPLOYS: &[&[(&str, &str)]] = &[
    &[],
    &[("Clusters", "prod,staging")],
    &[("Clusters", "prod"), ("SilenceAlarmPrefix", "team-a-")],
    &[("Actions", "off")],
    &[("Actions", "off"), ("Clusters", "prod")],
];

#[test]
fn the_actions_role_may_make_exactly_the_three_writes() {
    let t = template();
    let writes: BTreeSet<String> = WRITES.map(String::from).into();
    for params in DEPLOYS {
        let d = Deployed::new(&t, params);
        let resources = d.resources(&t);
        if d.params["Actions"] == "off" {
            assert!(!resources.contains_key("ActionsRole"), "{params:?}");
            continue;
        }
        assert_eq!(
            role_actions(&resources, "ActionsRole"),
            writes,
            "{params:?}"
        );
    }
    // Actions are on unless the deployer turns them off (the policy file still decides
    // who may act, and ships with acting off).
    assert_eq!(t["Parameters"]["Actions"]["Default"], "on");
}

#[test]
fn the_read_role_never_gains_a_write() {
    let t = template();
    for params in DEPLOYS {
        let d = Deployed::new(&t, params);
        let resources = d.resources(&t);
        for doc in role_documents(&resources, "FunctionRole") {
            for s in doc["Statement"].as_array().unwrap() {
                for action in list(&s["Action"]) {
                    let (service, name) = action.split_once(':').unwrap();
                    assert!(!WRITES.contains(&action.as_str()), "{params:?}: {action}");
                    if ["ecs", "cloudwatch"].contains(&service) {
                        assert!(
                            ["Describe", "List", "Get"]
                                .iter()
                                .any(|p| name.starts_with(p)),
                            "{params:?}: the function's own role may only read ECS and \
                             CloudWatch, not {action}"
                        );
                    }
                    if service == "sts" {
                        assert!(ASSUME.contains(&action.as_str()), "{params:?}: {action}");
                        assert_eq!(list(&s["Resource"]), ["ActionsRole.Arn"], "{params:?}");
                    }
                    assert_ne!(service, "iam", "{params:?}: {action}");
                }
            }
        }
    }
}

#[test]
fn only_the_function_may_assume_the_actions_role_and_only_naming_a_person() {
    let t = template();
    let trust = &t["Resources"]["ActionsRole"]["Properties"]["AssumeRolePolicyDocument"];
    let statements = trust["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{trust:#}");
    let s = &statements[0];
    assert_eq!(s["Effect"], "Allow");
    assert_eq!(
        s["Principal"],
        json!({"AWS": {"Fn::GetAtt": ["FunctionRole", "Arn"]}}),
        "the function's role and nothing else"
    );
    let actions: BTreeSet<String> = list(&s["Action"]).into_iter().collect();
    assert_eq!(actions, ASSUME.map(String::from).into());
    // Without a source identity the role cannot be assumed at all: CloudTrail always
    // names the person.
    let docs = [trust.clone()];
    let role = "arn:aws:iam::111111111111:role/opsvoice-ActionsRole";
    for action in ASSUME {
        assert!(allows(
            &docs,
            action,
            role,
            &[("sts:SourceIdentity", "ana")]
        ));
        assert!(
            !allows(&docs, action, role, &[]),
            "{action} without a SourceIdentity"
        );
    }
}

#[test]
fn the_function_may_assume_exactly_the_actions_role_and_is_told_its_arn() {
    let t = template();
    let raw = &t["Resources"];
    // The function's way to the role exists exactly when the role does.
    assert_eq!(raw["ActionsRole"]["Condition"], "ActionsEnabled");
    assert_eq!(raw["FunctionActionsPolicy"]["Condition"], "ActionsEnabled");
    for params in DEPLOYS {
        let d = Deployed::new(&t, params);
        let resources = d.resources(&t);
        let sts: Vec<(String, Vec<String>)> = role_documents(&resources, "FunctionRole")
            .iter()
            .flat_map(|doc| doc["Statement"].as_array().unwrap().clone())
            .flat_map(|s| {
                list(&s["Action"])
                    .into_iter()
                    .filter(|a| a.starts_with("sts:"))
                    .map(move |a| (a, list(&s["Resource"])))
                    .collect::<Vec<_>>()
            })
            .collect();
        let env = &resources["Function"]["Properties"]["Environment"]["Variables"];
        if d.params["Actions"] == "on" {
            let mut actions: Vec<&str> = sts.iter().map(|(a, _)| a.as_str()).collect();
            actions.sort_unstable();
            assert_eq!(actions, ASSUME, "{params:?}");
            for (action, resource) in &sts {
                assert_eq!(resource, &["ActionsRole.Arn"], "{params:?}: {action}");
            }
            assert_eq!(
                env["OPSVOICE_ACTIONS_ROLE_ARN"], "ActionsRole.Arn",
                "{params:?}"
            );
            assert!(env.get("OPSVOICE_ACTIONS").is_none(), "{params:?}");
        } else {
            assert!(sts.is_empty(), "{params:?}: {sts:?}");
            assert!(env.get("OPSVOICE_ACTIONS_ROLE_ARN").is_none(), "{params:?}");
            // No role to act with: the kill switch says so plainly instead of failing to
            // assume a role that is not there.
            assert_eq!(env["OPSVOICE_ACTIONS"], "off", "{params:?}");
        }
    }
}

#[test]
fn the_actions_role_reaches_only_the_watched_clusters_services_and_the_named_alarms() {
    let t = template();
    let service = |account: &str, region: &str, cluster: &str, name: &str| {
        (
            format!("arn:aws:ecs:{region}:{account}:service/{cluster}/{name}"),
            format!("arn:aws:ecs:{region}:{account}:cluster/{cluster}"),
        )
    };
    let update = |docs: &[Value], (arn, cluster): (String, String)| {
        allows(
            docs,
            "ecs:UpdateService",
            &arn,
            &[("ecs:cluster", &cluster)],
        )
    };
    let alarm = |region: &str, account: &str, name: &str| {
        format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
    };
    let silence = |docs: &[Value], arn: &str| {
        [
            "cloudwatch:DisableAlarmActions",
            "cloudwatch:EnableAlarmActions",
        ]
        .iter()
        .all(|a| allows(docs, a, arn, &[]))
    };

    // Clusters named: their services, in this account and region, and nothing else.
    let d = Deployed::new(&t, &[("Clusters", "prod,staging")]);
    let docs = role_documents(&d.resources(&t), "ActionsRole");
    assert!(update(&docs, service(ACCOUNT, REGION, "prod", "checkout")));
    assert!(update(
        &docs,
        service(ACCOUNT, REGION, "staging", "payments-api")
    ));
    assert!(!update(&docs, service(ACCOUNT, REGION, "dev", "checkout")));
    assert!(!update(
        &docs,
        service(ACCOUNT, REGION, "production", "checkout")
    ));
    assert!(!update(
        &docs,
        service(ACCOUNT, "us-east-1", "prod", "checkout")
    ));
    assert!(!update(
        &docs,
        service("222222222222", REGION, "prod", "checkout")
    ));
    // Nothing else on a service, and no write on the cluster itself.
    assert!(!allows(
        &docs,
        "ecs:DeleteService",
        &service(ACCOUNT, REGION, "prod", "checkout").0,
        &[]
    ));
    // Any alarm in this account and region, none elsewhere (the default prefix is empty).
    assert!(silence(
        &docs,
        &alarm(REGION, ACCOUNT, "checkout-p99-latency-high")
    ));
    assert!(!silence(
        &docs,
        &alarm("us-east-1", ACCOUNT, "checkout-p99-latency-high")
    ));
    assert!(!silence(
        &docs,
        &alarm(REGION, "222222222222", "checkout-p99-latency-high")
    ));
    assert!(!allows(
        &docs,
        "cloudwatch:DeleteAlarms",
        &alarm(REGION, ACCOUNT, "x"),
        &[]
    ));

    // Every cluster watched: every service in this account and region.
    let d = Deployed::new(&t, &[]);
    let docs = role_documents(&d.resources(&t), "ActionsRole");
    assert!(update(&docs, service(ACCOUNT, REGION, "dev", "checkout")));
    assert!(!update(
        &docs,
        service(ACCOUNT, "us-east-1", "dev", "checkout")
    ));
    assert!(!update(
        &docs,
        service("222222222222", REGION, "dev", "checkout")
    ));

    // An alarm-name prefix: only the alarms it names.
    let d = Deployed::new(&t, &[("SilenceAlarmPrefix", "team-a-")]);
    let docs = role_documents(&d.resources(&t), "ActionsRole");
    assert!(silence(
        &docs,
        &alarm(REGION, ACCOUNT, "team-a-checkout-5xx")
    ));
    assert!(!silence(
        &docs,
        &alarm(REGION, ACCOUNT, "team-b-checkout-5xx")
    ));
    // The prefix is a name, never a pattern.
    let pattern = t["Parameters"]["SilenceAlarmPrefix"]["AllowedPattern"]
        .as_str()
        .unwrap();
    let class = pattern
        .split_once('[')
        .unwrap()
        .1
        .split_once(']')
        .unwrap()
        .0;
    assert!(!class.contains('*') && !class.contains('?'), "{pattern}");
}

#[test]
fn a_per_minute_schedule_reaches_the_function_as_a_plain_scheduled_event() {
    // A silence ends on time even with no server running: on Lambda this schedule is the
    // tick that ends it (and delivers queued Slack posts).
    let t = template();
    let resources = t["Resources"].as_object().unwrap();
    let every_minute: Vec<&String> = resources
        .iter()
        .filter(|(_, r)| {
            r["Type"] == "AWS::Events::Rule"
                && ["rate(1 minute)", "cron(* * * * ? *)"]
                    .contains(&r["Properties"]["ScheduleExpression"].as_str().unwrap_or(""))
        })
        .map(|(id, _)| id)
        .filter(|id| {
            let rule = &resources[id.as_str()];
            let props = &rule["Properties"];
            // Always there, whatever the parameters: acting may be on in any deployment.
            rule.get("Condition").is_none()
                && props["State"] == "ENABLED"
                && props["Targets"].as_array().unwrap().iter().any(|target| {
                    target["Arn"] == json!({"Fn::GetAtt": ["Function", "Arn"]})
                        // The event as EventBridge makes it: `source: aws.events`,
                        // `detail-type: Scheduled Event`, not a custom input.
                        && ["Input", "InputPath", "InputTransformer"]
                            .iter()
                            .all(|k| target.get(k).is_none())
                })
        })
        .collect();
    assert!(
        !every_minute.is_empty(),
        "no per-minute schedule invokes the function"
    );
    // EventBridge may invoke the function for it.
    for rule in &every_minute {
        assert!(
            resources.values().any(|p| {
                p["Type"] == "AWS::Lambda::Permission"
                    && p.get("Condition").is_none()
                    && p["Properties"]["Principal"] == "events.amazonaws.com"
                    && p["Properties"]["Action"] == "lambda:InvokeFunction"
                    && p["Properties"]["SourceArn"] == json!({"Fn::GetAtt": [rule, "Arn"]})
            }),
            "no permission for {rule} to invoke the function"
        );
    }
    // And the function knows that shape when it sees it.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lambda.rs");
    let lambda = std::fs::read_to_string(src).unwrap();
    assert!(lambda.contains("\"aws.events\"") && lambda.contains("\"Scheduled Event\""));
}

#[test]
fn the_shipped_policy_gives_shared_devices_no_verb() {
    let text =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("infra/policy.toml"))
            .unwrap();
    // Shipped with acting off; turned on, still no verb for the conference room.
    let on = text.replacen("enabled = false", "enabled = true", 1);
    assert_ne!(
        on, text,
        "infra/policy.toml no longer ships `enabled = false`"
    );
    let policy = Policy::from_toml(&on).unwrap();
    let who = |groups: &[&str]| Principal {
        sub: "00000000-0000-0000-0000-000000000001".to_owned(),
        username: "room-4b".to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
    };
    let checkout = ServiceRef::new("prod", "checkout");
    let room = policy.grants(Some(&who(&["conference-room"])));
    assert!(room.sees(None, Some(&checkout)), "the room still sees prod");
    let oncall = policy.grants(Some(&who(&["oncall"])));
    for verb in Verb::ALL {
        assert!(!room.may_act(verb, None, Some(&checkout)), "{verb}");
        assert!(!room.may_approve(verb, None, Some(&checkout)), "{verb}");
        // Not vacuous: the same file, turned on, lets on-call act.
        assert!(oncall.may_act(verb, None, Some(&checkout)), "{verb}");
    }
}

#[test]
fn acting_adds_no_checkov_skip() {
    // checkov (in scripts/test.sh) must pass the actions role on its merits.
    let t = template();
    let skips: BTreeSet<&str> = t["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter_map(|r| r["Metadata"]["checkov"]["skip"].as_array())
        .flatten()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        skips,
        BTreeSet::from(["CKV_AWS_116", "CKV_AWS_117", "CKV_AWS_258"])
    );
}
