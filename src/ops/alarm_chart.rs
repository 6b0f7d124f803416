//! What a chart of an alarm needs that no other question does: the series the alarm
//! itself evaluates, its threshold, and when in the window it was in `ALARM`
//! ([`super::OpsSource::alarm_chart`]). A service's own series ([`super::OpsSource::metric`])
//! and its last deployment ([`super::OpsSource::service_deployments`]) come from the
//! existing calls.

use std::time::SystemTime;

use super::{AlarmState, ServiceRef};

/// An alarm's metric over a window, as a chart draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmChart {
    pub alarm: String,
    /// The service the alarm is about, when it is tied to one.
    pub service: Option<ServiceRef>,
    /// What it watches, as CloudWatch names it (`AWS/ECS CPUUtilization`, or a
    /// metric-math alarm's label).
    pub metric: String,
    /// The threshold it compares against (`None` for an anomaly band).
    pub threshold: Option<f64>,
    pub state: AlarmState,
    /// The series the alarm evaluates, oldest first, in the alarm's own unit.
    pub points: Vec<(SystemTime, f64)>,
    /// When it was in `ALARM` within the window, oldest first: `(from, until)`, `until`
    /// `None` while it still is.
    pub in_alarm: Vec<(SystemTime, Option<SystemTime>)>,
}

/// The states a history summary names, `Alarm updated from OK to ALARM` (CloudWatch's own
/// words, and the demo's): `(from, to)`.
#[must_use]
pub fn transition(summary: &str) -> Option<(&str, &str)> {
    let rest = summary.split_once(" from ")?.1;
    let (from, to) = rest.split_once(" to ")?;
    Some((from.trim(), to.trim().trim_end_matches('.')))
}

/// The spans in `ALARM` within `[start, end]` from state changes `(at, summary)` in any
/// order and the alarm's state now (`since` it entered it). Without any change in the
/// window, the state now tells: in `ALARM` since `since` (or the window's start).
#[must_use]
pub fn alarm_spans(
    changes: &[(SystemTime, String)],
    now_state: AlarmState,
    since: SystemTime,
    start: SystemTime,
) -> Vec<(SystemTime, Option<SystemTime>)> {
    let mut changes: Vec<(SystemTime, &str, &str)> = changes
        .iter()
        .filter_map(|(at, summary)| transition(summary).map(|(from, to)| (*at, from, to)))
        .filter(|(at, ..)| *at >= start)
        .collect();
    changes.sort_by_key(|(at, ..)| *at);
    let mut spans = Vec::new();
    let mut open = match changes.first() {
        Some((_, from, _)) => (*from == "ALARM").then_some(start),
        None => (now_state == AlarmState::Alarm).then_some(since.max(start)),
    };
    for (at, _, to) in &changes {
        match (open, *to == "ALARM") {
            (None, true) => open = Some(*at),
            (Some(from), false) => {
                spans.push((from, Some(*at)));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(from) = open {
        spans.push((from, None));
    } else if now_state == AlarmState::Alarm && !changes.is_empty() {
        // The history missed the last change (it is written a moment after the state).
        spans.push((since.max(start), None));
    }
    spans
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(mins: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 + mins * 60)
    }

    #[test]
    fn spans_follow_the_history_and_clip_to_the_window() {
        let changes = vec![
            (at(50), "Alarm updated from ALARM to OK".to_owned()),
            (at(30), "Alarm updated from OK to ALARM".to_owned()),
            (at(170), "Alarm updated from OK to ALARM".to_owned()),
        ];
        let spans = alarm_spans(&changes, AlarmState::Alarm, at(170), at(0));
        assert_eq!(spans, vec![(at(30), Some(at(50))), (at(170), None)]);
        // Already in ALARM when the window starts.
        let changes = vec![(at(20), "Alarm updated from ALARM to OK".to_owned())];
        assert_eq!(
            alarm_spans(&changes, AlarmState::Ok, at(20), at(0)),
            vec![(at(0), Some(at(20)))]
        );
    }

    #[test]
    fn without_history_the_state_now_tells() {
        assert_eq!(
            alarm_spans(&[], AlarmState::Alarm, at(100), at(0)),
            vec![(at(100), None)]
        );
        assert!(alarm_spans(&[], AlarmState::Ok, at(100), at(0)).is_empty());
        assert_eq!(
            transition("Alarm updated from OK to ALARM"),
            Some(("OK", "ALARM"))
        );
        assert_eq!(transition("Alarm created"), None);
    }
}
