//! A service's logs in CloudWatch Logs: its log groups from its task definition's `awslogs`
//! configuration (`DescribeTaskDefinition`, cached: a revision never changes), then one
//! Logs Insights query over them (`StartQuery`, `GetQueryResults` until it is complete, and
//! `StopQuery` when the deadline passes first, answering with what it found so far).
//!
//! The query asks Insights to filter for error-like lines, but the lines that come back are
//! checked again here ([`super::summarize`]): moto, which the tests run against, applies only
//! `fields`, `sort` and `limit`, and our answer must not depend on which one ran it.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::types::QueryStatus;
use aws_sdk_ecs::types::LogDriver;
use tokio::time::Instant;

use super::{ERROR_WORDS, LogErrors, LogLine, LogQuery, LogSource, MAX_LINES, summarize};
use crate::ops::OpsError;
use crate::ops::aws::{CallCounts, classify, observed_in};

/// How often a running query is asked for its results.
const POLL: Duration = Duration::from_millis(250);
/// The most `StopQuery` may take: the answer is already late.
const STOP_TIMEOUT: Duration = Duration::from_millis(500);

/// The Insights query. Only its `fields`, `sort` and `limit` are what moto runs, and they
/// are enough: the lines come back newest first, each checked again for error words. The
/// `filter` saves real Insights (and our limit) from the lines that are not errors. The
/// expression must not name `fields`, `sort` or `limit` as a word: moto's parser would take
/// it for a command.
#[must_use]
pub fn query_string() -> String {
    format!(
        "fields @timestamp, @message\n| filter @message like /{ERROR_WORDS}/\n| sort @timestamp desc\n| limit {MAX_LINES}"
    )
}

/// A query that ended without results (`Failed`, `Cancelled`, `Timeout`).
#[derive(Debug, thiserror::Error)]
#[error("the Logs Insights query ended {0}")]
struct Ended(String);

/// Where a task definition logs: its `awslogs` groups and their region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Groups {
    names: Vec<String>,
    region: Option<String>,
}

/// CloudWatch Logs (and ECS, for task definitions) through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsLogs {
    ecs: aws_sdk_ecs::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    groups: moka::future::Cache<String, Arc<Groups>>,
    calls: Arc<CallCounts>,
    /// The configured account read, for `/metrics`; `None` without accounts.
    account: Option<Arc<str>>,
}

impl AwsLogs {
    #[must_use]
    pub fn new(ecs: aws_sdk_ecs::Client, logs: aws_sdk_cloudwatchlogs::Client) -> Self {
        Self {
            ecs,
            logs,
            groups: moka::future::Cache::builder().max_capacity(1_000).build(),
            calls: Arc::new(CallCounts::default()),
            account: None,
        }
    }

    /// The same logs, read in the configured account `name`: its calls carry the `account`
    /// label in `/metrics`.
    #[must_use]
    pub fn in_account(mut self, name: &str) -> Self {
        self.account = Some(name.into());
        self
    }

    /// The calls made so far, by API.
    #[must_use]
    pub fn calls(&self) -> Arc<CallCounts> {
        self.calls.clone()
    }

    async fn call<T, O, R>(
        &self,
        api: &'static str,
        request: impl Future<Output = Result<T, aws_smithy_runtime_api::client::result::SdkError<O, R>>>,
    ) -> Result<T, OpsError>
    where
        O: std::error::Error
            + aws_smithy_types::error::metadata::ProvideErrorMetadata
            + Send
            + Sync
            + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let started = std::time::Instant::now();
        observed_in(&self.calls, api, self.account.as_deref(), request)
            .await
            .map_err(|error| classify(api, error, started.elapsed()))
    }

    /// The `awslogs` groups of `task_definition` (every container's; other drivers have no
    /// group we can query).
    async fn groups(&self, task_definition: &str) -> Result<Arc<Groups>, OpsError> {
        if let Some(found) = self.groups.get(task_definition).await {
            return Ok(found);
        }
        let out = self
            .call(
                "ecs:DescribeTaskDefinition",
                self.ecs
                    .describe_task_definition()
                    .task_definition(task_definition)
                    .send(),
            )
            .await?;
        let mut groups = Groups::default();
        let containers = out
            .task_definition()
            .map(|t| t.container_definitions())
            .unwrap_or_default();
        for config in containers.iter().filter_map(|c| c.log_configuration()) {
            if config.log_driver() != &LogDriver::Awslogs {
                continue;
            }
            let options = config.options();
            if let Some(group) = options.and_then(|o| o.get("awslogs-group"))
                && !groups.names.contains(group)
            {
                groups.names.push(group.clone());
            }
            if groups.region.is_none() {
                groups.region = options.and_then(|o| o.get("awslogs-region")).cloned();
            }
        }
        let groups = Arc::new(groups);
        self.groups
            .insert(task_definition.to_owned(), groups.clone())
            .await;
        Ok(groups)
    }

    /// Cancels a query that ran past its deadline. A failure is logged, never told: the
    /// answer already says the query was still running.
    async fn stop(&self, query_id: &str) {
        let stopping = self.call(
            "logs:StopQuery",
            self.logs.stop_query().query_id(query_id).send(),
        );
        match tokio::time::timeout(STOP_TIMEOUT, stopping).await {
            Ok(Ok(_)) => tracing::info!(query_id, "stopped a Logs Insights query at its deadline"),
            Ok(Err(error)) => {
                tracing::warn!(query_id, error = %crate::error::ErrorChain(&error), "StopQuery failed");
            }
            Err(_) => tracing::warn!(query_id, "StopQuery did not answer in time"),
        }
    }
}

fn epoch_secs(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The end of a window in whole seconds, rounded up: Insights takes seconds, and a line
/// logged in the current second is in the window.
fn epoch_secs_up(at: SystemTime) -> i64 {
    let d = at
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let whole = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    i64::try_from(whole).unwrap_or(i64::MAX)
}

/// An `@timestamp` as Insights gives it (`2026-11-22 10:00:00.000`, UTC) or as moto does
/// (milliseconds since the epoch).
fn parse_timestamp(value: &str) -> Option<SystemTime> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        let millis: u64 = value.parse().ok()?;
        return Some(SystemTime::UNIX_EPOCH + Duration::from_millis(millis));
    }
    let (date, time) = value.split_once([' ', 'T'])?;
    let mut d = date.split('-').map(str::parse::<i64>);
    let (y, m, day) = (d.next()?.ok()?, d.next()?.ok()?, d.next()?.ok()?);
    let time = time.trim_end_matches('Z');
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(str::parse::<i64>);
    let (h, min, s) = (t.next()?.ok()?, t.next()?.ok()?, t.next()?.ok()?);
    let millis: i64 = format!("{frac:0<3}").get(..3)?.parse().ok()?;
    let days = days_from_civil(y, m, day);
    let secs = days * 86_400 + h * 3600 + min * 60 + s;
    let total = u64::try_from(secs * 1000 + millis).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_millis(total))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The lines of a `GetQueryResults` answer (rows without a time or a message are skipped).
fn lines_of(rows: &[Vec<aws_sdk_cloudwatchlogs::types::ResultField>]) -> Vec<LogLine> {
    rows.iter()
        .filter_map(|row| {
            let field = |name: &str| {
                row.iter()
                    .find(|f| f.field() == Some(name))
                    .and_then(|f| f.value())
            };
            Some(LogLine {
                at: parse_timestamp(field("@timestamp")?)?,
                message: field("@message")?.to_owned(),
            })
        })
        .collect()
}

#[async_trait]
impl LogSource for AwsLogs {
    async fn errors(&self, query: &LogQuery) -> Result<LogErrors, OpsError> {
        let deadline = Instant::now() + query.deadline;
        let groups = self.groups(&query.task_definition).await?;
        let mut result = LogErrors {
            groups: groups.names.clone(),
            region: groups.region.clone(),
            total: 0,
            capped: false,
            patterns: Vec::new(),
            complete: true,
        };
        if groups.names.is_empty() {
            return Ok(result);
        }
        let from = query.baseline_from.unwrap_or(query.start);
        let starting = self.call(
            "logs:StartQuery",
            self.logs
                .start_query()
                .set_log_group_names(Some(groups.names.clone()))
                .start_time(epoch_secs(from))
                .end_time(epoch_secs_up(query.end))
                .query_string(query_string())
                .limit(MAX_LINES as i32)
                .send(),
        );
        let started = match tokio::time::timeout_at(deadline, starting).await {
            Ok(started) => started?,
            Err(_) => {
                return Err(OpsError::Timeout {
                    api: "logs:StartQuery",
                    after: query.deadline,
                });
            }
        };
        let query_id = started.query_id().unwrap_or_default().to_owned();
        let mut lines = Vec::new();
        let mut complete = false;
        // The first look comes soon: a small window is often done at once.
        let mut wait = Duration::from_millis(100);
        loop {
            if Instant::now() + wait >= deadline {
                break;
            }
            tokio::time::sleep(wait).await;
            wait = POLL;
            let polling = self.call(
                "logs:GetQueryResults",
                self.logs.get_query_results().query_id(&query_id).send(),
            );
            let Ok(out) = tokio::time::timeout_at(deadline, polling).await else {
                break;
            };
            let out = out?;
            lines = lines_of(out.results());
            match out.status() {
                Some(QueryStatus::Complete) => {
                    complete = true;
                    break;
                }
                Some(QueryStatus::Running | QueryStatus::Scheduled) | None => {}
                Some(other) => {
                    return Err(OpsError::Unavailable {
                        api: "logs:GetQueryResults",
                        source: Arc::new(Ended(other.as_str().to_owned())),
                    });
                }
            }
        }
        if !complete {
            self.stop(&query_id).await;
        }
        let (total, patterns) = summarize(&lines, query.start, query.end, query.baseline_from);
        result.total = total;
        result.capped = lines.len() >= MAX_LINES;
        result.patterns = patterns;
        result.complete = complete;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_as_insights_and_as_moto_give_them() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_795_341_600_250);
        assert_eq!(parse_timestamp("2026-11-22 10:00:00.250"), Some(at));
        assert_eq!(parse_timestamp("1795341600250"), Some(at));
        assert_eq!(parse_timestamp("2026-11-22T10:00:00.25Z"), Some(at));
        assert_eq!(parse_timestamp("yesterday"), None);
    }

    #[test]
    fn the_query_names_no_command_word_moto_would_misread() {
        let q = query_string();
        assert!(q.starts_with("fields @timestamp, @message\n"));
        assert!(q.ends_with(&format!("| limit {MAX_LINES}")));
        for word in ["fields", "sort", "limit"] {
            assert_eq!(q.matches(word).count(), 1, "{word} in {q}");
        }
    }
}
