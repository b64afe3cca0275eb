//! Contact sheets: images side by side in a grid, each labelled underneath, and the lighting
//! sheet (one view of a scene under every lighting preset) built on them.
//!
//! Text is drawn with `ab_glyph` in DejaVu Sans (`assets/fonts/DejaVuSans.ttf`, embedded; its
//! licence is `assets/fonts/LICENSE-DejaVu.txt`).

use crate::lighting::{Lighting, LightingOptions, SpecError};
use crate::render::{FrameSettings, RenderError, Renderer};
use crate::scene::{Scene, ViewName};
use crate::study::Study;
use ab_glyph::{Font, FontRef, PxScale, ScaleFont, point};
use image::{Rgba, RgbaImage};
use std::sync::OnceLock;

/// DejaVu Sans, embedded.
pub const FONT_TTF: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Sheet background and label colours (sRGB): a dark neutral surround, which judges colour
/// and tone fairly, with light text.
pub const BACKGROUND: Rgba<u8> = Rgba([32, 32, 32, 255]);
pub const LABEL_COLOR: Rgba<u8> = Rgba([236, 236, 236, 255]);
pub const SUBLABEL_COLOR: Rgba<u8> = Rgba([170, 170, 170, 255]);

pub fn font() -> &'static FontRef<'static> {
    static F: OnceLock<FontRef<'static>> = OnceLock::new();
    F.get_or_init(|| FontRef::try_from_slice(FONT_TTF).expect("the embedded font parses"))
}

/// Width in pixels of one line of `text` at `px` pixels per em.
pub fn text_width(text: &str, px: f32) -> f32 {
    let f = font().as_scaled(PxScale::from(px));
    let mut width = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            width += f.kern(p, id);
        }
        width += f.h_advance(id);
        prev = Some(id);
    }
    width
}

/// Line height in pixels at `px` pixels per em.
pub fn line_height(px: f32) -> f32 {
    let f = font().as_scaled(PxScale::from(px));
    f.ascent() - f.descent() + f.line_gap()
}

/// Coverage (0-1) of one line of `text` at `px` pixels per em, tightly boxed from the top of
/// the line (ascent) to its bottom (descent): (width, height, row-major coverage). For drawing
/// on images of any bit depth.
pub fn rasterize(text: &str, px: f32) -> (u32, u32, Vec<f32>) {
    let scaled = font().as_scaled(PxScale::from(px));
    let w = text_width(text, px).ceil().max(0.0) as u32;
    let h = (scaled.ascent() - scaled.descent()).ceil().max(0.0) as u32;
    let mut cov = vec![0.0f32; (w * h) as usize];
    let mut caret = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(px, point(caret, scaled.ascent()));
        caret += scaled.h_advance(id);
        prev = Some(id);
        let Some(outline) = font().outline_glyph(glyph) else {
            continue;
        };
        let b = outline.px_bounds();
        outline.draw(|gx, gy, coverage| {
            let (x, y) = (b.min.x as i64 + gx as i64, b.min.y as i64 + gy as i64);
            if x >= 0 && y >= 0 && (x as u32) < w && (y as u32) < h {
                let c = &mut cov[(y as u32 * w + x as u32) as usize];
                *c = (*c + coverage).min(1.0);
            }
        });
    }
    (w, h, cov)
}

/// Draws one line of `text` with its top-left corner at (`x`, `y`), `px` pixels per em,
/// blended over the image (anti-aliased, in sRGB like most text renderers). Pixels outside the
/// image are skipped.
pub fn draw_text(img: &mut RgbaImage, x: f32, y: f32, px: f32, color: Rgba<u8>, text: &str) {
    // Whole-pixel placement: labels sit on pixel rows, so sub-pixel offsets buy nothing.
    let (w, h, cov) = rasterize(text, px);
    let (ox, oy) = (x.round() as i64, y.round() as i64);
    for ty in 0..h {
        for tx in 0..w {
            let coverage = cov[(ty * w + tx) as usize];
            let (px_x, px_y) = (ox + tx as i64, oy + ty as i64);
            if coverage <= 0.0
                || px_x < 0
                || px_y < 0
                || px_x >= img.width() as i64
                || px_y >= img.height() as i64
            {
                continue;
            }
            let a = coverage.clamp(0.0, 1.0) * color[3] as f32 / 255.0;
            let dst = img.get_pixel_mut(px_x as u32, px_y as u32);
            for k in 0..3 {
                dst[k] = (dst[k] as f32 * (1.0 - a) + color[k] as f32 * a).round() as u8;
            }
            dst[3] = dst[3].max((a * 255.0).round() as u8);
        }
    }
}

/// Layout of a contact sheet, for callers that want other than the defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SheetStyle {
    /// Space around and between cells (px).
    pub gap: u32,
    /// Label size (px per em); None: scaled to the tile width (1/22 of it, 12 to 28 px).
    pub label_px: Option<f32>,
    pub background: Rgba<u8>,
    /// First label line.
    pub label_color: Rgba<u8>,
    /// Later label lines.
    pub sublabel_color: Rgba<u8>,
}

impl Default for SheetStyle {
    fn default() -> Self {
        Self {
            gap: 16,
            label_px: None,
            background: BACKGROUND,
            label_color: LABEL_COLOR,
            sublabel_color: SUBLABEL_COLOR,
        }
    }
}

/// Tiles in a grid of `columns` (at least 1), left to right then top to bottom, each with its
/// label centred underneath; a label may have several lines (`\n`), the first drawn brighter.
/// Cells are as large as the largest tile; smaller tiles are centred in theirs. Lines too wide
/// for the cell are drawn smaller until they fit.
pub fn contact_sheet(tiles: &[(String, RgbaImage)], columns: u32) -> RgbaImage {
    contact_sheet_with(tiles, columns, &SheetStyle::default())
}

/// [`contact_sheet`] with a style.
pub fn contact_sheet_with(
    tiles: &[(String, RgbaImage)],
    columns: u32,
    style: &SheetStyle,
) -> RgbaImage {
    let columns = columns.clamp(1, tiles.len().max(1) as u32);
    let rows = (tiles.len() as u32).div_ceil(columns).max(1);
    let cell_w = tiles.iter().map(|(_, t)| t.width()).max().unwrap_or(64);
    let cell_h = tiles.iter().map(|(_, t)| t.height()).max().unwrap_or(64);
    let px = style
        .label_px
        .unwrap_or((cell_w as f32 / 22.0).clamp(12.0, 28.0));
    let lines = tiles
        .iter()
        .map(|(l, _)| l.lines().count())
        .max()
        .unwrap_or(0) as f32;
    let line_h = line_height(px);
    let label_h = if lines > 0.0 {
        (lines * line_h + 0.5 * px).ceil() as u32
    } else {
        0
    };
    let gap = style.gap;
    let width = columns * cell_w + (columns + 1) * gap;
    let height = rows * (cell_h + label_h) + (rows + 1) * gap;
    let mut sheet = RgbaImage::from_pixel(width, height, style.background);
    for (i, (label, tile)) in tiles.iter().enumerate() {
        let (col, row) = (i as u32 % columns, i as u32 / columns);
        let x0 = gap + col * (cell_w + gap);
        let y0 = gap + row * (cell_h + label_h + gap);
        let tx = x0 + (cell_w - tile.width()) / 2;
        let ty = y0 + (cell_h - tile.height()) / 2;
        image::imageops::overlay(&mut sheet, tile, tx as i64, ty as i64);
        let mut y = (y0 + cell_h) as f32 + 0.3 * px;
        for (k, line) in label.lines().enumerate() {
            let mut size = px;
            while size > 6.0 && text_width(line, size) > cell_w as f32 {
                size *= 0.92;
            }
            let x = x0 as f32 + 0.5 * (cell_w as f32 - text_width(line, size));
            let color = if k == 0 {
                style.label_color
            } else {
                style.sublabel_color
            };
            draw_text(&mut sheet, x, y, size, color, line);
            y += line_h;
        }
    }
    sheet
}

/// The sheet with a strip of background below it where the image writer's disclaimer
/// ([`super::png::write_image`]) sits clear of the last row's labels.
pub fn with_disclaimer_footer(sheet: &RgbaImage) -> RgbaImage {
    let (w, h) = sheet.dimensions();
    // The badge is about twice its text size tall with its margin; the text grows a little
    // with the taller image, hence 2.6.
    let footer = super::text::disclaimer_px(w, h).map_or(0, |px| (px * 2.6).ceil() as u32);
    let mut out = RgbaImage::from_pixel(w, h + footer, BACKGROUND);
    image::imageops::replace(&mut out, sheet, 0, 0);
    out
}

/// What [`lighting_sheet`] renders.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LightingSheetOptions {
    pub view: ViewName,
    /// Tile width and height (px).
    pub tile_px: u32,
    pub supersample: u32,
    pub columns: u32,
    /// True: the result ("after"); false: the bare head ("before").
    pub show_dots: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum SheetError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error("lighting preset {preset}: `render.{}`: expected {}", .error.key, .error.expected)]
    Lighting { preset: String, error: SpecError },
}

/// The lights a lighting sheet shows, labelled: the scene's own lights first when it defines
/// any, then every preset, each under the scene's camera (exposure, white balance).
pub fn sheet_lightings(scene: &Scene) -> Result<Vec<(String, Lighting)>, SheetError> {
    let base = scene.lighting_options();
    let mut out = Vec::new();
    if base.lights.is_some() || base.sky.is_some() {
        let l = base.build().map_err(|error| SheetError::Lighting {
            preset: base.preset.into(),
            error,
        })?;
        out.push((format!("scene lights ({})", base.preset), l));
    }
    for name in Lighting::preset_names() {
        let options = LightingOptions {
            preset: name,
            lights: None,
            sky: None,
            ..base
        };
        let l = options.build().map_err(|error| SheetError::Lighting {
            preset: name.into(),
            error,
        })?;
        out.push((name.to_string(), l));
    }
    Ok(out)
}

/// One view of a study's scene state under every lighting preset (see [`sheet_lightings`]),
/// as a labelled contact sheet: name on the first line; key light lux, kelvin and the
/// camera's EV100 below. Each tile is the frame `stipple render` makes of that view at the
/// tile's size under that light.
pub fn lighting_sheet(
    renderer: &mut Renderer,
    study: &mut Study,
    options: &LightingSheetOptions,
) -> Result<RgbaImage, SheetError> {
    let state = study.scene_state();
    let base = FrameSettings {
        supersample: options.supersample,
        show_dots: options.show_dots,
        ..study.frame_settings(options.view, state, options.tile_px, options.tile_px)
    };
    let lightings = sheet_lightings(&study.scene)?;
    let gpu_scene = study.prepare(renderer, state)?;
    let mut tiles = Vec::new();
    for (name, lighting) in lightings {
        let settings = FrameSettings { lighting, ..base };
        let image = renderer.render(gpu_scene, &settings)?;
        tiles.push((format!("{name}\n{}", lighting.summary()), image));
    }
    Ok(contact_sheet(&tiles, options.columns))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_width_and_ink() {
        assert!(text_width("sun-noon", 20.0) > 40.0);
        let mut img = RgbaImage::from_pixel(120, 30, Rgba([0, 0, 0, 255]));
        draw_text(&mut img, 2.0, 2.0, 20.0, Rgba([255, 255, 255, 255]), "Hg");
        let ink = img.pixels().filter(|p| p[0] > 128).count();
        assert!(ink > 20, "{ink} lit pixels");
        // Clipped text is fine.
        draw_text(
            &mut img,
            110.0,
            20.0,
            40.0,
            Rgba([255, 255, 255, 255]),
            "clipped",
        );
    }

    #[test]
    fn sheet_lays_out_a_grid_with_labels() {
        let red = RgbaImage::from_pixel(50, 40, Rgba([200, 0, 0, 255]));
        let small = RgbaImage::from_pixel(30, 20, Rgba([0, 200, 0, 255]));
        let tiles = vec![
            ("a\nline two".to_string(), red.clone()),
            ("b".into(), small),
            ("c".into(), red),
        ];
        let s = contact_sheet(&tiles, 2);
        let style = SheetStyle::default();
        assert_eq!(s.width(), 2 * 50 + 3 * style.gap);
        assert!(
            s.height() > 2 * 40 + 3 * style.gap,
            "room for labels: {}",
            s.height()
        );
        // First tile's top-left pixel, and the small tile centred in its cell.
        assert_eq!(*s.get_pixel(style.gap, style.gap), Rgba([200, 0, 0, 255]));
        let cx = style.gap * 2 + 50 + 25;
        assert_eq!(*s.get_pixel(cx, style.gap + 20), Rgba([0, 200, 0, 255]));
        assert_eq!(
            *s.get_pixel(style.gap * 2 + 50 + 2, style.gap + 2),
            style.background
        );
        // Label ink under the first tile.
        let label_ink = (style.gap..style.gap + 50)
            .flat_map(|x| (style.gap + 41..style.gap + 60).map(move |y| (x, y)))
            .filter(|&(x, y)| s.get_pixel(x, y)[0] > 120)
            .count();
        assert!(label_ink > 5, "{label_ink}");
    }
}
