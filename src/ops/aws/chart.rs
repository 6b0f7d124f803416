//! An alarm's chart data from CloudWatch: the alarm (DescribeAlarms, by name), the series it
//! evaluates (GetMetricData with the alarm's own metric, statistic and dimensions, or its
//! metric-math queries as they are), and its state changes in the window
//! (DescribeAlarmHistory). The history is best effort: without it (an error, or an
//! emulator that lacks it) the alarm's state now and since when stand in.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    AlarmType, HistoryItemType, Metric, MetricAlarm, MetricDataQuery, MetricStat,
};

use super::AwsOps;
use crate::ops::alarm_chart::alarm_spans;
use crate::ops::{AlarmChart, AlarmState, OpsError, ServiceRef};

/// About 360 points at most: enough for a 600-pixel-wide chart.
const MAX_POINTS: u64 = 360;

fn time(t: Option<&DateTime>) -> SystemTime {
    t.and_then(|t| SystemTime::try_from(*t).ok())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The queries that give the alarm's series, and which of them to draw.
fn queries(alarm: &MetricAlarm, window: Duration) -> Option<(Vec<MetricDataQuery>, String)> {
    if !alarm.metrics().is_empty() {
        // A metric-math alarm: its queries as they are; the one returning data is it.
        let drawn = alarm
            .metrics()
            .iter()
            .find(|q| q.return_data() == Some(true))
            .or_else(|| alarm.metrics().last())?;
        return Some((alarm.metrics().to_vec(), drawn.id()?.to_owned()));
    }
    let period = alarm.period().unwrap_or(60).max(60) as u64;
    // Coarser than the alarm's period when the window would hold too many points.
    let period = period.max(window.as_secs().div_ceil(MAX_POINTS).div_ceil(60) * 60);
    let stat = alarm
        .statistic()
        .map(|s| s.as_str().to_owned())
        .or_else(|| alarm.extended_statistic().map(str::to_owned))?;
    let query = MetricDataQuery::builder()
        .id("a0")
        .metric_stat(
            MetricStat::builder()
                .metric(
                    Metric::builder()
                        .set_namespace(alarm.namespace().map(str::to_owned))
                        .set_metric_name(alarm.metric_name().map(str::to_owned))
                        .set_dimensions(Some(alarm.dimensions().to_vec()))
                        .build(),
                )
                .period(i32::try_from(period).unwrap_or(i32::MAX))
                .stat(stat)
                .build(),
        )
        .return_data(true)
        .build();
    Some((vec![query], "a0".to_owned()))
}

impl AwsOps {
    pub(super) async fn chart_of(
        &self,
        name: &str,
        window: Duration,
    ) -> Result<Option<AlarmChart>, OpsError> {
        let now = self.now();
        let start = now - window;
        let (described, history) = tokio::join!(
            self.call(
                "cloudwatch:DescribeAlarms",
                self.cloudwatch
                    .describe_alarms()
                    .alarm_names(name)
                    .alarm_types(AlarmType::MetricAlarm)
                    .send(),
            ),
            self.call(
                "cloudwatch:DescribeAlarmHistory",
                self.cloudwatch
                    .describe_alarm_history()
                    .alarm_name(name)
                    .history_item_type(HistoryItemType::StateUpdate)
                    .start_date(DateTime::from(start))
                    .end_date(DateTime::from(now))
                    .max_records(100)
                    .send(),
            )
        );
        let described = described?;
        let Some(alarm) = described
            .metric_alarms()
            .iter()
            .find(|a| a.alarm_name() == Some(name))
        else {
            return Ok(None);
        };
        let Some((queries, drawn)) = queries(alarm, window) else {
            return Ok(None);
        };
        let series = self.metric_data(queries.clone(), start, now).await?;
        let mut points: Vec<(SystemTime, f64)> = queries
            .iter()
            .position(|q| q.id() == Some(drawn.as_str()))
            .and_then(|i| series.into_iter().nth(i))
            .map(|(t, v)| t.into_iter().zip(v).collect())
            .unwrap_or_default();
        points.sort_by_key(|(t, _)| *t);
        let state = match alarm.state_value().map(|s| s.as_str()) {
            Some("ALARM") => AlarmState::Alarm,
            Some("OK") => AlarmState::Ok,
            _ => AlarmState::InsufficientData,
        };
        let changes: Vec<(SystemTime, String)> = match history {
            Ok(history) => history
                .alarm_history_items()
                .iter()
                .map(|i| {
                    (
                        time(i.timestamp()),
                        i.history_summary().unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            Err(error) => {
                tracing::debug!(%error, "alarm history unavailable; the chart shades from the state now");
                Vec::new()
            }
        };
        let since = time(alarm.state_updated_timestamp());
        let dim = |n: &str| {
            alarm
                .dimensions()
                .iter()
                .find(|d| d.name() == Some(n))
                .and_then(|d| d.value())
                .map(str::to_owned)
        };
        let metric = match (alarm.namespace(), alarm.metric_name()) {
            (Some(ns), Some(m)) => format!("{ns} {m}"),
            _ => alarm
                .metrics()
                .iter()
                .find(|q| q.id() == Some(drawn.as_str()))
                .and_then(|q| q.label().or(q.expression()))
                .unwrap_or(name)
                .to_owned(),
        };
        Ok(Some(AlarmChart {
            alarm: name.to_owned(),
            service: match (dim("ClusterName"), dim("ServiceName")) {
                (Some(c), Some(s)) => Some(ServiceRef::new(c, s)),
                _ => None,
            },
            metric,
            threshold: alarm.threshold(),
            state,
            points,
            in_alarm: alarm_spans(&changes, state, since, start),
        }))
    }
}
