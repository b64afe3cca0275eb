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
mod dress;
pub mod figures;
mod spatial_hash;

pub use figures::{PlanFigures, SessionFigures, ZoneFigures, plan_figures};

use crate::head::{Head, TriMesh};
use crate::plan::{BaldScalp, Needle, Plan, PlanError, ScalpState, TreatedRegion, TreatmentMap};
use alias::AliasTable;
use glam::Vec3;
use rand::{Rng, RngExt, SeedableRng};
use spatial_hash::{COLORS, DotGrid, DotMeta, GridBuilder, Locator, Tile, TileRef};

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
    /// The needle that made it (its footprint).
    pub needle: Needle,
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
    /// The exclusion radius of a dot placed where the region weight is `weight`: two dots
    /// are never closer than the mean of their radii. r0 (`min_distance_mm`) at full
    /// weight, growing as 1/√w toward the hairline (down to a floor weight).
    pub fn exclusion_radius_mm(&self, weight: f32) -> f32 {
        if weight >= 1.0 {
            self.min_distance_mm
        } else {
            self.min_distance_mm / weight.max(W_MIN).sqrt()
        }
    }

    /// Achieved density over the effective area, per cm².
    pub fn density_per_cm2(&self) -> f64 {
        if self.effective_area_mm2 > 0.0 {
            100.0 * self.dots.len() as f64 / self.effective_area_mm2
        } else {
            0.0
        }
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
    NotConverged {
        placed: u64,
        requested: u64,
        attempts: u64,
    },
}

pub const MAX_DOTS: u64 = 5_000_000;

/// Where dots go: a weight in [0, 1] on the surface, with a conservative distance to the
/// transition zone so whole triangles can be classified without sampling them.
pub trait Region: Sync {
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
    /// `Some(w)` if [`weight`](Region::weight) is exactly `w` at every point within
    /// `radius_mm` of `center` (as computed: bit for bit), None if unknown. Lets the layout
    /// skip the weight where it cannot vary; None everywhere is always correct, only slower.
    fn uniform_weight(&self, _center: Vec3, _radius_mm: f32) -> Option<f32> {
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
    fn uniform_weight(&self, center: Vec3, radius_mm: f32) -> Option<f32> {
        TreatedRegion::uniform_weight(self, center, radius_mm)
    }
}

/// RSA jamming density for exclusion distance r is 0.6965/r² (coverage 0.547 of disks of
/// diameter r).
const RSA_JAMMING: f32 = 0.6965;
/// Target fraction of the jamming density: reached in a few candidates per dot, while dots
/// stay far more regular than random.
const JAMMING_FRACTION: f32 = 0.7;
/// Below this weight the exclusion radius stops growing (r0/√w would blow up at the edge)
/// and thinning alone lowers density. Down there density is no longer ∝ w: with few
/// neighbours, fewer candidates are rejected than in the full zone, up to (attempts per
/// dot) times more dots as w → 0; so the floor is kept low, where that excess is a
/// fraction of a dot per cm².
const W_MIN: f32 = 0.05;
/// Attempts allowed per requested dot before giving up (a normal run needs about 5).
const ATTEMPTS_PER_DOT: u64 = 50;
/// Smallest batch of candidates: the tail of the run, when few dots remain.
const MIN_BATCH: usize = 256;
/// Most sub-triangles per edge for the quadrature of triangles crossing the transition zone.
const MAX_QUADRATURE_SUBDIVISIONS: usize = 6;
/// 1/√3: a triangle's points are within (longest edge)/√3 of its nearest vertex.
const FRAC_1_SQRT_3: f32 = 0.577_350_3;
/// Shade multiplier at the outer edge of the transition zone: lighter dots at the hairline.
pub(crate) const EDGE_SHADE: f32 = 0.6;
/// Relative depth jitter: hand work is never exactly at one depth.
pub(crate) const DEPTH_JITTER: f32 = 0.1;

/// Arrival times within a batch run over [0, TIME_SCALE).
const TIME_SCALE: f64 = (1u64 << 62) as f64;
/// Dots per chunk of the attribute stream.
const ATTRIBUTE_CHUNK: usize = 65_536;
/// Below this many candidates (or dots) a step runs on the calling thread.
const PARALLEL_MIN: usize = 16_384;
/// The same for one colour's share of a batch (eight per batch, each a thread scope).
const PARALLEL_MIN_COLOR: usize = 2_048;
const MAX_THREADS: usize = 8;

/// Lays the plan's dots out over the treated region of `head` (validates the plan first), for
/// a client with no hair left to blend into and no scars.
pub fn lay_out(head: &Head, plan: &Plan) -> Result<DotLayout, LayoutError> {
    lay_out_on(head, plan, &BaldScalp)
}

/// Lays the plan's dots out on `head` for a client whose scalp is `scalp`: zones set the
/// density and the dots' look, hair left on the scalp thins the pigment out (blend), and each
/// session takes the next run of dots in acceptance order, so later sessions fill the gaps.
pub fn lay_out_on(
    head: &Head,
    plan: &Plan,
    scalp: &dyn ScalpState,
) -> Result<DotLayout, LayoutError> {
    let map = TreatmentMap::new(head, plan, scalp)?;
    // Dots are placed at the densest zone's density where the weight is 1; every other
    // zone's weight is its share of that.
    let placing = Plan {
        density_per_cm2: map.zones().max_density_per_cm2(),
        ..plan.clone()
    };
    let mut layout = if map.is_plain() {
        lay_out_in(&head.mesh, map.region(), &placing)?
    } else {
        lay_out_in(&head.mesh, &map, &placing)?
    };
    dress::dress(&mut layout.dots, &map, plan);
    layout.region = Some(map.into_region());
    Ok(layout)
}

impl Region for TreatmentMap<'_> {
    #[inline]
    fn weight(&self, p: Vec3) -> f32 {
        TreatmentMap::weight(self, p)
    }
    /// Hair, scars and zones vary inside the hairline, so only the outside is known
    /// without sampling.
    #[inline]
    fn clearance_mm(&self, p: Vec3) -> f32 {
        self.region().clearance_mm(p).min(0.0)
    }
    fn transition_mm(&self) -> Option<f32> {
        Some(self.region().transition_mm().min(6.0))
    }
    /// Where the hairline's weight is 0 so is the map's; inside, hair, scars and zones vary.
    fn uniform_weight(&self, center: Vec3, radius_mm: f32) -> Option<f32> {
        self.region()
            .uniform_weight(center, radius_mm)
            .filter(|&w| w == 0.0)
    }
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
    /// Lies wholly in one tile (its home): no need to look up where its points land.
    one_tile: bool,
    /// PARTIAL: the triangle's (u, v) square cut into `sub_n`² cells, row-major from
    /// `sub_start` in [`ClassifiedSurface::sub_weights`]: where the weight is known to be
    /// 1 or 0 throughout a cell, the candidates landing there skip evaluating it.
    sub_n: u32,
    sub_start: u32,
}

/// A candidate that survived thinning, waiting for its tile's turn.
#[derive(Clone, Copy)]
struct Throw {
    p: Vec3,
    r: f32,
    /// The tile it landed in, as a slot (48 bytes a throw: batches stream them).
    slot: u32,
    /// Arrival time within the batch: each tile's candidates arrive in the order drawn,
    /// spread over the batch, so they can be interleaved with their neighbours'.
    time: u64,
    meta: DotMeta,
    check_coarse: bool,
}

/// A dot accepted in the current batch: when it arrived, and where it is kept.
#[derive(Clone, Copy)]
struct Accepted {
    time: u64,
    tile: TileRef,
    local: u32,
}

/// Lays out dots over any region of any mesh with the plan's dot parameters (the plan's
/// hairline is ignored). [`lay_out`] calls this with the hairline's region. Uses the
/// machine's cores; the result does not depend on how many there are.
pub fn lay_out_in<R: Region + ?Sized>(
    mesh: &TriMesh,
    region: &R,
    plan: &Plan,
) -> Result<DotLayout, LayoutError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    lay_out_with_threads(mesh, region, plan, threads)
}

/// A point of a blue-noise set on a surface, and the surface's unit normal there.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SurfacePoint {
    pub position_mm: Vec3,
    pub normal: Vec3,
}

/// Blue-noise points at `density_per_cm2` x the region's weight over `mesh`, by the dots' own
/// dart throwing (same spacing rules, same determinism for a seed): e.g. hair roots over the
/// scalp's hair map. Points carry no pigment, so no plan is involved.
pub fn blue_noise_points<R: Region + ?Sized>(
    mesh: &TriMesh,
    region: &R,
    density_per_cm2: f32,
    seed: u64,
) -> Result<Vec<SurfacePoint>, LayoutError> {
    // The dart throwing reads only the seed and the density from a plan; the rest of a
    // plan (the dots' look, sessions) is left at its defaults and dropped with the dots.
    let plan = Plan {
        seed,
        density_per_cm2,
        ..Plan::default()
    };
    let layout = lay_out_in(mesh, region, &plan)?;
    Ok(layout
        .dots
        .into_iter()
        .map(|d| SurfacePoint {
            position_mm: d.position_mm,
            normal: d.normal,
        })
        .collect())
}

/// [`lay_out_in`] on a given number of threads (for tests and benchmarks).
#[doc(hidden)]
pub fn lay_out_with_threads<R: Region + ?Sized>(
    mesh: &TriMesh,
    region: &R,
    plan: &Plan,
    threads: usize,
) -> Result<DotLayout, LayoutError> {
    plan.validate_dots()?;
    let threads = threads.clamp(1, MAX_THREADS);
    let density_mm2 = plan.density_per_cm2 / 100.0;
    let r0 = (RSA_JAMMING * JAMMING_FRACTION / density_mm2).sqrt();
    let r_max = r0 / W_MIN.sqrt();

    let mut surface = classify_triangles(mesh, region, r0, r_max);
    let surface_sub_weights = std::mem::take(&mut surface.sub_weights);
    let (treated, effective) = (surface.treated_mm2, surface.effective_mm2);
    if effective.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return Err(LayoutError::EmptyRegion);
    }
    let requested = (density_mm2 as f64 * effective).round() as u64;
    if requested > MAX_DOTS {
        return Err(LayoutError::TooManyDots {
            requested,
            max: MAX_DOTS,
        });
    }
    let n = requested as usize;
    let mut grid = surface.grid.build(density_mm2);
    let locator = grid.locator();
    let slots = Slots::new(grid.tiles_per_color());
    let homes = Homes::group(surface.candidates, &surface.areas, &locator, &slots);
    let slot_of = |t: TileRef| slots.slot_of(t);
    let throw = Thrower {
        candidates: &homes.candidates,
        home_start: &homes.home_start,
        tile_alias: &homes.tile_alias,
        region,
        sub_weights: &surface_sub_weights,
        locator: &locator,
        slot_of: &slot_of,
        r0,
        seed: plan.seed,
    };
    let thrown = throw_batches(&mut grid, &throw, &slots, &homes, requested, threads)?;
    let dots = dot_attributes(mesh, plan, &grid, &thrown.order, threads);
    let (attempts, batch) = (thrown.attempts, thrown.batches);
    log::debug!(
        "laid out {n} dots in {attempts} attempts, {batch} batches (r0 = {r0:.3} mm, effective area {effective:.0} mm²)"
    );
    Ok(DotLayout {
        dots,
        treated_area_mm2: treated,
        effective_area_mm2: effective,
        min_distance_mm: r0,
        attempts,
        region: None,
    })
}

/// The mesh's triangles that may hold dots, classified, with the areas they add.
struct ClassifiedSurface {
    grid: GridBuilder,
    candidates: Vec<Candidate>,
    /// Area of each candidate triangle (mm²), in candidate order.
    areas: Vec<f64>,
    treated_mm2: f64,
    /// The treated area weighted by the region's density weight.
    effective_mm2: f64,
    /// Per cell of the PARTIAL candidates' (u, v) squares: [`SUB_EVAL`], [`SUB_ONE`] or
    /// [`SUB_ZERO`].
    sub_weights: Vec<u8>,
}

/// Classifies the triangles (outside, deep inside, inside, partly inside the region),
/// integrates the weight over them and registers those that may hold dots with the grid.
fn classify_triangles<R: Region + ?Sized>(
    mesh: &TriMesh,
    region: &R,
    r0: f32,
    r_max: f32,
) -> ClassifiedSurface {
    let transition_hint = region.transition_mm();
    let clearance: Vec<f32> = mesh
        .positions_mm
        .iter()
        .map(|&p| region.clearance_mm(p))
        .collect();
    let mut grid = GridBuilder::new(r0, r_max);
    let mut candidates = Vec::new();
    let mut areas = Vec::new();
    let mut sub_weights = Vec::new();
    let (mut treated, mut effective) = (0.0f64, 0.0f64);
    for t in 0..mesh.triangle_count() {
        let idx = &mesh.indices[3 * t..3 * t + 3];
        let [a, b, c] = mesh.triangle(t);
        let area = 0.5 * (b - a).cross(c - a).length();
        // Skips degenerate triangles, NaN included.
        if area.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
            continue;
        }
        let diameter = (b - a).length().max((c - b).length()).max((a - c).length());
        // Every point of a triangle is within diameter/√3 of one of its vertices.
        let reach = diameter * FRAC_1_SQRT_3;
        let cl = idx.iter().map(|&i| clearance[i as usize]);
        let (cmin, cmax) = cl.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), x| {
            (lo.min(x), hi.max(x))
        });
        let class = if cmax < -reach {
            continue;
        } else if cmin > reach {
            treated += area as f64;
            effective += area as f64;
            if cmin - reach > r_max { DEEP } else { FULL }
        } else {
            let n = quadrature_subdivisions(diameter, transition_hint);
            let (w_sum, inside) = triangle_quadrature(region, a, b, c, n);
            // None of the samples inside: a triangle that at most grazes the region (big
            // ones far out, where clearances are clamped). Throwing candidates at it would
            // only waste them; the area it might hold is left out of the count too.
            if inside == 0.0 {
                continue;
            }
            treated += area as f64 * inside;
            effective += area as f64 * w_sum;
            PARTIAL
        };
        let one_tile = grid.add_triangle(a, b, c, area, class == PARTIAL);
        let (sub_n, sub_start) = if class == PARTIAL {
            let start = sub_weights.len() as u32;
            (sub_cells(region, a, b - a, c - a, &mut sub_weights), start)
        } else {
            (0, 0)
        };
        candidates.push(Candidate {
            a,
            e1: b - a,
            e2: c - a,
            triangle: t as u32,
            class,
            one_tile,
            sub_n,
            sub_start,
        });
        areas.push(area as f64);
    }
    ClassifiedSurface {
        grid,
        candidates,
        areas,
        treated_mm2: treated,
        effective_mm2: effective,
        sub_weights,
    }
}

const SUB_EVAL: u8 = 0;
const SUB_ONE: u8 = 1;
const SUB_ZERO: u8 = 2;
/// Target edge (mm) of the cells a PARTIAL triangle's (u, v) square is cut into: small
/// enough that most cells off the transition zone are whole, few enough to classify
/// quickly. At most MAX_SUB_CELLS per edge.
const SUB_CELL_MM: f32 = 1.0;
const MAX_SUB_CELLS: usize = 32;

/// Classifies the cells of a PARTIAL triangle's (u, v) square (corner `a`, edges `e1`,
/// `e2`), appending n² entries to `out`; returns n. A cell covers u in [i/n, (i+1)/n] and v
/// in [j/n, (j+1)/n], entry i·n + j; cells beyond u + v = 1 are never landed in and stay
/// SUB_EVAL. One cell (n = 1) when the whole triangle is uniform.
fn sub_cells<R: Region + ?Sized>(
    region: &R,
    a: Vec3,
    e1: Vec3,
    e2: Vec3,
    out: &mut Vec<u8>,
) -> u32 {
    let class = |w: Option<f32>| match w {
        Some(1.0) => SUB_ONE,
        Some(0.0) => SUB_ZERO,
        _ => SUB_EVAL,
    };
    // Whole triangle: its farthest point from the centroid is a corner.
    let centroid = a + (e1 + e2) / 3.0;
    let reach = [a, a + e1, a + e2]
        .iter()
        .map(|&p| p.distance(centroid))
        .fold(0.0f32, f32::max);
    let whole = class(region.uniform_weight(centroid, reach));
    let longest = e1.length().max(e2.length()).max((e2 - e1).length());
    let n = ((longest / SUB_CELL_MM).ceil() as usize).clamp(1, MAX_SUB_CELLS);
    if whole != SUB_EVAL || n == 1 {
        out.push(whole);
        return 1;
    }
    let (d1, d2) = (e1 / n as f32, e2 / n as f32);
    // A cell is a parallelogram: its farthest point from the centre is a corner.
    let half_diagonal = 0.5 * (d1 + d2).length().max((d1 - d2).length());
    let start = out.len();
    out.resize(start + n * n, SUB_EVAL);
    for i in 0..n {
        // A point with u + v <= 1 has floor(u·n) + floor(v·n) <= n.
        for j in 0..=(n - i).min(n - 1) {
            let centre = a + (i as f32 + 0.5) * d1 + (j as f32 + 0.5) * d2;
            out[start + i * n + j] = class(region.uniform_weight(centre, half_diagonal));
        }
    }
    n as u32
}

/// The grid's tiles numbered as one run of slots, colour after colour.
struct Slots {
    /// The first slot of each colour, and the slot count last.
    color_base: [usize; COLORS + 1],
}

impl Slots {
    fn new(per_color: [usize; COLORS]) -> Slots {
        let mut color_base = [0usize; COLORS + 1];
        for c in 0..COLORS {
            color_base[c + 1] = color_base[c] + per_color[c];
        }
        Slots { color_base }
    }

    fn count(&self) -> usize {
        self.color_base[COLORS]
    }

    fn slot_of(&self, t: TileRef) -> usize {
        self.color_base[t.color as usize] + t.index as usize
    }
}

/// Candidates grouped by the tile of their centroid ("home"), with an alias table per tile
/// and the area over tiles: a candidate picks its tile, then a triangle of the tile, so each
/// tile's candidates are thrown together with its triangles in cache.
struct Homes {
    candidates: Vec<Candidate>,
    /// Where each slot's candidates start, and their count last.
    home_start: Vec<usize>,
    tile_area: Vec<f64>,
    tile_alias: Vec<Option<AliasTable>>,
    total_area: f64,
}

impl Homes {
    fn group(candidates: Vec<Candidate>, areas: &[f64], locator: &Locator, slots: &Slots) -> Homes {
        let home: Vec<usize> = candidates
            .iter()
            .map(|c| {
                slots.slot_of(
                    locator
                        .locate(c.a + (c.e1 + c.e2) / 3.0)
                        .expect("centroid tiles are registered"),
                )
            })
            .collect();
        let mut perm: Vec<u32> = (0..candidates.len() as u32).collect();
        perm.sort_by_key(|&i| home[i as usize]); // stable: deterministic
        let candidates: Vec<Candidate> = perm.iter().map(|&i| candidates[i as usize]).collect();
        let areas: Vec<f64> = perm.iter().map(|&i| areas[i as usize]).collect();
        let slots = slots.count();
        let mut home_start = vec![0usize; slots + 1];
        for &i in &perm {
            home_start[home[i as usize] + 1] += 1;
        }
        for i in 1..home_start.len() {
            home_start[i] += home_start[i - 1];
        }
        let tile_area: Vec<f64> = (0..slots)
            .map(|s| areas[home_start[s]..home_start[s + 1]].iter().sum())
            .collect();
        let tile_alias: Vec<Option<AliasTable>> = (0..slots)
            .map(|s| {
                (tile_area[s] > 0.0)
                    .then(|| AliasTable::new(&areas[home_start[s]..home_start[s + 1]]))
            })
            .collect();
        let total_area: f64 = tile_area.iter().sum();
        Homes {
            candidates,
            home_start,
            tile_area,
            tile_alias,
            total_area,
        }
    }
}

/// The accepted dots in acceptance (time) order, and what it took.
struct Thrown {
    order: Vec<Accepted>,
    attempts: u64,
    batches: u64,
}

/// Throws candidates in batches until `requested` dots are accepted: each batch thrown by
/// tile in parallel, then accepted colour by colour.
fn throw_batches<R, F>(
    grid: &mut DotGrid,
    throw: &Thrower<'_, R, F>,
    slots: &Slots,
    homes: &Homes,
    requested: u64,
    threads: usize,
) -> Result<Thrown, LayoutError>
where
    R: Region + ?Sized,
    F: Fn(TileRef) -> usize + Sync,
{
    let n = requested as usize;
    let slot_count = slots.count();
    // Dots in acceptance (time) order: the output order.
    let mut order: Vec<Accepted> = Vec::with_capacity(n);
    let max_attempts = ATTEMPTS_PER_DOT * requested + 10_000;
    let mut attempts = 0u64;
    let max_batch = (n / 2).max(MIN_BATCH);
    let mut acceptance = 0.5f64; // accepted per attempt, re-estimated each batch
    let mut first_draw = vec![0usize; slot_count + 1];
    // Each thread's throws, kept from batch to batch: fresh buffers for every batch would
    // cost page faults (tens of MB over a run).
    let mut filed: Vec<Filed> = (0..threads).map(|_| Filed::default()).collect();
    let mut batch = 0u64;
    while order.len() < n {
        let remaining = n - order.len();
        // Aim a little under the remaining count so the last batch overshoots by little.
        let k =
            ((0.85 * remaining as f64 / acceptance).ceil() as usize).clamp(MIN_BATCH, max_batch);
        let k = k.min(max_attempts.saturating_sub(attempts) as usize);
        if k == 0 {
            return Err(LayoutError::NotConverged {
                placed: order.len() as u64,
                requested,
                attempts,
            });
        }

        // How many of the k candidates each tile throws: its share by area, randomly
        // rounded (steadier than a multinomial, which would only add tile-to-tile noise).
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(throw.seed);
        rng.set_stream(2 * batch);
        for s in 0..slot_count {
            let expected = k as f64 * homes.tile_area[s] / homes.total_area;
            let count = (expected + rng.random::<f64>()).floor() as usize;
            first_draw[s + 1] = first_draw[s] + count;
        }
        let k = first_draw[slot_count];

        attempts += k as u64;

        // Each thread throws the candidates of a run of tiles and files the survivors by the
        // tile they landed in (usually their home).
        let ranges = split_by_work(&first_draw, threads, k < PARALLEL_MIN);
        if ranges.len() == 1 {
            throw.tiles(
                batch,
                ranges[0].clone(),
                &first_draw,
                slot_count,
                &mut filed[0],
            );
        } else {
            std::thread::scope(|s| {
                for (r, out) in ranges.iter().zip(filed.iter_mut()) {
                    let (first_draw, r) = (&first_draw, r.clone());
                    s.spawn(move || throw.tiles(batch, r, first_draw, slot_count, out));
                }
            });
        }
        let parts = &filed[..ranges.len()];

        // Colour by colour (alternating the order between batches, so no side of a tile
        // border is always first), the tiles of one colour in parallel, each working
        // through its candidates in arrival order. Only pairs straddling a tile border
        // within one batch are decided by colour order instead of arrival.
        let mut accepted: Vec<Accepted> = Vec::new();
        for step in 0..COLORS {
            let color = if batch.is_multiple_of(2) {
                step
            } else {
                COLORS - 1 - step
            };
            accept_color(grid, color, slots, parts, threads, &mut accepted);
        }
        acceptance = (accepted.len() as f64 / k as f64).max(1e-4);
        // Back to time order; past the requested count, the latest arrivals are dropped.
        accepted.sort_unstable_by_key(|a| a.time);
        order.extend(accepted.iter().take(remaining));
        batch += 1;
    }
    Ok(Thrown {
        order,
        attempts,
        batches: batch,
    })
}

/// Accepts the throws `parts` filed to the tiles of `color` that conflict with no dot placed
/// so far, the tiles in parallel, appending them to `accepted`.
fn accept_color(
    grid: &mut DotGrid,
    color: usize,
    slots: &Slots,
    parts: &[Filed],
    threads: usize,
    accepted: &mut Vec<Accepted>,
) {
    let (tiles, view) = grid.phase(color);
    let base = slots.color_base[color];
    let work = |slot: usize| {
        parts
            .iter()
            .map(|f| f.start[slot + 1] - f.start[slot])
            .sum::<usize>()
    };
    let run = |tiles: &mut [Tile], first: usize| -> Vec<Accepted> {
        let mut out = Vec::new();
        // The tile's throws in time order (ties in part order), as (time, part, index in
        // part): sorting these small keys instead of the throws saves copying them twice.
        let (mut mine, mut scratch) = (Vec::new(), Vec::new());
        let mut runs: Vec<usize> = Vec::new();
        for (i, tile) in tiles.iter_mut().enumerate() {
            let slot = base + first + i;
            mine.clear();
            runs.clear();
            for (part, f) in parts.iter().enumerate() {
                for (k, t) in f.throws[f.start[slot]..f.start[slot + 1]]
                    .iter()
                    .enumerate()
                {
                    if mine.last().is_none_or(|&(time, _)| time > t.time) {
                        runs.push(mine.len());
                    }
                    mine.push((t.time, (part as u64) << 32 | (f.start[slot] + k) as u64));
                }
            }
            merge_runs(&mut mine, &runs, &mut scratch);
            if !mine.is_empty() {
                tile.warm();
            }
            for &(_, at) in &mine {
                let t = &parts[(at >> 32) as usize].throws[at as u32 as usize];
                if !tile.conflicts(&view, t.p, t.r, t.check_coarse) {
                    let local = tile.insert(&view, t.p, t.r, t.meta);
                    let tile_ref = TileRef {
                        color: color as u32,
                        index: (first + i) as u32,
                    };
                    out.push(Accepted {
                        time: t.time,
                        tile: tile_ref,
                        local,
                    });
                }
            }
        }
        out
    };
    let total: usize = (base..base + tiles.len()).map(work).sum();
    if threads == 1 || total < PARALLEL_MIN_COLOR {
        accepted.extend(run(tiles, 0));
        return;
    }
    // Split the colour's tiles into runs of about equal work.
    let mut cumulative = vec![0usize; tiles.len() + 1];
    for i in 0..tiles.len() {
        cumulative[i + 1] = cumulative[i] + work(base + i);
    }
    let ranges = split_by_work(&cumulative, threads, false);
    let mut pieces: Vec<(&mut [Tile], usize)> = Vec::with_capacity(ranges.len());
    let mut rest = tiles;
    for r in &ranges {
        let (piece, tail) = rest.split_at_mut(r.len());
        pieces.push((piece, r.start));
        rest = tail;
    }
    std::thread::scope(|s| {
        let run = &run;
        let handles: Vec<_> = pieces
            .into_iter()
            .map(|(piece, first)| s.spawn(move || run(piece, first)))
            .collect();
        for h in handles {
            accepted.extend(h.join().expect("layout thread"));
        }
    });
}

/// Puts `keys` (runs in time order, starting at `runs`) in time order, ties in run order:
/// the order a stable sort by time gives. A tile's throws are a few runs (one per tile they
/// were thrown from, and thread); merged by picking the earliest head each time, which
/// beats a general sort there.
fn merge_runs(keys: &mut Vec<(u64, u64)>, runs: &[usize], scratch: &mut Vec<(u64, u64)>) {
    const MAX_MERGED: usize = 8;
    let k = runs.len();
    if k <= 1 {
        return;
    }
    if k > MAX_MERGED {
        keys.sort_by_key(|&(time, _)| time);
        return;
    }
    // Each run's next key and end.
    let mut heads = [(0usize, 0usize); MAX_MERGED];
    for r in 0..k {
        heads[r] = (runs[r], runs.get(r + 1).copied().unwrap_or(keys.len()));
    }
    scratch.clear();
    for _ in 0..keys.len() {
        // Times are below TIME_SCALE (2^62): some head always beats u64::MAX.
        let mut best = (u64::MAX, 0);
        for (r, &(at, end)) in heads[..k].iter().enumerate() {
            // Strictly earlier: an equal time keeps the earlier run's key first.
            if at < end && keys[at].0 < best.0 {
                best = (keys[at].0, r);
            }
        }
        let head = &mut heads[best.1];
        scratch.push(keys[head.0]);
        head.0 += 1;
    }
    std::mem::swap(keys, scratch);
}

/// The dots of the accepted throws `order`, in that order, with their sizes, depths and
/// shades. Attributes come from their own stream, so they never perturb the positions; each
/// chunk of dots at its own place in it, so threads give the same result.
fn dot_attributes(
    mesh: &TriMesh,
    plan: &Plan,
    grid: &DotGrid,
    order: &[Accepted],
    threads: usize,
) -> Vec<Dot> {
    let attributes = |chunk: usize, out: &mut Vec<Dot>| {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(plan.seed ^ 0x5eed_d075_a771_b075);
        let range = chunk * ATTRIBUTE_CHUNK..((chunk + 1) * ATTRIBUTE_CHUNK).min(order.len());
        rng.set_word_pos(2 * range.start as u128); // two 32-bit words per dot
        let [dmin, dmax] = plan.dot_diameter_mm;
        let has_normals = mesh.normals.len() == mesh.positions_mm.len();
        for a in &order[range] {
            let (position_mm, m) = grid.dot(a.tile, a.local);
            let idx = &mesh.indices[3 * m.triangle as usize..3 * m.triangle as usize + 3];
            let normal = if has_normals {
                let [n0, n1, n2] = [0, 1, 2].map(|k| mesh.normals[idx[k] as usize]);
                (1.0 - m.u - m.v) * n0 + m.u * n1 + m.v * n2
            } else {
                let [a, b, c] = mesh.triangle(m.triangle as usize);
                (b - a).cross(c - a)
            };
            let (s_size, s_depth): (f32, f32) = (rng.random(), rng.random());
            out.push(Dot {
                position_mm,
                normal: normal.normalize_or(Vec3::Y),
                // Finer dots toward the hairline: the range narrows to its minimum at w = 0.
                diameter_mm: dmin + (dmax - dmin) * s_size * m.weight,
                depth_mm: plan.depth_mm * (1.0 + DEPTH_JITTER * (2.0 * s_depth - 1.0)),
                shade: plan.shade * (EDGE_SHADE + (1.0 - EDGE_SHADE) * m.weight),
                session: 1,
                needle: plan.needle,
            });
        }
    };
    let chunks = order.len().div_ceil(ATTRIBUTE_CHUNK);
    if threads == 1 || order.len() < PARALLEL_MIN {
        let mut dots = Vec::with_capacity(order.len());
        (0..chunks).for_each(|c| attributes(c, &mut dots));
        dots
    } else {
        let per = chunks.div_ceil(threads);
        let parts: Vec<Vec<Dot>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let attributes = &attributes;
                    s.spawn(move || {
                        let mut out = Vec::with_capacity(per * ATTRIBUTE_CHUNK);
                        ((t * per).min(chunks)..((t + 1) * per).min(chunks))
                            .for_each(|c| attributes(c, &mut out));
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("layout thread"))
                .collect()
        });
        parts.concat()
    }
}

impl Throw {
    const EMPTY: Throw = Throw {
        p: Vec3::ZERO,
        r: 0.0,
        slot: 0,
        time: 0,
        meta: DotMeta {
            triangle: 0,
            u: 0.0,
            v: 0.0,
            weight: 0.0,
        },
        check_coarse: false,
    };
}

/// Splits 0..n (n = cumulative.len() - 1) into at most `parts` contiguous ranges of about
/// equal work, given cumulative work; one range if `single`.
fn split_by_work(cumulative: &[usize], parts: usize, single: bool) -> Vec<std::ops::Range<usize>> {
    let n = cumulative.len() - 1;
    if single || parts <= 1 {
        return std::iter::once(0..n).collect();
    }
    let total = cumulative[n];
    let mut out = Vec::with_capacity(parts);
    let mut start = 0;
    for p in 1..parts {
        let end = cumulative
            .partition_point(|&c| c < total * p / parts)
            .clamp(start, n);
        out.push(start..end);
        start = end;
    }
    out.push(start..n);
    out
}

/// One thread's survivors of a batch, filed by the tile they landed in.
#[derive(Default)]
struct Filed {
    throws: Vec<Throw>,
    /// Per tile slot, where its throws start (slots + 1 entries).
    start: Vec<usize>,
    /// Scratch: the survivors in the order thrown, and where each slot's next one goes.
    drawn: Vec<Throw>,
    at: Vec<usize>,
}

/// Throws candidates: a triangle of the tile by area, a uniform point in it, the thinning
/// coin, an arrival time.
struct Thrower<'a, R: Region + ?Sized, F: Fn(TileRef) -> usize> {
    candidates: &'a [Candidate],
    home_start: &'a [usize],
    tile_alias: &'a [Option<AliasTable>],
    region: &'a R,
    sub_weights: &'a [u8],
    locator: &'a Locator,
    slot_of: &'a F,
    r0: f32,
    seed: u64,
}

impl<R: Region + ?Sized, F: Fn(TileRef) -> usize + Sync> Thrower<'_, R, F> {
    /// What is known of the weight at (u, v) of a PARTIAL candidate (see [`sub_cells`]).
    #[inline]
    fn sub_weight(&self, cand: &Candidate, u: f32, v: f32) -> u8 {
        let n = cand.sub_n as usize;
        let cell = |x: f32| ((x * n as f32) as usize).min(n - 1);
        self.sub_weights[cand.sub_start as usize + cell(u) * n + cell(v)]
    }

    /// Throws the candidates of tiles `tiles` in batch `batch` (`first_draw`: where each
    /// tile's draws start in the batch) and files the survivors by landing tile.
    fn tiles(
        &self,
        batch: u64,
        tiles: std::ops::Range<usize>,
        first_draw: &[usize],
        slots: usize,
        out: &mut Filed,
    ) {
        const UNIT24: f32 = 1.0 / (1u32 << 24) as f32;
        const UNIT16: f32 = 1.0 / (1u32 << 16) as f32;
        let Filed {
            throws: filed,
            start,
            drawn: throws,
            at,
        } = out;
        throws.clear();
        throws.reserve(first_draw[tiles.end] - first_draw[tiles.start]);
        start.clear();
        start.resize(slots + 1, 0);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(2 * batch + 1);
        for slot in tiles {
            let (draws, Some(alias)) = (
                first_draw[slot]..first_draw[slot + 1],
                &self.tile_alias[slot],
            ) else {
                continue;
            };
            if draws.is_empty() {
                continue;
            }
            // Four 32-bit words per candidate, each tile at its own place in the stream: the
            // same candidates whichever thread throws them.
            rng.set_word_pos(4 * draws.start as u128);
            let count = draws.len() as f64;
            for i in 0..draws.len() {
                let cand = &self.candidates[self.home_start[slot] + alias.sample(rng.next_u64())];
                // 24 + 24 bits of barycentrics, 16 bits for the thinning coin.
                let bits = rng.next_u64();
                // The tile's candidates arrive in the order drawn, spread over the batch
                // (stratified, so they are in time order as thrown); the offset within a
                // stratum, mixed out of the same bits, only interleaves them with others'.
                let jitter = (bits ^ bits >> 29).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
                let time =
                    ((i as f64 + jitter as f64 / (1u64 << 53) as f64) / count * TIME_SCALE) as u64;
                let (mut u, mut v) = (
                    (bits >> 40) as f32 * UNIT24,
                    ((bits >> 16) & 0xFF_FFFF) as f32 * UNIT24,
                );
                if u + v > 1.0 {
                    (u, v) = (1.0 - u, 1.0 - v);
                }
                let p = cand.a + u * cand.e1 + v * cand.e2;
                let (w, r, check_coarse) = match cand.class {
                    DEEP => (1.0, self.r0, false),
                    FULL => (1.0, self.r0, true),
                    _ => {
                        let w = match self.sub_weight(cand, u, v) {
                            SUB_ONE => 1.0,
                            SUB_ZERO => 0.0,
                            _ => self.region.weight(p),
                        };
                        if w < 1.0 && (bits & 0xFFFF) as f32 * UNIT16 >= w {
                            continue;
                        }
                        (
                            w,
                            if w >= 1.0 {
                                self.r0
                            } else {
                                self.r0 / w.max(W_MIN).sqrt()
                            },
                            true,
                        )
                    }
                };
                let landed = if cand.one_tile {
                    slot
                } else if let Some(tile) = self.locator.locate(p) {
                    (self.slot_of)(tile)
                } else {
                    debug_assert!(false, "candidate outside the registered tiles");
                    continue;
                };
                start[landed + 1] += 1;
                let meta = DotMeta {
                    triangle: cand.triangle,
                    u,
                    v,
                    weight: w,
                };
                throws.push(Throw {
                    p,
                    r,
                    slot: landed as u32,
                    time,
                    meta,
                    check_coarse,
                });
            }
        }
        // File by landing tile (a stable counting sort; counted as thrown).
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        at.clone_from(start);
        // Every entry is written below: only growth needs filling.
        filed.truncate(throws.len());
        filed.resize(throws.len(), Throw::EMPTY);
        for t in throws.iter() {
            let s = &mut at[t.slot as usize];
            filed[*s] = *t;
            *s += 1;
        }
    }
}

/// Sub-triangles per edge: a few per transition width (the weight is a smooth cubic across
/// it), more where the region gives no width (hard edges).
fn quadrature_subdivisions(diameter: f32, transition_mm: Option<f32>) -> usize {
    match transition_mm {
        Some(t) if t > 0.0 => {
            ((4.0 * diameter / t).ceil() as usize).clamp(2, MAX_QUADRATURE_SUBDIVISIONS)
        }
        _ => MAX_QUADRATURE_SUBDIVISIONS,
    }
}

/// Calls `f(s, t)` at the centroid of each of the n² sub-triangles a triangle is cut into
/// (n along each edge), in units of 1/n of its edges from its first corner: the points of the
/// layout's quadrature and of the spatial hash's area shares.
fn sub_triangle_centroids(n: usize, mut f: impl FnMut(f32, f32)) {
    for i in 0..n {
        for j in 0..n - i {
            let (fi, fj) = (i as f32, j as f32);
            f(fi + 1.0 / 3.0, fj + 1.0 / 3.0);
            if i + j + 1 < n {
                f(fi + 2.0 / 3.0, fj + 2.0 / 3.0);
            }
        }
    }
}

/// Mean weight and fraction with weight > 0 over a triangle, from the centroids of its
/// n² sub-triangles.
fn triangle_quadrature<R: Region + ?Sized>(
    region: &R,
    a: Vec3,
    b: Vec3,
    c: Vec3,
    n: usize,
) -> (f64, f64) {
    let (e1, e2) = ((b - a) / n as f32, (c - a) / n as f32);
    let (mut w_sum, mut inside) = (0.0f64, 0usize);
    let sample = |s: f32, t: f32| {
        let w = region.weight(a + s * e1 + t * e2);
        w_sum += w as f64;
        inside += usize::from(w > 0.0);
    };
    sub_triangle_centroids(n, sample);
    let count = (n * n) as f64;
    (w_sum / count, inside as f64 / count)
}
