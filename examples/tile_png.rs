//! Tiles PNGs into one, a row per `--row`, edge to edge: the pictures in `docs/` that put
//! several renders side by side (`scripts/readme-docs.sh`, `scripts/pigment-docs.sh`).
//!
//! Usage: `cargo run --release --example tile_png -- OUT.png --row A.png B.png [--row C.png ...]`
//! Tiles in a row must be equally tall and rows equally wide. Writes 8-bit RGB, through a
//! temporary file renamed into place.
use anyhow::{Context, Result, bail};
use image::{GenericImage, RgbImage};
use std::path::{Path, PathBuf};

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: tile_png OUT.png --row A.png B.png ... [--row C.png ...]";
    let out = PathBuf::from(args.next().context(usage)?);
    let mut rows: Vec<Vec<RgbImage>> = Vec::new();
    for a in args {
        if a == "--row" {
            rows.push(Vec::new());
            continue;
        }
        let Some(row) = rows.last_mut() else {
            bail!("{a}: expected --row before the first tile ({usage})");
        };
        let tile = image::open(&a).with_context(|| format!("{a}: expected a PNG"))?;
        row.push(tile.to_rgb8());
    }
    let (width, height) = sheet_size(&rows)?;
    let mut sheet = RgbImage::new(width, height);
    let mut y = 0;
    for row in &rows {
        let mut x = 0;
        for tile in row {
            sheet.copy_from(tile, x, y)?;
            x += tile.width();
        }
        y += row[0].height();
    }
    write_atomic(&sheet, &out)
}

/// The sheet's size; an error unless every row is one height and all rows one width.
fn sheet_size(rows: &[Vec<RgbImage>]) -> Result<(u32, u32)> {
    let mut width = None;
    let mut height = 0;
    for (i, row) in rows.iter().enumerate() {
        let Some(first) = row.first() else {
            bail!("row {}: expected at least one tile", i + 1);
        };
        if row.iter().any(|t| t.height() != first.height()) {
            bail!("row {}: tiles in a row must be equally tall", i + 1);
        }
        let w: u32 = row.iter().map(|t| t.width()).sum();
        if width.is_some_and(|width| width != w) {
            bail!(
                "row {}: {w} px wide, expected {} like the rows above",
                i + 1,
                width.unwrap_or(0)
            );
        }
        width = Some(w);
        height += first.height();
    }
    Ok((width.context("expected at least one --row")?, height))
}

fn write_atomic(sheet: &RgbImage, out: &Path) -> Result<()> {
    let tmp = out.with_extension("png.tmp");
    sheet
        .save_with_format(&tmp, image::ImageFormat::Png)
        .with_context(|| format!("{}: could not write", tmp.display()))?;
    std::fs::rename(&tmp, out).with_context(|| format!("{}: could not write", out.display()))
}
