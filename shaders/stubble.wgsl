// Stubble: the client's shaved hair as instanced shafts standing out of the skin, for views
// close enough to resolve them (src/render/stubble_pass.rs).
//
// Each shaft is a ribbon facing the camera from its root along its direction, extended past
// the tip by pi r / 2 so that a shaft seen end-on still covers its cross-section (pi r^2). A
// shaft thinner than a pixel is drawn a pixel wide and proportionally fainter, so its coverage,
// and the frame's mean colour, stay the same; fragments behind the skin (the depth buffer's
// surface is nearer the camera) are dropped. The shaft adds its optical depth where it covers
// to the pigment target (common.wgsl `optical_depth`: absorbers multiply): the transmittance
// that takes the under-skin tint it hides to the shaft's colour, (1 - shaft) / (1 - under),
// mixed with 1 by the share of the pixel it covers (a linear mean within the pixel, as a
// camera's is), weighted by (1 - stubble_far_weight), the share the surface pass's far-field
// tint leaves to drawn shafts (the near and far paths blend in optical depth, as the dots' do).

// The G-buffer's depths; this pass reads g, the flat triangles' (what the layout placed on),
// not r, which the shadow-terminator offset moves out by up to a millimetre mid-triangle on a
// coarse scan: tested against that, every dot there counted as hidden.
@group(1) @binding(0) var depth_tex: texture_2d<u32>;
@group(1) @binding(1) var normal_far_tex: texture_2d<f32>;

struct HairIn {
    @location(0) root_length: vec4<f32>,
    @location(1) direction_radius: vec4<f32>,
    @location(2) color: vec4<f32>,
};

struct HairOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) world: vec3<f32>,
    // x: across the ribbon (mm from its axis), y: along it (mm from the root).
    @location(1) ribbon: vec2<f32>,
    // x: half width drawn (mm), y: length drawn (mm), z: pixel size (mm), w: the drawn share
    // (1 - stubble_far_weight).
    @location(2) @interpolate(flat) shape: vec4<f32>,
    // The shaft's darkening relative to the under-skin tint, times its width's share of the
    // ribbon drawn.
    @location(3) @interpolate(flat) darkening: vec3<f32>,
};

// (across -1..1, along 0..1)
const CORNERS = array<vec2<f32>, 6>(
    vec2<f32>(-1.0, 0.0), vec2<f32>(1.0, 0.0), vec2<f32>(1.0, 1.0),
    vec2<f32>(-1.0, 0.0), vec2<f32>(1.0, 1.0), vec2<f32>(-1.0, 1.0),
);

@vertex
fn vs_main(@builtin(vertex_index) vi: u32, h: HairIn) -> HairOut {
    var out: HairOut;
    let root = h.root_length.xyz;
    let len = h.root_length.w;
    let dir = h.direction_radius.xyz;
    let r = h.direction_radius.w;
    let to_eye = frame.camera_pos.xyz - root;
    let dist = length(to_eye);
    let v = to_eye / dist;
    let facing = dot(dir, v);
    let pixel_mm = dist * frame.viewport.z / max(facing, 0.2);
    let far = stubble_far_weight(pixel_mm);
    // Shafts on the far side of the head, and shafts the far-field tint fully covers.
    if facing < -0.2 || far > 0.999 {
        out.clip = vec4<f32>(2.0, 2.0, 2.0, 1.0);
        return out;
    }
    // The shaft's axis on screen: its direction less the part along the view.
    var axis = dir - dot(dir, v) * v;
    let projected = length(axis);
    if projected < 1e-4 {
        axis = normalize(select(cross(v, vec3<f32>(0.0, 1.0, 0.0)), cross(v, vec3<f32>(1.0, 0.0, 0.0)), abs(v.y) > 0.9));
    } else {
        axis = axis / projected;
    }
    let side = normalize(cross(v, axis));
    let px = dist * frame.viewport.z;
    let half_width = max(r, 0.7 * px);
    // Drawn along the screen axis: the shaft's projected length plus pi r / 2 past its tip.
    let drawn = len * projected + 1.5707963 * r;
    let k = CORNERS[vi];
    let across = k.x * (half_width + px);
    let along = -px + k.y * (drawn + 2.0 * px);
    // Lift the ribbon along the shaft as it runs along the axis, so the tip stands out.
    let lift = clamp(along / max(drawn, 1e-4), 0.0, 1.0) * len * dot(dir, v);
    let p = root + side * across + axis * along + v * lift;
    out.clip = frame.view_proj * vec4<f32>(p, 1.0);
    out.world = p;
    out.ribbon = vec2<f32>(across, along);
    out.shape = vec4<f32>(half_width, drawn, px, 1.0 - far);
    let contrast = max(vec3<f32>(1.0) - h.color.rgb / max(frame.skin.rgb, vec3<f32>(1e-4)), vec3<f32>(0.0));
    // 1 - (1 - contrast) / (1 - under): negative (lighter) where the shaft is paler than the
    // hair under the skin it hides.
    let relative = stubble_shaft_excess(contrast) / max(vec3<f32>(1.0) - stubble_under(), vec3<f32>(1e-3));
    out.darkening = relative * (r / half_width);
    return out;
}

@fragment
fn fs_main(in: HairOut) -> @location(0) vec4<f32> {
    let pxl = vec2<i32>(in.clip.xy);
    let depth = bitcast<f32>(textureLoad(depth_tex, pxl, 0).g);
    if depth >= 1.0 {
        discard;
    }
    let skin = world_from_depth(in.clip.xy, depth);
    let px = in.shape.z;
    // Behind the skin seen here: hidden.
    if length(in.world - frame.camera_pos.xyz) > length(skin - frame.camera_pos.xyz) + 0.05 + px {
        discard;
    }
    // Box profile across and along, each box-filtered by the pixel: integrals 2w and drawn.
    let across = clamp((in.shape.x - abs(in.ribbon.x)) / px + 0.5, 0.0, 1.0);
    let along = clamp(in.ribbon.y / px + 0.5, 0.0, 1.0) * clamp((in.shape.y - in.ribbon.y) / px + 0.5, 0.0, 1.0);
    return vec4<f32>(optical_depth(in.darkening * across * along) * in.shape.w, 0.0);
}
