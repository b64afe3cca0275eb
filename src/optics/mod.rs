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
pub mod spectra;
pub mod transport;

use glam::Vec3;
use spectra::WAVELENGTHS;
use transport::{Absorber, Beam, Exit, Layer, Stack};

/// What a deposit is made of.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Material {
    /// Carbon black at this strength (1 = undiluted; the plan's shade).
    Carbon,
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
    /// A disc of carbon `diameter_mm` wide and `thickness_mm` thick centred `depth_mm` under
    /// the surface (the configuration).
    pub fn disc(diameter_mm: f64, thickness_mm: f64, depth_mm: f64) -> Deposit {
        let (r, t, z) = (diameter_mm / 20.0, thickness_mm / 10.0, depth_mm / 10.0);
        Deposit {
            name: format!("disc {diameter_mm} mm x {thickness_mm} mm at {depth_mm} mm"),
            material: Material::Carbon,
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
            Material::Hair { melanin } => strength * spectra::mua_hair(i, melanin),
        }
    }
}

/// A skin simulation: every Fitzpatrick type in `fitzpatrick` and every deposit at every
/// strength, from one set of photon walks per wavelength.
#[derive(Clone, Debug)]
pub struct SkinSim {
    pub fitzpatrick: Vec<usize>,
    pub deposits: Vec<Deposit>,
    /// Strengths (shades) of every deposit.
    pub strengths: Vec<f64>,
    pub photons_per_wavelength: u64,
    pub seed: u64,
    pub threads: usize,
    /// Radius (mm) of the uniform beam around the deposit.
    pub beam_radius_mm: f64,
    /// Radial bins (mm) of the profile.
    pub bin_mm: f64,
    pub bins: usize,
}

impl SkinSim {
    pub fn new(fitzpatrick: Vec<usize>, deposits: Vec<Deposit>, strengths: Vec<f64>) -> Self {
        SkinSim {
            fitzpatrick,
            deposits,
            strengths,
            photons_per_wavelength: 200_000,
            seed: 1,
            threads: 0,
            beam_radius_mm: 2.5,
            bin_mm: 0.025,
            bins: 40,
        }
    }
}

/// Spectral results; index order [fitz][deposit][strength].
#[derive(Clone, Debug)]
pub struct SkinResult {
    pub sim: SkinSim,
    /// Bare skin's diffuse reflectance per type (specular excluded: a camera's diffuse).
    pub bare: Vec<[f64; WAVELENGTHS]>,
    /// Reflectance lost to the deposit per mm² of skin at each radial bin, as a fraction of
    /// the bare reflectance: the dot's darkening profile, per wavelength.
    pub profile: Vec<Vec<Vec<Vec<[f64; WAVELENGTHS]>>>>,
    /// The dot's darkening integrated over the plane (mm²): its equivalent black area.
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
    // [f][d][k][bin]  plus total at bins
    loss: Vec<f64>,
}

/// Runs the skin simulation (all wavelengths; each with its own seed stream).
pub fn simulate_skin(sim: &SkinSim) -> SkinResult {
    let nf = sim.fitzpatrick.len();
    let nd = sim.deposits.len();
    let nk = sim.strengths.len();
    let nb = sim.bins + 1;
    let walk_fitz = *sim.fitzpatrick.iter().min().unwrap_or(&1);
    let parts: Vec<Absorber> = sim
        .deposits
        .iter()
        .flat_map(|d| d.parts.iter().copied())
        .collect();
    let mut bare = vec![[0.0; WAVELENGTHS]; nf];
    let mut profile = vec![vec![vec![vec![[0.0; WAVELENGTHS]; sim.bins]; nk]; nd]; nf];
    let mut area = vec![vec![vec![[0.0; WAVELENGTHS]; nk]; nd]; nf];
    let beam_cm = sim.beam_radius_mm / 10.0;
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
        let bin_cm = sim.bin_mm / 10.0;
        let record = |t: &mut Tally, e: &Exit| {
            let r = (e.x_cm * e.x_cm + e.y_cm * e.y_cm).sqrt();
            let bin = ((r / bin_cm) as usize).min(nb - 1);
            let mut part = 0;
            let lens: Vec<f64> = sim
                .deposits
                .iter()
                .map(|d| {
                    let l: f64 = e.absorber_cm[part..part + d.parts.len()].iter().sum();
                    part += d.parts.len();
                    l
                })
                .collect();
            for (fi, de) in d_epi.iter().enumerate() {
                let w = e.weight * (-de * e.layer_cm[0]).exp();
                t.bare[fi] += w;
                for (di, l) in lens.iter().enumerate() {
                    if *l <= 0.0 {
                        continue;
                    }
                    for (ki, m) in mua[di].iter().enumerate() {
                        let loss = w * (1.0 - (-m * l).exp());
                        t.loss[((fi * nd + di) * nk + ki) * nb + bin] += loss;
                    }
                }
            }
        };
        let (totals, tally) = transport::simulate(
            &stack,
            &parts,
            Beam::UniformDisc { radius_cm: beam_cm },
            sim.photons_per_wavelength,
            sim.seed.wrapping_mul(1000).wrapping_add(i as u64),
            sim.threads,
            || Tally {
                bare: vec![0.0; nf],
                loss: vec![0.0; nf * nd * nk * nb],
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
        // Photons per mm² of the beam.
        let per_mm2 = n / (std::f64::consts::PI * sim.beam_radius_mm.powi(2));
        for fi in 0..nf {
            let rb = tally.bare[fi] / n;
            bare[fi][i] = rb;
            for di in 0..nd {
                for ki in 0..nk {
                    let base = ((fi * nd + di) * nk + ki) * nb;
                    let mut total = 0.0;
                    for b in 0..nb {
                        let lost = tally.loss[base + b] / per_mm2 / rb;
                        total += lost;
                        if b < sim.bins {
                            let (r0, r1) = (b as f64 * sim.bin_mm, (b + 1) as f64 * sim.bin_mm);
                            let ring = std::f64::consts::PI * (r1 * r1 - r0 * r0);
                            profile[fi][di][ki][b][i] = lost / ring;
                        }
                    }
                    area[fi][di][ki][i] = total;
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

    /// Mean colour of a patch of these deposits at `per_mm2` (first order in the density: dots
    /// a millimetre apart barely share light).
    pub fn patch_rgb(&self, fi: usize, di: usize, ki: usize, per_mm2: f64) -> Vec3 {
        let a = &self.area_mm2[fi][di][ki];
        let r: [f64; WAVELENGTHS] =
            std::array::from_fn(|i| self.bare[fi][i] * (1.0 - per_mm2 * a[i]).max(0.0));
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
        for b in 1..self.sim.bins {
            let v = lum(b);
            if v <= 0.5 * c {
                let prev = lum(b - 1);
                let f = (prev - 0.5 * c) / (prev - v).max(1e-12);
                return (b as f64 - 0.5 + f) * self.sim.bin_mm;
            }
        }
        self.sim.bins as f64 * self.sim.bin_mm
    }
}
