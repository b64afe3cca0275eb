// Lights beyond the key, the key's shadow and the white balance: prepended to shade.wgsl by
// src/render/shade_pass.rs, filled by src/render/shadow_pass.rs. Head space in millimetres;
// light colours are illuminance x colour x exposure, like those in `Frame`.
//
// Shadows: percentage-closer soft shadows. A blocker search finds the mean depth of what lies
// between the point and the key light; the penumbra is that distance times the tangent of the
// light's angular radius (an area light's geometry), and percentage-closer filtering over a
// disc of that radius gives the visibility. The sun gets crisp shadow edges (a texel and a
// half, 0.2 mm), a softbox soft ones; where the penumbra is wider than the widest filter
// (10 mm: an overcast sky, a close softbox) the shadow fades by how much of the source a
// blocker can hide. Taps are rotated per pixel (fixed noise, averaged by supersampling).
//
// No acne, no peter-panning: the lookup point moves off the surface along its normal by about
// a texel (normal offset), and each filter tap compares against the receiver's tangent plane
// in light space (receiver-plane depth bias) instead of one depth, with a bias that grows with
// the tap's distance as far as curved skin can rise above that plane; so a head never shadows
// itself inside the filter, and a hard shadow starts within a millimetre of its occluder.

struct Lights {
    // Head space to the key light's clip space (orthographic; shadow.wgsl reads this too).
    shadow_view_proj: mat4x4<f32>,
    // x: shadow-map texel (mm); y: light-space depth range (mm); z: 1 = key casts shadows;
    // w: tangent of the key light's angular radius.
    shadow: vec4<f32>,
    // Camera white balance, linear sRGB to linear sRGB.
    white_balance: mat3x3<f32>,
    // Fill lights: xyz unit vector toward the light, w softness.
    fill_dir: array<vec4<f32>, 3>,
    // Fill lights: rgb illuminance x colour x exposure.
    fill_color: array<vec4<f32>, 3>,
    // x: number of fill lights.
    counts: vec4<u32>,
};

@group(2) @binding(0) var<uniform> lights: Lights;
// Light-space depth, 0-1 in 24-bit fixed point (shadow.wgsl).
@group(2) @binding(1) var shadow_map: texture_2d<u32>;

const BLOCKER_TAPS: i32 = 16;
const PCF_TAPS: i32 = 24;
// How far (mm) an occluder can be from the skin it shades and still count: a nose, an ear.
const MAX_OCCLUDER_MM: f32 = 80.0;
// Widest filter (mm). Softer light has wider penumbrae than this; there the shadow is faded
// instead, by how much of the light a blocker can hide (see key_visibility).
const MAX_FILTER_MM: f32 = 10.0;
// Head radius used to find the lit skin just before the terminator (see key_visibility).
const TERMINATOR_RADIUS_MM: f32 = 90.0;
// Tightest curvature of skin the filter taps allow for (see tap_bias).
const CURVATURE_MM: f32 = 15.0;
// Least cosine between the receiver plane and the key light (see key_visibility).
const TERMINATOR_COS: f32 = 0.1;

// Wrap factor of a source of softness `s` on skin: the skin's own wrap (scattering) combined
// with the source's size (a hemisphere source wraps fully).
fn soft_wrap(s: f32) -> f32 {
    return 1.0 - (1.0 - WRAP) * (1.0 - s);
}

// Wrapped diffuse falloff for a light at cosine `ndl` with softness `s`.
fn soft_diffuse(ndl: f32, s: f32) -> f32 {
    let w = soft_wrap(s);
    return max((ndl + w) / (1.0 + w), 0.0);
}

// A larger source spreads its highlight: widen the GGX lobe by the source's angular size.
fn soft_roughness(roughness: f32, s: f32) -> f32 {
    return sqrt(min(roughness * roughness + 0.5 * s, 1.0));
}

// Depth bias (mm) for a filter tap `r_mm` from the centre: a third of a millimetre, plus how far
// curved skin (radius of curvature down to CURVATURE_MM, as around the eyes) can rise above its
// tangent plane at that distance, r^2 / 2R. Hard light filters over a texel or two and keeps
// contact shadows; wide filters of soft light do not shade skin with itself.
fn tap_bias(r_mm: f32) -> f32 {
    return 0.3 + r_mm * r_mm / (2.0 * CURVATURE_MM);
}

// The sheen of a shaved scalp: two GGX lobes, a sharp one from the sebum film (85%, 0.75x the
// roughness) and a broad one from the skin's micro-relief (15%, 1.3x), as measured skin
// specular is better fitted by two lobes than one. The sharp lobe is what a hard light, the sun
// or a downlight, turns into a hot spot on the scalp.
fn skin_specular(n: vec3<f32>, v: vec3<f32>, l: vec3<f32>, roughness: f32) -> f32 {
    let g = ggx_geometry(n, v, l);
    return 0.85 * ggx_specular(g, 0.75 * roughness) + 0.15 * ggx_specular(g, min(1.3 * roughness, 1.0));
}

// The golden angle (2.39996323 rad) as a rotation: cos and sin.
const GOLDEN_COS: f32 = -0.73736882;
const GOLDEN_SIN: f32 = 0.67549036;

// The direction of the next point of a Vogel (golden-angle) disc: `dir` turned by the golden
// angle. Point i of n lies at sqrt((i + 0.5) / n) along the i-th direction from the first, which
// each pixel rotates by its own angle; so a tap costs a 2x2 rotation, not a sine and a cosine
// (on a software rasteriser those were much of the filter's arithmetic).
fn golden_step(dir: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(dir.x * GOLDEN_COS - dir.y * GOLDEN_SIN, dir.x * GOLDEN_SIN + dir.y * GOLDEN_COS);
}

// Distance from the centre of point `i` of `n` on a Vogel disc of unit radius.
fn vogel_radius(i: i32, n: i32) -> f32 {
    return sqrt((f32(i) + 0.5) / f32(n));
}

// Interleaved gradient noise (Jimenez 2014): a per-pixel rotation for the filter discs. Fixed
// per pixel, so frames stay bit-identical; supersampling averages it out.
fn interleaved_gradient_noise(pixel: vec2<f32>) -> f32 {
    return fract(52.9829189 * fract(dot(pixel, vec2<f32>(0.06711056, 0.00583715))));
}

fn shadow_coords(p: vec3<f32>) -> vec3<f32> {
    let c = lights.shadow_view_proj * vec4<f32>(p, 1.0);
    return vec3<f32>(c.x * 0.5 + 0.5, 0.5 - c.y * 0.5, c.z);
}

// Visibility of the key light (0 = in shadow, 1 = lit) at head-space point `p` with unit
// normal `n`; `pixel` only rotates the filter.
fn key_visibility(p: vec3<f32>, n: vec3<f32>, l: vec3<f32>, pixel: vec2<f32>) -> f32 {
    if lights.shadow.z < 0.5 {
        return 1.0;
    }
    let texel_mm = lights.shadow.x;
    let range_mm = lights.shadow.y;
    let tan_a = lights.shadow.w;
    let ndl = dot(n, l);
    // Where the key does not reach at all (past the wrapped terminator), visibility is moot.
    if ndl <= -soft_wrap(frame.light_dir.w) {
        return 1.0;
    }
    // Blocker search over the disc through which occluders up to MAX_OCCLUDER_MM away could
    // cover any part of the light.
    let search_mm = clamp(tan_a * MAX_OCCLUDER_MM, 3.0 * texel_mm, MAX_FILTER_MM);
    // Normal offset: a texel and a half, more where the light grazes. Past the terminator the
    // light the skin still shows (the wrapped diffuse term) is scattered in from the lit skin
    // just before it, so look from there: out along the normal to where a head-sized sphere
    // through the point would be seen by the light.
    var lift = texel_mm * (1.5 + 2.0 * (1.0 - clamp(ndl, 0.0, 1.0)));
    if ndl < 0.0 {
        lift += TERMINATOR_RADIUS_MM * (1.0 / sqrt(max(1.0 - ndl * ndl, 0.05)) - 1.0);
    }
    let q = p + n * lift;
    // Near and past the terminator the tangent plane turns edge-on to the light and the head
    // would shade itself within the filter: tilt the receiver plane to face the light at
    // least TERMINATOR_COS, which the skin around a convex terminator stays below. (Shadows
    // cast onto skin the light only grazes fade with it; the wrapped diffuse term is dim there.)
    var nb = n;
    if ndl < TERMINATOR_COS {
        let side = n - ndl * l;
        let len = length(side);
        let perp = select(normalize(cross(l, vec3<f32>(0.0, 0.0, 1.0) + l.yzx)), side / len, len > 1e-4);
        nb = perp * sqrt(1.0 - TERMINATOR_COS * TERMINATOR_COS) + l * TERMINATOR_COS;
    }
    let c0 = shadow_coords(q);
    if any(c0.xy < vec2<f32>(0.0)) || any(c0.xy > vec2<f32>(1.0)) || c0.z > 1.0 {
        return 1.0;
    }
    // Receiver plane: how light-space depth changes across the map along the skin's tangent
    // plane, so each tap compares against the skin where the tap lands.
    let t1 = normalize(cross(nb, select(vec3<f32>(0.0, 1.0, 0.0), vec3<f32>(1.0, 0.0, 0.0), abs(nb.y) > 0.9)));
    let t2 = cross(nb, t1);
    let c1 = shadow_coords(q + t1) - c0;
    let c2 = shadow_coords(q + t2) - c0;
    let det = c1.x * c2.y - c2.x * c1.y;
    var grad = vec2<f32>(0.0);
    if abs(det) > 1e-12 {
        grad = vec2<f32>(c2.y * c1.z - c1.y * c2.z, c1.x * c2.z - c2.x * c1.z) / det;
    }
    // The plane must be followed even where the light grazes the skin (a flatter plane would
    // let the skin itself rise above it and shade it); only edge-on, past 88 degrees, is the
    // slope (depth per mm across the map) capped.
    let mm_per_uv = texel_mm * f32(textureDimensions(shadow_map).x);
    let max_grad = 30.0 * mm_per_uv / range_mm;
    let g_len = length(grad);
    if g_len > max_grad {
        grad *= max_grad / g_len;
    }
    let phi = interleaved_gradient_noise(pixel) * 6.2831853;
    var blockers = 0.0;
    var blocker_sum = 0.0;
    var dir = vec2<f32>(cos(phi), sin(phi));
    for (var i = 0; i < BLOCKER_TAPS; i++) {
        let r = vogel_radius(i, BLOCKER_TAPS);
        let b = tap_occluder(c0, grad, r * dir * (search_mm / mm_per_uv), r * search_mm, range_mm);
        dir = golden_step(dir);
        blockers += b.x;
        blocker_sum += b.x * b.y;
    }
    if blockers < 1e-3 {
        return 1.0;
    }
    // Penumbra from the mean blocker distance; at least a texel and a half for a clean edge.
    let distance_mm = blocker_sum / blockers;
    let penumbra_mm = distance_mm * tan_a;
    // Never wider than the search: a blocker first found at the search's edge must start the
    // penumbra at full light, not in the middle of it.
    let radius_mm = clamp(penumbra_mm, 1.5 * texel_mm, search_mm);
    // A hard edge a couple of texels wide needs fewer taps than a wide penumbra.
    let taps = select(PCF_TAPS, PCF_TAPS / 2, radius_mm < 3.0 * texel_mm);
    var shadowed = 0.0;
    dir = vec2<f32>(cos(phi + 1.0), sin(phi + 1.0));
    for (var i = 0; i < taps; i++) {
        let r = vogel_radius(i, taps);
        shadowed += tap_occluder(c0, grad, r * dir * (radius_mm / mm_per_uv), r * radius_mm, range_mm).x;
        dir = golden_step(dir);
    }
    // A penumbra wider than the filter means a source so large (an overcast sky, a softbox
    // close by) that a nose or a brow hides only part of it: fade the shadow by that part.
    let strength = min(1.0, search_mm / max(penumbra_mm, 1e-3));
    return 1.0 - shadowed / f32(taps) * strength;
}

// One filter tap at `o` (shadow-map uv) from the centre `c0`, `r_mm` from it on the skin's
// tangent plane: (how much it counts as blocked, 0-1; how far the blocker lies above the
// plane, mm). A blocker counts fully once it is clear of the tap's bias by a millimetre, and
// fades in below that, so shadows grow continuously from where they start.
fn tap_occluder(c0: vec3<f32>, grad: vec2<f32>, o: vec2<f32>, r_mm: f32, range_mm: f32) -> vec2<f32> {
    let size = vec2<i32>(textureDimensions(shadow_map));
    let tc = clamp(vec2<i32>((c0.xy + o) * vec2<f32>(size)), vec2<i32>(0), size - 1);
    let d = f32(textureLoad(shadow_map, tc, 0).r) / 16777215.0;
    let above_mm = (c0.z + dot(grad, o) - d) * range_mm;
    let bias = tap_bias(r_mm);
    return vec2<f32>(smoothstep(bias, 2.0 * bias + 1.0, above_mm), above_mm);
}

struct FillLight {
    // Irradiance (exposed) for the diffuse term.
    irradiance: vec3<f32>,
    // Specular radiance (exposed).
    specular: vec3<f32>,
};

// The fill lights (no shadows) at a point with normal `n`, seen from `v`.
fn fill_lights(n: vec3<f32>, v: vec3<f32>, roughness: f32) -> FillLight {
    var out: FillLight;
    out.irradiance = vec3<f32>(0.0);
    out.specular = vec3<f32>(0.0);
    for (var i = 0u; i < min(lights.counts.x, 3u); i++) {
        let l = lights.fill_dir[i].xyz;
        let s = lights.fill_dir[i].w;
        let c = lights.fill_color[i].rgb;
        out.irradiance += c * soft_diffuse(dot(n, l), s);
        out.specular += c * skin_specular(n, v, l, soft_roughness(roughness, s));
    }
    return out;
}
