//! LogErrors: "what errors is checkout logging?" The error lines of a service's logs in a
//! window (default: since its last deployment, at most an hour), grouped into patterns:
//! how many, and what most of them say; in chat the top three with counts and a Logs
//! Insights link. The service is resolved through the caller's grants before anything is
//! read, and only that service's own log groups are.

use std::time::{Duration, SystemTime};

use super::{Answer, Dialog, Reply, Slot, Turn, need, parse_window};
use crate::ops::logs::{LogErrors, LogQuery};
use crate::ops::{OpsError, ServiceRef};

/// The longest default window: since the deployment, but no further back than this.
pub const MAX_DEFAULT_WINDOW: Duration = Duration::from_secs(3600);

/// How long the Logs Insights query may run, inside the answer's budget (3 s by default):
/// the name lookups and the task definition come before it, the words after.
pub const QUERY_BUDGET: Duration = Duration::from_millis(1800);

/// The patterns chat lists.
const LISTED: usize = 3;

/// The window the answer covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Since the service's last deployment, which started at this time.
    SinceDeploy(SystemTime),
    /// The trailing window (asked for, or the last hour when the deployment is older).
    Last(Duration),
}

/// The facts of a LogErrors answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub service: ServiceRef,
    pub window: Window,
    pub start: SystemTime,
    pub end: SystemTime,
    pub errors: LogErrors,
}

pub(super) async fn answer(dialog: &Dialog, turn: &Turn) -> Result<Answer, OpsError> {
    let service = need!(dialog.target_service(turn).await?);
    let Some(logs) = dialog.logs() else {
        return Err(OpsError::Unavailable {
            api: "logs:StartQuery",
            source: std::sync::Arc::new(NoLogSource),
        });
    };
    let Some(status) = dialog.ops().service(&service).await? else {
        return Ok(dialog.elicit(
            turn,
            Slot::Service,
            Reply::UnknownService(service.name.clone()),
        ));
    };
    let now = dialog.now();
    let primary = status.primary();
    let deployed_at = primary.map(|d| d.created_at);
    let asked = turn.slots.get(&Slot::Window).and_then(|w| parse_window(w));
    let (window, start) = match (asked, deployed_at) {
        (Some(w), _) => (Window::Last(w), now - w),
        (None, Some(at)) if dialog.age(at) <= MAX_DEFAULT_WINDOW => (Window::SinceDeploy(at), at),
        (None, _) => (Window::Last(MAX_DEFAULT_WINDOW), now - MAX_DEFAULT_WINDOW),
    };
    // Since a deployment, the lines before it (as far back as the window is long) tell
    // which patterns are new.
    let baseline_from = match window {
        Window::SinceDeploy(at) => Some(at - dialog.age(at).max(Duration::from_secs(60))),
        Window::Last(_) => None,
    };
    let query = LogQuery {
        service: service.clone(),
        task_definition: primary
            .map(|d| d.task_definition.clone())
            .unwrap_or_default(),
        start,
        end: now,
        deployed_at,
        baseline_from,
        deadline: QUERY_BUDGET,
    };
    let errors = logs.errors(&query).await?;
    let report = Report {
        service: service.clone(),
        window,
        start,
        end: now,
        errors,
    };
    Ok(Answer::about(turn, Reply::from(report), Some(&service)))
}

/// The dialog was built without a log source (a test's, or an embedding's choice).
#[derive(Debug, thiserror::Error)]
#[error("no log source is configured")]
struct NoLogSource;

// What this answer says: its sentences, its links (chat) and its card.

use fluent_bundle::FluentValue;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::speech::render::{Button, Say, n, s};

/// The longest piece of log text said or shown: a log line may be any length.
const MAX_SPOKEN: usize = 120;
const MAX_SHOWN: usize = 300;

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}

fn epoch(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// "since the 14:02 UTC deploy", "in the last 2 hours".
fn when(say: &Say<'_>, r: &Report) -> String {
    match r.window {
        Window::SinceDeploy(at) => say.msg("logs-since-deploy", [("time", s(say.clock(epoch(at))))]),
        Window::Last(w) => say.msg("logs-in-last", [("window", s(say.window(w)))]),
    }
}

/// The verdict (the count and what most lines say), whether the top pattern is new, and in
/// detail the next patterns.
pub(crate) fn sentences(say: &Say<'_>, r: &Report, detail: bool) -> Vec<String> {
    let service = say.service(&r.service);
    if r.errors.groups.is_empty() {
        return vec![say.msg("logs-no-groups", [("service", s(service))])];
    }
    let when = when(say, r);
    let mut out = Vec::new();
    let verdict = match r.errors.patterns.first() {
        None => say.msg("logs-none", [("service", s(service)), ("when", s(when))]),
        Some(top) => {
            let args: Vec<(&str, FluentValue<'_>)> = vec![
                ("service", s(service)),
                ("count", n(r.errors.total as f64)),
                ("when", s(when)),
                ("top", s(cut(&top.gist, MAX_SPOKEN))),
            ];
            let id = if r.errors.capped {
                "logs-errors-capped"
            } else {
                "logs-errors"
            };
            say.msg(id, args)
        }
    };
    out.push(if r.errors.complete {
        verdict
    } else {
        say.msg("logs-so-far", [("found", s(verdict))])
    });
    if let Some(new) = r.errors.patterns.first().and_then(|p| p.new) {
        out.push(say.msg(
            "logs-top-new",
            [("new", s(if new { "yes" } else { "no" }))],
        ));
    }
    if detail && r.errors.patterns.len() > 1 {
        let items: Vec<String> = r.errors.patterns[1..]
            .iter()
            .take(say.max_items(detail).min(LISTED))
            .map(|p| {
                let id = if p.new == Some(true) {
                    "logs-item-new"
                } else {
                    "logs-item"
                };
                say.msg(
                    id,
                    [
                        ("count", n(p.count as f64)),
                        ("gist", s(cut(&p.gist, MAX_SPOKEN))),
                    ],
                )
            })
            .collect();
        out.push(say.msg("logs-also", [("items", s(say.list(&items, LISTED)))]));
    }
    out
}

/// Chat: the top three patterns with their counts, and the query in Logs Insights.
pub(crate) fn links(say: &Say<'_>, r: &Report) -> Vec<String> {
    let mut lines: Vec<String> = r
        .errors
        .patterns
        .iter()
        .take(LISTED)
        .map(|p| {
            let id = match p.new {
                Some(true) => "logs-line-new",
                Some(false) => "logs-line-old",
                None => "logs-line",
            };
            say.msg(
                id,
                [
                    ("count", n(p.count as f64)),
                    ("pattern", s(cut(&p.pattern, MAX_SHOWN))),
                ],
            )
        })
        .collect();
    if !r.errors.groups.is_empty() {
        let url = insights_url(say, r);
        lines.push(say.msg("console-logs", [("url", s(url))]));
    }
    lines
}

/// The card: the service's health, its deployment, and its error rate.
pub(crate) fn card(say: &Say<'_>, r: &Report) -> (&'static str, Vec<Button>) {
    (
        "logs",
        vec![
            say.button("button-health", say.about("say-health", &r.service)),
            say.button("button-deploy", say.about("say-deploy", &r.service)),
            say.button(
                "button-errors",
                say.asking_metric(&r.service, crate::ops::MetricKind::Errors),
            ),
        ],
    )
}

/// What the console's own links escape inside a `~(...)` value: everything but letters,
/// digits and a few marks, as `*XX` (its `%XX` with `*` for `%`).
const CONSOLE_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'/');

fn console_value(value: &str) -> String {
    utf8_percent_encode(value, CONSOLE_VALUE)
        .to_string()
        .replace('%', "*")
}

/// `2026-11-22T10:00:00.000Z`.
fn iso(at: SystemTime) -> String {
    let secs = epoch(at);
    let days = secs.div_euclid(86_400);
    let day_secs = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        day_secs / 3600,
        day_secs % 3600 / 60,
        day_secs % 60
    )
}

/// The query over the same groups and window, opened in CloudWatch Logs Insights.
fn insights_url(say: &Say<'_>, r: &Report) -> String {
    let region = r
        .errors
        .region
        .as_ref()
        .map(|region| format!("?region={}", utf8_percent_encode(region, CONSOLE_VALUE)))
        .unwrap_or_else(|| say.region_query());
    let sources: String = r
        .errors
        .groups
        .iter()
        .map(|g| format!("~'{}", console_value(g)))
        .collect();
    format!(
        "https://console.aws.amazon.com/cloudwatch/home{region}#logsV2:logs-insights$3FqueryDetail$3D~(end~'{}~start~'{}~timeType~'ABSOLUTE~tz~'UTC~editorString~'{}~source~({}))",
        console_value(&iso(r.end)),
        console_value(&iso(r.start)),
        console_value(&crate::ops::logs::aws::query_string()),
        sources
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_the_console_link_are_utc_iso() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_341_600);
        assert_eq!(iso(at), "2026-11-22T10:00:00.000Z");
        assert_eq!(iso(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn console_values_carry_no_character_that_ends_a_link() {
        let v = console_value("fields @message | filter x > 1 ~('a') \"q\" <!channel>");
        assert!(!v.contains(['|', '>', '<', ' ', '~', '(', ')', '\'', '"']), "{v}");
    }
}
