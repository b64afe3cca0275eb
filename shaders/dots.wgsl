// Pass 2: single dots as instanced decals, for views close enough to resolve them.
//
// Each instance rasterises a quad in the dot's tangent plane, but the quad only decides which
// pixels to visit: every fragment reconstructs the visible skin point from the depth buffer and
// measures its distance to the dot along the surface. So a dot always lies on the skin (no
// floating quad, no depth fighting, no stretching at grazing angles), and a dot hidden behind
// the head finds a far-away surface point and draws nothing.
//
// The dot's profile is convolved with the pixel's footprint: when a dot is smaller than a pixel
// it spreads into a fainter, wider spot with the same integral, so it neither shimmers nor
// changes the average colour.
//
// A dot is two absorbers: its core disc and its scattering halo, a Gaussian of 0.27-0.5 mm
// (src/pigment/mod.rs), whose 3 sigma sizes the quad: ten times the core's width, so at
// 850/cm2 some 28 quads cover each sample, nearly all for the halo's faint tail. Supersampled,
// the two are drawn apart (src/render/dots_pass.rs): the core at every sample on a quad its own
// size (vs_core, fs_core), the halo, smooth over several output pixels, once per output pixel
// (vs_main, fs_halo) and added to the samples bilinearly (dots_halo.wgsl). Their optical depths
// add up to the one dot's (fs_main, which draws both where there is one sample a pixel).

// The G-buffer's depths; this pass reads g, the flat triangles' (what the layout placed on),
// not r, which the shadow-terminator offset moves out by up to a millimetre mid-triangle on a
// coarse scan: tested against that, every dot there counted as hidden.
@group(1) @binding(0) var depth_tex: texture_2d<u32>;
@group(1) @binding(1) var normal_far_tex: texture_2d<f32>;

struct DotIn {
    @location(0) center_radius: vec4<f32>,
    @location(1) normal_edge: vec4<f32>,
    @location(2) darkening: vec4<f32>,
    // The needle's footprint (src/pigment/mod.rs NeedleHand::shape): x: elongation (2nd
    // harmonic), y: trefoil (3rd), z: raggedness (5th, 7th), w: per-dot size jitter.
    @location(3) footprint: vec4<f32>,
    // rgb: the core disc's darkening (src/pigment/mod.rs DotAppearance::core_darkening);
    // `darkening` is the dot's mean over its footprint pi (r^2 + 2 sigma^2), what the pigment
    // map holds.
    @location(4) core: vec4<f32>,
};

struct DotOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) @interpolate(flat) center: vec3<f32>,
    @location(1) @interpolate(flat) normal: vec3<f32>,
    // x: radius, y: edge half-width, z: pixel footprint sigma on the skin, w: halo sigma (mm).
    @location(2) @interpolate(flat) shape: vec4<f32>,
    @location(3) @interpolate(flat) core: vec3<f32>,
    @location(4) @interpolate(flat) footprint: vec4<f32>,
    // The halo's peak darkening: the equivalent area the core disc leaves.
    @location(5) @interpolate(flat) halo_peak: vec3<f32>,
    // What the needle's footprint needs of the dot alone, found once per dot here rather than
    // per fragment: the tangent frame (t1, t2) its angles are measured in, the cosines and the
    // sines of its harmonics' random phases (2nd, 3rd, 5th, 7th), and the factor from the
    // wobble to the radius (size jitter over the area normalisation).
    @location(6) @interpolate(flat) t1: vec3<f32>,
    @location(7) @interpolate(flat) t2: vec3<f32>,
    @location(8) @interpolate(flat) phase_cos: vec4<f32>,
    @location(9) @interpolate(flat) phase_sin: vec4<f32>,
    @location(10) @interpolate(flat) radius_scale: f32,
};

const CORNERS = array<vec2<f32>, 6>(
    vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, -1.0), vec2<f32>(1.0, 1.0),
    vec2<f32>(-1.0, -1.0), vec2<f32>(1.0, 1.0), vec2<f32>(-1.0, 1.0),
);

// The dot's quad, its corners `extent_of` the dot (see vs_main, vs_core) from its centre.
fn dot_vertex(vi: u32, d: DotIn, core_only: bool) -> DotOut {
    var out: DotOut;
    let c = d.center_radius.xyz;
    let n = d.normal_edge.xyz;
    // Pixel size on the skin, widest across the slope: as the surface pass measures it for its
    // share of the map, so a dot is drawn wherever the surface leaves room for it.
    let pixel_mm = lod_pixel_mm(c, n);
    let texel_mm = frame.pigment_origin.w;
    // Back-facing dots and dots the pigment map fully covers draw nothing: a degenerate quad.
    if far_weight(pixel_mm, texel_mm) > 0.999 {
        out.clip = vec4<f32>(2.0, 2.0, 2.0, 1.0);
        return out;
    }
    let sigma = 0.5 * pixel_mm;
    let halo = d.darkening.w;
    // The needle's footprint: the radius varies round the dot by a few harmonics whose phases
    // are random per dot (hashed from its position), normalised to keep the planned area.
    let seed = hash_u32(bitcast<u32>(c.x) ^ hash_u32(bitcast<u32>(c.y) ^ hash_u32(bitcast<u32>(c.z))));
    let jitter = unit_float(hash_u32(seed + 3u)) * 2.0 - 1.0;
    let a = d.footprint;
    let area_norm = sqrt(1.0 + 0.5 * (a.x * a.x + a.y * a.y + 0.52 * a.z * a.z)) * sqrt(1.0 + a.w * a.w / 3.0);
    let radius_scale = (1.0 + a.w * jitter) / area_norm;
    var extent = max(d.center_radius.w + d.normal_edge.w, 3.0 * halo) + 3.0 * sigma;
    if core_only {
        // Where fs_core's profile ends: the disc at its widest harmonic and its soft edge, or,
        // once the pixel blurs it (sigma / r past 0.25), its Gaussian to 4 sigma (3e-4 of the
        // peak).
        let e = d.normal_edge.w;
        let spread = abs(a.x) + abs(a.y) + abs(a.z);
        let r = d.center_radius.w * radius_scale;
        let widest = r * (1.0 + spread);
        let disc = widest + max(e, sigma);
        let gauss = 4.0 * sqrt(0.5 * widest * widest + e * e + sigma * sigma);
        let blurred = sigma > 0.25 * r * max(1.0 - spread, 0.1);
        extent = select(disc, max(disc, gauss), blurred);
    }
    let t1 = normalize(select(cross(n, vec3<f32>(0.0, 1.0, 0.0)), cross(n, vec3<f32>(1.0, 0.0, 0.0)), abs(n.y) > 0.9));
    let t2 = cross(n, t1);
    let k = CORNERS[vi];
    let p = c + (t1 * k.x + t2 * k.y) * extent + n * 0.02;
    out.clip = frame.view_proj * vec4<f32>(p, 1.0);
    out.center = c;
    out.normal = n;
    out.shape = vec4<f32>(d.center_radius.w, d.normal_edge.w, sigma, halo);
    out.core = d.core.rgb;
    // The dot's integral, mean x footprint (the simulated equivalent area), less the core's,
    // spread as the halo's Gaussian (DotAppearance::halo_peak).
    let r2 = d.center_radius.w * d.center_radius.w;
    let h2 = 2.0 * halo * halo;
    out.halo_peak = max((d.darkening.rgb * (r2 + h2) - d.core.rgb * r2) / max(h2, 1e-12), vec3<f32>(0.0));
    out.footprint = d.footprint;
    out.t1 = t1;
    out.t2 = t2;
    let ph = vec4<f32>(unit_float(seed), unit_float(hash_u32(seed)), unit_float(hash_u32(seed + 1u)), unit_float(hash_u32(seed + 2u))) * 6.2831853;
    out.phase_cos = cos(ph);
    out.phase_sin = sin(ph);
    out.radius_scale = radius_scale;
    return out;
}

// The whole dot, core and halo: the quad reaches the halo's 3 sigma.
@vertex
fn vs_main(@builtin(vertex_index) vi: u32, d: DotIn) -> DotOut {
    return dot_vertex(vi, d, false);
}

// The core alone (fs_core), on a quad as small as the core's profile.
@vertex
fn vs_core(@builtin(vertex_index) vi: u32, d: DotIn) -> DotOut {
    return dot_vertex(vi, d, true);
}

// (a b) x (c d) as complex numbers.
fn cmul(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    return vec2<f32>(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// Where the skin seen at `sample` (whose centre is `pixel`, in samples) lies from the dot: its
// offset in the dot's tangent plane, or hidden (no skin there, or skin the dot is not on).
struct OnSkin {
    t: vec3<f32>,
    hidden: bool,
};

fn on_skin(in: DotOut, sample: vec2<i32>, pixel: vec2<f32>) -> OnSkin {
    var out: OnSkin;
    out.t = vec3<f32>(0.0);
    out.hidden = true;
    let depth = bitcast<f32>(textureLoad(depth_tex, sample, 0).g);
    if depth >= 1.0 {
        return out;
    }
    let p = world_from_depth(pixel, depth);
    let d = p - in.center;
    let h = dot(d, in.normal);
    // The visible surface here is not this dot's skin: the dot is hidden.
    if abs(h) > 0.3 + in.shape.z {
        return out;
    }
    out.t = d - h * in.normal;
    out.hidden = false;
    return out;
}

// The darkening of the dot's two absorbers at offset `t` from its centre.
struct Absorbers {
    core: vec3<f32>,
    halo: vec3<f32>,
};

fn absorbers(in: DotOut, t: vec3<f32>) -> Absorbers {
    let s = length(t);
    // The needle's footprint (see vs_main): with z = e^(i phi), phi the angle round the dot,
    // cos(k phi + ph) = Re(z^k e^(i ph)), so powers of z by complex products stand in for an
    // arctangent and four cosines per fragment (at the centre, where phi is undefined, 0).
    let z = select(vec2<f32>(1.0, 0.0), vec2<f32>(dot(t, in.t1), dot(t, in.t2)) / s, s > 0.0);
    let z2 = cmul(z, z);
    let z3 = cmul(z2, z);
    let z5 = cmul(z3, z2);
    let z7 = cmul(z5, z2);
    let harmonic = vec4<f32>(z2.x, z3.x, z5.x, z7.x) * in.phase_cos - vec4<f32>(z2.y, z3.y, z5.y, z7.y) * in.phase_sin;
    let a = in.footprint;
    let wobble = 1.0 + a.x * harmonic.x + a.y * harmonic.y + a.z * (0.6 * harmonic.z + 0.4 * harmonic.w);
    let r = in.shape.x * wobble * in.radius_scale;
    let sigma = in.shape.z;
    // Crisp disc with a soft edge for close views ...
    let e = max(in.shape.y, sigma);
    let disc = 1.0 - smoothstep(r - e, r + e, s);
    // ... and a Gaussian of equal integral (pi r^2) widened by the pixel for far ones.
    let var_dot = 0.5 * r * r + in.shape.y * in.shape.y;
    let var_all = var_dot + sigma * sigma;
    let gauss = (0.5 * r * r / var_all) * exp(-s * s / (2.0 * var_all));
    let core = mix(disc, gauss, smoothstep(0.25, 0.6, sigma / r));
    // The scattering halo, also widened by the pixel with its integral kept.
    let halo_var = in.shape.w * in.shape.w;
    let halo_all = halo_var + sigma * sigma;
    let halo = (halo_var / halo_all) * exp(-s * s / (2.0 * halo_all));
    // Core and halo are two absorbers the light passes in turn: their transmittances
    // multiply, D = 1 - (1 - d core)(1 - d halo k), so one dot never darkens more than its
    // pigment can (the sum of the two exceeded 1 and clamped, widening dense dots). The halo
    // is raised by k = 1 / (1 - d f), f the share of the halo's integral under the core
    // (Gaussians of the two variances: exact to first order for a sharp disc, about 3% for a
    // 0.12 mm dot at 0.35 mm), which keeps the dot's integral d (pi r^2 + the halo's): what
    // the pigment map holds.
    let f = min(0.5 * r * r / (var_all + halo_all), 0.5);
    var out: Absorbers;
    out.core = in.core * core;
    out.halo = in.halo_peak * halo / (vec3<f32>(1.0) - in.core * f);
    return out;
}

// The share of the pigment single dots draw at this sample (the rest is the map's).
fn near_share(sample: vec2<i32>) -> f32 {
    return 1.0 - textureLoad(normal_far_tex, sample, 0).w;
}

// The whole dot at one sample.
@fragment
fn fs_main(in: DotOut) -> @location(0) vec4<f32> {
    let px = vec2<i32>(in.clip.xy);
    let skin = on_skin(in, px, in.clip.xy);
    if skin.hidden {
        discard;
    }
    let a = absorbers(in, skin.t);
    let dot_darkening = vec3<f32>(1.0) - (vec3<f32>(1.0) - a.core) * (vec3<f32>(1.0) - a.halo);
    // Added as optical depth (common.wgsl): where dots overlap their transmittances multiply
    // (Beer-Lambert), so the stack darkens every channel in proportion and keeps its hue.
    return vec4<f32>(optical_depth(dot_darkening) * near_share(px), 0.0);
}

// The core alone at one sample; its halo comes from fs_halo. Two absorbers in turn: their
// optical depths add.
@fragment
fn fs_core(in: DotOut) -> @location(0) vec4<f32> {
    let px = vec2<i32>(in.clip.xy);
    let skin = on_skin(in, px, in.clip.xy);
    if skin.hidden {
        discard;
    }
    return vec4<f32>(optical_depth(absorbers(in, skin.t).core) * near_share(px), 0.0);
}

// The halo alone, once per output pixel (`in.clip` is in output pixels): at the centre of the
// sample floor((pixel + 0.5) x supersample), which dots_halo.wgsl allows for. Not yet weighted by
// the single dots' share, which that pass takes at each sample.
@fragment
fn fs_halo(in: DotOut) -> @location(0) vec4<f32> {
    let sample = vec2<i32>(floor(in.clip.xy * frame.viewport.w));
    let skin = on_skin(in, sample, vec2<f32>(sample) + 0.5);
    if skin.hidden {
        discard;
    }
    return vec4<f32>(optical_depth(absorbers(in, skin.t).halo), 0.0);
}
