//! `stipple batch` on a simulated cluster: N worker processes on this machine, each started
//! with the variables a scheduler would give it (Kubernetes Indexed Job, Slurm job array, AWS
//! Batch array job), render one 24-item manifest into one folder. Also: a worker killed
//! mid-run and restarted, two workers racing on the same index, a farm's item ranges, the
//! merge, and bad scheduler values. Frames are 64 px with few dots to keep it fast.

mod common;

use common::{stipple, temp_dir};

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use stipple::batch::Batch;

const BASE_SCENE: &str = r##"
[client]
skin = "#c68e6b"
[plan]
seed = 5
density_per_cm2 = 4
[render]
width = 64
height = 64
supersample = 1
views = ["front"]
outputs = ["after"]
pigment_map_size = 64
"##;

/// 3 skin tones x 2 plans x 2 lighting x 2 views = 24 items, one file each.
fn manifest_24() -> String {
    let alt = stipple::lighting::Lighting::preset_names()
        .into_iter()
        .find(|n| *n != "studio")
        .unwrap_or("studio");
    format!(
        r##"
scene = "base.toml"
[sheet]
tile_width = 64
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
  {{ label = "soft", set = {{ "plan.shade" = 0.5 }} }},
  {{ label = "dense", set = {{ "plan.density_per_cm2" = 6 }} }},
]
[[axes]]
name = "light"
values = [
  {{ label = "studio", set = {{ "render.lighting" = "studio" }} }},
  {{ label = "alt", set = {{ "render.lighting" = "{alt}" }} }},
]
[[axes]]
name = "view"
values = [
  {{ label = "front", set = {{ "render.views" = ["front"] }} }},
  {{ label = "top", set = {{ "render.views" = ["top"] }} }},
]
"##
    )
}

/// Every variable a scheduler could set, removed from each worker's environment first.
const SCHEDULER_VARS: [&str; 8] = [
    "JOB_COMPLETION_INDEX",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_STEP",
    "SLURM_ARRAY_TASK_COUNT",
    "AWS_BATCH_JOB_ARRAY_INDEX",
    "STIPPLE_SHARD_COUNT",
];

/// One worker: its scheduler variables and extra arguments.
type WorkerSpec<'a> = (Vec<(&'a str, String)>, Vec<&'a str>);

struct Setup {
    manifest: PathBuf,
    out: PathBuf,
    batch: Batch,
}

fn setup(name: &str) -> Setup {
    let dir = temp_dir(name);
    std::fs::write(dir.join("base.toml"), BASE_SCENE).unwrap();
    let manifest = dir.join("batch.toml");
    std::fs::write(&manifest, manifest_24()).unwrap();
    let batch = Batch::load(&manifest, &Default::default()).unwrap();
    assert_eq!(batch.variants.len(), 24);
    Setup {
        out: dir.join("out"),
        manifest,
        batch,
    }
}

impl Setup {
    /// A worker of the batch with a scheduler's variables.
    fn worker(&self, vars: &[(&str, String)], args: &[&str]) -> Command {
        let mut c = stipple();
        for v in SCHEDULER_VARS {
            c.env_remove(v);
        }
        c.envs(vars.iter().map(|(k, v)| (k, v)));
        c.arg("batch")
            .arg(&self.manifest)
            .arg("--out")
            .arg(&self.out)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Starts the workers together, as a scheduler would, and waits for them all.
    fn run_all(&self, workers: Vec<WorkerSpec>) -> Vec<Output> {
        let children: Vec<_> = workers
            .iter()
            .map(|(vars, args)| self.worker(vars, args).spawn().unwrap())
            .collect();
        children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap())
            .collect()
    }

    fn merge(&self) -> Output {
        let mut c = stipple();
        for v in SCHEDULER_VARS {
            c.env_remove(v);
        }
        c.arg("batch")
            .arg(&self.manifest)
            .arg("--merge")
            .arg(&self.out)
            .output()
            .unwrap()
    }

    fn names(&self, pick: impl Fn(usize) -> bool) -> BTreeSet<String> {
        self.batch
            .variants
            .iter()
            .filter(|v| pick(v.index))
            .map(|v| format!("{}.png", v.name))
            .collect()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file in the output folder (hidden ones too: temporaries, locks).
fn listing(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect()
}

/// The item images in the output folder.
fn outputs(dir: &Path) -> BTreeSet<String> {
    listing(dir)
        .into_iter()
        .filter(|n| n.ends_with(".png") && !n.starts_with("contact-sheet") && !n.starts_with('.'))
        .collect()
}

/// How many times each item was rendered, from the `done` lists of the per-worker summaries.
fn renders(dir: &Path) -> BTreeMap<String, usize> {
    let mut count = BTreeMap::new();
    for n in listing(dir) {
        if n.starts_with("batch-summary-") && n.ends_with(".json") {
            let s: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(dir.join(&n)).unwrap()).unwrap();
            for id in s["done"].as_array().unwrap() {
                *count
                    .entry(format!("{}.png", id.as_str().unwrap()))
                    .or_insert(0) += 1;
            }
        }
    }
    count
}

/// The folder holds exactly `expected` item images, each decodes in full and is the item its
/// name says, and nothing half-done is left (no temporary file, no lock).
fn assert_complete(dir: &Path, expected: &BTreeSet<String>) {
    assert_eq!(&outputs(dir), expected);
    for n in expected {
        let info =
            stipple::output::png::read_png(&dir.join(n)).unwrap_or_else(|e| panic!("{n}: {e}"));
        assert_eq!(
            info.meta.get(stipple::output::png::keys::VARIANT),
            Some(n.trim_end_matches(".png"))
        );
        image::open(dir.join(n)).unwrap_or_else(|e| panic!("{n} does not decode: {e}"));
    }
    let stray: Vec<String> = listing(dir)
        .into_iter()
        .filter(|n| n.ends_with(".tmp") || n == ".stipple-locks")
        .collect();
    assert!(stray.is_empty(), "left behind: {stray:?}");
}

fn assert_each_rendered_once(dir: &Path, expected: &BTreeSet<String>) {
    let r = renders(dir);
    assert_eq!(
        r.keys().cloned().collect::<BTreeSet<_>>(),
        *expected,
        "items rendered per the summaries"
    );
    let twice: Vec<_> = r.iter().filter(|(_, c)| **c != 1).collect();
    assert!(twice.is_empty(), "rendered more than once: {twice:?}");
}

fn assert_success(outs: &[Output]) {
    for o in outs {
        assert!(o.status.success(), "{}", text(o));
    }
}

#[test]
fn kubernetes_indexed_job_renders_every_item_once_and_merges() {
    let s = setup("cluster-k8s");
    let workers = (0..3)
        .map(|i| {
            (
                vec![("JOB_COMPLETION_INDEX", i.to_string())],
                vec!["--shard", "auto/3"],
            )
        })
        .collect();
    let outs = s.run_all(workers);
    assert_success(&outs);
    assert!(
        text(&outs[2]).contains("JOB_COMPLETION_INDEX=2"),
        "{}",
        text(&outs[2])
    );
    let all = s.names(|_| true);
    assert_complete(&s.out, &all);
    assert_each_rendered_once(&s.out, &all);
    for i in 1..=3 {
        assert!(
            s.out
                .join(format!("batch-summary-shard-{i}-of-3.json"))
                .exists()
        );
    }
    let m = s.merge();
    assert!(m.status.success(), "{}", text(&m));
    assert!(
        text(&m).contains("24 of 24 items complete, 0 missing"),
        "{}",
        text(&m)
    );
    let sheet = image::open(s.out.join("contact-sheet.png")).unwrap();
    assert!(
        sheet.width() >= 4 * 64,
        "{}x{}",
        sheet.width(),
        sheet.height()
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.out.join("batch-summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["items_complete"], 24);
    assert_eq!(summary["summaries"].as_array().unwrap().len(), 3);
}

#[test]
fn slurm_array_starting_at_5_with_a_step_of_3_renders_every_item_once() {
    let s = setup("cluster-slurm");
    // sbatch --array=5-14:3: task ids 5, 8, 11, 14. No --shard: the variables decide.
    let workers = [5, 8, 11, 14]
        .into_iter()
        .map(|id| {
            (
                vec![
                    ("SLURM_ARRAY_TASK_ID", id.to_string()),
                    ("SLURM_ARRAY_TASK_MIN", "5".to_string()),
                    ("SLURM_ARRAY_TASK_MAX", "14".to_string()),
                    ("SLURM_ARRAY_TASK_STEP", "3".to_string()),
                    ("SLURM_ARRAY_TASK_COUNT", "4".to_string()),
                ],
                vec![],
            )
        })
        .collect();
    let outs = s.run_all(workers);
    assert_success(&outs);
    let all = s.names(|_| true);
    assert_complete(&s.out, &all);
    assert_each_rendered_once(&s.out, &all);
    // Task 8 is the array's second task: shard 2 of 4.
    let s2: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.out.join("batch-summary-shard-2-of-4.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(s2["done"].as_array().unwrap().len(), 6);
    assert!(
        s2["worker"]["source"]
            .as_str()
            .unwrap()
            .contains("SLURM_ARRAY_TASK_ID=8")
    );
}

#[test]
fn aws_batch_array_merge_names_the_missing_items_until_every_child_ran() {
    let s = setup("cluster-aws");
    let child = |i: usize| {
        (
            vec![
                ("AWS_BATCH_JOB_ARRAY_INDEX", i.to_string()),
                ("STIPPLE_SHARD_COUNT", "4".to_string()),
            ],
            vec![],
        )
    };
    assert_success(&s.run_all(vec![child(0), child(1)]));
    let m = s.merge();
    let t = text(&m);
    assert_eq!(m.status.code(), Some(1), "{t}");
    assert!(t.contains("12 of 24 items complete, 12 missing"), "{t}");
    for v in &s.batch.variants {
        let listed = t.contains(&format!("MISSING {} (#{})", v.name, v.index));
        assert_eq!(listed, v.index % 4 >= 2, "{}: {t}", v.name);
    }
    assert_success(&s.run_all(vec![child(2), child(3)]));
    let m = s.merge();
    assert!(m.status.success(), "{}", text(&m));
    let all = s.names(|_| true);
    assert_complete(&s.out, &all);
    assert_each_rendered_once(&s.out, &all);
}

#[test]
fn a_farm_plans_chunks_from_stable_ids_and_renders_item_ranges() {
    let s = setup("cluster-farm");
    let list = |args: &[&str]| -> Vec<serde_json::Value> {
        let o = s
            .worker(&[], &[&["--list", "--json"], args].concat())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", text(&o));
        serde_json::from_slice::<Vec<serde_json::Value>>(&o.stdout).unwrap()
    };
    let full = list(&[]);
    assert_eq!(full.len(), 24);
    assert_eq!(full[5]["id"], s.batch.variants[5].name.as_str());
    assert_eq!(full[5]["index"], 5);
    // A shard lists the same items under the same ids.
    for item in list(&["--shard", "2/3"]) {
        let i = item["index"].as_u64().unwrap() as usize;
        assert_eq!(i % 3, 1);
        assert_eq!(item, full[i]);
    }
    // Two chunks, as a farm with chunk size 10 and then 14 would send them.
    let outs = s.run_all(vec![
        (vec![], vec!["--items", "0-9"]),
        (vec![], vec!["--items", "10-23"]),
    ]);
    assert_success(&outs);
    assert!(s.out.join("batch-summary-items-0-9.json").exists());
    let all = s.names(|_| true);
    assert_complete(&s.out, &all);
    assert_each_rendered_once(&s.out, &all);
    // A chunk past the end is an error that says how many items there are.
    let o = s.worker(&[], &["--items", "20-29"]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("24 items, 0 to 23"), "{}", text(&o));
}

#[test]
fn a_worker_killed_mid_run_and_restarted_with_the_same_index_finishes_the_set() {
    let s = setup("cluster-kill");
    let vars = vec![("JOB_COMPLETION_INDEX", "1".to_string())];
    let shard = s.names(|i| i % 2 == 1);
    let mut first = s.worker(&vars, &["--shard", "auto/2"]).spawn().unwrap();
    let t = Instant::now();
    while !s.out.exists() || outputs(&s.out).len() < 3 {
        assert!(t.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    first.kill().unwrap();
    first.wait().unwrap();
    let done_before = outputs(&s.out);
    assert!(done_before.len() < shard.len(), "killed before the end");
    // What a worker killed in the middle of an item leaves: its lock and a half-written
    // temporary file. Make sure one unfinished item has both.
    let victim = shard
        .iter()
        .find(|n| !done_before.contains(*n))
        .unwrap()
        .clone();
    let id = victim.trim_end_matches(".png");
    let mut gone = Command::new(env!("CARGO_BIN_EXE_stipple"))
        .arg("--version")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let dead_pid = gone.id();
    gone.wait().unwrap();
    let mut owner = stipple::batch::lock::Owner::me();
    owner.pid = dead_pid;
    let locks = s.out.join(".stipple-locks");
    std::fs::create_dir_all(&locks).unwrap();
    std::fs::write(
        locks.join(format!("{id}.lock")),
        serde_json::to_string(&owner).unwrap(),
    )
    .unwrap();
    let partial = s.out.join(format!(".{victim}.{dead_pid}-0-0badf00d.tmp"));
    std::fs::write(&partial, b"\x89PNG\r\n\x1a\nhalf").unwrap();

    let again = s.worker(&vars, &["--shard", "auto/2"]).output().unwrap();
    let t = text(&again);
    assert!(again.status.success(), "{t}");
    assert!(
        t.contains(&format!("{id}: took over from pid {dead_pid}")) && t.contains("ended"),
        "{t}"
    );
    assert_complete(&s.out, &shard);
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(s.out.join("batch-summary-shard-2-of-2.json")).unwrap(),
    )
    .unwrap();
    let skipped: BTreeSet<String> = summary["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| format!("{}.png", v.as_str().unwrap()))
        .collect();
    let done: BTreeSet<String> = summary["done"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| format!("{}.png", v.as_str().unwrap()))
        .collect();
    assert_eq!(
        skipped, done_before,
        "what the killed worker finished is not rendered again"
    );
    assert!(done.is_disjoint(&skipped));
    assert_eq!(&done | &skipped, shard);
}

#[test]
fn two_workers_on_the_same_index_leave_each_item_once_and_whole() {
    let s = setup("cluster-race");
    // A retry racing a straggler: both have index 0 and run at the same time.
    let vars = vec![
        ("AWS_BATCH_JOB_ARRAY_INDEX", "0".to_string()),
        ("STIPPLE_SHARD_COUNT", "2".to_string()),
    ];
    let outs = s.run_all(vec![(vars.clone(), vec![]), (vars, vec![])]);
    assert_success(&outs);
    let shard = s.names(|i| i % 2 == 0);
    assert_complete(&s.out, &shard);
    // Each item rendered by one of the two, once: from their per-item log lines, since both
    // write the same shard's summary.
    for n in &shard {
        let id = n.trim_end_matches(".png");
        let rendered: usize = outs
            .iter()
            .map(|o| {
                String::from_utf8_lossy(&o.stderr)
                    .lines()
                    .filter(|l| l.contains(&format!("] {id}: rendered")))
                    .count()
            })
            .sum();
        assert_eq!(
            rendered,
            1,
            "{id}:\n--- worker 1\n{}\n--- worker 2\n{}",
            text(&outs[0]),
            text(&outs[1])
        );
    }
    assert_eq!(
        listing(&s.out).len(),
        shard.len() + 2,
        "{:?}",
        listing(&s.out)
    );
}

#[test]
fn bad_scheduler_values_name_the_variable() {
    let s = setup("cluster-bad");
    type Case<'a> = (Vec<(&'a str, &'a str)>, Vec<&'a str>, &'a str);
    let cases: Vec<Case> = vec![
        // An index beyond the count.
        (
            vec![("JOB_COMPLETION_INDEX", "3")],
            vec!["--shard", "auto/3"],
            "JOB_COMPLETION_INDEX=3 is beyond the 3 shards",
        ),
        (
            vec![
                ("AWS_BATCH_JOB_ARRAY_INDEX", "4"),
                ("STIPPLE_SHARD_COUNT", "4"),
            ],
            vec![],
            "AWS_BATCH_JOB_ARRAY_INDEX=4 is beyond the 4 shards",
        ),
        // Not a number.
        (
            vec![("AWS_BATCH_JOB_ARRAY_INDEX", "two")],
            vec!["--shard", "auto/4"],
            "AWS_BATCH_JOB_ARRAY_INDEX: expected a whole number",
        ),
        (
            vec![
                ("JOB_COMPLETION_INDEX", "1"),
                ("STIPPLE_SHARD_COUNT", "many"),
            ],
            vec![],
            "STIPPLE_SHARD_COUNT: expected a whole number",
        ),
        // A Slurm array whose ids skip some (a list) or an id off the step.
        (
            vec![
                ("SLURM_ARRAY_TASK_ID", "4"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_MAX", "9"),
                ("SLURM_ARRAY_TASK_STEP", "4"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ],
            vec![],
            "SLURM_ARRAY_TASK_ID=4 is not one of the array's ids",
        ),
        (
            vec![
                ("SLURM_ARRAY_TASK_ID", "1"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_MAX", "9"),
                ("SLURM_ARRAY_TASK_STEP", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
            ],
            vec![],
            "SLURM_ARRAY_TASK_COUNT=3, but ids 1 to 9",
        ),
        // Kubernetes without the count.
        (
            vec![("JOB_COMPLETION_INDEX", "0")],
            vec![],
            "--shard auto/N",
        ),
        // --shard auto outside any scheduler.
        (
            vec![],
            vec!["--shard", "auto"],
            "none of JOB_COMPLETION_INDEX",
        ),
    ];
    for (vars, args, expect) in cases {
        let vars: Vec<(&str, String)> = vars.iter().map(|(k, v)| (*k, v.to_string())).collect();
        let o = s.worker(&vars, &args).output().unwrap();
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{vars:?}: {t}");
        assert!(t.contains(expect), "{vars:?}: expected {expect:?} in: {t}");
        assert!(!t.contains("panicked"), "{t}");
        assert!(!s.out.exists(), "{vars:?}: nothing written");
    }
}
