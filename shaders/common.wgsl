// Shared by every pass: the per-frame uniforms. Prepended to each pass's WGSL source.
// Units: head space in millimetres; light values are pre-multiplied by the camera exposure.

struct Frame {
    view_proj: mat4x4<f32>,
    inv_view_proj: mat4x4<f32>,
    // xyz: camera position (mm).
    camera_pos: vec4<f32>,
    // xyz: unit vector toward the key light.
    light_dir: vec4<f32>,
    // rgb: key illuminance x colour x exposure.
    light_color: vec4<f32>,
    // rgb: sky illuminance x colour x exposure.
    sky_color: vec4<f32>,
    // rgb: ground illuminance x colour x exposure.
    ground_color: vec4<f32>,
    // rgb: linear skin albedo; a: specular roughness.
    skin: vec4<f32>,
    // xyz: cranium centre (mm), the scalp map's origin; w: pigment map texel size (mm).
    pigment_origin: vec4<f32>,
    // x, y: target size in pixels; z: pixel angle (rad); w: samples per output pixel along
    // each axis (the supersample factor).
    viewport: vec4<f32>,
    // Background, linear RGB, top (rgb) and bottom in the next field.
    background_top: vec4<f32>,
    background_bottom: vec4<f32>,
    // x: halo strength (peak of the scattering halo relative to the dot's core).
    pigment_model: vec4<f32>,
    // xy: this target's top-left pixel in the whole frame (supersampled pixels), non-zero when
    // a still renders as tiles: add it to @builtin(position).xy for anything keyed to the pixel
    // (noise, dithering) so that tiles stitch seamlessly.
    pixel_origin: vec4<f32>,
    // y: redness of freshly treated skin (0-1); x, z, w unused (see `flags`).
    skin_detail: vec4<f32>,
    // rgb: darkening by hair at full native density (stubble above the skin and hair seen
    // through it, see src/skin/mod.rs Stubble::darkening); w: stubble coverage.
    hair: vec4<f32>,
    // rgb: darkening where a stubble shaft covers the skin (1 - hair / skin); w unused.
    stubble: vec4<f32>,
    // FRAME_* bits below (src/render/mod.rs `frame_flags`).
    flags: u32,
};

// The near dot pass runs this frame.
const FRAME_NEAR_DOTS: u32 = 1u;
// Pores and fine bumps are drawn.
const FRAME_SKIN_DETAIL: u32 = 2u;
// The scalp map holds a condition (hair, scars).
const FRAME_CONDITION: u32 = 4u;
// The stubble pass draws shafts this frame.
const FRAME_STUBBLE_SHAFTS: u32 = 8u;

fn frame_has(flag: u32) -> bool {
    return (frame.flags & flag) != 0u;
}

@group(0) @binding(0) var<uniform> frame: Frame;

// How much of the pigment comes from the pre-splatted map (1) rather than single dots (0), given
// the size on the skin of a sample (`pixel_mm`) and of a pigment-map texel there. The near and
// far paths are both energy-conserving, so the blend changes detail, never the average colour.
// It is decided by the output pixel (a sample times the supersample factor), what the finished
// image resolves: the map holds each dot at its texel, so once a texel is no larger than an
// output pixel the map shows all the image can, and the supersample's box resolve would average
// the single dots' extra detail away. So a still's supersampling smooths its edges without
// changing how its pigment is drawn, and costs no near pass where the map suffices.
// Output pixels under NEAR_ONLY_TEXELS texels take only single dots, those of FAR_ONLY_TEXELS
// or more only the map (src/render/mod.rs skips the near pass there); the blend between them
// is by eye.
const NEAR_ONLY_TEXELS: f32 = 0.5;
const FAR_ONLY_TEXELS: f32 = 1.0;

// Least cosine between a dot's (smooth) normal and the view at which it is drawn: past it the
// dot is edge-on or behind the head (see lod_pixel_mm).
const DOT_MIN_FACING: f32 = 0.02;

// The size on the skin (mm) of one sample at `p` whose smooth (interpolated) normal is `n`,
// widest across the slope (the cosine floored at 0.2, 78 degrees, so a silhouette keeps a
// finite size); edge-on or facing away, so large that only the map is used. Both sides of the
// single-dot/map split measure it this way: the dot pass's vertex shader at the dot, the
// surface pass at its sample. (The surface's own footprint, the flat triangle's from
// derivatives, differs from it on the coarse, grazing triangles of a scan; there the vertex
// shader dropped dots the surface had left room for, and whole facets lost pigment.)
fn lod_pixel_mm(p: vec3<f32>, n: vec3<f32>) -> f32 {
    let to_eye = frame.camera_pos.xyz - p;
    let dist = length(to_eye);
    let facing = dot(n, to_eye / dist);
    if facing < DOT_MIN_FACING {
        return 1e9;
    }
    return dist * frame.viewport.z / max(facing, 0.2);
}

fn far_weight(pixel_mm: f32, texel_mm: f32) -> f32 {
    if !frame_has(FRAME_NEAR_DOTS) {
        return 1.0;
    }
    return smoothstep(NEAR_ONLY_TEXELS, FAR_ONLY_TEXELS, pixel_mm * frame.viewport.w / texel_mm);
}

// How much of the stubble above the skin comes from the surface pass's far-field tint (1)
// rather than drawn shafts (0), given the size of a pixel on the skin (mm). Shafts are 77 um
// across: drawn while a pixel is under 0.06 mm, gone at 0.2 mm (src/render/stubble_pass.rs
// STUBBLE_FULL_PIXEL_MM, STUBBLE_FAR_PIXEL_MM). Both paths have the same mean coverage.
fn stubble_far_weight(pixel_mm: f32) -> f32 {
    if !frame_has(FRAME_STUBBLE_SHAFTS) {
        return 1.0;
    }
    return smoothstep(0.06, 0.2, pixel_mm);
}

// The pigment target holds optical depth, not darkening: every absorber in a pixel (dots'
// pigment, hair under and above the skin) is a layer the light passes in turn, so their
// transmittances multiply (Beer-Lambert), T = prod (1 - d_i) = exp(-sum -ln(1 - d_i)), and the
// shade pass applies exp(-sum). A sum of darkenings clamped per channel ran out of red first
// where dots overlapped (each takes red most) and read cyan. Exact for one absorber; d is kept
// below 1 (a fully opaque one would be infinite).
const MAX_DARKENING: f32 = 0.999;

fn optical_depth(darkening: vec3<f32>) -> vec3<f32> {
    return -log(vec3<f32>(1.0) - min(darkening, vec3<f32>(MAX_DARKENING)));
}

// The darkening of the hair under the skin alone (between the shafts), recovered from the
// far-field total (coverage x shaft + (1 - coverage) x under).
fn stubble_under() -> vec3<f32> {
    let cov = frame.hair.w;
    return (frame.hair.rgb - cov * frame.stubble.rgb) / max(1.0 - cov, 1e-3);
}

// Darkening where a drawn shaft covers the skin, over and above the hair under the skin that it
// hides: (1 - hair / skin) less the under-skin tint.
fn stubble_shaft_excess(shaft: vec3<f32>) -> vec3<f32> {
    return shaft - stubble_under();
}

fn world_from_depth(pixel: vec2<f32>, depth: f32) -> vec3<f32> {
    let ndc = vec2<f32>(pixel.x / frame.viewport.x * 2.0 - 1.0, 1.0 - pixel.y / frame.viewport.y * 2.0);
    let h = frame.inv_view_proj * vec4<f32>(ndc, depth, 1.0);
    return h.xyz / h.w;
}

// A well-mixed 32-bit integer hash (Jarzynski and Olano 2020, PCG-based): deterministic noise.
fn hash_u32(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn hash3(c: vec3<i32>) -> u32 {
    return hash_u32(bitcast<u32>(c.x) ^ hash_u32(bitcast<u32>(c.y) ^ hash_u32(bitcast<u32>(c.z))));
}

fn unit_float(h: u32) -> f32 {
    return f32(h >> 8u) / 16777216.0;
}
