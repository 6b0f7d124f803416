//! CloudWatch: alarms (metric and composite, all pages, associated with services by
//! dimensions or name), alarm history, and metric series through GetMetricData.

use std::time::{Duration, SystemTime};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    AlarmType, Dimension, DimensionFilter, HistoryItemType, Metric, MetricDataQuery, MetricStat,
    ScanBy, StateValue,
};

use super::AwsOps;
use crate::ops::{
    Alarm, AlarmDetail, AlarmKind, AlarmState, AlarmTransition, MetricKind, MetricSeries,
    MetricUnit, OpsError, OpsSource, ServiceRef,
};

/// GetMetricData accepts at most 500 queries a call.
pub const MAX_QUERIES: usize = 500;

fn time(t: Option<&DateTime>) -> SystemTime {
    t.and_then(|t| SystemTime::try_from(*t).ok())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

fn state(s: Option<&StateValue>) -> AlarmState {
    match s {
        Some(StateValue::Alarm) => AlarmState::Alarm,
        Some(StateValue::Ok) => AlarmState::Ok,
        _ => AlarmState::InsufficientData,
    }
}

/// Whether an alarm's name marks it as `service`'s: `<service>-...` or `<cluster>-<service>-...`.
pub(super) fn named_for(alarm: &str, service: &ServiceRef) -> bool {
    let lower = alarm.to_ascii_lowercase();
    let name = service.name.to_ascii_lowercase();
    let cluster = service.cluster.to_ascii_lowercase();
    lower.starts_with(&format!("{name}-")) || lower.starts_with(&format!("{cluster}-{name}-"))
}

/// Which alarms a DescribeAlarms listing asks for.
#[derive(Debug, Clone)]
pub(super) enum Filter {
    /// Those in one state (`StateValue`): for the firing ones, one page in almost every
    /// account.
    State(StateValue),
    /// Those whose names start with a prefix (`AlarmNamePrefix`).
    NamePrefix(String),
    /// Every alarm, page after page, paced ([`EVERYTHING_PACE`]): `models build
    /// --from-backend` and the background refresh's index of alarm names.
    Everything,
}

/// How long the listing of every alarm waits between its pages: at most 4 DescribeAlarms a
/// second, under half of CloudWatch's 9 a second per account and Region, so the index the
/// refresh keeps of a big account's alarms (4,000 alarms: 40 pages) is never throttled nor
/// throttles anyone else. The firing listing and a name's are one page: not paced.
pub const EVERYTHING_PACE: Duration = Duration::from_millis(250);

/// How long one page of the listing of every alarm may take (an attempt, and the operation
/// with its retry): background work nobody waits on, so not the answers' 2 s. (moto ignores
/// `MaxRecords` and answers every alarm at once: 4,000 alarms take it more than 2 s.)
pub const EVERYTHING_PAGE_TIMEOUT: Duration = Duration::from_secs(15);

impl AwsOps {
    /// The alarms (metric and composite) `filter` asks for, all pages, each tied to its
    /// service by dimensions or, when configured, by name.
    pub(super) async fn describe_alarms(&self, filter: Filter) -> Result<Vec<Alarm>, OpsError> {
        // The alarms are asked for at once; a listing of the names already under way (the
        // catalog, a cluster's services) is joined meanwhile.
        let (mut alarms, ()) = futures_util::future::try_join(self.alarm_pages(filter), async {
            self.names_under_way().await;
            Ok(())
        })
        .await?;
        // Only an alarm no dimension ties to a service (a composite one, say) needs the
        // names: when every one is tied, none are listed.
        if self.association.by_name_prefix && alarms.iter().any(|a| a.service.is_none()) {
            self.learn_names().await;
            let known = self.known_services();
            for alarm in alarms.iter_mut().filter(|a| a.service.is_none()) {
                // The longest matching name wins: "payments-api-5xx" is payments-api's.
                alarm.service = known
                    .iter()
                    .filter(|s| named_for(&alarm.name, s))
                    .max_by_key(|s| s.name.len())
                    .cloned();
            }
        }
        Ok(alarms)
    }

    /// Waits for the listings of service names under way (the catalog, a cluster's
    /// services), when no names are known yet and the alarms may need them.
    async fn names_under_way(&self) {
        use futures_util::FutureExt as _;
        if !self.association.by_name_prefix || !self.known_services().is_empty() {
            return;
        }
        let under_way: Vec<futures_util::future::BoxFuture<'static, ()>> = self
            .catalogs
            .all_under_way()
            .into_iter()
            .map(|f| f.map(drop).boxed())
            .chain(
                self.listings
                    .all_under_way()
                    .into_iter()
                    .map(|f| f.map(drop).boxed()),
            )
            .collect();
        futures_util::future::join_all(under_way).await;
    }

    /// Tying alarms to services by name needs the service names, once (the catalog,
    /// refreshed in the background, has usually found them already). A listing under way
    /// is waited for, not made again. Best effort: without the names the alarms are still
    /// listed, tied by dimensions only.
    async fn learn_names(&self) {
        self.names_under_way().await;
        if self.known_services().is_empty() {
            // Listing the catalog remembers every service it finds.
            if let Err(error) = self.catalog().await {
                tracing::warn!(error = %crate::error::ErrorChain(&error), "alarms tied by dimensions only: service names unavailable");
            }
        }
    }

    /// The alarms `filter` asks for, all pages, tied to services by dimensions.
    async fn alarm_pages(&self, filter: Filter) -> Result<Vec<Alarm>, OpsError> {
        let paced = matches!(filter, Filter::Everything);
        let (state_filter, prefix) = match filter {
            Filter::State(state) => (Some(state), None),
            Filter::NamePrefix(prefix) => (None, Some(prefix)),
            Filter::Everything => (None, None),
        };
        let mut alarms = Vec::new();
        let mut token = None;
        loop {
            if paced && token.is_some() {
                tokio::time::sleep(EVERYTHING_PACE).await;
            }
            let request = self
                .cloudwatch
                .describe_alarms()
                .alarm_types(AlarmType::MetricAlarm)
                .alarm_types(AlarmType::CompositeAlarm)
                .set_state_value(state_filter.clone())
                .set_alarm_name_prefix(prefix.clone())
                .max_records(100)
                .set_next_token(token);
            let page = if paced {
                let patient = aws_sdk_cloudwatch::config::Builder::default().timeout_config(
                    aws_sdk_cloudwatch::config::timeout::TimeoutConfig::builder()
                        .operation_attempt_timeout(EVERYTHING_PAGE_TIMEOUT)
                        .operation_timeout(EVERYTHING_PAGE_TIMEOUT)
                        .build(),
                );
                let request = request.customize().config_override(patient).send();
                self.call("cloudwatch:DescribeAlarms", request).await?
            } else {
                self.call("cloudwatch:DescribeAlarms", request.send())
                    .await?
            };
            alarms.extend(alarms_of(&page));
            token = page.next_token().map(str::to_owned);
            if token.is_none() {
                break;
            }
        }
        Ok(alarms)
    }

    /// One alarm and its state changes of the last day. The history is best effort: when
    /// DescribeAlarmHistory fails, the alarm is still answered, without history.
    pub(super) async fn alarm_detail(&self, name: &str) -> Result<Option<AlarmDetail>, OpsError> {
        let (alarms, history) = tokio::join!(
            async {
                let out = self
                    .call(
                        "cloudwatch:DescribeAlarms",
                        self.cloudwatch
                            .describe_alarms()
                            .alarm_names(name)
                            .alarm_types(AlarmType::MetricAlarm)
                            .alarm_types(AlarmType::CompositeAlarm)
                            .send(),
                    )
                    .await?;
                Ok::<_, OpsError>(out)
            },
            self.history(name)
        );
        let alarms = alarms?;
        let Some(alarm) = alarms_of(&alarms).into_iter().find(|a| a.name == name) else {
            return Ok(None);
        };
        Ok(Some(AlarmDetail { alarm, history }))
    }

    /// An alarm's state changes of the last day (DescribeAlarmHistory), `None` when they
    /// could not be read. One attempt, never retried: the history is best effort, and an
    /// answer must not wait out a retry's back-off (up to a second) for it. (moto does not
    /// implement DescribeAlarmHistory: its 500, retried after a random back-off, made an
    /// answer about an alarm take 0.3 to 1.2 s.)
    pub(super) async fn history(&self, name: &str) -> Option<Vec<AlarmTransition>> {
        let since = self.now() - Duration::from_secs(24 * 3600);
        let once = aws_sdk_cloudwatch::config::Builder::default()
            .retry_config(aws_sdk_cloudwatch::config::retry::RetryConfig::disabled());
        let history = self
            .call(
                "cloudwatch:DescribeAlarmHistory",
                self.cloudwatch
                    .describe_alarm_history()
                    .alarm_name(name)
                    .history_item_type(HistoryItemType::StateUpdate)
                    .start_date(DateTime::from(since))
                    .end_date(DateTime::from(self.now()))
                    .max_records(50)
                    .customize()
                    .config_override(once)
                    .send(),
            )
            .await;
        history.ok().map(|h| {
            h.alarm_history_items()
                .iter()
                .map(|i| AlarmTransition {
                    at: time(i.timestamp()),
                    summary: i.history_summary().unwrap_or_default().to_owned(),
                })
                .collect()
        })
    }

    /// A metric of a service over the trailing `window`.
    ///
    /// CPU and memory are `AWS/ECS` with `ClusterName`/`ServiceName`. Errors, latency and
    /// requests come from the service's load balancer target group (`AWS/ApplicationELB`),
    /// whose `LoadBalancer` dimension is found with ListMetrics.
    pub(super) async fn metric_series(
        &self,
        service: &ServiceRef,
        kind: MetricKind,
        window: Duration,
    ) -> Result<Option<MetricSeries>, OpsError> {
        let (namespace, metric_name, stat, unit, dimensions) = match kind {
            MetricKind::Cpu | MetricKind::Memory => (
                "AWS/ECS",
                if kind == MetricKind::Cpu {
                    "CPUUtilization"
                } else {
                    "MemoryUtilization"
                },
                "Average",
                MetricUnit::Percent,
                vec![
                    Dimension::builder()
                        .name("ClusterName")
                        .value(&service.cluster)
                        .build(),
                    Dimension::builder()
                        .name("ServiceName")
                        .value(&service.name)
                        .build(),
                ],
            ),
            MetricKind::Errors | MetricKind::Latency | MetricKind::Requests => {
                let (metric_name, stat, unit) = match kind {
                    MetricKind::Errors => {
                        ("HTTPCode_Target_5XX_Count", "Sum", MetricUnit::PerMinute)
                    }
                    MetricKind::Latency => ("TargetResponseTime", "p99", MetricUnit::Milliseconds),
                    _ => ("RequestCount", "Sum", MetricUnit::PerMinute),
                };
                let Some(dimensions) = self.target_group_dimensions(service, metric_name).await?
                else {
                    return Ok(None);
                };
                ("AWS/ApplicationELB", metric_name, stat, unit, dimensions)
            }
        };
        // One point a minute up to three hours, coarser beyond (GetMetricData returns at
        // most 100,800 points; a spoken answer needs far fewer).
        let period = if window <= Duration::from_secs(3 * 3600) {
            60
        } else {
            300
        };
        let now = self.now();
        let query = MetricDataQuery::builder()
            .id("m0")
            .metric_stat(
                MetricStat::builder()
                    .metric(
                        Metric::builder()
                            .namespace(namespace)
                            .metric_name(metric_name)
                            .set_dimensions(Some(dimensions))
                            .build(),
                    )
                    .period(period)
                    .stat(stat)
                    .build(),
            )
            .return_data(true)
            .build();
        let mut results = self.metric_data(vec![query], now - window, now).await?;
        let Some((timestamps, values)) = results.pop() else {
            return Ok(None);
        };
        if values.is_empty() {
            return Ok(None);
        }
        let scale = if kind == MetricKind::Latency {
            1000.0
        } else {
            1.0
        };
        let mut points: Vec<(SystemTime, f64)> = timestamps
            .into_iter()
            .zip(values)
            .map(|(t, v)| (t, v * scale))
            .collect();
        points.sort_by_key(|(t, _)| *t);
        Ok(Some(MetricSeries { kind, unit, points }))
    }

    /// Runs GetMetricData for any number of queries, 500 a call, following NextToken.
    /// Returns (timestamps, values) per query, in query order.
    pub(super) async fn metric_data(
        &self,
        queries: Vec<MetricDataQuery>,
        start: SystemTime,
        end: SystemTime,
    ) -> Result<Vec<(Vec<SystemTime>, Vec<f64>)>, OpsError> {
        let mut out = Vec::with_capacity(queries.len());
        for chunk in queries.chunks(MAX_QUERIES) {
            let ids: Vec<String> = chunk
                .iter()
                .map(|q| q.id().unwrap_or_default().to_owned())
                .collect();
            let mut series: Vec<(Vec<SystemTime>, Vec<f64>)> =
                vec![(Vec::new(), Vec::new()); chunk.len()];
            let mut token = None;
            loop {
                let page = self
                    .call(
                        "cloudwatch:GetMetricData",
                        self.cloudwatch
                            .get_metric_data()
                            .set_metric_data_queries(Some(chunk.to_vec()))
                            .start_time(DateTime::from(start))
                            .end_time(DateTime::from(end))
                            .scan_by(ScanBy::TimestampAscending)
                            .set_next_token(token)
                            .send(),
                    )
                    .await?;
                for result in page.metric_data_results() {
                    if let Some(i) = ids.iter().position(|id| Some(id.as_str()) == result.id()) {
                        series[i]
                            .0
                            .extend(result.timestamps().iter().map(|t| time(Some(t))));
                        series[i].1.extend(result.values());
                    }
                }
                token = page.next_token().map(str::to_owned);
                if token.is_none() {
                    break;
                }
            }
            out.extend(series);
        }
        Ok(out)
    }

    /// The `LoadBalancer` and `TargetGroup` dimensions for a service's first target group,
    /// `None` if it has none or CloudWatch has no such metric for it.
    async fn target_group_dimensions(
        &self,
        service: &ServiceRef,
        metric_name: &str,
    ) -> Result<Option<Vec<Dimension>>, OpsError> {
        let Some(status) = self.service(service).await? else {
            return Ok(None);
        };
        let Some(arn) = status.target_groups.first() else {
            return Ok(None);
        };
        // arn:aws:elasticloadbalancing:region:account:targetgroup/name/id -> targetgroup/name/id
        let Some(target_group) = arn
            .split(':')
            .next_back()
            .filter(|s| s.starts_with("targetgroup/"))
        else {
            return Ok(None);
        };
        let listed = self
            .call(
                "cloudwatch:ListMetrics",
                self.cloudwatch
                    .list_metrics()
                    .namespace("AWS/ApplicationELB")
                    .metric_name(metric_name)
                    .dimensions(
                        DimensionFilter::builder()
                            .name("TargetGroup")
                            .value(target_group)
                            .build(),
                    )
                    .send(),
            )
            .await?;
        let load_balancer = listed.metrics().iter().find_map(|m| {
            m.dimensions()
                .iter()
                .find(|d| d.name() == Some("LoadBalancer"))
                .and_then(|d| d.value())
                .map(str::to_owned)
        });
        Ok(load_balancer.map(|lb| {
            vec![
                Dimension::builder().name("LoadBalancer").value(lb).build(),
                Dimension::builder()
                    .name("TargetGroup")
                    .value(target_group)
                    .build(),
            ]
        }))
    }
}

/// Our alarms from one DescribeAlarms page: metric alarms tied to a service by their
/// `ClusterName`/`ServiceName` dimensions, then composite alarms.
fn alarms_of(
    out: &aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput,
) -> Vec<Alarm> {
    let mut alarms: Vec<Alarm> = out
        .metric_alarms()
        .iter()
        .map(|a| {
            let dim = |n: &str| {
                a.dimensions()
                    .iter()
                    .find(|d| d.name() == Some(n))
                    .and_then(|d| d.value())
                    .map(str::to_owned)
            };
            Alarm {
                name: a.alarm_name().unwrap_or_default().to_owned(),
                kind: AlarmKind::Metric,
                state: state(a.state_value()),
                reason: a.state_reason().unwrap_or_default().to_owned(),
                since: time(a.state_updated_timestamp()),
                service: match (dim("ClusterName"), dim("ServiceName")) {
                    (Some(c), Some(s)) => Some(ServiceRef::new(c, s)),
                    _ => None,
                },
                metric: match (a.namespace(), a.metric_name()) {
                    (Some(ns), Some(m)) => Some(format!("{ns} {m}")),
                    _ => None,
                },
                place: None,
            }
        })
        .collect();
    alarms.extend(out.composite_alarms().iter().map(|a| Alarm {
        name: a.alarm_name().unwrap_or_default().to_owned(),
        kind: AlarmKind::Composite,
        state: state(a.state_value()),
        reason: a.state_reason().unwrap_or_default().to_owned(),
        since: time(a.state_updated_timestamp()),
        service: None,
        metric: None,
        place: None,
    }));
    alarms
}
