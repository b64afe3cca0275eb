//! Stills larger than one render target: the frame is rendered as equal tiles, each through
//! the off-centre sub-frustum that covers its pixels ([`SubFrame`]), and stitched on the CPU.
//! Pixel centres land where an untiled render puts them, so the stitched frame matches one.

use super::readback::{BitDepth, FrameImage};
use super::{FrameSettings, FrameUniforms, GpuScene, RenderError, Renderer};
use crate::camera::{Camera, SubFrame};

/// Largest render-target side (supersampled pixels) one tile uses, even where the adapter
/// allows more: it keeps a tile's G-buffer and HDR targets near 2 GiB.
pub const MAX_TILE_TARGET_PX: u32 = 8192;

/// Most samples (pixels x supersample²) one frame may have: a 16384 x 16384 still at
/// supersample 1, or 8192 x 8192 at 2. Beyond that a frame takes hours and gigabytes.
pub const MAX_FRAME_SAMPLES: u64 = 1 << 28;

/// How a frame is cut into tiles: `cols` x `rows` tiles of `tile_width` x `tile_height` output
/// pixels; the last column and row may run past the frame and are cropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileGrid {
    pub tile_width: u32,
    pub tile_height: u32,
    pub cols: u32,
    pub rows: u32,
}

impl TileGrid {
    /// The fewest tiles of at most `max_side` pixels a side, as equal as possible.
    pub fn new(width: u32, height: u32, max_side: u32) -> TileGrid {
        let max_side = max_side.max(1);
        let cols = width.div_ceil(max_side);
        let rows = height.div_ceil(max_side);
        TileGrid {
            tile_width: width.div_ceil(cols),
            tile_height: height.div_ceil(rows),
            cols,
            rows,
        }
    }

    pub fn count(&self) -> u32 {
        self.cols * self.rows
    }
}

/// For a tile: moves the backdrop's vertical gradient to the part of the full frame the tile
/// covers, and tells the shaders where the tile's pixels lie in the frame (for per-pixel noise),
/// so that tiles stitch without seams.
pub(super) fn apply_sub_frame(u: &mut FrameUniforms, cam: &Camera, supersample: u32) {
    let Some(s) = cam.sub_frame else { return };
    u.pixel_origin = [
        (s.x * supersample) as f32,
        (s.y * supersample) as f32,
        0.0,
        0.0,
    ];
    let top = glam::Vec4::from_array(u.background_top);
    let bottom = glam::Vec4::from_array(u.background_bottom);
    let t0 = s.y as f32 / s.full_height as f32;
    let t1 = (s.y + s.height) as f32 / s.full_height as f32;
    u.background_top = top.lerp(bottom, t0).to_array();
    u.background_bottom = top.lerp(bottom, t1).to_array();
}

impl Renderer {
    /// Caps the tile size (output pixels a side) below what the adapter allows; None: only the
    /// adapter's limit and [`MAX_TILE_TARGET_PX`] apply. Tests use small tiles to check that
    /// tiled and untiled frames agree.
    pub fn set_max_tile_size(&mut self, px: Option<u32>) {
        self.max_tile_px = px.map(|p| p.max(1));
    }

    /// Largest tile side in output pixels at `supersample`.
    pub fn max_tile_side(&self, supersample: u32) -> u32 {
        let target = self
            .gpu
            .limits()
            .max_texture_dimension_2d
            .min(MAX_TILE_TARGET_PX);
        let side = (target / supersample.max(1)).max(1);
        self.max_tile_px.map_or(side, |p| p.min(side))
    }

    /// The tiles a frame of these settings is rendered as (one tile: an ordinary frame).
    pub fn tile_grid(&self, settings: &FrameSettings) -> TileGrid {
        TileGrid::new(
            settings.width,
            settings.height,
            self.max_tile_side(settings.supersample),
        )
    }

    pub(super) fn render_tiled(
        &mut self,
        scene: &GpuScene,
        settings: &FrameSettings,
        depth: BitDepth,
        grid: TileGrid,
    ) -> Result<FrameImage, RenderError> {
        log::info!(
            "rendering {}x{} as {} tiles of {}x{}",
            settings.width,
            settings.height,
            grid.count(),
            grid.tile_width,
            grid.tile_height
        );
        let mut out = FrameImage::blank(depth, settings.width, settings.height);
        for row in 0..grid.rows {
            for col in 0..grid.cols {
                let (x, y) = (col * grid.tile_width, row * grid.tile_height);
                let sub = SubFrame {
                    full_width: settings.width,
                    full_height: settings.height,
                    x,
                    y,
                    width: grid.tile_width,
                    height: grid.tile_height,
                };
                let tile_settings = FrameSettings {
                    camera: settings.camera.with_sub_frame(sub),
                    width: grid.tile_width,
                    height: grid.tile_height,
                    ..*settings
                };
                let tile = self.render_tile(scene, &tile_settings, depth)?;
                out.blit(&tile, x, y);
            }
        }
        Ok(out)
    }
}
