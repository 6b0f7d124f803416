//! Record keys: every kind of record the store keeps has one constructor here, so each
//! prefix is spelled once, two kinds can never collide, and code elsewhere cannot build a
//! key by hand. The text of each key is part of the stored data (links are sealed to their
//! key), so it never changes; a test holds the format of each one.

/// Where a record lives in the store. Made by the constructors below; the stores make the
/// keys they list, and a record that names another (a queued job, its episode) holds the
/// key's text, which reads back as the same key.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Key(String);

/// The start of a family of keys, for [`super::Store::list`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Prefix(&'static str);

impl Prefix {
    /// The notification delivery queue.
    pub const JOBS: Prefix = Prefix("job#");
    /// The event log "what did I miss?" reads (time-ordered keys).
    pub const LOG: Prefix = Prefix("log#");
    /// Alarm episodes.
    pub const EPISODES: Prefix = Prefix("episode#");
    /// Actions (restart, roll back, scale, silence), pending to finished.
    pub const ACTIONS: Prefix = Prefix("action#");
    /// Actions not yet ended (waiting for an answer, running, being followed): what the
    /// tick looks at, so it never reads the whole history.
    pub const OPEN_ACTIONS: Prefix = Prefix("open-action#");
    /// Silences running, each with the time it ends.
    pub const SILENCES: Prefix = Prefix("silence#");
    /// Requests refused before any read-back (kill switch, no grant, bounds, evidence):
    /// each a durable record, as an action's record is.
    pub const REFUSED_ACTIONS: Prefix = Prefix("refused-action#");

    /// The prefix's text.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl Key {
    /// A Slack user's account link (`team` and `user` ids).
    #[must_use]
    pub fn link(team: &str, user: &str) -> Self {
        Self(format!("link#{team}#{user}"))
    }

    /// A pending link's single-use state.
    #[must_use]
    pub fn link_state(nonce: &str) -> Self {
        Self(format!("link-state#{nonce}"))
    }

    /// A Slack event's delivery claim (answering, then answered).
    #[must_use]
    pub fn slack_event(event_id: &str) -> Self {
        Self(format!("slack-event#{event_id}"))
    }

    /// The session context of a Slack thread.
    #[must_use]
    pub fn slack_thread(team: &str, channel: &str, thread: &str) -> Self {
        Self(format!("slack-ctx#{team}#{channel}#{thread}"))
    }

    /// The session context of a user's conversation outside a thread (a direct message).
    #[must_use]
    pub fn slack_conversation(team: &str, channel: &str, user: &str) -> Self {
        Self(format!("slack-ctx#{team}#{channel}#@{user}"))
    }

    /// A channel's mute of one subject (an alarm or a service).
    #[must_use]
    pub fn mute(channel: &str, subject: &str) -> Self {
        Self(format!("mute#{channel}#{subject}"))
    }

    /// An incoming event's claim, so that a redelivery is recorded once.
    #[must_use]
    pub fn event(id: &str) -> Self {
        Self(format!("event#{id}"))
    }

    /// A job in the delivery queue.
    #[must_use]
    pub fn job(id: &str) -> Self {
        Self(format!("{}{id}", Prefix::JOBS.0))
    }

    /// An alarm's episode (firing until resolved) as one channel sees it.
    #[must_use]
    pub fn episode(channel: &str, alarm: &str) -> Self {
        Self(format!("{}{channel}#{alarm}", Prefix::EPISODES.0))
    }

    /// A rollback seen starting (`service` is `cluster/name`), until its deployment is done.
    #[must_use]
    pub fn rollback(cluster: &str, service: &str, deployment: &str) -> Self {
        Self(format!("rollback#{cluster}/{service}#{deployment}"))
    }

    /// A marker that something was done once (a deployment card per outcome and channel).
    #[must_use]
    pub fn once(id: &str) -> Self {
        Self(format!("once#{id}"))
    }

    /// The lock a worker holds while it posts a channel's cards.
    #[must_use]
    pub fn card_lock(channel: &str) -> Self {
        Self(format!("card-lock#{channel}"))
    }

    /// A channel's burst of alarm cards (folded into one summary).
    #[must_use]
    pub fn burst(channel: &str) -> Self {
        Self(format!("burst#{channel}"))
    }

    /// An entry of the event log at `at` (seconds since the epoch; time first, so the log
    /// lists in order).
    #[must_use]
    pub fn log(at: i64, id: &str) -> Self {
        Self(format!("{}{:012}#{id}", Prefix::LOG.0, at.max(0)))
    }

    /// The acknowledgement of one alarm episode's card in one channel (the episode opened
    /// at `opened_at`, seconds since the epoch): the alarm comes last, since its name may
    /// hold any character, `#` included.
    #[must_use]
    pub fn ack(channel: &str, opened_at: i64, alarm: &str) -> Self {
        Self(format!("ack#{channel}#{opened_at}#{alarm}"))
    }

    /// An action's record, by its id.
    #[must_use]
    pub fn action(id: &str) -> Self {
        Self(format!("{}{id}", Prefix::ACTIONS.0))
    }

    /// A request refused before its read-back, by its id.
    #[must_use]
    pub fn refused_action(id: &str) -> Self {
        Self(format!("{}{id}", Prefix::REFUSED_ACTIONS.0))
    }

    /// The marker of an action not yet ended.
    #[must_use]
    pub fn open_action(id: &str) -> Self {
        Self(format!("{}{id}", Prefix::OPEN_ACTIONS.0))
    }

    /// A running silence of one alarm (`place` is the account and region, `-` for home).
    #[must_use]
    pub fn silence(place: &str, alarm: &str) -> Self {
        Self(format!("{}{place}#{alarm}", Prefix::SILENCES.0))
    }

    /// The executed actions on one service lately (`place` as for [`Key::silence`],
    /// `service` as `cluster/name`), for the per-service rate limit.
    #[must_use]
    pub fn act_rate(place: &str, service: &str) -> Self {
        Self(format!("act-rate#{place}#{service}"))
    }

    /// The task definitions one service has been seen running (`place` as for
    /// [`Key::silence`], `service` as `cluster/name`): a rollback's evidence.
    #[must_use]
    pub fn ran(place: &str, service: &str) -> Self {
        Self(format!("ran#{place}#{service}"))
    }

    /// A key a store listed (it was made by one of the constructors when written).
    pub(super) fn listed(text: String) -> Self {
        Self(text)
    }

    /// The key's text, as stored.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What follows `prefix` in this key, if it starts with it.
    #[must_use]
    pub fn after(&self, prefix: Prefix) -> Option<&str> {
        self.0.strip_prefix(prefix.0)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored text of every kind of key: records written by earlier versions are found
    /// (and links opened, being sealed to their key) only while these hold.
    #[test]
    fn every_key_keeps_the_text_earlier_versions_stored() {
        let cases = [
            (Key::link("T1", "U1"), "link#T1#U1"),
            (Key::link_state("n0nce"), "link-state#n0nce"),
            (Key::slack_event("Ev1"), "slack-event#Ev1"),
            (
                Key::slack_thread("T1", "C1", "1700000000.000100"),
                "slack-ctx#T1#C1#1700000000.000100",
            ),
            (
                Key::slack_conversation("T1", "D1", "U1"),
                "slack-ctx#T1#D1#@U1",
            ),
            (Key::mute("C1", "checkout"), "mute#C1#checkout"),
            (Key::event("abc"), "event#abc"),
            (Key::job("17-x"), "job#17-x"),
            (Key::episode("C1", "cpu-high"), "episode#C1#cpu-high"),
            (Key::once("d1"), "once#d1"),
            (
                Key::rollback("prod", "checkout", "ecs-svc/1"),
                "rollback#prod/checkout#ecs-svc/1",
            ),
            (Key::card_lock("C1"), "card-lock#C1"),
            (Key::burst("C1"), "burst#C1"),
            (Key::log(1_795_341_600, "e1"), "log#001795341600#e1"),
            (Key::log(-5, "e1"), "log#000000000000#e1"),
            (Key::action("a1"), "action#a1"),
            (Key::open_action("a1"), "open-action#a1"),
            (Key::refused_action("r1"), "refused-action#r1"),
            (Key::silence("-", "cpu-high"), "silence#-#cpu-high"),
            (
                Key::act_rate("-", "prod/checkout"),
                "act-rate#-#prod/checkout",
            ),
            (Key::ran("-", "prod/checkout"), "ran#-#prod/checkout"),
            (
                Key::ack("C1", 1_795_341_600, "cpu#high"),
                "ack#C1#1795341600#cpu#high",
            ),
        ];
        for (key, text) in cases {
            assert_eq!(key.as_str(), text);
        }
        assert_eq!(Key::job("17-x").after(Prefix::JOBS), Some("17-x"));
        assert_eq!(Key::burst("C1").after(Prefix::JOBS), None);
    }
}
