//! A sphere "head": areas and arc lengths on it are known in closed form.

use glam::Vec3;
use stipple::head::{Head, Landmarks, TriMesh};

/// Latitude-longitude sphere about the origin: `n` bands, 2n sectors.
pub fn sphere_mesh(r: f32, n: u32) -> TriMesh {
    let mut mesh = TriMesh::default();
    for i in 0..=n {
        let v = i as f32 / n as f32 * std::f32::consts::PI;
        for j in 0..=2 * n {
            let u = j as f32 / (2 * n) as f32 * std::f32::consts::TAU;
            mesh.positions_mm
                .push(r * Vec3::new(v.sin() * u.sin(), v.cos(), v.sin() * u.cos()));
        }
    }
    let row = 2 * n + 1;
    for i in 0..n {
        for j in 0..2 * n {
            let a = i * row + j;
            let b = a + row;
            mesh.indices
                .extend_from_slice(&[a, b, a + 1, a + 1, b, b + 1]);
        }
    }
    mesh.normals = mesh.positions_mm.iter().map(|p| p.normalize()).collect();
    mesh.ensure_tints();
    mesh
}

/// A sphere head centred on its cranium centre (the origin). The outer eye corners sit
/// closer together than on a real head: a sphere narrows fast above them, and the vertical
/// through each must still meet the scalp above the hairline.
pub fn sphere_head(r: f32, n: u32) -> Head {
    let landmarks = Landmarks {
        glabella: r * Vec3::Z,
        outer_eye_corner_left: r * Vec3::new(0.3, -0.1, 0.95).normalize(),
        outer_eye_corner_right: r * Vec3::new(-0.3, -0.1, 0.95).normalize(),
        top_of_head: r * Vec3::Y,
        occiput: r * Vec3::NEG_Z,
        ear_left: r * Vec3::X,
        ear_right: r * Vec3::NEG_X,
    };
    Head {
        mesh: sphere_mesh(r, n),
        landmarks,
    }
}
