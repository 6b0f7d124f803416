//! Orders versus questions: whether a request asks opsvoice to change something (which it
//! cannot), told by its leading verb and what that verb acts on. The verbs are data, the
//! `[orders]` of `intents/UnsupportedAction.toml` (which the answer reads too); the words
//! around them are English grammar, and live here.

use std::collections::{HashMap, HashSet};

use super::tokens::FILLERS;
use crate::embedded::Orders;
use crate::vocab::Intent;

/// The verbs of an order, as read from the intent files.
#[derive(Debug, Default)]
pub(super) struct OrderVerbs {
    /// Verbs that ask for a change whatever follows ("restart", "ack"): an action's `verbs`.
    action: HashSet<String>,
    /// Verbs that ask for a change when they act on something of ours ("create", "open").
    acting: HashSet<String>,
    /// The intent that takes the action a verb asks for, when opsvoice can take it
    /// ("restart" is RestartService).
    intents: HashMap<String, Intent>,
}

/// Words naming something of ours an order can be about.
const ORDER_OBJECTS: &[&str] = &[
    "alarm",
    "alarms",
    "alert",
    "alerts",
    "incident",
    "ticket",
    "jira",
    "deploy",
    "deploys",
    "deployment",
    "deployments",
    "release",
    "build",
    "task",
    "tasks",
    "container",
    "containers",
    "instance",
    "instances",
    "node",
    "nodes",
    "flag",
    "flags",
    "config",
    "cache",
    "queue",
    "traffic",
    "capacity",
    "replicas",
    "pods",
    "team",
    "oncall",
    "call",
    "engineer",
    "version",
    "everyone",
    "channel",
    "pager",
    "pagerduty",
    "env",
    "variable",
    "variables",
    "setting",
    "settings",
    "timeout",
    "limit",
    "limits",
    "threshold",
    "cluster",
    "clusters",
    "job",
    "jobs",
    "pr",
    "hotfix",
    "canary",
    "database",
    "db",
    "replica",
    "image",
    "autoscaling",
    "script",
    "migration",
];

/// Words before the verb of an order: "could you please just restart it".
const ORDER_LEAD: &[&str] = &[
    "can", "could", "would", "will", "you", "please", "just", "go", "ahead", "and", "i", "want",
    "need", "to", "lets", "let", "us", "quickly", "now", "ok", "okay", "so", "hey", "yo",
    "opsvoice", "alexa", "then", "also", "pls", "plz", "kindly", "we", "someone", "somebody", "oh",
];

impl OrderVerbs {
    /// The verbs of every [`Orders`] given (the intent files hold one).
    pub(super) fn new<'a>(orders: impl IntoIterator<Item = &'a Orders>) -> Self {
        let mut verbs = Self::default();
        for orders in orders {
            verbs.acting.extend(orders.acting_verbs.iter().cloned());
            verbs
                .action
                .extend(orders.actions.iter().flat_map(|a| a.verbs.iter().cloned()));
            for action in &orders.actions {
                let Some(intent) = action.intent.as_deref().and_then(Intent::parse) else {
                    continue;
                };
                for verb in &action.verbs {
                    verbs.intents.insert(verb.clone(), intent);
                }
            }
        }
        verbs
    }

    /// The intent that takes what an order's verb asks for ([`Self::order_verb`]), if
    /// opsvoice can take it.
    pub(super) fn intent_of(&self, verb: &str) -> Option<Intent> {
        self.intents.get(verb).copied()
    }

    /// Whether the words ask for an action: an action verb, or "roll back"; or for who is on
    /// call, which opsvoice cannot see either (and says so, with what it can tell).
    pub(super) fn asks_to_act(&self, words: &[String]) -> bool {
        words
            .iter()
            .any(|w| self.action.contains(w) || w == "oncall")
            || words
                .windows(2)
                .any(|p| p[0] == "roll" && p[1] == "back" || p[0] == "on" && p[1] == "call")
    }

    /// Whether the words are an order to change something of ours. `marked` are the words with
    /// the names found as `{slot}` placeholders. An order is led by its verb (after "could you
    /// please" and the like, never after an article: "the page about checkout" is no order),
    /// and the verb acts on something: the first word after it, past articles and "back",
    /// "down" and the like, is a name of ours or a thing such as an alarm, a ticket or the on
    /// call; after an action verb ("ack it", "restart them"), a pronoun too. So "restart count
    /// on checkout" and "call volume on checkout" ask, and "create a ticket for checkout" orders.
    ///
    /// Returns the verb that leads the order, if the words are one: "rollback" for "roll
    /// back" and "roll checkout back".
    pub(super) fn order_verb(&self, marked: &[String]) -> Option<String> {
        let mut rest = marked
            .iter()
            .map(String::as_str)
            .skip_while(|w| ORDER_LEAD.contains(w) || FILLERS.contains(w));
        let verb = rest.next()?;
        let after: Vec<&str> = rest.collect();
        // "cancel the snooze on checkout errors", "end the silence on it": an unsilence.
        let ended = after
            .iter()
            .find(|w| !ORDER_ARTICLES.contains(w))
            .is_some_and(|w| SILENCES.contains(w));
        if ENDINGS.contains(&verb) && ended && self.action.contains("unsilence") {
            return Some("unsilence".to_owned());
        }
        // "resume alerts on X", "turn X's alerts back on": an alarm's notifications, back.
        let alerts = after.iter().take(6).any(|w| {
            matches!(
                *w,
                "alert" | "alerts" | "alerting" | "notifications" | "paging" | "{alarm}"
            )
        });
        let back_on = after.windows(2).any(|p| p == ["back", "on"]);
        if (matches!(verb, "resume" | "reenable" | "restore") || verb == "turn" && back_on)
            && alerts
            && self.action.contains("unsilence")
        {
            return Some("unsilence".to_owned());
        }
        // "restore the previous version of X", "bring back the last version": a rollback.
        let earlier = after.iter().take(5).any(|w| {
            matches!(
                *w,
                "previous" | "prior" | "last" | "old" | "older" | "earlier"
            )
        }) && after
            .iter()
            .take(7)
            .any(|w| matches!(*w, "version" | "revision" | "build"));
        if matches!(verb, "restore" | "bring" | "put" | "go") && earlier {
            return Some("rollback".to_owned());
        }
        let named = if verb == "roll" && after.iter().take(4).any(|w| *w == "back") {
            "rollback"
        } else {
            verb
        };
        self.acts_on(verb, &after).then(|| named.to_owned())
    }

    /// Whether the words order a change opsvoice never makes, whatever the verb: a schedule
    /// ("restart it every night"), a change of another kind ("promote the canary"), a roll
    /// out or roll forward, which is a deploy, a task's resources or settings ("give it more
    /// cpu"), a scale by an amount it would have to choose ("scale search up a bit"), or a
    /// host rather than a service ("reboot the instance shipping is on"). Such an order is no
    /// restart, rollback or scale, however much it sounds like one.
    pub(super) fn not_ours(&self, marked: &[String]) -> bool {
        let mut rest = marked
            .iter()
            .map(String::as_str)
            .skip_while(|w| ORDER_LEAD.contains(w) || FILLERS.contains(w));
        let Some(verb) = rest.next() else {
            return false;
        };
        // "give it more cpu": an order only with more or less of something.
        let giving = verb == "give";
        if !self.action.contains(verb) && !self.acting.contains(verb) && !giving {
            return false;
        }
        let after: Vec<&str> = rest.collect();
        let more = after
            .iter()
            .any(|w| matches!(*w, "more" | "less" | "fewer" | "extra" | "additional"));
        if giving && !more {
            return false;
        }
        // A schedule is no action now ("set up a cron to restart it every night").
        let scheduled = marked.iter().any(|w| SCHEDULES.contains(&w.as_str()))
            || marked.windows(2).any(|p| {
                p[0] == "every"
                    && matches!(
                        p[1].as_str(),
                        "night"
                            | "day"
                            | "morning"
                            | "evening"
                            | "hour"
                            | "week"
                            | "weekend"
                            | "monday"
                            | "tuesday"
                            | "wednesday"
                            | "thursday"
                            | "friday"
                    )
            });
        // "restart orders tonight", "scale cart down to 2 at 6pm", "recycle it every 6
        // hours": an action later or again is a schedule, which opsvoice does not keep (a
        // silence "until tomorrow" is one now).
        let later = matches!(
            self.intent_of(verb),
            Some(Intent::RestartService | Intent::RollbackService | Intent::ScaleService)
        ) && marked.iter().enumerate().any(|(i, w)| {
            let next = marked.get(i + 1).map_or("", String::as_str);
            matches!(w.as_str(), "tonight" | "tomorrow")
                || w == "every"
                    && (next.starts_with(|c: char| c.is_ascii_digit())
                        || matches!(
                            next,
                            "weekday"
                                | "weekdays"
                                | "other"
                                | "few"
                                | "{count}"
                                | "{duration}"
                                | "{window}"
                        ))
                || w == "at" && at_a_time(next)
        });
        let scheduled = scheduled || later;
        // Verbs of changes that are none of ours, whatever the model made of the rest
        // ("promote the canary for web-frontend to 100%").
        if scheduled || OTHER_CHANGES.contains(&verb) && self.acts_on(verb, &after) {
            return true;
        }
        // An alarm's own settings, or the alarm itself made, removed or renamed ("lower the
        // running tasks threshold to 2", "remove the customer impact alarm").
        let an_alarm = after
            .iter()
            .any(|w| matches!(*w, "{alarm}" | "alarm" | "alarms" | "alert" | "alerts"));
        if marked
            .iter()
            .any(|w| matches!(w.as_str(), "threshold" | "thresholds"))
            || an_alarm
                && !after.iter().any(|w| SILENCING_WORDS.contains(w))
                && matches!(
                    verb,
                    "remove" | "delete" | "rename" | "create" | "add" | "edit" | "recreate"
                )
        {
            return true;
        }
        // "roll out v3.2 of the gateway": a deploy, however close to "roll back".
        if verb == "roll" && after.first() == Some(&"out") {
            return true;
        }
        // "bump the memory on ml-scoring", "give notifications more cpu", "increase the
        // timeout": a task's resources or settings, which no action of ours changes.
        let acted_on: Vec<&str> = verb_object(marked).iter().map(String::as_str).collect();
        let object = if giving { &after } else { &acted_on };
        // A metric's name is a resource too ("more cpu"). The verb of one of our actions
        // acts on a service or an alarm, whose names may hold such words ("silence the
        // checkout cpu alarm").
        if !self.intents.contains_key(verb)
            && object
                .iter()
                .any(|w| SETTINGS.contains(w) || *w == "{metric}")
        {
            return true;
        }
        if verb == "roll"
            && after.iter().take(4).any(|w| *w == "forward")
            && !after.iter().take(4).any(|w| *w == "back")
        {
            return true;
        }
        // "scale search up a bit": an amount for opsvoice to choose, which it never does
        // (a plain "scale search up" is asked back: "To how many tasks?").
        let vague = after
            .windows(2)
            .any(|p| VAGUE_AMOUNTS.iter().any(|v| v[..] == *p))
            || after
                .iter()
                .any(|w| matches!(*w, "slightly" | "somewhat" | "whatever" | "however"))
            || after
                .windows(2)
                .any(|p| p == ["way", "up"] || p == ["way", "down"]);
        if self.intent_of(verb) == Some(Intent::ScaleService)
            && vague
            && !marked.iter().any(|w| w == "{count}")
        {
            return true;
        }
        acted_on.iter().any(|w| HOSTS.contains(w))
    }

    /// Whether `verb`, followed by the words `after`, orders a change to something of ours.
    fn acts_on(&self, verb: &str, after: &[&str]) -> bool {
        // "roll back", and "roll it back" (as `order_verb` names it).
        let strong = self.action.contains(verb)
            || verb == "roll" && after.iter().take(4).any(|w| *w == "back");
        if !strong && !self.acting.contains(verb) {
            return false;
        }
        // "open" and "clear" are adjectives too ("open alarms on checkout" asks which), and
        // "update" and "change" nouns ("update on checkout?", "change log for prod"): as orders
        // they are followed by what they act on ("open an incident", "update the config").
        let adjective = matches!(
            verb,
            "open" | "clear" | "update" | "change" | "set" | "edit"
        ) && !after.first().is_some_and(|w| {
            matches!(
                *w,
                "a" | "an" | "the" | "this" | "that" | "it" | "up" | "another" | "new"
            )
        });
        if adjective {
            return false;
        }
        let start = after
            .iter()
            .position(|w| !ORDER_PARTICLES.contains(w) && !ORDER_ARTICLES.contains(w));
        // "silence for an hour", after what prompted it ("the pricing alarm is noisy,
        // silence for an hour"): how long is all a silence needs to be an order.
        if start.is_some_and(|i| after[i] == "for")
            && self.intent_of(verb) == Some(Intent::SilenceAlarm)
        {
            return true;
        }
        let Some(start) = start else {
            // "roll back", "scale up": the verb and its particle are the whole order.
            return strong && after.iter().any(|w| ORDER_PARTICLES.contains(w));
        };
        if after[start] == "on" && after.get(start + 1) == Some(&"call") {
            return true;
        }
        // What it acts on runs to the next preposition: "raise the cpu alarm threshold on …".
        let object = after[start..]
            .iter()
            .take_while(|w| !ORDER_PHRASE_ENDS.contains(w));
        // "stop reading the alarms" is no order to the alarms.
        !after[start].ends_with("ing")
            && object.enumerate().any(|(i, w)| {
                matches!(*w, "{service}" | "{cluster}" | "{alarm}")
                    || ORDER_OBJECTS.contains(w)
                    || strong && i == 0 && ORDER_PRONOUNS.contains(w)
            })
    }
}

/// What the leading verb of `marked` acts on: the words after it, past articles and "back",
/// "down" and the like, up to the next preposition ("the flux capacitor" in "could you
/// bounce the flux capacitor in prod"). Empty when nothing follows the verb.
pub(super) fn verb_object(marked: &[String]) -> &[String] {
    let lead = marked
        .iter()
        .take_while(|w| ORDER_LEAD.contains(&w.as_str()) || FILLERS.contains(&w.as_str()))
        .count();
    let after = marked.get(lead + 1..).unwrap_or_default();
    let start = after
        .iter()
        .take_while(|w| {
            ORDER_PARTICLES.contains(&w.as_str()) || ORDER_ARTICLES.contains(&w.as_str())
        })
        .count();
    let object = &after[start..];
    let len = object
        .iter()
        .take_while(|w| !ORDER_PHRASE_ENDS.contains(&w.as_str()))
        .count();
    &object[..len]
}

/// Verbs that end something: "cancel the snooze", "end the silence", "lift the mute".
const ENDINGS: &[&str] = &[
    "cancel", "end", "lift", "remove", "stop", "drop", "kill", "undo",
];
/// What a silence is called.
const SILENCES: &[&str] = &[
    "snooze",
    "silence",
    "mute",
    "silencing",
    "muting",
    "snoozing",
];
/// Amounts that leave the number to opsvoice: "up a bit", "down a little".
const VAGUE_AMOUNTS: &[[&str; 2]] = &[
    ["a", "lot"],
    ["a", "bunch"],
    ["as", "needed"],
    ["it", "needs"],
    ["you", "think"],
    ["a", "bit"],
    ["a", "little"],
    ["a", "tad"],
    ["a", "touch"],
    ["a", "smidge"],
    ["up", "some"],
    ["down", "some"],
];
/// A task's resources and settings: no action of ours changes them.
const SETTINGS: &[&str] = &[
    "memory",
    "cpu",
    "cpus",
    "ram",
    "gigs",
    "timeout",
    "env",
    "var",
    "variable",
    "variables",
    "autoscaling",
    "limit",
    "limits",
    "threshold",
    "config",
    "setting",
    "settings",
    "image",
    "tag",
    "flag",
    "vcpu",
];

/// Words of a schedule: opsvoice acts now, once, never on a timetable.
const SCHEDULES: &[&str] = &[
    "cron",
    "crontab",
    "schedule",
    "scheduled",
    "nightly",
    "hourly",
    "weekly",
    "daily",
];
/// Verbs of changes opsvoice never makes, whatever follows them.
const OTHER_CHANGES: &[&str] = &[
    "promote",
    "merge",
    "create",
    "delete",
    "file",
    "launch",
    "invalidate",
    "assign",
    "block",
    "migrate",
    "move",
    "upgrade",
    "downgrade",
    "patch",
    "purge",
    "terminate",
    "drain",
    "page",
    "escalate",
    "schedule",
    "flip",
    "toggle",
    "wipe",
    "erase",
    "truncate",
    "freeze",
];
/// Machines, which opsvoice never acts on: it acts on ECS services.
const HOSTS: &[&str] = &[
    "instance",
    "instances",
    "host",
    "hosts",
    "server",
    "servers",
    "node",
    "nodes",
    "machine",
    "machines",
    "ec2",
    "vm",
    "vms",
];

/// Words that end what an order acts on.
const ORDER_PHRASE_ENDS: &[&str] = &[
    "on", "for", "in", "of", "to", "at", "with", "from", "and", "or", "so", "because", "why",
    "what", "which", "if", "since", "after", "before", "while", "is", "are",
];

/// Words between an order's verb and what it acts on.
const ORDER_PARTICLES: &[&str] = &["back", "down", "up", "off", "out", "over", "in", "on"];
const ORDER_ARTICLES: &[&str] = &["a", "an", "the", "my", "our", "its", "their", "all", "of"];
/// What an action verb may act on without naming it: "ack it", "page whoever is on call".
const ORDER_PRONOUNS: &[&str] = &[
    "it",
    "them",
    "this",
    "that",
    "these",
    "those",
    "everything",
    "whoever",
    "someone",
    "somebody",
    "everyone",
    "anyone",
];

/// Words that open a question ("did", "who", "what is"): a request that starts with one asks
/// about something, even about an action ("did the restart of checkout finish", "who
/// restarted checkout"), unless it asks for the action politely ("is it possible to
/// restart checkout", "are you able to roll it back").
const QUESTION_WORDS: &[&str] = &[
    "what", "who", "whom", "whose", "when", "where", "why", "how", "which", "did", "does", "do",
    "is", "are", "was", "were", "has", "have", "had", "should", "shall",
];

/// Politeness after a question word that makes it a request to act.
const POLITE_ASKS: &[&[&str]] = &[
    &["it", "possible"],
    &["there", "a", "way"],
    &["there", "any", "way"],
    &["you", "able"],
];

/// Words of silencing an alarm, or of its ending: said with them (or with "alarm" or
/// "alert"), an alarm's description is its name ("mute kafka lag", "the customer impact
/// alert").
const SILENCING_WORDS: &[&str] = &[
    "mute",
    "muted",
    "muting",
    "unmute",
    "unmuted",
    "silence",
    "silenced",
    "silencing",
    "unsilence",
    "unsilenced",
    "snooze",
    "snoozed",
    "snoozing",
    "unsnooze",
    "unsnoozed",
    "snoze",
    "quiet",
    "hush",
    "shush",
    "paging",
    "reenable",
    "snooze's",
];

/// Whether a word is a time of day ("6pm", "noon", "2am").
fn at_a_time(w: &str) -> bool {
    let digits = w.chars().take_while(char::is_ascii_digit).count();
    matches!(w, "noon" | "midnight")
        || digits > 0 && matches!(&w[digits..], "am" | "pm" | "" | ":00" | ":30")
}

/// Whether `words` are about the speaker's own things, not a fleet's ("restart my laptop",
/// "silence my phone", "reboot the router at home"): unless they name one of ours.
pub(super) fn personal(marked: &[String]) -> bool {
    const OURS: &[&str] = &[
        "service",
        "services",
        "cluster",
        "alarm",
        "alarms",
        "alert",
        "alerts",
        "deploy",
        "deployment",
        "app",
        "task",
        "tasks",
        "container",
        "containers",
        "team",
        "pager",
        "manager",
        "boss",
        "lead",
        "colleague",
        "teammate",
        "on",
        "oncall",
        "pr",
        "prs",
        "branch",
        "change",
        "changes",
        "commit",
        "code",
        "build",
        "release",
        "error",
        "errors",
        "latency",
        "cpu",
        "memory",
        "traffic",
        "requests",
        "logs",
        "dashboard",
        "fleet",
        "clusters",
        "stack",
        "system",
        "systems",
        "infra",
        "prod",
        "stuff",
        "things",
        "shift",
        "rotation",
        "pages",
        "page",
        "incident",
        "incidents",
        "queue",
        "rollback",
        "restart",
        "end",
        "side",
        "options",
        "option",
        "view",
        "screen",
        "bad",
        "guess",
        "question",
        "turn",
    ];
    // Things of a home or a desk, whoever's they are ("mute the tv", "turn off the smoke
    // alarm", "how do I mute myself on zoom", "wake me up at six").
    const HOME: &[&str] = &[
        "tv",
        "television",
        "zoom",
        "myself",
        "phone",
        "laptop",
        "clock",
        "smoke",
        "car",
        "doorbell",
        "radio",
        "music",
        "spotify",
        "lights",
        "thermostat",
        "mic",
        "microphone",
        "headphones",
        "wifi",
        "router",
        "kettle",
        "oven",
        "fridge",
        "spouse",
        "kids",
        "dog",
    ];
    marked.windows(2).any(|p| {
        (p[0] == "my" && !p[1].starts_with('{') && !OURS.contains(&p[1].as_str()))
            || p == ["at", "home"]
            || p == ["wake", "me"]
            || p == ["remind", "me"]
            || p == ["group", "chat"]
    }) || marked.iter().any(|w| HOME.contains(&w.as_str()))
}

/// Whether `words` speak of many things at once ("all", "every", "alarms").
pub(super) fn about_many(words: &[String]) -> bool {
    words.iter().any(|w| {
        matches!(
            w.as_str(),
            "all" | "every" | "everything" | "alarms" | "alerts" | "whole" | "entire"
        )
    })
}

/// Whether `words` ask to make, remove or change an alarm ("make a new alarm for cart
/// memory", "raise the threshold of the queue depth alarm"): never one of ours to name.
pub(super) fn changes_an_alarm(words: &[String]) -> bool {
    words.iter().any(|w| {
        matches!(
            w.as_str(),
            "new"
                | "create"
                | "make"
                | "add"
                | "delete"
                | "remove"
                | "edit"
                | "change"
                | "raise"
                | "lower"
                | "threshold"
                | "thresholds"
                | "tune"
                | "set"
        )
    })
}

/// Whether `words` speak of silencing an alarm or of ending a silence.
pub(super) fn silencing(words: &[String]) -> bool {
    said(words, |_, w| SILENCING_WORDS.contains(&w))
}

/// Whether `words` speak of one alarm or of silencing one (not "in silence").
pub(super) fn about_an_alarm(words: &[String]) -> bool {
    said(words, |i, w| {
        (SILENCING_WORDS.contains(&w)
            || matches!(w, "alarm" | "alert" | "flapping" | "tripped" | "tripping"))
            && (i == 0 || words[i - 1] != "in")
    })
}

/// Whether a word of `words` is `wanted` (given its place), or "shut up" is said.
fn said(words: &[String], wanted: impl Fn(usize, &str) -> bool) -> bool {
    words
        .iter()
        .enumerate()
        .any(|(i, w)| wanted(i, w) || w == "shut" && words.get(i + 1).is_some_and(|n| n == "up"))
}

/// Whether the words ask a question rather than order something (see [`QUESTION_WORDS`]).
pub(super) fn asks_a_question(words: &[String]) -> bool {
    let words: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .skip_while(|w| FILLERS.contains(w) || matches!(*w, "so" | "ok" | "okay" | "hey" | "and"))
        .collect();
    let Some((first, rest)) = words.split_first() else {
        return false;
    };
    // "do a rolling restart of checkout", "do me a favour and bounce it": an order.
    let orders_a_doing = *first == "do"
        && rest
            .first()
            .is_some_and(|w| matches!(*w, "a" | "an" | "the" | "me" | "us"));
    // "reviews got rolled back last night, right?": what was done, asked about.
    let done = words.windows(2).any(|p| {
        matches!(p[0], "got" | "was" | "were" | "been" | "already")
            && matches!(
                p[1],
                "restarted"
                    | "bounced"
                    | "rolled"
                    | "reverted"
                    | "scaled"
                    | "silenced"
                    | "muted"
                    | "snoozed"
                    | "unmuted"
                    | "recycled"
                    | "redeployed"
                    | "cycled"
                    | "kicked"
            )
    });
    let tag = matches!(words.last(), Some(&"right" | &"correct" | &"yeah"))
        && words.len() > 2
        && words
            .iter()
            .any(|w| QUESTION_WORDS.contains(w) || w.ends_with("ed"));
    // "tell me about the kafka alarm", "give me the story on the queue depth alarm".
    let tell_me = matches!(*first, "tell" | "show" | "explain")
        && rest.first().is_some_and(|w| matches!(*w, "me" | "us"))
        || *first == "give"
            && rest.starts_with(&["me", "the"])
            && !rest
                .iter()
                .any(|w| matches!(*w, "more" | "extra" | "{count}"));
    done || tag
        || tell_me
        || QUESTION_WORDS.contains(first)
            && !orders_a_doing
            && !POLITE_ASKS.iter().any(|polite| rest.starts_with(polite))
}

/// Words that say yes to what was just read back.
const AFFIRMATIONS: &[&str] = &[
    "yes",
    "yeah",
    "yea",
    "yep",
    "yup",
    "sure",
    "affirmative",
    "absolutely",
    "correct",
];

/// Whether the words open with a yes ("yes roll it back", "yeah, bounce it"): said to an
/// order read back, they confirm it, repeating its verb. Whether the rest names anything new
/// (a service, a count) the caller decides.
pub(super) fn opens_with_yes(words: &[String]) -> bool {
    words
        .iter()
        .map(String::as_str)
        .find(|w| !FILLERS.contains(w) && !matches!(*w, "ok" | "okay" | "oh"))
        .is_some_and(|w| AFFIRMATIONS.contains(&w))
}
