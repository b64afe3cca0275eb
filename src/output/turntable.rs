//! Turntables: N frames on a circle around the head, written as numbered PNGs and as one
//! looping animated PNG.

use super::OutputError;
use super::composite::compose;
use super::png::{ApngWriter, PngMeta, keys, write_image};
use crate::camera::Camera;
use crate::render::{FrameSettings, RenderError, Renderer};
use crate::scene::{OutputKind, ViewName};
use crate::study::{Study, needs};
use glam::{Quat, Vec3};
use std::path::{Path, PathBuf};

/// The most frames a turntable may have: one every 0.1 degree.
pub const MAX_FRAMES: u32 = super::png::MAX_ANIMATION_FRAMES;

/// Camera elevation above the eye line: the three-quarter views' slight look down, their
/// direction [`crate::camera::FRONT_LEFT_DIR`] (0.7, 0.15, 0.7) (about 8.6°).
pub fn elevation_rad() -> f32 {
    0.15f32.atan2(0.7 * std::f32::consts::SQRT_2)
}

/// The front view's camera moved round the head's vertical axis by `azimuth_rad` (positive:
/// toward the client's left) and raised by `elevation_rad`, at the same distance.
pub fn orbit_camera(front: &Camera, azimuth_rad: f32, elevation_rad: f32) -> Camera {
    let offset = front.eye_mm - front.target_mm;
    let dir = Quat::from_rotation_y(azimuth_rad) * (Quat::from_rotation_x(-elevation_rad) * offset);
    Camera {
        eye_mm: front.target_mm + dir,
        up: Vec3::Y,
        ..*front
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TurntableError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// What a turntable wrote.
#[derive(Clone, Debug)]
pub struct Turntable {
    pub frames: Vec<PathBuf>,
    pub animation: PathBuf,
}

/// The camera of turntable frame `index` of `count`: the front view's camera turned
/// `index / count` of a full turn toward the client's left, at the three-quarter views'
/// elevation (so the frame at 45° is the `front-left` view).
pub fn frame_camera(front: &Camera, index: u32, count: u32) -> Camera {
    let azimuth = index as f32 / count.max(1) as f32 * std::f32::consts::TAU;
    orbit_camera(front, azimuth, elevation_rad())
}

/// Renders `count` frames evenly round the head into `dir` (`turntable-000.png`, ...) and the
/// looping animation `turntable.png` at `fps` (0.1 to 100). `kind` picks before, after or both
/// side by side. At most [`MAX_FRAMES`]; frames are streamed into the animation, so memory
/// does not grow with their number. The frames show the study's scene state
/// ([`Study::scene_state`]).
pub fn render_turntable(
    renderer: &mut Renderer,
    study: &mut Study,
    kind: OutputKind,
    count: u32,
    fps: f32,
    dir: &Path,
    mut progress: impl FnMut(u32),
) -> Result<Turntable, TurntableError> {
    let count = count.max(1);
    let fps = if fps.is_finite() { fps } else { 12.0 };
    let state = study.scene_state();
    let base = study.view_settings(ViewName::Front, state);
    let disclaimer = study.scene.spec.render.disclaimer;
    let meta = PngMeta::for_scene(&study.scene).with(keys::OUTPUT, kind.as_str());
    let mut frames = Vec::new();
    // The animation is written as the frames come: memory does not grow with their number.
    let animation_path = dir.join("turntable.png");
    let delay_ms = (1000.0 / fps.clamp(0.1, 100.0)).round() as u16;
    let mut animation: Option<ApngWriter> = None;
    for i in 0..count {
        let settings = FrameSettings {
            camera: frame_camera(&base.camera, i, count),
            ..base
        };
        let (before, after) = study.render_pair(renderer, &settings, state, needs(kind))?;
        let path = dir.join(format!("turntable-{i:03}.png"));
        let azimuth = i as f32 / count as f32 * 360.0;
        let deg = (azimuth * 10.0).round() / 10.0;
        let image = write_image(
            &path,
            compose(kind, before.as_ref(), after.as_ref()),
            disclaimer,
            &meta
                .clone()
                .with(keys::VIEW, format!("turntable {deg} deg")),
        )?;
        let apng = match &mut animation {
            Some(a) => a,
            None => {
                let (w, h) = image.dimensions();
                let meta = meta.clone().with(keys::VIEW, "turntable");
                animation.insert(ApngWriter::create(
                    &animation_path,
                    w,
                    h,
                    count,
                    delay_ms,
                    &meta,
                )?)
            }
        };
        apng.push(&image)?;
        frames.push(path);
        progress(i + 1);
    }
    if let Some(a) = animation {
        a.finish()?;
    }
    Ok(Turntable {
        frames,
        animation: animation_path,
    })
}
