//! The client's stubble as plain data: hair roots laid out as blue noise at `density x hair
//! fraction` by the same dart throwing as the dots ([`crate::layout::blue_noise_points`] over a
//! [`HairRegion`]), with a fixed seed (the same client gives the same hairs), each with its
//! length, lean and colour. The stubble pass (`src/render/stubble_pass.rs`) only uploads them.

use crate::head::TriMesh;
use crate::layout::{LayoutError, Region, blue_noise_points};
use crate::plan::condition::ScalpState;
use crate::skin::{SHAFT_TILT_DEG, Stubble};
use glam::Vec3;

/// Most shafts drawn: a full head of hair at 200/cm² is about 100,000. Above it the hairs are
/// laid out sparser and drawn proportionally wider, so their coverage stays the far field's.
pub const MAX_STUBBLE_HAIRS: usize = 150_000;
/// Shafts shorter than this (mm) are not drawn: the far-field tint alone shows them.
pub const MIN_DRAWN_LENGTH_MM: f32 = 0.05;
/// Seed of the hair layout (hairs are the client's, not the plan's).
const HAIR_SEED: u64 = 0x5ba1_e5ee_d0f0_11c1;
/// Per-hair variation: length and colour are scaled by 1 +- this (uniform, mean 1).
const LENGTH_JITTER: f32 = 0.15;
const COLOUR_JITTER: f32 = 0.15;

/// One shaft, laid out as `shaders/stubble.wgsl` reads it: 48 bytes, explicit padding.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct HairShaft {
    /// Where it leaves the skin (mm).
    pub root_mm: [f32; 3],
    pub length_mm: f32,
    /// Unit vector along the shaft, out of the skin.
    pub direction: [f32; 3],
    /// Half the drawn width (mm): the shaft's radius, wider when the layout was capped.
    pub radius_mm: f32,
    /// Linear RGB.
    pub color: [f32; 3],
    pub _pad: f32,
}

/// Where hair grows: the scalp state's hair fraction, none on scar tissue. A layout region.
pub struct HairRegion<'a>(pub &'a dyn ScalpState);

impl Region for HairRegion<'_> {
    fn weight(&self, p: Vec3) -> f32 {
        (self.0.hair_fraction(p) * (1.0 - self.0.scar_tissue(p))).clamp(0.0, 1.0)
    }
    fn clearance_mm(&self, _p: Vec3) -> f32 {
        0.0
    }
}

fn hash(mut x: u64) -> u64 {
    // SplitMix64 finaliser.
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn unit(h: u64) -> f32 {
    (h >> 40) as f32 / (1u64 << 24) as f32
}

/// The client's stubble shafts on `mesh`: none when the stubble is too short to draw or no
/// hair grows. Deterministic.
pub fn lay_out_hairs(
    mesh: &TriMesh,
    scalp: &dyn ScalpState,
    stubble: &Stubble,
    hair_linear: Vec3,
) -> Result<Vec<HairShaft>, LayoutError> {
    if stubble.length_mm < MIN_DRAWN_LENGTH_MM || stubble.density_per_cm2 <= 0.0 {
        return Ok(Vec::new());
    }
    let region = HairRegion(scalp);
    // Expected count: hair-weighted area x density.
    let weight: Vec<f32> = mesh
        .positions_mm
        .iter()
        .map(|p| region.weight(*p))
        .collect();
    let mut area_mm2 = 0.0f64;
    for t in 0..mesh.triangle_count() {
        let idx = &mesh.indices[3 * t..3 * t + 3];
        let [a, b, c] = mesh.triangle(t);
        let w = idx.iter().map(|&i| weight[i as usize]).sum::<f32>() / 3.0;
        area_mm2 += f64::from(0.5 * (b - a).cross(c - a).length() * w);
    }
    let expected = area_mm2 / 100.0 * f64::from(stubble.density_per_cm2);
    if expected < 1.0 {
        return Ok(Vec::new());
    }
    let scale = (MAX_STUBBLE_HAIRS as f64 / expected).min(1.0) as f32;
    let roots = blue_noise_points(mesh, &region, stubble.density_per_cm2 * scale, HAIR_SEED)?;
    let max_tilt = 2.0 * SHAFT_TILT_DEG.to_radians();
    Ok(roots
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let h = hash(HAIR_SEED ^ i as u64);
            let (h1, h2, h3, h4) = (hash(h), hash(h ^ 1), hash(h ^ 2), hash(h ^ 3));
            let n = d.normal.normalize_or(Vec3::Y);
            let t1 = n.any_orthonormal_vector();
            let t2 = n.cross(t1);
            let (tilt, azimuth) = (max_tilt * unit(h1), std::f32::consts::TAU * unit(h2));
            let lean = t1 * azimuth.cos() + t2 * azimuth.sin();
            let direction = (n * tilt.cos() + lean * tilt.sin()).normalize();
            let length = stubble.length_mm * (1.0 + LENGTH_JITTER * (2.0 * unit(h3) - 1.0));
            let colour = hair_linear * (1.0 + COLOUR_JITTER * (2.0 * unit(h4) - 1.0));
            HairShaft {
                root_mm: d.position_mm.to_array(),
                length_mm: length,
                direction: direction.to_array(),
                radius_mm: 0.5 * stubble.shaft_diameter_mm / scale,
                color: colour.to_array(),
                _pad: 0.0,
            }
        })
        .collect())
}
