//! Every input gets a clear answer, and nothing is left behind: command-line values checked
//! like scene values, input files read with a size limit, errors worded once and briefly,
//! temporary files removed when the process is interrupted or killed, nothing on stderr that
//! reads as an error when a run succeeds.

mod common;

use common::{stipple, temp_dir};
use std::path::Path;
use std::process::Output;

const SMALL_SCENE: &str = "[client]\nskin = \"#c68e6b\"\n[render]\nwidth = 64\nheight = 64\nsupersample = 1\nviews = [\"front\"]\noutputs = [\"after\"]\npigment_map_size = 64\n";

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn small_scene(dir: &Path) -> std::path::PathBuf {
    let scene = dir.join("small.toml");
    std::fs::write(&scene, SMALL_SCENE).unwrap();
    scene
}

/// Fails with exit status 1 or 2, no panic, and stderr containing every one of `needles`.
fn assert_refused(o: &Output, needles: &[&str]) {
    let err = stderr(o);
    assert!(
        matches!(o.status.code(), Some(1) | Some(2)),
        "expected a refusal, got {:?}: {err}",
        o.status
    );
    assert!(!err.contains("panicked"), "{err}");
    for n in needles {
        assert!(err.contains(n), "expected {n:?} in: {err}");
    }
}

#[test]
fn command_line_values_are_checked_like_scene_values() {
    let dir = temp_dir("robust-cli-values");
    let scene = small_scene(&dir);
    let out = dir.join("out");
    let run = |args: &[&str]| -> Output {
        let mut c = stipple();
        c.args(&args[..1]).arg(&scene);
        c.args(&args[1..]).output().unwrap()
    };
    let out_s = out.to_str().unwrap();
    let sheet_png = dir.join("sheet.png");
    let sheet = sheet_png.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["turntable", "--out", out_s, "--fps", "NaN"],
            &["--fps", "0.1 to 100"],
        ),
        (
            &["turntable", "--out", out_s, "--fps", "0"],
            &["--fps", "0.1 to 100"],
        ),
        (
            &["turntable", "--out", out_s, "--fps=-5"],
            &["--fps", "0.1 to 100"],
        ),
        (
            &["turntable", "--out", out_s, "--frames", "0"],
            &["--frames", "1..=3600"],
        ),
        (
            &["turntable", "--out", out_s, "--frames", "4294967295"],
            &["--frames", "1..=3600"],
        ),
        (
            &["sheet", "--out", sheet, "--supersample", "0"],
            &["--supersample", "1..=4"],
        ),
        (
            &["sheet", "--out", sheet, "--supersample", "99"],
            &["--supersample", "1..=4"],
        ),
        (
            &["sheet", "--out", sheet, "--tile", "0"],
            &["--tile", "16..=4096"],
        ),
        (
            &["sheet", "--out", sheet, "--tile", "100000"],
            &["--tile", "16..=4096"],
        ),
        (
            &["sheet", "--out", sheet, "--columns", "0"],
            &["--columns", "1..=64"],
        ),
        (
            &["render", "--out", out_s, "--session", "9"],
            &["--session", "1..=4"],
        ),
    ];
    for (args, needles) in cases {
        let o = run(args);
        assert_refused(&o, needles);
        assert!(!out.join("turntable.png").exists() && !sheet_png.exists());
    }
}

#[test]
fn output_names_that_do_not_match_the_format_are_errors() {
    let dir = temp_dir("robust-extension");
    let scene = small_scene(&dir);
    let o = stipple()
        .arg("sheet")
        .arg(&scene)
        .arg("--out")
        .arg(dir.join("x.jpg"))
        .output()
        .unwrap();
    assert_refused(&o, &["--out", ".png"]);
    assert!(!dir.join("x.jpg").exists());
    let o = stipple()
        .args(["head", "--out"])
        .arg(dir.join("head.png"))
        .output()
        .unwrap();
    assert_refused(&o, &["--out", ".obj"]);
}

#[test]
fn output_folders_are_checked_before_rendering() {
    let dir = temp_dir("robust-out-folder");
    let scene = small_scene(&dir);
    // A file where a folder should be: said in words, not "File exists (os error 17)".
    let file = dir.join("a-file");
    std::fs::write(&file, "x").unwrap();
    let o = stipple()
        .arg("render")
        .arg(&scene)
        .arg("--out")
        .arg(&file)
        .output()
        .unwrap();
    assert_refused(&o, &["--out", "is a file", "expected a folder"]);
    assert!(!stderr(&o).contains("os error 17"), "{}", stderr(&o));
    // A folder that cannot be made: refused before the plan is laid out or anything rendered.
    #[cfg(target_os = "linux")]
    {
        let o = stipple()
            .arg("render")
            .arg(&scene)
            .args(["--out", "/proc/nope"])
            .output()
            .unwrap();
        assert_refused(&o, &["--out", "/proc/nope"]);
        assert!(!stderr(&o).contains("plan:"), "{}", stderr(&o));
    }
}

fn plan_error(dir: &Path, name: &str, toml: &str) -> String {
    let scene = dir.join(name);
    std::fs::write(&scene, toml).unwrap();
    let o = stipple().arg("plan").arg(&scene).output().unwrap();
    assert_refused(&o, &[name]);
    stderr(&o)
}

#[test]
fn arrays_of_the_wrong_length_are_errors() {
    let dir = temp_dir("robust-arrays");
    let err = plan_error(
        &dir,
        "three.toml",
        "[client]\nskin = \"#c68e6b\"\n[plan]\ndot_diameter_mm = [0.1, 0.12, 0.14]\n",
    );
    assert!(
        err.contains("dot_diameter_mm") && err.contains("2 numbers"),
        "{err}"
    );
    let err = plan_error(
        &dir,
        "one.toml",
        "[client]\nskin = \"#c68e6b\"\n[[plan.zones]]\nname = \"crown\"\ndot_diameter_mm = [0.1]\n",
    );
    assert!(err.contains("2 numbers"), "{err}");
}

#[test]
fn a_camera_inside_the_head_is_an_error() {
    let dir = temp_dir("robust-camera");
    let err = plan_error(
        &dir,
        "inside.toml",
        "[client]\nskin = \"#c68e6b\"\n[render]\ndistance_mm = 30\nviews = [\"front\"]\n",
    );
    assert!(
        err.contains("render.distance_mm") && err.contains("inside"),
        "{err}"
    );
    // Far enough: fine.
    let scene = dir.join("outside.toml");
    std::fs::write(
        &scene,
        "[client]\nskin = \"#c68e6b\"\n[render]\ndistance_mm = 600\nviews = [\"front\", \"top\"]\n",
    )
    .unwrap();
    let o = stipple().arg("plan").arg(&scene).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn mesh_paths_that_are_not_meshes_say_what_is_wrong() {
    let dir = temp_dir("robust-mesh-paths");
    let scene =
        |mesh: &str| format!("[client]\nskin = \"#c68e6b\"\n[client.head]\nmesh = {mesh:?}\n");
    let err = plan_error(&dir, "empty.toml", &scene(""));
    assert!(
        err.contains("client.head.mesh") && err.contains("empty"),
        "{err}"
    );
    std::fs::create_dir_all(dir.join("meshes")).unwrap();
    let err = plan_error(&dir, "folder.toml", &scene("meshes"));
    assert!(err.contains("is a folder"), "{err}");
    #[cfg(unix)]
    {
        // Used to abort in tobj: "memory allocation of 4294967296 bytes failed".
        let err = plan_error(&dir, "zero.toml", &scene("/dev/zero"));
        assert!(err.contains("not a regular file"), "{err}");
    }
    let err = plan_error(&dir, "missing.toml", &scene("nope.obj"));
    assert_eq!(err.matches("os error").count(), 1, "{err}");
}

#[test]
fn a_vertex_far_away_is_reported_as_such() {
    let dir = temp_dir("robust-far-vertex");
    std::fs::write(
        dir.join("far.obj"),
        "v 0 0 0\nv 100 0 0\nv 0 100 0\nv 0 0 100\nv 1e38 0 0\nf 1 2 3\nf 1 3 4\nf 1 4 5\nf 2 3 4\n",
    )
    .unwrap();
    let err = plan_error(
        &dir,
        "far.toml",
        "[client]\nskin = \"#c68e6b\"\n[client.head]\nmesh = \"far.obj\"\n",
    );
    assert!(
        err.contains("lies at") && !err.contains("no triangles"),
        "{err}"
    );
}

#[test]
fn os_errors_are_printed_once() {
    let o = stipple()
        .args(["plan", "/no/such/scene.toml"])
        .output()
        .unwrap();
    assert_refused(&o, &["/no/such/scene.toml"]);
    assert_eq!(stderr(&o).matches("os error").count(), 1, "{}", stderr(&o));
}

#[test]
fn huge_inputs_are_refused_and_not_echoed() {
    let dir = temp_dir("robust-huge-input");
    // A 100,000-deep nested array: the error must not repeat the 100 kB line.
    let deep = format!(
        "[client]\nskin = \"#c68e6b\"\nx = {}\n",
        "[".repeat(100_000)
    );
    let err = plan_error(&dir, "deep.toml", &deep);
    assert!(err.len() < 2_000, "{} bytes of error", err.len());
    // Over the size limit: refused before parsing.
    let mut big = String::from("[client]\nskin = \"#c68e6b\"\n[plan]\nx = [");
    while big.len() < 6 << 20 {
        big.push_str("1, ");
    }
    big.push_str("]\n");
    let err = plan_error(&dir, "big.toml", &big);
    assert!(err.contains("larger than") && err.contains("MiB"), "{err}");
}

#[test]
fn batch_variant_errors_name_the_variant_and_the_key() {
    let dir = temp_dir("robust-batch-variant");
    std::fs::write(dir.join("base.toml"), SMALL_SCENE).unwrap();
    std::fs::write(
        dir.join("m.toml"),
        "scene = \"base.toml\"\n[[axes]]\nname = \"shade\"\nvalues = [\n  { label = \"ok\", set = { \"plan.shade\" = 0.5 } },\n  { label = \"word\", set = { \"plan.shade\" = \"dark\" } },\n]\n",
    )
    .unwrap();
    let o = stipple()
        .arg("batch")
        .arg(dir.join("m.toml"))
        .arg("--list")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout).into_owned() + &stderr(&o);
    let line = text
        .lines()
        .find(|l| l.contains("word") && l.contains("invalid"))
        .unwrap_or_else(|| panic!("no invalid variant listed: {text}"));
    assert!(
        line.contains("m.toml") && line.contains("plan.shade") && !line.contains("line "),
        "{line}"
    );
}

/// A successful run prints nothing that reads as an error, with XDG_RUNTIME_DIR unset as on a
/// server (Mesa's Vulkan device-select layer used to print two "error: XDG_RUNTIME_DIR ..."
/// lines when it probed for a Wayland display).
#[test]
fn a_successful_run_prints_no_errors() {
    let dir = temp_dir("robust-quiet");
    let scene = small_scene(&dir);
    let o = stipple()
        .arg("render")
        .arg(&scene)
        .arg("--out")
        .arg(dir.join("out"))
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("NODEVICE_SELECT")
        .output()
        .unwrap();
    let err = stderr(&o);
    assert!(o.status.success(), "{err}");
    let noisy: Vec<&str> = err
        .lines()
        .filter(|l| l.to_ascii_lowercase().contains("error"))
        .collect();
    assert!(noisy.is_empty(), "a successful run printed: {noisy:?}");
}

/// Starts `stipple render` of a large still into `out`, waits until its temporary PNG exists,
/// and sends `signal`. Returns the child's exit status.
#[cfg(unix)]
fn interrupt_during_write(dir: &Path, out: &Path, signal: i32) -> std::process::ExitStatus {
    let scene = dir.join("large.toml");
    std::fs::write(
        &scene,
        "[client]\nskin = \"#c68e6b\"\n[render]\nwidth = 4096\nheight = 4096\nsupersample = 1\nviews = [\"front\"]\noutputs = [\"before\"]\npigment_map_size = 64\n",
    )
    .unwrap();
    let mut child = stipple()
        .arg("render")
        .arg(&scene)
        .arg("--out")
        .arg(out)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    loop {
        if temp_files(out).next().is_some() {
            break;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("finished ({status}) before its temporary file was seen");
        }
        assert!(
            start.elapsed().as_secs() < 300,
            "no temporary file appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // SAFETY: sends a signal to our own child.
    unsafe {
        libc::kill(child.id() as libc::pid_t, signal);
    }
    child.wait().unwrap()
}

fn temp_files(dir: &Path) -> impl Iterator<Item = String> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
}

#[cfg(unix)]
#[test]
fn interrupted_and_killed_writes_leave_nothing_behind() {
    let dir = temp_dir("robust-signals");
    for (signal, name) in [(libc::SIGTERM, "term"), (libc::SIGINT, "int")] {
        let out = dir.join(name);
        let status = interrupt_during_write(&dir, &out, signal);
        assert!(!status.success(), "{name}: {status}");
        let left: Vec<String> = temp_files(&out).collect();
        assert!(left.is_empty(), "SIG{name} left {left:?}");
        assert!(!out.join("front-before.png").exists());
    }
    // SIGKILL cannot be caught: the next run into the folder removes what it left.
    let out = dir.join("kill");
    interrupt_during_write(&dir, &out, libc::SIGKILL);
    let left: Vec<String> = temp_files(&out).collect();
    assert_eq!(left.len(), 1, "{left:?}");
    let scene = small_scene(&dir);
    let o = stipple()
        .arg("render")
        .arg(&scene)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let left: Vec<String> = temp_files(&out).collect();
    assert!(left.is_empty(), "the next run left {left:?}");
    assert!(out.join("front-after.png").exists());
}

/// A frame with something in every pixel, 8- or 16-bit.
fn gradient(depth: stipple::render::BitDepth, w: u32, h: u32) -> stipple::render::FrameImage {
    use stipple::render::FrameImage;
    match depth {
        stipple::render::BitDepth::Eight => {
            FrameImage::Eight(image::RgbaImage::from_fn(w, h, |x, y| {
                image::Rgba([(x % 256) as u8, (y % 256) as u8, ((x * y) % 251) as u8, 255])
            }))
        }
        stipple::render::BitDepth::Sixteen => {
            FrameImage::Sixteen(stipple::render::Rgba16Image::from_fn(w, h, |x, y| {
                image::Rgba([
                    (x * 97 % 65536) as u16,
                    (y * 89 % 65536) as u16,
                    4000,
                    65535,
                ])
            }))
        }
    }
}

/// Stills are written row by row with the disclaimer drawn on a copy of the corner only: the
/// pixels are exactly those of the composed frame.
#[test]
fn streamed_stills_match_the_composed_frame() {
    use stipple::output::composite::{compose, write_output};
    use stipple::render::BitDepth;
    use stipple::scene::OutputKind;
    let dir = temp_dir("robust-streamed-still");
    let meta = stipple::output::png::PngMeta::stipple();
    for depth in [BitDepth::Eight, BitDepth::Sixteen] {
        let (before, after) = (gradient(depth, 640, 360), gradient(depth, 640, 360));
        for kind in [OutputKind::After, OutputKind::BeforeAfter] {
            let path = dir.join(format!("{depth:?}-{}.png", kind.as_str()));
            write_output(
                &path,
                kind,
                stipple::camera::ViewName::Front,
                Some(&before),
                Some(&after),
                true,
                &meta,
            )
            .unwrap();
            let mut expected = compose(kind, Some(&before), Some(&after));
            stipple::output::text::draw_disclaimer(&mut expected);
            let written = image::open(&path).unwrap();
            match &expected {
                stipple::render::FrameImage::Eight(e) => {
                    assert_eq!(
                        written.to_rgb8(),
                        image::DynamicImage::ImageRgba8(e.clone()).to_rgb8()
                    );
                }
                stipple::render::FrameImage::Sixteen(e) => {
                    let e = image::DynamicImage::ImageRgba16(e.clone()).to_rgb16();
                    assert_eq!(written.to_rgb16(), e, "{depth:?} {}", kind.as_str());
                }
            }
        }
    }
}

/// The animation is written a frame at a time and says how many it holds; more than the
/// maximum is refused.
#[test]
fn animations_are_streamed_and_bounded() {
    use stipple::output::png::{ApngWriter, MAX_ANIMATION_FRAMES, PngMeta, read_png};
    let dir = temp_dir("robust-apng");
    let path = dir.join("a.png");
    let mut w = ApngWriter::create(&path, 32, 16, 3, 100, &PngMeta::stipple()).unwrap();
    for depth in [
        stipple::render::BitDepth::Eight,
        stipple::render::BitDepth::Sixteen,
        stipple::render::BitDepth::Eight,
    ] {
        w.push(&gradient(depth, 32, 16)).unwrap();
    }
    w.finish().unwrap();
    let info = read_png(&path).unwrap();
    assert_eq!((info.width, info.height, info.frames), (32, 16, 3));
    assert!(
        ApngWriter::create(
            &dir.join("b.png"),
            8,
            8,
            MAX_ANIMATION_FRAMES + 1,
            100,
            &PngMeta::stipple()
        )
        .is_err()
    );
    // Abandoned before its last frame: nothing at the destination, no temporary file.
    let mut w = ApngWriter::create(&dir.join("c.png"), 8, 8, 2, 100, &PngMeta::stipple()).unwrap();
    w.push(&gradient(stipple::render::BitDepth::Eight, 8, 8))
        .unwrap();
    assert!(w.finish().is_err());
    assert!(!dir.join("c.png").exists());
    assert_eq!(temp_files(&dir).count(), 0);
}
