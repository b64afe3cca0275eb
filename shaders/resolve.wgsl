// Pass 4: average each supersample block into one output pixel (a box filter in linear light).

@group(0) @binding(0) var src: texture_2d<f32>;
@group(0) @binding(1) var<uniform> factor: vec4<u32>;

@fragment
fn fs_main(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let f = i32(factor.x);
    let base = vec2<i32>(pos.xy) * f;
    var acc = vec4<f32>(0.0);
    for (var y = 0; y < f; y++) {
        for (var x = 0; x < f; x++) {
            acc += textureLoad(src, base + vec2<i32>(x, y), 0);
        }
    }
    return acc / f32(f * f);
}
