//! Output files. Every file is written to a temporary name beside its destination and renamed
//! into place, so a crash or a full disk never leaves a half-written image behind.

pub mod composite;
pub mod png;
pub mod sheet;
pub mod text;
pub mod turntable;

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}: cannot write: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: cannot encode PNG: {source}")]
    Encode {
        path: PathBuf,
        source: image::ImageError,
    },
}

/// Writes `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    let io = |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("output");
    // Unique per write, not only per process: workers in containers on a shared volume often
    // have the same pid (1), and a retry may race a straggler on the same file. `create_new`
    // refuses a name that is somehow taken instead of writing into another's file.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let unique: u64 = rand::random();
    let tmp = dir.join(format!(
        ".{name}.{}-{n}-{:08x}.tmp",
        std::process::id(),
        unique as u32 ^ nanos
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        write(&mut f)?;
        f.flush()?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io)
}

/// Writes an RGBA frame as an 8-bit RGB PNG, atomically.
pub fn write_png(path: &Path, image: &image::RgbaImage) -> Result<(), OutputError> {
    let rgb = image::DynamicImage::ImageRgba8(image.clone()).to_rgb8();
    let mut encoded = Vec::new();
    rgb.write_to(
        &mut std::io::Cursor::new(&mut encoded),
        image::ImageFormat::Png,
    )
    .map_err(|source| OutputError::Encode {
        path: path.to_path_buf(),
        source,
    })?;
    write_atomic(path, |f| f.write_all(&encoded))
}
