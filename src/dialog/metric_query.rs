//! MetricQuery: "what's the CPU of checkout?" The latest value, the mean and the peak over
//! a window (default: the last hour).

use std::time::Duration;

use super::{Answer, Dialog, Reply, Slot, Turn, need, parse_metric, parse_window};
use crate::ops::{MetricKind, MetricUnit, OpsError, ServiceRef};

/// The window used when the user names none.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(3600);

/// The facts of a MetricQuery answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub service: ServiceRef,
    pub kind: MetricKind,
    pub window: Duration,
    /// `None` when the metric is not mapped for this service (no load balancer, say) or
    /// has no data in the window.
    pub values: Option<Values>,
}

/// Summary statistics of a series.
#[derive(Debug, Clone, PartialEq)]
pub struct Values {
    pub unit: MetricUnit,
    pub latest: f64,
    pub mean: f64,
    pub peak: f64,
}

pub(super) async fn answer(dialog: &Dialog, turn: &Turn) -> Result<Answer, OpsError> {
    let kind = match turn.slots.get(&Slot::Metric) {
        None => {
            return Ok(dialog.elicit(turn, Slot::Metric, Reply::Ask(Slot::Metric)));
        }
        Some(spoken) => match parse_metric(spoken) {
            Some(kind) => kind,
            None => {
                return Ok(dialog.elicit(turn, Slot::Metric, Reply::UnknownMetric(spoken.clone())));
            }
        },
    };
    let service = need!(dialog.target_service(turn).await?);
    let window = turn
        .slots
        .get(&Slot::Window)
        .and_then(|w| parse_window(w))
        .unwrap_or(DEFAULT_WINDOW);
    let series = dialog.ops().metric(&service, kind, window).await?;
    let values = series.and_then(|s| {
        Some(Values {
            unit: s.unit,
            latest: s.latest()?,
            mean: s.mean()?,
            peak: s.peak()?,
        })
    });
    let report = Report {
        service: service.clone(),
        kind,
        window,
        values,
    };
    let mut answer = Answer::about(turn, Reply::Metric(report), Some(&service));
    answer
        .slots
        .insert(Slot::Metric, kind.slot_value().to_owned());
    Ok(answer)
}
