//! Pigment ageing: how dots change over the years (healing, fading, migration, blowout,
//! touch-ups).
//!
//! A model, not a measurement (the brief: no published fade curve exists). Every constant
//! below is a default chosen to reproduce what clinics report qualitatively: fresh work is
//! darker for about a week and red for 2-5 days; healed work is 2-3 shades lighter; a
//! touch-up is due every 2-5 years, sooner for a scalp in the sun; old work drifts blue-grey;
//! dots placed too deep spread ("blowout"). It changes only the dots' plain data (shade, depth,
//! diameter), so every renderer path (single dots and the pigment map) ages the same way, and
//! the optics stay in one place ([`super::appearance`]): pigment that migrates deeper is seen
//! through more skin, which is what makes it lighter and cooler.

use crate::layout::Dot;

/// One "shade" as practitioners count them: a tenth of undiluted carbon black.
pub const SHADE_STEP: f32 = 0.1;
/// Fresh work is this many shades darker than healed (the brief: healed is 2-3 lighter): the
/// pigment still in the epidermis and the scab, shed while the skin heals.
pub const FRESH_EXTRA_SHADES: f32 = 2.5;
/// e-folding time of healing (days): 90% of the extra darkness is gone after a week.
pub const HEALING_DAYS: f32 = 3.0;
/// e-folding time of the redness around treated skin (days): faint by day 5.
pub const REDNESS_DAYS: f32 = 2.0;
/// e-folding time (years) of the pigment the skin retains, for a scalp never in the sun.
pub const FADE_YEARS_COVERED: f32 = 12.0;
/// How much faster a scalp bare in the sun every day fades (UV breaks carbon particles up so
/// macrophages clear them): the fade time is divided by 1 + this x sun_exposure.
pub const SUN_FADE_FACTOR: f32 = 1.5;
/// Pigment migrates deeper and diffuses over the years, up to this much (mm) ...
pub const MIGRATION_MM: f32 = 0.15;
/// ... with this e-folding time (years): seen through more skin it reads cooler (blue-grey).
pub const MIGRATION_YEARS: f32 = 4.0;
/// Dots placed deeper than [`super::WELL_PLACED_DEPTH_MM`] keep spreading: extra diameter (mm)
/// per mm of excess depth, reached with the e-folding time [`BLOWOUT_YEARS`].
pub const BLOWOUT_MM_PER_MM: f32 = 0.3;
pub const BLOWOUT_YEARS: f32 = 2.0;

const DAYS_PER_YEAR: f32 = 365.25;

/// Parameters of the ageing model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AgeingModel {
    /// 0 = always covered, 1 = outdoors bare-headed most days.
    pub sun_exposure: f32,
    /// A touch-up session every this many years restores the faded shade (None: none).
    pub touch_up_every_years: Option<f32>,
}

impl Default for AgeingModel {
    fn default() -> Self {
        Self {
            sun_exposure: 0.5,
            touch_up_every_years: None,
        }
    }
}

impl AgeingModel {
    /// Years since the last session (the last touch-up, or the treatment itself).
    pub fn years_since_session(&self, years: f32) -> f32 {
        let t = years.max(0.0);
        match self.touch_up_every_years {
            Some(every) if every > 0.0 => t % every,
            _ => t,
        }
    }

    /// Fraction of the healed pigment the skin still holds after `years` (1 right after a
    /// session).
    pub fn retained(&self, years: f32) -> f32 {
        let tau = FADE_YEARS_COVERED / (1.0 + SUN_FADE_FACTOR * self.sun_exposure.clamp(0.0, 1.0));
        (-self.years_since_session(years) / tau).exp()
    }

    /// Extra shades of fresh (unhealed) work, `years` after the treatment.
    pub fn fresh_extra_shade(&self, years: f32) -> f32 {
        let days = self.years_since_session(years) * DAYS_PER_YEAR;
        FRESH_EXTRA_SHADES * SHADE_STEP * (-days / HEALING_DAYS).exp()
    }

    /// Redness of the treated skin (0-1), `years` after the last session.
    pub fn redness(&self, years: f32) -> f32 {
        let days = self.years_since_session(years) * DAYS_PER_YEAR;
        (-days / REDNESS_DAYS).exp()
    }

    /// How much deeper (mm) pigment sits after `years` (touch-ups add pigment, but the old
    /// pigment keeps migrating, so this follows the time since the treatment).
    pub fn migration_mm(&self, years: f32) -> f32 {
        MIGRATION_MM * (1.0 - (-years.max(0.0) / MIGRATION_YEARS).exp())
    }

    /// The dot as it looks `years` after the treatment.
    pub fn age(&self, dot: &Dot, years: f32) -> Dot {
        let excess = (dot.depth_mm - super::WELL_PLACED_DEPTH_MM).max(0.0);
        let blowout = BLOWOUT_MM_PER_MM * excess * (1.0 - (-years.max(0.0) / BLOWOUT_YEARS).exp());
        Dot {
            shade: (dot.shade * self.retained(years) + self.fresh_extra_shade(years)).min(1.0),
            depth_mm: dot.depth_mm + self.migration_mm(years),
            diameter_mm: dot.diameter_mm + blowout,
            ..*dot
        }
    }
}

/// The dots as they look `years` after the last session (0 = the day of treatment: fresh,
/// darker; a few weeks on: healed, as planned; then faded, cooler, spread).
pub fn aged_dots(dots: &[Dot], years: f32, model: &AgeingModel) -> Vec<Dot> {
    dots.iter().map(|d| model.age(d, years)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pigment::appearance;
    use glam::Vec3;

    fn dot(depth_mm: f32) -> Dot {
        Dot {
            position_mm: Vec3::ZERO,
            normal: Vec3::Y,
            diameter_mm: 0.12,
            depth_mm,
            shade: 0.6,
            session: 1,
            needle: Default::default(),
        }
    }

    #[test]
    fn fresh_is_darker_and_red_healed_is_as_planned() {
        let m = AgeingModel::default();
        let fresh = m.age(&dot(0.35), 0.0);
        assert!((fresh.shade - 0.85).abs() < 1e-3, "{}", fresh.shade);
        assert!(m.redness(0.0) > 0.99 && m.redness(5.0 / 365.25) < 0.1);
        let healed = m.age(&dot(0.35), 30.0 / 365.25);
        assert!((healed.shade - 0.6).abs() < 0.01, "{}", healed.shade);
    }

    #[test]
    fn years_fade_cool_and_spread_deep_dots_and_touch_ups_restore() {
        let m = AgeingModel::default();
        let healed = m.age(&dot(0.35), 0.1);
        let old = m.age(&dot(0.35), 5.0);
        let (a0, a5) = (
            appearance(
                crate::pigment::default_skin(),
                healed.shade,
                healed.depth_mm,
                healed.diameter_mm,
            ),
            appearance(
                crate::pigment::default_skin(),
                old.shade,
                old.depth_mm,
                old.diameter_mm,
            ),
        );
        // The look of both follows the optics tables: less carbon (the shade scales the number
        // of laden cells, so fading shows) and a deeper reach (a little more halo).
        assert!(
            a5.core_darkening.x < 0.9 * a0.core_darkening.x,
            "{a0:?} {a5:?}"
        );
        assert!(a5 != a0);
        assert_eq!(old.diameter_mm, 0.12);
        assert!(m.age(&dot(1.0), 5.0).diameter_mm > 0.25);
        let sunny = AgeingModel {
            sun_exposure: 1.0,
            ..m
        };
        assert!(sunny.age(&dot(0.35), 5.0).shade < old.shade);
        let touched = AgeingModel {
            touch_up_every_years: Some(3.0),
            ..m
        };
        assert!(touched.age(&dot(0.35), 3.5).shade > m.age(&dot(0.35), 3.5).shade);
    }
}
