//! The benchmark behind `stipple bench` and `cargo bench`: dot layout time, pigment map
//! preparation, and frame time on the built-in head for 0 to 1,000,000 dots, from arm's length
//! (pigment map only) and close up (the single-dot pass runs), and as a still (front-left at a
//! scene's default supersample, 300,000 dots), with each frame's time split by pass, plus peak
//! memory.
//!
//! Pass times come from submitting each pass on its own and waiting for the GPU
//! ([`Renderer::set_pass_timing`]), so they add up to a little more than a normal frame.

use crate::camera::ViewName;
use crate::render::{FrameSettings, Renderer};
use crate::scene::Scene;
use crate::study::{Age, State, Study};
use serde::Serialize;
use std::time::Instant;

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    pub width: u32,
    pub height: u32,
    /// Dot counts to render (0 is the bare head).
    pub frame_dots: Vec<usize>,
    /// Dot counts whose layout is timed.
    pub layout_dots: Vec<usize>,
    /// Timed frames per case, after one warm-up frame.
    pub frames: usize,
    /// Layout runs per count.
    pub layout_runs: usize,
    /// Frames with per-pass timing per case.
    pub pass_frames: usize,
    /// Also time the hairline close-up, where single dots are drawn.
    pub close_up: bool,
    /// Dot counts also timed as a still: the front-left view at a scene's default supersample
    /// (the frames above use one sample a pixel).
    pub still_dots: Vec<usize>,
}

impl BenchOptions {
    /// The full benchmark: 1920x1080, 0 to 1,000,000 dots.
    pub fn full() -> Self {
        Self {
            width: 1920,
            height: 1080,
            frame_dots: vec![0, 100_000, 300_000, 1_000_000],
            layout_dots: vec![100_000, 1_000_000],
            frames: 7,
            layout_runs: 3,
            pass_frames: 3,
            close_up: true,
            still_dots: vec![300_000],
        }
    }

    /// A quick subset for `cargo bench` (a minute or so on a software rasteriser).
    pub fn quick() -> Self {
        Self {
            frame_dots: vec![0, 100_000],
            layout_dots: vec![100_000],
            frames: 3,
            layout_runs: 1,
            pass_frames: 1,
            still_dots: Vec::new(),
            ..Self::full()
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PassTime {
    pub pass: String,
    pub median_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct FrameRow {
    pub dots: usize,
    pub width: u32,
    pub height: u32,
    /// Samples per pixel along each axis.
    pub supersample: u32,
    pub median_ms: f64,
    pub view: String,
    /// Whether the single-dot pass ran.
    pub near_pass: bool,
    /// Median time of each pass, measured with a submit and a wait after each.
    pub passes: Vec<PassTime>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LayoutRow {
    pub dots: usize,
    pub median_ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct PrepareRow {
    pub dots: usize,
    pub pigment_map_size: u32,
    /// Uploading the head and dots and splatting the dots into the pigment map.
    pub ms: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    pub adapter: String,
    /// Front-left view from arm's length: the pigment map carries every dot.
    pub frames: Vec<FrameRow>,
    /// Hairline close-up: single dots drawn as decals.
    pub close_frames: Vec<FrameRow>,
    /// Front-left view at a scene's default supersample, as `stipple render` draws a still.
    pub stills: Vec<FrameRow>,
    pub layout: Vec<LayoutRow>,
    pub prepare: Vec<PrepareRow>,
    pub peak_rss_mb: f64,
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

pub fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Peak resident memory of this process in MB, from /proc (Linux); 0 elsewhere.
pub fn peak_rss_mb() -> f64 {
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

fn time_frames(
    renderer: &mut Renderer,
    scene: &crate::render::GpuScene,
    settings: &FrameSettings,
    opts: &BenchOptions,
    view: ViewName,
) -> anyhow::Result<FrameRow> {
    renderer.render(scene, settings)?;
    let mut times = Vec::new();
    for _ in 0..opts.frames.max(1) {
        let t = Instant::now();
        renderer.render(scene, settings)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    renderer.set_pass_timing(true);
    let mut per_pass: Vec<(String, Vec<f64>)> = Vec::new();
    for _ in 0..opts.pass_frames.max(1) {
        renderer.render(scene, settings)?;
        for (pass, ms) in renderer.pass_times() {
            match per_pass.iter_mut().find(|(p, _)| p == pass) {
                Some((_, v)) => v.push(*ms),
                None => per_pass.push((pass.to_string(), vec![*ms])),
            }
        }
    }
    renderer.set_pass_timing(false);
    let near_pass = per_pass.iter().any(|(p, _)| p == "dots");
    Ok(FrameRow {
        dots: scene.dot_count() as usize,
        width: settings.width,
        height: settings.height,
        supersample: settings.supersample,
        median_ms: round2(median(times)),
        view: view.as_str().into(),
        near_pass,
        passes: per_pass
            .into_iter()
            .map(|(pass, v)| PassTime {
                pass,
                median_ms: round2(median(v)),
            })
            .collect(),
    })
}

/// The scene every case renders: the built-in one, its treated region grown to most of the
/// scalp (a low, straight hairline with a narrow transition), so that 1,000,000 dots stay
/// within the densities the layout accepts (2,500/cm²), one sample per pixel.
pub fn bench_scene() -> Scene {
    let mut scene = Scene::builtin();
    let hairline = &mut scene.spec.plan.hairline;
    hairline.height_cm = Some(5.0);
    hairline.temple_recession_mm = Some(0.0);
    hairline.transition_mm = Some(4.0);
    scene.spec.render.supersample = 1;
    scene.spec.render.focal_length_mm = 85.0;
    scene
}

/// The bench scene at the density that gives about `dots` dots over the region's effective
/// area `area_cm2`.
fn scene_with_dots(base: &Scene, dots: usize, area_cm2: f64) -> Scene {
    let mut scene = base.clone();
    scene.spec.plan.density_per_cm2 = (dots as f64 / area_cm2) as f32;
    scene
}

/// Each dot count (above 0) with its laid-out study.
type CountStudies = Vec<(usize, Study)>;

/// Lays out each dot count through the front door (a [`Study`] per count, on one head),
/// timing the counts in `opts.layout_dots`.
fn lay_out_counts(
    base: &Study,
    opts: &BenchOptions,
    progress: &mut impl FnMut(&str),
) -> anyhow::Result<(Vec<LayoutRow>, CountStudies)> {
    let area_cm2 = base.layout.effective_area_mm2 / 100.0;
    let mut counts: Vec<usize> = opts
        .frame_dots
        .iter()
        .chain(&opts.layout_dots)
        .copied()
        .filter(|&d| d > 0)
        .collect();
    counts.sort_unstable();
    counts.dedup();
    let mut rows = Vec::new();
    let mut studies = Vec::new();
    for dots in counts {
        let timed = opts.layout_dots.contains(&dots);
        let runs = if timed { opts.layout_runs.max(1) } else { 1 };
        progress(&format!("layout: {dots} dots x {runs}"));
        let scene = scene_with_dots(&base.scene, dots, area_cm2);
        let mut times = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let study = Study::with_head(scene.clone(), base.head.clone())?;
            times.push(study.timings.layout_ms);
            last = Some(study);
        }
        let study = last.expect("at least one run");
        if timed {
            rows.push(LayoutRow {
                dots: study.layout.dots.len(),
                median_ms: round2(median(times)),
            });
        }
        studies.push((dots, study));
    }
    Ok((rows, studies))
}

/// Runs the benchmark on `renderer`; `progress` hears what is being measured.
pub fn run(
    renderer: &mut Renderer,
    opts: &BenchOptions,
    mut progress: impl FnMut(&str),
) -> anyhow::Result<BenchReport> {
    let mut base = Study::new(bench_scene())?;
    let (layout_rows, mut studies) = lay_out_counts(&base, opts, &mut progress)?;
    let adapter = renderer.gpu.summary.to_string();
    let (w, h) = (opts.width, opts.height);
    let mut frames = Vec::new();
    let mut close_frames = Vec::new();
    let mut stills = Vec::new();
    let mut prepare = Vec::new();
    for &dots in &opts.frame_dots {
        // No dots: the bare head, before the first session.
        let (study, state) = match studies.iter_mut().find(|(d, _)| *d == dots) {
            Some((_, study)) => {
                let state = study.healed();
                (study, state)
            }
            None => (
                &mut base,
                State {
                    session: 0,
                    age: Age::Healed,
                },
            ),
        };
        let dot_count = study.dots(state).len();
        progress(&format!("frames: {dot_count} dots"));
        let far = study.frame_settings(ViewName::FrontLeft, state, w, h);
        let close = study.frame_settings(ViewName::HairlineCloseup, state, w, h);
        let pigment_map_size = study.scene.spec.render.pigment_map_size;
        let t = Instant::now();
        let gpu_scene = study.prepare(renderer, state)?;
        prepare.push(PrepareRow {
            dots: dot_count,
            pigment_map_size,
            ms: round2(t.elapsed().as_secs_f64() * 1e3),
        });
        frames.push(time_frames(
            renderer,
            gpu_scene,
            &far,
            opts,
            ViewName::FrontLeft,
        )?);
        if opts.close_up {
            close_frames.push(time_frames(
                renderer,
                gpu_scene,
                &close,
                opts,
                ViewName::HairlineCloseup,
            )?);
        }
        if opts.still_dots.contains(&dots) {
            let still = FrameSettings {
                supersample: crate::scene::RenderSpec::default().supersample,
                ..far
            };
            stills.push(time_frames(
                renderer,
                gpu_scene,
                &still,
                opts,
                ViewName::FrontLeft,
            )?);
        }
        study.forget_prepared();
    }
    Ok(BenchReport {
        adapter,
        frames,
        close_frames,
        stills,
        layout: layout_rows,
        prepare,
        peak_rss_mb: peak_rss_mb(),
    })
}

impl BenchReport {
    /// The pass that takes the most time in a frame, with its share of the pass total.
    pub fn dominant_pass(row: &FrameRow) -> Option<(&str, f64)> {
        let total: f64 = row.passes.iter().map(|p| p.median_ms).sum();
        row.passes
            .iter()
            .max_by(|a, b| a.median_ms.total_cmp(&b.median_ms))
            .map(|p| {
                (
                    p.pass.as_str(),
                    if total > 0.0 {
                        p.median_ms / total
                    } else {
                        0.0
                    },
                )
            })
    }

    /// A plain-text table.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let mut s = String::new();
        let _ = writeln!(s, "adapter: {}", self.adapter);
        let _ = writeln!(s, "\nlayout (median)\n{:>10} {:>10}", "dot count", "ms");
        for r in &self.layout {
            let _ = writeln!(s, "{:>10} {:>10.1}", r.dots, r.median_ms);
        }
        let _ = writeln!(
            s,
            "\nprepare (upload + pigment map splat)\n{:>10} {:>10}",
            "dot count", "ms"
        );
        for r in &self.prepare {
            let _ = writeln!(s, "{:>10} {:>10.1}", r.dots, r.ms);
        }
        for (title, rows) in [
            ("frames, front-left view", &self.frames),
            ("frames, hairline close-up", &self.close_frames),
            ("stills, front-left view", &self.stills),
        ] {
            if rows.is_empty() {
                continue;
            }
            let (w, h, ss) = (rows[0].width, rows[0].height, rows[0].supersample);
            let _ = writeln!(
                s,
                "\n{title}, {w}x{h}, supersample {ss} (median ms; passes timed separately)"
            );
            let passes: Vec<String> = {
                let mut p: Vec<String> = Vec::new();
                for r in rows.iter() {
                    for x in &r.passes {
                        if !p.contains(&x.pass) {
                            p.push(x.pass.clone());
                        }
                    }
                }
                // Render order; passes this table does not know go last.
                const ORDER: [&str; 6] =
                    ["shadow", "surface", "dots", "shade", "resolve", "readback"];
                p.sort_by_key(|x| ORDER.iter().position(|o| o == x).unwrap_or(ORDER.len()));
                p
            };
            let _ = write!(s, "{:>10} {:>10}", "dot count", "frame");
            for p in &passes {
                let _ = write!(s, " {p:>9}");
            }
            let _ = writeln!(s, "  dominant");
            for r in rows.iter() {
                let _ = write!(s, "{:>10} {:>10.1}", r.dots, r.median_ms);
                for p in &passes {
                    match r.passes.iter().find(|x| &x.pass == p) {
                        Some(x) => {
                            let _ = write!(s, " {:>9.1}", x.median_ms);
                        }
                        None => {
                            let _ = write!(s, " {:>9}", "-");
                        }
                    }
                }
                if let Some((p, share)) = Self::dominant_pass(r) {
                    let _ = write!(s, "  {p} {:.0}%", share * 100.0);
                }
                let _ = writeln!(s);
            }
        }
        let _ = writeln!(s, "\npeak RSS: {} MB", self.peak_rss_mb);
        s
    }
}
