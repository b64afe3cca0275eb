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
}

const WHITE: [u8; 3] = [245, 245, 245];
const GREY: [u8; 3] = [190, 190, 190];
const RED: [u8; 3] = [255, 120, 110];
const PANEL: [u8; 3] = [16, 16, 16];
const PANEL_ALPHA: f32 = 0.62;

/// Text size for a window `height` pixels tall: legible at arm's length on a laptop.
pub fn text_px(height: u32) -> f32 {
    (height as f32 / 46.0).clamp(11.0, 22.0)
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

/// The overlay for a `width` x `height` window.
pub fn draw(text: &OverlayText, width: u32, height: u32) -> RgbaImage {
    let mut layer = Layer {
        image: RgbaImage::new(width, height),
    };
    let px = text_px(height);
    let line_h = (px * 1.45).ceil() as u32;
    let margin = (px * 0.5).round() as i32;
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
        };
        let img = draw(&t, 400, 300);
        assert!(img.get_pixel(5, 295)[3] > 100, "status band");
        assert_eq!(img.get_pixel(200, 150)[3], 0, "the head stays clear");
    }

    #[test]
    fn long_text_is_cut_to_fit() {
        let s = fit(&"x".repeat(500), 14.0, 100);
        assert!(s.ends_with('…'));
        assert!(crate::output::text::text_size(&s, 14.0).0 <= 100);
    }
}
