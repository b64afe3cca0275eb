//! The plan measured on one client's head: for any point of the scalp, which zone it is in and
//! how much pigment it gets. The layout stage places dots by [`TreatmentMap::weight`] and
//! dresses them from [`TreatmentMap::sample`].

use super::condition::ScalpState;
use super::zones::{ResolvedZone, ZoneName, ZoneTable};
use super::{Plan, PlanError, TreatedRegion};
use crate::head::Head;
use glam::Vec3;

/// Where pigment goes relative to the client's own hair.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Coverage {
    /// Where the client has lost hair, feathering into what remains: density × (native hair
    /// fraction - hair fraction), inside the hairline.
    HairLoss,
    /// The whole scalp inside the hairline, hair or not (density behind hair, and clients
    /// who keep the whole head shaved).
    FullScalp,
}

impl Coverage {
    pub fn parse(s: &str) -> Option<Coverage> {
        match s {
            "hair-loss" => Some(Coverage::HairLoss),
            "full-scalp" => Some(Coverage::FullScalp),
            _ => None,
        }
    }
}

/// Hair fraction from which a point counts as the blend zone (SMP feathering into hair).
pub const BLEND_MIN_HAIR: f32 = 0.5;
/// The hairline zone runs down the temples to this far (radians of azimuth) beyond the
/// temple points, so the corners are worked like the front.
const HAIRLINE_ZONE_AZIMUTH_PAD: f32 = 0.12;

/// What the plan asks for at one point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TreatmentSample {
    pub zone: ZoneName,
    /// The hairline's transition weight times the hair-loss coverage: 0-1, how far the point
    /// is into the treated area. Dot size and shade fall off with it.
    pub shape_weight: f32,
}

/// A plan on a head, with the client's condition.
pub struct TreatmentMap<'a> {
    region: TreatedRegion,
    scalp: &'a dyn ScalpState,
    table: ZoneTable,
    coverage: Coverage,
    /// Zone density over the highest zone density, per zone.
    density_ratio: [f32; 6],
    crown_dir: Vec3,
    crown_radius_mm: f32,
    hairline_band_mm: f32,
    front_end_mm: f32,
    scar_margin_mm: f32,
    /// Azimuth (rad) of the hairline zone's lateral ends.
    hairline_azimuth: f32,
    /// Whether the weight is the hairline's weight alone (no zones of other densities, no
    /// hair): the layout can then use the hairline's own fast region.
    plain: bool,
}

/// The crown whorl: behind the vertex, about a third of the way to the occiput.
pub fn crown_direction(head: &Head, center: Vec3) -> Vec3 {
    let dir = |p: Vec3| (p - center).normalize_or(Vec3::Y);
    dir(head.landmarks.top_of_head)
        .slerp(dir(head.landmarks.occiput), 0.35)
        .normalize()
}

impl<'a> TreatmentMap<'a> {
    /// Measures the plan on `head` for a client whose scalp is `scalp`.
    pub fn new(
        head: &Head,
        plan: &Plan,
        scalp: &'a dyn ScalpState,
    ) -> Result<TreatmentMap<'a>, PlanError> {
        plan.validate()?;
        let region = TreatedRegion::new(head, &plan.hairline, plan.seed)?;
        let table = plan.zone_table();
        let max = table.max_density_per_cm2();
        let density_ratio = table.zones.map(|z| z.density_per_cm2 / max);
        let g = plan.zone_geometry;
        let crown_dir = crown_direction(head, region.frame().center);
        let hairline_azimuth = region
            .control_points()
            .iter()
            .filter(|c| c.kind == super::hairline::HairlinePointKind::TemplePoint)
            .map(|c| c.azimuth.abs())
            .fold(0.0f32, f32::max)
            + HAIRLINE_ZONE_AZIMUTH_PAD;
        let plain = (scalp.bald_everywhere() || plan.coverage == Coverage::FullScalp)
            && density_ratio.iter().all(|&r| r == 1.0);
        let map = TreatmentMap {
            scalp,
            table,
            coverage: plan.coverage,
            density_ratio,
            crown_dir,
            crown_radius_mm: g.crown_radius_mm,
            hairline_band_mm: g.hairline_band_mm,
            front_end_mm: g.hairline_band_mm + g.front_mm,
            scar_margin_mm: g.scar_margin_mm,
            hairline_azimuth,
            plain,
            region,
        };
        map.check_overlaps()?;
        Ok(map)
    }

    /// The crown disc may reach forward into the front zone on a small head or with a large
    /// radius; where the two ask for different settings, which one wins would be an accident
    /// of priority, so it is an error.
    fn check_overlaps(&self) -> Result<(), PlanError> {
        let crown = self.table.get(ZoneName::Crown);
        let front = self.table.get(ZoneName::Front);
        if same_settings(crown, front) {
            return Ok(());
        }
        let frame = self.region.frame();
        let r = self.region.mid_frontal_point().distance(frame.center);
        let crown_point = frame.center + r * self.crown_dir;
        let crown_at = self.region.meridian_distance_mm(crown_point);
        let overlap = self.front_end_mm - (crown_at - self.crown_radius_mm);
        if overlap > 0.0 {
            return Err(PlanError::ZonesOverlap {
                a: "crown",
                b: "front",
                overlap_mm: overlap,
                fix: format!(
                    "make the crown's radius_mm at most {:.0} or the front's extent_mm at most \
                     {:.0}, or give them the same settings",
                    (crown_at - self.front_end_mm).max(0.0),
                    (crown_at - self.crown_radius_mm - self.hairline_band_mm).max(0.0),
                ),
            });
        }
        Ok(())
    }

    pub fn region(&self) -> &TreatedRegion {
        &self.region
    }

    pub fn into_region(self) -> TreatedRegion {
        self.region
    }

    pub fn zones(&self) -> &ZoneTable {
        &self.table
    }

    /// True when the weight is the hairline region's own (see the field).
    pub fn is_plain(&self) -> bool {
        self.plain
    }

    /// The zone a treated point belongs to.
    fn zone_at(&self, p: Vec3, hair: f32) -> ZoneName {
        if hair >= BLEND_MIN_HAIR {
            return ZoneName::Blend;
        }
        let behind = self.region.meridian_distance_mm(p);
        let (az, _) = self.region.frame().angles(p);
        if az.abs() < self.hairline_azimuth && behind < self.hairline_band_mm {
            return ZoneName::Hairline;
        }
        let d = (p - self.region.frame().center).normalize_or(Vec3::Y);
        let r = p.distance(self.region.frame().center);
        if d.dot(self.crown_dir).clamp(-1.0, 1.0).acos() * r < self.crown_radius_mm {
            return ZoneName::Crown;
        }
        if az.abs() < std::f32::consts::FRAC_PI_2 && behind < self.front_end_mm {
            return ZoneName::Front;
        }
        ZoneName::MidScalp
    }

    /// Zone and shape weight at `p`, or None where it gets no pigment.
    pub fn sample(&self, p: Vec3) -> Option<TreatmentSample> {
        let w = self.region.weight(p);
        if w <= 0.0 {
            return None;
        }
        let hair = self.scalp.hair_fraction(p);
        let mut cover = match self.coverage {
            Coverage::HairLoss => (self.scalp.native_hair_fraction(p) - hair).max(0.0),
            Coverage::FullScalp => 1.0,
        };
        // Scars are camouflaged with a margin worked into the hair around them, fading out.
        let scar_mm = self.scalp.scar_distance_mm(p);
        if scar_mm < self.scar_margin_mm {
            let t = (scar_mm / self.scar_margin_mm.max(1e-3)).clamp(0.0, 1.0);
            cover = cover.max(1.0 - t * t * (3.0 - 2.0 * t));
        }
        let shape_weight = w * cover;
        if shape_weight <= 0.0 {
            return None;
        }
        let zone = if scar_mm < self.scar_margin_mm {
            ZoneName::Scar
        } else {
            self.zone_at(p, hair)
        };
        Some(TreatmentSample { zone, shape_weight })
    }

    /// Dot density at `p` over the highest zone density: what the layout places dots by.
    pub fn weight(&self, p: Vec3) -> f32 {
        if self.plain {
            return self.region.weight(p);
        }
        self.sample(p)
            .map_or(0.0, |s| s.shape_weight * self.density_ratio[s.zone.index()])
    }

    pub fn zone(&self, z: ZoneName) -> &ResolvedZone {
        self.table.get(z)
    }
}

fn same_settings(a: &ResolvedZone, b: &ResolvedZone) -> bool {
    a.density_per_cm2 == b.density_per_cm2
        && a.dot_diameter_mm == b.dot_diameter_mm
        && a.depth_mm == b.depth_mm
        && a.shade == b.shade
        && a.needle == b.needle
}
