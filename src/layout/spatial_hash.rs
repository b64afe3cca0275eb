//! Spatial hash for the dart throwing: accepted dots bucketed by 3-D cell (no HashMap and no
//! allocation in the hot loop).
//!
//! What shapes it:
//! - Variable exclusion radii (r0 in the full-weight zone, up to r_max near the hairline).
//!   One grid sized for r_max would make every full-zone query scan five times the area it
//!   needs, so there are two levels: `fine` holds dots of radius r0, `coarse` (cells of 2^s
//!   fine cells) the larger ones. Cells are twice the reach of the common queries, so those
//!   visit 1 or 2 cells per axis; cells the size of the reach would mean about 3 per axis,
//!   27 in all and most of them empty (the surface is 2-D), for the same dots checked.
//! - Memory locality and threads. Space is cut into tiles (16 fine cells a side), each
//!   owning its buckets and dots, so a tile's data is small and contiguous while the layout
//!   works on it. Tiles are coloured by the parity of their coordinates (8 colours): two
//!   tiles of one colour are never neighbours, and a query reaches less than a tile, so all
//!   tiles of a colour can be worked on at once, each writing only itself and reading only
//!   tiles of other colours, which nobody writes meanwhile. That is plain borrowing: the
//!   colour being worked on is borrowed mutably, the others shared.
//! - The distance tests are most of the layout's time. A bucket keeps its dots side by side
//!   in chunks of four, by coordinate ([`Chunk`]): testing a bucket is a few vector
//!   instructions on one cache line, and the buckets of a query do not wait on each other's
//!   loads. (A linked list of dots made each test wait for the load before it.)

use glam::Vec3;
use std::collections::HashMap;

const NONE: u32 = u32::MAX;
/// 16 fine cells per tile side (about 30 r0). A coarse cell is 2^s fine cells (s set by
/// the largest radius), so it lies in exactly one tile.
const FINE_TILE_SHIFT: i32 = 4;
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;
/// Most sub-triangles per edge when sharing a triangle's area among the tiles it crosses.
const MAX_AREA_SUBDIVISIONS: usize = 32;
pub(crate) const COLORS: usize = 8;

/// Cell index of a coordinate (in cells): x - 0.5 rounded to nearest by the 1.5·2²³ trick.
/// That is floor(x) except exactly on cell boundaries, where ties go to even; all the hash
/// needs is a monotone, deterministic map shared by inserts and queries, and this one costs
/// three instructions where a saturating `as i32` floor costs a dozen (it runs about 20
/// times per candidate). Valid for |x| < 2²² cells.
#[inline]
fn cell_index(x: f32) -> i32 {
    const MAGIC: f32 = 12_582_912.0;
    debug_assert!(x.abs() < 4.0e6);
    (x - 0.5 + MAGIC).to_bits() as i32 - MAGIC.to_bits() as i32
}

#[inline]
fn cell_of(p: Vec3, inv: f32) -> [i32; 3] {
    [
        cell_index(p.x * inv),
        cell_index(p.y * inv),
        cell_index(p.z * inv),
    ]
}

#[inline]
fn pack(t: [i32; 3]) -> u64 {
    const M21: u64 = (1 << 21) - 1;
    (t[0] as u64 & M21) | (t[1] as u64 & M21) << 21 | (t[2] as u64 & M21) << 42
}

#[inline]
fn color_of(t: [i32; 3]) -> usize {
    ((t[0] & 1) | (t[1] & 1) << 1 | (t[2] & 1) << 2) as usize
}

/// Which tile: its colour and its index among the tiles of that colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TileRef {
    pub color: u32,
    pub index: u32,
}

/// What the layout keeps with each dot until its attributes are drawn.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct DotMeta {
    pub triangle: u32,
    pub u: f32,
    pub v: f32,
    pub weight: f32,
}

/// Collects the tiles the surface occupies (and how much area each holds, to size its
/// tables) before the grid is allocated.
pub(crate) struct GridBuilder {
    r0: f32,
    r_max: f32,
    inv_fine: f32,
    coarse_shift: i32,
    /// Tile → (area, area of triangles crossing the transition zone), mm².
    tiles: HashMap<[i32; 3], (f32, f32)>,
}

impl GridBuilder {
    pub(crate) fn new(r0: f32, r_max: f32) -> Self {
        // Twice the reach of full-weight queries (r0).
        let fine = 2.0 * r0;
        // Coarse cells: at least twice the reach of full-weight candidates into the coarse
        // level, (r0 + r_max)/2.
        let mut coarse_shift = 1;
        while fine * ((1 << coarse_shift) as f32) < r0 + r_max {
            coarse_shift += 1;
        }
        // A query must never reach past the neighbouring tiles (nor meet a tile of its own
        // colour): the largest reach is r_max.
        assert!(
            coarse_shift < FINE_TILE_SHIFT && r_max < 0.5 * fine * (1 << FINE_TILE_SHIFT) as f32
        );
        Self {
            r0,
            r_max,
            inv_fine: 1.0 / fine,
            coarse_shift,
            tiles: HashMap::new(),
        }
    }

    /// Registers a triangle that may receive dots: every tile its bounding box touches.
    /// Returns whether that is a single tile (then every point of it lies there).
    pub(crate) fn add_triangle(
        &mut self,
        a: Vec3,
        b: Vec3,
        c: Vec3,
        area: f32,
        partial: bool,
    ) -> bool {
        // Padding covers rounding in a + u·e1 + v·e2.
        let t0 = cell_of(a.min(b).min(c) - 1e-3, self.inv_fine).map(|x| x >> FINE_TILE_SHIFT);
        let t1 = cell_of(a.max(b).max(c) + 1e-3, self.inv_fine).map(|x| x >> FINE_TILE_SHIFT);
        for z in t0[2]..=t1[2] {
            for y in t0[1]..=t1[1] {
                for x in t0[0]..=t1[0] {
                    self.tiles.entry([x, y, z]).or_insert((0.0, 0.0));
                }
            }
        }
        // Each tile gets the share of the area that lies in it (from the centroids of n²
        // sub-triangles under half a tile across), so that a tile holding the edge of a
        // large triangle gets enough buckets for its dots: sized by the home tile alone,
        // its buckets would hold many dots each.
        let tile_mm = (1 << FINE_TILE_SHIFT) as f32 / self.inv_fine;
        let diameter = (b - a).length().max((c - b).length()).max((a - c).length());
        let n = if t0 == t1 {
            1
        } else {
            ((2.0 * diameter / tile_mm).ceil() as usize).clamp(1, MAX_AREA_SUBDIVISIONS)
        };
        let (e1, e2) = ((b - a) / n as f32, (c - a) / n as f32);
        let share = area / (n * n) as f32;
        let add = |s: f32, t: f32| {
            let p = a + s * e1 + t * e2;
            let tile = cell_of(p, self.inv_fine).map(|x| x >> FINE_TILE_SHIFT);
            let e = self.tiles.entry(tile).or_insert((0.0, 0.0));
            e.0 += share;
            if partial {
                e.1 += share;
            }
        };
        super::sub_triangle_centroids(n, add);
        t0 == t1
    }

    /// `dots_per_mm2`: the density asked for, to reserve room in each tile.
    pub(crate) fn build(self, dots_per_mm2: f32) -> DotGrid {
        // A surface crosses about 1.5 cells per cell-area of it.
        let fine_cells_per_mm2 = 1.5 * self.inv_fine * self.inv_fine;
        let coarse_cells_per_mm2 = fine_cells_per_mm2 / (1 << (2 * self.coarse_shift)) as f32;
        let mut keys: Vec<[i32; 3]> = self.tiles.keys().copied().collect();
        keys.sort_unstable(); // HashMap order is random: keep the layout deterministic.
        let map_size = (2 * keys.len().max(1)).next_power_of_two();
        let mut map = TileMap {
            keys: vec![[0; 3]; map_size],
            vals: vec![NONE; map_size],
            shift: 64 - map_size.trailing_zeros(),
        };
        let mut colors: [Vec<Tile>; COLORS] = Default::default();
        for key in keys {
            let (area, partial) = self.tiles[&key];
            // About one bucket per occupied cell.
            let fine_n = ((area * fine_cells_per_mm2) as usize)
                .clamp(2, 1 << 14)
                .next_power_of_two();
            let coarse_n = ((partial * coarse_cells_per_mm2) as usize)
                .clamp(2, 1 << 12)
                .next_power_of_two();
            let dots = (1.2 * dots_per_mm2 * area) as usize + 16;
            let color = color_of(key);
            map.insert(
                key,
                TileRef {
                    color: color as u32,
                    index: colors[color].len() as u32,
                },
            );
            colors[color].push(Tile {
                coords: key,
                // Most buckets are empty or hold a few dots: about one chunk per three dots.
                fine: Level::new(fine_n, dots / 3, false),
                coarse: Level::new(coarse_n, 0, true),
                coarse_dots: 0,
                positions: Vec::with_capacity(dots),
                meta: Vec::with_capacity(dots),
            });
        }
        let geom = Geometry {
            inv_fine: self.inv_fine,
            r0: self.r0,
            r_max: self.r_max,
            coarse_shift: self.coarse_shift,
        };
        DotGrid { geom, map, colors }
    }
}

#[derive(Clone, Copy, Debug)]
struct Geometry {
    inv_fine: f32,
    /// A coarse cell is 2^coarse_shift fine cells.
    coarse_shift: i32,
    r0: f32,
    r_max: f32,
}

/// Tile coordinates → tile, open addressing (built once).
#[derive(Clone)]
struct TileMap {
    keys: Vec<[i32; 3]>,
    vals: Vec<u32>,
    shift: u32,
}

impl TileMap {
    fn insert(&mut self, key: [i32; 3], t: TileRef) {
        let mask = self.vals.len() - 1;
        let mut h = (pack(key).wrapping_mul(GOLDEN) >> self.shift) as usize;
        while self.vals[h] != NONE {
            h = (h + 1) & mask;
        }
        self.keys[h] = key;
        self.vals[h] = t.index << 3 | t.color;
    }

    #[inline]
    fn get(&self, key: [i32; 3]) -> Option<TileRef> {
        let mask = self.vals.len() - 1;
        let mut h = (pack(key).wrapping_mul(GOLDEN) >> self.shift) as usize;
        loop {
            let v = self.vals[h];
            if v == NONE {
                return None;
            }
            if self.keys[h] == key {
                return Some(TileRef {
                    color: v & 7,
                    index: v >> 3,
                });
            }
            h = (h + 1) & mask;
        }
    }
}

/// Dots per chunk: one 128-bit vector per coordinate (SSE, NEON).
const LANES: usize = 4;

/// Up to four dots of one bucket, stored by coordinate, in one cache line. Unused lanes
/// hold x = +inf, which passes no distance test, so a chunk is always tested whole, without
/// looking at its length.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Chunk {
    x: [f32; LANES],
    y: [f32; LANES],
    z: [f32; LANES],
    len: u32,
    /// The bucket's next chunk (older, full); [`EMPTY_CHUNK`] ends the bucket.
    next: u32,
}

/// Chunk 0 of every level: the empty bucket's chunk, so that a query tests empty and
/// occupied buckets alike (a branch on emptiness would be mispredicted often: most
/// buckets are empty). It is never written, and never any bucket's next.
const EMPTY_CHUNK: u32 = 0;

impl Chunk {
    const EMPTY: Chunk = Chunk {
        x: [f32::INFINITY; LANES],
        y: [0.0; LANES],
        z: [0.0; LANES],
        len: 0,
        next: EMPTY_CHUNK,
    };

    /// Whether any dot of the chunk is closer to `p` than `lim2` (squared), or with
    /// `VARIABLE`, than (r + rⱼ)/2 (rⱼ from `radii`). The same f32 operations, in the same
    /// order, as one dot at a time would be: lanes compute exactly what scalar code does.
    #[inline(always)]
    fn any_within<const VARIABLE: bool>(
        &self,
        radii: &[f32; LANES],
        p: Vec3,
        r: f32,
        lim2: f32,
    ) -> bool {
        let d2: [f32; LANES] = std::array::from_fn(|l| {
            let (dx, dy, dz) = (self.x[l] - p.x, self.y[l] - p.y, self.z[l] - p.z);
            dx * dx + dy * dy + dz * dz
        });
        let lim2: [f32; LANES] = std::array::from_fn(|l| {
            if VARIABLE {
                (0.5 * (r + radii[l])).powi(2)
            } else {
                lim2
            }
        });
        // Branch-free across lanes, so the compiler can keep them in one vector.
        let mut hits = 0u32;
        for l in 0..LANES {
            hits |= u32::from(d2[l] < lim2[l]);
        }
        hits != 0
    }
}

/// One level of a tile's hash: a bucket per hashed cell, holding the index of its newest
/// chunk; the chunks of all buckets in one pool.
struct Level {
    /// 64 - log2(bucket count).
    shift: u32,
    heads: Vec<u32>,
    chunks: Vec<Chunk>,
    /// The dots' exclusion radii, by chunk, at the coarse level (radii vary there); empty
    /// at the fine level, where every dot's is r0.
    radii: Vec<[f32; LANES]>,
}

impl Level {
    fn new(buckets: usize, chunks: usize, variable: bool) -> Level {
        debug_assert!(buckets.is_power_of_two());
        let mut pool = Vec::with_capacity(chunks + 1);
        pool.push(Chunk::EMPTY);
        let mut radii = Vec::new();
        if variable {
            radii.reserve(chunks + 1);
            radii.push([0.0; LANES]);
        }
        Level {
            shift: 64 - buckets.trailing_zeros(),
            heads: vec![EMPTY_CHUNK; buckets],
            chunks: pool,
            radii,
        }
    }

    /// The radii of chunk `c`'s dots (`VARIABLE`: the coarse level), else a stand-in.
    #[inline(always)]
    fn radii<const VARIABLE: bool>(&self, c: u32) -> &[f32; LANES] {
        if VARIABLE {
            &self.radii[c as usize]
        } else {
            &[0.0; LANES]
        }
    }

    /// Whether a dot of chunk `c` is within reach (see [`Chunk::any_within`]).
    #[inline(always)]
    fn chunk_within<const VARIABLE: bool>(&self, c: u32, p: Vec3, r: f32, lim2: f32) -> bool {
        self.chunks[c as usize].any_within::<VARIABLE>(self.radii::<VARIABLE>(c), p, r, lim2)
    }

    #[inline(always)]
    fn bucket(&self, key: u64) -> usize {
        (key.wrapping_mul(GOLDEN) >> self.shift) as usize
    }

    /// Whether a dot of the chunk `c` or those after it is within reach (see
    /// [`Chunk::any_within`]). All chunks are tested: rarely more than one.
    #[inline(always)]
    fn chain_within<const VARIABLE: bool>(&self, c: u32, p: Vec3, r: f32, lim2: f32) -> bool {
        let (mut hit, mut next) = (
            self.chunk_within::<VARIABLE>(c, p, r, lim2),
            self.chunks[c as usize].next,
        );
        while next != EMPTY_CHUNK {
            hit |= self.chunk_within::<VARIABLE>(next, p, r, lim2);
            next = self.chunks[next as usize].next;
        }
        hit
    }

    fn insert(&mut self, key: u64, p: Vec3, r: f32) {
        let b = self.bucket(key);
        let mut head = self.heads[b];
        // Only the newest chunk can have room: older ones are full.
        if head == EMPTY_CHUNK || self.chunks[head as usize].len as usize == LANES {
            self.chunks.push(Chunk {
                next: head,
                ..Chunk::EMPTY
            });
            if !self.radii.is_empty() {
                self.radii.push([0.0; LANES]);
            }
            head = (self.chunks.len() - 1) as u32;
            self.heads[b] = head;
        }
        let chunk = &mut self.chunks[head as usize];
        let l = chunk.len as usize;
        (chunk.x[l], chunk.y[l], chunk.z[l]) = (p.x, p.y, p.z);
        chunk.len += 1;
        if let Some(radii) = self.radii.get_mut(head as usize) {
            radii[l] = r;
        }
    }

    /// Reads the level front to back (see [`Tile::warm`]).
    fn warm(&self, acc: u32) -> u32 {
        let acc = self.heads.iter().step_by(16).fold(acc, |a, &x| a ^ x);
        let acc = self.chunks.iter().fold(acc, |a, c| a ^ c.len);
        self.radii
            .iter()
            .step_by(4)
            .fold(acc, |a, r| a ^ r[0].to_bits())
    }
}

/// Whether a dot of eight buckets (repeats allowed), each given by its level and newest
/// chunk, is within reach (see [`Chunk::any_within`]). Every chunk is loaded and tested
/// before any branch on the outcome, so the loads overlap.
#[inline(always)]
fn any_within_8<const VARIABLE: bool>(
    buckets: &[(&Level, u32); 8],
    p: Vec3,
    r: f32,
    lim2: f32,
) -> bool {
    let (mut hit, mut more) = (false, false);
    for &(level, c) in buckets {
        hit |= level.chunk_within::<VARIABLE>(c, p, r, lim2);
        more |= level.chunks[c as usize].next != EMPTY_CHUNK;
    }
    if hit || !more {
        return hit;
    }
    // Rare: buckets of more than four dots.
    buckets.iter().any(|&(level, c)| {
        let next = level.chunks[c as usize].next;
        next != EMPTY_CHUNK && level.chain_within::<VARIABLE>(next, p, r, lim2)
    })
}

/// One tile: its two levels of buckets and its dots.
pub(crate) struct Tile {
    coords: [i32; 3],
    fine: Level,
    coarse: Level,
    /// Dots at the coarse level: most tiles have none, and then a query that stays in
    /// the tile can skip that level.
    coarse_dots: u32,
    /// Every dot of the tile in insertion order (its local id), for the output.
    positions: Vec<Vec3>,
    meta: Vec<DotMeta>,
}

/// Accepted dots in a tiled two-level spatial hash.
pub(crate) struct DotGrid {
    geom: Geometry,
    map: TileMap,
    colors: [Vec<Tile>; COLORS],
}

impl DotGrid {
    /// Tiles per colour.
    pub(crate) fn tiles_per_color(&self) -> [usize; COLORS] {
        std::array::from_fn(|c| self.colors[c].len())
    }

    /// The tile a point belongs to, if the surface registered it.
    #[cfg(test)]
    fn locate(&self, p: Vec3) -> Option<TileRef> {
        self.locator().locate(p)
    }

    /// Finds tiles without borrowing the grid (for threads throwing candidates while the
    /// grid is being written).
    pub(crate) fn locator(&self) -> Locator {
        Locator {
            geom: self.geom,
            map: self.map.clone(),
        }
    }

    /// A dot's position and what the layout kept with it.
    pub(crate) fn dot(&self, t: TileRef, local: u32) -> (Vec3, DotMeta) {
        let tile = &self.colors[t.color as usize][t.index as usize];
        (tile.positions[local as usize], tile.meta[local as usize])
    }

    /// The tiles of one colour, to be written, and a view of all the others, to be read.
    pub(crate) fn phase(&mut self, color: usize) -> (&mut [Tile], View<'_>) {
        let (lo, rest) = self.colors.split_at_mut(color);
        let (mid, hi) = rest.split_first_mut().expect("colour in range");
        (
            mid.as_mut_slice(),
            View {
                geom: self.geom,
                map: &self.map,
                lo,
                hi,
                color,
            },
        )
    }
}

/// Point → tile.
pub(crate) struct Locator {
    geom: Geometry,
    map: TileMap,
}

impl Locator {
    /// The tile a point belongs to, if the surface registered it.
    #[inline]
    pub(crate) fn locate(&self, p: Vec3) -> Option<TileRef> {
        self.map
            .get(cell_of(p, self.geom.inv_fine).map(|x| x >> FINE_TILE_SHIFT))
    }
}

/// Shared access to the tiles not being written in a phase.
#[derive(Clone, Copy)]
pub(crate) struct View<'a> {
    geom: Geometry,
    map: &'a TileMap,
    lo: &'a [Vec<Tile>],
    hi: &'a [Vec<Tile>],
    color: usize,
}

impl<'a> View<'a> {
    #[inline]
    fn tile(&self, coords: [i32; 3]) -> Option<&'a Tile> {
        let t = self.map.get(coords)?;
        let c = t.color as usize;
        // A query reaches less than a tile, so it never meets another tile of its colour.
        debug_assert_ne!(c, self.color);
        let tiles = match c.cmp(&self.color) {
            std::cmp::Ordering::Less => &self.lo[c],
            std::cmp::Ordering::Greater => &self.hi[c - self.color - 1],
            std::cmp::Ordering::Equal => return None,
        };
        Some(&tiles[t.index as usize])
    }
}

impl Tile {
    /// Reads the tile's buckets and dots front to back, one load per cache line. Queries
    /// probe them in hash order, one dependent miss at a time; streamed, they arrive at
    /// memory bandwidth instead (the whole grid outgrows the caches, so every batch
    /// re-reads each tile). Call before working on the tile.
    pub(crate) fn warm(&self) {
        let acc = self.fine.warm(0);
        std::hint::black_box(self.coarse.warm(acc));
    }

    /// Whether a dot of radius `r` at `p` (which lies in this tile) comes closer than
    /// (r + rⱼ)/2 to any accepted dot. `check_coarse = false` skips the coarse level, for
    /// candidates the caller knows are out of reach of every large-radius dot.
    #[inline]
    pub(crate) fn conflicts(&self, view: &View, p: Vec3, r: f32, check_coarse: bool) -> bool {
        let own = cell_of(p, view.geom.inv_fine);
        debug_assert_eq!(own.map(|x| x >> FINE_TILE_SHIFT), self.coords);
        self.level_conflicts::<false>(view, p, r, own)
            || (check_coarse
                && self.level_conflicts::<true>(
                    view,
                    p,
                    r,
                    own.map(|x| x >> view.geom.coarse_shift),
                ))
    }

    #[inline]
    fn level_conflicts<'a, const COARSE: bool>(
        &'a self,
        view: &View<'a>,
        p: Vec3,
        r: f32,
        own: [i32; 3],
    ) -> bool {
        let g = view.geom;
        let (max_r, shift) = if COARSE {
            (g.r_max, FINE_TILE_SHIFT - g.coarse_shift)
        } else {
            (g.r0, FINE_TILE_SHIFT)
        };
        let reach = 0.5 * (r + max_r);
        // Coarse cells are fine cells shifted, exactly as on insert.
        let level = |c: [i32; 3]| {
            if COARSE {
                c.map(|x| x >> g.coarse_shift)
            } else {
                c
            }
        };
        let (lo, hi) = (
            level(cell_of(p - reach, g.inv_fine)),
            level(cell_of(p + reach, g.inv_fine)),
        );
        // Every fine dot has radius r0: one limit for the whole query.
        let fine_lim2 = (0.5 * (r + g.r0)).powi(2);
        let local = (1 << shift) - 1;
        let tile_lo = lo.map(|x| x >> shift);
        let tile_hi = hi.map(|x| x >> shift);
        let at_home = tile_lo == self.coords && tile_hi == self.coords;
        if COARSE && at_home && self.coarse_dots == 0 {
            return false;
        }
        let level_of = |t: &'a Tile| if COARSE { &t.coarse } else { &t.fine };
        if (0..3).all(|a| hi[a] - lo[a] <= 1) {
            // The common case: at most two cells per axis (one cell is visited twice then,
            // which is harmless), all eight buckets tested at once. Coarse queries are
            // always this case (coarse cells are at least twice their reach).
            let pick = |n: usize, axis: usize| {
                if n >> axis & 1 == 0 {
                    lo[axis]
                } else {
                    hi[axis]
                }
            };
            let bucket_in = |t: &'a Tile, n: usize| {
                let level = level_of(t);
                let (i, j, k) = (pick(n, 0), pick(n, 1), pick(n, 2));
                let key = ((i & local) | (j & local) << shift | (k & local) << (2 * shift)) as u64;
                (level, level.heads[level.bucket(key)])
            };
            let buckets = if at_home {
                // The candidate's own cell first: most rejections are found there, at the
                // cost of one bucket instead of eight.
                if !COARSE {
                    let key = ((own[0] & local)
                        | (own[1] & local) << shift
                        | (own[2] & local) << (2 * shift)) as u64;
                    let level = &self.fine;
                    if level.chain_within::<false>(level.heads[level.bucket(key)], p, r, fine_lim2)
                    {
                        return true;
                    }
                }
                std::array::from_fn(|n| bucket_in(self, n))
            } else {
                // Across tile borders: each tile looked up once. Bit `axis` of a corner
                // `n` picks lo or hi on that axis; `crossing` has the axes whose lo and hi
                // lie in different tiles, so corners equal on it share a tile.
                let crossing = (0..3)
                    .filter(|&a| tile_lo[a] != tile_hi[a])
                    .fold(0, |m, a| m | 1 << a);
                let mut tiles: [Option<&Tile>; 8] = [None; 8];
                for (m, tile) in tiles.iter_mut().enumerate() {
                    if m & !crossing == 0 {
                        let coords = std::array::from_fn(|a| {
                            if m >> a & 1 == 0 {
                                tile_lo[a]
                            } else {
                                tile_hi[a]
                            }
                        });
                        *tile = if coords == self.coords {
                            Some(self)
                        } else {
                            view.tile(coords)
                        };
                    }
                }
                // A tile the surface never reached has no dots: this tile's empty chunk.
                std::array::from_fn(|n| match tiles[n & crossing] {
                    Some(t) => bucket_in(t, n),
                    None => (level_of(self), EMPTY_CHUNK),
                })
            };
            return if COARSE {
                any_within_8::<true>(&buckets, p, r, 0.0)
            } else {
                any_within_8::<false>(&buckets, p, r, fine_lim2)
            };
        }
        // Larger fine-level queries (partial candidates short of full weight reach 3 or 4
        // cells per axis), row by row along x: a row's buckets are tested with no branch
        // between them, and its tile is looked up only where the row enters a new one.
        for k in lo[2]..=hi[2] {
            for j in lo[1]..=hi[1] {
                let (mut hit, mut tile_x, mut tile) = (false, i32::MIN, None);
                for i in lo[0]..=hi[0] {
                    let coords = [i >> shift, j >> shift, k >> shift];
                    if coords[0] != tile_x {
                        tile_x = coords[0];
                        tile = if coords == self.coords {
                            Some(self)
                        } else {
                            view.tile(coords)
                        };
                    }
                    if let Some(t) = tile {
                        let level = level_of(t);
                        let key = ((i & local) | (j & local) << shift | (k & local) << (2 * shift))
                            as u64;
                        hit |= level.chain_within::<COARSE>(
                            level.heads[level.bucket(key)],
                            p,
                            r,
                            fine_lim2,
                        );
                    }
                }
                if hit {
                    return true;
                }
            }
        }
        false
    }

    /// Adds a dot lying in this tile; radii up to r0 go to the fine level, larger ones to
    /// the coarse level. Returns its local id.
    #[inline]
    pub(crate) fn insert(&mut self, view: &View, p: Vec3, r: f32, meta: DotMeta) -> u32 {
        let id = self.positions.len() as u32;
        let cell = cell_of(p, view.geom.inv_fine);
        debug_assert_eq!(cell.map(|x| x >> FINE_TILE_SHIFT), self.coords);
        if r <= view.geom.r0 {
            let l = (1 << FINE_TILE_SHIFT) - 1;
            let key = ((cell[0] & l)
                | (cell[1] & l) << FINE_TILE_SHIFT
                | (cell[2] & l) << (2 * FINE_TILE_SHIFT)) as u64;
            self.fine.insert(key, p, r);
        } else {
            debug_assert!(r <= view.geom.r_max * 1.0001);
            self.coarse_dots += 1;
            // Coarse cells are fine cells shifted: the same tile as the fine cell.
            let c = cell.map(|x| x >> view.geom.coarse_shift);
            let shift = FINE_TILE_SHIFT - view.geom.coarse_shift;
            let l = (1 << shift) - 1;
            let key = ((c[0] & l) | (c[1] & l) << shift | (c[2] & l) << (2 * shift)) as u64;
            self.coarse.insert(key, p, r);
        }
        self.positions.push(p);
        self.meta.push(meta);
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> DotGrid {
        let mut b = GridBuilder::new(1.0, 2.0);
        // A strip of triangles along x, crossing several tiles (32 mm each at 2 mm cells).
        for x in -3..4 {
            let x = x as f32 * 30.0;
            b.add_triangle(
                Vec3::new(x, -1.0, 0.0),
                Vec3::new(x + 31.0, -1.0, 0.0),
                Vec3::new(x, 1.0, 0.5),
                31.0,
                x > 0.0,
            );
        }
        b.build(0.1)
    }

    fn insert(g: &mut DotGrid, p: Vec3, r: f32) {
        let t = g.locate(p).unwrap();
        let (tiles, view) = g.phase(t.color as usize);
        tiles[t.index as usize].insert(&view, p, r, DotMeta::default());
    }

    fn hit(g: &mut DotGrid, p: Vec3, r: f32, coarse: bool) -> bool {
        let t = g.locate(p).unwrap();
        let (tiles, view) = g.phase(t.color as usize);
        tiles[t.index as usize].conflicts(&view, p, r, coarse)
    }

    #[test]
    fn finds_conflicts_across_levels_cells_and_tiles() {
        let mut g = grid();
        insert(&mut g, Vec3::new(0.99, 0.0, 0.0), 1.0);
        insert(&mut g, Vec3::new(10.0, 0.0, 0.0), 2.0);
        // Fine-fine: limit (1 + 1)/2 = 1.
        assert!(hit(&mut g, Vec3::new(1.98, 0.0, 0.0), 1.0, false));
        assert!(!hit(&mut g, Vec3::new(2.0, 0.0, 0.0), 1.0, true));
        // Fine candidate against a coarse dot: limit (1 + 2)/2 = 1.5.
        assert!(hit(&mut g, Vec3::new(8.6, 0.0, 0.0), 1.0, true));
        assert!(!hit(&mut g, Vec3::new(8.6, 0.0, 0.0), 1.0, false));
        assert!(!hit(&mut g, Vec3::new(8.4, 0.0, 0.0), 1.0, true));
        // Coarse candidate against a fine dot, across the tile boundary at x = 0.
        assert!(hit(&mut g, Vec3::new(-0.5, 0.0, 0.0), 2.0, true));
        assert!(!hit(&mut g, Vec3::new(-0.52, 0.0, 0.0), 2.0, true));
        // Across a tile boundary at the fine level.
        insert(&mut g, Vec3::new(31.9, 0.0, 0.0), 1.0);
        assert!(hit(&mut g, Vec3::new(32.5, 0.0, 0.0), 1.0, false));
        assert!(!hit(&mut g, Vec3::new(32.95, 0.0, 0.0), 1.0, false));
        assert_ne!(
            g.locate(Vec3::new(31.9, 0.0, 0.0)),
            g.locate(Vec3::new(32.5, 0.0, 0.0))
        );
    }

    #[test]
    fn cell_index_is_monotone_floor_off_boundaries() {
        let mut prev = i32::MIN;
        for i in -4000..4000 {
            let x = i as f32 * 0.0137 + 0.003;
            let c = cell_index(x);
            assert!(c >= prev);
            assert_eq!(c, x.floor() as i32, "{x}");
            prev = c;
        }
    }
}
