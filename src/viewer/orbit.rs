//! The viewer's camera: an orbit around the head, as a practitioner turns a client's head in
//! their hands. Plain data; it makes the same [`Camera`] the headless views use.

use crate::camera::{Camera, ViewName};
use crate::head::Head;
use glam::Vec3;

/// Steepest the camera may look up or down (degrees): beyond it the orbit's up vector flips.
const MAX_PITCH_DEG: f32 = 88.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Orbit {
    /// Around the vertical axis (degrees): 0 in front of the face, 90 the client's left.
    pub yaw_deg: f32,
    /// Above the horizontal (degrees).
    pub pitch_deg: f32,
    pub distance_mm: f32,
    pub target_mm: Vec3,
    /// The head's cranium centre and the radius to the top of the head: limits and clip planes.
    center_mm: Vec3,
    skull_r_mm: f32,
    vertical_fov_rad: f32,
    /// The named view it was set to, until it is moved.
    view: Option<ViewName>,
}

impl Orbit {
    /// The orbit that shows a named view the way `stipple render` frames it: `camera` is the
    /// still's camera for that view ([`crate::study::Study::camera`]). Until the orbit is
    /// turned, zoomed or panned it stands for that view ([`Orbit::view`]), so the viewer draws
    /// the still's own camera.
    pub fn for_view(head: &Head, view: ViewName, camera: &Camera) -> Orbit {
        let cam = camera;
        let center = head.cranium_center();
        let offset = cam.eye_mm - cam.target_mm;
        let distance = offset.length();
        let dir = offset / distance.max(1e-3);
        Orbit {
            yaw_deg: dir.x.atan2(dir.z).to_degrees(),
            pitch_deg: dir
                .y
                .asin()
                .to_degrees()
                .clamp(-MAX_PITCH_DEG, MAX_PITCH_DEG),
            distance_mm: distance,
            target_mm: cam.target_mm,
            center_mm: center,
            skull_r_mm: (head.landmarks.top_of_head - center).length(),
            vertical_fov_rad: cam.vertical_fov_rad,
            view: Some(view),
        }
    }

    /// The named view this orbit still shows as it was set (None once moved).
    pub fn view(&self) -> Option<ViewName> {
        self.view
    }

    fn direction(&self) -> Vec3 {
        let (y, p) = (self.yaw_deg.to_radians(), self.pitch_deg.to_radians());
        Vec3::new(p.cos() * y.sin(), p.sin(), p.cos() * y.cos())
    }

    /// Turns the camera by `dx`, `dy` degrees (dragging right turns the head to show its left).
    pub fn rotate(&mut self, dx_deg: f32, dy_deg: f32) {
        self.view = None;
        self.yaw_deg = (self.yaw_deg - dx_deg).rem_euclid(360.0);
        self.pitch_deg = (self.pitch_deg + dy_deg).clamp(-MAX_PITCH_DEG, MAX_PITCH_DEG);
    }

    /// Moves closer (`factor` < 1) or further; close enough to see single dots, never inside
    /// the head, never so far that it is a speck.
    pub fn zoom(&mut self, factor: f32) {
        self.view = None;
        let near = self.skull_r_mm + 45.0;
        let far = 12.0 * self.skull_r_mm / (0.5 * self.vertical_fov_rad).sin();
        self.distance_mm = (self.distance_mm * factor).clamp(near, far);
    }

    /// Slides the point looked at across the screen by `dx`, `dy` pixels of a frame
    /// `height_px` tall (the head follows the pointer), staying near the head.
    pub fn pan(&mut self, dx_px: f32, dy_px: f32, height_px: u32) {
        self.view = None;
        let dir = self.direction();
        let right = Vec3::Y.cross(dir).normalize_or(Vec3::X);
        let up = dir.cross(right);
        let mm_per_px =
            2.0 * self.distance_mm * (0.5 * self.vertical_fov_rad).tan() / height_px.max(1) as f32;
        let moved = self.target_mm - right * dx_px * mm_per_px + up * dy_px * mm_per_px;
        let reach = 1.5 * self.skull_r_mm;
        let offset = moved - self.center_mm;
        self.target_mm = self.center_mm + offset.clamp_length_max(reach);
    }

    pub fn camera(&self, aspect: f32) -> Camera {
        let eye = self.target_mm + self.direction() * self.distance_mm;
        let head_r = 1.6 * self.skull_r_mm;
        let off_centre = (self.target_mm - self.center_mm).length();
        Camera {
            eye_mm: eye,
            target_mm: self.target_mm,
            up: Vec3::Y,
            vertical_fov_rad: self.vertical_fov_rad,
            aspect,
            near_mm: (self.distance_mm - head_r - off_centre).max(5.0),
            far_mm: self.distance_mm + head_r + off_centre + 200.0,
            sub_frame: None,
            ortho_height_mm: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> Head {
        crate::head::procedural::build(&Default::default())
    }

    #[test]
    fn front_view_round_trips_through_the_orbit() {
        let h = head();
        let want = Camera::for_view(&h, ViewName::Front, 85.0, 1.5, None, None);
        let got = Orbit::for_view(&h, ViewName::Front, &want).camera(1.5);
        assert!((got.eye_mm - want.eye_mm).length() < 0.01);
        assert!((got.target_mm - want.target_mm).length() < 0.01);
    }

    #[test]
    fn left_view_looks_from_the_clients_left() {
        let h = head();
        let cam = Camera::for_view(&h, ViewName::Left, 85.0, 1.0, None, None);
        let o = Orbit::for_view(&h, ViewName::Left, &cam);
        assert_eq!(o.view(), Some(ViewName::Left));
        assert!((o.yaw_deg - 90.0).abs() < 0.01, "{}", o.yaw_deg);
    }

    #[test]
    fn zoom_and_pan_stay_near_the_head() {
        let h = head();
        let cam = Camera::for_view(&h, ViewName::Front, 85.0, 1.0, None, None);
        let mut o = Orbit::for_view(&h, ViewName::Front, &cam);
        o.zoom(1e-6);
        assert_eq!(o.view(), None, "a moved orbit shows no named view");
        assert!(o.distance_mm > o.skull_r_mm);
        o.pan(1e6, 1e6, 100);
        assert!((o.target_mm - o.center_mm).length() <= 1.5 * o.skull_r_mm + 0.01);
        o.rotate(0.0, 1000.0);
        assert!(o.pitch_deg <= MAX_PITCH_DEG);
    }
}
