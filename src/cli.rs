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

/// `stipple share`'s page options; the defaults are [`ShareOptions::default`]'s.
#[derive(clap::Args, Clone, Debug)]
pub struct ShareArgs {
    /// Angles of the turntable (before and after, every 360/N degrees): 4 to 360.
    #[arg(long, default_value_t = ShareOptions::default().frames,
          value_parser = clap::value_parser!(u32).range(4..=360))]
    pub frames: u32,
    /// Angles shown under each other lighting preset: 1 to 360 (taken from the turntable's).
    #[arg(long, default_value_t = ShareOptions::default().light_frames,
          value_parser = clap::value_parser!(u32).range(1..=360))]
    pub light_frames: u32,
    /// Angles shown for each other session and year: 1 to 360.
    #[arg(long, default_value_t = ShareOptions::default().stage_frames,
          value_parser = clap::value_parser!(u32).range(1..=360))]
    pub stage_frames: u32,
    /// Frame size WIDTHxHEIGHT, 64 to 2048 pixels each.
    #[arg(long, default_value = "540x720", value_parser = share_size)]
    pub size: (u32, u32),
    /// Lighting presets offered as buttons besides the scene's: `all`, `none`, or names
    /// separated by commas (see `stipple sheet`).
    #[arg(long, default_value = "all")]
    pub presets: String,
    /// JPEG quality of the frames: 30 to 95.
    #[arg(long, default_value_t = ShareOptions::default().jpeg_quality,
          value_parser = clap::value_parser!(u8).range(30..=95))]
    pub quality: u8,
    /// Samples per pixel along each axis, 1 to 4 (default: the scene's).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4))]
    pub supersample: Option<u32>,
    /// Leave the "Simulation, not a guarantee of results" line off the frames (the page
    /// always says it).
    #[arg(long)]
    pub no_disclaimer: bool,
}

use stipple::output::share::ShareOptions;

impl ShareArgs {
    pub fn options(&self) -> ShareOptions {
        let presets = match self.presets.trim() {
            "all" => None,
            "none" | "" => Some(Vec::new()),
            list => Some(list.split(',').map(|n| n.trim().to_string()).collect()),
        };
        ShareOptions {
            frames: self.frames,
            light_frames: self.light_frames,
            stage_frames: self.stage_frames,
            width: self.size.0,
            height: self.size.1,
            presets,
            jpeg_quality: self.quality,
            supersample: self.supersample,
        }
    }
}

/// A share page's frame size: WIDTHxHEIGHT, 64 to 2048 pixels each.
pub fn share_size(s: &str) -> Result<(u32, u32), String> {
    let (lo, hi) = stipple::output::share::SIZE_RANGE;
    let err =
        || format!("expected WIDTHxHEIGHT with {lo} to {hi} pixels each, e.g. 540x720, got {s:?}");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(err)?;
    let w: u32 = w.trim().parse().map_err(|_| err())?;
    let h: u32 = h.trim().parse().map_err(|_| err())?;
    if !(lo..=hi).contains(&w) || !(lo..=hi).contains(&h) {
        return Err(err());
    }
    Ok((w, h))
}
