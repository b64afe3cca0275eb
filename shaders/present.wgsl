// Viewer only: puts the rendered before and after frames on screen with the before/after split
// line, and the text overlay (status line, help) on top. The frames may be smaller than the
// target while the head is being turned (a cheaper frame), so they are sampled, not loaded.
// The frames are 8-bit sRGB-encoded textures read as plain unorm (no decode).

struct Present {
    // Target width and height (px), split line x (px), split shown (1) or not (0).
    size: vec4<f32>,
    // Split line half-width (px); 1 when the target stores values as they are (a non-sRGB
    // surface, the usual case), 0 when it encodes on store and the shader must decode.
    style: vec4<f32>,
};

@group(0) @binding(0) var before_frame: texture_2d<f32>;
@group(0) @binding(1) var after_frame: texture_2d<f32>;
// Premultiplied alpha, sRGB-encoded values: text is blended in sRGB like the PNG labels.
@group(0) @binding(2) var overlay: texture_2d<f32>;
@group(0) @binding(3) var frame_sampler: sampler;
@group(0) @binding(4) var<uniform> present: Present;

fn srgb_decode(c: vec3<f32>) -> vec3<f32> {
    return select(pow((c + 0.055) / 1.055, vec3<f32>(2.4)), c / 12.92, c <= vec3<f32>(0.04045));
}

@fragment
fn fs_main(@builtin(position) pos: vec4<f32>) -> @location(0) vec4<f32> {
    let uv = pos.xy / present.size.xy;
    // sRGB-encoded values, as stored: the frames are composited as encoded pixels, like the
    // PNGs, which spares a software rasteriser a power function per channel and pixel.
    var c = textureSampleLevel(after_frame, frame_sampler, uv, 0.0).rgb;
    if present.size.w > 0.5 {
        if pos.x < present.size.z {
            c = textureSampleLevel(before_frame, frame_sampler, uv, 0.0).rgb;
        }
        // A white line with a dark rim: it must read on pale skin and on the grey backdrop.
        let d = abs(pos.x - present.size.z);
        let half_width = present.style.x;
        if d < half_width + 1.0 {
            c = vec3<f32>(0.1);
        }
        if d < half_width {
            c = vec3<f32>(1.0);
        }
    }
    let text = textureLoad(overlay, vec2<i32>(pos.xy), 0);
    let encoded = text.rgb + c * (1.0 - text.a);
    if present.style.y > 0.5 {
        return vec4<f32>(encoded, 1.0);
    }
    return vec4<f32>(srgb_decode(encoded), 1.0);
}
