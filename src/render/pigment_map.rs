//! The pigment map: every dot splatted once per plan into a cube map indexed by direction from
//! the cranium centre. Frames sample it with mipmaps, so a million sub-pixel dots cost one
//! texture fetch per pixel and their average colour stays the same at every distance.
//!
//! Each texel holds the coverage-weighted darkening Σ aᵢ·Dᵢ of the dots in it (aᵢ = the dot's
//! area over the texel's area on the surface). That quantity is linear, so box-filtered mips
//! are exact averages.
//!
//! Frames use the map the GPU splats ([`super::pigment_splat`]); this module is its CPU
//! reference (the same sums in plain data code, for differential tests) and holds the cube map
//! conventions shared by the other per-plan maps.

use crate::layout::Dot;
use crate::pigment;
use glam::{Vec2, Vec3};

/// A cube map's texels: `levels[level][face]` = RGBA texels, row-major, faces in wgpu order.
pub type CubeLevels = Vec<[Vec<[f32; 4]>; 6]>;

/// One cube map, faces in wgpu order (+X, -X, +Y, -Y, +Z, -Z), each level `size >> level`.
pub struct PigmentMap {
    pub size: u32,
    pub center_mm: Vec3,
    /// levels[level][face] = RGBA texels, row-major.
    pub levels: Vec<[Vec<[f32; 4]>; 6]>,
}

/// A cube map's mip chain by 2x2 box filtering from `base` (faces of `n` x `n` texels, `n` a
/// power of two): each level is the exact average of the one above, which keeps linear
/// quantities (pigment darkening, hair and scar fractions) the same at every distance.
pub fn box_mip_chain(base: [Vec<[f32; 4]>; 6], n: usize) -> Vec<[Vec<[f32; 4]>; 6]> {
    let mut levels = vec![base];
    let mut s = n;
    while s > 1 {
        let h = s / 2;
        let prev = levels.last().expect("a base level");
        let next: [Vec<[f32; 4]>; 6] = std::array::from_fn(|f| {
            let src = &prev[f];
            let mut out = vec![[0.0; 4]; h * h];
            for y in 0..h {
                for x in 0..h {
                    let mut acc = [0.0f32; 4];
                    for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                        let t = src[(2 * y + dy) * s + 2 * x + dx];
                        for c in 0..4 {
                            acc[c] += 0.25 * t[c];
                        }
                    }
                    out[y * h + x] = acc;
                }
            }
            out
        });
        levels.push(next);
        s = h;
    }
    levels
}

/// Face index and face coordinates in [-1, 1] for a direction (wgpu/Vulkan cube conventions).
pub fn cube_face_uv(d: Vec3) -> (usize, Vec2) {
    let a = d.abs();
    let (face, ma, sc, tc) = if a.x >= a.y && a.x >= a.z {
        if d.x > 0.0 {
            (0, a.x, -d.z, -d.y)
        } else {
            (1, a.x, d.z, -d.y)
        }
    } else if a.y >= a.z {
        if d.y > 0.0 {
            (2, a.y, d.x, d.z)
        } else {
            (3, a.y, d.x, -d.z)
        }
    } else if d.z > 0.0 {
        (4, a.z, d.x, -d.y)
    } else {
        (5, a.z, -d.x, -d.y)
    };
    (face, Vec2::new(sc / ma, tc / ma))
}

/// Widest reach (texels) of one dot's Gaussian splat: a cap on the work per dot (3 sigma of a
/// halo 1.5 mm deep, sigma 0.65 mm, is about 11 texels at the default 1024 per face).
pub const MAX_SPLAT_TEXELS: f32 = 12.0;
/// Halo sigma (texels) under which a dot is splatted bilinearly: a narrower Gaussian sampled
/// at texel centres would be a speck that moves with the dot's sub-texel position.
pub const BILINEAR_SIGMA_TEXELS: f32 = 0.6;

impl PigmentMap {
    pub fn build(dots: &[Dot], center_mm: Vec3, size: u32) -> PigmentMap {
        let n = size as usize;
        let mut base: [Vec<[f32; 4]>; 6] = std::array::from_fn(|_| vec![[0.0; 4]; n * n]);
        let texel = 2.0 / size as f32;
        for dot in dots {
            let rel = dot.position_mm - center_mm;
            let dist = rel.length();
            if dist <= 0.0 {
                continue;
            }
            let dir = rel / dist;
            let (face, uv) = cube_face_uv(dir);
            // Solid angle of one texel at uv, times r², over the surface's tilt against the
            // radial direction: the texel's area on the skin.
            let m = 1.0 + uv.length_squared();
            let solid_angle = texel * texel / (m * m.sqrt());
            let cos_tilt = dot.normal.dot(dir).abs().max(0.2);
            let texel_area_mm2 = solid_angle * dist * dist / cos_tilt;
            let look = pigment::appearance(dot.shade, dot.depth_mm);
            let coverage = look.footprint_mm2(dot.diameter_mm) / texel_area_mm2;
            let value = coverage * look.darkening;
            // The dot's darkening is mostly its scattering halo (a Gaussian of the halo's
            // width): splat it as that Gaussian, so a frame that samples this level sees a
            // soft spot, not a texel-sized speck. Weights are normalised to sum to one over
            // the texels they reach, so no pigment is lost or gained; dots whose halo is
            // narrower than a texel fall back to a bilinear splat.
            let x = ((uv.x + 1.0) * 0.5 * size as f32 - 0.5).clamp(0.0, size as f32 - 1.0);
            let y = ((uv.y + 1.0) * 0.5 * size as f32 - 0.5).clamp(0.0, size as f32 - 1.0);
            let sigma = look.halo_sigma_mm / texel_area_mm2.sqrt();
            let t = &mut base[face];
            let mut add = |xi: usize, yi: usize, w: f32| {
                let t = &mut t[yi * n + xi];
                t[0] += w * value.x;
                t[1] += w * value.y;
                t[2] += w * value.z;
                t[3] += w * coverage;
            };
            if sigma < BILINEAR_SIGMA_TEXELS {
                let (x0, y0) = (x.floor() as usize, y.floor() as usize);
                let (fx, fy) = (x - x0 as f32, y - y0 as f32);
                let (x1, y1) = ((x0 + 1).min(n - 1), (y0 + 1).min(n - 1));
                add(x0, y0, (1.0 - fx) * (1.0 - fy));
                add(x1, y0, fx * (1.0 - fy));
                add(x0, y1, (1.0 - fx) * fy);
                add(x1, y1, fx * fy);
            } else {
                let reach = (3.0 * sigma).min(MAX_SPLAT_TEXELS);
                let lo = |c: f32| (c - reach).floor().max(0.0) as usize;
                let hi = |c: f32| ((c + reach).ceil() as usize).min(n - 1);
                let k = -0.5 / (sigma * sigma);
                let weight = |xi: usize, yi: usize| {
                    let (dx, dy) = (xi as f32 - x, yi as f32 - y);
                    (k * (dx * dx + dy * dy)).exp()
                };
                let mut total = 0.0;
                for yi in lo(y)..=hi(y) {
                    for xi in lo(x)..=hi(x) {
                        total += weight(xi, yi);
                    }
                }
                for yi in lo(y)..=hi(y) {
                    for xi in lo(x)..=hi(x) {
                        add(xi, yi, weight(xi, yi) / total);
                    }
                }
            }
        }
        let levels = box_mip_chain(base, n);
        PigmentMap {
            size,
            center_mm,
            levels,
        }
    }

    /// An empty map: the "before" view.
    pub fn empty(center_mm: Vec3) -> PigmentMap {
        PigmentMap::build(&[], center_mm, 1)
    }

    /// Angular size of a texel at a face centre (radians, approximately): the largest texel.
    pub fn texel_angle(&self) -> f32 {
        2.0 / self.size as f32
    }
}
