//! The command line end to end: exit codes, messages, files written (and not written).

mod common;

use common::{stipple, temp_dir};

#[test]
fn init_then_plan_json() {
    let dir = temp_dir("cli-init");
    let scene = dir.join("scene.toml");
    let out = stipple().args(["init"]).arg(&scene).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Refuses to overwrite.
    let again = stipple().args(["init"]).arg(&scene).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));

    let out = stipple()
        .args(["plan", "--json"])
        .arg(&scene)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let dots = v["dots_total"].as_u64().expect("dots_total");
    let area = v["treated_area_cm2"].as_f64().expect("treated_area_cm2");
    // A full scalp is a few hundred cm2; at 100/cm2 that is tens of thousands of dots.
    assert!((200.0..900.0).contains(&area), "treated area {area} cm2");
    assert!(dots > 15_000 && dots < 90_000, "{dots} dots");
}

#[test]
fn bad_scene_fails_cleanly_and_writes_nothing() {
    let dir = temp_dir("cli-bad");
    let scene = dir.join("bad.toml");
    std::fs::write(&scene, "[client]\nskin = \"#c68e6b\"\n[plan]\nshade = 7\n").unwrap();
    let out_dir = dir.join("renders");
    let out = stipple()
        .arg("render")
        .arg(&scene)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml") && err.contains("`plan.shade`"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    assert!(!out_dir.exists(), "nothing may be written for a bad scene");
}

#[test]
fn missing_scene_file_is_a_clear_error() {
    let out = stipple()
        .args(["plan", "/no/such/scene.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/no/such/scene.toml") && err.contains("cannot read"),
        "{err}"
    );
}

#[test]
fn huge_frame_is_refused_before_the_driver() {
    let dir = temp_dir("cli-huge");
    let scene = dir.join("huge.toml");
    std::fs::write(
        &scene,
        "[client]\nskin = \"#c68e6b\"\n[render]\nwidth = 16384\nheight = 16384\nsupersample = 4\nviews = [\"front\"]\noutputs = [\"before\"]\n",
    )
    .unwrap();
    let out_dir = dir.join("renders");
    let out = stipple()
        .arg("render")
        .arg(&scene)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("allows at most"), "{err}");
    assert!(!out_dir.join("front-before.png").exists());
}

#[test]
fn render_writes_pngs() {
    let dir = temp_dir("cli-render");
    let scene = dir.join("small.toml");
    std::fs::write(
        &scene,
        "[client]\nskin = \"#c68e6b\"\n[render]\nwidth = 96\nheight = 96\nsupersample = 1\nviews = [\"front\", \"top\"]\noutputs = [\"before\", \"after\"]\npigment_map_size = 128\n",
    )
    .unwrap();
    let out_dir = dir.join("renders");
    let out = stipple()
        .arg("render")
        .arg(&scene)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["front-before", "front-after", "top-before", "top-after"] {
        let img = image::open(out_dir.join(format!("{name}.png"))).expect(name);
        assert_eq!(img.width(), 96);
    }
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
}

/// `stipple match --json` answers for every zone that gets dots, each suggestion within the
/// match threshold or with a denser plan, and every lighting preset in its spectral check; a
/// target that is not a colour is refused with the expected form.
#[test]
fn match_json_names_every_treated_zone_and_refuses_a_bad_target() {
    let scene = common::manifest_dir().join("assets/scenes/norwood6-full-head.toml");
    let out = stipple()
        .args(["match", "--json"])
        .arg(&scene)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    let zones = v["zones"].as_array().expect("zones");
    let names: Vec<&str> = zones
        .iter()
        .map(|z| z["dots"]["zone"].as_str().unwrap())
        .collect();
    for want in ["hairline", "crown", "mid-scalp"] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    let presets = stipple::lighting::presets().len();
    for z in zones {
        let de = z["suggested"]["de00"].as_f64().unwrap();
        assert!(
            de <= 2.0 || !z["denser"].is_null() || z["matched"] == false,
            "{z}"
        );
        assert_eq!(z["under_presets"].as_array().unwrap().len(), presets + 1);
    }
    let bad = stipple()
        .args(["match", "--target", "grey"])
        .arg(&scene)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("--target") && err.contains("sRGB hex"),
        "{err}"
    );
}
