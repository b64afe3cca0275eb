//! Zones: the treated area split into parts that get their own density, dot size, depth,
//! shade and needle (a practitioner works the hairline finer and lighter than the crown).
//!
//! Every zone has a fixed place on the head; a plan lists the ones whose settings differ from
//! the plan's own. Where zones overlap, the earlier one in [`ZoneName::PRIORITY`] wins.

use super::PlanError;

/// The zones, by where they are on the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ZoneName {
    /// A band just behind the frontal hairline, temples included.
    Hairline,
    /// The front of the top, behind the hairline band.
    Front,
    /// The rest of the scalp: the top behind the front zone, the sides and the back.
    MidScalp,
    /// A disc around the crown whorl.
    Crown,
    /// Scars and a margin around them.
    Scar,
    /// Where SMP feathers into the client's own hair (at least half of its native density).
    Blend,
}

impl ZoneName {
    pub const ALL: [ZoneName; 6] = [
        ZoneName::Hairline,
        ZoneName::Front,
        ZoneName::MidScalp,
        ZoneName::Crown,
        ZoneName::Scar,
        ZoneName::Blend,
    ];
    /// Which zone a point belongs to when several could claim it.
    pub const PRIORITY: [ZoneName; 6] = [
        ZoneName::Scar,
        ZoneName::Blend,
        ZoneName::Hairline,
        ZoneName::Crown,
        ZoneName::Front,
        ZoneName::MidScalp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ZoneName::Hairline => "hairline",
            ZoneName::Front => "front",
            ZoneName::MidScalp => "mid-scalp",
            ZoneName::Crown => "crown",
            ZoneName::Scar => "scar",
            ZoneName::Blend => "blend",
        }
    }

    pub fn parse(s: &str) -> Option<ZoneName> {
        ZoneName::ALL.into_iter().find(|z| z.as_str() == s)
    }

    pub const NAMES: &'static str = "hairline, front, mid-scalp, crown, scar or blend";

    pub fn index(self) -> usize {
        ZoneName::ALL
            .iter()
            .position(|&z| z == self)
            .expect("listed")
    }
}

/// A tattoo needle: the brief's 1- or 3-point round needles, 0.18-0.30 mm.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Needle {
    /// 1 (single point) or 3 (three points soldered in a tight round group).
    pub points: u8,
    /// Diameter of one point (mm): #06 = 0.20, #08 = 0.25.
    pub diameter_mm: f32,
}

impl Default for Needle {
    /// 0603: three 0.20 mm points, the brief's common SMP needle.
    fn default() -> Self {
        Needle {
            points: 3,
            diameter_mm: 0.20,
        }
    }
}

impl Needle {
    /// Parses the trade code "GGPP": gauge GG (05 = 0.18 mm, 06 = 0.20, 07 = 0.23,
    /// 08 = 0.25, 10 = 0.30) and points PP (01 or 03), e.g. "0603", "0801".
    pub fn parse(code: &str) -> Option<Needle> {
        if code.len() != 4 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let diameter_mm = match &code[..2] {
            "05" => 0.18,
            "06" => 0.20,
            "07" => 0.23,
            "08" => 0.25,
            "10" => 0.30,
            _ => return None,
        };
        let points = match &code[2..] {
            "01" => 1,
            "03" => 3,
            _ => return None,
        };
        Some(Needle {
            points,
            diameter_mm,
        })
    }

    pub const EXPECTED: &'static str =
        "a needle code GGPP: gauge 05, 06, 07, 08 or 10 and 01 or 03 points, e.g. \"0603\"";

    /// The trade code back ("0603").
    pub fn code(&self) -> String {
        let gauge = match (self.diameter_mm * 100.0).round() as u32 {
            18 => "05",
            20 => "06",
            23 => "07",
            25 => "08",
            _ => "10",
        };
        format!("{gauge}{:02}", self.points)
    }
}

/// What one zone asks for. `None` keeps the plan's own value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZoneSettings {
    pub density_per_cm2: Option<f32>,
    pub dot_diameter_mm: Option<[f32; 2]>,
    pub depth_mm: Option<f32>,
    pub shade: Option<f32>,
    pub needle: Option<Needle>,
}

/// Where the zones lie (mm along the skin).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ZoneGeometry {
    /// Depth of the hairline band behind the hairline (its transition zone included).
    pub hairline_band_mm: f32,
    /// Depth of the front zone behind the hairline band.
    pub front_mm: f32,
    /// Radius of the crown disc.
    pub crown_radius_mm: f32,
    /// Margin of the scar zone around each scar.
    pub scar_margin_mm: f32,
}

impl Default for ZoneGeometry {
    fn default() -> Self {
        ZoneGeometry {
            hairline_band_mm: 15.0,
            front_mm: 45.0,
            crown_radius_mm: 40.0,
            scar_margin_mm: 3.0,
        }
    }
}

/// Limits on zone geometry (mm): the hairline band is measured from the hairline's own
/// distance field, which reaches 16 mm past its transition zone.
pub const MAX_HAIRLINE_BAND_MM: f32 = 30.0;
pub const MAX_ZONE_EXTENT_MM: f32 = 150.0;
pub const MAX_SCAR_MARGIN_MM: f32 = 15.0;

/// The resolved settings of every zone: the plan's values where a zone gives none.
#[derive(Clone, Debug, PartialEq)]
pub struct ZoneTable {
    pub zones: [ResolvedZone; 6],
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ResolvedZone {
    pub name: ZoneName,
    pub density_per_cm2: f32,
    pub dot_diameter_mm: [f32; 2],
    pub depth_mm: f32,
    pub shade: f32,
    pub needle: Needle,
}

impl ZoneTable {
    pub fn get(&self, z: ZoneName) -> &ResolvedZone {
        &self.zones[z.index()]
    }

    /// Highest density of any zone: the layout's full-weight density.
    pub fn max_density_per_cm2(&self) -> f32 {
        self.zones
            .iter()
            .map(|z| z.density_per_cm2)
            .fold(0.0, f32::max)
    }
}

/// Checks a zone's geometry fields against their ranges.
pub fn validate_geometry(g: &ZoneGeometry) -> Result<(), PlanError> {
    for (field, value, max) in [
        (
            "zones.hairline.extent_mm",
            g.hairline_band_mm,
            MAX_HAIRLINE_BAND_MM,
        ),
        ("zones.front.extent_mm", g.front_mm, MAX_ZONE_EXTENT_MM),
        (
            "zones.crown.radius_mm",
            g.crown_radius_mm,
            MAX_ZONE_EXTENT_MM,
        ),
        ("zones.scar.margin_mm", g.scar_margin_mm, MAX_SCAR_MARGIN_MM),
    ] {
        if !value.is_finite() {
            return Err(PlanError::NotFinite { field, value });
        }
        if !(0.0..=max).contains(&value) {
            return Err(PlanError::HairlineParameterOutOfRange {
                field,
                value,
                max_mm: max,
            });
        }
    }
    Ok(())
}
