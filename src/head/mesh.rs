//! Triangle meshes in head space: millimetres, +Y up, +Z forward (the face), +X the client's left.

use glam::Vec3;

/// An indexed triangle mesh. Every stage after loading sees only this.
#[derive(Clone, Debug, Default)]
pub struct TriMesh {
    pub positions_mm: Vec<Vec3>,
    /// Unit vertex normals, one per position.
    pub normals: Vec<Vec3>,
    /// Linear-RGB albedo multiplier per vertex (1 = plain skin). Lets the procedural head tint
    /// lips and eyes without textures.
    pub albedo_tint: Vec<Vec3>,
    /// Three indices per triangle, counter-clockwise seen from outside.
    pub indices: Vec<u32>,
}

impl TriMesh {
    /// Whether `p` lies inside the closed surface: a ray from it crosses the surface an odd
    /// number of times (Moller-Trumbore; the direction is skewed so that it misses edges).
    pub fn contains(&self, p: Vec3) -> bool {
        let dir = Vec3::new(0.5773, 0.6143, 0.5379).normalize();
        let mut crossings = 0u32;
        for t in self.indices.chunks_exact(3) {
            let [a, b, c] = [t[0], t[1], t[2]].map(|i| self.positions_mm[i as usize]);
            let (e1, e2) = (b - a, c - a);
            let h = dir.cross(e2);
            let det = e1.dot(h);
            if det.abs() < 1e-12 {
                continue;
            }
            let f = 1.0 / det;
            let s = p - a;
            let u = f * s.dot(h);
            if !(0.0..=1.0).contains(&u) {
                continue;
            }
            let q = s.cross(e1);
            let v = f * dir.dot(q);
            if v < 0.0 || u + v > 1.0 {
                continue;
            }
            if f * e2.dot(q) > 0.0 {
                crossings += 1;
            }
        }
        crossings % 2 == 1
    }

    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }

    pub fn triangle(&self, t: usize) -> [Vec3; 3] {
        let i = &self.indices[3 * t..3 * t + 3];
        [
            self.positions_mm[i[0] as usize],
            self.positions_mm[i[1] as usize],
            self.positions_mm[i[2] as usize],
        ]
    }

    pub fn triangle_area_mm2(&self, t: usize) -> f32 {
        let [a, b, c] = self.triangle(t);
        0.5 * (b - a).cross(c - a).length()
    }

    pub fn area_mm2(&self) -> f64 {
        (0..self.triangle_count())
            .map(|t| self.triangle_area_mm2(t) as f64)
            .sum()
    }

    /// Axis-aligned bounds (min, max).
    pub fn bounds(&self) -> (Vec3, Vec3) {
        self.positions_mm.iter().fold(
            (Vec3::splat(f32::INFINITY), Vec3::splat(f32::NEG_INFINITY)),
            |(lo, hi), p| (lo.min(*p), hi.max(*p)),
        )
    }

    /// Area-weighted smooth normals from the (welded) geometry.
    pub fn recompute_normals(&mut self) {
        let mut n = vec![Vec3::ZERO; self.positions_mm.len()];
        for t in 0..self.triangle_count() {
            let [a, b, c] = self.triangle(t);
            // The cross product's length is twice the area: area weighting for free.
            let fn_ = (b - a).cross(c - a);
            for k in 0..3 {
                n[self.indices[3 * t + k] as usize] += fn_;
            }
        }
        self.normals = n.into_iter().map(|v| v.normalize_or(Vec3::Y)).collect();
    }

    /// Linear-RGB albedo tints default to plain skin.
    pub fn ensure_tints(&mut self) {
        if self.albedo_tint.len() != self.positions_mm.len() {
            self.albedo_tint = vec![Vec3::ONE; self.positions_mm.len()];
        }
    }

    /// Signed enclosed volume: positive when triangles wind counter-clockwise seen from outside.
    /// For an open mesh it is measured against the centroid of the vertices, which keeps the sign
    /// meaningful when only a small hole (the base of a bust) is missing.
    pub fn signed_volume_mm3(&self) -> f64 {
        if self.positions_mm.is_empty() {
            return 0.0;
        }
        let c = self
            .positions_mm
            .iter()
            .map(|p| p.as_dvec3())
            .sum::<glam::DVec3>()
            / self.positions_mm.len() as f64;
        (0..self.triangle_count())
            .map(|t| {
                let [a, b, c2] = self.triangle(t).map(|v| v.as_dvec3() - c);
                a.dot(b.cross(c2)) / 6.0
            })
            .sum()
    }

    /// Reverses the winding of every triangle (normals are left to the caller).
    pub fn flip_winding(&mut self) {
        for tri in self.indices.chunks_exact_mut(3) {
            tri.swap(1, 2);
        }
    }

    /// Number of edges not shared by exactly two triangles: 0 for a closed, manifold mesh.
    pub fn open_edge_count(&self) -> usize {
        let mut uses = std::collections::HashMap::<(u32, u32), u32>::new();
        for tri in self.indices.chunks_exact(3) {
            for k in 0..3 {
                let (a, b) = (tri[k], tri[(k + 1) % 3]);
                *uses.entry((a.min(b), a.max(b))).or_default() += 1;
            }
        }
        uses.values().filter(|&&n| n != 2).count()
    }

    /// Closest ray hit (origin, unit direction) as distance along the ray.
    /// Brute force: used only for a few hundred landmark and hairline probes per head.
    pub fn raycast(&self, origin: Vec3, dir: Vec3) -> Option<f32> {
        let mut best: Option<f32> = None;
        for t in 0..self.triangle_count() {
            let [a, b, c] = self.triangle(t);
            if let Some(d) = ray_triangle(origin, dir, a, b, c)
                && best.is_none_or(|bd| d < bd)
            {
                best = Some(d);
            }
        }
        best
    }
}

/// Möller–Trumbore, two-sided.
pub fn ray_triangle(o: Vec3, d: Vec3, a: Vec3, b: Vec3, c: Vec3) -> Option<f32> {
    let e1 = b - a;
    let e2 = c - a;
    let p = d.cross(e2);
    let det = e1.dot(p);
    if det.abs() < 1e-12 {
        return None;
    }
    let inv = 1.0 / det;
    let s = o - a;
    let u = s.dot(p) * inv;
    if !(0.0..=1.0).contains(&u) {
        return None;
    }
    let q = s.cross(e1);
    let v = d.dot(q) * inv;
    if v < 0.0 || u + v > 1.0 {
        return None;
    }
    let t = e2.dot(q) * inv;
    (t > 0.0).then_some(t)
}
