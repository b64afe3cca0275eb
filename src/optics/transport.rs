//! Monte Carlo photon transport in layered tissue, in the manner of MCML (Wang, Jacques & Zheng
//! 1995, Comput. Methods Programs Biomed. 47:131) with 3-D absorbers in the manner of Jacques'
//! mcxyz.
//!
//! Photons enter at normal incidence, lose the specular part at the surface (Fresnel), then take
//! steps drawn from the layer's scattering coefficient, are deflected by the Henyey-Greenstein
//! phase function, and are reflected or refracted at the layers' boundaries by Fresnel's
//! equations (all-or-none, as MCML does). Absorption is applied along each step as a weight
//! exp(-µa s) (the "microscopic Beer-Lambert" form of MCML: it has the same expected values
//! as MCML's per-interaction albedo weighting). Because absorption does not change the walk,
//! one walk serves many absorbing configurations: the engine reports, for each escaping
//! photon, the path length it spent in each layer and inside each [`Absorber`] (a pigment
//! deposit, a hair shaft), and the caller reweights by exp(-Σ Δµa·L). That is what makes a dot
//! profile (the ratio of two nearly equal reflectances) cheap and low-noise: both come from the
//! same photons.
//!
//! Deterministic regardless of thread count: photons run in fixed batches, each with its own
//! ChaCha8 stream seeded from (seed, batch), and batch results are merged in batch order.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Photons per batch: the unit of work and of reproducibility.
pub const BATCH_PHOTONS: usize = 2000;
/// Russian roulette survival chance (MCML's 1/10; the threshold is the stack's).
const ROULETTE_CHANCE: f64 = 0.1;
/// MCML's roulette threshold.
pub const MCML_ROULETTE_WEIGHT: f64 = 1e-4;
/// At most this many layers (keeps the per-photon tally on the stack).
pub const MAX_LAYERS: usize = 4;

/// One tissue layer (lengths in cm, coefficients in 1/cm, as MCML uses them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Layer {
    pub thickness_cm: f64,
    pub mua_per_cm: f64,
    pub mus_per_cm: f64,
    pub g: f64,
    pub n: f64,
}

/// A stack of layers under air (or any medium of index `n_above`), over `n_below`. The last
/// layer may be `f64::INFINITY` thick; photons deeper than `max_depth_cm` count as lost.
#[derive(Clone, Debug, PartialEq)]
pub struct Stack {
    pub layers: Vec<Layer>,
    pub n_above: f64,
    pub n_below: f64,
    pub max_depth_cm: f64,
    /// Weight below which a photon plays Russian roulette (unbiased at any value; higher is
    /// faster and noisier).
    pub roulette_weight: f64,
}

/// A finite cylinder (a pigment deposit, a hair shaft): axis from `start` along unit `dir` for
/// `length_cm`, radius `radius_cm`. Coordinates in cm, z down into the tissue from the surface.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Absorber {
    pub start: [f64; 3],
    pub dir: [f64; 3],
    pub length_cm: f64,
    pub radius_cm: f64,
}

impl Absorber {
    /// A vertical disc/column centred on the z axis from depth `top_cm` to `bottom_cm`.
    pub fn column(x_cm: f64, y_cm: f64, radius_cm: f64, top_cm: f64, bottom_cm: f64) -> Self {
        Absorber {
            start: [x_cm, y_cm, top_cm],
            dir: [0.0, 0.0, 1.0],
            length_cm: bottom_cm - top_cm,
            radius_cm,
        }
    }

    /// Length (cm) of the segment p → p + d·s (d a unit vector) inside the cylinder.
    pub fn chord(&self, p: [f64; 3], d: [f64; 3], s: f64) -> f64 {
        let u = self.dir;
        // Quick rejection by bounding boxes: a step is a few tens of micrometres and most
        // copies of a deposit (one per profile radius) are millimetres away. Exact: a segment
        // outside the cylinder's box has no chord in it.
        for k in 0..3 {
            let (a0, a1) = (self.start[k], self.start[k] + u[k] * self.length_cm);
            let (e0, e1) = (p[k], p[k] + d[k] * s);
            if e0.max(e1) < a0.min(a1) - self.radius_cm || e0.min(e1) > a0.max(a1) + self.radius_cm
            {
                return 0.0;
            }
        }
        let w = [
            p[0] - self.start[0],
            p[1] - self.start[1],
            p[2] - self.start[2],
        ];
        let wa = dot(w, u);
        let da = dot(d, u);
        // Along the axis: t where 0 <= wa + da t <= length.
        let (mut t0, mut t1) = (0.0f64, s);
        if da.abs() < 1e-12 {
            if wa < 0.0 || wa > self.length_cm {
                return 0.0;
            }
        } else {
            let a = -wa / da;
            let b = (self.length_cm - wa) / da;
            t0 = t0.max(a.min(b));
            t1 = t1.min(a.max(b));
        }
        if t1 <= t0 {
            return 0.0;
        }
        // Across the axis: |w⊥ + d⊥ t| <= r.
        let wp = [w[0] - wa * u[0], w[1] - wa * u[1], w[2] - wa * u[2]];
        let dp = [d[0] - da * u[0], d[1] - da * u[1], d[2] - da * u[2]];
        let qa = dot(dp, dp);
        let qb = 2.0 * dot(wp, dp);
        let qc = dot(wp, wp) - self.radius_cm * self.radius_cm;
        if qa < 1e-18 {
            if qc > 0.0 {
                return 0.0;
            }
        } else {
            let disc = qb * qb - 4.0 * qa * qc;
            if disc <= 0.0 {
                return 0.0;
            }
            let sq = disc.sqrt();
            t0 = t0.max((-qb - sq) / (2.0 * qa));
            t1 = t1.min((-qb + sq) / (2.0 * qa));
        }
        (t1 - t0).max(0.0)
    }
}

/// An axis-aligned box (cm).
#[derive(Clone, Copy, Debug)]
struct Aabb {
    lo: [f64; 3],
    hi: [f64; 3],
}

impl Aabb {
    const EMPTY: Aabb = Aabb {
        lo: [f64::INFINITY; 3],
        hi: [f64::NEG_INFINITY; 3],
    };

    fn of(a: &Absorber) -> Aabb {
        let mut b = Aabb::EMPTY;
        for k in 0..3 {
            let (a0, a1) = (a.start[k], a.start[k] + a.dir[k] * a.length_cm);
            b.lo[k] = a0.min(a1) - a.radius_cm;
            b.hi[k] = a0.max(a1) + a.radius_cm;
        }
        b
    }

    fn union(mut self, o: &Aabb) -> Aabb {
        for k in 0..3 {
            self.lo[k] = self.lo[k].min(o.lo[k]);
            self.hi[k] = self.hi[k].max(o.hi[k]);
        }
        self
    }

    fn overlaps(&self, o: &Aabb) -> bool {
        (0..3).all(|k| self.lo[k] <= o.hi[k] && o.lo[k] <= self.hi[k])
    }
}

/// Absorbers in spatial groups of [`GROUP`] (sorted along x, then y), each with its box, so a
/// step far from a group skips all of it: the profile copies of dozens of deposits make
/// hundreds of absorbers, and a step meets at most a few. Only which chords are computed
/// changes, never their values.
struct Groups {
    all: Aabb,
    groups: Vec<(Aabb, Vec<usize>)>,
}

const GROUP: usize = 8;

impl Groups {
    fn new(absorbers: &[Absorber]) -> Groups {
        let boxes: Vec<Aabb> = absorbers.iter().map(Aabb::of).collect();
        let mut order: Vec<usize> = (0..absorbers.len()).collect();
        let centre = |i: usize, k: usize| 0.5 * (boxes[i].lo[k] + boxes[i].hi[k]);
        order.sort_by(|&a, &b| {
            (centre(a, 0), centre(a, 1))
                .partial_cmp(&(centre(b, 0), centre(b, 1)))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let groups: Vec<(Aabb, Vec<usize>)> = order
            .chunks(GROUP)
            .map(|c| {
                let b = c.iter().fold(Aabb::EMPTY, |b, &i| b.union(&boxes[i]));
                (b, c.to_vec())
            })
            .collect();
        let all = groups.iter().fold(Aabb::EMPTY, |b, g| b.union(&g.0));
        Groups { all, groups }
    }
}

fn dot(a: [f64; 3], b: [f64; 3]) -> f64 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

/// A photon leaving the tissue.
pub struct Exit<'a> {
    /// Where it leaves (cm), on the top surface for reflection.
    pub x_cm: f64,
    pub y_cm: f64,
    /// Where it entered (cm): exit minus entry is what a spatial profile needs.
    pub entry_cm: [f64; 2],
    /// Its weight after the walk's own absorption.
    pub weight: f64,
    /// Path length (cm) spent in each layer.
    pub layer_cm: [f64; MAX_LAYERS],
    /// Path length (cm) spent inside each absorber.
    pub absorber_cm: &'a [f64],
}

/// Whole-run figures of one simulation (per launched photon).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Totals {
    pub photons: u64,
    /// Specular reflection at entry.
    pub specular: f64,
    /// Diffuse reflectance (weight leaving the top).
    pub diffuse_reflectance: f64,
    /// Transmittance (weight leaving the bottom).
    pub transmittance: f64,
    /// Weight absorbed in the tissue (the walk's own µa).
    pub absorbed: f64,
    /// Weight that went deeper than `max_depth_cm`.
    pub lost: f64,
    /// Sum of squared per-photon reflected weights (for the standard error of Rd).
    pub reflectance_sq: f64,
    pub transmittance_sq: f64,
}

impl Totals {
    fn merge(&mut self, o: &Totals) {
        self.photons += o.photons;
        self.specular += o.specular;
        self.diffuse_reflectance += o.diffuse_reflectance;
        self.transmittance += o.transmittance;
        self.absorbed += o.absorbed;
        self.lost += o.lost;
        self.reflectance_sq += o.reflectance_sq;
        self.transmittance_sq += o.transmittance_sq;
    }

    /// Per-photon means: (specular, Rd, T, A, lost).
    pub fn fractions(&self) -> [f64; 5] {
        let n = self.photons.max(1) as f64;
        [
            self.specular / n,
            self.diffuse_reflectance / n,
            self.transmittance / n,
            self.absorbed / n,
            self.lost / n,
        ]
    }

    /// Standard error of the mean diffuse reflectance and transmittance.
    pub fn standard_errors(&self) -> (f64, f64) {
        let n = self.photons.max(1) as f64;
        let se = |sum: f64, sq: f64| ((sq / n - (sum / n).powi(2)).max(0.0) / n).sqrt();
        (
            se(self.diffuse_reflectance, self.reflectance_sq),
            se(self.transmittance, self.transmittance_sq),
        )
    }
}

/// How photons are launched: at one point, or uniformly over a disc of this radius (cm).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Beam {
    Pencil,
    UniformDisc { radius_cm: f64 },
}

/// How many photons, from where, seeded how, on how many threads (0 = the machine's; the
/// result does not depend on it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Launch {
    pub beam: Beam,
    pub photons: u64,
    pub seed: u64,
    pub threads: usize,
}

/// Fresnel reflectance for unpolarised light from index n1 to n2 at incidence cosine `ci`;
/// returns (R, cos of the transmitted angle).
fn fresnel(n1: f64, n2: f64, ci: f64) -> (f64, f64) {
    if (n1 - n2).abs() < 1e-12 {
        return (0.0, ci);
    }
    let si = (1.0 - ci * ci).max(0.0).sqrt();
    let st = n1 / n2 * si;
    if st >= 1.0 {
        return (1.0, 0.0);
    }
    let ct = (1.0 - st * st).sqrt();
    if ci > 1.0 - 1e-12 {
        let r = ((n1 - n2) / (n1 + n2)).powi(2);
        return (r, ct);
    }
    let rs = ((n1 * ci - n2 * ct) / (n1 * ci + n2 * ct)).powi(2);
    let rp = ((n1 * ct - n2 * ci) / (n1 * ct + n2 * ci)).powi(2);
    (0.5 * (rs + rp), ct)
}

/// Henyey-Greenstein: the cosine of the deflection angle for a uniform random number.
fn hg_cos(g: f64, xi: f64) -> f64 {
    if g.abs() < 1e-6 {
        2.0 * xi - 1.0
    } else {
        let t = (1.0 - g * g) / (1.0 - g + 2.0 * g * xi);
        ((1.0 + g * g - t * t) / (2.0 * g)).clamp(-1.0, 1.0)
    }
}

/// Runs `photons` photons through `stack` with `absorbers` and folds every escaping photon into
/// a tally made by `new_tally` with `record` (reflected photons only; transmission is counted
/// in [`Totals`]). `threads` workers (0 = the machine's); the result does not depend on it.
pub fn simulate<T, N, R, M>(
    stack: &Stack,
    absorbers: &[Absorber],
    launch: Launch,
    new_tally: N,
    record: R,
    merge: M,
) -> (Totals, T)
where
    T: Send,
    N: Fn() -> T + Sync,
    R: Fn(&mut T, &Exit) + Sync,
    M: Fn(&mut T, T),
{
    assert!(!stack.layers.is_empty() && stack.layers.len() <= MAX_LAYERS);
    let Launch {
        beam,
        photons,
        seed,
        threads,
    } = launch;
    let batches = (photons as usize).div_ceil(BATCH_PHOTONS);
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
    .clamp(1, batches.max(1));
    let groups = Groups::new(absorbers);
    let next = AtomicUsize::new(0);
    let mut results: Vec<Option<(Totals, T)>> = (0..batches).map(|_| None).collect();
    let slots = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let b = next.fetch_add(1, Ordering::Relaxed);
                    if b >= batches {
                        break;
                    }
                    let n = (photons as usize - b * BATCH_PHOTONS).min(BATCH_PHOTONS);
                    let mut rng = ChaCha8Rng::seed_from_u64(seed);
                    rng.set_stream(b as u64);
                    let mut tally = new_tally();
                    let mut totals = Totals::default();
                    for _ in 0..n {
                        run_photon(
                            stack,
                            absorbers,
                            &groups,
                            beam,
                            &mut rng,
                            &mut totals,
                            |e| record(&mut tally, e),
                        );
                    }
                    totals.photons = n as u64;
                    slots.lock().expect("no worker panics")[b] = Some((totals, tally));
                }
            });
        }
    });
    let mut totals = Totals::default();
    let mut acc: Option<T> = None;
    for r in results {
        let (t, tally) = r.expect("every batch ran");
        totals.merge(&t);
        match acc.as_mut() {
            None => acc = Some(tally),
            Some(a) => merge(a, tally),
        }
    }
    (totals, acc.unwrap_or_else(new_tally))
}

fn run_photon(
    stack: &Stack,
    absorbers: &[Absorber],
    groups: &Groups,
    beam: Beam,
    rng: &mut ChaCha8Rng,
    totals: &mut Totals,
    mut record: impl FnMut(&Exit),
) {
    let layers = &stack.layers;
    // Layer boundaries (depth of each layer's top), and the bottom of the stack.
    let mut tops = [0.0f64; MAX_LAYERS + 1];
    for (i, l) in layers.iter().enumerate() {
        tops[i + 1] = tops[i] + l.thickness_cm;
    }
    let (x0, y0) = match beam {
        Beam::Pencil => (0.0, 0.0),
        Beam::UniformDisc { radius_cm } => {
            let r = radius_cm * rng.random::<f64>().sqrt();
            let a = std::f64::consts::TAU * rng.random::<f64>();
            (r * a.cos(), r * a.sin())
        }
    };
    let mut p = [x0, y0, 0.0];
    let mut d = [0.0, 0.0, 1.0];
    let rsp = fresnel(stack.n_above, layers[0].n, 1.0).0;
    totals.specular += rsp;
    let mut w = 1.0 - rsp;
    let mut layer = 0usize;
    let mut layer_cm = [0.0f64; MAX_LAYERS];
    let mut absorber_cm = vec![0.0f64; absorbers.len()];
    loop {
        // A step of unit optical depth in scattering, spent across layers as needed.
        let mut tau = -(1.0 - rng.random::<f64>()).ln();
        'step: loop {
            let l = &layers[layer];
            let s_free = if l.mus_per_cm > 0.0 {
                tau / l.mus_per_cm
            } else {
                f64::INFINITY
            };
            // Distance to this layer's boundary along d.
            let s_bound = if d[2] > 0.0 {
                (tops[layer + 1] - p[2]) / d[2]
            } else if d[2] < 0.0 {
                (tops[layer] - p[2]) / d[2]
            } else {
                f64::INFINITY
            };
            let hits = s_bound <= s_free;
            let mut s = if hits { s_bound } else { s_free };
            if !s.is_finite() {
                // A photon running sideways forever in a non-scattering layer: count as lost.
                totals.lost += w;
                return;
            }
            // Lost below the simulated depth.
            if p[2] + d[2] * s > stack.max_depth_cm {
                s = ((stack.max_depth_cm - p[2]) / d[2]).max(0.0);
                let att = (-l.mua_per_cm * s).exp();
                totals.absorbed += w * (1.0 - att);
                totals.lost += w * att;
                return;
            }
            let mut seg = Aabb::EMPTY;
            for k in 0..3 {
                seg.lo[k] = p[k].min(p[k] + d[k] * s);
                seg.hi[k] = p[k].max(p[k] + d[k] * s);
            }
            if seg.overlaps(&groups.all) {
                for (b, members) in &groups.groups {
                    if seg.overlaps(b) {
                        for &i in members {
                            absorber_cm[i] += absorbers[i].chord(p, d, s);
                        }
                    }
                }
            }
            layer_cm[layer] += s;
            let att = (-l.mua_per_cm * s).exp();
            totals.absorbed += w * (1.0 - att);
            w *= att;
            for k in 0..3 {
                p[k] += d[k] * s;
            }
            if !hits {
                break 'step;
            }
            tau -= s * l.mus_per_cm;
            // At a boundary: reflect or cross.
            let up = d[2] < 0.0;
            let n1 = l.n;
            let (n2, next) = if up {
                if layer == 0 {
                    (stack.n_above, None)
                } else {
                    (layers[layer - 1].n, Some(layer - 1))
                }
            } else if layer + 1 == layers.len() {
                (stack.n_below, None)
            } else {
                (layers[layer + 1].n, Some(layer + 1))
            };
            let ci = d[2].abs();
            let (r, ct) = fresnel(n1, n2, ci);
            if rng.random::<f64>() < r {
                d[2] = -d[2];
                continue 'step;
            }
            let ratio = n1 / n2;
            d[0] *= ratio;
            d[1] *= ratio;
            d[2] = if up { -ct } else { ct };
            match next {
                Some(nl) => layer = nl,
                None => {
                    if up {
                        totals.diffuse_reflectance += w;
                        totals.reflectance_sq += w * w;
                        record(&Exit {
                            x_cm: p[0],
                            y_cm: p[1],
                            entry_cm: [x0, y0],
                            weight: w,
                            layer_cm,
                            absorber_cm: &absorber_cm,
                        });
                    } else {
                        totals.transmittance += w;
                        totals.transmittance_sq += w * w;
                    }
                    return;
                }
            }
        }
        // Scatter (Henyey-Greenstein; azimuth uniform), as MCML's spin.
        let g = layers[layer].g;
        let ct = hg_cos(g, rng.random::<f64>());
        let st = (1.0 - ct * ct).max(0.0).sqrt();
        let phi = std::f64::consts::TAU * rng.random::<f64>();
        let (sp, cp) = phi.sin_cos();
        if d[2].abs() > 0.99999 {
            d = [st * cp, st * sp, ct * d[2].signum()];
        } else {
            let tmp = (1.0 - d[2] * d[2]).sqrt();
            d = [
                st * (d[0] * d[2] * cp - d[1] * sp) / tmp + d[0] * ct,
                st * (d[1] * d[2] * cp + d[0] * sp) / tmp + d[1] * ct,
                -st * cp * tmp + d[2] * ct,
            ];
        }
        // Roulette.
        if w < stack.roulette_weight {
            if rng.random::<f64>() < ROULETTE_CHANCE {
                w /= ROULETTE_CHANCE;
            } else {
                // Killed: in expectation the survivors' extra weight makes up for it.
                return;
            }
        }
    }
}
