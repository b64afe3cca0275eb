//! The consultation page a client takes home (`stipple share`): one self-contained
//! `index.html`, its frames embedded as JPEG data: URIs, no server, no external script, style
//! or font (a Content-Security-Policy in the page forbids any), so it opens from a file on a
//! phone, a tablet or a laptop.
//!
//! It shows the head turning on a drag (a turntable of the scene's state, before and after),
//! a before/after split slider (Pointer Events: mouse, touch and pen), the lighting presets as
//! buttons and the plan's sessions and years as further sets (fewer angles each, so the page
//! stays a few MB), the plan's figures (the same `stipple plan` prints) and the disclaimer.
//! Every frame is rendered through the front door ([`Study`]) with the turntable's cameras.
//!
//! The page is `assets/share/index.html`; this module only fills in its data (one JSON
//! object, read by the page's script and shown through `textContent`, never as markup).

use super::OutputError;
use super::turntable::frame_camera;
use crate::lighting::{Lighting, LightingOptions};
use crate::render::{FrameImage, FrameSettings, RenderError, Renderer};
use crate::scene::ViewName;
use crate::study::{Age, State, Study};
use base64::Engine as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The page's template: markup, style and script, all inline.
pub const TEMPLATE_HTML: &str = include_str!("../../assets/share/index.html");
/// Where the template takes the page's data (a JSON object).
const DATA_SLOT: &str = "{\"stipple\":\"data\"}";

/// Angles of the main turntable: 4 to 360 (one a degree).
pub const FRAMES_RANGE: (u32, u32) = (4, 360);
/// Angles of each extra lighting, session or year set: 1 (the front only) to 360.
pub const SET_FRAMES_RANGE: (u32, u32) = (1, 360);
/// Frame width and height: 64 px (a thumbnail) to 2048 px (a tablet's full screen).
pub const SIZE_RANGE: (u32, u32) = (64, 2048);
/// JPEG quality: 30 (blocky) to 95 (beyond which files grow with nothing to see).
pub const QUALITY_RANGE: (u8, u8) = (30, 95);

/// What `stipple share` renders.
#[derive(Clone, Debug, PartialEq)]
pub struct ShareOptions {
    /// Angles of the scene state's turntable (before and after).
    pub frames: u32,
    /// Angles of each other lighting preset's set (before and after).
    pub light_frames: u32,
    /// Angles of each other session's or year's set (after; the before is the main set's).
    pub stage_frames: u32,
    pub width: u32,
    pub height: u32,
    /// Lighting presets offered besides the scene's own; None: every preset.
    pub presets: Option<Vec<String>>,
    pub jpeg_quality: u8,
    /// Samples per pixel along each axis (1-4); None: the scene's.
    pub supersample: Option<u32>,
}

impl Default for ShareOptions {
    /// 36 angles (every 10°) at 540x720 (3:4 portrait, half a phone's 1080-px width), every
    /// other preset, session and year at 4 (front, sides, back), JPEG quality 75: about 40 KB
    /// a frame, 5-6 MB for the built-in scene with two sessions and two years.
    fn default() -> Self {
        Self {
            frames: 36,
            light_frames: 4,
            stage_frames: 4,
            width: 540,
            height: 720,
            presets: None,
            jpeg_quality: 75,
            supersample: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ShareError {
    #[error(transparent)]
    Render(#[from] RenderError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("{0}")]
    Options(String),
    #[error("{file}: `plan`: {error}")]
    Figures { file: String, error: String },
    #[error("cannot encode a JPEG frame: {0}")]
    Jpeg(image::ImageError),
}

/// What [`write_share_page`] wrote.
#[derive(Clone, Debug)]
pub struct SharePage {
    pub path: PathBuf,
    pub bytes: u64,
    pub frames: usize,
    pub sets: usize,
}

/// One set of frames: a lighting and a treatment state at some of the main turntable's angles.
#[derive(serde::Serialize)]
struct FrameSet {
    /// "light" or "stage": which row of buttons selects it.
    group: &'static str,
    label: String,
    /// A second line for the button's tooltip (the light's lux and kelvin).
    detail: String,
    /// Indices into the page's `angles_deg`.
    angles: Vec<u32>,
    /// JPEG data: URIs; `before` is empty where the main set's before frames serve (the bare
    /// head under the same light looks the same whatever the state).
    before: Vec<String>,
    after: Vec<String>,
}

/// What one set renders: a lighting and a state at some angles, with or without its own
/// before frames.
struct SetPlan<'a> {
    group: &'static str,
    label: String,
    detail: String,
    state: State,
    lighting: Lighting,
    angles: &'a [u32],
    with_before: bool,
}

impl ShareOptions {
    /// Checks the options against their ranges, naming the flag.
    pub fn validate(&self) -> Result<(), ShareError> {
        let check = |flag: &str, v: u32, (lo, hi): (u32, u32)| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(ShareError::Options(format!(
                    "{flag}: expected {lo} to {hi}, got {v}"
                )))
            }
        };
        check("--frames", self.frames, FRAMES_RANGE)?;
        check("--light-frames", self.light_frames, SET_FRAMES_RANGE)?;
        check("--stage-frames", self.stage_frames, SET_FRAMES_RANGE)?;
        check("--size (width)", self.width, SIZE_RANGE)?;
        check("--size (height)", self.height, SIZE_RANGE)?;
        check(
            "--quality",
            self.jpeg_quality as u32,
            (QUALITY_RANGE.0 as u32, QUALITY_RANGE.1 as u32),
        )?;
        if let Some(s) = self.supersample {
            check("--supersample", s, (1, 4))?;
        }
        if let Some(names) = &self.presets {
            let known = Lighting::preset_names();
            for n in names {
                if !known.contains(&n.as_str()) {
                    return Err(ShareError::Options(format!(
                        "--presets: expected names from {}, got {n:?}",
                        known.join(", ")
                    )));
                }
            }
        }
        Ok(())
    }
}

/// `count` of the main turntable's `main` angles, spread evenly (each the nearest main angle),
/// starting at the front.
pub fn subset_angles(main: u32, count: u32) -> Vec<u32> {
    let count = count.clamp(1, main.max(1));
    let mut out: Vec<u32> = (0..count)
        .map(|k| ((k as f64 * main as f64 / count as f64).round() as u32) % main.max(1))
        .collect();
    out.dedup();
    out
}

/// The lightings the page offers: the scene's own first (the main set), then the presets
/// asked for, each under the scene's camera (exposure, white balance).
fn lightings(study: &Study, presets: Option<&[String]>) -> Result<Vec<(String, Lighting)>, String> {
    let base = study.scene.lighting_options();
    let own = if base.lights.is_some() || base.sky.is_some() {
        format!("scene lights ({})", base.preset)
    } else {
        base.preset.to_string()
    };
    let mut out = vec![(own, study.lighting)];
    for name in Lighting::preset_names() {
        let wanted = presets.is_none_or(|p| p.iter().any(|n| n == name));
        if !wanted || (base.lights.is_none() && base.sky.is_none() && name == base.preset) {
            continue;
        }
        let options = LightingOptions {
            preset: name,
            lights: None,
            sky: None,
            ..base
        };
        let l = options
            .build()
            .map_err(|e| format!("lighting preset {name}: `render.{}`: {}", e.key, e.expected))?;
        out.push((name.to_string(), l));
    }
    Ok(out)
}

/// The treatment states the page offers besides the scene's: after each other session
/// (healed), then the scene's ageing timeline.
fn stages(study: &Study) -> Vec<(String, State)> {
    let main = study.scene_state();
    let mut out = Vec::new();
    for s in 1..=study.sessions() {
        if s != main.session {
            out.push((
                format!("session {s}"),
                State {
                    session: s,
                    age: Age::Healed,
                },
            ));
        }
    }
    for state in study.timeline(main.session) {
        let label = match state.age {
            Age::Years(0.0) => "day of session".to_string(),
            Age::Years(1.0) => "1 year on".to_string(),
            Age::Years(y) => format!("{y} years on"),
            Age::Healed => continue,
        };
        out.push((label, state));
    }
    out
}

fn stage_label(study: &Study, state: State) -> String {
    if study.sessions() > 1 {
        format!("session {} (healed)", state.session)
    } else {
        "healed".into()
    }
}

/// An 8-bit JPEG data: URI of a frame, with the disclaimer drawn when `disclaimer`.
fn jpeg_uri(image: FrameImage, disclaimer: bool, quality: u8) -> Result<String, ShareError> {
    let mut image = image;
    if disclaimer {
        super::text::draw_disclaimer(&mut image);
    }
    let rgb = match image {
        FrameImage::Eight(i) => image::DynamicImage::ImageRgba8(i).into_rgb8(),
        FrameImage::Sixteen(i) => image::DynamicImage::ImageRgba16(i).into_rgb8(),
    };
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, quality)
        .encode_image(&rgb)
        .map_err(ShareError::Jpeg)?;
    let mut uri = String::from("data:image/jpeg;base64,");
    base64::engine::general_purpose::STANDARD.encode_string(&jpeg, &mut uri);
    Ok(uri)
}

/// Renders the page's frames through `study` and writes `dir/index.html` atomically.
/// `progress(done, total)` is called after each frame.
pub fn write_share_page(
    renderer: &mut Renderer,
    study: &mut Study,
    options: &ShareOptions,
    dir: &Path,
    mut progress: impl FnMut(usize, usize),
) -> Result<SharePage, ShareError> {
    options.validate()?;
    let main_state = study.scene_state();
    let lightings = lightings(study, options.presets.as_deref()).map_err(ShareError::Options)?;
    let stages = stages(study);
    let disclaimer = study.scene.spec.render.disclaimer;
    let mut base = study.frame_settings(ViewName::Front, main_state, options.width, options.height);
    if let Some(s) = options.supersample {
        base.supersample = s;
    }
    let all: Vec<u32> = (0..options.frames).collect();
    let light_angles = subset_angles(options.frames, options.light_frames);
    let stage_angles = subset_angles(options.frames, options.stage_frames);
    let total = 2 * all.len()
        + 2 * light_angles.len() * (lightings.len() - 1)
        + stage_angles.len() * stages.len();
    let mut done = 0;
    let mut sets = Vec::new();

    let mut plan: Vec<SetPlan> = Vec::new();
    for (i, (name, lighting)) in lightings.iter().enumerate() {
        plan.push(SetPlan {
            group: "light",
            label: name.clone(),
            detail: lighting.summary(),
            state: main_state,
            lighting: *lighting,
            angles: if i == 0 { &all } else { &light_angles },
            with_before: true,
        });
    }
    for (label, state) in &stages {
        plan.push(SetPlan {
            group: "stage",
            label: label.clone(),
            detail: String::new(),
            state: *state,
            lighting: study.lighting,
            angles: &stage_angles,
            with_before: false,
        });
    }
    for p in plan {
        let skin = study.skin(p.state);
        let mut set = FrameSet {
            group: p.group,
            label: p.label,
            detail: p.detail,
            angles: p.angles.to_vec(),
            before: Vec::new(),
            after: Vec::new(),
        };
        for &a in p.angles {
            let settings = FrameSettings {
                camera: frame_camera(&base.camera, a, options.frames),
                lighting: p.lighting,
                skin,
                ..base
            };
            let (before, after) =
                study.render_pair(renderer, &settings, p.state, (p.with_before, true))?;
            if let Some(b) = before {
                set.before
                    .push(jpeg_uri(b, disclaimer, options.jpeg_quality)?);
                done += 1;
            }
            let after = after.expect("asked for the after");
            set.after
                .push(jpeg_uri(after, disclaimer, options.jpeg_quality)?);
            done += 1;
            progress(done, total);
        }
        sets.push(set);
    }
    // The main set is labelled by its light; its state has its own stage button.
    let main_stage = stage_label(study, main_state);

    let plan = study.scene.plan();
    let figures =
        crate::layout::plan_figures(&study.head, &plan, &*study.condition, &study.layout.dots)
            .map_err(|e| ShareError::Figures {
                file: study.scene.file.display().to_string(),
                error: e.to_string(),
            })?;
    let scene_name = study
        .scene
        .file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let angles_deg: Vec<f64> = all
        .iter()
        .map(|&i| (i as f64 * 3600.0 / options.frames as f64).round() / 10.0)
        .collect();
    let data = serde_json::json!({
        "scene": scene_name,
        "version": super::png::VERSION,
        "disclaimer": super::png::DISCLAIMER_TEXT,
        "condition": study.scene.spec.client.condition.pattern.to_string(),
        "angles_deg": angles_deg,
        "main_stage": main_stage,
        "sets": sets,
        "figures": figures,
        "width": options.width,
        "height": options.height,
    });
    // JSON inside a <script> element: "</" would end it early.
    let json = serde_json::to_string(&data)
        .expect("plain data")
        .replace("</", "<\\/");
    let html = TEMPLATE_HTML.replacen(DATA_SLOT, &json, 1);
    let path = dir.join("index.html");
    super::write_atomic(&path, |f| f.write_all(html.as_bytes()))?;
    Ok(SharePage {
        path,
        bytes: html.len() as u64,
        frames: done,
        sets: sets.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subsets_are_main_angles_spread_evenly() {
        assert_eq!(subset_angles(36, 6), vec![0, 6, 12, 18, 24, 30]);
        assert_eq!(subset_angles(36, 1), vec![0]);
        assert_eq!(subset_angles(8, 20), (0..8).collect::<Vec<_>>());
        let s = subset_angles(36, 8);
        assert_eq!(s.len(), 8);
        assert!(s.iter().all(|&a| a < 36));
    }

    #[test]
    fn the_template_has_one_data_slot_and_no_remote_reference() {
        assert_eq!(TEMPLATE_HTML.matches(DATA_SLOT).count(), 1);
        for remote in ["http:", "https:", "//cdn", "@import", "url("] {
            assert!(!TEMPLATE_HTML.contains(remote), "{remote}");
        }
    }

    #[test]
    fn options_are_checked() {
        let ok = ShareOptions::default();
        assert!(ok.validate().is_ok());
        let e = ShareOptions {
            frames: 2,
            ..ok.clone()
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("--frames: expected 4 to 360"), "{e}");
        let e = ShareOptions {
            presets: Some(vec!["moonlight".into()]),
            ..ok.clone()
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("studio"), "{e}");
        let e = ShareOptions {
            jpeg_quality: 99,
            ..ok
        }
        .validate()
        .unwrap_err();
        assert!(e.to_string().contains("--quality"), "{e}");
    }
}
