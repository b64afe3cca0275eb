//! `stipple batch`: variants from a manifest, shards, resuming, failures, the contact sheet.
//! Tiny frames (96 px), a 64 px pigment map and a few hundred dots keep it fast.

mod common;

use common::{stipple, temp_dir};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Output;
use stipple::batch::{Batch, Shard, set_dotted};
use stipple::output::png::{keys, read_png};

const BASE_SCENE: &str = r##"
[client]
skin = "#c68e6b"
[plan]
seed = 11
density_per_cm2 = 8
[render]
width = 96
height = 96
supersample = 1
views = ["front"]
outputs = ["after"]
pigment_map_size = 64
"##;

/// A lighting preset other than studio (the lighting module may add or rename presets).
fn second_lighting() -> String {
    stipple::lighting::Lighting::preset_names()
        .into_iter()
        .find(|n| *n != "studio")
        .unwrap_or("studio")
        .to_string()
}

/// 3 skin tones x 2 plans x 2 lighting x 2 views = 24 variants.
fn manifest_24() -> String {
    format!(
        r##"
scene = "base.toml"
[set]
"render.outputs" = ["before-after"]
[sheet]
tile_width = 96
[[axes]]
name = "skin"
values = [
  {{ label = "fitz-ii", set = {{ "client.skin" = "#e3b898" }} }},
  {{ label = "fitz-iv", set = {{ "client.skin" = "#a8754f" }} }},
  {{ label = "fitz-vi", set = {{ "client.skin" = "#5a3b2c" }} }},
]
[[axes]]
name = "plan"
values = [
  {{ label = "soft", set = {{ "plan.density_per_cm2" = 6, "plan.shade" = 0.5 }} }},
  {{ label = "dense", set = {{ "plan.density_per_cm2" = 12 }} }},
]
[[axes]]
name = "light"
values = [
  {{ label = "studio", set = {{ "render.lighting" = "studio" }} }},
  {{ label = "alt", set = {{ "render.lighting" = "{}" }} }},
]
[[axes]]
name = "view"
values = [
  {{ label = "front", set = {{ "render.views" = ["front"] }} }},
  {{ label = "top", set = {{ "render.views" = ["top"] }} }},
]
"##,
        second_lighting()
    )
}

fn expected_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for skin in ["fitz-ii", "fitz-iv", "fitz-vi"] {
        for plan in ["soft", "dense"] {
            for light in ["studio", "alt"] {
                for view in ["front", "top"] {
                    names.insert(format!("{skin}_{plan}_{light}_{view}.png"));
                }
            }
        }
    }
    names
}

fn setup(name: &str, manifest: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(name);
    std::fs::write(dir.join("base.toml"), BASE_SCENE).unwrap();
    let m = dir.join("batch.toml");
    std::fs::write(&m, manifest).unwrap();
    (dir, m)
}

fn batch(manifest: &Path, out: &Path, args: &[&str]) -> Output {
    stipple()
        .arg("batch")
        .arg(manifest)
        .arg("--out")
        .arg(out)
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Variant outputs in a folder (not the contact sheets or summaries).
fn outputs(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png") && !n.starts_with("contact-sheet"))
        .collect()
}

fn summary(dir: &Path, suffix: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(format!("batch-summary{suffix}.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn statuses(s: &serde_json::Value) -> Vec<String> {
    s["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["status"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn batch_of_24_renders_every_variant_with_provenance_and_a_contact_sheet() {
    let (dir, manifest) = setup("batch-24", &manifest_24());
    let out = dir.join("out");
    let o = batch(&manifest, &out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(outputs(&out), expected_names());
    // Progress, one line per variant off a terminal, and the summary.
    let t = text(&o);
    assert!(t.contains("[24/24]"), "{t}");
    assert!(
        t.contains("24 rendered, 0 resumed, 0 already complete, 0 failed"),
        "{t}"
    );
    // Text chunks: scene, seed, version, variant and its hash (as `--list` prints it).
    let list = stipple()
        .arg("batch")
        .arg(&manifest)
        .arg("--list")
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout).to_string();
    let line = list
        .lines()
        .find(|l| l.ends_with(" fitz-iv_dense_alt_top"))
        .expect("listed");
    let hash = line.split_whitespace().nth(1).unwrap();
    let info = read_png(&out.join("fitz-iv_dense_alt_top.png")).unwrap();
    assert_eq!(info.meta.get(keys::SCENE), Some("base.toml"));
    assert_eq!(info.meta.get(keys::SEED), Some("11"));
    assert_eq!(
        info.meta.get(keys::VERSION),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(info.meta.get(keys::VARIANT), Some("fitz-iv_dense_alt_top"));
    assert_eq!(info.meta.get(keys::VARIANT_HASH), Some(hash));
    assert_eq!(info.meta.get(keys::VIEW), Some("top"));
    assert_eq!(info.meta.get(keys::OUTPUT), Some("before-after"));
    // Before | after composites: twice as wide, plus the divider.
    assert!(info.width > 2 * 96 && info.height == 96);
    // Variants differ where their keys do.
    let a = image::open(out.join("fitz-ii_soft_studio_front.png"))
        .unwrap()
        .to_rgb8();
    let b = image::open(out.join("fitz-vi_soft_studio_front.png"))
        .unwrap()
        .to_rgb8();
    assert!(a != b, "skin tone changes the picture");
    // The contact sheet: 24 tiles 96 px wide (sheet.tile_width), 4 columns (light x view),
    // 6 rows (skin x plan), with labels and the disclaimer's footer.
    let sheet = image::open(out.join("contact-sheet.png"))
        .expect("contact sheet")
        .to_rgb8();
    let (w, h) = sheet.dimensions();
    assert!(w > 4 * 96 && w < 5 * 96, "4 columns: sheet {w}x{h}");
    let tile_h = 96 * 96 / info.width;
    assert!(
        h > 6 * (tile_h + 10) && h < 7 * (tile_h + 60),
        "6 rows: sheet {w}x{h}"
    );
    let s = summary(&out, "");
    assert_eq!(s["variants_total"], 24);
    assert!(statuses(&s).iter().all(|st| st == "rendered"));
}

#[test]
fn three_shards_together_render_the_whole_batch_once() {
    let (dir, manifest) = setup("batch-shards", &manifest_24());
    // All shards write into one folder, as on a cluster with shared storage.
    let out = dir.join("out");
    let mut per_shard: Vec<BTreeSet<String>> = Vec::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let o = batch(&manifest, &out, &["--shard", &shard]);
        assert!(o.status.success(), "{}", text(&o));
        let s = summary(&out, &format!("-shard-{i}-of-3"));
        assert!(
            statuses(&s).iter().all(|st| st == "rendered"),
            "shard {i} rendered nothing twice: {s}"
        );
        let files: BTreeSet<String> = s["variants"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|v| v["files"].as_array().unwrap().clone())
            .map(|f| {
                Path::new(f.as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(files.len(), 8, "shard {i}: {files:?}");
        assert!(
            out.join(format!("contact-sheet-shard-{i}-of-3.png"))
                .exists()
        );
        per_shard.push(files);
    }
    for i in 0..3 {
        for j in i + 1..3 {
            assert!(
                per_shard[i].is_disjoint(&per_shard[j]),
                "shards {} and {} overlap",
                i + 1,
                j + 1
            );
        }
    }
    let union: BTreeSet<String> = per_shard.iter().flatten().cloned().collect();
    assert_eq!(union, expected_names());
    assert_eq!(outputs(&out), expected_names());
    // Afterwards the whole batch finds everything done and only makes the full contact sheet.
    let o = batch(&manifest, &out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        statuses(&summary(&out, ""))
            .iter()
            .all(|st| st == "skipped"),
        "{}",
        text(&o)
    );
    assert!(out.join("contact-sheet.png").exists());
}

#[test]
fn interrupted_batch_resumes_without_rendering_what_is_done() {
    let (dir, manifest) = setup("batch-resume", &manifest_24());
    let out = dir.join("out");
    let o = batch(&manifest, &out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    let mtime = |n: &str| std::fs::metadata(out.join(n)).unwrap().modified().unwrap();
    let names: Vec<String> = expected_names().into_iter().collect();
    let before: Vec<_> = names.iter().map(|n| mtime(n)).collect();
    // An interrupted run: one output never written, one cut off mid-write, and one that is a
    // complete PNG of another variant (copied by hand, or left from an older manifest).
    std::fs::remove_file(out.join(&names[3])).unwrap();
    let bytes = std::fs::read(out.join(&names[7])).unwrap();
    std::fs::write(out.join(&names[7]), &bytes[..bytes.len() / 3]).unwrap();
    std::fs::copy(out.join(&names[0]), out.join(&names[11])).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let o = batch(&manifest, &out, &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("3 rendered, 0 resumed, 21 already complete, 0 failed"),
        "{}",
        text(&o)
    );
    for (i, n) in names.iter().enumerate() {
        let info = read_png(&out.join(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(
            info.meta.get(keys::VARIANT),
            Some(n.trim_end_matches(".png"))
        );
        if ![3, 7, 11].contains(&i) {
            assert_eq!(mtime(n), before[i], "{n} was rendered again");
        }
    }
    // --force renders everything again.
    let o = batch(&manifest, &out, &["--force", "--shard", "2/12"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("2 rendered"), "{}", text(&o));
}

#[test]
fn a_failing_variant_is_reported_while_the_others_are_written() {
    let manifest = r##"
scene = "base.toml"
[[axes]]
name = "skin"
values = [
  { label = "light", set = { "client.skin" = "#e3b898" } },
  { label = "dark", set = { "client.skin" = "#5a3b2c" } },
]
[[axes]]
name = "shade"
values = [
  { label = "ok", set = { "plan.shade" = 0.6 } },
  { label = "too-dark", set = { "plan.shade" = 7 } },
  { label = "typo", set = { "render.lightning" = "studio" } },
]
"##;
    let (dir, manifest) = setup("batch-fail", manifest);
    let out = dir.join("out");
    let o = batch(&manifest, &out, &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("2 rendered, 0 resumed, 0 already complete, 4 failed"),
        "{t}"
    );
    assert!(
        t.contains("FAILED light_too-dark") && t.contains("`plan.shade`"),
        "{t}"
    );
    assert!(
        t.contains("FAILED dark_typo") && t.contains("lightning"),
        "{t}"
    );
    assert!(t.contains("4 of 6 variants failed"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
    assert_eq!(
        outputs(&out),
        ["dark_ok.png", "light_ok.png"]
            .map(String::from)
            .into_iter()
            .collect()
    );
    assert!(
        out.join("contact-sheet.png").exists(),
        "the sheet shows what did render"
    );
    let s = summary(&out, "");
    assert_eq!(
        statuses(&s),
        [
            "rendered", "failed", "failed", "rendered", "failed", "failed"
        ]
    );
}

#[test]
fn manifest_errors_name_the_file_and_the_key() {
    let cases = [
        ("scene = \"base.toml\"\nbogus = 1\n", "bogus"),
        ("scene = \"missing.toml\"\n", "missing.toml"),
        (
            "scene = \"base.toml\"\n[[axes]]\nname = \"a\"\nvalues = [{ label = \"x y\" }]\n",
            "label",
        ),
        (
            "scene = \"base.toml\"\n[[axes]]\nname = \"a\"\nvalues = [{ label = \"x\" }, { label = \"x\" }]\n",
            "twice",
        ),
        (
            "scene = \"base.toml\"\n[[axes]]\nname = \"a\"\nvalues = []\n",
            "at least one value",
        ),
    ];
    for (i, (manifest, expect)) in cases.iter().enumerate() {
        let (dir, m) = setup(&format!("batch-bad-{i}"), manifest);
        let o = batch(&m, &dir.join("out"), &[]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{t}");
        assert!(
            t.contains("batch.toml") && t.contains(expect),
            "case {i}: {t}"
        );
        assert!(!dir.join("out").exists(), "case {i}: nothing written");
    }
    let bad_shard = stipple()
        .args(["batch", "x.toml", "--shard", "4/3"])
        .output()
        .unwrap();
    assert_eq!(bad_shard.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_shard.stderr).contains("I/N"));
}

#[test]
fn variants_are_a_stable_cartesian_product() {
    let (dir, manifest) = setup("batch-unit", &manifest_24());
    let b = Batch::load(&manifest, &Default::default()).unwrap();
    assert_eq!(b.variants.len(), 24);
    assert_eq!(b.variants[0].name, "fitz-ii_soft_studio_front");
    assert_eq!(
        b.variants[1].name, "fitz-ii_soft_studio_top",
        "the last axis varies fastest"
    );
    assert_eq!(b.variants[23].name, "fitz-vi_dense_alt_top");
    let names: BTreeSet<String> = b
        .variants
        .iter()
        .map(|v| format!("{}.png", v.name))
        .collect();
    assert_eq!(names, expected_names());
    for v in &b.variants {
        let scene = v.scene.as_ref().expect("valid");
        assert_eq!(
            scene.spec.render.outputs,
            [stipple::scene::OutputKind::BeforeAfter]
        );
    }
    assert_eq!(
        b.variants[5]
            .scene
            .as_ref()
            .unwrap()
            .spec
            .plan
            .density_per_cm2,
        12.0
    );
    // Same manifest, same hashes; a changed value, a changed hash.
    let again = Batch::load(&manifest, &Default::default()).unwrap();
    assert!(
        b.variants
            .iter()
            .zip(&again.variants)
            .all(|(x, y)| x.hash == y.hash)
    );
    let hashes: BTreeSet<&str> = b.variants.iter().map(|v| v.hash.as_str()).collect();
    assert_eq!(hashes.len(), 24);
    let mut extra = toml::Table::new();
    extra.insert("render.disclaimer".into(), toml::Value::Boolean(false));
    let off = Batch::load(&manifest, &extra).unwrap();
    assert!(
        !off.variants[0]
            .scene
            .as_ref()
            .unwrap()
            .spec
            .render
            .disclaimer
    );
    assert_ne!(off.variants[0].hash, b.variants[0].hash);
    // Shards partition the variants.
    for n in 1..=5u32 {
        let mut seen = vec![0; 24];
        for i in 1..=n {
            for v in b.shard(Shard { index: i, count: n }) {
                seen[v.index] += 1;
            }
        }
        assert!(seen.iter().all(|&c| c == 1), "{n} shards: {seen:?}");
    }
    let _ = dir;
}

#[test]
fn dotted_keys_and_shards_parse() {
    let mut t: toml::Table = toml::from_str("[client]\nskin = \"#000000\"\n").unwrap();
    set_dotted(
        &mut t,
        "client.head.procedural.width_mm",
        toml::Value::Float(150.0),
    )
    .unwrap();
    set_dotted(
        &mut t,
        "render.lighting",
        toml::Value::String("studio".into()),
    )
    .unwrap();
    assert_eq!(
        t["client"]["head"]["procedural"]["width_mm"].as_float(),
        Some(150.0)
    );
    assert_eq!(t["client"]["skin"].as_str(), Some("#000000"));
    let e = set_dotted(&mut t, "client.skin.tone", toml::Value::Integer(1)).unwrap_err();
    assert!(e.contains("`client.skin` is a value"), "{e}");
    assert!(set_dotted(&mut t, "client..x", toml::Value::Integer(1)).is_err());
    assert_eq!(
        "2/8".parse::<Shard>().unwrap(),
        Shard { index: 2, count: 8 }
    );
    for bad in ["0/3", "4/3", "1/0", "3", "a/b"] {
        assert!(bad.parse::<Shard>().is_err(), "{bad}");
    }
}
