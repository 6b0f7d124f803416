//! The demo fleet's logs: plausible error lines, made on demand for the window asked about,
//! the same every time for the same moment. checkout has been refused by payments-db since
//! its deploy (and was already timing out on pricing before it); a few other services have
//! troubles of their own; the rest log no errors. The lines go through the same
//! [`super::summarize`] as live ones.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::{LogErrors, LogLine, LogQuery, LogSource, summarize};
use crate::ops::OpsError;

/// One kind of error a demo service logs: a line every `every` seconds, with `{n}` a
/// number that changes from line to line, from the deployment on (`since_deploy`) or all
/// along.
struct Trouble {
    line: &'static str,
    every: u64,
    since_deploy: bool,
}

const fn trouble(line: &'static str, every: u64, since_deploy: bool) -> Trouble {
    Trouble {
        line,
        every,
        since_deploy,
    }
}

/// The demo services that log errors, and what they log.
const TROUBLES: &[(&str, &[Trouble])] = &[
    (
        "checkout",
        &[
            trouble(
                "ERROR connection refused to payments-db:5432 (attempt {n})",
                15,
                true,
            ),
            trouble("ERROR timeout calling pricing after {n} ms", 90, false),
            trouble(
                "java.lang.NullPointerException at com.shop.checkout.CartTotals.apply(CartTotals.java:{n})",
                360,
                true,
            ),
        ],
    ),
    (
        "recommendations",
        &[
            trouble("ERROR model endpoint timed out after {n} ms", 20, false),
            trouble(
                "ERROR feature-store lookup failed for user {n}: connection reset by peer",
                240,
                false,
            ),
        ],
    ),
    (
        "pricing",
        &[trouble(
            "ERROR upstream catalog returned HTTP 503 for sku {n}",
            45,
            false,
        )],
    ),
    (
        "payments-api",
        &[trouble(
            "WARN card processor declined charge {n}: payment failed, retrying",
            300,
            false,
        )],
    ),
];

/// The demo fleet's log groups, read instead of CloudWatch Logs.
#[derive(Debug, Clone, Default)]
pub struct DemoLogs;

impl DemoLogs {
    #[must_use]
    pub fn new() -> Self {
        Self
    }
}

fn secs(at: SystemTime) -> u64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
}

#[async_trait]
impl LogSource for DemoLogs {
    async fn errors(&self, query: &LogQuery) -> Result<LogErrors, OpsError> {
        let troubles = TROUBLES
            .iter()
            .find(|(name, _)| *name == query.service.name)
            .map_or(&[][..], |(_, t)| *t);
        let from = secs(query.baseline_from.unwrap_or(query.start));
        let to = secs(query.end);
        let deployed = query.deployed_at.map_or(0, secs);
        let mut lines = Vec::new();
        for (i, t) in troubles.iter().enumerate() {
            // Lines fall on multiples of `every` (offset per kind), so a moment's lines
            // are the same whenever it is asked about.
            let offset = (i as u64 * 7) % t.every;
            let first = from.div_ceil(t.every) * t.every + offset;
            let mut at = first;
            while at <= to && lines.len() < super::MAX_LINES {
                if !t.since_deploy || at >= deployed {
                    let n = 1 + (at / t.every) % 97 * 31;
                    lines.push(LogLine {
                        at: SystemTime::UNIX_EPOCH + Duration::from_secs(at),
                        message: t.line.replace("{n}", &n.to_string()),
                    });
                }
                at += t.every;
            }
        }
        let (total, patterns) = summarize(&lines, query.start, query.end, query.baseline_from);
        Ok(LogErrors {
            groups: vec![format!("/ecs/{}", query.service.name)],
            region: None,
            total,
            capped: false,
            patterns,
            complete: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::ServiceRef;

    #[tokio::test]
    async fn checkout_is_refused_by_payments_db_since_its_deploy() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_341_600);
        let deployed = now - Duration::from_secs(44 * 60);
        let query = LogQuery {
            service: ServiceRef::new("prod", "checkout"),
            task_definition: "checkout:42".to_owned(),
            start: deployed,
            end: now,
            deployed_at: Some(deployed),
            baseline_from: Some(deployed - Duration::from_secs(3600)),
            deadline: Duration::from_secs(2),
        };
        let errors = DemoLogs::new().errors(&query).await.unwrap();
        assert!(errors.total > 150, "{errors:?}");
        let top = &errors.patterns[0];
        assert_eq!(top.gist, "connection refused to payments-db");
        assert_eq!(top.new, Some(true));
        let pricing = errors
            .patterns
            .iter()
            .find(|p| p.gist.contains("pricing"))
            .unwrap();
        assert_eq!(
            pricing.new,
            Some(false),
            "it timed out before the deploy too"
        );
        let quiet = LogQuery {
            service: ServiceRef::new("prod", "cart"),
            ..query
        };
        assert_eq!(DemoLogs::new().errors(&quiet).await.unwrap().total, 0);
    }
}
