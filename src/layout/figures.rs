//! The figures a practitioner quotes from: treated area, impressions and needle hours, per
//! zone and per session, with areas measured on the head's surface.

use super::{Dot, LayoutError};
use crate::head::Head;
use crate::plan::{Plan, ScalpState, TreatmentMap, ZoneName, sessions};

/// Sub-triangle edge (mm) of the surface quadrature: fine enough for zone borders and the
/// hairline's transition to be integrated to well under 1%.
const QUADRATURE_EDGE_MM: f32 = 1.0;
const MAX_SUBDIVISIONS: usize = 24;

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct ZoneFigures {
    pub name: &'static str,
    /// Surface area that gets any pigment, cm².
    pub area_cm2: f64,
    /// Area weighted by how far each point is into the treated area (the transition zone
    /// and thinning hair count partly), cm²: what the requested density applies to.
    pub effective_area_cm2: f64,
    pub requested_density_per_cm2: f64,
    /// Dots over the effective area.
    pub realized_density_per_cm2: f64,
    pub dots: usize,
    /// Dots per session, session 1 first.
    pub dots_per_session: Vec<usize>,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct SessionFigures {
    pub index: usize,
    pub dots: usize,
    pub needle_hours: f64,
}

#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PlanFigures {
    pub dots_total: usize,
    pub treated_area_cm2: f64,
    pub zones: Vec<ZoneFigures>,
    pub sessions: Vec<SessionFigures>,
    pub impressions_per_hour: f64,
    pub needle_hours: f64,
}

/// Per-zone [area, effective area] in mm² of the treated surface of `head`.
pub fn zone_areas_mm2(head: &Head, map: &TreatmentMap<'_>) -> [[f64; 2]; 6] {
    let mesh = &head.mesh;
    let n = mesh.triangle_count();
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .min(8);
    let per = n.div_ceil(threads).max(1);
    let region = map.region();
    let part = |range: std::ops::Range<usize>| {
        let mut acc = [[0.0f64; 2]; 6];
        for t in range {
            let [a, b, c] = mesh.triangle(t);
            let area = 0.5 * (b - a).cross(c - a).length();
            if area.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
                continue;
            }
            let longest = (b - a).length().max((c - b).length()).max((a - c).length());
            // Wholly outside the hairline: nothing to integrate.
            if [a, b, c].iter().all(|&p| region.clearance_mm(p) < -longest) {
                continue;
            }
            let k = ((longest / QUADRATURE_EDGE_MM).ceil() as usize).clamp(1, MAX_SUBDIVISIONS);
            let sub_area = area as f64 / (k * k) as f64;
            let (e1, e2) = ((b - a) / k as f32, (c - a) / k as f32);
            // k² sub-triangles: (i, j) upright and, where it fits, inverted; centroids.
            for i in 0..k {
                for j in 0..k - i {
                    let (fi, fj) = (i as f32, j as f32);
                    let mut centroids = vec![a + (fi + 1.0 / 3.0) * e1 + (fj + 1.0 / 3.0) * e2];
                    if i + j + 1 < k {
                        centroids.push(a + (fi + 2.0 / 3.0) * e1 + (fj + 2.0 / 3.0) * e2);
                    }
                    for p in centroids {
                        if let Some(s) = map.sample(p) {
                            let z = &mut acc[s.zone.index()];
                            z[0] += sub_area;
                            z[1] += sub_area * s.shape_weight as f64;
                        }
                    }
                }
            }
        }
        acc
    };
    let parts: Vec<[[f64; 2]; 6]> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let part = &part;
                s.spawn(move || part((k * per).min(n)..((k + 1) * per).min(n)))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("figures"))
            .collect()
    });
    let mut out = [[0.0f64; 2]; 6];
    for p in parts {
        for z in 0..6 {
            out[z][0] += p[z][0];
            out[z][1] += p[z][1];
        }
    }
    out
}

/// Figures for a laid-out plan (`dots` from [`super::lay_out_on`] with the same arguments).
pub fn plan_figures(
    head: &Head,
    plan: &Plan,
    scalp: &dyn ScalpState,
    dots: &[Dot],
) -> Result<PlanFigures, LayoutError> {
    let map = TreatmentMap::new(head, plan, scalp)?;
    let areas = zone_areas_mm2(head, &map);
    let sessions_n = plan.sessions.len();
    let mut per_zone = [[0usize; sessions::MAX_SESSIONS]; 6];
    for d in dots {
        // Dots lie where the weight is above 0; float noise at the very edge can put one a
        // hair outside: it counts with the zone nearest in priority, mid-scalp.
        let zone = map
            .sample(d.position_mm)
            .map_or(ZoneName::MidScalp, |s| s.zone);
        per_zone[zone.index()][(d.session as usize).clamp(1, sessions_n) - 1] += 1;
    }
    let rate = plan.impressions_per_hour as f64;
    let zones = ZoneName::ALL
        .iter()
        .filter_map(|&z| {
            let [area, effective] = areas[z.index()];
            let counts = &per_zone[z.index()][..sessions_n];
            let dots: usize = counts.iter().sum();
            // Zones the plan does not reach on this head (less than 1 mm², no dots) are left out.
            if area < 1.0 && dots == 0 {
                return None;
            }
            Some(ZoneFigures {
                name: z.as_str(),
                area_cm2: area / 100.0,
                effective_area_cm2: effective / 100.0,
                requested_density_per_cm2: map.zone(z).density_per_cm2 as f64,
                realized_density_per_cm2: if effective > 0.0 {
                    100.0 * dots as f64 / effective
                } else {
                    0.0
                },
                dots,
                dots_per_session: counts.to_vec(),
            })
        })
        .collect();
    let sessions = sessions::session_counts(&plan.sessions, dots.len())
        .into_iter()
        .enumerate()
        .map(|(i, n)| SessionFigures {
            index: i + 1,
            dots: n,
            needle_hours: n as f64 / rate,
        })
        .collect();
    Ok(PlanFigures {
        dots_total: dots.len(),
        treated_area_cm2: areas.iter().map(|a| a[0]).sum::<f64>() / 100.0,
        zones,
        sessions,
        impressions_per_hour: rate,
        needle_hours: dots.len() as f64 / rate,
    })
}
