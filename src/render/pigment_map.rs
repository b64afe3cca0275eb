//! The pigment map: every dot splatted once per plan into a cube map indexed by direction from
//! the cranium centre. Frames sample it with mipmaps, so a million sub-pixel dots cost one
//! texture fetch per pixel and their average colour stays the same at every distance.
//!
//! Each texel holds the coverage-weighted darkening Σ aᵢ·Dᵢ of the dots in it (aᵢ = the dot's
//! area over the texel's area on the surface). That quantity is linear, so box-filtered mips
//! are exact averages.
//!
//! A hardware GPU splats the map itself ([`super::pigment_splat`]); this module is the CPU
//! splat (the same sums in plain data code), used on software adapters, where it is the faster
//! of the two, and as the reference the GPU splat is tested against. It also holds the cube
//! map conventions shared by the other per-plan maps.

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
    /// Per face, the texels of level 0 any dot reached (None: an empty face). Everything
    /// outside is zero on every level, so mips and uploads skip it.
    pub occupied: [Option<TexelRect>; 6],
}

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

    fn union(a: Option<TexelRect>, b: TexelRect) -> TexelRect {
        a.map_or(b, |a| TexelRect {
            x0: a.x0.min(b.x0),
            y0: a.y0.min(b.y0),
            x1: a.x1.max(b.x1),
            y1: a.y1.max(b.y1),
        })
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

/// Row bands each face is split into for the splat's threads. Fixed, not the core count, so
/// that every texel's sum is taken in the same order on every machine (the same last bit).
const BANDS_PER_FACE: usize = 16;

/// One dot as the splat sees it: where it lands on its face and what it adds there.
#[derive(Clone, Copy)]
struct Splat {
    face: u8,
    /// Position in texels (texel centres at integers), clamped to the face.
    x: f32,
    y: f32,
    /// Halo sigma in texels.
    sigma: f32,
    /// Coverage x darkening (rgb) and coverage (a).
    value: [f32; 4],
}

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

impl Splat {
    fn of(dot: SplatSource, center_mm: Vec3, size: u32) -> Option<Splat> {
        let rel = dot.position_mm - center_mm;
        let dist = rel.length();
        if dist <= 0.0 {
            return None;
        }
        let dir = rel / dist;
        let (face, uv) = cube_face_uv(dir);
        // Solid angle of one texel at uv, times r², over the surface's tilt against the
        // radial direction: the texel's area on the skin.
        let texel = 2.0 / size as f32;
        let m = 1.0 + uv.length_squared();
        let solid_angle = texel * texel / (m * m.sqrt());
        let cos_tilt = dot.normal.dot(dir).abs().max(0.2);
        let texel_area_mm2 = solid_angle * dist * dist / cos_tilt;
        let coverage = dot.footprint_mm2 / texel_area_mm2;
        let d = coverage * dot.darkening;
        let last = size as f32 - 1.0;
        Some(Splat {
            face: face as u8,
            x: ((uv.x + 1.0) * 0.5 * size as f32 - 0.5).clamp(0.0, last),
            y: ((uv.y + 1.0) * 0.5 * size as f32 - 0.5).clamp(0.0, last),
            sigma: dot.halo_sigma_mm / texel_area_mm2.sqrt(),
            value: [d.x, d.y, d.z, coverage],
        })
    }

    /// Rows this splat writes to, on a face of `n` texels a side.
    fn rows(&self, n: usize) -> (usize, usize) {
        if self.sigma < BILINEAR_SIGMA_TEXELS {
            let y0 = self.y.floor() as usize;
            (y0, (y0 + 1).min(n - 1))
        } else {
            let reach = (3.0 * self.sigma).min(MAX_SPLAT_TEXELS);
            (
                (self.y - reach).floor().max(0.0) as usize,
                ((self.y + reach).ceil() as usize).min(n - 1),
            )
        }
    }

    /// Adds the splat into `rows`, the face's rows from `row0` on (`n` texels each); returns
    /// the first and last columns written.
    fn add_to(&self, rows: &mut [[f32; 4]], row0: usize, n: usize) -> (usize, usize) {
        let v = self.value;
        let mut add = |xi: usize, yi: usize, w: f32| {
            let t = &mut rows[(yi - row0) * n + xi];
            for c in 0..4 {
                t[c] += w * v[c];
            }
        };
        let (x, y) = (self.x, self.y);
        if self.sigma < BILINEAR_SIGMA_TEXELS {
            let (x0, y0) = (x.floor() as usize, y.floor() as usize);
            let (fx, fy) = (x - x0 as f32, y - y0 as f32);
            let (x1, y1) = ((x0 + 1).min(n - 1), (y0 + 1).min(n - 1));
            add(x0, y0, (1.0 - fx) * (1.0 - fy));
            add(x1, y0, fx * (1.0 - fy));
            add(x0, y1, (1.0 - fx) * fy);
            add(x1, y1, fx * fy);
            return (x0, x1);
        }
        // The Gaussian is separable and the window a rectangle: weights per column and per
        // row, their sum a product (as the GPU splat's `gauss_sum`).
        let reach = (3.0 * self.sigma).min(MAX_SPLAT_TEXELS);
        let k = -0.5 / (self.sigma * self.sigma);
        let span = |c: f32| {
            let lo = (c - reach).floor().max(0.0) as usize;
            let hi = ((c + reach).ceil() as usize).min(n - 1);
            let mut w = [0.0f32; 2 * MAX_SPLAT_TEXELS as usize + 3];
            // exp(k d²) at d, d+1, ...: each the last times a ratio exp(k (2d + 1)) that itself
            // grows by exp(2k) a step; three exponentials a row instead of one a texel.
            let d = lo as f32 - c;
            let (mut wi, mut ratio, step) = (
                (k * d * d).exp(),
                (k * (2.0 * d + 1.0)).exp(),
                (2.0 * k).exp(),
            );
            let mut sum = 0.0;
            for slot in w.iter_mut().take(hi - lo + 1) {
                *slot = wi;
                sum += wi;
                wi *= ratio;
                ratio *= step;
            }
            (lo, hi, w, sum)
        };
        let (x_lo, x_hi, wx, sx) = span(x);
        let (y_lo, y_hi, wy, sy) = span(y);
        let inv_total = 1.0 / (sx * sy);
        for (yi, wyi) in (y_lo..=y_hi).zip(wy) {
            let row = &mut rows[(yi - row0) * n..(yi - row0 + 1) * n];
            let wyi = wyi * inv_total;
            for (t, wxi) in row[x_lo..=x_hi].iter_mut().zip(wx) {
                let w = wxi * wyi;
                for c in 0..4 {
                    t[c] += w * v[c];
                }
            }
        }
        (x_lo, x_hi)
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
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a splat thread panicked"))
            .collect()
    })
}

/// One face's texels: its splats summed band by band on the machine's cores, each band into
/// rows of its own (with the rows its splats spill into), then added up in band order.
fn splat_face(splats: &[Splat], n: usize) -> (Vec<[f32; 4]>, Option<TexelRect>) {
    let mut face = vec![[0.0f32; 4]; n * n];
    if splats.is_empty() {
        return (face, None);
    }
    let band_rows = n.div_ceil(BANDS_PER_FACE);
    let mut bands: Vec<Vec<Splat>> = vec![Vec::new(); n.div_ceil(band_rows)];
    let last = bands.len() - 1;
    for s in splats {
        bands[(s.y as usize / band_rows).min(last)].push(*s);
    }
    let band_sums = |band: &Vec<Splat>| {
        let (lo, hi) = band.iter().fold((n, 0), |(lo, hi), s| {
            let (a, b) = s.rows(n);
            (lo.min(a), hi.max(b))
        });
        if lo > hi {
            return None;
        }
        let mut rows = vec![[0.0f32; 4]; (hi - lo + 1) * n];
        let (mut x0, mut x1) = (n, 0);
        for s in band {
            let (a, b) = s.add_to(&mut rows, lo, n);
            (x0, x1) = (x0.min(a), x1.max(b));
        }
        Some((
            TexelRect {
                x0,
                y0: lo,
                x1,
                y1: hi,
            },
            rows,
        ))
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    type BandSums = Option<(TexelRect, Vec<[f32; 4]>)>;
    let mut sums: Vec<(usize, BandSums)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads.min(bands.len()))
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let b = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(band) = bands.get(b) else { break };
                        done.push((b, band_sums(band)));
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
    let mut occupied = None;
    for (rect, rows) in sums.into_iter().filter_map(|(_, s)| s) {
        occupied = Some(TexelRect::union(occupied, rect));
        for (dst, src) in face[rect.y0 * n..].chunks_mut(n).zip(rows.chunks(n)) {
            for (t, r) in dst[rect.x0..=rect.x1]
                .iter_mut()
                .zip(&src[rect.x0..=rect.x1])
            {
                for c in 0..4 {
                    t[c] += r[c];
                }
            }
        }
    }
    (face, occupied)
}

impl PigmentMap {
    /// Every dot splatted around `center_mm` into a map of `size` texels a side, with mips.
    ///
    /// The dot's darkening is mostly its scattering halo (a Gaussian of the halo's width): it
    /// is splatted as that Gaussian, so a frame that samples this level sees a soft spot, not a
    /// texel-sized speck. Weights are normalised to sum to one over the texels they reach, so
    /// no pigment is lost or gained; dots whose halo is narrower than a texel fall back to a
    /// bilinear splat. The sums are spread over the machine's cores in a fixed order.
    pub fn build(dots: &[Dot], center_mm: Vec3, size: u32) -> PigmentMap {
        Self::build_with(dots, center_mm, size, SplatSource::of_dot)
    }

    /// [`PigmentMap::build`] from any record of a dot that says what the splat needs.
    pub fn build_with<T: Sync>(
        dots: &[T],
        center_mm: Vec3,
        size: u32,
        source: impl Fn(&T) -> SplatSource + Sync,
    ) -> PigmentMap {
        let n = size as usize;
        let started = std::time::Instant::now();
        let splats: Vec<Option<Splat>> =
            parallel_map(dots, |d| Splat::of(source(d), center_mm, size));
        let mut per_face: [Vec<Splat>; 6] = Default::default();
        for s in splats.into_iter().flatten() {
            per_face[usize::from(s.face)].push(s);
        }
        let placed = started.elapsed();
        let mut occupied = [None; 6];
        let base: [Vec<[f32; 4]>; 6] = std::array::from_fn(|f| {
            let (texels, rect) = splat_face(&per_face[f], n);
            occupied[f] = rect;
            texels
        });
        let summed = started.elapsed();
        let levels = box_mip_chain_within(base, n, &occupied);
        log::debug!(
            "pigment map on the CPU: placed {:.1} ms, summed {:.1} ms, mips {:.1} ms",
            placed.as_secs_f64() * 1e3,
            (summed - placed).as_secs_f64() * 1e3,
            (started.elapsed() - summed).as_secs_f64() * 1e3
        );
        PigmentMap {
            size,
            center_mm,
            levels,
            occupied,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Dot;

    /// The splat in the plainest form: every splat added straight into its face, one texel at
    /// a time, with its weights as exponentials of the distance and their sum taken first.
    fn direct(dots: &[Dot], center_mm: Vec3, n: usize) -> [Vec<[f32; 4]>; 6] {
        let mut faces: [Vec<[f32; 4]>; 6] = std::array::from_fn(|_| vec![[0.0; 4]; n * n]);
        for s in dots
            .iter()
            .filter_map(|d| Splat::of(SplatSource::of_dot(d), center_mm, n as u32))
        {
            let face = &mut faces[usize::from(s.face)];
            if s.sigma < BILINEAR_SIGMA_TEXELS {
                let _ = s.add_to(face, 0, n);
                continue;
            }
            let reach = (3.0 * s.sigma).min(MAX_SPLAT_TEXELS);
            let k = -0.5 / (s.sigma * s.sigma);
            let lo = |c: f32| (c - reach).floor().max(0.0) as usize;
            let hi = |c: f32| ((c + reach).ceil() as usize).min(n - 1);
            let w = |xi: usize, yi: usize| {
                let (dx, dy) = (xi as f32 - s.x, yi as f32 - s.y);
                (k * (dx * dx + dy * dy)).exp()
            };
            let mut total = 0.0;
            for yi in lo(s.y)..=hi(s.y) {
                for xi in lo(s.x)..=hi(s.x) {
                    total += w(xi, yi);
                }
            }
            for yi in lo(s.y)..=hi(s.y) {
                for xi in lo(s.x)..=hi(s.x) {
                    let t = &mut face[yi * n + xi];
                    for (t, v) in t.iter_mut().zip(s.value) {
                        *t += w(xi, yi) / total * v;
                    }
                }
            }
        }
        faces
    }

    /// The banded, threaded splat sums what the direct one does, at band borders too, and
    /// keeps every dot's pigment.
    #[test]
    fn banded_splat_matches_the_direct_sums() {
        let n = 128usize;
        let center = Vec3::ZERO;
        // Dots on a sphere of 80 mm over every face, at depths from a bilinear speck to the
        // widest halo, so splats cross band borders and face edges.
        let dots: Vec<Dot> = (0..3000)
            .map(|i| {
                let t = i as f32 * 0.618_034;
                let z = 1.0 - 2.0 * (i as f32 + 0.5) / 3000.0;
                let r = (1.0 - z * z).sqrt();
                let dir = Vec3::new(
                    r * (t * std::f32::consts::TAU).cos(),
                    z,
                    r * (t * std::f32::consts::TAU).sin(),
                );
                Dot {
                    position_mm: 80.0 * dir,
                    normal: dir,
                    diameter_mm: 0.12,
                    depth_mm: 0.1 + 1.9 * (i % 7) as f32 / 6.0,
                    shade: 0.8,
                    session: 1,
                    needle: crate::plan::zones::Needle::default(),
                }
            })
            .collect();
        let banded_map = PigmentMap::build(&dots, center, n as u32);
        let direct = direct(&dots, center, n);
        let (mut sum_banded, mut sum_direct) = (0.0f64, 0.0f64);
        for (f, (banded, direct)) in banded_map.levels[0].iter().zip(&direct).enumerate() {
            for (a, b) in banded.iter().zip(direct) {
                for c in 0..4 {
                    assert!(
                        (a[c] - b[c]).abs() <= 1e-4 * b[c].abs() + 1e-6,
                        "face {f}: banded {} vs direct {}",
                        a[c],
                        b[c]
                    );
                }
                sum_banded += f64::from(a[3]);
                sum_direct += f64::from(b[3]);
            }
        }
        assert!(sum_direct > 100.0, "the dots reach the map");
        // Mips taken only inside the occupied rectangles are the full chain's.
        let full = box_mip_chain(banded_map.levels[0].clone(), n);
        assert!(
            full == banded_map.levels,
            "mips within the occupied texels differ"
        );
        assert!(
            banded_map.occupied.iter().all(Option::is_some),
            "dots on every face"
        );
        assert!((sum_banded - sum_direct).abs() < 1e-4 * sum_direct);
    }
}
