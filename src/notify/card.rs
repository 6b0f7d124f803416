//! Notification cards: Block Kit for an alarm episode, a burst of alarms, and a
//! deployment that failed, is rolling back or rolled back, with the plain-text fallback,
//! within Block Kit's limits. The words are `prompts/en-US/notify.ftl`'s; every name and
//! reason from AWS is escaped before it goes into them; the buttons ask the same dialog as
//! any question.

use serde_json::{Value, json};

use super::origin::Origin;
use crate::channel::slack::blocks::{
    self as kit, ASK_ACTION, MAX_FALLBACK, MAX_SECTION_TEXT, Message, escape, escaped_within,
    mention,
};
use crate::ops::ServiceRef;
use crate::speech::render::{Say, n, s};

pub use crate::channel::slack::MUTE_ACTION;
pub use crate::channel::slack::ack::ACK_ACTION;

/// The value of an alarm card's Acknowledge button: which episode the card is (when it
/// opened, and the alarm; the channel is where the card is).
#[must_use]
pub fn ack_value(opened_at: i64, alarm: &str) -> String {
    format!("{opened_at}:{alarm}")
}

/// The episode an Acknowledge button's value names (`opened_at`, `alarm`), if it is one.
#[must_use]
pub fn read_ack_value(value: &str) -> Option<(i64, &str)> {
    let (opened_at, alarm) = value.split_once(':')?;
    let opened_at = opened_at.parse().ok()?;
    (!alarm.is_empty()).then_some((opened_at, alarm))
}

/// What a Mute button mutes in its channel (and what the notifier checks): the service
/// (`cluster/name`), or the alarm (`alarm:name`) when it is tied to none; with accounts
/// configured, in its account and region (`prod/checkout in prod@eu-west-1`), so muting
/// one account's checkout leaves another's heard.
#[must_use]
pub fn mute_subject(origin: Option<&Origin>, alarm: &str, service: Option<&ServiceRef>) -> String {
    let base = service.map_or_else(
        || format!("alarm:{alarm}"),
        |s| format!("{}/{}", s.cluster, s.name),
    );
    match origin {
        None => base,
        Some(o) => format!("{base} in {}", o.place()),
    }
}

/// Where an event happened, in words ("the prod account, eu-west-1"), unescaped.
#[must_use]
pub fn where_(say: &Say<'_>, origin: &Origin) -> String {
    say.msg(
        "card-where",
        [
            ("account", s(origin.account.clone())),
            (
                "region",
                s(origin.region.clone().unwrap_or_else(|| "none".to_owned())),
            ),
        ],
    )
}

/// The context line that says where (escaped), and the fallback's sentence (unescaped).
fn where_lines(say: &Say<'_>, origin: &Origin) -> (Value, String) {
    let place = where_(say, origin);
    (
        context(&say.msg("card-where-line", [("where", s(escape(&place)))])),
        say.msg("card-where-fallback", [("where", s(place))]),
    )
}

/// What an alarm's reason says, read from CloudWatch's threshold sentence ("3 out of the
/// last 3 datapoints [2.1 (…), …] were greater than the threshold (1.5)"): the latest
/// value, the threshold, and how many of how many periods.
#[derive(Debug, Clone, PartialEq)]
pub struct Crossing {
    pub latest: f64,
    pub threshold: f64,
    pub under: bool,
    pub count: u32,
    pub of: u32,
}

impl Crossing {
    /// The crossing a CloudWatch threshold reason describes, if it is one.
    #[must_use]
    pub fn read(reason: &str) -> Option<Self> {
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
        Some(Self {
            latest,
            threshold,
            under: rest.contains("less than"),
            count,
            of,
        })
    }
}

/// A value as a card shows it: whole numbers without decimals, others to two places.
fn number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}").trim_end_matches('0').to_owned()
    }
}

/// "checkout's p99 latency is 2.1, over 1.5 for 3 of 3 periods": `reason` in words, when
/// it is a threshold crossing.
#[must_use]
pub fn in_words(say: &Say<'_>, subject: &str, metric: &str, reason: &str) -> Option<String> {
    let c = Crossing::read(reason)?;
    Some(say.msg(
        "card-in-words",
        [
            ("subject", s(subject)),
            ("metric", s(metric)),
            ("latest", s(number(c.latest))),
            ("direction", s(if c.under { "under" } else { "over" })),
            ("threshold", s(number(c.threshold))),
            ("count", n(c.count)),
            ("of", n(c.of)),
        ],
    ))
}

/// "14 minutes", "1 minute".
#[must_use]
pub fn minutes(say: &Say<'_>, m: u64) -> String {
    say.msg("notify-minutes", [("n", n(m as f64))])
}

fn context(text: &str) -> Value {
    kit::context(vec![text.to_owned()])
}

fn button(label: String, action_id: &str, value: &str) -> Value {
    kit::button(&label, action_id, Some(value), None)
}

/// Why an alarm's actions are suppressed: the suppressor alarm, and by what
/// (`WaitPeriod`, `ExtensionPeriod` or `Alarm`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Suppressed {
    pub by: String,
    pub suppressor: String,
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
    /// The alarm's actions are suppressed (a composite alarm's suppressor).
    pub suppressed: Option<Suppressed>,
    /// When the episode opened (seconds since the epoch): with the alarm, what the
    /// Acknowledge button names.
    pub opened_at: i64,
    /// The Slack user who acknowledged it, once someone has.
    pub acked_by: Option<String>,
    /// Its actions are silenced by someone, for now (issue 31, guard rail 8).
    pub silenced: Option<Silenced>,
    /// The account and region (accounts configured); `None` says nothing of where.
    pub origin: Option<Origin>,
}

/// A running silence on a card's alarm: who asked for it (their username) and when it
/// ends (seconds since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silenced {
    pub by: String,
    pub until: i64,
}

impl AlarmCard {
    #[must_use]
    pub fn message(&self, say: &Say<'_>) -> Message {
        let alarm = escape(&self.alarm);
        let head = match self.resolved_after {
            Some(m) => say.msg(
                "card-resolved",
                [("alarm", s(alarm.clone())), ("minutes", s(minutes(say, m)))],
            ),
            None if self.fires > 1 => say.msg(
                "card-firing-again",
                [("alarm", s(alarm.clone())), ("fires", n(self.fires))],
            ),
            None => say.msg("card-firing", [("alarm", s(alarm.clone()))]),
        };
        let mut blocks = vec![kit::section(&head)];
        let place = self.origin.as_ref().map(|o| where_lines(say, o));
        if let Some((line, _)) = &place {
            blocks.push(line.clone());
        }
        blocks.push(kit::section(&escape(&self.what)));
        let mut lines = Vec::new();
        if let Some(suppressed) = self
            .suppressed
            .as_ref()
            .filter(|s| !s.suppressor.is_empty())
        {
            lines.push(say.msg(
                "card-suppressed",
                [
                    ("suppressor", s(escape(&suppressed.suppressor))),
                    ("by", s(suppressed.by.clone())),
                ],
            ));
        }
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
            blocks.push(context(&say.msg(
                "card-late",
                [("minutes", s(minutes(say, late.div_ceil(60).max(1))))],
            )));
        }
        // Who took it stays on the card through every later edit (resolved included).
        let acked = self
            .acked_by
            .as_deref()
            .map(|user| say.msg("card-acked", [("who", s(mention(user)))]));
        if let Some(acked) = &acked {
            blocks.push(context(acked));
        }
        // A silence says who and until when, so nobody wonders why nothing pages.
        if let Some(silenced) = &self.silenced {
            blocks.push(context(&say.msg(
                "card-silenced",
                [
                    ("who", s(escape(&silenced.by))),
                    ("until", s(say.clock(silenced.until))),
                ],
            )));
        }
        if self.resolved_after.is_none() {
            let mut buttons = Vec::new();
            if self.acked_by.is_none() {
                buttons.push(button(
                    say.msg("card-button-ack", []),
                    ACK_ACTION,
                    &ack_value(
                        self.opened_at,
                        &super::scoped(self.origin.as_ref(), &self.alarm),
                    ),
                ));
            }
            buttons.extend([
                button(
                    say.msg("card-button-why", []),
                    &format!("{ASK_ACTION}-0"),
                    &say.msg("say-why", [("alarm", s(self.alarm.clone()))]),
                ),
                button(
                    say.msg("card-button-changed", []),
                    &format!("{ASK_ACTION}-1"),
                    &say.msg("say-changes", []),
                ),
            ]);
            if let Some((cluster, name)) = &self.service {
                buttons.push(button(
                    say.msg("card-button-usage", []),
                    &format!("{ASK_ACTION}-2"),
                    &say.msg(
                        "card-say-usage",
                        [
                            ("service", s(name.clone())),
                            ("cluster", s(cluster.clone())),
                        ],
                    ),
                ));
                buttons.push(button(
                    say.msg("card-button-mute", []),
                    MUTE_ACTION,
                    &mute_subject(
                        self.origin.as_ref(),
                        &self.alarm,
                        Some(&ServiceRef::new(cluster.clone(), name.clone())),
                    ),
                ));
            } else {
                buttons.push(button(
                    say.msg("card-button-mute", []),
                    MUTE_ACTION,
                    &mute_subject(self.origin.as_ref(), &self.alarm, None),
                ));
            }
            blocks.push(json!({ "type": "actions", "elements": buttons }));
        }
        let mut text = match self.resolved_after {
            Some(m) => say.msg(
                "card-resolved-fallback",
                [
                    ("alarm", s(self.alarm.clone())),
                    ("minutes", s(minutes(say, m))),
                ],
            ),
            None => say.msg(
                "card-firing-fallback",
                [
                    ("alarm", s(self.alarm.clone())),
                    ("what", s(self.what.trim_end_matches('.').to_owned())),
                ],
            ),
        };
        if let Some((_, sentence)) = &place {
            text.push(' ');
            text.push_str(sentence);
        }
        if let Some(suppressed) = self
            .suppressed
            .as_ref()
            .filter(|s| !s.suppressor.is_empty())
        {
            text.push(' ');
            text.push_str(&say.msg(
                "card-suppressed",
                [
                    ("suppressor", s(suppressed.suppressor.clone())),
                    ("by", s(suppressed.by.clone())),
                ],
            ));
        }
        if let Some(health) = &self.health {
            text.push(' ');
            text.push_str(health);
        }
        if let Some(silenced) = &self.silenced {
            text.push(' ');
            text.push_str(&say.msg(
                "card-silenced-fallback",
                [
                    ("who", s(silenced.by.clone())),
                    ("until", s(say.clock(silenced.until))),
                ],
            ));
        }
        // The mention is ours (it must not be escaped to work), so it goes after the
        // escaped rest, which leaves it room.
        let text = match self.acked_by.as_deref() {
            Some(user) => {
                let acked = say.msg("card-acked-fallback", [("who", s(mention(user)))]);
                let room = MAX_FALLBACK.saturating_sub(acked.chars().count() + 1);
                format!("{} {acked}", escaped_within(&text, room))
            }
            None => escaped_within(&text, MAX_FALLBACK),
        };
        Message { text, blocks }
    }
}

/// One card for a burst of alarms: how many, and the list.
#[must_use]
pub fn burst(say: &Say<'_>, alarms: &[String]) -> Message {
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
        list.push_str(&say.msg("card-burst-more", [("count", n((count - shown) as f64))]));
    }
    let text = say.msg(
        "card-burst-fallback",
        [
            ("count", n(count as f64)),
            (
                "alarms",
                s(alarms
                    .iter()
                    .take(20)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")),
            ),
        ],
    );
    Message {
        text: escaped_within(&text, MAX_FALLBACK),
        blocks: vec![
            kit::section(&say.msg("card-burst", [("count", n(count as f64))])),
            kit::section(list.trim_end()),
            context(&say.msg("card-burst-thread", [])),
            json!({ "type": "actions", "elements": [
                button(say.msg("card-button-alarms", []), &format!("{ASK_ACTION}-0"), &say.msg("say-alarms", [])),
                button(say.msg("card-button-changed", []), &format!("{ASK_ACTION}-1"), &say.msg("say-changes", [])),
            ]}),
        ],
    }
}

/// What a deployment card says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deployed {
    Failed,
    /// The circuit breaker started rolling back.
    RollingBack,
    /// The rollback finished.
    RolledBack,
}

impl Deployed {
    fn key(self) -> &'static str {
        match self {
            Self::Failed => "failed",
            Self::RollingBack => "rolling-back",
            Self::RolledBack => "rolled-back",
        }
    }
}

/// A deployment's card.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentCard<'a> {
    pub cluster: &'a str,
    pub service: &'a str,
    pub what: Deployed,
    pub deployment: &'a str,
    pub reason: &'a str,
    /// The deployment a rollback returns to (its id, from the event's reason).
    pub target: Option<&'a str>,
    /// The revision serving after a rollback, when a lookup gave it.
    pub serving: Option<&'a str>,
    /// The account and region (accounts configured); `None` says nothing of where.
    pub origin: Option<&'a Origin>,
}

impl DeploymentCard<'_> {
    #[must_use]
    pub fn message(&self, say: &Say<'_>) -> Message {
        let (cluster, service) = (self.cluster, self.service);
        let head = say.msg(
            "card-deployment",
            [
                ("what", s(self.what.key())),
                ("service", s(escape(service))),
                ("cluster", s(escape(cluster))),
            ],
        );
        let mut blocks = vec![kit::section(&head)];
        let place = self.origin.map(|o| where_lines(say, o));
        if let Some((line, _)) = &place {
            blocks.push(line.clone());
        }
        let mut plain = Vec::new();
        if !self.reason.is_empty() {
            plain.push(self.reason.to_owned());
        }
        // Where it went back to: the deployment the rollback named, unless the service's
        // revision is known (then that, below).
        let back_to = self.what == Deployed::RollingBack
            || (self.what == Deployed::RolledBack && self.serving.is_none());
        if let Some(target) = self.target.filter(|_| back_to) {
            plain.push(say.msg("card-rolling-back-to", [("target", s(target))]));
        }
        if let Some(taskdef) = self.serving {
            plain.push(say.msg("card-rolled-back-to", [("taskdef", s(taskdef))]));
        }
        if !plain.is_empty() {
            blocks.push(kit::section(&escaped_within(
                &plain.join(" "),
                MAX_SECTION_TEXT,
            )));
        }
        if !self.deployment.is_empty() {
            blocks.push(context(&say.msg(
                "card-deployment-id",
                [("deployment", s(escape(self.deployment)))],
            )));
        }
        let ask = |id: &str| {
            say.msg(
                id,
                [
                    ("service", s(service.to_owned())),
                    ("cluster", s(cluster.to_owned())),
                ],
            )
        };
        blocks.push(json!({ "type": "actions", "elements": [
            button(say.msg("card-button-deploy", []), &format!("{ASK_ACTION}-0"), &ask("card-say-deploy")),
            button(say.msg("card-button-health", []), &format!("{ASK_ACTION}-1"), &ask("card-say-health")),
            button(say.msg("card-button-mute", []), MUTE_ACTION,
                &mute_subject(self.origin, service, Some(&ServiceRef::new(cluster, service)))),
        ]}));
        let mut text = say.msg(
            "card-deployment-fallback",
            [
                ("what", s(self.what.key())),
                ("service", s(service.to_owned())),
                ("cluster", s(cluster.to_owned())),
            ],
        );
        if let Some((_, sentence)) = place {
            text.push(' ');
            text.push_str(&sentence);
        }
        for line in plain {
            text.push(' ');
            text.push_str(&line);
        }
        Message {
            text: escaped_within(&text, MAX_FALLBACK),
            blocks,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_threshold_reason_reads_in_words() {
        let renderer = crate::speech::Renderer::embedded(None).expect("prompts load");
        let say = renderer.say("en-US", crate::dialog::Mode::Text);
        let reason = "Threshold Crossed: 3 out of the last 3 datapoints [2.1 (02/10/19 17:04:00), 1.9 (02/10/19 17:03:00)] were greater than the threshold (1.5) (minimum 3 datapoints for OK -> ALARM transition).";
        assert_eq!(
            in_words(&say, "checkout", "p99 latency", reason).as_deref(),
            Some("checkout's p99 latency is 2.1, over 1.5 for 3 of 3 periods")
        );
        assert_eq!(
            in_words(&say, "x", "cpu", "Threshold Crossed: no datapoints"),
            None
        );
    }

    #[test]
    fn an_acknowledged_card_says_who_in_every_state_and_offers_the_button_only_before() {
        let renderer = crate::speech::Renderer::embedded(None).expect("prompts load");
        let say = renderer.say("en-US", crate::dialog::Mode::Text);
        let mut card = AlarmCard {
            alarm: "checkout-5xx<high>".to_owned(),
            resolved_after: None,
            what: "5xx errors are up".to_owned(),
            health: None,
            changed: None,
            service: Some(("prod".to_owned(), "checkout".to_owned())),
            fires: 1,
            late_by: None,
            suppressed: None,
            opened_at: 1_700_000_000,
            acked_by: None,
            silenced: None,
            origin: None,
        };
        let buttons = |m: &Message| -> Vec<Value> {
            m.blocks
                .iter()
                .filter(|b| b["type"] == "actions")
                .flat_map(|b| b["elements"].as_array().cloned().unwrap_or_default())
                .collect()
        };
        let open = card.message(&say);
        let ack = buttons(&open)
            .into_iter()
            .find(|b| b["action_id"] == ACK_ACTION)
            .expect("an Acknowledge button");
        assert_eq!(ack["text"]["text"], "Acknowledge");
        let value = ack["value"].as_str().unwrap_or_default();
        assert_eq!(
            read_ack_value(value),
            Some((1_700_000_000, "checkout-5xx<high>"))
        );
        assert!(
            !serde_json::to_string(&open.blocks)
                .unwrap_or_default()
                .contains("Acknowledged")
        );

        card.acked_by = Some("U0ANA".to_owned());
        for resolved in [None, Some(14)] {
            card.resolved_after = resolved;
            let m = card.message(&say);
            let contexts: Vec<&Value> =
                m.blocks.iter().filter(|b| b["type"] == "context").collect();
            assert!(
                contexts
                    .iter()
                    .any(|b| b["elements"][0]["text"] == "Acknowledged by <@U0ANA>"),
                "{:#?}",
                m.blocks
            );
            assert!(m.text.ends_with("Acknowledged by <@U0ANA>."), "{}", m.text);
            assert!(m.text.contains("checkout-5xx&lt;high&gt;"), "{}", m.text);
            assert!(
                buttons(&m).iter().all(|b| b["action_id"] != ACK_ACTION),
                "no second acknowledgement"
            );
        }
        // A user id that is not one cannot become markup.
        card.acked_by = Some("<!channel>".to_owned());
        let m = card.message(&say);
        let blocks = serde_json::to_string(&m.blocks).unwrap_or_default();
        assert!(
            blocks.contains("Acknowledged by &lt;!channel&gt;"),
            "{blocks}"
        );
        assert!(!m.text.contains("<!channel>"), "{}", m.text);
        assert_eq!(read_ack_value("x:y"), None);
        assert_eq!(read_ack_value("12:"), None);
        assert_eq!(read_ack_value("12:a:b"), Some((12, "a:b")));
    }

    #[test]
    fn the_card_words_render_from_the_prompts() {
        let renderer = crate::speech::Renderer::embedded(None).expect("prompts load");
        let say = renderer.say("en-US", crate::dialog::Mode::Text);
        let change = |count: f64| {
            say.msg(
                "card-last-change",
                [
                    ("taskdef", s("pricing:41")),
                    ("age", s(minutes(&say, 5))),
                    ("outcome", s("rolled-back")),
                    ("count", n(count)),
                ],
            )
        };
        assert_eq!(
            change(1.0),
            "Last hour: pricing:41 deployed 5 minutes ago, rolled back."
        );
        assert_eq!(
            change(3.0),
            "Last hour: pricing:41 deployed 5 minutes ago, rolled back (3 deployments in all)."
        );
        let card = DeploymentCard {
            cluster: "prod",
            service: "pricing<x>",
            what: Deployed::RollingBack,
            deployment: "ecs-svc/456",
            reason: "ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/123.",
            target: Some("ecs-svc/123"),
            serving: None,
            origin: None,
        }
        .message(&say);
        assert!(
            card.text
                .starts_with("pricing&lt;x&gt; is rolling back in prod."),
            "{}",
            card.text
        );
        assert!(
            card.text.contains("Back to deployment ecs-svc/123."),
            "{}",
            card.text
        );
        let blocks = serde_json::to_string(&card.blocks).unwrap_or_default();
        assert!(
            blocks.contains("*pricing&lt;x&gt;* is rolling back (prod)"),
            "{blocks}"
        );
        let alarm = AlarmCard {
            alarm: "svc-aggregate".to_owned(),
            resolved_after: None,
            what: "a child alarm fired".to_owned(),
            health: None,
            changed: None,
            service: None,
            fires: 1,
            late_by: None,
            suppressed: Some(Suppressed {
                by: "WaitPeriod".to_owned(),
                suppressor: "maintenance".to_owned(),
            }),
            opened_at: 1_700_000_000,
            acked_by: None,
            silenced: None,
            origin: None,
        }
        .message(&say);
        assert!(
            alarm.text.contains(
                "suppressed by maintenance while it waits to see whether maintenance fires"
            ),
            "{}",
            alarm.text
        );
        assert!(!alarm.text.contains('{'), "{}", alarm.text);
    }

    #[test]
    fn a_silenced_card_says_who_and_until_when_escaped() {
        let renderer = crate::speech::Renderer::embedded(None).expect("prompts load");
        let say = renderer.say("en-US", crate::dialog::Mode::Text);
        let mut card = AlarmCard {
            alarm: "checkout-5xx".to_owned(),
            resolved_after: None,
            what: "5xx errors are up".to_owned(),
            health: None,
            changed: None,
            service: None,
            fires: 1,
            late_by: None,
            suppressed: None,
            opened_at: 1_700_000_000,
            acked_by: None,
            // 2023-11-14 15:00 UTC.
            silenced: Some(Silenced {
                by: "ana<@U1>".to_owned(),
                until: 1_699_974_000,
            }),
            origin: None,
        };
        let m = card.message(&say);
        let blocks = serde_json::to_string(&m.blocks).unwrap_or_default();
        assert!(
            blocks.contains("Silenced by ana&lt;@U1&gt; until 15:00 UTC"),
            "{blocks}"
        );
        assert!(
            m.text
                .contains("Silenced by ana&lt;@U1&gt; until 15:00 UTC."),
            "{}",
            m.text
        );
        card.silenced = None;
        assert!(!card.message(&say).text.contains("Silenced"));
    }

    #[test]
    fn a_card_from_an_account_says_where_and_its_buttons_name_the_account() {
        let renderer = crate::speech::Renderer::embedded(None).expect("prompts load");
        let say = renderer.say("en-US", crate::dialog::Mode::Text);
        let origin = Origin {
            account: "payments team".to_owned(),
            id: "111111111111".to_owned(),
            region: Some("eu-west-1".to_owned()),
        };
        let card = AlarmCard {
            alarm: "checkout-5xx".to_owned(),
            resolved_after: None,
            what: "5xx errors are up".to_owned(),
            health: None,
            changed: None,
            service: Some(("prod".to_owned(), "checkout".to_owned())),
            fires: 1,
            late_by: None,
            suppressed: None,
            opened_at: 1_700_000_000,
            acked_by: None,
            silenced: None,
            origin: Some(origin.clone()),
        }
        .message(&say);
        assert_eq!(
            card.text,
            "checkout-5xx is firing: 5xx errors are up. In the payments team account, eu-west-1."
        );
        assert_eq!(
            card.blocks[1]["elements"][0]["text"],
            "In the payments team account, eu-west-1"
        );
        let values: Vec<&str> = card
            .blocks
            .iter()
            .filter(|b| b["type"] == "actions")
            .flat_map(|b| b["elements"].as_array().into_iter().flatten())
            .filter_map(|e| e["value"].as_str())
            .collect();
        assert!(
            values.contains(&"1700000000:payments team@eu-west-1#checkout-5xx"),
            "{values:?}"
        );
        assert!(
            values.contains(&"prod/checkout in payments team@eu-west-1"),
            "{values:?}"
        );
        let unsaid = Origin {
            region: None,
            ..origin
        };
        let deployment = DeploymentCard {
            cluster: "prod",
            service: "pricing",
            what: Deployed::Failed,
            deployment: "ecs-svc/1",
            reason: "",
            target: None,
            serving: None,
            origin: Some(&unsaid),
        }
        .message(&say);
        assert_eq!(
            deployment.text,
            "pricing's deployment failed in prod. In the payments team account."
        );
    }
}
