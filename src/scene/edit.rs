//! Writes a hairline design back into a scene file's own text: the viewer's design mode saves
//! through here. `toml_edit` keeps every comment, blank line, key order and number format the
//! file had; only the values the design sets change (each keeping the comment beside it), and
//! `[plan.hairline.points]` is added after `[plan.hairline]` when the design pins a point.

use crate::plan::{PinnedPoint, PinnedPoints};
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, TableLike, Value};

/// What design mode changes in a scene: the mid-frontal point's height above the glabella
/// along the skin, and the control points pinned on the skin (head space, mm).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HairlineDesign {
    pub height_cm: f32,
    pub points: PinnedPoints,
}

/// Said above a `[plan.hairline.points]` table the design adds.
const POINTS_COMMENT: &str = "\n# Hairline points drawn in `stipple view` (D: design mode; W: save): on the skin, \
[x, y, z] mm in\n# head space (+X the client's left, +Y up, +Z the face). Points left out follow the rules.\n";

/// A number as the file will hold it: `decimals` places, shortest form (8.0, 8.25, 101.3).
/// The design rounds to the same places before it lays anything out, so the saved file
/// reads back to exactly the hairline on screen.
pub fn rounded(v: f32, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    (v as f64 * k).round() / k
}

/// A point rounded as it is written (0.1 mm), as the scene parser will read it back.
pub fn rounded_point(p: glam::Vec3) -> glam::Vec3 {
    glam::Vec3::from_array(p.to_array().map(|c| rounded(c, 1) as f32))
}

/// The height as it is written (0.01 cm, a tenth of a millimetre) and read back.
pub fn rounded_height_cm(cm: f32) -> f32 {
    rounded(cm, 2) as f32
}

/// `text` with the hairline design written in. Errors say what in the file's structure is in
/// the way (a `plan` that is not a table, say).
pub fn write_hairline(text: &str, design: &HairlineDesign) -> Result<String, String> {
    let mut doc: DocumentMut = text
        .parse()
        .map_err(|e| format!("the scene is not valid TOML: {e}"))?;
    let hairline_position = doc
        .get("plan")
        .and_then(|p| p.get("hairline"))
        .and_then(|h| h.as_table())
        .and_then(|t| t.position());
    let mut new_table = false;
    let mut orphaned: Option<(Option<isize>, String)> = None;
    let root = doc.as_table_mut();
    let plan = child_table(root, "plan")?;
    let inline = plan.get("hairline").is_some_and(|i| i.is_inline_table());
    let hairline = child_table(plan, "hairline")?;
    set_value(
        hairline,
        "height_cm",
        Value::from(rounded(design.height_cm, 2)),
    );
    let pinned: Vec<(PinnedPoint, glam::Vec3)> = PinnedPoint::ALL
        .into_iter()
        .filter_map(|p| design.points.get(p).map(|v| (p, v)))
        .collect();
    if pinned.is_empty() {
        if let Some(points) = hairline
            .get_mut("points")
            .and_then(|i| i.as_table_like_mut())
        {
            for p in PinnedPoint::ALL {
                points.remove(p.key());
            }
            if points.is_empty() {
                if let Some(Item::Table(t)) = hairline.remove("points") {
                    // Comments above the table that are not its own go to the next table.
                    let prefix = t.decor().prefix().and_then(|p| p.as_str()).unwrap_or("");
                    orphaned = Some((t.position(), prefix.replace(POINTS_COMMENT, "")));
                }
            }
        }
    } else {
        if hairline.get("points").is_none() {
            let item = if inline {
                Item::Value(Value::InlineTable(InlineTable::new()))
            } else {
                new_table = true;
                Item::Table(Table::new())
            };
            hairline.insert("points", item);
        }
        let points = hairline
            .get_mut("points")
            .and_then(|i| i.as_table_like_mut())
            .ok_or("`plan.hairline.points` is not a table")?;
        for p in PinnedPoint::ALL {
            match design.points.get(p) {
                Some(v) => {
                    let array: Array = v.to_array().iter().map(|&c| rounded(c, 1)).collect();
                    set_value(points, p.key(), Value::Array(array));
                }
                None => {
                    points.remove(p.key());
                }
            }
        }
    }
    if let Some((Some(pos), text)) = orphaned.filter(|o| !o.1.trim().is_empty()) {
        let mut next: Option<isize> = None;
        visit_tables(doc.as_table_mut(), &mut |t| {
            if let Some(p) = t.position().filter(|&p| p > pos) {
                next = Some(next.map_or(p, |n| n.min(p)));
            }
        });
        visit_tables(doc.as_table_mut(), &mut |t| {
            if t.position().is_some() && t.position() == next {
                let prefix = t.decor().prefix().and_then(|p| p.as_str()).unwrap_or("");
                let joined = format!("{}{prefix}", text.trim_start_matches('\n'));
                t.decor_mut().set_prefix(joined);
            }
        });
    }
    if new_table {
        // Comment lines right under `[plan.hairline]`'s last key (up to a blank line) are
        // about the hairline, but TOML files them before the next table: keep them above the
        // new points table, not under it (where an uncommented key would land in `points`).
        let mut kept = String::new();
        if let Some(pos) = hairline_position {
            let mut next: Option<isize> = None;
            visit_tables(doc.as_table_mut(), &mut |t| {
                if let Some(p) = t.position().filter(|&p| p > pos) {
                    next = Some(next.map_or(p, |n| n.min(p)));
                }
            });
            visit_tables(doc.as_table_mut(), &mut |t| {
                if t.position().is_none() || t.position() != next {
                    return;
                }
                let prefix = t
                    .decor()
                    .prefix()
                    .and_then(|p| p.as_str())
                    .unwrap_or("")
                    .to_string();
                if prefix.starts_with('#') {
                    let split = prefix.find("\n\n").map_or(prefix.len(), |i| i + 1);
                    kept = prefix[..split].to_string();
                    t.decor_mut().set_prefix(&prefix[split..]);
                }
            });
        }
        if let Some(t) = doc["plan"]["hairline"]["points"].as_table_mut() {
            t.decor_mut().set_prefix(format!("{kept}{POINTS_COMMENT}"));
        }
    }
    Ok(doc.to_string())
}

/// Calls `f` on `t` and every table under it (arrays of tables included).
fn visit_tables(t: &mut Table, f: &mut dyn FnMut(&mut Table)) {
    f(t);
    for (_, item) in t.iter_mut() {
        match item {
            Item::Table(sub) => visit_tables(sub, f),
            Item::ArrayOfTables(a) => {
                for sub in a.iter_mut() {
                    visit_tables(sub, f);
                }
            }
            _ => {}
        }
    }
}

/// The sub-table `key` of `parent`, created (as `[parent.key]`, or inline inside an inline
/// table) when missing.
fn child_table<'a>(
    parent: &'a mut dyn TableLike,
    key: &str,
) -> Result<&'a mut dyn TableLike, String> {
    if parent.get(key).is_none() {
        let mut t = Table::new();
        t.set_implicit(key == "plan");
        parent.insert(key, Item::Table(t));
    }
    parent
        .get_mut(key)
        .and_then(|i| i.as_table_like_mut())
        .ok_or_else(|| format!("`{key}` in the scene is not a table"))
}

/// Sets `key` to `value`, keeping the spacing and any comment the old value had beside it.
fn set_value(table: &mut dyn TableLike, key: &str, mut value: Value) {
    match table.get_mut(key) {
        Some(Item::Value(old)) => {
            *value.decor_mut() = old.decor().clone();
            *old = value;
        }
        _ => {
            table.insert(key, Item::Value(value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENE: &str = "# a client\n[plan]\nseed = 7 # the seed\n\n[plan.hairline]\n\
# along the skin\nheight_cm = 8.0   # mid-frontal\ntransition_mm = 12\n# preset = \"soft\"\n\n\
# the render\n[render]\nwidth = 64\n";

    #[test]
    fn only_the_height_changes_and_comments_stay() {
        let d = HairlineDesign {
            height_cm: 9.0,
            points: PinnedPoints::default(),
        };
        let out = write_hairline(SCENE, &d).unwrap();
        assert_eq!(out, SCENE.replace("height_cm = 8.0", "height_cm = 9.0"));
    }

    #[test]
    fn pinned_points_get_their_own_table_and_can_be_removed() {
        let points = PinnedPoints {
            left_corner: Some(glam::Vec3::new(48.04, 101.26, 61.0)),
            ..Default::default()
        };
        let d = HairlineDesign {
            height_cm: 8.25,
            points,
        };
        let out = write_hairline(SCENE, &d).unwrap();
        assert!(out.contains("height_cm = 8.25   # mid-frontal"), "{out}");
        assert!(out.contains("[plan.hairline.points]"), "{out}");
        assert!(out.contains("left_corner = [48.0, 101.3, 61.0]"), "{out}");
        // The points table sits with the hairline, before the render table and its comment,
        // and the hairline's own trailing comment stays above it.
        let at = |s: &str| out.find(s).unwrap();
        assert!(at("# preset") < at("[plan.hairline.points]"), "{out}");
        assert!(at("[plan.hairline.points]") < at("# the render"), "{out}");
        let back = write_hairline(
            &out,
            &HairlineDesign {
                height_cm: 8.0,
                points: PinnedPoints::default(),
            },
        )
        .unwrap();
        assert!(!back.contains("left_corner"), "{back}");
        assert!(
            back.contains("transition_mm = 12\n# preset = \"soft\"\n"),
            "{back}"
        );
        assert!(back.contains("# the render\n[render]"), "{back}");
    }

    #[test]
    fn a_scene_without_a_hairline_table_gets_one() {
        let d = HairlineDesign {
            height_cm: 7.5,
            points: PinnedPoints::default(),
        };
        let out = write_hairline("[client]\nskin = \"#d7a486\"\n", &d).unwrap();
        let v: toml::Value = toml::from_str(&out).unwrap();
        assert_eq!(v["plan"]["hairline"]["height_cm"].as_float(), Some(7.5));
        assert!(!out.contains("[plan]\n"), "an implicit [plan]: {out}");
    }
}
