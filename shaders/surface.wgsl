// Pass 1: the head mesh into the G-buffer, with the far-field pigment from the pigment map, the
// client's condition from the scalp map (hair under and above the skin, scars), the redness of
// fresh work and the skin's fine detail (pores, fine bumps).

// The pigment map: an atlas of surface charts (src/bake/surface_charts.rs), so a texel holds
// one piece of skin; rgb: darkening, a: coverage.
@group(1) @binding(0) var pigment_map: texture_2d<f32>;
@group(1) @binding(1) var pigment_sampler: sampler;
// r: native hair fraction (0 bald - 1 full), g: scar tissue (0-1). src/bake/scalp_map.rs.
@group(1) @binding(2) var scalp_map: texture_cube<f32>;
// Two texels per chart (`AtlasPlacement::table`): xy: the offset from projection-plane texels
// to atlas texels, z: axis (0-5: +X, -X, +Y, -Y, +Z, -Z), w: 1 where the chart is in the atlas;
// then the part of the atlas the chart's fragments may read (x0, y0, x1, y1; texels).
@group(1) @binding(3) var chart_table: texture_2d<f32>;
// The scan's colour texture (sRGB, read as linear; one white texel for a head without one).
@group(2) @binding(0) var albedo_map: texture_2d<f32>;
@group(2) @binding(1) var albedo_sampler: sampler;
// The scan's tangent-space normal map (linear; glTF's convention: +X along +u, +Y up the image,
// +Z out of the skin; its scale already applied). One flat texel for a head without one.
@group(2) @binding(2) var normal_map: texture_2d<f32>;

struct VertexIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) tint: vec3<f32>,
    @location(3) uv: vec2<f32>,
    @location(4) chart: u32,
    // The normal map's tangent (xyz) and bitangent sign (w); zero without a normal map.
    @location(5) tangent: vec4<f32>,
};

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) tint: vec3<f32>,
    @location(3) uv: vec2<f32>,
    // The vertex's tangent plane, for the shadow-terminator offset: n n^T (diagonal, then
    // xy, xz, yz) and (v . n) n, each linear in the barycentrics once interpolated.
    @location(4) nn_diag: vec3<f32>,
    @location(5) nn_off: vec3<f32>,
    @location(6) vn: vec3<f32>,
    @location(7) @interpolate(flat) chart: u32,
    @location(8) tangent: vec4<f32>,
};

@vertex
fn vs_main(v: VertexIn) -> VertexOut {
    var out: VertexOut;
    out.clip = frame.view_proj * vec4<f32>(v.position, 1.0);
    out.world = v.position;
    out.normal = v.normal;
    out.tint = v.tint;
    out.uv = v.uv;
    let n = v.normal;
    out.nn_diag = n * n;
    out.nn_off = vec3<f32>(n.x * n.y, n.x * n.z, n.y * n.z);
    out.vn = dot(v.position, n) * n;
    out.chart = v.chart;
    out.tangent = v.tangent;
    return out;
}

struct GBuffer {
    // xyz: unit normal (with fine detail); w: far weight of the pigment at this pixel.
    @location(0) normal_far: vec4<f32>,
    // rgb: albedo tint (1 = plain skin; scars above 1, paler); a: roughness change.
    @location(1) tint: vec4<f32>,
    // rgb: optical depth accumulated so far (pigment, hair; the near dot pass adds to it;
    // common.wgsl `optical_depth`);
    // a: curvature of the skin (1/mm), for the pre-integrated scattering.
    @location(2) pigment: vec4<f32>,
    // The fragment's depth, for passes that reconstruct the skin point: (terminator-offset,
    // flat triangle); see SURFACE_DEPTH_FORMAT in src/render/targets.rs.
    @location(3) depth_bits: vec2<u32>,
};

// Pores: follicle openings as shallow pits, one per cell of a jittered 3D grid (the skin is a 2D
// slice through it, which gives about one pore per mm², the follicle density of a scalp).
const PORE_CELL_MM: f32 = 0.5;
const PORE_SIGMA_MM: f32 = 0.035;
// Depth of a pore's pit (mm) and how much its floor darkens the albedo.
const PORE_PIT_MM: f32 = 0.012;
const PORE_DARKENING: f32 = 0.35;
// Mean of the pore field over the skin: (2 pi)^1.5 sigma^3 / cell^3. Subtracted, so pores move
// the local albedo, never the average: a region reads the same with or without them.
const PORE_MEAN: f32 = 15.7496 * PORE_SIGMA_MM * PORE_SIGMA_MM * PORE_SIGMA_MM / (PORE_CELL_MM * PORE_CELL_MM * PORE_CELL_MM);
// Roughness added where the pores are too small to draw (their slopes still scatter the sheen).
const PORE_ROUGHNESS: f32 = 0.04;
// Roughness added on a drawn pore (times its pit, 1 at the centre): a follicle opening holds
// sebum and keratin and is not the smooth stratum corneum round it. Without it the pit's
// slopes (up to 12 degrees) mirrored the studio key light into bright specks beside the dots
// in macro views, most visible on dark skin (a stopgap by eye: no measured pore gloss found).
const PORE_FLOOR_ROUGHNESS: f32 = 0.5;
// Scar tissue: paler (less melanin, fewer vessels), smoother and shinier, no pores, no hair.
const SCAR_TINT: vec3<f32> = vec3<f32>(1.16, 1.1, 1.1);
const SCAR_ROUGHNESS: f32 = -0.18;
// Erythema of freshly treated skin at full redness: blood shows through, haemoglobin takes
// green most and blue a little less. A mild flush (green down 17%), not a burn: the earlier
// 26% read as an orange-red band on the ageing timeline.
const ERYTHEMA_TINT: vec3<f32> = vec3<f32>(1.0, 0.83, 0.85);
// Width (mm) over which the redness spreads round the treated area.
const ERYTHEMA_MM: f32 = 4.0;

// Sum of Gaussian pits round `p` (x) and its gradient (yzw). Only the 2x2x2 cells nearest `p`
// are visited (along each axis its own and the neighbour on the side of the cell it lies in):
// a pore in any other cell is at least half a cell (0.25 mm, 7 sigma) away, where its pit is
// below exp(-25) = 1e-11, far under what the mean subtracted from the sum (5e-3) can show in
// 32-bit floats. The 27 cells round `p` took three times the hashes and exponentials, which on
// a software rasteriser were most of the surface pass close up.
fn pores(p: vec3<f32>) -> vec4<f32> {
    let q = p / PORE_CELL_MM;
    let base = vec3<i32>(floor(q));
    let first = base + select(vec3<i32>(0), vec3<i32>(-1), q - vec3<f32>(base) < vec3<f32>(0.5));
    var acc = vec4<f32>(0.0);
    for (var z = 0; z < 2; z++) {
        for (var y = 0; y < 2; y++) {
            for (var x = 0; x < 2; x++) {
                let c = first + vec3<i32>(x, y, z);
                let h = hash3(c);
                let jitter = vec3<f32>(unit_float(h), unit_float(hash_u32(h)), unit_float(hash_u32(h + 1u)));
                let f = (vec3<f32>(c) + jitter) * PORE_CELL_MM;
                let d = p - f;
                let g = exp(-dot(d, d) / (2.0 * PORE_SIGMA_MM * PORE_SIGMA_MM));
                acc += vec4<f32>(g, -d / (PORE_SIGMA_MM * PORE_SIGMA_MM) * g);
            }
        }
    }
    return acc;
}

// Shadow-terminator offset (Hanika 2021, "Hacking the Shadow Terminator", Ray Tracing Gems
// II ch. 4; Blender's "shadow terminator geometry offset"): a flat triangle of a coarse mesh
// lies inside the smooth surface its vertex normals describe, so the shadow map, drawn from the
// same flat triangles, shadows it in facets near the terminator: a staircase. The point the
// later passes reconstruct from the G-buffer's depth is moved out to the smooth surface: the
// barycentric mix of its projections onto the three vertices' tangent planes,
// sum_i w_i (p - ((p - v_i) . n_i) n_i). Only outward moves are kept (convex skin); on a fine
// mesh the move is a few microns.
fn terminator_depth(in: VertexOut) -> f32 {
    let p = in.world;
    let m_p = vec3<f32>(
        in.nn_diag.x * p.x + in.nn_off.x * p.y + in.nn_off.y * p.z,
        in.nn_off.x * p.x + in.nn_diag.y * p.y + in.nn_off.z * p.z,
        in.nn_off.y * p.x + in.nn_off.z * p.y + in.nn_diag.z * p.z,
    );
    let offset = in.vn - m_p;
    if dot(offset, in.normal) <= 0.0 {
        return in.clip.z;
    }
    let c = frame.view_proj * vec4<f32>(p + offset, 1.0);
    return c.z / c.w;
}

// The projection plane's coordinates of `p` along a chart's axis (`plane_coords` in
// src/bake/surface_charts.rs).
fn plane_coords(axis: u32, p: vec3<f32>) -> vec2<f32> {
    switch axis / 2u {
        case 0u: { return p.zy; }
        case 1u: { return p.xz; }
        default: { return p.xy; }
    }
}

@fragment
fn fs_main(in: VertexOut) -> GBuffer {
    let rel = in.world - frame.pigment_origin.xyz;
    let dpx = dpdx(in.world);
    let dpy = dpdy(in.world);
    // The pixel's place in the pigment map: its chart's projection, in atlas texels. The
    // gradients come from the position's (continuous across the triangles and charts a pixel
    // quad spans), so the mip averages what the pixel covers on the skin.
    let texel_mm = frame.pigment_origin.w;
    let per_row = textureDimensions(chart_table).x / 2u;
    let table_at = vec2<u32>(2u * (in.chart % per_row), in.chart / per_row);
    var chart = vec4<f32>(0.0);
    var guard = vec4<f32>(0.0);
    if table_at.y < textureDimensions(chart_table).y {
        chart = textureLoad(chart_table, table_at, 0);
        guard = textureLoad(chart_table, table_at + vec2<u32>(1u, 0u), 0);
    }
    let axis = u32(chart.z);
    let atlas = vec2<f32>(textureDimensions(pigment_map));
    let texel = plane_coords(axis, in.world) / texel_mm + chart.xy;
    // Outside the part of its chart that pigment reached: none (the atlas there is another's).
    chart.w *= select(0.0, 1.0, all(texel >= guard.xy) && all(texel <= guard.zw));
    let uv = texel / atlas;
    let duv_dx = plane_coords(axis, dpx) / texel_mm / atlas;
    let duv_dy = plane_coords(axis, dpy) / texel_mm / atlas;
    let far_pigment = textureSampleGrad(pigment_map, pigment_sampler, uv, duv_dx, duv_dy) * chart.w;
    // Sampled before any branch: implicit derivatives pick the mip that averages what the pixel
    // covers.
    let scalp = textureSample(scalp_map, pigment_sampler, rel);
    let scan_albedo = textureSample(albedo_map, albedo_sampler, in.uv).rgb;
    let mapped_normal = textureSample(normal_map, albedo_sampler, in.uv).xyz * 2.0 - 1.0;
    let pixel_mm = max(length(dpx), length(dpy));
    // Curvature of the skin (1/mm): how fast the interpolated normal turns per mm.
    let curvature = max(length(dpdx(in.normal)) / max(length(dpx), 1e-6), length(dpdy(in.normal)) / max(length(dpy), 1e-6));
    // The map's share, measured as the dot pass measures it at each dot (common.wgsl).
    let far = far_weight(lod_pixel_mm(in.world, normalize(in.normal)), texel_mm);
    // Redness round freshly treated skin: the pigment map's coverage blurred over a few mm
    // (as far as the atlas's last mip, 16 texels, reaches).
    let blur_level = log2(max(ERYTHEMA_MM / max(texel_mm, 1e-4), 1.0));
    let treated = textureSampleLevel(pigment_map, pigment_sampler, uv, blur_level).a * chart.w;
    let redness = frame.skin_detail.y * smoothstep(0.005, 0.04, treated);

    var n = normalize(in.normal);
    // The scan's normal map, in the frame (tangent, bitangent, normal) of the glTF
    // specification: the tangent made orthogonal to the interpolated normal, the bitangent
    // cross(normal, tangent) * w. Skipped (the mesh normal as it is) without a normal map.
    if dot(in.tangent.xyz, in.tangent.xyz) > 0.0 {
        let t = normalize(in.tangent.xyz - dot(in.tangent.xyz, n) * n);
        let b = cross(n, t) * select(-1.0, 1.0, in.tangent.w >= 0.0);
        n = normalize(mat3x3<f32>(t, b, n) * mapped_normal);
    }
    var tint = in.tint * scan_albedo * mix(vec3<f32>(1.0), ERYTHEMA_TINT, redness);
    var roughness_change = 0.0;
    var scar = 0.0;
    var hair = 0.0;
    if frame_has(FRAME_CONDITION) {
        scar = scalp.g;
        hair = scalp.r * (1.0 - scar);
        tint *= mix(vec3<f32>(1.0), SCAR_TINT, scar);
        roughness_change += SCAR_ROUGHNESS * scar;
    }
    // Pores are drawn only while they span a few pixels and fade out before they could alias;
    // their mean is subtracted, so fading them changes detail, never the average colour.
    let detail = select(0.0, 1.0, frame_has(FRAME_SKIN_DETAIL)) * (1.0 - scar) * (1.0 - smoothstep(0.5, 1.0, pixel_mm / (4.0 * PORE_SIGMA_MM)));
    if detail > 0.0 {
        let pz = pores(in.world);
        tint *= 1.0 - PORE_DARKENING * detail * (pz.x - PORE_MEAN);
        let grad = -PORE_PIT_MM * pz.yzw * detail;
        n = normalize(n - (grad - dot(grad, n) * n));
        roughness_change += PORE_FLOOR_ROUGHNESS * detail * min(pz.x, 1.0);
    }
    roughness_change += PORE_ROUGHNESS * (1.0 - detail) * (1.0 - scar);

    var g: GBuffer;
    g.normal_far = vec4<f32>(n, far);
    g.tint = vec4<f32>(tint, roughness_change);
    // The pigment target is optical depth (common.wgsl `optical_depth`). Far-field pigment:
    // the map holds the mean darkening lambda x integral of d, and for dots at random (a
    // Poisson field) the mean transmittance is E[prod (1 - d_i)] = exp(-lambda x integral of
    // d) (the probability generating functional; Stoyan, Kendall & Mecke, Stochastic
    // Geometry, Boolean models), so that mean is already the optical depth, the same average
    // the near dots' product has.
    // Hair: under the skin always from the tint; the shafts above it from the tint only as
    // far as the stubble pass does not draw them (it draws each shaft over the tint under it,
    // so a covered pixel is the shaft's colour). Each tint (Stubble::darkening, full density:
    // shafts and hair under the skin; or the hair under the skin alone) is already this
    // pixel's averaged darkening (it composes its own overlap), so it becomes the optical depth
    // that gives it back exactly, -ln(1 - hair x tint): a before renders as it did, and
    // pigment over hair multiplies with it as another absorber. The two are blended in optical
    // depth, as the dots' near and far paths are.
    let hair_depth = mix(optical_depth(hair * stubble_under()), optical_depth(hair * frame.hair.rgb), stubble_far_weight(pixel_mm));
    g.pigment = vec4<f32>(far_pigment.rgb * far + hair_depth, curvature);
    g.depth_bits = vec2<u32>(bitcast<u32>(terminator_depth(in)), bitcast<u32>(in.clip.z));
    return g;
}
