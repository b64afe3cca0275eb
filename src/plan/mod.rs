//! A treatment plan: where pigment goes (the treated region bounded by a hairline) and what
//! each impression is like (density, dot size, depth, shade).

pub mod condition;
pub mod hairline;
pub mod sessions;
pub mod treatment;
pub mod zones;

pub use condition::{BaldScalp, HairLoss, HairLossPattern, ScalpCondition, ScalpState};
pub use hairline::{
    DesignGuides, Hairline, HairlinePreset, HairlineShape, HeadFrame, PinnedPoint, PinnedPoints,
    TreatedRegion,
};
pub use sessions::Session;
pub use treatment::{Coverage, TreatmentMap};
pub use zones::{Needle, ZoneGeometry, ZoneName, ZoneSettings, ZoneTable};

/// Far above any treatment (about 100/cm² is usual; real scalps have 60-120 follicular
/// units/cm²): at this density dots are 0.2 mm apart and merge into a solid tattoo. The
/// headroom is for stress tests and benchmarks (a million dots on one head).
pub const MAX_DENSITY_PER_CM2: f32 = 2500.0;
/// Largest believable impression seen from the surface; the brief's range is 0.09-0.17 mm.
pub const MAX_DOT_DIAMETER_MM: f32 = 1.0;
/// Pigment depth range accepted (the brief: 0.25-0.5 mm is right; outside 0.1-2 mm the
/// needle is either in the epidermis, which sheds it, or far below the dermis).
pub const DEPTH_RANGE_MM: [f32; 2] = [0.1, 2.0];

/// What the practitioner asks for. Plain data: the layout stage turns it into dots.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Seed of every random choice in the layout: same seed, same dots.
    pub seed: u64,
    /// Impressions per cm² of scalp surface inside the hairline (the brief: ~1 mm spacing,
    /// i.e. about 100/cm²).
    pub density_per_cm2: f32,
    /// Dot diameter seen from the surface, min and max (the brief: 0.09-0.17 mm).
    pub dot_diameter_mm: [f32; 2],
    /// Pigment depth below the surface (the brief: 0.25-0.5 mm).
    pub depth_mm: f32,
    /// Pigment concentration: 1 = undiluted carbon black, lower = more diluted (lighter).
    pub shade: f32,
    /// The needle used where a zone names none.
    pub needle: Needle,
    pub hairline: Hairline,
    /// Zones whose settings differ from the plan's, each at most once.
    pub zones: Vec<(ZoneName, ZoneSettings)>,
    pub zone_geometry: ZoneGeometry,
    /// 1-4 sessions; each places its share of the dots in the gaps left by the earlier ones.
    pub sessions: Vec<Session>,
    /// Whether pigment goes only where hair is missing or over the whole scalp.
    pub coverage: Coverage,
    /// Needle work rate for quotes (impressions per hour of needle time).
    pub impressions_per_hour: f32,
}

/// Default work rate: 1,600 impressions an hour puts a full head at about 100/cm² (40,000
/// impressions, the brief's ~14,000 a session over three sessions) at 25 hours of needle
/// work, inside the brief's 20-30 hours.
pub const DEFAULT_IMPRESSIONS_PER_HOUR: f32 = 1600.0;

impl Default for Plan {
    fn default() -> Self {
        Self {
            seed: 1,
            density_per_cm2: 100.0,
            dot_diameter_mm: [0.09, 0.15],
            depth_mm: 0.35,
            shade: 0.7,
            needle: Needle::default(),
            hairline: Hairline::default(),
            zones: Vec::new(),
            zone_geometry: ZoneGeometry::default(),
            sessions: vec![Session::default()],
            coverage: Coverage::HairLoss,
            impressions_per_hour: DEFAULT_IMPRESSIONS_PER_HOUR,
        }
    }
}

/// Why a plan (or the hairline it asks for on a given head) cannot be carried out.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum PlanError {
    #[error("{field} must be a finite number, got {value}")]
    NotFinite { field: &'static str, value: f32 },
    #[error(
        "hairline {height_mm} mm above the glabella is too low: it would sit on the forehead, \
 just above the brows; place the mid-frontal point at least {min_mm} mm above the \
 glabella (clinics use 70-100 mm, Garg's method 80 mm)"
    )]
    HairlineTooLow { height_mm: f32, min_mm: f32 },
    #[error(
        "hairline {height_mm} mm above the glabella is too high: at most {max_mm} mm \
 (clinics use 70-100 mm)"
    )]
    HairlineTooHigh { height_mm: f32, max_mm: f32 },
    #[error("{field} = {value} mm is outside the accepted range 0-{max_mm} mm")]
    HairlineParameterOutOfRange {
        field: &'static str,
        value: f32,
        max_mm: f32,
    },
    #[error(
        "the mid-frontal point {height_mm} mm above the glabella is past the top of this head \
 (only {reachable_mm:.0} mm of forehead and scalp lie above the glabella on the midline)"
    )]
    HairlineBeyondVertex { height_mm: f32, reachable_mm: f32 },
    #[error("density must be above 0 impressions/cm², got {0}")]
    DensityNotPositive(f32),
    #[error(
        "density {density}/cm² is absurd: at most {max}/cm² is accepted, and long before that \
 the dots merge into a solid tattoo (treatments use about 100/cm², 1 mm spacing)"
    )]
    DensityTooHigh { density: f32, max: f32 },
    #[error(
        "dot diameter range [{min}, {max}] mm is invalid: need 0 < min <= max <= {limit} mm \
 (the brief: 0.09-0.17 mm)"
    )]
    DiameterRange { min: f32, max: f32, limit: f32 },
    #[error(
        "pigment depth {0} mm is outside 0.1-2 mm (the brief: upper to mid papillary dermis, \
 0.25-0.5 mm)"
    )]
    DepthOutOfRange(f32),
    #[error("shade {0} is outside (0, 1] (1 = undiluted carbon black)")]
    ShadeOutOfRange(f32),
    #[error("cannot place the hairline on this head: {0}")]
    HeadGeometry(String),
    /// A hand-placed control point (`plan.hairline.points.KEY`) that does not fit the head.
    #[error("plan.hairline.points.{key}: expected {expected}")]
    HairlinePoint { key: &'static str, expected: String },
    #[error("zone `{zone}`: {source}")]
    InZone {
        zone: &'static str,
        source: Box<PlanError>,
    },
    #[error("zone `{0}` is listed twice; give each zone's settings once")]
    ZoneTwice(&'static str),
    #[error(
        "the {a} and {b} zones overlap by {overlap_mm:.0} mm on this head and ask for different settings: {fix}"
    )]
    ZonesOverlap {
        a: &'static str,
        b: &'static str,
        overlap_mm: f32,
        fix: String,
    },
    #[error("{0}")]
    Sessions(String),
    #[error(
        "impressions_per_hour {0} is outside 100-10000 (a practitioner places about 1,500-3,000 an hour)"
    )]
    WorkRate(f32),
}

impl Plan {
    /// Checks every number in the plan, hairline included, without looking at a head.
    pub fn validate(&self) -> Result<(), PlanError> {
        self.validate_dots()?;
        self.hairline.validate()?;
        zones::validate_geometry(&self.zone_geometry)?;
        for (i, (name, _)) in self.zones.iter().enumerate() {
            if self.zones[..i].iter().any(|(n, _)| n == name) {
                return Err(PlanError::ZoneTwice(name.as_str()));
            }
        }
        // Each zone's resolved numbers obey the plan's own rules.
        let table = self.zone_table();
        for z in &table.zones {
            let probe = Plan {
                density_per_cm2: z.density_per_cm2,
                dot_diameter_mm: z.dot_diameter_mm,
                depth_mm: z.depth_mm,
                shade: z.shade,
                ..Plan::default()
            };
            probe.validate_dots().map_err(|e| PlanError::InZone {
                zone: z.name.as_str(),
                source: Box::new(e),
            })?;
        }
        sessions::validate(&self.sessions)?;
        if !(100.0..=10_000.0).contains(&self.impressions_per_hour) {
            return Err(PlanError::WorkRate(self.impressions_per_hour));
        }
        Ok(())
    }

    /// Every zone's settings, the plan's own where the zone gives none.
    pub fn zone_table(&self) -> ZoneTable {
        ZoneTable {
            zones: ZoneName::ALL.map(|name| {
                let s = self
                    .zones
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, s)| s.clone())
                    .unwrap_or_default();
                zones::ResolvedZone {
                    name,
                    density_per_cm2: s.density_per_cm2.unwrap_or(self.density_per_cm2),
                    dot_diameter_mm: s.dot_diameter_mm.unwrap_or(self.dot_diameter_mm),
                    depth_mm: s.depth_mm.unwrap_or(self.depth_mm),
                    shade: s.shade.unwrap_or(self.shade),
                    needle: s.needle.unwrap_or(self.needle),
                }
            }),
        }
    }

    /// Checks the per-impression numbers only (density, diameter, depth, shade): what a layout
    /// over any region needs, whatever bounds it.
    pub fn validate_dots(&self) -> Result<(), PlanError> {
        let [dmin, dmax] = self.dot_diameter_mm;
        for (field, value) in [
            ("density_per_cm2", self.density_per_cm2),
            ("dot_diameter_mm[0]", dmin),
            ("dot_diameter_mm[1]", dmax),
            ("depth_mm", self.depth_mm),
            ("shade", self.shade),
        ] {
            if !value.is_finite() {
                return Err(PlanError::NotFinite { field, value });
            }
        }
        if self.density_per_cm2 <= 0.0 {
            return Err(PlanError::DensityNotPositive(self.density_per_cm2));
        }
        if self.density_per_cm2 > MAX_DENSITY_PER_CM2 {
            return Err(PlanError::DensityTooHigh {
                density: self.density_per_cm2,
                max: MAX_DENSITY_PER_CM2,
            });
        }
        if !(dmin > 0.0 && dmin <= dmax && dmax <= MAX_DOT_DIAMETER_MM) {
            return Err(PlanError::DiameterRange {
                min: dmin,
                max: dmax,
                limit: MAX_DOT_DIAMETER_MM,
            });
        }
        if !(DEPTH_RANGE_MM[0]..=DEPTH_RANGE_MM[1]).contains(&self.depth_mm) {
            return Err(PlanError::DepthOutOfRange(self.depth_mm));
        }
        if !(self.shade > 0.0 && self.shade <= 1.0) {
            return Err(PlanError::ShadeOutOfRange(self.shade));
        }
        Ok(())
    }
}
