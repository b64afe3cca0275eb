//! Spatial chunks of dots, so a close-up draws only the dots in view.
//!
//! Once per plan the dots are sorted by where they sit on the pigment map (cube face and a
//! 32x32 cell on it) and cut into chunks with a bounding sphere and a normal cone. Each frame,
//! chunks outside the view frustum or facing away from the camera are skipped, and the rest
//! become a few contiguous instance ranges. Plain CPU data: no GPU types.

use super::pigment_map::{cube_face_uv, parallel_map, parallel_map_zeroed};
use crate::layout::Dot;
use glam::{Mat4, Vec3, Vec4};
use std::ops::Range;

/// Cells per cube-face side: a full scalp at 1,000,000 dots gives chunks of a few hundred.
const CELLS: usize = 32;

#[derive(Clone, Debug, PartialEq)]
pub struct DotChunk {
    /// Instance range in the sorted order.
    pub range: Range<u32>,
    pub center_mm: Vec3,
    pub radius_mm: f32,
    /// Mean normal and the cosine of the widest angle any dot's normal makes with it.
    pub normal: Vec3,
    pub cone_cos: f32,
}

#[derive(Clone, Debug, Default)]
pub struct DotChunks {
    /// `order[i]` is the index in the plan of the i-th dot on the GPU.
    pub order: Vec<u32>,
    pub chunks: Vec<DotChunk>,
    /// `faces[f]`: the instance range of the dots on cube face f (wgpu order), which the
    /// pigment map splat draws face by face.
    pub faces: [Range<u32>; 6],
}

impl DotChunks {
    pub fn build(dots: &[Dot], origin_mm: Vec3) -> DotChunks {
        let key = |d: &Dot| {
            let (face, uv) = cube_face_uv(d.position_mm - origin_mm);
            let cell = |t: f32| (((t + 1.0) * 0.5 * CELLS as f32) as usize).min(CELLS - 1);
            (face * CELLS + cell(uv.y)) * CELLS + cell(uv.x)
        };
        let keys: Vec<usize> = parallel_map_zeroed(dots, key);
        // A counting sort by cell (6 x 32 x 32 keys): linear in the dots, and stable, so dots
        // keep their plan order within a cell and the result is deterministic.
        let mut starts = vec![0u32; 6 * CELLS * CELLS + 1];
        for &k in &keys {
            starts[k + 1] += 1;
        }
        for k in 1..starts.len() {
            starts[k] += starts[k - 1];
        }
        let faces: [Range<u32>; 6] =
            std::array::from_fn(|f| starts[f * CELLS * CELLS]..starts[(f + 1) * CELLS * CELLS]);
        let mut order = vec![0u32; dots.len()];
        for (i, &k) in keys.iter().enumerate() {
            order[starts[k] as usize] = i as u32;
            starts[k] += 1;
        }
        // Each run of one cell's dots is a chunk; their bounds are found on the cores.
        let mut runs: Vec<Range<u32>> = Vec::new();
        let mut start = 0;
        while start < order.len() {
            let k = keys[order[start] as usize];
            let mut end = start;
            while end < order.len() && keys[order[end] as usize] == k {
                end += 1;
            }
            runs.push(start as u32..end as u32);
            start = end;
        }
        let chunks = parallel_map(&runs, |range| {
            let members = || {
                order[range.start as usize..range.end as usize]
                    .iter()
                    .map(|&i| &dots[i as usize])
            };
            let n = range.len();
            let center = members().map(|d| d.position_mm).sum::<Vec3>() / n as f32;
            let radius = members()
                .map(|d| (d.position_mm - center).length())
                .fold(0.0, f32::max);
            let normal = members()
                .map(|d| d.normal)
                .sum::<Vec3>()
                .normalize_or(Vec3::Y);
            let cone_cos = members().map(|d| d.normal.dot(normal)).fold(1.0, f32::min);
            DotChunk {
                range: range.clone(),
                center_mm: center,
                radius_mm: radius,
                normal,
                cone_cos,
            }
        });
        DotChunks {
            order,
            chunks,
            faces,
        }
    }

    /// Instance ranges worth drawing from `eye_mm` through `view_proj` (wgpu clip space).
    /// `margin_mm` covers each dot's own extent (its halo and pixel footprint).
    pub fn visible_ranges(&self, view_proj: Mat4, eye_mm: Vec3, margin_mm: f32) -> Vec<Range<u32>> {
        let (r0, r1, r2, r3) = (
            view_proj.row(0),
            view_proj.row(1),
            view_proj.row(2),
            view_proj.row(3),
        );
        let planes: [Vec4; 6] = [r3 + r0, r3 - r0, r3 + r1, r3 - r1, r2, r3 - r2]
            .map(|p| p / p.truncate().length().max(1e-12));
        let mut ranges: Vec<Range<u32>> = Vec::new();
        for c in &self.chunks {
            let r = c.radius_mm + margin_mm;
            if planes
                .iter()
                .any(|p| p.truncate().dot(c.center_mm) + p.w < -r)
            {
                continue;
            }
            // Facing away: every normal in the cone points from the eye, even allowing for the
            // chunk's size (conservative, so a dot on the silhouette is never lost).
            let to_eye = eye_mm - c.center_mm;
            let dist = to_eye.length().max(1e-6);
            let sin_cone = (1.0 - c.cone_cos * c.cone_cos).max(0.0).sqrt();
            if c.cone_cos > 0.0 && c.normal.dot(to_eye) / dist < -sin_cone - r / dist {
                continue;
            }
            match ranges.last_mut() {
                Some(last) if last.end == c.range.start => last.end = c.range.end,
                _ => ranges.push(c.range.clone()),
            }
        }
        ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sphere_dots(n: usize, radius: f32) -> Vec<Dot> {
        // A Fibonacci sphere: evenly spread, deterministic.
        (0..n)
            .map(|i| {
                let y = 1.0 - 2.0 * (i as f32 + 0.5) / n as f32;
                let r = (1.0 - y * y).sqrt();
                let a = i as f32 * 2.399_963;
                let normal = Vec3::new(r * a.cos(), y, r * a.sin());
                Dot {
                    position_mm: normal * radius,
                    normal,
                    diameter_mm: 0.1,
                    depth_mm: 0.35,
                    shade: 0.7,
                    session: 1,
                    needle: Default::default(),
                }
            })
            .collect()
    }

    #[test]
    fn every_dot_in_exactly_one_chunk() {
        let dots = sphere_dots(20_000, 100.0);
        let c = DotChunks::build(&dots, Vec3::ZERO);
        let mut seen = vec![false; dots.len()];
        for &i in &c.order {
            assert!(!seen[i as usize]);
            seen[i as usize] = true;
        }
        assert!(seen.iter().all(|s| *s));
        let covered: u32 = c.chunks.iter().map(|k| k.range.end - k.range.start).sum();
        assert_eq!(covered as usize, dots.len());
        // The face ranges tile the order, each holding exactly its face's dots.
        assert_eq!(c.faces[0].start, 0);
        assert_eq!(c.faces[5].end as usize, dots.len());
        for (f, range) in c.faces.iter().enumerate() {
            for i in range.clone() {
                let d = &dots[c.order[i as usize] as usize];
                assert_eq!(cube_face_uv(d.position_mm).0, f);
            }
        }
    }

    #[test]
    fn close_view_keeps_visible_dots_and_drops_most() {
        let dots = sphere_dots(50_000, 100.0);
        let chunks = DotChunks::build(&dots, Vec3::ZERO);
        let eye = Vec3::new(0.0, 0.0, 170.0);
        let view = glam::camera::rh::view::look_at_mat4(eye, Vec3::new(0.0, 0.0, 100.0), Vec3::Y);
        let proj = glam::camera::rh::proj::directx::perspective(0.28, 1.0, 5.0, 500.0);
        let vp = proj * view;
        let ranges = chunks.visible_ranges(vp, eye, 1.0);
        let drawn: std::collections::HashSet<u32> = ranges
            .iter()
            .flat_map(|r| r.clone())
            .map(|i| chunks.order[i as usize])
            .collect();
        // Every dot that projects inside the frame and faces the camera is kept.
        for (i, d) in dots.iter().enumerate() {
            let c = vp.project_point3(d.position_mm);
            let inside = c.x.abs() <= 1.0 && c.y.abs() <= 1.0 && (0.0..=1.0).contains(&c.z);
            if inside && d.normal.dot(eye - d.position_mm) > 0.0 {
                assert!(drawn.contains(&(i as u32)), "visible dot {i} culled");
            }
        }
        assert!(
            drawn.len() < dots.len() / 20,
            "{} of {} drawn",
            drawn.len(),
            dots.len()
        );
    }
}
