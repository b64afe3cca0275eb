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

pub mod input;
pub mod orbit;
pub mod overlay;
pub mod script;
pub mod states;

use crate::lighting::{Lighting, presets};
use crate::render::camera::ViewName;
use crate::render::present::{Composite, FrameTexture, Presenter, WindowSurface};
use crate::render::{AdapterRequest, FrameSettings, GpuContext, Renderer};
use crate::scene::Scene;
use anyhow::{Result, anyhow, bail};
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
    /// Window size in pixels.
    pub size: (u32, u32),
    /// Where the screenshot key writes its PNGs.
    pub screenshot_dir: PathBuf,
    /// Scripted input, run once the first frame is on screen.
    pub script: Vec<Command>,
}

/// Said whenever the viewer cannot open a window.
pub const HEADLESS_HINT: &str = "`stipple view` needs a display; for images without one, use \
`stipple render SCENE.toml --out DIR` (or `xvfb-run stipple view ...` for a virtual display)";

/// Opens the viewer window and runs until it is closed.
pub fn run(opts: ViewOptions) -> Result<()> {
    let scene = Scene::load(&opts.scene)?;
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
        let aspect = opts.size.0 as f32 / opts.size.1.max(1) as f32;
        let orbit = Orbit::for_view(
            &states.study.head,
            ViewName::Front,
            scene.spec.render.focal_length_mm,
            aspect,
            hairline,
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
            .with_inner_size(winit::dpi::PhysicalSize::new(w, h));
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
        FrameSettings {
            camera: self.orbit.camera(w as f32 / h.max(1) as f32),
            lighting: self.lightings[self.lighting].1,
            skin: self.states.skin(self.state),
            width: fw,
            height: fh,
            supersample: ss,
            show_dots: true,
            single_dots: true,
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

    /// Renders what changed and puts it on screen; returns the time taken (ms).
    fn redraw(&mut self, quality: Quality) -> f64 {
        let t = Instant::now();
        self.update_frames(quality);
        let (w, h) = self.window_size();
        let text = OverlayText {
            status: self.status(),
            error: self.error.clone(),
            split_x: self.split_x(),
            help: self.help,
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
        let _ = g
            .renderer
            .gpu
            .device
            .poll(wgpu::PollType::wait_indefinitely());
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
        if self.drag.is_some_and(|d| d != Drag::Split) || self.last_input.elapsed() < REFINE_AFTER {
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
                    self.scene.spec.render.focal_length_mm,
                    w as f32 / h.max(1) as f32,
                    self.hairline,
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
                let disclaimer = self.scene.spec.render.disclaimer;
                crate::output::png::write_image(path, frame, disclaimer, &meta)
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
        self.drag = Some(input::drag_for_press(
            button,
            self.shift,
            self.pointer.0,
            self.split_x(),
        ));
    }

    fn release(&mut self) {
        if self.drag.take().is_some_and(|d| d != Drag::Split) {
            self.touched();
        } else {
            self.refresh();
        }
    }

    fn pointer_to(&mut self, x: f32, y: f32) {
        let (dx, dy) = (x - self.pointer.0, y - self.pointer.1);
        self.pointer = (x, y);
        let (w, h) = self.window_size();
        match self.drag {
            None => return,
            Some(Drag::Orbit) => self
                .orbit
                .rotate(dx * input::ORBIT_DEG_PER_PX, dy * input::ORBIT_DEG_PER_PX),
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
        let loaded = Scene::load(&self.opts.scene)
            .map_err(anyhow::Error::from)
            .and_then(|scene| Ok((load_plan(&scene)?, scene)));
        match loaded {
            Ok(((states, hairline), scene)) => {
                self.lightings = lightings_for(&scene);
                self.lighting = self.lighting.min(self.lightings.len() - 1);
                self.state.session = self.state.session.min(states.sessions());
                self.scene = scene;
                self.states = states;
                self.hairline = hairline;
                self.generation += 1;
                self.error = None;
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
            Command::Key { name, shift } => {
                let was = self.shift;
                self.shift = shift;
                let t = Instant::now();
                self.key(&name, shift, event_loop);
                self.shift = was;
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
            WindowEvent::ModifiersChanged(m) => self.shift = m.state().shift_key(),
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
