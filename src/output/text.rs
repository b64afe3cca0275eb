//! Plain text and boxes on rendered frames (8- or 16-bit): labels and the disclaimer.
//! Glyphs come from `sheet.rs`: ab_glyph and the embedded DejaVu Sans of the contact sheets.

use super::png::DISCLAIMER_TEXT;
use crate::render::FrameImage;

/// Coverage (0-1) of one line of `text` at `px` pixels per em: width, height, row-major
/// coverage (the contact sheets' font and rasteriser).
pub use super::sheet::rasterize;

/// Width and height of one line of `text` at `px`.
pub fn text_size(text: &str, px: f32) -> (u32, u32) {
    let (w, h, _) = rasterize(text, px);
    (w, h)
}

/// Blends an sRGB colour over one pixel with opacity `a` (0-1); outside the image: nothing.
pub fn blend(img: &mut FrameImage, x: i32, y: i32, rgb: [u8; 3], a: f32) {
    let (w, h) = img.dimensions();
    if x < 0 || y < 0 || x as u32 >= w || y as u32 >= h || a <= 0.0 {
        return;
    }
    let a = a.min(1.0);
    match img {
        FrameImage::Eight(i) => {
            let p = i.get_pixel_mut(x as u32, y as u32);
            for c in 0..3 {
                p[c] = (p[c] as f32 + (rgb[c] as f32 - p[c] as f32) * a).round() as u8;
            }
        }
        FrameImage::Sixteen(i) => {
            let p = i.get_pixel_mut(x as u32, y as u32);
            for c in 0..3 {
                let target = rgb[c] as f32 * 257.0;
                p[c] = (p[c] as f32 + (target - p[c] as f32) * a).round() as u16;
            }
        }
    }
}

/// Fills a rectangle with an sRGB colour at opacity `a`.
pub fn fill_rect(img: &mut FrameImage, x: i32, y: i32, w: u32, h: u32, rgb: [u8; 3], a: f32) {
    for yy in y..y + h as i32 {
        for xx in x..x + w as i32 {
            blend(img, xx, yy, rgb, a);
        }
    }
}

/// Draws `text` with its top-left corner at (x, y).
pub fn draw_text(
    img: &mut FrameImage,
    x: i32,
    y: i32,
    text: &str,
    px: f32,
    rgb: [u8; 3],
    opacity: f32,
) {
    let (w, h, coverage) = rasterize(text, px);
    for gy in 0..h {
        for gx in 0..w {
            let c = coverage[(gy * w + gx) as usize];
            blend(img, x + gx as i32, y + gy as i32, rgb, c * opacity);
        }
    }
}

/// Which corner a badge is placed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

/// White text on a translucent dark box; (x, y) is the corner of the box nearest `corner`
/// of the image: for `TopLeft` its top-left, for `BottomRight` its bottom-right measured
/// from the image's bottom-right, and so on. Returns the box's size.
pub fn draw_badge(
    img: &mut FrameImage,
    corner: Corner,
    x: i32,
    y: i32,
    text: &str,
    px: f32,
) -> (u32, u32) {
    let (tw, th) = text_size(text, px);
    let pad_x = (px * 0.45).round() as u32;
    let pad_y = (px * 0.25).round() as u32;
    let (bw, bh) = (tw + 2 * pad_x, th + 2 * pad_y);
    let (iw, ih) = img.dimensions();
    let (bx, by) = match corner {
        Corner::TopLeft => (x, y),
        Corner::TopRight => (iw as i32 - x - bw as i32, y),
        Corner::BottomLeft => (x, ih as i32 - y - bh as i32),
        Corner::BottomRight => (iw as i32 - x - bw as i32, ih as i32 - y - bh as i32),
    };
    fill_rect(img, bx, by, bw, bh, [16, 16, 16], 0.55);
    draw_text(
        img,
        bx + pad_x as i32,
        by + pad_y as i32,
        text,
        px,
        [255, 255, 255],
        0.95,
    );
    (bw, bh)
}

/// Smallest disclaimer text that is still legible; smaller images go without it.
pub const MIN_DISCLAIMER_PX: f32 = 7.0;

/// Size of the disclaimer on an image `width` x `height`: a 40th of the height, and
/// never wider than two thirds of the image. None: the image is too small to carry it legibly.
pub fn disclaimer_px(width: u32, height: u32) -> Option<f32> {
    let mut px = (height as f32 / 40.0).clamp(MIN_DISCLAIMER_PX, 40.0);
    let (tw, _) = text_size(DISCLAIMER_TEXT, px);
    let max_w = width as f32 * 0.66;
    if tw as f32 > max_w && tw > 0 {
        px *= max_w / tw as f32;
    }
    (px >= MIN_DISCLAIMER_PX).then_some(px)
}

/// The disclaimer as a patch over `img`'s bottom-right corner: (x, y, patch), where the patch
/// is that corner of `img` with the disclaimer drawn on it. Drawing the patch over the image
/// gives what [`draw_disclaimer`] draws, without copying the whole frame. None: too small.
pub fn disclaimer_patch(img: &FrameImage) -> Option<(u32, u32, FrameImage)> {
    let (w, h) = img.dimensions();
    let px = disclaimer_px(w, h)?;
    let margin = (px * 0.5).round() as u32;
    let (tw, th) = text_size(DISCLAIMER_TEXT, px);
    // The badge's box (see `draw_badge`) and its margin, and a pixel to spare.
    let pw = (tw + 2 * (px * 0.45).round() as u32 + margin + 1).min(w);
    let ph = (th + 2 * (px * 0.25).round() as u32 + margin + 1).min(h);
    let (x, y) = (w - pw, h - ph);
    let mut patch = match img {
        FrameImage::Eight(i) => {
            FrameImage::Eight(image::imageops::crop_imm(i, x, y, pw, ph).to_image())
        }
        FrameImage::Sixteen(i) => {
            FrameImage::Sixteen(image::imageops::crop_imm(i, x, y, pw, ph).to_image())
        }
    };
    draw_badge(
        &mut patch,
        Corner::BottomRight,
        margin as i32,
        margin as i32,
        DISCLAIMER_TEXT,
        px,
    );
    Some((x, y, patch))
}

/// "Simulation, not a guarantee of results", small, in the bottom-right corner.
pub fn draw_disclaimer(img: &mut FrameImage) {
    let (w, h) = img.dimensions();
    let Some(px) = disclaimer_px(w, h) else {
        return;
    };
    let margin = (px * 0.5).round() as i32;
    draw_badge(
        img,
        Corner::BottomRight,
        margin,
        margin,
        DISCLAIMER_TEXT,
        px,
    );
}
