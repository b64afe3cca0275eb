//! Snapshot tests: small frames of fixed scenes against reference PNGs, compared by FLIP.
//! Re-bless with `STIPPLE_BLESS=1 cargo test --release --test snapshots`, after looking.

mod common;

use stipple::render::FrameSettings;
use stipple::render::camera::{Camera, ViewName};
use stipple::scene::Scene;

const SIZE: u32 = 320;

fn render(view: ViewName, show_dots: bool) -> image::RgbaImage {
    let scene = Scene::builtin();
    let (head, layout) = common::default_head_and_layout();
    let mut renderer = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    let gpu_scene = renderer.prepare(head, &layout.dots, 512).expect("prepare");
    let settings = FrameSettings {
        camera: Camera::for_view(
            head,
            view,
            85.0,
            1.0,
            None,
            layout.region.as_ref().map(|r| r.mid_frontal_point()),
        ),
        lighting: scene.lighting(),
        skin: scene.skin(),
        width: SIZE,
        height: SIZE,
        supersample: 2,
        show_dots,
        single_dots: true,
    };
    renderer.render(&gpu_scene, &settings).expect("render")
}

#[test]
fn front_before() {
    common::assert_snapshot("front-before", &render(ViewName::Front, false));
}

#[test]
fn front_after() {
    common::assert_snapshot("front-after", &render(ViewName::Front, true));
}

#[test]
fn left_after() {
    common::assert_snapshot("left-after", &render(ViewName::Left, true));
}

#[test]
fn top_after() {
    common::assert_snapshot("top-after", &render(ViewName::Top, true));
}

/// Close enough that single dots are drawn by the decal pass.
#[test]
fn hairline_closeup_after() {
    common::assert_snapshot(
        "hairline-closeup-after",
        &render(ViewName::HairlineCloseup, true),
    );
}
