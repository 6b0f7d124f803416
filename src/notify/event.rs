//! The events opsvoice is told about, from their wire shapes: EventBridge envelopes
//! (`aws.cloudwatch` "CloudWatch Alarm State Change", `aws.ecs` "ECS Deployment State
//! Change" and "ECS Service Action"), and the JSON a CloudWatch alarm action publishes to
//! SNS. Parsing is lenient about fields we do not use and strict about the ones we do: an
//! event missing one is [`Unusable`], logged and counted, never a failure.

use std::time::SystemTime;

use serde::Deserialize;
use serde_json::Value;

use super::card::Suppressed;
use crate::ops::ServiceRef;

/// An alarm's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum State {
    Alarm,
    Ok,
    InsufficientData,
}

impl State {
    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ALARM" => Some(Self::Alarm),
            "OK" => Some(Self::Ok),
            "INSUFFICIENT_DATA" => Some(Self::InsufficientData),
            _ => None,
        }
    }
}

/// An alarm changed state.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmChange {
    /// The event's own id (EventBridge `id`, or the SNS `MessageId`): deliveries repeat.
    pub id: String,
    pub alarm: String,
    pub state: State,
    pub previous: Option<State>,
    pub reason: String,
    pub at: SystemTime,
    /// The account the alarm is in (12 digits): the EventBridge envelope's `account`, or
    /// the SNS message's `AWSAccountId`.
    pub account: Option<String>,
    /// Its region code (`eu-west-1`): the envelope's `region`, or the SNS message's
    /// `AlarmArn` (its `Region` is a display name, "US East (N. Virginia)").
    pub region: Option<String>,
    /// `Namespace/MetricName` when the event says (the metric that returns data).
    pub metric: Option<String>,
    /// For a metric-math alarm, what it watches: the label (or else the expression) of
    /// the query that returns data, not any of the metrics it is computed from.
    pub expression: Option<String>,
    /// Where the event's own metric dimensions place it (`ClusterName` and
    /// `ServiceName`): the service, or the cluster alone.
    pub service: Option<ServiceRef>,
    pub cluster: Option<String>,
    /// The alarm's actions are suppressed (a composite alarm's `actionsSuppressedBy`).
    pub suppressed: Option<Suppressed>,
}

/// What a deployment event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum DeploymentOutcome {
    InProgress,
    /// A `SERVICE_DEPLOYMENT_IN_PROGRESS` whose reason says the circuit breaker is rolling
    /// back (the rollback deployment starting).
    RollingBack,
    Completed,
    Failed,
    /// Kept for records written before rollbacks were told by their own events.
    RolledBack,
}

/// An ECS deployment changed state.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentChange {
    pub id: String,
    pub cluster: String,
    pub service: String,
    pub deployment: String,
    pub outcome: DeploymentOutcome,
    pub reason: String,
    pub at: SystemTime,
    /// For a rollback: the deployment it returns to (the id its reason names).
    pub rollback_to: Option<String>,
    /// The account and region (the envelope's, else the service ARN's).
    pub account: Option<String>,
    pub region: Option<String>,
}

/// An ECS service action (steady state, placement failures, …).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceAction {
    pub id: String,
    pub cluster: String,
    pub service: String,
    pub name: String,
    /// `INFO`, `WARN` or `ERROR`.
    pub severity: String,
    pub at: SystemTime,
    /// The account and region (the envelope's, else the service ARN's).
    pub account: Option<String>,
    pub region: Option<String>,
}

/// An event opsvoice can use.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Alarm(AlarmChange),
    Deployment(DeploymentChange),
    ServiceAction(ServiceAction),
}

impl Event {
    /// The event's id, for telling a repeated delivery from a new event.
    #[must_use]
    pub fn id(&self) -> &str {
        match self {
            Self::Alarm(a) => &a.id,
            Self::Deployment(d) => &d.id,
            Self::ServiceAction(s) => &s.id,
        }
    }

    /// Where the event happened, as it says: the account id (12 digits) and the region
    /// code, each when known.
    #[must_use]
    pub fn origin(&self) -> (Option<&str>, Option<&str>) {
        let (account, region) = match self {
            Self::Alarm(a) => (&a.account, &a.region),
            Self::Deployment(d) => (&d.account, &d.region),
            Self::ServiceAction(s) => (&s.account, &s.region),
        };
        (account.as_deref(), region.as_deref())
    }

    /// The cluster the event is about, when it says.
    #[must_use]
    pub fn cluster(&self) -> Option<&str> {
        match self {
            Self::Alarm(a) => a
                .service
                .as_ref()
                .map(|s| s.cluster.as_str())
                .or(a.cluster.as_deref()),
            Self::Deployment(d) => Some(&d.cluster),
            Self::ServiceAction(s) => Some(&s.cluster),
        }
    }

    /// The kind, as the events metric labels it.
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Alarm(_) => "alarm",
            Self::Deployment(_) => "deployment",
            Self::ServiceAction(_) => "service_action",
        }
    }
}

/// Why an event cannot be used: its source and kind as labelled, and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_label} {kind} event not used: {why}")]
pub struct Unusable {
    pub source_label: &'static str,
    /// The event's `detail-type` (or what the message is), cut to 64 characters.
    pub kind: String,
    /// The event's own `source` (`aws.ec2`), cut to 64 characters, when it has one.
    pub event_source: String,
    pub why: String,
    /// `unsupported` (a kind opsvoice does not use) or `malformed` (a kind it uses,
    /// missing what it needs): the skip counter's reason.
    pub reason: &'static str,
}

fn unusable(source_label: &'static str, kind: &str, why: impl Into<String>) -> Unusable {
    Unusable {
        source_label,
        kind: kind.chars().take(64).collect(),
        event_source: String::new(),
        why: why.into(),
        reason: "malformed",
    }
}

/// An RFC 3339 time (`2019-10-02T17:04:40Z`, `2019-10-02T17:04:40.985+0000`).
#[must_use]
pub fn time(raw: &str) -> Option<SystemTime> {
    let raw = raw.trim();
    // CloudWatch's SNS JSON writes `+0000`; RFC 3339 wants `Z` (or `+00:00`).
    let normalised = match raw.strip_suffix("+0000") {
        Some(head) => format!("{head}Z"),
        None => raw.to_owned(),
    };
    let at = aws_smithy_types::DateTime::from_str(
        &normalised,
        aws_smithy_types::date_time::Format::DateTime,
    )
    .ok()?;
    SystemTime::try_from(at).ok()
}

/// Whether `value` looks like an EventBridge envelope: it names its `source` and
/// `detail-type` ("Amazon EventBridge events", EventBridge User Guide). Whether it has the
/// `detail` we need is for [`from_eventbridge`] to say, so an event of a shape we do not
/// know is acknowledged and counted, never retried.
#[must_use]
pub fn is_eventbridge(value: &Value) -> bool {
    value.get("detail-type").is_some() && value.get("source").is_some()
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    id: String,
    #[serde(rename = "detail-type")]
    detail_type: String,
    source: String,
    #[serde(default)]
    time: Option<String>,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    resources: Vec<String>,
    #[serde(default)]
    detail: Value,
}

/// The service ARN's cluster and name: `arn:aws:ecs:region:account:service/cluster/name`
/// (or the old `service/name`, whose cluster is `default`).
fn service_of(arn: &str) -> Option<(String, String)> {
    let resource = arn.split(':').nth(5)?;
    let mut parts = resource.split('/');
    if parts.next()? != "service" {
        return None;
    }
    match (parts.next(), parts.next()) {
        (Some(cluster), Some(name)) => Some((cluster.to_owned(), name.to_owned())),
        (Some(name), None) => Some(("default".to_owned(), name.to_owned())),
        _ => None,
    }
}

/// An AWS account id as an event gives it: exactly 12 digits, or none.
#[must_use]
pub fn account_id(raw: &str) -> Option<String> {
    let raw = raw.trim();
    (raw.len() == 12 && raw.bytes().all(|b| b.is_ascii_digit())).then(|| raw.to_owned())
}

/// A region code (`eu-west-1`), or none (a display name such as "US East (N. Virginia)",
/// or a placeholder).
fn region_code(raw: &str) -> Option<String> {
    let raw = raw.trim();
    crate::config::accounts::is_region(raw).then(|| raw.to_owned())
}

/// The region and account an ARN names (`arn:<partition>:<service>:<region>:<account>:…`),
/// each when it is one.
fn arn_place(arn: &str) -> (Option<String>, Option<String>) {
    let mut parts = arn.split(':');
    if parts.next() != Some("arn") {
        return (None, None);
    }
    let mut parts = parts.skip(2);
    let region = parts.next().and_then(region_code);
    let account = parts.next().and_then(account_id);
    (region, account)
}

/// A dimension's value, from EventBridge's map (`{"ClusterName": "prod"}`) or an SNS
/// alarm message's list (`[{"name": "ClusterName", "value": "prod"}]`).
fn dimension(dimensions: &Value, name: &str) -> Option<String> {
    match dimensions {
        Value::Object(map) => map.get(name)?.as_str().map(str::to_owned),
        Value::Array(list) => list.iter().find_map(|d| {
            let key = d.get("name").or_else(|| d.get("Name"))?.as_str()?;
            if key != name {
                return None;
            }
            d.get("value")
                .or_else(|| d.get("Value"))?
                .as_str()
                .map(str::to_owned)
        }),
        _ => None,
    }
}

/// What an alarm watches and where its metric places it.
#[derive(Debug, Default)]
struct Watched {
    metric: Option<String>,
    expression: Option<String>,
    service: Option<ServiceRef>,
    cluster: Option<String>,
}

impl Watched {
    /// Placement from a metric's dimensions: an ECS service's metrics name `ClusterName`
    /// and `ServiceName`.
    fn place(&mut self, dimensions: &Value) {
        if self.cluster.is_some() {
            return;
        }
        let cluster = dimension(dimensions, "ClusterName").filter(|c| !c.is_empty());
        let service = dimension(dimensions, "ServiceName").filter(|s| !s.is_empty());
        if let (Some(cluster), Some(service)) = (&cluster, &service) {
            self.service = Some(ServiceRef::new(cluster.clone(), service.clone()));
        }
        self.cluster = cluster;
    }
}

/// Keys of a metric query, as EventBridge writes them or as SNS does.
struct Keys {
    id: &'static str,
    expression: &'static str,
    label: &'static str,
    return_data: &'static str,
    metric: &'static str,
    namespace: &'static str,
    name: &'static str,
    dimensions: &'static str,
}

const EVENTBRIDGE_KEYS: Keys = Keys {
    id: "id",
    expression: "expression",
    label: "label",
    return_data: "returnData",
    metric: "/metricStat/metric",
    namespace: "namespace",
    name: "name",
    dimensions: "dimensions",
};

const SNS_KEYS: Keys = Keys {
    id: "Id",
    expression: "Expression",
    label: "Label",
    return_data: "ReturnData",
    metric: "/MetricStat/Metric",
    namespace: "Namespace",
    name: "MetricName",
    dimensions: "Dimensions",
};

/// What a list of metric queries watches: the one that returns data (`ReturnData`; a
/// metric-math alarm has exactly one), named by its label or expression when it is an
/// expression, by `Namespace/MetricName` when it is a metric. The metrics an expression is
/// computed from still place it.
fn watched(queries: &[Value], k: &Keys) -> Watched {
    let returns = queries
        .iter()
        .find(|q| q.get(k.return_data).and_then(Value::as_bool) == Some(true))
        .or_else(|| {
            // None flagged (a sender that leaves the defaults out): an expression is what
            // the metrics are inputs of; else the only metric.
            queries
                .iter()
                .find(|q| q.get(k.expression).is_some())
                .or_else(|| (queries.len() == 1).then(|| &queries[0]))
        });
    let mut out = Watched::default();
    let Some(returns) = returns else {
        return out;
    };
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
            .map(str::to_owned)
    };
    if let Some(metric) = returns.pointer(k.metric) {
        out.metric = match (text(metric, k.namespace), text(metric, k.name)) {
            (Some(ns), Some(name)) => Some(format!("{ns}/{name}")),
            _ => None,
        };
        if let Some(dimensions) = metric.get(k.dimensions) {
            out.place(dimensions);
        }
    } else {
        out.expression = text(returns, k.label)
            .or_else(|| text(returns, k.expression))
            .or_else(|| text(returns, k.id));
    }
    for query in queries {
        if let Some(dimensions) = query.pointer(k.metric).and_then(|m| m.get(k.dimensions)) {
            out.place(dimensions);
        }
    }
    out
}

/// The deployment a circuit breaker's rollback returns to, from the documented reason
/// "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/123." (`Some("")`
/// when it says it is rolling back but names none).
fn rollback_target(reason: &str) -> Option<String> {
    if !reason.to_ascii_lowercase().contains("rolling back") {
        return None;
    }
    let after = reason
        .split_once("deploymentId ")
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .next()
        .unwrap_or("")
        .trim_end_matches(['.', ',', ';']);
    Some(after.to_owned())
}

/// The event in an EventBridge envelope.
///
/// # Errors
/// An envelope of another kind, or one missing what we use; it names the event's own
/// `source` when it has one.
pub fn from_eventbridge(value: &Value) -> Result<Event, Unusable> {
    read_eventbridge(value).map_err(|mut e| {
        e.event_source = value
            .get("source")
            .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
            .unwrap_or_default()
            .chars()
            .take(64)
            .collect();
        if e.kind == "envelope"
            && let Some(kind) = value.get("detail-type")
        {
            e.kind = kind
                .as_str()
                .map_or_else(|| kind.to_string(), str::to_owned)
                .chars()
                .take(64)
                .collect();
            e.reason = "unsupported";
        }
        e
    })
}

fn read_eventbridge(value: &Value) -> Result<Event, Unusable> {
    let envelope: Envelope = serde_json::from_value(value.clone()).map_err(|e| {
        unusable(
            "eventbridge",
            "envelope",
            format!("not an EventBridge event: {e}"),
        )
    })?;
    let kind = envelope.detail_type.as_str();
    let at = envelope
        .time
        .as_deref()
        .and_then(time)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let d = &envelope.detail;
    let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(str::to_owned);
    // Where it happened: the envelope says (`account`, `region`); failing that, the ARN of
    // what it is about.
    let named = envelope.resources.iter().map(|r| arn_place(r));
    let account = envelope
        .account
        .as_deref()
        .and_then(account_id)
        .or_else(|| named.clone().find_map(|(_, a)| a));
    let region = envelope
        .region
        .as_deref()
        .and_then(region_code)
        .or_else(|| named.clone().find_map(|(r, _)| r));
    match (envelope.source.as_str(), kind) {
        ("aws.cloudwatch", "CloudWatch Alarm State Change") => {
            let alarm = text(d, "alarmName")
                .ok_or_else(|| unusable("eventbridge", kind, "no detail.alarmName"))?;
            let state = d
                .get("state")
                .ok_or_else(|| unusable("eventbridge", kind, "no detail.state"))?;
            let value = text(state, "value")
                .and_then(|v| State::parse(&v))
                .ok_or_else(|| {
                    unusable(
                        "eventbridge",
                        kind,
                        "detail.state.value is not ALARM, OK or INSUFFICIENT_DATA",
                    )
                })?;
            let previous = d
                .get("previousState")
                .and_then(|p| text(p, "value"))
                .and_then(|v| State::parse(&v));
            let watched = d
                .pointer("/configuration/metrics")
                .and_then(Value::as_array)
                .map(|queries| watched(queries, &EVENTBRIDGE_KEYS))
                .unwrap_or_default();
            let suppressed = text(state, "actionsSuppressedBy")
                .filter(|by| !by.is_empty() && by != "None")
                .map(|by| Suppressed {
                    by,
                    suppressor: d
                        .pointer("/configuration/actionsSuppressor")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                });
            Ok(Event::Alarm(AlarmChange {
                id: envelope.id,
                alarm,
                state: value,
                previous,
                reason: text(state, "reason").unwrap_or_default(),
                at: text(state, "timestamp")
                    .as_deref()
                    .and_then(time)
                    .unwrap_or(at),
                account,
                region,
                metric: watched.metric,
                expression: watched.expression,
                service: watched.service,
                cluster: watched.cluster,
                suppressed,
            }))
        }
        ("aws.ecs", "ECS Deployment State Change") => {
            let (cluster, service) = envelope
                .resources
                .iter()
                .find_map(|r| service_of(r))
                .ok_or_else(|| unusable("eventbridge", kind, "resources names no ECS service"))?;
            let name = text(d, "eventName").unwrap_or_default();
            let reason = text(d, "reason").unwrap_or_default();
            // The documented names: a rollback is a deployment in progress whose reason
            // says the circuit breaker is rolling back; a failure is `FAILED`, whatever
            // its reason's words.
            let rollback_to = rollback_target(&reason);
            let outcome = match name.as_str() {
                "SERVICE_DEPLOYMENT_IN_PROGRESS" if rollback_to.is_some() => {
                    DeploymentOutcome::RollingBack
                }
                "SERVICE_DEPLOYMENT_IN_PROGRESS" => DeploymentOutcome::InProgress,
                "SERVICE_DEPLOYMENT_COMPLETED" => DeploymentOutcome::Completed,
                "SERVICE_DEPLOYMENT_FAILED" => DeploymentOutcome::Failed,
                other => {
                    let mut e =
                        unusable("eventbridge", kind, format!("unknown eventName {other:?}"));
                    e.reason = "unsupported";
                    return Err(e);
                }
            };
            Ok(Event::Deployment(DeploymentChange {
                id: envelope.id,
                cluster,
                service,
                deployment: text(d, "deploymentId").unwrap_or_default(),
                outcome,
                reason,
                at: text(d, "updatedAt").as_deref().and_then(time).unwrap_or(at),
                rollback_to,
                account,
                region,
            }))
        }
        ("aws.ecs", "ECS Service Action") => {
            let (cluster, service) = envelope
                .resources
                .iter()
                .find_map(|r| service_of(r))
                .ok_or_else(|| unusable("eventbridge", kind, "resources names no ECS service"))?;
            Ok(Event::ServiceAction(ServiceAction {
                id: envelope.id,
                cluster,
                service,
                name: text(d, "eventName").unwrap_or_default(),
                severity: text(d, "eventType").unwrap_or_default(),
                at: text(d, "createdAt").as_deref().and_then(time).unwrap_or(at),
                account,
                region,
            }))
        }
        (source, _) => {
            let mut e = unusable(
                "eventbridge",
                kind,
                format!("{source:?} {kind:?} is not an event opsvoice uses"),
            );
            e.reason = "unsupported";
            Err(e)
        }
    }
}

/// The event in a CloudWatch alarm's own SNS notification (`Message` of an alarm action).
///
/// # Errors
/// A message that is not an alarm notification.
pub fn from_cloudwatch_alarm(message: &Value, id: &str) -> Result<Event, Unusable> {
    let text = |key: &str| message.get(key).and_then(Value::as_str).map(str::to_owned);
    let alarm = text("AlarmName").ok_or_else(|| unusable("sns", "message", "no AlarmName"))?;
    let state = text("NewStateValue")
        .and_then(|v| State::parse(&v))
        .ok_or_else(|| {
            unusable(
                "sns",
                "alarm",
                "NewStateValue is not ALARM, OK or INSUFFICIENT_DATA",
            )
        })?;
    let trigger = message.get("Trigger").unwrap_or(&Value::Null);
    // A metric-math alarm's `Trigger` has `Metrics` (the queries, one of which returns
    // data); a single-metric alarm's names its metric at the top.
    let watched = match trigger.get("Metrics").and_then(Value::as_array) {
        Some(queries) if !queries.is_empty() => watched(queries, &SNS_KEYS),
        _ => {
            let mut single = Watched {
                metric: match (
                    trigger.get("Namespace").and_then(Value::as_str),
                    trigger.get("MetricName").and_then(Value::as_str),
                ) {
                    (Some(ns), Some(name)) => Some(format!("{ns}/{name}")),
                    _ => None,
                },
                ..Watched::default()
            };
            if let Some(dimensions) = trigger.get("Dimensions") {
                single.place(dimensions);
            }
            single
        }
    };
    // `AWSAccountId` names the account; the region is the `AlarmArn`'s (`Region` is a
    // display name such as "US East (N. Virginia)").
    let (arn_region, arn_account) = text("AlarmArn")
        .as_deref()
        .map(arn_place)
        .unwrap_or_default();
    Ok(Event::Alarm(AlarmChange {
        id: id.to_owned(),
        alarm,
        state,
        previous: text("OldStateValue").and_then(|v| State::parse(&v)),
        reason: text("NewStateReason").unwrap_or_default(),
        at: text("StateChangeTime")
            .as_deref()
            .and_then(time)
            .unwrap_or(SystemTime::UNIX_EPOCH),
        account: text("AWSAccountId")
            .as_deref()
            .and_then(account_id)
            .or(arn_account),
        region: arn_region.or_else(|| text("Region").as_deref().and_then(region_code)),
        metric: watched.metric,
        expression: watched.expression,
        service: watched.service,
        cluster: watched.cluster,
        // An alarm whose actions are suppressed publishes nothing to SNS.
        suppressed: None,
    }))
}

/// The event in an SNS `Message`: raw EventBridge JSON, or CloudWatch's alarm JSON.
///
/// # Errors
/// A message that is neither.
pub fn from_sns_message(message: &str, message_id: &str) -> Result<Event, Unusable> {
    let value: Value = serde_json::from_str(message)
        .map_err(|_| unusable("sns", "message", "the Message is not JSON"))?;
    if is_eventbridge(&value) {
        from_eventbridge(&value).map_err(|mut e| {
            e.source_label = "sns";
            e
        })
    } else {
        from_cloudwatch_alarm(&value, message_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample(name: &str) -> Value {
        let text = match name {
            "alarm" => {
                include_str!("../../tests/fixtures/events/cloudwatch-alarm-state-change.json")
            }
            "deployment" => {
                include_str!("../../tests/fixtures/events/ecs-deployment-state-change-failed.json")
            }
            "action" => include_str!("../../tests/fixtures/events/ecs-service-action.json"),
            _ => include_str!("../../tests/fixtures/events/cloudwatch-alarm-sns-message.json"),
        };
        serde_json::from_str(text).unwrap_or_default()
    }

    #[test]
    fn every_sender_names_its_account_and_region_in_the_documented_places() {
        // EventBridge: the envelope's `account` and `region`.
        let alarm = from_eventbridge(&sample("alarm")).unwrap();
        assert_eq!(alarm.origin(), (Some("123456789012"), Some("us-east-1")));
        let deployment = from_eventbridge(&sample("deployment")).unwrap();
        assert_eq!(
            deployment.origin(),
            (Some("111122223333"), Some("us-west-2"))
        );
        assert_eq!(deployment.cluster(), Some("default"));
        let action = from_eventbridge(&sample("action")).unwrap();
        assert!(
            action.origin().0.is_some_and(|a| a.len() == 12),
            "{action:?}"
        );
        // An envelope without them: the ARN of what it is about.
        let mut bare = sample("deployment");
        let envelope = bare.as_object_mut().unwrap();
        envelope.remove("account");
        envelope.remove("region");
        assert_eq!(
            from_eventbridge(&bare).unwrap().origin(),
            (Some("111122223333"), Some("us-west-2"))
        );
        // Not an account id, not a region: not believed.
        let mut odd = sample("alarm");
        odd["account"] = json!("12345");
        odd["region"] = json!("Mars");
        odd["resources"] = json!([]);
        assert_eq!(from_eventbridge(&odd).unwrap().origin(), (None, None));

        // SNS: the documented sample has placeholders in `AlarmArn` and `Region`.
        let message = sample("sns").to_string();
        let sns = from_sns_message(&message, "m-1").unwrap();
        assert_eq!(sns.origin(), (Some("123456789012"), None));
        // As real notifications are written: `Region` a display name, the code in the ARN.
        let mut real = sample("sns");
        real["AWSAccountId"] = json!("052730242331");
        real["Region"] = json!("US East (N. Virginia)");
        real["AlarmArn"] = json!("arn:aws:cloudwatch:us-east-1:052730242331:alarm:Traffic");
        let sns = from_sns_message(&real.to_string(), "m-2").unwrap();
        assert_eq!(sns.origin(), (Some("052730242331"), Some("us-east-1")));
        // No `AWSAccountId`: the ARN's account.
        real.as_object_mut().unwrap().remove("AWSAccountId");
        let sns = from_sns_message(&real.to_string(), "m-3").unwrap();
        assert_eq!(sns.origin().0, Some("052730242331"));
        // An EventBridge event relayed through SNS keeps its envelope's account.
        let relayed = from_sns_message(&sample("alarm").to_string(), "m-4").unwrap();
        assert_eq!(relayed.origin(), (Some("123456789012"), Some("us-east-1")));
    }

    #[test]
    fn rollbacks_expressions_and_dimensions_are_read_in_either_wire_form() {
        assert_eq!(
            rollback_target(
                "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/123."
            )
            .as_deref(),
            Some("ecs-svc/123")
        );
        assert_eq!(
            rollback_target("ECS deployment ecs-svc/123 in progress."),
            None
        );
        // No `returnData` at all: the expression, not its input.
        let w = watched(
            &[
                json!({"id": "m1", "metricStat": {"metric": {"namespace": "AWS/ECS",
                    "name": "CPUUtilization",
                    "dimensions": {"ClusterName": "prod", "ServiceName": "checkout"}}}}),
                json!({"id": "e1", "expression": "m1*2", "label": "doubled CPU"}),
            ],
            &EVENTBRIDGE_KEYS,
        );
        assert_eq!(w.expression.as_deref(), Some("doubled CPU"));
        assert_eq!(w.metric, None);
        assert_eq!(w.service, Some(ServiceRef::new("prod", "checkout")));
        let dims = json!([{"name": "ClusterName", "value": "data"}, {"name": "ServiceName", "value": "etl"}]);
        assert_eq!(dimension(&dims, "ServiceName").as_deref(), Some("etl"));
        assert_eq!(dimension(&dims, "InstanceId"), None);
    }
}
