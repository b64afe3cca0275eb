//! Pigment ageing: how healed dots change over the years (fading, blowout, colour shift).
//!
//! A model, not a measurement (the brief: no published fade curve exists).

use crate::layout::Dot;

/// Parameters of the ageing model.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AgeingModel {
    /// 0 = always covered, 1 = outdoors bare-headed most days.
    pub sun_exposure: f32,
}

impl Default for AgeingModel {
    fn default() -> Self {
        Self { sun_exposure: 0.5 }
    }
}

/// The dots as they look `years` after the last session.
pub fn aged_dots(dots: &[Dot], _years: f32, _model: &AgeingModel) -> Vec<Dot> {
    dots.to_vec()
}
