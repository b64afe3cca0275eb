//! The pigment map: every dot splatted once per plan into an atlas of surface charts
//! ([`super::surface_charts`]), so a texel belongs to one piece of skin. Frames sample it with
//! mipmaps, so a million sub-pixel dots cost one texture fetch per pixel and their average
//! colour stays the same at every distance.
//!
//! Each texel holds the coverage-weighted darkening Σ aᵢ·Dᵢ of the dots in it (aᵢ = the dot's
//! area over the texel's area on the surface). That quantity is linear, so box-filtered mips
//! are exact averages; charts are aligned to the last mip's block, so no level mixes two.
//!
//! Placement (which chart, where in the atlas, how wide) is plain data code shared by both
//! splats: a hardware GPU sums the placed splats itself ([`crate::render::pigment_splat`]); this module
//! sums them on the CPU, used on software adapters, where it is the faster of the two, and as
//! the reference the GPU splat is tested against. It also holds the cube map conventions of
//! the scalp map and the dot chunks.

use super::surface_charts::{ATLAS_MIP_LEVELS, CHART_ALIGN, SurfaceCharts, axis_vector};
use crate::layout::Dot;
use crate::pigment;
use glam::{Vec2, Vec3};

/// A cube map's texels: `levels[level][face]` = RGBA texels, row-major, faces in wgpu order.
pub type CubeLevels = Vec<[Vec<[f32; 4]>; 6]>;

/// A rectangle of texels, bounds inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TexelRect {
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

impl TexelRect {
    /// The whole face of `n` texels a side.
    pub fn full(n: usize) -> TexelRect {
        TexelRect {
            x0: 0,
            y0: 0,
            x1: n - 1,
            y1: n - 1,
        }
    }

    /// The texels of mip `level` that average texels of this rectangle (at level 0).
    pub fn at_level(&self, level: usize) -> TexelRect {
        TexelRect {
            x0: self.x0 >> level,
            y0: self.y0 >> level,
            x1: self.x1 >> level,
            y1: self.y1 >> level,
        }
    }
}

/// A cube map's mip chain by 2x2 box filtering from `base` (faces of `n` x `n` texels, `n` a
/// power of two): each level is the exact average of the one above, which keeps linear
/// quantities (pigment darkening, hair and scar fractions) the same at every distance.
pub fn box_mip_chain(base: [Vec<[f32; 4]>; 6], n: usize) -> Vec<[Vec<[f32; 4]>; 6]> {
    box_mip_chain_within(base, n, &[Some(TexelRect::full(n)); 6])
}

/// [`box_mip_chain`] where only `occupied[face]` of the base is non-zero: the rest of every
/// level is left zero without being visited.
pub fn box_mip_chain_within(
    base: [Vec<[f32; 4]>; 6],
    n: usize,
    occupied: &[Option<TexelRect>; 6],
) -> Vec<[Vec<[f32; 4]>; 6]> {
    let mut levels = vec![base];
    let mut s = n;
    let mut level = 0;
    while s > 1 {
        let h = s / 2;
        level += 1;
        let prev = levels.last().expect("a base level");
        let next: [Vec<[f32; 4]>; 6] = std::array::from_fn(|f| {
            let src = &prev[f];
            let mut out = vec![[0.0; 4]; h * h];
            let Some(r) = occupied[f].map(|r| r.at_level(level)) else {
                return out;
            };
            for y in r.y0..=r.y1 {
                for x in r.x0..=r.x1 {
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

/// What the splat needs of a dot: the plan's [`Dot`], or the near pass's record of it.
#[derive(Clone, Copy, Debug)]
pub struct SplatSource {
    pub position_mm: Vec3,
    pub normal: Vec3,
    /// [`pigment::DotAppearance::footprint_mm2`]: the area it darkens in all.
    pub footprint_mm2: f32,
    pub darkening: Vec3,
    pub halo_sigma_mm: f32,
}

impl SplatSource {
    pub fn of_dot(dot: &Dot) -> SplatSource {
        let look = pigment::appearance(
            pigment::default_skin(),
            dot.shade,
            dot.depth_mm,
            dot.diameter_mm,
        );
        SplatSource {
            position_mm: dot.position_mm,
            normal: dot.normal,
            footprint_mm2: look.footprint_mm2(dot.diameter_mm),
            darkening: look.darkening,
            halo_sigma_mm: look.halo_sigma_mm,
        }
    }
}

/// `f` over `items` in order, in chunks on the machine's cores; results in the items' order.
pub(crate) fn parallel_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T) -> U + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(4096);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| s.spawn(|| c.iter().map(&f).collect::<Vec<U>>()))
            .collect();
        let mut all = Vec::with_capacity(items.len());
        for h in handles {
            all.extend(h.join().expect("a splat thread panicked"));
        }
        all
    })
}

/// [`parallel_map`] for plain-data results, written in place: the output is allocated zeroed
/// once and each core fills its own part of it (no per-core vectors to copy: at a million
/// 80-byte dots that copy and its page faults cost as much as the map itself).
pub(crate) fn parallel_map_zeroed<T: Sync, U: bytemuck::Zeroable + Send>(
    items: &[T],
    f: impl Fn(&T) -> U + Sync,
) -> Vec<U> {
    let mut out: Vec<U> = bytemuck::zeroed_vec(items.len());
    parallel_chunks_mut(&mut out, 4096, |start, part| {
        for (o, item) in part.iter_mut().zip(&items[start..]) {
            *o = f(item);
        }
    });
    out
}

/// `f(start, chunk)` for each `chunk_len`-long chunk of `out` (start: the chunk's first
/// index), the chunks shared out in contiguous runs to the machine's cores.
pub(crate) fn parallel_chunks_mut<U: Send>(
    out: &mut [U],
    chunk_len: usize,
    f: impl Fn(usize, &mut [U]) + Sync,
) {
    let chunk_len = chunk_len.max(1);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut jobs: Vec<(usize, &mut [U])> = out
        .chunks_mut(chunk_len)
        .enumerate()
        .map(|(i, c)| (i * chunk_len, c))
        .collect();
    if threads <= 1 || jobs.len() <= 1 {
        for (start, chunk) in jobs {
            f(start, chunk);
        }
        return;
    }
    let per_thread = jobs.len().div_ceil(threads);
    std::thread::scope(|s| {
        for run in jobs.chunks_mut(per_thread) {
            let f = &f;
            s.spawn(move || {
                for (start, chunk) in run.iter_mut() {
                    f(*start, chunk);
                }
            });
        }
    });
}

/// Rows per band of the CPU sum. Fixed, not the core count, so that every texel's sum is taken
/// in the same order on every machine (the same last bit).
const BAND_ROWS: usize = 64;
/// Charts per row of the chart table texture (two texels each).
pub const CHART_TABLE_WIDTH: u32 = 256;
/// Texels of zero pigment kept round the splats of a chart in the atlas, inside its guard (so
/// samples up to the last mip read this chart only), and again outside it.
const GUARD_TEXELS: i32 = CHART_ALIGN;

/// One dot's splat on one chart, placed in the atlas: what the CPU sum adds and the GPU splat
/// draws (its instance record, `SplatIn` in `shaders/pigment_splat.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, bytemuck::Pod, bytemuck::Zeroable)]
pub struct Splat {
    /// Position in atlas texels (texel centres at integers); sigma: halo sigma in texels.
    pub x: f32,
    pub y: f32,
    pub sigma: f32,
    pub _pad: f32,
    /// Coverage x darkening (rgb) and coverage (a).
    pub value: [f32; 4],
    /// The chart's rectangle in the atlas (x0, y0, x1, y1, inclusive): the splat writes only
    /// there. Its weights are normalised over the whole window, clipped or not, so a dot near
    /// a chart's edge keeps its spot's shape and the clipped part is the neighbour's.
    pub clip: [u32; 4],
}

impl Splat {
    /// The splat of `dot` on `chart` in the chart's own texels (clip unset), or None where its
    /// window misses the chart's rectangle.
    fn on_chart(
        dot: &SplatSource,
        chart: &super::surface_charts::Chart,
        texel_mm: f32,
    ) -> Option<Splat> {
        let q = chart.local_texels(dot.position_mm, texel_mm);
        // The texel's area on the skin: the surface's tilt against the chart's axis.
        let cos_tilt = dot.normal.dot(axis_vector(chart.axis)).abs().max(0.2);
        let texel_area_mm2 = texel_mm * texel_mm / cos_tilt;
        let coverage = dot.footprint_mm2 / texel_area_mm2;
        let d = coverage * dot.darkening;
        let sigma = dot.halo_sigma_mm / texel_area_mm2.sqrt();
        let reach = if sigma < BILINEAR_SIGMA_TEXELS {
            1.0
        } else {
            (3.0 * sigma).min(MAX_SPLAT_TEXELS)
        };
        let size = chart.size.as_vec2();
        if q.x + reach < 0.0
            || q.y + reach < 0.0
            || q.x - reach > size.x - 1.0
            || q.y - reach > size.y - 1.0
            || !q.is_finite()
        {
            return None;
        }
        Some(Splat {
            x: q.x,
            y: q.y,
            sigma,
            _pad: 0.0,
            value: [d.x, d.y, d.z, coverage],
            clip: [0; 4],
        })
    }

    /// Rows this splat writes to.
    fn rows(&self) -> (usize, usize) {
        let (lo, hi) = self.window(self.y);
        (
            lo.max(self.clip[1] as f32) as usize,
            hi.min(self.clip[3] as f32) as usize,
        )
    }

    /// The unclipped window (first and last texel) round `c`.
    fn window(&self, c: f32) -> (f32, f32) {
        if self.sigma < BILINEAR_SIGMA_TEXELS {
            (floor(c), floor(c) + 1.0)
        } else {
            let reach = (3.0 * self.sigma).min(MAX_SPLAT_TEXELS);
            (floor(c - reach), -floor(-c - reach))
        }
    }

    /// Adds the splat into `rows`, the atlas rows from `row0` on (`w` texels each); returns the
    /// first and last columns written (None: nothing written).
    fn add_to(&self, rows: &mut [[f32; 4]], row0: usize, w: usize) -> Option<(usize, usize)> {
        let v = self.value;
        let [cx0, cy0, cx1, cy1] = self.clip.map(|c| c as f32);
        let (x, y) = (self.x, self.y);
        if self.sigma < BILINEAR_SIGMA_TEXELS {
            let (x0, y0) = (floor(x), floor(y));
            let (fx, fy) = (x - x0, y - y0);
            let mut cols: Option<(usize, usize)> = None;
            for (dx, dy, wgt) in [
                (0.0, 0.0, (1.0 - fx) * (1.0 - fy)),
                (1.0, 0.0, fx * (1.0 - fy)),
                (0.0, 1.0, (1.0 - fx) * fy),
                (1.0, 1.0, fx * fy),
            ] {
                let (xi, yi) = (x0 + dx, y0 + dy);
                if xi < cx0 || xi > cx1 || yi < cy0 || yi > cy1 {
                    continue;
                }
                let (xi, yi) = (xi as usize, yi as usize);
                let t = &mut rows[(yi - row0) * w + xi];
                for c in 0..4 {
                    t[c] += wgt * v[c];
                }
                cols = Some(cols.map_or((xi, xi), |(a, b)| (a.min(xi), b.max(xi))));
            }
            return cols;
        }
        // The Gaussian is separable and the window a rectangle: weights per column and per
        // row, their sum a product (as the GPU splat's `gauss_sum`).
        let k = -0.5 / (self.sigma * self.sigma);
        let span = |c: f32| {
            let (lo, hi) = self.window(c);
            let mut wts = [0.0f32; 2 * MAX_SPLAT_TEXELS as usize + 3];
            // exp(k d²) at d, d+1, ...: each the last times a ratio exp(k (2d + 1)) that itself
            // grows by exp(2k) a step; three exponentials a row instead of one a texel.
            let d = lo - c;
            let (mut wi, mut ratio, step) = (
                (k * d * d).exp(),
                (k * (2.0 * d + 1.0)).exp(),
                (2.0 * k).exp(),
            );
            let mut sum = 0.0;
            for slot in wts.iter_mut().take((hi - lo) as usize + 1) {
                *slot = wi;
                sum += wi;
                wi *= ratio;
                ratio *= step;
            }
            (lo, hi, wts, sum)
        };
        let (x_lo, x_hi, wx, sx) = span(x);
        let (y_lo, y_hi, wy, sy) = span(y);
        let (xa, xb) = (x_lo.max(cx0), x_hi.min(cx1));
        let (ya, yb) = (y_lo.max(cy0), y_hi.min(cy1));
        if xa > xb || ya > yb {
            return None;
        }
        let inv_total = 1.0 / (sx * sy);
        let (skip_x, skip_y) = ((xa - x_lo) as usize, (ya - y_lo) as usize);
        let (xa, xb, ya, yb) = (xa as usize, xb as usize, ya as usize, yb as usize);
        // A texel's four channels as one SIMD vector: the same products and sums per channel
        // (so the same bits), but one multiply and one add a texel, where the compiler's own
        // vectorisation across texels shuffled channels in and out.
        let v = glam::Vec4::from_array(v);
        for (yi, wyi) in (ya..=yb).zip(&wy[skip_y..]) {
            let row = &mut rows[(yi - row0) * w..(yi - row0 + 1) * w];
            let wyi = wyi * inv_total;
            for (t, wxi) in row[xa..=xb].iter_mut().zip(&wx[skip_x..]) {
                *t = (glam::Vec4::from_array(*t) + v * (wxi * wyi)).to_array();
            }
        }
        Some((xa, xb))
    }
}

/// `f` over `items` in order, in chunks on the machine's cores, each item giving any number of
/// results; results in the items' order.
fn parallel_flat_map<T: Sync, U: Send>(items: &[T], f: impl Fn(&T, &mut Vec<U>) + Sync) -> Vec<U> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(threads).max(4096);
    std::thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|c| {
                let f = &f;
                s.spawn(move || {
                    let mut out = Vec::with_capacity(c.len() * 5 / 4);
                    for item in c {
                        f(item, &mut out);
                    }
                    out
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().expect("a splat thread panicked"));
        }
        all
    })
}

/// A plan's splats placed in an atlas of the charts they reach: what both splats sum.
pub struct AtlasPlacement {
    /// Atlas size in texels (multiples of [`CHART_ALIGN`]).
    pub width: u32,
    pub height: u32,
    pub texel_mm: f32,
    /// Two entries per chart, which `shaders/surface.wgsl` reads as the chart table: the
    /// offset from projection-plane texels to atlas texels (x, y), its axis, and 1 where the
    /// chart is in the atlas (0: no pigment reaches it); then the part of the atlas its
    /// fragments may read (x0, y0, x1, y1; texel edges): outside it the chart has no pigment.
    pub table: Vec<[f32; 4]>,
    pub splats: Vec<Splat>,
}

impl AtlasPlacement {
    /// Each dot's splats on its own chart and the charts whose margin it lies in, the charts
    /// they reach packed in rows (tallest first) into an atlas at most `max_side` a side.
    pub fn place<T: Sync>(
        charts: &SurfaceCharts,
        dots: &[T],
        source: impl Fn(&T) -> SplatSource + Sync,
        max_side: u32,
    ) -> AtlasPlacement {
        let texel_mm = charts.texel_mm;
        let started = std::time::Instant::now();
        let local: Vec<(u32, Splat)> = parallel_flat_map(dots, |d, out| {
            let src = source(d);
            for c in charts.charts_at(src.position_mm) {
                if let Some(s) = Splat::on_chart(&src, &charts.charts[c as usize], texel_mm) {
                    out.push((c, s));
                }
            }
        });
        // Each chart takes the part of its rectangle its splats reach, and guard bands round
        // that, aligned to the last mip's block.
        let mut reached: Vec<Option<(glam::IVec2, glam::IVec2)>> = vec![None; charts.charts.len()];
        for (c, s) in &local {
            let (lo, hi) = (
                glam::IVec2::new(s.window(s.x).0 as i32, s.window(s.y).0 as i32),
                glam::IVec2::new(s.window(s.x).1 as i32, s.window(s.y).1 as i32),
            );
            let r = &mut reached[*c as usize];
            *r = Some(r.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
        }
        let crops: Vec<Option<(glam::IVec2, glam::UVec2)>> = reached
            .iter()
            .map(|r| {
                r.map(|(lo, hi)| {
                    let a = CHART_ALIGN;
                    let lo = lo - glam::IVec2::splat(2 * GUARD_TEXELS);
                    let hi = hi + glam::IVec2::splat(1 + 2 * GUARD_TEXELS);
                    let lo = glam::IVec2::new(lo.x.div_euclid(a) * a, lo.y.div_euclid(a) * a);
                    let hi = glam::IVec2::new(
                        (hi.x + a - 1).div_euclid(a) * a,
                        (hi.y + a - 1).div_euclid(a) * a,
                    );
                    (lo, (hi - lo).as_uvec2())
                })
            })
            .collect();
        let mut order: Vec<u32> = (0..charts.charts.len() as u32)
            .filter(|&c| crops[c as usize].is_some())
            .collect();
        let size = |c: u32| crops[c as usize].map_or(glam::UVec2::ZERO, |(_, s)| s);
        order.sort_by_key(|&c| {
            (
                std::cmp::Reverse(size(c).y),
                std::cmp::Reverse(size(c).x),
                c,
            )
        });
        let align = CHART_ALIGN as u32;
        let max_side = (max_side / align * align).max(align);
        let area: f64 = order
            .iter()
            .map(|&c| size(c).as_dvec2().element_product())
            .sum();
        let widest = order.iter().map(|&c| size(c).x).max().unwrap_or(align);
        let mut width = ((area * 1.1).sqrt() as u32)
            .max(widest)
            .div_ceil(align)
            .saturating_mul(align)
            .clamp(align, max_side);
        let mut offsets = vec![None; charts.charts.len()];
        let mut height;
        loop {
            let (mut x, mut y, mut shelf) = (0u32, 0u32, 0u32);
            for &c in &order {
                let s = size(c);
                if x + s.x > width {
                    (x, y, shelf) = (0, y + shelf, 0);
                }
                offsets[c as usize] = (s.x <= width && y + s.y <= max_side).then_some((x, y));
                x += s.x;
                shelf = shelf.max(s.y);
            }
            height = (y + shelf).clamp(align, max_side);
            // Too tall: a wider atlas, once; what still does not fit is left out.
            if y + shelf <= max_side || width == max_side {
                break;
            }
            width = max_side;
        }
        let dropped = order
            .iter()
            .filter(|&&c| offsets[c as usize].is_none())
            .count();
        if dropped > 0 {
            log::warn!(
                "pigment map: {dropped} of {} charts do not fit a {max_side}-texel atlas and get no far-field pigment",
                order.len()
            );
        }
        let mut table = Vec::with_capacity(2 * charts.charts.len());
        for (c, chart) in charts.charts.iter().enumerate() {
            match (offsets[c], crops[c]) {
                (Some((x, y)), Some((lo, s))) => {
                    let (x, y) = (x as f32, y as f32);
                    let g = GUARD_TEXELS as f32;
                    table.push([
                        x - (chart.min.x + lo.x) as f32,
                        y - (chart.min.y + lo.y) as f32,
                        f32::from(chart.axis),
                        1.0,
                    ]);
                    table.push([x + g, y + g, x + s.x as f32 - g, y + s.y as f32 - g]);
                }
                _ => {
                    table.push([0.0, 0.0, f32::from(chart.axis), 0.0]);
                    table.push([0.0; 4]);
                }
            }
        }
        log::debug!(
            "pigment map placement: {} splats on {} charts in {:.1} ms",
            local.len(),
            order.len(),
            started.elapsed().as_secs_f64() * 1e3
        );
        let splats = local
            .into_iter()
            .filter_map(|(c, s)| {
                let (ox, oy) = offsets[c as usize]?;
                let (lo, size) = crops[c as usize]?;
                Some(Splat {
                    x: s.x - lo.x as f32 + ox as f32,
                    y: s.y - lo.y as f32 + oy as f32,
                    clip: [ox, oy, ox + size.x - 1, oy + size.y - 1],
                    ..s
                })
            })
            .collect();
        AtlasPlacement {
            width,
            height,
            texel_mm,
            table,
            splats,
        }
    }
}

/// The atlas's mip chain by 2x2 box filtering from `base` (`w` x `h` texels, multiples of
/// 2^(levels-1)): each level the exact average of the one above.
pub fn box_mip_chain_2d(
    base: Vec<[f32; 4]>,
    w: usize,
    h: usize,
    levels: u32,
) -> Vec<Vec<[f32; 4]>> {
    let mut out = vec![base];
    let (mut sw, mut sh) = (w, h);
    for _ in 1..levels {
        let (nw, nh) = ((sw / 2).max(1), (sh / 2).max(1));
        let src = out.last().expect("a base level");
        let mut next = vec![[0.0f32; 4]; nw * nh];
        // Rows in parallel; each texel the same sum in the same order as on one core.
        parallel_chunks_mut(&mut next, nw * 16, |start, rows| {
            for (i, texel) in rows.iter_mut().enumerate() {
                let (x, y) = ((start + i) % nw, (start + i) / nw);
                let mut acc = [0.0f32; 4];
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let t = src[((2 * y + dy).min(sh - 1)) * sw + (2 * x + dx).min(sw - 1)];
                    for c in 0..4 {
                        acc[c] += 0.25 * t[c];
                    }
                }
                *texel = acc;
            }
        });
        out.push(next);
        (sw, sh) = (nw, nh);
    }
    out
}

/// The pigment map as the CPU sums it: the atlas's levels and the chart table.
pub struct PigmentMap {
    pub width: u32,
    pub height: u32,
    pub texel_mm: f32,
    /// levels[level] = RGBA texels, row-major, (width >> level) x (height >> level).
    pub levels: Vec<Vec<[f32; 4]>>,
    /// See [`AtlasPlacement::table`].
    pub table: Vec<[f32; 4]>,
}

impl PigmentMap {
    /// Every dot splatted into the charts of its head, with mips.
    ///
    /// The dot's darkening is mostly its scattering halo (a Gaussian of the halo's width): it
    /// is splatted as that Gaussian, so a frame that samples this level sees a soft spot, not a
    /// texel-sized speck. Weights are normalised to sum to one over the window, so no pigment
    /// is lost or gained; dots whose halo is narrower than a texel fall back to a bilinear
    /// splat. The sums are spread over the machine's cores in a fixed order.
    pub fn build(charts: &SurfaceCharts, dots: &[Dot]) -> PigmentMap {
        Self::build_with(charts, dots, SplatSource::of_dot)
    }

    /// [`PigmentMap::build`] from any record of a dot that says what the splat needs.
    pub fn build_with<T: Sync>(
        charts: &SurfaceCharts,
        dots: &[T],
        source: impl Fn(&T) -> SplatSource + Sync,
    ) -> PigmentMap {
        let placement = AtlasPlacement::place(charts, dots, source, MAX_ATLAS_SIDE);
        Self::sum(&placement)
    }

    /// The placed splats summed on the CPU, with mips.
    pub fn sum(placement: &AtlasPlacement) -> PigmentMap {
        let started = std::time::Instant::now();
        let (w, h) = (placement.width as usize, placement.height as usize);
        let base = sum_splats(&placement.splats, w, h);
        let summed = started.elapsed();
        let levels = box_mip_chain_2d(base, w, h, ATLAS_MIP_LEVELS);
        log::debug!(
            "pigment map on the CPU: {w}x{h} atlas, {} splats, summed {:.1} ms, mips {:.1} ms",
            placement.splats.len(),
            summed.as_secs_f64() * 1e3,
            (started.elapsed() - summed).as_secs_f64() * 1e3
        );
        PigmentMap {
            width: placement.width,
            height: placement.height,
            texel_mm: placement.texel_mm,
            levels,
            table: placement.table.clone(),
        }
    }

    /// An empty map: the "before" view (one block of zero texels, no chart placed).
    pub fn empty(texel_mm: f32) -> PigmentMap {
        let n = CHART_ALIGN as usize;
        PigmentMap {
            width: n as u32,
            height: n as u32,
            texel_mm,
            levels: box_mip_chain_2d(vec![[0.0; 4]; n * n], n, n, ATLAS_MIP_LEVELS),
            table: Vec::new(),
        }
    }
}

/// Largest atlas side the CPU reference places into (the renderer uses the adapter's limit,
/// up to this).
pub const MAX_ATLAS_SIDE: u32 = 16384;

/// `x.floor()` for the atlas's texel coordinates (finite, well inside the i32 range), without
/// the libm call that x86-64's baseline (no SSE4.1 rounding instruction) makes of `floor`: the
/// placement and the sum take it several times a splat. The same value as `floor` there.
#[inline]
fn floor(x: f32) -> f32 {
    let t = x as i32 as f32;
    if t > x { t - 1.0 } else { t }
}

/// One band's splats summed into rows `y0..` of the atlas (columns `x0..=x1` written).
struct BandSum {
    y0: usize,
    x0: usize,
    x1: usize,
    rows: Vec<[f32; 4]>,
}

/// The splats summed into a `w` x `h` atlas: band by band on the machine's cores, each band
/// into rows of its own (with the rows its splats spill into), then added up in band order.
fn sum_splats(splats: &[Splat], w: usize, h: usize) -> Vec<[f32; 4]> {
    let mut atlas = vec![[0.0f32; 4]; w * h];
    if splats.is_empty() {
        return atlas;
    }
    // Each splat's band (by its centre row), by a counting sort of indices: stable, so a band
    // keeps the splats in their order.
    let band_count = h.div_ceil(BAND_ROWS);
    let band_of =
        |s: &Splat| (s.y.clamp(0.0, (h - 1) as f32) as usize / BAND_ROWS).min(band_count - 1);
    let mut starts = vec![0usize; band_count + 1];
    for s in splats {
        starts[band_of(s) + 1] += 1;
    }
    for b in 1..starts.len() {
        starts[b] += starts[b - 1];
    }
    let mut order = vec![0u32; splats.len()];
    let mut fill = starts.clone();
    for (i, s) in splats.iter().enumerate() {
        let b = band_of(s);
        order[fill[b]] = i as u32;
        fill[b] += 1;
    }
    let band = |b: usize| {
        order[starts[b]..starts[b + 1]]
            .iter()
            .map(|&i| &splats[i as usize])
    };
    let band_sums = |b: usize| {
        let (lo, hi) = band(b).fold((h, 0), |(lo, hi), s| {
            let (a, b) = s.rows();
            (lo.min(a), hi.max(b))
        });
        if lo > hi {
            return None;
        }
        let mut rows = vec![[0.0f32; 4]; (hi - lo + 1) * w];
        let (mut x0, mut x1) = (w, 0);
        for s in band(b) {
            if let Some((a, b)) = s.add_to(&mut rows, lo, w) {
                (x0, x1) = (x0.min(a), x1.max(b));
            }
        }
        (x0 <= x1).then_some(BandSum {
            y0: lo,
            x0,
            x1,
            rows,
        })
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut sums: Vec<(usize, Option<BandSum>)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.min(band_count))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if b >= band_count {
                            break;
                        }
                        done.push((b, band_sums(b)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a splat thread panicked"))
            .collect()
    });
    sums.sort_by_key(|(b, _)| *b);
    let sums: Vec<BandSum> = sums.into_iter().filter_map(|(_, s)| s).collect();
    // The bands' rows added into the atlas in band order (so every texel is the same sum on
    // any number of cores), the atlas's rows shared out to the cores.
    parallel_chunks_mut(&mut atlas, BAND_ROWS * w, |start, block| {
        let (r0, r1) = (start / w, start / w + block.len() / w);
        for sum in &sums {
            let (y0, y1) = (sum.y0, sum.y0 + sum.rows.len() / w);
            for y in y0.max(r0)..y1.min(r1) {
                let dst = &mut block[(y - r0) * w..(y - r0 + 1) * w];
                let src = &sum.rows[(y - y0) * w..(y - y0 + 1) * w];
                for (t, r) in dst[sum.x0..=sum.x1].iter_mut().zip(&src[sum.x0..=sum.x1]) {
                    *t = (glam::Vec4::from_array(*t) + glam::Vec4::from_array(*r)).to_array();
                }
            }
        }
    });
    atlas
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::head::TriMesh;

    /// A UV sphere of `r` mm round the origin, facing out.
    pub(crate) fn sphere(r: f32, rings: u32, segments: u32) -> TriMesh {
        let mut mesh = TriMesh::default();
        for i in 0..=rings {
            let v = i as f32 / rings as f32 * std::f32::consts::PI;
            for j in 0..segments {
                let u = j as f32 / segments as f32 * std::f32::consts::TAU;
                let n = Vec3::new(v.sin() * u.sin(), v.cos(), v.sin() * u.cos());
                mesh.positions_mm.push(r * n);
                mesh.normals.push(n);
            }
        }
        for i in 0..rings {
            for j in 0..segments {
                let a = i * segments + j;
                let b = i * segments + (j + 1) % segments;
                let (c, d) = (a + segments, b + segments);
                mesh.indices.extend([a, c, b, b, c, d]);
            }
        }
        mesh
    }

    /// Dots on the sphere's triangles (at their centroids), at depths from a bilinear speck to
    /// the widest halo.
    fn dots_on(mesh: &TriMesh) -> Vec<Dot> {
        (0..mesh.triangle_count())
            .step_by(3)
            .enumerate()
            .map(|(i, t)| {
                let [a, b, c] = mesh.triangle(t);
                let p = (a + b + c) / 3.0;
                Dot {
                    position_mm: p,
                    normal: p.normalize(),
                    diameter_mm: 0.12,
                    depth_mm: 0.1 + 1.9 * (i % 7) as f32 / 6.0,
                    shade: 0.8,
                    session: 1,
                    needle: crate::plan::zones::Needle::default(),
                }
            })
            .collect()
    }

    /// The splat in the plainest form: every splat added straight into the atlas, one texel at a
    /// time, its weights exponentials of the distance and their sum taken first.
    fn direct(p: &AtlasPlacement) -> Vec<[f32; 4]> {
        let w = p.width as usize;
        let mut atlas = vec![[0.0f32; 4]; w * p.height as usize];
        for s in &p.splats {
            if s.sigma < BILINEAR_SIGMA_TEXELS {
                let _ = s.add_to(&mut atlas, 0, w);
                continue;
            }
            let reach = (3.0 * s.sigma).min(MAX_SPLAT_TEXELS);
            let k = -0.5 / (s.sigma * s.sigma);
            let (xl, xh) = ((s.x - reach).floor() as i64, (s.x + reach).ceil() as i64);
            let (yl, yh) = ((s.y - reach).floor() as i64, (s.y + reach).ceil() as i64);
            let wgt = |xi: i64, yi: i64| {
                let (dx, dy) = (xi as f32 - s.x, yi as f32 - s.y);
                (k * (dx * dx + dy * dy)).exp()
            };
            let mut total = 0.0;
            for yi in yl..=yh {
                for xi in xl..=xh {
                    total += wgt(xi, yi);
                }
            }
            for yi in yl.max(s.clip[1] as i64)..=yh.min(s.clip[3] as i64) {
                for xi in xl.max(s.clip[0] as i64)..=xh.min(s.clip[2] as i64) {
                    let t = &mut atlas[yi as usize * w + xi as usize];
                    for (t, v) in t.iter_mut().zip(s.value) {
                        *t += wgt(xi, yi) / total * v;
                    }
                }
            }
        }
        atlas
    }

    /// The banded, threaded sum gives the direct sums, at band borders and chart edges too;
    /// every splat stays inside its chart's rectangle.
    #[test]
    fn banded_splat_matches_the_direct_sums() {
        let mesh = sphere(80.0, 48, 96);
        let charts = SurfaceCharts::build(&mesh, 0.4);
        let dots = dots_on(&mesh);
        let placement = AtlasPlacement::place(&charts, &dots, SplatSource::of_dot, MAX_ATLAS_SIDE);
        assert!(placement.splats.len() > dots.len(), "seams splat twice");
        let map = PigmentMap::sum(&placement);
        let direct = direct(&placement);
        let (mut sum_banded, mut sum_direct) = (0.0f64, 0.0f64);
        for (i, (a, b)) in map.levels[0].iter().zip(&direct).enumerate() {
            for c in 0..4 {
                assert!(
                    (a[c] - b[c]).abs() <= 1e-4 * b[c].abs() + 1e-6,
                    "texel {i}: banded {} vs direct {}",
                    a[c],
                    b[c]
                );
            }
            sum_banded += f64::from(a[3]);
            sum_direct += f64::from(b[3]);
        }
        assert!(sum_direct > 100.0, "the dots reach the map");
        assert!((sum_banded - sum_direct).abs() < 1e-4 * sum_direct);
        assert_eq!(map.levels.len(), ATLAS_MIP_LEVELS as usize);
        // Every chart's mean survives the mips (no level mixes two charts).
        let last = map.levels.last().unwrap();
        let total_last: f64 = last.iter().map(|t| f64::from(t[3])).sum::<f64>() * 256.0;
        assert!((total_last - sum_banded).abs() < 1e-3 * sum_banded);
    }

    /// A dot's own chart takes all of its pigment where its halo stays inside the chart.
    #[test]
    fn a_dot_inside_its_chart_keeps_its_pigment() {
        let mesh = sphere(80.0, 48, 96);
        let charts = SurfaceCharts::build(&mesh, 0.2);
        // The top of the sphere faces +Y: a dot there, 1 mm deep (a Gaussian splat), on the
        // flat triangle under its direction.
        let dir = Vec3::new(0.05, 1.0, 0.03).normalize();
        let dot = Dot {
            position_mm: dir * 79.9,
            normal: dir,
            diameter_mm: 0.12,
            depth_mm: 1.0,
            shade: 0.8,
            session: 1,
            needle: crate::plan::zones::Needle::default(),
        };
        let map = PigmentMap::build(&charts, &[dot]);
        let src = SplatSource::of_dot(&dot);
        let sum: f32 = map.levels[0].iter().map(|t| t[3]).sum();
        let texel_area = charts.texel_mm * charts.texel_mm / dir.y;
        let expected = src.footprint_mm2 / texel_area;
        assert!(
            (sum - expected).abs() < 1e-3 * expected,
            "{sum} vs {expected}"
        );
    }
}
