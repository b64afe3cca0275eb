//! Colour matching (`stipple match`): which pigment dilution, and how deep a reach, makes each
//! zone's treated scalp read as the client's own shaved hair (or a chosen colour), and how the
//! match holds under the lighting presets.
//!
//! Practitioners choose the shade so the SMP "shadow" matches the stubble the client keeps on
//! the sides. Both looks come from the calibrated optics the renderer draws with
//! ([`super::tables`]): a treated patch is the skin darkened by the zone's dots at its density
//! (the mean the pigment map holds), and the shaved hair is the skin darkened by its shafts
//! above and below the surface ([`Stubble::darkening`]). The search runs over the dilution
//! (shade 0.02-1) at each needle reach the brief allows (0.25-0.5 mm) and the zone's own; the
//! best within [`MATCH_DE00`] at the planned reach is preferred, since a practitioner changes
//! the dilution before the technique.
//!
//! Under another light two patches that match in daylight can part (carbon is grey, hair
//! melanin is brown): the same patches are rebuilt as spectra (the tables' spectral areas on
//! the simulated skin's spectrum, bent to the client's skin colour) and compared under each
//! preset's lights, seen by an eye adapted to that light (Bradford).

use super::spectra::{self, WAVELENGTHS};
use super::tables::{self, SkinClass, spectrum_31};
use crate::lighting::color::{XYZ_TO_SRGB, bradford_adaptation, ciede2000, planck};
use crate::skin::{Stubble, linear_srgb_to_lab};
use glam::{DMat3, DVec3, Vec3};
use serde::Serialize;

/// A match is good when the treated patch is within this CIEDE2000 of the target (the issue's
/// figure; dE00 1-2 is where two patches side by side start to read as different).
pub const MATCH_DE00: f32 = 2.0;
/// Needle reaches tried (mm): the brief's upper to mid papillary dermis, 0.25-0.5 mm.
pub const REACHES_MM: [f32; 3] = [0.25, 0.35, 0.5];
/// Densest plan `stipple match` suggests when no shade matches (per cm²): the brief's densest
/// follicular units are 120 per cm²; beyond about 150 impressions per cm² dots merge.
pub const MAX_DENSITY_PER_CM2: f32 = 150.0;
/// Shades tried: 0.02 to 1 in steps of 0.01 (finer than a practitioner mixes).
const SHADE_STEPS: usize = 99;

type Spectrum = [f64; WAVELENGTHS];

/// What the treated scalp should look like.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Target {
    /// The client's own hair, shaved: stubble over the skin and its shafts under it.
    ShavedHair,
    /// A chosen colour for the treated patch (linear sRGB, daylight).
    Colour { linear_srgb: [f32; 3] },
}

/// One zone's planned dots.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZoneDots {
    pub zone: String,
    pub density_per_cm2: f32,
    /// Mean planned dot diameter (mm): the healed track's width.
    pub diameter_mm: f32,
    pub depth_mm: f32,
    pub shade: f32,
}

/// How a candidate compares with the target under one lighting preset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnderLight {
    pub preset: String,
    pub de00: f32,
    /// Treated minus target in CIELAB (adapted to the light): + L lighter, - b cooler.
    pub delta_lab: [f32; 3],
}

/// A candidate dilution and reach, and how its patch compares with the target.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Candidate {
    /// Set when the candidate changes the zone's density.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub density_per_cm2: Option<f32>,
    pub depth_mm: f32,
    pub shade: f32,
    /// The treated patch's mean colour (sRGB 0-255, daylight).
    pub patch_srgb: [u8; 3],
    pub de00: f32,
}

/// The suggestion for one zone.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ZoneMatch {
    pub dots: ZoneDots,
    /// The plan as it stands.
    pub planned: Candidate,
    /// The best shade at each reach tried.
    pub by_reach: Vec<Candidate>,
    /// The best at the planned reach when it matches, else the best overall.
    pub suggested: Candidate,
    /// Whether the suggestion is within [`MATCH_DE00`] in daylight.
    pub matched: bool,
    /// When no shade matches: the lowest density (per cm², up to [`MAX_DENSITY_PER_CM2`]) at
    /// which one does at the suggested reach, and that shade.
    pub denser: Option<Candidate>,
    /// The suggestion against the target under every lighting preset.
    pub under_presets: Vec<UnderLight>,
}

/// The whole answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatchReport {
    pub skin_srgb: [u8; 3],
    /// The skin's Fitzpatrick class from its colour (1-6, fractional between).
    pub fitzpatrick: f32,
    pub target: Target,
    pub target_srgb: [u8; 3],
    pub zones: Vec<ZoneMatch>,
}

/// The client's look the match is made for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Client {
    /// Skin albedo (linear sRGB): the scene's colour or the scan's measured tone.
    pub skin: Vec3,
    /// Hair colour (linear sRGB).
    pub hair: Vec3,
    pub stubble: Stubble,
}

fn srgb8(c: Vec3) -> [u8; 3] {
    [c.x, c.y, c.z].map(|v| {
        (crate::scene::linear_to_srgb(v) * 255.0)
            .round()
            .clamp(0.0, 255.0) as u8
    })
}

fn lab(c: Vec3) -> [f64; 3] {
    linear_srgb_to_lab(c).map(f64::from)
}

/// The treated patch's colour (linear sRGB, daylight) for dots of `shade` reaching `depth_mm`.
pub fn patch_colour(skin: Vec3, dots: &ZoneDots, depth_mm: f32, shade: f32) -> Vec3 {
    let look = tables::tables()
        .dot(
            SkinClass::from_linear_srgb(skin),
            depth_mm,
            dots.diameter_mm,
            shade,
        )
        .on_skin(skin);
    skin * (Vec3::ONE - look.patch_darkening(dots.density_per_cm2))
}

/// The shaved hair's colour over the client's skin (linear sRGB, daylight).
pub fn shaved_hair_colour(client: &Client) -> Vec3 {
    client.skin * (Vec3::ONE - client.stubble.darkening(client.skin, client.hair))
}

fn candidate(
    skin: Vec3,
    dots: &ZoneDots,
    depth_mm: f32,
    shade: f32,
    target: [f64; 3],
) -> Candidate {
    let c = patch_colour(skin, dots, depth_mm, shade);
    Candidate {
        density_per_cm2: None,
        depth_mm,
        shade,
        patch_srgb: srgb8(c),
        de00: ciede2000(lab(c), target) as f32,
    }
}

/// The best candidate; among those within [`TIE_DE00`] of it, the most diluted (too dark is
/// the brief's most common regret, and past a point more carbon barely shows: the column is
/// already opaque).
fn best(cands: impl Iterator<Item = Candidate>) -> Candidate {
    let all: Vec<Candidate> = cands.collect();
    let min = all.iter().map(|c| c.de00).fold(f32::INFINITY, f32::min);
    all.into_iter()
        .filter(|c| c.de00 <= min + TIE_DE00)
        .min_by(|a, b| a.shade.total_cmp(&b.shade))
        .expect("at least one candidate")
}

/// Candidates this close to the best count as equally good (a tenth of a just-noticeable
/// difference).
const TIE_DE00: f32 = 0.1;

/// Matches every zone to the target.
pub fn match_zones(client: &Client, target: Target, zones: &[ZoneDots]) -> MatchReport {
    let target_colour = match target {
        Target::ShavedHair => shaved_hair_colour(client),
        Target::Colour { linear_srgb } => Vec3::from(linear_srgb),
    };
    let target_lab = lab(target_colour);
    let skin = client.skin;
    let spectral = SpectralClient::new(client);
    let zones = zones
        .iter()
        .map(|z| {
            let mut reaches = REACHES_MM.to_vec();
            if !reaches.iter().any(|r| (r - z.depth_mm).abs() < 1e-3) {
                reaches.push(z.depth_mm);
                reaches.sort_by(f32::total_cmp);
            }
            let by_reach: Vec<Candidate> = reaches
                .iter()
                .map(|&d| {
                    best(
                        (0..SHADE_STEPS)
                            .map(|k| candidate(skin, z, d, 0.02 + 0.01 * k as f32, target_lab)),
                    )
                })
                .collect();
            let at_plan = by_reach
                .iter()
                .find(|c| (c.depth_mm - z.depth_mm).abs() < 1e-3)
                .cloned()
                .expect("the plan's reach is tried");
            let suggested = if at_plan.de00 <= MATCH_DE00 {
                at_plan
            } else {
                best(by_reach.iter().cloned())
            };
            let under_presets = match (&spectral, target) {
                (Some(s), Target::ShavedHair) => s.under_presets(z, &suggested),
                _ => Vec::new(),
            };
            let denser = (suggested.de00 > MATCH_DE00)
                .then(|| {
                    (1..)
                        .map(|k| z.density_per_cm2 + 5.0 * k as f32)
                        .take_while(|&n| n <= MAX_DENSITY_PER_CM2)
                        .find_map(|n| {
                            let zn = ZoneDots {
                                density_per_cm2: n,
                                ..z.clone()
                            };
                            let c = best((0..SHADE_STEPS).map(|k| {
                                candidate(
                                    skin,
                                    &zn,
                                    suggested.depth_mm,
                                    0.02 + 0.01 * k as f32,
                                    target_lab,
                                )
                            }));
                            (c.de00 <= MATCH_DE00).then_some((n, c))
                        })
                })
                .flatten()
                .map(|(n, c)| Candidate {
                    density_per_cm2: Some(n),
                    ..c
                });
            ZoneMatch {
                denser,
                planned: candidate(skin, z, z.depth_mm, z.shade, target_lab),
                dots: z.clone(),
                by_reach,
                matched: suggested.de00 <= MATCH_DE00,
                suggested,
                under_presets,
            }
        })
        .collect();
    MatchReport {
        skin_srgb: srgb8(skin),
        fitzpatrick: SkinClass::from_linear_srgb(skin).fitzpatrick,
        target,
        target_srgb: srgb8(target_colour),
        zones,
    }
}

/// Three smooth weights over the visible range (hats peaking at 450, 550 and 650 nm, held
/// flat beyond): a spectrum is bent by them to take a given colour without new features.
fn hat(k: usize, i: usize) -> f64 {
    let nm = spectra::wavelength_nm(i).clamp(450.0, 650.0);
    let centre = 450.0 + 100.0 * k as f64;
    (1.0 - (nm - centre).abs() / 100.0).max(0.0)
}

/// `base` bent by the three hats so that it reads as `colour` (linear sRGB) under D65.
fn bend_to(base: &Spectrum, colour: Vec3) -> Spectrum {
    let cols: Vec<DVec3> = (0..3)
        .map(|k| {
            let s: Spectrum = std::array::from_fn(|i| base[i] * hat(k, i));
            spectra::reflectance_linear_srgb(&s).as_dvec3()
        })
        .collect();
    let m = DMat3::from_cols(cols[0], cols[1], cols[2]);
    let w = if m.determinant().abs() > 1e-12 {
        m.inverse() * colour.as_dvec3()
    } else {
        DVec3::ONE
    };
    std::array::from_fn(|i| {
        let f: f64 = (0..3).map(|k| w[k] * hat(k, i)).sum();
        (base[i] * f).clamp(0.0, 1.0)
    })
}

/// The client's skin and hair as spectra (from tables that carry them).
struct SpectralClient {
    client: Client,
    class: SkinClass,
    skin: Spectrum,
    /// The hair shafts over the skin: melanin's brown, bent to the hair's colour.
    shaft: Spectrum,
    /// Hair under the skin: the fraction of light the follicles take (Poisson over density).
    under: Spectrum,
}

impl SpectralClient {
    fn new(client: &Client) -> Option<SpectralClient> {
        let t = tables::tables();
        let class = SkinClass::from_linear_srgb(client.skin);
        let bare = t.bare_spectrum(class);
        if bare.is_empty() {
            return None;
        }
        let skin = bend_to(&spectrum_31(&bare), client.skin);
        // Melanin absorbs as λ^-3.5 (spectra::mua_melanin): a shaft reflects more red.
        let brown: Spectrum = std::array::from_fn(|i| {
            (-0.5 * spectra::mua_melanin(i) / spectra::mua_melanin(15)).exp()
        });
        let shaft = bend_to(&brown, client.hair);
        let hair = t.hair(class, crate::skin::hair_melanin(client.hair));
        let area = spectrum_31(&hair.equivalent_area_mm2_spectrum);
        let per_mm2 = client.stubble.density_per_cm2 as f64 / 100.0;
        let under = std::array::from_fn(|i| 1.0 - (-per_mm2 * area[i]).exp());
        Some(SpectralClient {
            client: *client,
            class,
            skin,
            shaft,
            under,
        })
    }

    fn hair_patch(&self) -> Spectrum {
        let c = self.client.stubble.coverage() as f64;
        std::array::from_fn(|i| {
            c * self.shaft[i] + (1.0 - c) * self.skin[i] * (1.0 - self.under[i])
        })
    }

    fn dot_patch(&self, z: &ZoneDots, cand: &Candidate) -> Spectrum {
        let look = tables::tables().dot(self.class, cand.depth_mm, z.diameter_mm, cand.shade);
        let area = spectrum_31(&look.equivalent_area_mm2_spectrum);
        let n = z.density_per_cm2 as f64 / 100.0;
        // Poisson overlap, as `Look::patch_darkening` (super::poisson_darkening).
        std::array::from_fn(|i| self.skin[i] * (-n * area[i]).exp())
    }

    fn under_presets(&self, z: &ZoneDots, cand: &Candidate) -> Vec<UnderLight> {
        let (dots, hair) = (self.dot_patch(z, cand), self.hair_patch());
        let compare = |name: &str, light: &Spectrum| {
            let (a, b) = (lab_under(&dots, light), lab_under(&hair, light));
            UnderLight {
                preset: name.to_string(),
                de00: ciede2000(a, b) as f32,
                delta_lab: [0, 1, 2].map(|k| (a[k] - b[k]) as f32),
            }
        };
        // Daylight first (CIE D65), the reference the other lights shift from.
        let mut out = vec![compare(DAYLIGHT, &spectra::D65)];
        out.extend(
            crate::lighting::presets()
                .iter()
                .map(|p| compare(&p.name, &preset_spectrum(p))),
        );
        out
    }
}

/// The reference light's name in [`ZoneMatch::under_presets`].
pub const DAYLIGHT: &str = "daylight-d65";

/// A preset's light on the scalp as a spectrum: its lights and sky as black bodies, each
/// weighted by its illuminance.
fn preset_spectrum(p: &crate::lighting::Preset) -> Spectrum {
    let mut s = [0.0; WAVELENGTHS];
    let mut add = |lux: f64, kelvin: f64| {
        // Each black body scaled to unit luminance, then to its illuminance.
        let y = crate::lighting::color::spectrum_xyz(|nm| planck(nm, kelvin)).y;
        for (i, v) in s.iter_mut().enumerate() {
            *v += lux * planck(spectra::wavelength_nm(i), kelvin) / y.max(1e-300);
        }
    };
    for l in &p.lights {
        add(l.illuminance_lux as f64, l.kelvin as f64);
    }
    add(p.sky.illuminance_lux as f64, p.sky.kelvin as f64);
    s
}

/// CIELAB of a reflectance under `light`, seen by an eye adapted to the light.
fn lab_under(r: &Spectrum, light: &Spectrum) -> [f64; 3] {
    let xyz = spectra::reflectance_xyz_under(r, light);
    let white = spectra::reflectance_xyz_under(&[1.0; WAVELENGTHS], light);
    let adapted = bradford_adaptation(white, crate::lighting::color::D65_XYZ) * xyz;
    lab((XYZ_TO_SRGB * adapted).as_vec3())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(density: f32, depth: f32, shade: f32) -> ZoneDots {
        ZoneDots {
            zone: "test".into(),
            density_per_cm2: density,
            diameter_mm: 0.17,
            depth_mm: depth,
            shade,
        }
    }

    fn client() -> Client {
        Client {
            skin: crate::skin::fitzpatrick_albedo("fitzpatrick-III").unwrap(),
            hair: Vec3::new(0.024, 0.018, 0.016),
            stubble: Stubble::default(),
        }
    }

    #[test]
    fn more_pigment_and_more_dots_are_darker() {
        let skin = client().skin;
        let y = |c: Vec3| crate::lighting::color::luminance(c);
        let z = zone(100.0, 0.35, 0.5);
        assert!(y(patch_colour(skin, &z, 0.35, 0.8)) < y(patch_colour(skin, &z, 0.35, 0.3)));
        assert!(
            y(patch_colour(skin, &zone(140.0, 0.35, 0.5), 0.35, 0.5))
                < y(patch_colour(skin, &z, 0.35, 0.5))
        );
        assert!(y(patch_colour(skin, &z, 0.35, 0.5)) < y(skin));
    }

    /// The search finds the shade that made a target: a patch of known dots is matched back
    /// to its own shade and reach.
    #[test]
    fn a_target_made_by_a_plan_is_matched_back_to_it() {
        let c = client();
        let z = zone(100.0, 0.35, 0.1);
        let made = patch_colour(c.skin, &z, 0.35, 0.5);
        let r = match_zones(
            &c,
            Target::Colour {
                linear_srgb: made.to_array(),
            },
            std::slice::from_ref(&z),
        );
        let m = &r.zones[0];
        assert!(m.matched, "{m:?}");
        assert_eq!(
            m.suggested.depth_mm, 0.35,
            "the planned reach matches, so it is kept"
        );
        // The most diluted shade within dE00 0.1 of the best: about 0.05 of shade below 0.5.
        assert!((m.suggested.shade - 0.47).abs() <= 0.04, "{m:?}");
        assert!(m.suggested.de00 < 0.3, "{m:?}");
        assert!(
            m.planned.de00 > m.suggested.de00 + 0.5,
            "shade 0.1 is lighter than the target: {m:?}"
        );
    }

    /// The spectral check agrees with the colours the search used in daylight (the same
    /// tables, two paths), and every preset is reported.
    #[test]
    fn the_spectral_daylight_figure_agrees_with_the_search() {
        let c = client();
        let r = match_zones(&c, Target::ShavedHair, &[zone(100.0, 0.35, 0.7)]);
        let m = &r.zones[0];
        let day = &m.under_presets[0];
        assert_eq!(day.preset, DAYLIGHT);
        assert!(
            (day.de00 - m.suggested.de00).abs() < 1.0,
            "spectral {} vs {}",
            day.de00,
            m.suggested.de00
        );
        assert_eq!(m.under_presets.len(), 1 + crate::lighting::presets().len());
    }
}
