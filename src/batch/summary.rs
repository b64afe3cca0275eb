//! `stipple batch MANIFEST --merge DIR`: once every shard of a batch has run into one folder,
//! checks that every item's outputs are there and complete, and writes the contact sheet of
//! the whole batch and the overall summary, naming the items that are missing and, where a
//! shard's summary says why, the error. No rendering, no GPU.

use super::run::{Status, VariantReport, contact_sheet, is_complete, output_files, sheet_meta};
use super::{Batch, Variant, lock};
use crate::output::OutputError;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The overall summary of a merged batch, written as `batch-summary.json`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MergeReport {
    pub manifest: PathBuf,
    pub out: PathBuf,
    pub merged: bool,
    pub items_total: usize,
    pub items_complete: usize,
    pub missing: Vec<MissingItem>,
    /// The per-worker summaries read (`batch-summary-shard-*.json`, `batch-summary-items-*`).
    pub summaries: Vec<PathBuf>,
    /// Items whose lock file is still there: a worker is rendering them, or died doing so.
    pub locked: Vec<String>,
    pub contact_sheet: Option<PathBuf>,
    pub summary_file: PathBuf,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct MissingItem {
    pub index: usize,
    pub id: String,
    /// The output files not there or not complete.
    pub files: Vec<PathBuf>,
    /// Why, where a worker's summary or the manifest says.
    pub error: Option<String>,
}

impl MergeReport {
    /// A few lines for the terminal.
    pub fn summary(&self) -> String {
        let mut s = format!(
            "merged {} in {}: {} of {} items complete, {} missing ({} worker summaries read)",
            self.manifest.display(),
            self.out.display(),
            self.items_complete,
            self.items_total,
            self.missing.len(),
            self.summaries.len()
        );
        for m in &self.missing {
            s.push_str(&format!("\n  MISSING {} (#{})", m.id, m.index));
            if let Some(e) = &m.error {
                s.push_str(&format!(": {e}"));
            }
        }
        if !self.locked.is_empty() {
            s.push_str(&format!(
                "\n  still locked (a worker is running, or died): {}",
                self.locked.join(", ")
            ));
        }
        if let Some(sheet) = &self.contact_sheet {
            s.push_str(&format!("\ncontact sheet: {}", sheet.display()));
        }
        s.push_str(&format!("\nsummary: {}", self.summary_file.display()));
        s
    }
}

/// Failures recorded by the per-worker summaries in `out`, by item id, and the files read.
fn failures(out: &Path) -> (BTreeMap<String, String>, Vec<PathBuf>) {
    let mut failed = BTreeMap::new();
    let mut read = Vec::new();
    let Ok(entries) = std::fs::read_dir(out) else {
        return (failed, read);
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("batch-summary-") && n.ends_with(".json"))
        })
        .collect();
    files.sort();
    for f in files {
        let Some(json) = std::fs::read_to_string(&f)
            .ok()
            .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        else {
            continue;
        };
        for item in json["failed"].as_array().into_iter().flatten() {
            if let (Some(id), Some(e)) = (item["id"].as_str(), item["error"].as_str()) {
                let name = f.file_name().unwrap_or_default().to_string_lossy();
                failed.insert(id.to_string(), format!("{e} (in {name})"));
            }
        }
        read.push(f);
    }
    (failed, read)
}

/// Checks every item of `batch` in `out`, writes the contact sheet (missing items as grey
/// tiles) and `batch-summary.json`. Missing items are in the report, not an `Err`.
pub fn merge(batch: &Batch, out: &Path) -> Result<MergeReport, OutputError> {
    if !out.is_dir() {
        return Err(OutputError::Io {
            path: out.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
        });
    }
    let (failed, summaries) = failures(out);
    let mut missing = Vec::new();
    let mut reports = Vec::new();
    let mut locked = Vec::new();
    for v in &batch.variants {
        let (files, error) = match &v.scene {
            Ok(scene) => (output_files(out, &v.name, scene), None),
            Err(e) => (Vec::new(), Some(e.clone())),
        };
        let absent: Vec<PathBuf> = files
            .iter()
            .filter(|f| !is_complete(&f.path, &v.hash, f.view, f.kind))
            .map(|f| f.path.clone())
            .collect();
        let complete = error.is_none() && absent.is_empty();
        if out
            .join(lock::LOCK_DIR)
            .join(format!("{}.lock", v.name))
            .exists()
        {
            locked.push(v.name.clone());
        }
        if !complete {
            missing.push(MissingItem {
                index: v.index,
                id: v.name.clone(),
                files: absent,
                error: error.or_else(|| failed.get(&v.name).cloned()),
            });
        }
        reports.push(VariantReport {
            index: v.index,
            name: v.name.clone(),
            hash: v.hash.clone(),
            status: if complete {
                Status::Skipped
            } else {
                Status::Failed
            },
            files: files.iter().map(|f| f.path.clone()).collect(),
            rendered: 0,
            error: None,
            ms: 0.0,
        });
    }
    let all: Vec<&Variant> = batch.variants.iter().collect();
    let contact_sheet = if batch.spec.sheet.enabled && !all.is_empty() {
        let path = out.join("contact-sheet.png");
        let sheet = contact_sheet(batch, &all, &reports, out, "missing");
        crate::output::png::write_png8(&path, &sheet, &sheet_meta(batch, "merged"))?;
        Some(path)
    } else {
        None
    };
    let summary_file = out.join("batch-summary.json");
    let report = MergeReport {
        manifest: batch.file.clone(),
        out: out.to_path_buf(),
        merged: true,
        items_total: batch.variants.len(),
        items_complete: batch.variants.len() - missing.len(),
        missing,
        summaries,
        locked,
        contact_sheet,
        summary_file: summary_file.clone(),
    };
    let json = serde_json::to_string_pretty(&report).expect("plain data");
    crate::output::write_atomic(&summary_file, |f| {
        std::io::Write::write_all(f, json.as_bytes())
    })?;
    Ok(report)
}
