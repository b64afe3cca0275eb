//! Heads: the procedural head's shape, mesh quality and landmarks; OBJ loading (cleaning,
//! axes, errors, landmark estimates) on small synthetic files and on the shared real meshes.

use glam::Vec3;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use stipple::head::obj::{HeadError, LandmarkOverrides, ObjImport, UpAxis, load_obj, write_obj};
use stipple::head::procedural::{ProceduralHeadParams, build};
use stipple::head::{Head, TriMesh};

fn default_head() -> &'static Head {
    static HEAD: std::sync::OnceLock<Head> = std::sync::OnceLock::new();
    HEAD.get_or_init(|| build(&ProceduralHeadParams::default()))
}

/// A fresh, empty scratch directory for one test.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stipple-heads-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write_file(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Measured (length, width, height) of a procedural head, as the parameters define them:
/// glabella to occiput; widest skull breadth above the ears; vertex to the lowest point of the
/// chin (in front of the neck).
fn measure(head: &Head) -> (f32, f32, f32) {
    let l = &head.landmarks;
    let ears_y = l.ear_left.y.max(l.ear_right.y);
    let above_ears = head
        .mesh
        .positions_mm
        .iter()
        .filter(|p| p.y > ears_y + 10.0);
    let (lo, hi) = above_ears.fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.x), hi.max(p.x))
    });
    let chin = head
        .mesh
        .positions_mm
        .iter()
        .filter(|p| p.x.abs() < 15.0 && p.z > 0.6 * l.glabella.z)
        .fold(f32::INFINITY, |m, p| m.min(p.y));
    (l.glabella.z - l.occiput.z, hi - lo, l.top_of_head.y - chin)
}

fn assert_close(what: &str, got: f32, want: f32, rel: f32) {
    assert!(
        (got - want).abs() <= rel * want,
        "{what}: {got:.2} mm, expected {want:.2} mm ± {:.0} %",
        rel * 100.0
    );
}

/// Vertex neighbours from the triangles.
fn neighbours(mesh: &TriMesh) -> Vec<Vec<u32>> {
    let mut n = vec![Vec::new(); mesh.positions_mm.len()];
    for t in mesh.indices.chunks_exact(3) {
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            n[a as usize].push(b);
            n[b as usize].push(a);
        }
    }
    n
}

/// The scalp as the tests see it: above the brows, plus the back of the head down to the nape.
fn on_scalp(head: &Head, p: Vec3) -> bool {
    let l = &head.landmarks;
    p.y > l.glabella.y + 15.0 || (p.z < l.ear_left.z - 15.0 && p.y > l.ear_left.y - 70.0)
}

#[test]
fn procedural_head_has_the_requested_size() {
    let (length, width, height) = measure(default_head());
    assert_close("length", length, 195.0, 0.02);
    assert_close("width", width, 155.0, 0.02);
    assert_close("height", height, 230.0, 0.02);

    let params = ProceduralHeadParams {
        length_mm: 182.0,
        width_mm: 146.0,
        height_mm: 218.0,
        subdivisions: 5,
    };
    let (length, width, height) = measure(&build(&params));
    assert_close("length", length, 182.0, 0.03);
    assert_close("width", width, 146.0, 0.03);
    assert_close("height", height, 218.0, 0.03);
}

#[test]
fn procedural_head_is_a_closed_outward_radial_mesh() {
    let head = default_head();
    let mesh = &head.mesh;
    let n = mesh.positions_mm.len();
    assert!(n > 30_000, "level 6 should give ~41k vertices, got {n}");
    assert_eq!(mesh.normals.len(), n);
    assert_eq!(mesh.albedo_tint.len(), n);
    assert!(mesh.indices.iter().all(|&i| (i as usize) < n));

    // Watertight: every edge is shared by exactly two triangles.
    let mut edges: HashMap<(u32, u32), u32> = HashMap::new();
    for t in mesh.indices.chunks_exact(3) {
        for k in 0..3 {
            let (a, b) = (t[k], t[(k + 1) % 3]);
            *edges.entry((a.min(b), a.max(b))).or_default() += 1;
        }
    }
    let bad = edges.values().filter(|&&c| c != 2).count();
    assert_eq!(
        bad, 0,
        "{bad} edges are not shared by exactly two triangles"
    );
    assert_eq!(mesh.open_edge_count(), 0);

    // Every triangle winds counter-clockwise seen from outside (from the origin it faces away),
    // which for a radial graph also means nothing folds over.
    for t in 0..mesh.triangle_count() {
        let [a, b, c] = mesh.triangle(t);
        assert!(
            a.dot(b.cross(c)) > 0.0,
            "triangle {t} faces inward: {a} {b} {c}"
        );
    }
    assert!(
        mesh.signed_volume_mm3() > 3.0e6,
        "volume {}",
        mesh.signed_volume_mm3()
    );

    // Normals are unit and point outward wherever the surface faces the origin's rays.
    let mut inward = 0;
    for (p, nrm) in mesh.positions_mm.iter().zip(&mesh.normals) {
        assert!((nrm.length() - 1.0).abs() < 1e-3);
        if nrm.dot(p.normalize()) <= 0.0 {
            inward += 1;
        }
    }
    assert_eq!(inward, 0, "{inward} normals point toward the head's centre");

    // No pits or spikes: a vertex never sits far inside or outside all its neighbours.
    for (i, ns) in neighbours(mesh).iter().enumerate() {
        let r = mesh.positions_mm[i].length();
        let (lo, hi) = ns
            .iter()
            .map(|&j| mesh.positions_mm[j as usize].length())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        assert!(
            r > lo - 3.0 && r < hi + 3.0,
            "vertex {i} at {} is a pit or spike",
            mesh.positions_mm[i]
        );
    }
}

#[test]
fn procedural_scalp_is_finely_and_evenly_meshed_plain_skin() {
    let head = default_head();
    let mesh = &head.mesh;
    let mut longest = 0.0f32;
    let mut scalp_triangles = 0;
    for t in 0..mesh.triangle_count() {
        let tri = mesh.triangle(t);
        if !tri.iter().all(|p| on_scalp(head, *p)) {
            continue;
        }
        scalp_triangles += 1;
        for k in 0..3 {
            longest = longest.max(tri[k].distance(tri[(k + 1) % 3]));
        }
    }
    assert!(
        scalp_triangles > 20_000,
        "only {scalp_triangles} scalp triangles"
    );
    assert!(longest <= 2.5, "longest scalp edge {longest:.2} mm");

    // Smooth: neighbouring normals on the scalp turn by only a few degrees.
    let ns = neighbours(mesh);
    for (i, p) in mesh.positions_mm.iter().enumerate() {
        if !on_scalp(head, *p) || p.y < head.landmarks.ear_left.y + 10.0 {
            continue;
        }
        for &j in &ns[i] {
            let cos = mesh.normals[i].dot(mesh.normals[j as usize]);
            assert!(
                cos > 0.995,
                "crease on the scalp at {p}: normals {cos} apart"
            );
        }
        // No tint on the scalp: SMP is judged against plain skin.
        if p.y > head.landmarks.glabella.y + 25.0 {
            assert_eq!(mesh.albedo_tint[i], Vec3::ONE, "tinted scalp vertex at {p}");
        }
    }
    for t in &mesh.albedo_tint {
        assert!(
            t.is_finite() && t.min_element() > 0.0 && t.max_element() < 2.5,
            "tint {t}"
        );
    }
}

#[test]
fn procedural_landmarks_sit_where_anatomy_puts_them() {
    let head = default_head();
    let l = &head.landmarks;
    let mesh = &head.mesh;
    let (lo, hi) = mesh.bounds();
    let length = l.glabella.z - l.occiput.z;

    // Vertex: the highest point of the head, on the midline.
    assert!(
        l.top_of_head.y >= hi.y - 0.05,
        "top {} below mesh top {}",
        l.top_of_head,
        hi.y
    );
    assert!(l.top_of_head.x.abs() < 0.5);
    // Glabella: on the front midline, ~95-110 mm below the vertex, behind the nose tip.
    assert!(l.glabella.x.abs() < 0.5);
    let drop = l.top_of_head.y - l.glabella.y;
    assert!(
        (85.0..=115.0).contains(&drop),
        "glabella {drop} mm below the top"
    );
    assert!(l.glabella.z > 0.4 * length && l.glabella.z < hi.z);
    // Occiput: the most posterior point of the head.
    assert!(l.occiput.x.abs() < 0.5);
    assert!(
        l.occiput.z <= lo.z + 0.05,
        "occiput {} not the back of the head ({})",
        l.occiput,
        lo.z
    );
    assert!(l.occiput.y > l.glabella.y - 10.0 && l.occiput.y < l.top_of_head.y - 40.0);
    // Eye corners: either side, a little below the glabella, behind it, ~90 mm apart.
    for (c, side) in [
        (l.outer_eye_corner_left, 1.0),
        (l.outer_eye_corner_right, -1.0),
    ] {
        assert!(side * c.x > 35.0 && side * c.x < 55.0, "eye corner {c}");
        assert!(
            c.y < l.glabella.y && c.y > l.glabella.y - 35.0,
            "eye corner {c}"
        );
        assert!(c.z < l.glabella.z - 5.0 && c.z > 0.0, "eye corner {c}");
    }
    // Ears: either side, at about brow height, behind the eye corners.
    for (e, side) in [(l.ear_left, 1.0), (l.ear_right, -1.0)] {
        assert!(side * e.x > 60.0, "ear {e}");
        assert!((e.y - l.glabella.y).abs() < 30.0, "ear {e}");
        assert!(
            e.z < l.outer_eye_corner_left.z - 50.0 && e.z > l.occiput.z + 40.0,
            "ear {e}"
        );
    }
    // Left and right mirror each other.
    let mirror = |p: Vec3| Vec3::new(-p.x, p.y, p.z);
    assert!(l.ear_left.distance(mirror(l.ear_right)) < 0.01);
    assert!(
        l.outer_eye_corner_left
            .distance(mirror(l.outer_eye_corner_right))
            < 0.01
    );
    // The cranium centre, which angular coordinates use, is close to the mesh's origin.
    assert!(
        l.cranium_center().length() < 15.0,
        "cranium centre {}",
        l.cranium_center()
    );

    // Every landmark lies on the mesh itself.
    for (name, p) in l.named() {
        let hit = mesh.raycast(Vec3::ZERO, p.normalize()).expect(name);
        assert!(
            (hit - p.length()).abs() < 1e-3,
            "{name} {p} is {} mm off the mesh",
            hit - p.length()
        );
    }
}

#[test]
fn procedural_head_survives_odd_parameters() {
    let params = ProceduralHeadParams {
        length_mm: f32::NAN,
        width_mm: -3.0,
        height_mm: 230.0,
        subdivisions: 0,
    };
    let head = build(&params);
    assert!(head.mesh.positions_mm.iter().all(|p| p.is_finite()));
    assert_eq!(head.mesh.open_edge_count(), 0);
    let (length, width, _) = measure(&head);
    assert_close("fallback length", length, 195.0, 0.05);
    assert_close("fallback width", width, 155.0, 0.05);
}

#[test]
fn write_obj_then_load_obj_round_trips() {
    let head = default_head();
    let dir = scratch_dir("round-trip");
    let path = dir.join("head.obj");
    write_obj(head, &path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with('#') && text.contains("mm") && text.contains("+Y up"));

    // With the landmarks given, everything comes back as it went out.
    let l = head.landmarks;
    let overrides = LandmarkOverrides {
        glabella: Some(l.glabella),
        outer_eye_corner_left: Some(l.outer_eye_corner_left),
        outer_eye_corner_right: Some(l.outer_eye_corner_right),
        top_of_head: Some(l.top_of_head),
        occiput: Some(l.occiput),
        ear_left: Some(l.ear_left),
        ear_right: Some(l.ear_right),
    };
    let import = ObjImport {
        landmarks: overrides,
        ..ObjImport::new(&path)
    };
    let loaded = load_obj(&import).unwrap();
    assert_eq!(loaded.mesh.positions_mm.len(), head.mesh.positions_mm.len());
    // tobj numbers vertices in order of first use; floats print exactly, so match by bits.
    let original: HashMap<[u32; 3], u32> = head
        .mesh
        .positions_mm
        .iter()
        .enumerate()
        .map(|(i, p)| (p.to_array().map(f32::to_bits), i as u32))
        .collect();
    let to_original: Vec<u32> = loaded
        .mesh
        .positions_mm
        .iter()
        .map(|p| original[&p.to_array().map(f32::to_bits)])
        .collect();
    let indices: Vec<u32> = loaded
        .mesh
        .indices
        .iter()
        .map(|&i| to_original[i as usize])
        .collect();
    assert_eq!(indices, head.mesh.indices, "same triangles, same winding");
    for (i, n) in loaded.mesh.normals.iter().enumerate() {
        assert!(n.dot(head.mesh.normals[to_original[i] as usize]) > 0.9999);
    }
    assert_eq!(loaded.landmarks, head.landmarks);

    // Estimated from the geometry instead (the scan estimator: open eyes, so the eye corners
    // come from proportions), they land within 5 mm of the exact ones (issue 13).
    let estimated = load_obj(&ObjImport::new(&path)).unwrap().landmarks;
    let tolerance = [
        ("glabella", 3.0),
        ("outer_eye_corner_left", 5.0),
        ("outer_eye_corner_right", 5.0),
        ("top_of_head", 2.0),
        ("occiput", 3.0),
        ("ear_left", 5.0),
        ("ear_right", 5.0),
    ];
    for (((name, want), (_, got)), (_, tol)) in head
        .landmarks
        .named()
        .iter()
        .zip(estimated.named())
        .zip(tolerance)
    {
        eprintln!(
            "{name}: estimated {got}, exact {want}: {:.1} mm",
            want.distance(got)
        );
        assert!(
            want.distance(got) < tol,
            "{name}: estimated {got}, exact {want}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A unit cube written the way exporters write UV-mapped meshes: every face with its own four
/// corners (24 positions), as quads.
fn seamed_cube(flip: bool) -> String {
    let faces: [[[f32; 3]; 4]; 6] = [
        [[0., 0., 1.], [1., 0., 1.], [1., 1., 1.], [0., 1., 1.]],
        [[1., 0., 0.], [0., 0., 0.], [0., 1., 0.], [1., 1., 0.]],
        [[1., 0., 1.], [1., 0., 0.], [1., 1., 0.], [1., 1., 1.]],
        [[0., 0., 0.], [0., 0., 1.], [0., 1., 1.], [0., 1., 0.]],
        [[0., 1., 1.], [1., 1., 1.], [1., 1., 0.], [0., 1., 0.]],
        [[0., 0., 0.], [1., 0., 0.], [1., 0., 1.], [0., 0., 1.]],
    ];
    let mut s = String::from("# seamed cube\no cube\n");
    for f in &faces {
        for v in f {
            s += &format!("v {} {} {}\n", v[0], v[1], v[2]);
        }
    }
    for i in 0..6 {
        let b = 4 * i + 1;
        if flip {
            s += &format!("f {} {} {} {}\n", b + 3, b + 2, b + 1, b);
        } else {
            s += &format!("f {} {} {} {}\n", b, b + 1, b + 2, b + 3);
        }
    }
    s
}

#[test]
fn load_obj_welds_seams_and_winds_outward() {
    let dir = scratch_dir("weld");
    for flip in [false, true] {
        let path = write_file(&dir, "cube.obj", &seamed_cube(flip));
        let head = load_obj(&ObjImport {
            scale_to_mm: 100.0,
            ..ObjImport::new(&path)
        })
        .unwrap();
        let mesh = &head.mesh;
        assert_eq!(mesh.positions_mm.len(), 8, "seams must be welded");
        assert_eq!(mesh.triangle_count(), 12);
        assert_eq!(mesh.open_edge_count(), 0);
        assert!(
            (mesh.signed_volume_mm3() - 1.0e6).abs() < 1.0,
            "volume {}",
            mesh.signed_volume_mm3()
        );
        let centre = Vec3::splat(50.0);
        for (p, n) in mesh.positions_mm.iter().zip(&mesh.normals) {
            assert!(n.dot(*p - centre) > 0.0, "normal {n} at {p} points inward");
        }
        assert_eq!(mesh.albedo_tint, vec![Vec3::ONE; 8]);
    }

    // Mixed winding (one face flipped) is made consistent; degenerate triangles go.
    let mut text = seamed_cube(false);
    text = text.replace("f 1 2 3 4\n", "f 4 3 2 1\n");
    text += "f 1 2 9\n"; // corner 9 welds onto corner 2: two corners in one place
    text += "v 0.5 0 1\nf 1 25 2\n"; // three points on a line: no area
    let path = write_file(&dir, "mixed.obj", &text);
    let head = load_obj(&ObjImport::new(&path)).unwrap();
    let mesh = &head.mesh;
    assert_eq!((mesh.positions_mm.len(), mesh.triangle_count()), (8, 12));
    assert_eq!(mesh.open_edge_count(), 0);
    assert!(
        (mesh.signed_volume_mm3() - 1.0).abs() < 1e-4,
        "volume {}",
        mesh.signed_volume_mm3()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn load_obj_converts_z_up_files_and_scales() {
    let dir = scratch_dir("z-up");
    // A tetrahedron in Blender's convention: +Z up, the "face" (apex 3) toward −Y.
    let text = "v 0 0 0\nv 1 0 0\nv 0 -1 0\nv 0 0 2\nf 1 3 2\nf 1 2 4\nf 2 3 4\nf 3 1 4\n";
    let path = write_file(&dir, "tet.obj", text);
    let import = ObjImport {
        scale_to_mm: 10.0,
        up: UpAxis::Z,
        landmarks: LandmarkOverrides {
            top_of_head: Some(Vec3::new(0.0, 0.0, 2.0)),
            ..Default::default()
        },
        ..ObjImport::new(&path)
    };
    let head = load_obj(&import).unwrap();
    let (lo, hi) = head.mesh.bounds();
    assert_eq!(hi.y, 20.0, "file +Z must become head +Y (up)");
    assert_eq!(hi.z, 10.0, "file −Y must become head +Z (forward)");
    assert_eq!((lo.x, hi.x), (0.0, 10.0), "file +X stays head +X");
    assert_eq!(
        head.landmarks.top_of_head,
        Vec3::new(0.0, 20.0, 0.0),
        "overrides use file axes and units"
    );
    assert!(head.mesh.signed_volume_mm3() > 0.0);
    let _ = std::fs::remove_dir_all(&dir);
}

fn error_text(import: &ObjImport) -> String {
    match load_obj(import) {
        Ok(_) => panic!("{} loaded, expected an error", import.path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn load_obj_errors_name_the_file_and_what_was_expected() {
    let dir = scratch_dir("errors");

    let missing = dir.join("no-such-head.obj");
    let err = load_obj(&ObjImport::new(&missing)).unwrap_err();
    assert!(matches!(err, HeadError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("no-such-head.obj"), "{err}");

    // Text without faces: nothing to build a head from.
    let prose = write_file(&dir, "notes.obj", "This is not a mesh.\nJust words.\n");
    let msg = error_text(&ObjImport::new(&prose));
    assert!(
        msg.contains("notes.obj") && msg.contains("no triangles"),
        "{msg}"
    );

    // Binary garbage: tobj cannot read it as text.
    let garbage = dir.join("garbage.obj");
    std::fs::write(&garbage, [0xff, 0xfe, 0x00, 0x80, 0x81, b'\n', 0xc3, 0x28]).unwrap();
    let err = load_obj(&ObjImport::new(&garbage)).unwrap_err();
    assert!(matches!(err, HeadError::Parse { .. }), "{err:?}");
    assert!(err.to_string().contains("garbage.obj"), "{err}");

    // A malformed vertex line, with tobj's own reason.
    let bad_v = write_file(&dir, "bad-vertex.obj", "v 1 2\nf 1 1 1\n");
    let msg = error_text(&ObjImport::new(&bad_v));
    assert!(
        msg.contains("bad-vertex.obj") && msg.contains("position"),
        "{msg}"
    );

    // Points and lines only.
    let lines = write_file(
        &dir,
        "lines.obj",
        "v 0 0 0\nv 1 0 0\nv 0 1 0\nl 1 2\nl 2 3\n",
    );
    assert!(error_text(&ObjImport::new(&lines)).contains("no triangles"));

    let nan = write_file(&dir, "nan.obj", "v 0 0 0\nv 1 0 0\nv 0 nan 0\nf 1 2 3\n");
    let err = load_obj(&ObjImport::new(&nan)).unwrap_err();
    assert!(matches!(err, HeadError::NonFinite { .. }), "{err:?}");
    assert!(err.to_string().contains("nan.obj"));

    let ok = write_file(&dir, "tri.obj", "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n");
    let err = load_obj(&ObjImport {
        scale_to_mm: 0.0,
        ..ObjImport::new(&ok)
    })
    .unwrap_err();
    assert!(matches!(err, HeadError::BadScale { .. }) && err.to_string().contains("tri.obj"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The shared real meshes (not in the repository); `None`, with a message, where absent.
fn shared_mesh(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/meshes")
        .join(rel);
    if path.is_file() {
        Some(path)
    } else {
        eprintln!("skipping: shared mesh {} is not present", path.display());
        None
    }
}

/// Checks that estimated landmarks sit plausibly on a real bust whose head spans `top` down.
fn assert_plausible_landmarks(name: &str, head: &Head) {
    let l = &head.landmarks;
    let top = l.top_of_head.y;
    let mid = l.top_of_head.x;
    let drop = top - l.glabella.y;
    assert!(
        (75.0..=140.0).contains(&drop),
        "{name}: glabella {drop:.0} mm below the top"
    );
    assert!(
        l.glabella.z > l.top_of_head.z + 50.0,
        "{name}: glabella {} not in front",
        l.glabella
    );
    assert!(
        l.occiput.z < l.top_of_head.z - 50.0,
        "{name}: occiput {} not behind",
        l.occiput
    );
    let length = l.glabella.z - l.occiput.z;
    assert!(
        (160.0..=230.0).contains(&length),
        "{name}: head length {length:.0} mm"
    );
    for (c, side) in [
        (l.outer_eye_corner_left, 1.0),
        (l.outer_eye_corner_right, -1.0),
    ] {
        assert!(
            side * (c.x - mid) > 25.0,
            "{name}: eye corner {c} on the wrong side"
        );
        assert!(
            c.y < l.glabella.y && c.y > l.glabella.y - 40.0,
            "{name}: eye corner {c}"
        );
        assert!(
            c.z > l.occiput.z + 0.6 * length,
            "{name}: eye corner {c} not on the face"
        );
    }
    for (e, side) in [(l.ear_left, 1.0), (l.ear_right, -1.0)] {
        let out = side * (e.x - mid);
        assert!(
            (50.0..=110.0).contains(&out),
            "{name}: ear {e} is {out:.0} mm from the midline"
        );
        assert!(
            (e.y - l.glabella.y).abs() < 45.0,
            "{name}: ear {e} far from brow height"
        );
        assert!(
            e.z < l.glabella.z - 60.0 && e.z > l.occiput.z + 20.0,
            "{name}: ear {e}"
        );
    }
    // The cranium centre lies inside the head.
    let c = head.cranium_center();
    assert!(
        c.y < top - 60.0 && c.y > top - 140.0,
        "{name}: cranium centre {c}"
    );
}

#[test]
fn lee_perry_smith_loads_at_real_size() {
    let Some(path) = shared_mesh("lee_perry_smith/LeePerrySmith.obj") else {
        return;
    };
    let head = load_obj(&ObjImport {
        scale_to_mm: 46.0,
        ..ObjImport::new(&path)
    })
    .unwrap();
    let mesh = &head.mesh;
    // SOURCES.md: 8838 positions once UV seams are welded; closed; 17,672 triangles.
    assert_eq!(mesh.positions_mm.len(), 8838);
    assert_eq!(mesh.triangle_count(), 17_672);
    assert_eq!(mesh.open_edge_count(), 0, "welded LPS must be watertight");
    assert!(mesh.signed_volume_mm3() > 0.0);
    let (lo, hi) = mesh.bounds();
    assert!(
        (300.0..=420.0).contains(&(hi.y - lo.y)),
        "bust height {}",
        hi.y - lo.y
    );
    assert_plausible_landmarks("LeePerrySmith", &head);
}

#[test]
fn demosthenes_loads_at_real_size() {
    let Some(path) = shared_mesh("demosthenes/demosthenes-low-res.obj") else {
        return;
    };
    let head = load_obj(&ObjImport {
        scale_to_mm: 160.0,
        ..ObjImport::new(&path)
    })
    .unwrap();
    let mesh = &head.mesh;
    assert_eq!(mesh.positions_mm.len(), 8394);
    assert_eq!(mesh.triangle_count(), 16_719);
    // Open at the base of the bust: one 67-edge boundary loop.
    assert_eq!(mesh.open_edge_count(), 67);
    assert!(
        mesh.signed_volume_mm3() > 0.0,
        "must wind outward despite the open base"
    );
    let (lo, hi) = mesh.bounds();
    assert!(
        (350.0..=500.0).contains(&(hi.y - lo.y)),
        "bust height {}",
        hi.y - lo.y
    );
    assert_plausible_landmarks("Demosthenes", &head);
}
