//! The scalp map: the client's condition ([`ScalpState`]: native hair, scar tissue) baked into a
//! cube map around the cranium, like the pigment map, so the surface shader can draw a FUT strip
//! scar 1-3 mm wide on a mesh whose vertices are about a millimetre apart.
//!
//! Each texel's skin point is its direction from the cranium centre times the head's radius in
//! that direction (the largest vertex radius in the texel's neighbourhood, a star-shaped head
//! is assumed, as the pigment map does). R: hair fraction, G: scar tissue; box-filtered mips.

use super::pigment_map::cube_face_uv;
use crate::head::TriMesh;
use crate::plan::condition::ScalpState;
use glam::Vec3;

/// Texels per cube face: about 0.4 mm on the skin of an adult head.
pub const SCALP_MAP_SIZE: u32 = 512;

pub struct ScalpMap {
    pub size: u32,
    /// levels[level][face] = RGBA texels, row-major.
    pub levels: Vec<[Vec<[f32; 4]>; 6]>,
}

/// Direction of the centre of texel (x, y) on `face` (wgpu cube conventions, the inverse of
/// [`cube_face_uv`]).
fn texel_direction(face: usize, x: usize, y: usize, size: usize) -> Vec3 {
    let s = (x as f32 + 0.5) / size as f32 * 2.0 - 1.0;
    let t = (y as f32 + 0.5) / size as f32 * 2.0 - 1.0;
    let d = match face {
        0 => Vec3::new(1.0, -t, -s),
        1 => Vec3::new(-1.0, -t, s),
        2 => Vec3::new(s, 1.0, t),
        3 => Vec3::new(s, -1.0, -t),
        4 => Vec3::new(s, -t, 1.0),
        _ => Vec3::new(-s, -t, -1.0),
    };
    d.normalize()
}

impl ScalpMap {
    /// An empty map (bald, no scars) of one texel: the default condition costs nothing.
    pub fn bald() -> ScalpMap {
        ScalpMap {
            size: 1,
            levels: vec![std::array::from_fn(|_| vec![[0.0; 4]])],
        }
    }

    pub fn build(mesh: &TriMesh, center_mm: Vec3, state: &dyn ScalpState, size: u32) -> ScalpMap {
        let n = size as usize;
        // The head's radius per texel, from its vertices (coarse: vertex spacing is a
        // millimetre or so, several texels); holes are filled from their neighbours.
        let coarse = (n / 8).max(1);
        let mut radius: [Vec<f32>; 6] = std::array::from_fn(|_| vec![0.0; coarse * coarse]);
        for p in &mesh.positions_mm {
            let rel = *p - center_mm;
            let r = rel.length();
            if r <= 0.0 {
                continue;
            }
            let (face, uv) = cube_face_uv(rel / r);
            let ix = (((uv.x + 1.0) * 0.5 * coarse as f32) as usize).min(coarse - 1);
            let iy = (((uv.y + 1.0) * 0.5 * coarse as f32) as usize).min(coarse - 1);
            let t = &mut radius[face][iy * coarse + ix];
            *t = t.max(r);
        }
        // Cells no vertex fell in (coarse scans: vertices several millimetres apart) take
        // the mean radius of their filled neighbours, spreading a few cells; the head's
        // largest radius is only the last resort (on a bust it is the shoulders', which put
        // the skin point far off and its hair wrong).
        for face in radius.iter_mut() {
            for _ in 0..8 {
                let prev = face.clone();
                let mut changed = false;
                for y in 0..coarse {
                    for x in 0..coarse {
                        if prev[y * coarse + x] > 0.0 {
                            continue;
                        }
                        let (mut sum, mut count) = (0.0, 0);
                        for (dx, dy) in [
                            (-1i32, 0i32),
                            (1, 0),
                            (0, -1),
                            (0, 1),
                            (-1, -1),
                            (1, 1),
                            (-1, 1),
                            (1, -1),
                        ] {
                            let (nx, ny) = (x as i32 + dx, y as i32 + dy);
                            if nx < 0 || ny < 0 || nx >= coarse as i32 || ny >= coarse as i32 {
                                continue;
                            }
                            let v = prev[ny as usize * coarse + nx as usize];
                            if v > 0.0 {
                                sum += v;
                                count += 1;
                            }
                        }
                        if count > 0 {
                            face[y * coarse + x] = sum / count as f32;
                            changed = true;
                        }
                    }
                }
                if !changed {
                    break;
                }
            }
        }
        let fallback = mesh
            .positions_mm
            .iter()
            .map(|p| (*p - center_mm).length())
            .fold(0.0f32, f32::max);
        let base: [Vec<[f32; 4]>; 6] = std::array::from_fn(|face| {
            let mut texels = vec![[0.0f32; 4]; n * n];
            for y in 0..n {
                for x in 0..n {
                    let d = texel_direction(face, x, y, n);
                    let (f, uv) = cube_face_uv(d);
                    let c = |v: f32| (((v + 1.0) * 0.5 * coarse as f32) as usize).min(coarse - 1);
                    let mut r = radius[f][c(uv.y) * coarse + c(uv.x)];
                    if r <= 0.0 {
                        r = fallback;
                    }
                    let p = center_mm + d * r;
                    texels[y * n + x] = [
                        state.hair_fraction(p).clamp(0.0, 1.0),
                        state.scar_tissue(p).clamp(0.0, 1.0),
                        0.0,
                        0.0,
                    ];
                }
            }
            texels
        });
        let levels = super::pigment_map::box_mip_chain(base, n);
        ScalpMap { size, levels }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texel_directions_invert_cube_face_uv() {
        for face in 0..6 {
            for (x, y) in [(0, 0), (5, 9), (15, 15)] {
                let d = texel_direction(face, x, y, 16);
                let (f, uv) = cube_face_uv(d);
                assert_eq!(f, face);
                let px = ((uv.x + 1.0) * 8.0) as usize;
                let py = ((uv.y + 1.0) * 8.0) as usize;
                assert_eq!((px, py), (x, y), "face {face}");
            }
        }
    }

    /// Hair only on the skin: 1 within 2 mm of a 90 mm sphere, 0 off it.
    struct OnSkin;
    impl ScalpState for OnSkin {
        fn hair_fraction(&self, p: Vec3) -> f32 {
            if (p.length() - 90.0).abs() < 2.0 {
                1.0
            } else {
                0.0
            }
        }
        fn scar_tissue(&self, _p: Vec3) -> f32 {
            0.0
        }
    }

    #[test]
    fn texels_between_sparse_vertices_find_the_skin() {
        // A coarse sphere (vertices ~20 mm apart, far sparser than the map's cells) and one
        // far vertex, like a scan's shoulders: every texel must still sample the skin.
        let mut mesh = TriMesh::default();
        for i in 0..=12 {
            let v = i as f32 / 12.0 * std::f32::consts::PI;
            for j in 0..24 {
                let u = j as f32 / 24.0 * std::f32::consts::TAU;
                mesh.positions_mm
                    .push(90.0 * Vec3::new(v.sin() * u.sin(), v.cos(), v.sin() * u.cos()));
            }
        }
        mesh.positions_mm.push(Vec3::new(0.0, -400.0, 0.0));
        let map = ScalpMap::build(&mesh, Vec3::ZERO, &OnSkin, 64);
        let missed = map.levels[0]
            .iter()
            .flatten()
            .filter(|t| t[0] < 1.0)
            .count();
        // Only the face toward the far vertex may take its radius.
        assert!(missed <= 64 * 64, "{missed} texels off the skin");
    }
}
