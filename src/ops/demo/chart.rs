//! The demo fleet's alarm charts: fake but plausible. Each alarm's series sits well inside
//! its threshold while it is OK and past it while it is in ALARM, as its own history (the
//! same one AlarmDetail tells) says, one point a minute, with a steady jitter.

use std::time::{Duration, SystemTime};

use super::{ALARMS, DemoFleet, MINUTE, hash};
use crate::ops::alarm_chart::alarm_spans;
use crate::ops::{AlarmChart, AlarmKind, ServiceRef};

/// The threshold a demo alarm's reason names: "… the threshold (1500 milliseconds) …".
fn threshold(reason: &str) -> Option<f64> {
    let rest = reason.split_once("threshold (")?.1;
    rest.split([' ', ')']).next()?.parse().ok()
}

impl DemoFleet {
    pub(super) fn chart_of(&self, name: &str, window: Duration) -> Option<AlarmChart> {
        let spec = ALARMS
            .iter()
            .find(|a| a.name == name && a.kind == AlarmKind::Metric)?;
        let now = self.clock.now();
        let start = now - window;
        let changes: Vec<(SystemTime, String)> = spec
            .history
            .iter()
            .map(|(ago, summary)| (self.ago(*ago), (*summary).to_owned()))
            .collect();
        let in_alarm = alarm_spans(&changes, spec.state, self.ago(spec.since_ago), start);
        let limit = threshold(spec.reason);
        let below = spec.reason.contains("less than");
        let scale = limit.unwrap_or(1.0).max(1.0);
        let minutes = (window.as_secs() / MINUTE).clamp(1, 24 * 60);
        let now_minute = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs()
            / MINUTE;
        let points = (0..minutes)
            .rev()
            .map(|ago| {
                let minute = now_minute.saturating_sub(ago);
                let at = SystemTime::UNIX_EPOCH + Duration::from_secs(minute * MINUTE);
                let firing = in_alarm
                    .iter()
                    .any(|(from, until)| at >= *from && until.is_none_or(|u| at < u));
                let jitter = f64::from(hash(&format!("{name}/{minute}")) % 1000) / 1000.0 - 0.5;
                let value = match (below, firing) {
                    (false, false) => scale * (0.55 + jitter * 0.15),
                    (false, true) => scale * (1.35 + jitter * 0.15),
                    (true, false) => scale * (2.5 + jitter * 0.4),
                    (true, true) => 0.0,
                };
                (at, value.max(0.0))
            })
            .collect();
        Some(AlarmChart {
            alarm: spec.name.to_owned(),
            service: spec.service.map(|(c, n)| ServiceRef::new(c, n)),
            metric: spec.metric.unwrap_or_default().to_owned(),
            threshold: limit,
            state: spec.state,
            points,
            in_alarm,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::sync::Arc;

    use super::*;
    use crate::ops::{AlarmState, FixedClock, OpsSource};

    #[tokio::test]
    async fn a_firing_demo_alarm_is_over_its_threshold_while_it_fires() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let fleet = DemoFleet::new(Arc::new(FixedClock(now)));
        let chart = fleet
            .alarm_chart("checkout-p99-latency-high", Duration::from_secs(3 * 3600))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(chart.threshold, Some(1500.0));
        assert_eq!(chart.state, AlarmState::Alarm);
        assert_eq!(
            chart.in_alarm,
            vec![(now - Duration::from_secs(12 * 60), None)]
        );
        assert_eq!(chart.points.len(), 180);
        let (last_at, last) = *chart.points.last().unwrap();
        assert!(last > 1500.0 && last_at <= now);
        assert!(chart.points[0].1 < 1500.0);
        // A composite alarm watches no metric: no chart.
        assert!(
            fleet
                .alarm_chart("prod-customer-impact", Duration::from_secs(3600))
                .await
                .unwrap()
                .is_none()
        );
    }
}
