//! Head scans as phone scanners write them: glTF / GLB, OBJ + MTL + texture, PLY with vertex
//! colours; cleaning (stray islands); the built-in photoscan and the skin tone measured on it;
//! textured heads rendered with their colours.
//!
//! Fixtures are made here or shipped in the repository (assets/heads/); the shared meshes are
//! read only by the `#[ignore]`d measurement at the end.

mod common;

use glam::Vec3;
use std::path::{Path, PathBuf};
use stipple::head::Head;
use stipple::head::obj::{ObjImport, UpAxis, load_head};

fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("stipple-scans-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A 2 x 2 texture: red, green (top row), blue, white (bottom row), as PNG bytes.
fn quad_texture_png() -> Vec<u8> {
    let img = image::RgbaImage::from_fn(2, 2, |x, y| match (x, y) {
        (0, 0) => image::Rgba([255, 0, 0, 255]),
        (1, 0) => image::Rgba([0, 255, 0, 255]),
        (0, 1) => image::Rgba([0, 0, 255, 255]),
        _ => image::Rgba([255, 255, 255, 255]),
    });
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    bytes
}

/// Unit cube corners and its 6 faces as quads (counter-clockwise from outside).
const CUBE_V: [[f32; 3]; 8] = [
    [0., 0., 0.],
    [1., 0., 0.],
    [1., 1., 0.],
    [0., 1., 0.],
    [0., 0., 1.],
    [1., 0., 1.],
    [1., 1., 1.],
    [0., 1., 1.],
];
const CUBE_F: [[u32; 4]; 6] = [
    [0, 3, 2, 1],
    [4, 5, 6, 7],
    [0, 1, 5, 4],
    [2, 3, 7, 6],
    [1, 2, 6, 5],
    [0, 4, 7, 3],
];

fn obj_cube(offset: Vec3, scale: f32, base: usize, with_uv: bool) -> String {
    let mut s = String::new();
    for v in CUBE_V {
        let p = Vec3::from_array(v) * scale + offset;
        s += &format!("v {} {} {}\n", p.x, p.y, p.z);
    }
    for f in CUBE_F {
        let i = f.map(|i| i as usize + 1 + base);
        if with_uv {
            // Every face maps the texture's top-left texel (red) in OBJ's bottom-left
            // convention: v = 0.75 is the top row.
            s += &format!("f {}/1 {}/1 {}/1 {}/1\n", i[0], i[1], i[2], i[3]);
        } else {
            s += &format!("f {} {} {} {}\n", i[0], i[1], i[2], i[3]);
        }
    }
    s
}

#[test]
fn obj_reads_its_mtl_texture_and_welds_without_losing_uvs() {
    let dir = scratch_dir("obj-mtl");
    std::fs::write(dir.join("skin.png"), quad_texture_png()).unwrap();
    std::fs::write(
        dir.join("cube.mtl"),
        "newmtl skin\nKd 0.8 0.8 0.8\nmap_Kd skin.png\n",
    )
    .unwrap();
    // Per-face UVs: face 0 the red texel, the rest the green one, so the cube has UV seams.
    let mut text = String::from("mtllib cube.mtl\nusemtl skin\nvt 0.25 0.75\nvt 0.75 0.75\n");
    for v in CUBE_V {
        text += &format!("v {} {} {}\n", v[0], v[1], v[2]);
    }
    for (k, f) in CUBE_F.iter().enumerate() {
        let t = if k == 0 { 1 } else { 2 };
        let i = f.map(|i| i + 1);
        text += &format!("f {}/{t} {}/{t} {}/{t} {}/{t}\n", i[0], i[1], i[2], i[3]);
    }
    let path = dir.join("cube.obj");
    std::fs::write(&path, text).unwrap();
    let head = load_head(&ObjImport {
        scale_to_mm: 100.0,
        ..ObjImport::new(&path)
    })
    .unwrap();
    let mesh = &head.mesh;
    assert_eq!(mesh.positions_mm.len(), 8, "geometry welds by position");
    assert_eq!(mesh.open_edge_count(), 0);
    assert_eq!(mesh.corner_uvs.len(), mesh.indices.len());
    assert!(mesh.albedo_map.is_some(), "map_Kd must be read");
    // Face 0 (z = 0) shows red, every other face green: the seam stays a seam.
    for t in 0..mesh.triangle_count() {
        let [a, b, c] = mesh.triangle(t);
        let on_back = a.z == 0.0 && b.z == 0.0 && c.z == 0.0;
        let col = mesh.scan_colour_at(t, Vec3::splat(1.0 / 3.0)).unwrap();
        let want = if on_back { Vec3::X } else { Vec3::Y };
        assert!(
            (col - want).length() < 1e-3,
            "triangle {t} (back: {on_back}) samples {col}, expected {want}"
        );
    }
    // OBJ's v runs up; stored UVs run down from the top-left.
    assert!(mesh.corner_uvs.iter().all(|uv| (uv.y - 0.25).abs() < 1e-6));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn obj_without_texture_takes_its_kd_as_colour() {
    let dir = scratch_dir("obj-kd");
    std::fs::write(dir.join("c.mtl"), "newmtl m\nKd 0.5 0.25 0.0\n").unwrap();
    let path = dir.join("c.obj");
    std::fs::write(
        &path,
        format!(
            "mtllib c.mtl\nusemtl m\n{}",
            obj_cube(Vec3::ZERO, 1.0, 0, false)
        ),
    )
    .unwrap();
    let head = load_head(&ObjImport::new(&path)).unwrap();
    assert!(head.mesh.albedo_map.is_none());
    let want = stipple::head::mesh::srgb_to_linear(Vec3::new(0.5, 0.25, 0.0));
    assert_eq!(head.mesh.vertex_colors.len(), 8);
    assert!(
        head.mesh
            .vertex_colors
            .iter()
            .all(|c| (*c - want).length() < 1e-5)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A PLY cube, Z up, with a colour per vertex (red on the bottom four, blue on the top four).
fn ply_cube(binary: bool) -> Vec<u8> {
    let header = format!(
        "ply\nformat {} 1.0\nelement vertex 8\nproperty float x\nproperty float y\n\
         property float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\n\
         element face 6\nproperty list uchar int vertex_indices\nend_header\n",
        if binary {
            "binary_little_endian"
        } else {
            "ascii"
        }
    );
    let mut out = header.into_bytes();
    for v in CUBE_V {
        let rgb: [u8; 3] = if v[2] == 0.0 {
            [255, 0, 0]
        } else {
            [0, 0, 255]
        };
        if binary {
            for c in v {
                out.extend_from_slice(&c.to_le_bytes());
            }
            out.extend_from_slice(&rgb);
        } else {
            out.extend(
                format!(
                    "{} {} {} {} {} {}\n",
                    v[0], v[1], v[2], rgb[0], rgb[1], rgb[2]
                )
                .bytes(),
            );
        }
    }
    for f in CUBE_F {
        if binary {
            out.push(4);
            for i in f {
                out.extend_from_slice(&(i as i32).to_le_bytes());
            }
        } else {
            out.extend(format!("4 {} {} {} {}\n", f[0], f[1], f[2], f[3]).bytes());
        }
    }
    out
}

#[test]
fn ply_ascii_and_binary_read_vertex_colours_and_axes() {
    let dir = scratch_dir("ply");
    for binary in [false, true] {
        let path = dir.join(format!("cube-{binary}.ply"));
        std::fs::write(&path, ply_cube(binary)).unwrap();
        let head = load_head(&ObjImport {
            scale_to_mm: 10.0,
            up: UpAxis::Z,
            ..ObjImport::new(&path)
        })
        .unwrap();
        let mesh = &head.mesh;
        assert_eq!((mesh.positions_mm.len(), mesh.triangle_count()), (8, 12));
        assert_eq!(mesh.open_edge_count(), 0);
        assert!(mesh.signed_volume_mm3() > 0.0, "winds outward");
        assert_eq!(mesh.vertex_colors.len(), 8, "binary {binary}");
        for (p, c) in mesh.positions_mm.iter().zip(&mesh.vertex_colors) {
            // File z (up) is head y, in mm.
            let want = if p.y == 0.0 { Vec3::X } else { Vec3::Z };
            assert!(
                (*c - want).length() < 1e-5,
                "vertex {p}: {c}, expected {want}"
            );
            assert!([0.0, 10.0].contains(&p.y));
        }
    }
    // A PLY without faces is no head: the error names the file.
    let path = dir.join("points.ply");
    std::fs::write(
        &path,
        "ply\nformat ascii 1.0\nelement vertex 1\nproperty float x\nproperty float y\n\
         property float z\nend_header\n0 0 0\n",
    )
    .unwrap();
    let err = load_head(&ObjImport::new(&path)).unwrap_err().to_string();
    assert!(
        err.contains("points.ply") && err.contains("no triangles"),
        "{err}"
    );
    let path = dir.join("broken.ply");
    std::fs::write(
        &path,
        "ply\nformat ascii 1.0\nelement vertex 3\nend_header\n",
    )
    .unwrap();
    let err = load_head(&ObjImport::new(&path)).unwrap_err().to_string();
    assert!(err.contains("broken.ply") && err.contains("PLY"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A binary glTF: the unit cube (24 vertices, a UV per face corner) under a node that scales it
/// by 2 and moves it up 1 m, its material's base colour a texture (or only a factor).
fn glb_cube(textured: bool) -> Vec<u8> {
    let mut bin: Vec<u8> = Vec::new();
    let mut positions = Vec::new();
    let mut uvs = Vec::new();
    let mut indices: Vec<u32> = Vec::new();
    for f in CUBE_F {
        let base = positions.len() as u32;
        for (k, &i) in f.iter().enumerate() {
            positions.push(CUBE_V[i as usize]);
            // The whole face on the green texel (top right).
            uvs.push([0.75f32, 0.25 + 0.0 * k as f32]);
        }
        indices.extend_from_slice(&[base, base + 1, base + 2, base, base + 2, base + 3]);
    }
    let idx_off = bin.len();
    bin.extend(indices.iter().flat_map(|i| i.to_le_bytes()));
    let pos_off = bin.len();
    bin.extend(positions.iter().flatten().flat_map(|v| v.to_le_bytes()));
    let uv_off = bin.len();
    bin.extend(uvs.iter().flatten().flat_map(|v| v.to_le_bytes()));
    let png = quad_texture_png();
    let img_off = bin.len();
    bin.extend_from_slice(&png);
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    let material = if textured {
        serde_json::json!({"pbrMetallicRoughness": {"baseColorTexture": {"index": 0}}})
    } else {
        serde_json::json!({"pbrMetallicRoughness": {"baseColorFactor": [0.5, 0.25, 0.125, 1.0]}})
    };
    let mut json = serde_json::json!({
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"children": [1], "translation": [0.0, 1.0, 0.0]}, {"mesh": 0, "scale": [2.0, 2.0, 2.0]}],
        "meshes": [{"primitives": [{"attributes": {"POSITION": 1, "TEXCOORD_0": 2}, "indices": 0, "material": 0}]}],
        "materials": [material],
        "buffers": [{"byteLength": bin.len()}],
        "bufferViews": [
            {"buffer": 0, "byteOffset": idx_off, "byteLength": pos_off - idx_off},
            {"buffer": 0, "byteOffset": pos_off, "byteLength": uv_off - pos_off},
            {"buffer": 0, "byteOffset": uv_off, "byteLength": img_off - uv_off},
            {"buffer": 0, "byteOffset": img_off, "byteLength": png.len()}
        ],
        "accessors": [
            {"bufferView": 0, "componentType": 5125, "count": indices.len(), "type": "SCALAR"},
            {"bufferView": 1, "componentType": 5126, "count": positions.len(), "type": "VEC3",
             "min": [0.0, 0.0, 0.0], "max": [1.0, 1.0, 1.0]},
            {"bufferView": 2, "componentType": 5126, "count": uvs.len(), "type": "VEC2"}
        ]
    });
    if textured {
        json["images"] = serde_json::json!([{"bufferView": 3, "mimeType": "image/png"}]);
        json["textures"] = serde_json::json!([{"source": 0}]);
    }
    gltf_file(json, &bin, false)
}

#[test]
fn glb_applies_node_transforms_and_reads_base_colour() {
    let dir = scratch_dir("glb");
    for textured in [true, false] {
        let path = dir.join(format!("cube-{textured}.glb"));
        std::fs::write(&path, glb_cube(textured)).unwrap();
        // Metres by the glTF specification.
        let head = load_head(&ObjImport {
            scale_to_mm: 1000.0,
            ..ObjImport::new(&path)
        })
        .unwrap();
        let mesh = &head.mesh;
        assert_eq!(mesh.positions_mm.len(), 8, "welded by position");
        let (lo, hi) = mesh.bounds();
        assert_eq!(lo, Vec3::new(0.0, 1000.0, 0.0), "node translation applied");
        assert_eq!(hi, Vec3::new(2000.0, 3000.0, 2000.0), "node scale applied");
        let col = mesh.scan_colour_at(0, Vec3::splat(1.0 / 3.0)).unwrap();
        let want = if textured {
            Vec3::Y
        } else {
            // baseColorFactor is linear already.
            Vec3::new(0.5, 0.25, 0.125)
        };
        assert!((col - want).length() < 1e-4, "{col} vs {want}");
        assert_eq!(mesh.albedo_map.is_some(), textured);
        assert_eq!(mesh.corner_uvs.len(), if textured { 36 } else { 0 });
    }
    let path = dir.join("truncated.glb");
    std::fs::write(&path, &glb_cube(true)[..40]).unwrap();
    let err = load_head(&ObjImport::new(&path)).unwrap_err().to_string();
    assert!(
        err.contains("truncated.glb") && err.contains("glTF"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn stray_islands_are_dropped_and_the_head_kept() {
    let dir = scratch_dir("islands");
    let mut text = obj_cube(Vec3::ZERO, 1.0, 0, false);
    // Scanner noise: two small floating boxes.
    text += &obj_cube(Vec3::new(3.0, 0.0, 0.0), 0.1, 8, false);
    text += &obj_cube(Vec3::new(-2.0, 1.0, 0.0), 0.2, 16, false);
    let path = dir.join("noisy.obj");
    std::fs::write(&path, text).unwrap();
    let head = load_head(&ObjImport::new(&path)).unwrap();
    let mesh = &head.mesh;
    assert_eq!((mesh.positions_mm.len(), mesh.triangle_count()), (8, 12));
    let (lo, hi) = mesh.bounds();
    assert_eq!((lo, hi), (Vec3::ZERO, Vec3::ONE), "the largest piece stays");
    let _ = std::fs::remove_dir_all(&dir);
}

fn builtin_head() -> &'static Head {
    static HEAD: std::sync::OnceLock<Head> = std::sync::OnceLock::new();
    HEAD.get_or_init(|| stipple::head::builtin::lee_perry_smith().expect("built-in scan loads"))
}

#[test]
fn builtin_scan_is_textured_at_real_size_and_measures_light_skin() {
    let head = builtin_head();
    let mesh = &head.mesh;
    assert_eq!(mesh.triangle_count(), 17_672);
    assert!(mesh.albedo_map.is_some() && mesh.corner_uvs.len() == mesh.indices.len());
    let (lo, hi) = mesh.bounds();
    // 0.366 m tall (head, neck, shoulders) in the GLB.
    assert!((hi.y - lo.y - 365.9).abs() < 1.0, "height {}", hi.y - lo.y);
    let tone = stipple::head::skin_tone::measure(head).expect("a forehead patch");
    // A light-skinned man under studio light: ITA "light" to "intermediate" (Fitzpatrick
    // II-III); the patch must be a real patch of forehead.
    assert!(
        (28.0..55.0).contains(&tone.ita_deg),
        "ITA {} ({:?})",
        tone.ita_deg,
        tone.lab
    );
    assert!(tone.patch_cm2 > 10.0, "patch {} cm²", tone.patch_cm2);
    // The procedural head has no colours of its own.
    let procedural = stipple::head::procedural::build(&Default::default());
    assert!(stipple::head::skin_tone::measure(&procedural).is_none());
}

/// Mean sRGB → Lab of the pixels in a box (fractions of the image).
fn patch_lab(img: &image::RgbaImage, x: (f32, f32), y: (f32, f32)) -> [f64; 3] {
    let (w, h) = img.dimensions();
    let mut sum = [0.0f64; 3];
    let mut n = 0.0;
    for py in (y.0 * h as f32) as u32..(y.1 * h as f32) as u32 {
        for px in (x.0 * w as f32) as u32..(x.1 * w as f32) as u32 {
            let p = img.get_pixel(px, py);
            for c in 0..3 {
                sum[c] += stipple::scene::srgb_to_linear(p[c] as f32 / 255.0) as f64;
            }
            n += 1.0;
        }
    }
    common::color::linear_to_lab(sum.map(|s| s / n))
}

fn render_front(head: &Head, skin: stipple::render::SkinLook, size: u32) -> image::RgbaImage {
    use stipple::camera::{Camera, ViewName};
    let scene = stipple::scene::Scene::builtin();
    let r = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    let gpu = r.prepare(head, &[], 64).expect("prepare");
    let settings = stipple::render::FrameSettings {
        camera: Camera::for_view(head, ViewName::Front, 85.0, 1.0, None, None),
        lighting: scene.lighting(),
        skin,
        width: size,
        height: size,
        supersample: 1,
        show_dots: false,
        single_dots: false,
    };
    let mut r = r;
    r.render(&gpu, &settings).expect("render")
}

/// The forehead between the brows and the hairline, in the front view of the built-in scan
/// (fractions of the frame, read off docs/heads/formats.png).
const FOREHEAD: ((f32, f32), (f32, f32)) = ((0.45, 0.55), (0.3, 0.36));

#[test]
fn textured_scan_renders_its_own_colours_and_client_skin_tints_them() {
    let head = builtin_head();
    let scene = stipple::scene::Scene::demo();
    let own = render_front(head, scene.skin(), 192);
    // The texture shows: lips are redder (a* higher) than the forehead.
    let forehead = patch_lab(&own, FOREHEAD.0, FOREHEAD.1);
    assert!(
        forehead[0] > 40.0 && forehead[1] > 3.0,
        "forehead {forehead:?}"
    );
    // Uncoloured grey skin named in the scene tints the scan toward it.
    let mut grey = scene.skin();
    grey.albedo_from_scan = false;
    grey.albedo_linear = Vec3::splat(0.05);
    let tinted = render_front(head, grey, 192);
    let dark = patch_lab(&tinted, FOREHEAD.0, FOREHEAD.1);
    assert!(
        dark[0] < forehead[0] - 15.0 && dark[1] < forehead[1],
        "client.skin must tint the scan: {dark:?} vs {forehead:?}"
    );
}

/// The three forms of the shared Lee Perry-Smith scan (GLB with a texture, OBJ + MTL + JPEG,
/// binary PLY Z-up in mm with vertex colours) render alike: a measurement for the report, not
/// part of the suite (it reads ../shared). `cargo test --release --test scans -- --ignored
/// --nocapture` prints the figures and writes docs/heads/formats.png.
#[test]
#[ignore]
fn shared_formats_render_alike() {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/meshes");
    if !shared.is_dir() {
        eprintln!("skipping: {} is not present", shared.display());
        return;
    }
    let imports = [
        (
            "GLB",
            ObjImport {
                scale_to_mm: 1000.0,
                ..ObjImport::new(shared.join("lee_perry_smith_glb/LeePerrySmith.glb"))
            },
        ),
        (
            "OBJ+MTL+JPEG",
            ObjImport {
                scale_to_mm: 46.0,
                ..ObjImport::new(shared.join("lee_perry_smith/LeePerrySmith.obj"))
            },
        ),
        (
            "PLY",
            ObjImport {
                scale_to_mm: 1.0,
                up: UpAxis::Z,
                ..ObjImport::new(shared.join("lee_perry_smith_ply/LeePerrySmith.ply"))
            },
        ),
    ];
    let scene = stipple::scene::Scene::demo();
    let mut frames = Vec::new();
    let mut labs = Vec::new();
    for (name, import) in &imports {
        let head = load_head(import).unwrap_or_else(|e| panic!("{name}: {e}"));
        let tone = stipple::head::skin_tone::measure(&head).expect("coloured");
        let img = render_front(&head, scene.skin(), 384);
        let lab = patch_lab(&img, FOREHEAD.0, FOREHEAD.1);
        eprintln!(
            "{name}: measured forehead {} Lab {:?}; rendered forehead patch Lab [{:.1}, {:.1}, {:.1}]",
            tone.srgb_hex(),
            tone.lab,
            lab[0],
            lab[1],
            lab[2]
        );
        labs.push((name, lab));
        frames.push(img);
    }
    for i in 0..labs.len() {
        for j in i + 1..labs.len() {
            let de = common::color::ciede2000(labs[i].1, labs[j].1);
            eprintln!("dE00 {} vs {}: {de:.2}", labs[i].0, labs[j].0);
            assert!(de < 3.0);
        }
    }
    let w = frames[0].width();
    let mut sheet = image::RgbaImage::new(w * 3, w);
    for (k, f) in frames.iter().enumerate() {
        image::imageops::overlay(&mut sheet, f, (k as u32 * w) as i64, 0);
    }
    let out = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/heads/formats.png");
    std::fs::create_dir_all(out.parent().unwrap()).unwrap();
    sheet.save(&out).unwrap();
}

/// Where each row of a front view of a sphere lit from the image's left crosses half way
/// between its brightest and darkest pixel, walking right from the brightest, in pixels; None
/// for rows without a clear terminator.
fn terminator_columns(img: &image::RgbaImage) -> Vec<Option<f32>> {
    let (w, h) = img.dimensions();
    let lum = |x: u32, y: u32| {
        let p = img.get_pixel(x, y);
        0.2126 * p[0] as f32 + 0.7152 * p[1] as f32 + 0.0722 * p[2] as f32
    };
    (0..h)
        .map(|y| {
            let row: Vec<f32> = (0..w).map(|x| lum(x, y)).collect();
            let (bright_x, bright) = row
                .iter()
                .copied()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(&b.1))?;
            let dark = row.iter().copied().fold(f32::INFINITY, f32::min);
            if bright - dark < 60.0 {
                return None;
            }
            let half = 0.5 * (bright + dark);
            let mut x = bright_x;
            while x + 1 < row.len() && row[x + 1] >= half {
                x += 1;
            }
            if x + 1 >= row.len() {
                return None;
            }
            let (a, b) = (row[x], row[x + 1]);
            Some(x as f32 + (a - half) / (a - b).max(1e-3))
        })
        .collect()
}

/// A coarse sphere (12 bands, ~500 triangles, as coarse as an SMPL-derived head) under a low
/// sun from the side and above: the shadow's edge must follow the smooth sphere, not the
/// facets. Measured as the terminator's column per image row: its second difference along the
/// rows (a staircase makes spikes; a smooth curve, under a pixel).
#[test]
fn coarse_mesh_terminator_has_no_staircase() {
    use stipple::camera::{Camera, ViewName};
    let head = common::sphere::sphere_head(90.0, 12);
    let scene = stipple::scene::Scene::builtin();
    let mut lighting = stipple::lighting::Lighting::preset("sun-low").expect("preset");
    // From the client's right (the image's left), above and a little behind, so the
    // terminator crosses the facets obliquely; no fills, so the shadow edge is what shows.
    lighting.key.direction_to_light = Vec3::new(-0.8, 0.45, -0.2).normalize();
    lighting.set_fills(&[]);
    let mut r = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    let gpu = r.prepare(&head, &[], 64).expect("prepare");
    let settings = stipple::render::FrameSettings {
        camera: Camera::for_view(&head, ViewName::Front, 85.0, 1.0, None, None),
        lighting,
        skin: scene.skin(),
        width: 256,
        height: 256,
        supersample: 1,
        show_dots: false,
        single_dots: false,
    };
    let img = r.render(&gpu, &settings).expect("render");
    let _ = img.save(std::env::temp_dir().join("stipple-coarse-terminator.png"));
    let cols = terminator_columns(&img);
    let mut worst = (0.0f32, 0usize);
    let mut rows = 0;
    // The middle of the disc, where the terminator runs across the sphere's face (at the
    // silhouette the edge turns tangent to the rows).
    for y in cols.len() * 3 / 10..cols.len() * 7 / 10 {
        if let (Some(a), Some(b), Some(c)) = (cols[y - 1], cols[y], cols[y + 1]) {
            rows += 1;
            let d2 = (a - 2.0 * b + c).abs();
            if d2 > worst.0 {
                worst = (d2, y);
            }
        }
    }
    eprintln!(
        "worst second difference {:.2} px at row {}",
        worst.0, worst.1
    );
    assert!(rows > 60, "the terminator crosses only {rows} rows");
    assert!(
        worst.0 < 6.0,
        "the terminator jumps {:.1} px at row {} (a staircase; image in the temp dir)",
        worst.0,
        worst.1
    );
}

/// On a coarse mesh the G-buffer's skin is moved out to the smooth surface for the shadow
/// terminator (up to millimetres mid-triangle), but the layout puts dots on the flat triangles.
/// The dot pass must test a dot against the flat surface: tested against the moved one, every
/// dot near a triangle's centre counted as hidden, and close-ups of the shipped scan showed
/// bare discs in the treated skin.
#[test]
fn dots_mid_triangle_on_a_coarse_mesh_are_drawn() {
    use stipple::camera::Camera;
    use stipple::layout::Dot;
    use stipple::plan::Needle;
    let head = common::sphere::sphere_head(90.0, 12);
    let m = &head.mesh;
    // Front-facing triangles (the sphere's +Z), at their centroids, where the smooth surface
    // stands furthest off the flat one.
    let mut spots = Vec::new();
    for t in m.indices.chunks(3) {
        let [a, b, c] = [0, 1, 2].map(|i| m.positions_mm[t[i] as usize]);
        let centre = (a + b + c) / 3.0;
        let n = (b - a).cross(c - a).normalize();
        // Outward, whatever the winding.
        let n = if n.dot(centre) < 0.0 { -n } else { n };
        if n.z > 0.9 && spots.len() < 3 {
            // A sphere's smooth surface: how far the centroid lies inside it.
            let sagitta_mm = 90.0 - centre.length();
            assert!(
                sagitta_mm > 0.5,
                "the mesh is not coarse here ({sagitta_mm:.2} mm)"
            );
            spots.push((centre, n));
        }
    }
    assert_eq!(spots.len(), 3, "no front-facing triangles");
    let scene = stipple::scene::Scene::builtin();
    let mut r = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    for (centre, n) in spots {
        let dot = Dot {
            position_mm: centre,
            normal: n,
            diameter_mm: 0.15,
            depth_mm: 0.35,
            shade: 1.0,
            session: 1,
            needle: Needle::default(),
        };
        let settings = stipple::render::FrameSettings {
            camera: Camera::macro_view(centre, n, 1.5, 1.0),
            lighting: common::patch::uniform_light(),
            skin: scene.skin(),
            width: 64,
            height: 64,
            supersample: 1,
            show_dots: true,
            single_dots: true,
        };
        let mut centre_luma = |dots: &[Dot]| {
            let gpu = r.prepare(&head, dots, 64).expect("prepare");
            let img = r.render(&gpu, &settings).expect("render");
            let rgb = common::mean_rgb(&img, |x, y| (29..35).contains(&x) && (29..35).contains(&y));
            rgb.iter().sum::<f64>()
        };
        let (bare, dotted) = (centre_luma(&[]), centre_luma(&[dot]));
        let ratio = dotted / bare;
        eprintln!("dot at {centre:?}: centre at {ratio:.3} of the bare skin");
        // The core of an undiluted 0.15 mm dot darkens the skin by about half (the tables).
        assert!(
            ratio < 0.8,
            "the dot mid-triangle at {centre:?} is not drawn: centre at {ratio:.3} of bare skin"
        );
    }
}

/// A scan the wrong way up or in the wrong units is refused with the key to change.
#[test]
fn wrong_up_axis_or_units_are_clear_errors() {
    let glb = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/heads/lee-perry-smith/LeePerrySmith.glb");
    let scene = |extra: &str| {
        let text = format!(
            "[client.head]\nmesh = {:?}\n{extra}",
            glb.display().to_string()
        );
        stipple::scene::Scene::parse(&text, Path::new("scan.toml")).expect("valid scene")
    };
    let error = |extra: &str| match scene(extra).head() {
        Ok(_) => panic!("{extra:?}: loaded, expected an error"),
        Err(e) => e.to_string(),
    };
    assert!(scene("").head().is_ok(), "metres by default for glTF");
    let err = error("up = \"z\"\n");
    assert!(
        err.contains("scan.toml") && err.contains("client.head.up") && err.contains("points up"),
        "{err}"
    );
    let err = error("units = \"mm\"\n");
    assert!(
        err.contains("client.head.units") && err.contains("units"),
        "{err}"
    );
}

/// A glTF file from its JSON and binary buffer: a GLB, or (`embed`) a `.gltf` with the buffer
/// and its images inline as base64 `data:` URIs (an image held in buffer view `image_view`
/// moves into its own URI).
fn gltf_file(mut json: serde_json::Value, bin: &[u8], embed: bool) -> Vec<u8> {
    use base64::Engine as _;
    if embed {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        json["buffers"][0]["uri"] =
            format!("data:application/octet-stream;base64,{}", b64(bin)).into();
        let views = json["bufferViews"].clone();
        if let Some(images) = json["images"].as_array_mut() {
            for image in images {
                let view = image["bufferView"].as_u64().unwrap() as usize;
                let v = &views[view];
                let off = v["byteOffset"].as_u64().unwrap() as usize;
                let len = v["byteLength"].as_u64().unwrap() as usize;
                *image = serde_json::json!({
                    "uri": format!("data:image/png;base64,{}", b64(&bin[off..off + len]))
                });
            }
        }
        return serde_json::to_vec_pretty(&json).unwrap();
    }
    let mut json = serde_json::to_vec(&json).unwrap();
    while !json.len().is_multiple_of(4) {
        json.push(b' ');
    }
    let total = 12 + 8 + json.len() + 8 + bin.len();
    let mut out = Vec::new();
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json);
    out.extend_from_slice(&(bin.len() as u32).to_le_bytes());
    out.extend_from_slice(b"BIN\0");
    out.extend_from_slice(bin);
    out
}

/// Appends `bytes` to a glTF binary buffer, 4-byte aligned; returns (offset, length).
fn push_view(bin: &mut Vec<u8>, bytes: &[u8]) -> (usize, usize) {
    while !bin.len().is_multiple_of(4) {
        bin.push(0);
    }
    let off = bin.len();
    bin.extend_from_slice(bytes);
    (off, bytes.len())
}

fn png_bytes(img: &image::RgbaImage) -> Vec<u8> {
    let mut bytes = Vec::new();
    img.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    )
    .unwrap();
    bytes
}

/// A `.gltf` whose buffer and colour texture are embedded as base64 `data:` URIs (as some
/// exporters and web tools write them) loads like the GLB with the same contents.
#[test]
fn gltf_with_data_uris_loads_its_buffer_and_texture() {
    let dir = scratch_dir("data-uri");
    let glb = glb_cube(true);
    // The GLB's own JSON and binary chunk, re-wrapped as a .gltf with data: URIs.
    let json_len = u32::from_le_bytes(glb[12..16].try_into().unwrap()) as usize;
    let json: serde_json::Value = serde_json::from_slice(&glb[20..20 + json_len]).unwrap();
    let bin = &glb[20 + json_len + 8..];
    let path = dir.join("cube.gltf");
    std::fs::write(&path, gltf_file(json, bin, true)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("data:image/png;base64,") && text.contains("octet-stream;base64,"));
    let head = load_head(&ObjImport {
        scale_to_mm: 1000.0,
        ..ObjImport::new(&path)
    })
    .unwrap();
    let mesh = &head.mesh;
    assert_eq!(mesh.positions_mm.len(), 8);
    assert_eq!(
        mesh.bounds(),
        (
            Vec3::new(0.0, 1000.0, 0.0),
            Vec3::new(2000.0, 3000.0, 2000.0)
        )
    );
    let col = mesh.scan_colour_at(0, Vec3::splat(1.0 / 3.0)).unwrap();
    assert!((col - Vec3::Y).length() < 1e-4, "the green texel: {col}");
    // A data: URI that is not base64 is refused with what was expected.
    let broken = text.replace(";base64,", ",");
    std::fs::write(&path, broken).unwrap();
    let err = load_head(&ObjImport::new(&path)).unwrap_err().to_string();
    assert!(err.contains("cube.gltf") && err.contains("base64"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// How a sphere GLB's normal map tilts the skin's normal, in tangent space (+X toward +u, +Y up
/// the image), or None for no normal map.
#[derive(Clone, Copy, Debug)]
struct NormalMapFixture {
    tilt: Option<Vec3>,
    /// Write the TANGENT attribute (else the loader computes MikkTSpace tangents).
    tangents: bool,
}

const SPHERE_M: f32 = 0.09;

/// A latitude-longitude sphere (radius 90 mm, in metres) as a GLB: u runs round it with the
/// face (+Z) at u = 0.5 and +u toward +X there; v runs down from the top (the image's top is
/// the north pole). Its material has a 4 x 4 normal texture of one tilted normal.
fn sphere_glb(f: NormalMapFixture) -> Vec<u8> {
    let (bands, sectors) = (24u32, 48u32);
    let mut positions = Vec::new();
    let mut uvs = Vec::new();
    let mut tangents = Vec::new();
    for i in 0..=bands {
        let v = i as f32 / bands as f32;
        let polar = v * std::f32::consts::PI;
        for j in 0..=sectors {
            let u = j as f32 / sectors as f32;
            let az = (u - 0.5) * std::f32::consts::TAU;
            positions.push(
                (SPHERE_M * Vec3::new(polar.sin() * az.sin(), polar.cos(), polar.sin() * az.cos()))
                    .to_array(),
            );
            uvs.push([u, v]);
            tangents.push([az.cos(), 0.0, -az.sin(), 1.0]);
        }
    }
    let row = sectors + 1;
    let mut indices: Vec<u32> = Vec::new();
    for i in 0..bands {
        for j in 0..sectors {
            let a = i * row + j;
            let b = a + row;
            indices.extend_from_slice(&[a, b, a + 1, a + 1, b, b + 1]);
        }
    }
    let mut bin = Vec::new();
    let le = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    let idx = push_view(
        &mut bin,
        &indices
            .iter()
            .flat_map(|i| i.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    let pos = push_view(&mut bin, &le(positions.as_flattened()));
    let uv = push_view(&mut bin, &le(uvs.as_flattened()));
    let tan = push_view(&mut bin, &le(tangents.as_flattened()));
    let texel = stipple::head::mesh::encode_normal(f.tilt.unwrap_or(Vec3::Z).normalize(), 255);
    let img = push_view(
        &mut bin,
        &png_bytes(&image::RgbaImage::from_pixel(4, 4, image::Rgba(texel))),
    );
    let views: Vec<serde_json::Value> = [idx, pos, uv, tan, img]
        .iter()
        .map(|(o, l)| serde_json::json!({"buffer": 0, "byteOffset": o, "byteLength": l}))
        .collect();
    let mut attributes = serde_json::json!({"POSITION": 1, "TEXCOORD_0": 2});
    if f.tangents {
        attributes["TANGENT"] = 3.into();
    }
    let mut material =
        serde_json::json!({"pbrMetallicRoughness": {"baseColorFactor": [1, 1, 1, 1]}});
    if f.tilt.is_some() {
        material["normalTexture"] = serde_json::json!({"index": 0});
    }
    let json = serde_json::json!({
        "asset": {"version": "2.0"},
        "scene": 0,
        "scenes": [{"nodes": [0]}],
        "nodes": [{"mesh": 0}],
        "meshes": [{"primitives": [{"attributes": attributes, "indices": 0, "material": 0}]}],
        "materials": [material],
        "images": [{"bufferView": 4, "mimeType": "image/png"}],
        "textures": [{"source": 0}],
        "buffers": [{"byteLength": bin.len()}],
        "bufferViews": views,
        "accessors": [
            {"bufferView": 0, "componentType": 5125, "count": indices.len(), "type": "SCALAR"},
            {"bufferView": 1, "componentType": 5126, "count": positions.len(), "type": "VEC3",
             "min": [-SPHERE_M, -SPHERE_M, -SPHERE_M], "max": [SPHERE_M, SPHERE_M, SPHERE_M]},
            {"bufferView": 2, "componentType": 5126, "count": uvs.len(), "type": "VEC2"},
            {"bufferView": 3, "componentType": 5126, "count": tangents.len(), "type": "VEC4"}
        ]
    });
    gltf_file(json, &bin, false)
}

/// The sphere GLB loaded as a head (landmarks those of `common::sphere`).
fn sphere_glb_head(f: NormalMapFixture) -> Head {
    let dir = scratch_dir(&format!(
        "normal-{}-{}",
        f.tilt.map_or("none".to_string(), |t| format!(
            "{:.0}{:.0}",
            t.x * 10.0,
            t.y * 10.0
        )),
        f.tangents
    ));
    let path = dir.join("sphere.glb");
    std::fs::write(&path, sphere_glb(f)).unwrap();
    let loaded = load_head(&ObjImport {
        scale_to_mm: 1000.0,
        ..ObjImport::new(&path)
    })
    .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    Head {
        mesh: loaded.mesh,
        landmarks: common::sphere::sphere_head(SPHERE_M * 1000.0, 12).landmarks,
    }
}

/// Mean luminance (sRGB codes) of the middle of the sphere's front view, lit by one light
/// from `to_light` (no fills, an even sky and ground).
fn sphere_front_luminance(head: &Head, to_light: Vec3) -> f64 {
    use stipple::camera::{Camera, ViewName};
    let scene = stipple::scene::Scene::builtin();
    let mut lighting = stipple::lighting::Lighting::preset("sun-low").expect("preset");
    lighting.key.direction_to_light = to_light.normalize();
    lighting.set_fills(&[]);
    lighting.ground_lux = lighting.sky_lux;
    let mut r = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    let gpu = r.prepare(head, &[], 64).expect("prepare");
    let settings = stipple::render::FrameSettings {
        camera: Camera::for_view(head, ViewName::Front, 85.0, 1.0, None, None),
        lighting,
        skin: scene.skin(),
        width: 128,
        height: 128,
        supersample: 1,
        show_dots: false,
        single_dots: false,
    };
    let img = r.render(&gpu, &settings).expect("render");
    let texel = head
        .mesh
        .normal_map
        .as_ref()
        .map(|m| m.image.get_pixel(0, 0).0);
    let _ = img.save(std::env::temp_dir().join(format!(
        "stipple-normal-map-{}-light{:+.0}{:+.0}.png",
        texel.map_or("none".to_string(), |t| format!(
            "{}-{}-{}",
            t[0], t[1], t[2]
        )),
        to_light.x,
        to_light.y
    )));
    common::mean_rgb(&img, |x, y| (48..80).contains(&x) && (48..80).contains(&y))
        .iter()
        .zip([0.2126, 0.7152, 0.0722])
        .map(|(c, w)| c * w)
        .sum()
}

/// A normal map feeds shading, the way its texels say: tilting every normal toward +u (+X on
/// the face) brightens the face under a light from +X and darkens it under one from -X; toward
/// +Y in tangent space (up the image, the north pole) likewise under lights from above and
/// below. The same with the file's TANGENT attribute and with computed (MikkTSpace) tangents.
/// A sphere without a normal map is left-right and (nearly) up-down balanced.
#[test]
fn normal_map_tilts_the_shading_the_way_it_says() {
    let flat = sphere_glb_head(NormalMapFixture {
        tilt: None,
        tangents: false,
    });
    assert!(flat.mesh.normal_map.is_none() && flat.mesh.corner_tangents.is_empty());
    // sin 25 degrees: a clear tilt, well inside what bakers write.
    let s = 25f32.to_radians().sin();
    let (right, left) = (Vec3::new(1.0, 0.0, 0.8), Vec3::new(-1.0, 0.0, 0.8));
    let (above, below) = (Vec3::new(0.0, 1.0, 0.8), Vec3::new(0.0, -1.0, 0.8));
    let ratio = |head: &Head, a: Vec3, b: Vec3| {
        sphere_front_luminance(head, a) / sphere_front_luminance(head, b)
    };
    let flat_x = ratio(&flat, right, left);
    let flat_y = ratio(&flat, above, below);
    eprintln!("no normal map: +X/-X light {flat_x:.3}, above/below {flat_y:.3}");
    for tangents in [false, true] {
        let head = sphere_glb_head(NormalMapFixture {
            tilt: Some(Vec3::new(s, 0.0, 1.0)),
            tangents,
        });
        let mesh = &head.mesh;
        assert!(mesh.has_normal_map(), "the normal map is loaded");
        // On the face (+Z) the tangent runs along +X, right-handed.
        let front = (0..mesh.indices.len())
            .min_by(|&a, &b| {
                let z = |c: usize| -mesh.positions_mm[mesh.indices[c] as usize].z;
                z(a).total_cmp(&z(b))
            })
            .unwrap();
        let t = mesh.corner_tangents[front];
        assert!(
            t.truncate().dot(Vec3::X) > 0.95 && t.w == 1.0,
            "tangent on the face {t} (file's own: {tangents})"
        );
        let x = ratio(&head, right, left);
        let up = sphere_glb_head(NormalMapFixture {
            tilt: Some(Vec3::new(0.0, s, 1.0)),
            tangents,
        });
        let y = ratio(&up, above, below);
        eprintln!(
            "tilted toward +u: +X/-X light {x:.3}; toward +Y: above/below {y:.3} (file's tangents: {tangents})"
        );
        assert!(
            x > 1.15 * flat_x,
            "a normal map tilted toward +u must light the face more from +X: {x:.3} vs {flat_x:.3} without"
        );
        assert!(
            y > 1.15 * flat_y,
            "a normal map tilted up the image must light the face more from above: {y:.3} vs {flat_y:.3} without"
        );
    }
    assert!(
        (flat_x - 1.0).abs() < 0.05,
        "without a normal map the sphere is lit alike from either side: {flat_x:.3}"
    );
}

/// OBJ: the MTL's `norm` is a normal map; `map_Bump` is one where its image holds normals
/// (with `-bm` as its scale) and is left out where it holds heights (grey). A normal-mapped
/// mesh gets a unit tangent per corner, across the surface.
#[test]
fn obj_reads_norm_and_map_bump_normal_maps() {
    let dir = scratch_dir("obj-norm");
    let normals = image::RgbaImage::from_pixel(2, 2, image::Rgba([150, 128, 240, 255]));
    std::fs::write(dir.join("n.png"), png_bytes(&normals)).unwrap();
    let heights = image::RgbaImage::from_pixel(2, 2, image::Rgba([128, 128, 128, 255]));
    std::fs::write(dir.join("h.png"), png_bytes(&heights)).unwrap();
    let mut obj = String::from("mtllib c.mtl\nusemtl m\nvt 0 0\nvt 1 0\nvt 1 1\nvt 0 1\n");
    for v in CUBE_V {
        obj += &format!("v {} {} {}\n", v[0], v[1], v[2]);
    }
    for f in CUBE_F {
        let i = f.map(|i| i + 1);
        obj += &format!("f {}/1 {}/2 {}/3 {}/4\n", i[0], i[1], i[2], i[3]);
    }
    let path = dir.join("c.obj");
    std::fs::write(&path, obj).unwrap();
    for (line, scale) in [
        ("norm n.png", Some(1.0)),
        ("map_Bump -bm 0.5 n.png", Some(0.5)),
        ("map_Bump h.png", None),
    ] {
        std::fs::write(dir.join("c.mtl"), format!("newmtl m\nKd 1 1 1\n{line}\n")).unwrap();
        let head = load_head(&ObjImport::new(&path)).unwrap();
        let mesh = &head.mesh;
        assert_eq!(
            mesh.normal_map.as_ref().map(|m| m.scale),
            scale,
            "MTL line `{line}`"
        );
        assert_eq!(mesh.has_normal_map(), scale.is_some(), "`{line}`");
        if scale.is_none() {
            assert!(mesh.corner_tangents.is_empty());
            continue;
        }
        for (k, t) in mesh.corner_tangents.iter().enumerate() {
            let n = mesh.normals[mesh.indices[k] as usize];
            assert!(
                (t.truncate().length() - 1.0).abs() < 1e-3
                    && t.truncate().dot(n).abs() < 0.8
                    && t.w.abs() == 1.0,
                "corner {k}: tangent {t}, normal {n} (`{line}`)"
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
