//! Running a batch: one renderer for every variant, prepared scenes shared between variants
//! with the same head and plan, "before" frames shared between variants that differ only in
//! their plan, finished outputs skipped, failures collected rather than fatal.

use super::lock::{Attempt, Locks};
use super::{Batch, ItemRange, Selection, Shard, Variant};
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
    /// A render farm's chunk of the item list (`--items A-B`), within the shard.
    pub items: Option<ItemRange>,
    /// Where the shard came from ("Slurm job array: SLURM_ARRAY_TASK_ID=5"), for the summary.
    pub source: Option<String>,
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
    /// `--items A-B`, if given.
    pub items: Option<String>,
    /// Which worker wrote this summary.
    pub worker: Worker,
    pub variants_total: usize,
    pub variants: Vec<VariantReport>,
    /// Ids (variant names) of the items this worker rendered (all or some of their outputs).
    pub done: Vec<String>,
    /// Ids of the items already complete (by an earlier attempt or a concurrent worker).
    pub skipped: Vec<String>,
    pub failed: Vec<FailedItem>,
    pub contact_sheet: Option<PathBuf>,
    pub summary_file: PathBuf,
}

/// The worker that wrote a summary.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Worker {
    pub host: String,
    pub pid: u32,
    /// The scheduler's variable the shard came from, if any.
    pub source: Option<String>,
    /// Seconds since 1970 when the run began.
    pub started_unix: u64,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct FailedItem {
    pub id: String,
    pub error: String,
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
pub(super) struct OutputFile {
    pub(super) view: ViewName,
    pub(super) kind: OutputKind,
    /// A point of the ageing timeline (`[ageing] years`; an "after"); None: the scene's state.
    pub(super) years: Option<f32>,
    pub(super) path: PathBuf,
}

/// A variant's output files: `NAME.png` when it has one view and one output (and no ageing
/// timeline), else `NAME--VIEW-OUTPUT.png`; and `NAME--VIEW-after-yearNN.png` for each point
/// of the timeline, as `stipple render` names them.
pub(super) fn output_files(out: &Path, name: &str, scene: &Scene) -> Vec<OutputFile> {
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
    let selection = Selection {
        shard: opts.shard,
        items: opts.items,
    };
    let selected: Vec<&Variant> = batch.select(selection).collect();
    let bar = progress_bar(opts, selected.len());
    let lines = bar.is_hidden() && opts.progress;
    let mut runner = Runner {
        renderer,
        batch,
        heads: Vec::new(),
        study: None,
        befores: BeforeCache::new(),
    };
    let started = std::time::SystemTime::now();
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| crate::output::OutputError::Io { path, source }
    };
    let mut locks = Locks::new(&opts.out, super::lock::STALE_AFTER).map_err(io_err(&opts.out))?;
    // Complete, and with --force written during this run (by this worker or a concurrent one
    // on the same shard).
    let fresh = |f: &OutputFile, hash: &str| {
        is_complete(&f.path, hash, f.view, f.kind)
            && (!opts.force
                || std::fs::metadata(&f.path)
                    .and_then(|m| m.modified())
                    .is_ok_and(|m| m >= started))
    };
    let mut reports: Vec<Option<VariantReport>> = vec![None; selected.len()];
    // Items another live worker holds are put off to the back of the queue; when only such
    // items are left, the worker waits for them to finish (then they are skipped) or for
    // their holder's lock to go stale (then it renders them itself).
    let mut queue = work_order(&selected);
    let mut busy_in_a_row = 0usize;
    let mut announced = std::collections::HashSet::new();
    let mut done = 0usize;
    while let Some(i) = queue.pop_front() {
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
        let turn = take_turn(&mut runner, &mut locks, v, opts, &fresh, lines, &mut report)?;
        if let Turn::Busy(who) = turn {
            if lines && announced.insert(i) {
                eprintln!("{}: being rendered by {who}; coming back to it", v.name);
            }
            queue.push_back(i);
            busy_in_a_row += 1;
            if busy_in_a_row > queue.len() {
                std::thread::sleep(std::time::Duration::from_millis(250));
                busy_in_a_row = 0;
            }
            continue;
        }
        busy_in_a_row = 0;
        done += 1;
        report.ms = (t.elapsed().as_secs_f64() * 1e3 * 10.0).round() / 10.0;
        print_outcome(&report, &bar, lines, done, selected.len());
        reports[i] = Some(report);
        bar.inc(1);
    }
    bar.finish_and_clear();
    drop(runner);
    locks.finish();
    let variants: Vec<VariantReport> = reports
        .into_iter()
        .map(|r| r.expect("every variant ran"))
        .collect();

    write_summary(batch, opts, selection, &selected, variants, started)
}

/// Work order: variants sharing a prepared scene next to each other (first appearance order),
/// so each head and plan is prepared once; reports stay in variant order.
fn work_order(selected: &[&Variant]) -> VecDeque<usize> {
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
    order.iter().map(|&(_, i)| i).collect()
}

/// The progress bar over `len` variants (hidden unless `opts.progress`).
fn progress_bar(opts: &RunOptions, len: usize) -> indicatif::ProgressBar {
    let bar = if opts.progress {
        indicatif::ProgressBar::new(len as u64)
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
    bar
}

/// What became of a variant this time round: done (rendered, skipped or failed), or put off
/// because another live worker holds it.
enum Turn {
    Done,
    Busy(String),
}

/// Renders the files `v` still lacks (not `fresh`), recording them and the outcome in
/// `report`, unless another live worker holds the variant.
fn take_turn(
    runner: &mut Runner,
    locks: &mut Locks,
    v: &Variant,
    opts: &RunOptions,
    fresh: &dyn Fn(&OutputFile, &str) -> bool,
    lines: bool,
    report: &mut VariantReport,
) -> Result<Turn, crate::output::OutputError> {
    let scene = match &v.scene {
        Err(e) => {
            report.error = Some(e.clone());
            return Ok(Turn::Done);
        }
        Ok(scene) => scene,
    };
    let files = output_files(&opts.out, &v.name, scene);
    report.files = files.iter().map(|f| f.path.clone()).collect();
    let unfinished = |files: &[OutputFile]| -> Vec<OutputFile> {
        files
            .iter()
            .filter(|f| !fresh(f, &v.hash))
            .cloned()
            .collect()
    };
    let mut todo = unfinished(&files);
    let mut _guard = None;
    if !todo.is_empty() {
        match claim(locks, v, &files, lines)? {
            Claim::Busy(who) => return Ok(Turn::Busy(who)),
            Claim::Held(guard) => {
                _guard = Some(guard);
                // Finished by another worker while this one was busy elsewhere?
                todo = unfinished(&files);
            }
        }
    }
    if todo.is_empty() {
        report.status = Status::Skipped;
    } else {
        render_files(runner, v, scene, &todo, files.len(), report);
    }
    Ok(Turn::Done)
}

/// Who renders a variant: this worker (holding its lock) or another live one.
enum Claim {
    Held(super::lock::Guard),
    Busy(String),
}

/// Takes `v`'s lock. A stale lock is taken over and the files its holder left half-written
/// are removed.
fn claim(
    locks: &mut Locks,
    v: &Variant,
    files: &[OutputFile],
    lines: bool,
) -> Result<Claim, crate::output::OutputError> {
    match locks.try_lock(&v.name) {
        Ok(Attempt::Busy(who)) => Ok(Claim::Busy(who)),
        Ok(Attempt::Held { guard, took_over }) => {
            if let Some(from) = took_over {
                log::warn!("{}: took over a stale lock of {from}", v.name);
                if lines {
                    eprintln!("{}: took over from {from}", v.name);
                }
                for f in files {
                    super::lock::remove_leftovers(&f.path);
                }
            }
            Ok(Claim::Held(guard))
        }
        Err(source) => Err(crate::output::OutputError::Io {
            path: locks.path(&v.name),
            source,
        }),
    }
}

/// Renders `todo` (of the variant's `total` files) and records the outcome in `report`; a
/// panic is caught and recorded too.
fn render_files(
    runner: &mut Runner,
    v: &Variant,
    scene: &Scene,
    todo: &[OutputFile],
    total: usize,
    report: &mut VariantReport,
) {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runner.render(v, scene, todo)
    }));
    match result {
        Ok(Ok(())) => {
            report.rendered = todo.len();
            report.status = if todo.len() == total {
                Status::Rendered
            } else {
                Status::Resumed
            };
        }
        Ok(Err(e)) => report.error = Some(e),
        Err(p) => {
            // The renderer may be in any state after a panic: start the next variant's scene
            // afresh.
            runner.study = None;
            report.error = Some(format!("panicked: {}", panic_message(&*p)));
        }
    }
}

/// One line per finished variant on stderr when there is no bar (`lines`); failures above the
/// bar otherwise.
fn print_outcome(
    report: &VariantReport,
    bar: &indicatif::ProgressBar,
    lines: bool,
    done: usize,
    total: usize,
) {
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
        eprintln!("[{done}/{total}] {}: {what}", report.name);
    } else if report.status == Status::Failed {
        bar.println(format!(
            "FAILED {}: {}",
            report.name,
            report.error.as_deref().unwrap_or("")
        ));
    }
}

/// Writes the contact sheet (when the manifest asks for one) and the JSON summary of the run.
fn write_summary(
    batch: &Batch,
    opts: &RunOptions,
    selection: Selection,
    selected: &[&Variant],
    variants: Vec<VariantReport>,
    started: std::time::SystemTime,
) -> Result<BatchReport, crate::output::OutputError> {
    let suffix = selection.suffix();
    let contact_sheet = if batch.spec.sheet.enabled && !variants.is_empty() {
        let path = opts.out.join(format!("contact-sheet{suffix}.png"));
        let sheet = contact_sheet(batch, selected, &variants, &opts.out, "failed");
        crate::output::png::write_png8(&path, &sheet, &sheet_meta(batch, &selection.to_string()))?;
        Some(path)
    } else {
        None
    };
    let summary_file = opts.out.join(format!("batch-summary{suffix}.json"));
    let ids = |st: &[Status]| -> Vec<String> {
        variants
            .iter()
            .filter(|v| st.contains(&v.status))
            .map(|v| v.name.clone())
            .collect()
    };
    let report = BatchReport {
        manifest: batch.file.clone(),
        shard: opts.shard.to_string(),
        items: opts.items.map(|r| r.to_string()),
        worker: Worker {
            host: super::lock::Owner::me().host,
            pid: std::process::id(),
            source: opts.source.clone(),
            started_unix: started
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default(),
        },
        variants_total: batch.variants.len(),
        done: ids(&[Status::Rendered, Status::Resumed]),
        skipped: ids(&[Status::Skipped]),
        failed: variants
            .iter()
            .filter(|v| v.status == Status::Failed)
            .map(|v| FailedItem {
                id: v.name.clone(),
                error: v.error.clone().unwrap_or_default(),
            })
            .collect(),
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

pub(super) fn sheet_meta(batch: &Batch, shard: &str) -> PngMeta {
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
        .with("stipple.shard", shard)
}

/// Tiles for the contact sheet: every output of every variant, scaled to the sheet's tile
/// width, in variant order; a grey tile labelled `(failed)` (or `(missing)`, the
/// `grey_label`) marks a failed variant.
pub(super) fn contact_sheet(
    batch: &Batch,
    selected: &[&Variant],
    reports: &[VariantReport],
    out: &Path,
    grey_label: &str,
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
            tiles.push((format!("{} ({grey_label})", v.name), grey));
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
