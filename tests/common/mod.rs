//! Helpers shared by the integration tests: the app on the demo fleet with a fixed clock,
//! in-process or served on a loopback port.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use opsvoice::channel::Assistant;
use opsvoice::channel::ask::AskRequest;
use opsvoice::dialog::{Dialog, Mode};
use opsvoice::nlu::Nlu;
use opsvoice::ops::demo::DemoFleet;
use opsvoice::ops::{Clock, FixedClock};
use opsvoice::speech::Renderer;

/// 2026-11-22T10:00:00Z: the fixtures' day.
pub const NOW: u64 = 1_795_341_600;

pub fn clock() -> Arc<dyn Clock> {
    Arc::new(FixedClock(SystemTime::UNIX_EPOCH + Duration::from_secs(NOW)))
}

pub fn assistant() -> Arc<Assistant> {
    let clock = clock();
    let dialog = Dialog::new(Arc::new(DemoFleet::new(clock.clone())), clock);
    Assistant::new(dialog, Renderer::embedded(None).unwrap(), Nlu::embedded().unwrap())
}

pub struct Reply {
    pub intent: opsvoice::dialog::Intent,
    pub text: String,
    pub ssml: String,
}

pub struct DemoApp {
    pub assistant: Arc<Assistant>,
}

impl DemoApp {
    /// Asks one question in a fresh session.
    pub async fn ask(&self, question: &str, _mode: Mode) -> Reply {
        let r = self
            .assistant
            .ask(AskRequest {
                text: question.to_owned(),
                session_id: None,
            })
            .await
            .unwrap();
        Reply {
            intent: opsvoice::dialog::Intent::parse(&r.intent).unwrap(),
            text: r.text,
            ssml: r.ssml,
        }
    }
}

pub fn demo_app() -> DemoApp {
    DemoApp {
        assistant: assistant(),
    }
}

/// Reads a shared fixture (../shared/fixtures).
pub fn fixture(path: &str) -> serde_json::Value {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/fixtures")
        .join(path);
    let raw = std::fs::read_to_string(&full)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", full.display()));
    serde_json::from_str(&raw).unwrap()
}
