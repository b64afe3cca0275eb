//! Reading input files (scenes, manifests, meshes) with a size limit and errors that say what
//! is wrong in words: an empty path, a folder, a device, a file too large to be what it claims.
//! Every loader reads through here, so `mesh = "/dev/zero"` or a 50 MB TOML array is refused
//! before it is parsed, instead of exhausting memory in a parser.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest scene or batch manifest: hand-written TOML is a few kilobytes.
pub const MAX_TOML_BYTES: u64 = 4 << 20;
/// Largest head mesh: a dense head scan as text OBJ is a few hundred megabytes.
pub const MAX_MESH_BYTES: u64 = 1 << 30;

/// Longest line of input repeated in an error message; longer ones are cut.
pub const MAX_ECHO_CHARS: usize = 200;

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("the {what} path is empty (expected a file name)")]
    EmptyPath { what: &'static str },
    #[error("{}: is a folder (expected a {what} file)", path.display())]
    Folder { path: PathBuf, what: &'static str },
    #[error("{}: is not a regular file (expected a {what} file)", path.display())]
    NotAFile { path: PathBuf, what: &'static str },
    #[error(
        "{}: larger than {} MiB, the limit for a {what} file",
        path.display(),
        limit >> 20
    )]
    TooLarge {
        path: PathBuf,
        what: &'static str,
        limit: u64,
    },
    /// The OS's error, printed once: it is part of the message, not a `source` that an error
    /// chain would print again.
    #[error("{}: cannot read: {error}", path.display())]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: not UTF-8 text (expected a {what} file)", path.display())]
    NotText { path: PathBuf, what: &'static str },
}

/// Reads at most `limit` bytes of the regular file `path`; `what` names the kind of file in
/// errors ("scene", "head mesh").
pub fn read_limited(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, InputError> {
    if path.as_os_str().is_empty() {
        return Err(InputError::EmptyPath { what });
    }
    let io = |error: std::io::Error| InputError::Io {
        path: path.to_path_buf(),
        error,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if meta.is_dir() {
        return Err(InputError::Folder {
            path: path.to_path_buf(),
            what,
        });
    }
    if !meta.is_file() {
        return Err(InputError::NotAFile {
            path: path.to_path_buf(),
            what,
        });
    }
    let too_large = || InputError::TooLarge {
        path: path.to_path_buf(),
        what,
        limit,
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let file = std::fs::File::open(path).map_err(io)?;
    // The file may grow between the two looks: read one byte past the limit to tell.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read_limited`] for text files.
pub fn read_text_limited(
    path: &Path,
    limit: u64,
    what: &'static str,
) -> Result<String, InputError> {
    String::from_utf8(read_limited(path, limit, what)?).map_err(|_| InputError::NotText {
        path: path.to_path_buf(),
        what,
    })
}

/// `message` with every line longer than [`MAX_ECHO_CHARS`] cut, so an error about a huge
/// line does not repeat it.
pub fn truncate_lines(message: &str) -> String {
    message
        .lines()
        .map(|l| {
            if l.chars().count() > MAX_ECHO_CHARS {
                let cut: String = l.chars().take(MAX_ECHO_CHARS).collect();
                format!("{cut}... ({} characters)", l.chars().count())
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("stipple-input-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn limits_and_kinds() {
        let d = dir("limits");
        let f = d.join("a.toml");
        std::fs::write(&f, "x = 1\n").unwrap();
        assert_eq!(read_text_limited(&f, 100, "scene").unwrap(), "x = 1\n");
        let e = read_limited(&f, 3, "scene").unwrap_err().to_string();
        assert!(e.contains("larger than") && e.contains("scene"), "{e}");
        let e = read_limited(&d, 100, "scene").unwrap_err().to_string();
        assert!(e.contains("is a folder"), "{e}");
        let e = read_limited(Path::new(""), 100, "head mesh")
            .unwrap_err()
            .to_string();
        assert!(e.contains("path is empty"), "{e}");
        let e = read_limited(&d.join("missing"), 100, "scene")
            .unwrap_err()
            .to_string();
        assert_eq!(e.matches("os error").count(), 1, "{e}");
        let _ = std::fs::remove_dir_all(&d);
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused() {
        let e = read_limited(Path::new("/dev/zero"), 1 << 20, "head mesh")
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }

    #[test]
    fn long_lines_are_cut() {
        let long = "[".repeat(100_000);
        let t = truncate_lines(&format!("line 1\n{long}\nend"));
        assert!(t.len() < 400, "{}", t.len());
        assert!(t.starts_with("line 1\n") && t.ends_with("end"));
    }
}
