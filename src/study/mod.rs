//! The front door: one client's scene, measured and laid out once, answering what every
//! command asks of it.
//!
//! A [`Study`] loads and validates a scene, builds (or loads) the head, measures the client's
//! condition on it and lays the plan's dots out, once. Then every command (`render`, `demo`,
//! `batch`, `turntable`, `sheet`, `view`, `bench`) asks it the same few questions:
//!
//! - the [`State`] after session `s`, healed or `y` years after the last session: its dots and
//!   how the skin looks ([`Study::dots`], [`Study::skin`]);
//! - the [`FrameSettings`] for a view at a size ([`Study::frame_settings`]);
//! - the state prepared on the GPU ([`Study::prepare`], cached: each distinct state once).
//!
//! One definition of the timeline serves them all: [`Age::Healed`] is the work as planned,
//! weeks after the last session; [`Age::Years`]`(0.0)` is the day of the last session, the
//! pigment fresh (darker) and the skin red, and later years fade, cool and spread
//! ([`crate::pigment::ageing`]).

use crate::camera::Camera;
use crate::head::Head;
use crate::layout::{Dot, DotLayout};
use crate::lighting::Lighting;
use crate::pigment::ageing::AgeingModel;
use crate::plan::{ScalpCondition, ScalpState};
use crate::render::{
    BitDepth, FrameImage, FrameSettings, GpuScene, RenderError, Renderer, SkinLook,
};
use crate::scene::{OutputKind, Scene, SceneError, ViewName};
use glam::Vec3;
use std::path::Path;
use std::rc::Rc;
use std::time::Instant;

/// How long after the last session a state shows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Age {
    /// Healed, as planned: the dots as laid out, the skin calm (weeks after the session).
    Healed,
    /// This many years after the last session; 0 is the day of it (fresh, darker, red).
    Years(f32),
}

impl Age {
    /// "healed", "year 0", "year 2.5".
    pub fn label(self) -> String {
        match self {
            Age::Healed => "healed".into(),
            Age::Years(y) => format!("year {y}"),
        }
    }
}

/// One treatment state: after session `session` (1-based), at `age`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct State {
    pub session: u8,
    pub age: Age,
}

/// Prepared states kept on the GPU at once: each holds a pigment map (tens of MB).
const MAX_PREPARED: usize = 6;

/// Milliseconds spent loading the scene and head, and laying the plan out.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StudyTimings {
    pub load_ms: f64,
    pub layout_ms: f64,
}

/// A scene with its head, condition and layout: see the module docs.
pub struct Study {
    pub scene: Scene,
    pub head: Rc<Head>,
    pub condition: Rc<ScalpCondition>,
    /// Every dot of the plan, all sessions, as laid out (healed).
    pub layout: Rc<DotLayout>,
    /// The mid-frontal point of the hairline the close-up views look at.
    pub hairline: Option<Vec3>,
    pub lighting: Lighting,
    /// The client's skin, healed (no redness).
    pub skin: SkinLook,
    pub ageing: AgeingModel,
    pub timings: StudyTimings,
    /// Most recently used last.
    prepared: Vec<(State, GpuScene)>,
}

/// Everything [`Renderer::prepare_with`] needs from a scene besides the head and dots: the
/// client's condition, stubble, hair colour and the practitioner's hand.
pub fn surface_options<'a>(
    scene: &Scene,
    scalp: &'a dyn ScalpState,
) -> crate::render::SurfaceOptions<'a> {
    crate::render::SurfaceOptions {
        scalp,
        stubble: scene.stubble(),
        hair_linear: scene.hair_linear(),
        needle: scene.needle_hand(),
        skin_albedo: Some(scene.skin())
            .filter(|s| !s.albedo_from_scan)
            .map(|s| s.albedo_linear),
    }
}

impl Study {
    /// Loads, validates and lays out a scene file.
    pub fn load(path: &Path) -> Result<Study, SceneError> {
        let t = Instant::now();
        let scene = Scene::load(path)?;
        let head = Rc::new(scene.head()?);
        let load_ms = ms(t);
        let mut study = Study::with_head(scene, head)?;
        study.timings.load_ms += load_ms;
        Ok(study)
    }

    /// A parsed scene, its head built or loaded here.
    pub fn new(scene: Scene) -> Result<Study, SceneError> {
        let t = Instant::now();
        let head = Rc::new(scene.head()?);
        let load_ms = ms(t);
        let mut study = Study::with_head(scene, head)?;
        study.timings.load_ms += load_ms;
        Ok(study)
    }

    /// A parsed scene on a head already built for it (shared between batch variants).
    pub fn with_head(scene: Scene, head: Rc<Head>) -> Result<Study, SceneError> {
        let t = Instant::now();
        let (layout, condition) = scene.lay_out(&head)?;
        let layout_ms = ms(t);
        Ok(Study {
            hairline: layout.region.as_ref().map(|r| r.mid_frontal_point()),
            lighting: scene.lighting(),
            skin: scene.skin(),
            ageing: scene.ageing(),
            head,
            condition: Rc::new(condition),
            layout: Rc::new(layout),
            scene,
            timings: StudyTimings {
                load_ms: 0.0,
                layout_ms,
            },
            prepared: Vec::new(),
        })
    }

    /// The same head, condition and layout under another scene's look (skin, lighting,
    /// camera, outputs, timeline). The caller vouches that `scene` has the same head,
    /// condition and plan (batch compares typed keys). Prepared states are kept unless what
    /// they were prepared from changed: the surface (stubble, hair, needle hand, map size)
    /// drops them all, the ageing model the aged ones.
    pub fn restyle(&mut self, scene: Scene) {
        let surface = |s: &Scene| {
            (
                s.spec.client.stubble.clone(),
                s.spec.client.hair.clone(),
                s.spec.needle.clone(),
                s.spec.render.pigment_map_size,
                // The dots' look is made for the skin.
                s.spec.client.skin.clone(),
            )
        };
        if surface(&scene) != surface(&self.scene) {
            self.prepared.clear();
        } else if scene.ageing() != self.ageing {
            self.prepared.retain(|(s, _)| s.age == Age::Healed);
        }
        self.lighting = scene.lighting();
        self.skin = scene.skin();
        self.ageing = scene.ageing();
        self.scene = scene;
    }

    /// Sessions the plan has (at least 1).
    pub fn sessions(&self) -> u8 {
        (self.scene.plan().sessions.len() as u8).max(1)
    }

    /// The state after the last session, healed: what `render` shows by default.
    pub fn healed(&self) -> State {
        State {
            session: self.sessions(),
            age: Age::Healed,
        }
    }

    /// The state after the last session at `age`.
    pub fn after(&self, age: Age) -> State {
        State {
            session: self.sessions(),
            age,
        }
    }

    /// The state the scene asks for: after `render.session` (default the last), healed.
    pub fn scene_state(&self) -> State {
        State {
            session: self.scene.spec.render.session.unwrap_or(self.sessions()),
            age: Age::Healed,
        }
    }

    /// The ageing timeline the scene asks for (`[ageing] years`), after `session`.
    pub fn timeline(&self, session: u8) -> Vec<State> {
        self.scene
            .spec
            .ageing
            .years
            .iter()
            .map(|&y| State {
                session,
                age: Age::Years(y),
            })
            .collect()
    }

    /// The dots of a state: those placed up to its session, aged.
    pub fn dots(&self, state: State) -> Vec<Dot> {
        let placed = self
            .layout
            .dots
            .iter()
            .filter(|d| d.session <= state.session);
        match state.age {
            Age::Healed => placed.copied().collect(),
            Age::Years(y) => placed.map(|d| self.ageing.age(d, y)).collect(),
        }
    }

    /// How the skin of a state looks: red on the day of a session, calm once healed.
    pub fn skin(&self, state: State) -> SkinLook {
        SkinLook {
            redness: match state.age {
                Age::Healed => 0.0,
                Age::Years(y) => self.ageing.redness(y),
            },
            ..self.skin
        }
    }

    /// The camera for a view of a `width` x `height` frame.
    pub fn camera(&self, view: ViewName, width: u32, height: u32) -> Camera {
        let r = &self.scene.spec.render;
        let aspect = width as f32 / height as f32;
        let mut camera = Camera::for_view(
            &self.head,
            view,
            r.focal_length_mm,
            aspect,
            r.distance_mm,
            self.hairline,
        );
        if camera.ortho_height_mm.is_some() {
            camera.ortho_height_mm = Some(r.macro_width_mm / aspect);
        }
        camera
    }

    /// The frame settings for `view` of `state` at `width` x `height` (the "after"; set
    /// `show_dots` false for the "before").
    pub fn frame_settings(
        &self,
        view: ViewName,
        state: State,
        width: u32,
        height: u32,
    ) -> FrameSettings {
        FrameSettings {
            camera: self.camera(view, width, height),
            lighting: self.lighting,
            skin: self.skin(state),
            width,
            height,
            supersample: self.scene.spec.render.supersample,
            show_dots: true,
            single_dots: true,
        }
    }

    /// [`Study::frame_settings`] at the scene's own size.
    pub fn view_settings(&self, view: ViewName, state: State) -> FrameSettings {
        let r = &self.scene.spec.render;
        self.frame_settings(view, state, r.width, r.height)
    }

    /// The bit depth the scene asks for.
    pub fn bit_depth(&self) -> BitDepth {
        if self.scene.spec.render.bit_depth == 16 {
            BitDepth::Sixteen
        } else {
            BitDepth::Eight
        }
    }

    pub fn is_prepared(&self, state: State) -> bool {
        self.prepared.iter().any(|(s, _)| *s == state)
    }

    /// A state on the GPU, prepared on first use and kept (the last few).
    pub fn prepare(&mut self, renderer: &Renderer, state: State) -> Result<&GpuScene, RenderError> {
        if let Some(i) = self.prepared.iter().position(|(s, _)| *s == state) {
            let entry = self.prepared.remove(i);
            self.prepared.push(entry);
        } else {
            let dots = self.dots(state);
            // Every state shares the head and the client: from another prepared state only
            // the dots change (a session or ageing key re-prepares just them).
            let like = match self.prepared.last() {
                Some((_, base)) => renderer.prepare_dots_like(base, &dots)?,
                None => None,
            };
            let gpu = match like {
                Some(gpu) => gpu,
                None => renderer.prepare_with(
                    &self.head,
                    &dots,
                    self.scene.spec.render.pigment_map_size,
                    &surface_options(&self.scene, &*self.condition),
                )?,
            };
            if self.prepared.len() >= MAX_PREPARED {
                self.prepared.remove(0);
            }
            self.prepared.push((state, gpu));
        }
        Ok(&self.prepared.last().expect("just pushed").1)
    }

    /// Drops every prepared state (their GPU buffers).
    pub fn forget_prepared(&mut self) {
        self.prepared.clear();
    }

    /// Renders what an output of `view` needs of `state`: (before, after) frames, each only
    /// when the output shows it.
    pub fn render_output(
        &mut self,
        renderer: &mut Renderer,
        view: ViewName,
        state: State,
        kind: OutputKind,
    ) -> Result<(Option<FrameImage>, Option<FrameImage>), RenderError> {
        let settings = self.view_settings(view, state);
        self.render_pair(renderer, &settings, state, needs(kind))
    }

    /// Renders the before and/or after of `settings` for `state`.
    pub fn render_pair(
        &mut self,
        renderer: &mut Renderer,
        settings: &FrameSettings,
        state: State,
        (need_before, need_after): (bool, bool),
    ) -> Result<(Option<FrameImage>, Option<FrameImage>), RenderError> {
        let depth = self.bit_depth();
        let gpu = self.prepare(renderer, state)?;
        // Before the treatment the skin is calm, whatever the state.
        let before_settings = FrameSettings {
            show_dots: false,
            skin: SkinLook {
                redness: 0.0,
                ..settings.skin
            },
            ..*settings
        };
        if need_before && need_after {
            // Drawn together: they share the surface and its light where they can.
            let (before, after) =
                renderer.render_before_after(gpu, &before_settings, settings, depth)?;
            return Ok((Some(before), Some(after)));
        }
        let before = need_before
            .then(|| renderer.render_image(gpu, &before_settings, depth))
            .transpose()?;
        let after = need_after
            .then(|| renderer.render_image(gpu, settings, depth))
            .transpose()?;
        Ok((before, after))
    }
}

/// Which frames an output needs: (before, after).
pub fn needs(kind: OutputKind) -> (bool, bool) {
    match kind {
        OutputKind::Before => (true, false),
        OutputKind::After => (false, true),
        OutputKind::BeforeAfter => (true, true),
    }
}

/// "year05", or "year0.5" / "day03" for fractions (fresh work is counted in days): the file
/// name suffix of an ageing state.
pub fn year_label(years: f32) -> String {
    if years.fract() == 0.0 {
        format!("year{:02}", years as u32)
    } else if years < 0.1 {
        format!("day{:02}", (years * 365.25).round() as u32)
    } else {
        format!("year{years}")
    }
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_zero_is_fresh_and_red_and_healed_is_calm() {
        let study = Study::new(Scene::builtin()).unwrap();
        let healed = study.healed();
        let day0 = study.after(Age::Years(0.0));
        assert_eq!(study.skin(healed).redness, 0.0);
        assert!(study.skin(day0).redness > 0.9, "{:?}", study.skin(day0));
        let mean_shade = |s| {
            let d = study.dots(s);
            d.iter().map(|d| d.shade as f64).sum::<f64>() / d.len().max(1) as f64
        };
        assert!(mean_shade(day0) > mean_shade(healed) + 0.01);
        assert_eq!(study.dots(healed), study.layout.dots);
    }

    #[test]
    fn year_labels() {
        assert_eq!(year_label(5.0), "year05");
        assert_eq!(year_label(0.0), "year00");
        assert_eq!(year_label(0.5), "year0.5");
        assert_eq!(year_label(7.0 / 365.25), "day07");
    }
}
