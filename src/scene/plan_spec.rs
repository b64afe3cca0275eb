//! The `[plan]` and `[client.condition]` tables of a scene file: what the practitioner plans
//! and the client's hair loss and scars, as written in TOML, and their checks.

use super::word::Word;
use crate::plan::condition::{AlopeciaPatch, HairLoss, HairLossPattern, Scar};
use crate::plan::{
    Coverage, Hairline, HairlinePreset, HairlineShape, Needle, PinnedPoint, PinnedPoints, Plan,
    Session, ZoneGeometry, ZoneName, ZoneSettings,
};
use serde::Deserialize;

/// A check that failed: the key (dotted, with list indices) and what was expected.
pub type KeyError = (String, String);

fn err<T>(key: impl Into<String>, expected: impl Into<String>) -> Result<T, KeyError> {
    Err((key.into(), expected.into()))
}

fn range(key: &str, v: f32, lo: f32, hi: f32, what: &str) -> Result<(), KeyError> {
    if v.is_finite() && (lo..=hi).contains(&v) {
        Ok(())
    } else {
        err(key, format!("{what} between {lo} and {hi}, got {v}"))
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanSpec {
    pub seed: u64,
    pub density_per_cm2: f32,
    #[serde(deserialize_with = "super::exact::array")]
    pub dot_diameter_mm: [f32; 2],
    pub depth_mm: f32,
    pub shade: f32,
    /// Needle code, e.g. "0603" (three 0.20 mm points).
    pub needle: Word<Needle>,
    /// "hair-loss" or "full-scalp".
    pub coverage: Word<Coverage>,
    pub impressions_per_hour: f32,
    pub hairline: HairlineSpec,
    pub zones: Vec<ZoneSpec>,
    pub sessions: Vec<SessionSpec>,
}

impl Default for PlanSpec {
    fn default() -> Self {
        let p = Plan::default();
        Self {
            seed: p.seed,
            density_per_cm2: p.density_per_cm2,
            dot_diameter_mm: p.dot_diameter_mm,
            depth_mm: p.depth_mm,
            shade: p.shade,
            needle: Word::builtin(&p.needle.code()),
            coverage: Word::builtin("hair-loss"),
            impressions_per_hour: p.impressions_per_hour,
            hairline: HairlineSpec::default(),
            zones: Vec::new(),
            sessions: Vec::new(),
        }
    }
}

/// `[plan.hairline]`: a preset and/or explicit values (explicit ones win).
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HairlineSpec {
    pub preset: Option<String>,
    pub height_cm: Option<f32>,
    pub transition_mm: Option<f32>,
    pub temple_recession_mm: Option<f32>,
    pub irregularity_mm: Option<f32>,
    pub shape: Option<String>,
    pub widows_peak_mm: Option<f32>,
    pub temple_point_mm: Option<f32>,
    /// Control points pinned on the skin (`stipple view`'s design mode writes them).
    pub points: Option<PointsSpec>,
}

/// `[plan.hairline.points]`: corners and temple points on the skin, `[x, y, z]` in mm in head
/// space (+X the client's left, +Y up, +Z the face). Any left out follow the rules
/// (`temple_recession_mm`, `temple_point_mm`); the mid-frontal point is `height_cm`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PointsSpec {
    #[serde(default, deserialize_with = "super::exact::option")]
    pub left_corner: Option<[f32; 3]>,
    #[serde(default, deserialize_with = "super::exact::option")]
    pub right_corner: Option<[f32; 3]>,
    #[serde(default, deserialize_with = "super::exact::option")]
    pub left_temple: Option<[f32; 3]>,
    #[serde(default, deserialize_with = "super::exact::option")]
    pub right_temple: Option<[f32; 3]>,
}

/// Farthest a control point may be from the head's origin (mm): beyond it the numbers are
/// not head-space millimetres (metres or centimetres typed by mistake, or garbage).
pub const MAX_POINT_COORD_MM: f32 = 1000.0;

impl PointsSpec {
    pub fn get(&self, p: PinnedPoint) -> Option<[f32; 3]> {
        match p {
            PinnedPoint::LeftCorner => self.left_corner,
            PinnedPoint::RightCorner => self.right_corner,
            PinnedPoint::LeftTemple => self.left_temple,
            PinnedPoint::RightTemple => self.right_temple,
        }
    }

    pub fn pinned(&self) -> PinnedPoints {
        let mut out = PinnedPoints::default();
        for p in PinnedPoint::ALL {
            out.set(p, self.get(p).map(glam::Vec3::from_array));
        }
        out
    }
}

/// `[[plan.zones]]`: one zone's own settings and, for some zones, where it lies.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSpec {
    pub name: Word<ZoneName>,
    pub density_per_cm2: Option<f32>,
    #[serde(default, deserialize_with = "super::exact::option")]
    pub dot_diameter_mm: Option<[f32; 2]>,
    pub depth_mm: Option<f32>,
    pub shade: Option<f32>,
    pub needle: Option<Word<Needle>>,
    /// Hairline: depth of the band behind the hairline; front: depth behind that band (mm).
    pub extent_mm: Option<f32>,
    /// Crown: radius of the disc (mm).
    pub radius_mm: Option<f32>,
    /// Scar: margin around each scar (mm).
    pub margin_mm: Option<f32>,
}

/// `[[plan.sessions]]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    pub share: f32,
    #[serde(default = "one")]
    pub shade_scale: f32,
}

fn one() -> f32 {
    1.0
}

/// `[client.condition]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConditionSpec {
    /// "none", "norwood-1".."norwood-7" (+ "norwood-2a".."norwood-5a", "norwood-3v"),
    /// "ludwig-1".."ludwig-3", "totalis".
    pub pattern: Word<HairLossPattern>,
    /// Where the client's own hair began, above the glabella (cm).
    pub native_hairline_cm: f32,
    pub patches: Vec<PatchSpec>,
    pub scars: Vec<ScarSpec>,
}

impl Default for ConditionSpec {
    fn default() -> Self {
        let l = HairLoss::default();
        Self {
            pattern: Word::builtin("totalis"),
            native_hairline_cm: l.native_hairline_height_mm / 10.0,
            patches: Vec::new(),
            scars: Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchSpec {
    pub azimuth_deg: f32,
    pub elevation_deg: f32,
    pub radius_mm: f32,
}

#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScarSpec {
    /// "fut-strip" or "fue".
    pub kind: String,
    pub width_mm: Option<f32>,
    pub length_mm: Option<f32>,
    pub above_occiput_mm: Option<f32>,
    pub count: Option<u32>,
    pub diameter_mm: Option<f32>,
}

impl PlanSpec {
    /// Checks every key; the first failure names its key and what was expected.
    pub fn validate(&self) -> Result<(), KeyError> {
        // Far above any real plan (about 100/cm2), but 1,000,000-dot stress scenes need it.
        dots_keys(
            "plan",
            Some(self.density_per_cm2),
            Some(self.dot_diameter_mm),
            Some(self.depth_mm),
            Some(self.shade),
        )?;
        // The needle, coverage and zone names were parsed with the file (`super::word`).
        range(
            "plan.impressions_per_hour",
            self.impressions_per_hour,
            100.0,
            10_000.0,
            "impressions per hour of needle work (about 1,500-3,000)",
        )?;
        self.validate_hairline()?;
        for (i, z) in self.zones.iter().enumerate() {
            let key = format!("plan.zones[{i}]");
            let name = z.name.get();
            if let Some(j) = self.zones[..i].iter().position(|o| o.name.get() == name) {
                return err(
                    format!("{key}.name"),
                    format!(
                        "each zone once, but `{}` is also plan.zones[{j}]: merge their settings",
                        z.name
                    ),
                );
            }
            dots_keys(
                &key,
                z.density_per_cm2,
                z.dot_diameter_mm,
                z.depth_mm,
                z.shade,
            )?;
            let geometry: [(&str, Option<f32>, &[ZoneName]); 3] = [
                (
                    "extent_mm",
                    z.extent_mm,
                    &[ZoneName::Hairline, ZoneName::Front],
                ),
                ("radius_mm", z.radius_mm, &[ZoneName::Crown]),
                ("margin_mm", z.margin_mm, &[ZoneName::Scar]),
            ];
            for (field, value, owners) in geometry {
                let Some(v) = value else { continue };
                if !owners.contains(&name) {
                    return err(
                        format!("{key}.{field}"),
                        format!(
                            "no {field} on the {} zone ({field} belongs to the {} zone)",
                            z.name,
                            owners
                                .iter()
                                .map(|o| o.as_str())
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                    );
                }
                let max = match (name, field) {
                    (ZoneName::Hairline, _) => crate::plan::zones::MAX_HAIRLINE_BAND_MM,
                    (ZoneName::Scar, _) => crate::plan::zones::MAX_SCAR_MARGIN_MM,
                    _ => crate::plan::zones::MAX_ZONE_EXTENT_MM,
                };
                range(&format!("{key}.{field}"), v, 0.0, max, "a distance in mm")?;
            }
        }
        if self.sessions.len() > crate::plan::sessions::MAX_SESSIONS {
            return err(
                "plan.sessions",
                format!("1 to 4 sessions, got {}", self.sessions.len()),
            );
        }
        for (i, s) in self.sessions.iter().enumerate() {
            let key = format!("plan.sessions[{i}]");
            range(
                &format!("{key}.share"),
                s.share,
                0.001,
                1.0,
                "a share of all dots",
            )?;
            range(
                &format!("{key}.shade_scale"),
                s.shade_scale,
                0.1,
                2.0,
                "a factor on the zone's shade",
            )?;
        }
        if !self.sessions.is_empty() {
            let total: f32 = self.sessions.iter().map(|s| s.share).sum();
            if (total - 1.0).abs() > 0.005 {
                return err(
                    "plan.sessions",
                    format!(
                        "shares that add up to 1 (every dot belongs to one session), got {total:.3}"
                    ),
                );
            }
        }
        Ok(())
    }

    fn validate_hairline(&self) -> Result<(), KeyError> {
        let h = &self.hairline;
        if let Some(p) = &h.preset {
            if HairlinePreset::parse(p).is_none() {
                return err(
                    "plan.hairline.preset",
                    format!("one of {}, got {p:?}", HairlinePreset::NAMES),
                );
            }
        }
        if let Some(s) = &h.shape {
            if HairlineShape::parse(s).is_none() {
                return err(
                    "plan.hairline.shape",
                    format!("\"straight\", \"rounded\" or \"mature\", got {s:?}"),
                );
            }
        }
        let checks = [
            (
                "height_cm",
                h.height_cm,
                5.0,
                14.0,
                "a height above the glabella in cm (7-10 is usual)",
            ),
            ("transition_mm", h.transition_mm, 1.0, 40.0, "a width in mm"),
            (
                "temple_recession_mm",
                h.temple_recession_mm,
                0.0,
                50.0,
                "a distance in mm",
            ),
            (
                "irregularity_mm",
                h.irregularity_mm,
                0.0,
                10.0,
                "an amplitude in mm",
            ),
            (
                "widows_peak_mm",
                h.widows_peak_mm,
                0.0,
                20.0,
                "a depth in mm",
            ),
            (
                "temple_point_mm",
                h.temple_point_mm,
                0.0,
                25.0,
                "a distance in mm (about 10)",
            ),
        ];
        for (field, value, lo, hi, what) in checks {
            if let Some(v) = value {
                range(&format!("plan.hairline.{field}"), v, lo, hi, what)?;
            }
        }
        if let Some(points) = &h.points {
            for p in PinnedPoint::ALL {
                let Some(v) = points.get(p) else { continue };
                if !v
                    .iter()
                    .all(|c| c.is_finite() && c.abs() <= MAX_POINT_COORD_MM)
                {
                    return err(
                        format!("plan.hairline.points.{}", p.key()),
                        format!(
                            "[x, y, z] on the skin in mm, head space (+X the client's left, +Y \
                             up, +Z the face), each within ±{MAX_POINT_COORD_MM}, got {v:?}"
                        ),
                    );
                }
            }
        }
        let hl = self.hairline();
        if let Err(e) = hl.validate() {
            return err(
                "plan.hairline",
                format!("a hairline that fits the face: {e}"),
            );
        }
        Ok(())
    }

    pub fn hairline(&self) -> Hairline {
        let h = &self.hairline;
        let base = h
            .preset
            .as_deref()
            .and_then(HairlinePreset::parse)
            .map_or_else(Hairline::default, HairlinePreset::hairline);
        Hairline {
            height_above_glabella_mm: h
                .height_cm
                .map_or(base.height_above_glabella_mm, |c| c * 10.0),
            transition_mm: h.transition_mm.unwrap_or(base.transition_mm),
            temple_recession_mm: h.temple_recession_mm.unwrap_or(base.temple_recession_mm),
            irregularity_mm: h.irregularity_mm.unwrap_or(base.irregularity_mm),
            shape: h
                .shape
                .as_deref()
                .and_then(HairlineShape::parse)
                .unwrap_or(base.shape),
            widows_peak_mm: h.widows_peak_mm.unwrap_or(base.widows_peak_mm),
            temple_point_mm: h.temple_point_mm.unwrap_or(base.temple_point_mm),
            points: h
                .points
                .as_ref()
                .map(PointsSpec::pinned)
                .unwrap_or_default(),
        }
    }

    /// The plan as the later stages take it (call after [`PlanSpec::validate`]).
    pub fn plan(&self) -> Plan {
        let mut geometry = ZoneGeometry::default();
        let zones = self
            .zones
            .iter()
            .map(|z| {
                let name = z.name.get();
                match name {
                    ZoneName::Hairline => {
                        geometry.hairline_band_mm = z.extent_mm.unwrap_or(geometry.hairline_band_mm)
                    }
                    ZoneName::Front => geometry.front_mm = z.extent_mm.unwrap_or(geometry.front_mm),
                    ZoneName::Crown => {
                        geometry.crown_radius_mm = z.radius_mm.unwrap_or(geometry.crown_radius_mm)
                    }
                    ZoneName::Scar => {
                        geometry.scar_margin_mm = z.margin_mm.unwrap_or(geometry.scar_margin_mm)
                    }
                    _ => {}
                }
                (
                    name,
                    ZoneSettings {
                        density_per_cm2: z.density_per_cm2,
                        dot_diameter_mm: z.dot_diameter_mm,
                        depth_mm: z.depth_mm,
                        shade: z.shade,
                        needle: z.needle.as_ref().map(Word::get),
                    },
                )
            })
            // A zone that only moves its border sets nothing of its own.
            .filter(|(_, s)| *s != ZoneSettings::default())
            .collect();
        let sessions = if self.sessions.is_empty() {
            vec![Session::default()]
        } else {
            self.sessions
                .iter()
                .map(|s| Session {
                    share: s.share,
                    shade_scale: s.shade_scale,
                })
                .collect()
        };
        Plan {
            seed: self.seed,
            density_per_cm2: self.density_per_cm2,
            dot_diameter_mm: self.dot_diameter_mm,
            depth_mm: self.depth_mm,
            shade: self.shade,
            needle: self.needle.get(),
            hairline: self.hairline(),
            zones,
            zone_geometry: geometry,
            sessions,
            coverage: self.coverage.get(),
            impressions_per_hour: self.impressions_per_hour,
        }
    }
}

/// The per-impression keys shared by the plan and its zones.
fn dots_keys(
    prefix: &str,
    density: Option<f32>,
    diameter: Option<[f32; 2]>,
    depth: Option<f32>,
    shade: Option<f32>,
) -> Result<(), KeyError> {
    if let Some(d) = density {
        range(
            &format!("{prefix}.density_per_cm2"),
            d,
            1.0,
            crate::plan::MAX_DENSITY_PER_CM2,
            "impressions per cm2 (about 100 is usual)",
        )?;
    }
    if let Some([lo, hi]) = diameter {
        range(
            &format!("{prefix}.dot_diameter_mm[0]"),
            lo,
            0.03,
            1.0,
            "a diameter in mm",
        )?;
        range(
            &format!("{prefix}.dot_diameter_mm[1]"),
            hi,
            lo,
            1.0,
            "a diameter in mm, at least the minimum,",
        )?;
    }
    if let Some(d) = depth {
        range(
            &format!("{prefix}.depth_mm"),
            d,
            0.1,
            2.0,
            "a depth in mm (0.25-0.5 is right)",
        )?;
    }
    if let Some(s) = shade {
        range(
            &format!("{prefix}.shade"),
            s,
            0.01,
            1.0,
            "a pigment concentration",
        )?;
    }
    Ok(())
}

impl ConditionSpec {
    pub fn validate(&self) -> Result<(), KeyError> {
        range(
            "client.condition.native_hairline_cm",
            self.native_hairline_cm,
            5.0,
            12.0,
            "a height above the glabella in cm",
        )?;
        for (i, p) in self.patches.iter().enumerate() {
            let key = format!("client.condition.patches[{i}]");
            range(
                &format!("{key}.azimuth_deg"),
                p.azimuth_deg,
                -180.0,
                180.0,
                "an angle (0 = the face, 90 = the client's left, 180 = the back)",
            )?;
            range(
                &format!("{key}.elevation_deg"),
                p.elevation_deg,
                -10.0,
                90.0,
                "an angle above the horizontal (90 = the top)",
            )?;
            range(
                &format!("{key}.radius_mm"),
                p.radius_mm,
                2.0,
                60.0,
                "a radius in mm",
            )?;
        }
        for (i, s) in self.scars.iter().enumerate() {
            let key = format!("client.condition.scars[{i}]");
            let (allowed, kind): (&[&str], &str) = match s.kind.as_str() {
                "fut-strip" => (
                    &["width_mm", "length_mm", "above_occiput_mm"],
                    "a FUT strip",
                ),
                "fue" => (&["count", "diameter_mm"], "FUE scars"),
                other => {
                    return err(
                        format!("{key}.kind"),
                        format!("\"fut-strip\" or \"fue\", got {other:?}"),
                    );
                }
            };
            let given = [
                ("width_mm", s.width_mm.is_some()),
                ("length_mm", s.length_mm.is_some()),
                ("above_occiput_mm", s.above_occiput_mm.is_some()),
                ("count", s.count.is_some()),
                ("diameter_mm", s.diameter_mm.is_some()),
            ];
            if let Some((field, _)) = given.iter().find(|(f, g)| *g && !allowed.contains(f)) {
                return err(
                    format!("{key}.{field}"),
                    format!("only {} for {kind}", allowed.join(", ")),
                );
            }
            let f = |v: Option<f32>, d: f32| v.unwrap_or(d);
            match s.kind.as_str() {
                "fut-strip" => {
                    range(
                        &format!("{key}.width_mm"),
                        f(s.width_mm, 2.0),
                        0.3,
                        15.0,
                        "a scar width in mm (1-5 is usual)",
                    )?;
                    range(
                        &format!("{key}.length_mm"),
                        f(s.length_mm, 200.0),
                        10.0,
                        400.0,
                        "a length in mm",
                    )?;
                    range(
                        &format!("{key}.above_occiput_mm"),
                        f(s.above_occiput_mm, 10.0),
                        -40.0,
                        60.0,
                        "a height in mm",
                    )?;
                }
                _ => {
                    let c = s.count.unwrap_or(600);
                    if !(1..=10_000).contains(&c) {
                        return err(format!("{key}.count"), format!("1 to 10000 scars, got {c}"));
                    }
                    range(
                        &format!("{key}.diameter_mm"),
                        f(s.diameter_mm, 0.9),
                        0.5,
                        2.0,
                        "a punch diameter in mm (0.8-1.0 is usual)",
                    )?;
                }
            }
        }
        Ok(())
    }

    pub fn hair_loss(&self) -> HairLoss {
        HairLoss {
            pattern: self.pattern.get(),
            native_hairline_height_mm: self.native_hairline_cm * 10.0,
            patches: self
                .patches
                .iter()
                .map(|p| AlopeciaPatch {
                    azimuth_deg: p.azimuth_deg,
                    elevation_deg: p.elevation_deg,
                    radius_mm: p.radius_mm,
                })
                .collect(),
            scars: self
                .scars
                .iter()
                .map(|s| match s.kind.as_str() {
                    "fut-strip" => Scar::FutStrip {
                        width_mm: s.width_mm.unwrap_or(2.0),
                        length_mm: s.length_mm.unwrap_or(200.0),
                        above_occiput_mm: s.above_occiput_mm.unwrap_or(10.0),
                    },
                    _ => Scar::Fue {
                        count: s.count.unwrap_or(600),
                        diameter_mm: s.diameter_mm.unwrap_or(0.9),
                    },
                })
                .collect(),
        }
    }
}
