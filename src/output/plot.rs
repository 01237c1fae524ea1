//! timeseries.svg: active sessions, retained contexts and the cumulative recovery rate over
//! simulated time, so a run can be read at a glance. SVG text needs no font files.

use super::glyphs::Glyphs;
use super::{OutputError, out_err, write_atomic};
use crate::engine::time::{SimDuration, SimTime};
use crate::model::metrics::Sample;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use std::path::Path;

/// Plots measure their text with a bundled font (DejaVu Sans), so no system font is needed.
fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, super::glyphs::FONT);
    });
}

const SIZE: (u32, u32) = (900, 620);

/// Write `<stem>.svg` and `<stem>.png` into `dir`.
/// The run's timeseries, with the warm-up (before `warmup`, left out of the summary) shaded.
pub(crate) fn write_timeseries_plots(
    dir: &Path,
    stem: &str,
    title: &str,
    samples: &[Sample],
    warmup: SimDuration,
    restarts: &[SimDuration],
) -> Result<(), OutputError> {
    register_font();
    let svg_path = dir.join(format!("{stem}.svg"));
    let mut svg = String::new();
    draw(SVGBackend::with_string(&mut svg, SIZE).into_drawing_area(), title, samples, warmup, restarts)
        .map_err(|e| out_err(&svg_path, format!("cannot draw: {e}")))?;
    write_atomic(&svg_path, svg.as_bytes())?;
    let png_path = dir.join(format!("{stem}.png"));
    let mut pixels = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    let area = Glyphs(BitMapBackend::with_buffer(&mut pixels, SIZE)).into_drawing_area();
    draw(area, title, samples, warmup, restarts).map_err(|e| out_err(&png_path, format!("cannot draw: {e}")))?;
    write_atomic(&png_path, &encode_png(&pixels).map_err(|e| out_err(&png_path, e))?)
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    s: &[Sample],
    warmup: SimDuration,
    restarts: &[SimDuration],
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(380);
    let restart_ink = RGBColor(150, 40, 40);
    let hours = |t: SimTime| t.as_micros() as f64 / 3.6e9;
    let restart_hours: Vec<f64> = restarts.iter().map(|r| hours(SimTime::ZERO + *r)).collect();
    let end = s.last().map_or(1.0, |x| hours(x.time)).max(1e-9);
    let peak = s.iter().map(|x| x.active_sessions.max(x.retained_contexts)).max().unwrap_or(1).max(1) as f64;

    let mut c = ChartBuilder::on(&top)
        .caption(format!("{title}: sessions and retained contexts"), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..end, 0.0..peak * 1.05)?;
    c.configure_mesh()
        .x_desc("simulated time (h)")
        .y_desc("clients")
        .x_label_formatter(&|v| axis_label(end)(v))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    let shade = RGBColor(120, 120, 120).mix(0.15).filled();
    let warm = hours(SimTime::ZERO + warmup).min(end);
    if !warmup.is_zero() {
        c.draw_series(std::iter::once(Rectangle::new([(0.0, 0.0), (warm, peak * 1.05)], shade)))?
            .label("warm-up (not in the summary)")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], shade));
    }
    c.draw_series(LineSeries::new(s.iter().map(|x| (hours(x.time), x.active_sessions as f64)), BLUE.stroke_width(2)))?
        .label("active sessions")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLUE.stroke_width(2)));
    c.draw_series(LineSeries::new(s.iter().map(|x| (hours(x.time), x.retained_contexts as f64)), RED.stroke_width(2)))?
        .label("retained contexts")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], RED.stroke_width(2)));
    // Each SAP restart, a dashed line labelled at its top (over a white box: the lines run there).
    for &h in restart_hours.iter().filter(|h| **h <= end) {
        let line = [(h, 0.0), (h, peak * 1.05)];
        c.draw_series(std::iter::once(DashedPathElement::new(line, 6, 4, restart_ink.stroke_width(2))))?;
        let style = ("sans-serif", 13).into_font().color(&restart_ink);
        let size = top.estimate_text_size("SAP restart", &style).map_or((0, 0), |s| (s.0 as i32, s.1 as i32));
        let at = c.backend_coord(&(h, peak * 1.05));
        let (px, _) = c.plotting_area().get_pixel_range();
        let x = if at.0 + 6 + size.0 <= px.end { at.0 + 6 } else { at.0 - 6 - size.0 };
        top.draw(&Rectangle::new([(x - 2, at.1 + 3), (x + size.0 + 2, at.1 + 5 + size.1)], WHITE.mix(0.85).filled()))?;
        top.draw(&Text::new("SAP restart", (x, at.1 + 4), style))?;
    }
    c.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;

    let mut r = ChartBuilder::on(&bottom)
        .caption("recovery success rate: each hour (thin) and since the warm-up (thick)", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..end, 0.0..1.0)?;
    r.configure_mesh()
        .x_desc("simulated time (h)")
        .y_desc("recovered / attempts")
        .x_label_formatter(&|v| axis_label(end)(v))
        .draw()?;
    if !warmup.is_zero() {
        r.draw_series(std::iter::once(Rectangle::new([(0.0, 0.0), (warm, 1.0)], shade)))?;
    }
    let green = RGBColor(0, 140, 60);
    let (hourly, measured) = recovery_rates(s, warmup);
    r.draw_series(hourly.windows(2).map(|w| PathElement::new(w.to_vec(), green.mix(0.45).stroke_width(1))))?;
    r.draw_series(LineSeries::new(measured, green.stroke_width(2)))?;
    for &h in restart_hours.iter().filter(|h| **h <= end) {
        r.draw_series(std::iter::once(DashedPathElement::new(
            [(h, 0.0), (h, 1.0)],
            6,
            4,
            restart_ink.stroke_width(2),
        )))?;
    }
    root.present()?;
    Ok(())
}

/// A line's points, (x, y).
type Line = Vec<(f64, f64)>;

/// Fewer recovery attempts than this make no point of a rate line: a rate of 1 after one
/// success says nothing.
const MIN_ATTEMPTS: u64 = 20;

/// The recovery success rate over time, as (hours, rate): in each hour of simulated time (or
/// sampling interval, if longer) with at least `MIN_ATTEMPTS` attempts, and cumulated from the
/// end of the warm-up, from its `MIN_ATTEMPTS`th attempt on (what the summary's rate becomes).
fn recovery_rates(s: &[Sample], warmup: SimDuration) -> (Line, Line) {
    let hours = |t: SimTime| t.as_micros() as f64 / 3.6e9;
    let step = s.windows(2).map(|w| w[1].time.as_micros() - w[0].time.as_micros()).next().unwrap_or(1).max(1);
    let per = (3_600_000_000u64.div_ceil(step)).max(1) as usize;
    let rate = |a: &Sample, b: &Sample| {
        let n = b.recovery_attempts - a.recovery_attempts;
        (n >= MIN_ATTEMPTS).then(|| (b.recovery_successes - a.recovery_successes) as f64 / n as f64)
    };
    let mut hourly = Vec::new();
    let mut i = 0;
    while i + 1 < s.len() {
        let j = (i + per).min(s.len() - 1);
        if let Some(v) = rate(&s[i], &s[j]) {
            hourly.push(((hours(s[i].time) + hours(s[j].time)) / 2.0, v));
        }
        i = j;
    }
    let start = SimTime::ZERO + warmup;
    let base = s.iter().rev().find(|x| x.time <= start).or(s.first());
    let measured = match base {
        Some(b) => s.iter().filter(|x| x.time >= b.time).filter_map(|x| Some((hours(x.time), rate(b, x)?))).collect(),
        None => Vec::new(),
    };
    (hourly, measured)
}

/// A line chart of one or more series, over numeric x or over categories (x = 0, 1, ...).
#[derive(Default)]
pub(crate) struct Chart {
    pub(crate) title: String,
    pub(crate) x_desc: String,
    pub(crate) y_desc: String,
    /// Names of the x positions 0, 1, ... when the x axis is categorical.
    pub(crate) categories: Option<Vec<String>>,
    pub(crate) series: Vec<Series>,
    pub(crate) y_range: Option<(f64, f64)>,
    /// A logarithmic y axis (for values spread over decades, e.g. restore times).
    pub(crate) log_y: bool,
    /// Lines across the plot that mark an answer: a threshold's bound, a recommendation.
    pub(crate) marks: Vec<Mark>,
    /// Over time: the warm-up (x from 0 to this), shaded as not measured.
    pub(crate) warmup: Option<f64>,
    /// A point to ring in green as the answer, (x, y) in the chart's units, with its text.
    pub(crate) answer: Option<(f64, f64, String)>,
    /// Labelled ticks of the x axis, (x, text), instead of plotters' own: an axis by value whose
    /// ends (0, infinite) are not numbers.
    pub(crate) x_ticks: Option<Vec<(f64, String)>>,
    /// Labelled ticks of the y axis in the data's units (on a log axis, placed at their logs).
    pub(crate) y_ticks: Option<Vec<(f64, String)>>,
    /// Where the x axis is broken (drawn `//`): between 0 or infinite and the finite values.
    pub(crate) x_breaks: Vec<f64>,
}

/// A dashed line across the plot with its text: horizontal at y = `at`, or vertical at x = `at`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Mark {
    pub(crate) at: f64,
    pub(crate) vertical: bool,
    pub(crate) label: String,
    /// The answer (drawn green) rather than a bound (grey).
    pub(crate) answer: bool,
}

/// `chart` with log10 of every y (values at or below 0 left out) and a y range around them.
fn in_logs(chart: &Chart) -> Chart {
    let lg = |v: f64| if v > 0.0 { v.log10() } else { f64::NAN };
    let series: Vec<Series> = chart
        .series
        .iter()
        .map(|s| Series {
            name: s.name.clone(),
            points: s.points.iter().map(|p| (p.0, lg(p.1), p.2.map(|(a, b)| (lg(a), lg(b))))).collect(),
            labels: s.labels.clone(),
        })
        .collect();
    let marks: Vec<Mark> = chart
        .marks
        .iter()
        .map(|m| if m.vertical { m.clone() } else { Mark { at: lg(m.at), ..m.clone() } })
        .filter(|m| m.at.is_finite())
        .collect();
    let ys = series.iter().flat_map(|s| s.points.iter()).filter(|p| p.1.is_finite()).map(|p| p.1);
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
    // The axis reaches marks within a decade of the data (others are left off, see `marked`).
    let near = marks.iter().filter(|m| !m.vertical && (!lo.is_finite() || (m.at >= lo - 1.0 && m.at <= hi + 1.0)));
    let (lo, hi) = near.fold((lo, hi), |(a, b), m| (a.min(m.at), b.max(m.at)));
    let y_range = if lo.is_finite() { Some((lo - 0.15, hi + 0.15)) } else { Some((0.0, 1.0)) };
    Chart {
        title: chart.title.clone(),
        x_desc: chart.x_desc.clone(),
        y_desc: format!("{} (log scale)", chart.y_desc),
        categories: chart.categories.clone(),
        series,
        y_range,
        log_y: true,
        marks,
        warmup: chart.warmup,
        answer: chart.answer.as_ref().map(|(x, y, t)| (*x, lg(*y), t.clone())),
        x_ticks: chart.x_ticks.clone(),
        y_ticks: chart
            .y_ticks
            .as_ref()
            .map(|t| t.iter().map(|(v, s)| (lg(*v), s.clone())).filter(|(v, _)| v.is_finite()).collect()),
        x_breaks: chart.x_breaks.clone(),
    }
}

/// (x, y, optional error bar (lo, hi)).
pub(crate) type PlotPoint = (f64, f64, Option<(f64, f64)>);

pub(crate) struct Series {
    pub(crate) name: String,
    /// (x, y, optional error bar (lo, hi)); points with a non-finite y are skipped.
    pub(crate) points: Vec<PlotPoint>,
    /// Optional text beside each point.
    pub(crate) labels: Vec<String>,
}

/// Sixteen colours that stay apart (Tableau 10, then six darker or lighter ones): a sweep of up
/// to sixteen points never repeats a colour.
const PALETTE: [RGBColor; 16] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(23, 190, 207),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(0, 0, 128),
    RGBColor(128, 0, 0),
    RGBColor(0, 100, 0),
    RGBColor(255, 215, 0),
    RGBColor(0, 0, 0),
    RGBColor(255, 105, 180),
];

/// Write `<stem>.svg` and `<stem>.png` of a chart into `dir`.
pub(crate) fn save_chart(dir: &Path, stem: &str, chart: &Chart) -> Result<(), OutputError> {
    register_font();
    let svg_path = dir.join(format!("{stem}.svg"));
    let legend = legend_box(chart);
    let mut svg = String::new();
    render(SVGBackend::with_string(&mut svg, SIZE).into_drawing_area(), chart, &legend)
        .map(|_| ())
        .map_err(|e| out_err(&svg_path, format!("cannot draw: {e}")))?;
    write_atomic(&svg_path, svg.as_bytes())?;
    let png_path = dir.join(format!("{stem}.png"));
    let mut pixels = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    render(Glyphs(BitMapBackend::with_buffer(&mut pixels, SIZE)).into_drawing_area(), chart, &legend)
        .map(|_| ())
        .map_err(|e| out_err(&png_path, format!("cannot draw: {e}")))?;
    write_atomic(&png_path, &encode_png(&pixels).map_err(|e| out_err(&png_path, e))?)
}

fn encode_png(pixels: &[u8]) -> Result<Vec<u8>, png::EncodingError> {
    let mut png = Vec::new();
    let mut enc = png::Encoder::new(&mut png, SIZE.0, SIZE.1);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Best);
    enc.set_filter(png::FilterType::Paeth);
    enc.write_header()?.write_image_data(pixels)?;
    Ok(png)
}

/// Points with both coordinates finite.
fn finite_points(chart: &Chart) -> impl Iterator<Item = &PlotPoint> {
    chart.series.iter().flat_map(|s| s.points.iter()).filter(|p| p.1.is_finite() && p.0.is_finite())
}

/// Where the chart's marks sit on one axis (x for vertical marks, y for horizontal ones), those
/// near enough the data to share its axis: a bound far beyond the data (a 1 GiB budget over
/// KiB of data) would flatten the data against the axis, so it is left off the plot.
fn marked(chart: &Chart, vertical: bool) -> impl Iterator<Item = f64> + '_ {
    let coord = move |p: &PlotPoint| {
        if vertical { [p.0, p.0] } else { p.2.map_or([p.1, p.1], |b| [b.0.min(p.1), b.1.max(p.1)]) }
    };
    let values = finite_points(chart).flat_map(coord).filter(|v| v.is_finite());
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let width = (hi - lo).max(hi.abs()).max(lo.abs());
    let near = move |v: f64| !lo.is_finite() || width == 0.0 || (v >= lo - 2.0 * width && v <= hi + 2.0 * width);
    chart.marks.iter().filter(move |m| m.vertical == vertical && m.at.is_finite() && near(m.at)).map(|m| m.at)
}

/// The x axis: the categories' positions, or the data padded by 5%.
fn x_range(chart: &Chart) -> (f64, f64) {
    match &chart.categories {
        Some(c) => (-0.5, c.len() as f64 - 0.5),
        None => {
            let xs = finite_points(chart).map(|p| p.0).chain(marked(chart, true));
            let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
            // Room on the right for the last point's label.
            let right = if chart.series.iter().any(|s| !s.labels.is_empty()) { 0.14 } else { 0.05 };
            if lo.is_finite() && hi > lo {
                let pad = (hi - lo) * 0.05;
                (lo - pad, hi + (hi - lo) * right)
            } else if lo.is_finite() {
                (lo - 1.0, lo + 1.0)
            } else {
                (0.0, 1.0)
            }
        }
    }
}

/// The y axis: the chart's range or 0 to the data's top, with head room above the data for
/// the legend box, which sits in the upper left.
fn y_range(chart: &Chart) -> (f64, f64) {
    let legend_rows = chart.series.iter().filter(|s| !s.name.is_empty()).count();
    let headroom = if legend_rows > 0 { 1.12 + 0.06 * legend_rows.min(10) as f64 } else { 1.1 };
    // Room above a fixed range's top (a rate of 1) for the answer's ring and points' labels,
    // which would otherwise reach into the title.
    let ringed = chart.answer.is_some() || chart.series.iter().any(|s| !s.labels.is_empty());
    let room = if ringed { 0.05 } else { 0.0 };
    match chart.y_range {
        Some((lo, hi)) if legend_rows > 1 => (lo, lo + (hi - lo) * (headroom - 0.1 + room)),
        Some((lo, hi)) => (lo, hi + (hi - lo) * room),
        None => {
            let tops = finite_points(chart).map(|p| p.2.map_or(p.1, |b| b.1.max(p.1)));
            let hi = tops.chain(marked(chart, false)).fold(0.0, f64::max);
            (0.0, if hi > 0.0 { hi * headroom } else { 1.0 })
        }
    }
}

/// Tick labels with as many decimals as the axis' span needs (so ticks 0.10 .. 0.14 do not
/// all read "0.1").
fn axis_label(span: f64) -> impl Fn(&f64) -> String {
    move |v: &f64| {
        let decimals = match span {
            s if s >= 50.0 => 0,
            s if s >= 5.0 => 1,
            s if s >= 0.5 => 2,
            s if s >= 0.05 => 3,
            _ => 4,
        };
        format!("{v:.decimals$}")
    }
}

/// The label of a tick at log10 value `v`: the 1-2-5 value it stands on (within 3%), else none.
fn log_tick(v: f64) -> String {
    let x = 10f64.powf(v);
    let decade = 10f64.powf(v.floor());
    [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * decade).find(|n| (x / n - 1.0).abs() < 0.03).map_or_else(
        String::new,
        |n| {
            let t = significant(n);
            if t.contains('.') { t.trim_end_matches('0').trim_end_matches('.').to_string() } else { t }
        },
    )
}

/// `v` to two significant digits (0.41, 8.9, 39, 1200).
fn significant(v: f64) -> String {
    if v <= 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (1 - v.log10().floor() as i32).max(0) as usize;
    let step = 10f64.powi(v.log10().floor() as i32 - 1);
    format!("{:.decimals$}", (v / step).round() * step)
}

/// Of `candidates` (top-left corners of a `size` box), the first whose box lies farthest from
/// every point of `drawn` (ties go to the earlier one).
fn clear_spot(candidates: &[(i32, i32)], size: (i32, i32), drawn: &[(i32, i32)]) -> (i32, i32) {
    let gap = |&(x, y): &(i32, i32)| {
        drawn
            .iter()
            .map(|&(px, py)| {
                let dx = (x - px).max(px - (x + size.0)).max(0) as i64;
                let dy = (y - py).max(py - (y + size.1)).max(0) as i64;
                dx * dx + dy * dy
            })
            .min()
            .unwrap_or(i64::MAX)
    };
    let mut best = candidates[0];
    for c in &candidates[1..] {
        if gap(c) > gap(&best) {
            best = *c;
        }
    }
    best
}

/// The title's font size: 20, smaller down to 13 when a long title would not fit the width.
fn title_size<DB: DrawingBackend>(root: &DrawingArea<DB, plotters::coord::Shift>, title: &str) -> f64 {
    let room = root.dim_in_pixel().0 as f64 - 40.0;
    let at = |size: f64| {
        root.estimate_text_size(title, &("sans-serif", size).into_font().into()).map_or(0.0, |s| s.0 as f64)
    };
    let mut size = 20.0;
    while size > 13.0 && at(size) > room {
        size -= 1.0;
    }
    size
}

/// A box on the canvas in pixels, [x0, x1) by [y0, y1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Rect {
    pub(crate) x0: i32,
    pub(crate) y0: i32,
    pub(crate) x1: i32,
    pub(crate) y1: i32,
}

impl Rect {
    fn at(p: (i32, i32), size: (i32, i32)) -> Rect {
        Rect { x0: p.0, y0: p.1, x1: p.0 + size.0, y1: p.1 + size.1 }
    }
    pub(crate) fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }
    pub(crate) fn inside(&self, o: &Rect) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }
}

/// Where a label of `size` goes: of `candidates` (top-left corners), those inside `area` that
/// overlap nothing `taken`; of them the first, or with `drawn`, the one farthest from the data
/// (`clear_spot`). When none is free, the free spot nearest the first candidate; failing that,
/// the first candidate moved inside `area`. Text is never clipped, nor drawn over other text.
fn place(
    candidates: &[(i32, i32)],
    size: (i32, i32),
    area: Rect,
    taken: &[Rect],
    drawn: Option<&[(i32, i32)]>,
) -> (i32, i32) {
    let free = |p: &(i32, i32)| {
        let r = Rect::at(*p, size);
        r.inside(&area) && !taken.iter().any(|t| t.overlaps(&r))
    };
    let ok: Vec<(i32, i32)> = candidates.iter().copied().filter(free).collect();
    match (ok.first(), drawn) {
        (Some(_), Some(d)) => return clear_spot(&ok, size, d),
        (Some(p), None) => return *p,
        _ => {}
    }
    let (x, y) = candidates[0];
    let mut around: Vec<(i32, i32)> =
        (-40..=40).flat_map(|i| (-30..=30).map(move |j| (x + 6 * i, y + 5 * j))).collect();
    around.sort_by_key(|&(a, b)| (i64::from(a - x).pow(2) + i64::from(b - y).pow(2), a, b));
    around.into_iter().find(free).unwrap_or((
        x.clamp(area.x0, (area.x1 - size.0).max(area.x0)),
        y.clamp(area.y0, (area.y1 - size.1).max(area.y0)),
    ))
}

/// An x or y axis with the ticks chosen here: plotters' own (as its mesh would choose `n`
/// labels), or given ones.
struct Axis {
    inner: RangedCoordf64,
    bold: Vec<f64>,
    light: Vec<f64>,
}

impl plotters::coord::ranged1d::Ranged for Axis {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;
    fn map(&self, v: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(v, limit)
    }
    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() { self.light.clone() } else { self.bold.clone() }
    }
    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

fn axis_spec(lo: f64, hi: f64, ticks: Option<&[(f64, String)]>, n: usize) -> Axis {
    use plotters::coord::ranged1d::{BoldPoints, LightPoints, Ranged};
    let inner: RangedCoordf64 = (lo..hi).into();
    let (bold, light) = match ticks {
        Some(t) => (t.iter().map(|p| p.0).filter(|v| *v >= lo && *v <= hi).collect(), Vec::new()),
        None => (inner.key_points(BoldPoints(n)), inner.key_points(LightPoints::new(n, n * 10))),
    };
    Axis { inner, bold, light }
}

/// The text of the tick at `v` among `ticks`.
fn tick_text(ticks: &[(f64, String)], v: f64) -> String {
    ticks.iter().find(|t| (t.0 - v).abs() <= 1e-9 * (1.0 + v.abs())).map_or_else(String::new, |t| t.1.clone())
}

/// The legend's box, where plotters will draw it: found by drawing `chart` once without
/// labels into a backend that only records (the legend's translucent background).
fn legend_box(chart: &Chart) -> Vec<Rect> {
    let mut rec = Recorder::new(SIZE);
    let _ = render((&mut rec).into_drawing_area(), chart, &[]);
    rec.backgrounds
}

/// Draw `chart` (its labels clear of `obstacles`); the plot area, in pixels.
fn render<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    chart: &Chart,
    obstacles: &[Rect],
) -> Result<Rect, Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let logs;
    let chart = if chart.log_y {
        logs = in_logs(chart);
        &logs
    } else {
        chart
    };
    let (x0, x1) = x_range(chart);
    let (y0, y1) = y_range(chart);
    let n_x = chart.categories.as_ref().map_or(11, |c| c.len() * 2 + 1);
    let n_y = if chart.log_y { 40 } else { 11 };
    let mut c = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", title_size(&root, &chart.title)))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(
            axis_spec(x0, x1, chart.x_ticks.as_deref(), n_x),
            axis_spec(y0, y1, chart.y_ticks.as_deref(), n_y),
        )?;
    let cats = chart.categories.clone();
    let x_ticks = chart.x_ticks.clone();
    let x_fmt = move |x: &f64| match (&cats, &x_ticks) {
        (_, Some(t)) => tick_text(t, *x),
        (Some(c), None) => {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < c.len() {
                c[i as usize].clone()
            } else {
                String::new()
            }
        }
        (None, None) => axis_label(x1 - x0)(x),
    };
    let linear = axis_label(y1 - y0);
    let log_y = chart.log_y;
    let y_ticks = chart.y_ticks.clone();
    // On a log axis a tick at v reads 10^v, labelled only at 1, 2 and 5 times a power of ten.
    let y_fmt = move |v: &f64| match &y_ticks {
        Some(t) => tick_text(t, *v),
        None if log_y => log_tick(*v),
        None => linear(v),
    };
    c.configure_mesh()
        .x_desc(chart.x_desc.as_str())
        .y_desc(chart.y_desc.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()?;
    let (px, py) = c.plotting_area().get_pixel_range();
    let area = Rect { x0: px.start, y0: py.start, x1: px.end, y1: py.end };
    for &b in &chart.x_breaks {
        // A break in the axis: a gap with two slanted strokes.
        let at = c.backend_coord(&(b, y0));
        root.draw(&Rectangle::new([(at.0 - 5, at.1 - 6), (at.0 + 5, at.1 + 6)], WHITE.filled()))?;
        for dx in [-5, 1] {
            root.draw(&PathElement::new(vec![(at.0 + dx - 2, at.1 + 6), (at.0 + dx + 4, at.1 - 6)], BLACK))?;
        }
    }
    if let Some(w) = chart.warmup.filter(|w| *w > 0.0) {
        let shade = RGBColor(120, 120, 120).mix(0.15).filled();
        c.draw_series(std::iter::once(Rectangle::new([(x0.max(0.0), y0), (w.min(x1), y1)], shade)))?
            .label("warm-up (not measured)")
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 18, y + 5)], shade));
    }
    // Text already on the plot (the legend, each label placed): a label goes where none is.
    let mut taken: Vec<Rect> = obstacles.to_vec();
    // Where the data is drawn, in pixels: the marks' text goes where it covers none of it.
    let drawn: Vec<(i32, i32)> = finite_points(chart).map(|p| c.backend_coord(&(p.0, p.1.clamp(y0, y1)))).collect();
    for (i, s) in chart.series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let valid: Vec<&PlotPoint> = s.points.iter().filter(|p| p.1.is_finite()).collect();
        let connect = s.labels.is_empty();
        if connect {
            // Kept inside the plot, and drawn segment by segment: plotters joins a thick
            // polyline's segments with mitres, which spike far past a sharp turn (a restart's
            // drop to 0 and back).
            let inside: Vec<(f64, f64)> = valid.iter().map(|p| (p.0, p.1.clamp(y0, y1))).collect();
            let segments = inside.windows(2).map(|w| PathElement::new(w.to_vec(), color.stroke_width(2)));
            c.draw_series(segments)?
                .label(s.name.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
        }
        if !connect && !s.name.is_empty() {
            // Labelled points in several series: the legend says which series is which.
            c.draw_series(valid.iter().map(|p| Circle::new((p.0, p.1), 4, color.filled())))?
                .label(s.name.as_str())
                .legend(move |(x, y)| Circle::new((x + 9, y), 4, color.filled()));
        } else if valid.len() <= 60 || !connect {
            c.draw_series(valid.iter().map(|p| Circle::new((p.0, p.1), 4, color.filled())))?;
        }
        for p in &valid {
            if let Some((lo, hi)) = p.2 {
                let w = (x1 - x0) * 0.008;
                for seg in
                    [vec![(p.0, lo), (p.0, hi)], vec![(p.0 - w, lo), (p.0 + w, lo)], vec![(p.0 - w, hi), (p.0 + w, hi)]]
                {
                    c.draw_series(std::iter::once(PathElement::new(seg, color.stroke_width(1))))?;
                }
            }
        }
    }
    // The answer's ring, which no label may cover.
    let ring = chart.answer.as_ref().filter(|a| a.0 >= x0 && a.0 <= x1 && a.1 >= y0 && a.1 <= y1);
    if let Some((x, y, _)) = ring {
        let at = c.backend_coord(&(*x, *y));
        taken.push(Rect { x0: at.0 - 12, y0: at.1 - 12, x1: at.0 + 13, y1: at.1 + 13 });
    }
    // Each point's label beside its marker (above its right, else another side), where no
    // other label is and inside the plot.
    for s in &chart.series {
        for (p, label) in s.points.iter().zip(&s.labels) {
            if p.1.is_finite() && p.0.is_finite() && !label.is_empty() {
                let at = c.backend_coord(&(p.0, p.1));
                let style = ("sans-serif", 13).into_font().color(&BLACK);
                let size = root.estimate_text_size(label, &style).map_or((0, 0), |s| (s.0 as i32, s.1 as i32));
                let (w, h) = size;
                let spots = [
                    (at.0 + 7, at.1 - h - 3),
                    (at.0 + 7, at.1 + 4),
                    (at.0 - w - 7, at.1 - h - 3),
                    (at.0 - w - 7, at.1 + 4),
                    (at.0 - w / 2, at.1 - h - 7),
                    (at.0 - w / 2, at.1 + 8),
                ];
                let pos = place(&spots, size, area, &taken, None);
                taken.push(Rect::at(pos, size));
                root.draw(&Text::new(label.clone(), pos, style))?;
            }
        }
    }
    for m in &chart.marks {
        // Only marks the axes reach (see `marked`): one outside would be drawn on the axis.
        let (lo, hi) = if m.vertical { (x0, x1) } else { (y0, y1) };
        if !(m.at >= lo && m.at <= hi) {
            continue;
        }
        let ink = if m.answer { RGBColor(0, 130, 50) } else { RGBColor(60, 60, 60) };
        let ends = if m.vertical { [(m.at, y0), (m.at, y1)] } else { [(x0, m.at), (x1, m.at)] };
        c.draw_series(std::iter::once(DashedPathElement::new(ends, 8, 5, ink.stroke_width(2))))?;
        let style = ("sans-serif", 14).into_font().color(&ink);
        let size = root.estimate_text_size(&m.label, &style).map_or((0, 0), |s| (s.0 as i32, s.1 as i32));
        let (a, b) = (c.backend_coord(&ends[0]), c.backend_coord(&ends[1]));
        // Either end of the line, on either side of it (a vertical line's text reads across).
        let candidates = if m.vertical {
            [
                (a.0 + 6, a.1 - size.1 - 6),
                (a.0 - size.0 - 6, a.1 - size.1 - 6),
                (b.0 + 6, b.1 + 6),
                (b.0 - size.0 - 6, b.1 + 6),
            ]
        } else {
            [
                (b.0 - size.0 - 6, b.1 - size.1 - 6),
                (b.0 - size.0 - 6, b.1 + 6),
                (a.0 + 6, a.1 - size.1 - 6),
                (a.0 + 6, a.1 + 6),
            ]
        };
        let pos = place(&candidates, size, area, &taken, Some(&drawn));
        taken.push(Rect::at(pos, size));
        root.draw(&Text::new(m.label.clone(), pos, style))?;
    }
    if let Some((x, y, text)) = ring {
        let green = RGBColor(0, 130, 50);
        let at = c.backend_coord(&(*x, *y));
        root.draw(&Circle::new(at, 10, green.stroke_width(3)))?;
        let style = ("sans-serif", 14).into_font().color(&green);
        let size = root.estimate_text_size(text, &style).map_or((0, 0), |s| (s.0 as i32, s.1 as i32));
        let others: Vec<(i32, i32)> = drawn.iter().copied().filter(|&p| p != at).collect();
        let spots = [
            (at.0 + 14, at.1 + 8),
            (at.0 + 14, at.1 - size.1 - 8),
            (at.0 - size.0 - 14, at.1 + 8),
            (at.0 - size.0 - 14, at.1 - size.1 - 8),
        ];
        root.draw(&Text::new(text.clone(), place(&spots, size, area, &taken, Some(&others)), style))?;
    }
    if chart.series.iter().any(|s| !s.name.is_empty()) || chart.warmup.is_some_and(|w| w > 0.0) {
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(area)
}

/// A backend that draws nothing and records where text and translucent backgrounds (the
/// legend's) would go: for placing labels, and for tests to check that no text is clipped or
/// drawn over other text.
pub(crate) struct Recorder {
    size: (u32, u32),
    /// Each text drawn, with its box.
    pub(crate) texts: Vec<(String, Rect)>,
    /// Filled boxes drawn translucent (the legend's background).
    pub(crate) backgrounds: Vec<Rect>,
}

impl Recorder {
    pub(crate) fn new(size: (u32, u32)) -> Recorder {
        Recorder { size, texts: Vec::new(), backgrounds: Vec::new() }
    }
}

impl DrawingBackend for &mut Recorder {
    type ErrorType = std::fmt::Error;
    fn get_size(&self) -> (u32, u32) {
        self.size
    }
    fn ensure_prepared(&mut self) -> Result<(), plotters_backend::DrawingErrorKind<std::fmt::Error>> {
        Ok(())
    }
    fn present(&mut self) -> Result<(), plotters_backend::DrawingErrorKind<std::fmt::Error>> {
        Ok(())
    }
    fn draw_pixel(
        &mut self,
        _: plotters_backend::BackendCoord,
        _: plotters_backend::BackendColor,
    ) -> Result<(), plotters_backend::DrawingErrorKind<std::fmt::Error>> {
        Ok(())
    }
    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        _: plotters_backend::BackendCoord,
        _: plotters_backend::BackendCoord,
        _: &S,
    ) -> Result<(), plotters_backend::DrawingErrorKind<std::fmt::Error>> {
        Ok(())
    }
    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        a: plotters_backend::BackendCoord,
        b: plotters_backend::BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), plotters_backend::DrawingErrorKind<std::fmt::Error>> {
        let c = style.color();
        if fill && c.alpha > 0.0 && c.alpha < 1.0 && c.rgb == (255, 255, 255) {
            self.backgrounds.push(Rect { x0: a.0.min(b.0), y0: a.1.min(b.1), x1: a.0.max(b.0), y1: a.1.max(b.1) });
        }
        Ok(())
    }
    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = plotters_backend::BackendCoord>>(
        &mut self,
        _: I,
        _: &S,
    ) -> Result<(), plotters_backend::DrawingErrorKind<std::fmt::Error>> {
        Ok(())
    }
    fn draw_circle<S: plotters_backend::BackendStyle>(
        &mut self,
        _: plotters_backend::BackendCoord,
        _: u32,
        _: &S,
        _: bool,
    ) -> Result<(), plotters_backend::DrawingErrorKind<std::fmt::Error>> {
        Ok(())
    }
    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = plotters_backend::BackendCoord>>(
        &mut self,
        _: I,
        _: &S,
    ) -> Result<(), plotters_backend::DrawingErrorKind<std::fmt::Error>> {
        Ok(())
    }
    fn draw_text<S: plotters_backend::BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: plotters_backend::BackendCoord,
    ) -> Result<(), plotters_backend::DrawingErrorKind<std::fmt::Error>> {
        use plotters_backend::text_anchor::{HPos, VPos};
        if style.color().alpha == 0.0 || text.is_empty() {
            return Ok(());
        }
        // As `Glyphs` draws it: the line's box, anchored and turned as asked.
        let (w, h) = super::glyphs::rasterize(text, style.size() as f32, |_, _, _| {});
        let (w, h) = (w.ceil() as i32, h.ceil() as i32);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Center => -w / 2,
            HPos::Right => -w,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -h / 2,
            VPos::Bottom => -h,
        };
        let t = style.transform();
        let (a, b) = (t.transform(dx, dy), t.transform(dx + w, dy + h));
        let r = Rect {
            x0: pos.0 + a.0.min(b.0),
            y0: pos.1 + a.1.min(b.1),
            x1: pos.0 + a.0.max(b.0),
            y1: pos.1 + a.1.max(b.1),
        };
        self.texts.push((text.to_string(), r));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples every 5 minutes for 3 hours: 10 attempts per interval, all recovered in the first
    /// hour (the warm-up), half of them after.
    fn samples() -> Vec<Sample> {
        (0..=36u64)
            .map(|i| {
                let ok = if i <= 12 { 10 * i } else { 120 + 5 * (i - 12) };
                Sample {
                    time: SimTime::from_micros(i * 300_000_000),
                    active_sessions: 0,
                    retained_contexts: 0,
                    retained_bytes: 0,
                    recovery_attempts: 10 * i,
                    recovery_successes: ok,
                }
            })
            .collect()
    }

    #[test]
    fn the_rate_line_starts_after_the_warm_up_and_its_first_attempts() {
        let (hourly, measured) = recovery_rates(&samples(), SimDuration::from_micros(3_600_000_000));
        assert_eq!(hourly, vec![(0.5, 1.0), (1.5, 0.5), (2.5, 0.5)]);
        // Cumulated from the end of the warm-up (1 h), from its 20th attempt on (70 minutes).
        assert_eq!(measured.first(), Some(&(70.0 / 60.0, 0.5)));
        assert_eq!(measured.len(), 36 - 14 + 1);
        assert!(measured.iter().all(|&(_, r)| r == 0.5));
        // Without a warm-up it starts at t = 0, but not before 20 attempts (a rate of 1 after
        // one success says nothing).
        let (_, from_zero) = recovery_rates(&samples(), SimDuration::ZERO);
        assert_eq!(from_zero.first(), Some(&(10.0 / 60.0, 1.0)));
        assert_eq!(recovery_rates(&[], SimDuration::ZERO), (vec![], vec![]));
    }

    #[test]
    fn log_ticks_are_labelled_at_one_two_and_five() {
        assert_eq!(log_tick(0.0), "1");
        assert_eq!(log_tick(2f64.log10()), "2");
        assert_eq!(log_tick(0.7), "5");
        assert_eq!(log_tick(1.0), "10");
        assert_eq!(log_tick(-0.3), "0.5");
        assert_eq!(log_tick(2.0), "100");
        assert_eq!(log_tick(0.15), "");
        assert_eq!(log_tick(0.5), "");
    }

    #[test]
    fn a_marks_text_goes_where_no_data_is() {
        let at = clear_spot(&[(0, 0), (100, 0)], (10, 10), &[(5, 5)]);
        assert_eq!(at, (100, 0));
        // Equally clear: the first candidate.
        assert_eq!(clear_spot(&[(0, 0), (100, 0)], (10, 10), &[(55, 500)]), (0, 0));
        assert_eq!(clear_spot(&[(7, 7)], (10, 10), &[]), (7, 7));
    }

    fn chart(marks: Vec<Mark>) -> Chart {
        Chart {
            title: "t".into(),
            x_desc: "x".into(),
            y_desc: "y".into(),
            categories: None,
            series: vec![Series {
                name: String::new(),
                points: vec![(1.0, 1.0, None), (2.0, 2.0, None)],
                labels: vec![],
            }],
            y_range: None,
            log_y: false,
            marks,
            warmup: None,
            answer: None,
            ..Chart::default()
        }
    }

    #[test]
    fn the_axes_reach_every_mark() {
        let y = Mark { at: 5.0, vertical: false, label: "budget".into(), answer: false };
        let x = Mark { at: 5.0, vertical: true, label: "answer".into(), answer: true };
        assert_eq!(y_range(&chart(vec![])).1, 2.0 * 1.1);
        assert_eq!(y_range(&chart(vec![y.clone()])).1, 5.0 * 1.1);
        assert!(x_range(&chart(vec![x.clone()])).1 > 5.0);
        // A bound far beyond the data (a 1 GiB budget over KiB) is left off: the data keeps the axis.
        let far = Mark { at: 1000.0, vertical: false, label: "budget".into(), answer: false };
        assert_eq!(y_range(&chart(vec![far.clone()])).1, 2.0 * 1.1);
        assert!(x_range(&chart(vec![Mark { vertical: true, ..far }])).1 < 3.0);
        assert!(x_range(&chart(vec![])).1 < 3.0);
        // On a log axis the mark is moved with the data.
        let logs = in_logs(&Chart { log_y: true, ..chart(vec![y, x]) });
        assert_eq!(logs.marks[0].at, 5f64.log10());
        assert_eq!(logs.marks[1].at, 5.0, "a vertical mark is on x, which stays linear");
        assert!(logs.y_range.unwrap().1 > 5f64.log10());
    }

    /// Every text of `chart` as drawn, the plot area and the legend's box.
    fn drawn_texts(chart: &Chart) -> (Vec<(String, Rect)>, Rect, Vec<Rect>) {
        register_font();
        let legend = legend_box(chart);
        let mut rec = Recorder::new(SIZE);
        let area = render((&mut rec).into_drawing_area(), chart, &legend).unwrap();
        (rec.texts, area, legend)
    }

    /// No text leaves the canvas or lies over another (the title, ticks, the legend's entries,
    /// the labels), and every label placed on the plot stays inside it, clear of the legend.
    fn assert_legible(name: &str, chart: &Chart, labels: &[&str]) {
        let (texts, area, legend) = drawn_texts(chart);
        let canvas = Rect { x0: 0, y0: 0, x1: SIZE.0 as i32, y1: SIZE.1 as i32 };
        for (i, (t, r)) in texts.iter().enumerate() {
            assert!(r.inside(&canvas), "{name}: {t:?} at {r:?} is clipped");
            for (u, q) in &texts[i + 1..] {
                assert!(!r.overlaps(q), "{name}: {t:?} at {r:?} is drawn over {u:?} at {q:?}");
            }
        }
        for l in labels {
            let found: Vec<&Rect> = texts.iter().filter(|(t, _)| t == l).map(|(_, r)| r).collect();
            assert!(!found.is_empty(), "{name}: {l:?} is not drawn: {texts:?}");
            for r in found {
                assert!(r.inside(&area), "{name}: {l:?} at {r:?} leaves the plot {area:?}");
                assert!(!legend.iter().any(|g| g.overlaps(r)), "{name}: {l:?} at {r:?} is under the legend");
            }
        }
    }

    fn labelled(name: &str, points: &[(f64, f64)], labels: &[&str]) -> Series {
        Series {
            name: name.into(),
            points: points.iter().map(|&(x, y)| (x, y, None)).collect(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn no_text_is_clipped_or_drawn_over_other_text() {
        // ttl_keepalive's trade-off: two series whose points nearly coincide, "2h" over "2h".
        let names = ["2h", "1h", "30m", "15m", "5m", "2m"];
        let a = [(263.0, 0.583), (316.0, 0.566), (377.0, 0.572), (437.0, 0.592), (505.0, 0.633), (526.0, 0.677)];
        let b = [(265.0, 0.581), (326.0, 0.566), (392.0, 0.581), (458.0, 0.607), (517.0, 0.658), (544.0, 0.71)];
        let tradeoff = Chart {
            title: "ttl_keepalive: what recovery costs in memory (mean of 3 runs per point)".into(),
            x_desc: "retained context memory, time-weighted mean (KiB)".into(),
            y_desc: "recovery success rate".into(),
            series: vec![labelled("ratio=0.5", &a, &names), labelled("ratio=0.9", &b, &names)],
            y_range: Some((0.0, 1.0)),
            ..Chart::default()
        };
        assert_legible("clustered points", &tradeoff, &names);
        // login_modes: long labels on the rightmost points, which ran off the canvas.
        let long = ["four_way_share=0.0", "four_way_share=1.0"];
        let edge = Chart {
            series: vec![
                labelled("remember=true", &[(98.2, 0.577), (100.0, 0.575)], &long),
                labelled("remember=false", &[(93.8, 0.577), (96.0, 0.577)], &long),
            ],
            y_range: Some((0.0, 1.0)),
            ..tradeoff
        };
        assert_legible("labels at the right edge", &edge, &long);
        // retention_sweep: the answer at a rate of 0.99 under the title, a target beside it.
        let sweep = Chart {
            title: "retention_sweep: recovery success rate (mean of 5 runs per point, 95% CI)".into(),
            categories: Some(["0s", "5m", "30m", "2h", "24h", "infinite"].map(String::from).to_vec()),
            series: vec![Series {
                name: String::new(),
                points: [0.17, 0.27, 0.58, 0.85, 0.9945, 0.9983]
                    .iter()
                    .enumerate()
                    .map(|(i, &y)| (i as f64, y, Some((y - 0.002, y + 0.002))))
                    .collect(),
                labels: vec![],
            }],
            y_range: Some((0.0, 1.0)),
            marks: vec![Mark { at: 0.95, vertical: false, label: "target: ≥ 0.95".into(), answer: false }],
            answer: Some((4.0, 0.9945, "answer".into())),
            ..Chart::default()
        };
        assert_legible("answer under the title", &sweep, &["answer", "target: ≥ 0.95"]);
        // client_id_churn: the answer's text near the left edge, by the target's.
        let churn = Chart {
            series: vec![labelled("", &[(0.47, 0.82), (1.62, 0.955), (7.7, 0.96)], &["2h", "24h", "infinite"])],
            marks: vec![Mark { at: 0.95, vertical: false, label: "target: ≥ 0.95".into(), answer: false }],
            answer: Some((1.62, 0.955, "answer: retention=24h".into())),
            y_range: Some((0.0, 1.0)),
            ..Chart::default()
        };
        assert_legible("answer by the axis", &churn, &["answer: retention=24h", "target: ≥ 0.95", "24h"]);
        // Over time: a legend, the warm-up, two restarts close together, a budget.
        let over_time = Chart {
            title: "sap_restart_storm: retained context memory over time (mean of replications)".into(),
            series: (0..6)
                .map(|k| Series {
                    name: format!("sap.workers={k}, sap.restart_keeps_retained=false"),
                    points: (0..100).map(|i| (i as f64 * 0.24, 1.0 + 0.01 * k as f64, None)).collect(),
                    labels: vec![],
                })
                .collect(),
            warmup: Some(6.0),
            marks: vec![
                Mark { at: 12.0, vertical: true, label: "SAP restart".into(), answer: false },
                Mark { at: 12.5, vertical: true, label: "SAP restart".into(), answer: false },
                Mark { at: 1.1, vertical: false, label: "budget: peak ≤ 1.10 MiB".into(), answer: false },
            ],
            ..Chart::default()
        };
        assert_legible("restarts", &over_time, &["SAP restart", "budget: peak ≤ 1.10 MiB"]);
    }
}
