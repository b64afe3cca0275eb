//! The built-in head: a smooth, shaved adult head at real scale, built in code.
//!
//! The head is an implicit solid: a signed distance field made of ellipsoids, capsules and cones
//! joined by smooth unions (cranium, face, brow ridge, eye sockets and eyes, nose, cheekbones,
//! lips, jaw, chin, ears, neck). The mesh samples it along the directions of an icosphere from the
//! cranium centre, each vertex being the outermost surface point on its ray. The mesh is therefore
//! a radial graph: closed, never self-intersecting, with about 2 mm triangles on the scalp at
//! level 6. Regions that face away from the centre (behind the ears) are filled in, which a head
//! seen from outside does not miss.
//!
//! Everything is modelled once at the default size ("design space": mm, origin at the cranium
//! centre) and scaled per axis to the requested length, width and height. Landmarks are searched
//! on the implicit surface in design space, scaled, and snapped onto the final mesh.

use super::{Head, Landmarks, TriMesh};
use glam::{Vec2, Vec3};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Shape parameters of the procedural head, at real adult scale.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProceduralHeadParams {
    /// Glabella to the back of the skull (opisthocranion), mm.
    pub length_mm: f32,
    /// Widest breadth of the skull, above the ears, mm.
    pub width_mm: f32,
    /// Top of the head (vertex) to the chin (menton), mm.
    pub height_mm: f32,
    /// Icosphere subdivision level: 6 gives about 2 mm triangles on the scalp.
    pub subdivisions: u32,
}

impl Default for ProceduralHeadParams {
    fn default() -> Self {
        Self {
            length_mm: 195.0,
            width_mm: 155.0,
            height_mm: 230.0,
            subdivisions: 6,
        }
    }
}

/// Subdivision levels outside this range are clamped: below 2 the face is unrecognisable, above
/// 8 the mesh (2.6 M triangles) is larger than anything downstream needs.
pub const SUBDIVISIONS: std::ops::RangeInclusive<u32> = 2..=8;

/// Builds the head. Non-finite or non-positive sizes fall back to the defaults.
pub fn build(params: &ProceduralHeadParams) -> Head {
    let defaults = ProceduralHeadParams::default();
    let pick = |v: f32, d: f32| if v.is_finite() && v > 1.0 { v } else { d };
    let target = Vec3::new(
        pick(params.width_mm, defaults.width_mm),
        pick(params.height_mm, defaults.height_mm),
        pick(params.length_mm, defaults.length_mm),
    );
    let level = params
        .subdivisions
        .clamp(*SUBDIVISIONS.start(), *SUBDIVISIONS.end());

    let design = design_measures();
    // Per-axis scale from design space: width is along x, height along y, length along z.
    let scale = target / Vec3::new(design.width, design.height, design.length);

    let ico = icosphere(level);
    let radii = radial_samples(&ico);
    let design_positions: Vec<Vec3> = ico.dirs.iter().zip(&radii).map(|(d, r)| *d * *r).collect();

    let mut mesh = TriMesh {
        positions_mm: design_positions.iter().map(|p| *p * scale).collect(),
        normals: Vec::new(),
        albedo_tint: design_positions.iter().map(|p| tint(*p)).collect(),
        indices: ico.indices.clone(),
        ..Default::default()
    };
    mesh.recompute_normals();

    let landmarks = snap_radial(&mesh, &design.landmarks.map(|p| p * scale));
    Head { mesh, landmarks }
}

// ---------------------------------------------------------------------------------------------
// Shape: the signed distance field in design space.
// ---------------------------------------------------------------------------------------------

// Cranium: an ellipsoid whose top is the vertex and whose widest breadth is 2 × 77.5 = 155 mm.
const CRANIUM_C: Vec3 = Vec3::new(0.0, 20.0, -2.0);
const CRANIUM_R: Vec3 = Vec3::new(77.5, 82.5, 95.5);
/// (sin, cos) of the cranium's backward tilt, 12°.
const CRANIUM_TILT: (f32, f32) = (0.207_912, 0.978_148);
// Widens the skull at ear level (bitragion breadth ~140 mm), under the widest line.
const TEMPORAL_C: Vec3 = Vec3::new(0.0, -22.0, -5.0);
const TEMPORAL_R: Vec3 = Vec3::new(70.0, 38.0, 60.0);
// Neck: an elliptic cylinder from inside the skull down to ~115 mm below the chin.
const NECK_C: Vec2 = Vec2::new(0.0, -6.0); // (x, z) of its axis
const NECK_R: Vec2 = Vec2::new(54.0, 50.0);
const NECK_TOP: f32 = -35.0;
const NECK_BOTTOM: f32 = -245.0;
/// Forward shift of the neck's axis per mm of height (about 2°).
const NECK_LEAN: f32 = 0.04;

// Everything on the face lies inside this sphere; outside it the face cannot change the field.
const FACE_BOUND_C: Vec3 = Vec3::new(0.0, -50.0, 40.0);
const FACE_BOUND_R: f32 = 100.0;
const FACE_MAX_BLEND: f32 = 14.0;

const EYE_C: Vec3 = Vec3::new(32.0, -15.0, 74.0);
const EYEBALL_R: f32 = 12.0;
/// The lids: a shell over the eyeball, wider than it, filling the socket.
const LID_R: Vec3 = Vec3::new(16.0, 13.0, 13.0);
/// Half the width of the eye opening, as an angle around the eyeball from the gaze (radians).
const EYE_HALF_ANGLE: f32 = 1.15;

const EAR_C: Vec3 = Vec3::new(74.0, -31.0, -15.0);
const EAR_R: Vec3 = Vec3::new(8.0, 31.0, 17.5); // (out of the head, up, forward) in the ear frame
const EAR_BOUND_R: f32 = 36.0;
const EAR_BLEND: f32 = 7.0;

/// Outermost radius any ray needs to start from.
const BOUND_MM: f32 = 300.0;

/// Cubic polynomial smooth minimum: blends over a width `k` and is C2, so a blend shades without
/// a visible seam.
#[inline]
fn smin(a: f32, b: f32, k: f32) -> f32 {
    let h = (k - (a - b).abs()).max(0.0) / k;
    a.min(b) - h * h * h * k * (1.0 / 6.0)
}

/// Smooth maximum (for carving `b` out of `a`, pass `-b`).
#[inline]
fn smax(a: f32, b: f32, k: f32) -> f32 {
    -smin(-a, -b, k)
}

/// Approximate distance to an axis-aligned ellipsoid (exact for spheres, close near the surface).
#[inline]
fn ellipsoid(p: Vec3, r: Vec3) -> f32 {
    let k0 = (p / r).length();
    let k1 = (p / (r * r)).length();
    if k1 <= 1e-12 {
        return -r.min_element();
    }
    k0 * (k0 - 1.0) / k1
}

#[inline]
fn capsule(p: Vec3, a: Vec3, b: Vec3, r: f32) -> f32 {
    let pa = p - a;
    let ba = b - a;
    let h = (pa.dot(ba) / ba.dot(ba)).clamp(0.0, 1.0);
    (pa - ba * h).length() - r
}

/// Exact distance to a cone with spherical ends: radius `r1` at `a`, `r2` at `b` (Quílez).
fn round_cone(p: Vec3, a: Vec3, b: Vec3, r1: f32, r2: f32) -> f32 {
    let ba = b - a;
    let l2 = ba.dot(ba);
    let rr = r1 - r2;
    let a2 = l2 - rr * rr;
    let il2 = 1.0 / l2;
    let pa = p - a;
    let y = pa.dot(ba);
    let z = y - l2;
    let x2 = (pa * l2 - ba * y).length_squared();
    let y2 = y * y * l2;
    let z2 = z * z * l2;
    let k = rr.signum() * rr * rr * x2;
    if z.signum() * a2 * z2 > k {
        return (x2 + z2).sqrt() * il2 - r2;
    }
    if y.signum() * a2 * y2 < k {
        return (x2 + y2).sqrt() * il2 - r1;
    }
    ((x2 * a2 * il2).sqrt() + y * rr) * il2 - r1
}

fn cranium(p: Vec3) -> f32 {
    // Tilted back: the forehead slopes away above the brow and the back of the skull rises.
    let (s, c) = CRANIUM_TILT;
    let q0 = p - CRANIUM_C;
    let q = Vec3::new(q0.x, c * q0.y + s * q0.z, c * q0.z - s * q0.y);
    // Seen from above a skull is an egg: narrower at the forehead than at the parietal
    // eminences. The factor is 1 at the centre and below 1 elsewhere, so the widest breadth stays
    // exactly 2 × CRANIUM_R.x.
    let u = (q.z / CRANIUM_R.z).clamp(-1.2, 1.2);
    let w = 1.0 - u * u * (0.08 + 0.04 * u);
    ellipsoid(Vec3::new(q.x / w, q.y, q.z), CRANIUM_R)
}

fn neck(p: Vec3) -> f32 {
    // The neck leans: the head sits a little forward of the shoulders.
    let lean = NECK_LEAN * (p.y - NECK_TOP);
    let q = Vec2::new(p.x, p.z - lean) - NECK_C;
    let k0 = (q / NECK_R).length();
    let k1 = (q / (NECK_R * NECK_R)).length();
    let radial = if k1 > 1e-12 {
        k0 * (k0 - 1.0) / k1
    } else {
        -NECK_R.min_element()
    };
    // Rounded ends: the bottom cap edge reads as a cut-off bust rather than a sharp rim.
    let round = 10.0;
    let mid = 0.5 * (NECK_TOP + NECK_BOTTOM);
    let half = 0.5 * (NECK_TOP - NECK_BOTTOM);
    let vertical = (p.y - mid).abs() - half;
    let d = Vec2::new(radial + round, vertical + round);
    d.max(Vec2::ZERO).length() + d.x.max(d.y).min(0.0) - round
}

/// The ear's frame: `n` out of the head (ears face a little forward), `u` up (tilted back),
/// `f` forward along the ear.
struct EarFrame {
    n: Vec3,
    u: Vec3,
    f: Vec3,
}

fn ear_frame() -> &'static EarFrame {
    static FRAME: OnceLock<EarFrame> = OnceLock::new();
    FRAME.get_or_init(|| {
        let n = Vec3::new(1.0, 0.0, 0.25).normalize();
        let tilt = 15f32.to_radians();
        let u0 = Vec3::new(0.0, tilt.cos(), -tilt.sin());
        let u = (u0 - n * u0.dot(n)).normalize();
        EarFrame {
            n,
            u,
            f: n.cross(u),
        }
    })
}

/// Left ear (x > 0) in mirrored coordinates.
fn ear(q: Vec3) -> f32 {
    let fr = ear_frame();
    let l = q - EAR_C;
    let e = Vec3::new(l.dot(fr.n), l.dot(fr.u), l.dot(fr.f));
    let shell = ellipsoid(e, EAR_R);
    // The bowl of the concha, below the middle and toward the front of the outer face.
    let concha = ellipsoid(e - Vec3::new(6.0, -6.0, 3.0), Vec3::new(4.5, 10.0, 7.5));
    // A shallow fossa above it leaves the helix standing as a rim.
    let fossa = ellipsoid(e - Vec3::new(7.5, 11.0, -1.0), Vec3::new(2.5, 10.0, 8.0));
    smax(smax(shell, -concha, 2.5), -fossa, 2.0)
}

/// Eyeball and lids (mirrored coordinates): (eyeball distance, eye distance).
fn eye(q: Vec3) -> (f32, f32) {
    let l = q - EYE_C;
    let r = l.length();
    let ball = r - EYEBALL_R;
    // The eye opening, drawn in angles around the eyeball so that it wraps around it as lids
    // do: an almond between the two corners, the outer corner a little higher (canthal tilt),
    // the upper lid arc taller than the lower.
    let v = l / r.max(1e-6);
    let s = v.x.atan2(v.z) / EYE_HALF_ANGLE;
    let arc = 1.0 - s * s;
    let centre = 0.03 + 0.05 * s;
    let elevation = v.y.clamp(-1.0, 1.0).asin();
    let half = if elevation > centre {
        0.36 * arc
    } else {
        0.27 * arc
    };
    let opening = ((elevation - centre).abs() - half) * EYEBALL_R;
    let lid = ellipsoid(l, LID_R).max(-opening);
    (ball, smin(ball, lid, 1.0))
}

fn eyeball_distance(p: Vec3) -> f32 {
    eye(mirror(p)).0
}

#[inline]
fn mirror(p: Vec3) -> Vec3 {
    Vec3::new(p.x.abs(), p.y, p.z)
}

/// Upper and lower lip (mirrored coordinates).
fn lips(q: Vec3) -> f32 {
    ellipsoid(q - Vec3::new(0.0, -79.5, 87.0), Vec3::new(21.0, 4.5, 7.5)).min(ellipsoid(
        q - Vec3::new(0.0, -90.5, 85.5),
        Vec3::new(18.0, 5.5, 7.5),
    ))
}

/// Smooth union with a part, skipped where the part's bounding sphere (centre, radius) shows
/// it is further than the blend width `k` from the surface so far: most of the head then
/// evaluates only a few parts.
#[inline]
fn add(d: f32, q: Vec3, bound: (Vec3, f32), k: f32, part: impl FnOnce() -> f32) -> f32 {
    if (q - bound.0).length() - bound.1 > d + k {
        d
    } else {
        smin(d, part(), k)
    }
}

/// Smooth subtraction of a part, skipped like [`add`].
#[inline]
fn carve(d: f32, q: Vec3, bound: (Vec3, f32), k: f32, part: impl FnOnce() -> f32) -> f32 {
    if (q - bound.0).length() - bound.1 > k - d {
        d
    } else {
        smax(d, -part(), k)
    }
}

fn face(q: Vec3, mut d: f32) -> f32 {
    const GONION: Vec3 = Vec3::new(54.0, -95.0, -2.0);
    const CHIN_SIDE: Vec3 = Vec3::new(10.0, -118.5, 72.0);
    const RAMUS_TOP: Vec3 = Vec3::new(60.0, -45.0, 4.0);
    // Masses first, each blended into the skull.
    let c = Vec3::new(0.0, -48.0, 22.0);
    d = add(d, q, (c, 74.0), 14.0, || {
        ellipsoid(q - c, Vec3::new(65.0, 70.0, 73.0))
    });
    let c = Vec3::new(0.0, -95.0, 35.0);
    d = add(d, q, (c, 56.0), 12.0, || {
        ellipsoid(q - c, Vec3::new(47.0, 30.0, 55.0))
    });
    let b = (0.5 * (GONION + CHIN_SIDE), 53.0);
    d = add(d, q, b, 14.0, || capsule(q, GONION, CHIN_SIDE, 7.0));
    let b = (0.5 * (GONION + RAMUS_TOP), 34.0);
    d = add(d, q, b, 14.0, || capsule(q, GONION, RAMUS_TOP, 7.0));
    let c = Vec3::new(0.0, -115.0, 77.0);
    d = add(d, q, (c, 19.0), 8.0, || {
        ellipsoid(q - c, Vec3::new(18.0, 12.5, 13.0))
    });
    // Cheekbone: a flat ridge where the front of the face turns into its side.
    let c = Vec3::new(43.0, -29.0, 67.0);
    d = add(d, q, (c, 21.0), 10.0, || {
        let (t, n) = (Vec3::new(-0.67, 0.0, 0.74), Vec3::new(0.74, 0.0, 0.67));
        let l = q - c;
        ellipsoid(
            Vec3::new(l.dot(t), l.y, l.dot(n)),
            Vec3::new(20.0, 11.0, 7.0),
        )
    });
    // The brow ridge follows the curve of the forehead.
    let c = Vec3::new(0.0, 4.0, 52.0);
    d = add(d, q, (c, 53.0), 8.0, || {
        ellipsoid(q - c, Vec3::new(52.0, 9.5, 45.5))
    });
    // Eye sockets: a hollow under the brow and beside the nose that the lids fill again.
    let c = Vec3::new(32.0, -13.0, 90.0);
    d = carve(d, q, (c, 20.0), 6.0, || {
        ellipsoid(q - c, Vec3::new(19.0, 13.0, 16.0))
    });
    // Nose: a narrow bridge widening to the tip, the body over the cheeks, then the wings.
    // (The bound allows for the inner blends, which reach up to 8/6 mm beyond the parts.)
    d = add(d, q, (Vec3::new(0.0, -35.0, 100.0), 37.0), 6.0, || {
        let mut nose = round_cone(
            q,
            Vec3::new(0.0, -10.0, 88.0),
            Vec3::new(0.0, -45.0, 111.0),
            5.5,
            7.0,
        );
        nose = smin(nose, (q - Vec3::new(0.0, -48.0, 110.0)).length() - 7.5, 4.0);
        let body = ellipsoid(q - Vec3::new(0.0, -43.0, 96.0), Vec3::new(15.0, 16.0, 11.0));
        nose = smin(nose, body, 8.0);
        let wing = ellipsoid(q - Vec3::new(11.5, -53.0, 99.0), Vec3::new(6.0, 5.0, 7.0));
        smin(nose, wing, 7.0)
    });
    // Lips, the line between them and the corners of the mouth.
    d = add(d, q, (Vec3::new(0.0, -85.0, 87.0), 27.0), 7.0, || lips(q));
    let c = Vec3::new(0.0, -85.3, 94.0);
    d = carve(d, q, (c, 22.0), 3.0, || {
        ellipsoid(q - c, Vec3::new(21.0, 1.2, 7.0))
    });
    let c = Vec3::new(21.0, -85.0, 89.0);
    d = carve(d, q, (c, 2.0), 3.0, || (q - c).length() - 2.0);
    // Eyes last, so the sockets do not cut them.
    add(d, q, (EYE_C, LID_R.max_element() + 0.5), 2.5, || eye(q).1)
}

/// The head's signed distance (mm, negative inside), optionally without the ears.
fn field(p: Vec3, with_ears: bool) -> f32 {
    let q = mirror(p);
    let mut d = cranium(p);
    d = add(d, p, (TEMPORAL_C, TEMPORAL_R.max_element()), 20.0, || {
        ellipsoid(p - TEMPORAL_C, TEMPORAL_R)
    });
    // A wider fillet at the nape than under the jaw: the nape is scalp, and a gentle curve there
    // keeps its triangles as small as elsewhere on the scalp.
    let nape = smoothstep(-10.0, -50.0, p.z);
    d = smin(d, neck(p), 18.0 + 14.0 * nape);
    // The sub-fields are skipped where their bounding sphere shows they cannot change the
    // result: most of the scalp needs only the three lines above.
    if (q - FACE_BOUND_C).length() - FACE_BOUND_R < d + FACE_MAX_BLEND {
        d = face(q, d);
    }
    if with_ears && (q - EAR_C).length() - EAR_BOUND_R < d + EAR_BLEND {
        d = smin(d, ear(q), EAR_BLEND);
    }
    d
}

fn sdf(p: Vec3) -> f32 {
    field(p, true)
}

// ---------------------------------------------------------------------------------------------
// Ray marching.
// ---------------------------------------------------------------------------------------------

/// First entry into the solid along `from + t·dir` (unit `dir`), for t in [0, t_max]; `None` if
/// the ray starts inside or misses. Sphere tracing with a safety factor (the ellipsoid distances
/// are approximate); within a millimetre of a slanted surface, secant steps (at most a few
/// distances long) replace the slow geometric approach; once the surface is bracketed, regula
/// falsi finishes.
fn march(f: &impl Fn(Vec3) -> f32, from: Vec3, dir: Vec3, t_max: f32) -> Option<f32> {
    const HIT: f32 = 5e-3;
    let mut t = 0.0;
    let mut d = f(from);
    if d < 0.0 {
        return None;
    }
    let mut prev: Option<(f32, f32)> = None;
    for _ in 0..400 {
        if d < HIT {
            return Some(t);
        }
        let mut step = 0.9 * d;
        if let Some((tp, dp)) = prev {
            // Only near the surface: far away the field's slope along the ray says nothing
            // about where the ray will meet it.
            if d < 1.0 && dp > d {
                step = (d * (t - tp) / (dp - d)).clamp(step, 4.0 * d);
            }
        }
        let t_next = t + step.max(0.02);
        if t_next > t_max {
            return None;
        }
        let d_next = f(from + dir * t_next);
        if d_next < 0.0 {
            return Some(refine(f, from, dir, (t, d), (t_next, d_next)));
        }
        prev = Some((t, d));
        t = t_next;
        d = d_next;
    }
    Some(t)
}

/// Illinois regula falsi between an outside (`d > 0`) and an inside (`d < 0`) sample.
fn refine(
    f: &impl Fn(Vec3) -> f32,
    from: Vec3,
    dir: Vec3,
    mut out: (f32, f32),
    mut inn: (f32, f32),
) -> f32 {
    let mut side = 0;
    for _ in 0..30 {
        let t = (out.0 * inn.1 - inn.0 * out.1) / (inn.1 - out.1);
        let d = f(from + dir * t);
        if d.abs() < 1e-3 || (inn.0 - out.0).abs() < 1e-3 {
            return t;
        }
        if d > 0.0 {
            out = (t, d);
            if side == 1 {
                inn.1 *= 0.5;
            }
            side = 1;
        } else {
            inn = (t, d);
            if side == -1 {
                out.1 *= 0.5;
            }
            side = -1;
        }
    }
    0.5 * (out.0 + inn.0)
}

/// Distance from the design origin to the outermost surface along unit `dir`, starting the
/// search at `start` (falls back to the global bound if `start` is inside the head).
fn radius_from(f: &impl Fn(Vec3) -> f32, dir: Vec3, start: f32) -> f32 {
    let start = start.min(BOUND_MM);
    if let Some(t) = march(f, dir * start, -dir, start) {
        return start - t;
    }
    if start < BOUND_MM
        && let Some(t) = march(f, dir * BOUND_MM, -dir, BOUND_MM)
    {
        return BOUND_MM - t;
    }
    // Unreachable for this head (the origin is inside); keep the vertex finite regardless.
    1.0
}

fn radius(dir: Vec3) -> f32 {
    radius_from(&sdf, dir, BOUND_MM)
}

fn surface(dir: Vec3) -> Vec3 {
    let dir = dir.normalize();
    dir * radius(dir)
}

/// The front surface point at (x, y), found by a ray along −z.
fn front_surface(x: f32, y: f32) -> Option<Vec3> {
    let from = Vec3::new(x, y, BOUND_MM);
    march(&sdf, from, Vec3::NEG_Z, 2.0 * BOUND_MM).map(|t| from - Vec3::Z * t)
}

// ---------------------------------------------------------------------------------------------
// Icosphere sampling.
// ---------------------------------------------------------------------------------------------

struct Icosphere {
    dirs: Vec<Vec3>,
    /// The two vertices each vertex was split from (none for the 12 base vertices).
    parents: Vec<Option<[u32; 2]>>,
    /// Subdivision level at which each vertex appeared.
    levels: Vec<u8>,
    indices: Vec<u32>,
}

/// Hash for edge keys: the default SipHash is several times slower and the keys are not
/// attacker-controlled.
#[derive(Default)]
struct EdgeHasher(u64);

impl std::hash::Hasher for EdgeHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ *b as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (v ^ (v >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// The icosphere of a level, built once per process: it does not depend on the head's size.
fn icosphere(level: u32) -> Arc<Icosphere> {
    static CACHE: OnceLock<Mutex<HashMap<u32, Arc<Icosphere>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(ico) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&level) {
        return ico.clone();
    }
    let ico = Arc::new(build_icosphere(level));
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(level, ico.clone());
    ico
}

fn build_icosphere(level: u32) -> Icosphere {
    let t = (1.0 + 5f32.sqrt()) / 2.0;
    let base = [
        (-1.0, t, 0.0),
        (1.0, t, 0.0),
        (-1.0, -t, 0.0),
        (1.0, -t, 0.0),
        (0.0, -1.0, t),
        (0.0, 1.0, t),
        (0.0, -1.0, -t),
        (0.0, 1.0, -t),
        (t, 0.0, -1.0),
        (t, 0.0, 1.0),
        (-t, 0.0, -1.0),
        (-t, 0.0, 1.0),
    ];
    let mut dirs: Vec<Vec3> = base
        .iter()
        .map(|&(x, y, z)| Vec3::new(x, y, z).normalize())
        .collect();
    let mut parents = vec![None; dirs.len()];
    let mut levels = vec![0u8; dirs.len()];
    // Counter-clockwise seen from outside.
    let mut indices: Vec<u32> = vec![
        0, 11, 5, 0, 5, 1, 0, 1, 7, 0, 7, 10, 0, 10, 11, 1, 5, 9, 5, 11, 4, 11, 10, 2, 10, 7, 6, 7,
        1, 8, 3, 9, 4, 3, 4, 2, 3, 2, 6, 3, 6, 8, 3, 8, 9, 4, 9, 5, 2, 4, 11, 6, 2, 10, 8, 6, 7, 9,
        8, 1,
    ];
    for l in 1..=level {
        let mut mids: HashMap<u64, u32, std::hash::BuildHasherDefault<EdgeHasher>> =
            HashMap::with_capacity_and_hasher(indices.len(), Default::default());
        let mut next = Vec::with_capacity(indices.len() * 4);
        let mut mid = |a: u32, b: u32| -> u32 {
            let key = (a.min(b) as u64) << 32 | a.max(b) as u64;
            *mids.entry(key).or_insert_with(|| {
                dirs.push((dirs[a as usize] + dirs[b as usize]).normalize());
                parents.push(Some([a, b]));
                levels.push(l as u8);
                (dirs.len() - 1) as u32
            })
        };
        for tri in indices.chunks_exact(3) {
            let (a, b, c) = (tri[0], tri[1], tri[2]);
            let (ab, bc, ca) = (mid(a, b), mid(b, c), mid(c, a));
            next.extend_from_slice(&[a, ab, ca, ab, b, bc, ca, bc, c, ab, bc, ca]);
        }
        indices = next;
    }
    Icosphere {
        dirs,
        parents,
        levels,
        indices,
    }
}

/// Surface radius along every icosphere direction. A vertex's search starts a margin outside
/// the larger of its two parents' radii, which cuts the marching work several-fold; the margin
/// covers how far the surface can rise between samples at that level. Each level depends only
/// on earlier ones, so a level's vertices are marched in parallel.
fn radial_samples(ico: &Icosphere) -> Vec<f32> {
    let mut radii = vec![0.0f32; ico.dirs.len()];
    let mut begin = 0;
    while begin < radii.len() {
        let level = ico.levels[begin];
        let end = begin
            + ico.levels[begin..]
                .iter()
                .take_while(|&&l| l == level)
                .count();
        let (done, todo) = radii.split_at_mut(begin);
        let done: &[f32] = done;
        let spacing = 250.0 * ICO_EDGE_ANGLE / (1u32 << level) as f32;
        par_fill(&mut todo[..end - begin], |k| {
            let i = begin + k;
            let start = match ico.parents[i] {
                Some([a, b]) if level >= 3 => {
                    done[a as usize].max(done[b as usize]) + 2.0 * spacing
                }
                _ => BOUND_MM,
            };
            radius_from(&sdf, ico.dirs[i], start)
        });
        begin = end;
    }
    antialias_walls(ico, &mut radii);
    radii
}

/// Angle between neighbouring icosahedron vertices, radians.
const ICO_EDGE_ANGLE: f32 = 1.107_149;

/// `out[k] = f(k)` for every k, split across the available cores.
fn par_fill(out: &mut [f32], f: impl Fn(usize) -> f32 + Sync) {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(16);
    if threads == 1 || out.len() < 2048 {
        out.iter_mut().enumerate().for_each(|(k, v)| *v = f(k));
        return;
    }
    let chunk = out.len().div_ceil(threads);
    std::thread::scope(|scope| {
        for (c, part) in out.chunks_mut(chunk).enumerate() {
            let f = &f;
            scope.spawn(move || {
                for (k, v) in part.iter_mut().enumerate() {
                    *v = f(c * chunk + k);
                }
            });
        }
    });
}

/// Where the surface runs almost along the rays (behind the ears, the sides of the nose, the
/// lids) a radial graph jumps between neighbouring samples, and its outline zigzags with the
/// sampling pattern. Averaging the radius over a small disc of directions there turns each jump
/// into a ramp that follows the true outline. Smooth regions such as the scalp are left alone.
fn antialias_walls(ico: &Icosphere, radii: &mut [f32]) {
    let level = ico.levels.iter().copied().max().unwrap_or(0);
    let spacing = ICO_EDGE_ANGLE / (1u32 << level) as f32;
    // Per vertex: whether it borders a jump, and the largest radius around it (where the
    // averaging rays can start).
    let mut wall = vec![false; radii.len()];
    let mut reach = radii.to_vec();
    for tri in ico.indices.chunks_exact(3) {
        for k in 0..3 {
            let (a, b) = (tri[k] as usize, tri[(k + 1) % 3] as usize);
            if (radii[a] - radii[b]).abs() > 2.5 * spacing * radii[a].min(radii[b]) {
                wall[a] = true;
                wall[b] = true;
            }
            reach[a] = reach[a].max(radii[b]);
            reach[b] = reach[b].max(radii[a]);
        }
    }
    let walls: Vec<usize> = (0..radii.len()).filter(|&i| wall[i]).collect();
    let mut averaged = vec![0.0f32; walls.len()];
    let rho = 0.6 * spacing;
    par_fill(&mut averaged, |w| {
        let i = walls[w];
        let d = ico.dirs[i];
        let t1 = d.any_orthonormal_vector();
        let t2 = d.cross(t1);
        let mut sum = radii[i];
        for k in 0..6 {
            let a = k as f32 * std::f32::consts::TAU / 6.0;
            let dir = (d + rho * (a.cos() * t1 + a.sin() * t2)).normalize();
            sum += radius_from(&sdf, dir, reach[i] + 2.0);
        }
        sum / 7.0
    });
    for (w, r) in walls.into_iter().zip(averaged) {
        radii[w] = r;
    }
}

// ---------------------------------------------------------------------------------------------
// Colour.
// ---------------------------------------------------------------------------------------------

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Albedo multiplier at a design-space surface point.
fn tint(p: Vec3) -> Vec3 {
    let q = mirror(p);
    let mut c = Vec3::ONE;
    // Everything tinted lies on the face or the ears.
    let near_ear = (q - EAR_C).length() < EAR_BOUND_R + 5.0;
    if !near_ear && (q - FACE_BOUND_C).length() > FACE_BOUND_R {
        return c;
    }

    // A faint flush on the ears and the tip of the nose: thinner skin over cartilage.
    if near_ear {
        let ear_w = 1.0 - smoothstep(0.5, 4.0, ear(q));
        c = c.lerp(Vec3::new(1.02, 0.93, 0.91), ear_w);
    }
    let nose_w = 1.0 - smoothstep(4.0, 14.0, (q - Vec3::new(0.0, -49.0, 112.0)).length());
    c = c.lerp(Vec3::new(1.02, 0.94, 0.92), nose_w);

    // Eyebrows: hair that stays when the scalp is shaved; a soft band along the brow ridge.
    let bx = (q.x - 31.0) / 20.0;
    let arch = 1.0 + 5.0 * (1.0 - bx * bx).max(0.0) - 1.5 * bx.max(0.0);
    let brow_w = (1.0 - smoothstep(0.7, 1.1, bx.abs()))
        * (1.0 - smoothstep(2.0, 4.0, (q.y - arch).abs()))
        * smoothstep(60.0, 75.0, q.z);
    c = c.lerp(Vec3::new(0.55, 0.5, 0.47), 0.8 * brow_w);

    // Lips: darker and redder over the two lip ellipsoids.
    let lip_w = (1.0 - smoothstep(0.3, 2.0, lips(q))) * smoothstep(82.0, 88.0, q.z);
    c = c.lerp(Vec3::new(0.8, 0.55, 0.55), lip_w);

    // Eyes: sclera, iris and pupil where the surface is the eyeball itself.
    let eye_w = 1.0 - smoothstep(0.05, 0.5, eye(q).0);
    if eye_w > 0.0 {
        let cos_gaze = (q - EYE_C).normalize().z;
        let iris_w = smoothstep(0.84, 0.87, cos_gaze); // iris radius ~6 mm
        let pupil_w = smoothstep(0.975, 0.982, cos_gaze);
        let sclera = Vec3::new(1.25, 1.45, 1.6);
        let iris = Vec3::new(0.3, 0.2, 0.15);
        let pupil = Vec3::splat(0.05);
        let e = sclera.lerp(iris, iris_w).lerp(pupil, pupil_w);
        c = c.lerp(e, eye_w);
    }
    c
}

// ---------------------------------------------------------------------------------------------
// Landmarks and measures, found once on the design surface.
// ---------------------------------------------------------------------------------------------

struct DesignMeasures {
    landmarks: Landmarks,
    /// Glabella to occiput along z.
    length: f32,
    /// Twice the largest |x| of the skull.
    width: f32,
    /// Top of the head to the lowest point of the chin.
    height: f32,
}

fn design_measures() -> &'static DesignMeasures {
    static MEASURES: OnceLock<DesignMeasures> = OnceLock::new();
    MEASURES.get_or_init(measure_design)
}

/// Maximises `f` on [lo, hi] by golden-section search (f unimodal there).
fn golden_max(f: impl Fn(f32) -> f32, mut lo: f32, mut hi: f32) -> f32 {
    let g = 0.618_034f32;
    let mut a = hi - g * (hi - lo);
    let mut b = lo + g * (hi - lo);
    let (mut fa, mut fb) = (f(a), f(b));
    while hi - lo > 1e-6 {
        if fa < fb {
            lo = a;
            a = b;
            fa = fb;
            b = lo + g * (hi - lo);
            fb = f(b);
        } else {
            hi = b;
            b = a;
            fb = fa;
            a = hi - g * (hi - lo);
            fa = f(a);
        }
    }
    0.5 * (lo + hi)
}

/// Point on the midline profile at angle `a` from +z toward +y.
fn midline(a: f32) -> Vec3 {
    surface(Vec3::new(0.0, a.sin(), a.cos()))
}

fn measure_design() -> DesignMeasures {
    // Vertex: the highest point; the head is symmetric, so it lies on the midline.
    let top_a = golden_max(|a| midline(a).y, 1.0, 2.2);
    let top_of_head = midline(top_a);

    // Occiput: the most posterior point of the skull on the midline.
    let occ_a = golden_max(|a| -midline(a).z, 2.6, 3.6);
    let occiput = midline(occ_a);

    // Glabella: coming down the forehead, the first point where the profile stops moving
    // forward is the top of the bump between the brows (below it lies the nasion).
    let step = 0.004;
    let mut a = 0.4;
    let mut z = midline(a).z;
    loop {
        let z_next = midline(a - step).z;
        if z_next < z || a < -0.3 {
            break;
        }
        a -= step;
        z = z_next;
    }
    let gl_a = golden_max(|a| midline(a).z, a - step, a + step);
    let glabella = midline(gl_a);

    // Chin: the lowest point of the face (in front of the neck).
    let chin_a = golden_max(
        |a| {
            let p = midline(a);
            if p.z > 60.0 { -p.y } else { f32::NEG_INFINITY }
        },
        -1.35,
        -0.7,
    );
    let chin = midline(chin_a);

    // Widest breadth: the skull's lateral extreme, from a local search over directions.
    let width_p = maximise_over_directions(|p| p.x, Vec3::new(1.0, 0.25, 0.0));

    let eye_left = outer_eye_corner();
    let ear_left = ear_top();

    let flip = |p: Vec3| Vec3::new(-p.x, p.y, p.z);
    let landmarks = Landmarks {
        glabella,
        outer_eye_corner_left: eye_left,
        outer_eye_corner_right: flip(eye_left),
        top_of_head,
        occiput,
        ear_left,
        ear_right: flip(ear_left),
    };
    DesignMeasures {
        landmarks,
        length: glabella.z - occiput.z,
        width: 2.0 * width_p.x,
        height: top_of_head.y - chin.y,
    }
}

/// Surface point maximising `f`, by pattern search over directions near `guess`.
fn maximise_over_directions(f: impl Fn(Vec3) -> f32, guess: Vec3) -> Vec3 {
    let mut dir = guess.normalize();
    let mut best = f(surface(dir));
    let mut step = 0.1;
    while step > 1e-6 {
        let t1 = dir.any_orthonormal_vector();
        let t2 = dir.cross(t1);
        let mut improved = false;
        for t in [t1, -t1, t2, -t2] {
            let d = (dir + t * step).normalize();
            let v = f(surface(d));
            if v > best {
                best = v;
                dir = d;
                improved = true;
                break;
            }
        }
        if !improved {
            step *= 0.5;
        }
    }
    surface(dir)
}

/// The left outer eye corner: the lateral end of the visible eyeball, where the lids meet.
/// Rows of the frontal plane are searched for how far out the eyeball shows.
fn outer_eye_corner() -> Vec3 {
    let visible = |x: f32, y: f32| front_surface(x, y).is_some_and(|p| eyeball_distance(p) < 0.05);
    // Last visible x along a row, or None when the row misses the opening.
    let row_end = |y: f32| -> Option<f32> {
        if !visible(EYE_C.x, y) {
            return None;
        }
        let (mut inside, mut outside) = (EYE_C.x, EYE_C.x + EYEBALL_R + 4.0);
        while outside - inside > 1e-3 {
            let m = 0.5 * (inside + outside);
            if visible(m, y) {
                inside = m;
            } else {
                outside = m;
            }
        }
        Some(inside)
    };
    let best_row = |ys: &mut dyn Iterator<Item = f32>| {
        ys.filter_map(|y| row_end(y).map(|x| (x, y)))
            .fold(
                (f32::NEG_INFINITY, 0.0),
                |b, c| if c.0 > b.0 { c } else { b },
            )
    };
    let coarse = best_row(&mut (0..=40).map(|i| EYE_C.y - 8.0 + 0.4 * i as f32));
    let fine = best_row(&mut (0..=40).map(|i| coarse.1 - 0.4 + 0.02 * i as f32));
    front_surface(fine.0, fine.1).unwrap_or_else(|| surface(Vec3::new(fine.0, fine.1, 60.0)))
}

/// The top of the left ear where it joins the head: the highest point where the ear changes
/// the surface by more than 0.5 mm.
fn ear_top() -> Vec3 {
    let no_ears = |p: Vec3| field(p, false);
    let dir = |az: f32, el: f32| Vec3::new(el.cos() * az.sin(), el.sin(), el.cos() * az.cos());
    let ear_here = |d: Vec3| radius(d) - radius_from(&no_ears, d, BOUND_MM) > 0.5;
    // Highest elevation on this azimuth where the ear shows, bracketed from a coarse scan.
    let top_at = |az: f32| -> Option<f32> {
        let mut el = 0.4;
        while el > -0.8 {
            if ear_here(dir(az, el)) {
                let (mut lo, mut hi) = (el, el + 0.02);
                while hi - lo > 1e-5 {
                    let m = 0.5 * (lo + hi);
                    if ear_here(dir(az, m)) {
                        lo = m;
                    } else {
                        hi = m;
                    }
                }
                return Some(lo);
            }
            el -= 0.02;
        }
        None
    };
    let best = |azs: &mut dyn Iterator<Item = f32>| {
        azs.filter_map(|az| top_at(az).map(|el| (surface(dir(az, el)), az)))
            .fold((Vec3::splat(f32::NEG_INFINITY), 0.0), |b, c| {
                if c.0.y > b.0.y { c } else { b }
            })
    };
    let coarse = best(&mut (0..=24).map(|i| (60.0 + 2.5 * i as f32).to_radians()));
    let fine = best(&mut (0..=20).map(|i| coarse.1 + (-2.5 + 0.25 * i as f32).to_radians()));
    fine.0
}

/// Moves each landmark along its ray from the origin onto the mesh (the mesh is a radial graph,
/// so each ray meets it exactly once).
fn snap_radial(mesh: &TriMesh, landmarks: &Landmarks) -> Landmarks {
    let named = landmarks.named();
    let dirs = named.map(|(_, p)| p.normalize());
    let mut hits: [Option<f32>; 7] = [None; 7];
    for t in 0..mesh.triangle_count() {
        let [a, b, c] = mesh.triangle(t);
        let centroid = (a + b + c) / 3.0;
        let len2 = centroid.length_squared();
        for (dir, hit) in dirs.iter().zip(hits.iter_mut()) {
            // Only triangles within a few degrees of the ray can contain it.
            let along = centroid.dot(*dir);
            if along <= 0.0 || along * along < 0.99 * len2 {
                continue;
            }
            if let Some(d) = super::mesh::ray_triangle(Vec3::ZERO, *dir, a, b, c)
                && hit.is_none_or(|h| d > h)
            {
                *hit = Some(d);
            }
        }
    }
    let snapped: Vec<Vec3> = named
        .iter()
        .zip(dirs.iter().zip(hits))
        .map(|((_, p), (dir, hit))| hit.map_or(*p, |d| *dir * d))
        .collect();
    Landmarks {
        glabella: snapped[0],
        outer_eye_corner_left: snapped[1],
        outer_eye_corner_right: snapped[2],
        top_of_head: snapped[3],
        occiput: snapped[4],
        ear_left: snapped[5],
        ear_right: snapped[6],
    }
}
