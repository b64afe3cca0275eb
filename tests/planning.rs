//! Treatment planning: zones, sessions, hair-loss conditions, figures and bad plans.
//!
//! Areas are checked on a sphere head, where a zone that is a disc has a closed-form area;
//! densities, sessions and the example scenes on the built-in head.

mod common;

use common::sphere::sphere_head;
use glam::Vec3;
use std::f64::consts::PI;
use std::path::Path;
use std::sync::OnceLock;
use stipple::head::Head;
use stipple::layout::{DotLayout, PlanFigures, lay_out_on, plan_figures};
use stipple::plan::{
    BaldScalp, Coverage, Plan, ScalpCondition, ScalpState, Session, ZoneName, ZoneSettings,
};
use stipple::scene::Scene;

const EXAMPLES: [&str; 5] = [
    "norwood3-soft-hairline",
    "norwood6-full-head",
    "ludwig2-density",
    "fut-scar",
    "alopecia-areata",
];

fn example(name: &str) -> Scene {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets/scenes")
        .join(format!("{name}.toml"));
    Scene::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

/// The Norwood 6 full-head example: its head, layout, condition and figures, made once.
fn norwood6() -> &'static (Head, Plan, DotLayout, ScalpCondition, PlanFigures) {
    static N: OnceLock<(Head, Plan, DotLayout, ScalpCondition, PlanFigures)> = OnceLock::new();
    N.get_or_init(|| {
        let scene = example("norwood6-full-head");
        let head = scene.head().unwrap();
        let (layout, condition) = scene.lay_out(&head).unwrap();
        let plan = scene.plan();
        let figures = plan_figures(&head, &plan, &condition, &layout.dots).unwrap();
        (head, plan, layout, condition, figures)
    })
}

#[test]
fn realized_density_per_zone_is_within_5_percent_of_the_request() {
    let (_, _, _, _, figures) = norwood6();
    let names: Vec<&str> = figures.zones.iter().map(|z| z.name).collect();
    for want in ["hairline", "front", "mid-scalp", "crown", "blend"] {
        assert!(names.contains(&want), "zone {want} missing: {names:?}");
    }
    for z in &figures.zones {
        let ratio = z.realized_density_per_cm2 / z.requested_density_per_cm2;
        println!(
            "{:<10} {:6.1} cm2 asked {:5.0} got {:6.1} ({} dots)",
            z.name, z.area_cm2, z.requested_density_per_cm2, z.realized_density_per_cm2, z.dots
        );
        assert!(
            (0.95..=1.05).contains(&ratio),
            "zone {}: realized {:.1}/cm2 for {:.0} asked",
            z.name,
            z.realized_density_per_cm2,
            z.requested_density_per_cm2
        );
    }
    // The zones' densities really differ: the check above is not one number five times.
    let d = |n: &str| {
        figures
            .zones
            .iter()
            .find(|z| z.name == n)
            .unwrap()
            .realized_density_per_cm2
    };
    assert!(d("crown") > 1.05 * d("mid-scalp") && d("blend") < 0.7 * d("mid-scalp"));
}

#[test]
fn a_disc_zone_on_a_sphere_has_the_closed_form_area() {
    // R = 77.5 mm; the crown disc (geodesic radius 40 mm) lies wholly inside the treated
    // scalp and takes priority over front and mid-scalp: its area is a spherical cap's.
    let r = 77.5f64;
    let head = sphere_head(r as f32, 192);
    let radius_mm = 40.0;
    let plan = Plan {
        coverage: Coverage::FullScalp,
        zones: vec![(
            ZoneName::Crown,
            ZoneSettings {
                density_per_cm2: Some(120.0),
                ..Default::default()
            },
        )],
        zone_geometry: stipple::plan::ZoneGeometry {
            crown_radius_mm: radius_mm,
            front_mm: 20.0,
            ..Default::default()
        },
        ..Plan::default()
    };
    let figures = plan_figures(&head, &plan, &BaldScalp, &[]).unwrap();
    let crown = figures.zones.iter().find(|z| z.name == "crown").unwrap();
    let exact_cm2 = 2.0 * PI * r * r * (1.0 - (radius_mm as f64 / r).cos()) / 100.0;
    let err = crown.area_cm2 / exact_cm2 - 1.0;
    println!(
        "crown cap: {:.3} cm2 measured, {exact_cm2:.3} exact",
        crown.area_cm2
    );
    assert!(err.abs() < 0.01, "cap area off by {:.2}%", 100.0 * err);
}

/// Nearest-neighbour distance of each dot to the others (brute force over a spatial hash).
fn nearest_distances(points: &[Vec3], cell: f32) -> Vec<f32> {
    use std::collections::HashMap;
    let key = |p: Vec3| {
        (
            (p.x / cell).floor() as i32,
            (p.y / cell).floor() as i32,
            (p.z / cell).floor() as i32,
        )
    };
    let mut grid: HashMap<(i32, i32, i32), Vec<usize>> = HashMap::new();
    for (i, p) in points.iter().enumerate() {
        grid.entry(key(*p)).or_default().push(i);
    }
    points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (x, y, z) = key(*p);
            let mut best = f32::INFINITY;
            for dx in -1..=1 {
                for dy in -1..=1 {
                    for dz in -1..=1 {
                        for &j in grid.get(&(x + dx, y + dy, z + dz)).into_iter().flatten() {
                            if j != i {
                                best = best.min(p.distance(points[j]));
                            }
                        }
                    }
                }
            }
            best
        })
        .collect()
}

fn coefficient_of_variation(v: &[f32]) -> f64 {
    let finite: Vec<f64> = v
        .iter()
        .filter(|x| x.is_finite())
        .map(|&x| x as f64)
        .collect();
    let n = finite.len() as f64;
    let mean = finite.iter().sum::<f64>() / n;
    let var = finite.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    var.sqrt() / mean
}

#[test]
fn later_sessions_fill_the_gaps_of_earlier_ones() {
    // The default plan in three sessions on the built-in (bald) head, at full weight only.
    let head = stipple::head::procedural::build(&Default::default());
    let plan = Plan {
        sessions: vec![
            Session {
                share: 0.4,
                shade_scale: 0.85,
            },
            Session {
                share: 0.35,
                shade_scale: 1.0,
            },
            Session {
                share: 0.25,
                shade_scale: 1.0,
            },
        ],
        ..Plan::default()
    };
    let layout = lay_out_on(&head, &plan, &BaldScalp).unwrap();
    let region = layout.region.as_ref().unwrap();
    let inner = |p: Vec3| region.weight(p) >= 1.0;
    let r0 = layout.min_distance_mm;
    let counts: Vec<usize> = (1..=3)
        .map(|s| layout.dots.iter().filter(|d| d.session == s).count())
        .collect();
    let n = layout.dots.len() as f64;
    for (i, share) in [0.4, 0.35, 0.25].iter().enumerate() {
        assert!((counts[i] as f64 / n - share).abs() < 0.001, "{counts:?}");
    }
    // Each state (after session 1, 2, 3) is blue noise: no two dots closer than the
    // exclusion distance, and nearest-neighbour distances far more regular than random
    // (a Poisson scatter has a coefficient of variation of 0.52).
    let mut previous_mean = f64::INFINITY;
    for upto in 1..=3u8 {
        let pts: Vec<Vec3> = layout
            .dots
            .iter()
            .filter(|d| d.session <= upto)
            .map(|d| d.position_mm)
            .collect();
        let nn = nearest_distances(&pts, 3.0);
        let inner_nn: Vec<f32> = pts
            .iter()
            .zip(&nn)
            .filter(|(p, _)| inner(**p))
            .map(|(_, &d)| d)
            .collect();
        let min = inner_nn.iter().cloned().fold(f32::INFINITY, f32::min);
        let cv = coefficient_of_variation(&inner_nn);
        let mean = inner_nn.iter().map(|&d| d as f64).sum::<f64>() / inner_nn.len() as f64;
        println!(
            "after session {upto}: {} dots, nn min {min:.3} mm mean {mean:.3} cv {cv:.3}",
            pts.len()
        );
        assert!(
            min >= 0.999 * r0,
            "session {upto}: two dots {min} mm apart (< {r0})"
        );
        assert!(
            cv < 0.3,
            "session {upto}: nn spread {cv:.3} is not blue noise"
        );
        // Gaps are filled: the spacing tightens with every session.
        assert!(mean < 0.97 * previous_mean);
        previous_mean = mean;
    }
    // Session 1 covers the whole scalp evenly, not one part first: its share is the same in
    // front of and behind the ears, on the left and on the right.
    let center = head.cranium_center();
    for axis in [Vec3::Z, Vec3::X] {
        for sign in [1.0f32, -1.0] {
            let part: Vec<_> = layout
                .dots
                .iter()
                .filter(|d| sign * (d.position_mm - center).dot(axis) > 0.0)
                .collect();
            let share = part.iter().filter(|d| d.session == 1).count() as f64 / part.len() as f64;
            assert!(
                (share - 0.4).abs() < 0.02,
                "session 1 share {share:.3} in one half"
            );
        }
    }
    // Shade changes per session: session 1 was asked 15% lighter.
    let mean_shade = |s: u8| {
        let v: Vec<f32> = layout
            .dots
            .iter()
            .filter(|d| d.session == s && inner(d.position_mm))
            .map(|d| d.shade)
            .collect();
        v.iter().sum::<f32>() / v.len() as f32
    };
    let ratio = mean_shade(1) / mean_shade(2);
    assert!((ratio - 0.85).abs() < 0.01, "session 1 / 2 shade {ratio}");
}

#[test]
fn density_falls_monotonically_across_the_transition_zone() {
    // A wide (20 mm) transition at a high density, binned by signed distance to the hairline.
    let head = stipple::head::procedural::build(&Default::default());
    let mut plan = Plan {
        density_per_cm2: 400.0,
        ..Plan::default()
    };
    plan.hairline.transition_mm = 20.0;
    let layout = lay_out_on(&head, &plan, &BaldScalp).unwrap();
    let region = layout.region.as_ref().unwrap();
    const BINS: usize = 6;
    let bin = |p: Vec3| {
        // From inside (+10 mm) to outside (-10 mm).
        let s = region.signed_distance_mm(p);
        let t = (10.0 - s) / 20.0 * BINS as f32;
        (t >= 0.0 && t < BINS as f32).then_some(t as usize)
    };
    let mut dots = [0f64; BINS];
    for d in &layout.dots {
        if let Some(b) = bin(d.position_mm) {
            dots[b] += 1.0;
        }
    }
    // Area of each bin on the surface (1 mm sub-triangles).
    let mut area = [0f64; BINS];
    let mesh = &head.mesh;
    for t in 0..mesh.triangle_count() {
        let [a, b, c] = mesh.triangle(t);
        let k = 4;
        let (e1, e2) = ((b - a) / k as f32, (c - a) / k as f32);
        let sub = mesh.triangle_area_mm2(t) as f64 / (k * k) as f64;
        for i in 0..k {
            for j in 0..k - i {
                let mut c = vec![a + (i as f32 + 1.0 / 3.0) * e1 + (j as f32 + 1.0 / 3.0) * e2];
                if i + j + 1 < k {
                    c.push(a + (i as f32 + 2.0 / 3.0) * e1 + (j as f32 + 2.0 / 3.0) * e2);
                }
                for p in c {
                    if let Some(b) = bin(p) {
                        area[b] += sub;
                    }
                }
            }
        }
    }
    let density: Vec<f64> = (0..BINS).map(|b| 100.0 * dots[b] / area[b]).collect();
    println!("density across the transition, inside to outside: {density:.1?}");
    assert!(density[0] > 0.8 * plan.density_per_cm2 as f64);
    assert!(density[BINS - 1] < 0.1 * plan.density_per_cm2 as f64);
    for w in density.windows(2) {
        assert!(w[1] < w[0], "density rises outward: {density:.1?}");
    }
    // Size and shade fall off too.
    let mean = |b: usize, f: &dyn Fn(&stipple::layout::Dot) -> f32| {
        let v: Vec<f32> = layout
            .dots
            .iter()
            .filter(|d| bin(d.position_mm) == Some(b))
            .map(f)
            .collect();
        v.iter().sum::<f32>() / v.len() as f32
    };
    assert!(mean(4, &|d| d.diameter_mm) < mean(0, &|d| d.diameter_mm));
    assert!(mean(4, &|d| d.shade) < mean(0, &|d| d.shade));
}

#[test]
fn hair_loss_patterns_leave_hair_where_the_scales_say() {
    let head = stipple::head::procedural::build(&Default::default());
    let frame = stipple::plan::HeadFrame::new(&head).unwrap();
    let at = |az: f32, el: f32| {
        let d = frame.direction(az.to_radians(), el.to_radians());
        frame.center + head.mesh.raycast(frame.center, d).unwrap() * d
    };
    // Each condition measured on the head once.
    let conditions: std::collections::HashMap<String, ScalpCondition> = [
        "none",
        "totalis",
        "norwood-3v",
        "ludwig-1",
        "ludwig-2",
        "ludwig-3",
    ]
    .into_iter()
    .map(String::from)
    .chain((1..=7).map(|s| format!("norwood-{s}")))
    .map(|name| {
        let loss = stipple::plan::HairLoss {
            pattern: stipple::plan::HairLossPattern::parse(&name).unwrap(),
            ..Default::default()
        };
        let c = ScalpCondition::new(&head, &loss, 1).unwrap();
        (name, c)
    })
    .collect();
    let hair = |pattern: &str, p: Vec3| conditions[pattern].hair_fraction(p);
    let vertex = at(0.0, 89.0);
    let temple = at(40.0, 58.0);
    let crown = at(180.0, 62.0);
    let side = at(95.0, 18.0);
    let face = at(0.0, 10.0);
    assert_eq!(hair("none", vertex), 1.0);
    assert_eq!(hair("none", face), 0.0);
    assert_eq!(hair("totalis", side), 0.0);
    // Norwood III: temples bald, crown and top keep their hair.
    assert!(hair("norwood-3", temple) < 0.1);
    assert!(hair("norwood-3", crown) > 0.9 && hair("norwood-3", vertex) > 0.9);
    // III vertex adds a bald crown.
    assert!(hair("norwood-3v", crown) < 0.1);
    // VII: the top is bald, the sides' horseshoe keeps its hair.
    assert!(hair("norwood-7", vertex) < 0.05 && hair("norwood-7", side) > 0.9);
    // Ludwig: the top thins, progressively, the front hairline stays.
    let l: Vec<f32> = (1..=3)
        .map(|s| hair(&format!("ludwig-{s}"), vertex))
        .collect();
    assert!(
        l[0] > l[1] && l[1] > l[2] && l[2] < 0.3 && l[0] < 0.9,
        "{l:?}"
    );
    // Hair lost only grows with the Norwood stage, over the whole scalp.
    let samples: Vec<Vec3> = (0..36)
        .flat_map(|a| (2..9).map(move |e| (a as f32 * 10.0 - 180.0, e as f32 * 10.0)))
        .map(|(a, e)| at(a, e))
        .collect();
    let mut prev = f32::INFINITY;
    for s in 1..=7 {
        let total: f32 = samples
            .iter()
            .map(|&p| hair(&format!("norwood-{s}"), p))
            .sum();
        assert!(
            total <= prev + 1e-3,
            "norwood-{s} has more hair than the stage before"
        );
        prev = total;
    }
}

#[test]
fn every_example_scene_plans_and_treats_what_its_condition_needs() {
    for name in EXAMPLES {
        let scene = example(name);
        let head = scene.head().unwrap();
        let (layout, condition) = scene.lay_out(&head).unwrap();
        let figures = plan_figures(&head, &scene.plan(), &condition, &layout.dots).unwrap();
        println!(
            "{name}: {} dots, {:.1} cm2, {:.1} h, zones {:?}",
            figures.dots_total,
            figures.treated_area_cm2,
            figures.needle_hours,
            figures.zones.iter().map(|z| z.name).collect::<Vec<_>>()
        );
        assert!(figures.dots_total > 500, "{name}: too few dots");
        assert_eq!(
            figures.zones.iter().map(|z| z.dots).sum::<usize>(),
            figures.dots_total
        );
        assert_eq!(
            figures.sessions.iter().map(|s| s.dots).sum::<usize>(),
            figures.dots_total
        );
        // No pigment where the client has lost no hair (outside scar margins).
        let in_full_hair = layout
            .dots
            .iter()
            .filter(|d| {
                let p = d.position_mm;
                condition.hair_fraction(p) >= condition.native_hair_fraction(p)
                    && condition.scar_distance_mm(p) > 3.0
            })
            .count();
        if scene.plan().coverage == Coverage::HairLoss {
            assert_eq!(in_full_hair, 0, "{name}: dots in full hair");
        }
    }
    // The FUT scene treats its scar and nothing else.
    let scene = example("fut-scar");
    let head = scene.head().unwrap();
    let (layout, condition) = scene.lay_out(&head).unwrap();
    assert!(
        layout
            .dots
            .iter()
            .all(|d| condition.scar_distance_mm(d.position_mm) < 3.01)
    );
}

/// The error a scene gives when parsed or, failing that, laid out on its head (some plans
/// only fail on a given head: zones that overlap on it).
fn parse_err(toml: &str) -> String {
    let scene = match Scene::parse(toml, Path::new("bad.toml")) {
        Ok(scene) => scene,
        Err(e) => return e.to_string(),
    };
    let head = scene.head().unwrap();
    match scene.lay_out(&head) {
        Ok(_) => panic!("accepted:\n{toml}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn bad_plans_are_refused_with_the_key_and_what_was_expected() {
    let base = "[client]\nskin = \"#d7a486\"\n";
    let cases: &[(&str, &[&str])] = &[
        (
            "[plan.hairline]\nheight_cm = 3.5\n",
            &["bad.toml", "plan.hairline.height_cm", "7-10 is usual"],
        ),
        (
            // Height fine, but a widow's peak that reaches down to the brows.
            "[plan.hairline]\nheight_cm = 6.0\nwidows_peak_mm = 15\n",
            &["plan.hairline", "too low"],
        ),
        (
            "[plan]\ndensity_per_cm2 = 0\n",
            &["plan.density_per_cm2", "impressions per cm2"],
        ),
        (
            "[plan]\ndensity_per_cm2 = 1e6\n",
            &["plan.density_per_cm2", "between 1 and 2500"],
        ),
        (
            "[[plan.zones]]\nname = \"crown\"\ndensity_per_cm2 = -5\n",
            &["plan.zones[0].density_per_cm2"],
        ),
        (
            "[[plan.zones]]\nname = \"crown\"\nshade = 0.5\n[[plan.zones]]\nname = \"crown\"\nshade = 0.6\n",
            &["plan.zones[1].name", "also plan.zones[0]"],
        ),
        (
            // A crown so large it runs into the front zone, with other settings.
            "[[plan.zones]]\nname = \"crown\"\nradius_mm = 140\ndensity_per_cm2 = 130\n",
            &["`plan`", "crown and front zones overlap", "radius_mm"],
        ),
        (
            "[[plan.zones]]\nname = \"temples\"\n",
            &["plan.zones[0].name", "hairline, front, mid-scalp"],
        ),
        (
            "[[plan.zones]]\nname = \"front\"\nradius_mm = 30\n",
            &["plan.zones[0].radius_mm", "belongs to the crown zone"],
        ),
        (
            "[[plan.sessions]]\nshare = 0.5\n[[plan.sessions]]\nshare = 0.3\n",
            &["plan.sessions", "add up to 1", "0.800"],
        ),
        (
            "[plan]\nneedle = \"0604\"\n",
            &["plan.needle", "01 or 03 points"],
        ),
        (
            "[client.condition]\npattern = \"norwood-9\"\n",
            &["client.condition.pattern", "norwood-7"],
        ),
        (
            "[[client.condition.scars]]\nkind = \"fue\"\nlength_mm = 50\n",
            &[
                "client.condition.scars[0].length_mm",
                "only count, diameter_mm",
            ],
        ),
    ];
    for (extra, wanted) in cases {
        let msg = parse_err(&format!("{base}{extra}"));
        for w in *wanted {
            assert!(msg.contains(w), "{extra}\n=> {msg}\n(missing {w:?})");
        }
    }
}

#[test]
fn hairline_presets_and_shapes_change_the_line() {
    let head = stipple::head::procedural::build(&Default::default());
    let elevation_at = |hairline: &stipple::plan::Hairline, az: f32| {
        let r = stipple::plan::TreatedRegion::new(&head, hairline, 3).unwrap();
        r.boundary_elevation(az.to_radians()).to_degrees()
    };
    use stipple::plan::{HairlinePreset, HairlineShape};
    let juvenile = HairlinePreset::Juvenile.hairline();
    let receded = HairlinePreset::Receded.hairline();
    // Receded sits higher on the midline and much further back at the corners.
    assert!(elevation_at(&receded, 0.0) > elevation_at(&juvenile, 0.0) + 5.0);
    assert!(
        elevation_at(&receded, 35.0) - elevation_at(&receded, 0.0)
            > elevation_at(&juvenile, 35.0) - elevation_at(&juvenile, 0.0) + 3.0
    );
    // Shapes: a straight line stays level further out than a mature one.
    let with_shape = |shape| stipple::plan::Hairline {
        shape,
        irregularity_mm: 0.0,
        ..Default::default()
    };
    let rise = |h: &stipple::plan::Hairline| elevation_at(h, 20.0) - elevation_at(h, 0.0);
    let (s, r, m) = (
        rise(&with_shape(HairlineShape::Straight)),
        rise(&with_shape(HairlineShape::Rounded)),
        rise(&with_shape(HairlineShape::Mature)),
    );
    assert!(
        s < r && r < m,
        "rise at 20 deg: straight {s:.2} rounded {r:.2} mature {m:.2}"
    );
    // A widow's peak brings the midline down by about its depth.
    let peak = stipple::plan::Hairline {
        widows_peak_mm: 10.0,
        irregularity_mm: 0.0,
        ..Default::default()
    };
    let flat = with_shape(HairlineShape::Rounded);
    let drop_deg = elevation_at(&flat, 0.0) - elevation_at(&peak, 0.0);
    let drop_mm = drop_deg.to_radians() * 90.0;
    assert!(
        (6.0..14.0).contains(&drop_mm),
        "widow's peak {drop_mm:.1} mm"
    );
    assert!((elevation_at(&flat, 30.0) - elevation_at(&peak, 30.0)).abs() < 0.2);
}

#[test]
fn plan_json_gives_zones_sessions_and_needle_hours() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/scenes/norwood3-soft-hairline.toml");
    let out = common::stipple()
        .args(["plan", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let total = v["dots_total"].as_u64().unwrap();
    assert!(v["treated_area_cm2"].as_f64().unwrap() > 10.0);
    let zones = v["zones"].as_array().unwrap();
    let zone_dots: u64 = zones.iter().map(|z| z["dots"].as_u64().unwrap()).sum();
    assert_eq!(zone_dots, total);
    for z in zones {
        for key in [
            "name",
            "area_cm2",
            "requested_density_per_cm2",
            "realized_density_per_cm2",
        ] {
            assert!(!z[key].is_null(), "zone without {key}: {z}");
        }
    }
    let sessions = v["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 3);
    assert_eq!(sessions[0]["index"], 1);
    let session_dots: u64 = sessions.iter().map(|s| s["dots"].as_u64().unwrap()).sum();
    assert_eq!(session_dots, total);
    let hours = v["needle_hours"].as_f64().unwrap();
    assert!((hours - total as f64 / 1600.0).abs() < 0.01);
}
