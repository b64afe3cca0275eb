//! The client's skin tone, measured on their scan: the mean colour of a forehead patch, in
//! CIELAB and as an ITA / Fitzpatrick class, the way a colorimeter reading is reported.

use super::Head;
use glam::Vec3;

/// A skin tone measured on a scan's colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScanSkinTone {
    /// Mean of the patch, linear sRGB.
    pub albedo_linear: Vec3,
    /// CIELAB (D65).
    pub lab: [f32; 3],
    /// Individual Typology Angle (degrees).
    pub ita_deg: f32,
    /// Fitzpatrick type from the ITA class ("I" ... "VI").
    pub fitzpatrick: &'static str,
    /// Forehead area the mean is taken over (cm²).
    pub patch_cm2: f32,
}

impl ScanSkinTone {
    /// "#rrggbb" of the measured colour, as `client.skin` would take it.
    pub fn srgb_hex(&self) -> String {
        let enc = |v: f32| (crate::scene::linear_to_srgb(v) * 255.0).round() as u8;
        let c = self.albedo_linear;
        format!("#{:02x}{:02x}{:02x}", enc(c.x), enc(c.y), enc(c.z))
    }
}

/// Fitzpatrick type from an ITA (degrees): the classes of Chardon et al. (1991) as Del Bino
/// et al. (2006) matched them to types I-VI (very light > 55°, light 41-55°, intermediate
/// 28-41°, tan 10-28°, brown -30-10°, dark < -30°); see `crate::skin::FITZPATRICK_LAB`.
pub fn fitzpatrick_from_ita(ita_deg: f32) -> &'static str {
    match ita_deg {
        a if a > 55.0 => "I",
        a if a > 41.0 => "II",
        a if a > 28.0 => "III",
        a if a > 10.0 => "IV",
        a if a > -30.0 => "V",
        _ => "VI",
    }
}

/// The patch: forehead skin 15-45 mm above the glabella, within 25 mm of the midline, facing
/// forward: above the brows, below where a hairline starts on nearly every adult, clear of the
/// temples' shadowed turn.
const PATCH_ABOVE_GLABELLA_MM: (f32, f32) = (15.0, 45.0);
const PATCH_HALF_WIDTH_MM: f32 = 25.0;

/// The scan's forehead colour, or None for a head without colours of its own (or without a
/// forehead where the landmarks put it).
pub fn measure(head: &Head) -> Option<ScanSkinTone> {
    let mesh = &head.mesh;
    if !mesh.has_scan_colour() {
        return None;
    }
    let g = head.landmarks.glabella;
    // Barycentric sample points: centroid and three inner points.
    let samples = [
        Vec3::splat(1.0 / 3.0),
        Vec3::new(0.6, 0.2, 0.2),
        Vec3::new(0.2, 0.6, 0.2),
        Vec3::new(0.2, 0.2, 0.6),
    ];
    let mut sum = Vec3::ZERO;
    let mut area = 0.0f32;
    for t in 0..mesh.triangle_count() {
        let [a, b, c] = mesh.triangle(t);
        let centre = (a + b + c) / 3.0;
        let up = centre.y - g.y;
        if !(PATCH_ABOVE_GLABELLA_MM.0..PATCH_ABOVE_GLABELLA_MM.1).contains(&up)
            || (centre.x - g.x).abs() > PATCH_HALF_WIDTH_MM
            || centre.z < g.z - 40.0
        {
            continue;
        }
        let n = (b - a).cross(c - a);
        let a2 = n.length();
        if a2 <= 0.0 || n.z / a2 < 0.3 {
            continue;
        }
        let w = 0.5 * a2 / samples.len() as f32;
        for s in samples {
            if let Some(col) = mesh.scan_colour_at(t, s) {
                sum += col * w;
                area += w;
            }
        }
    }
    if area < 50.0 {
        return None;
    }
    let albedo_linear = sum / area;
    let lab = crate::skin::linear_srgb_to_lab(albedo_linear);
    let ita_deg = crate::skin::ita_deg(lab);
    Some(ScanSkinTone {
        albedo_linear,
        lab,
        ita_deg,
        fitzpatrick: fitzpatrick_from_ita(ita_deg),
        patch_cm2: area / 100.0,
    })
}
