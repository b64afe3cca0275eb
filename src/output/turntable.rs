//! Turntables: N frames on a circle around the head, written as numbered PNGs and as one
//! looping animated PNG.

use super::OutputError;
use super::composite::{compose, frame_settings};
use super::png::{PngMeta, keys, write_apng, write_png};
use crate::head::Head;
use crate::render::camera::{Camera, ViewName};
use crate::render::{GpuScene, RenderError, Renderer};
use crate::scene::{OutputKind, Scene};
use glam::{Quat, Vec3};
use std::path::{Path, PathBuf};

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
/// looping animation `turntable.png` at `fps`. `kind` picks before, after or both side by side.
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
    let base = frame_settings(scene, head, hairline, ViewName::Front);
    let depth = super::composite::bit_depth(scene);
    let disclaimer = scene.spec.render.disclaimer;
    let meta = PngMeta::for_scene(scene).with(keys::OUTPUT, kind.as_str());
    let (need_before, need_after) = super::composite::needs(kind);
    let mut frames = Vec::new();
    let mut animation = Vec::new();
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
        animation.push(image.to_rgba8());
        frames.push(path);
        progress(i + 1);
    }
    let path = dir.join("turntable.png");
    let delay_ms = (1000.0 / fps.clamp(0.1, 100.0)).round() as u16;
    write_apng(
        &path,
        &animation,
        delay_ms,
        &meta.with(keys::VIEW, "turntable"),
    )?;
    Ok(Turntable {
        frames,
        animation: path,
    })
}
