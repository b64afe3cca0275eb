//! The viewer's text: the status line, the Before/After labels at the split, the help panel
//! and the disclaimer, rasterised on the CPU (ab_glyph and the embedded DejaVu Sans of the
//! contact sheets; no text library supports wgpu 30 yet) into a premultiplied RGBA layer the
//! present pass lays over the frame. Redrawn only when the text or the split changes.

use super::input::HELP;
use crate::output::png::DISCLAIMER_TEXT;
use crate::output::text::rasterize;
use image::RgbaImage;

/// What the overlay shows.
#[derive(Clone, Debug, PartialEq)]
pub struct OverlayText {
    pub status: String,
    /// An error (a failed reload) shown above the status line, in red.
    pub error: Option<String>,
    pub split_x: Option<f32>,
    pub help: bool,
    /// The window's scale factor (2 on a HiDPI screen): text and lines grow with it.
    pub scale: f32,
    /// Design mode's guides, line and points, in window pixels.
    pub shapes: Vec<Shape>,
}

/// A drawing in window pixels (y down).
#[derive(Clone, Debug, PartialEq)]
pub enum Shape {
    Line {
        points: Vec<(f32, f32)>,
        rgb: [u8; 3],
        width_px: f32,
        /// Dash length (gaps the same), or solid.
        dash_px: Option<f32>,
    },
    Dot {
        x: f32,
        y: f32,
        radius_px: f32,
        rgb: [u8; 3],
        /// Filled, or a ring.
        filled: bool,
    },
    /// Text on a translucent badge, vertically centred on `y`, starting at `x` (or ending
    /// there, `to_left`).
    Label {
        x: f32,
        y: f32,
        text: String,
        rgb: [u8; 3],
        small: bool,
        to_left: bool,
    },
}

const WHITE: [u8; 3] = [245, 245, 245];
const GREY: [u8; 3] = [190, 190, 190];
const RED: [u8; 3] = [255, 120, 110];
const PANEL: [u8; 3] = [16, 16, 16];
const PANEL_ALPHA: f32 = 0.62;

/// Text size (pixels) for a window `height` pixels tall at scale factor `scale`: legible at
/// arm's length on a laptop. Sized in logical pixels, so a HiDPI screen (scale 2) gets text
/// twice as many pixels tall, the same size to the eye.
pub fn text_px(height: u32, scale: f32) -> f32 {
    let scale = scale.clamp(0.5, 4.0);
    (height as f32 / scale / 46.0).clamp(12.0, 22.0) * scale
}

/// A premultiplied, sRGB-encoded RGBA layer.
struct Layer {
    image: RgbaImage,
}

impl Layer {
    /// "Over" compositing of an sRGB colour at opacity `a` onto one pixel.
    fn blend(&mut self, x: i32, y: i32, rgb: [u8; 3], a: f32) {
        let (w, h) = self.image.dimensions();
        if x < 0 || y < 0 || x as u32 >= w || y as u32 >= h || a <= 0.0 {
            return;
        }
        let a = a.min(1.0);
        let p = self.image.get_pixel_mut(x as u32, y as u32);
        for c in 0..3 {
            p[c] = (rgb[c] as f32 * a + p[c] as f32 * (1.0 - a)).round() as u8;
        }
        p[3] = (255.0 * a + p[3] as f32 * (1.0 - a)).round() as u8;
    }

    fn rect(&mut self, x: i32, y: i32, w: u32, h: u32, rgb: [u8; 3], a: f32) {
        for yy in y.max(0)..(y + h as i32) {
            for xx in x.max(0)..(x + w as i32) {
                self.blend(xx, yy, rgb, a);
            }
        }
    }

    /// An antialiased stroke from `a` to `b`, `width` pixels wide.
    fn segment(&mut self, a: (f32, f32), b: (f32, f32), width: f32, rgb: [u8; 3], alpha: f32) {
        let half = 0.5 * width;
        let (x0, x1) = (a.0.min(b.0) - half - 1.0, a.0.max(b.0) + half + 1.0);
        let (y0, y1) = (a.1.min(b.1) - half - 1.0, a.1.max(b.1) + half + 1.0);
        let (w, h) = self.image.dimensions();
        if x1 < 0.0 || y1 < 0.0 || x0 > w as f32 || y0 > h as f32 {
            return;
        }
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = (dx * dx + dy * dy).max(1e-6);
        for y in (y0.max(0.0) as i32)..=(y1.min(h as f32) as i32) {
            for x in (x0.max(0.0) as i32)..=(x1.min(w as f32) as i32) {
                let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
                let t = (((px - a.0) * dx + (py - a.1) * dy) / len2).clamp(0.0, 1.0);
                let d = ((px - a.0 - t * dx).powi(2) + (py - a.1 - t * dy).powi(2)).sqrt();
                let cover = (half + 0.5 - d).clamp(0.0, 1.0);
                if cover > 0.0 {
                    self.max_blend(x, y, rgb, cover * alpha);
                }
            }
        }
    }

    /// Like [`Layer::blend`], but overlapping strokes of one line do not darken each other:
    /// the higher coverage wins.
    fn max_blend(&mut self, x: i32, y: i32, rgb: [u8; 3], a: f32) {
        let (w, h) = self.image.dimensions();
        if x < 0 || y < 0 || x as u32 >= w || y as u32 >= h {
            return;
        }
        let have = self.image.get_pixel(x as u32, y as u32)[3] as f32 / 255.0;
        if a > have {
            self.blend(x, y, rgb, a);
        }
    }

    fn polyline(&mut self, points: &[(f32, f32)], width: f32, rgb: [u8; 3], dash: Option<f32>) {
        // A dark casing under the colour keeps the line visible on light skin and dark dots.
        for (colour, extra, alpha) in [([0, 0, 0], 2.0, 0.45), (rgb, 0.0, 1.0)] {
            let mut along = 0.0f32;
            for seg in points.windows(2) {
                let (a, b) = (seg[0], seg[1]);
                let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
                let on = match dash {
                    Some(d) => ((along + 0.5 * len) / d) as i64 % 2 == 0,
                    None => true,
                };
                along += len;
                if on {
                    self.segment(a, b, width + extra, colour, alpha);
                }
            }
        }
    }

    fn dot(&mut self, cx: f32, cy: f32, r: f32, rgb: [u8; 3], filled: bool) {
        let (w, h) = self.image.dimensions();
        let ring = (0.3 * r).max(1.5);
        for y in ((cy - r - 2.0).max(0.0) as i32)..=((cy + r + 2.0).min(h as f32) as i32) {
            for x in ((cx - r - 2.0).max(0.0) as i32)..=((cx + r + 2.0).min(w as f32) as i32) {
                let d = ((x as f32 + 0.5 - cx).powi(2) + (y as f32 + 0.5 - cy).powi(2)).sqrt();
                // A dark rim, then the colour: a disc or a ring.
                let outer = (r + 1.5 - d).clamp(0.0, 1.0);
                self.blend(x, y, [0, 0, 0], 0.6 * outer);
                let inside = (r + 0.5 - d).clamp(0.0, 1.0);
                let cover = if filled {
                    inside
                } else {
                    inside * (d - (r - ring) + 0.5).clamp(0.0, 1.0)
                };
                self.blend(x, y, rgb, cover);
            }
        }
    }

    fn text(&mut self, x: i32, y: i32, text: &str, px: f32, rgb: [u8; 3]) -> (u32, u32) {
        let (w, h, coverage) = rasterize(text, px);
        for gy in 0..h {
            for gx in 0..w {
                let c = coverage[(gy * w + gx) as usize];
                self.blend(x + gx as i32, y + gy as i32, rgb, c);
            }
        }
        (w, h)
    }

    /// Text on a translucent panel whose top-left corner is (x, y); returns the panel's size.
    fn badge(&mut self, x: i32, y: i32, text: &str, px: f32, rgb: [u8; 3]) -> (u32, u32) {
        let (tw, th, _) = rasterize(text, px);
        let (pad_x, pad_y) = ((px * 0.45).round() as u32, (px * 0.25).round() as u32);
        let (bw, bh) = (tw + 2 * pad_x, th + 2 * pad_y);
        self.rect(x, y, bw, bh, PANEL, PANEL_ALPHA);
        self.text(x + pad_x as i32, y + pad_y as i32, text, px, rgb);
        (bw, bh)
    }
}

/// Text shortened with an ellipsis to fit `max_w` pixels.
fn fit(text: &str, px: f32, max_w: u32) -> String {
    if crate::output::text::text_size(text, px).0 <= max_w {
        return text.to_string();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let s: String = chars.iter().collect::<String>() + "…";
        if crate::output::text::text_size(&s, px).0 <= max_w {
            return s;
        }
    }
    String::new()
}

/// Dots at least this large (window pixels at scale 1: the draggable points) are kept clear
/// of labels; the guides' small marks may sit under one.
const OBSTACLE_DOT_PX: f32 = 5.0;

/// A label's badge as it will be drawn: text size and box in window pixels.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct PlacedLabel<'a> {
    pub(super) text: &'a str,
    pub(super) rgb: [u8; 3],
    pub(super) size_px: f32,
    pub(super) left: f32,
    pub(super) top: f32,
    pub(super) width: f32,
    pub(super) height: f32,
}

impl PlacedLabel<'_> {
    /// Whether this badge comes within `margin` pixels of the box `[x0, x1] x [y0, y1]`.
    pub(super) fn near(&self, (x0, y0, x1, y1): (f32, f32, f32, f32), margin: f32) -> bool {
        self.left - margin < x1
            && x0 < self.left + self.width + margin
            && self.top - margin < y1
            && y0 < self.top + self.height + margin
    }
}

/// The labels of `shapes` to draw in a window `width` wide with text of `px`: a label drawn
/// later is drawn on top, so it wins; an earlier one that would touch it (within a quarter of
/// the text size) or a draggable point is left out, rather than piled under it. (Seen from the
/// side, the midline's 7-10 cm marks crowd each other and the mid-frontal point's badge.)
pub(super) fn placed_labels(
    shapes: &[Shape],
    width: u32,
    px: f32,
    scale: f32,
) -> Vec<PlacedLabel<'_>> {
    let margin = 0.25 * px;
    let obstacles: Vec<(f32, f32, f32, f32)> = shapes
        .iter()
        .filter_map(|s| match *s {
            Shape::Dot {
                x, y, radius_px, ..
            } if radius_px >= OBSTACLE_DOT_PX * scale => {
                Some((x - radius_px, y - radius_px, x + radius_px, y + radius_px))
            }
            _ => None,
        })
        .collect();
    let mut kept: Vec<PlacedLabel> = Vec::new();
    for shape in shapes.iter().rev() {
        let Shape::Label {
            x,
            y,
            text,
            rgb,
            small,
            to_left,
        } = shape
        else {
            continue;
        };
        let size_px = if *small { px * 0.8 } else { px };
        let (tw, th) = crate::output::text::text_size(text, size_px);
        let bw = tw as f32 + 2.0 * (size_px * 0.45).round();
        let bh = th as f32 + 2.0 * (size_px * 0.25).round();
        let left = if *to_left { x - bw } else { *x };
        let label = PlacedLabel {
            text,
            rgb: *rgb,
            size_px,
            left: left.clamp(0.0, (width as f32 - bw).max(0.0)),
            top: y - 0.5 * bh,
            width: bw,
            height: bh,
        };
        let crowded = kept
            .iter()
            .any(|k| label.near((k.left, k.top, k.left + k.width, k.top + k.height), margin))
            || obstacles.iter().any(|&b| label.near(b, 0.0));
        if !crowded {
            kept.push(label);
        }
    }
    kept.reverse();
    kept
}

/// The overlay for a `width` x `height` window.
pub fn draw(text: &OverlayText, width: u32, height: u32) -> RgbaImage {
    let mut layer = Layer {
        image: RgbaImage::new(width, height),
    };
    let px = text_px(height, text.scale);
    let line_h = (px * 1.45).ceil() as u32;
    let margin = (px * 0.5).round() as i32;
    for shape in &text.shapes {
        match shape {
            Shape::Line {
                points,
                rgb,
                width_px,
                dash_px,
            } => layer.polyline(points, *width_px, *rgb, *dash_px),
            Shape::Dot {
                x,
                y,
                radius_px,
                rgb,
                filled,
            } => layer.dot(*x, *y, *radius_px, *rgb, *filled),
            Shape::Label { .. } => {}
        }
    }
    // Labels over every line and point, those that crowd others left out.
    for badge in placed_labels(&text.shapes, width, px, text.scale) {
        layer.badge(
            badge.left as i32,
            badge.top as i32,
            badge.text,
            badge.size_px,
            badge.rgb,
        );
    }
    // Status band along the bottom, disclaimer at its right end.
    let band_y = height as i32 - line_h as i32;
    layer.rect(0, band_y, width, line_h, PANEL, PANEL_ALPHA);
    let small = px * 0.85;
    let (dw, _) = crate::output::text::text_size(DISCLAIMER_TEXT, small);
    let text_y = band_y + ((line_h as f32 - px * 1.17) / 2.0).max(0.0) as i32;
    let status_room = width.saturating_sub(dw + 3 * margin as u32);
    layer.text(
        margin,
        text_y,
        &fit(&text.status, px, status_room),
        px,
        WHITE,
    );
    if dw + 2 * (margin as u32) < width {
        layer.text(
            width as i32 - margin - dw as i32,
            text_y + ((px - small) * 0.6) as i32,
            DISCLAIMER_TEXT,
            small,
            GREY,
        );
    }
    if let Some(error) = &text.error {
        let msg = fit(
            error,
            px,
            width.saturating_sub(2 * margin as u32 + px as u32),
        );
        layer.badge(margin, band_y - line_h as i32 - margin, &msg, px, RED);
    }
    // Which side is which, beside the split line at the top.
    if let Some(x) = text.split_x {
        let gap = (px * 0.6) as i32;
        let (bw, _, _) = rasterize("Before", px);
        let before_w = bw as i32 + 2 * (px * 0.45).round() as i32;
        layer.badge(x as i32 - gap - before_w, margin, "Before", px, WHITE);
        layer.badge(x as i32 + gap, margin, "After", px, WHITE);
    }
    if text.help {
        let rows: Vec<(String, &str)> = HELP.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        let key_w = rows
            .iter()
            .map(|(k, _)| rasterize(k, px).0)
            .max()
            .unwrap_or(0);
        let text_w = rows
            .iter()
            .map(|(_, v)| rasterize(v, px).0)
            .max()
            .unwrap_or(0);
        let pad = px as u32;
        let panel_w = key_w + text_w + 3 * pad;
        let panel_h = rows.len() as u32 * line_h + 2 * pad + line_h;
        let (x0, y0) = (margin, margin + 2 * line_h as i32);
        layer.rect(x0, y0, panel_w, panel_h, PANEL, 0.78);
        let mut y = y0 + pad as i32;
        layer.text(x0 + pad as i32, y, "Stipple viewer: keys", px, WHITE);
        y += line_h as i32;
        for (k, v) in &rows {
            layer.text(x0 + pad as i32, y, k, px, WHITE);
            layer.text(x0 + (2 * pad + key_w) as i32, y, v, px, GREY);
            y += line_h as i32;
        }
    }
    layer.image
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_line_is_drawn_and_the_middle_is_clear() {
        let t = OverlayText {
            status: "after · studio · 12 ms".into(),
            error: None,
            split_x: None,
            help: false,
            scale: 1.0,
            shapes: Vec::new(),
        };
        let img = draw(&t, 400, 300);
        assert!(img.get_pixel(5, 295)[3] > 100, "status band");
        assert_eq!(img.get_pixel(200, 150)[3], 0, "the head stays clear");
    }

    fn label(x: f32, y: f32, text: &str) -> Shape {
        Shape::Label {
            x,
            y,
            text: text.into(),
            rgb: WHITE,
            small: true,
            to_left: false,
        }
    }

    /// Of two labels that would touch, the later (drawn on top) is kept; one clear of both is
    /// kept too; so is none that sits on a draggable point.
    #[test]
    fn crowded_labels_give_way_to_later_ones_and_to_points() {
        let shapes = vec![
            label(100.0, 100.0, "8"),
            label(104.0, 106.0, "7.0 cm"),
            label(100.0, 200.0, "glabella"),
            label(300.0, 300.0, "9"),
            Shape::Dot {
                x: 305.0,
                y: 300.0,
                radius_px: 6.5,
                rgb: WHITE,
                filled: true,
            },
        ];
        let texts: Vec<&str> = placed_labels(&shapes, 800, 14.0, 1.0)
            .iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(texts, ["7.0 cm", "glabella"]);
    }

    #[test]
    fn long_text_is_cut_to_fit() {
        let s = fit(&"x".repeat(500), 14.0, 100);
        assert!(s.ends_with('…'));
        assert!(crate::output::text::text_size(&s, 14.0).0 <= 100);
    }
}
