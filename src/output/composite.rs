//! Marketing images from rendered frames: before | after side by side with labels, the
//! simulation disclaimer in a corner, and the files for a scene's views and outputs.

use super::OutputError;
use super::png::{PngMeta, keys};
use super::text::{self, Corner};
use crate::render::FrameImage;
use crate::scene::{OutputKind, ViewName};
use std::path::Path;

/// Labels over the two halves of a before/after composite.
pub const BEFORE_LABEL: &str = "Before";
pub const AFTER_LABEL: &str = "After";

/// Light neutral divider between the halves (sRGB).
const DIVIDER: [u8; 3] = [236, 236, 236];

/// Width of the divider between the halves of a `width`-wide frame pair.
pub fn divider_width(width: u32) -> u32 {
    (width / 160).clamp(2, 12)
}

/// Before and after side by side, each labelled in its top-left corner. Both frames must have
/// the same size and bit depth.
pub fn side_by_side(before: &FrameImage, after: &FrameImage) -> FrameImage {
    assert_eq!(
        before.dimensions(),
        after.dimensions(),
        "before and after differ in size"
    );
    let (w, h) = before.dimensions();
    let gap = divider_width(w);
    let mut out = FrameImage::blank(before.depth(), 2 * w + gap, h);
    text::fill_rect(&mut out, w as i32, 0, gap, h, DIVIDER, 1.0);
    out.blit(before, 0, 0);
    out.blit(after, w + gap, 0);
    let px = label_px(h);
    let margin = (px * 0.6) as i32;
    text::draw_badge(&mut out, Corner::TopLeft, margin, margin, BEFORE_LABEL, px);
    text::draw_badge(
        &mut out,
        Corner::TopLeft,
        (w + gap) as i32 + margin,
        margin,
        AFTER_LABEL,
        px,
    );
    out
}

/// Height of the Before/After labels for a frame `height` pixels tall.
pub fn label_px(height: u32) -> f32 {
    (height as f32 / 22.0).clamp(9.0, 96.0)
}

/// The image for one output of a view: the composite for `before-after` (undecorated: the
/// writer, [`write_image`], draws the disclaimer).
pub fn compose(
    kind: OutputKind,
    before: Option<&FrameImage>,
    after: Option<&FrameImage>,
) -> FrameImage {
    let pick = |f: Option<&FrameImage>, what: &str| {
        f.unwrap_or_else(|| panic!("compose: the {what} frame is missing"))
            .clone()
    };
    match kind {
        OutputKind::Before => pick(before, "before"),
        OutputKind::After => pick(after, "after"),
        OutputKind::BeforeAfter => side_by_side(&pick(before, "before"), &pick(after, "after")),
    }
}

/// Composes and writes one output of a view, atomically, with the view and output in its text
/// chunks besides `meta`. A single frame is written as it is, with the disclaimer drawn on a
/// copy of its corner only: a huge still costs no second full-frame copy.
pub fn write_output<'a>(
    path: &Path,
    kind: OutputKind,
    view: ViewName,
    before: Option<&'a FrameImage>,
    after: Option<&'a FrameImage>,
    disclaimer: bool,
    meta: &PngMeta,
) -> Result<(), OutputError> {
    let meta = meta
        .clone()
        .with(keys::VIEW, view.as_str())
        .with(keys::OUTPUT, kind.as_str());
    let pick = |f: Option<&'a FrameImage>, what: &str| -> &'a FrameImage {
        f.unwrap_or_else(|| panic!("write_output: the {what} frame is missing"))
    };
    let pair;
    let image = match kind {
        OutputKind::Before => pick(before, "before"),
        OutputKind::After => pick(after, "after"),
        OutputKind::BeforeAfter => {
            pair = side_by_side(pick(before, "before"), pick(after, "after"));
            &pair
        }
    };
    write_with_disclaimer(path, image, disclaimer, &meta)
}

/// Writes `image` as a PNG, with the disclaimer over its corner when `disclaimer` is set,
/// streaming its rows (no copy of the frame).
pub fn write_with_disclaimer(
    path: &Path,
    image: &FrameImage,
    disclaimer: bool,
    meta: &PngMeta,
) -> Result<(), OutputError> {
    let patch = if disclaimer {
        text::disclaimer_patch(image)
    } else {
        None
    };
    let (w, h) = image.dimensions();
    super::png::write_png_rows(path, w, h, image.depth(), meta, |y, row| match &patch {
        Some((px, py, p)) if y >= *py => {
            super::png::push_row(image, y, 0, *px, row);
            super::png::push_row(p, y - py, 0, p.dimensions().0, row);
        }
        _ => super::png::push_row(image, y, 0, w, row),
    })
}
