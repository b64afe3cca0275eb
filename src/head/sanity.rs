//! Checks that a loaded scan is a head the right way up and at real size, so a wrong `up`,
//! wrong units or a mesh that is not a head fail with the key to change, before a plan is laid
//! out on a horn or a face.

use super::Head;

/// A failed check: the scene key most likely at fault and what was expected.
#[derive(Clone, Debug, PartialEq)]
pub struct SanityError {
    pub key: &'static str,
    pub expected: String,
}

/// Adult heads (with or without neck and shoulders) measure 180-260 mm from chin to vertex;
/// a bust down to the chest about 700 mm. Outside 100-2500 mm the units are wrong.
const HEIGHT_RANGE_MM: (f32, f32) = (100.0, 2500.0);
/// A head is taller than it is deep (vertex to chin ~230 mm, glabella to occiput ~195 mm; a
/// bust taller still): one 25% deeper than tall lies on its back or face, its up axis wrong.
const MIN_HEIGHT_PER_DEPTH: f32 = 0.8;
/// The vertex stands 90-130 mm above the outer eye corners on adults; under 40 mm the
/// "top of head" is not a skull's top.
const MIN_TOP_ABOVE_EYES_MM: f32 = 40.0;

pub fn check(head: &Head) -> Result<(), SanityError> {
    let (lo, hi) = head.mesh.bounds();
    let size = hi - lo;
    if !(HEIGHT_RANGE_MM.0..=HEIGHT_RANGE_MM.1).contains(&size.y) {
        return Err(SanityError {
            key: "client.head.units",
            expected: format!(
                "a head 100-2500 mm tall, got {:.0} mm: the units are likely wrong (set \
                 `units = \"m\"`, \"cm\" or \"mm\", or `scale_to_mm`), or the mesh is not a head",
                size.y
            ),
        });
    }
    if size.y < MIN_HEIGHT_PER_DEPTH * size.z {
        return Err(SanityError {
            key: "client.head.up",
            expected: format!(
                "a head taller than it is deep, got {:.0} mm tall and {:.0} mm front to back: \
                 the face likely points up or down; set `up` to the file's up axis (\"y\" or \
                 \"z\")",
                size.y, size.z
            ),
        });
    }
    let l = &head.landmarks;
    let eyes = l.outer_eye_corner_left.y.max(l.outer_eye_corner_right.y);
    if l.top_of_head.y < eyes + MIN_TOP_ABOVE_EYES_MM {
        return Err(SanityError {
            key: "client.head.landmarks",
            expected: format!(
                "the top of the head at least {MIN_TOP_ABOVE_EYES_MM} mm above the eyes, got \
                 {:.0} mm: the up axis is likely wrong (`client.head.up`) or the mesh is not a \
                 head; or give `top_of_head` and `outer_eye_corner_*` by hand",
                l.top_of_head.y - eyes
            ),
        });
    }
    Ok(())
}
