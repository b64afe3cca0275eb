//! Triangle meshes in head space: millimetres, +Y up, +Z forward (the face), +X the client's left.

use glam::{Vec2, Vec3, Vec4};
use std::sync::Arc;

/// A scan's colour texture: 8-bit sRGB RGBA rows, top row first (glTF's and the image file's
/// order; OBJ's bottom-left UVs are flipped on loading).
#[derive(Clone, Debug)]
pub struct AlbedoMap {
    pub image: image::RgbaImage,
}

impl AlbedoMap {
    /// Bilinear, wrapping lookup at `uv` (origin top-left), linear RGB.
    pub fn sample_linear(&self, uv: Vec2) -> Vec3 {
        let (w, h) = self.image.dimensions();
        let x = uv.x.rem_euclid(1.0) * w as f32 - 0.5;
        let y = uv.y.rem_euclid(1.0) * h as f32 - 0.5;
        let (x0, y0) = (x.floor(), y.floor());
        let (fx, fy) = (x - x0, y - y0);
        let texel = |i: f32, j: f32| {
            let px = self.image.get_pixel(
                (i as i64).rem_euclid(w as i64) as u32,
                (j as i64).rem_euclid(h as i64) as u32,
            );
            Vec3::new(px[0] as f32, px[1] as f32, px[2] as f32) / 255.0
        };
        let srgb = texel(x0, y0)
            .lerp(texel(x0 + 1.0, y0), fx)
            .lerp(texel(x0, y0 + 1.0).lerp(texel(x0 + 1.0, y0 + 1.0), fx), fy);
        srgb_to_linear(srgb)
    }
}

/// A scan's tangent-space normal map (glTF `normalTexture`, OBJ `norm` / `map_Bump`): linear
/// RGB rows, top row first, each texel a unit normal in the frame (tangent, bitangent, normal)
/// of [`TriMesh::corner_tangents`], +X toward +u, +Y up the image, +Z out of the skin (glTF
/// 2.0, "normalTexture"). `scale` multiplies X and Y before normalising.
#[derive(Clone, Debug)]
pub struct NormalMap {
    pub image: image::RgbaImage,
    pub scale: f32,
}

impl NormalMap {
    /// The map with its scale applied to every texel (what the renderer uploads): each texel
    /// decoded, its X and Y scaled, normalised and encoded again.
    pub fn scaled_image(&self) -> image::RgbaImage {
        let mut out = self.image.clone();
        if self.scale != 1.0 {
            for px in out.pixels_mut() {
                let n = (decode_normal(px.0) * Vec3::new(self.scale, self.scale, 1.0))
                    .normalize_or(Vec3::Z);
                px.0 = encode_normal(n, px.0[3]);
            }
        }
        out
    }
}

/// A normal-map texel (0-255 per channel) as the tangent-space vector it encodes, unnormalised.
pub fn decode_normal(px: [u8; 4]) -> Vec3 {
    Vec3::new(px[0] as f32, px[1] as f32, px[2] as f32) / 127.5 - Vec3::ONE
}

/// A tangent-space vector as a normal-map texel, `alpha` kept.
pub fn encode_normal(n: Vec3, alpha: u8) -> [u8; 4] {
    let c = ((n.clamp(Vec3::NEG_ONE, Vec3::ONE) + Vec3::ONE) * 127.5).round();
    [c.x as u8, c.y as u8, c.z as u8, alpha]
}

/// The sRGB transfer function, inverted (IEC 61966-2-1).
pub fn srgb_to_linear(c: Vec3) -> Vec3 {
    let f = |v: f32| {
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    Vec3::new(f(c.x), f(c.y), f(c.z))
}

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
    /// Texture coordinates per triangle corner (parallel to `indices`; origin top-left), or
    /// empty. Per corner, not per vertex: geometry is welded by position, and a UV seam stays a
    /// seam in the texture.
    pub corner_uvs: Vec<Vec2>,
    /// The scan's colour texture, sampled at `corner_uvs`.
    pub albedo_map: Option<Arc<AlbedoMap>>,
    /// Linear-RGB skin colour per vertex from the scan (PLY or glTF vertex colours, or a
    /// material's base colour factor), or empty.
    pub vertex_colors: Vec<Vec3>,
    /// The scan's normal map, sampled at `corner_uvs` in the frame of `corner_tangents`.
    pub normal_map: Option<Arc<NormalMap>>,
    /// Tangent per triangle corner (parallel to `indices`) where there is a normal map, else
    /// empty: xyz the direction of +u on the skin, w the bitangent's sign (+1 or -1); the
    /// bitangent is cross(normal, tangent) * w (glTF 2.0, "TANGENT").
    pub corner_tangents: Vec<Vec4>,
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
        for t in 0..self.triangle_count() {
            self.flip_triangle(t);
        }
    }

    /// Reverses one triangle's winding, its corners' UVs and tangents with it. The normal
    /// turns to the other side, so a tangent's bitangent sign turns too: cross(n, t) * w keeps
    /// pointing up the normal map.
    pub fn flip_triangle(&mut self, t: usize) {
        self.indices.swap(3 * t + 1, 3 * t + 2);
        if self.corner_uvs.len() == self.indices.len() {
            self.corner_uvs.swap(3 * t + 1, 3 * t + 2);
        }
        if self.corner_tangents.len() == self.indices.len() {
            self.corner_tangents.swap(3 * t + 1, 3 * t + 2);
            for k in 0..3 {
                self.corner_tangents[3 * t + k].w *= -1.0;
            }
        }
    }

    /// Whether the normal map feeds shading: a map, a UV and a tangent per corner.
    pub fn has_normal_map(&self) -> bool {
        self.normal_map.is_some()
            && self.corner_uvs.len() == self.indices.len()
            && self.corner_tangents.len() == self.indices.len()
    }

    /// MikkTSpace tangents for every corner (what the glTF specification asks for where a file
    /// gives none, and what bakers use), from the positions, the smooth normals and the corner
    /// UVs. MikkTSpace's v runs up the image (Blender's and OpenGL's convention, in which the
    /// maps are baked), so it is given 1 - v: its bitangent then points up the image, the
    /// normal map's +Y.
    pub fn compute_tangents(&mut self) {
        struct Geometry<'a> {
            mesh: &'a TriMesh,
            out: Vec<Vec4>,
        }
        impl bevy_mikktspace::Geometry for Geometry<'_> {
            fn num_faces(&self) -> usize {
                self.mesh.triangle_count()
            }
            fn num_vertices_of_face(&self, _face: usize) -> usize {
                3
            }
            fn position(&self, face: usize, vert: usize) -> [f32; 3] {
                self.mesh.positions_mm[self.mesh.indices[3 * face + vert] as usize].to_array()
            }
            fn normal(&self, face: usize, vert: usize) -> [f32; 3] {
                self.mesh.normals[self.mesh.indices[3 * face + vert] as usize].to_array()
            }
            fn tex_coord(&self, face: usize, vert: usize) -> [f32; 2] {
                let uv = self.mesh.corner_uvs[3 * face + vert];
                [uv.x, 1.0 - uv.y]
            }
            fn set_tangent(
                &mut self,
                tangent_space: Option<bevy_mikktspace::TangentSpace>,
                face: usize,
                vert: usize,
            ) {
                self.out[3 * face + vert] =
                    Vec4::from_array(tangent_space.unwrap_or_default().tangent_encoded());
            }
        }
        if self.corner_uvs.len() != self.indices.len()
            || self.normals.len() != self.positions_mm.len()
        {
            self.corner_tangents.clear();
            return;
        }
        let mut geometry = Geometry {
            mesh: self,
            out: vec![Vec4::new(1.0, 0.0, 0.0, 1.0); self.indices.len()],
        };
        // The error type has no values: generation cannot fail.
        let _ = bevy_mikktspace::generate_tangents(&mut geometry);
        self.corner_tangents = geometry.out;
    }

    /// Whether the scan brings its own skin colour (a texture or vertex colours).
    pub fn has_scan_colour(&self) -> bool {
        (self.albedo_map.is_some() && self.corner_uvs.len() == self.indices.len())
            || self.vertex_colors.len() == self.positions_mm.len()
    }

    /// The scan's linear-RGB colour at barycentric `w` of triangle `t`: the texture (times the
    /// vertex colours where both are given), the vertex colours, or None for an uncoloured mesh.
    pub fn scan_colour_at(&self, t: usize, w: Vec3) -> Option<Vec3> {
        let textured = self
            .albedo_map
            .as_ref()
            .filter(|_| self.corner_uvs.len() == self.indices.len());
        let coloured = self.vertex_colors.len() == self.positions_mm.len();
        let tex = textured.map(|map| {
            let uv = self.corner_uvs[3 * t] * w.x
                + self.corner_uvs[3 * t + 1] * w.y
                + self.corner_uvs[3 * t + 2] * w.z;
            map.sample_linear(uv)
        });
        let col = coloured.then(|| {
            let i = &self.indices[3 * t..3 * t + 3];
            self.vertex_colors[i[0] as usize] * w.x
                + self.vertex_colors[i[1] as usize] * w.y
                + self.vertex_colors[i[2] as usize] * w.z
        });
        match (tex, col) {
            (Some(a), Some(b)) => Some(a * b),
            (a, b) => a.or(b),
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
