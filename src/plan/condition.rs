//! The client's scalp before treatment: where native hair remains and where scar tissue is.
//!
//! Plain data for the later stages: the layout reads it to place dots (and to blend them into
//! thinning hair), the renderer to draw stubble, the grey of hair under the skin, and scars.

use glam::Vec3;

/// What the scalp is like at a point, before any pigment. Implementations are cheap to
/// evaluate (the renderer bakes them into maps; the stubble layout samples them per hair).
pub trait ScalpState: Sync {
    /// Fraction of the client's native hair density growing at `p` (head space, mm, on the
    /// skin): 1 = full density, 0 = bald. The face (below the natural hair fringe) is 0.
    fn hair_fraction(&self, p: Vec3) -> f32;
    /// Scar tissue at `p`: 1 = fully scarred skin (paler, smoother, hairless), 0 = none.
    fn scar_tissue(&self, p: Vec3) -> f32;
}

/// A fully bald scalp with no scars (Norwood VII shaved, or a client with no condition
/// given): the stand-in until a scene describes its condition.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct BaldScalp;

impl ScalpState for BaldScalp {
    fn hair_fraction(&self, _p: Vec3) -> f32 {
        0.0
    }
    fn scar_tissue(&self, _p: Vec3) -> f32 {
        0.0
    }
}
