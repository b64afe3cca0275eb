//! Output files. Every file is written to a temporary name beside its destination and renamed
//! into place, so a crash or a full disk never leaves a half-written image behind.

pub mod composite;
pub mod landmarks;
pub mod png;
pub mod share;
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
    let mut file = AtomicFile::create(path)?;
    write(file.file()).map_err(|source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    file.commit()
}

/// A file being written under a temporary name (`.NAME.PID.tmp`) beside its destination:
/// [`AtomicFile::commit`] renames it into place; dropped uncommitted (an error, a panic) it is
/// removed, and so it is when the process is interrupted (SIGINT, SIGTERM, Ctrl-C: see
/// [`remove_temporary_files_on_signal`]). Temporary files that a killed process left behind
/// (its PID gone) are removed the first time a folder is written to.
pub struct AtomicFile {
    path: PathBuf,
    tmp: PathBuf,
    file: Option<std::fs::File>,
}

impl AtomicFile {
    pub fn create(path: &Path) -> Result<AtomicFile, OutputError> {
        let io = |source| OutputError::Io {
            path: path.to_path_buf(),
            source,
        };
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        temp_files::remove_stale(dir);
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("output");
        let tmp = dir.join(temp_files::name(name));
        temp_files::register(&tmp);
        // `create_new` refuses a name that is somehow taken instead of writing into another's
        // file (a retry racing a straggler on a shared volume).
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| {
                temp_files::unregister(&tmp);
                io(e)
            })?;
        Ok(AtomicFile {
            path: path.to_path_buf(),
            tmp,
            file: Some(file),
        })
    }

    pub fn file(&mut self) -> &mut std::fs::File {
        self.file.as_mut().expect("an uncommitted file")
    }

    /// Flushes the file to disk and renames it to its destination.
    pub fn commit(mut self) -> Result<(), OutputError> {
        let mut file = self.file.take().expect("an uncommitted file");
        let result = (|| {
            file.flush()?;
            file.sync_all()?;
            drop(file);
            std::fs::rename(&self.tmp, &self.path)
        })();
        result.map_err(|source| OutputError::Io {
            path: self.path.clone(),
            source,
        })
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        drop(self.file.take());
        // After a commit the rename has moved it; otherwise it is half-written.
        let _ = std::fs::remove_file(&self.tmp);
        temp_files::unregister(&self.tmp);
    }
}

/// Removes the temporary files of writes in progress when the process is interrupted (SIGINT,
/// SIGTERM, SIGHUP; Ctrl-C and Ctrl-Break on Windows), then exits with status 130. For the
/// command-line program: a library should leave signals to its caller. SIGKILL cannot be
/// caught; the next write into the folder removes what it left.
pub fn remove_temporary_files_on_signal() {
    // Fails only when a handler is already set (by the embedding program): keep that one.
    let _ = ctrlc::set_handler(|| {
        temp_files::remove_all();
        eprintln!("interrupted; temporary files removed");
        std::process::exit(130);
    });
}

/// The temporary files of this process, and those of dead ones.
mod temp_files {
    use std::collections::HashSet;
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;

    static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    static SWEPT: Mutex<Option<HashSet<PathBuf>>> = Mutex::new(None);

    /// `.NAME.PID-N-RANDOM.tmp`: unique per write, not only per process, since workers in
    /// containers on a shared volume often have the same PID (1) and a retry may race a
    /// straggler on the same file.
    pub fn name(file_name: &str) -> String {
        static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let unique: u32 = rand::random();
        format!(".{file_name}.{}-{n}-{unique:08x}.tmp", std::process::id())
    }

    /// The PID in a temporary file's name `.NAME.PID-N-RANDOM.tmp` (or `.NAME.PID.tmp`).
    pub fn pid_of(file_name: &str) -> Option<u32> {
        let stem = file_name.strip_prefix('.')?.strip_suffix(".tmp")?;
        let (_, tail) = stem.rsplit_once('.')?;
        tail.split('-').next()?.parse().ok()
    }

    pub fn register(p: &Path) {
        LIVE.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(p.to_path_buf());
    }

    pub fn unregister(p: &Path) {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = live.iter().position(|q| q == p) {
            live.swap_remove(i);
        }
    }

    pub fn remove_all() {
        // A signal may arrive while the lock is held: do not wait for it.
        let live = match LIVE.try_lock() {
            Ok(l) => l.clone(),
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner().clone(),
            Err(std::sync::TryLockError::WouldBlock) => {
                std::thread::sleep(std::time::Duration::from_millis(50));
                LIVE.lock().unwrap_or_else(|e| e.into_inner()).clone()
            }
        };
        for p in live {
            let _ = std::fs::remove_file(p);
        }
    }

    /// Removes, once per folder and process, the temporary files of processes that are gone.
    pub fn remove_stale(dir: &Path) {
        let key = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        {
            let mut swept = SWEPT.lock().unwrap_or_else(|e| e.into_inner());
            if !swept.get_or_insert_with(HashSet::new).insert(key) {
                return;
            }
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let me = std::process::id();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(pid_of) else {
                continue;
            };
            if pid != me && !alive(pid) && entry.file_type().is_ok_and(|t| t.is_file()) {
                log::info!("removing {}, left by process {pid}", entry.path().display());
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    #[cfg(unix)]
    fn alive(pid: u32) -> bool {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        // Signal 0 checks only that the process exists; EPERM: it exists, someone else's.
        // SAFETY: kill with signal 0 sends nothing.
        let r = unsafe { libc::kill(pid, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }

    /// Without a portable way to ask, a PID is taken as alive: its file stays.
    #[cfg(not(unix))]
    fn alive(_pid: u32) -> bool {
        true
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn pid_from_name() {
            assert_eq!(super::pid_of(".front-after.png.1234.tmp"), Some(1234));
            assert_eq!(super::pid_of(".a.b.c.99.tmp"), Some(99));
            assert_eq!(super::pid_of("front-after.png"), None);
            assert_eq!(super::pid_of(".x.tmp"), None);
            assert_eq!(super::pid_of(".x.notapid.tmp"), None);
            assert_eq!(super::pid_of(".front.png.77-3-0badcafe.tmp"), Some(77));
            let name = super::name("front.png");
            assert_eq!(super::pid_of(&name), Some(std::process::id()));
        }
    }
}
