//! Spatial hash for the dart throwing: accepted dots bucketed by 3-D cell, with intrusive
//! linked lists in flat Vecs (no HashMap and no allocation in the hot loop).
//!
//! Two things shape it:
//! - Variable exclusion radii (r0 in the full-weight zone, up to r_max near the hairline).
//!   One grid sized for r_max would make every full-zone query scan five times the area it
//!   needs, so there are two levels: `fine` (cells ≥ r0) holds dots of radius r0, `coarse`
//!   (cells of two fine cells, ≥ r_max) the larger ones. A query then visits at most 2×2×2
//!   cells of a level whenever its reach is no more than that level's cell.
//! - Memory locality. With a million dots a globally hashed table and the dot arrays are far
//!   bigger than the caches, and random candidates make every probe a cache miss. So space
//!   is cut into tiles (32 fine cells a side) and each tile's buckets are contiguous: the
//!   layout processes candidates tile by tile, and a tile's buckets and dots stay in L1/L2
//!   while it is worked on. Bucket = tile's offset + hash(cell within tile) & tile's mask.

use glam::Vec3;
use std::collections::HashMap;

const NONE: u32 = u32::MAX;
/// 32 fine cells per tile side.
const FINE_TILE_SHIFT: i32 = 5;
/// 16 coarse cells per tile side; a coarse cell is exactly two fine cells.
const COARSE_TILE_SHIFT: i32 = 4;
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

#[derive(Clone, Copy, Debug, Default)]
struct Tile {
    coords: [i32; 3],
    fine_offset: u32,
    /// 64 - log2(bucket count).
    fine_shift: u32,
    coarse_offset: u32,
    coarse_shift: u32,
}

/// floor() for cell indices without a libm call (the baseline x86-64 target has no SSE4.1
/// round instruction, and this runs several times per candidate).
#[inline]
fn floor_i32(x: f32) -> i32 {
    let i = x as i32;
    i - i32::from((i as f32) > x)
}

#[inline]
fn cell_of(p: Vec3, inv: f32) -> [i32; 3] {
    [floor_i32(p.x * inv), floor_i32(p.y * inv), floor_i32(p.z * inv)]
}

#[inline]
fn pack(t: [i32; 3]) -> u64 {
    const M21: u64 = (1 << 21) - 1;
    (t[0] as u64 & M21) | (t[1] as u64 & M21) << 21 | (t[2] as u64 & M21) << 42
}

/// Collects the tiles the surface occupies (and how much area each holds, to size its
/// tables) before the grid is allocated.
pub(crate) struct GridBuilder {
    r0: f32,
    r_max: f32,
    inv_fine: f32,
    /// Tile → (area, area of triangles crossing the transition zone), mm².
    tiles: HashMap<[i32; 3], (f32, f32)>,
}

impl GridBuilder {
    pub(crate) fn new(r0: f32, r_max: f32) -> Self {
        // Fine cells at least r0 (a full-weight query spans 2 per axis) and at least half of
        // r_max (so the coarse level, twice as big, also spans 2).
        let fine = r0.max(0.5 * r_max);
        Self { r0, r_max, inv_fine: 1.0 / fine, tiles: HashMap::new() }
    }

    /// Registers a triangle that may receive dots: every tile its bounding box touches.
    pub(crate) fn add_triangle(&mut self, a: Vec3, b: Vec3, c: Vec3, area: f32, partial: bool) {
        // Padding covers rounding in a + u·e1 + v·e2.
        let lo = a.min(b).min(c) - 1e-3;
        let hi = a.max(b).max(c) + 1e-3;
        let t0 = self.fine_cell(lo).map(|x| x >> FINE_TILE_SHIFT);
        let t1 = self.fine_cell(hi).map(|x| x >> FINE_TILE_SHIFT);
        for z in t0[2]..=t1[2] {
            for y in t0[1]..=t1[1] {
                for x in t0[0]..=t1[0] {
                    self.tiles.entry([x, y, z]).or_insert((0.0, 0.0));
                }
            }
        }
        let home = self.fine_cell((a + b + c) / 3.0).map(|x| x >> FINE_TILE_SHIFT);
        let e = self.tiles.entry(home).or_insert((0.0, 0.0));
        e.0 += area;
        if partial {
            e.1 += area;
        }
    }

    fn fine_cell(&self, p: Vec3) -> [i32; 3] {
        cell_of(p, self.inv_fine)
    }

    pub(crate) fn build(self, expected_dots: usize) -> DotGrid {
        // A surface crosses about 1.5 cells per cell-area of it.
        let fine_cells_per_mm2 = 1.5 * self.inv_fine * self.inv_fine;
        let coarse_cells_per_mm2 = 0.25 * fine_cells_per_mm2;
        let mut keys: Vec<[i32; 3]> = self.tiles.keys().copied().collect();
        keys.sort_unstable(); // HashMap order is random: keep the layout deterministic.
        let map_size = (2 * keys.len().max(1)).next_power_of_two();
        let mut map_keys = vec![[0; 3]; map_size];
        let mut map_vals = vec![NONE; map_size];
        let map_shift = 64 - map_size.trailing_zeros();
        let mut tiles = Vec::with_capacity(keys.len());
        let (mut fine_total, mut coarse_total) = (0u32, 0u32);
        for (slot, key) in keys.iter().enumerate() {
            let (area, partial) = self.tiles[key];
            // About one bucket per occupied cell.
            let fine_n = ((area * fine_cells_per_mm2) as usize).clamp(2, 1 << 14).next_power_of_two();
            let coarse_n = ((partial * coarse_cells_per_mm2) as usize).clamp(2, 1 << 12).next_power_of_two();
            tiles.push(Tile {
                coords: *key,
                fine_offset: fine_total,
                fine_shift: 64 - fine_n.trailing_zeros(),
                coarse_offset: coarse_total,
                coarse_shift: 64 - coarse_n.trailing_zeros(),
            });
            fine_total += fine_n as u32;
            coarse_total += coarse_n as u32;
            let mut h = (pack(*key).wrapping_mul(GOLDEN) >> map_shift) as usize;
            while map_vals[h] != NONE {
                h = (h + 1) & (map_size - 1);
            }
            map_keys[h] = *key;
            map_vals[h] = slot as u32;
        }
        DotGrid {
            inv_fine: self.inv_fine,
            inv_coarse: 0.5 * self.inv_fine,
            r0: self.r0,
            r_max: self.r_max,
            map_keys,
            map_vals,
            map_shift,
            tiles,
            fine_heads: vec![NONE; fine_total as usize],
            coarse_heads: vec![NONE; coarse_total as usize],
            pts: Vec::with_capacity(expected_dots),
            next: Vec::with_capacity(expected_dots),
        }
    }
}

/// Accepted dots (position and exclusion radius) in a tiled two-level spatial hash.
pub(crate) struct DotGrid {
    inv_fine: f32,
    inv_coarse: f32,
    r0: f32,
    r_max: f32,
    map_keys: Vec<[i32; 3]>,
    map_vals: Vec<u32>,
    map_shift: u32,
    tiles: Vec<Tile>,
    fine_heads: Vec<u32>,
    coarse_heads: Vec<u32>,
    /// x, y, z, exclusion radius; index = dot id (insertion order).
    pts: Vec<[f32; 4]>,
    next: Vec<u32>,
}

impl DotGrid {
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.pts.len()
    }

    pub(crate) fn tile_count(&self) -> usize {
        self.tiles.len()
    }

    pub(crate) fn position(&self, id: usize) -> Vec3 {
        let [x, y, z, _] = self.pts[id];
        Vec3::new(x, y, z)
    }

    #[inline]
    fn fine_cell(&self, p: Vec3) -> [i32; 3] {
        cell_of(p, self.inv_fine)
    }

    #[inline]
    fn slot(&self, tile: [i32; 3]) -> Option<u32> {
        let mask = self.map_vals.len() - 1;
        let mut h = (pack(tile).wrapping_mul(GOLDEN) >> self.map_shift) as usize;
        loop {
            let v = self.map_vals[h];
            if v == NONE {
                return None;
            }
            if self.map_keys[h] == tile {
                return Some(v);
            }
            h = (h + 1) & mask;
        }
    }

    /// The tile slot a point belongs to, if the surface registered it.
    #[inline]
    pub(crate) fn slot_of(&self, p: Vec3) -> Option<u32> {
        self.slot(self.fine_cell(p).map(|x| x >> FINE_TILE_SHIFT))
    }

    /// The tile slot of `p`, given the slot it most likely is in (its triangle's).
    #[inline]
    pub(crate) fn locate(&self, p: Vec3, hint: u32) -> Option<u32> {
        let tile = self.fine_cell(p).map(|x| x >> FINE_TILE_SHIFT);
        if self.tiles[hint as usize].coords == tile { Some(hint) } else { self.slot(tile) }
    }

    /// Whether a dot of radius `r` at `p` (in tile `slot`) comes closer than (r + rⱼ)/2 to
    /// any accepted dot. `check_coarse = false` skips the coarse level, for candidates the
    /// caller knows are out of reach of every large-radius dot.
    #[inline]
    pub(crate) fn conflicts(&self, p: Vec3, r: f32, slot: u32, check_coarse: bool) -> bool {
        let home = self.fine_cell(p).map(|x| x >> FINE_TILE_SHIFT);
        self.level_conflicts::<false>(p, r, home, slot)
            || (check_coarse && self.level_conflicts::<true>(p, r, home, slot))
    }

    #[inline]
    fn level_conflicts<const COARSE: bool>(&self, p: Vec3, r: f32, home: [i32; 3], home_slot: u32) -> bool {
        let (inv, max_r, shift, heads) = if COARSE {
            (self.inv_coarse, self.r_max, COARSE_TILE_SHIFT, &self.coarse_heads)
        } else {
            (self.inv_fine, self.r0, FINE_TILE_SHIFT, &self.fine_heads)
        };
        let reach = 0.5 * (r + max_r);
        let (lo, hi) = (cell_of(p - reach, inv), cell_of(p + reach, inv));
        let local = (1 << shift) - 1;
        for k in lo[2]..=hi[2] {
            for j in lo[1]..=hi[1] {
                for i in lo[0]..=hi[0] {
                    let tile = [i >> shift, j >> shift, k >> shift];
                    let slot = if tile == home {
                        home_slot
                    } else {
                        match self.slot(tile) {
                            Some(s) => s,
                            None => continue,
                        }
                    };
                    let t = &self.tiles[slot as usize];
                    let key = ((i & local) | (j & local) << shift | (k & local) << (2 * shift)) as u64;
                    let (offset, bshift) = if COARSE { (t.coarse_offset, t.coarse_shift) } else { (t.fine_offset, t.fine_shift) };
                    let mut id = heads[(offset as u64 + (key.wrapping_mul(GOLDEN) >> bshift)) as usize];
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

    /// Adds a dot in tile `slot` (that of `p`); radii up to r0 go to the fine level, larger
    /// ones to the coarse level. Returns its id.
    #[inline]
    pub(crate) fn insert(&mut self, p: Vec3, r: f32, slot: u32) -> u32 {
        let id = self.pts.len() as u32;
        let t = self.tiles[slot as usize];
        let cell = self.fine_cell(p);
        let b = if r <= self.r0 {
            let l = (1 << FINE_TILE_SHIFT) - 1;
            let key = ((cell[0] & l) | (cell[1] & l) << FINE_TILE_SHIFT | (cell[2] & l) << (2 * FINE_TILE_SHIFT)) as u64;
            &mut self.fine_heads[(t.fine_offset as u64 + (key.wrapping_mul(GOLDEN) >> t.fine_shift)) as usize]
        } else {
            debug_assert!(r <= self.r_max * 1.0001);
            // floor(x / 2h) = floor(floor(x / h) / 2): same tile as the fine cell.
            let c = cell.map(|x| x >> 1);
            let l = (1 << COARSE_TILE_SHIFT) - 1;
            let key = ((c[0] & l) | (c[1] & l) << COARSE_TILE_SHIFT | (c[2] & l) << (2 * COARSE_TILE_SHIFT)) as u64;
            &mut self.coarse_heads[(t.coarse_offset as u64 + (key.wrapping_mul(GOLDEN) >> t.coarse_shift)) as usize]
        };
        self.next.push(*b);
        *b = id;
        self.pts.push([p.x, p.y, p.z, r]);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> DotGrid {
        let mut b = GridBuilder::new(1.0, 2.0);
        // A strip of triangles along x, crossing several tiles (32 mm each).
        for x in -3..4 {
            let x = x as f32 * 30.0;
            b.add_triangle(Vec3::new(x, -1.0, 0.0), Vec3::new(x + 31.0, -1.0, 0.0), Vec3::new(x, 1.0, 0.5), 31.0, x > 0.0);
        }
        b.build(16)
    }

    #[test]
    fn finds_conflicts_across_levels_cells_and_tiles() {
        let mut g = grid();
        let ins = |g: &mut DotGrid, p: Vec3, r: f32| {
            let s = g.slot_of(p).unwrap();
            g.insert(p, r, s);
        };
        let hit = |g: &DotGrid, p: Vec3, r: f32, coarse: bool| g.conflicts(p, r, g.slot_of(p).unwrap(), coarse);
        ins(&mut g, Vec3::new(0.99, 0.0, 0.0), 1.0);
        ins(&mut g, Vec3::new(10.0, 0.0, 0.0), 2.0);
        // Fine-fine: limit (1 + 1)/2 = 1.
        assert!(hit(&g, Vec3::new(1.98, 0.0, 0.0), 1.0, false));
        assert!(!hit(&g, Vec3::new(2.0, 0.0, 0.0), 1.0, true));
        // Fine candidate against a coarse dot: limit (1 + 2)/2 = 1.5.
        assert!(hit(&g, Vec3::new(8.6, 0.0, 0.0), 1.0, true));
        assert!(!hit(&g, Vec3::new(8.6, 0.0, 0.0), 1.0, false));
        assert!(!hit(&g, Vec3::new(8.4, 0.0, 0.0), 1.0, true));
        // Coarse candidate against a fine dot, across the tile boundary at x = 0.
        assert!(hit(&g, Vec3::new(-0.5, 0.0, 0.0), 2.0, true));
        assert!(!hit(&g, Vec3::new(-0.52, 0.0, 0.0), 2.0, true));
        // Across a tile boundary at the fine level (tiles are 32 mm at 1 mm cells).
        ins(&mut g, Vec3::new(31.9, 0.0, 0.0), 1.0);
        assert!(hit(&g, Vec3::new(32.5, 0.0, 0.0), 1.0, false));
        assert!(!hit(&g, Vec3::new(32.95, 0.0, 0.0), 1.0, false));
        assert_eq!(g.len(), 3);
    }
}
