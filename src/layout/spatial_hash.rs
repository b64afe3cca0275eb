//! Spatial hash for the dart throwing: accepted dots bucketed by 3-D cell, with intrusive
//! linked lists in flat Vecs (no HashMap, no per-cell allocation in the hot loop).
//!
//! Dots have variable exclusion radii (r0 in the full-weight zone, up to r_max near the edge
//! of the hairline). A single grid sized for r_max would make every full-zone query scan
//! five times the area it needs, so there are two levels: `fine` (cell r0) holds the dots of
//! radius r0, `coarse` (cell r_max) the larger ones. A query visits at most 2×2×2 cells of a
//! level whenever its reach is no more than that level's cell.

use glam::Vec3;

const NONE: u32 = u32::MAX;

struct Level {
    cell: f32,
    inv_cell: f32,
    /// Largest radius stored at this level.
    max_r: f32,
    /// 64 - log2(table size).
    shift: u32,
    heads: Vec<u32>,
}

impl Level {
    fn new(cell: f32, max_r: f32, expected: usize) -> Self {
        // About two buckets per dot: few collisions, table small enough to stay in cache
        // for moderate layouts.
        let size = (2 * expected.max(512)).next_power_of_two();
        Self { cell, inv_cell: 1.0 / cell, max_r, shift: 64 - size.trailing_zeros(), heads: vec![NONE; size] }
    }

    /// Fibonacci hashing of the packed cell coordinates: the high bits of the product mix
    /// all three, where xor-of-products hashes cluster lattice cells into few buckets.
    #[inline]
    fn bucket(&self, i: i32, j: i32, k: i32) -> usize {
        const M21: u64 = (1 << 21) - 1;
        let key = (i as u64 & M21) | (j as u64 & M21) << 21 | (k as u64 & M21) << 42;
        (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    #[inline]
    fn cell_of(&self, x: f32) -> i32 {
        (x * self.inv_cell).floor() as i32
    }
}

/// Accepted dots (position and exclusion radius) with a two-level spatial hash.
pub(crate) struct DotGrid {
    /// x, y, z, exclusion radius.
    pts: Vec<[f32; 4]>,
    next: Vec<u32>,
    fine: Level,
    coarse: Level,
}

impl DotGrid {
    /// `r0`: radius of full-weight dots; `r_max`: the largest radius; `expected_*`: dots
    /// expected at each level (sizes the tables).
    pub(crate) fn new(r0: f32, r_max: f32, expected_fine: usize, expected_coarse: usize) -> Self {
        Self {
            pts: Vec::with_capacity(expected_fine + expected_coarse),
            next: Vec::with_capacity(expected_fine + expected_coarse),
            fine: Level::new(r0, r0, expected_fine),
            coarse: Level::new(r_max.max(r0), r_max.max(r0), expected_coarse),
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.pts.len()
    }

    pub(crate) fn position(&self, i: usize) -> Vec3 {
        let [x, y, z, _] = self.pts[i];
        Vec3::new(x, y, z)
    }

    /// Whether a dot of radius `r` at `p` comes closer than (r + rⱼ)/2 to any accepted dot.
    /// `check_coarse = false` skips the coarse level, for candidates the caller knows are
    /// out of reach of every large-radius dot.
    #[inline]
    pub(crate) fn conflicts(&self, p: Vec3, r: f32, check_coarse: bool) -> bool {
        self.level_conflicts(&self.fine, p, r) || (check_coarse && self.level_conflicts(&self.coarse, p, r))
    }

    #[inline]
    fn level_conflicts(&self, level: &Level, p: Vec3, r: f32) -> bool {
        let reach = 0.5 * (r + level.max_r);
        let (x0, x1) = (level.cell_of(p.x - reach), level.cell_of(p.x + reach));
        let (y0, y1) = (level.cell_of(p.y - reach), level.cell_of(p.y + reach));
        let (z0, z1) = (level.cell_of(p.z - reach), level.cell_of(p.z + reach));
        for k in z0..=z1 {
            for j in y0..=y1 {
                for i in x0..=x1 {
                    let mut id = level.heads[level.bucket(i, j, k)];
                    while id != NONE {
                        let [qx, qy, qz, qr] = self.pts[id as usize];
                        let (dx, dy, dz) = (qx - p.x, qy - p.y, qz - p.z);
                        let lim = 0.5 * (r + qr);
                        if dx * dx + dy * dy + dz * dz < lim * lim {
                            return true;
                        }
                        id = self.next[id as usize];
                    }
                }
            }
        }
        false
    }

    /// Adds a dot; radii up to r0 go to the fine level, larger ones to the coarse level.
    #[inline]
    pub(crate) fn insert(&mut self, p: Vec3, r: f32) {
        let id = self.pts.len() as u32;
        let level = if r <= self.fine.max_r { &mut self.fine } else { &mut self.coarse };
        debug_assert!(r <= level.max_r * 1.0001 && level.cell >= level.max_r * 0.9999);
        let b = level.bucket(level.cell_of(p.x), level.cell_of(p.y), level.cell_of(p.z));
        self.next.push(level.heads[b]);
        level.heads[b] = id;
        self.pts.push([p.x, p.y, p.z, r]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_conflicts_across_levels_and_cells() {
        let mut g = DotGrid::new(1.0, 2.0, 16, 16);
        g.insert(Vec3::new(0.99, 0.0, 0.0), 1.0);
        g.insert(Vec3::new(10.0, 0.0, 0.0), 2.0);
        // Fine-fine: limit (1 + 1)/2 = 1.
        assert!(g.conflicts(Vec3::new(1.98, 0.0, 0.0), 1.0, false));
        assert!(!g.conflicts(Vec3::new(2.0, 0.0, 0.0), 1.0, true));
        // Fine candidate against a coarse dot: limit (1 + 2)/2 = 1.5.
        assert!(g.conflicts(Vec3::new(8.6, 0.0, 0.0), 1.0, true));
        assert!(!g.conflicts(Vec3::new(8.6, 0.0, 0.0), 1.0, false));
        assert!(!g.conflicts(Vec3::new(8.4, 0.0, 0.0), 1.0, true));
        // Coarse candidate against a fine dot: limit (2 + 1)/2 = 1.5.
        assert!(g.conflicts(Vec3::new(-0.5, 0.0, 0.0), 2.0, true));
        assert!(!g.conflicts(Vec3::new(-0.52, 0.0, 0.0), 2.0, true));
        assert_eq!(g.len(), 2);
    }
}
