// One triangle that covers the whole target (vertices 0-2, no vertex buffer): the vertex stage
// of every fullscreen pass (shade, resolve, present, the pigment map mips), prepended to theirs.
@vertex
fn vs_fullscreen(@builtin(vertex_index) vi: u32) -> @builtin(position) vec4<f32> {
    let uv = vec2<f32>(f32((vi << 1u) & 2u), f32(vi & 2u));
    return vec4<f32>(uv * 2.0 - 1.0, 0.0, 1.0);
}

// The same triangle on the far plane (depth 1, the depth buffer's clear value), for passes
// that split the target by the surface's depth buffer: compared `Greater` it reaches only the
// samples the surface covers, `LessEqual` only the others (src/render/shade_pass.rs).
@vertex
fn vs_fullscreen_far(@builtin(vertex_index) vi: u32) -> @builtin(position) vec4<f32> {
    let uv = vec2<f32>(f32((vi << 1u) & 2u), f32(vi & 2u));
    return vec4<f32>(uv * 2.0 - 1.0, 1.0, 1.0);
}
