//! Colour measurement for the tests: CIE L*a*b* and the CIEDE2000 difference.

use glam::Vec3;

/// Linear sRGB → CIE L*a*b* (D65), through the library's own conversion.
pub fn linear_to_lab(c: [f64; 3]) -> [f64; 3] {
    let l = stipple::skin::linear_srgb_to_lab(Vec3::new(c[0] as f32, c[1] as f32, c[2] as f32));
    [l[0] as f64, l[1] as f64, l[2] as f64]
}

/// sRGB 8-bit → CIE L*a*b* (D65).
pub fn srgb8_to_lab(rgb: [f64; 3]) -> [f64; 3] {
    linear_to_lab(rgb.map(|c| stipple::scene::srgb_to_linear((c / 255.0) as f32) as f64))
}

/// CIEDE2000 colour difference: the library's one ([`stipple::lighting::color::ciede2000`]).
pub fn ciede2000(lab1: [f64; 3], lab2: [f64; 3]) -> f64 {
    stipple::lighting::color::ciede2000(lab1, lab2)
}
