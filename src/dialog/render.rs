//! An [`Answer`] put into words: the sentences of its reply (each intent's from its own
//! handler file, the built-ins' and the questions back here), within the voice word budget,
//! with the stale-data preface, chat's lists and links, a card with follow-up buttons, and
//! the reprompt its dialog move calls for.

use super::{Answer, Move, Reply, Slot};
use crate::ops::MetricKind;
use crate::speech::render::{
    Button, Card, Forms, Rendered, Renderer, Say, VOICE_WORDS, VOICE_WORDS_DETAIL, n, s,
};
use crate::vocab::Mode;

impl Renderer {
    /// Renders `answer` in `locale` (or the default locale), in the forms asked for.
    #[must_use]
    pub fn render(&self, answer: &Answer, locale: &str, forms: Forms) -> Rendered {
        let voice = self.say(locale, Mode::Voice);
        let text = self.say(locale, Mode::Text);
        let stale = |say: &Say<'_>| {
            answer.stale.as_ref().map(|stale| {
                let systems: Vec<String> = stale.systems.iter().map(|&s| s.to_owned()).collect();
                let age = s(say.duration(stale.age));
                if stale.slow {
                    let count = n(systems.len() as f64);
                    let system = s(say.list(&systems, systems.len()));
                    say.msg(
                        "stale-slow",
                        [("system", system), ("count", count), ("age", age)],
                    )
                } else {
                    say.msg(
                        "stale",
                        [("system", s(say.options(&systems))), ("age", age)],
                    )
                }
            })
        };
        let spoken_all = if forms.voice() {
            stale(&voice)
                .into_iter()
                .chain(left_out(&voice, answer))
                .chain(sentences(&voice, answer))
                .collect()
        } else {
            Vec::new()
        };
        let budget = if answer.detail {
            VOICE_WORDS_DETAIL
        } else {
            VOICE_WORDS
        };
        let mut spoken = Vec::new();
        let mut words = 0;
        for sentence in spoken_all {
            let n = sentence.split_whitespace().count();
            if !spoken.is_empty() && words + n > budget {
                break;
            }
            words += n;
            spoken.push(sentence);
        }
        let (text_sentences, extras) = if forms.text() {
            (
                stale(&text)
                    .into_iter()
                    .chain(left_out(&text, answer))
                    .chain(sentences(&text, answer))
                    .collect(),
                extras(&text, answer),
            )
        } else {
            (Vec::new(), Vec::new())
        };
        let mut full = text_sentences.join(" ");
        if !extras.is_empty() {
            full.push('\n');
            full.push_str(&extras.join("\n"));
        }
        let reprompt = match answer.next {
            _ if !forms.voice() => None,
            Move::ElicitSlot(_) | Move::ConfirmIntent => spoken.last().cloned(),
            Move::ElicitIntent => Some(voice.msg("reprompt", [])),
            _ => None,
        };
        Rendered {
            card: if forms.text() {
                card(&text, answer, text_sentences.first().map(String::as_str))
            } else {
                None
            },
            spoken,
            text: full,
            text_sentences,
            extras,
            reprompt,
        }
    }
}

/// The accounts (or regions of one) the answer is without, named first: "The staging
/// account didn't answer; this is without it."
fn left_out(say: &Say<'_>, answer: &Answer) -> Vec<String> {
    let whole: Vec<String> = answer
        .left
        .iter()
        .filter(|l| l.region.is_none())
        .map(|l| say.name(&l.account))
        .collect();
    let mut out = Vec::new();
    if !whole.is_empty() {
        out.push(say.msg(
            "left-account",
            [
                ("accounts", s(say.list(&whole, 4))),
                ("count", n(whole.len() as f64)),
            ],
        ));
    }
    let mut accounts: Vec<&str> = Vec::new();
    for l in answer.left.iter().filter(|l| l.region.is_some()) {
        if !accounts.contains(&l.account.as_str()) {
            accounts.push(&l.account);
        }
    }
    for account in accounts {
        let regions: Vec<String> = answer
            .left
            .iter()
            .filter(|l| l.account == account)
            .filter_map(|l| l.region.as_deref().map(|r| say.name(r)))
            .collect();
        out.push(say.msg(
            "left-region",
            [
                ("account", s(say.name(account))),
                ("regions", s(say.list(&regions, 4))),
                ("count", n(regions.len() as f64)),
            ],
        ));
    }
    out
}

/// The sentences of the answer, verdict first.
fn sentences(say: &Say<'_>, answer: &Answer) -> Vec<String> {
    let detail = answer.detail;
    match &answer.reply {
        Reply::Report(r) => r.sentences(say, detail),
        Reply::InEach(placed) => super::each::sentences(say, placed),
        Reply::Ask(slot) => vec![say.msg(
            match slot {
                Slot::Service => "ask-service",
                Slot::Cluster => "ask-cluster",
                Slot::Alarm => "ask-alarm",
                Slot::Metric => "ask-metric",
                Slot::Window => "ask-window",
                Slot::Count => "ask-count",
                Slot::Duration => "ask-duration",
                Slot::Account => "ask-account",
                Slot::Region => "ask-region",
            },
            [],
        )],
        Reply::WhichService(services) => {
            let names: Vec<String> = services
                .iter()
                .map(|svc| {
                    if services.iter().filter(|o| o.name == svc.name).count() > 1 {
                        format!("{} ({})", say.service(svc), say.name(&svc.cluster))
                    } else {
                        say.service(svc)
                    }
                })
                .collect();
            vec![say.msg("which-service", [("options", s(say.options(&names)))])]
        }
        Reply::WhichCluster { service, clusters } => {
            let names: Vec<String> = clusters.iter().map(|c| say.name(c)).collect();
            vec![say.msg(
                "which-cluster",
                [
                    ("service", s(say.name(service))),
                    ("clusters", s(say.list(&names, 5))),
                ],
            )]
        }
        Reply::WhichAccount {
            service,
            accounts,
            alarm,
        } => {
            let names: Vec<String> = accounts.iter().map(|a| say.name(a)).collect();
            vec![say.msg(
                if *alarm {
                    "which-account-alarm"
                } else {
                    "which-account"
                },
                [
                    ("service", s(say.name(service))),
                    ("accounts", s(say.list(&names, 5))),
                ],
            )]
        }
        Reply::WhichRegion {
            service,
            regions,
            alarm,
        } => {
            let names: Vec<String> = regions.iter().map(|r| say.name(r)).collect();
            vec![say.msg(
                if *alarm {
                    "which-region-alarm"
                } else {
                    "which-region"
                },
                [
                    ("service", s(say.name(service))),
                    ("regions", s(say.list(&names, 5))),
                ],
            )]
        }
        Reply::WhichAlarm(alarms) => {
            let names: Vec<String> = alarms.iter().map(|a| say.name(a)).collect();
            vec![say.msg("which-alarm", [("options", s(say.options(&names)))])]
        }
        Reply::DidYouMean(service) => {
            vec![say.msg("did-you-mean", [("service", s(say.service(service)))])]
        }
        Reply::UnknownService(spoken) => {
            vec![say.msg("unknown-service", [("spoken", s(spoken.clone()))])]
        }
        Reply::UnknownCluster(spoken) => {
            vec![say.msg("unknown-cluster", [("spoken", s(spoken.clone()))])]
        }
        Reply::UnknownAlarm(spoken) => {
            vec![say.msg("unknown-alarm", [("spoken", s(spoken.clone()))])]
        }
        Reply::UnknownMetric(spoken) => {
            vec![say.msg("unknown-metric", [("spoken", s(spoken.clone()))])]
        }
        Reply::NoFiringAlarm(service) => {
            vec![say.msg("no-firing-alarm", [("service", s(say.service(service)))])]
        }
        Reply::Denied => vec![say.msg("denied", [])],
        Reply::SignIn => vec![say.msg("sign-in", [])],
        Reply::SignInUnavailable => vec![say.msg("sign-in-unavailable", [])],
        Reply::Welcome => vec![say.msg("welcome", [])],
        Reply::Help => vec![say.msg("help", [])],
        Reply::Goodbye => vec![say.msg("goodbye", [])],
        Reply::Fallback => vec![say.msg("fallback", [])],
        Reply::NothingToRepeat => vec![say.msg("nothing-to-repeat", [])],
        Reply::Said(sentences) => sentences.clone(),
        Reply::Unavailable(system, super::Missing::Unreachable) => {
            vec![say.msg("unavailable", [("system", s(*system))])]
        }
        Reply::Unavailable(system, super::Missing::Slow) => {
            vec![say.msg("slow", [("system", s(*system))])]
        }
        Reply::TooSlow => vec![say.msg("too-slow", [])],
        Reply::InternalError => vec![say.msg("internal-error", [])],
    }
}

/// What chat adds below the sentences: lists and console links.
fn extras(say: &Say<'_>, answer: &Answer) -> Vec<String> {
    match &answer.reply {
        Reply::Report(r) => r.links(say),
        Reply::InEach(placed) => super::each::links(say, placed),
        _ => Vec::new(),
    }
}

/// The card: a title for the kind of answer, its first sentence, and buttons for the
/// natural follow-ups.
fn card(say: &Say<'_>, answer: &Answer, first: Option<&str>) -> Option<Card> {
    // A choice offered back: the button says the name it shows.
    let choice = |name: &String| Button {
        text: name.clone(),
        value: name.clone(),
    };
    let (kind, buttons) = match &answer.reply {
        Reply::Report(r) => r.card(say),
        Reply::WhichService(services) => (
            "other",
            services
                .iter()
                .map(|svc| Button {
                    text: svc.to_string(),
                    value: svc.name.clone(),
                })
                .collect(),
        ),
        Reply::WhichCluster { clusters, .. } => ("other", clusters.iter().map(choice).collect()),
        Reply::WhichAlarm(alarms) => ("other", alarms.iter().map(choice).collect()),
        Reply::WhichAccount { accounts, .. } => ("other", accounts.iter().map(choice).collect()),
        Reply::WhichRegion { regions, .. } => ("other", regions.iter().map(choice).collect()),
        Reply::DidYouMean(_) => (
            "other",
            vec![
                say.button("button-yes", say.msg("say-yes", [])),
                say.button("button-no", say.msg("say-no", [])),
            ],
        ),
        Reply::Ask(Slot::Metric) | Reply::UnknownMetric(_) => (
            "metric",
            MetricKind::ALL
                .into_iter()
                .take(5)
                .map(|k| Button {
                    text: say.msg(&format!("button-{}", k.slot_value()), []),
                    value: k.slot_value().to_owned(),
                })
                .filter(|b| !b.text.is_empty())
                .collect(),
        ),
        Reply::Welcome | Reply::Help | Reply::Fallback | Reply::NothingToRepeat => (
            "other",
            vec![
                say.button("button-fleet", say.msg("say-fleet", [])),
                say.button("button-alarms", say.msg("say-alarms", [])),
                say.button("button-changes", say.msg("say-changes", [])),
            ],
        ),
        _ => return None,
    };
    let buttons: Vec<Button> = buttons
        .into_iter()
        .filter(|b| !b.text.is_empty() && !b.value.is_empty())
        .collect();
    Some(Card {
        title: say.msg("card-title", [("kind", s(kind))]),
        subtitle: first.map(str::to_owned),
        buttons,
    })
}
