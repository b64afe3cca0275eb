//! The `stipple` command line.

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::time::Instant;
use stipple::head::Head;
use stipple::layout::{self, DotLayout};
use stipple::render::camera::{Camera, ViewName};
use stipple::render::{AdapterRequest, BackendChoice, FrameSettings, GpuContext, Renderer};
use stipple::scene::{OutputKind, Scene};

#[derive(Parser)]
#[command(name = "stipple", version, about = "Render scalp micropigmentation (SMP) treatment plans on a 3D head")]
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
        #[arg(long, default_value = "stipple-demo")]
        out: PathBuf,
    },
    /// Render a scene file's views and outputs into DIR.
    Render {
        scene: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Render only these views (default: the scene's).
        #[arg(long = "view", value_enum)]
        views: Vec<ViewArg>,
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
        #[arg(long)]
        out: PathBuf,
    },
    /// List the GPU adapters found and the one Stipple would use, with its limits.
    Info,
    /// Measure layout and frame times on the built-in head.
    Bench {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Frames timed per dot count, after warm-up.
        #[arg(long, default_value_t = 7)]
        frames: usize,
    },
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
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(format!("stipple={level}")))
        .format_timestamp(None)
        .init();
    if let Err(e) = run(cli) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
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
        Command::Demo { out } => render_scene(&Scene::builtin(), &out, &[], &cli.gpu),
        Command::Render { scene, out, views } => {
            let scene = Scene::load(&scene)?;
            let views: Vec<ViewName> = views.into_iter().map(Into::into).collect();
            render_scene(&scene, &out, &views, &cli.gpu)
        }
        Command::Plan { scene, json } => {
            let scene = Scene::load(&scene)?;
            let head = scene.head()?;
            let t = Instant::now();
            let layout = lay_out(&scene, &head)?;
            let ms = t.elapsed().as_secs_f64() * 1e3;
            print_plan(&scene, &layout, ms, json);
            Ok(())
        }
        Command::Init { file, force } => {
            if file.exists() && !force {
                bail!("{}: already exists (use --force to overwrite)", file.display());
            }
            stipple::output::write_atomic(&file, |f| {
                std::io::Write::write_all(f, stipple::scene::DEFAULT_SCENE_TOML.as_bytes())
            })?;
            println!("wrote {}; render it with `stipple render {} --out renders`", file.display(), file.display());
            Ok(())
        }
        Command::Head { out } => {
            let head = stipple::head::procedural::build(&Default::default());
            stipple::head::obj::write_obj(&head, &out).with_context(|| format!("{}: cannot write", out.display()))?;
            println!(
                "wrote {} ({} vertices, {} triangles; millimetres, +Y up, +Z forward)",
                out.display(),
                head.mesh.positions_mm.len(),
                head.mesh.triangle_count()
            );
            Ok(())
        }
        Command::Info => info(&cli.gpu),
        Command::Bench { json, frames } => bench(&cli.gpu, json, frames),
    }
}

fn lay_out(scene: &Scene, head: &Head) -> Result<DotLayout> {
    let plan = scene.plan();
    layout::lay_out(head, &plan).with_context(|| format!("{}: `plan`", scene.file.display()))
}

fn print_plan(scene: &Scene, layout: &DotLayout, layout_ms: f64, json: bool) {
    let plan = scene.plan();
    let treated_cm2 = layout.treated_area_mm2 / 100.0;
    let effective_cm2 = layout.effective_area_mm2 / 100.0;
    if json {
        let v = serde_json::json!({
            "scene": scene.file.display().to_string(),
            "dots_total": layout.dots.len(),
            "treated_area_cm2": round2(treated_cm2),
            "effective_area_cm2": round2(effective_cm2),
            "requested_density_per_cm2": plan.density_per_cm2,
            "realized_density_per_cm2": round2(layout.dots.len() as f64 / effective_cm2.max(1e-9)),
            "seed": plan.seed,
            "layout_ms": round2(layout_ms),
        });
        println!("{}", serde_json::to_string_pretty(&v).expect("plain JSON"));
    } else {
        println!("scene:             {}", scene.file.display());
        println!("dots:              {}", layout.dots.len());
        println!("treated area:      {treated_cm2:.1} cm2 (inside the hairline)");
        println!("effective area:    {effective_cm2:.1} cm2 (transition zone counted by its density)");
        println!("density:           {} per cm2 requested", plan.density_per_cm2);
        println!("layout time:       {layout_ms:.0} ms");
    }
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn render_scene(scene: &Scene, out: &Path, views: &[ViewName], gpu_args: &GpuArgs) -> Result<()> {
    let spec = &scene.spec.render;
    let views = if views.is_empty() { spec.views.clone() } else { views.to_vec() };
    let t = Instant::now();
    let head = scene.head()?;
    let layout = lay_out(scene, &head)?;
    eprintln!(
        "plan: {} dots over {:.1} cm2 ({:.0} ms)",
        layout.dots.len(),
        layout.treated_area_mm2 / 100.0,
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut renderer = Renderer::new(gpu(gpu_args)?);
    eprintln!("adapter: {}", renderer.gpu.summary);
    let gpu_scene = renderer.prepare(&head, &layout.dots, spec.pigment_map_size)?;
    let aspect = spec.width as f32 / spec.height as f32;
    let hairline = layout.region.as_ref().map(|r| r.mid_frontal_point());
    for view in views {
        let camera = Camera::for_view(&head, view, spec.focal_length_mm, aspect, spec.distance_mm, hairline);
        for output in &spec.outputs {
            let settings = FrameSettings {
                camera,
                lighting: scene.lighting(),
                skin: scene.skin(),
                width: spec.width,
                height: spec.height,
                supersample: spec.supersample,
                show_dots: *output == OutputKind::After,
                single_dots: true,
            };
            let t = Instant::now();
            let image = renderer.render(&gpu_scene, &settings)?;
            let path = out.join(format!("{}-{}.png", view.as_str(), output.as_str()));
            stipple::output::write_png(&path, &image)?;
            eprintln!("wrote {} ({:.0} ms)", path.display(), t.elapsed().as_secs_f64() * 1e3);
        }
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
    println!("  max_storage_buffer_binding_size: {}", l.max_storage_buffer_binding_size);
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bench(args: &GpuArgs, json: bool, frames: usize) -> Result<()> {
    let scene = Scene::builtin();
    let head = scene.head()?;
    let base_plan = scene.plan();
    // Effective area of the default plan, to pick densities that give round dot counts.
    let base = layout::lay_out(&head, &base_plan)?;
    let area_cm2 = base.effective_area_mm2 / 100.0;
    let plan_for = |dots: usize| {
        let mut p = base_plan.clone();
        p.density_per_cm2 = (dots as f64 / area_cm2) as f32;
        p
    };
    let mut layout_rows = Vec::new();
    let mut layouts = Vec::new();
    for dots in [100_000usize, 300_000, 1_000_000] {
        let plan = plan_for(dots);
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..3 {
            let t = Instant::now();
            let l = layout::lay_out(&head, &plan)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            last = Some(l);
        }
        let l = last.expect("three runs");
        layout_rows.push(serde_json::json!({"dots": l.dots.len(), "median_ms": round2(median(times))}));
        layouts.push(l);
    }
    let mut renderer = Renderer::new(gpu(args)?);
    let adapter = renderer.gpu.summary.to_string();
    let (w, h) = (1920u32, 1080u32);
    let camera = Camera::for_view(&head, ViewName::FrontLeft, 85.0, w as f32 / h as f32, None, None);
    let mut frame_rows = Vec::new();
    let empty: &[stipple::layout::Dot] = &[];
    let sets: Vec<&[stipple::layout::Dot]> =
        std::iter::once(empty).chain(layouts.iter().map(|l| l.dots.as_slice())).collect();
    for dots in sets {
        let gpu_scene = renderer.prepare(&head, dots, stipple::render::DEFAULT_PIGMENT_MAP_SIZE)?;
        let settings = FrameSettings {
            camera,
            lighting: scene.lighting(),
            skin: scene.skin(),
            width: w,
            height: h,
            supersample: 1,
            show_dots: true,
            single_dots: true,
        };
        renderer.render(&gpu_scene, &settings)?;
        let mut times = Vec::new();
        for _ in 0..frames.max(1) {
            let t = Instant::now();
            renderer.render(&gpu_scene, &settings)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        frame_rows.push(serde_json::json!({"dots": dots.len(), "width": w, "height": h, "median_ms": round2(median(times))}));
    }
    let report = serde_json::json!({
        "adapter": adapter,
        "frames": frame_rows,
        "layout": layout_rows,
        "peak_rss_mb": peak_rss_mb(),
    });
    if json {
        println!("{}", serde_json::to_string_pretty(&report).expect("plain JSON"));
    } else {
        println!("adapter: {adapter}");
        println!("{:>10} {:>12}  (layout, median of 3)", "dots", "ms");
        for r in &layout_rows {
            println!("{:>10} {:>12}", r["dots"], r["median_ms"]);
        }
        println!("{:>10} {:>12}  (frame {w}x{h}, front-left view, median of {frames} after warm-up)", "dots", "ms");
        for r in &frame_rows {
            println!("{:>10} {:>12}", r["dots"], r["median_ms"]);
        }
        println!("peak RSS: {} MB", report["peak_rss_mb"]);
    }
    Ok(())
}

/// Peak resident memory of this process, from /proc (Linux); 0 elsewhere.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| round2(kb / 1024.0))
        .unwrap_or(0.0)
}
