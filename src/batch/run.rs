//! Running a batch: one renderer for every variant, prepared scenes shared between variants
//! with the same head and plan, "before" frames shared between variants that differ only in
//! their plan, finished outputs skipped, failures collected rather than fatal.

use super::{Batch, Shard, Variant};
use crate::head::Head;
use crate::output::composite::write_output;
use crate::output::png::{PngMeta, keys, read_png};
use crate::render::{FrameImage, Renderer};
use crate::scene::{ConditionSpec, HeadSpec, OutputKind, PlanSpec, Scene, SceneFile, ViewName};
use crate::study::{Age, State, Study, needs};
use glam::Vec3;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

/// How to run a batch.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub out: PathBuf,
    pub shard: Shard,
    /// Render every output again, finished or not.
    pub force: bool,
    /// Draw a progress bar on a terminal (elsewhere: one line per variant).
    pub progress: bool,
}

/// What happened to one variant.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Every output was rendered now.
    Rendered,
    /// Some outputs were already complete; the rest were rendered now.
    Resumed,
    /// Every output was already complete.
    Skipped,
    Failed,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct VariantReport {
    pub index: usize,
    pub name: String,
    pub hash: String,
    pub status: Status,
    pub files: Vec<PathBuf>,
    /// Outputs rendered now (the rest were complete already).
    pub rendered: usize,
    pub error: Option<String>,
    pub ms: f64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct BatchReport {
    pub manifest: PathBuf,
    pub shard: String,
    pub variants_total: usize,
    pub variants: Vec<VariantReport>,
    pub contact_sheet: Option<PathBuf>,
    pub summary_file: PathBuf,
}

impl BatchReport {
    pub fn failed(&self) -> impl Iterator<Item = &VariantReport> {
        self.variants.iter().filter(|v| v.status == Status::Failed)
    }

    pub fn count(&self, status: Status) -> usize {
        self.variants.iter().filter(|v| v.status == status).count()
    }

    /// A few lines for the terminal: counts, then every failure and why.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "batch {}: {} of {} variants in shard {}: {} rendered, {} resumed, {} already complete, {} failed",
            self.manifest.display(),
            self.variants.len(),
            self.variants_total,
            self.shard,
            self.count(Status::Rendered),
            self.count(Status::Resumed),
            self.count(Status::Skipped),
            self.count(Status::Failed),
        );
        for v in self.failed() {
            s.push_str(&format!(
                "\n  FAILED {} (#{}): {}",
                v.name,
                v.index,
                v.error.as_deref().unwrap_or("unknown error")
            ));
        }
        if let Some(sheet) = &self.contact_sheet {
            s.push_str(&format!("\ncontact sheet: {}", sheet.display()));
        }
        s.push_str(&format!("\nsummary: {}", self.summary_file.display()));
        s
    }
}

/// One output file of a variant.
#[derive(Clone, Debug)]
struct OutputFile {
    view: ViewName,
    kind: OutputKind,
    /// A point of the ageing timeline (`[ageing] years`; an "after"); None: the scene's state.
    years: Option<f32>,
    path: PathBuf,
}

/// A variant's output files: `NAME.png` when it has one view and one output (and no ageing
/// timeline), else `NAME--VIEW-OUTPUT.png`; and `NAME--VIEW-after-yearNN.png` for each point
/// of the timeline, as `stipple render` names them.
fn output_files(out: &Path, name: &str, scene: &Scene) -> Vec<OutputFile> {
    let r = &scene.spec.render;
    let years = &scene.spec.ageing.years;
    let single = r.views.len() * r.outputs.len() == 1 && years.is_empty();
    let mut files = Vec::new();
    for &view in &r.views {
        for &kind in &r.outputs {
            let file = if single {
                format!("{name}.png")
            } else {
                format!("{name}--{}-{}.png", view.as_str(), kind.as_str())
            };
            files.push(OutputFile {
                view,
                kind,
                years: None,
                path: out.join(file),
            });
        }
        for &y in years {
            files.push(OutputFile {
                view,
                kind: OutputKind::After,
                years: Some(y),
                path: out.join(format!(
                    "{name}--{}-after-{}.png",
                    view.as_str(),
                    crate::study::year_label(y)
                )),
            });
        }
    }
    files
}

/// Whether `path` is a complete PNG of this variant: it decodes, and its text chunks record
/// the same variant hash, view and output.
pub fn is_complete(path: &Path, hash: &str, view: ViewName, kind: OutputKind) -> bool {
    match read_png(path) {
        Ok(info) => {
            info.meta.get(keys::VARIANT_HASH) == Some(hash)
                && info.meta.get(keys::VIEW) == Some(view.as_str())
                && info.meta.get(keys::OUTPUT) == Some(kind.as_str())
        }
        Err(_) => false,
    }
}

/// What a plan's layout depends on: the head, the client's condition and the plan. Variants
/// that share it share one [`Study`] (its layout, and its prepared states while the surface
/// keys agree; see [`Study::restyle`]).
#[derive(Clone, Debug, PartialEq)]
struct LayoutKey {
    head: HeadSpec,
    condition: ConditionSpec,
    plan: PlanSpec,
}

impl LayoutKey {
    fn of(spec: &SceneFile) -> Self {
        LayoutKey {
            head: spec.client.head.clone(),
            condition: spec.client.condition.clone(),
            plan: spec.plan.clone(),
        }
    }
}

/// What a "before" frame depends on: everything but the plan (which only shows in the
/// "after"), plus the hairline point the close-up looks at and the view.
#[derive(Clone, Debug, PartialEq)]
struct BeforeKey {
    spec: SceneFile,
    hairline: Option<Vec3>,
    view: ViewName,
}

impl BeforeKey {
    fn of(spec: &SceneFile, hairline: Option<Vec3>, view: ViewName) -> Self {
        let mut spec = spec.clone();
        spec.plan = Default::default();
        // The timeline and session only change the "after".
        spec.ageing.years.clear();
        spec.render.session = None;
        BeforeKey {
            spec,
            hairline,
            view,
        }
    }
}

/// Recently rendered "before" frames, bounded in bytes.
struct BeforeCache {
    /// Oldest first.
    frames: VecDeque<(BeforeKey, FrameImage)>,
    bytes: usize,
}

impl BeforeCache {
    const MAX_BYTES: usize = 512 << 20;

    fn new() -> Self {
        Self {
            frames: VecDeque::new(),
            bytes: 0,
        }
    }

    fn get(&self, key: &BeforeKey) -> Option<&FrameImage> {
        self.frames.iter().find(|(k, _)| k == key).map(|(_, f)| f)
    }

    fn size(f: &FrameImage) -> usize {
        let (w, h) = f.dimensions();
        w as usize
            * h as usize
            * if f.depth() == crate::render::BitDepth::Sixteen {
                8
            } else {
                4
            }
    }

    fn insert(&mut self, key: BeforeKey, frame: FrameImage) {
        let size = Self::size(&frame);
        if size > Self::MAX_BYTES || self.get(&key).is_some() {
            return;
        }
        while self.bytes + size > Self::MAX_BYTES {
            let Some((_, old)) = self.frames.pop_front() else {
                break;
            };
            self.bytes -= Self::size(&old);
        }
        self.bytes += size;
        self.frames.push_back((key, frame));
    }
}

struct Runner<'a> {
    renderer: &'a mut Renderer,
    batch: &'a Batch,
    /// Heads built so far, by their `[client.head]` (a few).
    heads: Vec<(HeadSpec, Rc<Head>)>,
    /// The study of the variants now running (those sharing its layout key).
    study: Option<(LayoutKey, Study)>,
    befores: BeforeCache,
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = inner.source();
    }
    s
}

impl Runner<'_> {
    /// The head for a scene, built once per `[client.head]`.
    fn head(&mut self, scene: &Scene) -> Result<Rc<Head>, String> {
        let spec = &scene.spec.client.head;
        if let Some((_, h)) = self.heads.iter().find(|(k, _)| k == spec) {
            return Ok(h.clone());
        }
        let h = Rc::new(scene.head().map_err(|e| error_chain(&e))?);
        if self.heads.len() >= 4 {
            self.heads.clear();
        }
        self.heads.push((spec.clone(), h.clone()));
        Ok(h)
    }

    /// Makes `self.study` the study of `scene`: the current one restyled when the layout key
    /// matches, else laid out afresh.
    fn study_for(&mut self, scene: &Scene) -> Result<(), String> {
        let key = LayoutKey::of(&scene.spec);
        if let Some((k, study)) = self.study.as_mut() {
            if *k == key {
                study.restyle(scene.clone());
                return Ok(());
            }
        }
        // Drop the previous study's GPU buffers before making the next.
        self.study = None;
        let head = self.head(scene)?;
        let study = Study::with_head(scene.clone(), head).map_err(|e| error_chain(&e))?;
        self.study = Some((key, study));
        Ok(())
    }

    /// Renders the outputs in `todo` (a variant's unfinished ones).
    fn render(
        &mut self,
        variant: &Variant,
        scene: &Scene,
        todo: &[OutputFile],
    ) -> Result<(), String> {
        self.study_for(scene)?;
        let Runner {
            renderer,
            batch,
            study,
            befores,
            ..
        } = self;
        let study = &mut study.as_mut().expect("just made").1;
        let disclaimer = scene.spec.render.disclaimer;
        let meta = PngMeta::for_scene(scene)
            .with(
                "stipple.manifest",
                batch
                    .file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
            .with(keys::VARIANT, variant.name.clone())
            .with(keys::VARIANT_HASH, variant.hash.clone());
        let scene_state = study.scene_state();
        let mut frames: Vec<(ViewName, Option<u32>)> = Vec::new();
        for o in todo {
            let f = (o.view, o.years.map(f32::to_bits));
            if !frames.contains(&f) {
                frames.push(f);
            }
        }
        for (view, years) in frames {
            let years = years.map(f32::from_bits);
            let state = match years {
                None => scene_state,
                Some(y) => State {
                    age: Age::Years(y),
                    ..scene_state
                },
            };
            let files: Vec<&OutputFile> = todo
                .iter()
                .filter(|o| o.view == view && o.years == years)
                .collect();
            let need_before = files.iter().any(|o| needs(o.kind).0);
            let need_after = files.iter().any(|o| needs(o.kind).1);
            let settings = study.view_settings(view, state);
            let before = if need_before {
                let key = BeforeKey::of(&scene.spec, study.hairline, view);
                match befores.get(&key) {
                    Some(f) => Some(f.clone()),
                    None => {
                        let f = study
                            .render_pair(renderer, &settings, state, (true, false))
                            .map_err(|e| error_chain(&e))?
                            .0;
                        if let Some(f) = &f {
                            befores.insert(key, f.clone());
                        }
                        f
                    }
                }
            } else {
                None
            };
            let after = study
                .render_pair(renderer, &settings, state, (false, need_after))
                .map_err(|e| error_chain(&e))?
                .1;
            for o in files {
                write_output(
                    &o.path,
                    o.kind,
                    view,
                    before.as_ref(),
                    after.as_ref(),
                    disclaimer,
                    &meta,
                )
                .map_err(|e| error_chain(&e))?;
            }
        }
        Ok(())
    }
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panicked".into())
}

/// Renders the variants of `opts.shard` into `opts.out`, then writes the contact sheet and a
/// JSON summary. Variant failures are in the report, not an `Err`; `Err` is for what stops
/// the whole batch (the output folder cannot be written).
pub fn run(
    renderer: &mut Renderer,
    batch: &Batch,
    opts: &RunOptions,
) -> Result<BatchReport, crate::output::OutputError> {
    std::fs::create_dir_all(&opts.out).map_err(|source| crate::output::OutputError::Io {
        path: opts.out.clone(),
        source,
    })?;
    let selected: Vec<&Variant> = batch.shard(opts.shard).collect();
    // Work order: variants sharing a prepared scene next to each other (first appearance
    // order), so each head and plan is prepared once; reports stay in variant order.
    let mut groups: Vec<Option<LayoutKey>> = Vec::new();
    let mut order: Vec<(usize, usize)> = selected
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let key = v.scene.as_ref().ok().map(|s| LayoutKey::of(&s.spec));
            let g = groups.iter().position(|k| *k == key).unwrap_or_else(|| {
                groups.push(key);
                groups.len() - 1
            });
            (g, i)
        })
        .collect();
    order.sort();

    let bar = if opts.progress {
        indicatif::ProgressBar::new(selected.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:32.cyan/blue} {pos}/{len} {msg} (eta {eta})",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    let lines = bar.is_hidden() && opts.progress;
    let mut runner = Runner {
        renderer,
        batch,
        heads: Vec::new(),
        study: None,
        befores: BeforeCache::new(),
    };
    let mut reports: Vec<Option<VariantReport>> = vec![None; selected.len()];
    for (done, &(_, i)) in order.iter().enumerate() {
        let v = selected[i];
        bar.set_message(v.name.clone());
        let t = Instant::now();
        let mut report = VariantReport {
            index: v.index,
            name: v.name.clone(),
            hash: v.hash.clone(),
            status: Status::Failed,
            files: Vec::new(),
            rendered: 0,
            error: None,
            ms: 0.0,
        };
        match &v.scene {
            Err(e) => report.error = Some(e.clone()),
            Ok(scene) => {
                let files = output_files(&opts.out, &v.name, scene);
                report.files = files.iter().map(|f| f.path.clone()).collect();
                let todo: Vec<OutputFile> = files
                    .iter()
                    .filter(|f| opts.force || !is_complete(&f.path, &v.hash, f.view, f.kind))
                    .cloned()
                    .collect();
                if todo.is_empty() {
                    report.status = Status::Skipped;
                } else {
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        runner.render(v, scene, &todo)
                    }));
                    match result {
                        Ok(Ok(())) => {
                            report.rendered = todo.len();
                            report.status = if todo.len() == files.len() {
                                Status::Rendered
                            } else {
                                Status::Resumed
                            };
                        }
                        Ok(Err(e)) => report.error = Some(e),
                        Err(p) => {
                            // The renderer may be in any state after a panic: start the next
                            // variant's scene afresh.
                            runner.study = None;
                            report.error = Some(format!("panicked: {}", panic_message(&*p)));
                        }
                    }
                }
            }
        }
        report.ms = (t.elapsed().as_secs_f64() * 1e3 * 10.0).round() / 10.0;
        if lines {
            let what = match &report.status {
                Status::Failed => format!("FAILED: {}", report.error.as_deref().unwrap_or("")),
                s => format!(
                    "{} ({} ms)",
                    serde_json::to_value(s)
                        .ok()
                        .and_then(|v| v.as_str().map(String::from))
                        .unwrap_or_default(),
                    report.ms
                ),
            };
            eprintln!("[{}/{}] {}: {what}", done + 1, selected.len(), v.name);
        } else if report.status == Status::Failed {
            bar.println(format!(
                "FAILED {}: {}",
                v.name,
                report.error.as_deref().unwrap_or("")
            ));
        }
        reports[i] = Some(report);
        bar.inc(1);
    }
    bar.finish_and_clear();
    drop(runner);
    let variants: Vec<VariantReport> = reports
        .into_iter()
        .map(|r| r.expect("every variant ran"))
        .collect();

    let suffix = opts.shard.suffix();
    let contact_sheet = if batch.spec.sheet.enabled && !variants.is_empty() {
        let path = opts.out.join(format!("contact-sheet{suffix}.png"));
        let sheet = contact_sheet(batch, &selected, &variants, &opts.out);
        crate::output::png::write_png8(&path, &sheet, &sheet_meta(batch, opts.shard))?;
        Some(path)
    } else {
        None
    };
    let summary_file = opts.out.join(format!("batch-summary{suffix}.json"));
    let report = BatchReport {
        manifest: batch.file.clone(),
        shard: opts.shard.to_string(),
        variants_total: batch.variants.len(),
        variants,
        contact_sheet,
        summary_file: summary_file.clone(),
    };
    let json = serde_json::to_string_pretty(&report).expect("plain data");
    crate::output::write_atomic(&summary_file, |f| {
        std::io::Write::write_all(f, json.as_bytes())
    })?;
    Ok(report)
}

fn sheet_meta(batch: &Batch, shard: Shard) -> PngMeta {
    let name = batch
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    PngMeta::stipple()
        .with("stipple.manifest", name)
        .with(
            keys::SCENE,
            batch
                .scene_file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
        .with(keys::OUTPUT, "contact-sheet")
        .with("stipple.shard", shard.to_string())
}

/// Tiles for the contact sheet: every output of every variant, scaled to the sheet's tile
/// width, in variant order; a grey tile marks a failed variant.
fn contact_sheet(
    batch: &Batch,
    selected: &[&Variant],
    reports: &[VariantReport],
    out: &Path,
) -> image::RgbaImage {
    let tile_w = batch.spec.sheet.tile_width;
    let mut tiles: Vec<(String, image::RgbaImage)> = Vec::new();
    let mut last_size = (tile_w, tile_w);
    for (v, r) in selected.iter().zip(reports) {
        let files = match &v.scene {
            Ok(scene) => output_files(out, &v.name, scene),
            Err(_) => Vec::new(),
        };
        let multi = files.len() > 1;
        let mut any = false;
        for f in &files {
            let Ok(img) = image::open(&f.path) else {
                continue;
            };
            let img = img.to_rgba8();
            // Scaled down to the tile width, never up.
            let tw = tile_w.min(img.width()).max(1);
            let h = ((img.height() as f64 * tw as f64 / img.width().max(1) as f64).round() as u32)
                .max(1);
            let thumb = if tw == img.width() {
                img
            } else {
                image::imageops::resize(&img, tw, h, image::imageops::FilterType::Triangle)
            };
            last_size = thumb.dimensions();
            let label = if multi {
                format!("{}\n{} {}", v.name, f.view.as_str(), f.kind.as_str())
            } else {
                v.name.clone()
            };
            tiles.push((label, thumb));
            any = true;
        }
        if !any && r.status == Status::Failed {
            let grey = image::RgbaImage::from_pixel(
                last_size.0,
                last_size.1,
                image::Rgba([90, 90, 90, 255]),
            );
            tiles.push((format!("{} (failed)", v.name), grey));
        }
    }
    // Tiles of a different size (mixed aspect ratios) are letterboxed to the first one's.
    if let Some((_, first)) = tiles.first() {
        let (w, h) = first.dimensions();
        for (_, t) in tiles.iter_mut() {
            if t.dimensions() != (w, h) {
                let mut canvas = image::RgbaImage::from_pixel(w, h, image::Rgba([40, 40, 40, 255]));
                let fit = image::imageops::resize(
                    t,
                    w.min(t.width() * h / t.height().max(1)).max(1),
                    h.min(t.height() * w / t.width().max(1)).max(1),
                    image::imageops::FilterType::Triangle,
                );
                image::imageops::overlay(
                    &mut canvas,
                    &fit,
                    ((w - fit.width()) / 2) as i64,
                    ((h - fit.height()) / 2) as i64,
                );
                *t = canvas;
            }
        }
    }
    let columns = batch.sheet_columns(tiles.len());
    let sheet = crate::output::sheet::contact_sheet(&tiles, columns);
    if !selected
        .iter()
        .any(|v| v.scene.as_ref().is_ok_and(|s| s.spec.render.disclaimer))
    {
        return sheet;
    }
    // The disclaimer goes in a footer below the grid, clear of the tiles and their labels.
    let (w, h) = sheet.dimensions();
    let px = (w as f32 / 70.0).clamp(11.0, 22.0);
    let footer = (px * 2.0).ceil() as u32;
    let mut framed = image::RgbaImage::from_pixel(w, h + footer, crate::output::sheet::BACKGROUND);
    image::imageops::replace(&mut framed, &sheet, 0, 0);
    let mut frame = FrameImage::Eight(framed);
    let margin = (px * 0.8) as i32;
    let (tw, th) = crate::output::text::text_size(crate::output::png::DISCLAIMER_TEXT, px);
    crate::output::text::draw_text(
        &mut frame,
        w as i32 - margin - tw as i32,
        (h + footer) as i32 - margin / 2 - th as i32,
        crate::output::png::DISCLAIMER_TEXT,
        px,
        [200, 200, 200],
        1.0,
    );
    frame.to_rgba8()
}
