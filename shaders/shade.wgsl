// Pass 3: light the skin from the G-buffer and tonemap.
//
// Skin: a wrapped diffuse term (the softness of the source and of the skin), corrected per
// colour by pre-integrated subsurface scattering (Penner 2011; the table is built on the CPU
// from d'Eon's sum-of-Gaussians skin profile, src/skin/mod.rs, and sampled by the curvature the
// surface pass measured), plus two GGX lobes for the sheen of a shaved scalp, lit by a
// key light with its shadow map, up to three fill lights and a sky/ground ambient (group 2 and
// its helpers: shadow_light.wgsl, prepended). Larger (softer) sources wrap further and spread
// their highlight. Then the camera's white balance, and the tonemapper: Khronos PBR Neutral.

@group(1) @binding(0) var depth_tex: texture_2d<u32>;
@group(1) @binding(1) var normal_far_tex: texture_2d<f32>;
@group(1) @binding(2) var tint_tex: texture_2d<f32>;
@group(1) @binding(3) var pigment_tex: texture_2d<f32>;
@group(1) @binding(4) var skin_lut: texture_2d<f32>;
@group(1) @binding(5) var skin_lut_sampler: sampler;
// Curvature (1/mm) of the table's last row (src/skin/mod.rs LUT_MAX_CURVATURE_PER_MM).
const LUT_MAX_CURVATURE: f32 = 0.25;

// Pre-integrated diffuse falloff per colour at cosine `ndl` on skin of `curvature`.
fn preintegrated(ndl: f32, curvature: f32) -> vec3<f32> {
    let size = vec2<f32>(textureDimensions(skin_lut));
    let t = vec2<f32>(clamp(ndl, -1.0, 1.0) * 0.5 + 0.5, clamp(curvature / LUT_MAX_CURVATURE, 0.0, 1.0));
    let uv = (t * (size - 1.0) + 0.5) / size;
    return textureSampleLevel(skin_lut, skin_lut_sampler, uv, 0.0).rgb;
}

const PI: f32 = 3.14159265;
// Wrap factor of the diffuse term.
const WRAP: f32 = 0.35;
// Reflectance of skin at normal incidence (refractive index about 1.4).
const SKIN_F0: f32 = 0.028;

// Khronos PBR Neutral tonemapper (glTF sample viewer reference implementation).
fn pbr_neutral(color_in: vec3<f32>) -> vec3<f32> {
    let start_compression = 0.8 - 0.04;
    let desaturation = 0.15;
    var color = color_in;
    let x = min(color.r, min(color.g, color.b));
    let offset = select(0.04, x - 6.25 * x * x, x < 0.08);
    color -= offset;
    let peak = max(color.r, max(color.g, color.b));
    if peak < start_compression {
        return color;
    }
    let d = 1.0 - start_compression;
    let new_peak = 1.0 - d * d / (peak + d - start_compression);
    color *= new_peak / peak;
    let g = 1.0 - 1.0 / (desaturation * (peak - new_peak) + 1.0);
    return mix(color, vec3<f32>(new_peak), g);
}

// The angles a GGX lobe needs, shared by the two lobes of skin_specular: half vector, n.h,
// n.v, n.l, and the Fresnel term (Schlick).
struct GgxGeometry {
    nh: f32,
    nv: f32,
    nl: f32,
    fresnel: f32,
};

fn ggx_geometry(n: vec3<f32>, v: vec3<f32>, l: vec3<f32>) -> GgxGeometry {
    let h = normalize(v + l);
    var g: GgxGeometry;
    g.nh = max(dot(n, h), 0.0);
    g.nv = max(dot(n, v), 1e-4);
    g.nl = max(dot(n, l), 0.0);
    // (1 - v.h)^5 by multiplication: pow() is an exp2 and a log2, slow on a software rasteriser.
    let m = 1.0 - max(dot(v, h), 0.0);
    let m2 = m * m;
    g.fresnel = SKIN_F0 + (1.0 - SKIN_F0) * (m2 * m2 * m);
    return g;
}

fn ggx_specular(g: GgxGeometry, roughness: f32) -> f32 {
    let a = roughness * roughness;
    let a2 = a * a;
    let dd = g.nh * g.nh * (a2 - 1.0) + 1.0;
    let D = a2 / (PI * dd * dd);
    let k = a * 0.5;
    let G = (g.nv / (g.nv * (1.0 - k) + k)) * (g.nl / (g.nl * (1.0 - k) + k));
    return D * G * g.fresnel / (4.0 * g.nv * max(g.nl, 1e-4)) * g.nl;
}

// What lights a pixel, all but its albedo: the same for a before and an after, whose
// G-buffers differ only in the pigment (see fs_pair).
struct Lit {
    // Exposed irradiance from the (shadowed, wrapped) key, the fills and the ambient:
    // diffuse radiance = albedo / pi x this (Lambert).
    irradiance: vec3<f32>,
    // Exposed specular radiance (key and fills).
    specular: vec3<f32>,
    // The G-buffer's albedo tint.
    tint: vec3<f32>,
};

fn background(pos: vec4<f32>) -> vec4<f32> {
    let t = pos.y / frame.viewport.y;
    return vec4<f32>(mix(frame.background_top.rgb, frame.background_bottom.rgb, t), 1.0);
}

// The light at skin pixel `px` of depth `depth`, with the skin's curvature from the pigment
// target's alpha.
fn light_pixel(pos: vec4<f32>, px: vec2<i32>, depth: f32, curvature: f32) -> Lit {
    let p = world_from_depth(pos.xy, depth);
    let n = normalize(textureLoad(normal_far_tex, px, 0).xyz);
    let v = normalize(frame.camera_pos.xyz - p);
    let l = frame.light_dir.xyz;
    let tint_rough = textureLoad(tint_tex, px, 0);
    let roughness = clamp(frame.skin.a + tint_rough.a, 0.08, 1.0);

    // light_dir.w: the key light's softness (sine of its angular radius).
    let softness = frame.light_dir.w;
    let visibility = key_visibility(p, n, l, pos.xy + frame.pixel_origin.xy);
    // The scattering's change to Lambert (red bleeding past the terminator of tight curves) on
    // top of the wrapped falloff: flat skin is exactly the wrapped diffuse.
    let ndl = dot(n, l);
    let scattering = preintegrated(ndl, curvature) - vec3<f32>(max(ndl, 0.0));
    let wrapped = max(vec3<f32>(soft_diffuse(ndl, softness)) + scattering, vec3<f32>(0.0)) * visibility;
    let hemi = 0.5 + 0.5 * n.y;
    let ambient = mix(frame.ground_color.rgb, frame.sky_color.rgb, hemi);
    let fills = fill_lights(n, v, roughness);
    var lit: Lit;
    lit.irradiance = frame.light_color.rgb * wrapped + fills.irradiance + ambient;
    // A directional light's radiance is BRDF x illuminance x cos; ggx_specular includes the cos.
    let key_specular = skin_specular(n, v, l, soft_roughness(roughness, softness)) * visibility;
    lit.specular = frame.light_color.rgb * key_specular + fills.specular;
    lit.tint = tint_rough.rgb;
    return lit;
}

// The pixel's colour under `lit` with the pigment and hair `pigment` (rgb: optical depth,
// common.wgsl `optical_depth`): the absorbers' transmittances multiplied, exp(-sum)
// (Beer-Lambert), so a stack of dots darkens towards black keeping its hue. (Never below 0:
// at most the skin's own colour, as the clamp of the darkening's sum gave.)
fn shade_pigment(lit: Lit, pigment: vec4<f32>) -> vec4<f32> {
    let transmittance = exp(-max(pigment.rgb, vec3<f32>(0.0)));
    let albedo = frame.skin.rgb * lit.tint * transmittance;
    // Lambert: radiance = albedo / pi x irradiance.
    let diffuse = albedo / PI * lit.irradiance;
    return vec4<f32>(pbr_neutral(lights.white_balance * (diffuse + lit.specular)), 1.0);
}

// The samples the head does not cover (see fs_pair_background).
@fragment
fn fs_background(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    return background(pos);
}

@fragment
fn fs_main(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let px = vec2<i32>(pos.xy);
    let depth = bitcast<f32>(textureLoad(depth_tex, px, 0).r);
    if depth >= 1.0 {
        return background(pos);
    }
    let pigment = textureLoad(pigment_tex, px, 0);
    return shade_pigment(light_pixel(pos, px, depth, pigment.a), pigment);
}

// The "after" pigment target of a before/after pair (src/render/shade_pass.rs).
@group(3) @binding(0) var pigment_after_tex: texture_2d<f32>;

struct Pair {
    @location(0) before: vec4<f32>,
    @location(1) after: vec4<f32>,
};

// A before and an after of one view at once: the G-buffer (group 1) holds the before's
// pigment, group 3 the after's; everything else of the two is the same, so the light (the
// key's soft shadow above all) is found once and each output is what fs_main gives.
@fragment
fn fs_pair(@builtin(position) pos: vec4<f32>) -> Pair {
    let px = vec2<i32>(pos.xy);
    let depth = bitcast<f32>(textureLoad(depth_tex, px, 0).r);
    var out: Pair;
    if depth >= 1.0 {
        out.before = background(pos);
        out.after = out.before;
        return out;
    }
    let before = textureLoad(pigment_tex, px, 0);
    let lit = light_pixel(pos, px, depth, before.a);
    out.before = shade_pigment(lit, before);
    out.after = shade_pigment(lit, textureLoad(pigment_after_tex, px, 0));
    return out;
}

// The samples of a pair the head does not cover (the depth test passes only those): the
// backdrop in both. Drawn apart from fs_pair because a software rasteriser (llvmpipe) runs every
// branch of a shader for a block of samples, so the backdrop paid for the whole light; its
// depth test drops whole blocks before the shader runs.
@fragment
fn fs_pair_background(@builtin(position) pos: vec4<f32>) -> Pair {
    var out: Pair;
    out.before = background(pos);
    out.after = out.before;
    return out;
}

// fs_pair for a before with nothing in its pigment target: a bald, unscarred scalp (no hair
// under or above the skin) shows no pigment before treatment, and its before's surface pass
// would write the after's G-buffer with a pigment of exactly 0. So only the after is drawn
// (group 3's pigment over the shared depth, normals and tint) and the before is shaded from
// it with no darkening.
@fragment
fn fs_pair_bare(@builtin(position) pos: vec4<f32>) -> Pair {
    let px = vec2<i32>(pos.xy);
    let depth = bitcast<f32>(textureLoad(depth_tex, px, 0).r);
    var out: Pair;
    if depth >= 1.0 {
        out.before = background(pos);
        out.after = out.before;
        return out;
    }
    let after = textureLoad(pigment_after_tex, px, 0);
    let lit = light_pixel(pos, px, depth, after.a);
    out.before = shade_pigment(lit, vec4<f32>(0.0, 0.0, 0.0, after.a));
    out.after = shade_pigment(lit, after);
    return out;
}
