//! `stipple view` under a virtual X server (Xvfb) on Mesa's software drivers: the window opens,
//! real X input events (xdotool; scripted input through the viewer's own handlers where xdotool
//! is missing) turn the lighting and drag the before/after split, and the viewer's screenshots
//! must show the head, the split where it was dragged, and a change of light. Skips only when
//! Xvfb is not installed (`scripts/setup.sh` installs it).

mod common;

use common::{stipple, temp_dir};
use image::RgbaImage;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const W: u32 = 400;
const H: u32 = 300;

fn installed(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// A process killed when the test ends, passed or not.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts Xvfb on the first free display from :90, its framebuffer mapped to a file in
/// `fb_dir`; returns it and its display name.
/// One virtual X server at a time in this test binary: two tests racing for displays and
/// input focus would drive each other's windows.
static XVFB: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn start_xvfb(fb_dir: &Path) -> (Killed, String) {
    for n in 90..140 {
        if Path::new(&format!("/tmp/.X{n}-lock")).exists()
            || Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
        {
            continue;
        }
        let mut child = Killed(
            Command::new("Xvfb")
                .args([
                    &format!(":{n}"),
                    "-screen",
                    "0",
                    "640x480x24",
                    "-nolisten",
                    "tcp",
                ])
                .arg("-fbdir")
                .arg(fb_dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb starts"),
        );
        let socket = format!("/tmp/.X11-unix/X{n}");
        let t = Instant::now();
        while t.elapsed() < Duration::from_secs(10) {
            // The socket may be another server's that won the race for this display: only
            // take it while our own server is still running.
            if Path::new(&socket).exists() && matches!(child.0.try_wait(), Ok(None)) {
                std::thread::sleep(Duration::from_millis(100));
                if matches!(child.0.try_wait(), Ok(None)) {
                    return (child, format!(":{n}"));
                }
            }
            if let Ok(Some(_)) = child.0.try_wait() {
                break; // lost a race for this display: try the next
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("could not start Xvfb on any display :90-:139");
}

/// The scene: the built-in one, sparser and with a small pigment map, so it starts fast.
fn write_scene(dir: &Path) -> PathBuf {
    let text = stipple::scene::DEFAULT_SCENE_TOML
        .replace("density_per_cm2 = 100", "density_per_cm2 = 20")
        .replace("[render]\n", "[render]\npigment_map_size = 256\n");
    let path = dir.join("client.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The viewer's stdout and stderr lines, as they come.
fn lines_of(child: &mut Child) -> Receiver<String> {
    let (tx, rx) = channel();
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx2.send(format!("stderr: {line}"));
        }
    });
    rx
}

/// Waits for a line starting with `prefix`; returns the rest of it.
fn wait_for(rx: &Receiver<String>, prefix: &str, seen: &mut Vec<String>) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok(line) => {
                seen.push(line.clone());
                if let Some(rest) = line.strip_prefix(prefix) {
                    return rest.trim().to_string();
                }
            }
            Err(_) => break,
        }
    }
    panic!(
        "the viewer never said {prefix:?}; it said:\n{}",
        seen.join("\n")
    );
}

/// Sends real X input with xdotool.
struct Xdo {
    display: String,
    window: String,
}

impl Xdo {
    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("xdotool")
            .args(args)
            .env("DISPLAY", &self.display)
            .output()
            .expect("xdotool runs");
        assert!(out.status.success(), "xdotool {args:?}: {:?}", out);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn find(display: &str) -> Xdo {
        let mut x = Xdo {
            display: display.into(),
            window: String::new(),
        };
        let ids = x.run(&["search", "--sync", "--name", "^Stipple: "]);
        x.window = ids.lines().next().expect("the viewer's window").to_string();
        // No window manager under Xvfb: give the window the keyboard ourselves.
        x.run(&["windowfocus", "--sync", &x.window]);
        x
    }

    fn mouse(&self, x: u32, y: u32) {
        let (x, y) = (x.to_string(), y.to_string());
        self.run(&["mousemove", "--window", &self.window, &x, &y]);
    }

    fn drag(&self, from: (u32, u32), to: (u32, u32)) {
        self.mouse(from.0, from.1);
        self.run(&["mousedown", "1"]);
        for i in 1..=6 {
            let t = i as f32 / 6.0;
            let x = from.0 as f32 + (to.0 as f32 - from.0 as f32) * t;
            let y = from.1 as f32 + (to.1 as f32 - from.1 as f32) * t;
            self.mouse(x as u32, y as u32);
            std::thread::sleep(Duration::from_millis(30));
        }
        self.run(&["mouseup", "1"]);
    }

    fn key(&self, key: &str) {
        self.run(&["key", key]);
    }
}

/// What the X server shows now, from Xvfb's framebuffer file (XWD format: a big-endian
/// header, a colour map, then the pixels), cropped to `w` x `h` at the top-left corner, where
/// the window opens on a server without a window manager.
fn screen(fb_dir: &Path, w: u32, h: u32) -> RgbaImage {
    let data = std::fs::read(fb_dir.join("Xvfb_screen0")).expect("Xvfb's framebuffer file");
    let field = |i: usize| u32::from_be_bytes(data[i * 4..i * 4 + 4].try_into().unwrap());
    let (header, bits_per_pixel, bytes_per_line) = (field(0), field(11), field(12));
    let (masks, ncolors, lsb_first) = ([field(14), field(15), field(16)], field(19), field(7) == 0);
    assert_eq!(bits_per_pixel, 32, "a 24-bit screen stores 32 bits a pixel");
    let start = header as usize + ncolors as usize * 12;
    RgbaImage::from_fn(w, h, |x, y| {
        let i = start + y as usize * bytes_per_line as usize + x as usize * 4;
        let bytes: [u8; 4] = data[i..i + 4].try_into().unwrap();
        let v = if lsb_first {
            u32::from_le_bytes(bytes)
        } else {
            u32::from_be_bytes(bytes)
        };
        let c = |m: u32| ((v & m) >> m.trailing_zeros()) as u8;
        image::Rgba([c(masks[0]), c(masks[1]), c(masks[2]), 255])
    })
}

/// The column of the split line: the one whose pixels are white over most of the height.
fn split_column(img: &RgbaImage) -> Option<u32> {
    let (w, h) = img.dimensions();
    let rows = (h / 8)..(h * 7 / 8);
    let white_rows = |x: u32| {
        rows.clone()
            .filter(|&y| img.get_pixel(x, y).0[..3].iter().all(|&c| c >= 235))
            .count()
    };
    let best = (0..w).max_by_key(|&x| white_rows(x))?;
    (white_rows(best) as f32 >= 0.8 * rows.len() as f32).then_some(best)
}

fn assert_head_visible(img: &RgbaImage, what: &str) {
    // The forehead, left of the middle, is skin: warm (red over green over blue) and lit.
    let (xs, ys) = ((W * 35 / 100)..(W / 2), (H * 28 / 100)..(H * 36 / 100));
    let total = xs.len() * ys.len();
    let mut skin = 0;
    for y in ys {
        for x in xs.clone() {
            let [r, g, b, _] = img.get_pixel(x, y).0;
            if r > 110 && r > g + 10 && g > b {
                skin += 1;
            }
        }
    }
    assert!(
        skin * 10 > total * 7,
        "{what}: no skin on the forehead ({skin} of {total} pixels)"
    );
    // The top corners are the grey backdrop.
    for (x, y) in [(3, 3), (W - 4, 3)] {
        let [r, g, b, _] = img.get_pixel(x, y).0;
        let grey = r.abs_diff(g) < 14 && g.abs_diff(b) < 14 && r > 20 && r < 200;
        assert!(
            grey,
            "{what}: corner ({x}, {y}) is not backdrop grey: {r} {g} {b}"
        );
    }
}

fn mean_difference(a: &RgbaImage, b: &RgbaImage) -> f64 {
    // Inside the head, left of the split line and above the status line.
    let mut sum = 0u64;
    let mut n = 0u64;
    for y in 40..(H - 40) {
        for x in 120..(W / 2 - 10) {
            let (p, q) = (a.get_pixel(x, y).0, b.get_pixel(x, y).0);
            sum += (0..3).map(|c| p[c].abs_diff(q[c]) as u64).sum::<u64>();
            n += 3;
        }
    }
    sum as f64 / n as f64
}

#[test]
fn viewer_under_xvfb_shows_the_head_and_moves_the_split() {
    if !installed("Xvfb") {
        println!(
            "SKIPPED: Xvfb is not installed (scripts/setup.sh installs it); the viewer was not tested"
        );
        return;
    }
    let _one_at_a_time = XVFB.lock().unwrap_or_else(|e| e.into_inner());
    let real_input = installed("xdotool");
    if !real_input {
        println!("xdotool is not installed: driving the viewer with scripted input (--exec)");
    }
    let dir = temp_dir("viewer");
    let scene = write_scene(&dir);
    let fb_dir = dir.join("fb");
    std::fs::create_dir_all(&fb_dir).unwrap();
    let (_xvfb, display) = start_xvfb(&fb_dir);
    let runtime = dir.join("xdg");
    std::fs::create_dir_all(&runtime).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let shots = |n: u32| dir.join(format!("shot-{n}.png"));
    let mut cmd = stipple();
    cmd.arg("view")
        .arg(&scene)
        .args(["--size", &format!("{W}x{H}"), "--screenshot-dir"])
        .arg(&dir)
        .env("DISPLAY", &display)
        .env("XDG_RUNTIME_DIR", &runtime)
        .env_remove("WAYLAND_DISPLAY")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !real_input {
        let p = |n| shots(n).display().to_string();
        cmd.arg("--exec").arg(format!(
            "screenshot {}; drag 0.5 0.5 0.75 0.5; screenshot {}; key l; screenshot {}; quit",
            p(1),
            p(2),
            p(3)
        ));
    }
    let mut viewer = Killed(cmd.spawn().expect("stipple view starts"));
    let rx = lines_of(&mut viewer.0);
    let mut seen = Vec::new();
    wait_for(&rx, "ready:", &mut seen);
    let screenshot = |xdo: Option<&Xdo>, seen: &mut Vec<String>| -> RgbaImage {
        if let Some(x) = xdo {
            x.key("p");
        }
        let path = wait_for(&rx, "screenshot:", seen);
        image::open(&path).expect("a screenshot PNG").to_rgba8()
    };
    let xdo = real_input.then(|| Xdo::find(&display));
    if let Some(x) = &xdo {
        x.mouse(W / 2, H / 2);
    }
    let first = screenshot(xdo.as_ref(), &mut seen);
    assert_eq!(first.dimensions(), (W, H));
    assert_head_visible(&first, "first screenshot");
    let split0 = split_column(&first).expect("a split line in the first screenshot");
    assert!(
        split0.abs_diff(W / 2) <= 2,
        "the split starts mid-way, at {split0}"
    );

    // Drag the split line three quarters across.
    if let Some(x) = &xdo {
        x.drag((W / 2, H / 2), (W * 3 / 4, H / 2));
    }
    let dragged = screenshot(xdo.as_ref(), &mut seen);
    assert_head_visible(&dragged, "after the drag");
    let split1 = split_column(&dragged).expect("a split line after the drag");
    assert!(
        split1.abs_diff(W * 3 / 4) <= 4,
        "the split line should follow the drag to x={}, it is at {split1} (was {split0})",
        W * 3 / 4
    );

    // The next lighting preset changes the picture; the split stays.
    if let Some(x) = &xdo {
        x.key("l");
    }
    let relit = screenshot(xdo.as_ref(), &mut seen);
    assert_head_visible(&relit, "under the next lighting preset");
    let diff = mean_difference(&dragged, &relit);
    assert!(
        diff > 4.0,
        "switching the lighting changed the head by only {diff:.2} levels"
    );
    assert_eq!(split_column(&relit), Some(split1));

    // The window itself shows what the screenshot shows: the frames reach the screen.
    let t = Instant::now();
    let on_screen = loop {
        let s = screen(&fb_dir, W, H);
        if mean_difference(&s, &relit) < 2.0 || t.elapsed() > Duration::from_secs(10) {
            break s;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let _ = on_screen.save(dir.join("screen.png"));
    let diff = mean_difference(&on_screen, &relit);
    assert!(
        diff < 2.0,
        "the window differs from the screenshot by {diff:.2} levels"
    );
    assert_eq!(
        split_column(&on_screen),
        Some(split1),
        "the split on screen"
    );

    if let Some(x) = &xdo {
        // A broken edit of the scene file keeps the last good scene and says why.
        std::fs::write(&scene, "[plan]\ndensity_per_cm2 = \"lots\"\n").unwrap();
        let msg = wait_for(&rx, "stderr: reload failed", &mut seen);
        assert!(
            msg.contains("client.toml"),
            "the reload error names the file: {msg}"
        );
        let after_error = screenshot(Some(x), &mut seen);
        assert_head_visible(&after_error, "after a failed reload");
        x.key("q");
    }
    let t = Instant::now();
    loop {
        if let Some(status) = viewer.0.try_wait().unwrap() {
            assert!(
                status.success(),
                "the viewer exited with {status}: {}",
                seen.join("\n")
            );
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the viewer did not quit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn without_a_display_the_viewer_points_to_stipple_render() {
    let dir = temp_dir("viewer-no-display");
    let scene = write_scene(&dir);
    let out = stipple()
        .arg("view")
        .arg(&scene)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stipple render"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_missing_scene_is_named() {
    let out = stipple()
        .args(["view", "no-such-scene.toml"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-scene.toml"), "{err}");
}

/// Mean luminance (0-255) of the image's right half (the "after" side of the split), where
/// the scalp is in view.
fn after_side_mean(img: &RgbaImage) -> f64 {
    let (w, h) = img.dimensions();
    let mut sum = 0.0;
    let mut n = 0.0;
    for y in h / 8..h / 2 {
        for x in w / 2 + 4..w {
            let p = img.get_pixel(x, y);
            sum += 0.2126 * p[0] as f64 + 0.7152 * p[1] as f64 + 0.0722 * p[2] as f64;
            n += 1.0;
        }
    }
    sum / n
}

#[test]
fn session_and_ageing_keys_show_lighter_states() {
    if !installed("Xvfb") {
        println!(
            "SKIPPED: Xvfb is not installed (scripts/setup.sh installs it); the viewer was not tested"
        );
        return;
    }
    let _one_at_a_time = XVFB.lock().unwrap_or_else(|e| e.into_inner());
    let dir = temp_dir("viewer-states");
    // Three sessions on the built-in scene, dense enough to read from a metre.
    let text = stipple::scene::DEFAULT_SCENE_TOML
        .replace("[render]\n", "[render]\npigment_map_size = 256\n")
        .replace(
            "[render]\n",
            "[[plan.sessions]]\nshare = 0.3\n\n[[plan.sessions]]\nshare = 0.3\n\n\
             [[plan.sessions]]\nshare = 0.4\n\n[render]\n",
        );
    let scene = dir.join("client.toml");
    std::fs::write(&scene, text).unwrap();
    let fb_dir = dir.join("fb");
    std::fs::create_dir_all(&fb_dir).unwrap();
    let (_xvfb, display) = start_xvfb(&fb_dir);
    let shot = |name: &str| dir.join(format!("{name}.png"));
    let p = |name: &str| shot(name).display().to_string();
    // Top view: the treated scalp fills the after side. S steps to session 1 (from the last,
    // 3); A four times steps to 10 years of ageing (0, 1, 3, 5, 10).
    let script = format!(
        "key 5; screenshot {}; key s; screenshot {}; key s; key s; key a; key a; key a; key a; \
         screenshot {}; quit",
        p("final"),
        p("session1"),
        p("aged")
    );
    let out = stipple()
        .arg("view")
        .arg(&scene)
        .args(["--size", &format!("{W}x{H}"), "--exec", &script])
        .env("DISPLAY", &display)
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .expect("stipple view runs");
    let log =
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "viewer failed:\n{log}");
    let load = |name: &str| image::open(shot(name)).expect("screenshot").to_rgba8();
    let (final_state, session1, aged) = (load("final"), load("session1"), load("aged"));
    let (m_final, m_s1, m_aged) = (
        after_side_mean(&final_state),
        after_side_mean(&session1),
        after_side_mean(&aged),
    );
    println!(
        "after side luminance: all sessions {m_final:.2}, session 1 {m_s1:.2}, 10 years {m_aged:.2}"
    );
    // Session 1 holds 30% of the dots: clearly lighter than the finished treatment.
    assert!(
        m_s1 > m_final + 1.0,
        "session 1 is not lighter: {m_s1:.2} vs {m_final:.2}\n{log}"
    );
    // Ten years on, pigment has faded (the model fades concentration; the treated scalp's
    // darkening saturates, so by a few levels at this distance): lighter than healed, not as
    // light as session 1 alone. An ignored key gives exactly no change.
    assert!(
        m_aged > m_final + 0.3,
        "10 years on is not lighter: {m_aged:.2} vs {m_final:.2}\n{log}"
    );
    assert!(
        m_aged < m_s1,
        "10 years of fading lighter than session 1 alone: {m_aged:.2} vs {m_s1:.2}"
    );
}
