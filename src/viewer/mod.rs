//! `stipple view`: the consultation viewer. A practitioner sits with a client and turns the
//! head around on screen, splits before from after, switches the light, the session and the
//! years of ageing, and saves screenshots.
//!
//! One renderer, two outputs: frames come from the same [`Renderer`] and passes as the
//! headless path, rendered into textures that stay on the GPU ([`crate::render::present`]).
//! To stay responsive on a software rasteriser, frames are drawn only when something changed
//! (winit's `ControlFlow::Wait`), at half size and without supersampling while the head is
//! being turned, and again at full quality once it is still. Moving the split line redraws no
//! frame at all: both halves are already on the GPU.

pub mod design;
pub mod input;
pub mod orbit;
pub mod overlay;
pub mod script;
pub mod states;

use crate::camera::{Camera, ViewName};
use crate::lighting::{Lighting, presets};
use crate::render::present::{Composite, FrameTexture, Presenter, WindowSurface};
use crate::render::{AdapterRequest, FrameSettings, GpuContext, Renderer};
use crate::scene::Scene;
use anyhow::{Result, anyhow, bail};
use design::{Design, Handle};
use glam::Vec3;
use input::{Action, Drag};
use orbit::Orbit;
use overlay::OverlayText;
use script::Command;
use states::{PlanStates, StateKey};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use winit::application::ApplicationHandler;
use winit::event::{ElementState, MouseButton, MouseScrollDelta, WindowEvent};
use winit::event_loop::{ActiveEventLoop, ControlFlow, EventLoop};
use winit::window::{Window, WindowId};

/// How long the head must be still before the frame is redrawn at full quality.
const REFINE_AFTER: Duration = Duration::from_millis(180);
/// Pixels of a frame drawn while the head moves (about 340 x 260 at 4:3): on llvmpipe the
/// passes cost roughly in proportion to pixels, and this keeps a turn near 10 frames a second.
const INTERACTIVE_PIXELS: f32 = 90_000.0;
/// How often the scene file is checked for changes.
const WATCH_EVERY: Duration = Duration::from_millis(400);

/// What `stipple view` was asked for.
pub struct ViewOptions {
    pub scene: PathBuf,
    pub request: AdapterRequest,
    /// Window size in logical pixels (a HiDPI screen doubles them).
    pub size: (u32, u32),
    /// Where the screenshot key writes its PNGs.
    pub screenshot_dir: PathBuf,
    /// Scripted input, run once the first frame is on screen.
    pub script: Vec<Command>,
}

/// Said whenever the viewer cannot open a window.
pub const HEADLESS_HINT: &str = "`stipple view` needs a display; for images without one, use \
`stipple render SCENE.toml --out DIR` (or `xvfb-run stipple view ...` for a virtual display)";

/// A scene file's text (size-limited, as every scene is read) and the scene it holds.
fn read_scene(path: &Path) -> Result<(String, Scene)> {
    let text = crate::input::read_text_limited(path, crate::input::MAX_TOML_BYTES, "scene")
        .map_err(crate::scene::SceneError::from)?;
    let scene = Scene::parse(&text, path)?;
    Ok((text, scene))
}

/// Opens the viewer window and runs until it is closed.
pub fn run(opts: ViewOptions) -> Result<()> {
    let (text, scene) = read_scene(&opts.scene)?;
    let plan = load_plan(&scene)?;
    // X11 or Wayland (see Cargo.toml): without either there is nothing to open a window on.
    // macOS and Windows always have their window system.
    #[cfg(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ))]
    if ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .all(|v| std::env::var_os(v).is_none_or(|d| d.is_empty()))
    {
        bail!("no display: neither DISPLAY nor WAYLAND_DISPLAY is set. {HEADLESS_HINT}");
    }
    let event_loop = EventLoop::new()
        .map_err(|e| anyhow!("cannot connect to the display: {e}. {HEADLESS_HINT}"))?;
    let mut app = App::new(opts, scene, plan);
    app.scene_text = text;
    event_loop
        .run_app(&mut app)
        .map_err(|e| anyhow!("the window's event loop failed: {e}. {HEADLESS_HINT}"))?;
    app.result
}

/// A scene's plan laid out on its head; errors name the scene file.
fn load_plan(scene: &Scene) -> Result<(PlanStates, Option<Vec3>)> {
    let study = crate::study::Study::new(scene.clone())?;
    let hairline = study.hairline;
    Ok((PlanStates::new(study), hairline))
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Frame quality: cheap while the head moves, full when it is still.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quality {
    Interactive,
    Full,
}

/// What the frames on the GPU show; a redraw renders only when this changes.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Shown {
    settings: FrameSettings,
    state: StateKey,
    before: bool,
    generation: u64,
}

/// The window and everything on the GPU.
struct Gfx {
    window: Arc<Window>,
    renderer: Renderer,
    surface: WindowSurface,
    presenter: Presenter,
    before: FrameTexture,
    after: FrameTexture,
}

struct App {
    opts: ViewOptions,
    scene: Scene,
    scene_modified: Option<SystemTime>,
    next_watch: Instant,
    /// Bumped on every reload, so frames of the old scene are redrawn.
    generation: u64,
    states: PlanStates,
    hairline: Option<Vec3>,
    gfx: Option<Gfx>,
    orbit: Orbit,
    /// Lighting choices: the scene's own first, then every preset.
    lightings: Vec<(String, Lighting)>,
    lighting: usize,
    state: StateKey,
    /// The split line's position as a fraction of the window width, and whether it shows.
    split: f32,
    split_on: bool,
    help: bool,
    pointer: (f32, f32),
    drag: Option<Drag>,
    shift: bool,
    last_input: Instant,
    shown: Option<Shown>,
    shown_quality: Quality,
    /// Time to render the frames on screen (before and after), ms.
    frame_ms: f64,
    error: Option<String>,
    notice: Option<String>,
    overlay: Option<OverlayText>,
    /// The scene file's text as loaded (or as last saved from here).
    scene_text: String,
    /// Design mode on, its design (made on first use), the point being dragged.
    design_on: bool,
    split_before_design: bool,
    design: Option<Design>,
    grabbed: Option<Handle>,
    /// The scene text with the design written in, while it is not saved.
    unsaved: Option<String>,
    /// What this viewer last wrote to the scene file: its own save is not a reload.
    saved_text: Option<String>,
    /// The plan's figures for the status line in design mode.
    figures: Option<crate::layout::figures::PlanFigures>,
    ctrl: bool,
    /// The window's scale factor (2 on HiDPI screens).
    scale: f32,
    script: VecDeque<Command>,
    script_resume: Option<Instant>,
    ready: bool,
    result: Result<()>,
}

fn lightings_for(scene: &Scene) -> Vec<(String, Lighting)> {
    let own = scene.spec.render.lights.is_some() || scene.spec.render.sky.is_some();
    let mut out = vec![(
        if own {
            "scene lights".to_string()
        } else {
            scene.spec.render.lighting.clone()
        },
        scene.lighting(),
    )];
    for preset in presets() {
        if !own && preset.name == scene.spec.render.lighting {
            continue;
        }
        let mut options = scene.lighting_options();
        options.preset = &preset.name;
        options.lights = None;
        options.sky = None;
        if let Ok(l) = options.build() {
            out.push((preset.name.clone(), l));
        }
    }
    out
}

impl App {
    fn new(opts: ViewOptions, scene: Scene, (states, hairline): (PlanStates, Option<Vec3>)) -> App {
        let (w, h) = opts.size;
        let orbit = Orbit::for_view(
            &states.study.head,
            ViewName::Front,
            &states.study.camera(ViewName::Front, w, h.max(1)),
        );
        let state = StateKey {
            session: states.sessions(),
            years_index: 0,
        };
        App {
            scene_modified: modified(&opts.scene),
            script: opts.script.iter().cloned().collect(),
            opts,
            next_watch: Instant::now() + WATCH_EVERY,
            generation: 0,
            lightings: lightings_for(&scene),
            scene,
            states,
            hairline,
            gfx: None,
            orbit,
            lighting: 0,
            state,
            split: 0.5,
            split_on: true,
            help: false,
            pointer: (0.0, 0.0),
            drag: None,
            shift: false,
            last_input: Instant::now() - REFINE_AFTER,
            shown: None,
            shown_quality: Quality::Full,
            frame_ms: 0.0,
            error: None,
            notice: None,
            overlay: None,
            scene_text: String::new(),
            design_on: false,
            split_before_design: true,
            design: None,
            grabbed: None,
            unsaved: None,
            saved_text: None,
            figures: None,
            ctrl: false,
            scale: 1.0,
            script_resume: None,
            ready: false,
            result: Ok(()),
        }
    }

    fn fail(&mut self, event_loop: &ActiveEventLoop, e: anyhow::Error) {
        self.result = Err(e);
        event_loop.exit();
    }

    fn open_window(&mut self, event_loop: &ActiveEventLoop) -> Result<()> {
        let name = self
            .scene
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (w, h) = self.opts.size;
        let attrs = Window::default_attributes()
            .with_title(format!("Stipple: {name}"))
            .with_inner_size(winit::dpi::LogicalSize::new(w, h));
        let window = Arc::new(
            event_loop
                .create_window(attrs)
                .map_err(|e| anyhow!("cannot open a window: {e}. {HEADLESS_HINT}"))?,
        );
        let (gpu, surface) = GpuContext::new_for_window(
            &self.opts.request,
            event_loop.owned_display_handle(),
            window.clone(),
        )?;
        let size = window.inner_size();
        self.scale = window.scale_factor() as f32;
        let surface = WindowSurface::new(&gpu, surface, size.width, size.height);
        let presenter = Presenter::new(&gpu);
        let before = FrameTexture::new(&gpu, 1, 1);
        let after = FrameTexture::new(&gpu, 1, 1);
        let mut renderer = Renderer::new(gpu);
        renderer.set_keep_shadow_map(true);
        if std::env::var_os("STIPPLE_PASS_TIMES").is_some() {
            renderer.set_pass_timing(true);
        }
        eprintln!("adapter: {}", renderer.gpu.summary);
        self.gfx = Some(Gfx {
            window,
            renderer,
            surface,
            presenter,
            before,
            after,
        });
        Ok(())
    }

    fn window_size(&self) -> (u32, u32) {
        self.gfx
            .as_ref()
            .map_or(self.opts.size, |g| g.surface.size())
    }

    fn split_x(&self) -> Option<f32> {
        self.split_on
            .then(|| (self.split * self.window_size().0 as f32).round())
    }

    /// The camera moved: draw cheap frames until it has been still a moment.
    fn touched(&mut self) {
        self.last_input = Instant::now();
        self.refresh();
    }

    /// Something on screen changed, but not the camera: draw at the quality it has.
    fn refresh(&mut self) {
        if let Some(g) = &self.gfx {
            g.window.request_redraw();
        }
    }

    fn settings(&self, quality: Quality) -> FrameSettings {
        let (w, h) = self.window_size();
        let (fw, fh, ss) = match quality {
            // A fixed budget of pixels, one sample each, stretched to the window: the cost of
            // turning the head stays the same however large the window is.
            Quality::Interactive => {
                let scale = (INTERACTIVE_PIXELS / (w as f32 * h as f32).max(1.0))
                    .sqrt()
                    .clamp(0.2, 1.0);
                let scaled = |v: u32| ((v as f32 * scale).round() as u32).max(1);
                (scaled(w), scaled(h), 1)
            }
            Quality::Full => {
                let wanted = self.scene.spec.render.supersample.min(2);
                let ss = self
                    .gfx
                    .as_ref()
                    .map_or(1, |g| g.renderer.window_supersample(w, h, wanted));
                (w, h, ss)
            }
        };
        let state = self.states.state(self.state);
        FrameSettings {
            lighting: self.lightings[self.lighting].1,
            width: fw,
            height: fh,
            supersample: ss,
            // The still's settings for this view and size (`stipple render --view`), turned
            // to where the orbit is.
            camera: self.camera(),
            ..self
                .states
                .study
                .frame_settings(ViewName::Front, state, w, h.max(1))
        }
    }

    /// The camera: the still's own for a named view while the orbit is at it, else the
    /// orbit's.
    fn camera(&self) -> Camera {
        let (w, h) = self.window_size();
        match self.orbit.view() {
            Some(view) => self.states.study.camera(view, w, h.max(1)),
            None => self.orbit.camera(w as f32 / h.max(1) as f32),
        }
    }

    /// Renders the before and after frames if what they show changed. Errors go to the
    /// status line; the last frames stay on screen.
    fn update_frames(&mut self, quality: Quality) {
        let settings = self.settings(quality);
        let want = Shown {
            settings,
            state: self.state,
            before: self.split_on,
            generation: self.generation,
        };
        if self.shown == Some(want) {
            return;
        }
        let t = Instant::now();
        let Some(g) = self.gfx.as_mut() else {
            return;
        };
        let (fw, fh) = (settings.width, settings.height);
        if (g.after.width, g.after.height) != (fw, fh) {
            g.after = FrameTexture::new(&g.renderer.gpu, fw, fh);
            g.before = FrameTexture::new(&g.renderer.gpu, fw, fh);
        }
        if !self.states.is_prepared(self.state) {
            eprintln!(
                "preparing session {}, {} ({} dots)",
                self.state.session,
                self.states.age(self.state).label(),
                self.states.dot_count()
            );
        }
        let scene = match self.states.get(&g.renderer, self.state) {
            Ok(s) => s,
            Err(e) => {
                self.error = Some(format!("cannot prepare this state: {e}"));
                return;
            }
        };
        let result = g
            .renderer
            .render_to(scene, &settings, &g.after)
            .and_then(|()| {
                if want.before {
                    let before = FrameSettings {
                        show_dots: false,
                        ..settings
                    };
                    g.renderer.render_to(scene, &before, &g.before)
                } else {
                    Ok(())
                }
            });
        if !g.renderer.pass_times().is_empty() {
            eprintln!("pass times (ms): {:?}", g.renderer.pass_times());
        }
        match result {
            Ok(()) => {
                self.shown = Some(want);
                self.shown_quality = quality;
                self.frame_ms = t.elapsed().as_secs_f64() * 1e3;
            }
            Err(e) => self.error = Some(format!("rendering failed: {e}")),
        }
    }

    fn status(&self) -> String {
        if self.design_on {
            if let Some(d) = &self.design {
                return self.design_status(d);
            }
        }
        let (name, _) = &self.lightings[self.lighting];
        let mut s = format!(
            "{} · session {}/{} · {} · {} · {} dots · {:.0} ms/frame {}",
            if self.split_on {
                "before | after"
            } else {
                "after"
            },
            self.state.session,
            self.states.sessions(),
            self.states.age(self.state).label(),
            name,
            crate::lighting::thousands(self.states.dot_count() as u64),
            self.frame_ms,
            match self.shown_quality {
                Quality::Interactive => "(moving)",
                Quality::Full => "(still)",
            },
        );
        if let Some(n) = &self.notice {
            s.push_str(" · ");
            s.push_str(n);
        }
        s.push_str(" · H help");
        s
    }

    fn design_status(&self, d: &Design) -> String {
        let mut s = format!("design · {:.1} cm above the glabella", d.height_mm / 10.0);
        if let Some(f) = &self.figures {
            s.push_str(&format!(
                " · {:.1} cm² · {} dots · {:.1} needle h",
                f.treated_area_cm2,
                crate::lighting::thousands(f.dots_total as u64),
                f.needle_hours
            ));
        }
        if let Some(n) = &self.notice {
            s.push_str(" · ");
            s.push_str(n);
        } else if self.unsaved.is_some() {
            s.push_str(" · unsaved: W saves");
        } else {
            s.push_str(" · drag the points");
        }
        s.push_str(" · H help");
        s
    }

    /// Design mode's guides and points for the window as it is now.
    fn design_shapes(&self) -> Vec<overlay::Shape> {
        match (&self.design, self.design_on) {
            (Some(d), true) => {
                let (w, h) = self.window_size();
                let camera = self.camera();
                d.shapes(&camera, (w, h), self.scale, self.grabbed)
            }
            _ => Vec::new(),
        }
    }

    /// Renders what changed and puts it on screen; returns the time taken (ms).
    fn redraw(&mut self, quality: Quality) -> f64 {
        let t = Instant::now();
        self.update_frames(quality);
        let (w, h) = self.window_size();
        let design_error = self
            .design
            .as_ref()
            .filter(|_| self.design_on)
            .and_then(|d| d.error.clone());
        let text = OverlayText {
            status: self.status(),
            error: self.error.clone().or(design_error),
            split_x: self.split_x(),
            help: self.help,
            scale: self.scale,
            shapes: self.design_shapes(),
        };
        let composite = self.composite();
        let Some(g) = self.gfx.as_mut() else {
            return 0.0;
        };
        if self.overlay.as_ref() != Some(&text) {
            let layer = overlay::draw(&text, w, h);
            g.presenter.set_overlay(&g.renderer.gpu, &layer);
            self.overlay = Some(text);
        }
        let before = if composite.split_x.is_some() {
            &g.before
        } else {
            &g.after
        };
        let shown = g.surface.present(
            &g.renderer.gpu,
            &mut g.presenter,
            before,
            &g.after,
            &composite,
        );
        g.renderer.gpu.wait_idle();
        let ms = t.elapsed().as_secs_f64() * 1e3;
        if shown {
            if !self.ready && self.shown_quality == Quality::Full {
                self.ready = true;
                println!("ready: {w}x{h}");
            }
        } else {
            g.window.request_redraw();
        }
        ms
    }

    fn composite(&self) -> Composite {
        Composite {
            split_x: self.split_x(),
            split_half_width: (self.window_size().1 as f32 / 500.0).clamp(1.0, 3.0),
        }
    }

    /// The quality the next frame should have: cheap while moving.
    fn quality_now(&self) -> Quality {
        if self
            .drag
            .is_some_and(|d| d != Drag::Split && d != Drag::Design)
            || self.last_input.elapsed() < REFINE_AFTER
        {
            Quality::Interactive
        } else {
            Quality::Full
        }
    }

    fn act(&mut self, action: Action, event_loop: &ActiveEventLoop) {
        self.notice = None;
        match action {
            Action::View(view) => {
                let (w, h) = self.window_size();
                self.orbit = Orbit::for_view(
                    &self.states.study.head,
                    view,
                    &self.states.study.camera(view, w, h.max(1)),
                );
                self.notice = Some(view.as_str().to_string());
            }
            Action::NextLighting => self.lighting = (self.lighting + 1) % self.lightings.len(),
            Action::PreviousLighting => {
                self.lighting = (self.lighting + self.lightings.len() - 1) % self.lightings.len()
            }
            Action::NextSession => {
                self.state.session = self.state.session % self.states.sessions() + 1;
            }
            Action::NextYears => {
                self.state.years_index = (self.state.years_index + 1) % self.states.year_steps();
            }
            Action::ToggleSplit => self.split_on = !self.split_on,
            Action::ToggleDesign => self.toggle_design(),
            Action::Save => self.save_design(),
            Action::Unpin => {
                let (w, h) = self.window_size();
                let camera = self.camera();
                let (x, y) = self.pointer;
                let radius = design::GRAB_RADIUS_PX * self.scale;
                let head = self.states.study.head.clone();
                if let Some(d) = self.design.as_mut().filter(|_| self.design_on) {
                    if let Some(handle) = d.pick(&camera, (w, h), x, y, radius) {
                        if d.unpin(&head, handle) {
                            self.replan();
                        }
                    }
                }
            }
            Action::ToggleHelp => self.help = !self.help,
            Action::Screenshot => {
                let path = self.free_screenshot_path();
                self.screenshot(&path);
            }
            Action::Turn(dx, dy) => self.orbit.rotate(dx, dy),
            Action::Zoom(f) => self.orbit.zoom(f),
            Action::Quit => event_loop.exit(),
        }
        match action {
            Action::View(_) | Action::Turn(..) | Action::Zoom(_) => self.touched(),
            _ => self.refresh(),
        }
    }

    fn key(&mut self, name: &str, shift: bool, event_loop: &ActiveEventLoop) {
        if self.ctrl && name == "s" {
            self.act(Action::Save, event_loop);
            return;
        }
        if let Some(action) = input::key_action(name, shift) {
            self.act(action, event_loop);
        }
    }

    fn free_screenshot_path(&self) -> PathBuf {
        let stem = self
            .scene
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "stipple".into());
        (1..)
            .map(|n| {
                self.opts
                    .screenshot_dir
                    .join(format!("{stem}-view-{n:03}.png"))
            })
            .find(|p| !p.exists())
            .expect("some number is free")
    }

    /// Saves what is on screen, at full quality, atomically.
    fn screenshot(&mut self, path: &Path) {
        // Full quality, with the status line that goes with it, on screen and in the file.
        self.redraw(Quality::Full);
        let composite = self.composite();
        let size = self.window_size();
        let Some(g) = self.gfx.as_mut() else {
            return;
        };
        let before = if composite.split_x.is_some() {
            &g.before
        } else {
            &g.after
        };
        let result = g
            .presenter
            .capture(&g.renderer.gpu, size, before, &g.after, &composite)
            .map_err(anyhow::Error::from)
            .and_then(|img| {
                let meta = crate::output::png::PngMeta::for_scene(&self.scene);
                let frame = crate::render::FrameImage::Eight(img);
                // What is on screen already carries the disclaimer (the overlay's status
                // band): stamping it again printed it twice, offset, in the corner.
                crate::output::png::write_image(path, frame, false, &meta)
                    .map(drop)
                    .map_err(Into::into)
            });
        match result {
            Ok(()) => {
                println!("screenshot: {}", path.display());
                self.notice = Some(format!(
                    "saved {}",
                    path.file_name().unwrap_or_default().to_string_lossy()
                ));
            }
            Err(e) => self.error = Some(format!("screenshot failed: {e:#}")),
        }
    }

    fn press(&mut self, button: MouseButton) {
        if self.design_on && button == MouseButton::Left && !self.shift {
            let (w, h) = self.window_size();
            let camera = self.camera();
            let (x, y) = self.pointer;
            let radius = design::GRAB_RADIUS_PX * self.scale;
            if let Some(handle) = self
                .design
                .as_ref()
                .and_then(|d| d.pick(&camera, (w, h), x, y, radius))
            {
                self.drag = Some(Drag::Design);
                self.grabbed = Some(handle);
                self.refresh();
                return;
            }
        }
        // Bindings are in logical pixels: the same gesture on a HiDPI screen.
        let s = self.scale.max(0.1);
        self.drag = Some(input::drag_for_press(
            button,
            self.shift,
            self.pointer.0 / s,
            self.split_x().map(|x| x / s),
        ));
    }

    fn release(&mut self) {
        match self.drag.take() {
            Some(Drag::Design) => {
                self.grabbed = None;
                self.replan();
                self.refresh();
            }
            Some(d) if d != Drag::Split => self.touched(),
            _ => self.refresh(),
        }
    }

    /// Design mode on or off; on first use the design is read from the scene.
    fn toggle_design(&mut self) {
        self.design_on = !self.design_on;
        // The split line would lie on the midline guide: design on the "after" alone.
        if !self.design_on {
            self.split_on = self.split_before_design;
            self.notice = Some("design mode off".into());
            return;
        }
        self.split_before_design = self.split_on;
        self.split_on = false;
        if self.design.is_none() {
            let plan = self.scene.plan();
            match Design::new(&self.states.study.head, &plan.hairline, plan.seed) {
                Ok(d) => self.design = Some(d),
                Err(e) => {
                    self.design_on = false;
                    self.split_on = self.split_before_design;
                    self.error = Some(format!("design mode: {e}"));
                    return;
                }
            }
        }
        if self.figures.is_none() {
            self.figures = self.plan_figures();
        }
        self.print_design();
    }

    /// The figures `stipple plan` prints, for the plan on screen.
    fn plan_figures(&self) -> Option<crate::layout::figures::PlanFigures> {
        let study = &self.states.study;
        crate::layout::plan_figures(
            &study.head,
            &study.scene.plan(),
            &*study.condition,
            &study.layout.dots,
        )
        .map_err(|e| eprintln!("design: no figures: {e}"))
        .ok()
    }

    /// One line on stdout with the design and where its marks are on screen, for scripts
    /// (and tests) that drag the points with real input.
    fn print_design(&self) {
        let Some(d) = &self.design else { return };
        let (w, h) = self.window_size();
        let camera = self.camera();
        let mid = d
            .handle_on_screen(&camera, (w, h), Handle::MidFrontal)
            .map_or("hidden".into(), |(x, y)| format!("{x:.1},{y:.1}"));
        let marks: Vec<String> = d
            .marks_on_screen(&camera, (w, h))
            .iter()
            .map(|(cm, x, y)| format!("{cm:.0}:{x:.1},{y:.1}"))
            .collect();
        let figures = self.figures.as_ref().map_or(String::new(), |f| {
            format!(
                "; treated {:.2} cm2, {} dots, {:.2} needle hours",
                f.treated_area_cm2, f.dots_total, f.needle_hours
            )
        });
        println!(
            "design: height {:.1} cm; mid-frontal at {mid}; marks {}{figures}",
            d.height_mm / 10.0,
            marks.join(" ")
        );
    }

    /// Lays the plan out again for the design as it is now: the scene text with the design
    /// written in, parsed as a reload of the saved file would parse it.
    fn replan(&mut self) {
        let Some(d) = &self.design else { return };
        if d.error.is_some() {
            return;
        }
        let t = Instant::now();
        let result = crate::scene::edit::write_hairline(&self.scene_text, &d.saved())
            .map_err(|e| anyhow!("{}: {e}", self.opts.scene.display()))
            .and_then(|text| {
                let scene = Scene::parse(&text, &self.opts.scene)?;
                let study = crate::study::Study::with_head(scene, self.states.study.head.clone())?;
                Ok((text, study))
            });
        match result {
            Ok((text, study)) => {
                let changed = text != self.scene_text;
                self.hairline = study.hairline;
                self.scene = study.scene.clone();
                self.states = PlanStates::new(study);
                self.state.session = self.state.session.min(self.states.sessions());
                self.generation += 1;
                self.unsaved = changed.then_some(text);
                self.figures = self.plan_figures();
                self.error = None;
                eprintln!(
                    "design: laid out again in {:.0} ms",
                    t.elapsed().as_secs_f64() * 1e3
                );
                self.print_design();
            }
            Err(e) => self.error = Some(format!("design: {e:#}")),
        }
    }

    /// Writes the design into the scene file (atomically, comments and layout kept). The
    /// file watcher then sees a file this viewer wrote and does not reload it.
    fn save_design(&mut self) {
        let Some(text) = self.unsaved.clone() else {
            self.notice = Some("nothing to save".into());
            return;
        };
        let path = self.opts.scene.clone();
        match crate::output::write_atomic(&path, |f| std::io::Write::write_all(f, text.as_bytes()))
        {
            Ok(()) => {
                self.scene_modified = modified(&path);
                self.scene_text = text.clone();
                self.saved_text = Some(text);
                self.unsaved = None;
                self.notice = Some(format!(
                    "saved {}",
                    path.file_name().unwrap_or_default().to_string_lossy()
                ));
                println!("saved: {}", path.display());
            }
            Err(e) => self.error = Some(format!("saving the design failed: {e}")),
        }
    }

    fn pointer_to(&mut self, x: f32, y: f32) {
        let (dx, dy) = (x - self.pointer.0, y - self.pointer.1);
        self.pointer = (x, y);
        let (w, h) = self.window_size();
        let per_px = input::ORBIT_DEG_PER_PX / self.scale.max(0.1);
        match self.drag {
            None => return,
            Some(Drag::Design) => {
                let camera = self.camera();
                let head = self.states.study.head.clone();
                if let (Some(d), Some(handle)) = (self.design.as_mut(), self.grabbed) {
                    if d.drag_to(&head, &camera, (w, h), handle, x, y) {
                        // Only the overlay changes while the point moves.
                        self.refresh();
                    }
                }
                return;
            }
            Some(Drag::Orbit) => self.orbit.rotate(dx * per_px, dy * per_px),
            Some(Drag::Pan) => self.orbit.pan(dx, dy, h),
            Some(Drag::Split) => {
                // Both halves are already on the GPU: only the composite changes.
                self.split = (x / w.max(1) as f32).clamp(0.02, 0.98);
                self.refresh();
                return;
            }
        }
        self.touched();
    }

    fn reload(&mut self) {
        // This viewer's own save: the scene on screen is already what the file holds.
        if let (Some(saved), Ok(now)) =
            (&self.saved_text, std::fs::read_to_string(&self.opts.scene))
        {
            if *saved == now {
                return;
            }
        }
        let loaded = read_scene(&self.opts.scene)
            .and_then(|(text, scene)| Ok((load_plan(&scene)?, scene, text)));
        match loaded {
            Ok(((states, hairline), scene, text)) => {
                if self.unsaved.take().is_some() {
                    eprintln!("the scene changed on disk: unsaved hairline edits dropped");
                }
                self.scene_text = text;
                self.saved_text = None;
                self.lightings = lightings_for(&scene);
                self.lighting = self.lighting.min(self.lightings.len() - 1);
                self.state.session = self.state.session.min(states.sessions());
                self.scene = scene;
                self.states = states;
                self.hairline = hairline;
                self.generation += 1;
                self.error = None;
                // The design follows the file: measured again from the reloaded scene.
                self.design = None;
                self.figures = None;
                if self.design_on {
                    self.design_on = false;
                    self.split_on = self.split_before_design;
                    self.toggle_design();
                }
                self.notice = Some("scene reloaded".into());
                eprintln!("reloaded {}", self.opts.scene.display());
            }
            Err(e) => {
                let msg = format!("reload failed, showing the last good scene: {e:#}");
                eprintln!("{msg}");
                self.error = Some(msg);
            }
        }
        self.refresh();
    }

    /// Runs one scripted command through the same handlers as real input.
    fn run_command(&mut self, cmd: Command, event_loop: &ActiveEventLoop) {
        let (w, h) = self.window_size();
        let at = |(x, y): (f32, f32)| (x * w as f32, y * h as f32);
        match cmd {
            Command::Key { name, shift, ctrl } => {
                let was = (self.shift, self.ctrl);
                (self.shift, self.ctrl) = (shift, ctrl);
                let t = Instant::now();
                self.key(&name, shift, event_loop);
                (self.shift, self.ctrl) = was;
                // The figure a practitioner waits for: key to the full-quality frame.
                self.redraw(Quality::Full);
                println!(
                    "key {name}: full-quality frame after {:.0} ms",
                    t.elapsed().as_secs_f64() * 1e3
                );
            }
            Command::Drag { from, to, right } => {
                let (a, b) = (at(from), at(to));
                self.pointer_to(a.0, a.1);
                self.press(if right {
                    MouseButton::Right
                } else {
                    MouseButton::Left
                });
                for i in 1..=8 {
                    let t = i as f32 / 8.0;
                    self.pointer_to(a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
                    self.redraw(self.quality_now());
                }
                self.release();
            }
            Command::Scroll(lines) => {
                self.act(Action::Zoom(input::zoom_for_scroll(lines)), event_loop)
            }
            Command::Screenshot(path) => self.screenshot(&path),
            Command::Orbit(frames) => self.time_orbit(frames),
            Command::Wait(ms) => {
                self.script_resume = Some(Instant::now() + Duration::from_millis(ms))
            }
            Command::Quit => event_loop.exit(),
        }
    }

    /// Turns the head once round in `frames` steps, at interactive and then at full quality,
    /// and prints the mean frame times (the figure to judge responsiveness by).
    fn time_orbit(&mut self, frames: u32) {
        let step = 360.0 / frames as f32;
        let mut report = Vec::new();
        for quality in [Quality::Interactive, Quality::Full] {
            let mut total = 0.0;
            for _ in 0..frames {
                self.orbit.rotate(step, 0.0);
                total += self.redraw(quality);
            }
            let s = self.settings(quality);
            let mean = total / frames as f64;
            report.push(format!(
                "{} {}x{} ss{}: {mean:.1} ms/frame ({:.1} fps)",
                match quality {
                    Quality::Interactive => "interactive",
                    Quality::Full => "full",
                },
                s.width,
                s.height,
                s.supersample,
                1e3 / mean.max(1e-3)
            ));
        }
        println!(
            "orbit: {frames} frames each, {} dots, split {}; {}",
            self.states.dot_count(),
            if self.split_on { "on" } else { "off" },
            report.join("; ")
        );
    }
}

impl ApplicationHandler for App {
    fn resumed(&mut self, event_loop: &ActiveEventLoop) {
        if self.gfx.is_some() {
            return;
        }
        if let Err(e) = self.open_window(event_loop) {
            self.fail(event_loop, e);
            return;
        }
        self.refresh();
    }

    fn window_event(&mut self, event_loop: &ActiveEventLoop, _id: WindowId, event: WindowEvent) {
        match event {
            WindowEvent::CloseRequested => event_loop.exit(),
            WindowEvent::Resized(size) => {
                if let Some(g) = self.gfx.as_mut() {
                    g.surface.resize(&g.renderer.gpu, size.width, size.height);
                }
                self.touched();
            }
            WindowEvent::ModifiersChanged(m) => {
                self.shift = m.state().shift_key();
                // The command key on a Mac saves as ctrl does elsewhere.
                self.ctrl = m.state().control_key() || m.state().super_key();
            }
            WindowEvent::ScaleFactorChanged { scale_factor, .. } => {
                self.scale = scale_factor as f32;
                self.refresh();
            }
            WindowEvent::KeyboardInput { event, .. } if event.state == ElementState::Pressed => {
                if let Some(name) = input::key_name(&event.logical_key) {
                    self.key(&name, self.shift, event_loop);
                }
            }
            WindowEvent::CursorMoved { position, .. } => {
                self.pointer_to(position.x as f32, position.y as f32)
            }
            WindowEvent::MouseInput { state, button, .. } => match state {
                ElementState::Pressed => self.press(button),
                ElementState::Released => self.release(),
            },
            WindowEvent::MouseWheel { delta, .. } => {
                let lines = match delta {
                    MouseScrollDelta::LineDelta(_, y) => y,
                    // Touchpads scroll in pixels: about 40 to a wheel notch.
                    MouseScrollDelta::PixelDelta(p) => p.y as f32 / 40.0,
                };
                self.act(Action::Zoom(input::zoom_for_scroll(lines)), event_loop);
            }
            WindowEvent::RedrawRequested => {
                self.redraw(self.quality_now());
            }
            _ => {}
        }
    }

    fn about_to_wait(&mut self, event_loop: &ActiveEventLoop) {
        if self.gfx.is_none() {
            return;
        }
        let now = Instant::now();
        if now >= self.next_watch {
            self.next_watch = now + WATCH_EVERY;
            let m = modified(&self.opts.scene);
            if m != self.scene_modified {
                self.scene_modified = m;
                self.reload();
            }
        }
        // Scripted input waits for the first full frame, then runs a command per turn.
        if self.ready && self.script_resume.is_none_or(|t| now >= t) {
            self.script_resume = None;
            if let Some(cmd) = self.script.pop_front() {
                self.run_command(cmd, event_loop);
                event_loop.set_control_flow(ControlFlow::Poll);
                return;
            }
        }
        let mut wake = self.next_watch;
        if self.shown_quality == Quality::Interactive && self.drag.is_none() {
            let refine = self.last_input + REFINE_AFTER;
            if now >= refine {
                if let Some(g) = &self.gfx {
                    g.window.request_redraw();
                }
            } else {
                wake = wake.min(refine);
            }
        }
        if let Some(t) = self.script_resume {
            wake = wake.min(t);
        }
        event_loop.set_control_flow(ControlFlow::WaitUntil(wake));
    }
}
