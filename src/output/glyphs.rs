//! PNG text drawn right. plotters 0.3.7 rasterizes text with ab_glyph but places each glyph at
//! the pen position without its left side bearing, so narrow letters slide into their
//! neighbours ("MiB" reads "MB", "infinite" reads "in finite"). `Glyphs` wraps the bitmap
//! backend and draws text itself: each glyph at its pen position plus its own bounds, kerned,
//! anchored and rotated as plotters asks. Everything else passes through.

use ab_glyph::{Font, FontRef, ScaleFont, point};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind};

/// The bundled font (DejaVu Sans), as plot.rs registers it with plotters.
pub(super) const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// A backend that draws text with correct glyph placement.
pub(super) struct Glyphs<B>(pub(super) B);

/// Every pixel of `text` at `size` px: (x, y, coverage) with the pen starting at (0, 0), the
/// top of the line; and the line's (width, height).
pub(super) fn rasterize(text: &str, size: f32, mut put: impl FnMut(i32, i32, f32)) -> (f32, f32) {
    let Ok(font) = FontRef::try_from_slice(FONT) else { return (0.0, 0.0) };
    let f = font.as_scaled(size);
    let (mut pen, mut prev) = (0.0f32, None);
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            pen += f.kern(p, id);
        }
        let g = id.with_scale_and_position(size, point(pen, f.ascent()));
        if let Some(o) = font.outline_glyph(g) {
            let b = o.px_bounds();
            o.draw(|x, y, cov| put(b.min.x as i32 + x as i32, b.min.y as i32 + y as i32, cov));
        }
        pen += f.h_advance(id);
        prev = Some(id);
    }
    (pen, f.ascent() - f.descent())
}

impl<B: DrawingBackend> DrawingBackend for Glyphs<B> {
    type ErrorType = B::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }
    fn draw_pixel(&mut self, p: BackendCoord, c: BackendColor) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(p, c)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        a: BackendCoord,
        b: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(a, b, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let mut pixels = Vec::new();
        let (w, h) = rasterize(text, style.size() as f32, |x, y, c| pixels.push((x, y, c)));
        let anchor = style.anchor();
        let dx = match anchor.h_pos {
            HPos::Left => 0.0,
            HPos::Center => -w / 2.0,
            HPos::Right => -w,
        };
        let dy = match anchor.v_pos {
            VPos::Top => 0.0,
            VPos::Center => -h / 2.0,
            VPos::Bottom => -h,
        };
        let (sw, sh) = self.get_size();
        let trans = style.transform();
        for (x, y, cov) in pixels {
            if cov <= 0.0 {
                continue;
            }
            let (tx, ty) = trans.transform(x + dx as i32, y + dy as i32);
            let (px, py) = (pos.0 + tx, pos.1 + ty);
            if px >= 0 && py >= 0 && (px as u32) < sw && (py as u32) < sh {
                let c = BackendColor { alpha: color.alpha * f64::from(cov.min(1.0)), rgb: color.rgb };
                self.0.draw_pixel((px, py), c)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Columns of `text` rendered at 13 px that hold ink.
    fn inked_columns(text: &str) -> Vec<bool> {
        let mut cols = vec![false; 200];
        rasterize(text, 13.0, |x, _, c| {
            if c > 0.5 && (0..200).contains(&x) {
                cols[x as usize] = true;
            }
        });
        cols
    }

    #[test]
    fn a_narrow_letter_keeps_its_own_place() {
        // "Mi": the M's ink, a blank column, the i's ink (plotters 0.3.7 joined them).
        let cols = inked_columns("Mi");
        let runs = cols.windows(2).filter(|w| w[0] && !w[1]).count() + usize::from(*cols.last().unwrap());
        assert_eq!(runs, 2, "{cols:?}");
        // "ii" draws two separate strokes, and a word's width grows with its letters.
        let two = inked_columns("ii");
        assert_eq!(two.windows(2).filter(|w| w[0] && !w[1]).count(), 2);
        assert!(rasterize("infinite", 13.0, |_, _, _| {}).0 > rasterize("infinit", 13.0, |_, _, _| {}).0);
    }
}
