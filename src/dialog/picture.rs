//! What a screen shows beside an answer (an Echo Show): the metric the answer is about,
//! as a series to draw. Only screens ask for it, after the answer is ready, so a
//! voice-only answer never pays for it.
//!
//! The metric in question is the one of the first firing alarm of the service the answer
//! is about (ServiceHealth: that service; ActiveAlarms: the newest firing alarm's service;
//! FleetSummary: the worst service), and its CPU when no alarm names a metric we read.

use std::time::Duration;

use super::{Answer, Dialog, Reply, Report};
use crate::ops::{MetricKind, MetricSeries, ServiceRef};

/// How far back a picture looks.
pub const WINDOW: Duration = Duration::from_secs(3600);

/// The series a screen draws: whose, which metric, and its points.
#[derive(Debug, Clone, PartialEq)]
pub struct Sparkline {
    pub service: ServiceRef,
    pub series: MetricSeries,
}

/// The metric a CloudWatch metric name (`Namespace/MetricName`, or the name alone) is, of
/// those we read.
#[must_use]
pub fn metric_kind(metric: &str) -> Option<MetricKind> {
    let name = metric.rsplit('/').next().unwrap_or(metric);
    match name {
        "CPUUtilization" => Some(MetricKind::Cpu),
        "MemoryUtilization" => Some(MetricKind::Memory),
        "TargetResponseTime" => Some(MetricKind::Latency),
        "RequestCount" => Some(MetricKind::Requests),
        n if n.contains("5XX") => Some(MetricKind::Errors),
        _ => None,
    }
}

/// The service an answer is about, for a picture, and the alarm names that fire for it
/// (newest or oldest first, as the report keeps them).
fn focus(answer: &Answer) -> Option<(ServiceRef, Vec<String>)> {
    let Reply::Report(report) = &answer.reply else {
        return None;
    };
    match report {
        Report::ServiceHealth(r) => Some((
            r.service.clone(),
            r.firing
                .as_ref()
                .map(|f| f.iter().map(|(name, _)| name.clone()).collect())
                .unwrap_or_default(),
        )),
        Report::ActiveAlarms(r) => {
            let service = r
                .firing
                .iter()
                .find_map(|a| a.service.clone())
                .or_else(|| r.service.clone())?;
            let names = r
                .firing
                .iter()
                .filter(|a| a.service.as_ref() == Some(&service))
                .map(|a| a.name.clone())
                .collect();
            Some((service, names))
        }
        Report::FleetSummary(r) => r.problems.first().map(|p| (p.service.clone(), Vec::new())),
        _ => None,
    }
}

impl Dialog {
    /// The series to draw beside `answer`, within `budget`; `None` when the answer is
    /// about no one service, the metric has no data, or it could not be read in time (the
    /// answer stands without it).
    pub async fn sparkline(&self, answer: &Answer, budget: Duration) -> Option<Sparkline> {
        let (service, named) = focus(answer)?;
        let fetch = async {
            // The firing alarms are cached (every answer reads them): which metric each
            // watches is there, without another call.
            let kind = match self.ops.firing_alarms().await {
                Ok(alarms) => alarms
                    .iter()
                    .filter(|a| a.is_about(&service))
                    .filter(|a| named.is_empty() || named.contains(&a.name))
                    .find_map(|a| a.metric.as_deref().and_then(metric_kind)),
                Err(_) => None,
            }
            .unwrap_or(MetricKind::Cpu);
            self.ops.metric(&service, kind, WINDOW).await
        };
        match tokio::time::timeout(budget, fetch).await {
            Ok(Ok(Some(series))) if series.points.len() >= 2 => Some(Sparkline { service, series }),
            Ok(Ok(_)) => None,
            Ok(Err(error)) => {
                tracing::info!(error = %super::ErrorChain(&error), "no sparkline: the metric could not be read");
                None
            }
            Err(_) => {
                tracing::info!(?budget, "no sparkline: the metric took too long");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_metrics_map_to_what_we_read() {
        assert_eq!(metric_kind("AWS/ECS/CPUUtilization"), Some(MetricKind::Cpu));
        assert_eq!(metric_kind("MemoryUtilization"), Some(MetricKind::Memory));
        assert_eq!(
            metric_kind("AWS/ApplicationELB/HTTPCode_Target_5XX_Count"),
            Some(MetricKind::Errors)
        );
        assert_eq!(
            metric_kind("AWS/ApplicationELB/TargetResponseTime"),
            Some(MetricKind::Latency)
        );
        assert_eq!(metric_kind("Custom/QueueDepth"), None);
    }
}
