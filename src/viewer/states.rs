//! The treatment states a practitioner steps through in a consultation: the head after each
//! session, and years later as the pigment ages. Each state is a set of dots prepared once on
//! the GPU and kept, so stepping back and forth is instant after the first visit.

use crate::head::Head;
use crate::layout::Dot;
use crate::pigment::ageing::{AgeingModel, aged_dots};
use crate::render::{GpuScene, RenderError, Renderer};

/// Years after the last session the ageing key steps through.
pub const AGEING_YEARS: [f32; 5] = [0.0, 1.0, 3.0, 5.0, 10.0];

/// GPU states kept at once: each holds a pigment map (tens of MB), so not all of them.
const MAX_CACHED: usize = 6;

/// Which state: after session `session` (1-based), `years` after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateKey {
    pub session: u8,
    pub years_index: usize,
}

impl StateKey {
    pub fn years(&self) -> f32 {
        AGEING_YEARS[self.years_index % AGEING_YEARS.len()]
    }
}

/// One scene's head and plan, and its prepared states.
pub struct PlanStates {
    pub head: Head,
    /// Every dot of the plan, all sessions.
    pub dots: Vec<Dot>,
    pub pigment_map_size: u32,
    /// Most recently used last.
    cache: Vec<(StateKey, GpuScene)>,
}

impl PlanStates {
    pub fn new(head: Head, dots: Vec<Dot>, pigment_map_size: u32) -> PlanStates {
        PlanStates {
            head,
            dots,
            pigment_map_size,
            cache: Vec::new(),
        }
    }

    /// The last session any dot belongs to (at least 1).
    pub fn sessions(&self) -> u8 {
        self.dots
            .iter()
            .map(|d| d.session)
            .max()
            .unwrap_or(1)
            .max(1)
    }

    /// The dots of a state: those placed up to its session, aged.
    pub fn dots_of(&self, key: StateKey) -> Vec<Dot> {
        let placed: Vec<Dot> = self
            .dots
            .iter()
            .filter(|d| d.session <= key.session)
            .copied()
            .collect();
        if key.years() == 0.0 {
            placed
        } else {
            aged_dots(&placed, key.years(), &AgeingModel::default())
        }
    }

    pub fn is_prepared(&self, key: StateKey) -> bool {
        self.cache.iter().any(|(k, _)| *k == key)
    }

    /// The state on the GPU, prepared on first use.
    pub fn get(&mut self, renderer: &Renderer, key: StateKey) -> Result<&GpuScene, RenderError> {
        if let Some(i) = self.cache.iter().position(|(k, _)| *k == key) {
            let entry = self.cache.remove(i);
            self.cache.push(entry);
        } else {
            let dots = self.dots_of(key);
            let scene = renderer.prepare(&self.head, &dots, self.pigment_map_size)?;
            if self.cache.len() >= MAX_CACHED {
                self.cache.remove(0);
            }
            self.cache.push((key, scene));
        }
        Ok(&self.cache.last().expect("just pushed").1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use glam::Vec3;

    fn dot(session: u8) -> Dot {
        Dot {
            position_mm: Vec3::ZERO,
            normal: Vec3::Y,
            diameter_mm: 0.1,
            depth_mm: 0.3,
            shade: 0.7,
            session,
        }
    }

    #[test]
    fn a_session_shows_the_dots_placed_up_to_it() {
        let head = crate::head::procedural::build(&Default::default());
        let states = PlanStates::new(head, vec![dot(1), dot(2), dot(2), dot(3)], 64);
        assert_eq!(states.sessions(), 3);
        let key = |session| StateKey {
            session,
            years_index: 0,
        };
        assert_eq!(states.dots_of(key(1)).len(), 1);
        assert_eq!(states.dots_of(key(2)).len(), 3);
        assert_eq!(states.dots_of(key(3)).len(), 4);
    }
}
