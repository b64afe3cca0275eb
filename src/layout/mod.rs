//! Dot layout: the plan becomes individual impressions on the head's surface.
//!
//! Blue noise by variable-radius random sequential adsorption (dart throwing): candidates are
//! uniform by surface area, each kept with probability w (the region weight) and then only
//! if it keeps its distance from every accepted dot. The exclusion radius is local,
//! r = r0/√max(w, W_MIN), so the density the process tends to is ∝ w everywhere; because
//! RSA kinetics are scale-invariant, stopping at any moment, here at exactly the requested
//! count, leaves density ∝ w, i.e. the requested density where w = 1 and a proportional
//! fall-off across the hairline's transition zone.
//!
//! Dots come out in acceptance order: early dots are a sparse Poisson-like scatter, later
//! ones fill the gaps, so contiguous ranges of that order make plausible sessions.

mod alias;
mod spatial_hash;

use crate::head::{Head, TriMesh};
use crate::plan::{Plan, PlanError, TreatedRegion};
use alias::AliasTable;
use glam::Vec3;
use rand::{Rng, RngExt, SeedableRng};
use spatial_hash::GridBuilder;

/// One pigment impression.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dot {
    /// On the skin surface, head space (mm).
    pub position_mm: Vec3,
    /// Unit surface normal at the dot.
    pub normal: Vec3,
    /// Diameter seen from the surface.
    pub diameter_mm: f32,
    /// Depth of the pigment below the surface.
    pub depth_mm: f32,
    /// Pigment concentration, 0-1 (see `Plan::shade`).
    pub shade: f32,
    /// Treatment session that placed it, from 1.
    pub session: u8,
}

/// The dots of a plan and the area they cover.
#[derive(Clone, Debug, Default)]
pub struct DotLayout {
    /// In acceptance order (earlier = sparser; later ones fill gaps).
    pub dots: Vec<Dot>,
    /// Surface area inside the hairline (region weight > 0), mm².
    pub treated_area_mm2: f64,
    /// Area weighted by the region weight (the transition zone counts partly), mm².
    pub effective_area_mm2: f64,
    /// Exclusion distance between two full-weight dots (mm): no two dots in the full-weight
    /// zone are closer than this. Near the hairline the distance grows as 1/√w.
    pub min_distance_mm: f32,
    /// Candidates thrown to place the dots (for diagnostics).
    pub attempts: u64,
    /// The treated region the dots were laid out in (set by [`lay_out`]).
    pub region: Option<TreatedRegion>,
}

impl DotLayout {
    /// Achieved density over the effective area, per cm².
    pub fn density_per_cm2(&self) -> f64 {
        if self.effective_area_mm2 > 0.0 { 100.0 * self.dots.len() as f64 / self.effective_area_mm2 } else { 0.0 }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error("the plan asks for {requested} dots; at most {max} are supported")]
    TooManyDots { requested: u64, max: u64 },
    #[error("the treated region is empty on this head (no surface with weight > 0)")]
    EmptyRegion,
    #[error(
        "dot layout did not converge: placed {placed} of {requested} dots in {attempts} \
         attempts (the surface may be degenerate)"
    )]
    NotConverged { placed: u64, requested: u64, attempts: u64 },
}

pub const MAX_DOTS: u64 = 5_000_000;

/// Where dots go: a weight in [0, 1] on the surface, with a conservative distance to the
/// transition zone so whole triangles can be classified without sampling them.
pub trait Region {
    /// 1 = full density, 0 = none.
    fn weight(&self, p: Vec3) -> f32;
    /// Lower bound on the distance (mm) from `p` to the transition zone: > 0 where the
    /// weight is 1 (distance to any point of weight < 1), < 0 outside (minus the distance to
    /// any point of weight > 0), 0 in the zone itself. 0 everywhere is always correct, only
    /// slower.
    fn clearance_mm(&self, p: Vec3) -> f32;
    /// Width (mm) over which the weight goes from 0 to 1, if it has one; sets how finely
    /// triangles crossing it are integrated. None: integrate finely.
    fn transition_mm(&self) -> Option<f32> {
        None
    }
}

impl Region for TreatedRegion {
    #[inline]
    fn weight(&self, p: Vec3) -> f32 {
        TreatedRegion::weight(self, p)
    }
    #[inline]
    fn clearance_mm(&self, p: Vec3) -> f32 {
        TreatedRegion::clearance_mm(self, p)
    }
    fn transition_mm(&self) -> Option<f32> {
        Some(TreatedRegion::transition_mm(self))
    }
}

/// RSA jamming density for exclusion distance r is 0.6965/r² (coverage 0.547 of disks of
/// diameter r).
const RSA_JAMMING: f32 = 0.6965;
/// Target fraction of the jamming density: reached in a few candidates per dot, while dots
/// stay far more regular than random.
const JAMMING_FRACTION: f32 = 0.7;
/// Below this weight the exclusion radius stops growing and thinning alone lowers density
/// (otherwise radii blow up at the edge).
const W_MIN: f32 = 0.2;
/// Attempts allowed per requested dot before giving up (a normal run needs about 6).
const ATTEMPTS_PER_DOT: u64 = 50;
/// Smallest batch of candidates: the tail of the run, when few dots remain.
const MIN_BATCH: usize = 256;
/// Most sub-triangles per edge for the quadrature of triangles crossing the transition zone.
const MAX_QUADRATURE_SUBDIVISIONS: usize = 6;
/// Shade multiplier at the outer edge of the transition zone: lighter dots at the hairline.
const EDGE_SHADE: f32 = 0.6;
/// Relative depth jitter: hand work is never exactly at one depth.
const DEPTH_JITTER: f32 = 0.1;

/// Lays the plan's dots out over the treated region of `head` (validates the plan first).
pub fn lay_out(head: &Head, plan: &Plan) -> Result<DotLayout, LayoutError> {
    plan.validate()?;
    let region = TreatedRegion::new(head, &plan.hairline, plan.seed)?;
    let mut layout = lay_out_in(&head.mesh, &region, plan)?;
    layout.region = Some(region);
    Ok(layout)
}

const DEEP: u8 = 2;
const FULL: u8 = 1;
const PARTIAL: u8 = 0;

/// A triangle that may receive dots, in the form the hot loop wants it.
#[derive(Clone, Copy)]
struct Candidate {
    a: Vec3,
    e1: Vec3,
    e2: Vec3,
    triangle: u32,
    /// DEEP: weight 1 throughout and out of reach of any large-radius dot; FULL: weight 1
    /// throughout; PARTIAL: evaluate the weight.
    class: u8,
}

/// A thrown candidate waiting for its tile's turn: which triangle, when, and the random
/// bits that place it.
#[derive(Clone, Copy, Default)]
struct Draw {
    cand: u32,
    time: u32,
    bits: u64,
}

/// An accepted dot, before its attributes are drawn.
#[derive(Clone, Copy)]
struct Placed {
    triangle: u32,
    u: f32,
    v: f32,
    weight: f32,
}

/// Lays out dots over any region of any mesh with the plan's dot parameters (the plan's
/// hairline is ignored). [`lay_out`] calls this with the hairline's region.
pub fn lay_out_in<R: Region + ?Sized>(mesh: &TriMesh, region: &R, plan: &Plan) -> Result<DotLayout, LayoutError> {
    plan.validate_dots()?;
    let t0 = std::time::Instant::now();
    let density_mm2 = plan.density_per_cm2 / 100.0;
    let r0 = (RSA_JAMMING * JAMMING_FRACTION / density_mm2).sqrt();
    let r_max = r0 / W_MIN.sqrt();

    // Classify triangles and integrate the weight over them.
    let transition_hint = region.transition_mm();
    let clearance: Vec<f32> = mesh.positions_mm.iter().map(|&p| region.clearance_mm(p)).collect();
    let mut grid = GridBuilder::new(r0, r_max);
    let mut candidates = Vec::new();
    let mut areas = Vec::new();
    let (mut treated, mut effective) = (0.0f64, 0.0f64);
    for t in 0..mesh.triangle_count() {
        let idx = &mesh.indices[3 * t..3 * t + 3];
        let [a, b, c] = mesh.triangle(t);
        let area = 0.5 * (b - a).cross(c - a).length();
        if !(area > 0.0) {
            continue;
        }
        let diameter = (b - a).length().max((c - b).length()).max((a - c).length());
        let cl = idx.iter().map(|&i| clearance[i as usize]);
        let (cmin, cmax) = cl.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), x| (lo.min(x), hi.max(x)));
        // Every interior point is within `diameter` of a vertex.
        let class = if cmax < -diameter {
            continue;
        } else if cmin > diameter {
            treated += area as f64;
            effective += area as f64;
            if cmin - diameter > r_max { DEEP } else { FULL }
        } else {
            let (w_sum, inside) = triangle_quadrature(region, a, b, c, quadrature_subdivisions(diameter, transition_hint));
            treated += area as f64 * inside;
            effective += area as f64 * w_sum;
            PARTIAL
        };
        grid.add_triangle(a, b, c, area, class == PARTIAL);
        candidates.push(Candidate { a, e1: b - a, e2: c - a, triangle: t as u32, class });
        areas.push(area as f64);
    }
    eprintln!("TIMING classify {:?} partial {} full {} deep {}", t0.elapsed(), candidates.iter().filter(|c: &&Candidate| c.class == PARTIAL).count(), candidates.iter().filter(|c: &&Candidate| c.class == FULL).count(), candidates.iter().filter(|c: &&Candidate| c.class == DEEP).count());
    if !(effective > 0.0) {
        return Err(LayoutError::EmptyRegion);
    }
    let requested = (density_mm2 as f64 * effective).round() as u64;
    if requested > MAX_DOTS {
        return Err(LayoutError::TooManyDots { requested, max: MAX_DOTS });
    }
    let n = requested as usize;

    let t_setup = std::time::Instant::now();
    // Candidates grouped by the tile of their centroid, so that a batch's draws can be
    // worked through tile by tile with the triangles' data and the tile's dots in cache.
    let grid = grid.build(n);
    let home: Vec<u32> = candidates
        .iter()
        .map(|c| grid.slot_of(c.a + (c.e1 + c.e2) / 3.0).expect("centroid tiles are registered"))
        .collect();
    let mut perm: Vec<u32> = (0..candidates.len() as u32).collect();
    perm.sort_by_key(|&i| home[i as usize]); // stable: deterministic
    let candidates: Vec<Candidate> = perm.iter().map(|&i| candidates[i as usize]).collect();
    let areas: Vec<f64> = perm.iter().map(|&i| areas[i as usize]).collect();
    let home: Vec<u32> = perm.iter().map(|&i| home[i as usize]).collect();
    let alias = AliasTable::new(&areas);
    let mut grid = grid;
    eprintln!("TIMING build {:?}", t_setup.elapsed());

    let mut placed: Vec<Placed> = Vec::with_capacity(n);
    // Dot ids in acceptance (time) order: the output order.
    let mut order: Vec<u32> = Vec::with_capacity(n);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(plan.seed);
    let max_attempts = ATTEMPTS_PER_DOT * requested + 10_000;
    let mut attempts = 0u64;
    let max_batch = (n / 2).max(MIN_BATCH);
    let mut acceptance = 0.5f64; // accepted per attempt, re-estimated each batch
    let mut draws: Vec<Draw> = Vec::new();
    let mut sorted: Vec<Draw> = Vec::new();
    let mut tile_start = vec![0u32; grid.tile_count() + 1];
    let mut batch_accepted: Vec<(u32, u32)> = Vec::new();
    const UNIT24: f32 = 1.0 / (1u32 << 24) as f32;
    const UNIT16: f32 = 1.0 / (1u32 << 16) as f32;
    while order.len() < n {
        let remaining = n - order.len();
        // Aim a little under the remaining count so the last batch overshoots by little.
        let k = ((0.85 * remaining as f64 / acceptance).ceil() as usize).clamp(MIN_BATCH, max_batch);
        let k = k.min((max_attempts - attempts) as usize);
        if k == 0 {
            return Err(LayoutError::NotConverged { placed: order.len() as u64, requested, attempts });
        }
        attempts += k as u64;

        // Throw k candidates (a triangle by area, then 24 + 24 bits of barycentrics and 16
        // bits of thinning coin), then group them by tile, keeping time order within each
        // tile: only pairs straddling a tile border within one batch are decided by tile
        // order instead of arrival order.
        draws.clear();
        for time in 0..k as u32 {
            let cand = alias.sample(rng.next_u64()) as u32;
            draws.push(Draw { cand, time, bits: rng.next_u64() });
        }
        tile_start.fill(0);
        for d in &draws {
            tile_start[home[d.cand as usize] as usize + 1] += 1;
        }
        for i in 1..tile_start.len() {
            tile_start[i] += tile_start[i - 1];
        }
        sorted.clear();
        sorted.resize(draws.len(), Draw::default());
        for d in &draws {
            let at = &mut tile_start[home[d.cand as usize] as usize];
            sorted[*at as usize] = *d;
            *at += 1;
        }

        batch_accepted.clear();
        for d in &sorted {
            let cand = &candidates[d.cand as usize];
            let bits = d.bits;
            let (mut u, mut v) = ((bits >> 40) as f32 * UNIT24, ((bits >> 16) & 0xFF_FFFF) as f32 * UNIT24);
            if u + v > 1.0 {
                (u, v) = (1.0 - u, 1.0 - v);
            }
            let p = cand.a + u * cand.e1 + v * cand.e2;
            let (w, r, check_coarse) = match cand.class {
                DEEP => (1.0, r0, false),
                FULL => (1.0, r0, true),
                _ => {
                    let w = region.weight(p);
                    if w < 1.0 && (bits & 0xFFFF) as f32 * UNIT16 >= w {
                        continue;
                    }
                    (w, if w >= 1.0 { r0 } else { r0 / w.max(W_MIN).sqrt() }, true)
                }
            };
            let Some(slot) = grid.locate(p, home[d.cand as usize]) else {
                debug_assert!(false, "candidate outside the registered tiles");
                continue;
            };
            if grid.conflicts(p, r, slot, check_coarse) {
                continue;
            }
            let id = grid.insert(p, r, slot);
            placed.push(Placed { triangle: cand.triangle, u, v, weight: w });
            batch_accepted.push((d.time, id));
        }
        acceptance = (batch_accepted.len() as f64 / k as f64).max(1e-4);
        // Back to time order; past the requested count, the latest arrivals are dropped.
        batch_accepted.sort_unstable();
        order.extend(batch_accepted.iter().take(remaining).map(|&(_, id)| id));
    }
    eprintln!("TIMING loop {:?}", t_setup.elapsed());
    // Attributes from their own stream, so they never perturb the positions.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(plan.seed ^ 0x5eed_d075_a771_b075);
    let [dmin, dmax] = plan.dot_diameter_mm;
    let has_normals = mesh.normals.len() == mesh.positions_mm.len();
    let dots = order
        .iter()
        .map(|&id| {
            let pl = &placed[id as usize];
            let idx = &mesh.indices[3 * pl.triangle as usize..3 * pl.triangle as usize + 3];
            let normal = if has_normals {
                let [n0, n1, n2] = [0, 1, 2].map(|k| mesh.normals[idx[k] as usize]);
                (1.0 - pl.u - pl.v) * n0 + pl.u * n1 + pl.v * n2
            } else {
                let [a, b, c] = mesh.triangle(pl.triangle as usize);
                (b - a).cross(c - a)
            };
            let (s_size, s_depth): (f32, f32) = (rng.random(), rng.random());
            Dot {
                position_mm: grid.position(id as usize),
                normal: normal.normalize_or(Vec3::Y),
                // Finer dots toward the hairline: the range narrows to its minimum at w = 0.
                diameter_mm: dmin + (dmax - dmin) * s_size * pl.weight,
                depth_mm: plan.depth_mm * (1.0 + DEPTH_JITTER * (2.0 * s_depth - 1.0)),
                shade: plan.shade * (EDGE_SHADE + (1.0 - EDGE_SHADE) * pl.weight),
                session: 1,
            }
        })
        .collect();
    log::debug!("laid out {n} dots in {attempts} attempts (r0 = {r0:.3} mm, effective area {effective:.0} mm²)");
    Ok(DotLayout {
        dots,
        treated_area_mm2: treated,
        effective_area_mm2: effective,
        min_distance_mm: r0,
        attempts,
        region: None,
    })
}

/// Sub-triangles per edge: a few per transition width (the weight is a smooth cubic across
/// it), more where the region gives no width (hard edges).
fn quadrature_subdivisions(diameter: f32, transition_mm: Option<f32>) -> usize {
    match transition_mm {
        Some(t) if t > 0.0 => ((4.0 * diameter / t).ceil() as usize).clamp(2, MAX_QUADRATURE_SUBDIVISIONS),
        _ => MAX_QUADRATURE_SUBDIVISIONS,
    }
}

/// Mean weight and fraction with weight > 0 over a triangle, from the centroids of its
/// n² sub-triangles.
fn triangle_quadrature<R: Region + ?Sized>(region: &R, a: Vec3, b: Vec3, c: Vec3, n: usize) -> (f64, f64) {
    let (e1, e2) = ((b - a) / n as f32, (c - a) / n as f32);
    let (mut w_sum, mut inside) = (0.0f64, 0usize);
    let mut sample = |s: f32, t: f32| {
        let w = region.weight(a + s * e1 + t * e2);
        w_sum += w as f64;
        inside += usize::from(w > 0.0);
    };
    for i in 0..n {
        for j in 0..n - i {
            let (fi, fj) = (i as f32, j as f32);
            sample(fi + 1.0 / 3.0, fj + 1.0 / 3.0);
            if i + j + 1 < n {
                sample(fi + 2.0 / 3.0, fj + 2.0 / 3.0);
            }
        }
    }
    let count = (n * n) as f64;
    (w_sum / count, inside as f64 / count)
}
