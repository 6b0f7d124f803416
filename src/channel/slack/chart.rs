//! Charts that follow a Slack answer or an alarm card into its thread (the README's
//! "Charts"): which chart an answer gets, its data from the [`OpsSource`], the picture
//! ([`crate::chart`]) and its upload through Slack's file flow ([`WebApi::upload_file`]).
//!
//! The chart always comes after the text, which is posted first and never waits for it,
//! and each chart has its own deadline ([`DEADLINE`]): a chart that fails or runs late is
//! logged and counted, and the text it follows stays as posted. Charts go into the thread
//! rather than into the card's `image` block: an `image` block can show only a file that
//! is already uploaded, so the card would wait for the chart; and alarm cards are edited in
//! place (resolved, acknowledged), and every edit would have to carry the image again.

use std::time::{Duration, SystemTime};

use super::api::{SlackApiError, Upload, WebApi};
use crate::chart::{ChartError, Picture};
use crate::dialog::{Answer, Reply, Report, Slot};
use crate::ops::{MetricKind, OpsError, OpsSource, ServiceRef};
use crate::speech::render::{Say, s};

/// How long a chart may take, data, drawing and upload together.
pub const DEADLINE: Duration = Duration::from_secs(20);
/// The window drawn when the question named none.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(3 * 3600);

/// What a chart shows.
#[derive(Debug, Clone, PartialEq)]
pub enum Subject {
    /// An alarm's own metric, threshold and time in `ALARM`; with the deployments of its
    /// service, when the viewer may see them.
    Alarm {
        name: String,
        deployments: Option<ServiceRef>,
        window: Duration,
    },
    /// A service's metric.
    Service {
        service: ServiceRef,
        kind: MetricKind,
        window: Duration,
    },
}

/// The chart that follows `answer` in Slack: a MetricQuery's metric over the window asked
/// for (else [`DEFAULT_WINDOW`]); a ServiceHealth's longest-firing alarm, else its CPU.
/// Nothing for any other answer.
#[must_use]
pub fn for_answer(answer: &Answer) -> Option<Subject> {
    let Reply::Report(report) = &answer.reply else {
        return None;
    };
    match report {
        Report::MetricQuery(r) => Some(Subject::Service {
            service: r.service.clone(),
            kind: r.kind,
            window: if answer.slots.contains_key(&Slot::Window) {
                r.window
            } else {
                DEFAULT_WINDOW
            },
        }),
        Report::ServiceHealth(r) => Some(match r.firing.as_ref().ok().and_then(|f| f.first()) {
            Some((alarm, _)) => Subject::Alarm {
                name: alarm.clone(),
                deployments: Some(r.service.clone()),
                window: DEFAULT_WINDOW,
            },
            None => Subject::Service {
                service: r.service.clone(),
                kind: MetricKind::Cpu,
                window: DEFAULT_WINDOW,
            },
        }),
        _ => None,
    }
}

/// Why a chart was not shared.
#[derive(Debug, thiserror::Error)]
pub enum ChartFailure {
    #[error("the chart's data could not be read")]
    Data(#[from] OpsError),
    #[error(transparent)]
    Draw(#[from] ChartError),
    #[error("the chart could not be uploaded")]
    Upload(#[from] SlackApiError),
    #[error("the chart took longer than {DEADLINE:?}")]
    Late,
}

/// The picture of `subject` at `now`; `None` when there is nothing to draw (an alarm
/// without a metric, a metric not mapped for the service).
///
/// # Errors
/// When the data cannot be read.
pub async fn picture(
    ops: &dyn OpsSource,
    say: &Say<'_>,
    subject: &Subject,
    now: SystemTime,
) -> Result<Option<Picture>, OpsError> {
    let (window, deployments) = match subject {
        Subject::Alarm {
            window,
            deployments,
            ..
        } => (*window, deployments.clone()),
        Subject::Service {
            window, service, ..
        } => (*window, Some(service.clone())),
    };
    let start = now - window;
    let deployment = async {
        let Some(service) = &deployments else {
            return None;
        };
        match ops.service_deployments(service).await {
            Ok(records) => records
                .into_iter()
                .filter(|r| r.started_at >= start && r.started_at <= now)
                .max_by_key(|r| r.started_at)
                .map(|r| (r.started_at, r.task_definition)),
            Err(error) => {
                tracing::debug!(%error, "a chart goes without its deployment marker");
                None
            }
        }
    };
    let mut picture = match subject {
        Subject::Alarm { name, .. } => {
            let (chart, deployment) = tokio::join!(ops.alarm_chart(name, window), deployment);
            let Some(chart) = chart? else {
                return Ok(None);
            };
            let metric = chart
                .metric
                .rsplit(['/', ' '])
                .next()
                .unwrap_or(&chart.metric)
                .to_owned();
            Picture {
                title: chart.alarm.clone(),
                subject: chart
                    .service
                    .as_ref()
                    .map_or(chart.alarm.clone(), |s| say.service(s)),
                metric,
                unit: None,
                start,
                end: now,
                points: chart.points,
                threshold: chart.threshold,
                in_alarm: chart.in_alarm,
                deployment,
            }
        }
        Subject::Service {
            service,
            kind,
            window,
        } => {
            let (series, deployment) =
                tokio::join!(ops.metric(service, *kind, *window), deployment);
            let Some(series) = series? else {
                return Ok(None);
            };
            let metric = say.metric_name(*kind);
            Picture {
                title: say.msg(
                    "chart-title",
                    [
                        ("subject", s(say.service(service))),
                        ("metric", s(metric.clone())),
                    ],
                ),
                subject: say.service(service),
                metric,
                unit: Some(series.unit),
                start,
                end: now,
                points: series.points,
                threshold: None,
                in_alarm: Vec::new(),
                deployment,
            }
        }
    };
    picture.points.retain(|(t, v)| *t >= start && v.is_finite());
    Ok(Some(picture))
}

/// Draws `subject` and shares it in `channel`'s `thread_ts` thread, within [`DEADLINE`].
/// `Ok(false)` when there was nothing to draw.
///
/// # Errors
/// The data, the drawing or the upload failed, or it all ran past the deadline.
pub async fn share(
    api: &WebApi,
    ops: &dyn OpsSource,
    say: &Say<'_>,
    subject: &Subject,
    channel: &str,
    thread_ts: &str,
    now: SystemTime,
) -> Result<bool, ChartFailure> {
    let work = async {
        let Some(picture) = picture(ops, say, subject, now).await? else {
            return Ok(false);
        };
        let started = std::time::Instant::now();
        let drawn = crate::chart::render(&picture)?;
        metrics::histogram!("opsvoice_chart_render_seconds")
            .record(started.elapsed().as_secs_f64());
        let alt = crate::chart::alt_text(say, &picture);
        let title: String = picture.title.chars().take(200).collect();
        let filename = format!(
            "{}.png",
            title
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '-'
                })
                .take(80)
                .collect::<String>()
        );
        api.upload_file(&Upload {
            channel,
            thread_ts: Some(thread_ts),
            filename: &filename,
            title: &title,
            alt: &alt,
            bytes: &drawn.png,
        })
        .await?;
        Ok(true)
    };
    let outcome = match tokio::time::timeout(DEADLINE, work).await {
        Ok(result) => result,
        Err(_) => Err(ChartFailure::Late),
    };
    let label = match &outcome {
        Ok(true) => "shared",
        Ok(false) => "nothing",
        Err(_) => "failed",
    };
    metrics::counter!("opsvoice_charts_total", "outcome" => label).increment(1);
    if let Err(error) = &outcome {
        tracing::warn!(error = %crate::error::ErrorChain(error), "a chart was not shared; the text stands alone");
    }
    outcome
}
