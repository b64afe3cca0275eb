// Pass 0: the head's depth seen from the key light (orthographic, fitted to the head's bounds),
// into the shadow map the shade pass reads: an integer colour target holding the nearest depth
// (a depth buffer keeps the nearest), so every backend can read it texel by texel.

// The first member of `Lights` (shadow_light.wgsl): the same buffer is bound here.
struct ShadowCaster {
    // Head space (mm) to the key light's clip space.
    view_proj: mat4x4<f32>,
};

@group(0) @binding(0) var<uniform> caster: ShadowCaster;

@vertex
fn vs_main(@location(0) position: vec3<f32>) -> @builtin(position) vec4<f32> {
    return caster.view_proj * vec4<f32>(position, 1.0);
}

// Depth 0-1 in 24-bit fixed point (about 0.03 um over a head-sized range).
@fragment
fn fs_main(@builtin(position) position: vec4<f32>) -> @location(0) u32 {
    return u32(clamp(position.z, 0.0, 1.0) * 16777215.0);
}
