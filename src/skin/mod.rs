//! Skin: colour presets from published measurements, and the CPU side of the skin shading model
//! (the pre-integrated scattering table the shade pass samples, and its reference maths).
//!
//! A model, not a measurement, except where a source is named.

use glam::Vec3;

/// Fitzpatrick skin types I-VI as CIELAB colours (D65), the way skin colour is measured with a
/// reflectance colorimeter. Fitzpatrick typing is a questionnaire about sunburn, not a colour;
/// the accepted colorimetric proxy is the Individual Typology Angle, ITA = atan((L* - 50)/b*)
/// (Chardon et al. 1991, Int J Cosmet Sci 13:191), whose classes very light > 55°, light
/// 41-55°, intermediate 28-41°, tan 10-28°, brown -30-10°, dark < -30° Del Bino et al. (2006,
/// Pigment Cell Res 19:606) measured on 2,000+ subjects and matched to Fitzpatrick I-VI. Each
/// preset is a colour inside its ITA class with L*, a*, b* typical of those measurements
/// (a* 8-12, b* 12-20); the ITA each gives is checked by a unit test.
pub const FITZPATRICK_LAB: [(&str, [f32; 3]); 6] = [
    ("I", [72.0, 8.0, 13.0]),
    ("II", [65.0, 10.0, 16.0]),
    ("III", [61.0, 11.0, 18.0]),
    ("IV", [54.0, 12.0, 20.0]),
    ("V", [44.0, 12.0, 18.0]),
    ("VI", [33.0, 10.0, 12.0]),
];

/// The names scene files use: "fitzpatrick-I" ... "fitzpatrick-VI".
pub fn preset_names() -> Vec<String> {
    FITZPATRICK_LAB
        .iter()
        .map(|(n, _)| format!("fitzpatrick-{n}"))
        .collect()
}

/// The diffuse albedo (linear sRGB) of a Fitzpatrick preset ("fitzpatrick-III", case-insensitive
/// on the roman numeral), or None.
pub fn fitzpatrick_albedo(name: &str) -> Option<Vec3> {
    let roman = name.strip_prefix("fitzpatrick-")?;
    FITZPATRICK_LAB
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(roman))
        .map(|(_, lab)| lab_to_linear_srgb(*lab))
}

/// Individual Typology Angle (degrees) of a CIELAB colour.
pub fn ita_deg(lab: [f32; 3]) -> f32 {
    ((lab[0] - 50.0) / lab[2]).atan().to_degrees()
}

/// CIELAB (D65 white) to linear sRGB.
pub fn lab_to_linear_srgb(lab: [f32; 3]) -> Vec3 {
    let fy = (lab[0] + 16.0) / 116.0;
    let fx = fy + lab[1] / 500.0;
    let fz = fy - lab[2] / 200.0;
    let finv = |t: f32| {
        if t > 6.0 / 29.0 {
            t * t * t
        } else {
            3.0 * (6.0f32 / 29.0).powi(2) * (t - 4.0 / 29.0)
        }
    };
    let (x, y, z) = (0.95047 * finv(fx), finv(fy), 1.08883 * finv(fz));
    Vec3::new(
        3.2404542 * x - 1.5371385 * y - 0.4985314 * z,
        -0.969266 * x + 1.8760108 * y + 0.041556 * z,
        0.0556434 * x - 0.2040259 * y + 1.0572252 * z,
    )
    .max(Vec3::ZERO)
}

/// Linear sRGB to CIELAB (D65 white).
pub fn linear_srgb_to_lab(c: Vec3) -> [f32; 3] {
    let x = 0.4124564 * c.x + 0.3575761 * c.y + 0.1804375 * c.z;
    let y = 0.2126729 * c.x + 0.7151522 * c.y + 0.072175 * c.z;
    let z = 0.0193339 * c.x + 0.119192 * c.y + 0.9503041 * c.z;
    let f = |t: f32| {
        if t > 216.0 / 24389.0 {
            t.cbrt()
        } else {
            (24389.0 / 27.0 * t + 16.0) / 116.0
        }
    };
    let (fx, fy, fz) = (f(x / 0.95047), f(y), f(z / 1.08883));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// Diffusion profile of skin as a sum of Gaussians: (variance mm², weight R, G, B), fitted by
/// d'Eon, Luebke and Enderton (2007, "Efficient rendering of human skin", EGSR; GPU Gems 3
/// ch. 14) to the three-layer skin model. Each colour's weights sum to one (energy conserving).
pub const SKIN_PROFILE: [(f32, [f32; 3]); 6] = [
    (0.0064, [0.233, 0.455, 0.649]),
    (0.0484, [0.100, 0.336, 0.344]),
    (0.187, [0.118, 0.198, 0.0]),
    (0.567, [0.113, 0.007, 0.007]),
    (1.99, [0.358, 0.004, 0.0]),
    (7.41, [0.078, 0.0, 0.0]),
];

/// Pre-integrated skin table (Penner and Borshukov 2011, GPU Pro 2): columns are cos θ between
/// the normal and the light from -1 to 1, rows the surface curvature 1/r from 0 to
/// [`LUT_MAX_CURVATURE_PER_MM`]; each entry is the diffuse falloff per colour of a ring of radius
/// r lit at θ, blurred by [`SKIN_PROFILE`]. Flat skin gives Lambert's max(cos θ, 0); tight
/// curves (ears, the nose, the terminator on a shaved head) bleed red light into the shadow.
pub const LUT_COS_STEPS: usize = 64;
pub const LUT_CURVATURE_STEPS: usize = 32;
/// Tightest curvature tabulated (1/mm): a radius of 4 mm, an ear's rim.
pub const LUT_MAX_CURVATURE_PER_MM: f32 = 0.25;

/// One entry of the pre-integrated table (CPU reference of what the shader samples).
pub fn preintegrated_diffuse(cos_theta: f32, curvature_per_mm: f32) -> Vec3 {
    let theta = cos_theta.clamp(-1.0, 1.0).acos();
    if curvature_per_mm <= 1e-5 {
        return Vec3::splat(cos_theta.max(0.0));
    }
    let radius = 1.0 / curvature_per_mm;
    let steps = 256;
    let mut num = Vec3::ZERO;
    let mut den = Vec3::ZERO;
    for i in 0..steps {
        let x = -std::f32::consts::PI + (i as f32 + 0.5) * std::f32::consts::TAU / steps as f32;
        let dist = 2.0 * radius * (0.5 * x).sin().abs();
        let mut w = Vec3::ZERO;
        for (var, rgb) in SKIN_PROFILE {
            let g = (-dist * dist / (2.0 * var)).exp() / var;
            w += Vec3::from_array(rgb) * g;
        }
        num += w * (theta + x).cos().max(0.0);
        den += w;
    }
    num / den.max(Vec3::splat(1e-12))
}

/// The whole table, row-major (curvature rows, cos θ columns), RGBA with A = 1.
pub fn preintegrated_table() -> Vec<[f32; 4]> {
    let mut out = Vec::with_capacity(LUT_COS_STEPS * LUT_CURVATURE_STEPS);
    for j in 0..LUT_CURVATURE_STEPS {
        let k = LUT_MAX_CURVATURE_PER_MM * j as f32 / (LUT_CURVATURE_STEPS - 1) as f32;
        for i in 0..LUT_COS_STEPS {
            let c = -1.0 + 2.0 * i as f32 / (LUT_COS_STEPS - 1) as f32;
            let d = preintegrated_diffuse(c, k);
            out.push([d.x, d.y, d.z, 1.0]);
        }
    }
    out
}

/// How the skin looks, independent of the light.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SkinLook {
    pub albedo_linear: Vec3,
    /// GGX roughness: 0.35 reads as a freshly shaved, slightly oily scalp; 0.6 as matte.
    pub roughness: f32,
    /// Redness of freshly treated skin, 0-1 ([`crate::pigment::ageing::AgeingModel::redness`]).
    pub redness: f32,
    /// The scene names no skin colour: a scan with its own colours (texture or vertex colours)
    /// shows them as they are, and `albedo_linear` applies only to heads without any.
    pub albedo_from_scan: bool,
}

impl SkinLook {
    /// Skin of this albedo and roughness, healed (no redness).
    pub fn new(albedo_linear: Vec3, roughness: f32) -> Self {
        Self {
            albedo_linear,
            roughness,
            redness: 0.0,
            albedo_from_scan: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_fall_in_their_ita_class_and_get_darker() {
        let classes = [
            (55.0, 90.0),
            (41.0, 55.0),
            (28.0, 41.0),
            (10.0, 28.0),
            (-30.0, 10.0),
            (-90.0, -30.0),
        ];
        let mut last = f32::MAX;
        for ((name, lab), (lo, hi)) in FITZPATRICK_LAB.iter().zip(classes) {
            let ita = ita_deg(*lab);
            assert!((lo..hi).contains(&ita), "{name}: ITA {ita}");
            let a = fitzpatrick_albedo(&format!("fitzpatrick-{name}")).unwrap();
            let back = linear_srgb_to_lab(a);
            for c in 0..3 {
                assert!(
                    (back[c] - lab[c]).abs() < 0.05,
                    "{name}: {back:?} vs {lab:?}"
                );
            }
            let y = crate::lighting::color::luminance(a);
            assert!(y < last);
            last = y;
        }
        assert!(fitzpatrick_albedo("fitzpatrick-iii").is_some());
        assert!(fitzpatrick_albedo("fitzpatrick-VII").is_none());
    }

    #[test]
    fn preintegration_is_lambert_when_flat_and_reddens_the_terminator() {
        for c in [-0.5f32, 0.0, 0.3, 0.9] {
            let d = preintegrated_diffuse(c, 0.0);
            assert!((d.x - c.max(0.0)).abs() < 1e-6);
            // A gentle curve (a 100 mm skull) is still Lambert within 1% where lit.
            let g = preintegrated_diffuse(c, 0.01);
            if c > 0.2 {
                assert!((g.x / c - 1.0).abs() < 0.01, "{c}: {g}");
            }
        }
        // Tight curve, just past the terminator: red light scatters round, blue does not.
        let t = preintegrated_diffuse(-0.05, 0.2);
        assert!(t.x > 0.005 && t.x > 3.0 * t.z, "{t}");
    }
}

/// Shaved stubble where the client has hair (scaled by [`crate::plan::condition::ScalpState`]'s
/// hair fraction), and the hair under the skin that gives a shaved head its grey tint.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Stubble {
    /// Length above the skin (mm): 0-3 mm a few days after shaving (growth 0.35-0.42 mm/day).
    pub length_mm: f32,
    /// Hairs per cm² at full density (the brief: 120-260).
    pub density_per_cm2: f32,
    /// Shaft diameter (mm; the brief: 67-120 um, about 77 um on average).
    pub shaft_diameter_mm: f32,
}

impl Default for Stubble {
    fn default() -> Self {
        Self {
            length_mm: 0.5,
            density_per_cm2: 180.0,
            shaft_diameter_mm: 0.077,
        }
    }
}

/// Mean angle of a stubble shaft above the skin from the skin's normal. Shaved stubble stands
/// close to the normal with a slight random lean: the instanced shafts (`shaders/stubble.wgsl`)
/// lean by up to twice this, uniformly, so their mean projected length is
/// `length x` [`MEAN_SIN_TILT`].
pub const SHAFT_TILT_DEG: f32 = 20.0;
/// Mean of sin(tilt) over tilts uniform in 0..2 x [`SHAFT_TILT_DEG`]: (1 - cos 2t) / 2t.
pub const MEAN_SIN_TILT: f32 = 0.335_12;
/// Angle of the follicle below the skin from the skin's normal: scalp hair leaves the skin at
/// an acute angle, about 35 degrees to the surface (a model value; hair transplant surgeons
/// work with 20-45 degrees on the scalp), so a follicle seen from above is a streak.
pub const FOLLICLE_ANGLE_DEG: f32 = 55.0;
/// Depth to which a dark shaft continues below the skin (mm; the brief: about 4 mm).
pub const SHAFT_UNDER_SKIN_MM: f32 = 4.0;

/// Eumelanin volume fraction of dark (near-black) hair's cortex: the optics tables' dark hair
/// ([`crate::optics::spectra::mua_hair`], 0.1: a stopgap, no measurement found).
pub const DARK_HAIR_MELANIN: f32 = 0.1;
/// Luminance of dark hair at [`DARK_HAIR_MELANIN`]: the default hair colour's (linear sRGB
/// (0.024, 0.018, 0.016)).
const DARK_HAIR_LUMINANCE: f32 = 0.0189;

/// The eumelanin fraction of a hair of colour `hair` (linear sRGB), for the light-transport
/// tables. A stopgap: a shaft's colour is its melanin's attenuation, so the luminance is
/// taken as exp(-k melanin) through the default dark hair ([`DARK_HAIR_MELANIN`]); blond
/// (luminance 0.3) comes out near 0.03, white hair near 0.
pub fn hair_melanin(hair: Vec3) -> f32 {
    let y = crate::lighting::color::luminance(hair).clamp(1e-4, 1.0);
    DARK_HAIR_MELANIN * y.ln() / DARK_HAIR_LUMINANCE.ln()
}

impl Stubble {
    /// Fraction of the skin the shafts above it hide, seen along the normal, at full density:
    /// each shaft's cross-section plus its leaning length times its width.
    pub fn coverage(&self) -> f32 {
        let d = self.shaft_diameter_mm;
        let per_mm2 = self.density_per_cm2 / 100.0;
        let projected = self.length_mm * MEAN_SIN_TILT;
        (per_mm2 * d * (std::f32::consts::FRAC_PI_4 * d + projected)).min(1.0)
    }

    /// Darkening (per linear-RGB channel, as pigment darkens) of skin of albedo `skin` by hair
    /// of colour `hair` under the skin only, at full density.
    ///
    /// From the light-transport tables (`stipple optics bake`): a shaft of the table's
    /// diameter leaving the skin at [`FOLLICLE_ANGLE_DEG`] for [`SHAFT_UNDER_SKIN_MM`], its
    /// cortex holding the eumelanin [`hair_melanin`] gives the hair's colour, darkens an
    /// equivalent area of skin per channel ([`crate::optics::tables::Tables::hair`], moved
    /// onto this skin's colour). Hairs fall at random, so their shadows overlap as a Poisson
    /// field: 1 - exp(-density x area). (The table's shaft is 0.077 mm, the brief's average;
    /// another `shaft_diameter_mm` scales the area in proportion.)
    pub fn under_skin_darkening(&self, skin: Vec3, hair: Vec3) -> Vec3 {
        let t = crate::optics::tables::tables();
        let look = t
            .hair(
                crate::optics::tables::SkinClass::from_linear_srgb(skin),
                hair_melanin(hair),
            )
            .on_skin(skin);
        let area = look.equivalent_area_mm2 * (self.shaft_diameter_mm / t.hair.diameter_mm);
        let per_mm2 = self.density_per_cm2 / 100.0;
        let e = (-area.max(Vec3::ZERO) * per_mm2).exp();
        Vec3::ONE - e
    }

    /// Darkening (per linear-RGB channel) of skin of albedo `skin` by hair of colour `hair` at
    /// full density: the shafts above the skin hide [`Stubble::coverage`] of it (seen as the
    /// hair's colour) and the rest shows the hair under it ([`Stubble::under_skin_darkening`]).
    pub fn darkening(&self, skin: Vec3, hair: Vec3) -> Vec3 {
        let contrast = (Vec3::ONE - hair / skin.max(Vec3::splat(1e-4))).max(Vec3::ZERO);
        let above = self.coverage();
        (above * contrast + (1.0 - above) * self.under_skin_darkening(skin, hair)).min(Vec3::ONE)
    }
}

#[cfg(test)]
mod stubble_tests {
    use super::*;

    #[test]
    fn mean_sin_tilt_matches_its_definition() {
        let t = 2.0 * SHAFT_TILT_DEG.to_radians();
        assert!(((1.0 - t.cos()) / t - MEAN_SIN_TILT).abs() < 1e-4);
    }

    #[test]
    fn dark_stubble_is_a_clear_cool_shadow_and_blond_a_faint_one() {
        let skin = fitzpatrick_albedo("fitzpatrick-III").unwrap();
        let dark = Vec3::new(0.024, 0.018, 0.016);
        let s = Stubble::default();
        let d = s.darkening(skin, dark);
        let y = crate::lighting::color::luminance(skin * (Vec3::ONE - d))
            / crate::lighting::color::luminance(skin);
        eprintln!("dark stubble darkening {d}, luminance x{y:.3}");
        // A visible shadow that takes more red than blue. How much comes from the optics
        // tables: shafts 0.5 mm long hide about 3% of the skin, and the hair under the skin
        // darkens it by 5-7% on light skin (`stipple optics hair`).
        assert!((0.85..0.97).contains(&y), "{y}");
        assert!(d.x > d.z);
        let blond = Vec3::new(0.45, 0.33, 0.18);
        assert!(s.darkening(skin, blond).length() < 0.5 * d.length());
        // Longer stubble hides more skin.
        let long = Stubble {
            length_mm: 3.0,
            ..s
        };
        assert!(long.darkening(skin, dark).x > d.x);
    }
}
