//! Cameras: named views around the head with a physical lens (focal length on a full-frame
//! 36 x 24 mm sensor).

use crate::head::Head;
use glam::{Mat4, Vec3};

/// Height of a full-frame sensor; with the focal length it fixes the field of view.
pub const SENSOR_HEIGHT_MM: f32 = 24.0;

pub use crate::scene::view::{DEFAULT_MACRO_WIDTH_MM, ViewName};

// Framing of the named views, in skull radii (cranium centre to top of head) unless a unit says
// otherwise. The subject is the scalp, so the frame is a sphere from the chin to just above the
// top of the head. Composition values chosen by eye (a stopgap: no photographic standard fixes
// them); the snapshot references pin them.

/// How far below the cranium centre the framed sphere's centre sits: down toward the chin, so
/// the whole head fits with the scalp in the upper part of the frame.
const FRAME_CENTRE_DROP_SKULL_R: f32 = 0.2;
/// Radius of the framed sphere: chin to just above the top of the head, with a margin.
const FRAME_RADIUS_SKULL_R: f32 = 1.38;
/// Direction of the three-quarter view from the client's front left (x: the client's left,
/// z: forward), slightly from above as a practitioner standing beside a seated client sees the
/// hairline. The front-right view mirrors x; the turntable's elevation matches it.
pub const FRONT_LEFT_DIR: Vec3 = Vec3::new(0.7, 0.15, 0.7);
/// The top view looks at a point this far above the cranium centre (the crown, not the ears).
const TOP_TARGET_RAISE_SKULL_R: f32 = 0.3;
/// The top view frames a sphere this big: the scalp seen from above, without the shoulders.
const TOP_FRAME_RADIUS_SKULL_R: f32 = 1.1;
/// The macro view looks into the treated area this fraction of the way (by direction) from
/// the hairline's mid-frontal point toward the top of the head: behind the soft transition.
const MACRO_TOWARD_TOP: f32 = 0.3;
/// The hairline close-up stands this many focal lengths from the skin: with the 24 mm sensor
/// height, 0.85 x 24 = about 20 mm of skin across the frame, whatever the lens, near enough to
/// see single dots.
const CLOSEUP_DISTANCE_PER_FOCAL_LENGTH: f32 = 0.85;
/// A sphere round the cranium centre holding the whole head (nose and chin included), for the
/// near and far planes.
const HEAD_BOUND_SKULL_R: f32 = 1.6;
/// The nearest a near plane may be, for depth precision when the eye is close to the skin.
const MIN_NEAR_MM: f32 = 5.0;
/// Depth kept in front of the far plane beyond the head's bounding sphere.
const FAR_MARGIN_MM: f32 = 200.0;
/// A macro camera's distance from the skin: far enough that nothing of the head is behind the
/// near plane, close enough for depth precision.
const MACRO_DISTANCE_MM: f32 = 150.0;
/// A macro camera's near plane and the depth it sees beyond its focus.
const MACRO_NEAR_MM: f32 = 50.0;
const MACRO_DEPTH_BEYOND_FOCUS_MM: f32 = 400.0;

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
        let distance = MACRO_DISTANCE_MM;
        Camera {
            eye_mm: focus_mm + look * distance,
            target_mm: focus_mm,
            up,
            vertical_fov_rad: 2.0 * (0.5 * width_mm / aspect / distance).atan(),
            aspect,
            near_mm: MACRO_NEAR_MM,
            far_mm: distance + MACRO_DEPTH_BEYOND_FOCUS_MM,
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
        let frame_center = center + Vec3::new(0.0, -FRAME_CENTRE_DROP_SKULL_R * skull_r, 0.0);
        let frame_r = FRAME_RADIUS_SKULL_R * skull_r;
        let fit = frame_r / (0.5 * fov).sin();
        let (dir, up, target, distance) = match view {
            ViewName::Front => (Vec3::Z, Vec3::Y, frame_center, fit),
            ViewName::Back => (Vec3::NEG_Z, Vec3::Y, frame_center, fit),
            ViewName::Left => (Vec3::X, Vec3::Y, frame_center, fit),
            ViewName::Right => (Vec3::NEG_X, Vec3::Y, frame_center, fit),
            ViewName::FrontLeft => (FRONT_LEFT_DIR.normalize(), Vec3::Y, frame_center, fit),
            ViewName::FrontRight => (
                (FRONT_LEFT_DIR * Vec3::new(-1.0, 1.0, 1.0)).normalize(),
                Vec3::Y,
                frame_center,
                fit,
            ),
            ViewName::Top => {
                let c = center + Vec3::new(0.0, TOP_TARGET_RAISE_SKULL_R * skull_r, 0.0);
                // Face at the top of the frame, as a practitioner looks down at a client.
                let fit = TOP_FRAME_RADIUS_SKULL_R * skull_r / (0.5 * fov).sin();
                (Vec3::Y, Vec3::Z, c, fit)
            }
            ViewName::Macro => {
                // Into the treated area, part of the way from the mid-frontal point to the top.
                let hair = hairline_mm.unwrap_or(top);
                let dir = (hair - center)
                    .normalize_or(Vec3::Y)
                    .lerp((top - center).normalize_or(Vec3::Y), MACRO_TOWARD_TOP)
                    .normalize();
                let r = (hair - center).length().max((top - center).length());
                return Camera::macro_view(center + dir * r, dir, DEFAULT_MACRO_WIDTH_MM, aspect);
            }
            ViewName::HairlineCloseup => {
                // Straight down onto the mid-frontal point, near enough to see single dots:
                // about 20 mm of skin across the frame.
                let focus = hairline_mm.unwrap_or(top);
                let look = (focus - center).normalize_or(Vec3::Y);
                let up = Vec3::NEG_Z.reject_from(look).normalize_or(Vec3::Y);
                let distance = CLOSEUP_DISTANCE_PER_FOCAL_LENGTH * focal_length_mm;
                (look, up, focus, distance)
            }
        };
        let distance = distance_mm.unwrap_or(distance);
        let eye = target + dir * distance;
        let head_r = HEAD_BOUND_SKULL_R * skull_r;
        Camera {
            eye_mm: eye,
            target_mm: target,
            up,
            vertical_fov_rad,
            aspect,
            near_mm: (distance - head_r - (target - center).length()).max(MIN_NEAR_MM),
            far_mm: distance + head_r + (target - center).length() + FAR_MARGIN_MM,
            sub_frame: None,
            ortho_height_mm: None,
        }
    }
}
