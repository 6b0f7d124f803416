//! Rendering an [`Answer`] into words with Project Fluent: the sentences for voice (short,
//! verdict first, names in their spoken form) and for chat (exact names, lists, console
//! links, a card with follow-up buttons).
//!
//! Prompts are embedded from `prompts/<locale>/*.ftl` at build time (found by directory), so
//! the binary carries them. The ids are the ones the default locale's files declare; every
//! locale must have them all, and a test holds every id the code asks for to exist.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};

use super::ssml::{Engine, Ssml, SsmlBuilder};
use crate::dialog::active_alarms::Firing;
use crate::dialog::deployment_status::State;
use crate::dialog::service_health::Verdict;
use crate::dialog::{Answer, Mode, Move, Reply, Slot};
use crate::ops::{AlarmKind, AlarmState, DeploymentOutcome, MetricKind, MetricUnit, ServiceRef};

pub use crate::embedded::PROMPTS;

/// The locale used when a turn's locale has no prompts.
pub const DEFAULT_LOCALE: &str = "en-US";

/// Spoken answers aim for about this many words (DESIGN.md: voice answers stay short)...
pub const VOICE_WORDS: usize = 35;
/// ...and for this many when the user asked for more.
pub const VOICE_WORDS_DETAIL: usize = 90;

/// Why the prompts could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("{locale}/{file}: {errors}")]
    Syntax {
        locale: String,
        file: String,
        errors: String,
    },
    #[error("{locale}: message `{id}` is defined twice")]
    Duplicate { locale: String, id: String },
    #[error("{locale}: message `{id}` is used by the code but missing")]
    Missing { locale: String, id: String },
    #[error("bad locale {0}")]
    Locale(String),
}

/// A Slack card: a title and buttons offering the natural follow-ups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    pub title: String,
    pub subtitle: Option<String>,
    pub buttons: Vec<Button>,
}

/// A card button: `value` is what the user "says" by pressing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub text: String,
    pub value: String,
}

/// Which forms of the answer to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forms {
    /// Spoken sentences only (voice channels).
    Voice,
    /// Chat text, card and links only.
    Text,
    /// Both (`/v1/ask` returns text and SSML).
    Both,
}

impl Forms {
    fn voice(self) -> bool {
        matches!(self, Forms::Voice | Forms::Both)
    }

    fn text(self) -> bool {
        matches!(self, Forms::Text | Forms::Both)
    }
}

/// An answer in words, for the surfaces asked for (the others are left empty).
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    /// Voice sentences, within the word budget, names in spoken form.
    pub spoken: Vec<String>,
    /// The chat answer: sentences, then any list lines and links.
    pub text: String,
    /// The chat sentences alone (what "repeat" says again in chat).
    pub text_sentences: Vec<String>,
    pub card: Option<Card>,
    /// What to say if the user stays silent while the session is open.
    pub reprompt: Option<String>,
}

impl Rendered {
    /// The spoken sentences as SSML for `engine`, within the given limits.
    #[must_use]
    pub fn ssml(&self, engine: Engine, max_total: usize, max_text: usize) -> Ssml {
        sentences_ssml(&self.spoken, engine, max_total, max_text)
    }

    /// The sentences to keep for "repeat" on this surface.
    #[must_use]
    pub fn said(&self, mode: Mode) -> Vec<String> {
        match mode {
            Mode::Voice => self.spoken.clone(),
            Mode::Text => self.text_sentences.clone(),
        }
    }
}

/// `sentences` as SSML for `engine`, as many as fit within the given limits.
#[must_use]
pub fn sentences_ssml<'a>(
    sentences: impl IntoIterator<Item = &'a String>,
    engine: Engine,
    max_total: usize,
    max_text: usize,
) -> Ssml {
    let mut builder = SsmlBuilder::with_limits(engine, max_total, max_text);
    for sentence in sentences {
        if !builder.sentence(sentence) {
            break;
        }
    }
    builder.build()
}

/// Renders answers from the embedded prompts.
pub struct Renderer {
    bundles: Vec<(String, Prompts)>,
    region: Option<String>,
}

/// One locale's prompts.
struct Prompts {
    bundle: FluentBundle<FluentResource>,
    /// For each message with a chat variant, that variant's id (`health` -> `health-text`),
    /// so choosing it costs a lookup, not a formatted string per message.
    text_variants: HashMap<String, String>,
    /// The ids of the messages its files declare.
    ids: BTreeSet<String>,
}

impl Prompts {
    fn has_message(&self, id: &str) -> bool {
        self.bundle
            .get_message(id)
            .is_some_and(|m| m.value().is_some())
    }
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field(
                "locales",
                &self.bundles.iter().map(|(l, _)| l).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Renderer {
    /// Loads the embedded prompts and checks every id the code uses exists in every locale.
    /// `region` (when known) makes console links open in the right region.
    ///
    /// # Errors
    /// A syntax error, a duplicate id or a missing id, naming the locale and file.
    pub fn embedded(region: Option<String>) -> Result<Self, PromptError> {
        let mut bundles: Vec<(String, Prompts)> = Vec::new();
        for (locale, file, source) in PROMPTS {
            let index = match bundles.iter().position(|(l, _)| l == locale) {
                Some(i) => i,
                None => {
                    let id: unic_langid::LanguageIdentifier = locale
                        .parse()
                        .map_err(|_| PromptError::Locale((*locale).to_owned()))?;
                    let mut bundle = FluentBundle::new_concurrent(vec![id]);
                    bundle.set_use_isolating(false);
                    let prompts = Prompts {
                        bundle,
                        text_variants: HashMap::new(),
                        ids: BTreeSet::new(),
                    };
                    bundles.push(((*locale).to_owned(), prompts));
                    bundles.len() - 1
                }
            };
            let resource =
                FluentResource::try_new((*source).to_owned()).map_err(|(_, errors)| {
                    PromptError::Syntax {
                        locale: (*locale).to_owned(),
                        file: (*file).to_owned(),
                        errors: errors
                            .iter()
                            .map(|e| format!("{e:?}"))
                            .collect::<Vec<_>>()
                            .join("; "),
                    }
                })?;
            let prompts = &mut bundles[index].1;
            for entry in resource.entries() {
                if let fluent_syntax::ast::Entry::Message(m) = entry {
                    prompts.ids.insert(m.id.name.to_owned());
                }
            }
            prompts.bundle.add_resource(resource).map_err(|errors| {
                let id = errors.first().map(|e| format!("{e:?}")).unwrap_or_default();
                PromptError::Duplicate {
                    locale: (*locale).to_owned(),
                    id,
                }
            })?;
        }
        // The default locale's files declare the ids; every other locale has them all
        // (a test holds the code to asking only for declared ids).
        let declared: BTreeSet<String> = bundles
            .iter()
            .find(|(l, _)| l == DEFAULT_LOCALE)
            .map(|(_, p)| p.ids.clone())
            .ok_or_else(|| PromptError::Locale(DEFAULT_LOCALE.to_owned()))?;
        for (locale, bundle) in &mut bundles {
            if let Some(id) = declared.iter().find(|id| !bundle.ids.contains(*id)) {
                return Err(PromptError::Missing {
                    locale: locale.clone(),
                    id: id.clone(),
                });
            }
            for id in &declared {
                let variant = format!("{id}-text");
                if bundle.ids.contains(&variant) {
                    bundle.text_variants.insert(id.clone(), variant);
                }
            }
        }
        Ok(Self { bundles, region })
    }

    /// The message ids the prompts declare (the default locale's; every locale has them).
    #[must_use]
    pub fn message_ids(&self) -> &BTreeSet<String> {
        &self.bundle(DEFAULT_LOCALE).ids
    }

    /// The locales with prompts.
    #[must_use]
    pub fn locales(&self) -> Vec<&str> {
        self.bundles.iter().map(|(l, _)| l.as_str()).collect()
    }

    fn bundle(&self, locale: &str) -> &Prompts {
        self.bundles
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(locale) || l.replace('-', "_") == locale)
            .or_else(|| self.bundles.iter().find(|(l, _)| l == DEFAULT_LOCALE))
            .map(|(_, b)| b)
            .unwrap_or(&self.bundles[0].1)
    }

    /// Whether `locale`'s prompts (or the default locale's, which [`Self::render_message`]
    /// falls back to) have message `id` with a value.
    #[must_use]
    pub fn has_message(&self, id: &str, locale: &str) -> bool {
        self.bundle(locale).has_message(id)
    }

    /// One message with no arguments, as spoken (e.g. the "What else?" reprompt).
    #[must_use]
    pub fn render_message(&self, id: &str, locale: &str) -> String {
        Say {
            bundle: self.bundle(locale),
            mode: Mode::Voice,
            region: None,
        }
        .msg(id, [])
    }

    /// Renders `answer` in `locale`, in the forms asked for.
    #[must_use]
    pub fn render(&self, answer: &Answer, locale: &str, forms: Forms) -> Rendered {
        let bundle = self.bundle(locale);
        let voice = Say {
            bundle,
            mode: Mode::Voice,
            region: self.region.as_deref(),
        };
        let text = Say {
            bundle,
            mode: Mode::Text,
            region: self.region.as_deref(),
        };
        let stale = |say: &Say<'_>| {
            answer.stale.as_ref().map(|stale| {
                let systems: Vec<String> = stale.systems.iter().map(|&s| s.to_owned()).collect();
                let system = say.options(&systems);
                say.msg(
                    "stale",
                    [("system", s(system)), ("age", s(say.duration(stale.age)))],
                )
            })
        };
        let spoken_all = if forms.voice() {
            stale(&voice)
                .into_iter()
                .chain(voice.sentences(answer))
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
                    .chain(text.sentences(answer))
                    .collect(),
                text.extras(answer),
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
                text.card(answer, text_sentences.first().map(String::as_str))
            } else {
                None
            },
            spoken,
            text: full,
            text_sentences,
            reprompt,
        }
    }
}

/// Rendering for one surface.
struct Say<'b> {
    bundle: &'b Prompts,
    mode: Mode,
    region: Option<&'b str>,
}

fn s(v: impl Into<String>) -> FluentValue<'static> {
    FluentValue::from(v.into())
}

fn n(v: impl Into<f64>) -> FluentValue<'static> {
    FluentValue::from(v.into())
}

impl Say<'_> {
    fn voice(&self) -> bool {
        self.mode == Mode::Voice
    }

    fn msg<'a>(
        &self,
        id: &str,
        args: impl IntoIterator<Item = (&'a str, FluentValue<'a>)>,
    ) -> String {
        // In chat, prefer the `-text` variant of a message when there is one.
        let bundle = &self.bundle.bundle;
        let message = (!self.voice())
            .then(|| self.bundle.text_variants.get(id))
            .flatten()
            .and_then(|variant| bundle.get_message(variant))
            .or_else(|| bundle.get_message(id));
        let Some(pattern) = message.and_then(|m| m.value()) else {
            tracing::error!(id, "prompt missing; run `opsvoice check`");
            return String::new();
        };
        let fluent_args: FluentArgs<'a> = args.into_iter().collect();
        let mut errors = Vec::new();
        let out = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::error!(id, ?errors, "prompt failed to format");
        }
        out.into_owned()
    }

    /// A service, alarm or cluster name as this surface should show it.
    fn name(&self, raw: &str) -> String {
        if self.voice() {
            spoken_name(raw)
        } else {
            raw.to_owned()
        }
    }

    fn service(&self, service: &ServiceRef) -> String {
        self.name(&service.name)
    }

    fn taskdef(&self, task_definition: &str) -> String {
        if self.voice() {
            match task_definition.rsplit_once(':') {
                Some((_, rev)) => self.msg("task-definition", [("revision", s(rev))]),
                None => spoken_name(task_definition),
            }
        } else {
            task_definition.to_owned()
        }
    }

    fn duration(&self, d: Duration) -> String {
        let secs = d.as_secs();
        let (unit, count) = if secs < 60 {
            ("seconds", secs)
        } else if secs < 90 * 60 {
            ("minutes", (secs + 30) / 60)
        } else if secs < 36 * 3600 {
            ("hours", (secs + 1800) / 3600)
        } else {
            ("days", (secs + 43_200) / 86_400)
        };
        self.msg("duration", [("unit", s(unit)), ("n", n(count as f64))])
    }

    fn window(&self, d: Duration) -> String {
        let secs = d.as_secs().max(60);
        let (unit, count) = if secs < 2 * 3600 && !secs.is_multiple_of(3600) {
            ("minutes", secs / 60)
        } else if secs < 2 * 86_400 {
            ("hours", secs / 3600)
        } else {
            ("days", secs / 86_400)
        };
        self.msg("window", [("unit", s(unit)), ("n", n(count as f64))])
    }

    /// "a", "a and b", "a, b, and c"; in voice at most `max` items, then "and N more".
    fn list(&self, items: &[String], max: usize) -> String {
        let (shown, rest) = if items.len() > max {
            (&items[..max], items.len() - max)
        } else {
            (items, 0)
        };
        let mut shown: Vec<String> = shown.to_vec();
        if rest > 0 {
            shown.push(self.msg("list-more", [("count", n(rest as f64))]));
        }
        match shown.len() {
            0 => String::new(),
            1 => shown.remove(0),
            2 => self.msg(
                "list-two",
                [
                    ("first", s(shown[0].clone())),
                    ("last", s(shown[1].clone())),
                ],
            ),
            _ => {
                let last = shown.pop().unwrap_or_default();
                self.msg(
                    "list-many",
                    [("first", s(shown.join(", "))), ("last", s(last))],
                )
            }
        }
    }

    fn options(&self, items: &[String]) -> String {
        match items.len() {
            0 => String::new(),
            1 => items[0].clone(),
            _ => {
                let (last, first) = items.split_last().unwrap_or((&items[0], &[]));
                self.msg(
                    "or",
                    [("first", s(first.join(", "))), ("last", s(last.clone()))],
                )
            }
        }
    }

    fn value(&self, unit: MetricUnit, v: f64) -> String {
        let shown = if v.abs() < 10.0 && (v.fract() * 10.0).round() != 0.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.0}")
        };
        let id = match unit {
            MetricUnit::Percent => "value-percent",
            MetricUnit::Milliseconds => "value-ms",
            MetricUnit::PerMinute => "value-per-minute",
        };
        self.msg(id, [("value", s(shown))])
    }

    fn metric_name(&self, kind: MetricKind) -> String {
        self.msg("metric-name", [("metric", s(kind.slot_value()))])
    }

    fn max_items(&self, detail: bool) -> usize {
        match (self.voice(), detail) {
            (true, false) => 3,
            (true, true) => 6,
            (false, _) => 12,
        }
    }

    /// The sentences of the answer, verdict first.
    fn sentences(&self, answer: &Answer) -> Vec<String> {
        let detail = answer.detail;
        match &answer.reply {
            Reply::Health(r) => self.health(r, detail),
            Reply::Deployment(r) => self.deployment(r, detail),
            Reply::Alarms(r) => self.alarms(r, detail),
            Reply::AlarmDetail(r) => {
                let name = self.name(&r.name);
                let state = match r.state {
                    AlarmState::Alarm => "alarm",
                    AlarmState::Ok => "ok",
                    AlarmState::InsufficientData => "insufficient-data",
                };
                let mut out = vec![self.msg(
                    "alarm-state",
                    [
                        ("state", s(state)),
                        ("name", s(name)),
                        ("age", s(self.duration(r.age))),
                    ],
                )];
                if r.kind == AlarmKind::Composite {
                    out.push(self.msg("alarm-composite", []));
                }
                if !r.reason.is_empty() {
                    out.push(self.msg("alarm-reason", [("reason", s(r.reason.clone()))]));
                }
                if let Some(service) = &r.service {
                    out.push(self.msg("alarm-service", [("service", s(self.service(service)))]));
                }
                if let Some(changes) = r.changes_today {
                    out.push(self.msg("alarm-changes", [("count", n(changes as f64))]));
                }
                out
            }
            Reply::Metric(r) => {
                let base: Vec<(&str, FluentValue<'_>)> = vec![
                    ("metric", s(self.metric_name(r.kind))),
                    ("service", s(self.service(&r.service))),
                    ("window", s(self.window(r.window))),
                ];
                match &r.values {
                    Some(v) => {
                        let mut args = base;
                        args.push(("latest", s(self.value(v.unit, v.latest))));
                        args.push(("mean", s(self.value(v.unit, v.mean))));
                        args.push(("peak", s(self.value(v.unit, v.peak))));
                        vec![self.msg("metric-value", args)]
                    }
                    None => vec![self.msg("metric-no-data", base)],
                }
            }
            Reply::Fleet(r) => self.fleet(r, detail),
            Reply::Changes(r) => self.changes(r, detail),
            Reply::Ask(slot) => vec![self.msg(
                match slot {
                    Slot::Service => "ask-service",
                    Slot::Cluster => "ask-cluster",
                    Slot::Alarm => "ask-alarm",
                    Slot::Metric => "ask-metric",
                    Slot::Window => "ask-window",
                },
                [],
            )],
            Reply::WhichService(services) => {
                let names: Vec<String> = services
                    .iter()
                    .map(|svc| {
                        if services.iter().filter(|o| o.name == svc.name).count() > 1 {
                            format!("{} ({})", self.service(svc), self.name(&svc.cluster))
                        } else {
                            self.service(svc)
                        }
                    })
                    .collect();
                vec![self.msg("which-service", [("options", s(self.options(&names)))])]
            }
            Reply::WhichCluster { service, clusters } => {
                let names: Vec<String> = clusters.iter().map(|c| self.name(c)).collect();
                vec![self.msg(
                    "which-cluster",
                    [
                        ("service", s(self.name(service))),
                        ("clusters", s(self.list(&names, 5))),
                    ],
                )]
            }
            Reply::WhichAlarm(alarms) => {
                let names: Vec<String> = alarms.iter().map(|a| self.name(a)).collect();
                vec![self.msg("which-alarm", [("options", s(self.options(&names)))])]
            }
            Reply::DidYouMean(service) => {
                vec![self.msg("did-you-mean", [("service", s(self.service(service)))])]
            }
            Reply::UnknownService(spoken) => {
                vec![self.msg("unknown-service", [("spoken", s(spoken.clone()))])]
            }
            Reply::UnknownCluster(spoken) => {
                vec![self.msg("unknown-cluster", [("spoken", s(spoken.clone()))])]
            }
            Reply::UnknownAlarm(spoken) => {
                vec![self.msg("unknown-alarm", [("spoken", s(spoken.clone()))])]
            }
            Reply::UnknownMetric(spoken) => {
                vec![self.msg("unknown-metric", [("spoken", s(spoken.clone()))])]
            }
            Reply::NoFiringAlarm(service) => {
                vec![self.msg("no-firing-alarm", [("service", s(self.service(service)))])]
            }
            Reply::Denied => vec![self.msg("denied", [])],
            Reply::SignIn => vec![self.msg("sign-in", [])],
            Reply::SignInUnavailable => vec![self.msg("sign-in-unavailable", [])],
            Reply::Welcome => vec![self.msg("welcome", [])],
            Reply::Help => vec![self.msg("help", [])],
            Reply::Goodbye => vec![self.msg("goodbye", [])],
            Reply::Fallback => vec![self.msg("fallback", [])],
            Reply::NothingToRepeat => vec![self.msg("nothing-to-repeat", [])],
            Reply::Said(sentences) => sentences.clone(),
            Reply::Unavailable(system) => vec![self.msg("unavailable", [("system", s(*system))])],
            Reply::TooSlow => vec![self.msg("too-slow", [])],
            Reply::InternalError => vec![self.msg("internal-error", [])],
        }
    }

    fn health(&self, r: &crate::dialog::service_health::Report, detail: bool) -> Vec<String> {
        let service = self.service(&r.service);
        let verdict_key = if r.verdict == Verdict::Degraded && r.running >= r.desired {
            "degraded-alarms"
        } else {
            r.verdict.as_str()
        };
        let verdict = self.msg(
            "health-verdict",
            [
                ("verdict", s(verdict_key)),
                ("service", s(service)),
                ("running", n(r.running)),
                ("desired", n(r.desired)),
                ("new", n(r.rollout.as_ref().map_or(0, |x| x.new_running))),
                (
                    "age",
                    s(r.rollout
                        .as_ref()
                        .map(|x| self.duration(x.age))
                        .unwrap_or_default()),
                ),
            ],
        );
        let mut out = Vec::new();
        match &r.firing {
            Some(firing) => {
                let alarms = self.msg(
                    "health-alarms",
                    [
                        ("count", n(firing.len() as f64)),
                        (
                            "age",
                            s(firing
                                .first()
                                .map(|(_, age)| self.duration(*age))
                                .unwrap_or_default()),
                        ),
                    ],
                );
                out.push(self.msg(
                    "health-summary",
                    [("verdict", s(verdict)), ("alarms", s(alarms))],
                ));
                if !firing.is_empty() && (detail || !self.voice()) {
                    let names: Vec<String> =
                        firing.iter().map(|(name, _)| self.name(name)).collect();
                    out.push(self.msg(
                        "health-alarm-names",
                        [
                            ("count", n(names.len() as f64)),
                            ("names", s(self.list(&names, self.max_items(detail)))),
                        ],
                    ));
                }
            }
            None => out.push(self.msg("health-summary-no-alarms", [("verdict", s(verdict))])),
        }
        if detail {
            if r.pending > 0 && r.verdict != Verdict::Deploying {
                out.push(self.msg("health-pending", [("count", n(r.pending))]));
            }
            if let (Some(cpu), Some(memory)) = (r.cpu, r.memory) {
                out.push(self.msg(
                    "health-usage",
                    [
                        ("cpu", s(self.value(MetricUnit::Percent, cpu))),
                        ("memory", s(self.value(MetricUnit::Percent, memory))),
                    ],
                ));
            }
            if let Some((event, age)) = &r.last_event {
                out.push(self.msg(
                    "health-last-event",
                    [
                        ("age", s(self.duration(*age))),
                        ("event", s(event_sentence(event, |n| self.name(n)))),
                    ],
                ));
            }
        }
        out
    }

    fn deployment(
        &self,
        r: &crate::dialog::deployment_status::Report,
        detail: bool,
    ) -> Vec<String> {
        let mut args: Vec<(&str, FluentValue<'_>)> = vec![
            ("state", s(r.state.as_str())),
            ("service", s(self.service(&r.service))),
            ("owner", s(possessive(&self.service(&r.service)))),
            ("taskdef", s(self.taskdef(&r.task_definition))),
        ];
        match &r.state {
            State::InProgress {
                new_running,
                desired,
                age,
            } => {
                args.push(("new", n(*new_running)));
                args.push(("desired", n(*desired)));
                args.push(("age", s(self.duration(*age))));
            }
            State::Completed { age } | State::Failed { age } => {
                args.push(("age", s(self.duration(*age))));
            }
            State::RolledBack {
                failed_task_definition,
                age,
            } => {
                args.push(("failed", s(self.taskdef(failed_task_definition))));
                args.push(("age", s(self.duration(*age))));
            }
            State::Unknown => {}
        }
        let mut out = vec![self.msg("deploy-state", args)];
        if let Some(reason) = &r.reason {
            out.push(self.msg(
                "deploy-reason",
                [("reason", s(reason.trim_end_matches('.')))],
            ));
        }
        if r.failed_tasks > 0 && (detail || !matches!(r.state, State::Completed { .. })) {
            out.push(self.msg("deploy-failed-tasks", [("count", n(r.failed_tasks))]));
        }
        if detail || !self.voice() {
            for (event, age) in r.events.iter().take(if detail { 3 } else { 1 }) {
                out.push(self.msg(
                    "deploy-event",
                    [
                        ("age", s(self.duration(*age))),
                        ("event", s(event_sentence(event, |n| self.name(n)))),
                    ],
                ));
            }
        }
        out
    }

    fn alarms(&self, r: &crate::dialog::active_alarms::Report, detail: bool) -> Vec<String> {
        let scope = r
            .service
            .as_ref()
            .map(|svc| self.service(svc))
            .or_else(|| r.cluster.as_ref().map(|c| self.name(c)));
        let count = n(r.firing.len() as f64);
        let mut out = vec![match (&scope, r.firing.is_empty()) {
            (None, true) => self.msg("alarms-none", []),
            (Some(scope), true) => self.msg("alarms-none-in", [("scope", s(scope.clone()))]),
            (None, false) => self.msg("alarms-count", [("count", count)]),
            (Some(scope), false) => self.msg(
                "alarms-count-in",
                [("count", count), ("scope", s(scope.clone()))],
            ),
        }];
        if self.voice() {
            let max = if detail { 5 } else { 2 };
            for alarm in r.firing.iter().take(max) {
                out.push(self.alarm_item(alarm));
            }
            if r.firing.len() > max {
                out.push(self.msg(
                    "alarms-and-more",
                    [("count", n((r.firing.len() - max) as f64))],
                ));
            }
        }
        out
    }

    fn alarm_item(&self, alarm: &Firing) -> String {
        let id = match alarm.kind {
            AlarmKind::Composite => "alarms-item-composite",
            AlarmKind::Metric => "alarms-item",
        };
        self.msg(
            id,
            [
                ("name", s(self.name(&alarm.name))),
                ("age", s(self.duration(alarm.age))),
            ],
        )
    }

    fn fleet(&self, r: &crate::dialog::fleet_summary::Report, detail: bool) -> Vec<String> {
        let scope = match &r.cluster {
            Some(c) => self.name(c),
            None => self.msg("fleet-scope-all", []),
        };
        let mut out = Vec::new();
        if r.problems.is_empty() {
            out.push(self.msg(
                "fleet-all-healthy",
                [("scope", s(scope)), ("total", n(r.services as f64))],
            ));
        } else {
            out.push(self.msg(
                "fleet-healthy",
                [
                    ("scope", s(scope)),
                    ("healthy", n(r.healthy as f64)),
                    ("total", n(r.services as f64)),
                ],
            ));
            if self.voice() {
                for verdict in [Verdict::Down, Verdict::Degraded, Verdict::Deploying] {
                    let names: Vec<String> = r
                        .problems
                        .iter()
                        .filter(|p| p.verdict == verdict)
                        .map(|p| self.service(&p.service))
                        .collect();
                    if !names.is_empty() {
                        out.push(self.msg(
                            "fleet-group",
                            [
                                ("verdict", s(verdict.as_str())),
                                ("count", n(names.len() as f64)),
                                ("names", s(self.list(&names, self.max_items(detail)))),
                            ],
                        ));
                    }
                }
            }
        }
        out.push(match r.firing {
            Some(count) => self.msg("fleet-alarms", [("count", n(count as f64))]),
            None => self.msg("fleet-alarms-unknown", []),
        });
        out
    }

    fn changes(&self, r: &crate::dialog::what_changed::Report, detail: bool) -> Vec<String> {
        let window = s(self.window(r.window));
        if r.changes.is_empty() {
            return vec![self.msg("changes-none", [("window", window)])];
        }
        let mut out = vec![self.msg(
            "changes-count",
            [("count", n(r.changes.len() as f64)), ("window", window)],
        )];
        if self.voice() {
            for change in r.changes.iter().take(self.max_items(detail)) {
                out.push(self.change_item(change));
            }
        }
        out
    }

    fn change_item(&self, c: &crate::dialog::what_changed::Change) -> String {
        let outcome = match c.outcome {
            DeploymentOutcome::InProgress => "in-progress",
            DeploymentOutcome::Succeeded => "succeeded",
            DeploymentOutcome::Failed => "failed",
            DeploymentOutcome::RolledBack => "rolled-back",
        };
        self.msg(
            "changes-item",
            [
                ("outcome", s(outcome)),
                ("service", s(self.service(&c.service))),
                ("taskdef", s(self.taskdef(&c.task_definition))),
                ("age", s(self.duration(c.age))),
            ],
        )
    }

    /// Chat-only lines: lists and console links.
    fn extras(&self, answer: &Answer) -> Vec<String> {
        let mut out = Vec::new();
        match &answer.reply {
            Reply::Health(r) => {
                out.push(self.msg("console-service", [("url", s(self.ecs_url(&r.service)))]))
            }
            Reply::Deployment(r) => {
                out.push(self.msg("console-service", [("url", s(self.ecs_url(&r.service)))]))
            }
            Reply::Alarms(r) => {
                for alarm in r.firing.iter().take(12) {
                    let owner = alarm
                        .service
                        .as_ref()
                        .map(|svc| format!(" [{svc}]"))
                        .unwrap_or_default();
                    out.push(format!("• {}{owner}", self.alarm_item(alarm)));
                }
                if r.firing.len() > 12 {
                    out.push(format!(
                        "• {}",
                        self.msg(
                            "alarms-and-more",
                            [("count", n((r.firing.len() - 12) as f64))]
                        )
                    ));
                }
                if !r.firing.is_empty() {
                    out.push(self.msg("console-alarms", [("url", s(self.alarms_url()))]));
                }
            }
            Reply::AlarmDetail(r) => {
                out.push(self.msg("console-alarm", [("url", s(self.alarm_url(&r.name)))]))
            }
            Reply::Fleet(r) => {
                for p in r.problems.iter().take(12) {
                    out.push(format!(
                        "• {}",
                        self.msg(
                            "fleet-problem-text",
                            [
                                ("service", s(p.service.to_string())),
                                ("verdict", s(p.verdict.as_str())),
                                ("running", n(p.running)),
                                ("desired", n(p.desired)),
                                ("firing", n(p.firing as f64)),
                            ],
                        )
                    ));
                }
            }
            Reply::Changes(r) => {
                for c in r.changes.iter().take(12) {
                    out.push(format!("• {}", self.change_item(c)));
                }
            }
            _ => {}
        }
        out
    }

    fn region_query(&self) -> String {
        self.region
            .map(|r| format!("?region={r}"))
            .unwrap_or_default()
    }

    fn ecs_url(&self, service: &ServiceRef) -> String {
        format!(
            "https://console.aws.amazon.com/ecs/v2/clusters/{}/services/{}/health{}",
            utf8_percent_encode(&service.cluster, NON_ALPHANUMERIC),
            utf8_percent_encode(&service.name, NON_ALPHANUMERIC),
            self.region_query()
        )
    }

    fn alarms_url(&self) -> String {
        format!(
            "https://console.aws.amazon.com/cloudwatch/home{}#alarmsV2:?~(state~'ALARM)",
            self.region_query()
        )
    }

    fn alarm_url(&self, name: &str) -> String {
        format!(
            "https://console.aws.amazon.com/cloudwatch/home{}#alarmsV2:alarm/{}",
            self.region_query(),
            utf8_percent_encode(name, NON_ALPHANUMERIC)
        )
    }

    /// The Slack card: a title and the natural follow-ups as buttons.
    fn card(&self, answer: &Answer, first: Option<&str>) -> Option<Card> {
        let b = |label: &str, say: String| Button {
            text: self.msg(label, []),
            value: say,
        };
        let say_svc = |id: &str, svc: &ServiceRef| self.msg(id, [("service", s(svc.name.clone()))]);
        let metric = |svc: &ServiceRef, kind: MetricKind| {
            self.msg(
                "say-metric",
                [
                    ("metric", s(kind.slot_value())),
                    ("service", s(svc.name.clone())),
                ],
            )
        };
        let more = || b("button-more", self.msg("say-more", []));
        let (kind, buttons) = match &answer.reply {
            Reply::Health(r) => (
                "health",
                vec![
                    b("button-deploy", say_svc("say-deploy", &r.service)),
                    b("button-alarms", say_svc("say-service-alarms", &r.service)),
                    b("button-cpu", metric(&r.service, MetricKind::Cpu)),
                    b("button-latency", metric(&r.service, MetricKind::Latency)),
                    more(),
                ],
            ),
            Reply::Deployment(r) => (
                "deploy",
                vec![
                    b("button-health", say_svc("say-health", &r.service)),
                    b("button-changes", self.msg("say-changes", [])),
                    more(),
                ],
            ),
            Reply::Alarms(r) => {
                let mut buttons: Vec<Button> = r
                    .firing
                    .iter()
                    .take(3)
                    .map(|a| Button {
                        text: a.name.clone(),
                        value: self.msg("say-why", [("alarm", s(a.name.clone()))]),
                    })
                    .collect();
                buttons.push(b("button-fleet", self.msg("say-fleet", [])));
                ("alarms", buttons)
            }
            Reply::AlarmDetail(r) => {
                let mut buttons = vec![b("button-alarms", self.msg("say-alarms", []))];
                if let Some(svc) = &r.service {
                    buttons.insert(0, b("button-health", say_svc("say-health", svc)));
                }
                ("alarm", buttons)
            }
            Reply::Metric(r) => (
                "metric",
                MetricKind::ALL
                    .into_iter()
                    .filter(|k| *k != r.kind)
                    .take(3)
                    .map(|k| b(&format!("button-{}", k.slot_value()), metric(&r.service, k)))
                    .chain([b("button-health", say_svc("say-health", &r.service))])
                    .collect(),
            ),
            Reply::Fleet(r) => (
                "fleet",
                r.problems
                    .iter()
                    .take(3)
                    .map(|p| Button {
                        text: p.service.name.clone(),
                        value: say_svc("say-health", &p.service),
                    })
                    .chain([b("button-alarms", self.msg("say-alarms", [])), more()])
                    .collect(),
            ),
            Reply::Changes(r) => (
                "changes",
                r.changes
                    .iter()
                    .take(3)
                    .map(|c| Button {
                        text: c.service.name.clone(),
                        value: say_svc("say-deploy", &c.service),
                    })
                    .chain([b("button-alarms", self.msg("say-alarms", []))])
                    .collect(),
            ),
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
            Reply::WhichCluster { clusters, .. } => (
                "other",
                clusters
                    .iter()
                    .map(|c| Button {
                        text: c.clone(),
                        value: c.clone(),
                    })
                    .collect(),
            ),
            Reply::WhichAlarm(alarms) => (
                "other",
                alarms
                    .iter()
                    .map(|a| Button {
                        text: a.clone(),
                        value: a.clone(),
                    })
                    .collect(),
            ),
            Reply::DidYouMean(_) => (
                "other",
                vec![
                    b("button-yes", self.msg("say-yes", [])),
                    b("button-no", self.msg("say-no", [])),
                ],
            ),
            Reply::Ask(Slot::Metric) | Reply::UnknownMetric(_) => (
                "metric",
                MetricKind::ALL
                    .into_iter()
                    .take(5)
                    .map(|k| Button {
                        text: self.msg(&format!("button-{}", k.slot_value()), []),
                        value: k.slot_value().to_owned(),
                    })
                    .filter(|b| !b.text.is_empty())
                    .collect(),
            ),
            Reply::Welcome | Reply::Help | Reply::Fallback | Reply::NothingToRepeat => (
                "other",
                vec![
                    b("button-fleet", self.msg("say-fleet", [])),
                    b("button-alarms", self.msg("say-alarms", [])),
                    b("button-changes", self.msg("say-changes", [])),
                ],
            ),
            _ => return None,
        };
        let buttons: Vec<Button> = buttons
            .into_iter()
            .filter(|b| !b.text.is_empty() && !b.value.is_empty())
            .collect();
        Some(Card {
            title: self.msg("card-title", [("kind", s(kind))]),
            subtitle: first.map(str::to_owned),
            buttons,
        })
    }
}

/// How a name is read aloud: hyphens and underscores become spaces and known acronyms are
/// spelled out, so `payments-api` is "payments API" and `ml-scoring` is "ML scoring".
#[must_use]
pub fn spoken_name(raw: &str) -> String {
    const ACRONYMS: &[&str] = &[
        "api", "ml", "etl", "bff", "sms", "db", "sqs", "sns", "ecs", "alb", "elb", "cpu", "ui",
        "id", "dns", "cdn", "s3", "eu", "us", "ap", "p99", "p95", "p50", "5xx", "4xx", "http",
        "ai", "qa", "io", "rds", "aws", "k8s",
    ];
    raw.split(['-', '_', '/', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            if ACRONYMS.contains(&w.to_ascii_lowercase().as_str()) {
                w.to_ascii_uppercase()
            } else {
                w.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The possessive of a name as a person says it: "checkout's", "payments'".
#[must_use]
pub fn possessive(name: &str) -> String {
    if name.ends_with(['s', 'S']) {
        format!("{name}'")
    } else {
        format!("{name}'s")
    }
}

/// An ECS service event as a sentence with its subject: "(service checkout) has reached a
/// steady state." is "checkout reached a steady state", and "(service x) deployment
/// ecs-svc/1 deployment failed: …" is "x's deployment failed: …". `name` says the
/// service's name the way the answer says names.
fn event_sentence(message: &str, name: impl Fn(&str) -> String) -> String {
    let subject = message
        .trim()
        .strip_prefix("(service ")
        .and_then(|rest| rest.split_once(')'))
        .map(|(service, _)| name(service.trim()));
    let mut rest = tidy_event(message).replace("::", ":");
    // Deployment ids are not words a listener can use.
    while let Some(start) = rest.find("(deployment ") {
        let end = rest[start..]
            .find(')')
            .map_or(rest.len(), |e| start + e + 1);
        rest.replace_range(start..end, "");
    }
    let rest: Vec<&str> = rest.split_whitespace().collect();
    let mut words: Vec<String> = Vec::with_capacity(rest.len());
    let mut i = 0;
    while i < rest.len() {
        // "deployment ecs-svc/123 deployment failed" says "deployment" once, without the id.
        if rest[i] == "deployment" && rest.get(i + 1).is_some_and(|w| w.starts_with("ecs-svc/")) {
            if words.last().is_some_and(|w| w == "to") {
                words.push("the previous deployment".to_owned());
            } else if rest.get(i + 2) != Some(&"deployment") {
                words.push("deployment".to_owned());
            }
            i += 2;
            continue;
        }
        words.push(rest[i].to_owned());
        i += 1;
    }
    // ECS writes "1 tasks" and "1 running tasks".
    for i in 0..words.len() {
        if words[i] == "1" {
            for w in words.iter_mut().skip(i + 1).take(2) {
                if let Some(one) = w.strip_suffix("tasks") {
                    *w = format!("{one}task");
                    break;
                }
                if let Some(one) = w.strip_suffix("tasks:") {
                    *w = format!("{one}task:");
                    break;
                }
            }
        }
    }
    let Some(subject) = subject else {
        return words.join(" ");
    };
    let first = words.first().map_or("", String::as_str);
    let second = words.get(1).map_or("", String::as_str);
    let lead = if first == "deployment" {
        possessive(&subject)
    } else if first == "has" && second.ends_with("ed") {
        words.remove(0);
        subject
    } else if first.ends_with("ing") {
        format!("{subject} is")
    } else {
        subject
    };
    if words.is_empty() {
        return lead;
    }
    format!("{lead} {}", words.join(" "))
}

/// An ECS event made speakable: no "(service x)" prefix, no task ids.
fn tidy_event(message: &str) -> String {
    let mut out = message.trim().to_owned();
    if out.starts_with("(service ")
        && let Some(end) = out.find(") ")
    {
        out = out[end + 2..].to_owned();
    }
    while let Some(start) = out.find("(task ") {
        let end = out[start..].find(')').map_or(out.len(), |e| start + e + 1);
        out.replace_range(start..end, "");
    }
    out.replace(": .", ".")
        .replace(" :", ":")
        .trim()
        .trim_end_matches(['.', ':'])
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_naturally() {
        assert_eq!(spoken_name("payments-api"), "payments API");
        assert_eq!(spoken_name("ml-scoring"), "ML scoring");
        assert_eq!(
            spoken_name("checkout-p99-latency-high"),
            "checkout P99 latency high"
        );
    }

    #[test]
    fn events_keep_their_subject_and_read_as_sentences() {
        let said = |m: &str| event_sentence(m, str::to_owned);
        assert_eq!(
            said("(service payments) has reached a steady state."),
            "payments reached a steady state"
        );
        assert_eq!(
            said("(service checkout) has started 1 tasks: (task 5c1f0e9a)."),
            "checkout started 1 task"
        );
        assert_eq!(
            said(
                "(service cart) has stopped 1 running tasks: (task 9e0b): Task failed container health checks."
            ),
            "cart stopped 1 running task: Task failed container health checks"
        );
        assert_eq!(
            said("(service pricing) rolling back to deployment ecs-svc/1231."),
            "pricing is rolling back to the previous deployment"
        );
        assert_eq!(
            said(
                "(service pricing) deployment ecs-svc/1232 deployment failed: tasks failed to start."
            ),
            "pricing's deployment failed: tasks failed to start"
        );
        assert_eq!(
            said(
                "(service search) (deployment ecs-svc/77) deployment failed: tasks failed to start."
            ),
            "search's deployment failed: tasks failed to start"
        );
        assert_eq!(
            said("(service recommendations) is unable to consistently start tasks successfully."),
            "recommendations is unable to consistently start tasks successfully"
        );
        assert_eq!(possessive("payments"), "payments'");
        assert_eq!(possessive("checkout"), "checkout's");
    }

    #[test]
    fn events_lose_their_prefix_and_task_ids() {
        assert_eq!(
            tidy_event("(service checkout) has started 1 tasks: (task 5c1f0e9a)."),
            "has started 1 tasks"
        );
        assert_eq!(
            tidy_event(
                "(service recommendations) is unable to consistently start tasks successfully."
            ),
            "is unable to consistently start tasks successfully"
        );
    }

    #[test]
    fn chat_uses_a_message_s_text_variant_and_voice_never_does() {
        let renderer = Renderer::embedded(None).expect("prompts load");
        let say = |mode| Say {
            bundle: renderer.bundle(DEFAULT_LOCALE),
            mode,
            region: None,
        };
        assert_eq!(say(Mode::Text).value(MetricUnit::Percent, 42.0), "42%");
        assert_eq!(
            say(Mode::Voice).value(MetricUnit::Percent, 42.0),
            "42 percent"
        );
        assert_eq!(
            say(Mode::Text).value(MetricUnit::Milliseconds, 310.0),
            "310 ms"
        );
        // A message without a variant is the same in both.
        assert_eq!(
            say(Mode::Text).msg("or", [("first", s("a")), ("last", s("b"))]),
            say(Mode::Voice).msg("or", [("first", s("a")), ("last", s("b"))])
        );
    }

    /// Every id the code asks for (a literal passed to `msg`, `render_message` or
    /// `has_message`, or returned as an elicitation prompt id anywhere under `src/`) is
    /// declared in every locale.
    #[test]
    fn every_message_id_the_code_asks_for_exists_in_every_locale() {
        fn sources(dir: &std::path::Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    sources(&path, out);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    out.push(std::fs::read_to_string(&path).unwrap());
                }
            }
        }
        let mut files = Vec::new();
        sources(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let renderer = Renderer::embedded(None).expect("prompts load");
        let mut asked = BTreeSet::new();
        for text in &files {
            let flat: String = text.split_whitespace().collect::<Vec<_>>().join("");
            for call in ["msg(\"", "render_message(\"", "has_message(\"", "=>\"ask-"] {
                let mut rest = flat.as_str();
                while let Some(at) = rest.find(call) {
                    rest = &rest[at + call.len()..];
                    let id: String = rest.chars().take_while(|c| *c != '"').collect();
                    let id = if call.ends_with("ask-") {
                        format!("ask-{id}")
                    } else {
                        id
                    };
                    if id.chars().all(|c| c.is_ascii_lowercase() || c == '-') && !id.is_empty() {
                        asked.insert(id);
                    }
                }
            }
        }
        assert!(
            asked.len() > 40,
            "found only {} ids: {asked:?}",
            asked.len()
        );
        for locale in renderer.locales() {
            for id in &asked {
                assert!(
                    renderer.bundle(locale).ids.contains(id),
                    "`{id}` is asked for but not declared in prompts/{locale}"
                );
            }
        }
        assert!(renderer.message_ids().contains("welcome"));
    }
}
