//! Renders a head from the front, the client's left, the back and the top into one PNG, with a
//! tiny CPU rasterizer (orthographic, z-buffer, Lambert shading), to judge its shape by eye.
//!
//! ```text
//! cargo run --release --example head_preview -- /tmp/head.png
//! cargo run --release --example head_preview -- /tmp/lps.png path/to/head.obj 46 [y|z]
//! ```
//! With a mesh path, the OBJ is loaded with `scale_to_mm` and up axis as given; its landmarks
//! (estimated) are drawn as red dots.

use glam::{Vec2, Vec3};
use std::path::PathBuf;
use std::time::Instant;
use stipple::head::obj::{LandmarkOverrides, ObjImport, UpAxis, load_obj};
use stipple::head::{Head, procedural};

const VIEW_PX: u32 = 560;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = PathBuf::from(args.first().map_or("/tmp/head_preview.png", |s| s.as_str()));
    let start = Instant::now();
    let head = match args.get(1) {
        Some(path) => load_obj(&ObjImport {
            path: path.into(),
            scale_to_mm: args.get(2).map_or(Ok(1.0), |s| s.parse())?,
            up: if args.get(3).is_some_and(|s| s.eq_ignore_ascii_case("z")) {
                UpAxis::Z
            } else {
                UpAxis::Y
            },
            landmarks: LandmarkOverrides::default(),
        })?,
        None => procedural::build(&procedural::ProceduralHeadParams::default()),
    };
    let (lo, hi) = head.mesh.bounds();
    println!(
        "{} vertices, {} triangles in {:.1} ms; bounds {lo:.1} .. {hi:.1} mm",
        head.mesh.positions_mm.len(),
        head.mesh.triangle_count(),
        start.elapsed().as_secs_f64() * 1e3
    );
    for (name, p) in head.landmarks.named() {
        println!("  {name:<24} {p:.1}");
    }

    // (forward, up) of each camera: front, client's left, back, top.
    let views = [
        (Vec3::NEG_Z, Vec3::Y),
        (Vec3::NEG_X, Vec3::Y),
        (Vec3::Z, Vec3::Y),
        (Vec3::NEG_Y, Vec3::Z),
    ];
    let centre = 0.5 * (lo + hi);
    let extent = (hi - lo).max_element() * 1.05;
    let mut img = image::RgbImage::new(VIEW_PX * views.len() as u32, VIEW_PX);
    for (i, &(fwd, up)) in views.iter().enumerate() {
        render_view(&head, fwd, up, centre, extent, &mut img, i as u32 * VIEW_PX);
    }
    img.save(&out)?;
    println!("wrote {}", out.display());

    // Close-ups next to it: the face from the front and from the left, and the left ear from
    // behind, each framed on the landmarks.
    let lm = &head.landmarks;
    let face = lm.glabella - 0.45 * (lm.top_of_head.y - lm.glabella.y) * Vec3::Y;
    let details = [
        (Vec3::NEG_Z, Vec3::Y, face, 0.55 * extent),
        (Vec3::NEG_X, Vec3::Y, face, 0.55 * extent),
        (
            Vec3::new(-0.6, 0.0, 1.0).normalize(),
            Vec3::Y,
            lm.ear_left - 25.0 * Vec3::Y,
            0.3 * extent,
        ),
        (
            Vec3::NEG_Z,
            Vec3::Y,
            lm.outer_eye_corner_left - 14.0 * Vec3::X,
            0.13 * extent,
        ),
    ];
    let mut img = image::RgbImage::new(VIEW_PX * details.len() as u32, VIEW_PX);
    for (i, &(fwd, up, c, ext)) in details.iter().enumerate() {
        render_view(&head, fwd, up, c, ext, &mut img, i as u32 * VIEW_PX);
    }
    let detail_path = out.with_extension("detail.png");
    img.save(&detail_path)?;
    println!("wrote {}", detail_path.display());
    Ok(())
}

fn render_view(
    head: &Head,
    fwd: Vec3,
    up: Vec3,
    centre: Vec3,
    extent: f32,
    img: &mut image::RgbImage,
    x0: u32,
) {
    let right = fwd.cross(up);
    let n = VIEW_PX as usize;
    let px_per_mm = VIEW_PX as f32 / extent;
    let project = |p: Vec3| {
        let q = p - centre;
        Vec3::new(
            q.dot(right) * px_per_mm + 0.5 * VIEW_PX as f32,
            0.5 * VIEW_PX as f32 - q.dot(up) * px_per_mm,
            -q.dot(fwd),
        )
    };
    let mesh = &head.mesh;
    let screen: Vec<Vec3> = mesh.positions_mm.iter().map(|&p| project(p)).collect();
    let mut depth = vec![f32::NEG_INFINITY; n * n];
    let mut colour = vec![Vec3::splat(0.18); n * n];
    // Key light from the camera's upper left, plus a little fill.
    let light = (-fwd + 0.6 * up - 0.5 * right).normalize();
    let skin = Vec3::new(0.72, 0.5, 0.4);
    for t in 0..mesh.triangle_count() {
        let idx = [0, 1, 2].map(|k| mesh.indices[3 * t + k] as usize);
        let [a, b, c] = idx.map(|i| screen[i]);
        let area = (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
        if area.abs() < 1e-9 {
            continue;
        }
        let min = a.min(b).min(c);
        let max = a.max(b).max(c);
        let (xa, xb) = (
            min.x.floor().max(0.0) as usize,
            (max.x.ceil() as usize).min(n - 1),
        );
        let (ya, yb) = (
            min.y.floor().max(0.0) as usize,
            (max.y.ceil() as usize).min(n - 1),
        );
        for y in ya..=yb {
            for x in xa..=xb {
                let p = Vec2::new(x as f32 + 0.5, y as f32 + 0.5);
                let w0 = ((b.x - p.x) * (c.y - p.y) - (b.y - p.y) * (c.x - p.x)) / area;
                let w1 = ((c.x - p.x) * (a.y - p.y) - (c.y - p.y) * (a.x - p.x)) / area;
                let w2 = 1.0 - w0 - w1;
                if w0 < 0.0 || w1 < 0.0 || w2 < 0.0 {
                    continue;
                }
                let z = w0 * a.z + w1 * b.z + w2 * c.z;
                let k = y * n + x;
                if z <= depth[k] {
                    continue;
                }
                depth[k] = z;
                let nrm = (w0 * mesh.normals[idx[0]]
                    + w1 * mesh.normals[idx[1]]
                    + w2 * mesh.normals[idx[2]])
                    .normalize_or_zero();
                let tint = if mesh.albedo_tint.len() == mesh.positions_mm.len() {
                    w0 * mesh.albedo_tint[idx[0]]
                        + w1 * mesh.albedo_tint[idx[1]]
                        + w2 * mesh.albedo_tint[idx[2]]
                } else {
                    Vec3::ONE
                };
                let lambert = nrm.dot(light).max(0.0);
                let fill = 0.25 * (0.5 + 0.5 * nrm.dot(-fwd));
                colour[k] = skin * tint * (0.85 * lambert + fill);
            }
        }
    }
    // Landmarks as small red dots where they are visible.
    for (_, p) in head.landmarks.named() {
        let s = project(p);
        for dy in -3i32..=3 {
            for dx in -3i32..=3 {
                let (x, y) = (s.x as i32 + dx, s.y as i32 + dy);
                if dx * dx + dy * dy > 9 || x < 0 || y < 0 || x >= n as i32 || y >= n as i32 {
                    continue;
                }
                let k = y as usize * n + x as usize;
                if s.z >= depth[k] - 2.0 {
                    colour[k] = Vec3::new(1.0, 0.0, 0.0);
                }
            }
        }
    }
    for y in 0..n {
        for x in 0..n {
            let c = colour[y * n + x]
                .clamp(Vec3::ZERO, Vec3::ONE)
                .powf(1.0 / 2.2)
                * 255.0;
            img.put_pixel(
                x0 + x as u32,
                y as u32,
                image::Rgb([c.x as u8, c.y as u8, c.z as u8]),
            );
        }
    }
}
