// Pass 2, supersampled: the single dots' halos, drawn once per output pixel (dots.wgsl fs_halo),
// added to every sample of the pigment target, bilinear between output pixels and weighted by
// the sample's share of single dots (the rest is the pigment map's). The halo is a Gaussian of
// 0.27 mm or more, and single dots are drawn only where an output pixel is under a map texel
// (0.2 mm by default): it varies smoothly across a pixel, and bilinear keeps its integral.

@group(1) @binding(0) var normal_far_tex: texture_2d<f32>;
@group(1) @binding(1) var halo_tex: texture_2d<f32>;
@group(1) @binding(2) var halo_sampler: sampler;

@fragment
fn fs_main(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let near = 1.0 - textureLoad(normal_far_tex, vec2<i32>(pos.xy), 0).w;
    let ss = frame.viewport.w;
    // Output pixel i holds the halo at the centre of sample floor((i + 0.5) ss), which lies
    // `shift` output pixels past the pixel's centre.
    let shift = (floor(0.5 * ss) + 0.5) / ss - 0.5;
    let at = pos.xy / ss - shift;
    let halo = textureSampleLevel(halo_tex, halo_sampler, at / vec2<f32>(textureDimensions(halo_tex)), 0.0);
    return vec4<f32>(halo.rgb * near, 0.0);
}
