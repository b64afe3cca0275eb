//! Dot layout and treated region: counts, areas, spacing, blue noise, determinism, density
//! and the hairline's measured height.

use glam::Vec3;
use std::time::Instant;
use stipple::head::{Head, Landmarks, TriMesh};
use stipple::layout::{self, lay_out, DotLayout};
use stipple::plan::Plan;

/// Latitude-longitude sphere about the origin, `n` bands.
fn sphere_mesh(r: f32, n: u32) -> TriMesh {
    let mut mesh = TriMesh::default();
    for i in 0..=n {
        let v = i as f32 / n as f32 * std::f32::consts::PI;
        for j in 0..=2 * n {
            let u = j as f32 / (2 * n) as f32 * std::f32::consts::TAU;
            mesh.positions_mm.push(r * Vec3::new(v.sin() * u.sin(), v.cos(), v.sin() * u.cos()));
        }
    }
    let row = 2 * n + 1;
    for i in 0..n {
        for j in 0..2 * n {
            let a = i * row + j;
            let b = a + row;
            mesh.indices.extend_from_slice(&[a, b, a + 1, a + 1, b, b + 1]);
        }
    }
    mesh.normals = mesh.positions_mm.iter().map(|p| p.normalize()).collect();
    mesh.ensure_tints();
    mesh
}

/// A sphere "head" centred on the origin (its cranium centre) with stub-like landmarks.
fn sphere_head(r: f32, n: u32) -> Head {
    let landmarks = Landmarks {
        glabella: r * Vec3::Z,
        outer_eye_corner_left: r * Vec3::new(0.5, -0.1, 0.85).normalize(),
        outer_eye_corner_right: r * Vec3::new(-0.5, -0.1, 0.85).normalize(),
        top_of_head: r * Vec3::Y,
        occiput: r * Vec3::NEG_Z,
        ear_left: r * Vec3::X,
        ear_right: r * Vec3::NEG_X,
    };
    Head { mesh: sphere_mesh(r, n), landmarks }
}

fn time_layout(r: f32, n: u32, density: f32) -> DotLayout {
    let head = sphere_head(r, n);
    let plan = Plan { density_per_cm2: density, ..Plan::default() };
    let t = Instant::now();
    let region = stipple::plan::TreatedRegion::new(&head, &plan.hairline, plan.seed).unwrap();
    let t_region = t.elapsed();
    let t = Instant::now();
    let l = layout::lay_out_in(&head.mesh, &region, &plan).unwrap();
    eprintln!(
        "R {r} mm, {} triangles, {density}/cm2: region {:.1} ms, {} dots in {:.1} ms, {:.2} attempts/dot",
        head.mesh.triangle_count(),
        t_region.as_secs_f64() * 1e3,
        l.dots.len(),
        t.elapsed().as_secs_f64() * 1e3,
        l.attempts as f64 / l.dots.len() as f64
    );
    l
}

#[test]
#[ignore]
fn perf() {
    time_layout(77.5, 192, 100.0);
    time_layout(140.0, 192, 100.0);
    time_layout(200.0, 256, 400.0);
    time_layout(400.0, 256, 100.0);
    let head = stipple::head::procedural::build(&Default::default());
    let t = Instant::now();
    let l = lay_out(&head, &Plan::default()).unwrap();
    eprintln!("default head: {} dots in {:.1} ms", l.dots.len(), t.elapsed().as_secs_f64() * 1e3);
}

#[test]
#[ignore]
fn perf_small() {
    for _ in 0..5 {
        time_layout(77.5, 192, 100.0);
    }
}
