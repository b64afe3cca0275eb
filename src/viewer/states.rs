//! The treatment states a practitioner steps through in a consultation: the head after each
//! session, and years later as the pigment ages. Each state is a set of dots prepared once on
//! the GPU and kept, so stepping back and forth is instant after the first visit.

use crate::head::Head;
use crate::layout::Dot;
use crate::pigment::ageing::{AgeingModel, aged_dots};
use crate::plan::ScalpCondition;
use crate::render::{GpuScene, RenderError, Renderer};
use crate::scene::Scene;

/// Years after the last session the ageing key steps through when the scene asks for no
/// timeline (`[ageing] years`). 0 is the healed result as planned.
pub const AGEING_YEARS: [f32; 5] = [0.0, 1.0, 3.0, 5.0, 10.0];

/// GPU states kept at once: each holds a pigment map (tens of MB), so not all of them.
const MAX_CACHED: usize = 6;

/// Which state: after session `session` (1-based), `years` after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateKey {
    pub session: u8,
    pub years_index: usize,
}

/// One scene's head and plan, and its prepared states.
pub struct PlanStates {
    pub head: Head,
    /// Every dot of the plan, all sessions.
    pub dots: Vec<Dot>,
    pub pigment_map_size: u32,
    /// The client's hair and scars (drawn as stubble, hair tint and scar tissue).
    condition: ScalpCondition,
    stubble: crate::skin::Stubble,
    hair_linear: glam::Vec3,
    needle: crate::pigment::NeedleHand,
    ageing: AgeingModel,
    /// The ageing key's steps: 0 (healed, as planned), then the scene's timeline.
    years: Vec<f32>,
    /// Most recently used last.
    cache: Vec<(StateKey, GpuScene)>,
}

impl PlanStates {
    /// A scene's states: its dots on `head` for the client's `condition`.
    pub fn new(head: Head, dots: Vec<Dot>, scene: &Scene, condition: ScalpCondition) -> Self {
        let options = scene.surface_options(&condition);
        let (stubble, hair_linear, needle) = (options.stubble, options.hair_linear, options.needle);
        let timeline: Vec<f32> = scene
            .spec
            .ageing
            .years
            .iter()
            .copied()
            .filter(|&y| y > 0.0)
            .collect();
        let years = if timeline.is_empty() {
            AGEING_YEARS.to_vec()
        } else {
            std::iter::once(0.0).chain(timeline).collect()
        };
        PlanStates {
            head,
            dots,
            pigment_map_size: scene.spec.render.pigment_map_size,
            condition,
            stubble,
            hair_linear,
            needle,
            ageing: scene.ageing(),
            years,
            cache: Vec::new(),
        }
    }

    /// Years after the last session that a state shows.
    pub fn years(&self, key: StateKey) -> f32 {
        self.years[key.years_index % self.years.len()]
    }

    /// Steps of the ageing key.
    pub fn year_steps(&self) -> usize {
        self.years.len()
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
        let years = self.years(key);
        if years == 0.0 {
            placed
        } else {
            aged_dots(&placed, years, &self.ageing)
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
            let options = crate::render::SurfaceOptions {
                scalp: &self.condition,
                stubble: self.stubble,
                hair_linear: self.hair_linear,
                needle: self.needle,
            };
            let scene =
                renderer.prepare_with(&self.head, &dots, self.pigment_map_size, &options)?;
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
            needle: Default::default(),
        }
    }

    #[test]
    fn a_session_shows_the_dots_placed_up_to_it() {
        let head = crate::head::procedural::build(&Default::default());
        let scene = Scene::builtin();
        let condition = scene.condition(&head).unwrap();
        let states = PlanStates::new(
            head,
            vec![dot(1), dot(2), dot(2), dot(3)],
            &scene,
            condition,
        );
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
