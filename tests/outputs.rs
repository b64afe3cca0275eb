//! Marketing outputs: tiled stills match untiled ones, 16-bit PNGs, text chunks, the
//! disclaimer, before/after composites and turntables. Small frames, few dots: fast.

mod common;

use common::{stipple, temp_dir};

use std::path::PathBuf;
use stipple::camera::{Camera, ViewName};
use stipple::head::Head;
use stipple::layout::DotLayout;
use stipple::output::png::{PngMeta, keys, read_png, write_png};
use stipple::render::tiles::TileGrid;
use stipple::render::{BitDepth, FrameImage, FrameSettings, GpuScene, Renderer};
use stipple::scene::Scene;

fn settings(
    head: &Head,
    layout: &DotLayout,
    view: ViewName,
    w: u32,
    h: u32,
    ss: u32,
) -> FrameSettings {
    let scene = Scene::builtin();
    let hairline = layout.region.as_ref().map(|r| r.mid_frontal_point());
    FrameSettings {
        camera: Camera::for_view(head, view, 85.0, w as f32 / h as f32, None, hairline),
        lighting: scene.lighting(),
        skin: scene.skin(),
        width: w,
        height: h,
        supersample: ss,
        show_dots: true,
        single_dots: true,
    }
}

fn prepare(r: &Renderer, head: &Head, layout: &DotLayout) -> GpuScene {
    r.prepare(head, &layout.dots, 128).expect("prepare")
}

/// Largest channel difference, the share of channels that differ at all, and the mean
/// difference.
fn compare(a: &FrameImage, b: &FrameImage) -> (u32, f64, f64) {
    let (va, vb): (Vec<u32>, Vec<u32>) = match (a, b) {
        (FrameImage::Eight(a), FrameImage::Eight(b)) => (
            a.as_raw().iter().map(|v| *v as u32).collect(),
            b.as_raw().iter().map(|v| *v as u32).collect(),
        ),
        (FrameImage::Sixteen(a), FrameImage::Sixteen(b)) => (
            a.as_raw().iter().map(|v| *v as u32).collect(),
            b.as_raw().iter().map(|v| *v as u32).collect(),
        ),
        _ => panic!("bit depths differ"),
    };
    assert_eq!(va.len(), vb.len());
    let max = va
        .iter()
        .zip(&vb)
        .map(|(x, y)| x.abs_diff(*y))
        .max()
        .unwrap_or(0);
    let differ = va.iter().zip(&vb).filter(|(x, y)| x != y).count() as f64 / va.len() as f64;
    let mean = va
        .iter()
        .zip(&vb)
        .map(|(x, y)| x.abs_diff(*y) as f64)
        .sum::<f64>()
        / va.len() as f64;
    (max, differ, mean)
}

#[test]
fn tile_grid_covers_the_frame_with_equal_tiles() {
    let g = TileGrid::new(100, 70, 40);
    assert_eq!((g.cols, g.rows), (3, 2));
    assert_eq!((g.tile_width, g.tile_height), (34, 35));
    assert!(g.cols * g.tile_width >= 100 && g.rows * g.tile_height >= 70);
    assert_eq!(TileGrid::new(64, 64, 64).count(), 1);
    assert_eq!(TileGrid::new(7680, 4320, 8192).count(), 1);
    assert_eq!(TileGrid::new(16384, 16384, 8192).count(), 4);
}

/// A still rendered as tiles through off-centre sub-frusta, stitched on the CPU, is the frame
/// an untiled render gives: from arm's length (pigment map) and close up (single dots, whole
/// and, supersampled, with their halos drawn per output pixel), at 8 and 16 bits, with tiles
/// that overhang the frame's edges.
#[test]
fn tiled_still_matches_untiled_render() {
    let (head, layout) = common::default_head_and_layout();
    let mut r = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    let gpu = prepare(&r, head, layout);
    for (view, ss) in [
        (ViewName::FrontLeft, 2),
        (ViewName::HairlineCloseup, 1),
        (ViewName::HairlineCloseup, 2),
    ] {
        let s = settings(head, layout, view, 112, 80, ss);
        r.set_max_tile_size(None);
        assert_eq!(r.tile_grid(&s).count(), 1);
        // Tiles draw each single dot whole (src/render/dots_pass.rs): so must the frame they
        // are held against (what drawing halos per output pixel changes is tested apart).
        r.set_halos_per_output_pixel(false);
        let whole = r.render_image(&gpu, &s, BitDepth::Eight);
        let whole16 = r.render_image(&gpu, &s, BitDepth::Sixteen);
        r.set_halos_per_output_pixel(true);
        let (whole, whole16) = (whole.unwrap(), whole16.unwrap());
        r.set_max_tile_size(Some(40));
        let grid = r.tile_grid(&s);
        assert_eq!((grid.cols, grid.rows), (3, 2), "forced small tiles");
        let tiled = r.render_image(&gpu, &s, BitDepth::Eight).unwrap();
        let tiled16 = r.render_image(&gpu, &s, BitDepth::Sixteen).unwrap();
        r.set_max_tile_size(None);
        assert_eq!(tiled.dimensions(), (112, 80));
        let (max8, differ8, _) = compare(&whole, &tiled);
        let (max16, differ16, mean16) = compare(&whole16, &tiled16);
        eprintln!(
            "{view:?}: 8-bit max diff {max8}, {differ8:.4} differ; 16-bit max diff {max16}, {differ16:.4} differ, mean {mean16:.3}"
        );
        if max8 > 0 {
            let dir = common::failure_dir();
            std::fs::create_dir_all(&dir).unwrap();
            tiled
                .to_rgba8()
                .save(dir.join(format!("tiled-{}-ss{ss}.png", view.as_str())))
                .unwrap();
            whole
                .to_rgba8()
                .save(dir.join(format!("untiled-{}-ss{ss}.png", view.as_str())))
                .unwrap();
        }
        // The sub-frustum's matrix rounds differently in the last bits: a level here and there
        // (more of them since pores fade by screen-space derivatives), never a visible step (a
        // seam or a shifted edge would be tens of levels).
        assert!(
            max8 <= 2 && differ8 < 0.01,
            "{view:?}: tiled differs from untiled: max {max8}, {differ8}"
        );
        assert!(
            max16 <= 257 && mean16 < 2.0,
            "{view:?}: 16-bit tiled differs: max {max16}, mean {mean16}"
        );
    }
}

/// The 16-bit path: the tonemapped frame read back before the 8-bit store, sRGB-encoded on
/// the CPU, agrees with the GPU's 8-bit encode and has finer steps.
#[test]
fn sixteen_bit_frames_match_eight_bit_and_have_more_levels() {
    let (head, layout) = common::default_head_and_layout();
    let mut r = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    let gpu = prepare(&r, head, layout);
    let s = settings(head, layout, ViewName::Front, 96, 96, 2);
    let eight = r.render(&gpu, &s).unwrap();
    let sixteen = r.render16(&gpu, &s).unwrap();
    let down = FrameImage::Sixteen(sixteen.clone()).to_rgba8();
    let max = eight
        .as_raw()
        .iter()
        .zip(down.as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(
        max <= 1,
        "16-bit rounded to 8 differs from the 8-bit frame by {max}"
    );
    // Levels that are not multiples of 257: real 16-bit precision, not 8-bit values widened.
    let fine = sixteen.as_raw().iter().filter(|v| **v % 257 != 0).count();
    assert!(
        fine > sixteen.as_raw().len() / 2,
        "only {fine} samples use 16-bit precision"
    );
}

#[test]
fn sixteen_bit_png_decodes_as_sixteen_bit_with_text_chunks() {
    let (head, layout) = common::default_head_and_layout();
    let mut r = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    let gpu = prepare(&r, head, layout);
    let s = settings(head, layout, ViewName::Front, 64, 64, 1);
    let frame = r.render_image(&gpu, &s, BitDepth::Sixteen).unwrap();
    drop(r);
    let dir = temp_dir("outputs-16bit");
    let path = dir.join("still.png");
    let meta = PngMeta::for_scene(&Scene::builtin()).with("stipple.note", "naïve café");
    write_png(&path, &frame, &meta).unwrap();
    let decoded = image::open(&path).expect("decodes");
    assert_eq!(decoded.color(), image::ColorType::Rgb16);
    let FrameImage::Sixteen(src) = &frame else {
        panic!("16-bit frame")
    };
    let rgb16 = decoded.to_rgb16();
    assert_eq!(
        rgb16.get_pixel(20, 30).0,
        [
            src.get_pixel(20, 30)[0],
            src.get_pixel(20, 30)[1],
            src.get_pixel(20, 30)[2]
        ]
    );
    let info = read_png(&path).unwrap();
    assert_eq!(info.bit_depth, 16);
    assert_eq!(info.meta.get(keys::SEED), Some("7"));
    assert_eq!(
        info.meta.get(keys::VERSION),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        info.meta.get("stipple.note"),
        Some("naïve café"),
        "non-Latin-1 text goes in iTXt"
    );
}

#[test]
fn truncated_png_is_not_complete() {
    let dir = temp_dir("outputs-truncated");
    let path = dir.join("a.png");
    let img = image::RgbaImage::from_fn(64, 64, |x, y| {
        image::Rgba([(x * 4) as u8, (y * 4) as u8, 90, 255])
    });
    write_png(&path, &FrameImage::Eight(img), &PngMeta::stipple()).unwrap();
    assert!(read_png(&path).is_ok());
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    assert!(
        read_png(&path).is_err(),
        "half a PNG must not read as complete"
    );
}

#[test]
fn composite_puts_before_and_after_side_by_side_with_labels() {
    let before = FrameImage::Eight(image::RgbaImage::from_pixel(
        200,
        150,
        image::Rgba([120, 120, 120, 255]),
    ));
    let after = FrameImage::Eight(image::RgbaImage::from_pixel(
        200,
        150,
        image::Rgba([60, 60, 60, 255]),
    ));
    let out = stipple::output::composite::side_by_side(&before, &after);
    let gap = stipple::output::composite::divider_width(200);
    assert_eq!(out.dimensions(), (400 + gap, 150));
    let img = out.to_rgba8();
    // Halves in place, away from the labels.
    assert_eq!(img.get_pixel(100, 140).0, [120, 120, 120, 255]);
    assert_eq!(img.get_pixel(200 + gap + 100, 140).0, [60, 60, 60, 255]);
    // Label ink (white text on a dark badge) in each half's top-left corner.
    let ink = |x0: u32| {
        (x0..x0 + 60)
            .flat_map(|x| (0..30).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y)[0] > 140)
            .count()
    };
    assert!(
        ink(0) > 10 && ink(200 + gap) > 10,
        "labels: {} {}",
        ink(0),
        ink(200 + gap)
    );
}

#[test]
fn disclaimer_is_drawn_in_the_corner_and_skipped_on_tiny_images() {
    let mut big = FrameImage::Eight(image::RgbaImage::from_pixel(
        640,
        480,
        image::Rgba([128, 128, 128, 255]),
    ));
    stipple::output::text::draw_disclaimer(&mut big);
    let img = big.to_rgba8();
    let changed = |x0: u32, y0: u32, x1: u32, y1: u32| {
        (x0..x1)
            .flat_map(|x| (y0..y1).map(move |y| (x, y)))
            .filter(|&(x, y)| img.get_pixel(x, y)[0] != 128)
            .count()
    };
    assert!(changed(400, 440, 640, 480) > 200, "bottom-right corner");
    assert_eq!(changed(0, 0, 640, 400), 0, "nothing elsewhere");
    let mut tiny = FrameImage::Eight(image::RgbaImage::from_pixel(
        64,
        64,
        image::Rgba([128, 128, 128, 255]),
    ));
    stipple::output::text::draw_disclaimer(&mut tiny);
    assert!(
        tiny.to_rgba8().pixels().all(|p| p[0] == 128),
        "illegible at 64 px: left off"
    );
}

fn small_scene(dir: &std::path::Path, extra: &str) -> PathBuf {
    let scene = dir.join("small.toml");
    std::fs::write(
        &scene,
        format!(
            "[client]\nskin = \"#c68e6b\"\n[plan]\nseed = 42\ndensity_per_cm2 = 10\n[render]\nwidth = 256\nheight = 192\nsupersample = 1\nviews = [\"front\"]\npigment_map_size = 64\n{extra}"
        ),
    )
    .unwrap();
    scene
}

/// The command line: text chunks, the composite output, the disclaimer on by default and off
/// by flag or scene key, 16-bit by flag.
#[test]
fn render_command_writes_provenance_and_disclaimer() {
    let dir = temp_dir("outputs-cli");
    let scene = small_scene(&dir, "outputs = [\"after\", \"before-after\"]\n");
    let run = |out: &str, args: &[&str]| {
        let o = stipple()
            .arg("render")
            .arg(&scene)
            .arg("--out")
            .arg(dir.join(out))
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        image::open(dir.join(out).join("front-after.png")).unwrap()
    };
    let with = run("with", &[]).to_rgb8();
    let without = run("without", &["--no-disclaimer", "--bit-depth", "16"]);
    assert_eq!(without.color(), image::ColorType::Rgb16);
    let without = without.to_rgb8();
    let (w, h) = with.dimensions();
    let differ = |x0: u32, y0: u32| {
        (x0..w)
            .flat_map(|x| (y0..h).map(move |y| (x, y)))
            .filter(|&(x, y)| {
                with.get_pixel(x, y)
                    .0
                    .iter()
                    .zip(without.get_pixel(x, y).0)
                    .any(|(a, b)| a.abs_diff(b) > 2)
            })
            .count()
    };
    assert!(
        differ(w / 2, h - 20) > 50,
        "the disclaimer is drawn by default"
    );
    assert_eq!(differ(0, 0) - differ(w / 2, h - 20), 0, "and nowhere else");
    let info = read_png(&dir.join("with").join("front-after.png")).unwrap();
    assert_eq!(info.meta.get(keys::SCENE), Some("small.toml"));
    assert_eq!(info.meta.get(keys::SEED), Some("42"));
    assert_eq!(
        info.meta.get(keys::VERSION),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(info.meta.get(keys::VIEW), Some("front"));
    assert_eq!(info.meta.get(keys::OUTPUT), Some("after"));
    let pair = image::open(dir.join("with").join("front-before-after.png")).unwrap();
    assert_eq!(
        pair.width(),
        2 * w + stipple::output::composite::divider_width(w)
    );
    // The scene key turns it off as the flag does.
    let keyed = small_scene(&dir, "outputs = [\"after\"]\ndisclaimer = false\n");
    let o = stipple()
        .arg("render")
        .arg(&keyed)
        .arg("--out")
        .arg(dir.join("keyed"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let keyed = image::open(dir.join("keyed").join("front-after.png"))
        .unwrap()
        .to_rgb8();
    let max = keyed
        .as_raw()
        .iter()
        .zip(without.as_raw())
        .map(|(a, b)| a.abs_diff(*b))
        .max()
        .unwrap();
    assert!(
        max <= 1,
        "render.disclaimer = false matches --no-disclaimer ({max})"
    );
}

#[test]
fn bad_bit_depth_is_a_scene_error() {
    let dir = temp_dir("outputs-bad-depth");
    let scene = small_scene(&dir, "bit_depth = 12\n");
    let o = stipple()
        .arg("render")
        .arg(&scene)
        .arg("--out")
        .arg(dir.join("r"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("`render.bit_depth`") && err.contains("8 or 16"),
        "{err}"
    );
}

#[test]
fn turntable_writes_frames_and_an_animated_png() {
    let dir = temp_dir("outputs-turntable");
    let scene = small_scene(&dir, "");
    let out = dir.join("tt");
    let o = stipple()
        .arg("turntable")
        .arg(&scene)
        .arg("--out")
        .arg(&out)
        .args(["--frames", "4", "--show", "before-after"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let frames: Vec<image::RgbImage> = (0..4)
        .map(|i| {
            image::open(out.join(format!("turntable-{i:03}.png")))
                .unwrap()
                .to_rgb8()
        })
        .collect();
    assert!(
        frames[0] != frames[1] && frames[1] != frames[2],
        "the camera moves"
    );
    let info = read_png(&out.join("turntable.png")).unwrap();
    assert_eq!(info.frames, 4, "animated PNG with every frame");
    assert_eq!((info.width, info.height), frames[0].dimensions());
    assert_eq!(info.meta.get(keys::SCENE), Some("small.toml"));
}

#[test]
fn orbit_at_zero_is_the_front_view_raised() {
    let (head, _) = common::default_head_and_layout();
    let front = Camera::for_view(head, ViewName::Front, 85.0, 1.0, None, None);
    let same = stipple::output::turntable::orbit_camera(&front, 0.0, 0.0);
    assert!((same.eye_mm - front.eye_mm).length() < 1e-3);
    let quarter =
        stipple::output::turntable::orbit_camera(&front, std::f32::consts::FRAC_PI_2, 0.0);
    // A quarter turn toward the client's left: the camera is on +X.
    assert!(
        quarter.eye_mm.x - quarter.target_mm.x > 0.9 * (front.eye_mm - front.target_mm).length()
    );
}
