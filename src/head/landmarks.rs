//! Anatomical landmarks that hairline design and framing are measured from.

use glam::Vec3;

/// Landmarks in head space (mm). "Left" and "right" are the client's own.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Landmarks {
    /// Smooth point between the eyebrows; hairline height is measured from here.
    pub glabella: Vec3,
    pub outer_eye_corner_left: Vec3,
    pub outer_eye_corner_right: Vec3,
    /// Vertex: the highest point of the skull.
    pub top_of_head: Vec3,
    /// Most posterior point of the back of the skull.
    pub occiput: Vec3,
    /// Top of the ear where it joins the head.
    pub ear_left: Vec3,
    pub ear_right: Vec3,
}

impl Landmarks {
    /// Centre of the cranium: the origin that angular hairline coordinates and the pigment
    /// map's directions are measured from.
    pub fn cranium_center(&self) -> Vec3 {
        let ear_mid = 0.5 * (self.ear_left + self.ear_right);
        Vec3::new(
            ear_mid.x,
            0.5 * (ear_mid.y + self.glabella.y),
            0.5 * (self.glabella.z + self.occiput.z),
        )
    }

    /// Every landmark with its field name, in declaration order (for logs and reports).
    pub fn named(&self) -> [(&'static str, Vec3); 7] {
        [
            ("glabella", self.glabella),
            ("outer_eye_corner_left", self.outer_eye_corner_left),
            ("outer_eye_corner_right", self.outer_eye_corner_right),
            ("top_of_head", self.top_of_head),
            ("occiput", self.occiput),
            ("ear_left", self.ear_left),
            ("ear_right", self.ear_right),
        ]
    }

    /// The same landmarks with `f` applied to each point (scaling, axis changes).
    pub fn map(&self, f: impl Fn(Vec3) -> Vec3) -> Landmarks {
        Landmarks {
            glabella: f(self.glabella),
            outer_eye_corner_left: f(self.outer_eye_corner_left),
            outer_eye_corner_right: f(self.outer_eye_corner_right),
            top_of_head: f(self.top_of_head),
            occiput: f(self.occiput),
            ear_left: f(self.ear_left),
            ear_right: f(self.ear_right),
        }
    }
}
