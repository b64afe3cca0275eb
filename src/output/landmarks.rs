//! The landmark check image (`stipple landmarks --out`): the bare head from the front and from
//! the client's left, each landmark marked and labelled, the planned hairline drawn on the
//! skin and the vertical above each outer eye corner (where the brief puts the frontotemporal
//! angle) dashed in, so a practitioner can confirm the landmarks or override them in
//! `[client.head.landmarks]`.

use super::text;
use crate::camera::Camera;
use crate::head::Head;
use crate::render::{FrameImage, RenderError, Renderer};
use crate::scene::ViewName;
use crate::study::Study;
use glam::{Vec2, Vec3, Vec4};

/// Marker colours (sRGB): landmarks yellow, the hairline cyan, the eye-corner verticals white.
const LANDMARK_RGB: [u8; 3] = [255, 214, 10];
const HAIRLINE_RGB: [u8; 3] = [0, 229, 255];
const CONTROL_RGB: [u8; 3] = [255, 64, 160];
const GUIDE_RGB: [u8; 3] = [255, 255, 255];
/// A point counts as seen when the first surface on the ray from the camera lies at most this
/// far in front of it (the mesh is faceted; landmarks sit on it within a fraction of a mm).
const VISIBLE_TOLERANCE_MM: f32 = 2.0;
/// How far the dashed guide runs up from each outer eye corner.
const GUIDE_LENGTH_MM: f32 = 110.0;

/// The short label of each landmark, by its field name.
pub fn label(name: &str) -> &'static str {
    match name {
        "glabella" => "glabella",
        "outer_eye_corner_left" => "eye corner L",
        "outer_eye_corner_right" => "eye corner R",
        "top_of_head" => "vertex",
        "occiput" => "occiput",
        "ear_left" => "ear L",
        "ear_right" => "ear R",
        _ => "?",
    }
}

/// The two views of the check image.
pub const VIEWS: [ViewName; 2] = [ViewName::Front, ViewName::Left];

/// Renders the check image: the views of [`VIEWS`] of the bare head, `tile` pixels square
/// each, side by side, annotated.
pub fn landmark_image(
    renderer: &mut Renderer,
    study: &mut Study,
    tile: u32,
) -> Result<FrameImage, RenderError> {
    let state = study.healed();
    let mut tiles = Vec::new();
    for view in VIEWS {
        let settings = study.frame_settings(view, state, tile, tile);
        let (before, _) = study.render_pair(renderer, &settings, state, (true, false))?;
        let mut img = before.expect("asked for the before frame");
        annotate(&mut img, study, &settings.camera, view);
        tiles.push(img);
    }
    let (w, h) = tiles[0].dimensions();
    let gap = super::composite::divider_width(w);
    let mut out = FrameImage::blank(tiles[0].depth(), 2 * w + gap, h);
    text::fill_rect(&mut out, w as i32, 0, gap, h, [236, 236, 236], 1.0);
    out.blit(&tiles[0], 0, 0);
    out.blit(&tiles[1], w + gap, 0);
    Ok(out)
}

/// Projects head-space points into one frame and tells which the camera sees.
struct Projector<'a> {
    camera: &'a Camera,
    head: &'a Head,
    size: Vec2,
}

impl Projector<'_> {
    /// Pixel position (x right, y down), None behind the camera.
    fn pixel(&self, p: Vec3) -> Option<Vec2> {
        let c = self.camera.view_projection() * Vec4::new(p.x, p.y, p.z, 1.0);
        if c.w <= 0.0 {
            return None;
        }
        let ndc = Vec2::new(c.x / c.w, c.y / c.w);
        Some(Vec2::new(
            (0.5 * ndc.x + 0.5) * self.size.x,
            (0.5 - 0.5 * ndc.y) * self.size.y,
        ))
    }

    /// Whether no surface lies between the camera and `p`.
    fn visible(&self, p: Vec3) -> bool {
        let to = p - self.camera.eye_mm;
        let d = to.length();
        match self.head.mesh.raycast(self.camera.eye_mm, to / d) {
            Some(hit) => hit >= d - VISIBLE_TOLERANCE_MM,
            None => true,
        }
    }
}

fn annotate(img: &mut FrameImage, study: &Study, camera: &Camera, view: ViewName) {
    let (w, h) = img.dimensions();
    let proj = Projector {
        camera,
        head: &study.head,
        size: Vec2::new(w as f32, h as f32),
    };
    let scale = h as f32 / 720.0;
    let px = (15.0 * scale).max(9.0);
    let line_w = (2.0 * scale).max(1.0);
    let lm = &study.head.landmarks;

    // The vertical above each outer eye corner (front view): the frontotemporal angle should
    // lie on it (the brief's rule).
    if view == ViewName::Front {
        for eye in [lm.outer_eye_corner_left, lm.outer_eye_corner_right] {
            let steps = 44;
            for i in (0..steps).step_by(2) {
                let a = eye + Vec3::Y * (GUIDE_LENGTH_MM * i as f32 / steps as f32);
                let b = eye + Vec3::Y * (GUIDE_LENGTH_MM * (i + 1) as f32 / steps as f32);
                if let (Some(a), Some(b)) = (proj.pixel(a), proj.pixel(b)) {
                    draw_line(img, a, b, 0.6 * line_w, GUIDE_RGB, 0.7);
                }
            }
        }
    }

    // The planned hairline, where the camera sees it.
    if let Some(region) = &study.layout.region {
        let line = region.hairline_polyline();
        let seen: Vec<Option<Vec2>> = line
            .iter()
            .map(|&p| proj.visible(p).then(|| proj.pixel(p)).flatten())
            .collect();
        for k in 0..seen.len() {
            if let (Some(a), Some(b)) = (seen[k], seen[(k + 1) % seen.len()])
                && a.distance(b) < 0.05 * w as f32
            {
                draw_line(img, a, b, line_w, HAIRLINE_RGB, 0.95);
            }
        }
        for point in region.control_points() {
            use crate::plan::hairline::HairlinePointKind as K;
            if !matches!(
                point.kind,
                K::MidFrontal | K::FrontotemporalCorner | K::TemplePoint
            ) || !proj.visible(point.position_mm)
            {
                continue;
            }
            if let Some(c) = proj.pixel(point.position_mm) {
                draw_disc(img, c, 3.5 * scale.max(0.5), CONTROL_RGB, 1.0);
            }
        }
    }

    // The landmarks, each with its label on the side away from the head's middle.
    let middle = proj
        .pixel(study.head.cranium_center())
        .unwrap_or(proj.size * 0.5);
    for (name, p) in lm.named() {
        if !proj.visible(p) {
            continue;
        }
        let Some(c) = proj.pixel(p) else { continue };
        let r = 6.0 * scale.max(0.5);
        draw_ring(img, c, r + 1.5 * scale, r + 3.0 * scale, [0, 0, 0], 0.8);
        draw_ring(img, c, r - 1.5 * scale, r + 1.5 * scale, LANDMARK_RGB, 1.0);
        draw_disc(img, c, 1.5 * scale.max(0.7), LANDMARK_RGB, 1.0);
        let label = label(name);
        let (tw, th) = text::text_size(label, px);
        let right = c.x >= middle.x;
        let x = if right {
            c.x + r + 6.0 * scale
        } else {
            c.x - r - 6.0 * scale - tw as f32
        };
        // The glabella sits between the eye corners: its label goes above it.
        let (x, y) = if name == "glabella" && view == ViewName::Front {
            (c.x - 0.5 * tw as f32, c.y - r - 8.0 * scale - th as f32)
        } else {
            (x, c.y - 0.5 * th as f32)
        };
        let x = x.clamp(2.0, (w as f32 - tw as f32 - 2.0).max(2.0));
        let y = y.clamp(2.0, (h as f32 - th as f32 - 2.0).max(2.0));
        let pad = (3.0 * scale).round() as i32;
        text::fill_rect(
            img,
            x as i32 - pad,
            y as i32 - pad,
            tw + 2 * pad as u32,
            th + 2 * pad as u32,
            [16, 16, 16],
            0.6,
        );
        text::draw_text(img, x as i32, y as i32, label, px, LANDMARK_RGB, 1.0);
    }

    let title = match view {
        ViewName::Front => "front",
        _ => "left side",
    };
    let margin = (px * 0.6) as i32;
    text::draw_badge(img, text::Corner::TopLeft, margin, margin, title, px * 1.2);
    let legend = "yellow: landmarks   cyan: planned hairline   pink: its corners";
    if view == ViewName::Front {
        text::draw_badge(
            img,
            text::Corner::BottomLeft,
            margin,
            margin,
            legend,
            px * 0.8,
        );
    }
}

/// A line `width` pixels wide from `a` to `b`, antialiased by distance.
fn draw_line(img: &mut FrameImage, a: Vec2, b: Vec2, width: f32, rgb: [u8; 3], alpha: f32) {
    let half = 0.5 * width;
    let lo = a.min(b) - Vec2::splat(half + 1.0);
    let hi = a.max(b) + Vec2::splat(half + 1.0);
    let ab = b - a;
    let len2 = ab.length_squared().max(1e-6);
    for y in lo.y.floor() as i32..=hi.y.ceil() as i32 {
        for x in lo.x.floor() as i32..=hi.x.ceil() as i32 {
            let p = Vec2::new(x as f32 + 0.5, y as f32 + 0.5);
            let t = ((p - a).dot(ab) / len2).clamp(0.0, 1.0);
            let d = p.distance(a + t * ab);
            let cover = (half + 0.5 - d).clamp(0.0, 1.0);
            text::blend(img, x, y, rgb, alpha * cover);
        }
    }
}

fn draw_disc(img: &mut FrameImage, c: Vec2, r: f32, rgb: [u8; 3], alpha: f32) {
    draw_ring(img, c, -1.0, r, rgb, alpha);
}

/// The annulus between radii `r0` and `r1` around `c`, antialiased.
fn draw_ring(img: &mut FrameImage, c: Vec2, r0: f32, r1: f32, rgb: [u8; 3], alpha: f32) {
    for y in (c.y - r1 - 1.0).floor() as i32..=(c.y + r1 + 1.0).ceil() as i32 {
        for x in (c.x - r1 - 1.0).floor() as i32..=(c.x + r1 + 1.0).ceil() as i32 {
            let d = Vec2::new(x as f32 + 0.5, y as f32 + 0.5).distance(c);
            let cover = (r1 + 0.5 - d).clamp(0.0, 1.0) * (d - r0 + 0.5).clamp(0.0, 1.0);
            text::blend(img, x, y, rgb, alpha * cover);
        }
    }
}

/// A point as `[x, y, z]` in mm, to 0.1 mm.
fn mm(p: Vec3) -> [f64; 3] {
    p.to_array().map(|v| (v as f64 * 10.0).round() / 10.0)
}

/// Where the hairline's frontal points fall against the landmarks the brief places them by.
#[derive(Clone, Debug, PartialEq)]
pub struct HairlineCheck {
    pub mid_frontal_point: Vec3,
    /// Mid-frontal point above the glabella along the skin, as planned.
    pub planned_height_mm: f32,
    /// Its height straight above the glabella.
    pub rise_above_glabella_mm: f32,
    /// Left, right: (frontotemporal corner, sideways distance from the vertical above the
    /// outer eye corner, + = further out).
    pub corners: [(Vec3, f32); 2],
    pub temple_points: [Vec3; 2],
}

/// The hairline's frontal points on this head, if the plan has a hairline.
pub fn hairline_check(study: &Study) -> Option<HairlineCheck> {
    use crate::plan::hairline::HairlinePointKind as K;
    let region = study.layout.region.as_ref()?;
    let lm = &study.head.landmarks;
    let points = region.control_points();
    let find = |kind: K, left: bool| {
        points
            .iter()
            .filter(|p| p.kind == kind && (p.azimuth > 0.0) == left)
            .map(|p| p.position_mm)
            .next()
    };
    let mid = region.mid_frontal_point();
    let corner = |left: bool| {
        let c = find(K::FrontotemporalCorner, left)?;
        let (eye, sign) = if left {
            (lm.outer_eye_corner_left, 1.0)
        } else {
            (lm.outer_eye_corner_right, -1.0)
        };
        Some((c, sign * (c.x - eye.x)))
    };
    Some(HairlineCheck {
        mid_frontal_point: mid,
        planned_height_mm: study.scene.plan().hairline.height_above_glabella_mm,
        rise_above_glabella_mm: mid.y - lm.glabella.y,
        corners: [corner(true)?, corner(false)?],
        temple_points: [find(K::TemplePoint, true)?, find(K::TemplePoint, false)?],
    })
}

/// Names of the landmarks the scene gives by hand.
fn given(study: &Study) -> Vec<&'static str> {
    study
        .scene
        .landmark_overrides()
        .named()
        .iter()
        .filter(|(_, v)| v.is_some())
        .map(|(n, _)| *n)
        .collect()
}

/// `stipple landmarks --json`: each landmark as `[x, y, z]` mm in the head frame, which were
/// given by hand, and where the hairline's frontal points fall.
pub fn report_json(study: &Study) -> serde_json::Value {
    let mut landmarks = serde_json::Map::new();
    for (name, p) in study.head.landmarks.named() {
        landmarks.insert(name.into(), serde_json::json!(mm(p)));
    }
    let hairline = hairline_check(study).map(|c| {
        let outside = [c.corners[0].1, c.corners[1].1].map(|v| (v as f64 * 10.0).round() / 10.0);
        serde_json::json!({
            "mid_frontal_point": mm(c.mid_frontal_point),
            "planned_height_mm": c.planned_height_mm,
            "rise_above_glabella_mm": (c.rise_above_glabella_mm as f64 * 10.0).round() / 10.0,
            "frontotemporal_corner_left": mm(c.corners[0].0),
            "frontotemporal_corner_right": mm(c.corners[1].0),
            "corner_outside_eye_vertical_mm": outside,
            "temple_point_left": mm(c.temple_points[0]),
            "temple_point_right": mm(c.temple_points[1]),
        })
    });
    serde_json::json!({
        "scene": study.scene.file.display().to_string(),
        "units": "mm",
        "frame": "head: +X the client's left, +Y up, +Z out of the face",
        "landmarks": landmarks,
        "given": given(study),
        "hairline": hairline,
    })
}

/// `stipple landmarks`: the same as [`report_json`], as a table.
pub fn report_text(study: &Study) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let given = given(study);
    let _ = writeln!(s, "scene: {}", study.scene.file.display());
    let _ = writeln!(
        s,
        "landmarks (mm; head frame: +X the client's left, +Y up, +Z out of the face):"
    );
    for (name, p) in study.head.landmarks.named() {
        let source = if given.contains(&name) {
            "given"
        } else {
            "estimated"
        };
        let _ = writeln!(
            s,
            "  {name:<24} [{:7.1}, {:7.1}, {:7.1}]  {source}",
            p.x, p.y, p.z
        );
    }
    if let Some(c) = hairline_check(study) {
        let p = c.mid_frontal_point;
        let _ = writeln!(
            s,
            "hairline: mid-frontal point [{:.1}, {:.1}, {:.1}], {:.0} mm above the glabella \
             along the skin ({:.0} mm straight up)",
            p.x, p.y, p.z, c.planned_height_mm, c.rise_above_glabella_mm
        );
        for ((corner, out), side) in c.corners.iter().zip(["left", "right"]) {
            let _ = writeln!(
                s,
                "  {side} frontotemporal corner [{:.1}, {:.1}, {:.1}], {:+.1} mm sideways of the \
                 vertical above the outer eye corner",
                corner.x, corner.y, corner.z, out
            );
        }
    }
    let _ = writeln!(
        s,
        "override any of them in the scene's [client.head.landmarks] (e.g. glabella = [x, y, z]: \
         mm in this frame for a built-in head, the file's units and axes for a mesh)"
    );
    s
}
