//! How well the local NLU understands people: `opsvoice nlu eval FILE` runs it over a TSV of
//! labelled phrasings (`intent`, `slots`, `text`) and reports accuracy, per-intent
//! precision and recall, the confusions, and every miss.
//!
//! Slots are compared by meaning, not spelling: a window or a duration is its length in
//! seconds (`3600`, "the last hour" and "an hour" are the same), a count its number (`12`,
//! "twelve", "a dozen"), a metric its kind ("cpu" and "CPU usage"), a name its words, case
//! aside.

use std::collections::BTreeMap;
use std::fmt;

use super::{ACTION_INTENTS, Nlu, Understanding};
use crate::ops::{Catalog, MetricKind};
use crate::vocab::{Intent, Slot, Slots};

/// One labelled phrasing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// The line it came from (1-based), for the report.
    pub line: usize,
    pub intent: Intent,
    pub slots: Slots,
    pub text: String,
}

/// A line of the file that is not a labelled phrasing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CaseError {
    #[error("line {line}: {fields} tab-separated fields, not 3 (intent, slots, text)")]
    Fields { line: usize, fields: usize },
    #[error("line {line}: `{name}` is not an intent")]
    Intent { line: usize, name: String },
    #[error("line {line}: `{pair}` is not a slot=value pair of a known slot")]
    Slot { line: usize, pair: String },
    #[error("line {line}: the text is empty")]
    Empty { line: usize },
}

/// Reads the TSV: a header line `intent<TAB>slots<TAB>text` before the first case is
/// skipped, as are blank lines and lines starting with `#`; `slots` is `-` or `name=value`
/// pairs joined by `,`.
///
/// # Errors
/// The first line that is not a labelled phrasing.
pub fn parse_cases(tsv: &str) -> Result<Vec<Case>, CaseError> {
    let mut cases = Vec::new();
    for (i, raw) in tsv.lines().enumerate() {
        let line = i + 1;
        if raw.trim().is_empty()
            || raw.starts_with('#')
            || (cases.is_empty() && raw.starts_with("intent\t"))
        {
            continue;
        }
        let fields: Vec<&str> = raw.split('\t').collect();
        let [intent, slots, text] = fields[..] else {
            return Err(CaseError::Fields {
                line,
                fields: fields.len(),
            });
        };
        let intent = Intent::parse(intent.trim()).ok_or_else(|| CaseError::Intent {
            line,
            name: intent.to_owned(),
        })?;
        let mut parsed = Slots::new();
        for pair in slots
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty() && *p != "-")
        {
            let (slot, value) = pair
                .split_once('=')
                .and_then(|(name, value)| Some((Slot::parse(name.trim())?, value.trim())))
                .filter(|(_, value)| !value.is_empty())
                .ok_or_else(|| CaseError::Slot {
                    line,
                    pair: pair.to_owned(),
                })?;
            parsed.insert(slot, value.to_owned());
        }
        if text.trim().is_empty() {
            return Err(CaseError::Empty { line });
        }
        cases.push(Case {
            line,
            intent,
            slots: parsed,
            text: text.trim().to_owned(),
        });
    }
    Ok(cases)
}

/// A slot value reduced to what it means, so that spellings of the same value compare equal.
fn meaning(slot: Slot, value: &str) -> String {
    match slot {
        Slot::Window => value
            .trim()
            .parse::<u64>()
            .ok()
            .or_else(|| crate::dialog::parse_window(value).map(|d| d.as_secs()))
            .map_or_else(|| value.to_ascii_lowercase(), |s| s.to_string()),
        // A duration in seconds or words: `1800` is "half an hour" and "30m"; an end time
        // by the length it gives from one fixed moment ("until tomorrow morning" is
        // "tomorrow morning").
        Slot::Duration => value
            .trim()
            .parse::<u64>()
            .ok()
            .or_else(|| {
                let then = std::time::UNIX_EPOCH + crate::dialog::slots::SOME_MOMENT;
                crate::dialog::parse_silence_length(value, then).map(|d| d.as_secs())
            })
            .map_or_else(|| value.to_ascii_lowercase(), |s| s.to_string()),
        // A count in digits or words: `12` is "twelve" and "a dozen".
        Slot::Count => crate::dialog::parse_count(value)
            .map_or_else(|| value.to_ascii_lowercase(), |n| n.to_string()),
        Slot::Metric => MetricKind::parse(value)
            .map_or_else(|| value.to_ascii_lowercase(), |m| m.slot_value().to_owned()),
        _ => crate::dialog::resolve::words(value).join(" "),
    }
}

/// Whether two sets of slots mean the same (a window in seconds or words, a metric by any
/// of its names, a name by its words).
#[must_use]
pub fn same_slots(expected: &Slots, got: &Slots) -> bool {
    same_slots_among(expected, got, &[], &[], &[])
}

/// [`same_slots`], with an alarm compared by the alarm the dialog takes it for: "checkout
/// 5xx" is `checkout-5xx-rate-high` when the dialog, looking among the `firing` alarms and
/// then those of `all` named alike, would act on that one without asking which.
#[must_use]
pub fn same_slots_among(
    expected: &Slots,
    got: &Slots,
    services: &[&str],
    firing: &[String],
    all: &[String],
) -> bool {
    let alarm = |slots: &Slots, value: &str| {
        crate::dialog::resolve::alarm_named(value, slots.get(&Slot::Service), services, firing, all)
            .map_or_else(
                || meaning(Slot::Alarm, value),
                |name| meaning(Slot::Alarm, name),
            )
    };
    expected.len() == got.len()
        && expected.iter().all(|(slot, value)| {
            got.get(slot).is_some_and(|g| match slot {
                Slot::Alarm => alarm(got, g) == alarm(expected, value),
                _ => meaning(*slot, g) == meaning(*slot, value),
            })
        })
}

/// What a run found.
#[derive(Debug, Default)]
pub struct Report {
    pub cases: usize,
    /// Cases whose intent was right.
    pub intent_right: usize,
    /// Cases whose intent and every slot were right.
    pub all_right: usize,
    /// Per intent: (true positives, false positives, false negatives).
    pub per_intent: BTreeMap<&'static str, (usize, usize, usize)>,
    /// (expected, got) → count, for the cases whose intent was wrong.
    pub confusion: BTreeMap<(&'static str, &'static str), usize>,
    /// Every case not fully right, with what was understood.
    pub misses: Vec<(Case, Understanding)>,
    /// Out-of-domain and unsupported-action requests, and how many were understood as
    /// one or the other.
    pub refusals: (usize, usize),
    /// Unsupported actions answered as a question intent (the worst miss: it answers
    /// something nobody asked).
    pub actions_answered: usize,
    /// Requests that are not for an action taken as one (as bad: it offers to change
    /// something nobody asked to change).
    pub taken_as_actions: usize,
    /// Of those, questions (a question intent expected) taken as an action: the read-back
    /// would offer to change what was only asked about.
    pub questions_taken_as_actions: usize,
}

fn refused(intent: Intent) -> bool {
    matches!(intent, Intent::Fallback | Intent::UnsupportedAction)
}

impl Report {
    /// Intent and slots both right, over all cases (0 to 1).
    #[must_use]
    pub fn accuracy(&self) -> f64 {
        ratio(self.all_right, self.cases)
    }

    /// Intent right, over all cases (0 to 1).
    #[must_use]
    pub fn intent_accuracy(&self) -> f64 {
        ratio(self.intent_right, self.cases)
    }
}

fn ratio(n: usize, of: usize) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

/// Runs `nlu` over `cases`, recognising names from `catalog` and `alarms` (the firing ones, as
/// /v1/ask does); an alarm understood is the one the dialog finds among those and `all`.
#[must_use]
pub fn evaluate(
    nlu: &Nlu,
    catalog: &Catalog,
    alarms: &[String],
    all: &[String],
    cases: &[Case],
) -> Report {
    let services: Vec<&str> = catalog.services.iter().map(|s| s.name.as_str()).collect();
    let mut report = Report {
        cases: cases.len(),
        ..Report::default()
    };
    for case in cases {
        let mut got = nlu.understand(&case.text, catalog, alarms, None);
        // A no, a cancel and a stop are one answer to the read-back, the one place a bare
        // answer acts (each drops the action): "cancel that" labelled a no is right.
        let declines = |i: Intent| matches!(i, Intent::No | Intent::Cancel | Intent::Stop);
        if declines(case.intent) && declines(got.intent) {
            got.intent = case.intent;
        }
        let (want, have) = (case.intent.name(), got.intent.name());
        if got.intent == case.intent {
            report.intent_right += 1;
            report.per_intent.entry(want).or_default().0 += 1;
        } else {
            report.per_intent.entry(want).or_default().2 += 1;
            report.per_intent.entry(have).or_default().1 += 1;
            *report.confusion.entry((want, have)).or_default() += 1;
        }
        if refused(case.intent) {
            report.refusals.0 += 1;
            report.refusals.1 += usize::from(refused(got.intent));
        }
        // The registry's intents less the actions and the refusal: the questions.
        let question = |i: Intent| {
            Intent::QUESTIONS.contains(&i)
                && !ACTION_INTENTS.contains(&i)
                && i != Intent::UnsupportedAction
        };
        if case.intent == Intent::UnsupportedAction && question(got.intent) {
            report.actions_answered += 1;
        }
        if !ACTION_INTENTS.contains(&case.intent) && ACTION_INTENTS.contains(&got.intent) {
            report.taken_as_actions += 1;
            if question(case.intent) {
                report.questions_taken_as_actions += 1;
            }
        }
        // A refusal is compared by the service it names: its answer uses nothing else (the
        // writers of the splits disagree on labelling a cluster there, and it changes no
        // word of what is said).
        let compared = |slots: &Slots| -> Slots {
            if case.intent == Intent::UnsupportedAction {
                slots
                    .iter()
                    .filter(|(s, _)| **s == Slot::Service)
                    .map(|(s, v)| (*s, v.clone()))
                    .collect()
            } else {
                slots.clone()
            }
        };
        if got.intent == case.intent
            && same_slots_among(
                &compared(&case.slots),
                &compared(&got.slots),
                &services,
                alarms,
                all,
            )
        {
            report.all_right += 1;
        } else {
            report.misses.push((case.clone(), got));
        }
    }
    report
}

/// How the matcher would do at other confidence thresholds: `(threshold, intent and
/// slots right, out-of-domain recognised)`, each 0 to 1.
#[must_use]
pub fn sweep(
    nlu: &Nlu,
    catalog: &Catalog,
    alarms: &[String],
    all: &[String],
    cases: &[Case],
) -> Vec<(f64, f64, f64)> {
    (4..=16)
        .map(|step| {
            let threshold = f64::from(step) * 0.05;
            let tuned = nlu.clone().with_threshold(threshold);
            let report = evaluate(&tuned, catalog, alarms, all, cases);
            (
                threshold,
                report.accuracy(),
                ratio(report.refusals.1, report.refusals.0),
            )
        })
        .collect()
}

fn slots_text(slots: &Slots) -> String {
    if slots.is_empty() {
        return "-".to_owned();
    }
    slots
        .iter()
        .map(|(slot, value)| format!("{}={value}", slot.name()))
        .collect::<Vec<_>>()
        .join(",")
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} phrasings: intent and slots right {} ({:.1}%), intent right {} ({:.1}%)\n",
            self.cases,
            self.all_right,
            100.0 * self.accuracy(),
            self.intent_right,
            100.0 * self.intent_accuracy()
        )?;
        writeln!(
            f,
            "out-of-domain and unsupported actions recognised as such: {} of {} ({:.1}%); unsupported actions answered as a question: {}; other requests taken as an action: {} (questions: {})\n",
            self.refusals.1,
            self.refusals.0,
            100.0 * ratio(self.refusals.1, self.refusals.0),
            self.actions_answered,
            self.taken_as_actions,
            self.questions_taken_as_actions
        )?;
        writeln!(f, "| intent | precision | recall | cases |")?;
        writeln!(f, "| --- | --- | --- | --- |")?;
        for (intent, (tp, fp, fn_)) in &self.per_intent {
            let cases = tp + fn_;
            let precision = if tp + fp == 0 {
                "-".to_owned()
            } else {
                format!("{:.0}%", 100.0 * ratio(*tp, tp + fp))
            };
            let recall = if cases == 0 {
                "-".to_owned()
            } else {
                format!("{:.0}%", 100.0 * ratio(*tp, cases))
            };
            writeln!(f, "| {intent} | {precision} | {recall} | {cases} |")?;
        }
        if !self.confusion.is_empty() {
            writeln!(f, "\n| expected | understood as | cases |")?;
            writeln!(f, "| --- | --- | --- |")?;
            let mut confusion: Vec<_> = self.confusion.iter().collect();
            confusion.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            for ((want, got), n) in confusion {
                writeln!(f, "| {want} | {got} | {n} |")?;
            }
        }
        if !self.misses.is_empty() {
            writeln!(f, "\nmisses (line: text -> understood; expected):")?;
            for (case, got) in &self.misses {
                writeln!(
                    f,
                    "  {}: {:?} -> {} {} ({:.2}); expected {} {}",
                    case.line,
                    case.text,
                    got.intent.name(),
                    slots_text(&got.slots),
                    got.confidence,
                    case.intent.name(),
                    slots_text(&case.slots)
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_file_is_read_or_refused_with_its_line() {
        let tsv = "intent\tslots\ttext\n# a comment\n\nServiceHealth\tservice=checkout,cluster=prod\thow is checkout in prod\nFallbackIntent\t-\twhat's the weather\n";
        let cases = parse_cases(tsv).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].line, 4);
        assert_eq!(cases[0].slots.get(&Slot::Cluster).unwrap(), "prod");
        assert!(cases[1].slots.is_empty());
        assert_eq!(
            parse_cases("ServiceHealth\thow is checkout"),
            Err(CaseError::Fields { line: 1, fields: 2 })
        );
        assert_eq!(
            parse_cases("Weather\t-\tsunny?"),
            Err(CaseError::Intent {
                line: 1,
                name: "Weather".to_owned()
            })
        );
        assert_eq!(
            parse_cases("ServiceHealth\tcolour=red\thow is checkout"),
            Err(CaseError::Slot {
                line: 1,
                pair: "colour=red".to_owned()
            })
        );
    }

    #[test]
    fn slots_compare_by_meaning() {
        let slots = |pairs: &[(Slot, &str)]| -> Slots {
            pairs.iter().map(|(s, v)| (*s, (*v).to_owned())).collect()
        };
        assert!(same_slots(
            &slots(&[(Slot::Window, "3600"), (Slot::Metric, "cpu")]),
            &slots(&[(Slot::Window, "the last hour"), (Slot::Metric, "CPU")]),
        ));
        assert!(same_slots(
            &slots(&[(Slot::Service, "payments-api")]),
            &slots(&[(Slot::Service, "Payments API")]),
        ));
        assert!(!same_slots(
            &slots(&[(Slot::Service, "payments-api")]),
            &slots(&[(Slot::Service, "payments")]),
        ));
        assert!(same_slots(
            &slots(&[(Slot::Duration, "1800"), (Slot::Count, "12")]),
            &slots(&[(Slot::Duration, "half an hour"), (Slot::Count, "a dozen")]),
        ));
        assert!(same_slots(
            &slots(&[(Slot::Duration, "an hour"), (Slot::Count, "5")]),
            &slots(&[(Slot::Duration, "for 60 minutes"), (Slot::Count, "five")]),
        ));
        assert!(!same_slots(
            &slots(&[(Slot::Duration, "an hour")]),
            &slots(&[(Slot::Duration, "two hours")]),
        ));
        assert!(!same_slots(
            &slots(&[(Slot::Count, "5")]),
            &slots(&[(Slot::Count, "6")]),
        ));
        assert!(!same_slots(
            &slots(&[(Slot::Service, "cart")]),
            &slots(&[(Slot::Service, "cart"), (Slot::Cluster, "prod")]),
        ));
    }

    #[test]
    fn an_alarm_compares_as_the_alarm_the_dialog_finds() {
        let alarm = |v: &str| -> Slots { [(Slot::Alarm, v.to_owned())].into_iter().collect() };
        let firing = vec!["checkout-p99-latency-high".to_owned()];
        let all = vec![
            "checkout-p99-latency-high".to_owned(),
            "checkout-5xx-rate-high".to_owned(),
        ];
        let want = alarm("checkout-5xx-rate-high");
        assert!(same_slots_among(
            &want,
            &alarm("checkout 5xx"),
            &[],
            &firing,
            &all
        ));
        assert!(!same_slots_among(
            &want,
            &alarm("checkout p99"),
            &[],
            &firing,
            &all
        ));
        // Without the fleet's alarms, only the words compare.
        assert!(!same_slots(&want, &alarm("checkout 5xx")));
    }

    #[test]
    fn a_run_counts_each_kind_of_miss() {
        let nlu = Nlu::embedded().unwrap();
        let catalog = Catalog {
            clusters: vec!["prod".into()],
            services: vec![crate::ops::ServiceRef::new("prod", "checkout")],
        };
        let cases = parse_cases(
            "ServiceHealth\tservice=checkout\thow is checkout doing\n\
             ServiceHealth\tservice=checkout,cluster=prod\thow is checkout doing\n",
        )
        .unwrap();
        let report = evaluate(&nlu, &catalog, &[], &[], &cases);
        assert_eq!(report.cases, 2);
        assert_eq!(report.intent_right, 2);
        // The second expects a cluster the text never names: a slot miss.
        assert_eq!(report.all_right, 1);
        assert_eq!(report.misses.len(), 1);
        assert!(report.to_string().contains("50.0%"), "{report}");
    }

    /// The held-out splits, which training never reads: the figures the README states, as a
    /// floor (a change to the model or the samples that loses ground fails here).
    #[tokio::test]
    async fn the_held_out_splits_score_what_the_readme_says() {
        use crate::ops::OpsSource as _;
        let clock = std::sync::Arc::new(crate::ops::FixedClock(
            std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_341_600),
        ));
        let demo = crate::ops::demo::DemoFleet::new(clock);
        let catalog = demo.catalog().await.unwrap();
        let alarms: Vec<String> = demo
            .firing_alarms()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        let all: Vec<String> = demo
            .all_alarms()
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.name)
            .collect();
        for (split, tsv, floor) in [
            ("test", include_str!("../../tests/nlu/test.tsv"), 0.96),
            ("unseen", include_str!("../../tests/nlu/unseen.tsv"), 0.97),
            ("final", include_str!("../../tests/nlu/final.tsv"), 0.96),
        ] {
            let cases = parse_cases(tsv).unwrap();
            assert!(cases.len() >= 250, "{split}");
            let report = evaluate(&Nlu::embedded().unwrap(), &catalog, &alarms, &all, &cases);
            assert!(report.accuracy() >= floor, "{split}: {report}");
            assert!(
                ratio(report.refusals.1, report.refusals.0) >= 0.95,
                "{split}: {report}"
            );
            assert_eq!(report.actions_answered, 0, "{split}: {report}");
            assert_eq!(report.taken_as_actions, 0, "{split}: {report}");
        }
        // The acting splits: no question is ever read back as an action, and the floors
        // under their figures now (tuning splits all: their misses have been read).
        for (split, tsv, floor) in [
            (
                "act-dev3",
                include_str!("../../tests/nlu/act-dev3.tsv"),
                0.96,
            ),
            (
                "act-dev4",
                include_str!("../../tests/nlu/act-dev4.tsv"),
                0.98,
            ),
            (
                "act-dev5",
                include_str!("../../tests/nlu/act-dev5.tsv"),
                0.96,
            ),
            (
                "act-dev6",
                include_str!("../../tests/nlu/act-dev6.tsv"),
                0.95,
            ),
            (
                "act-dev7",
                include_str!("../../tests/nlu/act-dev7.tsv"),
                0.95,
            ),
            (
                "act-dev8",
                include_str!("../../tests/nlu/act-dev8.tsv"),
                0.95,
            ),
            (
                "act-dev9",
                include_str!("../../tests/nlu/act-dev9.tsv"),
                0.96,
            ),
            (
                "act-dev10",
                include_str!("../../tests/nlu/act-dev10.tsv"),
                0.95,
            ),
        ] {
            let cases = parse_cases(tsv).unwrap();
            let report = evaluate(&Nlu::embedded().unwrap(), &catalog, &alarms, &all, &cases);
            assert!(report.accuracy() >= floor, "{split}: {report}");
            assert_eq!(report.questions_taken_as_actions, 0, "{split}: {report}");
        }
        // The held-out acting splits (each scored once clean, 96.7%; misses unread): the
        // issue's bar, 95% in domain and 95% of refusals, and no question read back.
        for (split, tsv) in [
            (
                "act-final10",
                include_str!("../../tests/nlu/act-final10.tsv"),
            ),
            (
                "act-final11",
                include_str!("../../tests/nlu/act-final11.tsv"),
            ),
        ] {
            let cases = parse_cases(tsv).unwrap();
            assert_eq!(cases.len(), 300, "{split}");
            let report = evaluate(&Nlu::embedded().unwrap(), &catalog, &alarms, &all, &cases);
            assert!(report.accuracy() >= 0.96, "{split}: {report}");
            assert!(
                ratio(report.refusals.1, report.refusals.0) >= 0.95,
                "{split}: {report}"
            );
            assert_eq!(report.questions_taken_as_actions, 0, "{split}: {report}");
        }
    }
}
