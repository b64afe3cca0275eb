//! `stipple share`: the consultation page in a real browser. The page of a small scene is
//! opened from disk in headless Chromium, driven through the DevTools protocol over a pipe
//! (`--remote-debugging-pipe`: JSON messages, NUL-terminated, on the child's fds 3 and 4) with
//! real input events (mouse and touch), and its screenshots must change as the input says: the
//! split moved (only the columns it crossed changed), the head turned, the light changed. The
//! page must load nothing but itself and its data: images, and throw no script error.
//!
//! Chromium comes from `scripts/setup.sh` (Debian's `chromium`); `STIPPLE_CHROMIUM` names
//! another binary. Without one the test fails and says so.

mod common;

use common::{stipple, temp_dir};
use image::RgbaImage;
use std::path::{Path, PathBuf};

/// A scene that renders fast: the built-in one with a small pigment map, two sessions and
/// five years of ageing.
fn write_scene(dir: &Path) -> PathBuf {
    let text = stipple::scene::DEFAULT_SCENE_TOML
        .replace("[render]\n", "[render]\npigment_map_size = 256\n")
        + "\n[[plan.sessions]]\nshare = 0.5\n\n[[plan.sessions]]\nshare = 0.5\n\n[ageing]\nyears = [5]\n";
    let path = dir.join("client.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn share_page(dir: &Path, scene: &Path) -> PathBuf {
    let out = stipple()
        .arg("share")
        .arg(scene)
        .arg("--out")
        .arg(dir.join("page"))
        .args([
            "--frames",
            "8",
            "--light-frames",
            "2",
            "--stage-frames",
            "1",
        ])
        .args(["--size", "240x300", "--supersample", "1"])
        .args(["--presets", "sun-low"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(" MB,"),
        "the page's size is printed: {stdout}"
    );
    dir.join("page").join("index.html")
}

#[test]
fn share_page_is_one_offline_file() {
    let dir = temp_dir("share-file");
    let scene = write_scene(&dir);
    let page = share_page(&dir, &scene);
    let files: Vec<_> = std::fs::read_dir(page.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["index.html"], "one file, nothing beside it");
    let html = std::fs::read_to_string(&page).unwrap();
    // 8 angles before and after, sun-low at 2 angles before and after, session 1 and year 5
    // at 1 angle (after): 16 + 4 + 2.
    assert_eq!(html.matches("data:image/jpeg;base64,").count(), 22);
    for remote in ["http:", "https:", "src=\"//", "@import"] {
        assert!(!html.contains(remote), "{remote} in the page");
    }
    assert!(html.contains(stipple::output::png::DISCLAIMER_TEXT));
}

#[test]
fn bad_share_options_are_named() {
    for (args, want) in [
        (&["--frames", "2"][..], "--frames"),
        (&["--size", "10x10"][..], "--size"),
        (&["--quality", "100"][..], "--quality"),
        (&["--presets", "moonlight"][..], "--presets"),
    ] {
        let dir = temp_dir("share-bad");
        let scene = write_scene(&dir);
        let out = stipple()
            .arg("share")
            .arg(&scene)
            .arg("--out")
            .arg(dir.join("page"))
            .args(args)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!dir.join("page").join("index.html").exists());
    }
}

#[cfg(unix)]
mod browser {
    use super::*;
    use base64::Engine as _;
    use serde_json::{Value, json};
    use std::io::{BufRead, BufReader, Write};
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;
    use std::process::{Child, Command, Stdio};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    /// Long enough for a slow CI machine; the test itself takes a few seconds.
    const BROWSER_TIMEOUT: Duration = Duration::from_secs(120);

    fn chromium() -> PathBuf {
        if let Some(p) = std::env::var_os("STIPPLE_CHROMIUM") {
            return PathBuf::from(p);
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        for name in [
            "chromium",
            "chromium-browser",
            "google-chrome",
            "google-chrome-stable",
        ] {
            for dir in std::env::split_paths(&path) {
                let p = dir.join(name);
                if p.is_file() {
                    return p;
                }
            }
        }
        panic!(
            "this test needs Chromium (Debian's `chromium`): run scripts/setup.sh, or set \
             STIPPLE_CHROMIUM to a Chromium or Chrome binary"
        );
    }

    /// A pipe whose ends close on exec: other tests' children must not hold them (the
    /// browser's copies are made in `pre_exec`).
    fn pipe() -> (OwnedFd, OwnedFd) {
        let mut fds = [0; 2];
        // SAFETY: `fds` has room for the two descriptors pipe() writes; fcntl on them only.
        let r = unsafe { libc::pipe(fds.as_mut_ptr()) };
        assert_eq!(r, 0, "pipe: {}", std::io::Error::last_os_error());
        for fd in fds {
            // SAFETY: as above.
            unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        }
        // SAFETY: both are fresh descriptors owned by nothing else.
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) }
    }

    /// Headless Chromium and its DevTools session on one page.
    struct Browser {
        child: Child,
        to: std::fs::File,
        from: BufReader<std::fs::File>,
        next_id: u64,
        session: Option<String>,
        events: Vec<Value>,
        done: Arc<AtomicBool>,
        _profile: PathBuf,
    }

    impl Browser {
        fn launch(profile: &Path) -> Browser {
            let (child_in, to) = pipe(); // we write, the child reads on fd 3
            let (from, child_out) = pipe(); // the child writes on fd 4, we read
            let (cin, cout) = (
                std::os::fd::AsRawFd::as_raw_fd(&child_in),
                std::os::fd::AsRawFd::as_raw_fd(&child_out),
            );
            let mut cmd = Command::new(chromium());
            cmd.args([
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-pipe",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--mute-audio",
                "--hide-scrollbars",
                "--window-size=420,900",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
            // SAFETY: only async-signal-safe calls (fcntl, dup2) between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    // Move both ends clear of 3 and 4 first, then into place (dup2 clears
                    // close-on-exec on the copies).
                    let a = libc::fcntl(cin, libc::F_DUPFD, 10);
                    let b = libc::fcntl(cout, libc::F_DUPFD, 10);
                    if a < 0 || b < 0 || libc::dup2(a, 3) < 0 || libc::dup2(b, 4) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(a);
                    libc::close(b);
                    Ok(())
                });
            }
            let child = cmd.spawn().expect("start chromium");
            drop((child_in, child_out));
            // A hung browser must fail the test, not hang it: kill it after the timeout.
            let done = Arc::new(AtomicBool::new(false));
            let (flag, pid) = (done.clone(), child.id() as libc::pid_t);
            std::thread::spawn(move || {
                std::thread::sleep(BROWSER_TIMEOUT);
                if !flag.load(Ordering::SeqCst) {
                    // SAFETY: our child, not yet reaped (`done` is set before the wait).
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
            });
            Browser {
                child,
                to: std::fs::File::from(to),
                from: BufReader::new(std::fs::File::from(from)),
                next_id: 1,
                session: None,
                events: Vec::new(),
                done,
                _profile: profile.to_path_buf(),
            }
        }

        fn read(&mut self) -> Value {
            let mut buf = Vec::new();
            let n = self
                .from
                .read_until(0, &mut buf)
                .expect("read from chromium");
            assert!(
                n > 0,
                "chromium closed the DevTools pipe (crashed or timed out)"
            );
            buf.pop();
            serde_json::from_slice(&buf).expect("DevTools JSON")
        }

        /// Sends a command (to the page's session once attached) and waits for its answer,
        /// keeping the events that come meanwhile.
        fn call(&mut self, method: &str, params: Value) -> Value {
            let id = self.next_id;
            self.next_id += 1;
            let mut msg = json!({"id": id, "method": method, "params": params});
            if let Some(s) = &self.session {
                msg["sessionId"] = json!(s);
            }
            let mut bytes = serde_json::to_vec(&msg).unwrap();
            bytes.push(0);
            self.to.write_all(&bytes).expect("write to chromium");
            loop {
                let m = self.read();
                if m["id"] == json!(id) {
                    if let Some(e) = m.get("error") {
                        panic!("{method}: {e}");
                    }
                    return m["result"].clone();
                }
                self.events.push(m);
            }
        }

        fn wait_event(&mut self, method: &str) -> Value {
            if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
                return self.events.remove(i);
            }
            loop {
                let m = self.read();
                if m["method"] == method {
                    return m;
                }
                self.events.push(m);
            }
        }

        /// Attaches to the page Chromium opened with (about:blank).
        fn attach(&mut self) {
            let targets = self.call("Target.getTargets", json!({}));
            let page = targets["targetInfos"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["type"] == "page")
                .expect("a page target")["targetId"]
                .clone();
            let r = self.call(
                "Target.attachToTarget",
                json!({"targetId": page, "flatten": true}),
            );
            self.session = Some(r["sessionId"].as_str().unwrap().to_string());
        }

        fn eval(&mut self, expression: &str) -> Value {
            let r = self.call(
                "Runtime.evaluate",
                json!({"expression": expression, "awaitPromise": true, "returnByValue": true}),
            );
            assert!(
                r.get("exceptionDetails").is_none(),
                "{expression}: {}",
                r["exceptionDetails"]
            );
            r["result"]["value"].clone()
        }

        /// Waits until every picture is decoded and two frames have been drawn.
        fn settle(&mut self) {
            self.eval(
                "Promise.all([...document.images].map(i => i.decode().catch(() => null)))\
                 .then(() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))))\
                 .then(() => true)",
            );
        }

        fn screenshot(&mut self, save: &Path) -> RgbaImage {
            self.settle();
            let r = self.call("Page.captureScreenshot", json!({"format": "png"}));
            let png = base64::engine::general_purpose::STANDARD
                .decode(r["data"].as_str().unwrap())
                .unwrap();
            std::fs::write(save, &png).unwrap();
            image::load_from_memory(&png).unwrap().to_rgba8()
        }

        fn mouse_drag(&mut self, from: (f64, f64), to: (f64, f64)) {
            let ev = |kind: &str, (x, y): (f64, f64), buttons: u32| json!({"type": kind, "x": x, "y": y, "button": "left", "buttons": buttons, "clickCount": 1});
            self.call("Input.dispatchMouseEvent", ev("mouseMoved", from, 0));
            self.call("Input.dispatchMouseEvent", ev("mousePressed", from, 1));
            for k in 1..=8 {
                let t = k as f64 / 8.0;
                let p = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
                self.call("Input.dispatchMouseEvent", ev("mouseMoved", p, 1));
            }
            self.call("Input.dispatchMouseEvent", ev("mouseReleased", to, 0));
        }

        fn touch_drag(&mut self, from: (f64, f64), to: (f64, f64)) {
            let point = |(x, y): (f64, f64)| json!([{"x": x, "y": y, "id": 1}]);
            self.call(
                "Input.dispatchTouchEvent",
                json!({"type": "touchStart", "touchPoints": point(from)}),
            );
            for k in 1..=8 {
                let t = k as f64 / 8.0;
                let p = (from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t);
                self.call(
                    "Input.dispatchTouchEvent",
                    json!({"type": "touchMove", "touchPoints": point(p)}),
                );
            }
            self.call(
                "Input.dispatchTouchEvent",
                json!({"type": "touchEnd", "touchPoints": []}),
            );
        }

        fn click(&mut self, at: (f64, f64)) {
            let ev = |kind: &str, buttons: u32| json!({"type": kind, "x": at.0, "y": at.1, "button": "left", "buttons": buttons, "clickCount": 1});
            self.call("Input.dispatchMouseEvent", ev("mousePressed", 1));
            self.call("Input.dispatchMouseEvent", ev("mouseReleased", 0));
        }
    }

    impl Drop for Browser {
        fn drop(&mut self) {
            self.done.store(true, Ordering::SeqCst);
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// The stage's box in the screenshot: (left, top, width, height), CSS px = pixels here.
    fn rect(b: &mut Browser, expr: &str) -> (f64, f64, f64, f64) {
        let r = b.eval(&format!(
            "(() => {{ const r = {expr}.getBoundingClientRect(); return [r.left, r.top, r.width, r.height]; }})()"
        ));
        let v: Vec<f64> = r
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        (v[0], v[1], v[2], v[3])
    }

    /// Fraction of the pixels of columns `x0..x1` (rows `y0..y1`) that differ between `a`
    /// and `b` by more than a JPEG's rounding.
    fn changed(a: &RgbaImage, b: &RgbaImage, (x0, x1): (u32, u32), (y0, y1): (u32, u32)) -> f64 {
        let mut n = 0;
        let mut total = 0;
        for y in y0..y1 {
            for x in x0..x1 {
                let (p, q) = (a.get_pixel(x, y), b.get_pixel(x, y));
                let d = (0..3).map(|c| p[c].abs_diff(q[c]) as u32).max().unwrap();
                // 6 codes: healed SMP is a faint stipple (the calibrated optics: about a
                // stubble's dE00 2 from bare skin at 1 m), so before and after differ by less
                // than 12 codes over most of the treated scalp; identical frames differ by 0.
                n += u32::from(d > 6);
                total += 1;
            }
        }
        n as f64 / total.max(1) as f64
    }

    /// Columns of the stage, as fractions of its width, in screenshot pixels.
    fn cols(stage: (f64, f64, f64, f64), f0: f64, f1: f64) -> (u32, u32) {
        (
            (stage.0 + stage.2 * f0).round() as u32,
            (stage.0 + stage.2 * f1).round() as u32,
        )
    }

    #[test]
    fn share_page_works_in_headless_chromium() {
        let dir = temp_dir("share-browser");
        let scene = write_scene(&dir);
        let page = share_page(&dir, &scene);
        let shots = dir.join("shots");
        std::fs::create_dir_all(&shots).unwrap();
        let profile = dir.join("profile");
        let mut b = Browser::launch(&profile);
        b.attach();
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 420, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        );
        b.call(
            "Emulation.setTouchEmulationEnabled",
            json!({"enabled": true, "maxTouchPoints": 5}),
        );
        b.call("Network.enable", json!({}));
        b.call("Page.enable", json!({}));
        b.call("Runtime.enable", json!({}));
        let url = format!("file://{}", page.canonicalize().unwrap().display());
        b.call("Page.navigate", json!({"url": url}));
        b.wait_event("Page.loadEventFired");

        let stage = rect(&mut b, "document.getElementById('stage')");
        let (y0, y1) = (
            stage.1.round() as u32 + 30, // below the Before/After tags
            (stage.1 + stage.3).round() as u32 - 1,
        );
        let mid_y = stage.1 + stage.3 * 0.5;
        let at = |f: f64, y: f64| (stage.0 + stage.2 * f, y);
        let a = b.screenshot(&shots.join("1-loaded.png"));
        assert!(
            stage.2 > 200.0 && stage.3 > 250.0,
            "the stage is shown: {stage:?}"
        );
        assert_eq!(
            b.eval("document.getElementById('stage').dataset.angle"),
            "0"
        );

        // The split, by mouse: from the middle to a quarter. The columns it crossed now show
        // the after; those left of it, and right of where it was, still show what they did.
        b.mouse_drag(at(0.5, mid_y), at(0.25, mid_y));
        let split = b.screenshot(&shots.join("2-split-mouse.png"));
        let crossed = changed(&a, &split, cols(stage, 0.32, 0.43), (y0, y1));
        let left = changed(&a, &split, cols(stage, 0.0, 0.18), (y0, y1));
        let right = changed(&a, &split, cols(stage, 0.57, 1.0), (y0, y1));
        eprintln!("split by mouse: crossed {crossed:.3}, left {left:.4}, right {right:.4}");
        assert!(
            crossed > 0.02,
            "the columns the split crossed changed: {crossed}"
        );
        assert!(
            left < 0.002 && right < 0.002,
            "nothing else changed: {left} {right}"
        );
        assert_eq!(
            b.eval("document.getElementById('handle').getAttribute('aria-valuenow')"),
            "25"
        );

        // The split, by touch: back past the middle to three quarters.
        b.touch_drag(at(0.25, mid_y), at(0.75, mid_y));
        let touched = b.screenshot(&shots.join("3-split-touch.png"));
        let crossed = changed(&split, &touched, cols(stage, 0.55, 0.68), (y0, y1));
        let left = changed(&split, &touched, cols(stage, 0.0, 0.18), (y0, y1));
        eprintln!("split by touch: crossed {crossed:.3}, left {left:.4}");
        assert!(crossed > 0.02, "the touch moved the split: {crossed}");
        assert!(left < 0.002, "left of the split unchanged: {left}");

        // The head, by mouse and by touch: a drag away from the handle turns it.
        b.mouse_drag(at(0.45, mid_y), at(0.15, mid_y));
        let turned = b.screenshot(&shots.join("4-turned-mouse.png"));
        let angle = b.eval("document.getElementById('stage').dataset.angle");
        let whole = changed(&touched, &turned, cols(stage, 0.0, 1.0), (y0, y1));
        eprintln!("turned by mouse to {angle}: {whole:.3} of the stage changed");
        assert_ne!(angle, "0", "the drag turned the head");
        assert!(whole > 0.05, "the head turned: {whole}");
        b.touch_drag(at(0.4, mid_y), at(0.1, mid_y));
        let turned2 = b.screenshot(&shots.join("5-turned-touch.png"));
        let angle2 = b.eval("document.getElementById('stage').dataset.angle");
        let whole = changed(&turned, &turned2, cols(stage, 0.0, 1.0), (y0, y1));
        eprintln!("turned by touch to {angle2}: {whole:.3} of the stage changed");
        assert_ne!(angle2, angle, "the touch turned the head");
        assert!(whole > 0.05, "the head turned by touch: {whole}");

        // The light: the sun-low button.
        let button = rect(
            &mut b,
            "document.querySelector('#lights button:nth-child(2)')",
        );
        b.click((button.0 + button.2 / 2.0, button.1 + button.3 / 2.0));
        let lit = b.screenshot(&shots.join("6-light.png"));
        assert_eq!(
            b.eval("document.getElementById('stage').dataset.set"),
            "sun-low"
        );
        let whole = changed(&turned2, &lit, cols(stage, 0.0, 1.0), (y0, y1));
        eprintln!("light switched: {whole:.3} of the stage changed");
        assert!(whole > 0.05, "the light changed the picture: {whole}");

        // Sessions and years are offered; the figures and the disclaimer are on the page.
        let stages = b.eval(
            "[...document.querySelectorAll('#stages button')].map(b => b.textContent).join('|')",
        );
        assert_eq!(stages, "session 2 (healed)|session 1|5 years on");
        let text = b
            .eval("document.body.innerText")
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            text.contains(stipple::output::png::DISCLAIMER_TEXT),
            "{text}"
        );
        assert!(
            text.contains("Treated area") && text.contains("Needle hours"),
            "{text}"
        );
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({"width": 420, "height": 1600, "deviceScaleFactor": 1, "mobile": false}),
        );
        b.screenshot(&shots.join("7-whole-page.png"));

        // Nothing but the page itself and its data: images was requested, and no script failed.
        let mut urls = Vec::new();
        for e in &b.events {
            if e["method"] == "Network.requestWillBeSent" {
                urls.push(
                    e["params"]["request"]["url"]
                        .as_str()
                        .unwrap_or("")
                        .to_string(),
                );
            }
            assert_ne!(e["method"], "Runtime.exceptionThrown", "script error: {e}");
        }
        assert!(
            urls.iter().any(|u| u.starts_with("file:")),
            "the page's own request: {urls:?}"
        );
        for u in &urls {
            assert!(
                u.starts_with("file:") || u.starts_with("data:"),
                "the page made a network request: {u}"
            );
        }
        eprintln!(
            "{} requests, all file: or data:; screenshots in {}",
            urls.len(),
            shots.display()
        );
    }
}
