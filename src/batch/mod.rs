//! Batch rendering: one manifest, many variants of a scene.
//!
//! A manifest names a base scene file and a list of axes; each axis is a list of labelled
//! values, and each value sets keys of the scene's TOML (dotted paths such as `client.skin` or
//! `render.lighting`) before the scene is parsed and validated. The variants are the cartesian
//! product of the axes, in a stable order (the last axis varies fastest) with a stable name
//! (the labels joined by `_`). Because values are plain scene keys, anything the scene format
//! gains later (conditions, lighting presets, ...) can be an axis without changes here.
//!
//! ```toml
//! scene = "../scenes/default.toml"        # relative to the manifest
//! out = "renders"                          # default output folder (relative to the manifest)
//! [set]                                    # applied to every variant first
//! "render.outputs" = ["before-after"]
//! [[axes]]
//! name = "skin"
//! values = [
//!   { label = "fitz-ii", set = { "client.skin" = "#e3b898" } },
//!   { label = "fitz-v", set = { "client.skin" = "#6b4a3a" } },
//! ]
//! ```
//!
//! See `docs/batch.md` for running shards on a cluster.

pub mod lock;
mod run;
pub mod shard;
mod summary;

pub use run::{BatchReport, FailedItem, RunOptions, Status, VariantReport, Worker, run};
pub use shard::{ItemRange, Selection, ShardArg};
pub use summary::{MergeReport, merge};

use crate::scene::Scene;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    #[error("{file}: cannot read: {source}")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Manifest { file: PathBuf, message: String },
    /// The manifest is missing, a folder, over the size limit (the message names it).
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
}

/// The manifest file, as written.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManifestFile {
    /// The base scene, relative to the manifest.
    pub scene: PathBuf,
    /// Default output folder, relative to the manifest (`--out` overrides it).
    pub out: Option<PathBuf>,
    /// Keys set on every variant before the axes' own.
    #[serde(default)]
    pub set: toml::Table,
    #[serde(default)]
    pub axes: Vec<Axis>,
    #[serde(default)]
    pub sheet: SheetSpec,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    pub name: String,
    pub values: Vec<AxisValue>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisValue {
    /// Part of the variant's name: letters, digits, `-` and `.`.
    pub label: String,
    /// Scene keys (dotted paths) and their values.
    #[serde(default)]
    pub set: toml::Table,
}

/// The contact sheet written at the end of a batch.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SheetSpec {
    pub enabled: bool,
    /// Tiles per row; absent: the product of the last axes' sizes up to six (so each row is
    /// one combination of the leading axes), or a square-ish grid.
    pub columns: Option<u32>,
    /// Largest width of one tile in pixels (larger outputs are scaled down to it).
    pub tile_width: u32,
}

impl Default for SheetSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            columns: None,
            tile_width: 320,
        }
    }
}

/// A shard of a batch: variants whose index mod `count` is `index - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// 1-based.
    pub index: u32,
    pub count: u32,
}

impl Shard {
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    pub fn contains(&self, variant_index: usize) -> bool {
        variant_index % self.count as usize == (self.index - 1) as usize
    }

    pub fn is_all(&self) -> bool {
        self.count == 1
    }

    /// File-name suffix for per-shard files ("" for the whole batch).
    pub fn suffix(&self) -> String {
        if self.is_all() {
            String::new()
        } else {
            format!("-shard-{}-of-{}", self.index, self.count)
        }
    }
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let err = || format!("expected I/N with 1 <= I <= N (e.g. 2/8), got {s:?}");
        let (i, n) = s.split_once('/').ok_or_else(err)?;
        let index: u32 = i.trim().parse().map_err(|_| err())?;
        let count: u32 = n.trim().parse().map_err(|_| err())?;
        if count == 0 || index == 0 || index > count {
            return Err(err());
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One variant: a combination of one value from each axis.
#[derive(Clone, Debug)]
pub struct Variant {
    /// Position in the full cartesian product (what shards split on).
    pub index: usize,
    /// Labels joined by `_`; "base" when the manifest has no axes.
    pub name: String,
    /// (axis name, value label) per axis.
    pub labels: Vec<(String, String)>,
    /// The variant's scene, parsed and validated, or why it could not be made.
    pub scene: Result<Scene, String>,
    /// FNV-1a 64 of the Stipple version and the variant's scene TOML: everything that
    /// determines its pixels (besides the head mesh file's contents).
    pub hash: String,
}

/// A loaded manifest and its variants.
#[derive(Clone, Debug)]
pub struct Batch {
    pub file: PathBuf,
    pub spec: ManifestFile,
    pub scene_file: PathBuf,
    pub variants: Vec<Variant>,
}

/// FNV-1a, 64 bits: stable across platforms, builds and Rust versions (unlike `DefaultHasher`).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Sets `value` at a dotted `key` ("client.head.mesh") in a TOML table, creating tables on
/// the way.
pub fn set_dotted(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<(), String> {
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.trim().is_empty()) {
        return Err(format!("`{key}`: not a dotted key path"));
    }
    let (last, path) = parts.split_last().expect("split yields at least one part");
    let mut t = table;
    for (i, p) in path.iter().enumerate() {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()));
        t = match entry {
            toml::Value::Table(inner) => inner,
            _ => {
                return Err(format!(
                    "`{key}`: `{}` is a value, not a table",
                    parts[..=i].join(".")
                ));
            }
        };
    }
    t.insert(last.to_string(), value);
    Ok(())
}

fn apply(table: &mut toml::Table, set: &toml::Table) -> Result<(), String> {
    for (k, v) in set {
        set_dotted(table, k, v.clone())?;
    }
    Ok(())
}

/// A variant's scene: the base scene's table with the manifest's keys set, as TOML text. Its
/// errors name the variant and the manifest, and a syntax or type error names the key instead
/// of a line of the merged text, which is in no file.
fn variant_scene(
    text: &str,
    scene_file: &Path,
    manifest: &Path,
    name: &str,
) -> Result<Scene, String> {
    let whose = || {
        format!(
            "variant {name} ({} with the keys set by {})",
            scene_file.display(),
            manifest.display()
        )
    };
    if let Err(e) = toml::from_str::<crate::scene::SceneFile>(text) {
        let key = e
            .span()
            .map(|span| key_at(text, span.start))
            .unwrap_or_default();
        let message = crate::input::truncate_lines(e.message().trim_end());
        return Err(if key.is_empty() {
            format!("{}: {message}", whose())
        } else {
            format!("{}: `{key}`: {message}", whose())
        });
    }
    Scene::parse(text, scene_file).map_err(|e| format!("{}: {e}", whose()))
}

/// The dotted key of the line at byte `at` of serialized TOML: the last `[table]` header above
/// it and the line's own key.
fn key_at(text: &str, at: usize) -> String {
    let at = at.min(text.len());
    let before = text.get(..at).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("");
    let own = line.split('=').next().unwrap_or("").trim();
    let table = before[..line_start]
        .lines()
        .rev()
        .find(|l| l.starts_with('['))
        .map(|l| {
            l.trim_matches(|c| c == '[' || c == ']' || c == ' ')
                .to_string()
        });
    match (table, own.is_empty() || line.starts_with('[')) {
        (Some(t), false) => format!("{t}.{own}"),
        (None, false) => own.to_string(),
        (Some(t), true) => t,
        (None, true) => String::new(),
    }
}

fn valid_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        && !s.starts_with('.')
}

impl Batch {
    /// Reads a manifest and builds its variants. `extra` keys are set on every variant last
    /// (command-line overrides such as `render.disclaimer = false`). A manifest error (syntax,
    /// a missing base scene, a bad label) fails the whole batch; a variant whose keys make an
    /// invalid scene fails alone, when it is rendered.
    pub fn load(file: &Path, extra: &toml::Table) -> Result<Batch, BatchError> {
        let text = crate::input::read_text_limited(file, crate::input::MAX_TOML_BYTES, "manifest")?;
        Self::parse(&text, file, extra)
    }

    pub fn parse(text: &str, file: &Path, extra: &toml::Table) -> Result<Batch, BatchError> {
        let bad = |message: String| BatchError::Manifest {
            file: file.to_path_buf(),
            message,
        };
        let spec: ManifestFile = toml::from_str(text)
            .map_err(|e| bad(crate::input::truncate_lines(e.to_string().trim_end())))?;
        let dir = file.parent().unwrap_or(Path::new(""));
        let scene_file = dir.join(&spec.scene);
        let base_text =
            crate::input::read_text_limited(&scene_file, crate::input::MAX_TOML_BYTES, "scene")
                .map_err(|e| bad(format!("`scene`: {e}")))?;
        let base: toml::Table = toml::from_str(&base_text).map_err(|e| {
            bad(format!(
                "`scene`: {}: {}",
                scene_file.display(),
                crate::input::truncate_lines(&e.to_string())
            ))
        })?;
        for (i, axis) in spec.axes.iter().enumerate() {
            if !valid_label(&axis.name) {
                return Err(bad(format!(
                    "`axes[{i}].name`: letters, digits, `-` and `.`, got {:?}",
                    axis.name
                )));
            }
            if spec.axes[..i].iter().any(|a| a.name == axis.name) {
                return Err(bad(format!(
                    "`axes[{i}].name`: {:?} is used twice",
                    axis.name
                )));
            }
            if axis.values.is_empty() {
                return Err(bad(format!(
                    "`axes[{i}]` ({}): at least one value",
                    axis.name
                )));
            }
            for (j, v) in axis.values.iter().enumerate() {
                if !valid_label(&v.label) {
                    return Err(bad(format!(
                        "`axes[{i}].values[{j}].label`: letters, digits, `-` and `.` (it becomes part of file names), got {:?}",
                        v.label
                    )));
                }
                if axis.values[..j].iter().any(|o| o.label == v.label) {
                    return Err(bad(format!(
                        "axis {}: label {:?} is used twice",
                        axis.name, v.label
                    )));
                }
            }
        }
        if spec.sheet.tile_width < 16 || spec.sheet.tile_width > 4096 {
            return Err(bad(format!(
                "`sheet.tile_width`: 16 to 4096 pixels, got {}",
                spec.sheet.tile_width
            )));
        }
        if spec.sheet.columns == Some(0) {
            return Err(bad("`sheet.columns`: at least 1".into()));
        }
        let total: usize = spec.axes.iter().map(|a| a.values.len()).product();
        if total > 1_000_000 {
            return Err(bad(format!(
                "the axes make {total} variants; at most 1,000,000 are supported"
            )));
        }
        let mut variants = Vec::with_capacity(total);
        let mut pick = vec![0usize; spec.axes.len()];
        for index in 0..total {
            // Odometer: the last axis varies fastest.
            let mut rem = index;
            for (k, axis) in spec.axes.iter().enumerate().rev() {
                pick[k] = rem % axis.values.len();
                rem /= axis.values.len();
            }
            let chosen: Vec<(&Axis, &AxisValue)> = spec
                .axes
                .iter()
                .zip(&pick)
                .map(|(a, &p)| (a, &a.values[p]))
                .collect();
            let labels: Vec<(String, String)> = chosen
                .iter()
                .map(|(a, v)| (a.name.clone(), v.label.clone()))
                .collect();
            let name = if labels.is_empty() {
                "base".to_string()
            } else {
                labels
                    .iter()
                    .map(|(_, l)| l.as_str())
                    .collect::<Vec<_>>()
                    .join("_")
            };
            let mut table = base.clone();
            let mut result = apply(&mut table, &spec.set).map_err(|e| format!("`set`: {e}"));
            for (a, v) in &chosen {
                if result.is_ok() {
                    result = apply(&mut table, &v.set)
                        .map_err(|e| format!("axis {} = {}: {e}", a.name, v.label));
                }
            }
            if result.is_ok() {
                result = apply(&mut table, extra);
            }
            let scene_text = toml::to_string(&table).unwrap_or_default();
            let hash = format!(
                "{:016x}",
                fnv1a64(
                    format!("stipple {}\n{scene_text}", crate::output::png::VERSION).as_bytes()
                )
            );
            let scene = result.and_then(|()| variant_scene(&scene_text, &scene_file, file, &name));
            variants.push(Variant {
                index,
                name,
                labels,
                scene,
                hash,
            });
        }
        Ok(Batch {
            file: file.to_path_buf(),
            spec,
            scene_file,
            variants,
        })
    }

    /// The variants in `shard`, in order.
    pub fn shard(&self, shard: Shard) -> impl Iterator<Item = &Variant> {
        self.variants
            .iter()
            .filter(move |v| shard.contains(v.index))
    }

    /// The default output folder: the manifest's `out` (relative to the manifest), else a
    /// folder named after the manifest in the current directory.
    pub fn default_out(&self) -> PathBuf {
        let dir = self.file.parent().unwrap_or(Path::new(""));
        match &self.spec.out {
            Some(o) => dir.join(o),
            None => PathBuf::from(self.file.file_stem().unwrap_or_default()),
        }
    }

    /// Contact sheet columns: `sheet.columns`, else the product of the last axes' sizes up to
    /// six (so each row is one combination of the leading axes), else a square-ish grid.
    pub fn sheet_columns(&self, tiles: usize) -> u32 {
        if let Some(c) = self.spec.sheet.columns {
            return c;
        }
        let mut columns = 1usize;
        for a in self.spec.axes.iter().rev() {
            if columns * a.values.len() > 6 {
                break;
            }
            columns *= a.values.len();
        }
        if columns >= 2 && columns <= tiles {
            columns as u32
        } else {
            (tiles as f64).sqrt().ceil().max(1.0) as u32
        }
    }
}
