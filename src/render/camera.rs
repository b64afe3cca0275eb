//! Cameras: named views around the head with a physical lens (focal length on a full-frame
//! 36 x 24 mm sensor).

use crate::head::Head;
use glam::{Mat4, Vec3};

/// Height of a full-frame sensor; with the focal length it fixes the field of view.
pub const SENSOR_HEIGHT_MM: f32 = 24.0;

pub use crate::scene::view::{DEFAULT_MACRO_WIDTH_MM, ViewName};

/// A pinhole camera in head space (mm).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    pub eye_mm: Vec3,
    pub target_mm: Vec3,
    pub up: Vec3,
    pub vertical_fov_rad: f32,
    pub aspect: f32,
    pub near_mm: f32,
    pub far_mm: f32,
    /// Render only this part of the frame (tiled stills); None: the whole frame.
    pub sub_frame: Option<SubFrame>,
    /// Orthographic with this much of the scene (mm) from the bottom to the top of the frame;
    /// None: perspective with `vertical_fov_rad`.
    pub ortho_height_mm: Option<f32>,
}

/// A rectangle of a `full_width` x `full_height` frame, in output pixels (y down). A camera
/// with a sub-frame projects through the off-centre sub-frustum that covers exactly those
/// pixels, so tiles rendered this way stitch into the frame an untiled render would give. The
/// rectangle may run past the frame's right and bottom edges (those pixels are cropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SubFrame {
    pub full_width: u32,
    pub full_height: u32,
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

impl SubFrame {
    /// Maps the sub-rectangle's clip-space window onto the whole of clip space.
    pub fn crop_matrix(&self) -> Mat4 {
        let (fw, fh) = (self.full_width as f64, self.full_height as f64);
        let sx = self.width as f64 / fw;
        let sy = self.height as f64 / fh;
        let cx = (2.0 * self.x as f64 + self.width as f64) / fw - 1.0;
        let cy = 1.0 - (2.0 * self.y as f64 + self.height as f64) / fh;
        Mat4::from_cols(
            glam::Vec4::new((1.0 / sx) as f32, 0.0, 0.0, 0.0),
            glam::Vec4::new(0.0, (1.0 / sy) as f32, 0.0, 0.0),
            glam::Vec4::Z,
            glam::Vec4::new((-cx / sx) as f32, (-cy / sy) as f32, 0.0, 1.0),
        )
    }
}

impl Camera {
    pub fn view(&self) -> Mat4 {
        glam::camera::rh::view::look_at_mat4(self.eye_mm, self.target_mm, self.up)
    }

    pub fn projection(&self) -> Mat4 {
        // wgpu's clip space: depth 0..1, +Y up (the Direct3D convention).
        let full = match self.ortho_height_mm {
            Some(h) => {
                let (hh, hw) = (0.5 * h, 0.5 * h * self.aspect);
                glam::camera::rh::proj::directx::orthographic(
                    -hw,
                    hw,
                    -hh,
                    hh,
                    self.near_mm,
                    self.far_mm,
                )
            }
            None => glam::camera::rh::proj::directx::perspective(
                self.vertical_fov_rad,
                self.aspect,
                self.near_mm,
                self.far_mm,
            ),
        };
        match &self.sub_frame {
            Some(s) => s.crop_matrix() * full,
            None => full,
        }
    }

    pub fn view_projection(&self) -> Mat4 {
        self.projection() * self.view()
    }

    /// Angle one pixel subtends, for a frame `height_px` tall (with a sub-frame: for a tile
    /// `height_px` tall, whose pixels are those of the full frame).
    ///
    /// An orthographic camera's pixels are the same size everywhere; the passes measure a
    /// pixel on the skin as distance x angle, so its angle is taken at the target's distance.
    pub fn pixel_angle_rad(&self, height_px: u32) -> f32 {
        let fov = match self.ortho_height_mm {
            Some(h) => h / (self.eye_mm - self.target_mm).length().max(1e-3),
            None => self.vertical_fov_rad,
        };
        match &self.sub_frame {
            Some(s) => fov * s.height as f32 / (s.full_height as f32 * height_px as f32),
            None => fov / height_px as f32,
        }
    }

    /// The same camera rendering only `sub` of its frame.
    pub fn with_sub_frame(mut self, sub: SubFrame) -> Camera {
        self.sub_frame = Some(sub);
        self
    }

    /// An orthographic macro camera looking straight down the skin's normal `normal` onto
    /// `focus_mm` (a point on the skin), `width_mm` of skin across the frame.
    pub fn macro_view(focus_mm: Vec3, normal: Vec3, width_mm: f32, aspect: f32) -> Camera {
        let look = normal.normalize_or(Vec3::Y);
        let up = Vec3::NEG_Z.reject_from(look).normalize_or(Vec3::X);
        // Far enough that nothing of the head is behind the near plane, close enough for depth
        // precision.
        let distance = 150.0;
        Camera {
            eye_mm: focus_mm + look * distance,
            target_mm: focus_mm,
            up,
            vertical_fov_rad: 2.0 * (0.5 * width_mm / aspect / distance).atan(),
            aspect,
            near_mm: 50.0,
            far_mm: distance + 400.0,
            sub_frame: None,
            ortho_height_mm: Some(width_mm / aspect),
        }
    }

    /// A named view framing the head, with a lens of `focal_length_mm`.
    /// `distance_mm` overrides the automatic framing distance; `hairline_mm` is the point the
    /// hairline close-up looks at (the plan's mid-frontal point).
    pub fn for_view(
        head: &Head,
        view: ViewName,
        focal_length_mm: f32,
        aspect: f32,
        distance_mm: Option<f32>,
        hairline_mm: Option<Vec3>,
    ) -> Camera {
        let lm = &head.landmarks;
        let center = head.cranium_center();
        let top = lm.top_of_head;
        let vertical_fov_rad = 2.0 * (0.5 * SENSOR_HEIGHT_MM / focal_length_mm).atan();
        let horizontal_fov = 2.0 * ((0.5 * vertical_fov_rad).tan() * aspect).atan();
        let fov = vertical_fov_rad.min(horizontal_fov);
        // The subject is the scalp: frame a sphere from the chin to just above the top.
        let skull_r = (top - center).length();
        let frame_center = center + Vec3::new(0.0, -0.2 * skull_r, 0.0);
        let frame_r = 1.38 * skull_r;
        let fit = frame_r / (0.5 * fov).sin();
        let (dir, up, target, distance) = match view {
            ViewName::Front => (Vec3::Z, Vec3::Y, frame_center, fit),
            ViewName::Back => (Vec3::NEG_Z, Vec3::Y, frame_center, fit),
            ViewName::Left => (Vec3::X, Vec3::Y, frame_center, fit),
            ViewName::Right => (Vec3::NEG_X, Vec3::Y, frame_center, fit),
            ViewName::FrontLeft => (
                Vec3::new(0.7, 0.15, 0.7).normalize(),
                Vec3::Y,
                frame_center,
                fit,
            ),
            ViewName::FrontRight => (
                Vec3::new(-0.7, 0.15, 0.7).normalize(),
                Vec3::Y,
                frame_center,
                fit,
            ),
            ViewName::Top => {
                let c = center + Vec3::new(0.0, 0.3 * skull_r, 0.0);
                // Face at the top of the frame, as a practitioner looks down at a client.
                (Vec3::Y, Vec3::Z, c, 1.1 * skull_r / (0.5 * fov).sin())
            }
            ViewName::Macro => {
                // Into the treated area, 30% of the way from the mid-frontal point to the top.
                let hair = hairline_mm.unwrap_or(top);
                let dir = (hair - center)
                    .normalize_or(Vec3::Y)
                    .lerp((top - center).normalize_or(Vec3::Y), 0.3)
                    .normalize();
                let r = (hair - center).length().max((top - center).length());
                return Camera::macro_view(center + dir * r, dir, DEFAULT_MACRO_WIDTH_MM, aspect);
            }
            ViewName::HairlineCloseup => {
                // Straight down onto the mid-frontal point, near enough to see single dots:
                // about 20 mm of skin across the frame with an 85 mm lens.
                let focus = hairline_mm.unwrap_or(top);
                let look = (focus - center).normalize_or(Vec3::Y);
                let up = Vec3::NEG_Z.reject_from(look).normalize_or(Vec3::Y);
                (look, up, focus, 0.85 * focal_length_mm)
            }
        };
        let distance = distance_mm.unwrap_or(distance);
        let eye = target + dir * distance;
        let head_r = 1.6 * skull_r;
        Camera {
            eye_mm: eye,
            target_mm: target,
            up,
            vertical_fov_rad,
            aspect,
            near_mm: (distance - head_r - (target - center).length()).max(5.0),
            far_mm: distance + head_r + (target - center).length() + 200.0,
            sub_frame: None,
            ortho_height_mm: None,
        }
    }
}
