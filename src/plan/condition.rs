//! The client's scalp before treatment: where native hair remains and where scar tissue is.
//!
//! Plain data for the later stages: the layout reads it to place dots (and to blend them into
//! thinning hair), the renderer to draw stubble, the grey of hair under the skin, and scars.
//!
//! Hair-loss patterns are a geometric model of the Hamilton-Norwood and Ludwig scales, not a
//! measurement: each stage is a frontal recession (at the midline and at the temples), a
//! vertex (crown) bald spot and, from stage VI, a top bald down to the horseshoe fringe,
//! each with a soft thinning margin. Figures per stage are in [`NorwoodStage::shape`].

use super::PlanError;
use super::hairline::{Hairline, HeadFrame, TreatedRegion};
use crate::head::Head;
use glam::Vec3;
use rand::{RngExt, SeedableRng};
use std::f32::consts::PI;

/// What the scalp is like at a point, before any pigment. Implementations are cheap to
/// evaluate (the renderer bakes them into maps; the stubble layout samples them per hair).
pub trait ScalpState: Sync {
    /// Fraction of the client's native hair density growing at `p` (head space, mm, on the
    /// skin): 1 = full density, 0 = bald. The face (below the natural hair fringe) is 0.
    fn hair_fraction(&self, p: Vec3) -> f32;
    /// Scar tissue at `p`: 1 = fully scarred skin (paler, smoother, hairless), 0 = none.
    fn scar_tissue(&self, p: Vec3) -> f32;
    /// Distance (mm along the skin) from `p` to the nearest scar's edge, negative inside a
    /// scar, infinite without scars: the scar zone is a margin around them.
    fn scar_distance_mm(&self, _p: Vec3) -> f32 {
        f32::INFINITY
    }
    /// True when there is no hair and no scar anywhere (lets the layout take its fast path).
    fn bald_everywhere(&self) -> bool {
        false
    }
    /// Fraction of full hair density that grew at `p` before any loss: 1 on the natural
    /// hair-bearing scalp, 0 on the face, ears and neck. Pigment for hair loss goes where
    /// this exceeds [`ScalpState::hair_fraction`].
    fn native_hair_fraction(&self, _p: Vec3) -> f32 {
        1.0
    }
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
    fn bald_everywhere(&self) -> bool {
        true
    }
}

/// Hamilton-Norwood stage, I to VII, with the anterior (A) and vertex variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NorwoodStage {
    /// 1-7.
    pub stage: u8,
    pub variant: NorwoodVariant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NorwoodVariant {
    Classic,
    /// Type A: the whole front recedes evenly, no island of hair, little crown loss (II-V).
    Anterior,
    /// III vertex: stage III temples with a bald crown.
    Vertex,
}

/// The geometry of a stage in millimetres of scalp (see [`NorwoodStage::shape`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossShape {
    /// How far the frontal hairline has moved back on the midline.
    pub front_recession_mm: f32,
    /// Extra recession at the frontotemporal corners (the "M").
    pub temple_recession_mm: f32,
    /// Radius of the bald crown (0: none).
    pub vertex_radius_mm: f32,
    /// From stage VI: the top is bald down to this height above the ear tops (the sides of
    /// the horseshoe) ...
    pub fringe_side_mm: Option<f32>,
    /// ... and this height above the occiput (its back).
    pub fringe_back_mm: f32,
}

impl NorwoodStage {
    /// Parses "norwood-3", "norwood-3a", "norwood-3v" (vertex), "norwood-6", ...
    pub fn parse(s: &str) -> Option<NorwoodStage> {
        let rest = s.strip_prefix("norwood-")?;
        let (num, variant) = match rest.as_bytes() {
            [n] => (*n, NorwoodVariant::Classic),
            [n, b'a'] => (*n, NorwoodVariant::Anterior),
            [n, b'v'] => (*n, NorwoodVariant::Vertex),
            _ => return None,
        };
        let stage = num.checked_sub(b'0')?;
        let ok = match variant {
            NorwoodVariant::Classic => (1..=7).contains(&stage),
            NorwoodVariant::Anterior => (2..=5).contains(&stage),
            NorwoodVariant::Vertex => stage == 3,
        };
        ok.then_some(NorwoodStage { stage, variant })
    }

    /// Millimetres per stage: a model drawn from the Hamilton-Norwood plates (recession
    /// deepening by about 1-2 cm a stage, the crown opening from III vertex, the bridge
    /// between front and crown gone at VI, only a horseshoe left at VII).
    pub fn shape(&self) -> LossShape {
        let (front, temple, vertex, fringe) = match (self.stage, self.variant) {
            (1, _) => (0.0, 4.0, 0.0, None),
            (2, NorwoodVariant::Anterior) => (15.0, 8.0, 0.0, None),
            (2, _) => (4.0, 18.0, 0.0, None),
            (3, NorwoodVariant::Anterior) => (30.0, 12.0, 0.0, None),
            (3, NorwoodVariant::Vertex) => (8.0, 32.0, 32.0, None),
            (3, _) => (8.0, 34.0, 0.0, None),
            (4, NorwoodVariant::Anterior) => (50.0, 14.0, 0.0, None),
            (4, _) => (22.0, 42.0, 40.0, None),
            (5, NorwoodVariant::Anterior) => (75.0, 16.0, 20.0, None),
            (5, _) => (40.0, 52.0, 55.0, None),
            (6, _) => (70.0, 55.0, 70.0, Some(60.0)),
            _ => (90.0, 60.0, 80.0, Some(45.0)),
        };
        LossShape {
            front_recession_mm: front,
            temple_recession_mm: temple,
            vertex_radius_mm: vertex,
            fringe_side_mm: fringe,
            fringe_back_mm: fringe.map_or(0.0, |f| 0.5 * f),
        }
    }
}

/// The pattern of hair loss over the whole scalp.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HairLossPattern {
    /// Full native hair (scars or alopecia patches only).
    None,
    Norwood(NorwoodStage),
    /// Ludwig I-III: diffuse thinning over the top, frontal hairline kept.
    Ludwig(u8),
    /// Alopecia totalis: no hair on the scalp at all.
    Totalis,
}

impl HairLossPattern {
    /// Parses the scene's `pattern` value.
    pub fn parse(s: &str) -> Option<HairLossPattern> {
        match s {
            "none" => Some(HairLossPattern::None),
            "totalis" => Some(HairLossPattern::Totalis),
            "ludwig-1" => Some(HairLossPattern::Ludwig(1)),
            "ludwig-2" => Some(HairLossPattern::Ludwig(2)),
            "ludwig-3" => Some(HairLossPattern::Ludwig(3)),
            _ => NorwoodStage::parse(s).map(HairLossPattern::Norwood),
        }
    }

    pub const NAMES: &'static str = "none, norwood-1 ... norwood-7 (with norwood-2a ... \
         norwood-5a and norwood-3v), ludwig-1, ludwig-2, ludwig-3 or totalis";
}

/// A round patch of alopecia areata: bald, with a short soft margin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AlopeciaPatch {
    /// Where its centre is seen from the cranium centre: 0 = the face, 90 = the client's
    /// left, 180 = the back.
    pub azimuth_deg: f32,
    /// Above the horizontal through the cranium centre (90 = the top).
    pub elevation_deg: f32,
    pub radius_mm: f32,
}

/// A scar to camouflage.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scar {
    /// Follicular unit transplantation donor strip: a line scar across the back of the head.
    FutStrip {
        width_mm: f32,
        length_mm: f32,
        /// Height of its centre line above the occiput, along the skin.
        above_occiput_mm: f32,
    },
    /// Follicular unit extraction: punctate round scars scattered over the donor area
    /// (back and sides), spread out as surgeons spread extractions.
    Fue { count: u32, diameter_mm: f32 },
}

/// The client's condition as the scene gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct HairLoss {
    pub pattern: HairLossPattern,
    pub patches: Vec<AlopeciaPatch>,
    pub scars: Vec<Scar>,
    /// Where the client's own hair once started, above the glabella (mm): the boundary of
    /// the hair-bearing scalp before any loss.
    pub native_hairline_height_mm: f32,
}

impl Default for HairLoss {
    /// A bald, unscarred scalp: the whole scalp is open to treatment.
    fn default() -> Self {
        Self {
            pattern: HairLossPattern::Totalis,
            patches: Vec::new(),
            scars: Vec::new(),
            native_hairline_height_mm: 70.0,
        }
    }
}

/// Thinning margin of Norwood bald areas (mm): hair density falls over this width.
const NORWOOD_MARGIN_MM: f32 = 14.0;
/// Ludwig thinning fades in over this width around the thinning area (mm).
const LUDWIG_MARGIN_MM: f32 = 30.0;
/// Alopecia areata patches have sharp-ish margins (mm).
const PATCH_MARGIN_MM: f32 = 4.0;
/// Scar edges: scar tissue fades into normal skin over this width (mm).
const SCAR_EDGE_MM: f32 = 0.6;
/// Ludwig stages: (hair lost at the centre of the thinning area, its radius in mm).
const LUDWIG: [(f32, f32); 3] = [(0.35, 45.0), (0.6, 62.0), (0.85, 78.0)];
/// The frontal recession fades out between these azimuths (rad, about 50-72 degrees from
/// the face): past the temples, the sides keep their hair until the fringe stages.
const FRONT_FADE_RAD: [f32; 2] = [0.87, 1.25];
/// Ludwig keeps a band of full hair behind the frontal hairline this wide (mm).
const LUDWIG_FRONT_BAND_MM: f32 = 15.0;

/// A [`HairLoss`] measured on one head: the [`ScalpState`] the layout and renderer use.
#[derive(Clone, Debug)]
pub struct ScalpCondition {
    frame: HeadFrame,
    /// The native hairline's region; none on a scalp bald everywhere, where there is no hair
    /// to bound (it cost ~4% of a layout's CPU for nothing).
    native: Option<TreatedRegion>,
    pattern: HairLossPattern,
    shape: Option<LossShape>,
    /// Direction of the crown (vertex of the whorl) from the cranium centre.
    crown_dir: Vec3,
    /// Direction of the top of the thinning area (Ludwig).
    top_dir: Vec3,
    /// Elevations (rad) of the ear tops and the occiput, for the horseshoe fringe.
    el_ear: f32,
    az_ear: f32,
    el_occiput: f32,
    /// Patches: unit direction, radius (mm).
    patches: Vec<(Vec3, f32)>,
    fut: Vec<FutLine>,
    fue: Option<FueField>,
}

#[derive(Clone, Debug)]
struct FutLine {
    /// Centre line elevation (rad) and half length as an azimuth span from the back (rad).
    elevation: f32,
    half_span: f32,
    half_width_mm: f32,
}

/// FUE scars on a jittered grid in (azimuth, elevation): at most one per cell, so a lookup
/// checks the 3x3 cells around a point.
#[derive(Clone, Debug)]
struct FueField {
    az0: f32,
    el0: f32,
    cell: f32,
    cols: usize,
    rows: usize,
    /// Per cell: the scar's direction, or none.
    scars: Vec<Option<Vec3>>,
    radius_mm: f32,
}

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// 1 inside `r`, 0 outside `r + margin`, smooth between.
fn disc(dist: f32, r: f32, margin: f32) -> f32 {
    1.0 - smoothstep(r - 0.5 * margin, r + 0.5 * margin, dist)
}

impl ScalpCondition {
    pub fn new(head: &Head, loss: &HairLoss, seed: u64) -> Result<ScalpCondition, PlanError> {
        let frame = HeadFrame::new(head)?;
        let native_hairline = Hairline {
            height_above_glabella_mm: loss.native_hairline_height_mm,
            transition_mm: 6.0,
            temple_recession_mm: 10.0,
            irregularity_mm: 2.0,
            ..Hairline::default()
        };
        let bald_everywhere = loss.pattern == HairLossPattern::Totalis
            && loss.patches.is_empty()
            && loss.scars.is_empty();
        let native = if bald_everywhere {
            None
        } else {
            Some(TreatedRegion::new(head, &native_hairline, seed ^ 0x4a17)?)
        };
        let lm = &head.landmarks;
        let dir = |p: Vec3| (p - frame.center).normalize_or(frame.up);
        let top = dir(lm.top_of_head);
        let crown_dir = super::treatment::crown_direction(head, frame.center);
        // Ludwig thinning centres on the parting, a little in front of the vertex.
        let top_dir = native.as_ref().map_or(top, |native| {
            top.slerp(dir(native.mid_frontal_point()), 0.2).normalize()
        });
        let (az_l, el_l) = frame.angles(lm.ear_left);
        let (az_r, el_r) = frame.angles(lm.ear_right);
        let (_, el_occiput) = frame.angles(lm.occiput);
        let r_back = (lm.occiput - frame.center).length();
        let patches = loss
            .patches
            .iter()
            .map(|p| {
                (
                    frame.direction(p.azimuth_deg.to_radians(), p.elevation_deg.to_radians()),
                    p.radius_mm,
                )
            })
            .collect();
        let mut fut = Vec::new();
        let mut fue = None;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0xf0e5_ca75);
        for scar in &loss.scars {
            match *scar {
                Scar::FutStrip {
                    width_mm,
                    length_mm,
                    above_occiput_mm,
                } => {
                    let elevation = el_occiput + above_occiput_mm / r_back;
                    let rho = r_back * elevation.cos();
                    fut.push(FutLine {
                        elevation,
                        half_span: (0.5 * length_mm / rho).min(PI * 0.95),
                        half_width_mm: 0.5 * width_mm,
                    });
                }
                Scar::Fue { count, diameter_mm } => {
                    // The donor area: behind the ears, from the nape up to 4 cm above the
                    // occiput, and over the sides above the ears.
                    let az_ear = 0.5 * (az_l.abs() + az_r.abs());
                    let el_lo = el_occiput - 25.0 / r_back;
                    let el_hi = el_occiput + 40.0 / r_back;
                    let az0 = az_ear - 0.25;
                    let span_az = 2.0 * (PI - az0);
                    let span_el = el_hi - el_lo;
                    let cell = (span_az * span_el / count.max(1) as f32).sqrt();
                    let cols = (span_az / cell).ceil() as usize;
                    let rows = (span_el / cell).ceil() as usize;
                    let mut scars = vec![None; cols * rows];
                    // Fill a random subset of cells: exactly `count` when there are enough.
                    let mut cells: Vec<usize> = (0..cols * rows).collect();
                    for i in 0..(count as usize).min(cells.len()) {
                        let j = rng.random_range(i..cells.len());
                        cells.swap(i, j);
                        let c = cells[i];
                        let (cx, cy) = ((c % cols) as f32, (c / cols) as f32);
                        let az = az0 + (cx + 0.15 + 0.7 * rng.random::<f32>()) * cell;
                        let el = el_lo + (cy + 0.15 + 0.7 * rng.random::<f32>()) * cell;
                        scars[c] = Some(frame.direction(az, el));
                    }
                    fue = Some(FueField {
                        az0,
                        el0: el_lo,
                        cell,
                        cols,
                        rows,
                        scars,
                        radius_mm: 0.5 * diameter_mm,
                    });
                }
            }
        }
        Ok(ScalpCondition {
            frame,
            native,
            pattern: loss.pattern,
            shape: match loss.pattern {
                HairLossPattern::Norwood(s) => Some(s.shape()),
                _ => None,
            },
            crown_dir,
            top_dir,
            el_ear: 0.5 * (el_l + el_r),
            az_ear: 0.5 * (az_l.abs() + az_r.abs()),
            el_occiput,
            patches,
            fut,
            fue,
        })
    }

    /// The head frame the condition is measured in.
    pub fn frame(&self) -> &HeadFrame {
        &self.frame
    }

    /// How bald the pattern makes `p` (0 = full hair, 1 = bald), before patches and scars.
    fn pattern_loss(
        &self,
        native: &TreatedRegion,
        p: Vec3,
        d: Vec3,
        az: f32,
        el: f32,
        r: f32,
    ) -> f32 {
        match self.pattern {
            HairLossPattern::None => 0.0,
            HairLossPattern::Totalis => 1.0,
            HairLossPattern::Ludwig(stage) => {
                let (loss, radius) = LUDWIG[(stage.clamp(1, 3) - 1) as usize];
                let dist = d.dot(self.top_dir).clamp(-1.0, 1.0).acos() * r;
                let front = smoothstep(
                    0.5 * LUDWIG_FRONT_BAND_MM,
                    1.5 * LUDWIG_FRONT_BAND_MM,
                    native.meridian_distance_mm(p),
                );
                loss * disc(dist, radius, LUDWIG_MARGIN_MM) * front
            }
            HairLossPattern::Norwood(_) => {
                let s = self.shape.expect("norwood shape");
                // Frontal recession, an "M" that deepens toward the temples and fades out
                // before the ears (the sides keep their hair until the fringe stages).
                let az_abs = az.abs();
                let temple = (az_abs / 0.75).clamp(0.0, 1.0).powi(2);
                let fade = 1.0 - smoothstep(FRONT_FADE_RAD[0], FRONT_FADE_RAD[1], az_abs);
                let recession = (s.front_recession_mm + s.temple_recession_mm * temple) * fade;
                let behind = native.meridian_distance_mm(p);
                let front = if recession > 0.0 {
                    1.0 - smoothstep(
                        recession - 0.5 * NORWOOD_MARGIN_MM,
                        recession + 0.5 * NORWOOD_MARGIN_MM,
                        behind,
                    )
                } else {
                    0.0
                };
                let crown = if s.vertex_radius_mm > 0.0 {
                    let dist = d.dot(self.crown_dir).clamp(-1.0, 1.0).acos() * r;
                    disc(dist, s.vertex_radius_mm, NORWOOD_MARGIN_MM)
                } else {
                    0.0
                };
                let top = match s.fringe_side_mm {
                    Some(side) => {
                        // The horseshoe's upper edge: above the ears at the sides, lower over
                        // the back.
                        let t = smoothstep(self.az_ear, PI, az_abs);
                        let el_side = self.el_ear + side / r;
                        let el_back = self.el_occiput + s.fringe_back_mm / r;
                        let el_fringe = el_side + t * (el_back - el_side);
                        let above = (el - el_fringe) * r;
                        smoothstep(-0.5 * NORWOOD_MARGIN_MM, 0.5 * NORWOOD_MARGIN_MM, above)
                    }
                    None => 0.0,
                };
                if s.fringe_side_mm.is_some() {
                    // Front and crown have merged: everything above the horseshoe is bald,
                    // and the fringe runs forward level into the temples and sideburns.
                    top
                } else {
                    front.max(crown)
                }
            }
        }
    }

    fn nearest_scar_mm(&self, p: Vec3) -> f32 {
        let rel = p - self.frame.center;
        let r = rel.length().max(1.0);
        let d = rel / r;
        let (az, el) = self.frame.angles(p);
        let mut best = f32::INFINITY;
        for line in &self.fut {
            let from_back = PI - az.abs();
            let rho = r * el.cos().max(0.05);
            let along = ((from_back - line.half_span) * rho).max(0.0);
            let across = ((el - line.elevation) * r).abs();
            best = best.min(along.hypot(across) - line.half_width_mm);
        }
        if let Some(f) = &self.fue {
            let az_from = if az < 0.0 { az + 2.0 * PI } else { az };
            let cx = ((az_from - f.az0) / f.cell).floor() as isize;
            let cy = ((el - f.el0) / f.cell).floor() as isize;
            for y in cy - 1..=cy + 1 {
                for x in cx - 1..=cx + 1 {
                    if x < 0 || y < 0 || x >= f.cols as isize || y >= f.rows as isize {
                        continue;
                    }
                    if let Some(s) = f.scars[y as usize * f.cols + x as usize] {
                        let dist = d.dot(s).clamp(-1.0, 1.0).acos() * r;
                        best = best.min(dist - f.radius_mm);
                    }
                }
            }
        }
        best
    }
}

impl ScalpState for ScalpCondition {
    fn hair_fraction(&self, p: Vec3) -> f32 {
        // Bald everywhere: no native region, no hair.
        let Some(region) = &self.native else {
            return 0.0;
        };
        let native = region.weight(p);
        if native <= 0.0 {
            return 0.0;
        }
        let rel = p - self.frame.center;
        let r = rel.length().max(1.0);
        let d = rel / r;
        let (az, el) = self.frame.angles(p);
        let mut hair = native * (1.0 - self.pattern_loss(region, p, d, az, el, r));
        for &(c, radius) in &self.patches {
            let dist = d.dot(c).clamp(-1.0, 1.0).acos() * r;
            hair *= 1.0 - disc(dist, radius, PATCH_MARGIN_MM);
        }
        if hair > 0.0 && (!self.fut.is_empty() || self.fue.is_some()) {
            hair *= 1.0 - self.scar_tissue(p);
        }
        hair.clamp(0.0, 1.0)
    }

    fn scar_tissue(&self, p: Vec3) -> f32 {
        if self.fut.is_empty() && self.fue.is_none() {
            return 0.0;
        }
        1.0 - smoothstep(
            -0.5 * SCAR_EDGE_MM,
            0.5 * SCAR_EDGE_MM,
            self.nearest_scar_mm(p),
        )
    }

    fn scar_distance_mm(&self, p: Vec3) -> f32 {
        self.nearest_scar_mm(p)
    }

    fn native_hair_fraction(&self, p: Vec3) -> f32 {
        // Nothing to blend into: like a bald scalp, the plan's hairline alone bounds the
        // treatment (and the layout takes its fast path).
        match &self.native {
            Some(native) if !self.bald_everywhere() => native.weight(p),
            _ => 1.0,
        }
    }

    fn bald_everywhere(&self) -> bool {
        self.pattern == HairLossPattern::Totalis
            && self.patches.is_empty()
            && self.fut.is_empty()
            && self.fue.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_stage_name() {
        for s in 1..=7 {
            assert!(HairLossPattern::parse(&format!("norwood-{s}")).is_some());
        }
        assert!(HairLossPattern::parse("norwood-3v").is_some());
        assert!(HairLossPattern::parse("norwood-4a").is_some());
        assert!(HairLossPattern::parse("norwood-7a").is_none());
        assert!(HairLossPattern::parse("norwood-8").is_none());
        assert!(HairLossPattern::parse("ludwig-2").is_some());
        assert!(HairLossPattern::parse("ludwig-4").is_none());
    }

    #[test]
    fn stages_lose_more_hair() {
        let mut prev = 0.0;
        for s in 1..=7 {
            let sh = NorwoodStage::parse(&format!("norwood-{s}"))
                .unwrap()
                .shape();
            let total = sh.front_recession_mm + sh.temple_recession_mm + sh.vertex_radius_mm;
            assert!(total >= prev, "stage {s}");
            prev = total;
        }
    }
}
