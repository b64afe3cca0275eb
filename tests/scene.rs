//! Scene files: the example parses, bad input names the file, the key and what was expected.

use std::path::Path;
use stipple::scene::{DEFAULT_SCENE_TOML, Scene, SceneError};

fn parse(text: &str) -> Result<Scene, SceneError> {
    Scene::parse(text, Path::new("clients/anna.toml"))
}

fn error(text: &str) -> String {
    parse(text).expect_err("should be rejected").to_string()
}

#[test]
fn example_scene_parses() {
    let scene = parse(DEFAULT_SCENE_TOML).expect("the example scene is valid");
    let plan = scene.plan();
    assert_eq!(plan.density_per_cm2, 100.0);
    assert_eq!(plan.hairline.height_above_glabella_mm, 80.0);
    assert!(scene.spec.render.views.len() >= 3);
}

#[test]
fn minimal_scene_uses_defaults() {
    let scene = parse("[client]\nskin = \"#c68e6b\"\n").expect("minimal scene");
    assert_eq!(scene.plan(), stipple::plan::Plan::default());
}

#[test]
fn unknown_key_is_an_error_naming_file_line_and_key() {
    let e = error("[client]\nskin = \"#c68e6b\"\n[plan]\ndensity = 100\n");
    assert!(e.starts_with("clients/anna.toml"), "{e}");
    assert!(e.contains("density"), "{e}");
    assert!(e.contains("line 4"), "{e}");
    assert!(
        e.contains("density_per_cm2"),
        "should list the expected keys: {e}"
    );
}

#[test]
fn wrong_type_is_an_error() {
    let e = error("[client]\nskin = \"#c68e6b\"\n[plan]\ndensity_per_cm2 = \"lots\"\n");
    assert!(
        e.contains("clients/anna.toml") && e.contains("line 4"),
        "{e}"
    );
}

#[test]
fn out_of_range_values_name_the_key() {
    let cases = [
        ("[plan]\ndensity_per_cm2 = 0", "plan.density_per_cm2"),
        ("[plan]\ndensity_per_cm2 = 5000", "plan.density_per_cm2"),
        (
            "[plan]\ndot_diameter_mm = [0.2, 0.1]",
            "plan.dot_diameter_mm[1]",
        ),
        ("[plan]\ndepth_mm = 3.0", "plan.depth_mm"),
        ("[plan]\nshade = 0", "plan.shade"),
        ("[plan.hairline]\nheight_cm = 2", "plan.hairline.height_cm"),
        ("[render]\nsupersample = 9", "render.supersample"),
        ("[render]\nwidth = 0", "render.width"),
        ("[render]\nlighting = \"disco\"", "render.lighting"),
        ("[render]\nviews = []", "render.views"),
    ];
    for (body, key) in cases {
        let e = error(&format!("[client]\nskin = \"#c68e6b\"\n{body}\n"));
        assert!(e.contains("clients/anna.toml"), "{body}: {e}");
        assert!(
            e.contains(&format!("`{key}`")),
            "{body}: expected key {key} in: {e}"
        );
        assert!(e.contains("expected"), "{body}: {e}");
    }
}

#[test]
fn bad_colour_and_view_are_errors() {
    let e = error("[client]\nskin = \"tan\"\n");
    assert!(e.contains("`client.skin`") && e.contains("#"), "{e}");
    let e = error("[client]\nskin = \"#c68e6b\"\n[render]\nviews = [\"under\"]\n");
    assert!(e.contains("under") && e.contains("front"), "{e}");
}

#[test]
fn head_options_are_checked() {
    let e = error("[client]\nskin = \"#c68e6b\"\n[client.head]\nunits = \"cm\"\n");
    assert!(e.contains("`client.head.mesh`"), "{e}");
    let e =
        error("[client]\nskin = \"#c68e6b\"\n[client.head]\nmesh = \"x.obj\"\nunits = \"feet\"\n");
    assert!(e.contains("`client.head.units`"), "{e}");
}

#[test]
fn missing_mesh_names_the_file() {
    let scene = parse("[client]\nskin = \"#c68e6b\"\n[client.head]\nmesh = \"no-such-head.obj\"\n")
        .expect("parses");
    let e = scene.head().expect_err("missing mesh").to_string();
    assert!(e.contains("no-such-head.obj"), "{e}");
}

#[test]
fn missing_scene_file_names_it() {
    let e = Scene::load(Path::new("/nonexistent/scene.toml"))
        .expect_err("missing")
        .to_string();
    assert!(e.contains("/nonexistent/scene.toml"), "{e}");
}
