//! Value parsers for the command line: a flag's value is checked like a scene's (finite, in
//! range, the right kind of path) and refused with an error that names the flag and what was
//! expected, before anything is loaded or rendered. Clap puts the flag's name in front of the
//! message: `error: invalid value 'NaN' for '--fps <FPS>': expected ...`.

use std::path::PathBuf;

/// Frames per second of an animation: 0.1 to 100.
pub fn fps(s: &str) -> Result<f32, String> {
    let v: f32 = s.trim().parse().map_err(|_| {
        format!("expected a number of frames per second from 0.1 to 100, got {s:?}")
    })?;
    if v.is_finite() && (0.1..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!(
            "expected a number of frames per second from 0.1 to 100, got {s}"
        ))
    }
}

/// An output folder (made when the first file is written), refused when it is a file or
/// cannot be made or written into, so a run fails before it renders rather than after.
pub fn out_dir(s: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    if s.is_empty() {
        return Err("expected a folder to write into, got an empty path".into());
    }
    if path.exists() && !path.is_dir() {
        return Err(format!(
            "{s} is a file; expected a folder (created if missing)"
        ));
    }
    writable(&path)?;
    Ok(path)
}

/// An output file that must end in `.EXT` (the format it is written in).
fn file_with_extension(s: &str, ext: &str, format: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(s);
    let ok = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case(ext));
    if !ok {
        return Err(format!(
            "expected a file name ending in .{ext} (it is written as {format}), got {s:?}"
        ));
    }
    if path.is_dir() {
        return Err(format!(
            "{s} is a folder; expected a file name ending in .{ext}"
        ));
    }
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    if dir.exists() && !dir.is_dir() {
        return Err(format!("{} is a file, not a folder", dir.display()));
    }
    writable(&dir)?;
    Ok(path)
}

/// A PNG file to write.
pub fn png_file(s: &str) -> Result<PathBuf, String> {
    file_with_extension(s, "png", "PNG")
}

/// An OBJ file to write.
pub fn obj_file(s: &str) -> Result<PathBuf, String> {
    file_with_extension(s, "obj", "Wavefront OBJ")
}

/// Checks that `dir` can be made and written into, without making it (a run refused later,
/// for a bad scene say, leaves nothing behind): its nearest existing ancestor must be a folder
/// that takes a new file.
fn writable(dir: &std::path::Path) -> Result<(), String> {
    let mut existing = dir;
    while !existing.as_os_str().is_empty() && !existing.exists() {
        existing = existing.parent().unwrap_or(std::path::Path::new(""));
    }
    let existing = if existing.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        existing
    };
    if !existing.is_dir() {
        return Err(format!(
            "cannot create folder {}: {} is a file",
            dir.display(),
            existing.display()
        ));
    }
    let probe = existing.join(format!(".stipple-probe.{}.tmp", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) if existing == dir => {
            Err(format!("cannot write into folder {}: {e}", dir.display()))
        }
        Err(e) => Err(format!(
            "cannot create folder {} in {}: {e}",
            dir.display(),
            existing.display()
        )),
    }
}
