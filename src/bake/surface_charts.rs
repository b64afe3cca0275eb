//! Surface charts: where on the skin each pigment-map texel lies, so that two surfaces never
//! share a texel (issue 13: a radial cube map gave an overhanging curl the pigment of the scalp
//! under it).
//!
//! Once per head the triangles are grouped by the axis their face normal is closest to (±X, ±Y,
//! ±Z), and each edge-connected group is a chart, parameterised by orthographic projection along
//! its axis. Every normal of a chart has a component of at least 1/√3 along the axis (0.4 after
//! the speckle smoothing below), so within a chart the surface is a height field over the
//! projection plane: a texel holds one piece of skin, its area on the skin at most 2.5 times the
//! texel's. Two sheets that are not edge-connected (an overhang and the skin under it, an ear and
//! the temple) are different charts, and different texels of the atlas.
//!
//! Works on any mesh: the procedural head, scans with or without UVs. The chart's rectangle has
//! a margin of [`MARGIN_TEXELS`] round its own triangles, filled with the pigment of the charts
//! next to it (dots within that distance along the surface are splatted into both), so bilinear
//! and mip samples at a seam read the skin across it, not an empty border.

use crate::head::TriMesh;
use glam::{IVec2, UVec2, Vec2, Vec3};
use std::collections::HashMap;

/// Mip levels of the atlas (0 to 4): a level-4 texel is 16 texels, about 3 mm at the default
/// size; charts are aligned to it so that no mip level mixes two charts.
pub const ATLAS_MIP_LEVELS: u32 = 5;
/// Chart rectangles start and end on multiples of this (the last mip's block).
pub const CHART_ALIGN: i32 = 1 << (ATLAS_MIP_LEVELS - 1);
/// Texels of margin round a chart's own triangles: the last mip's block, and wider than the
/// widest splat (`MAX_SPLAT_TEXELS`).
pub const MARGIN_TEXELS: i32 = 16;
/// The head radius the map size refers to: `size` texels span 2 x this (mm), so the default
/// 1024 gives 0.195 mm texels, what the cube map's faces gave at 100 mm.
pub const REFERENCE_RADIUS_MM: f32 = 100.0;
/// Smallest component along its chart's axis a reassigned triangle's normal may have.
const MIN_AXIS_COMPONENT: f32 = 0.4;

/// The texel size (mm) for a map size (texels per 2 x [`REFERENCE_RADIUS_MM`]).
pub fn texel_mm_for_size(size: u32) -> f32 {
    2.0 * REFERENCE_RADIUS_MM / size.max(1) as f32
}

/// The projection plane's coordinates (mm) of `p` along `axis` (0-5: +X, -X, +Y, -Y, +Z, -Z),
/// as `plane_coords` in `shaders/surface.wgsl`.
pub fn plane_coords(axis: u8, p: Vec3) -> Vec2 {
    match axis / 2 {
        0 => Vec2::new(p.z, p.y),
        1 => Vec2::new(p.x, p.z),
        _ => Vec2::new(p.x, p.y),
    }
}

/// The unit vector of `axis` (0-5).
pub fn axis_vector(axis: u8) -> Vec3 {
    let v = match axis / 2 {
        0 => Vec3::X,
        1 => Vec3::Y,
        _ => Vec3::Z,
    };
    if axis.is_multiple_of(2) { v } else { -v }
}

fn dominant_axis(n: Vec3) -> u8 {
    let a = n.abs();
    if a.x >= a.y && a.x >= a.z {
        if n.x >= 0.0 { 0 } else { 1 }
    } else if a.y >= a.z {
        if n.y >= 0.0 { 2 } else { 3 }
    } else if n.z >= 0.0 {
        4
    } else {
        5
    }
}

/// One chart: its axis and its rectangle in texels of the projection plane (margin included,
/// aligned to [`CHART_ALIGN`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Chart {
    pub axis: u8,
    pub min: IVec2,
    pub size: UVec2,
}

impl Chart {
    /// `p` in texels of this chart's rectangle (its origin at 0, texel centres at integers).
    pub fn local_texels(&self, p: Vec3, texel_mm: f32) -> Vec2 {
        plane_coords(self.axis, p) / texel_mm - self.min.as_vec2() - Vec2::splat(0.5)
    }
}

/// The charts of a head, and what a dot needs to find its chart.
pub struct SurfaceCharts {
    pub texel_mm: f32,
    /// The chart of each triangle.
    pub triangle_chart: Vec<u32>,
    pub charts: Vec<Chart>,
    /// Per triangle, the other charts within [`MARGIN_TEXELS`] of it along the surface: a dot
    /// there is splatted into their margins too.
    near: Vec<Vec<u32>>,
    grid: TriangleGrid,
}

impl SurfaceCharts {
    /// Charts for `mesh` with texels of `texel_mm`.
    pub fn build(mesh: &TriMesh, texel_mm: f32) -> SurfaceCharts {
        let started = std::time::Instant::now();
        let tris: Vec<[Vec3; 3]> = (0..mesh.triangle_count())
            .map(|t| mesh.triangle(t))
            .collect();
        let normals: Vec<Vec3> = tris
            .iter()
            .map(|[a, b, c]| (*b - *a).cross(*c - *a).normalize_or_zero())
            .collect();
        let adjacency = edge_adjacency(&mesh.indices);
        let adjacent = started.elapsed();
        let mut axis: Vec<u8> = normals.iter().map(|n| dominant_axis(*n)).collect();
        // A degenerate triangle (no normal; e.g. at a UV sphere's pole) takes a neighbour's
        // axis, so it does not make a chart of its own.
        for _ in 0..4 {
            for t in 0..tris.len() {
                if normals[t] == Vec3::ZERO
                    && let Some(&u) = adjacency[t]
                        .iter()
                        .find(|&&u| u != u32::MAX && normals[u as usize] != Vec3::ZERO)
                {
                    axis[t] = axis[u as usize];
                }
            }
        }
        // Speckle: on a bumpy scan single triangles flip between axes; one that two of its
        // neighbours disagree with joins them where its normal still faces their axis well.
        for _ in 0..2 {
            let prev = axis.clone();
            for t in 0..tris.len() {
                let mut counts = [0u8; 6];
                for &u in &adjacency[t] {
                    if u != u32::MAX {
                        counts[usize::from(prev[u as usize])] += 1;
                    }
                }
                let (best, &count) = counts
                    .iter()
                    .enumerate()
                    .max_by_key(|(a, c)| (**c, std::cmp::Reverse(*a)))
                    .expect("six axes");
                let best = best as u8;
                if best != prev[t]
                    && count >= 2
                    && normals[t].dot(axis_vector(best)) >= MIN_AXIS_COMPONENT
                {
                    axis[t] = best;
                }
            }
        }
        // Edge-connected triangles of one axis are a chart (union-find, ids in triangle order).
        let mut parent: Vec<u32> = (0..tris.len() as u32).collect();
        fn find(parent: &mut [u32], mut x: u32) -> u32 {
            while parent[x as usize] != x {
                parent[x as usize] = parent[parent[x as usize] as usize];
                x = parent[x as usize];
            }
            x
        }
        for t in 0..tris.len() {
            for &u in &adjacency[t] {
                if u != u32::MAX && axis[u as usize] == axis[t] {
                    let (a, b) = (find(&mut parent, t as u32), find(&mut parent, u));
                    if a != b {
                        parent[a.max(b) as usize] = a.min(b);
                    }
                }
            }
        }
        let mut chart_of_root: HashMap<u32, u32> = HashMap::new();
        let mut triangle_chart = vec![0u32; tris.len()];
        let mut bounds: Vec<(u8, Vec2, Vec2)> = Vec::new();
        for t in 0..tris.len() {
            let root = find(&mut parent, t as u32);
            let id = *chart_of_root.entry(root).or_insert_with(|| {
                bounds.push((axis[t], Vec2::splat(f32::MAX), Vec2::splat(f32::MIN)));
                bounds.len() as u32 - 1
            });
            triangle_chart[t] = id;
            let b = &mut bounds[id as usize];
            for p in tris[t] {
                let q = plane_coords(b.0, p) / texel_mm;
                b.1 = b.1.min(q);
                b.2 = b.2.max(q);
            }
        }
        let charts: Vec<Chart> = bounds
            .iter()
            .map(|&(axis, lo, hi)| {
                let lo = lo.floor().as_ivec2() - IVec2::splat(MARGIN_TEXELS);
                let hi = hi.ceil().as_ivec2() + IVec2::splat(MARGIN_TEXELS);
                let min = IVec2::new(
                    lo.x.div_euclid(CHART_ALIGN) * CHART_ALIGN,
                    lo.y.div_euclid(CHART_ALIGN) * CHART_ALIGN,
                );
                let max = IVec2::new(
                    (hi.x + CHART_ALIGN - 1).div_euclid(CHART_ALIGN) * CHART_ALIGN,
                    (hi.y + CHART_ALIGN - 1).div_euclid(CHART_ALIGN) * CHART_ALIGN,
                );
                Chart {
                    axis,
                    min,
                    size: (max - min).as_uvec2(),
                }
            })
            .collect();
        let near = near_charts(
            &tris,
            &adjacency,
            &triangle_chart,
            charts.len(),
            MARGIN_TEXELS as f32 * texel_mm,
        );
        let charted = started.elapsed();
        let mut grid = TriangleGrid::build(&tris);
        // A cell whose triangles all give a dot the same charts answers without a search.
        grid.resolved = (0..grid.starts.len() - 1)
            .map(|k| {
                let items = &grid.items[grid.starts[k] as usize..grid.starts[k + 1] as usize];
                let Some(&first) = items.first() else {
                    return u32::MAX;
                };
                let same = |t: u32| {
                    triangle_chart[t as usize] == triangle_chart[first as usize]
                        && near[t as usize] == near[first as usize]
                };
                if items.iter().all(|&t| same(t)) {
                    first
                } else {
                    u32::MAX
                }
            })
            .collect();
        log::debug!(
            "surface charts: {} triangles in {} charts, {:.1} ms (edges {:.1} ms, charts and margins {:.1} ms, grid {:.1} ms)",
            tris.len(),
            charts.len(),
            started.elapsed().as_secs_f64() * 1e3,
            adjacent.as_secs_f64() * 1e3,
            (charted - adjacent).as_secs_f64() * 1e3,
            (started.elapsed() - charted).as_secs_f64() * 1e3,
        );
        SurfaceCharts {
            texel_mm,
            triangle_chart,
            charts,
            near,
            grid,
        }
    }

    /// The triangle nearest `p` (a dot on the skin lies on one), None for an empty mesh.
    pub fn triangle_at(&self, p: Vec3) -> Option<u32> {
        self.grid.nearest(p)
    }

    /// The charts a dot at `p` is splatted into: its own first, then those whose margin it
    /// lies in.
    pub fn charts_at(&self, p: Vec3) -> impl Iterator<Item = u32> + '_ {
        // A dot lies on a triangle, which is listed in the dot's cell: where all the cell's
        // triangles agree, that is the answer.
        let t = match self.grid.resolved_at(p) {
            Some(t) => Some(t),
            None => self.triangle_at(p),
        };
        t.into_iter().flat_map(move |t| {
            std::iter::once(self.triangle_chart[t as usize])
                .chain(self.near[t as usize].iter().copied())
        })
    }
}

/// Edge neighbours of each triangle (u32::MAX: none). A non-manifold edge links its first two.
fn edge_adjacency(indices: &[u32]) -> Vec<[u32; 3]> {
    let count = indices.len() / 3;
    let mut adjacency = vec![[u32::MAX; 3]; count];
    // Every edge keyed by its two vertices, sorted: the two sides of an edge come together.
    let mut edges: Vec<(u32, u32, u32, u8)> = Vec::with_capacity(count * 3);
    for t in 0..count {
        for e in 0..3 {
            let (a, b) = (indices[3 * t + e], indices[3 * t + (e + 1) % 3]);
            if a != b {
                edges.push((a.min(b), a.max(b), t as u32, e as u8));
            }
        }
    }
    edges.sort_unstable();
    for pair in edges.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        if let [(_, _, t, e), (_, _, u, f), ..] = *pair {
            adjacency[t as usize][usize::from(e)] = u;
            adjacency[u as usize][usize::from(f)] = t;
        }
    }
    adjacency
}

/// For each triangle, the charts other than its own that are within `reach_mm` of it along the
/// surface (centroid to centroid through edge neighbours, from the chart's border outward).
fn near_charts(
    tris: &[[Vec3; 3]],
    adjacency: &[[u32; 3]],
    triangle_chart: &[u32],
    chart_count: usize,
    reach_mm: f32,
) -> Vec<Vec<u32>> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let centroid = |t: usize| (tris[t][0] + tris[t][1] + tris[t][2]) / 3.0;
    let mut by_chart: Vec<Vec<u32>> = vec![Vec::new(); chart_count];
    for (t, &c) in triangle_chart.iter().enumerate() {
        by_chart[c as usize].push(t as u32);
    }
    let mut near: Vec<Vec<u32>> = vec![Vec::new(); tris.len()];
    // Per triangle, the chart whose search last reached it, and at what distance.
    let mut stamp = vec![u32::MAX; tris.len()];
    let mut best = vec![f32::MAX; tris.len()];
    let mut heap = BinaryHeap::new();
    for (c, members) in by_chart.iter().enumerate() {
        let c = c as u32;
        for &t in members {
            for &u in &adjacency[t as usize] {
                if u != u32::MAX && triangle_chart[u as usize] != c && stamp[u as usize] != c {
                    stamp[u as usize] = c;
                    best[u as usize] = 0.0;
                    heap.push(Reverse((0u32, u)));
                }
            }
        }
        while let Some(Reverse((bits, t))) = heap.pop() {
            let d = f32::from_bits(bits);
            if d > best[t as usize] {
                continue;
            }
            if !near[t as usize].contains(&c) {
                near[t as usize].push(c);
            }
            let ct = centroid(t as usize);
            for &u in &adjacency[t as usize] {
                if u == u32::MAX || triangle_chart[u as usize] == c {
                    continue;
                }
                let du = d + (centroid(u as usize) - ct).length();
                if du < reach_mm && (stamp[u as usize] != c || du < best[u as usize]) {
                    stamp[u as usize] = c;
                    best[u as usize] = du;
                    heap.push(Reverse((du.to_bits(), u)));
                }
            }
        }
    }
    near
}

/// A point this close to a triangle (mm²: a micron away) lies on it.
const ON_TRIANGLE_MM2: f32 = 1e-6;

/// A uniform grid of triangles (compressed rows): which triangles may be nearest a point.
struct TriangleGrid {
    tris: Vec<[Vec3; 3]>,
    origin: Vec3,
    cell_mm: f32,
    dims: [usize; 3],
    starts: Vec<u32>,
    items: Vec<u32>,
    /// Per cell, a triangle that stands for all of the cell's (same chart and margins), or
    /// u32::MAX (mixed or empty); empty until [`SurfaceCharts::build`] fills it.
    resolved: Vec<u32>,
}

impl TriangleGrid {
    fn build(tris: &[[Vec3; 3]]) -> TriangleGrid {
        let (mut lo, mut hi) = (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN));
        let mut edge_sum = 0.0f64;
        for t in tris {
            for p in t {
                lo = lo.min(*p);
                hi = hi.max(*p);
            }
            edge_sum += f64::from((t[1] - t[0]).length() + (t[2] - t[1]).length());
        }
        if tris.is_empty() {
            lo = Vec3::ZERO;
            hi = Vec3::ONE;
        }
        let mean_edge = (edge_sum / (2.0 * tris.len().max(1) as f64)) as f32;
        let extent = (hi - lo).max(Vec3::splat(1e-3));
        // An edge a cell (a few triangles in each), at most ~2 million cells.
        let mut cell_mm = mean_edge.max(0.2);
        let cells = |c: f32| (extent / c).ceil().as_uvec3() + glam::UVec3::ONE;
        while cells(cell_mm).as_dvec3().element_product() > 2.0e6 {
            cell_mm *= 1.25;
        }
        let d = cells(cell_mm);
        let dims = [d.x as usize, d.y as usize, d.z as usize];
        let cell_range = |t: &[Vec3; 3]| {
            let (a, b) = (t[0].min(t[1]).min(t[2]), t[0].max(t[1]).max(t[2]));
            let q = |p: Vec3| ((p - lo) / cell_mm).floor().as_ivec3();
            (
                q(a - Vec3::splat(1e-3)).max(glam::IVec3::ZERO),
                q(b + Vec3::splat(1e-3)),
            )
        };
        let index =
            |x: i32, y: i32, z: i32| (z as usize * dims[1] + y as usize) * dims[0] + x as usize;
        let clamp = |v: glam::IVec3| {
            v.min(glam::IVec3::new(
                dims[0] as i32 - 1,
                dims[1] as i32 - 1,
                dims[2] as i32 - 1,
            ))
        };
        let mut starts = vec![0u32; dims[0] * dims[1] * dims[2] + 1];
        for pass in 0..2 {
            let mut items = if pass == 1 {
                vec![0u32; *starts.last().expect("cells") as usize]
            } else {
                Vec::new()
            };
            let mut fill = starts.clone();
            for (i, t) in tris.iter().enumerate() {
                // Degenerate triangles hold no skin a dot could be on.
                if (t[1] - t[0]).cross(t[2] - t[0]) == Vec3::ZERO {
                    continue;
                }
                let (a, b) = cell_range(t);
                let b = clamp(b);
                for z in a.z..=b.z {
                    for y in a.y..=b.y {
                        for x in a.x..=b.x {
                            let k = index(x, y, z);
                            if pass == 0 {
                                starts[k + 1] += 1;
                            } else {
                                items[fill[k] as usize] = i as u32;
                                fill[k] += 1;
                            }
                        }
                    }
                }
            }
            if pass == 0 {
                for k in 1..starts.len() {
                    starts[k] += starts[k - 1];
                }
            } else {
                return TriangleGrid {
                    tris: tris.to_vec(),
                    origin: lo,
                    cell_mm,
                    dims,
                    starts,
                    items,
                    resolved: Vec::new(),
                };
            }
        }
        unreachable!("two passes")
    }

    /// The cell's standing triangle (see `resolved`), if `p` is in the grid and it has one.
    fn resolved_at(&self, p: Vec3) -> Option<u32> {
        let q = ((p - self.origin) / self.cell_mm).floor();
        if q.min_element() < 0.0 {
            return None;
        }
        let (x, y, z) = (q.x as usize, q.y as usize, q.z as usize);
        if x >= self.dims[0] || y >= self.dims[1] || z >= self.dims[2] {
            return None;
        }
        let t = *self
            .resolved
            .get((z * self.dims[1] + y) * self.dims[0] + x)?;
        (t != u32::MAX).then_some(t)
    }

    /// The triangle nearest `p`: those of its cell, else of the cells round it, ring by ring.
    fn nearest(&self, p: Vec3) -> Option<u32> {
        if self.tris.is_empty() {
            return None;
        }
        let q = ((p - self.origin) / self.cell_mm).floor().as_ivec3();
        let max_ring = self.dims.iter().copied().max().unwrap_or(1) as i32;
        let mut best: Option<(f32, u32)> = None;
        for ring in 0..=max_ring {
            for z in q.z - ring..=q.z + ring {
                for y in q.y - ring..=q.y + ring {
                    for x in q.x - ring..=q.x + ring {
                        let on_ring = [(x - q.x).abs(), (y - q.y).abs(), (z - q.z).abs()]
                            .into_iter()
                            .max()
                            == Some(ring);
                        if !on_ring
                            || x < 0
                            || y < 0
                            || z < 0
                            || x as usize >= self.dims[0]
                            || y as usize >= self.dims[1]
                            || z as usize >= self.dims[2]
                        {
                            continue;
                        }
                        let k =
                            (z as usize * self.dims[1] + y as usize) * self.dims[0] + x as usize;
                        for &t in &self.items[self.starts[k] as usize..self.starts[k + 1] as usize]
                        {
                            let d = distance_squared_to_triangle(p, &self.tris[t as usize]);
                            // On it (a dot is): none can be nearer.
                            if d <= ON_TRIANGLE_MM2 {
                                return Some(t);
                            }
                            if best.is_none_or(|(bd, bt)| d < bd || (d == bd && t < bt)) {
                                best = Some((d, t));
                            }
                        }
                    }
                }
            }
            // Every triangle nearer than the best found meets the ball of that radius round
            // `p`: done once the ball lies inside the cells searched.
            if let Some((d, t)) = best {
                let lo = self.origin + (q - glam::IVec3::splat(ring)).as_vec3() * self.cell_mm;
                let hi = lo + Vec3::splat((2 * ring + 1) as f32 * self.cell_mm);
                let inside = (p - lo).min(hi - p).min_element();
                if d.sqrt() <= inside {
                    return Some(t);
                }
            }
        }
        best.map(|(_, t)| t)
    }
}

/// Squared distance from `p` to a triangle (Ericson, Real-Time Collision Detection 5.1.5).
fn distance_squared_to_triangle(p: Vec3, [a, b, c]: &[Vec3; 3]) -> f32 {
    let (a, b, c) = (*a, *b, *c);
    let (ab, ac, ap) = (b - a, c - a, p - a);
    let (d1, d2) = (ab.dot(ap), ac.dot(ap));
    if d1 <= 0.0 && d2 <= 0.0 {
        return ap.length_squared();
    }
    let bp = p - b;
    let (d3, d4) = (ab.dot(bp), ac.dot(bp));
    if d3 >= 0.0 && d4 <= d3 {
        return bp.length_squared();
    }
    let vc = d1 * d4 - d3 * d2;
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        let v = d1 / (d1 - d3);
        return (ap - v * ab).length_squared();
    }
    let cp = p - c;
    let (d5, d6) = (ab.dot(cp), ac.dot(cp));
    if d6 >= 0.0 && d5 <= d6 {
        return cp.length_squared();
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        let w = d2 / (d2 - d6);
        return (ap - w * ac).length_squared();
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        let w = (d4 - d3) / ((d4 - d3) + (d5 - d6));
        return (bp - w * (c - b)).length_squared();
    }
    let denom = 1.0 / (va + vb + vc);
    let (v, w) = (vb * denom, vc * denom);
    (ap - ab * v - ac * w).length_squared()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two parallel 20 x 20 mm sheets 3 mm apart, each two triangles facing +Y.
    fn two_sheets() -> TriMesh {
        let mut mesh = TriMesh::default();
        for y in [0.0f32, 3.0] {
            let base = mesh.positions_mm.len() as u32;
            for (x, z) in [(0.0, 0.0), (20.0, 0.0), (20.0, 20.0), (0.0, 20.0)] {
                mesh.positions_mm.push(Vec3::new(x, y, z));
                mesh.normals.push(Vec3::Y);
            }
            mesh.indices
                .extend([0, 2, 1, 0, 3, 2].map(|i: u32| base + i));
        }
        mesh
    }

    #[test]
    fn separate_sheets_are_separate_charts() {
        let charts = SurfaceCharts::build(&two_sheets(), 0.2);
        assert_eq!(charts.charts.len(), 2);
        assert_eq!(charts.triangle_chart, vec![0, 0, 1, 1]);
        assert!(charts.charts.iter().all(|c| c.axis == 2));
        // A point on either sheet finds its own triangle, not the other sheet's.
        let t = charts.triangle_at(Vec3::new(5.0, 0.01, 12.0)).unwrap();
        assert_eq!(charts.triangle_chart[t as usize], 0);
        let t = charts.triangle_at(Vec3::new(5.0, 2.9, 12.0)).unwrap();
        assert_eq!(charts.triangle_chart[t as usize], 1);
        assert_eq!(
            charts
                .charts_at(Vec3::new(5.0, 0.0, 5.0))
                .collect::<Vec<_>>(),
            vec![0]
        );
        for c in &charts.charts {
            assert_eq!(c.min.x % CHART_ALIGN, 0);
            assert_eq!(c.size.x as i32 % CHART_ALIGN, 0);
            assert!(c.size.x as f32 * 0.2 >= 20.0 + 2.0 * MARGIN_TEXELS as f32 * 0.2);
        }
    }

    #[test]
    fn a_fold_splits_into_charts_that_see_each_other_at_the_seam() {
        // An L: a floor facing +Y and a wall facing +X sharing an edge.
        let mut mesh = TriMesh::default();
        let p = [
            Vec3::new(0.0, 0.0, 0.0),
            Vec3::new(10.0, 0.0, 0.0),
            Vec3::new(10.0, 0.0, 10.0),
            Vec3::new(0.0, 0.0, 10.0),
            Vec3::new(0.0, -10.0, 0.0),
            Vec3::new(0.0, -10.0, 10.0),
        ];
        mesh.positions_mm.extend(p);
        mesh.normals.extend([Vec3::Y; 6]);
        mesh.indices.extend([0, 2, 1, 0, 3, 2, 0, 4, 5, 0, 5, 3]);
        let charts = SurfaceCharts::build(&mesh, 0.2);
        assert_eq!(charts.charts.len(), 2);
        assert_ne!(charts.charts[0].axis, charts.charts[1].axis);
        // A dot on the floor near the seam also lands in the wall's margin, one far away not.
        let near: Vec<u32> = charts.charts_at(Vec3::new(1.0, 0.0, 5.0)).collect();
        assert_eq!(near.len(), 2, "{near:?}");
        assert!(distance_squared_to_triangle(Vec3::new(5.0, 1.0, 5.0), &[p[0], p[2], p[1]]) > 0.99);
    }
}
