//! A patch of skin seen head-on from a distance: the camera and which pixels show the patch.

use glam::Vec3;
use stipple::camera::Camera;
use stipple::lighting::{LightSpec, Lighting, LightingOptions, SkySpec};

/// A perspective camera `distance_mm` from `focus` along the skin's `normal`, framing
/// `width_mm` of skin across the frame (a long lens far away, a short one close up).
pub fn camera_at(focus: Vec3, normal: Vec3, distance_mm: f32, width_mm: f32) -> Camera {
    let mut c = Camera::macro_view(focus, normal, width_mm, 1.0);
    c.ortho_height_mm = None;
    c.eye_mm = focus + normal.normalize() * distance_mm;
    c.vertical_fov_rad = 2.0 * (0.5 * width_mm / distance_mm).atan();
    c.near_mm = (0.5 * distance_mm).max(5.0);
    c.far_mm = distance_mm + 400.0;
    c
}

/// Pixels whose ray meets the skin's tangent plane at `focus` within `radius_mm` of it: a
/// fixed patch of skin, whatever the distance.
pub fn disc_mask(
    camera: &Camera,
    size: u32,
    focus: Vec3,
    normal: Vec3,
    radius_mm: f32,
) -> Vec<bool> {
    let inv = camera.view_projection().inverse();
    let n = normal.normalize();
    let mut mask = vec![false; (size * size) as usize];
    for y in 0..size {
        for x in 0..size {
            let ndc = glam::Vec2::new(
                (x as f32 + 0.5) / size as f32 * 2.0 - 1.0,
                1.0 - (y as f32 + 0.5) / size as f32 * 2.0,
            );
            let a = inv.project_point3(ndc.extend(0.0));
            let b = inv.project_point3(ndc.extend(0.5));
            let dir = (b - a).normalize();
            let t = (focus - a).dot(n) / dir.dot(n);
            let p = a + dir * t;
            mask[(y * size + x) as usize] = (p - focus).length() <= radius_mm;
        }
    }
    mask
}

/// Neutral, uniform light: a 6,500 K sky of 1,000 lx from every direction (ground = sky), no
/// key light, white balance adapted. Every normal gets the same irradiance, so a bare patch's
/// colour is its albedo x that irradiance, whatever the head's shape: the simulation's diffuse
/// illumination seen along the normal.
pub fn uniform_light() -> Lighting {
    let light = LightSpec {
        azimuth_deg: 0.0,
        elevation_deg: 45.0,
        illuminance_lux: 1.0,
        kelvin: 6500.0,
        softness: 0.5,
    };
    let sky = SkySpec {
        illuminance_lux: 1000.0,
        kelvin: 6500.0,
        ground_lux: 1000.0,
        ground_kelvin: Some(6500.0),
    };
    let mut l = LightingOptions {
        preset: "studio",
        lights: Some(std::slice::from_ref(&light)),
        sky: Some(&sky),
        white_balance: "adapted",
        exposure: "auto",
        ev100: None,
        exposure_compensation_ev: 0.0,
    }
    .build()
    .expect("lighting");
    l.key.illuminance_lux = 0.0;
    l.shadows = false;
    l
}
