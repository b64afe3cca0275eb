//! The hairline and the treated region it bounds.
//!
//! This first version treats the whole scalp (a Norwood VI/VII client, shaved): the region
//! is everything above a hairline that runs all around the head. The hairline lives in an
//! angular frame about the cranium centre: azimuth around the vertical (0 = the face, +π/2 =
//! the client's left) and elevation above the horizontal. For every azimuth it is one
//! boundary elevation, interpolated through control points measured on the mesh from the
//! landmarks (mid-frontal point, frontotemporal corners, temple points, above the ears, the
//! nape), plus seeded hand-drawn irregularity. The weight falls smoothly across a transition
//! zone centred on that line, measured in millimetres along the surface.

use super::PlanError;
use crate::head::mesh::ray_triangle;
use crate::head::{Head, TriMesh};
use glam::Vec3;
use rand::{RngExt, SeedableRng};
use std::f32::consts::{FRAC_PI_2, PI, TAU};

/// Lowest accepted mid-frontal point: anything lower sits on the forehead just above the
/// brows (the brief: 7-10 cm is the norm).
pub const MIN_HAIRLINE_HEIGHT_MM: f32 = 50.0;
/// Highest accepted mid-frontal point: past this the "hairline" is on the crown.
pub const MAX_HAIRLINE_HEIGHT_MM: f32 = 130.0;
pub const MAX_TRANSITION_MM: f32 = 40.0;
pub const MAX_TEMPLE_RECESSION_MM: f32 = 50.0;
pub const MAX_IRREGULARITY_MM: f32 = 10.0;
pub const MAX_WIDOWS_PEAK_MM: f32 = 20.0;
pub const MAX_TEMPLE_POINT_MM: f32 = 25.0;
/// Half-width (mm along the hairline) of a widow's peak.
const WIDOWS_PEAK_HALF_WIDTH_MM: f32 = 14.0;
/// The natural fringe kept around the ear: the boundary runs this far above the ear top.
pub const EAR_CLEARANCE_MM: f32 = 15.0;
/// Half the front-to-back span over which the boundary stays at ear-clearance height, so the
/// helix (which rises above the ear-top landmark) never gets dots.
pub const EAR_HALF_SPAN_MM: f32 = 25.0;
/// Temporal point: this far lateral (horizontally) of the frontotemporal corner.
pub const TEMPLE_POINT_OFFSET_MM: f32 = 10.0;
/// The frontotemporal corner stays in front of this share of the azimuth of the ear's
/// front (high hairlines on narrow crowns would otherwise put it over the ear).
const CORNER_MAX_SHARE_OF_EAR_AZIMUTH: f32 = 0.8;
/// Nape line on the back midline, measured down along the surface from the occiput.
pub const NAPE_BELOW_OCCIPUT_MM: f32 = 30.0;

/// Boundary table resolution: about 0.6 mm of hairline per entry on an adult head.
const TABLE_SIZE: usize = 1024;
/// Irregularity octaves: (wavelength along the hairline in mm, share of the amplitude).
/// Large waves break the drawn-with-a-ruler look, the finest ones the clean edge.
const NOISE_OCTAVES: [(f32, f32); 3] = [(60.0, 0.55), (20.0, 0.30), (7.0, 0.15)];
/// The irregularity is faded out this close (mm along the hairline) to the mid-frontal point,
/// so that the measured height the practitioner asked for is honoured exactly.
const MID_FRONTAL_PIN_MM: f32 = 20.0;
/// Elevation step of the surface walks: 0.25° is about 0.4 mm of scalp.
const WALK_STEP_RAD: f32 = 0.25 * PI / 180.0;
/// Half-step of the finite difference that measures mm of surface per radian of elevation.
const SLOPE_STEP_RAD: f32 = 0.5 * PI / 180.0;
/// Safety factor on the gradient bound of the signed distance (interpolation, faceting).
const LIPSCHITZ_SAFETY: f32 = 1.25;
/// The distance field is exact up to this far beyond the transition zone, then clamped.
const DISTANCE_RANGE_MM: f32 = 16.0;
/// Elevation step of the distance field: 0.3° is about 0.4 mm of scalp.
const FIELD_ROW_RAD: f32 = 0.3 * PI / 180.0;
/// Stored distances are i16 in these units (half the memory of f32, so the table stays in
/// cache).
const FIELD_UNIT_MM: f32 = 0.01;
/// [`TreatedRegion::uniform_weight`]'s allowances: on angles, for fast_atan2's error
/// (< 2e-5 rad) and f32 rounding of the point; on the distance (mm), for rounding in the
/// interpolation and in the weight's arithmetic; and the least distance (mm) from the
/// vertical axis through the centre at which azimuths are bounded.
const UNIFORM_ANGLE_PAD: f64 = 1e-4;
const UNIFORM_MARGIN_MM: f32 = 0.1;
const UNIFORM_MIN_AXIS_MM: f64 = 2.0;

/// A hairline measured on the head from its landmarks.
#[derive(Clone, Debug, PartialEq)]
pub struct Hairline {
    /// Mid-frontal point above the glabella, measured along the surface (Garg: 80 mm).
    pub height_above_glabella_mm: f32,
    /// Width of the soft zone in which density, dot size and shade fall off.
    pub transition_mm: f32,
    /// How far the frontotemporal corners sit behind the mid-frontal line.
    pub temple_recession_mm: f32,
    /// Amplitude of the hand-drawn irregularity of the edge.
    pub irregularity_mm: f32,
    /// How the line runs from the mid-frontal point to the corners.
    pub shape: HairlineShape,
    /// Depth of a widow's peak: the midline dips this far toward the brows (0 = none). The
    /// mid-frontal height is measured to the line without it.
    pub widows_peak_mm: f32,
    /// Temporal point: this far lateral of the frontotemporal corner (the brief: about 1 cm).
    pub temple_point_mm: f32,
    /// Corners and temple points pinned on the skin (drawn in the viewer's design mode); the
    /// rules above place any that are not.
    pub points: PinnedPoints,
}

/// Control points placed by hand, in head space (mm, +Y up, +Z the face, +X the client's
/// left). Each is taken as the surface point in its direction from the cranium centre, so a
/// point read back from a file lands where it was drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PinnedPoints {
    pub left_corner: Option<Vec3>,
    pub right_corner: Option<Vec3>,
    pub left_temple: Option<Vec3>,
    pub right_temple: Option<Vec3>,
}

/// The pinnable points, as the scene names them under `plan.hairline.points`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PinnedPoint {
    LeftCorner,
    RightCorner,
    LeftTemple,
    RightTemple,
}

impl PinnedPoint {
    pub const ALL: [PinnedPoint; 4] = [
        PinnedPoint::LeftCorner,
        PinnedPoint::RightCorner,
        PinnedPoint::LeftTemple,
        PinnedPoint::RightTemple,
    ];

    /// The key under `plan.hairline.points`.
    pub fn key(self) -> &'static str {
        match self {
            PinnedPoint::LeftCorner => "left_corner",
            PinnedPoint::RightCorner => "right_corner",
            PinnedPoint::LeftTemple => "left_temple",
            PinnedPoint::RightTemple => "right_temple",
        }
    }

    pub fn parse(key: &str) -> Option<PinnedPoint> {
        Self::ALL.into_iter().find(|p| p.key() == key)
    }

    /// The control point it pins ([`HairlinePoint::name`]).
    pub fn name(self) -> &'static str {
        match self {
            PinnedPoint::LeftCorner => "left frontotemporal corner",
            PinnedPoint::RightCorner => "right frontotemporal corner",
            PinnedPoint::LeftTemple => "left temple point",
            PinnedPoint::RightTemple => "right temple point",
        }
    }

    /// Which pinned point a control point is, if it can be pinned.
    pub fn of_name(name: &str) -> Option<PinnedPoint> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl PinnedPoints {
    pub fn get(&self, p: PinnedPoint) -> Option<Vec3> {
        match p {
            PinnedPoint::LeftCorner => self.left_corner,
            PinnedPoint::RightCorner => self.right_corner,
            PinnedPoint::LeftTemple => self.left_temple,
            PinnedPoint::RightTemple => self.right_temple,
        }
    }

    pub fn set(&mut self, p: PinnedPoint, v: Option<Vec3>) {
        *match p {
            PinnedPoint::LeftCorner => &mut self.left_corner,
            PinnedPoint::RightCorner => &mut self.right_corner,
            PinnedPoint::LeftTemple => &mut self.left_temple,
            PinnedPoint::RightTemple => &mut self.right_temple,
        } = v;
    }
}

/// A pinned point farther than this from the skin (mm, radially) is a mistake in the file
/// (swapped or mistyped coordinates), not a point drawn on this head.
pub const MAX_PINNED_OFF_SURFACE_MM: f32 = 15.0;

impl Default for Hairline {
    fn default() -> Self {
        Self {
            height_above_glabella_mm: 80.0,
            transition_mm: 12.0,
            temple_recession_mm: 15.0,
            irregularity_mm: 2.5,
            shape: HairlineShape::Rounded,
            widows_peak_mm: 0.0,
            temple_point_mm: TEMPLE_POINT_OFFSET_MM,
            points: PinnedPoints::default(),
        }
    }
}

/// The run of the frontal hairline between the mid-frontal point and the corners.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HairlineShape {
    /// Level across the forehead, turning back only near the corners (youthful, bold).
    Straight,
    /// A gentle arc from the midline to the corners.
    Rounded,
    /// Receding early toward the temples: the "M" of a mature hairline.
    Mature,
}

impl HairlineShape {
    pub fn parse(s: &str) -> Option<HairlineShape> {
        match s {
            "straight" => Some(HairlineShape::Straight),
            "rounded" => Some(HairlineShape::Rounded),
            "mature" => Some(HairlineShape::Mature),
            _ => None,
        }
    }

    /// (share of the corner's azimuth, share of the corner's setback) of the knot that shapes
    /// the line between the mid-frontal point and each corner.
    fn knot(self) -> (f32, f32) {
        match self {
            HairlineShape::Straight => (0.7, 0.08),
            HairlineShape::Rounded => (0.5, 0.25),
            HairlineShape::Mature => (0.45, 0.55),
        }
    }
}

/// Named starting points for a hairline design; any key given beside a preset overrides it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HairlinePreset {
    /// Low, straight, little recession, a crisp but still soft edge: a man in his twenties.
    Juvenile,
    /// Higher, set back at the temples: age-appropriate from the forties (the brief's usual
    /// advice against "too low").
    Mature,
    /// A wide, very irregular transition: for clients who want the edge to read as thinning
    /// hair, never as a line.
    Soft,
    /// High and deeply recessed: a natural Norwood II-III look, for older clients.
    Receded,
}

impl HairlinePreset {
    pub fn parse(s: &str) -> Option<HairlinePreset> {
        match s {
            "juvenile" => Some(HairlinePreset::Juvenile),
            "mature" => Some(HairlinePreset::Mature),
            "soft" => Some(HairlinePreset::Soft),
            "receded" => Some(HairlinePreset::Receded),
            _ => None,
        }
    }

    pub const NAMES: &'static str = "juvenile, mature, soft or receded";

    pub fn hairline(self) -> Hairline {
        let (height, transition, recession, irregularity, shape, peak) = match self {
            HairlinePreset::Juvenile => (72.0, 8.0, 8.0, 2.0, HairlineShape::Straight, 0.0),
            HairlinePreset::Mature => (85.0, 12.0, 24.0, 2.5, HairlineShape::Mature, 0.0),
            HairlinePreset::Soft => (80.0, 22.0, 15.0, 4.0, HairlineShape::Rounded, 0.0),
            HairlinePreset::Receded => (95.0, 14.0, 34.0, 3.0, HairlineShape::Mature, 0.0),
        };
        Hairline {
            height_above_glabella_mm: height,
            transition_mm: transition,
            temple_recession_mm: recession,
            irregularity_mm: irregularity,
            shape,
            widows_peak_mm: peak,
            temple_point_mm: TEMPLE_POINT_OFFSET_MM,
            points: PinnedPoints::default(),
        }
    }
}

impl Hairline {
    /// Checks the numbers alone; whether the hairline fits a given head is checked by
    /// [`TreatedRegion::new`].
    pub fn validate(&self) -> Result<(), PlanError> {
        for (field, value) in [
            (
                "hairline.height_above_glabella_mm",
                self.height_above_glabella_mm,
            ),
            ("hairline.transition_mm", self.transition_mm),
            ("hairline.temple_recession_mm", self.temple_recession_mm),
            ("hairline.irregularity_mm", self.irregularity_mm),
            ("hairline.widows_peak_mm", self.widows_peak_mm),
            ("hairline.temple_point_mm", self.temple_point_mm),
        ] {
            if !value.is_finite() {
                return Err(PlanError::NotFinite { field, value });
            }
        }
        for p in PinnedPoint::ALL {
            if let Some(v) = self.points.get(p).filter(|v| !v.is_finite()) {
                return Err(PlanError::HairlinePoint {
                    key: p.key(),
                    expected: format!("three finite numbers (mm), got {v}"),
                });
            }
        }
        let h = self.height_above_glabella_mm;
        // A widow's peak brings the midline down: its tip must clear the brows too.
        let tip = h - self.widows_peak_mm;
        if tip < MIN_HAIRLINE_HEIGHT_MM {
            return Err(PlanError::HairlineTooLow {
                height_mm: tip,
                min_mm: MIN_HAIRLINE_HEIGHT_MM,
            });
        }
        if h < MIN_HAIRLINE_HEIGHT_MM {
            return Err(PlanError::HairlineTooLow {
                height_mm: h,
                min_mm: MIN_HAIRLINE_HEIGHT_MM,
            });
        }
        if h > MAX_HAIRLINE_HEIGHT_MM {
            return Err(PlanError::HairlineTooHigh {
                height_mm: h,
                max_mm: MAX_HAIRLINE_HEIGHT_MM,
            });
        }
        for (field, value, max_mm) in [
            (
                "hairline.transition_mm",
                self.transition_mm,
                MAX_TRANSITION_MM,
            ),
            (
                "hairline.temple_recession_mm",
                self.temple_recession_mm,
                MAX_TEMPLE_RECESSION_MM,
            ),
            (
                "hairline.irregularity_mm",
                self.irregularity_mm,
                MAX_IRREGULARITY_MM,
            ),
            (
                "hairline.widows_peak_mm",
                self.widows_peak_mm,
                MAX_WIDOWS_PEAK_MM,
            ),
            (
                "hairline.temple_point_mm",
                self.temple_point_mm,
                MAX_TEMPLE_POINT_MM,
            ),
        ] {
            if !(0.0..=max_mm).contains(&value) {
                return Err(PlanError::HairlineParameterOutOfRange {
                    field,
                    value,
                    max_mm,
                });
            }
        }
        Ok(())
    }
}

/// The angular frame hairlines are measured in: centred on the cranium centre, +Y up, the
/// forward axis towards the glabella (horizontal), `left` the client's left.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeadFrame {
    pub center: Vec3,
    pub forward: Vec3,
    pub left: Vec3,
    pub up: Vec3,
}

impl HeadFrame {
    pub fn new(head: &Head) -> Result<Self, PlanError> {
        let center = head.cranium_center();
        let up = Vec3::Y;
        let to_face = head.landmarks.glabella - center;
        let flat = Vec3::new(to_face.x, 0.0, to_face.z);
        if !flat.is_finite() || flat.length() < 1.0 {
            return Err(PlanError::HeadGeometry(
                "the glabella is not in front of the cranium centre".into(),
            ));
        }
        let forward = flat.normalize();
        Ok(Self {
            center,
            forward,
            left: up.cross(forward),
            up,
        })
    }

    /// Unit direction from the centre at (azimuth, elevation), radians.
    pub fn direction(&self, azimuth: f32, elevation: f32) -> Vec3 {
        let (sa, ca) = azimuth.sin_cos();
        let (se, ce) = elevation.sin_cos();
        ce * (sa * self.left + ca * self.forward) + se * self.up
    }

    /// (azimuth, elevation) of a point seen from the centre, radians; azimuth in [-π, π].
    pub fn angles(&self, p: Vec3) -> (f32, f32) {
        let d = p - self.center;
        let (x, y, z) = (d.dot(self.left), d.dot(self.up), d.dot(self.forward));
        (x.atan2(z), y.atan2((x * x + z * z).sqrt()))
    }
}

/// A named control point of the hairline, for overlays and debugging.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HairlinePoint {
    /// For people ("left temple point"); code tests [`HairlinePoint::kind`].
    pub name: &'static str,
    pub kind: HairlinePointKind,
    pub azimuth: f32,
    /// Elevation of the smooth design line (before irregularity).
    pub elevation: f32,
    pub position_mm: Vec3,
}

/// Which landmark of the hairline a control point is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HairlinePointKind {
    MidFrontal,
    FrontotemporalCorner,
    TemplePoint,
    EarFront,
    Ear,
    EarBack,
    NapeSide,
    Nape,
    /// A knot shaping the line between the mid-frontal point and a corner.
    Shape,
}

impl HairlinePointKind {
    /// The kind of the `index`th knot [`TreatedRegion::new`] lays: the mid-frontal point, six
    /// per side (left, then right), the nape, then the shape knots.
    fn of_knot(index: usize) -> Self {
        const SIDE: [HairlinePointKind; 6] = [
            HairlinePointKind::FrontotemporalCorner,
            HairlinePointKind::TemplePoint,
            HairlinePointKind::EarFront,
            HairlinePointKind::Ear,
            HairlinePointKind::EarBack,
            HairlinePointKind::NapeSide,
        ];
        match index {
            0 => HairlinePointKind::MidFrontal,
            1..=12 => SIDE[(index - 1) % 6],
            13 => HairlinePointKind::Nape,
            _ => HairlinePointKind::Shape,
        }
    }
}

/// The treated region on one head: a weight in [0, 1] at each surface point (1 inside,
/// falling to 0 across the transition zone).
#[derive(Clone, Debug)]
pub struct TreatedRegion {
    frame: HeadFrame,
    transition_mm: f32,
    inv_transition: f32,
    /// Bound on |∇ signed distance| (mm per mm of 3-D displacement).
    lipschitz: f32,
    /// Boundary elevation (rad) over azimuth [-π, π], TABLE_SIZE + 1 entries (the last
    /// repeats the first).
    boundary: Vec<f32>,
    field: DistanceField,
    /// Surface points of the hairline (weight 0.5), TABLE_SIZE of them.
    polyline: Vec<Vec3>,
    control_points: Vec<HairlinePoint>,
    mid_frontal: Vec3,
}

/// A hairline control point while it is measured: (name, azimuth, elevation in radians).
type Knot = (&'static str, f32, f32);

/// The azimuth of entry `k` of the hairline's tables.
fn table_azimuth(k: usize) -> f32 {
    let d_az = TAU / TABLE_SIZE as f32;
    -PI + k as f32 * d_az
}

/// The mid-frontal point, walked up the midline from the glabella: its elevation and radius.
fn mid_frontal(
    caster: &RadialCaster,
    frame: HeadFrame,
    head: &Head,
    hairline: &Hairline,
) -> Result<(f32, f32), PlanError> {
    let lm = &head.landmarks;
    let (_, el_glabella) = frame.angles(lm.glabella);
    let r_glabella = (lm.glabella - frame.center).length();
    let height = hairline.height_above_glabella_mm;
    let el_mid = caster
        .walk(
            0.0,
            el_glabella,
            r_glabella,
            height,
            1.0,
            FRAC_PI_2 - WALK_STEP_RAD,
        )
        .map_err(|reachable_mm| PlanError::HairlineBeyondVertex {
            height_mm: height,
            reachable_mm,
        })?;
    let r_mid = caster.cast(0.0, el_mid).unwrap_or(r_glabella);
    Ok((el_mid, r_mid))
}

/// One side of the head as the hairline's knots see it.
struct Side {
    /// 1 for the client's left, -1 for the right.
    sign: f32,
    eye: Vec3,
    ear: Vec3,
    names: [&'static str; 6],
    /// The corner and temple point as pinned by hand, if they are.
    corner: (PinnedPoint, Option<Vec3>),
    temple: (PinnedPoint, Option<Vec3>),
}

/// Every control knot, in [`HairlinePointKind::of_knot`] order: the mid-frontal point, six
/// per side (left, then right), the nape, then the shape knots (left, right).
fn control_knots(
    caster: &RadialCaster,
    frame: HeadFrame,
    head: &Head,
    hairline: &Hairline,
    el_mid: f32,
    r_mid: f32,
) -> Result<Vec<Knot>, PlanError> {
    let lm = &head.landmarks;
    let sides = [
        Side {
            sign: 1.0,
            eye: lm.outer_eye_corner_left,
            ear: lm.ear_left,
            names: [
                "left frontotemporal corner",
                "left temple point",
                "left ear front",
                "left ear",
                "left ear back",
                "left nape side",
            ],
            corner: (PinnedPoint::LeftCorner, hairline.points.left_corner),
            temple: (PinnedPoint::LeftTemple, hairline.points.left_temple),
        },
        Side {
            sign: -1.0,
            eye: lm.outer_eye_corner_right,
            ear: lm.ear_right,
            names: [
                "right frontotemporal corner",
                "right temple point",
                "right ear front",
                "right ear",
                "right ear back",
                "right nape side",
            ],
            corner: (PinnedPoint::RightCorner, hairline.points.right_corner),
            temple: (PinnedPoint::RightTemple, hairline.points.right_temple),
        },
    ];
    let mut knots: Vec<Knot> = vec![("mid-frontal point", 0.0, el_mid)];
    for side in &sides {
        knots.extend(side_knots(caster, frame, hairline, side, el_mid, r_mid)?);
    }
    // Nape: on the back midline, somewhat below the occiput.
    let (az_occ, el_occ) = frame.angles(lm.occiput);
    let r_occ = (lm.occiput - frame.center).length();
    let el_nape = caster
        .walk(
            az_occ,
            el_occ,
            r_occ,
            NAPE_BELOW_OCCIPUT_MM,
            -1.0,
            -FRAC_PI_2 + WALK_STEP_RAD,
        )
        .map_err(|_| geometry("the occiput is too close to the bottom of the head"))?;
    // The nape side points bend the line from behind the ear down to the nape. (Knots so
    // far: the mid-frontal point, then six per side, left first.)
    for side_start in [1usize, 7] {
        let (az_back, el_back) = (knots[side_start + 4].1, knots[side_start + 4].2);
        let back = if az_back > 0.0 { PI } else { -PI };
        knots[side_start + 5].1 = az_back + 0.6 * (back - az_back);
        knots[side_start + 5].2 = el_nape + 0.3 * (el_back - el_nape);
    }
    let az_nape = wrap_angle(az_occ);
    knots.push(("nape", az_nape, el_nape));
    // The shape knots between the mid-frontal point and each corner (14 left, 15 right).
    let (share_az, share_el) = hairline.shape.knot();
    for (name, corner) in [("left front", 1usize), ("right front", 7)] {
        let (az_c, el_c) = (knots[corner].1, knots[corner].2);
        knots.push((name, share_az * az_c, el_mid + share_el * (el_c - el_mid)));
    }
    Ok(knots)
}

/// The six knots of one side: frontotemporal corner, temple point, ear front, ear, ear back
/// and the nape side (left unmeasured, NaN: it needs the nape).
fn side_knots(
    caster: &RadialCaster,
    frame: HeadFrame,
    hairline: &Hairline,
    side: &Side,
    el_mid: f32,
    r_mid: f32,
) -> Result<[Knot; 6], PlanError> {
    let Side {
        sign: side,
        eye,
        ear,
        names,
        corner,
        temple,
    } = *side;
    // Above the ear, leaving the fringe around it.
    let (az_ear, el_ear) = frame.angles(ear);
    let r_ear = (ear - frame.center).length();
    let el_above_ear = caster
        .walk(
            az_ear,
            el_ear,
            r_ear,
            EAR_CLEARANCE_MM,
            1.0,
            FRAC_PI_2 - WALK_STEP_RAD,
        )
        .map_err(|_| geometry("the ear top is too close to the top of the head"))?;
    let ear_span = EAR_HALF_SPAN_MM / caster.horizontal_radius(az_ear, el_above_ear, r_ear);
    let az_ear_front = az_ear - side * ear_span;
    if az_ear_front * side <= 0.0 {
        return Err(geometry(
            "the ears are not beside the head, behind the face",
        ));
    }
    // Sideburn: in front of the ear the hair comes down to the height of the top of the ear
    // (the fringe is kept only over and behind the ear, where the helix is).
    let el_sideburn = el_ear.min(el_above_ear);
    let side_name = if side > 0.0 { "left" } else { "right" };
    let (az_corner, el_corner) = match corner.1 {
        Some(p) => pinned(caster, frame, corner.0, p, side, az_ear_front)?,
        None => ruled_corner(
            caster,
            frame,
            hairline,
            side,
            eye,
            el_mid,
            r_mid,
            az_ear_front,
        )?,
    };
    let (az_temple, el_temple) = match temple.1 {
        Some(p) => pinned(caster, frame, temple.0, p, side, az_ear_front)?,
        None => {
            // Temple point: halfway down to the sideburn, about 1 cm lateral of the corner. (On a real head the temporal point, 1 cm lateral of the
            // eye corner's vertical but lower, lies in front of the corner: the hairline
            // folds forward into a temporal peak. A boundary that is one elevation per
            // azimuth cannot fold, so the point is taken 1 cm out from the corner instead,
            // and never past halfway to the ear.)
            let el_temple = el_sideburn + 0.5 * (el_corner - el_sideburn);
            let offset =
                hairline.temple_point_mm / caster.horizontal_radius(az_corner, el_temple, r_mid);
            let az_temple = az_corner + side * offset.min(0.5 * (az_ear_front - az_corner) * side);
            (az_temple, el_temple)
        }
    };
    if corner.1.is_some() || temple.1.is_some() {
        // Hand-placed points must keep the line's order from the midline to the ear.
        if az_temple * side <= az_corner * side + 1e-3 {
            let key = if temple.1.is_some() {
                temple.0
            } else {
                corner.0
            };
            return Err(PlanError::HairlinePoint {
                key: key.key(),
                expected: format!(
                    "the {side_name} temple point farther from the midline than the {side_name} \
                     frontotemporal corner (the line runs midline, corner, temple point, ear)"
                ),
            });
        }
    }
    Ok([
        (names[0], az_corner, el_corner),
        (names[1], az_temple, el_temple),
        (names[2], az_ear_front, el_sideburn),
        (names[3], az_ear, el_above_ear),
        (names[4], az_ear + side * ear_span, el_above_ear),
        (names[5], f32::NAN, f32::NAN), // filled once the nape is known
    ])
}

/// The frontotemporal corner by the rules: on the vertical above the outer eye corner as seen
/// from the front (a constant distance from the mid-sagittal plane, not a meridian, which
/// would lean in over the forehead), level with the mid-frontal point, then set back up that
/// line by the recession.
#[allow(clippy::too_many_arguments)]
fn ruled_corner(
    caster: &RadialCaster,
    frame: HeadFrame,
    hairline: &Hairline,
    side: f32,
    eye: Vec3,
    el_mid: f32,
    r_mid: f32,
    az_ear_front: f32,
) -> Result<(f32, f32), PlanError> {
    let lateral = (eye - frame.center).dot(frame.left);
    let (_, el_eye) = frame.angles(eye);
    if lateral * side <= 0.0 || el_eye >= el_mid {
        return Err(geometry(
            "the outer eye corners are not beside and below the hairline",
        ));
    }
    let recession = hairline.temple_recession_mm;
    let (az_line, el_line, walked) = caster.walk_lateral(lateral, el_mid, r_mid, recession);
    // High on a narrowing crown that vertical runs out to the sides of the head (or off it):
    // keep the corner well in front of the ear, and go the rest of the way straight up.
    let az_limit = CORNER_MAX_SHARE_OF_EAR_AZIMUTH * az_ear_front;
    let (az_corner, el_from, left) = if az_line * side > az_limit * side {
        (az_limit, el_mid, recession)
    } else {
        (az_line, el_line, recession - walked)
    };
    let el_corner = caster
        .walk(az_corner, el_from, r_mid, left, 1.0, FRAC_PI_2 - WALK_STEP_RAD)
        .map_err(|_| geometry("the frontotemporal corners would fall past the top of the head: lower the hairline or the temple recession"))?;
    Ok((az_corner, el_corner))
}

/// A hand-placed point's (azimuth, elevation), checked: on its own side, in front of the
/// ear, above the horizontal through the cranium centre, and on the skin.
fn pinned(
    caster: &RadialCaster,
    frame: HeadFrame,
    which: PinnedPoint,
    p: Vec3,
    side: f32,
    az_ear_front: f32,
) -> Result<(f32, f32), PlanError> {
    let (az, el) = frame.angles(p);
    let side_name = if side > 0.0 { "left" } else { "right" };
    let fail = |expected: String| PlanError::HairlinePoint {
        key: which.key(),
        expected,
    };
    if az * side <= 0.0 || az * side >= az_ear_front * side {
        return Err(fail(format!(
            "a point on the client's {side_name} between the midline and the ear, got \
             [{:.1}, {:.1}, {:.1}] mm ({:.0}° round from the face)",
            p.x,
            p.y,
            p.z,
            az.to_degrees().abs()
        )));
    }
    if el <= 0.0 {
        return Err(fail(format!(
            "a point on the scalp, above the ears' level, got [{:.1}, {:.1}, {:.1}] mm",
            p.x, p.y, p.z
        )));
    }
    let r = (p - frame.center).length();
    match caster.cast(az, el) {
        Some(skin) if (r - skin).abs() <= MAX_PINNED_OFF_SURFACE_MM => Ok((az, el)),
        Some(skin) => Err(fail(format!(
            "a point on the skin (in mm, head space: +X the client's left, +Y up, +Z the \
             face), but [{:.1}, {:.1}, {:.1}] is {:.0} mm {} it",
            p.x,
            p.y,
            p.z,
            (r - skin).abs(),
            if r > skin { "outside" } else { "inside" }
        ))),
        None => Err(fail(
            "a point in a direction where the head has skin".into(),
        )),
    }
}

/// The smooth design line through the knots (elevation over azimuth), once they are checked
/// to come in order around the head.
fn design_line(knots: &[Knot]) -> Result<PeriodicPchip, PlanError> {
    // Design order around the head, right nape side to left nape side through the face.
    let mut order: Vec<usize> = vec![12, 11, 10, 9, 8, 7, 15, 0, 14, 1, 2, 3, 4, 5, 6];
    if let Some(w) = order
        .windows(2)
        .find(|w| knots[w[0]].1 >= knots[w[1]].1 - 1e-3)
    {
        return Err(PlanError::HeadGeometry(format!(
            "the {} and the {} come out of order around the head (expected from right to \
             left: nape, ear, temple, corner, mid-frontal point and back); check the eye \
             corner and ear landmarks",
            knots[w[0]].0, knots[w[1]].0,
        )));
    }
    let az_nape = knots[13].1;
    let (lo, hi) = (knots[12].1, knots[6].1);
    if !(az_nape > hi + 1e-3 || az_nape < lo - 1e-3) {
        return Err(geometry("the occiput is not behind the ears"));
    }
    if knots.iter().any(|k| !k.1.is_finite() || !k.2.is_finite()) {
        return Err(geometry("a hairline control point could not be measured"));
    }
    order.push(13);
    order.sort_by(|&a, &b| knots[a].1.total_cmp(&knots[b].1));
    Ok(PeriodicPchip::new(
        order.iter().map(|&i| knots[i].1).collect(),
        order.iter().map(|&i| knots[i].2).collect(),
    ))
}

/// The smooth design line tabulated at TABLE_SIZE azimuths, with the surface under it.
struct LineTable {
    /// Elevation of the design line (rad).
    smooth: Vec<f32>,
    /// Distance from the cranium centre to the surface under it (mm).
    radius: Vec<f32>,
    /// Surface length per radian of elevation there (mm).
    mm_per_rad: Vec<f32>,
    /// Length of hairline per radian of azimuth over its horizontal part: where the line runs
    /// steeply (down the temples) it is much longer than its horizontal extent.
    steepness: Vec<f32>,
}

impl LineTable {
    fn measure(caster: &RadialCaster, spline: &PeriodicPchip) -> Result<LineTable, PlanError> {
        let d_az = TAU / TABLE_SIZE as f32;
        let smooth: Vec<f32> = (0..TABLE_SIZE)
            .map(|k| spline.eval(table_azimuth(k)))
            .collect();
        let mut radius = vec![f32::NAN; TABLE_SIZE];
        let mut mm_per_rad = vec![f32::NAN; TABLE_SIZE];
        for k in 0..TABLE_SIZE {
            radius[k] = caster.cast(table_azimuth(k), smooth[k]).unwrap_or(f32::NAN);
            mm_per_rad[k] = caster
                .mm_per_radian(table_azimuth(k), smooth[k])
                .unwrap_or(radius[k]);
        }
        fill_gaps(&mut radius).ok_or_else(|| geometry("no surface along the hairline"))?;
        fill_gaps(&mut mm_per_rad).ok_or_else(|| geometry("no surface along the hairline"))?;
        let wrap = |k: isize| k.rem_euclid(TABLE_SIZE as isize) as usize;
        let steepness: Vec<f32> = (0..TABLE_SIZE as isize)
            .map(|k| {
                let slope = (smooth[wrap(k + 1)] - smooth[wrap(k - 1)]) / (2.0 * d_az);
                let rho = (radius[k as usize] * smooth[k as usize].cos()).max(1.0);
                (1.0 + (mm_per_rad[k as usize] * slope / rho).powi(2)).sqrt()
            })
            .collect();
        Ok(LineTable {
            smooth,
            radius,
            mm_per_rad,
            steepness,
        })
    }

    /// The drawn boundary's elevation at each azimuth: the design line with the hand-drawn
    /// irregularity (parametrised by arc length along the hairline so its wavelengths are in
    /// millimetres wherever it runs, and applied normal to the line) and the widow's peak.
    fn irregular_boundary(&self, hairline: &Hairline, seed: u64) -> Vec<f32> {
        let LineTable {
            smooth,
            radius,
            mm_per_rad,
            steepness,
        } = self;
        let d_az = TAU / TABLE_SIZE as f32;
        let mut arc = vec![0.0f32; TABLE_SIZE + 1];
        let along = |k: usize| radius[k] * smooth[k].cos() * steepness[k];
        for k in 0..TABLE_SIZE {
            arc[k + 1] = arc[k] + 0.5 * (along(k) + along((k + 1) % TABLE_SIZE)) * d_az;
        }
        let length = arc[TABLE_SIZE];
        let noise = PeriodicNoise::new(length, hairline.irregularity_mm, seed);
        let mid_k = TABLE_SIZE / 2; // azimuth 0
        let noise_mid = noise.eval(arc[mid_k] / length);
        (0..TABLE_SIZE)
            .map(|k| {
                let along = (arc[k] - arc[mid_k]).abs();
                let along = along.min(length - along);
                let d = along / MID_FRONTAL_PIN_MM;
                let mut offset_mm = noise.eval(arc[k] / length) - noise_mid * (-d * d).exp();
                // Widow's peak: a smooth V toward the brows, centred on the midline.
                let v = (1.0 - along / WIDOWS_PEAK_HALF_WIDTH_MM).max(0.0);
                offset_mm -= hairline.widows_peak_mm * v * v * (3.0 - 2.0 * v);
                smooth[k] + offset_mm * steepness[k] / mm_per_rad[k]
            })
            .collect()
    }
}

impl TreatedRegion {
    /// Measures the hairline on `head` (ray casts from the cranium centre) and tabulates it.
    /// `seed` draws the irregularity of the edge.
    pub fn new(head: &Head, hairline: &Hairline, seed: u64) -> Result<TreatedRegion, PlanError> {
        hairline.validate()?;
        let frame = HeadFrame::new(head)?;
        let caster = RadialCaster::new(&head.mesh, frame);
        let (el_mid, r_mid) = mid_frontal(&caster, frame, head, hairline)?;
        let knots = control_knots(&caster, frame, head, hairline, el_mid, r_mid)?;
        let spline = design_line(&knots)?;
        let line = LineTable::measure(&caster, &spline)?;
        let boundary = line.irregular_boundary(hairline, seed);
        let LineTable {
            radius, mm_per_rad, ..
        } = line;

        let transition = hairline.transition_mm;
        let field = DistanceField::new(
            &boundary,
            &radius,
            &mm_per_rad,
            0.5 * transition + DISTANCE_RANGE_MM,
        );
        // The field is 1-Lipschitz in its own metric; a 3-D step moves a point by up to
        // m/r of that metric in elevation (tilted surface) and about 1 in azimuth.
        let tilt = (0..TABLE_SIZE)
            .map(|k| mm_per_rad[k] / radius[k])
            .fold(1.0f32, f32::max);

        let polyline = (0..TABLE_SIZE)
            .map(|k| {
                let az = table_azimuth(k);
                let r = caster.cast(az, boundary[k]).unwrap_or(radius[k]);
                frame.center + r * frame.direction(az, boundary[k])
            })
            .collect();
        let control_points = knots
            .iter()
            .enumerate()
            .map(|(i, &(name, az, el))| {
                let r = caster.cast(az, el).unwrap_or(r_mid);
                HairlinePoint {
                    name,
                    kind: HairlinePointKind::of_knot(i),
                    azimuth: az,
                    elevation: el,
                    position_mm: frame.center + r * frame.direction(az, el),
                }
            })
            .collect();
        let mut boundary = boundary;
        boundary.push(boundary[0]);
        Ok(Self {
            frame,
            transition_mm: transition,
            inv_transition: if transition > 0.0 {
                1.0 / transition
            } else {
                0.0
            },
            lipschitz: LIPSCHITZ_SAFETY * tilt,
            boundary,
            field,
            polyline,
            control_points,
            mid_frontal: frame.center + r_mid * frame.direction(0.0, el_mid),
        })
    }

    /// Signed distance (mm along the surface) from the hairline: positive on the treated
    /// side, clamped to ±(transition/2 + 16 mm). Two fast atan2 and a bilinear lookup.
    #[inline]
    pub fn signed_distance_mm(&self, p: Vec3) -> f32 {
        let d = p - self.frame.center;
        let x = d.dot(self.frame.left);
        let y = d.dot(self.frame.up);
        let z = d.dot(self.frame.forward);
        self.field
            .lookup(fast_atan2(x, z), fast_atan2(y, (x * x + z * z).sqrt()))
    }

    /// Region weight in [0, 1]: 1 well inside the treated scalp, falling smoothly and
    /// monotonically to 0 across the transition zone (centred on the hairline), 0 outside.
    #[inline]
    pub fn weight(&self, p: Vec3) -> f32 {
        let s = self.signed_distance_mm(p);
        if self.inv_transition == 0.0 {
            return if s >= 0.0 { 1.0 } else { 0.0 };
        }
        let x = (s * self.inv_transition + 0.5).clamp(0.0, 1.0);
        x * x * (3.0 - 2.0 * x)
    }

    /// `Some(w)` when [`weight`](Self::weight) returns exactly `w` (1 or 0, bit for bit)
    /// at every point within `radius_mm` of `center`, None when it may not: lets a caller
    /// skip the weight away from the transition zone and still get the same result. Bounds
    /// the point's table coordinates (an angle moves by at most distance / radius from the
    /// axis or centre) and reads the extremes of the distance field there.
    pub fn uniform_weight(&self, center: Vec3, radius_mm: f32) -> Option<f32> {
        let f = &self.frame;
        let d = (center - f.center).as_dvec3();
        let (x, y, z) = (
            d.dot(f.left.as_dvec3()),
            d.dot(f.up.as_dvec3()),
            d.dot(f.forward.as_dvec3()),
        );
        let rho = (x * x + z * z).sqrt();
        let r = radius_mm as f64 * (1.0 + 1e-3) + 1e-3;
        // Near the vertical axis through the centre the azimuth swings too fast to bound.
        if (rho - r).partial_cmp(&UNIFORM_MIN_AXIS_MM) != Some(std::cmp::Ordering::Greater) {
            return None;
        }
        let d_az = r / (rho - r) + UNIFORM_ANGLE_PAD;
        let d_el = r / ((rho * rho + y * y).sqrt() - r) + UNIFORM_ANGLE_PAD;
        let (az, el) = (x.atan2(z), y.atan2(rho));
        let (lo, hi) = self
            .field
            .range(az - d_az, az + d_az, el - d_el, el + d_el)?;
        let h = 0.5 * self.transition_mm + UNIFORM_MARGIN_MM;
        if lo >= h {
            Some(1.0)
        } else if hi <= -h {
            Some(0.0)
        } else {
            None
        }
    }

    /// Whether `p` gets any pigment (weight > 0).
    #[inline]
    pub fn contains(&self, p: Vec3) -> bool {
        self.weight(p) > 0.0
    }

    /// A lower bound on the distance (mm) from `p` to the transition zone: positive inside
    /// the full-weight zone (distance to any point of weight < 1), negative outside the
    /// region (minus the distance to any point of weight > 0), 0 within the zone. Lets the
    /// layout classify whole triangles without sampling them.
    #[inline]
    pub fn clearance_mm(&self, p: Vec3) -> f32 {
        let s = self.signed_distance_mm(p);
        let h = 0.5 * self.transition_mm;
        if s >= h {
            (s - h) / self.lipschitz
        } else if s <= -h {
            (s + h) / self.lipschitz
        } else {
            0.0
        }
    }

    pub fn frame(&self) -> &HeadFrame {
        &self.frame
    }

    pub fn transition_mm(&self) -> f32 {
        self.transition_mm
    }

    /// The measured mid-frontal point on the surface (weight 0.5 there).
    pub fn mid_frontal_point(&self) -> Vec3 {
        self.mid_frontal
    }

    /// Boundary elevation (radians, weight 0.5) at an azimuth, irregularity included.
    pub fn boundary_elevation(&self, azimuth: f32) -> f32 {
        let f = (wrap_angle(azimuth) + PI) * (TABLE_SIZE as f32 / TAU);
        let i = (f.max(0.0) as usize).min(TABLE_SIZE - 1);
        let t = f - i as f32;
        self.boundary[i] + t * (self.boundary[i + 1] - self.boundary[i])
    }

    /// Distance (mm along the skin, approximately) of `p` behind the hairline, measured over
    /// the top of the head along the meridian through its azimuth: negative in front of the
    /// line, growing past the vertex down the back. For zones and hair-loss patterns that are
    /// set back from the hairline by more than the distance field reaches.
    pub fn meridian_distance_mm(&self, p: Vec3) -> f32 {
        let (az, el) = self.frame.angles(p);
        let r = (p - self.frame.center).length();
        if az.abs() > FRAC_PI_2 {
            // Behind the ears' meridian: continue over the vertex from the front line.
            let front_az = if az > 0.0 { PI - az } else { -PI - az };
            return (PI - el - self.boundary_elevation(front_az)) * r;
        }
        (el - self.boundary_elevation(az)) * r
    }

    /// The hairline (weight 0.5) as a closed loop of surface points, for overlays.
    pub fn hairline_polyline(&self) -> &[Vec3] {
        &self.polyline
    }

    /// The control points the hairline was designed through (before irregularity).
    pub fn control_points(&self) -> &[HairlinePoint] {
        &self.control_points
    }
}

fn geometry(msg: &str) -> PlanError {
    PlanError::HeadGeometry(msg.to_string())
}

/// Wraps an angle into [-π, π).
fn wrap_angle(a: f32) -> f32 {
    (a + PI).rem_euclid(TAU) - PI
}

/// Replaces NaNs (rays that missed) by the nearest valid entry, cyclically. None if all
/// are NaN.
fn fill_gaps(v: &mut [f32]) -> Option<()> {
    let n = v.len();
    let first = v.iter().position(|x| !x.is_nan())?;
    let mut last = v[first];
    for i in 1..=n {
        let k = (first + i) % n;
        if v[k].is_nan() {
            v[k] = last;
        } else {
            last = v[k];
        }
    }
    Some(())
}

/// atan2 to about 1e-5 rad, several times cheaper than libm's: the region weight is
/// evaluated millions of times.
#[inline]
pub fn fast_atan2(y: f32, x: f32) -> f32 {
    let (ax, ay) = (x.abs(), y.abs());
    let (lo, hi) = (ax.min(ay), ax.max(ay));
    let a = if hi > 0.0 { lo / hi } else { 0.0 };
    let s = a * a;
    // Minimax odd polynomial for atan on [0, 1]; selects rather than branches, since the
    // octant of a random direction is unpredictable.
    let r = a
        * (0.999_977_26
            + s * (-0.332_623_47
                + s * (0.193_543_46
                    + s * (-0.116_432_87 + s * (0.052_653_32 + s * -0.011_721_2)))));
    let r = if ay > ax { FRAC_PI_2 - r } else { r };
    let r = if x < 0.0 { PI - r } else { r };
    if y < 0.0 { -r } else { r }
}

/// Signed distance to the hairline, tabulated over (azimuth, elevation) in millimetres of
/// surface: azimuth steps are scaled by the horizontal radius, elevation steps by the
/// measured mm per radian. A true distance, not the vertical offset, so the transition zone
/// keeps its width where the line runs steeply down the temples.
#[derive(Clone, Debug)]
struct DistanceField {
    /// rows × (TABLE_SIZE + 1), row-major from `el0` up; last column repeats the first.
    values: Vec<i16>,
    rows: usize,
    el0: f32,
    inv_row: f32,
    max_mm: f32,
}

impl DistanceField {
    /// `boundary`, `radius`, `mm_per_rad`: per azimuth column. Distances beyond `max_mm`
    /// are clamped.
    fn new(boundary: &[f32], radius: &[f32], mm_per_rad: &[f32], max_mm: f32) -> Self {
        let n = boundary.len();
        let m_min = mm_per_rad
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min)
            .max(1.0);
        let b_lo = boundary.iter().copied().fold(f32::INFINITY, f32::min);
        let b_hi = boundary.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let el0 = (b_lo - max_mm / m_min - 2.0 * FIELD_ROW_RAD).max(-FRAC_PI_2);
        let el1 = (b_hi + max_mm / m_min + 2.0 * FIELD_ROW_RAD).min(FRAC_PI_2);
        let rows = ((el1 - el0) / FIELD_ROW_RAD).ceil() as usize + 1;
        // The curve's elevation span within each column (half a column either side), so
        // steep stretches are not seen as a dotted line.
        let span: Vec<(f32, f32)> = (0..n)
            .map(|c| {
                let (prev, next) = (boundary[(c + n - 1) % n], boundary[(c + 1) % n]);
                let (a, b) = (0.5 * (prev + boundary[c]), 0.5 * (boundary[c] + next));
                (a.min(b).min(boundary[c]), a.max(b).max(boundary[c]))
            })
            .collect();
        // Horizontal position of each column at unit cos(elevation); the rows are extended
        // by enough columns either side for the distance transform to wrap around the head.
        let d_az = TAU as f64 / n as f64;
        let mut x_unit = vec![0.0f64; n];
        for c in 1..n {
            x_unit[c] = x_unit[c - 1] + 0.5 * (radius[c - 1] + radius[c]) as f64 * d_az;
        }
        let turn = x_unit[n - 1] + 0.5 * (radius[n - 1] + radius[0]) as f64 * d_az;
        let mut values = vec![0i16; rows * (n + 1)];
        let r_min = radius
            .iter()
            .copied()
            .fold(f32::INFINITY, f32::min)
            .max(1.0) as f64;
        let (mut x, mut f, mut out) = (Vec::new(), Vec::new(), Vec::new());
        let mut envelope = LowerEnvelope::default();
        let max2 = (max_mm as f64).powi(2);
        for e in 0..rows {
            let el = el0 + e as f32 * FIELD_ROW_RAD;
            let cos_el = el.cos().max(1e-4) as f64; // distinct x even at the pole
            let pad = ((max_mm as f64 / (cos_el * r_min * d_az)).ceil() as usize + 2).min(n);
            let cols = n + 2 * pad;
            x.resize(cols, 0.0);
            f.resize(cols, 0.0);
            out.resize(cols, 0.0);
            for c in 0..cols {
                let k = (c + n - pad) % n;
                let turns = (c + n - pad) / n; // 0, 1 or 2
                x[c] = cos_el * (x_unit[k] + turns as f64 * turn);
                let (lo, hi) = span[k];
                let v = ((lo - el).max(el - hi).max(0.0) * mm_per_rad[k]) as f64;
                f[c] = if v * v > max2 { f64::INFINITY } else { v * v };
            }
            envelope.run(&x, &f, &mut out);
            for c in 0..n {
                let d = (out[pad + c].min(max2).sqrt()) as f32;
                let s = if el > boundary[c] { d } else { -d };
                values[e * (n + 1) + c] = (s / FIELD_UNIT_MM).round() as i16;
            }
        }
        // Monotone up every column (a running max), so the weight never dips going up a
        // meridian; each column's first sample starts at the clamp.
        for c in 0..n {
            let mut run = i16::MIN;
            for e in 0..rows {
                let v = &mut values[e * (n + 1) + c];
                run = run.max(*v);
                *v = run;
            }
        }
        for e in 0..rows {
            values[e * (n + 1) + n] = values[e * (n + 1)];
        }
        Self {
            values,
            rows,
            el0,
            inv_row: 1.0 / FIELD_ROW_RAD,
            max_mm,
        }
    }

    /// Least and greatest value (mm) [`lookup`](Self::lookup) can return for azimuths in
    /// [az_lo, az_hi] (within 2π, wrapping) and elevations in [el_lo, el_hi]: the extremes
    /// of the table entries it would interpolate (bilinear interpolation stays within its
    /// corners) and the clamps above and below the table. None if the box is too wide.
    fn range(&self, az_lo: f64, az_hi: f64, el_lo: f64, el_hi: f64) -> Option<(f32, f32)> {
        use std::f64::consts::{PI as PI64, TAU as TAU64};
        // Too wide, or NaN.
        let narrow =
            |lo: f64, hi: f64| (hi - lo).partial_cmp(&1.0) == Some(std::cmp::Ordering::Less);
        if !(narrow(az_lo, az_hi) && narrow(el_lo, el_hi)) {
            return None;
        }
        let (mut lo, mut hi) = (i32::MAX, i32::MIN);
        let (mut lo_mm, mut hi_mm) = (f32::INFINITY, f32::NEG_INFINITY);
        let inv_row = self.inv_row as f64;
        let (fe_lo, fe_hi) = (
            (el_lo - self.el0 as f64) * inv_row,
            (el_hi - self.el0 as f64) * inv_row,
        );
        let last_row = (self.rows - 1) as f64;
        if fe_lo < 0.0 {
            lo_mm = -self.max_mm;
            hi_mm = -self.max_mm;
        }
        if fe_hi >= last_row {
            lo_mm = lo_mm.min(self.max_mm);
            hi_mm = self.max_mm;
        }
        if fe_hi >= 0.0 && fe_lo < last_row {
            let j0 = fe_lo.max(0.0) as usize;
            let j1 = (fe_hi.min(last_row) as usize).min(self.rows - 2);
            // Azimuth column ranges, the box split where it wraps past ±π.
            let mut spans = [(az_lo, az_hi), (1.0, 0.0)];
            if az_lo < -PI64 {
                spans = [(az_lo + TAU64, PI64), (-PI64, az_hi)];
            } else if az_hi > PI64 {
                spans = [(az_lo, PI64), (-PI64, az_hi - TAU64)];
            }
            let col = |az: f64| {
                let fa = (az + PI64) * (TABLE_SIZE as f64 / TAU64);
                (fa.max(0.0) as usize).min(TABLE_SIZE - 1)
            };
            for (a0, a1) in spans {
                if a0 > a1 {
                    continue;
                }
                let (i0, i1) = (col(a0), col(a1) + 1);
                for j in j0..=j1 + 1 {
                    let row = &self.values[j * (TABLE_SIZE + 1)..(j + 1) * (TABLE_SIZE + 1)];
                    for &v in &row[i0..=i1] {
                        lo = lo.min(v as i32);
                        hi = hi.max(v as i32);
                    }
                }
            }
        }
        if lo <= hi {
            lo_mm = lo_mm.min(lo as f32 * FIELD_UNIT_MM);
            hi_mm = hi_mm.max(hi as f32 * FIELD_UNIT_MM);
        }
        (lo_mm <= hi_mm).then_some((lo_mm, hi_mm))
    }

    #[inline]
    fn lookup(&self, azimuth: f32, elevation: f32) -> f32 {
        let fe = (elevation - self.el0) * self.inv_row;
        // Below the table, or NaN: outside.
        if fe
            .partial_cmp(&0.0)
            .is_none_or(|o| o == std::cmp::Ordering::Less)
        {
            return -self.max_mm;
        }
        if fe >= (self.rows - 1) as f32 {
            return self.max_mm;
        }
        let fa = (azimuth + PI) * (TABLE_SIZE as f32 / TAU);
        let i = (fa.max(0.0) as usize).min(TABLE_SIZE - 1);
        let j = fe as usize;
        let (ta, te) = (fa - i as f32, fe - j as f32);
        let row0 = j * (TABLE_SIZE + 1) + i;
        let row1 = row0 + TABLE_SIZE + 1;
        let v = |k: usize| self.values[k] as f32;
        let a = v(row0) + ta * (v(row0 + 1) - v(row0));
        let b = v(row1) + ta * (v(row1 + 1) - v(row1));
        (a + te * (b - a)) * FIELD_UNIT_MM
    }
}

/// Felzenszwalb-Huttenlocher lower envelope: out[p] = min_q (x[p] - x[q])² + f[q] in linear
/// time, for increasing x. The exact distance transform, one row at a time.
#[derive(Default)]
struct LowerEnvelope {
    v: Vec<usize>,
    z: Vec<f64>,
}

impl LowerEnvelope {
    fn run(&mut self, x: &[f64], f: &[f64], out: &mut [f64]) {
        let (v, z) = (&mut self.v, &mut self.z);
        v.clear();
        z.clear();
        let meet = |q: usize, r: usize| {
            ((f[q] + x[q] * x[q]) - (f[r] + x[r] * x[r])) / (2.0 * (x[q] - x[r]))
        };
        for (q, fq) in f.iter().enumerate() {
            if !fq.is_finite() {
                continue;
            }
            let mut s = f64::NEG_INFINITY;
            while let Some(&r) = v.last() {
                s = meet(q, r);
                if s <= *z.last().unwrap() {
                    v.pop();
                    z.pop();
                    s = f64::NEG_INFINITY;
                } else {
                    break;
                }
            }
            v.push(q);
            z.push(s);
        }
        if v.is_empty() {
            out.fill(f64::INFINITY);
            return;
        }
        let mut k = 0;
        for p in 0..x.len() {
            while k + 1 < v.len() && z[k + 1] < x[p] {
                k += 1;
            }
            let q = v[k];
            out[p] = (x[p] - x[q]).powi(2) + f[q];
        }
    }
}

/// Elevation step of the eye-corner verticals drawn as guides (about 1.5 mm of skin).
const GUIDE_STEP_RAD: f32 = 1.0 * PI / 180.0;

/// What hairline design is measured against on one head, computed once: the midline from the
/// glabella up (the mid-frontal point's height along the skin, measured exactly as
/// [`TreatedRegion::new`] walks it) and the verticals above the outer eye corners on the skin
/// (the brief: the frontotemporal angle lies on that vertical, the temporal point about 1 cm
/// from it).
#[derive(Clone, Debug)]
pub struct DesignGuides {
    pub frame: HeadFrame,
    pub glabella: Vec3,
    /// Up the midline in the walk's own steps: (elevation, mm along the skin from the
    /// glabella, surface point).
    midline: Vec<(f32, f32, Vec3)>,
    /// Surface points on the vertical above the outer eye corner (left, right), upwards.
    pub eye_verticals: [Vec<Vec3>; 2],
    /// Distance of each outer eye corner from the mid-sagittal plane (left +, right -), mm.
    pub eye_lateral_mm: [f32; 2],
}

impl DesignGuides {
    pub fn new(head: &Head) -> Result<DesignGuides, PlanError> {
        let frame = HeadFrame::new(head)?;
        let caster = RadialCaster::new(&head.mesh, frame);
        let lm = &head.landmarks;
        let (_, el0) = frame.angles(lm.glabella);
        // The same steps and chords as `RadialCaster::walk` from the glabella.
        let mut r = caster
            .cast(0.0, el0)
            .unwrap_or((lm.glabella - frame.center).length());
        let mut p = r * frame.direction(0.0, el0);
        let mut midline = vec![(el0, 0.0, frame.center + p)];
        let mut el = el0;
        let mut walked = 0.0;
        while el + WALK_STEP_RAD <= FRAC_PI_2 - WALK_STEP_RAD {
            el += WALK_STEP_RAD;
            r = caster.cast(0.0, el).unwrap_or(r);
            let q = r * frame.direction(0.0, el);
            walked += (q - p).length();
            p = q;
            midline.push((el, walked, frame.center + q));
        }
        // From the brows' level (the glabella's) up: below it the line would wander round
        // the eye socket.
        let vertical = |eye: Vec3| {
            let lateral = (eye - frame.center).dot(frame.left);
            let r0 = (eye - frame.center).length();
            let mut el = frame.angles(eye).1.max(el0);
            let mut az = lateral.signum() * 0.5;
            let mut out = Vec::new();
            while el < 1.4 {
                let rho = caster.cast(az, el).unwrap_or(r0) * el.cos();
                if rho <= lateral.abs() {
                    break;
                }
                az = caster.azimuth_at_lateral(lateral, el, az, r0);
                if let Some(r) = caster.cast(az, el) {
                    out.push(frame.center + r * frame.direction(az, el));
                }
                el += GUIDE_STEP_RAD;
            }
            out
        };
        let lateral = |eye: Vec3| (eye - frame.center).dot(frame.left);
        Ok(DesignGuides {
            frame,
            glabella: lm.glabella,
            midline,
            eye_verticals: [
                vertical(lm.outer_eye_corner_left),
                vertical(lm.outer_eye_corner_right),
            ],
            eye_lateral_mm: [
                lateral(lm.outer_eye_corner_left),
                lateral(lm.outer_eye_corner_right),
            ],
        })
    }

    /// Height along the skin above the glabella (mm) of the midline point at `elevation`.
    pub fn height_mm(&self, elevation: f32) -> f32 {
        let m = &self.midline;
        let i = m.partition_point(|e| e.0 <= elevation);
        if i == 0 {
            return 0.0;
        }
        if i >= m.len() {
            return m[m.len() - 1].1;
        }
        let (a, b) = (m[i - 1], m[i]);
        a.1 + (elevation - a.0) / (b.0 - a.0) * (b.1 - a.1)
    }

    /// The midline's skin from the glabella up to `height_mm` (the measuring tape's path).
    pub fn midline_to(&self, height_mm: f32) -> Vec<Vec3> {
        let mut out: Vec<Vec3> = self
            .midline
            .iter()
            .take_while(|e| e.1 < height_mm)
            .map(|e| e.2)
            .collect();
        if let Some(p) = self.midline_point(height_mm) {
            out.push(p);
        }
        out
    }

    /// The midline's surface point `height_mm` above the glabella along the skin.
    pub fn midline_point(&self, height_mm: f32) -> Option<Vec3> {
        let m = &self.midline;
        let i = m.partition_point(|e| e.1 < height_mm);
        if i == 0 {
            return m.first().map(|e| e.2);
        }
        let (a, b) = (m.get(i - 1)?, m.get(i)?);
        let t = (height_mm - a.1) / (b.1 - a.1).max(1e-6);
        Some(a.2.lerp(b.2, t))
    }

    /// Horizontal distance (mm) of `p` outside the vertical above its side's outer eye corner
    /// (negative: nearer the midline).
    pub fn outside_eye_vertical_mm(&self, p: Vec3) -> f32 {
        let lateral = (p - self.frame.center).dot(self.frame.left);
        let eye = if lateral >= 0.0 {
            self.eye_lateral_mm[0]
        } else {
            self.eye_lateral_mm[1]
        };
        lateral.abs() - eye.abs()
    }
}

/// Ray casts from the cranium centre, accelerated by binning triangles by direction: a ray
/// from the centre can only hit triangles whose angular extent covers its direction. Turns
/// the mesh's brute-force cast (~80k triangle tests) into a few dozen tests, so the region
/// can afford thousands of probes.
struct RadialCaster<'a> {
    mesh: &'a TriMesh,
    frame: HeadFrame,
    start: Vec<u32>,
    tris: Vec<u32>,
}

const CAST_AZ_BINS: usize = 256;
const CAST_EL_BINS: usize = 128;

impl<'a> RadialCaster<'a> {
    fn new(mesh: &'a TriMesh, frame: HeadFrame) -> Self {
        let angles: Vec<(f32, f32)> = mesh.positions_mm.iter().map(|&p| frame.angles(p)).collect();
        let ranges: Vec<Option<([i32; 2], [usize; 2])>> = (0..mesh.triangle_count())
            .map(|t| Self::bin_range(mesh, &frame, &angles, t))
            .collect();
        let mut count = vec![0u32; CAST_AZ_BINS * CAST_EL_BINS + 1];
        let each = |f: &mut dyn FnMut(usize, u32)| {
            for (t, range) in ranges.iter().enumerate() {
                let Some(([a0, a1], [e0, e1])) = *range else {
                    continue;
                };
                for e in e0..=e1 {
                    for a in a0..=a1 {
                        f(
                            e * CAST_AZ_BINS + a.rem_euclid(CAST_AZ_BINS as i32) as usize,
                            t as u32,
                        );
                    }
                }
            }
        };
        each(&mut |bin, _| count[bin + 1] += 1);
        for i in 1..count.len() {
            count[i] += count[i - 1];
        }
        let start = count.clone();
        let mut tris = vec![0u32; *count.last().unwrap() as usize];
        each(&mut |bin, t| {
            tris[count[bin] as usize] = t;
            count[bin] += 1;
        });
        Self {
            mesh,
            frame,
            start,
            tris,
        }
    }

    /// Angular bins a triangle may cover: azimuth bins (may run past the ends, to be
    /// wrapped) and elevation bins, padded by one bin and for the bulge of long edges.
    fn bin_range(
        mesh: &TriMesh,
        frame: &HeadFrame,
        angles: &[(f32, f32)],
        t: usize,
    ) -> Option<([i32; 2], [usize; 2])> {
        let v = mesh.triangle(t);
        if v.iter().any(|p| (*p - frame.center).length() < 1e-3) {
            return None;
        }
        let ang: [(f32, f32); 3] =
            std::array::from_fn(|k| angles[mesh.indices[3 * t + k] as usize]);
        let mut el_lo = ang.iter().map(|a| a.1).fold(f32::INFINITY, f32::min);
        let mut el_hi = ang.iter().map(|a| a.1).fold(f32::NEG_INFINITY, f32::max);
        let az = ang.map(|a| ang[0].0 + wrap_angle(a.0 - ang[0].0));
        let az_lo = az.iter().copied().fold(f32::INFINITY, f32::min);
        let az_hi = az.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        // Only triangles near the vertical axis can contain it.
        let near_pole = el_hi > 1.2 || el_lo < -1.2;
        let pole_up = near_pole && ray_triangle(frame.center, frame.up, v[0], v[1], v[2]).is_some();
        let pole_down =
            near_pole && ray_triangle(frame.center, -frame.up, v[0], v[1], v[2]).is_some();
        let span = az_hi - az_lo;
        let all_az = pole_up || pole_down || span > 0.5 * PI;
        if pole_up {
            el_hi = FRAC_PI_2;
        }
        if pole_down {
            el_lo = -FRAC_PI_2;
        }
        if !all_az {
            // A great-circle edge between equal elevations e bulges to atan(tan e / cos(Δφ/2)),
            // which is at most e + sin e cos e (1/cos(Δφ/2) - 1) <= e + (1/cos(Δφ/2) - 1)/2.
            let bulge = 0.5 * (1.0 / (0.5 * span).cos() - 1.0);
            el_lo -= bulge;
            el_hi += bulge;
        }
        let az_bin = |a: f32| ((a + PI) / TAU * CAST_AZ_BINS as f32).floor() as i32;
        let el_bin = |e: f32| {
            (((e + FRAC_PI_2) / PI * CAST_EL_BINS as f32).floor() as i64)
                .clamp(0, CAST_EL_BINS as i64 - 1) as usize
        };
        let az_range = if all_az {
            [0, CAST_AZ_BINS as i32 - 1]
        } else {
            [az_bin(az_lo) - 1, az_bin(az_hi) + 1]
        };
        let el_range = [
            el_bin(el_lo).saturating_sub(1),
            (el_bin(el_hi) + 1).min(CAST_EL_BINS - 1),
        ];
        Some((az_range, el_range))
    }

    /// Distance from the centre to the closest surface hit at (azimuth, elevation).
    fn cast(&self, azimuth: f32, elevation: f32) -> Option<f32> {
        let dir = self.frame.direction(azimuth, elevation);
        let a = (((wrap_angle(azimuth) + PI) / TAU * CAST_AZ_BINS as f32) as usize)
            .min(CAST_AZ_BINS - 1);
        let e = (((elevation + FRAC_PI_2) / PI * CAST_EL_BINS as f32).max(0.0) as usize)
            .min(CAST_EL_BINS - 1);
        let bin = e * CAST_AZ_BINS + a;
        let mut best: Option<f32> = None;
        for &t in &self.tris[self.start[bin] as usize..self.start[bin + 1] as usize] {
            let [p0, p1, p2] = self.mesh.triangle(t as usize);
            if let Some(d) = ray_triangle(self.frame.center, dir, p0, p1, p2) {
                if best.is_none_or(|b| d < b) {
                    best = Some(d);
                }
            }
        }
        best
    }

    /// Horizontal distance from the vertical axis of the surface point there (mm per radian
    /// of azimuth), at least 1 mm.
    fn horizontal_radius(&self, azimuth: f32, elevation: f32, fallback_r: f32) -> f32 {
        (self.cast(azimuth, elevation).unwrap_or(fallback_r) * elevation.cos()).max(1.0)
    }

    /// Azimuth (within ±90°) at which the surface point at `elevation` lies `lateral` mm
    /// from the mid-sagittal plane (+ = the client's left), refined from `az0`.
    fn azimuth_at_lateral(&self, lateral: f32, elevation: f32, az0: f32, r_fallback: f32) -> f32 {
        let mut az = az0;
        // The radius changes slowly with azimuth: a few fixed-point steps converge.
        for _ in 0..6 {
            let rho = (self.cast(az, elevation).unwrap_or(r_fallback) * elevation.cos()).max(1.0);
            az = (lateral / rho).clamp(-1.0, 1.0).asin();
        }
        az
    }

    /// (azimuth, elevation, distance walked) after walking up to `dist_mm` up the surface
    /// along the vertical line `lateral` mm from the mid-sagittal plane, from elevation
    /// `el0`; short of `dist_mm` where the line leaves the head over the crown.
    fn walk_lateral(&self, lateral: f32, el0: f32, r0: f32, dist_mm: f32) -> (f32, f32, f32) {
        let point =
            |az: f32, el: f32| self.cast(az, el).unwrap_or(r0) * self.frame.direction(az, el);
        let (mut el, mut az) = (
            el0,
            self.azimuth_at_lateral(lateral, el0, lateral.signum() * 0.5, r0),
        );
        let mut p = point(az, el);
        let mut walked = 0.0f32;
        while walked < dist_mm {
            let next = el + WALK_STEP_RAD;
            // Past the top of the head the line has no surface point at that distance.
            let rho = self.cast(az, next).unwrap_or(r0) * next.cos();
            if next > FRAC_PI_2 - WALK_STEP_RAD || rho <= lateral.abs() {
                return (az, el, walked);
            }
            let az_next = self.azimuth_at_lateral(lateral, next, az, r0);
            let q = point(az_next, next);
            let seg = (q - p).length();
            if walked + seg >= dist_mm && seg > 0.0 {
                let t = (dist_mm - walked) / seg;
                return (az + t * (az_next - az), el + t * WALK_STEP_RAD, dist_mm);
            }
            walked += seg;
            (el, az, p) = (next, az_next, q);
        }
        (az, el, walked)
    }

    /// Millimetres of surface per radian of elevation at a point (radius and tilt).
    fn mm_per_radian(&self, azimuth: f32, elevation: f32) -> Option<f32> {
        let up = self.cast(azimuth, elevation + SLOPE_STEP_RAD)?;
        let down = self.cast(azimuth, elevation - SLOPE_STEP_RAD)?;
        let a = self.frame.direction(azimuth, elevation + SLOPE_STEP_RAD) * up;
        let b = self.frame.direction(azimuth, elevation - SLOPE_STEP_RAD) * down;
        Some((a - b).length() / (2.0 * SLOPE_STEP_RAD))
    }

    /// Elevation reached by walking `dist_mm` along the surface from `el0` at a fixed
    /// azimuth, upwards (`dir` = 1) or downwards (-1), summing the chords between ray hits
    /// every WALK_STEP_RAD. Where a ray misses (open meshes), the surface is continued at the
    /// last radius. Err(distance walked) if `el_limit` comes first.
    fn walk(
        &self,
        azimuth: f32,
        el0: f32,
        r0: f32,
        dist_mm: f32,
        dir: f32,
        el_limit: f32,
    ) -> Result<f32, f32> {
        let mut el = el0;
        let mut r = self.cast(azimuth, el).unwrap_or(r0);
        let mut p = r * self.frame.direction(azimuth, el);
        let mut walked = 0.0f32;
        if dist_mm <= 0.0 {
            return Ok(el0);
        }
        loop {
            let next = el + dir * WALK_STEP_RAD;
            if (next - el_limit) * dir > 0.0 {
                return Err(walked);
            }
            r = self.cast(azimuth, next).unwrap_or(r);
            let q = r * self.frame.direction(azimuth, next);
            let seg = (q - p).length();
            if walked + seg >= dist_mm && seg > 0.0 {
                return Ok(el + dir * WALK_STEP_RAD * (dist_mm - walked) / seg);
            }
            walked += seg;
            el = next;
            p = q;
        }
    }
}

/// Periodic monotone cubic (Fritsch-Butland tangents) through (azimuth, elevation) knots:
/// smooth, and unlike Catmull-Rom it never overshoots, so the corners are the highest
/// points of the recession and the mid-frontal point the lowest of the front.
struct PeriodicPchip {
    x: Vec<f32>,
    y: Vec<f32>,
    m: Vec<f32>,
}

impl PeriodicPchip {
    fn new(x: Vec<f32>, y: Vec<f32>) -> Self {
        let n = x.len();
        let h = |i: usize| {
            if i + 1 < n {
                x[i + 1] - x[i]
            } else {
                x[0] + TAU - x[n - 1]
            }
        };
        let delta = |i: usize| (y[(i + 1) % n] - y[i]) / h(i);
        let m = (0..n)
            .map(|i| {
                let ip = (i + n - 1) % n;
                let (d0, d1, h0, h1) = (delta(ip), delta(i), h(ip), h(i));
                if d0 * d1 <= 0.0 {
                    0.0
                } else {
                    3.0 * (h0 + h1) / ((2.0 * h1 + h0) / d0 + (h1 + 2.0 * h0) / d1)
                }
            })
            .collect();
        Self { x, y, m }
    }

    fn eval(&self, azimuth: f32) -> f32 {
        let n = self.x.len();
        let x = self.x[0] + (azimuth - self.x[0]).rem_euclid(TAU);
        let i = self.x.partition_point(|&k| k <= x).saturating_sub(1);
        let (x1, j) = if i + 1 < n {
            (self.x[i + 1], i + 1)
        } else {
            (self.x[0] + TAU, 0)
        };
        let h = x1 - self.x[i];
        let t = (x - self.x[i]) / h;
        let (t2, t3) = (t * t, t * t * t);
        (2.0 * t3 - 3.0 * t2 + 1.0) * self.y[i]
            + (t3 - 2.0 * t2 + t) * h * self.m[i]
            + (-2.0 * t3 + 3.0 * t2) * self.y[j]
            + (t3 - t2) * h * self.m[j]
    }
}

/// Seeded smooth periodic 1-D noise in millimetres: octaves of Catmull-Rom value noise
/// over a loop of the hairline's length.
struct PeriodicNoise {
    octaves: Vec<(Vec<f32>, f32)>,
}

impl PeriodicNoise {
    fn new(length_mm: f32, amplitude_mm: f32, seed: u64) -> Self {
        // Its own stream: changing the layout's use of the seed must not move the hairline.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ 0x4a1c_5e2d_71b0_93f7);
        let octaves = NOISE_OCTAVES
            .iter()
            .map(|&(wavelength, share)| {
                let n = ((length_mm / wavelength).round() as usize).max(4);
                let values = (0..n).map(|_| 2.0 * rng.random::<f32>() - 1.0).collect();
                (values, share * amplitude_mm)
            })
            .collect();
        Self { octaves }
    }

    /// `t` in turns (0..1 around the loop).
    fn eval(&self, t: f32) -> f32 {
        self.octaves
            .iter()
            .map(|(v, amp)| {
                let n = v.len();
                let f = t.rem_euclid(1.0) * n as f32;
                let i = (f as usize).min(n - 1);
                let s = f - i as f32;
                let p = |k: usize| v[(i + n + k - 1) % n];
                let (p0, p1, p2, p3) = (p(0), p(1), p(2), p(3));
                let c = p1
                    + 0.5
                        * s
                        * (p2 - p0
                            + s * (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3
                                + s * (3.0 * (p1 - p2) + p3 - p0)));
                amp * c
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The typed kinds follow the knots as laid: the two temple points are what zone logic
    /// finds, whatever the points are called.
    #[test]
    fn control_point_kinds_match_the_landmarks() {
        let head = crate::head::procedural::build(&Default::default());
        let region = TreatedRegion::new(&head, &Hairline::default(), 7).unwrap();
        let points = region.control_points();
        let temples: Vec<&str> = points
            .iter()
            .filter(|c| c.kind == HairlinePointKind::TemplePoint)
            .map(|c| c.name)
            .collect();
        assert_eq!(temples, ["left temple point", "right temple point"]);
        assert_eq!(points[0].kind, HairlinePointKind::MidFrontal);
        for c in points {
            let expected = match c.kind {
                HairlinePointKind::FrontotemporalCorner => "frontotemporal corner",
                HairlinePointKind::EarFront => "ear front",
                HairlinePointKind::EarBack => "ear back",
                HairlinePointKind::NapeSide => "nape side",
                _ => continue,
            };
            assert!(c.name.ends_with(expected), "{} is {:?}", c.name, c.kind);
        }
    }

    /// Where `uniform_weight` says the weight is exactly 1 or 0 over a ball, `weight` gives
    /// those bits at points all over the ball (its surface, where the extremes lie,
    /// included); and it does say so for most balls off the transition zone.
    #[test]
    fn uniform_weight_holds_over_its_ball() {
        let head = crate::head::procedural::build(&Default::default());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for transition_mm in [12.0, 4.0, 0.0] {
            let hairline = Hairline {
                transition_mm,
                ..Hairline::default()
            };
            let region = TreatedRegion::new(&head, &hairline, 7).unwrap();
            let mesh = &head.mesh;
            let mut counts = [0usize; 3]; // ones, zeros, unknown
            for _ in 0..4000 {
                let [a, b, c] = mesh.triangle(rng.random_range(0..mesh.triangle_count()));
                let (u, v): (f32, f32) = (rng.random(), rng.random());
                let (u, v) = if u + v > 1.0 {
                    (1.0 - u, 1.0 - v)
                } else {
                    (u, v)
                };
                let centre = a + u * (b - a) + v * (c - a);
                let radius = [0.3f32, 1.0, 3.0, 8.0][rng.random_range(0..4)];
                let Some(w) = region.uniform_weight(centre, radius) else {
                    counts[2] += 1;
                    continue;
                };
                counts[usize::from(w == 0.0)] += 1;
                for k in 0..64 {
                    let dir = loop {
                        let d = Vec3::new(rng.random(), rng.random(), rng.random()) * 2.0 - 1.0;
                        if (1e-3..=1.0).contains(&d.length_squared()) {
                            break d;
                        }
                    };
                    // Half on the sphere, half inside.
                    let d = if k % 2 == 0 { dir.normalize() } else { dir };
                    let p = centre + radius * d;
                    assert_eq!(
                        region.weight(p).to_bits(),
                        w.to_bits(),
                        "transition {transition_mm} mm: weight at {p} within {radius} mm of {centre}"
                    );
                }
            }
            let [ones, zeros, unknown] = counts;
            assert!(
                ones > 1000 && zeros > 1000 && unknown > 100,
                "transition {transition_mm} mm: {counts:?}"
            );
        }
    }

    #[test]
    fn fast_atan2_matches_std() {
        let mut worst = 0.0f32;
        let mut prev = -PI;
        for i in 0..20_000 {
            let a = -PI + TAU * (i as f32 + 0.5) / 20_000.0;
            let (y, x) = (3.0 * a.sin(), 3.0 * a.cos());
            let f = fast_atan2(y, x);
            worst = worst.max((f - y.atan2(x)).abs());
            assert!(f >= prev, "not monotone at {a}");
            prev = f;
        }
        assert!(worst < 2e-5, "worst error {worst}");
        assert_eq!(fast_atan2(0.0, 0.0), 0.0);
    }

    #[test]
    fn pchip_interpolates_without_overshoot() {
        let s = PeriodicPchip::new(vec![-2.0, 0.0, 1.0, 2.5], vec![0.5, 0.2, 0.9, 0.4]);
        for (x, y) in [(-2.0, 0.5), (0.0, 0.2), (1.0, 0.9), (2.5, 0.4)] {
            assert!((s.eval(x) - y).abs() < 1e-5);
            assert!((s.eval(x + TAU) - y).abs() < 1e-4);
        }
        for i in 0..1000 {
            let v = s.eval(-PI + TAU * i as f32 / 1000.0);
            assert!((0.2 - 1e-5..=0.9 + 1e-5).contains(&v));
        }
    }
}
