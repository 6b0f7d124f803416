//! Words with Project Fluent: the prompts, loaded and checked, and [`Say`], the formatting
//! every answer's sentences share (names in their spoken form for voice and exact for chat,
//! durations, lists, values, console links, card buttons). Each intent's sentences live
//! with its handler in `dialog/`, and `dialog/render.rs` puts an answer together.
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
use crate::ops::{MetricKind, MetricUnit, ServiceRef};
use crate::vocab::Mode;

pub use crate::embedded::PROMPTS;

/// The locale used when a turn's locale has no prompts.
pub const DEFAULT_LOCALE: &str = "en-US";

/// Spoken answers aim for about this many words (the README: a voice answer leads with the
/// verdict and stays short)...
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
    /// Whether the spoken form is wanted.
    #[must_use]
    pub fn voice(self) -> bool {
        matches!(self, Forms::Voice | Forms::Both)
    }

    /// Whether the chat form is wanted.
    #[must_use]
    pub fn text(self) -> bool {
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
    /// The chat list lines and console links that follow the sentences in `text`.
    pub extras: Vec<String>,
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

    /// The words of `locale` (or the default locale) in `mode`.
    #[must_use]
    pub fn say(&self, locale: &str, mode: Mode) -> Say<'_> {
        Say {
            bundle: self.bundle(locale),
            mode,
            region: self.region.as_deref(),
        }
    }

    /// One message with no arguments, as spoken (e.g. the "What else?" reprompt).
    #[must_use]
    pub fn render_message(&self, id: &str, locale: &str) -> String {
        self.say(locale, Mode::Voice).msg(id, [])
    }
}

/// Rendering for one surface.
/// Words in one locale and one mode: the formatting every answer's sentences share (names
/// as spoken or as written, durations, lists, values, console links, card buttons).
pub struct Say<'b> {
    bundle: &'b Prompts,
    mode: Mode,
    region: Option<&'b str>,
}

/// A string argument for a message.
pub fn s(v: impl Into<String>) -> FluentValue<'static> {
    FluentValue::from(v.into())
}

/// A number argument for a message.
pub fn n(v: impl Into<f64>) -> FluentValue<'static> {
    FluentValue::from(v.into())
}

impl Say<'_> {
    pub fn voice(&self) -> bool {
        self.mode == Mode::Voice
    }

    pub fn msg<'a>(
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
        let mut fluent_args: FluentArgs<'a> = FluentArgs::new();
        for (name, value) in args {
            // Every text argument also comes as `has-<name>`, `yes` or `no`, so a message
            // can leave out the words around a value that is empty (Fluent's variant keys
            // cannot be the empty string).
            if let FluentValue::String(text) = &value {
                let has = if text.is_empty() { "no" } else { "yes" };
                fluent_args.set(format!("has-{name}"), FluentValue::from(has));
            }
            fluent_args.set(name, value);
        }
        let mut errors = Vec::new();
        let out = bundle.format_pattern(pattern, Some(&fluent_args), &mut errors);
        if !errors.is_empty() {
            tracing::error!(id, ?errors, "prompt failed to format");
        }
        out.into_owned()
    }

    /// A service, alarm or cluster name as this surface should show it.
    pub fn name(&self, raw: &str) -> String {
        if self.voice() {
            spoken_name(raw)
        } else {
            raw.to_owned()
        }
    }

    pub fn service(&self, service: &ServiceRef) -> String {
        self.name(&service.name)
    }

    pub fn taskdef(&self, task_definition: &str) -> String {
        if self.voice() {
            match task_definition.rsplit_once(':') {
                Some((_, rev)) => self.msg("task-definition", [("revision", s(rev))]),
                None => spoken_name(task_definition),
            }
        } else {
            task_definition.to_owned()
        }
    }

    pub fn duration(&self, d: Duration) -> String {
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

    /// A time of day, UTC ("14:02 UTC"), from seconds since the epoch.
    pub fn clock(&self, at: i64) -> String {
        let day = at.rem_euclid(86_400);
        self.msg(
            "clock",
            [(
                "time",
                s(format!("{:02}:{:02}", day / 3600, (day % 3600) / 60)),
            )],
        )
    }

    pub fn window(&self, d: Duration) -> String {
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
    pub fn list(&self, items: &[String], max: usize) -> String {
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

    pub fn options(&self, items: &[String]) -> String {
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

    pub fn value(&self, unit: MetricUnit, v: f64) -> String {
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

    pub fn metric_name(&self, kind: MetricKind) -> String {
        self.msg("metric-name", [("metric", s(kind.slot_value()))])
    }

    pub fn max_items(&self, detail: bool) -> usize {
        match (self.voice(), detail) {
            (true, false) => 3,
            (true, true) => 6,
            (false, _) => 12,
        }
    }

    pub fn region_query(&self) -> String {
        self.region
            .map(|r| format!("?region={r}"))
            .unwrap_or_default()
    }

    pub fn ecs_url(&self, service: &ServiceRef) -> String {
        format!(
            "https://console.aws.amazon.com/ecs/v2/clusters/{}/services/{}/health{}",
            utf8_percent_encode(&service.cluster, NON_ALPHANUMERIC),
            utf8_percent_encode(&service.name, NON_ALPHANUMERIC),
            self.region_query()
        )
    }

    pub fn alarms_url(&self) -> String {
        format!(
            "https://console.aws.amazon.com/cloudwatch/home{}#alarmsV2:?~(state~'ALARM)",
            self.region_query()
        )
    }

    pub fn alarm_url(&self, name: &str) -> String {
        format!(
            "https://console.aws.amazon.com/cloudwatch/home{}#alarmsV2:alarm/{}",
            self.region_query(),
            utf8_percent_encode(name, NON_ALPHANUMERIC)
        )
    }

    /// A card button labelled with message `label` that says `value` when pressed.
    pub fn button(&self, label: &str, value: String) -> Button {
        Button {
            text: self.msg(label, []),
            value,
        }
    }

    /// Message `id` about `service`, by its exact name (what a button says back).
    pub fn about(&self, id: &str, service: &ServiceRef) -> String {
        self.msg(id, [("service", s(service.name.clone()))])
    }

    /// What a button asking for `kind` of `service` says.
    pub fn asking_metric(&self, service: &ServiceRef, kind: MetricKind) -> String {
        self.msg(
            "say-metric",
            [
                ("metric", s(kind.slot_value())),
                ("service", s(service.name.clone())),
            ],
        )
    }

    /// Message `id` (which takes `age` and `event`) for an ECS service event `age` ago,
    /// the event made a sentence with its subject.
    pub fn event(&self, id: &str, event: &str, age: Duration) -> String {
        self.msg(
            id,
            [
                ("age", s(self.duration(age))),
                ("event", s(event_sentence(event, |name| self.name(name)))),
            ],
        )
    }

    /// The line linking to `service` in the ECS console.
    pub fn service_console(&self, service: &ServiceRef) -> String {
        self.msg("console-service", [("url", s(self.ecs_url(service)))])
    }

    /// The "tell me more" button.
    pub fn more(&self) -> Button {
        self.button("button-more", self.msg("say-more", []))
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
pub fn event_sentence(message: &str, name: impl Fn(&str) -> String) -> String {
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
