//! Logs and metrics: a tracing subscriber (pretty locally, JSON in Lambda or when asked)
//! and the process-wide Prometheus recorder behind `/metrics`.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the tracing subscriber. `RUST_LOG` sets the filter (default `info`).
/// Calling it twice is harmless (the second call does nothing).
pub fn init(format: LogFormat) {
    init_with(format, "info");
}

/// Like [`init`], with another default level (the CLI's `ask` only wants warnings).
pub fn init_with(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // `try_init` also routes the `log` records of dependencies into the subscriber.
    let _ = tracing_subscriber::util::SubscriberInitExt::try_init(subscriber(
        format,
        filter,
        ansi,
        std::io::stderr,
    ));
}

/// The subscriber [`init`] installs, writing to `writer` (tests capture it).
///
/// Every field value is written escaped in both formats, because field values carry what
/// callers sent (slot values, intent names, attribute keys, token headers): JSON escapes
/// by its nature, and the pretty format escapes control characters (a newline cannot
/// start a forged log line, an ANSI escape cannot reach the terminal).
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    ansi: bool,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    use tracing_subscriber::field::MakeExt;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(writer);
    match format {
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .finish(),
        ),
        LogFormat::Pretty => Box::new(
            builder
                .compact()
                .fmt_fields(
                    tracing_subscriber::fmt::format::debug_fn(|w, field, value| {
                        let raw = format!("{value:?}");
                        let text = escape_controls(&raw);
                        if field.name() == "message" {
                            write!(w, "{text}")
                        } else {
                            write!(w, "{field}={text}")
                        }
                    })
                    .delimited(" "),
                )
                .finish(),
        ),
    }
}

/// `text` with every control character (and the Unicode line, paragraph and direction
/// marks that can disguise a line) written as an escape, so it stays on one line and
/// reads as it is.
#[must_use]
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let suspicious = |c: char| {
        c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(suspicious) {
        return text.into();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if suspicious(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// Latency buckets, in seconds, for the request and answer histograms.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The Prometheus handle, installing the global recorder on first use.
///
/// The recorder is process-wide (the `metrics` macros need one), so every app built in
/// this process shares it.
pub fn metrics() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics may be empty");
            }
            handle
        })
        .clone()
}

/// Keeps the recorder's memory bounded: histogram samples are held until upkeep folds
/// them into buckets, and `install_recorder` leaves upkeep to us. Without it a server that
/// is never scraped grows with every request (seen in a soak: RSS +44% in a minute).
/// It runs every second so each pass is short (a pass folds every sample since the last,
/// about 17 000 per second per histogram under load, on a worker thread), rather than
/// one long pass every 5 s.
/// Needs a Tokio runtime; the task lives as long as the runtime.
pub fn spawn_upkeep(handle: PrometheusHandle) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            handle.run_upkeep();
        }
    });
}
