//! Charts for Slack: a metric's datapoints over a window as a PNG, with the alarm threshold
//! as a horizontal line, the time in `ALARM` shaded and the last deployment as a vertical
//! marker, and alt text that says the same in words (`prompts/en-US/chart.ftl`).
//!
//! Drawn in-process with `plotters` into an RGB buffer and encoded with `png`: it works on
//! every data source (the demo fleet too), costs no extra AWS call beyond the data, and
//! needs nothing on the machine. The font is embedded (DejaVu Sans, registered with
//! `ab_glyph`), so there is no system font lookup on a clean CI machine or on Lambda.
//! CloudWatch's `GetMetricWidgetImage` would draw the alarm's own widget, but only for AWS
//! data (not the demo), at 20 TPS, as an extra IAM permission and an extra call on the
//! way, and with no way for us to put the deployment on it.
//!
//! The geometry is fixed ([`WIDTH`], [`HEIGHT`], [`PLOT`]) and the value and time scales
//! are linear ([`Picture::x_of`], [`y_of`]), so a test can find where a value is drawn.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::ops::MetricUnit;
use crate::speech::render::{Say, n, s};

/// The image's size, pixels.
pub const WIDTH: u32 = 720;
pub const HEIGHT: u32 = 300;
/// The most bytes an image may have (Slack cards stay light; DESIGN §7).
pub const MAX_BYTES: usize = 100 * 1024;
/// The longest alt text (Slack's `alt_txt` takes up to 1000 characters).
pub const MAX_ALT: usize = 1000;

/// A rectangle of pixels, edges included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Area {
    pub left: i32,
    pub top: i32,
    pub right: i32,
    pub bottom: i32,
}

/// Where the data is drawn.
pub const PLOT: Area = Area {
    left: 64,
    top: 34,
    right: WIDTH as i32 - 18,
    bottom: HEIGHT as i32 - 34,
};

/// The colours, so tests can look for them.
pub const LINE: (u8, u8, u8) = (31, 119, 180);
pub const THRESHOLD: (u8, u8, u8) = (214, 39, 40);
pub const ALARM_SHADE: (u8, u8, u8) = (253, 224, 224);
pub const DEPLOYMENT: (u8, u8, u8) = (128, 60, 200);
const GRID: (u8, u8, u8) = (232, 232, 232);
const INK: (u8, u8, u8) = (60, 60, 60);

const FONT: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");
const FAMILY: &str = "opsvoice-sans";

/// What to draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    /// The title over the plot (an alarm's name, or "checkout CPU").
    pub title: String,
    /// What is plotted, in words ("AWS/ECS CPUUtilization", "CPU").
    pub metric: String,
    /// Whose it is ("checkout"), for the alt text.
    pub subject: String,
    /// The unit, when known (a service's metric); an alarm's values are in its own unit.
    pub unit: Option<MetricUnit>,
    pub start: SystemTime,
    pub end: SystemTime,
    /// Oldest first.
    pub points: Vec<(SystemTime, f64)>,
    pub threshold: Option<f64>,
    /// When the alarm was in `ALARM`: `(from, until)`, `until` `None` while it still is.
    pub in_alarm: Vec<(SystemTime, Option<SystemTime>)>,
    /// The last deployment in the window, and what it deployed.
    pub deployment: Option<(SystemTime, String)>,
}

/// A drawn chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub png: Vec<u8>,
    /// The top of the value scale (the bottom is 0, or the lowest value when negative).
    pub y_max: f64,
    pub y_min: f64,
}

/// Why a chart could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    #[error("the chart could not be drawn: {0}")]
    Draw(String),
    #[error("the chart could not be encoded as PNG")]
    Encode(#[from] png::EncodingError),
    #[error("the chart is {0} bytes, over the {MAX_BYTES} allowed")]
    TooLarge(usize),
}

fn rgb(c: (u8, u8, u8)) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

fn font() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED
        .get_or_init(|| plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).is_ok())
}

impl Picture {
    fn span(&self) -> f64 {
        self.end
            .duration_since(self.start)
            .unwrap_or_default()
            .as_secs_f64()
            .max(1.0)
    }

    /// The pixel column of time `t` (clamped to the plot).
    #[must_use]
    pub fn x_of(&self, t: SystemTime) -> i32 {
        let secs = match t.duration_since(self.start) {
            Ok(d) => d.as_secs_f64(),
            Err(_) => 0.0,
        };
        let f = (secs / self.span()).clamp(0.0, 1.0);
        PLOT.left + (f * f64::from(PLOT.right - PLOT.left)).round() as i32
    }

    /// The scale: from 0 (or the lowest value) to a round number over the highest value
    /// and the threshold, with some room above.
    #[must_use]
    pub fn y_range(&self) -> (f64, f64) {
        let values = self.points.iter().map(|(_, v)| *v).chain(self.threshold);
        let (lo, hi) = values.fold((0.0_f64, 0.0_f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let top = nice(hi.max(lo.abs() / 10.0) * 1.15);
        (if lo < 0.0 { -nice(-lo * 1.15) } else { 0.0 }, top)
    }
}

/// The pixel row of `value` on the scale `(y_min, y_max)` (clamped to the plot).
#[must_use]
pub fn y_of(value: f64, (y_min, y_max): (f64, f64)) -> i32 {
    let f = ((value - y_min) / (y_max - y_min).max(f64::EPSILON)).clamp(0.0, 1.0);
    PLOT.bottom - (f * f64::from(PLOT.bottom - PLOT.top)).round() as i32
}

/// The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten at or over `v` (1 for nothing).
fn nice(v: f64) -> f64 {
    if !v.is_finite() || v <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(v.log10().floor());
    [1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|c| *c >= v * 0.999_999)
        .unwrap_or(10.0 * power)
}

/// A number as an axis or the alt text shows it: at most 3 significant digits, with k and M.
#[must_use]
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    let (scaled, suffix) = if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    let text = if scaled.abs() >= 100.0 || scaled.fract() == 0.0 {
        format!("{scaled:.0}")
    } else if scaled.abs() >= 10.0 {
        format!("{scaled:.1}")
    } else {
        format!("{scaled:.2}")
    };
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    format!("{text}{suffix}")
}

fn hhmm(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        % 86_400;
    format!("{:02}:{:02}", secs / 3600, (secs % 3600) / 60)
}

/// Text safe to draw: no control characters, at most `max` characters.
fn printable(text: &str, max: usize) -> String {
    text.chars().filter(|c| !c.is_control()).take(max).collect()
}

/// Draws `picture` as a PNG of [`WIDTH`] × [`HEIGHT`].
///
/// # Errors
/// When drawing or encoding fails, or the PNG would be over [`MAX_BYTES`].
pub fn render(picture: &Picture) -> Result<Rendered, ChartError> {
    let range = picture.y_range();
    let mut buffer = vec![255u8; (WIDTH * HEIGHT * 3) as usize];
    draw(picture, range, &mut buffer).map_err(|e| ChartError::Draw(e.to_string()))?;
    let mut png_bytes = Vec::with_capacity(32 * 1024);
    {
        let mut encoder = png::Encoder::new(&mut png_bytes, WIDTH, HEIGHT);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Balanced);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(&buffer)?;
        writer.finish()?;
    }
    if png_bytes.len() > MAX_BYTES {
        return Err(ChartError::TooLarge(png_bytes.len()));
    }
    Ok(Rendered {
        png: png_bytes,
        y_min: range.0,
        y_max: range.1,
    })
}

type DrawResult = Result<(), Box<dyn std::error::Error>>;

fn draw(picture: &Picture, range: (f64, f64), buffer: &mut [u8]) -> DrawResult {
    let text_ok = font();
    let root = BitMapBackend::with_buffer(buffer, (WIDTH, HEIGHT)).into_drawing_area();
    let label = |size: i32| (FAMILY, size).into_font().color(&rgb(INK));
    // The time in ALARM, under everything else.
    for (from, until) in &picture.in_alarm {
        let x0 = picture.x_of(*from);
        let x1 = picture.x_of(until.unwrap_or(picture.end));
        if x1 > x0 {
            root.draw(&Rectangle::new(
                [(x0, PLOT.top), (x1, PLOT.bottom)],
                rgb(ALARM_SHADE).filled(),
            ))?;
        }
    }
    // The value scale: four lines and their numbers.
    for i in 0..=4 {
        let v = range.0 + (range.1 - range.0) * f64::from(i) / 4.0;
        let y = y_of(v, range);
        root.draw(&PathElement::new(
            vec![(PLOT.left, y), (PLOT.right, y)],
            rgb(GRID),
        ))?;
        if text_ok {
            root.draw(&Text::new(short_number(v), (6, y - 7), label(12)))?;
        }
    }
    // The time scale: five times of day (UTC).
    if text_ok {
        for i in 0..=4u32 {
            let t = picture.start + Duration::from_secs_f64(picture.span() * f64::from(i) / 4.0);
            let x = picture.x_of(t);
            root.draw(&Text::new(hhmm(t), (x - 16, PLOT.bottom + 8), label(12)))?;
        }
        root.draw(&Text::new(
            printable(&picture.title, 90),
            (PLOT.left, 8),
            label(15),
        ))?;
    }
    root.draw(&PathElement::new(
        vec![
            (PLOT.left, PLOT.top),
            (PLOT.left, PLOT.bottom),
            (PLOT.right, PLOT.bottom),
        ],
        rgb(INK),
    ))?;
    // The data: one line, broken where a minute is missing.
    let step = picture
        .points
        .windows(2)
        .filter_map(|w| w[1].0.duration_since(w[0].0).ok())
        .min()
        .unwrap_or(Duration::from_secs(60));
    let mut run: Vec<(i32, i32)> = Vec::new();
    let mut last: Option<SystemTime> = None;
    for (t, v) in &picture.points {
        if last.is_some_and(|l| t.duration_since(l).unwrap_or_default() > step * 3) {
            flush(&root, &mut run)?;
        }
        run.push((picture.x_of(*t), y_of(*v, range)));
        last = Some(*t);
    }
    flush(&root, &mut run)?;
    // The threshold: a line 3 pixels thick across the plot.
    if let Some(threshold) = picture.threshold {
        let y = y_of(threshold, range);
        root.draw(&Rectangle::new(
            [(PLOT.left + 1, y - 1), (PLOT.right, y + 1)],
            rgb(THRESHOLD).filled(),
        ))?;
    }
    // The last deployment: a line 3 pixels wide from top to bottom, labelled.
    if let Some((at, what)) = &picture.deployment
        && *at >= picture.start
        && *at <= picture.end
    {
        let x = picture.x_of(*at);
        root.draw(&Rectangle::new(
            [(x - 1, PLOT.top), (x + 1, PLOT.bottom)],
            rgb(DEPLOYMENT).filled(),
        ))?;
        if text_ok {
            let shown = printable(what, 40);
            let width = 7 * shown.chars().count() as i32;
            let left = if x + 4 + width > WIDTH as i32 {
                x - 4 - width
            } else {
                x + 4
            };
            root.draw(&Text::new(
                shown,
                (left, PLOT.top + 2),
                (FAMILY, 11).into_font().color(&rgb(DEPLOYMENT)),
            ))?;
        }
    }
    root.present()?;
    Ok(())
}

fn flush<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    run: &mut Vec<(i32, i32)>,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    match run.len() {
        0 => {}
        1 => root.draw(&Circle::new(run[0], 2, rgb(LINE).filled()))?,
        _ => root.draw(&PathElement::new(
            std::mem::take(run),
            rgb(LINE).stroke_width(2),
        ))?,
    }
    run.clear();
    Ok(())
}

/// The alt text: the chart in words (what, over which window, now and at its peak, the
/// threshold, the time in `ALARM`, the last deployment), at most [`MAX_ALT`] characters.
#[must_use]
pub fn alt_text(say: &Say<'_>, picture: &Picture) -> String {
    let window = picture
        .end
        .duration_since(picture.start)
        .unwrap_or_default();
    let value = |v: f64| match picture.unit {
        Some(unit) => say.value(unit, v),
        None => short_number(v),
    };
    let clock = |t: SystemTime| {
        say.clock(
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
        )
    };
    let mut out = Vec::new();
    let peak = picture
        .points
        .iter()
        .copied()
        .reduce(|a, b| if b.1 > a.1 { b } else { a });
    match (picture.points.last(), peak) {
        (Some((_, latest)), Some((peak_at, peak))) => out.push(say.msg(
            "chart-alt-series",
            [
                ("metric", s(picture.metric.clone())),
                ("subject", s(picture.subject.clone())),
                ("window", s(say.window(window))),
                ("latest", s(value(*latest))),
                ("peak", s(value(peak))),
                ("peak-at", s(clock(peak_at))),
            ],
        )),
        _ => out.push(say.msg(
            "chart-alt-no-data",
            [
                ("metric", s(picture.metric.clone())),
                ("subject", s(picture.subject.clone())),
                ("window", s(say.window(window))),
            ],
        )),
    }
    if let Some(threshold) = picture.threshold {
        out.push(say.msg("chart-alt-threshold", [("threshold", s(value(threshold)))]));
    }
    if !picture.in_alarm.is_empty() {
        let spans: Vec<String> = picture
            .in_alarm
            .iter()
            .map(|(from, until)| {
                say.msg(
                    "chart-alt-span",
                    [
                        ("from", s(clock(*from))),
                        ("until", s(until.map(clock).unwrap_or_default())),
                    ],
                )
            })
            .collect();
        out.push(say.msg(
            "chart-alt-alarm",
            [
                ("count", n(spans.len() as f64)),
                ("spans", s(say.list(&spans, 5))),
            ],
        ));
    }
    if let Some((at, what)) = &picture.deployment {
        out.push(say.msg(
            "chart-alt-deployment",
            [("what", s(what.clone())), ("at", s(clock(*at)))],
        ));
    }
    let text = out.join(" ");
    if text.chars().count() > MAX_ALT {
        let mut cut: String = text.chars().take(MAX_ALT - 1).collect();
        cut.push('…');
        cut
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn scales_are_round_and_cover_the_threshold() {
        assert_eq!(nice(0.0), 1.0);
        assert_eq!(nice(87.0), 100.0);
        assert_eq!(nice(1725.0), 2000.0);
        assert_eq!(nice(2.2), 2.5);
        assert_eq!(short_number(1500.0), "1500");
        assert_eq!(short_number(125_000.0), "125k");
        assert_eq!(short_number(2.5), "2.5");
        assert_eq!(short_number(0.25), "0.25");
    }
}
