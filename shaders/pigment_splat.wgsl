// The pigment map splat (src/render/pigment_splat.rs): each placed splat (a dot's darkening on
// one surface chart, `Splat` in src/bake/pigment_map.rs) drawn as a Gaussian of its
// scattering halo into the atlas, added into a float target. The GPU twin of the CPU reference
// `PigmentMap::sum`: same weights, normalised over the whole window, written only inside the
// chart's rectangle.

struct Atlas {
    // x: halo sigma (texels) under which the splat falls back to bilinear; y: widest reach of a
    // splat (texels); zw: atlas size (texels).
    params: vec4<f32>,
};

@group(0) @binding(0) var<uniform> atlas: Atlas;

struct SplatIn {
    // xy: position in atlas texels (texel centres at integers); z: halo sigma (texels).
    @location(0) centre: vec4<f32>,
    // rgb: coverage x darkening; a: coverage.
    @location(1) value: vec4<f32>,
    // The chart's rectangle (x0, y0, x1, y1), inclusive.
    @location(2) clip: vec4<u32>,
};

struct VsOut {
    @builtin(position) pos: vec4<f32>,
    // xy: the splat's position; z: -1/(2 sigma^2) or 0 for a bilinear splat; w: 1 / the
    // weights' sum over the whole window.
    @location(0) @interpolate(flat) centre: vec4<f32>,
    @location(1) @interpolate(flat) value: vec4<f32>,
};

// Sum of exp(k (i - c)^2) over the integers i in [lo, hi].
fn gauss_sum(lo: f32, hi: f32, c: f32, k: f32) -> f32 {
    var s = 0.0;
    for (var i = lo; i <= hi; i += 1.0) {
        s += exp(k * (i - c) * (i - c));
    }
    return s;
}

@vertex
fn vs_main(@builtin(vertex_index) vi: u32, s: SplatIn) -> VsOut {
    var out: VsOut;
    let c = s.centre.xy;
    let sigma = s.centre.z;
    var lo: vec2<f32>;
    var hi: vec2<f32>;
    var k = 0.0;
    var inv_total = 1.0;
    if sigma < atlas.params.x {
        // Bilinear: the four texels round the centre (weights sum to one by construction).
        lo = floor(c);
        hi = lo + 1.0;
    } else {
        let reach = min(3.0 * sigma, atlas.params.y);
        lo = floor(c - reach);
        hi = ceil(c + reach);
        k = -0.5 / (sigma * sigma);
        // The Gaussian is separable and the window a rectangle: its sum is a product.
        inv_total = 1.0 / (gauss_sum(lo.x, hi.x, c.x, k) * gauss_sum(lo.y, hi.y, c.y, k));
    }
    // Quad over texels lo..hi (pixel edges lo and hi + 1), cut to the chart's rectangle.
    let clip = vec4<f32>(s.clip);
    let a = max(lo, clip.xy);
    let b = min(hi, clip.zw);
    let corner = vec2<f32>(f32(vi & 1u), f32((vi >> 1u) & 1u));
    let px = mix(a, b + 1.0, corner);
    let size = atlas.params.zw;
    out.pos = vec4<f32>(px.x / size.x * 2.0 - 1.0, 1.0 - px.y / size.y * 2.0, 0.0, 1.0);
    if any(a > b) {
        out.pos = vec4<f32>(2.0, 2.0, 0.0, 1.0);
    }
    out.centre = vec4<f32>(c, k, inv_total);
    out.value = s.value;
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
