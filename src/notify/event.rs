//! The events opsvoice is told about, from their wire shapes: EventBridge envelopes
//! (`aws.cloudwatch` "CloudWatch Alarm State Change", `aws.ecs` "ECS Deployment State
//! Change" and "ECS Service Action"), and the JSON a CloudWatch alarm action publishes to
//! SNS. Parsing is lenient about fields we do not use and strict about the ones we do: an
//! event missing one is [`Unusable`], logged and counted, never a failure.

use std::time::SystemTime;

use serde::Deserialize;
use serde_json::Value;

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
    pub region: Option<String>,
    /// `Namespace/MetricName` when the event says.
    pub metric: Option<String>,
}

/// What a deployment event says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, Deserialize)]
pub enum DeploymentOutcome {
    InProgress,
    Completed,
    Failed,
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
    pub kind: String,
    pub why: String,
}

fn unusable(source_label: &'static str, kind: &str, why: impl Into<String>) -> Unusable {
    Unusable {
        source_label,
        kind: kind.chars().take(64).collect(),
        why: why.into(),
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

/// Whether `value` looks like an EventBridge envelope.
#[must_use]
pub fn is_eventbridge(value: &Value) -> bool {
    value.get("detail-type").is_some()
        && value.get("source").is_some()
        && value.get("detail").is_some()
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
    region: Option<String>,
    #[serde(default)]
    resources: Vec<String>,
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

/// The event in an EventBridge envelope.
///
/// # Errors
/// An envelope of another kind, or one missing what we use.
pub fn from_eventbridge(value: &Value) -> Result<Event, Unusable> {
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
            let metric = d
                .pointer("/configuration/metrics")
                .and_then(Value::as_array)
                .and_then(|m| {
                    m.iter().find_map(|m| {
                        let metric = m.pointer("/metricStat/metric")?;
                        Some(format!(
                            "{}/{}",
                            metric.get("namespace")?.as_str()?,
                            metric.get("name")?.as_str()?
                        ))
                    })
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
                region: envelope.region,
                metric,
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
            let outcome = match name.as_str() {
                "SERVICE_DEPLOYMENT_IN_PROGRESS" => DeploymentOutcome::InProgress,
                "SERVICE_DEPLOYMENT_COMPLETED" => DeploymentOutcome::Completed,
                "SERVICE_DEPLOYMENT_FAILED" if reason.to_ascii_lowercase().contains("roll") => {
                    DeploymentOutcome::RolledBack
                }
                "SERVICE_DEPLOYMENT_FAILED" => DeploymentOutcome::Failed,
                other => {
                    return Err(unusable(
                        "eventbridge",
                        kind,
                        format!("unknown eventName {other:?}"),
                    ));
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
            }))
        }
        (source, _) => Err(unusable(
            "eventbridge",
            kind,
            format!("{source} {kind:?} is not an event opsvoice uses"),
        )),
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
    let metric = message.get("Trigger").and_then(|t| {
        Some(format!(
            "{}/{}",
            t.get("Namespace")?.as_str()?,
            t.get("MetricName")?.as_str()?
        ))
    });
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
        region: text("Region"),
        metric,
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
