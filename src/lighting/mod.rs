//! Light in physical units, and the camera that looks at it.
//!
//! - **Lights** are distant (directional) sources given by their illuminance in lux on a
//!   surface facing them and their colour temperature in kelvin, turned into linear sRGB from
//!   the black-body spectrum ([`color`]). The first light is the key: it casts the shadows.
//!   `softness` is the sine of the source's angular radius: 0.005 for the sun, about 0.3 for a
//!   1 m softbox 1.5 m away, 1 for a whole overcast sky. It widens the shadow penumbra, the
//!   diffuse terminator and the specular highlight.
//! - **Sky and ground**: a hemisphere ambient, the illuminance of the sky (or the ceiling and
//!   walls) on an upward-facing surface and of the ground (or floor) on a downward-facing one.
//! - **Exposure**: a physical camera at EV100. Automatic exposure meters an 18% grey card
//!   turned toward the key light: `EV100 = log2(L·100/12.5)` with `L = 0.18·E/π` its
//!   luminance, and `exposure = 1/(1.2·2^EV100)` (Frostbite, Filament), so the card always
//!   lands on the same value, 12.5/120 ≈ 0.104; manual exposure takes EV100 as given. Like a
//!   camera's tone curve, the renderer then lifts mid-tones by [`CAMERA_MIDTONE_GAIN`]
//!   (+1.08 EV) so that a correctly exposed grey card shows as display middle grey (sRGB 118)
//!   and skin facing the light shows as its swatch colour.
//! - **White balance**: `daylight` fixes the camera at a 5,500 K daylight white (a 2,700 K lamp
//!   looks warm, as in a photograph); `adapted` adapts to the light on the grey card by the
//!   von Kries transform (the grey card comes out neutral, as the eye sees it after a while).
//!   Both scale the channels of the renderer's linear sRGB before tonemapping (see
//!   [`color::white_balance_matrix`] for why not in Bradford's cone space).
//! - **Presets** are data: `assets/lighting/presets.toml`, embedded in the binary.
//!
//! The tonemapper is Khronos PBR Neutral (`shaders/shade.wgsl`): deterministic, hue-preserving,
//! and the identity (less a 0.04 offset) below its highlight compression.

pub mod color;

use glam::{Mat3, Vec3};
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The preset table, embedded at build time.
pub const PRESETS_TOML: &str = include_str!("../../assets/lighting/presets.toml");

/// Most lights a frame can have: the key plus three fills.
pub const MAX_LIGHTS: usize = 4;

/// Colour temperature the `daylight` white balance treats as white.
pub const DAYLIGHT_WHITE_KELVIN: f32 = 5500.0;

/// Reflectance of the grey card automatic exposure meters.
pub const GREY_CARD_REFLECTANCE: f32 = 0.18;

/// Reflected-light meter calibration constant K (ISO 2720): EV100 = log2(L·100/K).
pub const METER_K: f32 = 12.5;

/// What the renderer multiplies exposed luminance by before the tonemapper: Khronos PBR
/// Neutral shows an input x (below its highlight compression) as x - 0.04, so a surface of
/// reflectance ρ facing the light reads as ρ when its input is ρ·(0.22/0.18). A metered grey
/// card comes out of `exposure` at 12.5/(100·1.2); this gain puts it at 0.18 + 0.04, i.e.
/// display middle grey: the mid-tone lift a camera's tone curve gives (+1.08 EV).
pub const CAMERA_MIDTONE_GAIN: f32 = (GREY_CARD_REFLECTANCE + 0.04) * 100.0 * 1.2 / METER_K;

/// A distant light such as the sun or a key lamp.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DirectionalLight {
    /// Unit vector from the head toward the light (head space).
    pub direction_to_light: Vec3,
    /// Illuminance on a surface facing the light.
    pub illuminance_lux: f32,
    /// Colour temperature of the light (black body).
    pub kelvin: f32,
    /// Linear-sRGB colour, luminance-normalised ([`color::kelvin_to_linear_srgb`]).
    pub color: Vec3,
    /// Sine of the source's angular radius (0 = a point, 1 = a hemisphere).
    pub softness: f32,
}

impl DirectionalLight {
    /// A light from `azimuth_deg` (0 = in front of the face, 90 = the client's left, -90 the
    /// right, 180 behind) and `elevation_deg` above the horizon (90 = overhead).
    pub fn new(
        azimuth_deg: f32,
        elevation_deg: f32,
        illuminance_lux: f32,
        kelvin: f32,
        softness: f32,
    ) -> Self {
        Self {
            direction_to_light: direction_from_angles(azimuth_deg, elevation_deg),
            illuminance_lux,
            kelvin,
            color: color::kelvin_to_linear_srgb(kelvin),
            softness,
        }
    }

    /// Azimuth and elevation in degrees (see [`DirectionalLight::new`]).
    pub fn angles_deg(&self) -> (f32, f32) {
        let d = self.direction_to_light.normalize_or(Vec3::Y);
        (
            d.x.atan2(d.z).to_degrees(),
            d.y.clamp(-1.0, 1.0).asin().to_degrees(),
        )
    }

    /// Illuminance (RGB, lux) this light gives a surface with unit normal `n`. A source of
    /// angular radius α lights a tilted plane beyond the 90° terminator; `(cos θ + s)/(1 + s)`
    /// with s = sin α is exact for a whole hemisphere and close enough in between.
    pub fn irradiance_on(&self, n: Vec3) -> Vec3 {
        self.color
            * self.illuminance_lux
            * soft_cosine(n.dot(self.direction_to_light), self.softness)
    }
}

/// Cosine falloff of a source with softness `s` (see [`DirectionalLight::irradiance_on`]).
pub fn soft_cosine(cos_theta: f32, s: f32) -> f32 {
    ((cos_theta + s) / (1.0 + s)).max(0.0)
}

/// Unit vector toward a light at `azimuth_deg` / `elevation_deg` (see [`DirectionalLight::new`]).
pub fn direction_from_angles(azimuth_deg: f32, elevation_deg: f32) -> Vec3 {
    let (az, el) = (azimuth_deg.to_radians(), elevation_deg.to_radians());
    Vec3::new(az.sin() * el.cos(), el.sin(), az.cos() * el.cos()).normalize()
}

/// How the camera sets its exposure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Exposure {
    /// Meter an 18% grey card facing the key light, then shift by `compensation_ev` stops
    /// (positive: brighter).
    Auto { compensation_ev: f32 },
    /// A fixed EV100, as set on a camera.
    Manual { ev100: f32 },
}

/// What the camera takes as white.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhiteBalance {
    /// A fixed daylight white ([`DAYLIGHT_WHITE_KELVIN`]): warm light looks warm.
    Daylight,
    /// The light falling on the grey card (von Kries adaptation): a grey card looks grey.
    Adapted,
}

impl WhiteBalance {
    pub const NAMES: &'static [&'static str] = &["daylight", "adapted"];

    pub fn parse(s: &str) -> Option<WhiteBalance> {
        match s {
            "daylight" => Some(WhiteBalance::Daylight),
            "adapted" => Some(WhiteBalance::Adapted),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            WhiteBalance::Daylight => "daylight",
            WhiteBalance::Adapted => "adapted",
        }
    }
}

/// Everything that lights a frame: a key light, up to three fill lights, a sky/ground ambient,
/// and the camera's response to it (exposure, white balance). Plain data, `Copy`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lighting {
    /// The key light: the only one that casts shadows.
    pub key: DirectionalLight,
    fills: [DirectionalLight; MAX_LIGHTS - 1],
    fill_count: usize,
    /// Illuminance from the upper hemisphere on an upward-facing surface (sky, ceiling).
    pub sky_lux: f32,
    pub sky_kelvin: f32,
    pub sky_color: Vec3,
    /// Illuminance bounced up from the ground or floor onto a downward-facing surface.
    pub ground_lux: f32,
    pub ground_kelvin: f32,
    pub ground_color: Vec3,
    /// Whether the key light casts shadows (a shadow map is rendered for it).
    pub shadows: bool,
    pub exposure: Exposure,
    pub white_balance: WhiteBalance,
}

/// One light as scene files and the preset table write it.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LightSpec {
    /// Degrees around the head from straight in front of the face; 90 = the client's left,
    /// -90 the right, 180 behind.
    pub azimuth_deg: f32,
    /// Degrees above the horizon; 90 = overhead, negative = from below.
    pub elevation_deg: f32,
    /// Illuminance on a surface facing the light.
    pub illuminance_lux: f32,
    /// Colour temperature (black body).
    pub kelvin: f32,
    /// Sine of the source's angular radius: 0 = a point, 1 = a whole hemisphere.
    #[serde(default)]
    pub softness: f32,
}

/// The ambient hemisphere as scene files and the preset table write it.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SkySpec {
    /// Illuminance from the sky (outdoors) or the ceiling and walls (indoors) on an
    /// upward-facing surface.
    pub illuminance_lux: f32,
    pub kelvin: f32,
    /// Illuminance bounced up from the ground or floor onto a downward-facing surface.
    #[serde(default)]
    pub ground_lux: f32,
    /// Colour temperature of the bounced light; absent: the sky's.
    pub ground_kelvin: Option<f32>,
}

/// A validation failure: the key (relative to the table it is in) and what was expected.
#[derive(Clone, Debug, PartialEq)]
pub struct SpecError {
    pub key: String,
    pub expected: String,
}

fn check(key: &str, v: f32, lo: f32, hi: f32, what: &str) -> Result<(), SpecError> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        Err(SpecError {
            key: key.into(),
            expected: format!("{what} between {lo} and {hi}, got {v}"),
        })
    }
}

/// Accepted colour temperatures.
pub const KELVIN_LIMITS: (f32, f32) = (1000.0, 40000.0);
/// Accepted illuminances (direct sun is about 100,000 lux).
pub const LUX_LIMITS: (f32, f32) = (0.0, 200_000.0);

impl LightSpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        check("azimuth_deg", self.azimuth_deg, -360.0, 360.0, "degrees")?;
        check(
            "elevation_deg",
            self.elevation_deg,
            -90.0,
            90.0,
            "degrees above the horizon",
        )?;
        check(
            "illuminance_lux",
            self.illuminance_lux,
            LUX_LIMITS.0,
            LUX_LIMITS.1,
            "an illuminance in lux",
        )?;
        check(
            "kelvin",
            self.kelvin,
            KELVIN_LIMITS.0,
            KELVIN_LIMITS.1,
            "a colour temperature in kelvin",
        )?;
        check(
            "softness",
            self.softness,
            0.0,
            1.0,
            "the sine of the source's angular radius (0 = point, 1 = hemisphere)",
        )
    }

    pub fn light(&self) -> DirectionalLight {
        DirectionalLight::new(
            self.azimuth_deg,
            self.elevation_deg,
            self.illuminance_lux,
            self.kelvin,
            self.softness,
        )
    }
}

impl SkySpec {
    pub fn validate(&self) -> Result<(), SpecError> {
        check(
            "illuminance_lux",
            self.illuminance_lux,
            LUX_LIMITS.0,
            LUX_LIMITS.1,
            "an illuminance in lux",
        )?;
        check(
            "kelvin",
            self.kelvin,
            KELVIN_LIMITS.0,
            KELVIN_LIMITS.1,
            "a colour temperature in kelvin",
        )?;
        check(
            "ground_lux",
            self.ground_lux,
            LUX_LIMITS.0,
            LUX_LIMITS.1,
            "an illuminance in lux",
        )?;
        if let Some(k) = self.ground_kelvin {
            check(
                "ground_kelvin",
                k,
                KELVIN_LIMITS.0,
                KELVIN_LIMITS.1,
                "a colour temperature in kelvin",
            )?;
        }
        Ok(())
    }
}

/// A named preset from `assets/lighting/presets.toml`.
#[derive(Clone, Debug)]
pub struct Preset {
    pub name: String,
    pub description: String,
    pub lights: Vec<LightSpec>,
    pub sky: SkySpec,
    pub lighting: Lighting,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    preset: Vec<PresetEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetEntry {
    name: String,
    description: String,
    lights: Vec<LightSpec>,
    sky: SkySpec,
}

/// Parses a preset table (the format of `assets/lighting/presets.toml`).
pub fn parse_presets(text: &str) -> Result<Vec<Preset>, String> {
    let file: PresetFile = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out: Vec<Preset> = Vec::new();
    for (i, p) in file.preset.into_iter().enumerate() {
        let at = |e: SpecError, table: &str| {
            format!(
                "preset[{i}] ({}): `{table}.{}`: expected {}",
                p.name, e.key, e.expected
            )
        };
        if p.name.is_empty() || out.iter().any(|o| o.name == p.name) {
            return Err(format!(
                "preset[{i}]: `name`: expected a unique, non-empty name, got {:?}",
                p.name
            ));
        }
        if p.lights.is_empty() || p.lights.len() > MAX_LIGHTS {
            return Err(format!(
                "preset[{i}] ({}): `lights`: expected 1 to {MAX_LIGHTS} lights",
                p.name
            ));
        }
        for (j, l) in p.lights.iter().enumerate() {
            l.validate().map_err(|e| at(e, &format!("lights[{j}]")))?;
        }
        p.sky.validate().map_err(|e| at(e, "sky"))?;
        let lighting = Lighting::from_specs(&p.lights, &p.sky);
        out.push(Preset {
            name: p.name,
            description: p.description,
            lights: p.lights,
            sky: p.sky,
            lighting,
        });
    }
    Ok(out)
}

/// The built-in presets, in the order of the table.
pub fn presets() -> &'static [Preset] {
    static P: OnceLock<Vec<Preset>> = OnceLock::new();
    P.get_or_init(|| parse_presets(PRESETS_TOML).expect("assets/lighting/presets.toml is valid"))
}

/// The camera and lighting options of a scene's `[render]` table (see the scene module).
#[derive(Clone, Copy, Debug)]
pub struct LightingOptions<'a> {
    /// Preset name (`render.lighting`).
    pub preset: &'a str,
    /// Lights replacing the preset's (`[[render.lights]]`).
    pub lights: Option<&'a [LightSpec]>,
    /// Ambient replacing the preset's (`[render.sky]`).
    pub sky: Option<&'a SkySpec>,
    /// `render.white_balance`: "daylight" or "adapted".
    pub white_balance: &'a str,
    /// `render.exposure`: "auto" or "manual".
    pub exposure: &'a str,
    /// `render.ev100` (manual exposure).
    pub ev100: Option<f32>,
    /// `render.exposure_compensation_ev` (automatic exposure).
    pub exposure_compensation_ev: f32,
}

impl LightingOptions<'_> {
    /// The lighting these options describe, or the first invalid key (relative to `[render]`)
    /// and what was expected there.
    pub fn build(&self) -> Result<Lighting, SpecError> {
        let err = |key: &str, expected: String| SpecError {
            key: key.into(),
            expected,
        };
        let preset = Lighting::preset_entry(self.preset).ok_or_else(|| {
            err(
                "lighting",
                format!(
                    "one of {}, got {:?}",
                    Lighting::preset_names().join(", "),
                    self.preset
                ),
            )
        })?;
        let lights = self.lights.unwrap_or(&preset.lights);
        if lights.is_empty() || lights.len() > MAX_LIGHTS {
            return Err(err(
                "lights",
                format!(
                    "1 to {MAX_LIGHTS} lights (the first casts shadows), got {}",
                    lights.len()
                ),
            ));
        }
        for (i, l) in lights.iter().enumerate() {
            l.validate()
                .map_err(|e| err(&format!("lights[{i}].{}", e.key), e.expected))?;
        }
        let sky = self.sky.unwrap_or(&preset.sky);
        sky.validate()
            .map_err(|e| err(&format!("sky.{}", e.key), e.expected))?;
        let mut lighting = Lighting::from_specs(lights, sky);
        lighting.white_balance = WhiteBalance::parse(self.white_balance).ok_or_else(|| {
            err(
                "white_balance",
                format!("\"daylight\" or \"adapted\", got {:?}", self.white_balance),
            )
        })?;
        check(
            "exposure_compensation_ev",
            self.exposure_compensation_ev,
            -10.0,
            10.0,
            "stops",
        )
        .map_err(|e| err(&e.key, e.expected))?;
        lighting.exposure = match (self.exposure, self.ev100) {
            ("auto", None) => Exposure::Auto {
                compensation_ev: self.exposure_compensation_ev,
            },
            ("auto", Some(_)) => {
                return Err(err(
                    "ev100",
                    "no `ev100` with exposure = \"auto\" (set exposure = \"manual\" to use it)"
                        .into(),
                ));
            }
            ("manual", Some(ev)) => {
                check(
                    "ev100",
                    ev,
                    -6.0,
                    24.0,
                    "an EV100 (indoors about 7, overcast 12, sun 15)",
                )
                .map_err(|e| err(&e.key, e.expected))?;
                if self.exposure_compensation_ev != 0.0 {
                    return Err(err(
                        "exposure_compensation_ev",
                        "no compensation with exposure = \"manual\" (change `ev100` instead)"
                            .into(),
                    ));
                }
                Exposure::Manual { ev100: ev }
            }
            ("manual", None) => {
                return Err(err("ev100", "an EV100 with exposure = \"manual\"".into()));
            }
            (other, _) => {
                return Err(err(
                    "exposure",
                    format!("\"auto\" or \"manual\", got {other:?}"),
                ));
            }
        };
        Ok(lighting)
    }
}

impl Lighting {
    /// Names accepted by `render.lighting`, in the table's order.
    pub fn preset_names() -> Vec<&'static str> {
        presets().iter().map(|p| p.name.as_str()).collect()
    }

    fn preset_entry(name: &str) -> Option<&'static Preset> {
        presets().iter().find(|p| p.name == name)
    }

    /// A preset with the default camera (automatic exposure, daylight white balance).
    pub fn preset(name: &str) -> Option<Lighting> {
        Self::preset_entry(name).map(|p| p.lighting)
    }

    /// The built-in scene's light: a soft 5,000 K key from the front-left above and fill
    /// from the room, about 1,000 lux in all.
    pub fn studio() -> Self {
        Self::preset("studio").expect("the preset table has `studio`")
    }

    /// Lighting from validated specs, with the default camera.
    pub fn from_specs(lights: &[LightSpec], sky: &SkySpec) -> Lighting {
        let built: Vec<DirectionalLight> = lights.iter().map(LightSpec::light).collect();
        let mut l = Lighting {
            key: built
                .first()
                .copied()
                .unwrap_or(DirectionalLight::new(0.0, 90.0, 0.0, 5500.0, 0.0)),
            fills: [DirectionalLight::new(0.0, 90.0, 0.0, 5500.0, 0.0); MAX_LIGHTS - 1],
            fill_count: 0,
            sky_lux: sky.illuminance_lux,
            sky_kelvin: sky.kelvin,
            sky_color: color::kelvin_to_linear_srgb(sky.kelvin),
            ground_lux: sky.ground_lux,
            ground_kelvin: sky.ground_kelvin.unwrap_or(sky.kelvin),
            ground_color: color::kelvin_to_linear_srgb(sky.ground_kelvin.unwrap_or(sky.kelvin)),
            shadows: true,
            exposure: Exposure::Auto {
                compensation_ev: 0.0,
            },
            white_balance: WhiteBalance::Daylight,
        };
        for f in built.iter().skip(1).take(MAX_LIGHTS - 1) {
            l.fills[l.fill_count] = *f;
            l.fill_count += 1;
        }
        l
    }

    /// The fill lights (no shadows), after the key.
    pub fn fills(&self) -> &[DirectionalLight] {
        &self.fills[..self.fill_count]
    }

    /// Replaces the fill lights (at most three are kept).
    pub fn set_fills(&mut self, fills: &[DirectionalLight]) {
        self.fill_count = fills.len().min(MAX_LIGHTS - 1);
        self.fills[..self.fill_count].copy_from_slice(&fills[..self.fill_count]);
    }

    /// All lights, key first.
    pub fn lights(&self) -> Vec<DirectionalLight> {
        std::iter::once(self.key)
            .chain(self.fills().iter().copied())
            .collect()
    }

    /// Illuminance (RGB, lux; luminance = lux) on a surface with unit normal `n`, from every
    /// light and the sky/ground hemisphere, ignoring shadows.
    pub fn irradiance_on(&self, n: Vec3) -> Vec3 {
        let hemi = 0.5 + 0.5 * n.y;
        let ambient = self.ground_color * self.ground_lux * (1.0 - hemi)
            + self.sky_color * self.sky_lux * hemi;
        self.lights()
            .iter()
            .map(|l| l.irradiance_on(n))
            .sum::<Vec3>()
            + ambient
    }

    /// The direction automatic exposure and adapted white balance meter from: the key light's
    /// (straight up when the key is off).
    pub fn metering_normal(&self) -> Vec3 {
        if self.key.illuminance_lux > 0.0 {
            self.key.direction_to_light.normalize_or(Vec3::Y)
        } else {
            Vec3::Y
        }
    }

    /// Illuminance (RGB, lux) on the metering grey card.
    pub fn grey_card_irradiance(&self) -> Vec3 {
        self.irradiance_on(self.metering_normal())
    }

    /// Luminance (cd/m²) of the 18% grey card facing the key light.
    pub fn grey_card_luminance(&self) -> f32 {
        GREY_CARD_REFLECTANCE / std::f32::consts::PI * color::luminance(self.grey_card_irradiance())
    }

    /// EV100 a reflected-light meter reads off the grey card: log2(L·100/12.5).
    pub fn metered_ev100(&self) -> f32 {
        (self.grey_card_luminance().max(1e-4) * 100.0 / METER_K).log2()
    }

    /// The camera's EV100: metered (less the compensation) or manual.
    pub fn ev100(&self) -> f32 {
        match self.exposure {
            Exposure::Auto { compensation_ev } => self.metered_ev100() - compensation_ev,
            Exposure::Manual { ev100 } => ev100,
        }
    }

    /// Multiplier from luminance (cd/m²) to the tonemapper's input (Frostbite/Filament:
    /// exposure = 1 / (1.2 · 2^EV100)).
    pub fn exposure(&self) -> f32 {
        1.0 / (1.2 * 2f32.powf(self.ev100()))
    }

    /// What the renderer multiplies luminance (cd/m²) by to get the tonemapper's input:
    /// [`Lighting::exposure`] times [`CAMERA_MIDTONE_GAIN`].
    pub fn exposure_scale(&self) -> f32 {
        self.exposure() * CAMERA_MIDTONE_GAIN
    }

    /// The white the camera balances to, as linear sRGB (any luminance).
    pub fn white_point(&self) -> Vec3 {
        match self.white_balance {
            WhiteBalance::Daylight => color::kelvin_to_linear_srgb(DAYLIGHT_WHITE_KELVIN),
            WhiteBalance::Adapted => self.grey_card_irradiance(),
        }
    }

    /// The white balance as a linear sRGB → linear sRGB matrix, applied before tonemapping.
    pub fn white_balance_matrix(&self) -> Mat3 {
        color::white_balance_matrix(self.white_point())
    }

    /// Radiance (linear sRGB, cd/m², white-balanced, before exposure) of the studio backdrop:
    /// an 18% grey card behind the head, catching half the key and all of the sky, a stop
    /// under the subject.
    pub fn backdrop_radiance(&self) -> Vec3 {
        let e = self.key.color * self.key.illuminance_lux * 0.5 + self.sky_color * self.sky_lux;
        self.white_balance_matrix() * (e * GREY_CARD_REFLECTANCE / std::f32::consts::PI * 0.5)
    }

    /// A one-line description for labels: the light on the metering grey card (all lights and
    /// the sky together) in lux, its correlated colour temperature, and the camera's EV100.
    pub fn summary(&self) -> String {
        let e = self.grey_card_irradiance();
        let cct = color::mccamy_cct(color::linear_srgb_to_xyz(e));
        format!(
            "{} lx, {} K, EV100 {:.1}",
            thousands(round_to_significant(color::luminance(e) as f64, 2) as u64),
            thousands((cct / 100.0).round() as u64 * 100),
            self.ev100()
        )
    }
}

/// `v` rounded to `digits` significant digits (118,734 → 120,000 for two).
pub fn round_to_significant(v: f64, digits: i32) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 0.0;
    }
    let scale = 10f64.powi(v.log10().floor() as i32 + 1 - digits);
    (v / scale).round() * scale
}

/// 100000 → "100,000".
pub fn thousands(v: u64) -> String {
    let s = v.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_include_the_required_ones() {
        let names = Lighting::preset_names();
        for n in [
            "studio",
            "sun-noon",
            "sun-low",
            "overcast",
            "office",
            "salon",
            "home-warm",
            "bathroom-downlight",
        ] {
            assert!(names.contains(&n), "missing preset {n}: {names:?}");
        }
    }

    #[test]
    fn angles_round_trip() {
        let l = DirectionalLight::new(35.0, 40.0, 1.0, 5000.0, 0.0);
        let (az, el) = l.angles_deg();
        assert!((az - 35.0).abs() < 1e-3 && (el - 40.0).abs() < 1e-3);
        // 90 degrees azimuth is the client's left, +X.
        assert!(direction_from_angles(90.0, 0.0).abs_diff_eq(Vec3::X, 1e-6));
    }

    #[test]
    fn auto_exposure_puts_the_grey_card_on_the_same_value() {
        for p in presets() {
            let l = p.lighting;
            let exposed = l.grey_card_luminance() * l.exposure();
            assert!((exposed - 1.0 / 9.6).abs() < 1e-4, "{}: {exposed}", p.name);
            let display = l.grey_card_luminance() * l.exposure_scale() - 0.04;
            assert!(
                (display - GREY_CARD_REFLECTANCE).abs() < 1e-4,
                "{}: {display}",
                p.name
            );
        }
    }

    #[test]
    fn summary_names_the_light_at_the_subject() {
        let s = Lighting::preset("overcast").unwrap().summary();
        let lux: f64 = s
            .split(" lx")
            .next()
            .unwrap()
            .replace(',', "")
            .parse()
            .unwrap();
        assert!(
            (900.0..=1200.0).contains(&lux) && s.contains(" lx, 6,"),
            "{s}"
        );
        let s = Lighting::preset("home-warm").unwrap().summary();
        assert!(s.contains(", 2,700 K,"), "{s}");
        assert_eq!(round_to_significant(118_734.0, 2), 120_000.0);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(100000), "100,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
    }

    #[test]
    fn preset_errors_name_the_preset_and_key() {
        let bad = "[[preset]]\nname = \"x\"\ndescription = \"\"\nsky = { illuminance_lux = 1, kelvin = 5000 }\n\
                   [[preset.lights]]\nazimuth_deg = 0\nelevation_deg = 45\nilluminance_lux = 10\nkelvin = 99\n";
        let e = parse_presets(bad).expect_err("kelvin 99");
        assert!(e.contains("lights[0].kelvin"), "{e}");
    }
}
