// The pigment map splat (src/render/pigment_splat.rs): each dot's darkening as a Gaussian of its
// scattering halo on one cube face, added into a float target. The GPU twin of the CPU reference
// `PigmentMap::build` (src/render/pigment_map.rs): same texel area, same weights, normalised over
// the texels the splat reaches, so no pigment is lost or gained.

struct Splat {
    // xyz: the pigment map's origin (cranium centre, mm); w: texels per face side.
    origin: vec4<f32>,
    // x: the face drawn (wgpu order +X, -X, +Y, -Y, +Z, -Z); y: halo strength
    // (`pigment::HALO_STRENGTH`); z: widest reach of a splat (texels); w: halo sigma (texels)
    // under which the splat falls back to bilinear.
    face: vec4<f32>,
};

@group(0) @binding(0) var<uniform> splat: Splat;

// The dot buffer of the near pass (`GpuDot`), read per instance.
struct DotIn {
    @location(0) center_mm: vec3<f32>,
    @location(1) radius_mm: f32,
    @location(2) normal: vec3<f32>,
    @location(3) darkening: vec3<f32>,
    @location(4) halo_sigma_mm: f32,
};

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    // xy: the dot's position in texels (texel centres at integers); z: -1/(2 sigma^2) or 0 for
    // a bilinear splat; w: 1 / the weights' sum over the texels reached.
    @location(0) @interpolate(flat) centre: vec4<f32>,
    // rgb: coverage x darkening; a: coverage.
    @location(1) @interpolate(flat) value: vec4<f32>,
};

const PI: f32 = 3.14159265;

// (face coordinate s, t, major axis) of direction d on cube face f: `cube_face_uv`'s table.
fn face_coords(f: i32, d: vec3<f32>) -> vec3<f32> {
    switch f {
        case 0: { return vec3<f32>(-d.z, -d.y, d.x); }
        case 1: { return vec3<f32>(d.z, -d.y, -d.x); }
        case 2: { return vec3<f32>(d.x, d.z, d.y); }
        case 3: { return vec3<f32>(d.x, -d.z, -d.y); }
        case 4: { return vec3<f32>(d.x, -d.y, d.z); }
        default: { return vec3<f32>(-d.x, -d.y, -d.z); }
    }
}

// Sum of exp(k (i - c)^2) over the integers i in [lo, hi].
fn gauss_sum(lo: f32, hi: f32, c: f32, k: f32) -> f32 {
    var s = 0.0;
    for (var i = lo; i <= hi; i += 1.0) {
        s += exp(k * (i - c) * (i - c));
    }
    return s;
}

@vertex
fn vs_main(@builtin(vertex_index) vi: u32, d: DotIn) -> VsOut {
    var out: VsOut;
    out.pos = vec4<f32>(2.0, 2.0, 0.0, 1.0);
    out.centre = vec4<f32>(0.0);
    out.value = vec4<f32>(0.0);
    let n = splat.origin.w;
    let rel = d.center_mm - splat.origin.xyz;
    let dist = length(rel);
    if dist <= 0.0 {
        return out;
    }
    let dir = rel / dist;
    let st = face_coords(i32(splat.face.x), dir);
    let uv = st.xy / st.z;
    // Solid angle of one texel at uv, times r^2, over the surface's tilt against the radial
    // direction: the texel's area on the skin.
    let texel = 2.0 / n;
    let m = 1.0 + dot(uv, uv);
    let solid_angle = texel * texel / (m * sqrt(m));
    let cos_tilt = max(abs(dot(d.normal, dir)), 0.2);
    let texel_area_mm2 = solid_angle * dist * dist / cos_tilt;
    // `DotAppearance::footprint_mm2`: core disc plus halo.
    let footprint_mm2 = PI * (d.radius_mm * d.radius_mm
        + splat.face.y * 2.0 * d.halo_sigma_mm * d.halo_sigma_mm);
    let coverage = footprint_mm2 / texel_area_mm2;
    let c = clamp((uv + 1.0) * 0.5 * n - 0.5, vec2<f32>(0.0), vec2<f32>(n - 1.0));
    let sigma = d.halo_sigma_mm / sqrt(texel_area_mm2);
    var lo: vec2<f32>;
    var hi: vec2<f32>;
    var k = 0.0;
    var inv_total = 1.0;
    if sigma < splat.face.w {
        // Bilinear: the four texels round the centre (weights sum to one by construction).
        lo = floor(c);
        hi = lo + 1.0;
    } else {
        let reach = min(3.0 * sigma, splat.face.z);
        lo = max(floor(c - reach), vec2<f32>(0.0));
        hi = min(ceil(c + reach), vec2<f32>(n - 1.0));
        k = -0.5 / (sigma * sigma);
        // The Gaussian is separable and the window a rectangle: its sum is a product.
        inv_total = 1.0 / (gauss_sum(lo.x, hi.x, c.x, k) * gauss_sum(lo.y, hi.y, c.y, k));
    }
    // Quad over texels lo..hi (pixel edges lo and hi + 1), clipped by the face's viewport.
    let corner = vec2<f32>(f32(vi & 1u), f32((vi >> 1u) & 1u));
    let px = mix(lo, hi + 1.0, corner);
    out.pos = vec4<f32>(px.x / n * 2.0 - 1.0, 1.0 - px.y / n * 2.0, 0.0, 1.0);
    out.centre = vec4<f32>(c, k, inv_total);
    out.value = vec4<f32>(coverage * d.darkening, coverage);
    return out;
}

@fragment
fn fs_main(in: VsOut) -> @location(0) vec4<f32> {
    let d = in.pos.xy - 0.5 - in.centre.xy;
    var w: f32;
    if in.centre.z < 0.0 {
        w = exp(in.centre.z * dot(d, d)) * in.centre.w;
    } else {
        let t = max(vec2<f32>(0.0), 1.0 - abs(d));
        w = t.x * t.y;
    }
    return in.value * w;
}
