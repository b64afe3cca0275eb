//! Turntables: N frames on a circle around the head, written as numbered PNGs and as one
//! looping animated PNG.

use super::OutputError;
use super::composite::{compose, frame_settings};
use super::png::{ApngWriter, PngMeta, keys, write_png};
use crate::head::Head;
use crate::render::camera::{Camera, ViewName};
use crate::render::{GpuScene, RenderError, Renderer};
use crate::scene::{OutputKind, Scene};
use glam::{Quat, Vec3};
use std::path::{Path, PathBuf};

/// The most frames a turntable may have: one every 0.1 degree.
pub const MAX_FRAMES: u32 = super::png::MAX_ANIMATION_FRAMES;

/// Camera elevation above the eye line: the three-quarter views' slight look down (degrees).
pub const ELEVATION_DEG: f32 = 8.5;

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

/// Renders `count` frames evenly round the head into `dir` (`turntable-000.png`, ...) and the
/// looping animation `turntable.png` at `fps` (0.1 to 100). `kind` picks before, after or both
/// side by side. At most [`MAX_FRAMES`]; frames are streamed into the animation, so memory
/// does not grow with their number.
#[allow(clippy::too_many_arguments)]
pub fn render_turntable(
    renderer: &mut Renderer,
    gpu_scene: &GpuScene,
    scene: &Scene,
    head: &Head,
    hairline: Option<Vec3>,
    kind: OutputKind,
    count: u32,
    fps: f32,
    dir: &Path,
    mut progress: impl FnMut(u32),
) -> Result<Turntable, TurntableError> {
    let count = count.max(1);
    let fps = if fps.is_finite() { fps } else { 12.0 };
    let base = frame_settings(scene, head, hairline, ViewName::Front);
    let depth = super::composite::bit_depth(scene);
    let disclaimer = scene.spec.render.disclaimer;
    let meta = PngMeta::for_scene(scene).with(keys::OUTPUT, kind.as_str());
    let (need_before, need_after) = super::composite::needs(kind);
    let mut frames = Vec::new();
    // The animation is written as the frames come: memory does not grow with their number.
    let animation_path = dir.join("turntable.png");
    let delay_ms = (1000.0 / fps.clamp(0.1, 100.0)).round() as u16;
    let mut animation: Option<ApngWriter> = None;
    for i in 0..count {
        let azimuth = i as f32 / count as f32 * std::f32::consts::TAU;
        let mut settings = base;
        settings.camera = orbit_camera(&base.camera, azimuth, ELEVATION_DEG.to_radians());
        let before = need_before
            .then(|| {
                let s = crate::render::FrameSettings {
                    show_dots: false,
                    ..settings
                };
                renderer.render_image(gpu_scene, &s, depth)
            })
            .transpose()?;
        let after = need_after
            .then(|| renderer.render_image(gpu_scene, &settings, depth))
            .transpose()?;
        let image = compose(kind, before.as_ref(), after.as_ref(), disclaimer);
        let path = dir.join(format!("turntable-{i:03}.png"));
        let deg = (azimuth.to_degrees() * 10.0).round() / 10.0;
        write_png(
            &path,
            &image,
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
