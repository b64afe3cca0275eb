// Pass 1: the head mesh into the G-buffer, with the far-field pigment from the pigment map.

@group(1) @binding(0) var pigment_map: texture_cube<f32>;
@group(1) @binding(1) var pigment_sampler: sampler;

struct VertexIn {
    @location(0) position: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) tint: vec3<f32>,
};

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) world: vec3<f32>,
    @location(1) normal: vec3<f32>,
    @location(2) tint: vec3<f32>,
};

@vertex
fn vs_main(v: VertexIn) -> VertexOut {
    var out: VertexOut;
    out.clip = frame.view_proj * vec4<f32>(v.position, 1.0);
    out.world = v.position;
    out.normal = v.normal;
    out.tint = v.tint;
    return out;
}

struct GBuffer {
    // xyz: unit normal; w: far weight of the pigment at this pixel.
    @location(0) normal_far: vec4<f32>,
    // rgb: albedo tint (1 = plain skin).
    @location(1) tint: vec4<f32>,
    // rgb: pigment darkening accumulated so far (the near dot pass adds to it).
    @location(2) pigment: vec4<f32>,
    // The fragment's depth, for passes that reconstruct the skin point.
    @location(3) depth_bits: u32,
};

@fragment
fn fs_main(in: VertexOut) -> GBuffer {
    let rel = in.world - frame.pigment_origin.xyz;
    // Sampled before any branch: implicit derivatives pick the mip that averages what the pixel
    // covers.
    let far_pigment = textureSample(pigment_map, pigment_sampler, rel);
    let pixel_mm = max(length(dpdx(in.world)), length(dpdy(in.world)));
    let texel_mm = length(rel) * frame.pigment_origin.w;
    let far = far_weight(pixel_mm, texel_mm);
    var g: GBuffer;
    g.normal_far = vec4<f32>(normalize(in.normal), far);
    g.tint = vec4<f32>(in.tint, 1.0);
    g.pigment = vec4<f32>(far_pigment.rgb * far, 0.0);
    g.depth_bits = bitcast<u32>(in.clip.z);
    return g;
}
