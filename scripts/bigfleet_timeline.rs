//! `BIGFLEET_TIMELINE=1`: where a cold answer's time goes. Every AWS SDK operation (the
//! SDK's own `<Service>.<Operation>` span, AssumeRole made by the credentials provider
//! included) is recorded with its start and end; after each cold answer the driver prints
//! per API how many, their median and slowest time, how many were in flight at most, and
//! how many were in flight in each tenth of the answer. An operation's time is everything
//! the SDK does for it: signing, the proxy's added delay, moto, parsing the answer.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use tracing::span::{Attributes, Id};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

static CALLS: Mutex<Vec<(String, Instant, Instant)>> = Mutex::new(Vec::new());

struct Started(Instant);

/// Records the SDK's operation spans (those with an `rpc.method` field).
struct Timeline;

impl<S> Layer<S> for Timeline
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Started(Instant::now()));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let started = span.extensions().get::<Started>().map(|s| s.0);
        if let Some(started) = started {
            CALLS.lock().unwrap_or_else(PoisonError::into_inner).push((
                span.name().to_owned(),
                started,
                Instant::now(),
            ));
        }
    }
}

/// Installs the recorder when `BIGFLEET_TIMELINE` is set; whether it is.
pub fn install() -> bool {
    use tracing_subscriber::layer::SubscriberExt as _;
    if std::env::var_os("BIGFLEET_TIMELINE").is_none() {
        return false;
    }
    // The operations, and their attempts (`try_attempt`: a retry after an attempt timed
    // out is a second request moto works on).
    let only_operations = tracing_subscriber::filter::filter_fn(|m| {
        m.is_span() && (m.fields().field("rpc.method").is_some() || m.name() == "try_attempt")
    });
    let subscriber = tracing_subscriber::registry().with(Timeline.with_filter(only_operations));
    tracing::subscriber::set_global_default(subscriber).unwrap();
    true
}

/// Forgets what was recorded so far.
pub fn clear() {
    CALLS.lock().unwrap_or_else(PoisonError::into_inner).clear();
}

/// What was recorded since [`clear`], within the answer that took `took` from `from`.
pub fn report(from: Instant, took: Duration) {
    let calls = std::mem::take(&mut *CALLS.lock().unwrap_or_else(PoisonError::into_inner));
    let mut apis: Vec<String> = calls.iter().map(|(a, ..)| a.clone()).collect();
    apis.sort();
    apis.dedup();
    for api in apis {
        let mut times: Vec<Duration> = calls
            .iter()
            .filter(|(a, ..)| *a == api)
            .map(|(_, s, e)| *e - *s)
            .collect();
        times.sort();
        let first = calls
            .iter()
            .filter(|(a, ..)| *a == api)
            .map(|(_, s, _)| s.saturating_duration_since(from))
            .min()
            .unwrap_or_default();
        let last = calls
            .iter()
            .filter(|(a, ..)| *a == api)
            .map(|(_, _, e)| e.saturating_duration_since(from))
            .max()
            .unwrap_or_default();
        eprintln!(
            "    {api:<32} {:>4} calls, median {:>4} ms, slowest {:>4} ms, from {:>4} ms to {:>4} ms",
            times.len(),
            times[times.len() / 2].as_millis(),
            times[times.len() - 1].as_millis(),
            first.as_millis(),
            last.as_millis()
        );
    }
    let calls: Vec<_> = calls
        .into_iter()
        .filter(|(a, ..)| a != "try_attempt")
        .collect();
    let mut edges: Vec<(Instant, i32)> = calls
        .iter()
        .flat_map(|(_, s, e)| [(*s, 1), (*e, -1)])
        .collect();
    edges.sort();
    let (mut now, mut peak) = (0, 0);
    for (_, d) in &edges {
        now += d;
        peak = peak.max(now);
    }
    let tenths: Vec<String> = (0..10u32)
        .map(|i| {
            let at = from + took * i / 10 + took / 20;
            calls
                .iter()
                .filter(|(_, s, e)| *s <= at && at < *e)
                .count()
                .to_string()
        })
        .collect();
    eprintln!(
        "    in flight at most {peak}; in each tenth of the answer: {}",
        tenths.join(" ")
    );
}

/// CPU time so far, from `/proc` (Linux; zero elsewhere): this process's, the moto servers'
/// (`pids`), and the whole machine's busy and total time (every core).
#[derive(Debug, Clone, Copy, Default)]
pub struct Cpu {
    ours: Duration,
    moto: Duration,
    busy: Duration,
    total: Duration,
}

/// A process's user + system time (`/proc/<pid>/stat` fields 14 and 15, in clock ticks
/// of 10 ms).
fn process_cpu(pid: &str) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // The command may hold spaces: the fields start after its closing parenthesis.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Duration::from_millis((ticks(11) + ticks(12)) * 10)
}

impl Cpu {
    pub fn now(moto: &[u32]) -> Self {
        let (busy, total) = std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|s| {
                let first = s.lines().next()?.to_owned();
                let ticks: Vec<u64> = first
                    .split_whitespace()
                    .skip(1)
                    .filter_map(|t| t.parse().ok())
                    .collect();
                // user nice system idle iowait irq softirq steal ...
                let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
                let total: u64 = ticks.iter().take(8).sum();
                Some((total - idle, total))
            })
            .unwrap_or((0, 0));
        Self {
            ours: process_cpu("self"),
            moto: moto.iter().map(|p| process_cpu(&p.to_string())).sum(),
            busy: Duration::from_millis(busy * 10),
            total: Duration::from_millis(total * 10),
        }
    }

    /// What was spent since `before`, in words.
    pub fn since(&self, before: &Cpu) -> String {
        let ours = self.ours.saturating_sub(before.ours);
        let moto = self.moto.saturating_sub(before.moto);
        let busy = self.busy.saturating_sub(before.busy);
        let total = self.total.saturating_sub(before.total);
        let others = busy.saturating_sub(ours + moto);
        format!(
            "CPU: moto {} ms, this process {} ms, the rest of the machine {} ms; {} ms busy of {} ms on every core",
            moto.as_millis(),
            ours.as_millis(),
            others.as_millis(),
            busy.as_millis(),
            total.as_millis()
        )
    }
}
