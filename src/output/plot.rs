//! timeseries.svg: active sessions, retained contexts and the cumulative recovery rate over
//! simulated time, so a run can be read at a glance. SVG text needs no font files.

use super::glyphs::Glyphs;
use super::{OutputError, out_err, write_atomic};
use crate::engine::time::{SimDuration, SimTime};
use crate::model::metrics::Sample;
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
) -> Result<(), OutputError> {
    register_font();
    let svg_path = dir.join(format!("{stem}.svg"));
    let mut svg = String::new();
    draw(SVGBackend::with_string(&mut svg, SIZE).into_drawing_area(), title, samples, warmup)
        .map_err(|e| out_err(&svg_path, format!("cannot draw: {e}")))?;
    write_atomic(&svg_path, svg.as_bytes())?;
    let png_path = dir.join(format!("{stem}.png"));
    let mut pixels = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    draw(Glyphs(BitMapBackend::with_buffer(&mut pixels, SIZE)).into_drawing_area(), title, samples, warmup)
        .map_err(|e| out_err(&png_path, format!("cannot draw: {e}")))?;
    write_atomic(&png_path, &encode_png(&pixels).map_err(|e| out_err(&png_path, e))?)
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    s: &[Sample],
    warmup: SimDuration,
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(380);
    let hours = |t: SimTime| t.as_micros() as f64 / 3.6e9;
    let end = s.last().map_or(1.0, |x| hours(x.time)).max(1e-9);
    let peak = s.iter().map(|x| x.active_sessions.max(x.retained_contexts)).max().unwrap_or(1).max(1) as f64;

    let mut c = ChartBuilder::on(&top)
        .caption(format!("{title}: sessions and retained contexts"), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..end, 0.0..peak * 1.05)?;
    c.configure_mesh().x_desc("simulated time (h)").y_desc("count").y_label_formatter(&|v| format!("{v:.0}")).draw()?;
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
    c.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;

    let mut r = ChartBuilder::on(&bottom)
        .caption("cumulative recovery success rate", ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..end, 0.0..1.0)?;
    r.configure_mesh().x_desc("simulated time (h)").y_desc("successes / attempts").draw()?;
    if !warmup.is_zero() {
        r.draw_series(std::iter::once(Rectangle::new([(0.0, 0.0), (warm, 1.0)], shade)))?;
    }
    r.draw_series(LineSeries::new(
        s.iter()
            .filter(|x| x.recovery_attempts > 0)
            .map(|x| (hours(x.time), x.recovery_successes as f64 / x.recovery_attempts as f64)),
        RGBColor(0, 140, 60).stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}

/// A line chart of one or more series, over numeric x or over categories (x = 0, 1, ...).
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
    let ys = series.iter().flat_map(|s| s.points.iter()).filter(|p| p.1.is_finite()).map(|p| p.1);
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), y| (a.min(y), b.max(y)));
    let y_range = if lo.is_finite() { Some((lo - 0.15, hi + 0.15)) } else { Some((0.0, 1.0)) };
    Chart {
        title: chart.title.clone(),
        x_desc: chart.x_desc.clone(),
        y_desc: format!("{} (log scale)", chart.y_desc),
        categories: chart.categories.clone(),
        series,
        y_range,
        log_y: true,
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
    let mut svg = String::new();
    render(SVGBackend::with_string(&mut svg, SIZE).into_drawing_area(), chart)
        .map_err(|e| out_err(&svg_path, format!("cannot draw: {e}")))?;
    write_atomic(&svg_path, svg.as_bytes())?;
    let png_path = dir.join(format!("{stem}.png"));
    let mut pixels = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    render(Glyphs(BitMapBackend::with_buffer(&mut pixels, SIZE)).into_drawing_area(), chart)
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

/// The x axis: the categories' positions, or the data padded by 5%.
fn x_range(chart: &Chart) -> (f64, f64) {
    match &chart.categories {
        Some(c) => (-0.5, c.len() as f64 - 0.5),
        None => {
            let lo = finite_points(chart).map(|p| p.0).fold(f64::INFINITY, f64::min);
            let hi = finite_points(chart).map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
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
    let legend_rows = chart.series.iter().filter(|s| s.labels.is_empty() && !s.name.is_empty()).count();
    let headroom = if legend_rows > 0 { 1.12 + 0.06 * legend_rows.min(10) as f64 } else { 1.1 };
    match chart.y_range {
        Some((lo, hi)) if legend_rows > 1 => (lo, lo + (hi - lo) * (headroom - 0.1)),
        Some(r) => r,
        None => {
            let hi = finite_points(chart).map(|p| p.2.map_or(p.1, |b| b.1.max(p.1))).fold(0.0, f64::max);
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

/// `v` to two significant digits (0.41, 8.9, 39, 1200).
fn significant(v: f64) -> String {
    if v <= 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let decimals = (1 - v.log10().floor() as i32).max(0) as usize;
    let step = 10f64.powi(v.log10().floor() as i32 - 1);
    format!("{:.decimals$}", (v / step).round() * step)
}

fn render<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    chart: &Chart,
) -> Result<(), Box<dyn std::error::Error>>
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
    let mut c = ChartBuilder::on(&root)
        .caption(&chart.title, ("sans-serif", 20))
        .margin(14)
        .x_label_area_size(44)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let cats = chart.categories.clone();
    let x_fmt = move |x: &f64| match &cats {
        Some(c) => {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < c.len() {
                c[i as usize].clone()
            } else {
                String::new()
            }
        }
        None => axis_label(x1 - x0)(x),
    };
    let linear = axis_label(y1 - y0);
    let log_y = chart.log_y;
    // On a log axis a tick at v reads 10^v, to two significant digits.
    let y_fmt = move |v: &f64| if log_y { significant(10f64.powf(*v)) } else { linear(v) };
    let mut mesh = c.configure_mesh();
    mesh.x_desc(chart.x_desc.as_str())
        .y_desc(chart.y_desc.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt);
    if let Some(cats) = &chart.categories {
        mesh.x_labels(cats.len() * 2 + 1);
    }
    mesh.draw()?;
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
        if valid.len() <= 60 || !connect {
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
        for (p, label) in s.points.iter().zip(&s.labels) {
            if p.1.is_finite() && p.0.is_finite() {
                // Beside the marker, above its right: the label never covers its point.
                let at = c.backend_coord(&(p.0, p.1));
                let style = ("sans-serif", 13).into_font().color(&BLACK);
                root.draw(&Text::new(label.clone(), (at.0 + 7, at.1 - 16), style))?;
            }
        }
    }
    if chart.series.iter().any(|s| s.labels.is_empty() && !s.name.is_empty()) {
        c.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
