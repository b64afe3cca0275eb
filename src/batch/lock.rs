//! Per-item lock files, so that two workers on the same shard (a scheduler's retry racing a
//! straggler that is still running) do not render the same item twice.
//!
//! A worker takes an item by creating `OUT/.stipple-locks/ID.lock` with `create_new` (atomic
//! on local filesystems and NFS v3+), renders, renames its outputs into place and removes the
//! lock. A background thread touches the lock it holds every [`HEARTBEAT`]. Another worker
//! that finds the lock puts the item off and comes back to it later: by then the item is
//! complete (skipped), or the lock is gone, or it is stale and taken over. A lock is stale when
//! its owner ran on this machine and its process is gone, or when its modification time has
//! not moved for the stale timeout (measured against this worker's own clock, so clock skew
//! between machines does not matter).
//!
//! Locks only avoid duplicate work; outputs are safe without them, because every file is
//! written under a unique temporary name and renamed into place. In the rare race where two
//! workers both judge the same lock stale, an item is rendered twice, never corrupted.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

/// How often the holder touches its lock.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// A lock untouched for this long belongs to a worker that is gone (12 missed heartbeats).
pub const STALE_AFTER: Duration = Duration::from_secs(60);
/// The folder of lock files inside the output folder.
pub const LOCK_DIR: &str = ".stipple-locks";

/// Who holds a lock: enough to tell, on the same machine, whether the holder still runs.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Owner {
    pub host: String,
    /// Linux: the boot id and pid namespace, so a pid is only compared within one kernel
    /// and one container.
    pub boot: String,
    pub pid: u32,
    /// Unique per worker run.
    pub token: String,
}

impl Owner {
    pub fn me() -> Owner {
        let pid = std::process::id();
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Owner {
            host: host_name(),
            boot: boot_id(),
            pid,
            token: format!("{pid}-{nanos:x}"),
        }
    }

    fn same_machine(&self, other: &Owner) -> bool {
        !self.boot.is_empty() && self.host == other.host && self.boot == other.boot
    }

    pub fn describe(&self) -> String {
        format!("pid {} on {}", self.pid, self.host)
    }
}

fn host_name() -> String {
    #[cfg(target_os = "linux")]
    if let Ok(h) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        return h.trim().to_string();
    }
    std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .unwrap_or_else(|_| "unknown-host".into())
}

/// Empty where processes cannot be checked (then only the heartbeat tells a stale lock).
fn boot_id() -> String {
    #[cfg(target_os = "linux")]
    {
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap_or_default();
        let ns = std::fs::read_link("/proc/self/ns/pid")
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !boot.trim().is_empty() && !ns.is_empty() {
            return format!("{} {ns}", boot.trim());
        }
    }
    String::new()
}

/// Whether a process of this machine (same kernel, same pid namespace) still runs.
fn alive(pid: u32) -> bool {
    #[cfg(target_os = "linux")]
    {
        // A zombie (killed, not yet reaped by its parent) holds nothing any more.
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => !stat.rsplit_once(')').is_some_and(|(_, rest)| {
                matches!(rest.trim_start().chars().next(), Some('Z' | 'X'))
            }),
            Err(_) => false,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = pid;
        true
    }
}

/// The outcome of trying an item's lock.
pub enum Attempt {
    /// This worker holds the item until the guard is dropped. `took_over` names the stale
    /// holder it replaced, if any.
    Held {
        guard: Guard,
        took_over: Option<String>,
    },
    /// Another live worker holds it.
    Busy(String),
}

/// The lock files of one output folder, for one worker run.
pub struct Locks {
    dir: PathBuf,
    me: Owner,
    stale_after: Duration,
    /// Each foreign lock's (modified time, contents) when first seen unchanged, and since when.
    seen: HashMap<PathBuf, (Option<SystemTime>, String, Instant)>,
    current: Arc<Mutex<Option<PathBuf>>>,
    _stop: mpsc::Sender<()>,
}

impl Locks {
    pub fn new(out: &Path, stale_after: Duration) -> std::io::Result<Locks> {
        let dir = out.join(LOCK_DIR);
        std::fs::create_dir_all(&dir)?;
        let current: Arc<Mutex<Option<PathBuf>>> = Arc::new(Mutex::new(None));
        let (stop, stopped) = mpsc::channel::<()>();
        let beat = current.clone();
        let every = HEARTBEAT.min(stale_after / 4);
        std::thread::spawn(move || {
            // Ends when `Locks` (the sender) is dropped.
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                let held = beat.lock().map(|c| c.clone()).unwrap_or(None);
                if let Some(f) =
                    held.and_then(|p| std::fs::OpenOptions::new().write(true).open(p).ok())
                {
                    let _ = f.set_modified(SystemTime::now());
                }
            }
        });
        Ok(Locks {
            dir,
            me: Owner::me(),
            stale_after,
            seen: HashMap::new(),
            current,
            _stop: stop,
        })
    }

    pub fn path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.lock"))
    }

    /// Tries to take item `id`; takes over a stale lock.
    pub fn try_lock(&mut self, id: &str) -> std::io::Result<Attempt> {
        let path = self.path(id);
        if self.create(&path)? {
            return Ok(self.held(path, None));
        }
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let owner: Option<Owner> = serde_json::from_str(&text).ok();
        let who = owner
            .as_ref()
            .map(|o| o.describe())
            .unwrap_or_else(|| "another worker".into());
        let Some(why) = self.stale(&path, owner.as_ref(), modified, &text) else {
            return Ok(Attempt::Busy(who));
        };
        // Remove it only if it is still the lock judged stale, then race for a fresh one.
        if std::fs::read_to_string(&path).unwrap_or_default() == text {
            let _ = std::fs::remove_file(&path);
        }
        self.seen.remove(&path);
        if self.create(&path)? {
            Ok(self.held(path, Some(format!("{who} ({why})"))))
        } else {
            Ok(Attempt::Busy(who))
        }
    }

    fn create(&self, path: &Path) -> std::io::Result<bool> {
        let open = || {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
        };
        // A worker that finished removes the lock folder when it is empty; make it again.
        let opened = match open() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&self.dir)?;
                open()
            }
            r => r,
        };
        match opened {
            Ok(mut f) => {
                let json = serde_json::to_string(&self.me).expect("plain data");
                std::io::Write::write_all(&mut f, json.as_bytes())?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn held(&self, path: PathBuf, took_over: Option<String>) -> Attempt {
        if let Ok(mut c) = self.current.lock() {
            *c = Some(path.clone());
        }
        Attempt::Held {
            guard: Guard {
                path,
                token: self.me.token.clone(),
                current: self.current.clone(),
            },
            took_over,
        }
    }

    /// Why a foreign lock is stale, or `None` while its holder may be alive.
    fn stale(
        &mut self,
        path: &Path,
        owner: Option<&Owner>,
        modified: Option<SystemTime>,
        text: &str,
    ) -> Option<String> {
        if owner.is_some_and(|o| o.same_machine(&self.me) && !alive(o.pid)) {
            return Some("its process has ended".into());
        }
        let age = modified.and_then(|m| SystemTime::now().duration_since(m).ok());
        if let Some(age) = age.filter(|a| *a > self.stale_after) {
            return Some(format!("untouched for {} s", age.as_secs()));
        }
        let now = Instant::now();
        let entry =
            self.seen
                .entry(path.to_path_buf())
                .or_insert((modified, text.to_string(), now));
        if entry.0 != modified || entry.1 != text {
            *entry = (modified, text.to_string(), now);
        }
        let unchanged = now.duration_since(entry.2);
        (unchanged > self.stale_after).then(|| format!("unchanged for {} s", unchanged.as_secs()))
    }

    /// Removes the lock folder if no lock is left in it.
    pub fn finish(self) {
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// An item's lock, held until dropped.
pub struct Guard {
    path: PathBuf,
    token: String,
    current: Arc<Mutex<Option<PathBuf>>>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Ok(mut c) = self.current.lock() {
            if c.as_ref() == Some(&self.path) {
                *c = None;
            }
        }
        // Only our own lock: a worker that judged it stale may have replaced it.
        let ours = std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| serde_json::from_str::<Owner>(&t).ok())
            .is_some_and(|o| o.token == self.token);
        if ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Removes what a gone worker left half-written for `file` (temporary files of
/// `crate::output::write_atomic`, `.NAME.*.tmp`), once this worker holds the item's lock.
pub fn remove_leftovers(file: &Path) {
    let (Some(dir), Some(name)) = (file.parent(), file.file_name().and_then(|n| n.to_str())) else {
        return;
    };
    let prefix = format!(".{name}.");
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(&prefix) && n.ends_with(".tmp") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("stipple-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn a_live_lock_is_busy_and_a_released_one_is_free() {
        let d = dir("live");
        let mut a = Locks::new(&d, STALE_AFTER).unwrap();
        let mut b = Locks::new(&d, STALE_AFTER).unwrap();
        let Attempt::Held { guard, .. } = a.try_lock("x").unwrap() else {
            panic!("free lock")
        };
        assert!(matches!(b.try_lock("x").unwrap(), Attempt::Busy(_)));
        drop(guard);
        assert!(!a.path("x").exists());
        assert!(matches!(
            b.try_lock("x").unwrap(),
            Attempt::Held {
                took_over: None,
                ..
            }
        ));
    }

    #[test]
    fn a_dead_or_silent_holder_is_taken_over() {
        let d = dir("stale");
        let mut locks = Locks::new(&d, Duration::from_millis(300)).unwrap();
        // A holder on this machine whose process has ended.
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .arg("--list")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let mut owner = Owner::me();
        owner.pid = dead;
        std::fs::write(locks.path("a"), serde_json::to_string(&owner).unwrap()).unwrap();
        match locks.try_lock("a").unwrap() {
            Attempt::Held { took_over, .. } => {
                assert!(took_over.unwrap().contains("ended"))
            }
            Attempt::Busy(w) => panic!("busy: {w}"),
        }
        // A holder on another machine: busy until its lock goes untouched for the timeout.
        owner.host = "elsewhere".into();
        std::fs::write(locks.path("b"), serde_json::to_string(&owner).unwrap()).unwrap();
        assert!(matches!(locks.try_lock("b").unwrap(), Attempt::Busy(_)));
        std::thread::sleep(Duration::from_millis(400));
        assert!(matches!(
            locks.try_lock("b").unwrap(),
            Attempt::Held {
                took_over: Some(_),
                ..
            }
        ));
    }
}
