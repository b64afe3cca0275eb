//! The `stipple` command line.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::time::Instant;
use stipple::head::Head;
use stipple::layout::{self, DotLayout};
use stipple::plan::ScalpCondition;
use stipple::render::camera::ViewName;
use stipple::render::{AdapterRequest, BackendChoice, FrameSettings, GpuContext, Renderer};
use stipple::scene::{OutputKind, Scene};

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
    /// Open a window on a scene: turn the head, split before from after, switch the light,
    /// the session and the years of ageing (H in the window lists the keys).
    View {
        scene: PathBuf,
        /// Window size WIDTHxHEIGHT in pixels.
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
    /// List the GPU adapters found and the one Stipple would use, with its limits.
    Info,
    /// The light-transport reference: Monte Carlo photons through skin and pigment (CPU).
    Optics(stipple::optics::cli::OpticsArgs),
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
            render_scene(&look.apply(Scene::demo()), &out, &[], None, &cli.gpu)
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
            render_scene(&scene, &out, &views, session, &cli.gpu)
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
            turntable(&scene, &out, kind, frames, fps, &cli.gpu)
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
        Command::Init { file, force } => {
            if file.exists() && !force {
                bail!(
                    "{}: already exists (use --force to overwrite)",
                    file.display()
                );
            }
            stipple::output::write_atomic(&file, |f| {
                std::io::Write::write_all(f, stipple::scene::DEFAULT_SCENE_TOML.as_bytes())
            })?;
            println!(
                "wrote {}; render it with `stipple render {} --out renders`",
                file.display(),
                file.display()
            );
            Ok(())
        }
        Command::Head { out } => {
            let head = stipple::head::procedural::build(&Default::default());
            stipple::head::obj::write_obj(&head, &out)
                .with_context(|| format!("{}: cannot write", out.display()))?;
            println!(
                "wrote {} ({} vertices, {} triangles; millimetres, +Y up, +Z forward)",
                out.display(),
                head.mesh.positions_mm.len(),
                head.mesh.triangle_count()
            );
            Ok(())
        }
        Command::Sheet {
            scene,
            out,
            view,
            tile,
            supersample,
            columns,
            before,
        } => {
            let scene = Scene::load(&scene)?;
            let head = scene.head()?;
            let (layout, condition) = lay_out(&scene, &head)?;
            let options = stipple::output::sheet::LightingSheetOptions {
                view: view.map_or(scene.spec.render.views[0], Into::into),
                tile_px: tile.clamp(16, 4096),
                supersample: supersample
                    .unwrap_or(scene.spec.render.supersample)
                    .clamp(1, 4),
                columns,
                show_dots: !before,
            };
            let mut renderer = Renderer::new(gpu(&cli.gpu)?);
            let sheet = stipple::output::sheet::lighting_sheet(
                &mut renderer,
                &scene,
                &head,
                &layout,
                &condition,
                &options,
            )?;
            stipple::output::write_png(&out, &sheet)?;
            eprintln!(
                "wrote {} ({} lighting presets)",
                out.display(),
                stipple::lighting::presets().len()
            );
            Ok(())
        }
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
        Command::Info => info(&cli.gpu),
        Command::Optics(args) => stipple::optics::cli::run(&args),
        Command::Bench {
            json,
            frames,
            quick,
        } => bench(&cli.gpu, json, frames, quick),
    }
}

fn lay_out(scene: &Scene, head: &Head) -> Result<(DotLayout, ScalpCondition)> {
    Ok(scene.lay_out(head)?)
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
            "condition": scene.spec.client.condition.pattern,
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

fn render_scene(
    scene: &Scene,
    out: &Path,
    views: &[ViewName],
    session: Option<u8>,
    gpu_args: &GpuArgs,
) -> Result<()> {
    use stipple::output::composite;
    let spec = &scene.spec.render;
    let views = if views.is_empty() {
        spec.views.clone()
    } else {
        views.to_vec()
    };
    let t = Instant::now();
    let head = scene.head()?;
    let (mut layout, condition) = lay_out(scene, &head)?;
    let sessions = scene.plan().sessions.len() as u8;
    if let Some(s) = session {
        if !(1..=sessions).contains(&s) {
            bail!(
                "--session {s}: {} plans {sessions} session(s); expected 1 to {sessions}",
                scene.file.display()
            );
        }
        // The state after session s: its dots and every earlier session's.
        layout.dots.retain(|d| d.session <= s);
    }
    eprintln!(
        "plan: {} dots over {:.1} cm2 ({:.0} ms){}",
        layout.dots.len(),
        layout.treated_area_mm2 / 100.0,
        t.elapsed().as_secs_f64() * 1e3,
        session.map_or(String::new(), |s| format!(
            ", after session {s} of {sessions}"
        ))
    );
    let mut renderer = Renderer::new(gpu(gpu_args)?);
    eprintln!("adapter: {}", renderer.gpu.summary);
    let gpu_scene = renderer.prepare_with(
        &head,
        &layout.dots,
        spec.pigment_map_size,
        &scene.surface_options(&condition),
    )?;
    let hairline = layout.region.as_ref().map(|r| r.mid_frontal_point());
    let depth = composite::bit_depth(scene);
    // The ageing timeline: one prepared scene per year asked for (the dots aged, the pigment
    // map splatted again), rendered as VIEW-after-yearNN.png.
    let ageing = scene.ageing();
    let mut timeline = Vec::new();
    for years in &scene.spec.ageing.years {
        let dots = stipple::pigment::ageing::aged_dots(&layout.dots, *years, &ageing);
        let prepared = renderer.prepare_with(
            &head,
            &dots,
            spec.pigment_map_size,
            &scene.surface_options(&condition),
        )?;
        timeline.push((*years, prepared));
    }
    let meta = stipple::output::png::PngMeta::for_scene(scene);
    for view in views {
        let settings = composite::frame_settings(scene, &head, hairline, view);
        let tiles = renderer.tile_grid(&settings).count();
        if tiles > 1 {
            eprintln!(
                "{}: {}x{} renders as {tiles} tiles",
                view.as_str(),
                spec.width,
                spec.height
            );
        }
        let t = Instant::now();
        let need_before = spec.outputs.iter().any(|o| composite::needs(*o).0);
        let need_after = spec.outputs.iter().any(|o| composite::needs(*o).1);
        let before_settings = FrameSettings {
            show_dots: false,
            ..settings
        };
        let before = need_before
            .then(|| renderer.render_image(&gpu_scene, &before_settings, depth))
            .transpose()?;
        let after = need_after
            .then(|| renderer.render_image(&gpu_scene, &settings, depth))
            .transpose()?;
        for output in &spec.outputs {
            let path = out.join(format!("{}-{}.png", view.as_str(), output.as_str()));
            composite::write_output(
                &path,
                *output,
                view,
                before.as_ref(),
                after.as_ref(),
                spec.disclaimer,
                &meta,
            )?;
            eprintln!("wrote {}", path.display());
        }
        for (years, prepared) in &timeline {
            let mut aged = settings;
            aged.skin.redness = ageing.redness(*years);
            let image = renderer.render_image(prepared, &aged, depth)?;
            let path = out.join(format!(
                "{}-after-{}.png",
                view.as_str(),
                year_label(*years)
            ));
            composite::write_output(
                &path,
                OutputKind::After,
                view,
                None,
                Some(&image),
                spec.disclaimer,
                &meta,
            )?;
            eprintln!("wrote {}", path.display());
        }
        eprintln!(
            "{}: {:.0} ms",
            view.as_str(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
    Ok(())
}

/// "year05", or "year0.5" / "day03" for fractions (fresh work is counted in days).
fn year_label(years: f32) -> String {
    if years.fract() == 0.0 {
        format!("year{:02}", years as u32)
    } else if years < 0.1 {
        format!("day{:02}", (years * 365.25).round() as u32)
    } else {
        format!("year{years}")
    }
}

fn turntable(
    scene: &Scene,
    out: &Path,
    kind: OutputKind,
    frames: u32,
    fps: f32,
    gpu_args: &GpuArgs,
) -> Result<()> {
    let head = scene.head()?;
    let (layout, condition) = lay_out(scene, &head)?;
    let mut renderer = Renderer::new(gpu(gpu_args)?);
    eprintln!("adapter: {}", renderer.gpu.summary);
    let gpu_scene = renderer.prepare_with(
        &head,
        &layout.dots,
        scene.spec.render.pigment_map_size,
        &scene.surface_options(&condition),
    )?;
    let hairline = layout.region.as_ref().map(|r| r.mid_frontal_point());
    let bar = indicatif::ProgressBar::new(frames.max(1) as u64);
    let done = stipple::output::turntable::render_turntable(
        &mut renderer,
        &gpu_scene,
        scene,
        &head,
        hairline,
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

fn info(args: &GpuArgs) -> Result<()> {
    let request = AdapterRequest {
        backend: args.backend,
        name_contains: args.adapter.clone(),
    }
    .with_env()?;
    let found = GpuContext::list(&request);
    println!("adapters found ({}):", found.len());
    for a in &found {
        println!("  {a}");
    }
    let ctx = GpuContext::new(&request)?;
    let l = ctx.limits();
    println!("chosen: {}", ctx.summary);
    println!("  max_texture_dimension_2d: {}", l.max_texture_dimension_2d);
    println!("  max_buffer_size:          {}", l.max_buffer_size);
    println!("  max_vertex_buffers:       {}", l.max_vertex_buffers);
    println!("  max_color_attachments:    {}", l.max_color_attachments);
    println!(
        "  max_storage_buffer_binding_size: {}",
        l.max_storage_buffer_binding_size
    );
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
