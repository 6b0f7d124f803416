//! Echo Show: the answer on a screen, as an `Alexa.Presentation.APL.RenderDocument`
//! directive, sent only to devices that say they render APL.
//!
//! The document is a data file, `apl/status.json`, embedded at build time and never
//! edited here: the answer goes in the directive's `datasources` (`payload.opsvoice`), so
//! no text of ours or of AWS is spliced into the document. Text bound into it is made
//! inert twice over: `&`, `<` and `>` become the character references APL text markup
//! knows (so an alarm name is never markup), and `$` and `#` become numeric references (so
//! no string ever holds `${` or `#{`, a data-binding expression, wherever APL evaluates
//! data). The sparkline's path is built from numbers alone.

use std::sync::OnceLock;

use serde_json::{Value, json};

use super::System;
use crate::dialog::picture::Sparkline;
use crate::dialog::service_health::Verdict;
use crate::dialog::{Reply, Report};
use crate::speech::render::{Say, n, s};

/// The document every screen answer uses (`apl/status.json`).
pub const DOCUMENT: &str = include_str!("../../../apl/status.json");

/// The interface a device lists in `supportedInterfaces` when it renders APL.
pub const INTERFACE: &str = "Alexa.Presentation.APL";

/// The directive's token: names the document for later events and commands.
pub const TOKEN: &str = "opsvoice-status";

/// The most list lines a screen shows.
const MAX_LINES: usize = 6;
/// The most characters of one text bound into the document (before escaping).
const MAX_CHARS: usize = 200;
/// The sparkline's viewport (`graphics.sparkline` in the document).
const WIDTH: f64 = 600.0;
const HEIGHT: f64 = 120.0;
const MARGIN: f64 = 6.0;

/// The embedded document, parsed once.
///
/// # Panics
/// Never in a build that passed its tests: the document is checked there.
#[must_use]
pub fn document() -> &'static Value {
    static PARSED: OnceLock<Value> = OnceLock::new();
    PARSED.get_or_init(|| {
        #[allow(clippy::expect_used)]
        serde_json::from_str(DOCUMENT).expect("apl/status.json is JSON (a test holds it)")
    })
}

/// `major.minor` of an APL version (`1.9`, `2023.3`) as numbers, which order as the
/// versions do.
fn version(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Whether the device renders APL, and a version at least the document's (a device that
/// says nothing of its version is taken to render it).
#[must_use]
pub fn renders(system: Option<&System>) -> bool {
    let Some(apl) = system
        .and_then(|s| s.device.as_ref())
        .and_then(|d| d.supported_interfaces.get(INTERFACE))
    else {
        return false;
    };
    let wanted = document()["version"].as_str().and_then(version);
    let max = apl["runtime"]["maxVersion"].as_str().and_then(version);
    match (wanted, max) {
        (Some(wanted), Some(max)) => max >= wanted,
        _ => true,
    }
}

/// Text made inert for an APL `Text` component: markup characters and the characters
/// that open a data-binding expression become character references, which APL shows as
/// the characters themselves. Cut to [`MAX_CHARS`] first.
#[must_use]
pub fn inert(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.chars().enumerate() {
        if i == MAX_CHARS {
            out.push('…');
            break;
        }
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '$' => out.push_str("&#36;"),
            '#' => out.push_str("&#35;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// An AVG path through `values`, left to right across the sparkline's viewport, the
/// lowest value at the bottom and the highest at the top (a flat series in the middle).
/// Numbers only. `None` for fewer than two finite values.
#[must_use]
pub fn path(values: &[f64]) -> Option<String> {
    let values: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if values.len() < 2 {
        return None;
    }
    let (low, high) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(*v), h.max(*v)));
    let span = high - low;
    let step = WIDTH / (values.len() - 1) as f64;
    let mut out = String::with_capacity(values.len() * 14);
    for (i, v) in values.iter().enumerate() {
        let x = step * i as f64;
        let y = if span > 0.0 {
            HEIGHT - MARGIN - (v - low) / span * (HEIGHT - 2.0 * MARGIN)
        } else {
            HEIGHT / 2.0
        };
        let verb = if i == 0 { 'M' } else { 'L' };
        out.push_str(&format!("{verb}{x:.1},{y:.1} "));
    }
    out.pop();
    Some(out)
}

/// A service's state as a screen shows it: a word for the Fluent selector and its colour.
fn verdict_status(verdict: Verdict) -> (&'static str, &'static str) {
    match verdict {
        Verdict::Down => ("down", "#D13212"),
        Verdict::Degraded => ("degraded", "#FF9900"),
        Verdict::Deploying => ("deploying", "#0073BB"),
        Verdict::ScaledToZero => ("scaled-to-zero", "#879596"),
        Verdict::Healthy => ("healthy", "#1D8102"),
    }
}

/// The status of an answer a screen shows: a word for the Fluent selector and its colour.
fn status(report: &Report) -> (&'static str, &'static str) {
    match report {
        Report::ServiceHealth(r) => verdict_status(r.verdict),
        Report::ActiveAlarms(r) if r.firing.is_empty() => verdict_status(Verdict::Healthy),
        Report::ActiveAlarms(_) => ("alarm", "#D13212"),
        Report::FleetSummary(r) => match (r.problems.first(), &r.firing) {
            (Some(p), _) => verdict_status(p.verdict),
            (None, Ok(0)) => verdict_status(Verdict::Healthy),
            (None, Ok(_)) => ("alarm", "#D13212"),
            (None, Err(_)) => ("unknown", "#879596"),
        },
        _ => ("unknown", "#879596"),
    }
}

/// The list a screen shows under the headline: its kind and its lines.
fn list(say: &Say<'_>, report: &Report) -> (&'static str, Vec<String>) {
    let alarm = |name: &str, age| {
        say.msg(
            "apl-alarm",
            [("name", s(name.to_owned())), ("age", s(say.duration(age)))],
        )
    };
    match report {
        Report::ServiceHealth(r) => (
            "alarms",
            r.firing
                .iter()
                .flatten()
                .map(|(name, age)| alarm(name, *age))
                .collect(),
        ),
        Report::ActiveAlarms(r) => (
            "alarms",
            r.firing.iter().map(|a| alarm(&a.name, a.age)).collect(),
        ),
        Report::FleetSummary(r) => (
            "services",
            r.problems
                .iter()
                .map(|p| {
                    say.msg(
                        "apl-problem",
                        [
                            ("service", s(p.service.to_string())),
                            ("status", s(status_word(say, verdict_status(p.verdict).0))),
                            ("running", n(p.running)),
                            ("desired", n(p.desired)),
                        ],
                    )
                })
                .collect(),
        ),
        _ => ("alarms", Vec::new()),
    }
}

fn status_word(say: &Say<'_>, status: &str) -> String {
    say.msg("apl-status", [("status", s(status.to_owned()))])
}

/// The `RenderDocument` directive for an answer, when it is one a screen shows
/// (ServiceHealth, ActiveAlarms, FleetSummary answered), with its sparkline if there is one.
/// `say` renders in the chat form (names as written).
#[must_use]
pub fn directive(
    say: &Say<'_>,
    reply: &Reply,
    title: &str,
    headline: &str,
    sparkline: Option<&Sparkline>,
) -> Option<Value> {
    let Reply::Report(
        report @ (Report::ServiceHealth(_) | Report::ActiveAlarms(_) | Report::FleetSummary(_)),
    ) = reply
    else {
        return None;
    };
    let (word, colour) = status(report);
    let (kind, lines) = list(say, report);
    let more = lines.len().saturating_sub(MAX_LINES);
    let mut lines: Vec<String> = lines.iter().take(MAX_LINES).map(|l| inert(l)).collect();
    if more > 0 {
        lines.push(inert(&say.msg("apl-more", [("count", n(more as f64))])));
    }
    let sparkline = sparkline.and_then(|line| {
        let values: Vec<f64> = line.series.points.iter().map(|(_, v)| *v).collect();
        let path = path(&values)?;
        let label = say.msg(
            "apl-sparkline",
            [
                ("metric", s(say.metric_name(line.series.kind))),
                ("service", s(line.service.to_string())),
            ],
        );
        Some(json!({"path": path, "label": inert(&label)}))
    });
    Some(json!({
        "type": "Alexa.Presentation.APL.RenderDocument",
        "token": TOKEN,
        "document": document(),
        "datasources": {
            "payload": {
                "opsvoice": {
                    "title": inert(title),
                    "headline": inert(headline),
                    "status": inert(&status_word(say, word)),
                    "statusColor": colour,
                    "listTitle": inert(&say.msg("apl-list-title", [("kind", s(kind))])),
                    "list": lines,
                    "sparkline": sparkline,
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_text_is_inert_and_reads_the_same() {
        let hostile = "db-${payload.secret}-#{x} \"quoted\" <b>bold</b> & co";
        let out = inert(hostile);
        for bad in ["${", "#{", "<", ">", "\""] {
            if bad == "\"" {
                continue; // quotes are data in JSON, and no expression is left to end
            }
            assert!(!out.contains(bad), "{bad} in {out}");
        }
        // What APL shows: the references decoded.
        let shown = out
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&#36;", "$")
            .replace("&#35;", "#")
            .replace("&amp;", "&");
        assert_eq!(shown, hostile);
        assert_eq!(inert("a\u{7}b"), "a b");
        assert!(inert(&"x".repeat(500)).chars().count() <= MAX_CHARS + 1);
    }

    #[test]
    fn the_path_spans_the_viewport_low_at_the_bottom() {
        let p = path(&[1.0, 3.0, 2.0]).unwrap();
        assert_eq!(p, "M0.0,114.0 L300.0,6.0 L600.0,60.0");
        assert_eq!(path(&[5.0, 5.0]).unwrap(), "M0.0,60.0 L600.0,60.0");
        assert_eq!(path(&[1.0]), None);
        assert_eq!(path(&[f64::NAN, 1.0]), None);
        assert!(
            path(&[0.0, 1.0, 2.0])
                .unwrap()
                .chars()
                .all(|c| c.is_ascii_digit() || " .,ML".contains(c))
        );
    }

    #[test]
    fn versions_order_as_apl_versions_do() {
        assert!(version("2023.3") > version("1.9"));
        assert!(version("1.10") > version("1.9"));
        assert_eq!(version("x"), None);
    }
}
