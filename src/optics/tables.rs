//! The renderer's optics tables: what the light-transport reference ([`super::simulate_skin`])
//! says a healed SMP deposit and a hair under the skin look like, baked once by
//! `stipple optics bake` into `assets/optics/tables.json` and embedded in the binary (a user's
//! binary needs no assets path). Plain data, no GPU types.
//!
//! The file is JSON with one table entry per line (diff-friendly), and a header recording the
//! command, photons, seed and code version that made it. Every entry holds, for one skin type,
//! deposit and strength: the darkening (1 - dot / bare skin, per linear-sRGB channel under D65)
//! at each of [`Tables::radii_mm`] from the deposit's axis, the core colour on the simulated
//! skin, the half-darkening radius and the equivalent black area (per channel, mm²: a patch of
//! n dots per mm² at random darkens by 1 - exp(-n x area), n x area to first order in the
//! density, as [`super::SkinResult::patch_rgb`] has it: [`super::poisson_darkening`]).
//!
//! Queries interpolate multilinearly between the baked grid points and clamp outside them.
//! The skin class comes from a skin colour through the Individual Typology Angle
//! ([`SkinClass::from_linear_srgb`]), so a scanned head's measured skin tone drives it; the
//! renderer applies the *darkening ratios* to the skin's own albedo, never the simulated skin's
//! colour (which is yellower than the presets).

use glam::Vec3;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The committed tables, embedded.
pub const TABLES_JSON: &str = include_str!("../../assets/optics/tables.json");
/// Where `stipple optics bake` writes by default (relative to the repository root).
pub const DEFAULT_DIR: &str = "assets/optics";
pub const FILE_NAME: &str = "tables.json";
/// The format's name and version: bumped when a field changes meaning.
pub const FORMAT: &str = "stipple optics tables 1";

/// What made a table file.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct MadeBy {
    pub command: String,
    pub photons_per_wavelength: u64,
    pub seed: u64,
    pub code_version: String,
}

/// One simulated deposit (or hair) on one skin type at one strength.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Entry {
    pub fitzpatrick: u8,
    /// Carbon: the needle's reach (mm), the track's bottom. Hair: unused (0).
    pub depth_mm: f32,
    /// Carbon: the track's width (mm). Hair: the shaft's.
    pub diameter_mm: f32,
    /// Carbon: strength (1 = undiluted carbon black). Hair: eumelanin volume fraction.
    pub strength: f32,
    /// Darkening per linear-sRGB channel at each of [`Tables::radii_mm`].
    pub darkening_rgb: Vec<[f32; 3]>,
    /// The dot's centre on the simulated skin (linear sRGB, D65).
    pub core_linear_srgb: [f32; 3],
    /// Where the luminance darkening falls to half the centre's (mm).
    pub half_darkening_radius_mm: f32,
    /// Equivalent black area per channel (mm²).
    pub equivalent_area_mm2_rgb: [f32; 3],
    /// The same per wavelength, 400-700 nm every [`SPECTRUM_STEP_NM`] (mm²): what a colour
    /// under another light needs (`stipple match`'s indoor figures).
    #[serde(default)]
    pub equivalent_area_mm2_spectrum: Vec<f32>,
}

/// Wavelength step (nm) of the tables' spectra: 16 samples from 400 to 700 nm, half the
/// simulation's resolution (the areas are smooth in wavelength), to keep the file small.
pub const SPECTRUM_STEP_NM: usize = 20;
/// Samples in a table spectrum.
pub const SPECTRUM_SAMPLES: usize = 300 / SPECTRUM_STEP_NM + 1;

/// A table spectrum back on the simulation's 31 wavelengths (linear between samples).
pub fn spectrum_31(samples: &[f32]) -> [f64; super::spectra::WAVELENGTHS] {
    std::array::from_fn(|i| {
        if samples.len() < SPECTRUM_SAMPLES {
            return 0.0;
        }
        let x = (i * 10) as f64 / SPECTRUM_STEP_NM as f64;
        let k = (x.floor() as usize).min(SPECTRUM_SAMPLES - 2);
        let f = x - k as f64;
        samples[k] as f64 * (1.0 - f) + samples[k + 1] as f64 * f
    })
}

/// Healed needle-track deposits: a carbon column from the dermo-epidermal junction down to the
/// needle's reach (README, "Where carbon sits after healing"). Entries in the order
/// [fitzpatrick][depth][diameter][strength].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct DotTable {
    pub depth_mm: Vec<f32>,
    pub diameter_mm: Vec<f32>,
    pub strength: Vec<f32>,
    pub entries: Vec<Entry>,
}

/// Hair shafts under the skin. Entries in the order [fitzpatrick][melanin].
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HairTable {
    pub diameter_mm: f32,
    /// Angle of the shaft from the skin's normal.
    pub angle_deg: f32,
    /// Length below the surface (mm).
    pub length_mm: f32,
    pub melanin: Vec<f32>,
    pub entries: Vec<Entry>,
}

/// All tables of one bake.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Tables {
    pub format: String,
    pub made_by: MadeBy,
    pub notes: Vec<String>,
    pub fitzpatrick: Vec<u8>,
    /// Distances from the deposit's axis (mm) of every entry's profile; the first is 0.
    pub radii_mm: Vec<f32>,
    /// Bare skin's diffuse reflectance per type (linear sRGB, D65; specular excluded).
    pub bare_linear_srgb: Vec<[f32; 3]>,
    /// The same as spectra, 400-700 nm every [`SPECTRUM_STEP_NM`].
    #[serde(default)]
    pub bare_spectrum: Vec<Vec<f32>>,
    pub dots: DotTable,
    pub hair: HairTable,
}

/// A skin's place among the Fitzpatrick types: 1.0 (I) ... 6.0 (VI), fractional between.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SkinClass {
    pub fitzpatrick: f32,
}

impl SkinClass {
    pub fn fitzpatrick(n: usize) -> SkinClass {
        SkinClass {
            fitzpatrick: n.clamp(1, 6) as f32,
        }
    }

    /// From a CIELAB skin colour by its Individual Typology Angle, interpolated between the
    /// ITAs of the Fitzpatrick presets ([`crate::skin::FITZPATRICK_LAB`], each inside its Del
    /// Bino et al. 2006 ITA class), so each preset maps to its own type exactly.
    pub fn from_lab(lab: [f32; 3]) -> SkinClass {
        // Presets' ITAs fall monotonically from I to VI.
        let itas: Vec<f32> = crate::skin::FITZPATRICK_LAB
            .iter()
            .map(|(_, l)| crate::skin::ita_deg(*l))
            .collect();
        let ita = if lab[2].abs() < 1e-3 {
            if lab[0] >= 50.0 { 90.0 } else { -90.0 }
        } else {
            crate::skin::ita_deg(lab)
        };
        if ita >= itas[0] {
            return SkinClass::fitzpatrick(1);
        }
        for i in 1..itas.len() {
            if ita >= itas[i] {
                let f = (itas[i - 1] - ita) / (itas[i - 1] - itas[i]);
                return SkinClass {
                    fitzpatrick: i as f32 + f,
                };
            }
        }
        SkinClass::fitzpatrick(6)
    }

    /// From a skin albedo (linear sRGB): a preset, a scan's measured tone.
    pub fn from_linear_srgb(albedo: Vec3) -> SkinClass {
        SkinClass::from_lab(crate::skin::linear_srgb_to_lab(albedo))
    }
}

/// What a deposit (or hair) looks like, interpolated from the tables.
#[derive(Clone, Debug, PartialEq)]
pub struct Look {
    /// Distances from the axis (mm) of [`Look::darkening`].
    pub radii_mm: Vec<f32>,
    /// Darkening per linear-sRGB channel at each radius.
    pub darkening: Vec<Vec3>,
    /// The centre on the simulated skin (linear sRGB).
    pub core_linear_srgb: Vec3,
    /// The simulated bare skin (linear sRGB).
    pub bare_linear_srgb: Vec3,
    pub half_darkening_radius_mm: f32,
    /// Equivalent black area per channel (mm²).
    pub equivalent_area_mm2: Vec3,
    /// The same per wavelength (400-700 nm every [`SPECTRUM_STEP_NM`]; empty in old tables).
    pub equivalent_area_mm2_spectrum: Vec<f32>,
}

impl Look {
    /// Darkening at `r_mm` from the axis (linear between the table's radii; 0 beyond them).
    pub fn darkening_at(&self, r_mm: f32) -> Vec3 {
        let r = &self.radii_mm;
        if r_mm >= *r.last().unwrap_or(&0.0) {
            return Vec3::ZERO;
        }
        let (i, f) = locate(r, r_mm);
        self.darkening[i].lerp(self.darkening[(i + 1).min(r.len() - 1)], f)
    }

    /// The centre's darkening.
    pub fn core_darkening(&self) -> Vec3 {
        self.darkening[0]
    }

    /// The mean darkening of a patch of these at random at `density_per_cm2`: the dots'
    /// transmittances multiply where they overlap ([`super::poisson_darkening`]), as the
    /// simulation's patch figure and the renderer have it; the equivalent area x density to
    /// first order.
    pub fn patch_darkening(&self, density_per_cm2: f32) -> Vec3 {
        super::poisson_darkening(self.equivalent_area_mm2 * (density_per_cm2 / 100.0))
    }

    /// The luminance darkening at each radius.
    pub fn luminance_darkening(&self) -> Vec<f32> {
        let y = crate::lighting::color::luminance(self.bare_linear_srgb).max(1e-9);
        self.darkening
            .iter()
            .map(|d| crate::lighting::color::luminance(*d * self.bare_linear_srgb) / y)
            .collect()
    }

    /// The same look on skin of albedo `albedo` (linear sRGB): a scan's measured tone or a
    /// preset, whose colour the simulated skin does not share (it is yellower, and its dark
    /// types far more saturated). What carries over is what the simulation says about the
    /// dot relative to its skin, in CIELAB: the luminance ratio (exact: the luminance profile
    /// and half-darkening radius are the table's), the chroma ratio (a dot is a greyer version
    /// of its skin) and the hue shift. Per-channel ratios in linear sRGB would not carry: on
    /// the simulated dark skin, whose blue is a tiny remainder, they turn a greyer dot into a
    /// bluer one on a preset with more blue. Each channel of the result is then this skin's
    /// own: darkening = 1 - dot / albedo.
    pub fn on_skin(&self, albedo: Vec3) -> Look {
        let skin = albedo.max(Vec3::splat(1e-6));
        let sim = self.bare_linear_srgb.max(Vec3::splat(1e-6));
        let darkening: Vec<Vec3> = self
            .darkening
            .iter()
            .map(|d| carry_darkening(*d, sim, skin))
            .collect();
        // Areas: through the darkening of a patch of 1 per mm² (100 per cm²), first order.
        let area = self.equivalent_area_mm2;
        let k = 1.0 / area.max_element().max(1.0);
        let area = carry_darkening(area * k, sim, skin) / k;
        Look {
            radii_mm: self.radii_mm.clone(),
            core_linear_srgb: skin * (Vec3::ONE - darkening[0]),
            bare_linear_srgb: albedo,
            half_darkening_radius_mm: self.half_darkening_radius_mm,
            equivalent_area_mm2: area,
            // A spectral ratio is the skin's own at every wavelength.
            equivalent_area_mm2_spectrum: self.equivalent_area_mm2_spectrum.clone(),
            darkening,
        }
    }
}

/// [`Look::on_skin`] for one darkening `d` simulated on skin `sim`, moved onto `skin`.
fn carry_darkening(d: Vec3, sim: Vec3, skin: Vec3) -> Vec3 {
    use crate::lighting::color::luminance;
    use crate::skin::{lab_to_linear_srgb, linear_srgb_to_lab};
    let dot = sim * (Vec3::ONE - d);
    let y = luminance(dot) / luminance(sim).max(1e-9);
    let polar = |c: Vec3| {
        let l = linear_srgb_to_lab(c);
        (l[1].hypot(l[2]), l[2].atan2(l[1]))
    };
    let (c_sim, h_sim) = polar(sim);
    let (c_dot, h_dot) = polar(dot);
    let (c_skin, h_skin) = polar(skin);
    let chroma = c_skin * (c_dot / c_sim.max(1e-6));
    let hue = h_skin + (h_dot - h_sim);
    // L* of the carried luminance: a grey of luminance Y has it.
    let l = linear_srgb_to_lab(Vec3::splat(y.max(0.0) * luminance(skin)))[0];
    let target = lab_to_linear_srgb([l, chroma * hue.cos(), chroma * hue.sin()]);
    // The chroma and hue move the colour; the luminance must stay the simulation's.
    let target = target * (y.max(0.0) * luminance(skin) / luminance(target).max(1e-9));
    Vec3::ONE - target / skin
}

/// Index and fraction of `x` in ascending `axis` (clamped to its ends).
pub(crate) fn locate(axis: &[f32], x: f32) -> (usize, f32) {
    if axis.len() < 2 || x <= axis[0] {
        return (0, 0.0);
    }
    let last = axis.len() - 1;
    if x >= axis[last] {
        return (last - 1, 1.0);
    }
    let i = axis.partition_point(|&a| a <= x) - 1;
    (i, (x - axis[i]) / (axis[i + 1] - axis[i]))
}

/// Weighted sum of entries into a [`Look`].
fn blend(t: &Tables, corners: &[(&Entry, f32)], bare: Vec3) -> Look {
    let n = t.radii_mm.len();
    let mut darkening = vec![Vec3::ZERO; n];
    let mut core = Vec3::ZERO;
    let mut half = 0.0;
    let mut area = Vec3::ZERO;
    let mut spectrum = vec![0.0; SPECTRUM_SAMPLES];
    for (e, w) in corners {
        for (a, v) in spectrum.iter_mut().zip(&e.equivalent_area_mm2_spectrum) {
            *a += *w * *v;
        }
        for (d, v) in darkening.iter_mut().zip(&e.darkening_rgb) {
            *d += *w * Vec3::from(*v);
        }
        core += *w * Vec3::from(e.core_linear_srgb);
        half += *w * e.half_darkening_radius_mm;
        area += *w * Vec3::from(e.equivalent_area_mm2_rgb);
    }
    Look {
        radii_mm: t.radii_mm.clone(),
        darkening,
        core_linear_srgb: core,
        bare_linear_srgb: bare,
        half_darkening_radius_mm: half,
        equivalent_area_mm2: area,
        equivalent_area_mm2_spectrum: spectrum,
    }
}

impl Tables {
    /// Parses a table file (JSON).
    pub fn parse(text: &str) -> Result<Tables, String> {
        let t: Tables = serde_json::from_str(text).map_err(|e| {
            format!(
                "optics tables: line {}, column {}: {e}",
                e.line(),
                e.column()
            )
        })?;
        if t.format != FORMAT {
            return Err(format!(
                "optics tables: format {:?}, expected {FORMAT:?}",
                t.format
            ));
        }
        let (nf, nd) = (t.fitzpatrick.len(), &t.dots);
        let want = nf * nd.depth_mm.len() * nd.diameter_mm.len() * nd.strength.len();
        if nd.entries.len() != want || t.hair.entries.len() != nf * t.hair.melanin.len() {
            return Err(format!(
                "optics tables: {} dot entries and {} hair entries, expected {want} and {}",
                nd.entries.len(),
                t.hair.entries.len(),
                nf * t.hair.melanin.len()
            ));
        }
        if t.bare_linear_srgb.len() != nf
            || nd
                .entries
                .iter()
                .chain(&t.hair.entries)
                .any(|e| e.darkening_rgb.len() != t.radii_mm.len())
        {
            return Err(
                "optics tables: a profile or the bare skin list has the wrong length".into(),
            );
        }
        Ok(t)
    }

    /// Writes the tables as JSON, one entry per line.
    pub fn to_json(&self) -> String {
        let mut s = String::from("{\n");
        s += &format!("\"format\": {},\n", j(&self.format));
        s += &format!("\"made_by\": {},\n", j(&self.made_by));
        s += "\"notes\": [\n";
        s += &self.notes.iter().map(j).collect::<Vec<_>>().join(",\n");
        s += "\n],\n";
        s += &format!("\"fitzpatrick\": {},\n", j(&self.fitzpatrick));
        s += &format!("\"radii_mm\": {},\n", j(&self.radii_mm));
        s += &format!("\"bare_linear_srgb\": {},\n", j(&self.bare_linear_srgb));
        // Every field the format has: a field left out here silently went missing from a bake
        // (bare_spectrum, which `stipple match`'s lighting check needs).
        s += &format!("\"bare_spectrum\": {},\n", j(&self.bare_spectrum));
        let entries = |es: &[Entry]| es.iter().map(j).collect::<Vec<_>>().join(",\n");
        let d = &self.dots;
        s += &format!(
            "\"dots\": {{\"depth_mm\": {}, \"diameter_mm\": {}, \"strength\": {}, \"entries\": [\n{}\n]}},\n",
            j(&d.depth_mm),
            j(&d.diameter_mm),
            j(&d.strength),
            entries(&d.entries)
        );
        let h = &self.hair;
        s += &format!(
            "\"hair\": {{\"diameter_mm\": {}, \"angle_deg\": {}, \"length_mm\": {}, \"melanin\": {}, \"entries\": [\n{}\n]}}\n",
            j(&h.diameter_mm),
            j(&h.angle_deg),
            j(&h.length_mm),
            j(&h.melanin),
            entries(&h.entries)
        );
        s += "}\n";
        s
    }

    /// Simulated bare skin (linear sRGB) of a skin class.
    pub fn bare(&self, skin: SkinClass) -> Vec3 {
        let axis: Vec<f32> = self.fitzpatrick.iter().map(|&f| f as f32).collect();
        let (i, f) = locate(&axis, skin.fitzpatrick);
        let j = (i + 1).min(axis.len() - 1);
        Vec3::from(self.bare_linear_srgb[i]).lerp(Vec3::from(self.bare_linear_srgb[j]), f)
    }

    /// Simulated bare skin's reflectance spectrum (400-700 nm every [`SPECTRUM_STEP_NM`];
    /// empty in old tables).
    pub fn bare_spectrum(&self, skin: SkinClass) -> Vec<f32> {
        if self.bare_spectrum.len() != self.fitzpatrick.len() {
            return Vec::new();
        }
        let axis: Vec<f32> = self.fitzpatrick.iter().map(|&f| f as f32).collect();
        let (i, f) = locate(&axis, skin.fitzpatrick);
        let j = (i + 1).min(axis.len() - 1);
        let (a, b) = (&self.bare_spectrum[i], &self.bare_spectrum[j]);
        a.iter()
            .zip(b)
            .map(|(x, y)| x * (1.0 - f) + y * f)
            .collect()
    }

    /// A healed deposit from the needle's reach `depth_mm`, `diameter_mm` wide, at `shade`
    /// (1 = undiluted carbon black), on `skin`.
    pub fn dot(&self, skin: SkinClass, depth_mm: f32, diameter_mm: f32, shade: f32) -> Look {
        let d = &self.dots;
        let fz: Vec<f32> = self.fitzpatrick.iter().map(|&f| f as f32).collect();
        let axes = [
            (locate(&fz, skin.fitzpatrick), fz.len()),
            (locate(&d.depth_mm, depth_mm), d.depth_mm.len()),
            (locate(&d.diameter_mm, diameter_mm), d.diameter_mm.len()),
            (locate(&d.strength, shade.max(0.0)), d.strength.len()),
        ];
        let mut corners = Vec::with_capacity(16);
        for c in 0..16usize {
            let mut index = 0;
            let mut w = 1.0;
            for (k, &((i, f), n)) in axes.iter().enumerate() {
                let up = (c >> k) & 1 == 1;
                let ik = if up { (i + 1).min(n - 1) } else { i };
                w *= if up { f } else { 1.0 - f };
                index = index * n + ik;
            }
            if w > 0.0 {
                corners.push((&d.entries[index], w));
            }
        }
        blend(self, &corners, self.bare(skin))
    }

    /// A hair shaft under the skin (the table's diameter, angle and length) whose cortex
    /// holds `melanin` eumelanin (volume fraction), on `skin`.
    pub fn hair(&self, skin: SkinClass, melanin: f32) -> Look {
        let h = &self.hair;
        let fz: Vec<f32> = self.fitzpatrick.iter().map(|&f| f as f32).collect();
        let (fi, ff) = locate(&fz, skin.fitzpatrick);
        let (mi, mf) = locate(&h.melanin, melanin.max(0.0));
        let nm = h.melanin.len();
        let mut corners = Vec::with_capacity(4);
        for (a, wa) in [(fi, 1.0 - ff), ((fi + 1).min(fz.len() - 1), ff)] {
            for (b, wb) in [(mi, 1.0 - mf), ((mi + 1).min(nm - 1), mf)] {
                if wa * wb > 0.0 {
                    corners.push((&h.entries[a * nm + b], wa * wb));
                }
            }
        }
        blend(self, &corners, self.bare(skin))
    }
}

/// The embedded tables (parsed once).
pub fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| Tables::parse(TABLES_JSON).expect("the committed optics tables parse"))
}

/// Compact JSON of a part of the file.
fn j<T: Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).expect("plain data serialises")
}

/// The bake's grid of needle reaches (mm): the plan accepts 0.1-2 mm
/// ([`crate::plan::DEPTH_RANGE_MM`]); the brief's right range is 0.25-0.5 mm. A track ending
/// above the 0.1 mm epidermis holds no dermal carbon, so the grid starts just below it.
pub const BAKE_DEPTH_MM: [f32; 8] = [0.15, 0.25, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0];
/// Track widths (mm): the plans' dot diameters (0.08-0.17 mm, the brief's 90-170 µm seen
/// from the surface) up to the 0.25-0.35 mm of a 3-point needle's cluster.
pub const BAKE_DIAMETER_MM: [f32; 5] = [0.08, 0.12, 0.17, 0.25, 0.35];
/// Strengths (1 = undiluted carbon black at [`super::spectra::CARBON_G_PER_CM3`] in laden
/// cells): with the sieve effect a 0.12 mm column is not opaque until about full strength, so
/// the grid spans the practitioners' whole range of dilutions.
pub const BAKE_STRENGTH: [f32; 8] = [0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0];
/// Eumelanin volume fractions of a hair's cortex: 0 (white) up to twice the dark hair of
/// [`super::spectra::mua_hair`].
pub const BAKE_HAIR_MELANIN: [f32; 6] = [0.0, 0.0125, 0.025, 0.05, 0.1, 0.2];

/// `x` to 4 significant digits (short, stable numbers in the file).
fn sig4(x: f64) -> f32 {
    if x == 0.0 || !x.is_finite() {
        return 0.0;
    }
    let m = 10f64.powi(3 - x.abs().log10().floor() as i32);
    ((x * m).round() / m) as f32
}

/// Profiles to 3 significant digits (their Monte Carlo noise is larger).
fn sig3v(v: Vec3) -> [f32; 3] {
    let s = |x: f32| {
        if x == 0.0 || !x.is_finite() {
            return 0.0;
        }
        let m = 10f64.powi(2 - (x.abs() as f64).log10().floor() as i32);
        ((x as f64 * m).round() / m) as f32
    };
    [s(v.x), s(v.y), s(v.z)]
}

fn sig3(x: f64) -> f32 {
    sig3v(Vec3::new(x as f32, 0.0, 0.0))[0]
}

/// A simulated spectrum (31 wavelengths) at the tables' [`SPECTRUM_STEP_NM`].
fn sampled(s: &[f64; super::spectra::WAVELENGTHS]) -> Vec<f64> {
    (0..SPECTRUM_SAMPLES)
        .map(|k| s[k * SPECTRUM_STEP_NM / 10])
        .collect()
}

fn sig4v(v: Vec3) -> [f32; 3] {
    [sig4(v.x as f64), sig4(v.y as f64), sig4(v.z as f64)]
}

fn entry(r: &super::SkinResult, fi: usize, di: usize, ki: usize, key: [f32; 3]) -> Entry {
    let bare = r.bare_rgb(fi);
    let a = &r.area_mm2[fi][di][ki];
    let lost: [f64; super::spectra::WAVELENGTHS] = std::array::from_fn(|i| r.bare[fi][i] * a[i]);
    // Linear in the spectrum, so the channel's equivalent area is exact without a density.
    let area = super::spectra::reflectance_linear_srgb(&lost) / bare.max(Vec3::splat(1e-6));
    Entry {
        fitzpatrick: r.sim.fitzpatrick[fi] as u8,
        depth_mm: key[0],
        diameter_mm: key[1],
        strength: key[2],
        darkening_rgb: (0..r.sim.radii_mm.len())
            .map(|b| sig3v(r.darkening(fi, di, ki, b)))
            .collect(),
        core_linear_srgb: sig4v(r.dot_rgb(fi, di, ki, 0)),
        half_darkening_radius_mm: sig4(r.half_radius_mm(fi, di, ki)),
        equivalent_area_mm2_rgb: sig4v(area),
        equivalent_area_mm2_spectrum: sampled(a).into_iter().map(sig3).collect(),
    }
}

/// The code that bakes: the crate's version and, where git can tell, the commit.
fn code_version() -> String {
    let git = std::process::Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    match git {
        Some(g) => format!("stipple {} ({g})", env!("CARGO_PKG_VERSION")),
        None => format!("stipple {}", env!("CARGO_PKG_VERSION")),
    }
}

/// Runs the simulation over the whole grid (every Fitzpatrick type, every track and strength,
/// then every hair melanin) and returns the tables. `command` is recorded in the header.
pub fn bake(photons: u64, seed: u64, threads: usize, command: String) -> Tables {
    use super::{Deposit, SkinSim, simulate_skin};
    let fitz: Vec<usize> = (1..=6).collect();
    let mut deposits = Vec::new();
    for &z in &BAKE_DEPTH_MM {
        for &d in &BAKE_DIAMETER_MM {
            deposits.push(Deposit::track(d as f64, z as f64));
        }
    }
    let strengths: Vec<f64> = BAKE_STRENGTH.iter().map(|&s| s as f64).collect();
    let mut sim = SkinSim::new(fitz.clone(), deposits, strengths);
    sim.photons_per_wavelength = photons;
    sim.seed = seed;
    sim.threads = threads;
    let r = simulate_skin(&sim);
    let mut dots = Vec::new();
    for fi in 0..fitz.len() {
        for (zi, &z) in BAKE_DEPTH_MM.iter().enumerate() {
            for (wi, &w) in BAKE_DIAMETER_MM.iter().enumerate() {
                for (ki, &k) in BAKE_STRENGTH.iter().enumerate() {
                    let di = zi * BAKE_DIAMETER_MM.len() + wi;
                    dots.push(entry(&r, fi, di, ki, [z, w, k]));
                }
            }
        }
    }
    let hair_d = crate::skin::Stubble::default().shaft_diameter_mm;
    let hair = Deposit::hair(
        hair_d as f64,
        crate::skin::FOLLICLE_ANGLE_DEG as f64,
        crate::skin::SHAFT_UNDER_SKIN_MM as f64,
        1.0,
    );
    let melanin: Vec<f64> = BAKE_HAIR_MELANIN.iter().map(|&m| m as f64).collect();
    let mut hsim = SkinSim::new(fitz.clone(), vec![hair], melanin);
    hsim.photons_per_wavelength = photons;
    hsim.seed = seed.wrapping_add(1);
    hsim.threads = threads;
    let h = simulate_skin(&hsim);
    let mut hairs = Vec::new();
    for fi in 0..fitz.len() {
        for (ki, &m) in BAKE_HAIR_MELANIN.iter().enumerate() {
            hairs.push(entry(&h, fi, 0, ki, [0.0, hair_d, m]));
        }
    }
    Tables {
        format: FORMAT.to_string(),
        made_by: MadeBy {
            command,
            photons_per_wavelength: photons,
            seed,
            code_version: code_version(),
        },
        notes: vec![
            "Made by `stipple optics bake` (src/optics/tables.rs): the Monte Carlo of src/optics over Fitzpatrick I-VI, 400-700 nm, D65, CIE 1931 2 deg, linear sRGB.".into(),
            "dots: carbon columns (healed needle tracks) from the dermo-epidermal junction (0.1 mm) down to depth_mm, diameter_mm wide, at strength (1 = undiluted carbon black, 0.05 g/cm3 in carbon-laden cells 15 um across: the sieve effect, src/optics/spectra.rs mua_carbon); entries [fitzpatrick][depth][diameter][strength].".into(),
            "hair: a shaft diameter_mm wide from the surface at angle_deg from the normal for length_mm, cortex eumelanin fraction `strength`; entries [fitzpatrick][melanin]; profile averaged along and across its lean.".into(),
            "darkening_rgb: 1 - dot / bare skin per linear-sRGB channel at each of radii_mm; equivalent_area_mm2_rgb: the darkening integrated over the plane (a patch of n per mm2 darkens by n x area).".into(),
        ],
        fitzpatrick: fitz.iter().map(|&f| f as u8).collect(),
        radii_mm: sim.radii_mm.iter().map(|&r| r as f32).collect(),
        bare_linear_srgb: (0..fitz.len()).map(|fi| sig4v(r.bare_rgb(fi))).collect(),
        bare_spectrum: (0..fitz.len())
            .map(|fi| sampled(&r.bare[fi]).into_iter().map(sig4).collect())
            .collect(),
        dots: DotTable {
            depth_mm: BAKE_DEPTH_MM.to_vec(),
            diameter_mm: BAKE_DIAMETER_MM.to_vec(),
            strength: BAKE_STRENGTH.to_vec(),
            entries: dots,
        },
        hair: HairTable {
            diameter_mm: hair_d,
            angle_deg: crate::skin::FOLLICLE_ANGLE_DEG,
            length_mm: crate::skin::SHAFT_UNDER_SKIN_MM,
            melanin: BAKE_HAIR_MELANIN.to_vec(),
            entries: hairs,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer keeps every field: what the bake writes parses back to the same tables.
    #[test]
    fn the_committed_tables_survive_a_round_trip() {
        let t = tables();
        assert_eq!(t.bare_spectrum.len(), t.fitzpatrick.len());
        assert_eq!(&Tables::parse(&t.to_json()).unwrap(), t);
    }
}
