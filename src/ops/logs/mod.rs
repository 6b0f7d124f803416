//! What a service's logs say went wrong (LogErrors): the [`LogSource`] trait, its domain
//! types, and the summary both implementations share: error-like lines in a window, grouped
//! into patterns ([`pattern`]) and counted, each said to be new since the deployment when
//! the lines before it are known.
//!
//! [`aws::AwsLogs`] finds a service's log groups in its task definition (`awslogs`) and asks
//! CloudWatch Logs Insights; [`demo::DemoLogs`] makes plausible lines for the demo fleet.
//! Both hand their lines to [`summarize`], so what counts as an error, and as one pattern,
//! is decided in one place, on our side: the emulator the tests use runs only the `fields`,
//! `sort` and `limit` of an Insights query, so nothing here trusts the `filter` to have run.

pub mod aws;
pub mod demo;
pub mod pattern;

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{OpsError, ServiceRef};

/// The most lines one query reads (Logs Insights allows at most 10,000).
pub const MAX_LINES: usize = 10_000;

/// Words that make a line an error (case-insensitive, whole words or word starts: `error`,
/// `errors`, `ERROR:`, `Exception`, `NullPointerException`, `failed`, `refused`, ...).
/// The Insights query filters with the same expression; [`is_error`] re-checks each line.
pub const ERROR_WORDS: &str =
    r"(?i)(error|exception|fatal|panic|fail|refused|timed out|timeout|traceback|denied)";

static ERROR_LINE: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(ERROR_WORDS).expect("ERROR_WORDS is a valid expression"));

/// Whether a log line reads as an error.
#[must_use]
pub fn is_error(message: &str) -> bool {
    ERROR_LINE.is_match(message)
}

/// One question about a service's logs.
#[derive(Debug, Clone, PartialEq)]
pub struct LogQuery {
    pub service: ServiceRef,
    /// The task definition the service runs (its `awslogs` configuration names the groups).
    pub task_definition: String,
    /// The window the count covers.
    pub start: SystemTime,
    pub end: SystemTime,
    /// When the service's last deployment started, if known.
    pub deployed_at: Option<SystemTime>,
    /// When the window starts at a deployment: read from here too (before `start`), so
    /// each pattern can be said to be new since the deployment or not.
    pub baseline_from: Option<SystemTime>,
    /// The query is stopped when this has passed, and answered with what it found so far.
    pub deadline: Duration,
}

/// One log line (its time and its text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub at: SystemTime,
    pub message: String,
}

/// A pattern of error lines and how many lines in the window have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternCount {
    /// The lines' shape, values as placeholders (`connection refused to payments-db:<num>`).
    pub pattern: String,
    /// What the lines say, short enough to speak (`connection refused to payments-db`).
    pub gist: String,
    pub count: u64,
    /// Whether no line before the deployment had it (`None`: not known).
    pub new: Option<bool>,
}

/// What a service's logs say went wrong in a window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogErrors {
    /// The log groups read (empty: the task definition logs nowhere we can query).
    pub groups: Vec<String>,
    /// The region of the groups, when the task definition names one.
    pub region: Option<String>,
    /// Error lines in the window.
    pub total: u64,
    /// The query hit its line limit: there are at least `total`.
    pub capped: bool,
    /// Most frequent first.
    pub patterns: Vec<PatternCount>,
    /// `false`: the query was still running at its deadline (and was stopped); the counts
    /// are what it had found by then.
    pub complete: bool,
}

/// Counts the error lines of `lines` in `[start, end]` by pattern, most frequent first (ties
/// by pattern, so the order is stable). With `baseline_from`, error lines from there up to
/// `start` say which patterns are new. Lines that are not errors are ignored, whatever the
/// query let through.
#[must_use]
pub fn summarize(
    lines: &[LogLine],
    start: SystemTime,
    end: SystemTime,
    baseline_from: Option<SystemTime>,
) -> (u64, Vec<PatternCount>) {
    let mut counts: BTreeMap<String, (u64, String)> = BTreeMap::new();
    let mut before: HashSet<String> = HashSet::new();
    let mut total = 0;
    for line in lines.iter().filter(|l| is_error(&l.message)) {
        let shape = pattern::pattern(&line.message);
        if line.at >= start && line.at <= end {
            total += 1;
            counts
                .entry(shape)
                .or_insert_with(|| (0, pattern::gist(&line.message)))
                .0 += 1;
        } else if baseline_from.is_some_and(|from| line.at >= from && line.at < start) {
            before.insert(shape);
        }
    }
    let mut patterns: Vec<PatternCount> = counts
        .into_iter()
        .map(|(pattern, (count, gist))| PatternCount {
            new: baseline_from.map(|_| !before.contains(&pattern)),
            pattern,
            gist,
            count,
        })
        .collect();
    patterns.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.pattern.cmp(&b.pattern))
    });
    (total, patterns)
}

/// Where a service's logs are read.
///
/// Implementations return facts, never text. A query runs within [`LogQuery::deadline`]:
/// one still running then is stopped, and its partial result comes back marked incomplete.
#[async_trait]
pub trait LogSource: Send + Sync + fmt::Debug {
    /// The error lines of the query's service in its window, grouped into patterns.
    ///
    /// # Errors
    /// When ECS (the task definition) or CloudWatch Logs cannot be reached, or the query
    /// failed.
    async fn errors(&self, query: &LogQuery) -> Result<LogErrors, OpsError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn line(secs: u64, message: &str) -> LogLine {
        LogLine {
            at: at(secs),
            message: message.to_owned(),
        }
    }

    #[test]
    fn the_error_expression_is_valid_and_matches_error_lines_only() {
        assert!(regex::Regex::new(ERROR_WORDS).is_ok());
        assert!(is_error("ERROR connection refused"));
        assert!(is_error("java.lang.NullPointerException at Foo.bar"));
        assert!(is_error("upstream request timed out after 3000 ms"));
        assert!(is_error("payment failed: card declined"));
        assert!(!is_error("GET /healthz 200 3ms"));
        assert!(!is_error("order 123 shipped"));
    }

    #[test]
    fn lines_are_counted_by_pattern_in_the_window_and_new_ones_are_told_apart() {
        let lines = vec![
            line(50, "ERROR timeout calling pricing after 3000 ms"),
            line(
                110,
                "ERROR connection refused to payments-db:5432 (attempt 1)",
            ),
            line(
                120,
                "ERROR connection refused to payments-db:5432 (attempt 2)",
            ),
            line(
                130,
                "ERROR connection refused to payments-db:5432 (attempt 3)",
            ),
            line(140, "ERROR timeout calling pricing after 2950 ms"),
            line(150, "INFO order 42 placed"),
            line(500, "ERROR after the window"),
        ];
        let (total, patterns) = summarize(&lines, at(100), at(200), Some(at(0)));
        assert_eq!(total, 4);
        assert_eq!(patterns.len(), 2);
        assert_eq!(patterns[0].count, 3);
        assert_eq!(
            patterns[0].pattern,
            "ERROR connection refused to payments-db:<num> (attempt <num>)"
        );
        assert_eq!(patterns[0].gist, "connection refused to payments-db");
        assert_eq!(patterns[0].new, Some(true));
        assert_eq!(patterns[1].count, 1);
        assert_eq!(patterns[1].new, Some(false), "seen before the deployment");
        let (_, unknown) = summarize(&lines, at(100), at(200), None);
        assert!(unknown.iter().all(|p| p.new.is_none()));
    }
}
