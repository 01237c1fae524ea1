//! timeseries.svg: active sessions, retained contexts and the cumulative recovery rate over
//! simulated time, so a run can be read at a glance. SVG text needs no font files.

use super::{OutputError, out_err, write_atomic};
use crate::model::metrics::Sample;
use plotters::prelude::*;
use std::path::Path;

/// Plots measure their text with a bundled font (DejaVu Sans), so no system font is needed.
fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let font: &'static [u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, font);
    });
}

const SIZE: (u32, u32) = (900, 620);

/// Write `<stem>.svg` and `<stem>.png` into `dir`.
pub fn write_timeseries_plots(dir: &Path, stem: &str, title: &str, samples: &[Sample]) -> Result<(), OutputError> {
    register_font();
    let svg_path = dir.join(format!("{stem}.svg"));
    let mut svg = String::new();
    draw(SVGBackend::with_string(&mut svg, SIZE).into_drawing_area(), title, samples)
        .map_err(|e| out_err(&svg_path, format!("cannot draw: {e}")))?;
    write_atomic(&svg_path, svg.as_bytes())?;
    let png_path = dir.join(format!("{stem}.png"));
    let mut pixels = vec![0u8; (SIZE.0 * SIZE.1 * 3) as usize];
    draw(BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area(), title, samples)
        .map_err(|e| out_err(&png_path, format!("cannot draw: {e}")))?;
    let mut png = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut png, SIZE.0, SIZE.1);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut w = enc.write_header().map_err(|e| out_err(&png_path, e))?;
        w.write_image_data(&pixels).map_err(|e| out_err(&png_path, e))?;
    }
    write_atomic(&png_path, &png)
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    s: &[Sample],
) -> Result<(), Box<dyn std::error::Error>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (top, bottom) = root.split_vertically(380);
    let hours = |t: u64| t as f64 / 3.6e9;
    let end = s.last().map_or(1.0, |x| hours(x.time)).max(1e-9);
    let peak = s.iter().map(|x| x.active_sessions.max(x.retained_contexts)).max().unwrap_or(1).max(1) as f64;

    let mut c = ChartBuilder::on(&top)
        .caption(format!("{title}: sessions and retained contexts"), ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(64)
        .build_cartesian_2d(0.0..end, 0.0..peak * 1.05)?;
    c.configure_mesh().x_desc("simulated time (h)").y_desc("count").y_label_formatter(&|v| format!("{v:.0}")).draw()?;
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
    r.draw_series(LineSeries::new(
        s.iter()
            .filter(|x| x.recovery_attempts > 0)
            .map(|x| (hours(x.time), x.recovery_successes as f64 / x.recovery_attempts as f64)),
        RGBColor(0, 140, 60).stroke_width(2),
    ))?;
    root.present()?;
    Ok(())
}
