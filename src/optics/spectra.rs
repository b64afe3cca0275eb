//! Wavelength-dependent optical properties of skin, carbon and hair, from the tissue-optics
//! literature, and the spectral → colour integration (CIE 1931 under D65).
//!
//! Units: wavelengths in nm, coefficients in 1/cm (as the sources give them).

use glam::{DVec3, Vec3};

/// The simulated wavelengths: 400-700 nm in 10 nm steps (31).
pub const WAVELENGTHS: usize = 31;
pub fn wavelength_nm(i: usize) -> f64 {
    400.0 + 10.0 * i as f64
}

/// Molar extinction coefficients of oxy- and deoxyhaemoglobin, ε (cm⁻¹/M), 400-700 nm every
/// 10 nm: S. Prahl's compilation of Gratzer's and Kollias' data ("Tabulated molar extinction
/// coefficient for hemoglobin in water", omlc.org/spectra/hemoglobin/summary.html, 1999).
#[rustfmt::skip]
const HB_EPSILON: [[f64; 2]; WAVELENGTHS] = [
    [266232.0, 223296.0], [466840.0, 303956.0], [480360.0, 407560.0], [246072.0, 528600.0],
    [102580.0, 413280.0], [62816.0, 103292.0], [44480.0, 23388.8], [33209.2, 16156.4],
    [26629.2, 14550.0], [23684.4, 16684.0], [20932.8, 20035.2], [20035.2, 25773.6],
    [24202.4, 31589.6], [39956.8, 39036.4], [53236.0, 46592.0], [43016.0, 53412.0],
    [32613.2, 53788.0], [44496.0, 45072.0], [50104.0, 37020.0], [14400.8, 28324.4],
    [3200.0, 14677.2], [1506.0, 9443.6], [942.0, 6509.6], [610.0, 5148.8],
    [442.0, 4345.2], [368.0, 3750.12], [319.6, 3226.56], [294.0, 2795.12],
    [277.6, 2407.92], [276.0, 2051.96], [290.0, 1794.28],
];

/// Haemoglobin in whole blood (g/L) and its molar mass (g/mol): Prahl's page above (150 g/L,
/// 64,500 g/mol), so µa = ln(10) ε · 150 / 64,500.
const BLOOD_HB_G_PER_L: f64 = 150.0;
const HB_G_PER_MOL: f64 = 64500.0;

/// Absorption of whole blood at oxygen saturation `sat` (1/cm).
pub fn mua_blood(i: usize, sat: f64) -> f64 {
    let [o, d] = HB_EPSILON[i];
    std::f64::consts::LN_10 * (sat * o + (1.0 - sat) * d) * BLOOD_HB_G_PER_L / HB_G_PER_MOL
}

/// Absorption inside a melanosome (1/cm): µa.mel = 519 (λ/500 nm)^-3.5, Jacques 2013
/// ("Optical properties of biological tissues: a review", Phys. Med. Biol. 58:R37, §3.3).
pub fn mua_melanin(i: usize) -> f64 {
    519.0 * (wavelength_nm(i) / 500.0).powf(-3.5)
}

/// Bloodless, melanin-free tissue's background absorption (1/cm):
/// µa.baseline = 7.84×10⁷ λ^-3.255 (Saidi 1992, as given by Jacques, "Skin optics", Oregon
/// Medical Laser Center News, 1998).
pub fn mua_baseline(i: usize) -> f64 {
    7.84e7 * wavelength_nm(i).powf(-3.255)
}

/// Reduced scattering of skin (1/cm): µs' = a' (f_Ray (λ/500)^-4 + (1 - f_Ray)(λ/500)^-b_Mie)
/// with Jacques 2013's fit for skin (Table 2: a' = 46.0 cm⁻¹, f_Ray = 0.409, b_Mie = 0.562).
pub fn musp_skin(i: usize) -> f64 {
    let x = wavelength_nm(i) / 500.0;
    46.0 * (0.409 * x.powi(-4) + (1.0 - 0.409) * x.powf(-0.562))
}

/// Scattering anisotropy of skin: g = 0.9 (Jacques 2013, §2.3: dermis 0.8-0.95; the value
/// mcxyz's tissue list uses for skin layers).
pub const G_SKIN: f64 = 0.9;
/// Refractive index of skin: 1.4 (Jacques 2013, §4; the value MCML studies of skin use).
pub const N_SKIN: f64 = 1.4;

/// Volume fraction of melanosomes in the epidermis by Fitzpatrick type I-VI: Jacques 1998
/// ("Skin optics": light adults 1.3-6.3%, moderately pigmented 11-16%, darkly pigmented
/// 18-43%), read across the six types.
pub const MELANIN_FRACTION: [f64; 6] = [0.02, 0.04, 0.07, 0.12, 0.20, 0.35];
/// Blood volume fraction of the dermis and its oxygen saturation: 0.2% at 67%, the dermis of
/// Jacques' mcxyz tissue list (makeTissueList.m, "dermis": B = 0.002, S = 0.67).
pub const DERMIS_BLOOD: f64 = 0.002;
pub const DERMIS_SATURATION: f64 = 0.67;
/// Epidermal thickness (cm): 0.1 mm (Jacques 1998; scalp epidermis is 0.05-0.1 mm).
pub const EPIDERMIS_CM: f64 = 0.01;

/// Absorption of the epidermis of Fitzpatrick type `fitz` (1-6) at wavelength index `i`.
pub fn mua_epidermis(i: usize, fitz: usize) -> f64 {
    let m = MELANIN_FRACTION[fitz.clamp(1, 6) - 1];
    m * mua_melanin(i) + (1.0 - m) * mua_baseline(i)
}

/// Absorption of the dermis (blood plus the bloodless baseline).
pub fn mua_dermis(i: usize) -> f64 {
    DERMIS_BLOOD * mua_blood(i, DERMIS_SATURATION) + (1.0 - DERMIS_BLOOD) * mua_baseline(i)
}

/// Mass absorption cross-section of carbon black dispersed as single particles (cm²/g at
/// wavelength index `i`): 7.5 m²/g at 550 nm with an absorption Ångström exponent of 1 (Bond &
/// Bergstrom 2006, "Light absorption by carbonaceous particles", Aerosol Sci. Technol. 40:27).
pub fn carbon_mass_absorption_cm2_per_g(i: usize) -> f64 {
    75_000.0 * (wavelength_nm(i) / 550.0).powi(-1)
}

/// Absorption of a healed carbon deposit at full strength (1/cm), with the sieve effect.
///
/// After healing, carbon is not dispersed: it sits in dermal cells, fibroblasts (Lea &
/// Pawlowski 1987, Int J Dermatol 26:453) and macrophages that capture, release and recapture
/// it (Baranska et al. 2018, J Exp Med 215:1115), as particle aggregates inside their vesicles
/// (Grant et al. 2015, Beilstein J Nanotechnol 6:1183). A deposit is then a random suspension
/// of small, nearly opaque packets in clear tissue, and light passing through it is absorbed
/// by the packets' cross-section, not by the carbon mass (the sieve or package effect: Duysens
/// 1956, Biochim Biophys Acta 19:1). For spheres of diameter d filling a volume fraction f,
/// each of internal absorption µi, the deposit's absorption is
/// µa = 1.5 f / d · Q(µi d), with Q(ρ) = 1 + 2 e^-ρ / ρ + 2 (e^-ρ - 1) / ρ² the absorption
/// efficiency of an absorbing sphere (Duysens 1956; Morel & Bricaud 1981, Deep-Sea Res
/// 28A:1375). With Q → 2ρ/3 for small ρ this is the dispersed value f µi again; for packets of
/// [`CARBON_IN_CLUSTER_G_PER_CM3`] 15 µm across, Q ≈ 1 at every visible wavelength: absorption
/// is set by how many packets there are (coverage), and is spectrally flat. Diluting the ink
/// ([`super::Material::Carbon`]'s strength) lowers f, the number of laden cells, and leaves
/// each cell's load alone.
pub fn mua_carbon(i: usize) -> f64 {
    let f = CARBON_G_PER_CM3 / CARBON_IN_CLUSTER_G_PER_CM3;
    let d = CLUSTER_DIAMETER_CM;
    let rho = CARBON_IN_CLUSTER_G_PER_CM3 * carbon_mass_absorption_cm2_per_g(i) * d;
    1.5 * f / d * sphere_absorption_efficiency(rho)
}

/// Absorption efficiency of a homogeneous absorbing sphere whose diameter is `rho` absorption
/// lengths (Duysens 1956; Morel & Bricaud 1981, eq. 6 without refraction).
pub fn sphere_absorption_efficiency(rho: f64) -> f64 {
    if rho < 1e-4 {
        return 2.0 * rho / 3.0;
    }
    let e = (-rho).exp();
    1.0 + 2.0 * e / rho + 2.0 * (e - 1.0) / (rho * rho)
}

/// Mean carbon in a deposit at full strength (g/cm³): tattooed skin holds 0.6-9.4 mg of
/// pigment per cm² of skin, mean 2.5 (Engel et al. 2008, Contact Dermatitis 58:228), about a
/// third of which leaves the skin within weeks (animal experiments, as summarised by Bäumler
/// 2015, "Absorption, distribution, metabolism and excretion of tattoo colorants", Curr Probl
/// Dermatol 48, Karger); the rest spread through about 0.35 mm
/// of papillary and upper reticular dermis (the brief's 0.25-0.5 mm reach less the 0.1 mm
/// epidermis): 1.7 mg/cm² / 0.035 cm ≈ 0.05 g/cm³.
pub const CARBON_G_PER_CM3: f64 = 0.05;

/// Diameter of a carbon-laden cell, the deposit's packet (cm): dermal fibroblasts and
/// macrophages, 10-20 µm (Lea & Pawlowski 1987 and Baranska et al. 2018 show whole cells
/// filled with pigment); 15 µm.
pub const CLUSTER_DIAMETER_CM: f64 = 15e-4;

/// Carbon inside a laden cell (g/cm³). No measurement found (a stopgap, named): pigment-filled
/// vesicles taking about a third of the cell, holding aggregates packed at about a third of
/// carbon black's 1.8 g/cm³, give 0.2. Any value above about 0.03 makes a 15 µm cell opaque
/// (µi d > 3 at 700 nm), so the deposit's absorption then depends on this only through the
/// number of cells, f = [`CARBON_G_PER_CM3`] / this.
pub const CARBON_IN_CLUSTER_G_PER_CM3: f64 = 0.2;

/// Absorption of a hair shaft (1/cm): eumelanin as in [`mua_melanin`] at the volume fraction
/// `melanin` of the shaft's cortex (dark hair about 0.1: a stopgap, no measurement found).
pub fn mua_hair(i: usize, melanin: f64) -> f64 {
    melanin * mua_melanin(i)
}

/// CIE D65 relative spectral power, 400-700 nm every 10 nm (CIE 15:2004, Table T.1).
#[rustfmt::skip]
pub const D65: [f64; WAVELENGTHS] = [
    82.7549, 91.486, 93.4318, 86.6823, 104.865, 117.008, 117.812, 114.861, 115.923, 108.811,
    109.354, 107.802, 104.79, 107.689, 104.405, 104.046, 100.0, 96.3342, 95.788, 88.6856,
    90.0062, 89.5991, 87.6987, 83.2886, 83.6992, 80.0268, 80.2146, 82.2778, 78.2842, 69.7213,
    71.6091,
];

fn interp(table: &[f64; WAVELENGTHS], nm: f64) -> f64 {
    let x = ((nm - 400.0) / 10.0).clamp(0.0, (WAVELENGTHS - 1) as f64);
    let i = (x.floor() as usize).min(WAVELENGTHS - 2);
    let f = x - i as f64;
    table[i] * (1.0 - f) + table[i + 1] * f
}

/// CIE XYZ (Y of a perfect white = 1) of a reflectance spectrum under an illuminant spectrum
/// (both on [`WAVELENGTHS`]; the CIE 1931 2° observer of [`crate::lighting::color`], with the
/// reflectance held at its end values outside 400-700 nm).
pub fn reflectance_xyz_under(
    reflectance: &[f64; WAVELENGTHS],
    light: &[f64; WAVELENGTHS],
) -> DVec3 {
    let white = crate::lighting::color::spectrum_xyz(|nm| interp(light, nm));
    crate::lighting::color::spectrum_xyz(|nm| interp(reflectance, nm) * interp(light, nm)) / white.y
}

/// Linear sRGB of a reflectance spectrum under D65.
pub fn reflectance_linear_srgb(reflectance: &[f64; WAVELENGTHS]) -> Vec3 {
    let xyz = reflectance_xyz_under(reflectance, &D65);
    (crate::lighting::color::XYZ_TO_SRGB * xyz).as_vec3()
}

/// Linear sRGB of a reflectance under a black body of `kelvin` seen by a camera balanced to it
/// (Bradford), so indoor presets can be compared with daylight.
pub fn reflectance_linear_srgb_under_kelvin(reflectance: &[f64; WAVELENGTHS], kelvin: f64) -> Vec3 {
    let light: [f64; WAVELENGTHS] =
        std::array::from_fn(|i| crate::lighting::color::planck(wavelength_nm(i), kelvin));
    let xyz = reflectance_xyz_under(reflectance, &light);
    let white = reflectance_xyz_under(&[1.0; WAVELENGTHS], &light);
    let adapt = crate::lighting::color::bradford_adaptation(white, crate::lighting::color::D65_XYZ);
    (crate::lighting::color::XYZ_TO_SRGB * (adapt * xyz)).as_vec3()
}

/// CIEDE2000 colour difference of two CIELAB colours ([`crate::lighting::color::ciede2000`]).
pub fn ciede2000(lab1: [f32; 3], lab2: [f32; 3]) -> f32 {
    crate::lighting::color::ciede2000(lab1.map(f64::from), lab2.map(f64::from)) as f32
}
