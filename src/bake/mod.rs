//! What a head and a plan become before the renderer sees them, on the CPU and as plain data:
//! no GPU types here. The renderer only uploads it (or, on a GPU that is faster at it, splats
//! the placed dots itself: `render/pigment_splat.rs`, tested against [`pigment_map`]).
//!
//! - [`surface_charts`]: the head's skin cut into charts, the pigment map's atlas layout;
//! - [`pigment_map`]: each dot's splat placed on its charts, and their sum (the far field);
//! - [`scalp_map`]: the client's condition (native hair, scar tissue) round the cranium;
//! - [`hairs`]: the client's stubble shafts;
//! - [`dot_chunks`]: the dots sorted into spatial chunks, so a close-up draws only those in view.

pub mod dot_chunks;
pub mod hairs;
pub mod pigment_map;
pub mod scalp_map;
pub mod surface_charts;
