//! Light in physical units: illuminance in lux, and the camera exposure that goes with it.

use glam::Vec3;

/// Incident-light meter calibration constant (ISO 2720, flat sensor): EV100 = log2(E·100/C).
const INCIDENT_METER_C: f32 = 250.0;

/// A distant light such as the sun or a key lamp.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DirectionalLight {
    /// Unit vector from the head toward the light (head space).
    pub direction_to_light: Vec3,
    /// Illuminance on a surface facing the light.
    pub illuminance_lux: f32,
    /// Linear-RGB colour, luminance-normalised (1,1,1 = neutral white).
    pub color: Vec3,
}

/// Everything that lights a frame: one key light plus a sky/ground ambient term.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lighting {
    pub key: DirectionalLight,
    /// Illuminance from the upper hemisphere on an upward-facing surface (sky, ceiling).
    pub sky_lux: f32,
    pub sky_color: Vec3,
    /// Illuminance bounced up from the ground or floor.
    pub ground_lux: f32,
    pub ground_color: Vec3,
    /// Camera exposure compensation on top of the metered exposure, in stops.
    pub exposure_compensation_ev: f32,
}

impl Lighting {
    /// Names accepted by `render.lighting`.
    pub const PRESET_NAMES: &'static [&'static str] = &["studio"];

    pub fn preset(name: &str) -> Option<Lighting> {
        match name {
            "studio" => Some(Self::studio()),
            _ => None,
        }
    }

    /// Soft studio/consultation light: a 5000 K key from the front-left above, fill from the
    /// room. About 1,000 lux in all, a well-lit salon.
    pub fn studio() -> Self {
        Self {
            key: DirectionalLight {
                direction_to_light: Vec3::new(0.45, 0.65, 0.62).normalize(),
                illuminance_lux: 700.0,
                color: Vec3::ONE,
            },
            sky_lux: 350.0,
            sky_color: Vec3::new(0.97, 0.99, 1.03),
            ground_lux: 120.0,
            ground_color: Vec3::new(1.03, 1.0, 0.96),
            exposure_compensation_ev: 0.0,
        }
    }

    /// EV100 an incident-light meter reads for this light.
    pub fn metered_ev100(&self) -> f32 {
        let e = self.key.illuminance_lux + self.sky_lux + 0.5 * self.ground_lux;
        (e.max(1e-3) * 100.0 / INCIDENT_METER_C).log2()
    }

    /// Multiplier from luminance (cd/m²) to the tonemapper's input (Frostbite/Filament:
    /// exposure = 1 / (1.2 · 2^EV100)).
    pub fn exposure(&self) -> f32 {
        let ev100 = self.metered_ev100() - self.exposure_compensation_ev;
        1.0 / (1.2 * 2f32.powf(ev100))
    }
}
