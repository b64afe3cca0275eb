//! Pigment optics: how a healed SMP impression looks through skin.
//!
//! Not by eye: every dot's look comes from the light-transport reference (`src/optics`), baked
//! into tables by `stipple optics bake` ([`crate::optics::tables`]). A healed impression is a
//! column of carbon from the dermo-epidermal junction down to the needle's reach, as wide as
//! the planned dot (README, "Where carbon sits after healing"). The simulation gives, per skin
//! type, reach, width and strength, the darkening (1 - dot / bare skin) at each distance from
//! the dot's centre; whatever colour shift comes with depth is the simulation's. Here that
//! profile is moved onto the client's own skin colour ([`crate::optics::tables::Look::on_skin`])
//! and fitted by the shape `shaders/dots.wgsl` draws: a core disc of darkening
//! [`DotAppearance::core_darkening`] with a soft edge, and a Gaussian halo whose integral makes
//! the dot's total equal the simulated equivalent area, so the pigment map's far field (a
//! dot's footprint x its mean darkening) is the near field's average.

pub mod ageing;

use crate::optics::tables::{self, Look, SkinClass, locate};
use glam::Vec3;
use std::sync::{Arc, Mutex, OnceLock};

/// The pigment map's footprint counts the halo's Gaussian at full weight: a dot darkens its
/// skin by [`DotAppearance::darkening`] (its mean) over pi (r² + 2 sigma²)
/// ([`footprint_mm2`]). The drawn halo's peak is each dot's own ([`DotAppearance::halo_peak`]).
pub const HALO_STRENGTH: f32 = 1.0;

/// The brief's upper to mid papillary dermis, 0.25-0.5 mm: deeper than this the needle is
/// too deep ([`ageing`]'s blowout grows from here).
pub const WELL_PLACED_DEPTH_MM: f32 = 0.5;

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

/// How a single dot looks from the surface: the parameters of `shaders/dots.wgsl`'s profile.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DotAppearance {
    /// Mean darkening over the dot's footprint ([`footprint_mm2`]), per linear-RGB channel:
    /// what the pigment map holds (footprint x this = the simulated equivalent area).
    pub darkening: Vec3,
    /// Darkening of the core disc, per channel (the centre of a dot the pixel resolves, with
    /// the halo beneath it).
    pub core_darkening: Vec3,
    /// Radius of the core disc (mm).
    pub radius_mm: f32,
    /// Width of the core's soft edge (mm): its profile falls from 1 to 0 over twice this.
    pub edge_mm: f32,
    /// Standard deviation of the halo (mm): light that reaches the column sideways.
    pub halo_sigma_mm: f32,
}

impl DotAppearance {
    /// Area-equivalent footprint (mm²): core disc plus halo. The dot darkens the skin by
    /// `darkening` over this much area in all, at any viewing distance. (The planned diameter
    /// is already in the look; the argument is kept for callers.)
    pub fn footprint_mm2(&self, _planned_diameter_mm: f32) -> f32 {
        footprint_mm2(self.radius_mm, self.halo_sigma_mm)
    }

    /// The diameter the dot's core reads at from the surface.
    pub fn apparent_diameter_mm(&self, _planned_diameter_mm: f32) -> f32 {
        2.0 * self.radius_mm
    }

    /// The dot's equivalent black area per channel (mm²).
    pub fn equivalent_area_mm2(&self) -> Vec3 {
        self.darkening * footprint_mm2(self.radius_mm, self.halo_sigma_mm)
    }

    /// The halo's peak darkening, per channel: what is left of the equivalent area once the
    /// core disc has its share (as `shaders/dots.wgsl` computes it).
    pub fn halo_peak(&self) -> Vec3 {
        halo_peak(
            self.darkening,
            self.core_darkening,
            self.radius_mm,
            self.halo_sigma_mm,
        )
    }

    /// The drawn darkening at `s_mm` from the centre of a dot much larger than a pixel (the
    /// formula of `shaders/dots.wgsl` without the needle's wobble).
    pub fn profile(&self, s_mm: f32) -> Vec3 {
        profile(
            self.core_darkening,
            self.halo_peak(),
            self.radius_mm,
            self.edge_mm,
            self.halo_sigma_mm,
            s_mm,
        )
    }
}

/// Area-equivalent footprint (mm²) of a core of `core_radius_mm` with a halo of
/// `halo_sigma_mm`: the disc plus the Gaussian's volume at [`HALO_STRENGTH`].
pub fn footprint_mm2(core_radius_mm: f32, halo_sigma_mm: f32) -> f32 {
    std::f32::consts::PI
        * (core_radius_mm * core_radius_mm + HALO_STRENGTH * 2.0 * halo_sigma_mm * halo_sigma_mm)
}

fn halo_peak(mean: Vec3, core: Vec3, r: f32, sigma: f32) -> Vec3 {
    let h = 2.0 * sigma * sigma;
    ((mean * (r * r + HALO_STRENGTH * h) - core * r * r) / h.max(1e-12)).max(Vec3::ZERO)
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// `shaders/dots.wgsl`'s profile for a pixel much smaller than the dot: core disc and halo as
/// two absorbers in turn, the halo raised by 1 / (1 - core f) to keep the dot's integral.
fn profile(core: Vec3, peak: Vec3, r: f32, e: f32, sigma: f32, s: f32) -> Vec3 {
    let disc = 1.0 - smoothstep(r - e, r + e, s);
    let var_dot = 0.5 * r * r + e * e;
    let f = (0.5 * r * r / (var_dot + sigma * sigma)).min(0.5);
    let halo = (-s * s / (2.0 * sigma * sigma)).exp();
    let core_d = core * disc;
    let halo_d = peak * halo / (Vec3::ONE - core * f);
    Vec3::ONE - (Vec3::ONE - core_d) * (Vec3::ONE - halo_d)
}

/// Fits the drawn profile to a simulated look (already on the client's skin): the core
/// radius, edge and halo sigma by least squares on the luminance profile out to 0.6 mm (a
/// small grid search), then per channel the core darkening that gives the simulated centre
/// with the equivalent area held exact.
fn fit(look: &Look) -> DotAppearance {
    let lum = crate::lighting::color::luminance;
    let skin = look.bare_linear_srgb.max(Vec3::splat(1e-6));
    let y_of = |d: Vec3| lum(d * skin) / lum(skin);
    let target = look.luminance_darkening();
    let area = look.equivalent_area_mm2;
    let area_y = y_of(area);
    let d0 = look.core_darkening();
    let half = look.half_darkening_radius_mm.max(0.01);
    // The core darkening c (one channel) that gives the centre d0 with the area a held.
    let solve_c = |d0: f32, a: f32, r: f32, e: f32, sigma: f32| -> f32 {
        let (mut lo, mut hi) = (0.0f32, 0.999f32);
        let mean = a / footprint_mm2(r, sigma);
        for _ in 0..30 {
            let c = 0.5 * (lo + hi);
            let peak = halo_peak(Vec3::splat(mean), Vec3::splat(c), r, sigma);
            let centre = profile(Vec3::splat(c), peak, r, e, sigma, 0.0).x;
            if centre < d0 {
                lo = c;
            } else {
                hi = c;
            }
        }
        0.5 * (lo + hi)
    };
    let mut best = (f32::INFINITY, 0.0, 0.0, 0.0);
    for ri in 0..10 {
        let r = half * (0.5 + 0.1 * ri as f32);
        for ei in 0..4 {
            let e = r * (0.1 + 0.2 * ei as f32);
            for si in 0..24 {
                let sigma = 0.03 * 1.18f32.powi(si);
                let dy = y_of(d0);
                let c = solve_c(dy, area_y, r, e, sigma);
                let mean = area_y / footprint_mm2(r, sigma);
                let peak = halo_peak(Vec3::splat(mean), Vec3::splat(c), r, sigma);
                let mut err = 0.0;
                for (s, t) in look.radii_mm.iter().zip(&target) {
                    if *s > 0.6 {
                        break;
                    }
                    let m = profile(Vec3::splat(c), peak, r, e, sigma, *s).x;
                    // The half-darkening radius is where a dot's size is read: weighted.
                    let w = if (*s - half).abs() < 0.5 * half {
                        4.0
                    } else {
                        1.0
                    };
                    err += w * (m - t) * (m - t);
                }
                // ... and the profile at the half radius itself.
                let m = profile(Vec3::splat(c), peak, r, e, sigma, half).x;
                let t = 0.5 * target[0];
                err += 8.0 * (m - t) * (m - t);
                if err < best.0 {
                    best = (err, r, e, sigma);
                }
            }
        }
    }
    let (_, r, e, sigma) = best;
    let core = Vec3::new(
        solve_c(d0.x, area.x, r, e, sigma),
        solve_c(d0.y, area.y, r, e, sigma),
        solve_c(d0.z, area.z, r, e, sigma),
    );
    DotAppearance {
        darkening: area / footprint_mm2(r, sigma),
        core_darkening: core,
        radius_mm: r,
        edge_mm: e,
        halo_sigma_mm: sigma,
    }
}

/// Fitted looks over the tables' grid for one skin colour: interpolated per dot, which is fast
/// (a plan has tens of thousands of dots, each with its own diameter and shade). A grid point
/// is fitted when a dot first needs it: a plan touches a dozen of the grid's 240 points (one
/// depth, a few diameters and shades), and each fit is a ~1 ms search, so fitting them all
/// up front cost ~0.4 s per skin. The fit of a point does not depend on when it is made, so
/// the looks are the same either way.
struct SkinModel {
    albedo: Vec3,
    class: SkinClass,
    /// Per grid point, what [`SkinModel::at`] interpolates (see [`interpolated`]).
    looks: Vec<OnceLock<[f32; 12]>>,
}

impl SkinModel {
    fn new(albedo: Vec3) -> SkinModel {
        let d = &tables::tables().dots;
        let n = d.depth_mm.len() * d.diameter_mm.len() * d.strength.len();
        SkinModel {
            albedo,
            class: SkinClass::from_linear_srgb(albedo),
            looks: (0..n).map(|_| OnceLock::new()).collect(),
        }
    }

    /// The fitted look at grid point `index` ([depth][diameter][strength], row-major).
    fn look(&self, index: usize) -> &[f32; 12] {
        self.looks[index].get_or_init(|| {
            let t = tables::tables();
            let d = &t.dots;
            let (nw, nk) = (d.diameter_mm.len(), d.strength.len());
            let (z, w, k) = (
                d.depth_mm[index / (nw * nk)],
                d.diameter_mm[index / nk % nw],
                d.strength[index % nk],
            );
            interpolated(&fit(&t.dot(self.class, z, w, k).on_skin(self.albedo)))
        })
    }

    fn at(&self, depth_mm: f32, diameter_mm: f32, shade: f32) -> DotAppearance {
        let d = &tables::tables().dots;
        let axes = [
            (locate(&d.depth_mm, depth_mm), d.depth_mm.len()),
            (locate(&d.diameter_mm, diameter_mm), d.diameter_mm.len()),
            (locate(&d.strength, shade), d.strength.len()),
        ];
        let mut acc = [0.0f32; 12];
        for c in 0..8usize {
            let mut index = 0;
            let mut w = 1.0;
            for (k, &((i, f), n)) in axes.iter().enumerate() {
                let up = (c >> k) & 1 == 1;
                index = index * n + if up { (i + 1).min(n - 1) } else { i };
                w *= if up { f } else { 1.0 - f };
            }
            if w > 0.0 {
                let v = self.look(index);
                for (a, x) in acc.iter_mut().zip(v) {
                    *a += w * x;
                }
            }
        }
        let (r, sigma) = (acc[6], acc[8]);
        DotAppearance {
            darkening: Vec3::new(acc[9], acc[10], acc[11]) / footprint_mm2(r, sigma),
            core_darkening: Vec3::new(acc[3], acc[4], acc[5]),
            radius_mm: r,
            edge_mm: acc[7],
            halo_sigma_mm: sigma,
        }
    }
}

/// What [`SkinModel::at`] interpolates of a look: darkening, core darkening, radius, edge,
/// sigma, and the area, so the interpolated dot keeps the interpolated area.
fn interpolated(l: &DotAppearance) -> [f32; 12] {
    let area = l.equivalent_area_mm2();
    [
        l.darkening.x,
        l.darkening.y,
        l.darkening.z,
        l.core_darkening.x,
        l.core_darkening.y,
        l.core_darkening.z,
        l.radius_mm,
        l.edge_mm,
        l.halo_sigma_mm,
        area.x,
        area.y,
        area.z,
    ]
}

fn skin_model(albedo: Vec3) -> Arc<SkinModel> {
    // A few skins at a time (a batch of scenes, the viewer's presets); each fit takes a moment.
    static CACHE: OnceLock<Mutex<Vec<Arc<SkinModel>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(Vec::new()));
    // Made under the lock (it is cheap: its looks are fitted on demand), so threads asking
    // for one skin at once share one model and fit each grid point once.
    let mut c = cache.lock().expect("no panics holding the cache");
    if let Some(m) = c.iter().find(|m| m.albedo == albedo) {
        return m.clone();
    }
    let m = Arc::new(SkinModel::new(albedo));
    if c.len() >= 8 {
        c.remove(0);
    }
    c.push(m.clone());
    m
}

/// The skin dots are seen on when nothing says otherwise: the scenes' default skin colour
/// ([`crate::scene::DEFAULT_SKIN`]).
pub fn default_skin() -> Vec3 {
    crate::scene::parse_skin(crate::scene::DEFAULT_SKIN).expect("the default skin parses")
}

/// How a healed impression looks on skin of albedo `skin` (linear sRGB): the needle reached
/// `depth_mm`, the planned dot is `diameter_mm` wide, the pigment at `shade` (0-1, the
/// strength of carbon black: 1 undiluted), interpolated from the simulation's tables.
pub fn appearance(skin: Vec3, shade: f32, depth_mm: f32, diameter_mm: f32) -> DotAppearance {
    Appearances::on(skin).at(shade, depth_mm, diameter_mm)
}

/// [`appearance`] for many dots on one skin: looks the skin's fitted model up once, not per
/// dot (a plan has hundreds of thousands of dots).
#[derive(Clone)]
pub struct Appearances(Arc<SkinModel>);

impl Appearances {
    /// The looks of dots on skin of albedo `skin` (linear sRGB).
    pub fn on(skin: Vec3) -> Appearances {
        Appearances(skin_model(skin))
    }

    /// [`appearance`] of a dot on this skin.
    pub fn at(&self, shade: f32, depth_mm: f32, diameter_mm: f32) -> DotAppearance {
        if shade <= 0.0 {
            return DotAppearance {
                darkening: Vec3::ZERO,
                core_darkening: Vec3::ZERO,
                radius_mm: 0.5 * diameter_mm,
                edge_mm: 0.0,
                halo_sigma_mm: 0.5 * diameter_mm,
            };
        }
        self.0.at(depth_mm, diameter_mm, shade.min(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drawn_profile_keeps_the_simulated_centre_and_area() {
        let skin = default_skin();
        for (depth, diameter, shade) in [(0.35, 0.12, 0.6), (1.0, 0.17, 1.0), (0.25, 0.08, 0.05)] {
            let look = tables::tables()
                .dot(SkinClass::from_linear_srgb(skin), depth, diameter, shade)
                .on_skin(skin);
            let a = appearance(skin, shade, depth, diameter);
            let (c, t) = (a.profile(0.0), look.core_darkening());
            assert!(
                (c - t).abs().max_element() < 0.03,
                "{depth} {diameter} {shade}: {c} vs {t}"
            );
            let (m, t) = (a.equivalent_area_mm2(), look.equivalent_area_mm2);
            assert!(((m - t) / t).abs().max_element() < 0.03, "{m} vs {t}");
        }
    }

    #[test]
    fn more_pigment_is_darker() {
        let skin = default_skin();
        assert!(
            appearance(skin, 1.0, 0.35, 0.12).darkening.x
                > appearance(skin, 0.02, 0.35, 0.12).darkening.x
        );
        assert_eq!(appearance(skin, 0.0, 0.35, 0.12).darkening, Vec3::ZERO);
    }
}
