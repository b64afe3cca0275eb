//! The treatment states a practitioner steps through in a consultation: the head after each
//! session, healed, and along the ageing timeline. The states themselves (their dots, the
//! skin's look, the prepared GPU scenes) are the front door's ([`Study`]); this only numbers
//! the steps the session and ageing keys walk through.

use crate::render::{GpuScene, RenderError, Renderer, SkinLook};
use crate::study::{Age, State, Study};

/// Years after the last session the ageing key steps through (after "healed") when the scene
/// asks for no timeline (`[ageing] years`).
pub const AGEING_YEARS: [f32; 4] = [1.0, 3.0, 5.0, 10.0];

/// Which state: after session `session` (1-based), at the `years_index`th step of the ageing
/// key (0: healed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StateKey {
    pub session: u8,
    pub years_index: usize,
}

/// One scene's study and the steps of its ageing key.
pub struct PlanStates {
    pub study: Study,
    /// The ageing key's steps: healed, then the scene's timeline (year 0 is the day of the
    /// session, fresh and red, as everywhere else).
    ages: Vec<Age>,
}

impl PlanStates {
    pub fn new(study: Study) -> Self {
        let timeline = &study.scene.spec.ageing.years;
        let years: Vec<f32> = if timeline.is_empty() {
            AGEING_YEARS.to_vec()
        } else {
            timeline.clone()
        };
        let ages = std::iter::once(Age::Healed)
            .chain(years.into_iter().map(Age::Years))
            .collect();
        PlanStates { study, ages }
    }

    /// How long after the last session a state shows.
    pub fn age(&self, key: StateKey) -> Age {
        self.ages[key.years_index % self.ages.len()]
    }

    /// The front door's state for a key.
    pub fn state(&self, key: StateKey) -> State {
        State {
            session: key.session,
            age: self.age(key),
        }
    }

    /// Steps of the ageing key.
    pub fn year_steps(&self) -> usize {
        self.ages.len()
    }

    /// Sessions of the plan.
    pub fn sessions(&self) -> u8 {
        self.study.sessions()
    }

    /// Every dot of the plan, all sessions.
    pub fn dot_count(&self) -> usize {
        self.study.layout.dots.len()
    }

    /// How the skin of a state looks (red on the day of a session).
    pub fn skin(&self, key: StateKey) -> SkinLook {
        self.study.skin(self.state(key))
    }

    pub fn is_prepared(&self, key: StateKey) -> bool {
        self.study.is_prepared(self.state(key))
    }

    /// The state on the GPU, prepared on first use.
    pub fn get(&mut self, renderer: &Renderer, key: StateKey) -> Result<&GpuScene, RenderError> {
        let state = self.state(key);
        self.study.prepare(renderer, state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::Scene;

    #[test]
    fn the_ageing_key_starts_healed_and_year_zero_is_red() {
        let scene = Scene::parse(
            "[client]\nskin = \"#d7a486\"\n[ageing]\nyears = [0, 5]\n",
            std::path::Path::new("s.toml"),
        )
        .unwrap();
        let states = PlanStates::new(Study::new(scene).unwrap());
        let key = |years_index| StateKey {
            session: 1,
            years_index,
        };
        assert_eq!(states.year_steps(), 3);
        assert_eq!(states.age(key(0)), Age::Healed);
        assert_eq!(states.skin(key(0)).redness, 0.0);
        assert_eq!(states.age(key(1)), Age::Years(0.0));
        assert!(states.skin(key(1)).redness > 0.9);
    }
}
