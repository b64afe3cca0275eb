//! Light transport reference: how a carbon deposit (or a hair shaft) under the skin looks,
//! from a Monte Carlo photon simulation of layered skin, not by eye.
//!
//! [`transport`] is the MCML-style engine (validated against published slab values by
//! `tests/optics.rs`); [`spectra`] holds the wavelength-dependent coefficients, each with its
//! source, and the spectral → CIE XYZ (D65) → linear sRGB integration. This module builds the
//! skin (epidermis with melanin by Fitzpatrick type over dermis with blood), places deposits
//! in it, and reports what a camera sees: the bare skin's colour, a dot's colour and darkening
//! by distance from its centre, and the darkening a dot adds to a patch. Plain CPU code.

pub mod cli;
pub mod match_cli;
pub mod matching;
pub mod spectra;
pub mod tables;
pub mod transport;

use glam::Vec3;
use spectra::WAVELENGTHS;
use transport::{Absorber, Beam, Exit, Launch, Layer, Stack};

/// The mean darkening of a patch of absorbers placed at random (a Poisson field), given their
/// mean summed darkening `mean` (density x each one's equivalent area): the mean transmittance
/// is E[prod (1 - d_i)] = exp(-lambda x integral of d) (the Poisson process's probability
/// generating functional, as for a Boolean model: Stoyan, Kendall & Mecke, Stochastic Geometry
/// and its Applications), so 1 - exp(-mean). Equal to `mean` to first order; where dots crowd
/// it darkens towards black with the hue kept instead of running out of red first. What the
/// renderer draws (its pigment target holds optical depth, `shaders/common.wgsl`).
pub fn poisson_darkening(mean: Vec3) -> Vec3 {
    Vec3::ONE - (-mean).exp()
}

/// What a deposit is made of.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Material {
    /// Carbon black in carbon-laden cells at this strength (1 = undiluted; the plan's shade):
    /// a healed deposit, absorbing through its cells' cross-section
    /// ([`spectra::mua_carbon`], the sieve effect).
    Carbon,
    /// Carbon black dispersed as single particles at [`spectra::CARBON_G_PER_CM3`] (the
    /// domain brief's disc, the independent Monte Carlo).
    DispersedCarbon,
    /// A hair shaft whose cortex holds this volume fraction of eumelanin.
    Hair { melanin: f64 },
}

/// A deposit under the skin, centred on the beam's axis: one or more cylinders (mm).
#[derive(Clone, Debug, PartialEq)]
pub struct Deposit {
    pub name: String,
    pub material: Material,
    pub parts: Vec<Absorber>,
}

impl Deposit {
    /// A disc of dispersed carbon `diameter_mm` wide and `thickness_mm` thick centred
    /// `depth_mm` under the surface (the configuration).
    pub fn disc(diameter_mm: f64, thickness_mm: f64, depth_mm: f64) -> Deposit {
        let (r, t, z) = (diameter_mm / 20.0, thickness_mm / 10.0, depth_mm / 10.0);
        Deposit {
            name: format!("disc {diameter_mm} mm x {thickness_mm} mm at {depth_mm} mm"),
            material: Material::DispersedCarbon,
            parts: vec![Absorber::column(0.0, 0.0, r, z - 0.5 * t, z + 0.5 * t)],
        }
    }

    /// A healed needle track: carbon along a column `diameter_mm` wide from the
    /// dermo-epidermal junction down to `depth_mm` (the needle's reach).
    pub fn track(diameter_mm: f64, depth_mm: f64) -> Deposit {
        let top = spectra::EPIDERMIS_CM;
        Deposit {
            name: format!("track {diameter_mm} mm wide to {depth_mm} mm"),
            material: Material::Carbon,
            parts: vec![Absorber::column(
                0.0,
                0.0,
                diameter_mm / 20.0,
                top,
                (depth_mm / 10.0).max(top + 1e-4),
            )],
        }
    }

    /// A hair shaft of `diameter_mm` leaving the surface at the origin, running down at
    /// `angle_deg` from the normal for `length_mm`.
    pub fn hair(diameter_mm: f64, angle_deg: f64, length_mm: f64, melanin: f64) -> Deposit {
        let a = angle_deg.to_radians();
        Deposit {
            name: format!("hair {diameter_mm} mm at {angle_deg} deg"),
            material: Material::Hair { melanin },
            parts: vec![Absorber {
                start: [0.0, 0.0, 0.0],
                dir: [a.sin(), 0.0, a.cos()],
                length_cm: length_mm / 10.0,
                radius_cm: diameter_mm / 20.0,
            }],
        }
    }

    fn mua(&self, i: usize, strength: f64) -> f64 {
        match self.material {
            Material::Carbon => strength * spectra::mua_carbon(i),
            Material::DispersedCarbon => {
                strength * spectra::carbon_mass_absorption_cm2_per_g(i) * spectra::CARBON_G_PER_CM3
            }
            Material::Hair { melanin } => strength * spectra::mua_hair(i, melanin),
        }
    }
}

/// A skin simulation: every Fitzpatrick type in `fitzpatrick` and every deposit at every
/// strength, from one set of photon walks per wavelength.
///
/// The dot's profile comes by reciprocity: a camera looking along the normal at a point `r`
/// from a deposit, under diffuse (sky-like) light, sees what a pencil beam entering along the
/// normal at that point sends out anywhere. So photons enter at the origin, a virtual copy of
/// every deposit sits at each radius of [`SkinSim::radii_mm`] (copies absorb nothing in the
/// walk; each is its own tally), and every remitted photon counts for every copy: far less
/// noise than binning exit points around one deposit.
#[derive(Clone, Debug)]
pub struct SkinSim {
    pub fitzpatrick: Vec<usize>,
    pub deposits: Vec<Deposit>,
    /// Strengths (shades) of every deposit.
    pub strengths: Vec<f64>,
    pub photons_per_wavelength: u64,
    pub seed: u64,
    pub threads: usize,
    /// Distances (mm) from the deposit's axis at which its darkening is measured; the first
    /// must be 0 (the core).
    pub radii_mm: Vec<f64>,
}

/// Default profile radii (mm): fine near the core, coarse in the tail.
pub const PROFILE_RADII_MM: [f64; 18] = [
    0.0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0, 1.25, 1.5, 2.0,
    2.5,
];

impl SkinSim {
    pub fn new(fitzpatrick: Vec<usize>, deposits: Vec<Deposit>, strengths: Vec<f64>) -> Self {
        SkinSim {
            fitzpatrick,
            deposits,
            strengths,
            photons_per_wavelength: 100_000,
            seed: 1,
            threads: 0,
            radii_mm: PROFILE_RADII_MM.to_vec(),
        }
    }
}

/// Spectral results; index order [fitz][deposit][strength].
#[derive(Clone, Debug)]
pub struct SkinResult {
    pub sim: SkinSim,
    /// Bare skin's diffuse reflectance per type (specular excluded: a camera's diffuse).
    pub bare: Vec<[f64; WAVELENGTHS]>,
    /// The deposit's darkening (reflectance lost over bare reflectance) at each of
    /// [`SkinSim::radii_mm`], per wavelength.
    pub profile: Vec<Vec<Vec<Vec<[f64; WAVELENGTHS]>>>>,
    /// The darkening integrated over the plane (mm²): the dot's equivalent black area.
    pub area_mm2: Vec<Vec<Vec<[f64; WAVELENGTHS]>>>,
}

/// The stack the skin simulation walks in (walk absorption: the lightest epidermis).
pub fn skin_stack(i: usize, walk_fitz: usize) -> Stack {
    let musp = spectra::musp_skin(i);
    let mus = musp / (1.0 - spectra::G_SKIN);
    Stack {
        layers: vec![
            Layer {
                thickness_cm: spectra::EPIDERMIS_CM,
                mua_per_cm: spectra::mua_epidermis(i, walk_fitz),
                mus_per_cm: mus,
                g: spectra::G_SKIN,
                n: spectra::N_SKIN,
            },
            Layer {
                thickness_cm: f64::INFINITY,
                mua_per_cm: spectra::mua_dermis(i),
                mus_per_cm: mus,
                g: spectra::G_SKIN,
                n: spectra::N_SKIN,
            },
        ],
        n_above: 1.0,
        n_below: spectra::N_SKIN,
        // Light returning from deeper than 6 mm is a fraction of a percent of the remitted red.
        max_depth_cm: 0.6,
        roulette_weight: 1e-2,
    }
}

struct Tally {
    bare: Vec<f64>,
    /// [f][d][k][radius]
    loss: Vec<f64>,
}

/// Directions in which a deposit's copies are offset: a round deposit needs one; a slanted
/// hair needs along and across its lean (averaged, a radial approximation of its streak).
fn offsets(d: &Deposit) -> &'static [[f64; 2]] {
    match d.material {
        Material::Carbon | Material::DispersedCarbon => &[[1.0, 0.0]],
        Material::Hair { .. } => &[[1.0, 0.0], [0.0, 1.0]],
    }
}

/// Runs the skin simulation (all wavelengths; each with its own seed stream).
pub fn simulate_skin(sim: &SkinSim) -> SkinResult {
    let nf = sim.fitzpatrick.len();
    let nd = sim.deposits.len();
    let nk = sim.strengths.len();
    let nr = sim.radii_mm.len();
    let walk_fitz = *sim.fitzpatrick.iter().min().unwrap_or(&1);
    // Copies: for each deposit, radius, offset direction, part. Record where each starts.
    let mut parts: Vec<Absorber> = Vec::new();
    let mut index = Vec::new(); // (deposit, radius, first part, parts, directions)
    for (di, d) in sim.deposits.iter().enumerate() {
        let dirs = offsets(d);
        for (ri, r) in sim.radii_mm.iter().enumerate() {
            let first = parts.len();
            for dir in dirs {
                for p in &d.parts {
                    let mut q = *p;
                    q.start[0] += dir[0] * r / 10.0;
                    q.start[1] += dir[1] * r / 10.0;
                    parts.push(q);
                }
            }
            index.push((di, ri, first, d.parts.len(), dirs.len()));
        }
    }
    let mut bare = vec![[0.0; WAVELENGTHS]; nf];
    let mut profile = vec![vec![vec![vec![[0.0; WAVELENGTHS]; nr]; nk]; nd]; nf];
    let mut area = vec![vec![vec![[0.0; WAVELENGTHS]; nk]; nd]; nf];
    for i in 0..WAVELENGTHS {
        let stack = skin_stack(i, walk_fitz);
        let d_epi: Vec<f64> = sim
            .fitzpatrick
            .iter()
            .map(|&f| spectra::mua_epidermis(i, f) - spectra::mua_epidermis(i, walk_fitz))
            .collect();
        let mua: Vec<Vec<f64>> = sim
            .deposits
            .iter()
            .map(|d| sim.strengths.iter().map(|&s| d.mua(i, s)).collect())
            .collect();
        let record = |t: &mut Tally, e: &Exit| {
            for (fi, de) in d_epi.iter().enumerate() {
                let w = e.weight * (-de * e.layer_cm[0]).exp();
                t.bare[fi] += w;
                for &(di, ri, first, n, ndir) in &index {
                    for o in 0..ndir {
                        let l: f64 = e.absorber_cm[first + o * n..first + (o + 1) * n]
                            .iter()
                            .sum();
                        if l <= 0.0 {
                            continue;
                        }
                        for (ki, m) in mua[di].iter().enumerate() {
                            t.loss[((fi * nd + di) * nk + ki) * nr + ri] +=
                                w * (1.0 - (-m * l).exp()) / ndir as f64;
                        }
                    }
                }
            }
        };
        let (totals, tally) = transport::simulate(
            &stack,
            &parts,
            Launch {
                beam: Beam::Pencil,
                photons: sim.photons_per_wavelength,
                seed: sim.seed.wrapping_mul(1000).wrapping_add(i as u64),
                threads: sim.threads,
            },
            || Tally {
                bare: vec![0.0; nf],
                loss: vec![0.0; nf * nd * nk * nr],
            },
            record,
            |a, b| {
                for (x, y) in a.bare.iter_mut().zip(b.bare) {
                    *x += y;
                }
                for (x, y) in a.loss.iter_mut().zip(b.loss) {
                    *x += y;
                }
            },
        );
        let n = totals.photons as f64;
        for fi in 0..nf {
            let rb = tally.bare[fi] / n;
            bare[fi][i] = rb;
            for di in 0..nd {
                for ki in 0..nk {
                    let base = ((fi * nd + di) * nk + ki) * nr;
                    let prof: Vec<f64> = (0..nr).map(|ri| tally.loss[base + ri] / n / rb).collect();
                    let mut a = 0.0;
                    for ri in 1..nr {
                        let (r0, r1) = (sim.radii_mm[ri - 1], sim.radii_mm[ri]);
                        a += std::f64::consts::PI
                            * (r1 * r1 - r0 * r0)
                            * 0.5
                            * (prof[ri - 1] + prof[ri]);
                    }
                    for ri in 0..nr {
                        profile[fi][di][ki][ri][i] = prof[ri];
                    }
                    area[fi][di][ki][i] = a;
                }
            }
        }
    }
    SkinResult {
        sim: sim.clone(),
        bare,
        profile,
        area_mm2: area,
    }
}

impl SkinResult {
    /// Bare skin's colour (linear sRGB under D65) for the `fi`-th type.
    pub fn bare_rgb(&self, fi: usize) -> Vec3 {
        spectra::reflectance_linear_srgb(&self.bare[fi])
    }

    /// The skin's colour at radial bin `b` of a deposit.
    pub fn dot_rgb(&self, fi: usize, di: usize, ki: usize, b: usize) -> Vec3 {
        let p = &self.profile[fi][di][ki][b];
        let r: [f64; WAVELENGTHS] = std::array::from_fn(|i| self.bare[fi][i] * (1.0 - p[i]));
        spectra::reflectance_linear_srgb(&r)
    }

    /// Mean colour of a patch of these deposits at `per_mm2`, placed at random: the dots'
    /// transmittances multiply where they overlap, exp(-density x area) ([`poisson_darkening`];
    /// dots a millimetre apart barely share light, so first order in the density).
    pub fn patch_rgb(&self, fi: usize, di: usize, ki: usize, per_mm2: f64) -> Vec3 {
        let a = &self.area_mm2[fi][di][ki];
        let r: [f64; WAVELENGTHS] =
            std::array::from_fn(|i| self.bare[fi][i] * (-per_mm2 * a[i]).exp());
        spectra::reflectance_linear_srgb(&r)
    }

    /// Darkening (1 - dot / bare, per channel) at bin `b`.
    pub fn darkening(&self, fi: usize, di: usize, ki: usize, b: usize) -> Vec3 {
        Vec3::ONE - self.dot_rgb(fi, di, ki, b) / self.bare_rgb(fi).max(Vec3::splat(1e-6))
    }

    /// Radius (mm) where the luminance darkening falls to half the centre's.
    pub fn half_radius_mm(&self, fi: usize, di: usize, ki: usize) -> f64 {
        let lum = |b| crate::lighting::color::luminance(self.darkening(fi, di, ki, b)) as f64;
        let c = lum(0);
        let r = &self.sim.radii_mm;
        for b in 1..r.len() {
            let v = lum(b);
            if v <= 0.5 * c {
                let prev = lum(b - 1);
                let f = (prev - 0.5 * c) / (prev - v).max(1e-12);
                return r[b - 1] + f * (r[b] - r[b - 1]);
            }
        }
        *r.last().unwrap_or(&0.0)
    }
}
