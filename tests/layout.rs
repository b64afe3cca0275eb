//! Treated region and dot layout: counts, areas, spacing, blue noise, determinism, density,
//! the hairline's measured height, and plan validation.
//!
//! Most checks run on a sphere "head" (radius 77.5 mm, centred on its cranium centre) where
//! areas and arc lengths are known in closed form; a few run on the built-in head too.

mod common;

use common::sphere::{sphere_head, sphere_mesh};
use glam::Vec3;
use std::collections::HashMap;
use std::f64::consts::PI;
use std::sync::OnceLock;
use stipple::head::{Head, TriMesh};
use stipple::layout::{self, DotLayout, LayoutError, Region, lay_out, lay_out_in};
use stipple::plan::{Hairline, Plan, PlanError, TreatedRegion};

const R: f32 = 77.5;

/// The sphere head and its layout with the default plan, made once.
fn sphere_layout() -> &'static (Head, Plan, DotLayout) {
    static L: OnceLock<(Head, Plan, DotLayout)> = OnceLock::new();
    L.get_or_init(|| {
        let head = sphere_head(R, 160);
        let plan = Plan::default();
        let layout = lay_out(&head, &plan).expect("default plan on the sphere head");
        (head, plan, layout)
    })
}

/// Everything above a horizontal plane: a spherical cap on a sphere, with a smoothstep
/// transition `t` wide centred on y = y0.
struct Cap {
    y0: f32,
    t: f32,
}

impl Region for Cap {
    fn weight(&self, p: Vec3) -> f32 {
        let x = ((p.y - self.y0) / self.t + 0.5).clamp(0.0, 1.0);
        x * x * (3.0 - 2.0 * x)
    }
    fn clearance_mm(&self, p: Vec3) -> f32 {
        let s = p.y - self.y0;
        if s.abs() >= 0.5 * self.t {
            s - 0.5 * self.t * s.signum()
        } else {
            0.0
        }
    }
}

fn smoothstep(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// Brute-force neighbour search over a uniform grid.
struct Grid {
    cell: f32,
    map: HashMap<[i32; 3], Vec<usize>>,
}

impl Grid {
    fn new(points: &[Vec3], cell: f32) -> Self {
        let mut map: HashMap<[i32; 3], Vec<usize>> = HashMap::new();
        for (i, p) in points.iter().enumerate() {
            map.entry(Self::key(*p, cell)).or_default().push(i);
        }
        Self { cell, map }
    }

    fn key(p: Vec3, cell: f32) -> [i32; 3] {
        let q = (p / cell).floor();
        [q.x as i32, q.y as i32, q.z as i32]
    }

    /// Distance from points[i] to its nearest other point within `cell` (None if farther).
    fn nearest(&self, points: &[Vec3], i: usize) -> Option<f32> {
        let k = Self::key(points[i], self.cell);
        let mut best = f32::INFINITY;
        for dz in -1..=1 {
            for dy in -1..=1 {
                for dx in -1..=1 {
                    for &j in self
                        .map
                        .get(&[k[0] + dx, k[1] + dy, k[2] + dz])
                        .into_iter()
                        .flatten()
                    {
                        if j != i {
                            best = best.min(points[i].distance(points[j]));
                        }
                    }
                }
            }
        }
        (best <= self.cell).then_some(best)
    }
}

/// Per triangle of `mesh`, samples at the centroids of 8×8 sub-triangles with their area.
fn surface_samples(mesh: &TriMesh) -> Vec<(Vec3, f64)> {
    let n = 8;
    let mut out = Vec::new();
    for t in 0..mesh.triangle_count() {
        let [a, b, c] = mesh.triangle(t);
        let area = mesh.triangle_area_mm2(t) as f64 / (n * n) as f64;
        let (e1, e2) = ((b - a) / n as f32, (c - a) / n as f32);
        for i in 0..n {
            for j in 0..n - i {
                let (fi, fj) = (i as f32, j as f32);
                out.push((a + (fi + 1.0 / 3.0) * e1 + (fj + 1.0 / 3.0) * e2, area));
                if i + j + 1 < n {
                    out.push((a + (fi + 2.0 / 3.0) * e1 + (fj + 2.0 / 3.0) * e2, area));
                }
            }
        }
    }
    out
}

fn coefficient_of_variation(v: &[f32]) -> f64 {
    let n = v.len() as f64;
    let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
    let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
    var.sqrt() / mean
}

/// Elevation along the midline (azimuth 0) at which the weight crosses 0.5, and the arc
/// length from the glabella to there, measured independently of the region's own walk:
/// brute-force ray casts every 0.1°, chords summed.
fn measured_hairline_height(head: &Head, region: &TreatedRegion) -> f64 {
    let f = region.frame();
    let (_, el0) = f.angles(head.landmarks.glabella);
    let step = 0.1f32.to_radians();
    let hit = |el: f32| {
        let d = f.direction(0.0, el);
        f.center
            + d * head
                .mesh
                .raycast(f.center, d)
                .expect("midline ray hits the head")
    };
    let mut prev = hit(el0);
    let mut arc = 0.0f64;
    let mut el = el0;
    while el < 1.5 {
        let next = hit(el + step);
        let (w0, w1) = (region.weight(prev), region.weight(next));
        let seg = prev.distance(next) as f64;
        if w1 >= 0.5 {
            // Interpolate the crossing within the step.
            let t = if w1 > w0 {
                ((0.5 - w0) / (w1 - w0)) as f64
            } else {
                0.0
            };
            return arc + t * seg;
        }
        arc += seg;
        prev = next;
        el += step;
    }
    panic!("no hairline found on the midline");
}

#[test]
fn plan_validation_reports_each_problem() {
    assert_eq!(Plan::default().validate(), Ok(()));
    let with = |f: &dyn Fn(&mut Plan)| {
        let mut p = Plan::default();
        f(&mut p);
        p.validate()
    };
    assert!(matches!(
        with(&|p| p.hairline.height_above_glabella_mm = 40.0),
        Err(PlanError::HairlineTooLow { .. })
    ));
    assert!(matches!(
        with(&|p| p.hairline.height_above_glabella_mm = 200.0),
        Err(PlanError::HairlineTooHigh { .. })
    ));
    assert!(matches!(
        with(&|p| p.density_per_cm2 = 0.0),
        Err(PlanError::DensityNotPositive(_))
    ));
    assert!(matches!(
        with(&|p| p.density_per_cm2 = -5.0),
        Err(PlanError::DensityNotPositive(_))
    ));
    let max = stipple::plan::MAX_DENSITY_PER_CM2;
    assert!(matches!(
        with(&|p| p.density_per_cm2 = max * 1.01),
        Err(PlanError::DensityTooHigh { .. })
    ));
    assert!(matches!(
        with(&|p| p.density_per_cm2 = f32::INFINITY),
        Err(PlanError::NotFinite { .. })
    ));
    assert_eq!(with(&|p| p.density_per_cm2 = max), Ok(()));
    for d in [[0.0, 0.1], [0.2, 0.1], [0.1, 1.5], [-0.1, 0.1]] {
        assert!(
            matches!(
                with(&|p| p.dot_diameter_mm = d),
                Err(PlanError::DiameterRange { .. })
            ),
            "{d:?}"
        );
    }
    assert_eq!(with(&|p| p.dot_diameter_mm = [0.12, 0.12]), Ok(()));
    for d in [0.05, 2.5] {
        assert!(
            matches!(
                with(&|p| p.depth_mm = d),
                Err(PlanError::DepthOutOfRange(_))
            ),
            "{d}"
        );
    }
    for s in [0.0, 1.2, -0.3] {
        assert!(
            matches!(with(&|p| p.shade = s), Err(PlanError::ShadeOutOfRange(_))),
            "{s}"
        );
    }
    assert_eq!(with(&|p| p.shade = 1.0), Ok(()));
    assert!(matches!(
        with(&|p| p.depth_mm = f32::NAN),
        Err(PlanError::NotFinite { .. })
    ));
    assert!(matches!(
        with(&|p| p.hairline.transition_mm = -1.0),
        Err(PlanError::HairlineParameterOutOfRange { .. })
    ));
    assert!(matches!(
        with(&|p| p.hairline.irregularity_mm = 50.0),
        Err(PlanError::HairlineParameterOutOfRange { .. })
    ));
    // Messages say what is wrong and what is expected.
    let msg = with(&|p| p.hairline.height_above_glabella_mm = 40.0)
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("40") && msg.contains("50") && msg.contains("too low"),
        "{msg}"
    );
}

#[test]
fn layout_reports_plan_and_geometry_errors() {
    let head = sphere_head(R, 48);
    let bad = Plan {
        shade: 0.0,
        ..Plan::default()
    };
    assert!(matches!(
        lay_out(&head, &bad),
        Err(LayoutError::Plan(PlanError::ShadeOutOfRange(_)))
    ));
    // 120 mm of surface above the glabella is past the top of a 60 mm sphere (94 mm).
    let small = sphere_head(60.0, 48);
    let high = Plan {
        hairline: Hairline {
            height_above_glabella_mm: 120.0,
            ..Hairline::default()
        },
        ..Plan::default()
    };
    match lay_out(&small, &high) {
        Err(LayoutError::Plan(PlanError::HairlineBeyondVertex { reachable_mm, .. })) => {
            assert!(
                (reachable_mm - 60.0 * std::f32::consts::FRAC_PI_2).abs() < 2.0,
                "{reachable_mm}"
            )
        }
        other => panic!("expected HairlineBeyondVertex, got {other:?}"),
    }
}

#[test]
fn too_many_dots_is_refused_quickly() {
    // About 60% of a 700 mm sphere at 400/cm²: some 15 million dots.
    let head = sphere_head(700.0, 64);
    let plan = Plan {
        density_per_cm2: 400.0,
        ..Plan::default()
    };
    let t = std::time::Instant::now();
    match lay_out(&head, &plan) {
        Err(LayoutError::TooManyDots { requested, max }) => {
            assert_eq!(max, layout::MAX_DOTS);
            assert!(requested > 10_000_000, "{requested}");
        }
        other => panic!(
            "expected TooManyDots, got {:?}",
            other.map(|l| l.dots.len())
        ),
    }
    assert!(
        t.elapsed().as_secs_f64() < 2.0,
        "refusing took {:?}",
        t.elapsed()
    );
}

#[test]
fn dot_count_is_exactly_density_times_effective_area() {
    let (_, plan, l) = sphere_layout();
    let expected = (plan.density_per_cm2 as f64 / 100.0 * l.effective_area_mm2).round() as usize;
    assert_eq!(l.dots.len(), expected);
    assert!(l.treated_area_mm2 > l.effective_area_mm2);
    // Sanity: a scalp-sized area (about half the sphere) and density.
    let sphere = 4.0 * PI * (R as f64).powi(2);
    assert!(
        (0.3..0.7).contains(&(l.effective_area_mm2 / sphere)),
        "{}",
        l.effective_area_mm2 / sphere
    );
    assert!((l.density_per_cm2() - plan.density_per_cm2 as f64).abs() < 0.01);

    // The built-in head too, whatever its shape.
    let head = stipple::head::procedural::build(&Default::default());
    let l = lay_out(&head, plan).expect("default plan on the built-in head");
    let expected = (plan.density_per_cm2 as f64 / 100.0 * l.effective_area_mm2).round() as usize;
    assert_eq!(l.dots.len(), expected);
    assert!(l.dots.len() > 10_000, "{}", l.dots.len());
}

#[test]
fn cap_areas_and_density_match_closed_forms() {
    let mesh = sphere_mesh(R, 160);
    let r = R as f64;
    // The tessellation itself: within 0.5% of 4πR².
    assert!((mesh.area_mm2() / (4.0 * PI * r * r) - 1.0).abs() < 0.005);
    let cap = Cap { y0: 20.0, t: 12.0 };
    let plan = Plan::default();
    let l = lay_out_in(&mesh, &cap, &plan).expect("cap layout");
    // On a sphere dA = 2πR dy, so the cap above y has area 2πR(R - y), and the smoothstep,
    // symmetric about y0, integrates to the cap above y0.
    let treated = 2.0 * PI * r * (r - (cap.y0 - cap.t / 2.0) as f64);
    let effective = 2.0 * PI * r * (r - cap.y0 as f64);
    assert!(
        (l.treated_area_mm2 / treated - 1.0).abs() < 0.01,
        "{} vs {treated}",
        l.treated_area_mm2
    );
    assert!(
        (l.effective_area_mm2 / effective - 1.0).abs() < 0.01,
        "{} vs {effective}",
        l.effective_area_mm2
    );
    assert_eq!(l.dots.len() as f64, (effective_count(&l, &plan)).round());

    // Realized density in the full-weight zone (y > y0 + t/2) within 5% of the request.
    let y1 = cap.y0 + cap.t / 2.0;
    let full = l.dots.iter().filter(|d| d.position_mm.y > y1).count() as f64;
    let density = full / (2.0 * PI * r * (r - y1 as f64)) * 100.0;
    eprintln!(
        "cap: treated {:.4} effective {:.4} full density {density:.2}",
        l.treated_area_mm2 / treated,
        l.effective_area_mm2 / effective
    );
    assert!(
        (density / plan.density_per_cm2 as f64 - 1.0).abs() < 0.03,
        "{density}/cm²"
    );

    // Across the transition zone, in five slabs of weight: density rising with the weight
    // and within 15% of the request times the slab's mean weight.
    let bins = 5;
    let mut counts = vec![0usize; bins];
    for d in &l.dots {
        let w = cap.weight(d.position_mm);
        if w < 1.0 {
            counts[((w * bins as f32) as usize).min(bins - 1)] += 1;
        }
    }
    let inv = |w: f64| {
        // Inverse smoothstep by bisection.
        let (mut lo, mut hi) = (0.0, 1.0);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if smoothstep(mid) < w {
                lo = mid
            } else {
                hi = mid
            }
        }
        0.5 * (lo + hi)
    };
    let mut last = 0.0;
    for (b, &count) in counts.iter().enumerate() {
        let (x0, x1) = (
            inv(b as f64 / bins as f64),
            inv((b + 1) as f64 / bins as f64),
        );
        let width_mm = (x1 - x0) * cap.t as f64;
        let area = 2.0 * PI * r * width_mm;
        let steps = 1000;
        let mean_w = (0..steps)
            .map(|i| smoothstep(x0 + (x1 - x0) * (i as f64 + 0.5) / steps as f64))
            .sum::<f64>()
            / steps as f64;
        let density = count as f64 / area * 100.0;
        let expected = plan.density_per_cm2 as f64 * mean_w;
        eprintln!("cap bin {b}: {density:.1} vs {expected:.1}/cm²");
        assert!(
            within_bin_tolerance(b, density / expected),
            "bin {b}: {density:.1} vs {expected:.1}/cm²"
        );
        assert!(
            density > last,
            "bin {b}: density {density:.1} not above {last:.1}"
        );
        last = density;
    }
}

/// Density over the request times the mean weight, per weight bin (of five): within 10%,
/// except the lowest bin, which may run up to 20% over. There the weight falls below the
/// floor under which exclusion radii stop growing, and with few neighbours fewer candidates
/// are rejected than in the full zone: a known, slight excess at the very edge.
fn within_bin_tolerance(bin: usize, ratio: f64) -> bool {
    if bin == 0 {
        (0.9..1.2).contains(&ratio)
    } else {
        (ratio - 1.0).abs() < 0.1
    }
}

fn effective_count(l: &DotLayout, plan: &Plan) -> f64 {
    plan.density_per_cm2 as f64 / 100.0 * l.effective_area_mm2
}

#[test]
fn full_weight_dots_keep_the_exclusion_distance() {
    let (_, _, l) = sphere_layout();
    let region = l.region.as_ref().unwrap();
    let r0 = l.min_distance_mm;
    // 100/cm² at 70% of the RSA jamming density: r0 = sqrt(0.6965 · 0.7 / 1 mm⁻²).
    assert!((r0 - (0.6965f32 * 0.7).sqrt()).abs() < 1e-4, "{r0}");
    let full: Vec<Vec3> = l
        .dots
        .iter()
        .map(|d| d.position_mm)
        .filter(|&p| region.weight(p) >= 1.0)
        .collect();
    assert!(full.len() > 10_000);
    let grid = Grid::new(&full, 2.0 * r0);
    let nearest: Vec<f32> = (0..full.len())
        .filter_map(|i| grid.nearest(&full, i))
        .collect();
    let min = nearest.iter().copied().fold(f32::INFINITY, f32::min);
    eprintln!("closest full-zone pair {:.5} r0", min / r0);
    assert!(min >= r0 * 0.9999, "closest pair {min} < r0 {r0}");
    // Random sequential adsorption packs right up to the limit.
    assert!(
        min < r0 * 1.01,
        "closest pair {min}, expected about r0 {r0}"
    );
}

#[test]
fn every_pair_keeps_its_variable_exclusion_distance() {
    // Near the hairline radii grow as 1/√w: check every pair against the mean of its two
    // radii, across the transition zone, tile borders and both hash levels.
    let check = |l: &DotLayout, region: &dyn Region| {
        let points: Vec<Vec3> = l.dots.iter().map(|d| d.position_mm).collect();
        let radius: Vec<f32> = points
            .iter()
            .map(|&p| l.exclusion_radius_mm(region.weight(p)))
            .collect();
        let r_max = radius.iter().copied().fold(0.0, f32::max);
        assert!(r_max > 3.0 * l.min_distance_mm, "{r_max}");
        let grid = Grid::new(&points, r_max);
        let mut closest = f32::INFINITY;
        for (i, p) in points.iter().enumerate() {
            let k = Grid::key(*p, r_max);
            for dz in -1..=1 {
                for dy in -1..=1 {
                    for dx in -1..=1 {
                        for &j in grid
                            .map
                            .get(&[k[0] + dx, k[1] + dy, k[2] + dz])
                            .into_iter()
                            .flatten()
                        {
                            if j != i {
                                let ratio = p.distance(points[j]) / (0.5 * (radius[i] + radius[j]));
                                closest = closest.min(ratio);
                            }
                        }
                    }
                }
            }
        }
        assert!(
            closest >= 0.9999,
            "a pair at {closest} of its exclusion distance"
        );
        closest
    };
    let (_, _, l) = sphere_layout();
    let head_closest = check(l, l.region.as_ref().unwrap());
    let mesh = sphere_mesh(R, 96);
    let cap = Cap { y0: 0.0, t: 20.0 };
    let l = lay_out_in(
        &mesh,
        &cap,
        &Plan {
            density_per_cm2: 300.0,
            ..Plan::default()
        },
    )
    .unwrap();
    let cap_closest = check(&l, &cap);
    eprintln!("closest pair / exclusion distance: head {head_closest:.5}, cap {cap_closest:.5}");
    assert!(head_closest < 1.01 && cap_closest < 1.01);
}

#[test]
fn spacing_is_blue_noise_not_random() {
    let (head, _, l) = sphere_layout();
    let region = l.region.as_ref().unwrap();
    let all: Vec<Vec3> = l.dots.iter().map(|d| d.position_mm).collect();
    // Interior of the full-weight zone, away from its edge so every neighbour is counted.
    let interior = |p: Vec3| region.signed_distance_mm(p) > 0.5 * region.transition_mm() + 3.0;
    let cell = 3.0;
    let grid = Grid::new(&all, cell);
    let nn: Vec<f32> = (0..all.len())
        .filter(|&i| interior(all[i]))
        .filter_map(|i| grid.nearest(&all, i))
        .collect();
    let cv_layout = coefficient_of_variation(&nn);

    // The same number of uniformly random points over the same zone.
    let count = all.iter().filter(|&&p| region.weight(p) >= 1.0).count();
    let mut rng = 0x1234_5678_9abc_def1u64;
    let mut uniform = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut random = Vec::with_capacity(count);
    while random.len() < count {
        // Uniform on the sphere: z uniform in [-1, 1], azimuth uniform.
        let (z, a) = (2.0 * uniform() - 1.0, 2.0 * PI * uniform());
        let s = (1.0 - z * z).sqrt();
        let p = R * Vec3::new((s * a.cos()) as f32, z as f32, (s * a.sin()) as f32);
        if region.weight(p) >= 1.0 {
            random.push(p);
        }
    }
    let grid = Grid::new(&random, cell);
    let nn_random: Vec<f32> = (0..random.len())
        .filter(|&i| interior(random[i]))
        .filter_map(|i| grid.nearest(&random, i))
        .collect();
    let cv_random = coefficient_of_variation(&nn_random);
    eprintln!("CV layout {cv_layout:.3} random {cv_random:.3}");
    // Poisson points in the plane: CV = sqrt(4/π - 1) = 0.52.
    assert!(
        (0.45..0.6).contains(&cv_random),
        "uniform random CV {cv_random:.3}"
    );
    assert!(
        cv_layout < 0.15,
        "layout nearest-neighbour CV {cv_layout:.3}"
    );
    assert!(
        cv_layout < 0.3 * cv_random,
        "{cv_layout:.3} vs {cv_random:.3}"
    );
    let _ = head;
}

#[test]
fn same_seed_same_dots_other_seed_other_dots() {
    let head = sphere_head(R, 64);
    let plan = Plan {
        density_per_cm2: 60.0,
        ..Plan::default()
    };
    let a = lay_out(&head, &plan).unwrap();
    let b = lay_out(&head, &plan).unwrap();
    assert_eq!(a.dots, b.dots);
    let c = lay_out(
        &head,
        &Plan {
            seed: 2,
            ..plan.clone()
        },
    )
    .unwrap();
    assert_ne!(a.dots, c.dots);
    let shared = a
        .dots
        .iter()
        .zip(&c.dots)
        .filter(|(x, y)| x.position_mm == y.position_mm)
        .count();
    assert_eq!(shared, 0);
    // The seed also redraws the hairline's irregularity.
    let (ra, rc) = (a.region.unwrap(), c.region.unwrap());
    let moved = (0..360).filter(|&i| {
        let az = (i as f32).to_radians() - std::f32::consts::PI;
        (ra.boundary_elevation(az) - rc.boundary_elevation(az)).abs() > 1e-4
    });
    assert!(moved.count() > 300);
}

#[test]
fn thread_count_does_not_change_the_layout() {
    let mesh = sphere_mesh(R, 96);
    let cap = Cap { y0: -10.0, t: 10.0 };
    // Big enough for every step to go parallel.
    let plan = Plan {
        density_per_cm2: 200.0,
        ..Plan::default()
    };
    let one = layout::lay_out_with_threads(&mesh, &cap, &plan, 1).unwrap();
    for threads in [2, 3] {
        let many = layout::lay_out_with_threads(&mesh, &cap, &plan, threads).unwrap();
        assert_eq!(one.dots, many.dots, "{threads} threads");
    }
}

#[test]
fn density_is_as_requested_inside_and_falls_across_the_transition() {
    let (head, plan, l) = sphere_layout();
    let region = l.region.as_ref().unwrap();
    let bins = 5;
    // Area and weighted area per weight bin (the last bin is weight exactly 1), by fine
    // quadrature over the mesh.
    let (mut area, mut weighted) = (vec![0.0f64; bins + 1], vec![0.0f64; bins + 1]);
    for (p, a) in surface_samples(&head.mesh) {
        let w = region.weight(p);
        if w > 0.0 {
            let b = if w >= 1.0 {
                bins
            } else {
                ((w * bins as f32) as usize).min(bins - 1)
            };
            area[b] += a;
            weighted[b] += a * w as f64;
        }
    }
    let mut counts = vec![0usize; bins + 1];
    for d in &l.dots {
        let w = region.weight(d.position_mm);
        assert!(w > 0.0, "dot outside the region");
        let b = if w >= 1.0 {
            bins
        } else {
            ((w * bins as f32) as usize).min(bins - 1)
        };
        counts[b] += 1;
    }
    let d = plan.density_per_cm2 as f64;
    let full = counts[bins] as f64 / area[bins] * 100.0;
    eprintln!("head full zone {full:.2}/cm²");
    assert!(
        (full / d - 1.0).abs() < 0.03,
        "full-weight zone: {full:.1}/cm² for {d}"
    );
    let mut last = 0.0;
    for b in 0..bins {
        let density = counts[b] as f64 / area[b] * 100.0;
        let expected = d * weighted[b] / area[b];
        eprintln!("head bin {b}: {density:.1} vs {expected:.1}/cm²");
        assert!(
            within_bin_tolerance(b, density / expected),
            "bin {b}: {density:.1} vs {expected:.1}/cm²"
        );
        assert!(density > last, "bin {b}: {density:.1} not above {last:.1}");
        last = density;
    }
    assert!(full > last);
}

#[test]
fn hairline_height_is_measured_along_the_surface() {
    // On the sphere the arc is R·Δelevation; measured here by an independent walk.
    for (height, irregularity) in [(80.0, 2.5), (70.0, 0.0), (95.0, 5.0)] {
        let head = sphere_head(R, 96);
        let hairline = Hairline {
            height_above_glabella_mm: height,
            irregularity_mm: irregularity,
            ..Hairline::default()
        };
        let region = TreatedRegion::new(&head, &hairline, 7).unwrap();
        let arc = measured_hairline_height(&head, &region);
        eprintln!("sphere: asked {height} measured {arc:.3}");
        assert!(
            (arc - height as f64).abs() < 0.3,
            "asked {height} mm, measured {arc:.2} mm"
        );
        let exact = R * region.boundary_elevation(0.0);
        assert!((exact - height).abs() < 0.1, "{exact}");
    }
    // The built-in head, whatever its shape: within 3 mm.
    let head = stipple::head::procedural::build(&Default::default());
    for height in [70.0, 80.0, 95.0] {
        let hairline = Hairline {
            height_above_glabella_mm: height,
            ..Hairline::default()
        };
        let region = TreatedRegion::new(&head, &hairline, 1).unwrap();
        let arc = measured_hairline_height(&head, &region);
        eprintln!("built-in: asked {height} measured {arc:.3}");
        assert!(
            (arc - height as f64).abs() < 3.0,
            "built-in head: asked {height} mm, measured {arc:.2} mm"
        );
    }
}

#[test]
fn weight_is_bounded_monotone_and_zero_off_the_scalp() {
    for head in [
        sphere_head(R, 96),
        stipple::head::procedural::build(&Default::default()),
    ] {
        let region = TreatedRegion::new(&head, &Hairline::default(), 3).unwrap();
        let f = *region.frame();
        let lm = head.landmarks;
        assert_eq!(region.weight(lm.top_of_head), 1.0);
        for (name, p) in [
            ("glabella", lm.glabella),
            ("left eye", lm.outer_eye_corner_left),
            ("right eye", lm.outer_eye_corner_right),
            ("left ear", lm.ear_left),
            ("right ear", lm.ear_right),
        ] {
            assert_eq!(region.weight(p), 0.0, "{name}");
            assert!(!region.contains(p), "{name}");
        }
        // Below the nape, straight down the back.
        let (az, el) = f.angles(lm.occiput);
        assert_eq!(
            region.weight(f.center + 100.0 * f.direction(az, el - 0.6)),
            0.0
        );
        // Up every meridian the weight never falls.
        for i in 0..128 {
            let az = (i as f32 / 128.0) * std::f32::consts::TAU - std::f32::consts::PI;
            let mut last = 0.0;
            for j in 0..600 {
                let el = -1.2 + j as f32 * 0.0045;
                let w = region.weight(f.center + 90.0 * f.direction(az, el));
                assert!((0.0..=1.0).contains(&w));
                // (Float rounding in the bilinear lookup aside.)
                assert!(
                    w >= last - 1e-5,
                    "weight falls at azimuth {az}, elevation {el}"
                );
                last = w;
            }
            assert_eq!(last, 1.0);
        }
    }
}

#[test]
fn transition_keeps_its_width_where_the_hairline_runs_steeply() {
    // Down the temples the hairline runs nearly vertically; a transition measured in
    // elevation alone would be a hard edge there. Along any path across the line, the 10-90%
    // rise must take at least the normal width 0.61·transition (smoothstep's 10-90% span).
    let head = sphere_head(R, 96);
    let hairline = Hairline {
        irregularity_mm: 0.0,
        ..Hairline::default()
    };
    let region = TreatedRegion::new(&head, &hairline, 1).unwrap();
    let f = *region.frame();
    let corner = region
        .control_points()
        .iter()
        .find(|c| c.name == "left frontotemporal corner")
        .unwrap();
    let temple = region
        .control_points()
        .iter()
        .find(|c| c.name == "left temple point")
        .unwrap();
    let t = hairline.transition_mm;
    let mut steep = 0;
    for k in 1..8 {
        // Horizontal paths (constant elevation) crossing the temple stretch of the line.
        let el = temple.elevation + (corner.elevation - temple.elevation) * k as f32 / 8.0;
        let (mut a10, mut a90) = (None, None);
        let path = |az: f32| f.center + R * f.direction(az, el);
        let n = 4000;
        // From in front of the temple stretch (untreated) out towards the ear (treated).
        let (az0, az1) = (corner.azimuth - 0.3, temple.azimuth + 0.3);
        if region.weight(path(az0)) > 0.0 || region.weight(path(az1)) < 1.0 {
            continue;
        }
        for i in 0..=n {
            let az = az0 + (az1 - az0) * i as f32 / n as f32;
            let w = region.weight(path(az));
            if a10.is_none() && w >= 0.1 {
                a10 = Some(az);
            }
            if a90.is_none() && w >= 0.9 {
                a90 = Some(az);
            }
        }
        let (Some(a10), Some(a90)) = (a10, a90) else {
            continue;
        };
        let width = (a90 - a10).abs() * R * el.cos();
        eprintln!("temple path at {el:.3}: 10-90% over {width:.2} mm");
        assert!(
            width > 0.58 * t,
            "elevation {el}: 10-90% over {width:.2} mm"
        );
        // Where the line is steep, the vertical offset across the zone is larger still.
        if width < 1.5 * t {
            steep += 1;
        }
    }
    assert!(steep > 0);
}

#[test]
fn dots_carry_sensible_attributes() {
    let (_, plan, l) = sphere_layout();
    let region = l.region.as_ref().unwrap();
    let [dmin, dmax] = plan.dot_diameter_mm;
    let (mut edge, mut full) = ((0.0f64, 0.0f64, 0usize), (0.0f64, 0.0f64, 0usize));
    for d in &l.dots {
        let p = d.position_mm;
        // On the faceted sphere: within the chord sagitta of the surface.
        assert!((p.length() - R).abs() < 0.05, "{}", p.length());
        assert!((d.normal.length() - 1.0).abs() < 1e-4);
        assert!(d.normal.dot(p.normalize()) > 0.9999);
        assert!((dmin..=dmax).contains(&d.diameter_mm), "{}", d.diameter_mm);
        assert!((d.depth_mm / plan.depth_mm - 1.0).abs() <= 0.1 + 1e-6);
        assert!(d.shade <= plan.shade && d.shade >= 0.5 * plan.shade);
        assert_eq!(d.session, 1);
        let w = region.weight(p);
        let acc = if w >= 1.0 {
            &mut full
        } else if w < 0.4 {
            &mut edge
        } else {
            continue;
        };
        acc.0 += d.diameter_mm as f64;
        acc.1 += d.shade as f64;
        acc.2 += 1;
    }
    assert!(edge.2 > 100);
    let (edge_d, full_d) = (edge.0 / edge.2 as f64, full.0 / full.2 as f64);
    let (edge_s, full_s) = (edge.1 / edge.2 as f64, full.1 / full.2 as f64);
    eprintln!(
        "diameter edge {edge_d:.4} full {full_d:.4}, shade edge {edge_s:.3} full {full_s:.3}"
    );
    // Finer, lighter dots at the hairline.
    assert!(edge_d < full_d - 0.01, "{edge_d} vs {full_d}");
    assert!(edge_s < full_s - 0.05, "{edge_s} vs {full_s}");
    assert!((full_s - plan.shade as f64).abs() < 1e-5);
    assert!(
        (full_d - 0.5 * (dmin + dmax) as f64).abs() < 0.003,
        "{full_d}"
    );
}

#[test]
fn acceptance_order_is_spread_over_the_whole_region() {
    // Sessions will be contiguous ranges of the order: the first quarter must cover the
    // scalp evenly, not sweep across it.
    let (_, _, l) = sphere_layout();
    let quarter = l.dots.len() / 4;
    let cell = 15.0;
    let mut cells: HashMap<[i32; 3], (usize, usize)> = HashMap::new();
    for (i, d) in l.dots.iter().enumerate() {
        let e = cells.entry(Grid::key(d.position_mm, cell)).or_default();
        e.0 += 1;
        e.1 += usize::from(i < quarter);
    }
    let mut z2 = 0.0;
    let mut n = 0;
    for &(total, early) in cells.values().filter(|c| c.0 >= 100) {
        let p = 0.25;
        z2 += (early as f64 - p * total as f64).powi(2) / (p * (1.0 - p) * total as f64);
        n += 1;
    }
    eprintln!("order: mean z² {:.3} over {n} cells", z2 / n as f64);
    // Mean squared z-score about 1 for a well-mixed order.
    assert!(n > 50);
    assert!(
        z2 / n as f64 > 0.2 && z2 / (n as f64) < 1.5,
        "mean z² {}",
        z2 / n as f64
    );
    // And early dots are sparser than the final layout: the first quarter alone is
    // farther apart than r0.
    let early: Vec<Vec3> = l.dots[..quarter].iter().map(|d| d.position_mm).collect();
    let grid = Grid::new(&early, 4.0);
    let nn: Vec<f32> = (0..early.len())
        .filter_map(|i| grid.nearest(&early, i))
        .collect();
    let mean = nn.iter().sum::<f32>() / nn.len() as f32;
    eprintln!("first quarter mean NN {:.3} r0", mean / l.min_distance_mm);
    assert!(mean > 1.5 * l.min_distance_mm, "{mean}");
}

#[test]
fn hard_edge_and_plain_hairline_still_lay_out() {
    // No transition (a hard edge: the "fake" look, but a valid plan to show), no
    // irregularity, no recession.
    let head = sphere_head(R, 64);
    let hairline = Hairline {
        transition_mm: 0.0,
        irregularity_mm: 0.0,
        temple_recession_mm: 0.0,
        ..Hairline::default()
    };
    let plan = Plan {
        hairline,
        ..Plan::default()
    };
    let l = lay_out(&head, &plan).unwrap();
    let region = l.region.as_ref().unwrap();
    assert_eq!(l.dots.len() as f64, effective_count(&l, &plan).round());
    assert!((l.treated_area_mm2 / l.effective_area_mm2 - 1.0).abs() < 1e-9);
    assert!(l.dots.iter().all(|d| region.weight(d.position_mm) == 1.0));
    // Recession 0: the corners sit at the mid-frontal elevation.
    let mid = region.boundary_elevation(0.0);
    let corner = region
        .control_points()
        .iter()
        .find(|c| c.name == "left frontotemporal corner")
        .unwrap();
    assert!(
        (corner.elevation - mid).abs() < 1e-3,
        "{} vs {mid}",
        corner.elevation
    );
}

#[test]
fn frontotemporal_corners_sit_on_the_verticals_above_the_outer_eye_corners() {
    let head = stipple::head::procedural::build(&Default::default());
    let lm = head.landmarks;
    for hairline in [
        Hairline::default(),
        Hairline {
            height_above_glabella_mm: 70.0,
            temple_recession_mm: 0.0,
            ..Hairline::default()
        },
        Hairline {
            height_above_glabella_mm: 85.0,
            temple_recession_mm: 20.0,
            ..Hairline::default()
        },
    ] {
        let region = TreatedRegion::new(&head, &hairline, 1).unwrap();
        let f = *region.frame();
        let point = |name: &str| {
            region
                .control_points()
                .iter()
                .find(|c| c.name == name)
                .unwrap()
                .position_mm
        };
        for (corner, eye) in [
            (
                point("left frontotemporal corner"),
                lm.outer_eye_corner_left,
            ),
            (
                point("right frontotemporal corner"),
                lm.outer_eye_corner_right,
            ),
        ] {
            // Seen from the front: the same distance from the mid-sagittal plane.
            let (xc, xe) = (
                (corner - f.center).dot(f.left),
                (eye - f.center).dot(f.left),
            );
            assert!(
                (xc - xe).abs() < 1.0,
                "{hairline:?}: corner at {xc:.1} mm, eye corner at {xe:.1} mm"
            );
        }
        // Set back from the mid-frontal level by the recession, up the surface: about
        // recession/m radians of elevation, m the surface's mm per radian (50-150 here).
        let mid = region.boundary_elevation(0.0);
        for name in ["left frontotemporal corner", "right frontotemporal corner"] {
            let c = region
                .control_points()
                .iter()
                .find(|c| c.name == name)
                .unwrap();
            let rise = c.elevation - mid;
            let recession = hairline.temple_recession_mm;
            assert!(
                rise >= recession / 150.0 - 1e-3 && rise <= recession / 50.0 + 1e-3,
                "{hairline:?}: {rise}"
            );
        }
    }
    // Higher up, the crown narrows and the eye corner's vertical runs out to the side of
    // the head: the corner then stays in front of the ear.
    let high = Hairline {
        height_above_glabella_mm: 100.0,
        temple_recession_mm: 30.0,
        ..Hairline::default()
    };
    let region = TreatedRegion::new(&head, &high, 1).unwrap();
    let az = |name: &str| {
        region
            .control_points()
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .azimuth
    };
    assert!(az("left frontotemporal corner") < az("left temple point"));
    assert!(az("left temple point") < az("left ear front"));
    // Extreme but valid numbers fail with a message that says what to change.
    let extreme = Hairline {
        height_above_glabella_mm: 130.0,
        temple_recession_mm: 50.0,
        ..Hairline::default()
    };
    let msg = TreatedRegion::new(&head, &extreme, 1)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("lower the hairline"), "{msg}");
}
