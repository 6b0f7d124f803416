//! Notification cards: Block Kit for an alarm episode, a burst of alarms, and a failed
//! deployment, with the plain-text fallback, within Block Kit's limits. Every name and
//! reason from AWS is escaped; the buttons ask the same dialog as any question.

use serde_json::{Value, json};

use crate::channel::slack::blocks::{
    self as kit, ASK_ACTION, MAX_FALLBACK, MAX_SECTION_TEXT, Message, escape, escaped_within,
};

pub use crate::channel::slack::MUTE_ACTION;

/// "3 out of the last 3 datapoints [2.1 (…), …] were greater than the threshold (1.5)" in
/// words: the latest value, the threshold, and how many of how many periods.
#[must_use]
pub fn in_words(subject: &str, metric: &str, reason: &str) -> Option<String> {
    let (count, rest) = reason.split_once(" out of the last ")?;
    let count: u32 = count.rsplit(' ').next()?.trim().parse().ok()?;
    let (of, rest) = rest.split_once(' ')?;
    let of: u32 = of.parse().ok()?;
    let latest = rest
        .split_once('[')
        .and_then(|(_, r)| r.split([' ', ']', ',']).next())
        .and_then(|v| v.parse::<f64>().ok())?;
    let (_, threshold) = rest.split_once("threshold (")?;
    let threshold: f64 = threshold.split(')').next()?.parse().ok()?;
    let direction = if rest.contains("less than") {
        "under"
    } else {
        "over"
    };
    let number = |v: f64| {
        if (v - v.round()).abs() < 1e-9 {
            format!("{v:.0}")
        } else {
            format!("{v:.2}").trim_end_matches('0').to_owned()
        }
    };
    Some(format!(
        "{subject}'s {metric} is {}, {direction} {} for {count} of {of} periods",
        number(latest),
        number(threshold)
    ))
}

fn context(text: &str) -> Value {
    kit::context(vec![text.to_owned()])
}

fn button(label: &str, action_id: &str, value: &str) -> Value {
    kit::button(label, action_id, Some(value), None)
}

/// What an alarm card says.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmCard {
    pub alarm: String,
    /// `Some(minutes)` once resolved.
    pub resolved_after: Option<u64>,
    /// What fired, in words (or the alarm's own reason).
    pub what: String,
    /// The service's health line, when the alarm is tied to a service.
    pub health: Option<String>,
    /// What changed on the service in the last hour.
    pub changed: Option<String>,
    /// The service to ask about and mute (`cluster/name`), if any.
    pub service: Option<(String, String)>,
    /// How many times it fired in this episode.
    pub fires: u32,
    /// Posted late: how long after the event.
    pub late_by: Option<u64>,
}

impl AlarmCard {
    #[must_use]
    pub fn message(&self) -> Message {
        let alarm = escape(&self.alarm);
        let head = match self.resolved_after {
            Some(m) => format!(":white_check_mark: *{alarm}* resolved after {}", minutes(m)),
            None if self.fires > 1 => format!(
                ":red_circle: *{alarm}* is firing (fired {} times)",
                self.fires
            ),
            None => format!(":red_circle: *{alarm}* is firing"),
        };
        let mut blocks = vec![kit::section(&head), kit::section(&escape(&self.what))];
        let mut lines = Vec::new();
        if let Some(health) = &self.health {
            lines.push(escape(health));
        }
        if let Some(changed) = &self.changed {
            lines.push(escape(changed));
        }
        if !lines.is_empty() {
            blocks.push(context(&lines.join("\n")));
        }
        if let Some(late) = self.late_by {
            blocks.push(context(&format!(
                ":hourglass: Posted {} late: Slack could not be reached until now.",
                minutes(late.div_ceil(60).max(1))
            )));
        }
        if self.resolved_after.is_none() {
            let mut buttons = vec![
                button(
                    "Why is it firing?",
                    &format!("{ASK_ACTION}-0"),
                    &format!("why is {} firing", self.alarm),
                ),
                button(
                    "What changed?",
                    &format!("{ASK_ACTION}-1"),
                    "what changed in the last hour",
                ),
            ];
            if let Some((cluster, name)) = &self.service {
                buttons.push(button(
                    "CPU and memory",
                    &format!("{ASK_ACTION}-2"),
                    &format!("what's the cpu and memory of {name} in {cluster}"),
                ));
                buttons.push(button(
                    "Mute for 1 hour",
                    MUTE_ACTION,
                    &format!("{cluster}/{name}"),
                ));
            } else {
                buttons.push(button(
                    "Mute for 1 hour",
                    MUTE_ACTION,
                    &format!("alarm:{}", self.alarm),
                ));
            }
            blocks.push(json!({ "type": "actions", "elements": buttons }));
        }
        let mut text = match self.resolved_after {
            Some(m) => format!("{} resolved after {}.", self.alarm, minutes(m)),
            None => format!(
                "{} is firing: {}.",
                self.alarm,
                self.what.trim_end_matches('.')
            ),
        };
        if let Some(health) = &self.health {
            text.push(' ');
            text.push_str(health);
        }
        Message {
            text: escaped_within(&text, MAX_FALLBACK),
            blocks,
        }
    }
}

/// "14 minutes", "1 minute".
#[must_use]
pub fn minutes(m: u64) -> String {
    if m == 1 {
        "1 minute".to_owned()
    } else {
        format!("{m} minutes")
    }
}

/// One card for a burst of alarms: how many, and the list.
#[must_use]
pub fn burst(alarms: &[String]) -> Message {
    let count = alarms.len();
    let mut list = String::new();
    let mut shown = 0;
    for alarm in alarms {
        let line = format!("• {}\n", escape(alarm));
        if list.chars().count() + line.chars().count() > MAX_SECTION_TEXT - 40 {
            break;
        }
        list.push_str(&line);
        shown += 1;
    }
    if shown < count {
        list.push_str(&format!("…and {} more", count - shown));
    }
    let text = format!(
        "{count} alarms fired within a minute: {}.",
        alarms
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );
    Message {
        text: escaped_within(&text, MAX_FALLBACK),
        blocks: vec![
            kit::section(&format!(
                ":rotating_light: *{count} alarms fired within a minute*"
            )),
            kit::section(list.trim_end()),
            context("Each alarm's updates follow in this thread."),
            json!({ "type": "actions", "elements": [
                button("Any alarms firing?", &format!("{ASK_ACTION}-0"), "any alarms firing"),
                button("What changed?", &format!("{ASK_ACTION}-1"), "what changed in the last hour"),
            ]}),
        ],
    }
}

/// A failed or rolled-back deployment.
#[must_use]
pub fn deployment(
    cluster: &str,
    service: &str,
    rolled_back: bool,
    deployment: &str,
    reason: &str,
) -> Message {
    let what = if rolled_back { "rolled back" } else { "failed" };
    let head = format!(
        ":x: *{}*'s deployment {what} ({})",
        escape(service),
        escape(cluster)
    );
    let mut blocks = vec![kit::section(&head)];
    if !reason.is_empty() {
        blocks.push(kit::section(&escape(reason)));
    }
    if !deployment.is_empty() {
        blocks.push(context(&format!("Deployment {}", escape(deployment))));
    }
    blocks.push(json!({ "type": "actions", "elements": [
        button("Deploy status", &format!("{ASK_ACTION}-0"), &format!("did {service} in {cluster} roll back")),
        button("How is it doing?", &format!("{ASK_ACTION}-1"), &format!("how is {service} in {cluster} doing")),
        button("Mute for 1 hour", MUTE_ACTION, &format!("{cluster}/{service}")),
    ]}));
    let mut text = format!("{service}'s deployment {what} in {cluster}.");
    if !reason.is_empty() {
        text.push(' ');
        text.push_str(reason);
    }
    Message {
        text: escaped_within(&text, MAX_FALLBACK),
        blocks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_reason_reads_in_words() {
        let reason = "Threshold Crossed: 3 out of the last 3 datapoints [2.1 (02/10/19 17:04:00), 1.9 (02/10/19 17:03:00)] were greater than the threshold (1.5) (minimum 3 datapoints for OK -> ALARM transition).";
        assert_eq!(
            in_words("checkout", "p99 latency", reason).as_deref(),
            Some("checkout's p99 latency is 2.1, over 1.5 for 3 of 3 periods")
        );
        assert_eq!(
            in_words("x", "cpu", "Threshold Crossed: no datapoints"),
            None
        );
    }
}
