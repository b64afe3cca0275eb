//! Pigment optics: how a dot of diluted carbon black at some depth looks through skin.
//!
//! A model, not a measurement. A dot darkens the skin under it by a factor per RGB channel
//! ("darkening", 0 = invisible, 1 = black). Carbon black's own absorption is flat across the
//! spectrum; what makes SMP read blue-grey is the skin above it: short wavelengths scatter
//! back out of the epidermis and papillary dermis before they reach the pigment, so the
//! pigment takes less blue than red out of the remitted light (the Tyndall effect in the brief).
//! The deeper the pigment, the stronger the veil: lighter, cooler, softer-edged.

pub mod ageing;

use glam::Vec3;

/// Optical density of undiluted carbon black in a healed impression (shade 1 → 95% opaque).
const DENSITY_PER_SHADE: f32 = 3.0;

/// Mean free path (mm) of remitted light per channel before the pigment's depth stops
/// mattering: red reaches deepest, blue least. Chosen so pigment at 0.35 mm reads neutral to
/// cool grey and blowouts at 1 mm and more read clearly blue.
pub const VEIL_DEPTH_MM: Vec3 = Vec3::new(1.6, 1.15, 0.8);

/// Edge softening per mm of depth: scattering spreads the dot's edge.
const EDGE_MM_PER_DEPTH_MM: f32 = 0.12;

/// Light diffuses sideways in the dermis before it leaves the skin, so pigment also darkens a
/// soft halo around the sharp core a practitioner sees (the core is the brief's 0.1 mm; the
/// halo is what makes a treated scalp read as a shaved-head shadow from a metre away). The
/// halo is a Gaussian whose width grows with depth; its peak is this fraction of the core's.
pub const HALO_STRENGTH: f32 = 0.8;
const HALO_SIGMA_MM_AT_SURFACE: f32 = 0.12;
const HALO_SIGMA_MM_PER_DEPTH_MM: f32 = 0.35;

/// Deepest placement (mm) that still gives the planned dot: the brief's upper to mid papillary
/// dermis, 0.25-0.5 mm. Deeper, pigment spreads sideways along the looser reticular dermis and
/// the dot reads larger (the brief: "deeper placement gives larger, blurred dots").
pub const WELL_PLACED_DEPTH_MM: f32 = 0.5;
/// Extra apparent diameter (mm) per mm placed deeper than [`WELL_PLACED_DEPTH_MM`]: a 0.12 mm
/// dot placed at 1 mm reads about 0.25 mm across.
pub const SPREAD_MM_PER_MM: f32 = 0.25;

/// How the practitioner's hand drives the needle: with the needle itself (the plan's
/// `Needle`, 1 or 3 points, per zone) it makes the footprint an irregular spot, never a
/// perfect disc. A model: the shape is a disc whose radius varies with the angle round it by
/// a few low harmonics, their phases random per dot (hashed from its position, so
/// deterministic).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NeedleHand {
    /// Tilt of the needle from the skin's normal (degrees): a tilted entry stretches the dot.
    pub angle_deg: f32,
    /// 0 = light, 1 = heavy hand: more pressure, more size jitter and a more ragged edge.
    pub pressure: f32,
}

impl Default for NeedleHand {
    fn default() -> Self {
        Self {
            angle_deg: 15.0,
            pressure: 0.5,
        }
    }
}

impl NeedleHand {
    /// Harmonic amplitudes of the footprint's radius (relative) of a needle with `points`
    /// points (1 or 3): [elongation (2nd), trefoil (3rd), raggedness (5th and 7th), size
    /// jitter (per dot, +-)].
    pub fn shape(&self, points: u8) -> [f32; 4] {
        let tilt = self.angle_deg.clamp(0.0, 60.0).to_radians();
        // A round needle entering at `tilt` leaves an ellipse with axes 1 and 1/cos(tilt).
        let elongation = 0.5 * (1.0 / tilt.cos() - 1.0);
        let trefoil = if points >= 3 { 0.13 } else { 0.0 };
        let p = self.pressure.clamp(0.0, 1.0);
        [elongation, trefoil, 0.04 + 0.06 * p, 0.04 + 0.08 * p]
    }
}

/// How a single dot looks from the surface.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DotAppearance {
    /// Fraction of the skin's remitted light the pigment removes, per linear-RGB channel.
    pub darkening: Vec3,
    /// Width of the soft edge (mm): the disc's profile falls from 1 to 0 over twice this.
    pub edge_mm: f32,
    /// Standard deviation of the scattering halo (mm); its peak is `HALO_STRENGTH` x darkening.
    pub halo_sigma_mm: f32,
    /// How much wider than planned the dot reads (mm), from placement deeper than
    /// [`WELL_PLACED_DEPTH_MM`].
    pub spread_mm: f32,
}

impl DotAppearance {
    /// Area-equivalent footprint (mm²) of a dot of this diameter: core disc plus halo. A dot
    /// darkens the skin by `darkening` over this much area in all, at any viewing distance.
    pub fn footprint_mm2(&self, diameter_mm: f32) -> f32 {
        footprint_mm2(
            0.5 * self.apparent_diameter_mm(diameter_mm),
            self.halo_sigma_mm,
        )
    }

    /// The diameter a dot planned at `diameter_mm` reads at from the surface (its core).
    pub fn apparent_diameter_mm(&self, diameter_mm: f32) -> f32 {
        diameter_mm + self.spread_mm
    }
}

/// Area-equivalent footprint (mm²) of a core of `core_radius_mm` with a halo of
/// `halo_sigma_mm`: the disc plus the Gaussian's volume at `HALO_STRENGTH` of the peak.
pub fn footprint_mm2(core_radius_mm: f32, halo_sigma_mm: f32) -> f32 {
    std::f32::consts::PI
        * (core_radius_mm * core_radius_mm + HALO_STRENGTH * 2.0 * halo_sigma_mm * halo_sigma_mm)
}

/// Appearance of a dot of the given shade (0-1 concentration) placed `depth_mm` deep.
pub fn appearance(shade: f32, depth_mm: f32) -> DotAppearance {
    let opacity = 1.0 - (-DENSITY_PER_SHADE * shade.clamp(0.0, 1.0)).exp();
    let depth = depth_mm.max(0.0);
    let veil = Vec3::new(
        (-depth / VEIL_DEPTH_MM.x).exp(),
        (-depth / VEIL_DEPTH_MM.y).exp(),
        (-depth / VEIL_DEPTH_MM.z).exp(),
    );
    DotAppearance {
        darkening: opacity * veil,
        edge_mm: EDGE_MM_PER_DEPTH_MM * depth,
        halo_sigma_mm: HALO_SIGMA_MM_AT_SURFACE + HALO_SIGMA_MM_PER_DEPTH_MM * depth,
        spread_mm: SPREAD_MM_PER_MM * (depth - WELL_PLACED_DEPTH_MM).max(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deeper_is_lighter_and_cooler() {
        let shallow = appearance(0.8, 0.3);
        let deep = appearance(0.8, 1.0);
        assert!(deep.darkening.length() < shallow.darkening.length());
        // Cooler: relative to red, less blue is removed.
        assert!(deep.darkening.z / deep.darkening.x < shallow.darkening.z / shallow.darkening.x);
        assert!(deep.edge_mm > shallow.edge_mm);
        assert!(deep.halo_sigma_mm > shallow.halo_sigma_mm);
    }

    #[test]
    fn more_pigment_is_darker() {
        assert!(appearance(1.0, 0.35).darkening.x > appearance(0.4, 0.35).darkening.x);
        assert_eq!(appearance(0.0, 0.35).darkening, Vec3::ZERO);
    }
}
