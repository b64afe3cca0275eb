//! Shared by the integration tests: one software renderer, snapshot comparison (see `compare`).
#![allow(dead_code)]

pub mod color;
pub mod compare;
pub mod patch;
pub mod sphere;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use stipple::head::Head;
use stipple::layout::DotLayout;
use stipple::render::{AdapterRequest, BackendChoice, GpuContext, Renderer};

/// Snapshot references are made on Mesa's llvmpipe (Vulkan lavapipe where installed, else
/// OpenGL): pin it so a machine with a real GPU compares like with like.
pub fn renderer() -> &'static Mutex<Renderer> {
    static R: OnceLock<Mutex<Renderer>> = OnceLock::new();
    R.get_or_init(|| {
        let vulkan = AdapterRequest {
            backend: BackendChoice::Vulkan,
            name_contains: Some("llvmpipe".into()),
        };
        let gl = AdapterRequest {
            backend: BackendChoice::Gl,
            name_contains: Some("llvmpipe".into()),
        };
        // STIPPLE_BACKEND=gl checks the references against llvmpipe's OpenGL front end.
        let prefer_gl = std::env::var("STIPPLE_BACKEND").is_ok_and(|b| b == "gl");
        let (first, second) = if prefer_gl {
            (gl, vulkan)
        } else {
            (vulkan, gl)
        };
        let ctx = GpuContext::new(&first)
            .or_else(|_| GpuContext::new(&second))
            .unwrap_or_else(|e| panic!("tests need Mesa's llvmpipe (run scripts/setup.sh): {e}"));
        eprintln!("test adapter: {}", ctx.summary);
        Mutex::new(Renderer::new(ctx))
    })
}

/// The built-in scene's head and dots, made once per test binary.
pub fn default_head_and_layout() -> &'static (Head, DotLayout) {
    static H: OnceLock<(Head, DotLayout)> = OnceLock::new();
    H.get_or_init(|| {
        let scene = stipple::scene::Scene::builtin();
        let head = scene.head().expect("built-in head");
        let layout = stipple::layout::lay_out(&head, &scene.plan()).expect("built-in plan");
        (head, layout)
    })
}

/// A fresh, empty folder under cargo's temporary directory for integration tests.
pub fn temp_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The `stipple` binary built for these tests.
pub fn stipple() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_stipple"))
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Folder where failing tests leave their actual and difference images.
pub fn failure_dir() -> PathBuf {
    manifest_dir().join("target").join("snapshot-failures")
}

/// Compares `actual` with `tests/snapshots/NAME.png` by [`compare::Tolerance::SNAPSHOT`]:
/// rounding differences between CPUs, drivers and GPUs pass, changes fail. A missing reference
/// fails (it is never written unless asked); set `STIPPLE_BLESS=1` to write it, after looking
/// at the image. `STIPPLE_SNAPSHOT_KEEP=1` keeps every actual image in the failure folder.
pub fn assert_snapshot(name: &str, actual: &image::RgbaImage) {
    let reference_path = manifest_dir()
        .join("tests")
        .join("snapshots")
        .join(format!("{name}.png"));
    let actual_rgb = image::DynamicImage::ImageRgba8(actual.clone()).to_rgb8();
    if std::env::var("STIPPLE_BLESS").is_ok_and(|v| v == "1") {
        stipple::output::png::write_png8(
            &reference_path,
            actual,
            &stipple::output::png::PngMeta::default(),
        )
        .expect("write reference");
        eprintln!("blessed {}", reference_path.display());
        return;
    }
    let write_failure = |diff: Option<&image::RgbImage>| -> PathBuf {
        let dir = failure_dir();
        std::fs::create_dir_all(&dir).expect("failure dir");
        let a = dir.join(format!("{name}-actual.png"));
        actual_rgb.save(&a).expect("write actual");
        if let Some(d) = diff {
            d.save(dir.join(format!("{name}-diff.png")))
                .expect("write diff");
        }
        a
    };
    if std::env::var("STIPPLE_SNAPSHOT_KEEP").is_ok_and(|v| v == "1") {
        write_failure(None);
    }
    let reference = match image::open(&reference_path) {
        Ok(r) => r.to_rgb8(),
        Err(e) => {
            let a = write_failure(None);
            panic!(
                "{name}: no reference at {} ({e}). The actual image is at {}: look at it, then \
                 run with STIPPLE_BLESS=1 to make it the reference.",
                reference_path.display(),
                a.display()
            );
        }
    };
    assert_eq!(
        reference.dimensions(),
        actual_rgb.dimensions(),
        "{name}: reference and actual differ in size"
    );
    let tolerance = compare::Tolerance::SNAPSHOT;
    let c = compare::compare(&reference, &actual_rgb, &tolerance);
    let failures = c.failures(&tolerance);
    if !failures.is_empty() {
        let a = write_failure(Some(&c.diff_image()));
        panic!(
            "{name}: differs from {}: {}. Actual: {}, difference: {}",
            reference_path.display(),
            failures.join("; "),
            a.display(),
            a.with_file_name(format!("{name}-diff.png")).display()
        );
    }
    eprintln!("{name}: {}", c.summary());
}

/// `../shared/meshes`, or None with a clear message when the folder is absent.
pub fn shared_meshes() -> Option<PathBuf> {
    let dir = manifest_dir().join("..").join("shared").join("meshes");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} is absent; the tests on real head scans need the shared meshes beside the repo",
            dir.display()
        );
        None
    }
}

pub fn mean_rgb(img: &image::RgbaImage, region: impl Fn(u32, u32) -> bool) -> [f64; 3] {
    let mut acc = [0.0f64; 3];
    let mut n = 0.0f64;
    for (x, y, p) in img.enumerate_pixels() {
        if region(x, y) {
            for c in 0..3 {
                acc[c] += p[c] as f64;
            }
            n += 1.0;
        }
    }
    acc.map(|v| v / n.max(1.0))
}

pub fn exists(p: &Path) -> bool {
    p.exists()
}

/// Undoes Khronos PBR Neutral (the shader's tonemapper) below its highlight compression: the
/// exposed linear radiance a pixel had before display mapping. Above x = 0.08 the tonemapper
/// subtracts 0.04; below, it maps x to 6.25 x^2.
pub fn untonemap(y: [f64; 3]) -> [f64; 3] {
    let y_min = y[0].min(y[1]).min(y[2]);
    let x_min = if y_min >= 0.04 {
        y_min + 0.04
    } else {
        (y_min / 6.25).sqrt()
    };
    let offset = x_min - y_min;
    y.map(|c| c + offset)
}
