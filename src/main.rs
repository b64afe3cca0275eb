//! The `stipple` command line.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::time::Instant;
use stipple::head::Head;
use stipple::layout;
use stipple::render::{AdapterRequest, BackendChoice, GpuContext, Renderer};
use stipple::scene::{OutputKind, Scene, ViewName};
use stipple::study::{Age, State, Study, needs, year_label};

mod cli;

#[derive(Parser)]
#[command(
    name = "stipple",
    version,
    about = "Render scalp micropigmentation (SMP) treatment plans on a 3D head"
)]
struct Cli {
    #[command(flatten)]
    gpu: GpuArgs,
    /// Print progress details (-v) or debug output (-vv).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct GpuArgs {
    /// Graphics backend to use [env: STIPPLE_BACKEND].
    #[arg(long, global = true, value_enum, default_value_t = BackendChoice::Auto)]
    backend: BackendChoice,
    /// Use the adapter whose name contains this text, e.g. llvmpipe [env: STIPPLE_ADAPTER].
    #[arg(long, global = true)]
    adapter: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Render the built-in scene (before and after, several views) into DIR.
    Demo {
        #[arg(long, default_value = "stipple-demo", value_parser = cli::out_dir)]
        out: PathBuf,
        #[command(flatten)]
        look: OutputArgs,
    },
    /// Render a scene file's views and outputs into DIR.
    Render {
        scene: PathBuf,
        /// Output folder (created if missing).
        #[arg(long, value_parser = cli::out_dir)]
        out: PathBuf,
        /// Render only these views (default: the scene's).
        #[arg(long = "view", value_enum)]
        views: Vec<ViewArg>,
        /// Show the state after this session (1-4; default: after the last).
        #[arg(long, value_parser = clap::value_parser!(u8).range(1..=4))]
        session: Option<u8>,
        #[command(flatten)]
        look: OutputArgs,
    },
    /// Render frames all round the head, as numbered PNGs and a looping animated PNG.
    Turntable {
        scene: PathBuf,
        /// Output folder (created if missing).
        #[arg(long, value_parser = cli::out_dir)]
        out: PathBuf,
        /// Frames in one turn: 1 to 3600.
        #[arg(long, default_value_t = 36,
              value_parser = clap::value_parser!(u32).range(1..=stipple::output::turntable::MAX_FRAMES as i64))]
        frames: u32,
        /// Frames per second of the animation: 0.1 to 100.
        #[arg(long, default_value_t = 12.0, value_parser = cli::fps)]
        fps: f32,
        /// What each frame shows: before, after, or before-after (side by side).
        #[arg(long, default_value = "after")]
        show: String,
        #[command(flatten)]
        look: OutputArgs,
    },
    /// Render every variant of a batch manifest (a base scene x axes of scene keys).
    Batch {
        /// The manifest (TOML): a base scene and axes of scene keys; see docs/batch.md.
        manifest: PathBuf,
        /// Render only shard I of N (variants whose index mod N is I-1), e.g. --shard 2/8; or
        /// `auto` / `auto/N`: from a cluster scheduler's variables (JOB_COMPLETION_INDEX,
        /// SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX), the default when one is set.
        #[arg(long)]
        shard: Option<stipple::batch::ShardArg>,
        /// Render only items A to B (from 0, as --list numbers them), a render farm's chunk.
        #[arg(long, value_name = "A-B")]
        items: Option<stipple::batch::ItemRange>,
        /// Check every item's outputs in DIR, then write the whole batch's contact sheet and
        /// summary; exits 1 if any item is missing.
        #[arg(long, value_name = "DIR", conflicts_with_all = ["shard", "items", "force", "list", "out"])]
        merge: Option<PathBuf>,
        /// Output folder (default: the manifest's `out`).
        #[arg(long, value_parser = cli::out_dir)]
        out: Option<PathBuf>,
        /// Render every output again, even those already complete.
        #[arg(long)]
        force: bool,
        /// List the variants (of the shard) with their stable ids and exit.
        #[arg(long)]
        list: bool,
        /// With --list: one JSON array of {index, id, hash, labels}.
        #[arg(long, requires = "list")]
        json: bool,
        /// Leave the "Simulation, not a guarantee of results" line off the images.
        #[arg(long)]
        no_disclaimer: bool,
    },
    /// Lay out a scene's plan and print its figures.
    Plan {
        scene: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print the head's landmarks (mm, head frame) and where the hairline falls against them;
    /// --out renders front and side views with the landmarks and the hairline drawn on.
    Landmarks {
        scene: PathBuf,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also write the check image (front and left views, marked) to this PNG.
        #[arg(long, value_parser = cli::png_file)]
        out: Option<PathBuf>,
        /// Pixels per view (square) of the check image: 64 to 4096.
        #[arg(long, default_value_t = 720, value_parser = clap::value_parser!(u32).range(64..=4096))]
        tile: u32,
    },
    /// Write a commented example scene that renders as it is.
    Init {
        file: PathBuf,
        /// Overwrite an existing file.
        #[arg(long)]
        force: bool,
    },
    /// Write the built-in procedural head as an OBJ file (millimetres, +Y up, +Z forward).
    Head {
        /// The OBJ file to write.
        #[arg(long, value_parser = cli::obj_file)]
        out: PathBuf,
    },
    /// Render one view of a scene under every lighting preset, labelled, side by side in one PNG.
    Sheet {
        scene: PathBuf,
        /// The PNG file to write.
        #[arg(long, value_parser = cli::png_file)]
        out: PathBuf,
        /// The view (default: the scene's first).
        #[arg(long, value_enum)]
        view: Option<ViewArg>,
        /// Tile width and height in pixels: 16 to 4096.
        #[arg(long, default_value_t = 384, value_parser = clap::value_parser!(u32).range(16..=4096))]
        tile: u32,
        /// Samples per pixel along each axis, 1 to 4 (default: the scene's).
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4))]
        supersample: Option<u32>,
        /// Tiles per row: 1 to 64.
        #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
        columns: u32,
        /// Show the bare head (before) instead of the result.
        #[arg(long)]
        before: bool,
    },
    /// Write a self-contained web page for the client to take home (DIR/index.html, frames
    /// embedded, works offline): the head turning on a drag, a before/after split, the
    /// lighting presets, sessions and years, the plan's figures and the disclaimer.
    Share {
        scene: PathBuf,
        /// Output folder (created if missing).
        #[arg(long, value_parser = cli::out_dir)]
        out: PathBuf,
        #[command(flatten)]
        page: cli::ShareArgs,
    },
    /// Open a window on a scene: turn the head, split before from after, switch the light,
    /// the session and the years of ageing (H in the window lists the keys).
    View {
        scene: PathBuf,
        /// Window size WIDTHxHEIGHT in logical pixels (twice as many on a HiDPI screen).
        #[arg(long, value_parser = parse_size, default_value = "1024x768")]
        size: (u32, u32),
        /// Folder the screenshot key (P) writes its PNGs to.
        #[arg(long, default_value = ".")]
        screenshot_dir: PathBuf,
        /// Scripted input run once the first frame shows, e.g. "drag 0.5 0.5 0.7 0.5; key l;
        /// screenshot a.png; orbit 36; quit" (keys, drags as fractions of the window).
        #[arg(long)]
        exec: Option<String>,
    },
    /// List the compiled-in backends, the GPU adapters found and the one Stipple would use,
    /// with their limits.
    Info {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// The light-transport reference: Monte Carlo photons through skin and pigment (CPU).
    Optics(stipple::optics::cli::OpticsArgs),
    /// Suggest, per zone, the pigment dilution and reach that match the client's shaved hair
    /// (or --target) within dE00 2 in daylight, and how the match holds under each light.
    Match(stipple::optics::match_cli::MatchArgs),
    /// Measure layout and frame times on the built-in head.
    Bench {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Frames timed per dot count, after warm-up: 1 to 1000.
        #[arg(long, default_value_t = 7, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(1..=1000), usize::from))]
        frames: usize,
        /// A quick subset: 0 and 100,000 dots (what `cargo bench` runs).
        #[arg(long)]
        quick: bool,
    },
}

/// How images are written (overriding the scene file).
#[derive(Args, Clone, Default)]
struct OutputArgs {
    /// Leave the "Simulation, not a guarantee of results" line off the images.
    #[arg(long)]
    no_disclaimer: bool,
    /// Bits per channel of the PNGs: 8, or 16.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["8", "16"]))]
    bit_depth: Option<String>,
    /// Frame size WIDTHxHEIGHT, e.g. 7680x4320 (stills beyond the GPU's texture limit render
    /// as tiles).
    #[arg(long, value_parser = parse_size)]
    size: Option<(u32, u32)>,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let err =
        || format!("expected WIDTHxHEIGHT with 1 to 16384 pixels each, e.g. 3840x2160, got {s:?}");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(err)?;
    let (w, h): (u32, u32) = (
        w.trim().parse().map_err(|_| err())?,
        h.trim().parse().map_err(|_| err())?,
    );
    if !(1..=16384).contains(&w) || !(1..=16384).contains(&h) {
        return Err(err());
    }
    Ok((w, h))
}

impl OutputArgs {
    fn apply(&self, mut scene: Scene) -> Scene {
        let r = &mut scene.spec.render;
        if self.no_disclaimer {
            r.disclaimer = false;
        }
        if let Some(b) = &self.bit_depth {
            r.bit_depth = if b == "16" { 16 } else { 8 };
        }
        if let Some((w, h)) = self.size {
            (r.width, r.height) = (w, h);
        }
        scene
    }
}

/// View names for `--view`.
#[derive(Clone, Copy, clap::ValueEnum)]
enum ViewArg {
    Front,
    Left,
    Right,
    Back,
    Top,
    FrontLeft,
    FrontRight,
    HairlineCloseup,
    Macro,
}

impl From<ViewArg> for ViewName {
    fn from(v: ViewArg) -> Self {
        match v {
            ViewArg::Front => ViewName::Front,
            ViewArg::Left => ViewName::Left,
            ViewArg::Right => ViewName::Right,
            ViewArg::Back => ViewName::Back,
            ViewArg::Top => ViewName::Top,
            ViewArg::FrontLeft => ViewName::FrontLeft,
            ViewArg::FrontRight => ViewName::FrontRight,
            ViewArg::HairlineCloseup => ViewName::HairlineCloseup,
            ViewArg::Macro => ViewName::Macro,
        }
    }
}

fn main() {
    quiet_vulkan_device_select();
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    env_logger::Builder::from_env(
        env_logger::Env::default().default_filter_or(format!("stipple={level}")),
    )
    .format_timestamp(None)
    .init();
    // Ctrl-C or a kill during a write leaves no temporary file behind.
    stipple::output::remove_temporary_files_on_signal();
    if let Err(e) = run(cli) {
        eprintln!("error: {}", error_text(&e));
        std::process::exit(1);
    }
}

/// Mesa's Vulkan device-select layer looks for a Wayland display to pick a default GPU, and
/// libwayland prints "error: XDG_RUNTIME_DIR is invalid or not set in the environment." when
/// there is none (a server, CI, ssh): noise that reads as a failure on a run that succeeds.
/// Stipple ranks the adapters itself, so without a session directory the layer is turned off
/// through its documented switch. Only at start-up, before any thread exists.
fn quiet_vulkan_device_select() {
    #[cfg(all(unix, not(target_os = "macos")))]
    if std::env::var_os("XDG_RUNTIME_DIR").is_none_or(|d| !Path::new(&d).is_dir())
        && std::env::var_os("NODEVICE_SELECT").is_none()
    {
        // SAFETY: the first thing `main` does; no other thread reads the environment yet.
        unsafe { std::env::set_var("NODEVICE_SELECT", "1") };
    }
}

/// The error and its causes, each once: a cause whose text the message already carries (an OS
/// error quoted by the error that wraps it) is not printed again.
fn error_text(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

fn gpu(args: &GpuArgs) -> Result<GpuContext> {
    let request = AdapterRequest {
        backend: args.backend,
        name_contains: args.adapter.clone(),
    }
    .with_env()?;
    Ok(GpuContext::new(&request)?)
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo { out, look } => {
            render_scene(look.apply(Scene::demo()), &out, &[], None, &cli.gpu)
        }
        Command::Render {
            scene,
            out,
            views,
            session,
            look,
        } => {
            let scene = look.apply(Scene::load(&scene)?);
            let views: Vec<ViewName> = views.into_iter().map(Into::into).collect();
            render_scene(scene, &out, &views, session, &cli.gpu)
        }
        Command::Turntable {
            scene,
            out,
            frames,
            fps,
            show,
            look,
        } => {
            let kind: OutputKind =
                serde::Deserialize::deserialize(serde::de::value::StrDeserializer::<
                    serde::de::value::Error,
                >::new(&show))
                .map_err(|_| {
                    anyhow::anyhow!("--show: expected before, after or before-after, got {show:?}")
                })?;
            let scene = look.apply(Scene::load(&scene)?);
            turntable(scene, &out, kind, frames, fps, &cli.gpu)
        }
        Command::Batch {
            manifest,
            shard,
            items,
            merge,
            out,
            force,
            list,
            json,
            no_disclaimer,
        } => {
            // A merge reads the whole output folder, whatever worker it runs in.
            let shard = if merge.is_some() {
                stipple::batch::shard::Resolved {
                    shard: stipple::batch::Shard::ALL,
                    source: None,
                }
            } else {
                stipple::batch::shard::resolve(shard, &|v| std::env::var(v).ok())
                    .context("--shard")?
            };
            batch(
                &manifest,
                BatchArgs {
                    shard,
                    items,
                    merge,
                    list,
                    json,
                },
                out,
                force,
                no_disclaimer,
                &cli.gpu,
            )
        }
        Command::Plan { scene, json } => {
            let scene = Scene::load(&scene)?;
            let head = scene.head()?;
            print_plan(&scene, &head, json)
        }
        Command::Landmarks {
            scene,
            json,
            out,
            tile,
        } => landmarks(&scene, json, out.as_deref(), tile, &cli.gpu),
        Command::Init { file, force } => init(&file, force),
        Command::Head { out } => write_head(&out),
        Command::Sheet {
            scene,
            out,
            view,
            tile,
            supersample,
            columns,
            before,
        } => sheet(
            Scene::load(&scene)?,
            &out,
            view.map(Into::into),
            (tile, supersample, columns, before),
            &cli.gpu,
        ),
        Command::View {
            scene,
            size,
            screenshot_dir,
            exec,
        } => {
            let script = match exec {
                Some(text) => stipple::viewer::script::parse(&text).map_err(anyhow::Error::msg)?,
                None => Vec::new(),
            };
            stipple::viewer::run(stipple::viewer::ViewOptions {
                scene,
                request: AdapterRequest {
                    backend: cli.gpu.backend,
                    name_contains: cli.gpu.adapter.clone(),
                }
                .with_env()?,
                size,
                screenshot_dir,
                script,
            })
        }
        Command::Share { scene, out, page } => share(&scene, &out, &page, &cli.gpu),
        Command::Info { json } => info(&cli.gpu, json),
        Command::Optics(args) => stipple::optics::cli::run(&args),
        Command::Match(args) => stipple::optics::match_cli::run(&args),
        Command::Bench {
            json,
            frames,
            quick,
        } => bench(&cli.gpu, json, frames, quick),
    }
}

/// `stipple landmarks`: the landmarks as text or JSON, and with `--out` the check image.
fn landmarks(
    scene: &Path,
    json: bool,
    out: Option<&Path>,
    tile: u32,
    gpu_args: &GpuArgs,
) -> Result<()> {
    use stipple::output::landmarks;
    let mut study = Study::load(scene)?;
    if json {
        let v = landmarks::report_json(&study);
        println!("{}", serde_json::to_string_pretty(&v).expect("plain JSON"));
    } else {
        print!("{}", landmarks::report_text(&study));
    }
    if let Some(out) = out {
        let mut renderer = Renderer::new(gpu(gpu_args)?);
        let image = landmarks::landmark_image(&mut renderer, &mut study, tile)?;
        let meta = stipple::output::png::PngMeta::for_scene(&study.scene)
            .with(stipple::output::png::keys::OUTPUT, "landmarks");
        stipple::output::png::write_image(out, image, study.scene.spec.render.disclaimer, &meta)?;
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

/// `stipple init`: the commented example scene.
fn init(file: &Path, force: bool) -> Result<()> {
    if file.exists() && !force {
        bail!(
            "{}: already exists (use --force to overwrite)",
            file.display()
        );
    }
    stipple::output::write_atomic(file, |f| {
        std::io::Write::write_all(f, stipple::scene::DEFAULT_SCENE_TOML.as_bytes())
    })?;
    println!(
        "wrote {}; render it with `stipple render {} --out renders`",
        file.display(),
        file.display()
    );
    Ok(())
}

/// `stipple head`: the built-in procedural head as OBJ.
fn write_head(out: &Path) -> Result<()> {
    let head = stipple::head::procedural::build(&Default::default());
    stipple::head::obj::write_obj(&head, out)
        .with_context(|| format!("{}: cannot write", out.display()))?;
    println!(
        "wrote {} ({} vertices, {} triangles; millimetres, +Y up, +Z forward)",
        out.display(),
        head.mesh.positions_mm.len(),
        head.mesh.triangle_count()
    );
    Ok(())
}

fn print_plan(scene: &Scene, head: &Head, json: bool) -> Result<()> {
    let plan = scene.plan();
    let t = Instant::now();
    let (layout, condition) = scene.lay_out(head)?;
    let layout_ms = t.elapsed().as_secs_f64() * 1e3;
    let figures = layout::plan_figures(head, &plan, &condition, &layout.dots)
        .with_context(|| format!("{}: `plan`", scene.file.display()))?;
    // The skin tone measured on a coloured scan (a forehead patch).
    let tone = stipple::head::skin_tone::measure(head);
    if json {
        let zones: Vec<_> = figures
            .zones
            .iter()
            .map(|z| {
                serde_json::json!({
                    "name": z.name,
                    "area_cm2": round2(z.area_cm2),
                    "effective_area_cm2": round2(z.effective_area_cm2),
                    "requested_density_per_cm2": z.requested_density_per_cm2,
                    "realized_density_per_cm2": round2(z.realized_density_per_cm2),
                    "dots": z.dots,
                    "dots_per_session": z.dots_per_session,
                })
            })
            .collect();
        let sessions: Vec<_> = figures
            .sessions
            .iter()
            .map(|s| {
                serde_json::json!({
                    "index": s.index,
                    "dots": s.dots,
                    "needle_hours": round2(s.needle_hours),
                })
            })
            .collect();
        let v = serde_json::json!({
            "scene": scene.file.display().to_string(),
            "dots_total": figures.dots_total,
            "treated_area_cm2": round2(figures.treated_area_cm2),
            "zones": zones,
            "sessions": sessions,
            "impressions_per_hour": figures.impressions_per_hour,
            "needle_hours": round2(figures.needle_hours),
            "condition": scene.spec.client.condition.pattern.as_str(),
            "seed": plan.seed,
            "layout_ms": round2(layout_ms),
            "scan_skin": tone.map(|t| serde_json::json!({
                "srgb": t.srgb_hex(),
                "lab": t.lab.map(|v| round2(v as f64)),
                "ita_deg": round2(t.ita_deg as f64),
                "fitzpatrick": t.fitzpatrick,
                "patch_cm2": round2(t.patch_cm2 as f64),
            })),
        });
        println!("{}", serde_json::to_string_pretty(&v).expect("plain JSON"));
        return Ok(());
    }
    println!("scene:        {}", scene.file.display());
    println!("condition:    {}", scene.spec.client.condition.pattern);
    if let Some(t) = tone {
        println!(
            "scan skin:    {} (L*a*b* {:.1} {:.1} {:.1}, ITA {:.0}°, Fitzpatrick {}; forehead, {:.0} cm2){}",
            t.srgb_hex(),
            t.lab[0],
            t.lab[1],
            t.lab[2],
            t.ita_deg,
            t.fitzpatrick,
            t.patch_cm2,
            if scene.spec.client.skin.is_some() {
                "; client.skin tints it"
            } else {
                ""
            }
        );
    }
    println!(
        "treated:      {:.1} cm2, {} impressions, {:.1} needle hours at {}/h",
        figures.treated_area_cm2,
        figures.dots_total,
        figures.needle_hours,
        figures.impressions_per_hour
    );
    println!();
    println!(
        "{:<10} {:>9} {:>11} {:>11} {:>9}",
        "zone", "area cm2", "asked /cm2", "got /cm2", "dots"
    );
    for z in &figures.zones {
        println!(
            "{:<10} {:>9.1} {:>11.0} {:>11.1} {:>9}",
            z.name, z.area_cm2, z.requested_density_per_cm2, z.realized_density_per_cm2, z.dots
        );
    }
    println!();
    for s in &figures.sessions {
        println!(
            "session {}:    {} impressions, {:.1} needle hours",
            s.index, s.dots, s.needle_hours
        );
    }
    println!("layout time:  {layout_ms:.0} ms");
    Ok(())
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Milliseconds spent in each step of a command, printed with `-v`.
#[derive(Default)]
struct Split {
    prepare_ms: f64,
    frame_ms: f64,
    encode_ms: f64,
}

fn since_ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

fn render_scene(
    mut scene: Scene,
    out: &Path,
    views: &[ViewName],
    session: Option<u8>,
    gpu_args: &GpuArgs,
) -> Result<()> {
    let started = Instant::now();
    let views = if views.is_empty() {
        scene.spec.render.views.clone()
    } else {
        views.to_vec()
    };
    let sessions = scene.plan().sessions.len() as u8;
    if let Some(s) = session {
        if !(1..=sessions).contains(&s) {
            bail!(
                "--session {s}: {} plans {sessions} session(s); expected 1 to {sessions}",
                scene.file.display()
            );
        }
        scene.spec.render.session = Some(s);
    }
    // The adapter starts (and a software one compiles the passes' shaders) on a second
    // thread while the scene is loaded and laid out.
    let (study, renderer) = std::thread::scope(|s| {
        let renderer = s.spawn(|| gpu(gpu_args).map(Renderer::new));
        let study = Study::new(scene);
        (study, renderer.join().expect("GPU start-up thread"))
    });
    let mut study = study?;
    let state = study.scene_state();
    eprintln!(
        "plan: {} dots over {:.1} cm2 ({:.0} ms){}",
        study.dots(state).len(),
        study.layout.treated_area_mm2 / 100.0,
        study.timings.load_ms + study.timings.layout_ms,
        session.map_or(String::new(), |s| format!(
            ", after session {s} of {sessions}"
        ))
    );
    let mut renderer = renderer?;
    eprintln!("adapter: {}", renderer.gpu.summary);
    // With -vv, each pass of each frame is timed (a wait after each pass: a little slower).
    renderer.set_pass_timing(log::log_enabled!(log::Level::Debug));
    let mut split = Split::default();
    // The scene's state for its outputs, then its ageing timeline (`VIEW-after-yearNN.png`),
    // each prepared once for every view.
    let mut states = vec![(state, None)];
    states.extend(
        study
            .timeline(state.session)
            .into_iter()
            .map(|s| match s.age {
                Age::Years(y) => (s, Some(y)),
                Age::Healed => (s, None),
            }),
    );
    for (state, years) in states {
        let t = Instant::now();
        study.prepare(&renderer, state)?;
        split.prepare_ms += since_ms(t);
        for &view in &views {
            render_view(
                &mut study,
                &mut renderer,
                out,
                view,
                state,
                years,
                &mut split,
            )?;
        }
    }
    let t = &study.timings;
    log::info!(
        "split: load {:.0} ms, layout {:.0} ms, prepare {:.0} ms, frame {:.0} ms, encode {:.0} ms; total {:.0} ms",
        t.load_ms,
        t.layout_ms,
        split.prepare_ms,
        split.frame_ms,
        split.encode_ms,
        since_ms(started)
    );
    Ok(())
}

/// One view of one state: the scene's outputs (`VIEW-OUTPUT.png`), or for a point of the
/// ageing timeline its "after" (`VIEW-after-yearNN.png`).
fn render_view(
    study: &mut Study,
    renderer: &mut Renderer,
    out: &Path,
    view: ViewName,
    state: State,
    years: Option<f32>,
    split: &mut Split,
) -> Result<()> {
    let spec = study.scene.spec.render.clone();
    let settings = study.view_settings(view, state);
    let tiles = renderer.tile_grid(&settings).count();
    if tiles > 1 {
        eprintln!(
            "{}: {}x{} renders as {tiles} tiles",
            view.as_str(),
            spec.width,
            spec.height
        );
    }
    let outputs: Vec<(OutputKind, PathBuf)> = match years {
        None => spec
            .outputs
            .iter()
            .map(|o| {
                (
                    *o,
                    out.join(format!("{}-{}.png", view.as_str(), o.as_str())),
                )
            })
            .collect(),
        Some(y) => vec![(
            OutputKind::After,
            out.join(format!("{}-after-{}.png", view.as_str(), year_label(y))),
        )],
    };
    let need = outputs.iter().fold((false, false), |(b, a), (o, _)| {
        let (nb, na) = needs(*o);
        (b || nb, a || na)
    });
    let t = Instant::now();
    let (before, after) = study.render_pair(renderer, &settings, state, need)?;
    split.frame_ms += since_ms(t);
    let meta = stipple::output::png::PngMeta::for_scene(&study.scene);
    let t = Instant::now();
    // Each output is encoded on its own thread (compression is the costly part).
    std::thread::scope(|s| {
        let writes: Vec<_> = outputs
            .iter()
            .map(|(output, path)| {
                let (before, after, meta) = (before.as_ref(), after.as_ref(), &meta);
                s.spawn(move || {
                    stipple::output::composite::write_output(
                        path,
                        *output,
                        view,
                        before,
                        after,
                        spec.disclaimer,
                        meta,
                    )
                })
            })
            .collect();
        for (write, (_, path)) in writes.into_iter().zip(&outputs) {
            write.join().expect("PNG writer thread")?;
            eprintln!("wrote {}", path.display());
        }
        anyhow::Ok(())
    })?;
    split.encode_ms += since_ms(t);
    Ok(())
}

fn turntable(
    scene: Scene,
    out: &Path,
    kind: OutputKind,
    frames: u32,
    fps: f32,
    gpu_args: &GpuArgs,
) -> Result<()> {
    let mut study = Study::new(scene)?;
    let mut renderer = Renderer::new(gpu(gpu_args)?);
    eprintln!("adapter: {}", renderer.gpu.summary);
    let bar = indicatif::ProgressBar::new(frames.max(1) as u64);
    let done = stipple::output::turntable::render_turntable(
        &mut renderer,
        &mut study,
        kind,
        frames,
        fps,
        out,
        |i| bar.set_position(i as u64),
    )?;
    bar.finish_and_clear();
    println!(
        "wrote {} frames ({}) and the animation {}",
        done.frames.len(),
        out.join("turntable-NNN.png").display(),
        done.animation.display()
    );
    Ok(())
}

/// `stipple sheet`: one view under every lighting preset, through the one image writer.
fn sheet(
    scene: Scene,
    out: &Path,
    view: Option<ViewName>,
    options: (u32, Option<u32>, u32, bool),
    gpu_args: &GpuArgs,
) -> Result<()> {
    use stipple::output::png::{PngMeta, keys, write_image};
    let (tile, supersample, columns, before) = options;
    let mut study = Study::new(scene)?;
    let r = &study.scene.spec.render;
    let options = stipple::output::sheet::LightingSheetOptions {
        view: view.unwrap_or(r.views[0]),
        tile_px: tile.clamp(16, 4096),
        supersample: supersample.unwrap_or(r.supersample).clamp(1, 4),
        columns,
        show_dots: !before,
    };
    let mut renderer = Renderer::new(gpu(gpu_args)?);
    let sheet = stipple::output::sheet::lighting_sheet(&mut renderer, &mut study, &options)?;
    let meta = PngMeta::for_scene(&study.scene)
        .with(keys::VIEW, options.view.as_str())
        .with(keys::OUTPUT, "lighting-sheet");
    let disclaimer = study.scene.spec.render.disclaimer;
    let sheet = if disclaimer {
        stipple::output::sheet::with_disclaimer_footer(&sheet)
    } else {
        sheet
    };
    write_image(
        out,
        stipple::render::FrameImage::Eight(sheet),
        disclaimer,
        &meta,
    )?;
    eprintln!(
        "wrote {} ({} lighting presets)",
        out.display(),
        stipple::lighting::presets().len()
    );
    Ok(())
}

/// `stipple share`: the consultation page, rendered through the front door.
fn share(scene: &Path, out: &Path, page: &cli::ShareArgs, gpu_args: &GpuArgs) -> Result<()> {
    let options = page.options();
    options.validate()?;
    let started = Instant::now();
    let mut scene = Scene::load(scene)?;
    if page.no_disclaimer {
        scene.spec.render.disclaimer = false;
    }
    let mut study = Study::new(scene)?;
    let mut renderer = Renderer::new(gpu(gpu_args)?);
    eprintln!("adapter: {}", renderer.gpu.summary);
    let bar = indicatif::ProgressBar::new(1);
    let written = stipple::output::share::write_share_page(
        &mut renderer,
        &mut study,
        &options,
        out,
        |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
    )?;
    bar.finish_and_clear();
    println!(
        "wrote {}: {:.1} MB, {} frames of {}x{} in {} sets ({:.0} s); open it in any browser, offline",
        written.path.display(),
        written.bytes as f64 / 1e6,
        written.frames,
        options.width,
        options.height,
        written.sets,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `stipple batch`'s choice of items and what to do with them.
struct BatchArgs {
    shard: stipple::batch::shard::Resolved,
    items: Option<stipple::batch::ItemRange>,
    merge: Option<PathBuf>,
    list: bool,
    json: bool,
}

fn batch(
    manifest: &Path,
    args: BatchArgs,
    out: Option<PathBuf>,
    force: bool,
    no_disclaimer: bool,
    gpu_args: &GpuArgs,
) -> Result<()> {
    let mut extra = toml::Table::new();
    if no_disclaimer {
        extra.insert("render.disclaimer".into(), toml::Value::Boolean(false));
    }
    let batch = stipple::batch::Batch::load(manifest, &extra)?;
    if let Some(dir) = args.merge {
        let report = stipple::batch::merge(&batch, &dir)?;
        println!("{}", report.summary());
        if !report.missing.is_empty() {
            bail!(
                "{} of {} items are missing (listed above)",
                report.missing.len(),
                report.items_total
            );
        }
        return Ok(());
    }
    if let Some(r) = args.items {
        r.check(batch.variants.len()).map_err(anyhow::Error::msg)?;
    }
    let shard = args.shard.shard;
    let selection = stipple::batch::Selection {
        shard,
        items: args.items,
    };
    if args.list && args.json {
        let items: Vec<stipple::batch::shard::ListedItem> =
            batch.select(selection).map(Into::into).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&items).expect("plain data")
        );
        return Ok(());
    }
    if args.list {
        for v in batch.select(selection) {
            let status = match &v.scene {
                Ok(_) => String::new(),
                Err(e) => format!("  (invalid: {e})"),
            };
            println!("{:>5} {} {}{status}", v.index, v.hash, v.name);
        }
        return Ok(());
    }
    let out = out.unwrap_or_else(|| batch.default_out());
    let mut renderer = Renderer::new(gpu(gpu_args)?);
    eprintln!(
        "adapter: {}; {} variants, shard {selection}{}: {}; output: {}",
        renderer.gpu.summary,
        batch.variants.len(),
        args.shard
            .source
            .as_ref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default(),
        batch.select(selection).count(),
        out.display()
    );
    let opts = stipple::batch::RunOptions {
        out,
        shard,
        items: args.items,
        source: args.shard.source.clone(),
        force,
        progress: true,
    };
    let report = stipple::batch::run(&mut renderer, &batch, &opts)?;
    println!("{}", report.summary());
    let failed = report.count(stipple::batch::Status::Failed);
    if failed > 0 {
        bail!(
            "{failed} of {} variants failed (listed above)",
            report.variants.len()
        );
    }
    Ok(())
}

/// `stipple info`: the compiled-in backends, every adapter found and the one Stipple picks
/// (the same choice `GpuContext::new` makes), with the limits that bound its frames.
fn info(args: &GpuArgs, json: bool) -> Result<()> {
    let request = AdapterRequest {
        backend: args.backend,
        name_contains: args.adapter.clone(),
    }
    .with_env()?;
    let compiled = stipple::render::compiled_backends();
    let found = GpuContext::survey(&request);
    let chosen = found.iter().find(|a| a.chosen);
    if json {
        let v = serde_json::json!({
            "compiled_backends": compiled,
            "os": std::env::consts::OS,
            "adapters": found,
            "chosen": chosen.map(|a| a.summary.to_string()),
        });
        println!("{}", serde_json::to_string_pretty(&v).expect("plain JSON"));
    } else {
        println!(
            "compiled-in backends: {} ({})",
            compiled.join(", "),
            std::env::consts::OS
        );
        println!(
            "adapters found ({}), in the order Stipple tries them:",
            found.len()
        );
        for a in &found {
            println!("{} {}", if a.chosen { "*" } else { " " }, a.summary);
            println!(
                "    max texture {} px, max buffer {} MiB, storage binding {} MiB, {} colour attachments, f32 blending {}, pigment map splatted on the {}",
                a.max_texture_dimension_2d,
                a.max_buffer_size >> 20,
                a.max_storage_buffer_binding_size >> 20,
                a.max_color_attachments,
                if a.float32_blendable { "yes" } else { "no" },
                a.pigment_splat.to_uppercase()
            );
        }
    }
    if chosen.is_none() {
        // The same error a render would give, naming what was tried and how to install it.
        GpuContext::new(&request)?;
        bail!("no adapter matches the request");
    }
    if !json {
        println!("chosen: {}", chosen.expect("checked").summary);
    }
    Ok(())
}

fn bench(args: &GpuArgs, json: bool, frames: usize, quick: bool) -> Result<()> {
    let mut opts = if quick {
        stipple::bench::BenchOptions::quick()
    } else {
        stipple::bench::BenchOptions::full()
    };
    opts.frames = frames;
    let mut renderer = Renderer::new(gpu(args)?);
    let report = stipple::bench::run(&mut renderer, &opts, |what| log::info!("bench: {what}"))?;
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("plain JSON")
        );
    } else {
        print!("{}", report.table());
    }
    Ok(())
}
