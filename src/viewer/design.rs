//! Design mode (`D`): the hairline's control points on the head, dragged with the mouse.
//!
//! The mid-frontal point moves up and down the midline (its height above the glabella along
//! the skin, in whole millimetres, is the scene's `plan.hairline.height_cm`); the corners and
//! temple points move anywhere on the skin and are pinned where they are dropped
//! (`plan.hairline.points`). Every value is rounded as the file will hold it before the
//! hairline is measured, so what is on screen is what a saved scene gives. While a point is
//! dragged only the line is re-measured (a preview in the overlay); on release the plan is
//! laid out again and its figures recomputed.
//!
//! Guides, from the domain brief: the midline from the glabella with marks at 7-10 cm (the
//! usual mid-frontal height; Garg's method 8 cm), the verticals above the outer eye corners
//! (the frontotemporal angle lies on that line, the temporal point about 1 cm outside it).

use super::overlay::Shape;
use crate::camera::Camera;
use crate::head::Head;
use crate::plan::hairline::{HairlinePointKind, MAX_HAIRLINE_HEIGHT_MM, MIN_HAIRLINE_HEIGHT_MM};
use crate::plan::{DesignGuides, Hairline, PinnedPoint, PinnedPoints, TreatedRegion};
use crate::scene::edit::{HairlineDesign, rounded_height_cm, rounded_point};
use glam::{Vec3, Vec4};

/// The brief's usual mid-frontal heights (cm above the glabella), marked on the midline.
pub const MIDLINE_MARKS_CM: [f32; 4] = [7.0, 8.0, 9.0, 10.0];
/// A press this close (logical pixels) to a control point grabs it.
pub const GRAB_RADIUS_PX: f32 = 14.0;

/// A point the practitioner can drag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Handle {
    MidFrontal,
    Pinned(PinnedPoint),
}

impl Handle {
    pub fn label(self) -> &'static str {
        match self {
            Handle::MidFrontal => "mid-frontal point",
            Handle::Pinned(p) => p.name(),
        }
    }
}

/// The design being drawn on one head.
pub struct Design {
    pub guides: DesignGuides,
    /// The scene's hairline: what the design does not change (transition, shape, seed...).
    base: Hairline,
    seed: u64,
    pub height_mm: f32,
    pub points: PinnedPoints,
    /// The line measured for the design as it is now.
    pub region: TreatedRegion,
    /// Why the last move was refused (the line would not fit the head).
    pub error: Option<String>,
}

/// A screen position (pixels, y down) and whether it faces the camera.
#[derive(Clone, Copy, Debug)]
struct OnScreen {
    x: f32,
    y: f32,
    visible: bool,
}

/// Projects head-space points into a `w` x `h` window through `camera`.
struct Projector {
    view_proj: glam::Mat4,
    eye: Vec3,
    center: Vec3,
    w: f32,
    h: f32,
}

impl Projector {
    fn new(camera: &Camera, (w, h): (u32, u32), center: Vec3) -> Self {
        Projector {
            view_proj: camera.view_projection(),
            eye: camera.eye_mm,
            center,
            w: w as f32,
            h: h as f32,
        }
    }

    fn at(&self, p: Vec3) -> OnScreen {
        let c = self.view_proj * Vec4::new(p.x, p.y, p.z, 1.0);
        let (x, y) = if c.w > 1e-6 {
            (
                (c.x / c.w + 1.0) * 0.5 * self.w,
                (1.0 - c.y / c.w) * 0.5 * self.h,
            )
        } else {
            (f32::NAN, f32::NAN)
        };
        // The skull is close to convex about its centre: a point whose outward direction
        // faces away from the eye is behind the head.
        let facing = (p - self.center).dot(self.eye - p) > 0.0;
        OnScreen {
            x,
            y,
            visible: c.w > 1e-6 && facing && x.is_finite() && y.is_finite(),
        }
    }
}

/// The ray from the eye through window pixel (`x`, `y`): (origin, unit direction).
pub fn pixel_ray(camera: &Camera, (w, h): (u32, u32), x: f32, y: f32) -> (Vec3, Vec3) {
    let inv = camera.view_projection().inverse();
    let ndc_x = 2.0 * x / w.max(1) as f32 - 1.0;
    let ndc_y = 1.0 - 2.0 * y / h.max(1) as f32;
    let near = inv * Vec4::new(ndc_x, ndc_y, 0.0, 1.0);
    let far = inv * Vec4::new(ndc_x, ndc_y, 1.0, 1.0);
    let (a, b) = (near.truncate() / near.w, far.truncate() / far.w);
    (a, (b - a).normalize_or(Vec3::NEG_Z))
}

impl Design {
    /// The design as the scene has it.
    pub fn new(head: &Head, hairline: &Hairline, seed: u64) -> Result<Design, String> {
        let guides = DesignGuides::new(head).map_err(|e| e.to_string())?;
        let region = TreatedRegion::new(head, hairline, seed).map_err(|e| e.to_string())?;
        Ok(Design {
            guides,
            base: hairline.clone(),
            seed,
            height_mm: hairline.height_above_glabella_mm,
            points: hairline.points,
            region,
            error: None,
        })
    }

    /// What saving writes.
    pub fn saved(&self) -> HairlineDesign {
        HairlineDesign {
            height_cm: self.height_mm / 10.0,
            points: self.points,
        }
    }

    fn hairline(&self, height_mm: f32, points: PinnedPoints) -> Hairline {
        Hairline {
            height_above_glabella_mm: height_mm,
            points,
            ..self.base.clone()
        }
    }

    /// The control points on the skin: (handle, surface point, pinned by hand).
    pub fn handles(&self) -> Vec<(Handle, Vec3, bool)> {
        self.region
            .control_points()
            .iter()
            .filter_map(|c| {
                let handle = match c.kind {
                    HairlinePointKind::MidFrontal => Handle::MidFrontal,
                    _ => Handle::Pinned(PinnedPoint::of_name(c.name)?),
                };
                let pinned = match handle {
                    Handle::MidFrontal => true,
                    Handle::Pinned(p) => self.points.get(p).is_some(),
                };
                Some((handle, c.position_mm, pinned))
            })
            .collect()
    }

    /// The handle within grab distance of window pixel (`x`, `y`), the nearest.
    pub fn pick(
        &self,
        camera: &Camera,
        size: (u32, u32),
        x: f32,
        y: f32,
        radius_px: f32,
    ) -> Option<Handle> {
        let proj = Projector::new(camera, size, self.guides.frame.center);
        self.handles()
            .into_iter()
            .filter_map(|(h, p, _)| {
                let s = proj.at(p);
                let d = ((s.x - x).powi(2) + (s.y - y).powi(2)).sqrt();
                (s.visible && d <= radius_px).then_some((h, d))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(h, _)| h)
    }

    /// Moves `handle` to the skin under window pixel (`x`, `y`); re-measures the line.
    /// Returns whether the design changed. A move the head cannot take is refused, with the
    /// reason in `error`.
    pub fn drag_to(
        &mut self,
        head: &Head,
        camera: &Camera,
        size: (u32, u32),
        handle: Handle,
        x: f32,
        y: f32,
    ) -> bool {
        let (o, d) = pixel_ray(camera, size, x, y);
        let Some(t) = head.mesh.raycast(o, d) else {
            return false;
        };
        let hit = o + t * d;
        let (mut height, mut points) = (self.height_mm, self.points);
        match handle {
            Handle::MidFrontal => {
                // The mid-frontal point stays on the midline: the height of the hit's level,
                // in whole millimetres along the skin.
                let (_, el) = self.guides.frame.angles(hit);
                height = self
                    .guides
                    .height_mm(el)
                    .round()
                    .clamp(MIN_HAIRLINE_HEIGHT_MM, MAX_HAIRLINE_HEIGHT_MM);
                height = 10.0 * rounded_height_cm(height / 10.0);
            }
            Handle::Pinned(p) => points.set(p, Some(rounded_point(hit))),
        }
        if height == self.height_mm && points == self.points {
            return false;
        }
        match TreatedRegion::new(head, &self.hairline(height, points), self.seed) {
            Ok(region) => {
                self.region = region;
                self.height_mm = height;
                self.points = points;
                self.error = None;
                true
            }
            Err(e) => {
                self.error = Some(format!("{}: {e}", handle.label()));
                true
            }
        }
    }

    /// Returns a pinned point to the rules (the corner to the eye-corner vertical, the
    /// temple point beside it).
    pub fn unpin(&mut self, head: &Head, handle: Handle) -> bool {
        let Handle::Pinned(p) = handle else {
            return false;
        };
        if self.points.get(p).is_none() {
            return false;
        }
        let mut points = self.points;
        points.set(p, None);
        match TreatedRegion::new(head, &self.hairline(self.height_mm, points), self.seed) {
            Ok(region) => {
                self.region = region;
                self.points = points;
                self.error = None;
                true
            }
            Err(e) => {
                self.error = Some(format!("{}: {e}", handle.label()));
                false
            }
        }
    }

    /// Window positions of the midline marks (7-10 cm), for people and for scripts.
    pub fn marks_on_screen(&self, camera: &Camera, size: (u32, u32)) -> Vec<(f32, f32, f32)> {
        let proj = Projector::new(camera, size, self.guides.frame.center);
        MIDLINE_MARKS_CM
            .iter()
            .filter_map(|&cm| {
                let s = proj.at(self.guides.midline_point(cm * 10.0)?);
                s.visible.then_some((cm, s.x, s.y))
            })
            .collect()
    }

    /// The handle's window position, if it faces the camera.
    pub fn handle_on_screen(
        &self,
        camera: &Camera,
        size: (u32, u32),
        handle: Handle,
    ) -> Option<(f32, f32)> {
        let proj = Projector::new(camera, size, self.guides.frame.center);
        let (_, p, _) = self.handles().into_iter().find(|h| h.0 == handle)?;
        let s = proj.at(p);
        s.visible.then_some((s.x, s.y))
    }

    /// The overlay: guides, the line, the points and their figures, for a window `size`
    /// at `scale` (the window's scale factor).
    pub fn shapes(
        &self,
        camera: &Camera,
        size: (u32, u32),
        scale: f32,
        grabbed: Option<Handle>,
    ) -> Vec<Shape> {
        let proj = Projector::new(camera, size, self.guides.frame.center);
        let mut out = Vec::new();
        let polyline = |pts: &[Vec3], closed: bool| -> Vec<Vec<(f32, f32)>> {
            // Runs of visible points, split where the line goes behind the head.
            let mut runs = vec![Vec::new()];
            let n = pts.len();
            for i in 0..n + usize::from(closed) {
                let s = proj.at(pts[i % n]);
                if s.visible {
                    runs.last_mut().expect("a run").push((s.x, s.y));
                } else if !runs.last().expect("a run").is_empty() {
                    runs.push(Vec::new());
                }
            }
            runs.retain(|r| r.len() >= 2);
            runs
        };
        const GUIDE: [u8; 3] = [120, 220, 255];
        const LINE: [u8; 3] = [255, 236, 120];
        const MARK: [u8; 3] = [235, 235, 235];
        // The verticals above the outer eye corners.
        for v in &self.guides.eye_verticals {
            for run in polyline(v, false) {
                out.push(Shape::Line {
                    points: run,
                    rgb: GUIDE,
                    width_px: 1.5 * scale,
                    dash_px: Some(7.0 * scale),
                });
            }
        }
        // The midline from the glabella to the mid-frontal point, with the 7-10 cm marks.
        for run in polyline(&self.guides.midline_to(self.height_mm), false) {
            out.push(Shape::Line {
                points: run,
                rgb: MARK,
                width_px: 1.5 * scale,
                dash_px: Some(4.0 * scale),
            });
        }
        let g = proj.at(self.guides.glabella);
        if g.visible {
            out.push(Shape::Dot {
                x: g.x,
                y: g.y,
                radius_px: 3.5 * scale,
                rgb: MARK,
                filled: true,
            });
            out.push(Shape::Label {
                x: g.x + 8.0 * scale,
                y: g.y,
                text: "glabella".into(),
                rgb: MARK,
                small: true,
                to_left: false,
            });
        }
        // Marks whose labels would crowd each other or a point's are left unlabelled by the
        // overlay (`overlay::placed_labels`: the later label, a point's, wins).
        for (cm, x, y) in self.marks_on_screen(camera, size) {
            out.push(Shape::Dot {
                x,
                y,
                radius_px: 2.5 * scale,
                rgb: MARK,
                filled: true,
            });
            out.push(Shape::Label {
                x: x - 10.0 * scale,
                y,
                text: format!("{cm:.0}"),
                rgb: MARK,
                small: true,
                to_left: true,
            });
        }
        // The hairline as designed (the middle of its soft edge).
        for run in polyline(self.region.hairline_polyline(), true) {
            out.push(Shape::Line {
                points: run,
                rgb: LINE,
                width_px: 2.0 * scale,
                dash_px: None,
            });
        }
        // The points, each with what the brief's rule says of it.
        for (handle, p, pinned) in self.handles() {
            let s = proj.at(p);
            if !s.visible {
                continue;
            }
            let big = grabbed == Some(handle);
            out.push(Shape::Dot {
                x: s.x,
                y: s.y,
                radius_px: if big { 9.0 } else { 6.5 } * scale,
                rgb: if pinned {
                    [255, 150, 60]
                } else {
                    [255, 255, 255]
                },
                filled: pinned,
            });
            // Short: the status line and the help say what the numbers are.
            let text = match handle {
                Handle::MidFrontal => format!("{:.1} cm", self.height_mm / 10.0),
                Handle::Pinned(_) => {
                    let off = self.guides.outside_eye_vertical_mm(p) / 10.0;
                    if off.abs() < 0.05 {
                        "on the eye line".to_string()
                    } else {
                        format!(
                            "{:.1} cm {} eye line",
                            off.abs(),
                            if off > 0.0 { "outside" } else { "inside" }
                        )
                    }
                }
            };
            let right = !matches!(
                handle,
                Handle::Pinned(PinnedPoint::RightCorner | PinnedPoint::RightTemple)
            );
            // The client's right is on the viewer's left from the front: label outward.
            let facing_front =
                (camera.eye_mm - self.guides.frame.center).dot(self.guides.frame.forward) > 0.0;
            let outward = if facing_front { !right } else { right };
            out.push(Shape::Label {
                x: s.x + if outward { -12.0 } else { 12.0 } * scale,
                y: s.y
                    - if handle == Handle::MidFrontal {
                        12.0 * scale
                    } else {
                        0.0
                    },
                text,
                rgb: [255, 255, 255],
                small: handle != Handle::MidFrontal,
                to_left: outward,
            });
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::camera::ViewName;

    /// The midline's 7-10 cm marks are labelled only clear of each other and of the
    /// mid-frontal point and its badge, which is always drawn: on the demo's scan at 7 cm the
    /// "7" sat on the point and the "8" touched its "7.0 cm" badge.
    #[test]
    fn midline_mark_labels_keep_clear_of_the_mid_frontal_point() {
        let scene = crate::scene::Scene::demo();
        let head = scene.head().expect("the demo's head");
        let plan = scene.plan();
        let design = Design::new(&head, &plan.hairline, plan.seed).expect("design");
        let size = (960, 600);
        let px = super::super::overlay::text_px(size.1, 1.0);
        let hairline = Some(design.region.mid_frontal_point());
        let mut marks_labelled = 0;
        for view in [ViewName::FrontLeft, ViewName::Left, ViewName::Front] {
            let camera = Camera::for_view(&head, view, 85.0, 1.6, None, hairline);
            let Some((mx, my)) = design.handle_on_screen(&camera, size, Handle::MidFrontal) else {
                continue;
            };
            let shapes = design.shapes(&camera, size, 1.0, None);
            let placed = super::super::overlay::placed_labels(&shapes, size.0, px, 1.0);
            let badge = placed
                .iter()
                .find(|l| l.text == "7.0 cm")
                .unwrap_or_else(|| panic!("{view:?}: the mid-frontal badge is drawn"));
            for mark in placed.iter().filter(|l| l.text.parse::<u32>().is_ok()) {
                marks_labelled += 1;
                let b = (
                    badge.left,
                    badge.top,
                    badge.left + badge.width,
                    badge.top + badge.height,
                );
                assert!(
                    !mark.near(b, 0.25 * px)
                        && !mark.near((mx - 6.5, my - 6.5, mx + 6.5, my + 6.5), 0.0),
                    "{view:?}: mark {} crowds the mid-frontal point or its badge",
                    mark.text
                );
            }
        }
        assert!(marks_labelled > 0, "some marks are labelled");
    }
}
