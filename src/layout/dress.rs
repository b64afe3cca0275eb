//! Dressing: each placed dot gets its zone's look (size, depth, shade, needle) and its session.

use super::{DEPTH_JITTER, Dot, EDGE_SHADE};
use crate::plan::{Plan, TreatmentMap, sessions};

/// Below this many dots dressing runs on the calling thread.
const PARALLEL_MIN: usize = 32_768;

/// Sets every dot's session and, where zones differ or hair thins the pigment out, its size,
/// depth, shade and needle from the zone it lies in.
pub fn dress(dots: &mut [Dot], map: &TreatmentMap<'_>, plan: &Plan) {
    let total = dots.len();
    // The layout already dressed every dot from the plan by the hairline's weight; with one
    // look everywhere and that weight alone, only sessions and needles remain.
    let restyle = !(map.is_plain() && plan.zones.is_empty());
    let work = |start: usize, part: &mut [Dot]| {
        for (i, dot) in part.iter_mut().enumerate() {
            let index = start + i;
            let session = sessions::session_of(&plan.sessions, index, total);
            let scale = plan.sessions[session as usize - 1].shade_scale;
            dot.session = session;
            if restyle {
                if let Some(s) = map.sample(dot.position_mm) {
                    let z = map.zone(s.zone);
                    let w = s.shape_weight;
                    let [u_size, u_depth] = unit_pair(plan.seed, index as u64);
                    let [dmin, dmax] = z.dot_diameter_mm;
                    // Finer, lighter dots toward the hairline and into the client's hair.
                    dot.diameter_mm = dmin + (dmax - dmin) * u_size * w;
                    dot.depth_mm = z.depth_mm * (1.0 + DEPTH_JITTER * (2.0 * u_depth - 1.0));
                    dot.shade = z.shade * (EDGE_SHADE + (1.0 - EDGE_SHADE) * w);
                    dot.needle = z.needle;
                }
            } else {
                dot.needle = plan.needle;
            }
            dot.shade = (dot.shade * scale).min(1.0);
        }
    };
    if total < PARALLEL_MIN {
        work(0, dots);
        return;
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let per = total.div_ceil(threads);
    std::thread::scope(|s| {
        for (k, part) in dots.chunks_mut(per).enumerate() {
            let work = &work;
            s.spawn(move || work(k * per, part));
        }
    });
}

/// Two uniform numbers in [0, 1) for a dot, from its seed and index alone (so dressing is
/// the same on any number of threads): SplitMix64.
fn unit_pair(seed: u64, index: u64) -> [f32; 2] {
    let mut z = seed ^ 0xd1b5_4a32_d192_ed03 ^ index.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let mut next = || {
        z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut x = z;
        x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        x ^= x >> 31;
        (x >> 40) as f32 / (1u64 << 24) as f32
    };
    [next(), next()]
}
