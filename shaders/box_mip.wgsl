// One level of the pigment map's mip chain (src/render/pigment_splat.rs): each texel the average of
// the 2x2 texels above it, so linear quantities (pigment darkening and coverage) keep their mean
// at every distance, like `box_mip_chain` on the CPU. Level 0 is a copy (scale 1, one texel).
@group(0) @binding(0) var src: texture_2d<f32>;
// x: texels per side of the source block (1 for a copy, 2 for a mip); yzw unused.
@group(0) @binding(1) var<uniform> block_size: vec4<u32>;

@fragment
fn fs_main(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let b = i32(block_size.x);
    let base = vec2<i32>(pos.xy) * b;
    var acc = vec4<f32>(0.0);
    for (var y = 0; y < b; y++) {
        for (var x = 0; x < b; x++) {
            acc += textureLoad(src, base + vec2<i32>(x, y), 0);
        }
    }
    return acc / f32(b * b);
}
