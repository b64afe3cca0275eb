//! Heads: the built-in procedural head and heads loaded from OBJ files, each with landmarks.
//!
//! Head space is millimetres, +Y up, +Z forward (out of the face), +X the client's left.

pub mod builtin;
pub mod formats;
pub mod landmarks;
pub mod mesh;
pub mod obj;
pub mod procedural;
pub mod sanity;
pub mod skin_tone;

pub use landmarks::Landmarks;
pub use mesh::TriMesh;

/// A head ready for planning and rendering.
#[derive(Clone, Debug)]
pub struct Head {
    pub mesh: TriMesh,
    pub landmarks: Landmarks,
}

impl Head {
    pub fn cranium_center(&self) -> glam::Vec3 {
        self.landmarks.cranium_center()
    }
}
