//! SSML is always valid: every demo answer, and arbitrary strings (names from AWS are free
//! text) through the builder and through the renderer, parse as XML under one `<speak>`,
//! use only Polly-neural-safe tags, keep the text intact, and stay within Polly's limits.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed

use crate::common;

use std::time::Duration;

use opsvoice::dialog::active_alarms::{Firing, Report};
use opsvoice::dialog::{Answer, Intent, Mode, Move, Reply, Turn};
use opsvoice::ops::{AlarmKind, ServiceRef};
use opsvoice::speech::ssml::{POLLY_MAX_TEXT, POLLY_MAX_TOTAL};
use opsvoice::speech::{Engine, Renderer, SsmlBuilder};
use proptest::prelude::*;

/// What the builder keeps of a string: no XML-forbidden characters, whitespace collapsed.
fn cleaned(s: &str) -> String {
    s.chars()
        .filter(|c| (!c.is_control() || c.is_whitespace()) && !matches!(c, '\u{FFFE}' | '\u{FFFF}'))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(common::cases(512)))]

    #[test]
    fn any_text_becomes_valid_escaped_ssml(parts in prop::collection::vec(any::<String>(), 1..6)) {
        let mut builder = SsmlBuilder::new(Engine::PollyNeural);
        let mut kept = Vec::new();
        for p in &parts {
            if builder.sentence(p) {
                let c = cleaned(p);
                if !c.is_empty() {
                    kept.push(c);
                }
            }
        }
        let expected = kept.join(" ");
        let ssml = builder.build();
        let text = common::assert_valid_ssml(ssml.as_str());
        if !expected.ends_with('…') {
            prop_assert!(text.starts_with(expected.trim_end_matches('…')));
        }
    }

    #[test]
    fn markup_heavy_names_survive_the_renderer(
        names in prop::collection::vec("[a-z<>&\"' -]{1,40}|\\PC{1,30}", 1..8),
        service in "[a-z<>&\"'-]{1,30}",
    ) {
        let renderer = Renderer::embedded(None).unwrap();
        let turn = Turn::new(Intent::ActiveAlarms, Mode::Voice);
        let firing = names
            .iter()
            .map(|n| Firing {
                name: n.clone(),
                kind: AlarmKind::Metric,
                age: Duration::from_secs(600),
                service: Some(ServiceRef::new("prod", service.clone())),
                account: None,
            })
            .collect();
        let answer = Answer::to(
            &turn,
            Reply::from(Report { cluster: None, service: None, firing, account: None }),
            Move::Close,
        );
        let rendered = renderer.render(&answer, "en-US", opsvoice::speech::Forms::Voice);
        let ssml = rendered.ssml(Engine::PollyNeural, POLLY_MAX_TOTAL, POLLY_MAX_TEXT);
        let text = common::assert_valid_ssml(ssml.as_str());
        prop_assert!(text.contains("alarm"));
        // The first name is spoken, with its markup characters intact.
        let first = opsvoice::speech::render::spoken_name(&names[0]);
        let first = cleaned(&first);
        prop_assert!(first.is_empty() || text.contains(&first), "{} not in {}", first, text);
    }
}

#[test]
fn limits_hold_for_a_huge_answer() {
    let mut builder = SsmlBuilder::new(Engine::PollyNeural);
    for i in 0..2000 {
        builder.sentence(&format!("alarm {i} <&> is firing"));
    }
    assert!(builder.truncated());
    let ssml = builder.build();
    common::assert_valid_ssml(ssml.as_str());
}

#[tokio::test]
async fn every_demo_answer_is_valid_ssml_within_the_word_budget() {
    let app = common::demo_app();
    for question in [
        "how is checkout doing",
        "is recommendations healthy",
        "did pricing roll back",
        "is the payments api deploy done",
        "any alarms firing",
        "what's on fire in prod",
        "why is the shipping carrier timeouts alarm firing",
        "what's the cpu of ml scoring",
        "how's the fleet",
        "what changed in the last 2 hours",
        "help",
        "how is sender doing",
        "how is redis proxy",
        "blah blah",
    ] {
        let reply = app.ask(question).await;
        let text = common::assert_valid_ssml(&reply.ssml);
        assert!(!text.is_empty(), "{question}");
        let words = text.split_whitespace().count();
        assert!(words <= 40, "{question}: {words} words: {text}");
    }
}

/// Every held-out phrasing answered as a voice user hears it: the median answer at or
/// under 25 words, and none over 40 (the demo fleet at its busiest: seven alarms firing, a
/// rollback, a deploy under way).
#[tokio::test]
async fn held_out_phrasings_are_answered_briefly() {
    let app = common::demo_app();
    let mut counts = Vec::new();
    for split in ["test.tsv", "unseen.tsv", "final.tsv"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/nlu")
            .join(split);
        let tsv = std::fs::read_to_string(&path).unwrap();
        for case in opsvoice::nlu::eval::parse_cases(&tsv).unwrap() {
            let text = &case.text;
            let reply = app.ask(text).await;
            let spoken = common::assert_valid_ssml(&reply.ssml);
            let words = spoken.split_whitespace().count();
            assert!(words <= 40, "{text}: {words} words: {spoken}");
            counts.push(words);
        }
    }
    assert!(counts.len() >= 850, "{} phrasings", counts.len());
    counts.sort_unstable();
    let median = counts[counts.len() / 2];
    assert!(median <= 25, "median {median} words");
    eprintln!(
        "{} answers: median {median} words, longest {}",
        counts.len(),
        counts.last().unwrap()
    );
}
