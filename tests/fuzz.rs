//! Fuzzing inside `cargo test`: the scene parser, the batch manifest parser and the mesh
//! loaders (OBJ, glTF/GLB, PLY) are fed mutations (proptest-generated edits: flipped and
//! inserted bytes, deleted and repeated runs, tokens such as `nan`, `1e38`, `[`, `f -1`, pieces
//! spliced from other inputs) of a seed corpus: the example scenes and manifest in `assets/`,
//! the built-in head written as OBJ, the shipped GLB head, and small hand-made meshes. Every
//! input must give a value or an error: no panic, no abort. Each target runs for
//! `STIPPLE_FUZZ_SECONDS` seconds (default 20; the targets run two at a time); a failing input
//! is saved under `target/fuzz-failures/` and named in the failure.

mod common;

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
enum Edit {
    Flip(u32, u8),
    Insert(u32, Vec<u8>),
    Token(u32, usize),
    Delete(u32, u16),
    Repeat(u32, u16, u8),
    Splice(u32, usize, u32, u16),
}

/// Tokens that make parsers work: numbers at the edges, brackets, quotes, OBJ keywords.
const TOKENS: &[&str] = &[
    "[",
    "]",
    "{",
    "}",
    "=",
    "\"",
    "'",
    ",",
    ".",
    "\n",
    "#",
    "nan",
    "inf",
    "-inf",
    "1e38",
    "-1e38",
    "1e-45",
    "0",
    "-1",
    "4294967295",
    "18446744073709551616",
    "0.0",
    "true",
    "[[",
    "]]",
    "v ",
    "f ",
    "vt ",
    "vn ",
    "f -1 -2 -3",
    "f 1 2 3",
    "/",
    "//",
    "\\",
    "o x\n",
    "g\n",
    "mtllib a.mtl\n",
    "usemtl m\n",
    "s off\n",
    "\"\"\"",
    "\u{feff}",
    "\r\n",
    "\0",
    "é",
    "fitzpatrick-VI",
    "#ffffff",
    "norwood-7",
    "ludwig-3",
    "hairline",
    "crown",
    "scar",
];

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<u32>(), any::<u8>()).prop_map(|(p, b)| Edit::Flip(p, b)),
        (any::<u32>(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(p, b)| Edit::Insert(p, b)),
        (any::<u32>(), 0..TOKENS.len()).prop_map(|(p, t)| Edit::Token(p, t)),
        (any::<u32>(), 1..64u16).prop_map(|(p, n)| Edit::Delete(p, n)),
        (any::<u32>(), 1..32u16, 1..16u8).prop_map(|(p, n, k)| Edit::Repeat(p, n, k)),
        (any::<u32>(), any::<usize>(), any::<u32>(), 1..256u16)
            .prop_map(|(p, c, q, n)| Edit::Splice(p, c, q, n)),
    ]
}

fn apply(mut data: Vec<u8>, edits: &[Edit], corpus: &[Vec<u8>]) -> Vec<u8> {
    let at = |p: u32, len: usize| if len == 0 { 0 } else { p as usize % (len + 1) };
    for e in edits {
        match e {
            Edit::Flip(p, b) if !data.is_empty() => {
                let i = *p as usize % data.len();
                data[i] ^= b | 1;
            }
            Edit::Flip(..) => {}
            Edit::Insert(p, b) => {
                let i = at(*p, data.len());
                data.splice(i..i, b.iter().copied());
            }
            Edit::Token(p, t) => {
                let i = at(*p, data.len());
                data.splice(i..i, TOKENS[*t].bytes());
            }
            Edit::Delete(p, n) => {
                let i = at(*p, data.len());
                let j = (i + *n as usize).min(data.len());
                data.drain(i..j);
            }
            Edit::Repeat(p, n, k) => {
                let i = at(*p, data.len());
                let j = (i + *n as usize).min(data.len());
                let run: Vec<u8> = data[i..j].to_vec();
                for _ in 0..*k {
                    data.splice(j..j, run.iter().copied());
                }
            }
            Edit::Splice(p, c, q, n) => {
                let other = &corpus[*c % corpus.len()];
                let s = at(*q, other.len());
                let t = (s + *n as usize).min(other.len());
                let i = at(*p, data.len());
                data.splice(i..i, other[s..t].iter().copied());
            }
        }
    }
    data
}

fn budget() -> Duration {
    let secs = std::env::var("STIPPLE_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .unwrap_or(20.0);
    Duration::from_secs_f64(secs)
}

/// Runs `target` on the corpus itself, then on mutations of it until the time budget is spent.
fn fuzz(name: &str, corpus: Vec<Vec<u8>>, target: impl Fn(&[u8]) + std::panic::RefUnwindSafe) {
    assert!(!corpus.is_empty());
    let failures_dir = common::manifest_dir().join("target").join("fuzz-failures");
    let mut failures = Vec::new();
    let mut run = |input: &[u8], n: usize| {
        // Quiet the default hook's message for each caught panic; it is reported below.
        if std::panic::catch_unwind(|| target(input)).is_err() {
            std::fs::create_dir_all(&failures_dir).unwrap();
            let path = failures_dir.join(format!("{name}-{n}.bin"));
            std::fs::write(&path, input).unwrap();
            failures.push(path);
        }
    };
    let start = Instant::now();
    for (i, seed) in corpus.iter().enumerate() {
        run(seed, i);
    }
    let strategy = (0..corpus.len(), prop::collection::vec(edit(), 1..10));
    // A fixed seed (per target, or `STIPPLE_FUZZ_SEED`): every run walks the same sequence of
    // inputs, so a slower machine runs a prefix of what passed here and CI never fails on a
    // finding that a lucky draw made; set the variable to explore further.
    let fuzz_seed = std::env::var("STIPPLE_FUZZ_SEED").unwrap_or_else(|_| name.to_string());
    let mut seed_bytes = [0u8; 32];
    for (i, b) in fuzz_seed.bytes().enumerate() {
        seed_bytes[i % 32] ^= b;
    }
    let rng = proptest::test_runner::TestRng::from_seed(
        proptest::test_runner::RngAlgorithm::ChaCha,
        &seed_bytes,
    );
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let budget = budget();
    let mut executions = corpus.len();
    while start.elapsed() < budget {
        let (seed, edits) = strategy
            .new_tree(&mut runner)
            .expect("a strategy value")
            .current();
        let input = apply(corpus[seed].clone(), &edits, &corpus);
        run(&input, executions);
        executions += 1;
    }
    eprintln!(
        "fuzz {name}: {executions} executions in {:.1} s, {} seeds, {} failures",
        start.elapsed().as_secs_f64(),
        corpus.len(),
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "fuzz {name}: {} inputs panicked; saved: {failures:?}",
        failures.len()
    );
}

fn files_in(dir: &Path, ext: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn fuzz_scene_parser() {
    let scenes = common::manifest_dir().join("assets").join("scenes");
    let corpus: Vec<Vec<u8>> = files_in(&scenes, "toml")
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    let file = scenes.join("fuzzed.toml");
    fuzz("scene", corpus, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        if let Ok(scene) = stipple::scene::Scene::parse(&text, &file) {
            // What the later stages take from a valid scene.
            let _ = scene.plan();
            let _ = scene.skin();
            let _ = scene.lighting();
        }
    });
}

#[test]
fn fuzz_batch_manifest_parser() {
    let batches = common::manifest_dir().join("assets").join("batches");
    let corpus: Vec<Vec<u8>> = files_in(&batches, "toml")
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    let file = batches.join("fuzzed.toml");
    fuzz("manifest", corpus, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let _ = stipple::batch::Batch::parse(&text, &file, &toml::Table::new());
    });
}

/// Small meshes that reach the loader's corners: polygons, negative indices, normals and UVs,
/// several objects, a degenerate triangle.
const SMALL_OBJS: &[&str] = &[
    "v 0 0 0\nv 100 0 0\nv 0 100 0\nv 0 0 100\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n",
    "v -50 -50 0\nv 50 -50 0\nv 50 50 0\nv -50 50 0\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\nvn 0 0 1\nf 1/1/1 2/2/1 3/3/1 4/4/1\n",
    "o a\nv 0 0 0\nv 1 0 0\nv 0 1 0\nf -3 -2 -1\no b\nv 0 0 1\nv 1 0 1\nv 1 0 1\nf 4 5 6\n",
    "# comment\ng head\nv 0 0 0 1\nv 10 0 0\nv 0 10 0\nv 0 0 10\nf 1//1 2//1 3//1\nvn 0 1 0\nf 1 2 4\n",
];

#[test]
fn fuzz_obj_loader() {
    let head = stipple::head::procedural::build(&stipple::head::procedural::ProceduralHeadParams {
        subdivisions: 3,
        ..Default::default()
    });
    let dir = common::temp_dir("fuzz-obj");
    let path = dir.join("head.obj");
    stipple::head::obj::write_obj(&head, &path).unwrap();
    let mut corpus = vec![std::fs::read(&path).unwrap()];
    corpus.extend(SMALL_OBJS.iter().map(|s| s.as_bytes().to_vec()));
    let import = stipple::head::obj::ObjImport::new(dir.join("fuzzed.obj"));
    fuzz("obj", corpus, |bytes| {
        let _ = stipple::head::obj::load_obj_bytes(bytes, &import);
    });
}

/// A binary glTF (GLB) holding a tetrahedron with a base colour factor and a node transform.
fn small_glb() -> Vec<u8> {
    let positions: [f32; 12] = [0., 0., 0., 100., 0., 0., 0., 100., 0., 0., 0., 100.];
    let indices: [u16; 12] = [0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3];
    let mut bin: Vec<u8> = positions.iter().flat_map(|v| v.to_le_bytes()).collect();
    bin.extend(indices.iter().flat_map(|v| v.to_le_bytes()));
    let json = format!(
        r#"{{"asset":{{"version":"2.0"}},"scene":0,"scenes":[{{"nodes":[0]}}],"nodes":[{{"mesh":0,"scale":[0.001,0.001,0.001]}}],"meshes":[{{"primitives":[{{"attributes":{{"POSITION":0}},"indices":1,"material":0}}]}}],"materials":[{{"pbrMetallicRoughness":{{"baseColorFactor":[0.8,0.6,0.5,1.0]}}}}],"buffers":[{{"byteLength":{}}}],"bufferViews":[{{"buffer":0,"byteOffset":0,"byteLength":48}},{{"buffer":0,"byteOffset":48,"byteLength":24}}],"accessors":[{{"bufferView":0,"componentType":5126,"count":4,"type":"VEC3","min":[0,0,0],"max":[100,100,100]}},{{"bufferView":1,"componentType":5123,"count":12,"type":"SCALAR"}}]}}"#,
        bin.len()
    );
    let mut json = json.into_bytes();
    while json.len() % 4 != 0 {
        json.push(b' ');
    }
    let total = 12 + 8 + json.len() + 8 + bin.len();
    let mut glb = Vec::with_capacity(total);
    glb.extend(b"glTF");
    glb.extend(2u32.to_le_bytes());
    glb.extend((total as u32).to_le_bytes());
    glb.extend((json.len() as u32).to_le_bytes());
    glb.extend(b"JSON");
    glb.extend(&json);
    glb.extend((bin.len() as u32).to_le_bytes());
    glb.extend(b"BIN\0");
    glb.extend(&bin);
    glb
}

#[test]
fn fuzz_gltf_loader() {
    let mut corpus = vec![small_glb()];
    let shipped = common::manifest_dir().join("assets/heads/lee-perry-smith/LeePerrySmith.glb");
    corpus.push(std::fs::read(shipped).unwrap());
    let dir = common::temp_dir("fuzz-glb");
    let import = stipple::head::obj::ObjImport::new(dir.join("fuzzed.glb"));
    // The seed itself must load, or the mutations would only exercise the header checks.
    stipple::head::obj::load_head_bytes(&corpus[0], &import).expect("the small GLB loads");
    fuzz("gltf", corpus, |bytes| {
        let _ = stipple::head::obj::load_head_bytes(bytes, &import);
    });
}

/// ASCII and binary PLY tetrahedra with vertex colours.
fn small_plys() -> Vec<Vec<u8>> {
    let verts: [[f32; 3]; 4] = [[0., 0., 0.], [100., 0., 0.], [0., 100., 0.], [0., 0., 100.]];
    let faces: [[u32; 3]; 4] = [[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]];
    let header = |format: &str| {
        format!(
            "ply\nformat {format} 1.0\nelement vertex 4\nproperty float x\nproperty float y\n\
             property float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n\
             element face 4\nproperty list uchar int vertex_indices\nend_header\n"
        )
    };
    let mut ascii = header("ascii");
    for v in verts {
        ascii += &format!("{} {} {} 200 150 120\n", v[0], v[1], v[2]);
    }
    for f in faces {
        ascii += &format!("3 {} {} {}\n", f[0], f[1], f[2]);
    }
    let mut binary = header("binary_little_endian").into_bytes();
    for v in verts {
        for c in v {
            binary.extend(c.to_le_bytes());
        }
        binary.extend([200u8, 150, 120]);
    }
    for f in faces {
        binary.push(3);
        for i in f {
            binary.extend((i as i32).to_le_bytes());
        }
    }
    vec![ascii.into_bytes(), binary]
}

#[test]
fn fuzz_ply_loader() {
    let corpus = small_plys();
    let dir = common::temp_dir("fuzz-ply");
    let import = stipple::head::obj::ObjImport::new(dir.join("fuzzed.ply"));
    for seed in &corpus {
        stipple::head::obj::load_head_bytes(seed, &import).expect("the small PLY loads");
    }
    fuzz("ply", corpus, |bytes| {
        let _ = stipple::head::obj::load_head_bytes(bytes, &import);
    });
}
