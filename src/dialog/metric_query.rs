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
    let mut answer = Answer::about(turn, Reply::from(report), Some(&service));
    answer
        .slots
        .insert(Slot::Metric, kind.slot_value().to_owned());
    Ok(answer)
}

// What this answer says: its sentences, its links (chat) and its card.

use fluent_bundle::FluentValue;

use crate::speech::render::{Button, Say, s};

/// The sentences of a metric answer.
pub(crate) fn sentences(say: &Say<'_>, r: &Report, _detail: bool) -> Vec<String> {
    let base: Vec<(&str, FluentValue<'_>)> = vec![
        ("metric", s(say.metric_name(r.kind))),
        ("service", s(say.service(&r.service))),
        ("window", s(say.window(r.window))),
    ];
    match &r.values {
        Some(v) => {
            let mut args = base;
            args.push(("latest", s(say.value(v.unit, v.latest))));
            args.push(("mean", s(say.value(v.unit, v.mean))));
            args.push(("peak", s(say.value(v.unit, v.peak))));
            vec![say.msg("metric-value", args)]
        }
        None => vec![say.msg("metric-no-data", base)],
    }
}

/// A metric answer has no links.
pub(crate) fn links(_say: &Say<'_>, _r: &Report) -> Vec<String> {
    Vec::new()
}

/// The card: the other metrics of the service, and its health.
pub(crate) fn card(say: &Say<'_>, r: &Report) -> (&'static str, Vec<Button>) {
    (
        "metric",
        MetricKind::ALL
            .into_iter()
            .filter(|k| *k != r.kind)
            .take(3)
            .map(|k| {
                say.button(
                    &format!("button-{}", k.slot_value()),
                    say.asking_metric(&r.service, k),
                )
            })
            .chain([say.button("button-health", say.about("say-health", &r.service))])
            .collect(),
    )
}
