//! Colour science for lights: the colour of a black body at a temperature (Planck's law
//! integrated against the CIE 1931 2° colour matching functions), XYZ ↔ linear sRGB, and
//! Bradford chromatic adaptation (white balance).
//!
//! Everything here is plain `f64` math on the CPU, done once per frame or per preset.

use glam::{DMat3, DVec3, Mat3, Vec3};

/// First wavelength of [`CIE1931_CMF`] (nm).
const CMF_START_NM: f64 = 380.0;
/// Spacing of [`CIE1931_CMF`] (nm).
const CMF_STEP_NM: f64 = 5.0;

/// The CIE 1931 2° standard observer, x̄ ȳ z̄ from 380 to 780 nm in 5 nm steps
/// (CIE 15:2004, table T.4).
#[rustfmt::skip]
const CIE1931_CMF: [[f64; 3]; 81] = [
    [0.001368, 0.000039, 0.006450], [0.002236, 0.000064, 0.010550], [0.004243, 0.000120, 0.020050],
    [0.007650, 0.000217, 0.036210], [0.014310, 0.000396, 0.067850], [0.023190, 0.000640, 0.110200],
    [0.043510, 0.001210, 0.207400], [0.077630, 0.002180, 0.371300], [0.134380, 0.004000, 0.645600],
    [0.214770, 0.007300, 1.039050], [0.283900, 0.011600, 1.385600], [0.328500, 0.016840, 1.622960],
    [0.348280, 0.023000, 1.747060], [0.348060, 0.029800, 1.782600], [0.336200, 0.038000, 1.772110],
    [0.318700, 0.048000, 1.744100], [0.290800, 0.060000, 1.669200], [0.251100, 0.073900, 1.528100],
    [0.195360, 0.090980, 1.287640], [0.142100, 0.112600, 1.041900], [0.095640, 0.139020, 0.812950],
    [0.058010, 0.169300, 0.616200], [0.032010, 0.208020, 0.465180], [0.014700, 0.258600, 0.353300],
    [0.004900, 0.323000, 0.272000], [0.002400, 0.407300, 0.212300], [0.009300, 0.503000, 0.158200],
    [0.029100, 0.608200, 0.111700], [0.063270, 0.710000, 0.078250], [0.109600, 0.793200, 0.057250],
    [0.165500, 0.862000, 0.042160], [0.225750, 0.914850, 0.029840], [0.290400, 0.954000, 0.020300],
    [0.359700, 0.980300, 0.013400], [0.433450, 0.994950, 0.008750], [0.512050, 1.000000, 0.005750],
    [0.594500, 0.995000, 0.003900], [0.678400, 0.978600, 0.002750], [0.762100, 0.952000, 0.002100],
    [0.842500, 0.915400, 0.001800], [0.916300, 0.870000, 0.001650], [0.978600, 0.816300, 0.001400],
    [1.026300, 0.757000, 0.001100], [1.056700, 0.694900, 0.001000], [1.062200, 0.631000, 0.000800],
    [1.045600, 0.566800, 0.000600], [1.002600, 0.503000, 0.000340], [0.938400, 0.441200, 0.000240],
    [0.854450, 0.381000, 0.000190], [0.751400, 0.321000, 0.000100], [0.642400, 0.265000, 0.000050],
    [0.541900, 0.217000, 0.000030], [0.447900, 0.175000, 0.000020], [0.360800, 0.138200, 0.000010],
    [0.283500, 0.107000, 0.000000], [0.218700, 0.081600, 0.000000], [0.164900, 0.061000, 0.000000],
    [0.121200, 0.044580, 0.000000], [0.087400, 0.032000, 0.000000], [0.063600, 0.023200, 0.000000],
    [0.046770, 0.017000, 0.000000], [0.032900, 0.011920, 0.000000], [0.022700, 0.008210, 0.000000],
    [0.015840, 0.005723, 0.000000], [0.011359, 0.004102, 0.000000], [0.008111, 0.002929, 0.000000],
    [0.005790, 0.002091, 0.000000], [0.004109, 0.001484, 0.000000], [0.002899, 0.001047, 0.000000],
    [0.002049, 0.000740, 0.000000], [0.001440, 0.000520, 0.000000], [0.001000, 0.000361, 0.000000],
    [0.000690, 0.000249, 0.000000], [0.000476, 0.000172, 0.000000], [0.000332, 0.000120, 0.000000],
    [0.000235, 0.000085, 0.000000], [0.000166, 0.000060, 0.000000], [0.000117, 0.000042, 0.000000],
    [0.000083, 0.000030, 0.000000], [0.000059, 0.000021, 0.000000], [0.000042, 0.000015, 0.000000],
];

/// Second radiation constant c₂ = h·c/k (m·K), as the CIE uses it (ITS-90).
const PLANCK_C2: f64 = 1.4388e-2;

/// Temperatures [`blackbody_xyz`] accepts; outside them the colour is that of the nearest end.
pub const KELVIN_RANGE: std::ops::RangeInclusive<f32> = 1000.0..=40000.0;

/// CIE XYZ of the sRGB / Rec. 709 white, D65 (Y = 1).
pub const D65_XYZ: DVec3 = DVec3::new(0.95047, 1.0, 1.08883);

/// Linear sRGB (D65) → CIE XYZ (IEC 61966-2-1). Column-major, as glam stores it.
pub const SRGB_TO_XYZ: DMat3 = DMat3::from_cols(
    DVec3::new(0.4124564, 0.2126729, 0.0193339),
    DVec3::new(0.3575761, 0.7151522, 0.1191920),
    DVec3::new(0.1804375, 0.0721750, 0.9503041),
);

/// CIE XYZ → linear sRGB (D65).
pub const XYZ_TO_SRGB: DMat3 = DMat3::from_cols(
    DVec3::new(3.2404542, -0.9692660, 0.0556434),
    DVec3::new(-1.5371385, 1.8760108, -0.2040259),
    DVec3::new(-0.4985314, 0.0415560, 1.0572252),
);

/// XYZ → Bradford "cone" space (Lam 1985), the usual basis for von Kries adaptation.
const BRADFORD: DMat3 = DMat3::from_cols(
    DVec3::new(0.8951, -0.7502, 0.0389),
    DVec3::new(0.2664, 1.7135, -0.0685),
    DVec3::new(-0.1614, 0.0367, 1.0296),
);

/// Spectral radiance of a black body at `kelvin`, up to a constant factor (Planck's law; the
/// factor cancels because colours are normalised).
pub fn planck(wavelength_nm: f64, kelvin: f64) -> f64 {
    let lambda_m = wavelength_nm * 1e-9;
    1.0 / (lambda_m.powi(5) * ((PLANCK_C2 / (lambda_m * kelvin)).exp() - 1.0))
}

/// CIE XYZ of any spectrum given as a function of wavelength (nm), by the trapezoid rule over
/// the colour matching functions (whose ends are zero to six decimals, so it is a plain sum).
pub fn spectrum_xyz(spectrum: impl Fn(f64) -> f64) -> DVec3 {
    CIE1931_CMF
        .iter()
        .enumerate()
        .fold(DVec3::ZERO, |acc, (i, cmf)| {
            let s = spectrum(CMF_START_NM + CMF_STEP_NM * i as f64);
            acc + DVec3::from_array(*cmf) * s
        })
        * CMF_STEP_NM
}

/// CIE XYZ of a black body at `kelvin`, normalised to Y = 1.
pub fn blackbody_xyz(kelvin: f32) -> DVec3 {
    let t = kelvin.clamp(*KELVIN_RANGE.start(), *KELVIN_RANGE.end()) as f64;
    let xyz = spectrum_xyz(|nm| planck(nm, t));
    xyz / xyz.y
}

/// CIE 1931 (x, y) chromaticity of a black body at `kelvin`.
pub fn blackbody_chromaticity(kelvin: f32) -> (f64, f64) {
    xyz_chromaticity(blackbody_xyz(kelvin))
}

pub fn xyz_chromaticity(xyz: DVec3) -> (f64, f64) {
    let s = xyz.x + xyz.y + xyz.z;
    (xyz.x / s, xyz.y / s)
}

/// Relative luminance of a linear sRGB colour (the Y row of [`SRGB_TO_XYZ`]).
pub fn luminance(rgb: Vec3) -> f32 {
    0.2126729 * rgb.x + 0.7151522 * rgb.y + 0.0721750 * rgb.z
}

/// The colour of a black body at `kelvin` in linear sRGB, normalised to luminance 1 (so that a
/// light's illuminance in lux times this colour is its photometrically correct RGB).
/// Below about 1,900 K the black body lies outside the sRGB gamut; negative channels are
/// clipped to zero and the luminance renormalised.
pub fn kelvin_to_linear_srgb(kelvin: f32) -> Vec3 {
    let rgb = (XYZ_TO_SRGB * blackbody_xyz(kelvin))
        .max(DVec3::ZERO)
        .as_vec3();
    rgb / luminance(rgb).max(1e-6)
}

/// A linear sRGB colour as CIE XYZ.
pub fn linear_srgb_to_xyz(rgb: Vec3) -> DVec3 {
    SRGB_TO_XYZ * rgb.as_dvec3()
}

/// Bradford (von Kries in a sharpened cone space) adaptation from a scene lit by `source`
/// white to one lit by `destination` white, both CIE XYZ: an XYZ → XYZ matrix that maps the
/// source white to the destination white.
pub fn bradford_adaptation(source: DVec3, destination: DVec3) -> DMat3 {
    let s = BRADFORD * source;
    let d = BRADFORD * destination;
    BRADFORD.inverse() * DMat3::from_diagonal(d / s) * BRADFORD
}

/// The white balance a camera applies when it treats `white_linear_srgb` (any luminance) as
/// white: a linear sRGB → linear sRGB matrix that maps it to neutral grey of the same
/// luminance. Von Kries scaling in the renderer's own primaries: the renderer forms colour as
/// albedo × light channel by channel in linear sRGB, so dividing by the white channel by
/// channel is the exact inverse, and under a single light every surface comes out in its own
/// albedo (skin as its swatch). [`bradford_white_balance_matrix`], the usual choice for
/// measured spectra, would tint skin pink under a 2,700 K lamp here, because its sharpened cone
/// space does not match how the colour was formed.
pub fn white_balance_matrix(white_linear_srgb: Vec3) -> Mat3 {
    let w = white_linear_srgb.max(Vec3::splat(1e-6));
    Mat3::from_diagonal(Vec3::splat(luminance(w)) / w)
}

/// White balance by Bradford adaptation of `white_linear_srgb` to D65 (sRGB's white), as a
/// linear sRGB → linear sRGB matrix; luminance of the white is kept.
pub fn bradford_white_balance_matrix(white_linear_srgb: Vec3) -> Mat3 {
    let src = linear_srgb_to_xyz(white_linear_srgb);
    let src = src / src.y.max(1e-9);
    (XYZ_TO_SRGB * bradford_adaptation(src, D65_XYZ) * SRGB_TO_XYZ).as_mat3()
}

/// Correlated colour temperature of an XYZ colour by McCamy's cubic (good to a few kelvin
/// between 2,000 and 12,500 K near the Planckian locus). For labels and tests.
pub fn mccamy_cct(xyz: DVec3) -> f64 {
    let (x, y) = xyz_chromaticity(xyz);
    let n = (x - 0.3320) / (0.1858 - y);
    449.0 * n.powi(3) + 3525.0 * n.powi(2) + 6823.3 * n + 5520.33
}

/// CIEDE2000 colour difference of two CIELAB colours (Sharma, Wu & Dalal 2005, Color Res.
/// Appl. 30:21): what the tests and the optics figures measure colour agreement with.
pub fn ciede2000(lab1: [f64; 3], lab2: [f64; 3]) -> f64 {
    let [l1, a1, b1] = lab1;
    let [l2, a2, b2] = lab2;
    let pow7 = |v: f64| v.powi(7);
    let c_bar = 0.5 * ((a1 * a1 + b1 * b1).sqrt() + (a2 * a2 + b2 * b2).sqrt());
    let g = 0.5 * (1.0 - (pow7(c_bar) / (pow7(c_bar) + pow7(25.0))).sqrt());
    let (a1p, a2p) = ((1.0 + g) * a1, (1.0 + g) * a2);
    let (c1p, c2p) = ((a1p * a1p + b1 * b1).sqrt(), (a2p * a2p + b2 * b2).sqrt());
    let hue = |b: f64, a: f64| {
        if a == 0.0 && b == 0.0 {
            0.0
        } else {
            let h = b.atan2(a).to_degrees();
            if h < 0.0 { h + 360.0 } else { h }
        }
    };
    let (h1p, h2p) = (hue(b1, a1p), hue(b2, a2p));
    let dl = l2 - l1;
    let dc = c2p - c1p;
    let dh = if c1p * c2p == 0.0 {
        0.0
    } else if (h2p - h1p).abs() <= 180.0 {
        h2p - h1p
    } else if h2p - h1p > 180.0 {
        h2p - h1p - 360.0
    } else {
        h2p - h1p + 360.0
    };
    let dhh = 2.0 * (c1p * c2p).sqrt() * (dh.to_radians() / 2.0).sin();
    let l_bar = 0.5 * (l1 + l2);
    let cp_bar = 0.5 * (c1p + c2p);
    let hp_bar = if c1p * c2p == 0.0 {
        h1p + h2p
    } else if (h1p - h2p).abs() <= 180.0 {
        0.5 * (h1p + h2p)
    } else if h1p + h2p < 360.0 {
        0.5 * (h1p + h2p + 360.0)
    } else {
        0.5 * (h1p + h2p - 360.0)
    };
    let t = 1.0 - 0.17 * (hp_bar - 30.0).to_radians().cos()
        + 0.24 * (2.0 * hp_bar).to_radians().cos()
        + 0.32 * (3.0 * hp_bar + 6.0).to_radians().cos()
        - 0.20 * (4.0 * hp_bar - 63.0).to_radians().cos();
    let d_theta = 30.0 * (-((hp_bar - 275.0) / 25.0).powi(2)).exp();
    let rc = 2.0 * (pow7(cp_bar) / (pow7(cp_bar) + pow7(25.0))).sqrt();
    let sl = 1.0 + 0.015 * (l_bar - 50.0).powi(2) / (20.0 + (l_bar - 50.0).powi(2)).sqrt();
    let sc = 1.0 + 0.045 * cp_bar;
    let sh = 1.0 + 0.015 * cp_bar * t;
    let rt = -(2.0 * d_theta).to_radians().sin() * rc;
    ((dl / sl).powi(2) + (dc / sc).powi(2) + (dhh / sh).powi(2) + rt * (dc / sc) * (dhh / sh))
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kang et al. (2002): a cubic-spline fit of the Planckian locus, independent of the table.
    fn kang_locus(t: f64) -> (f64, f64) {
        let x = if t <= 4000.0 {
            -0.2661239e9 / t.powi(3) - 0.2343589e6 / t.powi(2) + 0.8776956e3 / t + 0.179910
        } else {
            -3.0258469e9 / t.powi(3) + 2.1070379e6 / t.powi(2) + 0.2226347e3 / t + 0.240390
        };
        let y = if t <= 2222.0 {
            -1.1063814 * x.powi(3) - 1.34811020 * x.powi(2) + 2.18555832 * x - 0.20219683
        } else if t <= 4000.0 {
            -0.9549476 * x.powi(3) - 1.37418593 * x.powi(2) + 2.09137015 * x - 0.16748867
        } else {
            3.0817580 * x.powi(3) - 5.87338670 * x.powi(2) + 3.75112997 * x - 0.37001483
        };
        (x, y)
    }

    #[test]
    fn blackbody_follows_the_planckian_locus() {
        for t in [
            1700.0, 2000.0, 2700.0, 3000.0, 4000.0, 5000.0, 5500.0, 6500.0, 10000.0, 20000.0,
        ] {
            let (x, y) = blackbody_chromaticity(t as f32);
            let (kx, ky) = kang_locus(t);
            assert!(
                (x - kx).abs() < 1.5e-3 && (y - ky).abs() < 1.5e-3,
                "{t} K: ({x:.4}, {y:.4}) vs Kang ({kx:.4}, {ky:.4})"
            );
        }
    }

    #[test]
    fn known_blackbody_chromaticities() {
        // Published Planckian locus points (CIE 1931 2°).
        for (t, ex, ey) in [
            (2700.0, 0.4599, 0.4106),
            (4000.0, 0.3805, 0.3768),
            (6504.0, 0.3135, 0.3237),
        ] {
            let (x, y) = blackbody_chromaticity(t);
            assert!(
                (x - ex).abs() < 1e-3 && (y - ey).abs() < 1e-3,
                "{t} K: ({x:.4}, {y:.4}), expected ({ex}, {ey})"
            );
        }
    }

    #[test]
    fn equal_energy_white_is_at_the_centre() {
        let (x, y) = xyz_chromaticity(spectrum_xyz(|_| 1.0));
        assert!(
            (x - 1.0 / 3.0).abs() < 2e-3 && (y - 1.0 / 3.0).abs() < 2e-3,
            "({x}, {y})"
        );
    }

    #[test]
    fn d65ish_black_body_is_near_white_and_2700k_is_warm() {
        let c = kelvin_to_linear_srgb(6504.0);
        assert!((luminance(c) - 1.0).abs() < 1e-4);
        assert!(
            c.max_element() < 1.08 && c.min_element() > 0.92,
            "6504 K: {c}"
        );
        let w = kelvin_to_linear_srgb(2700.0);
        assert!(w.x > w.y && w.y > w.z && w.z / w.x < 0.35, "2700 K: {w}");
        let cool = kelvin_to_linear_srgb(12000.0);
        assert!(cool.z > cool.y && cool.y > cool.x, "12000 K: {cool}");
    }

    #[test]
    fn srgb_matrices_are_inverse_and_d65_is_white() {
        let i = XYZ_TO_SRGB * SRGB_TO_XYZ;
        assert!(i.abs_diff_eq(DMat3::IDENTITY, 1e-6), "{i}");
        let w = XYZ_TO_SRGB * D65_XYZ;
        assert!(w.abs_diff_eq(DVec3::ONE, 1e-3), "{w}");
    }

    #[test]
    fn white_balance_maps_the_white_to_grey() {
        for t in [2700.0, 4000.0, 5500.0, 9000.0] {
            let c = kelvin_to_linear_srgb(t);
            for m in [
                white_balance_matrix(c * 3.0),
                bradford_white_balance_matrix(c * 3.0),
            ] {
                let out = m * (c * 0.5);
                assert!(
                    (out - Vec3::splat(0.5)).abs().max_element() < 2e-3,
                    "{t} K: {out}"
                );
            }
            // Von Kries in the rendering primaries gives back any albedo lit by that white.
            let skin = Vec3::new(0.68, 0.37, 0.24);
            let out = white_balance_matrix(c) * (skin * c);
            assert!((out - skin).abs().max_element() < 1e-5, "{t} K: {out}");
        }
        // Bradford moves the same skin under a 2,700 K lamp toward magenta.
        let c = kelvin_to_linear_srgb(2700.0);
        let skin = Vec3::new(0.68, 0.37, 0.24);
        let b = bradford_white_balance_matrix(c) * (skin * c);
        assert!(b.x / b.y > 1.1 * skin.x / skin.y, "{b}");
    }

    #[test]
    fn mccamy_recovers_the_temperature() {
        for t in [2700.0f32, 4000.0, 6500.0] {
            let cct = mccamy_cct(blackbody_xyz(t));
            assert!((cct - t as f64).abs() < 0.01 * t as f64, "{t} K: {cct}");
        }
    }
}
