//! The light-transport reference (src/optics) against closed forms and published Monte Carlo
//! benchmarks, and the skin model's basic physics.

use stipple::optics::transport::{
    self, Absorber, Beam, Launch, Layer, MCML_ROULETTE_WEIGHT, Stack, Totals,
};

fn run(stack: &Stack, photons: u64, seed: u64, threads: usize) -> Totals {
    transport::simulate(
        stack,
        &[],
        Launch {
            beam: Beam::Pencil,
            photons,
            seed,
            threads,
        },
        || (),
        |_, _| {},
        |_, _| {},
    )
    .0
}

fn slab(mua: f64, mus: f64, g: f64, n: f64, d: f64, n_out: f64) -> Stack {
    Stack {
        layers: vec![Layer {
            thickness_cm: d,
            mua_per_cm: mua,
            mus_per_cm: mus,
            g,
            n,
        }],
        n_above: n_out,
        n_below: n_out,
        max_depth_cm: 1e9,
        roulette_weight: MCML_ROULETTE_WEIGHT,
    }
}

/// A semi-infinite medium that absorbs nothing sends every photon back out. The walk is cut at
/// 1,000 mean free paths, which by the gambler's-ruin argument loses about 1/1,000 of them.
#[test]
fn non_absorbing_half_space_returns_all_light() {
    let mut s = slab(0.0, 10.0, 0.0, 1.0, f64::INFINITY, 1.0);
    s.max_depth_cm = 100.0;
    let t = run(&s, 4000, 3, 0);
    let [sp, rd, tt, a, lost] = t.fractions();
    eprintln!("half space, no absorption: Rsp {sp} Rd {rd} T {tt} A {a} lost {lost}");
    assert!(rd > 0.99, "Rd {rd}");
    assert!((rd + lost - 1.0).abs() < 1e-9);
}

/// Wang, Jacques & Zheng 1995 (MCML, Comput. Methods Programs Biomed. 47:131), their slab
/// check against van de Hulst's tables: n = 1 (matched), µa = 10/cm, µs = 90/cm, g = 0.75,
/// d = 0.02 cm: Rd = 0.09739, Tt = 0.66096 (van de Hulst 1980); MCML gave 0.09734 ± 0.00035
/// and 0.66096 ± 0.00020.
#[test]
fn matched_slab_matches_van_de_hulst_and_mcml() {
    let t = run(&slab(10.0, 90.0, 0.75, 1.0, 0.02, 1.0), 100_000, 11, 0);
    let [_, rd, tt, _, _] = t.fractions();
    let (se_r, se_t) = t.standard_errors();
    eprintln!("slab: Rd {rd:.5} ± {se_r:.5}, Tt {tt:.5} ± {se_t:.5}");
    assert!(
        (rd - 0.09739).abs() < 3.0 * se_r + 0.00035,
        "Rd {rd} ± {se_r}"
    );
    assert!(
        (tt - 0.66096).abs() < 3.0 * se_t + 0.0002,
        "Tt {tt} ± {se_t}"
    );
}

/// Chandrasekhar's H-function for isotropic scattering of single-scattering albedo `w`, by
/// iterating H(µ) = 1 / (1 - (w/2) µ ∫₀¹ H(µ')/(µ + µ') dµ') on Gauss-Legendre nodes.
fn h_function(w: f64, mu: f64) -> f64 {
    // 64 nodes of the midpoint rule in µ' suffice for 4 decimals here.
    let n = 400;
    let nodes: Vec<f64> = (0..n).map(|i| (i as f64 + 0.5) / n as f64).collect();
    let mut h = vec![1.0; n];
    for _ in 0..200 {
        let prev = h.clone();
        for (i, &m) in nodes.iter().enumerate() {
            let s: f64 = nodes
                .iter()
                .zip(&prev)
                .map(|(&x, &hx)| hx / (m + x))
                .sum::<f64>()
                / n as f64;
            h[i] = 1.0 / (1.0 - 0.5 * w * m * s);
        }
    }
    let s: f64 = nodes
        .iter()
        .zip(&h)
        .map(|(&x, &hx)| hx / (mu + x))
        .sum::<f64>()
        / n as f64;
    1.0 / (1.0 - 0.5 * w * mu * s)
}

/// The closed form for a semi-infinite, index-matched, isotropically scattering medium lit at
/// normal incidence: total diffuse reflectance 1 - H(1) √(1 - a) (Chandrasekhar 1960,
/// "Radiative Transfer", the plane albedo). For a = 0.9 (µa = 10, µs = 90, g = 0, the MCML
/// paper's semi-infinite case) it is 0.4149... which the walk must reproduce.
#[test]
fn matched_half_space_matches_chandrasekhar() {
    let a = 0.9;
    let expected = 1.0 - h_function(a, 1.0) * (1.0f64 - a).sqrt();
    let mut s = slab(10.0, 90.0, 0.0, 1.0, f64::INFINITY, 1.0);
    s.max_depth_cm = 10.0;
    let t = run(&s, 100_000, 5, 0);
    let [_, rd, _, _, _] = t.fractions();
    let (se_r, _) = t.standard_errors();
    eprintln!("half space a = 0.9: Rd {rd:.5} ± {se_r:.5}, Chandrasekhar {expected:.5}");
    assert!((0.40..0.43).contains(&expected), "H-function {expected}");
    assert!(
        (rd - expected).abs() < 3.0 * se_r + 5e-4,
        "Rd {rd} vs {expected}"
    );
}

/// Energy: specular + diffuse reflection + transmission + absorption = 1, in a mismatched
/// two-layer slab with Fresnel boundaries (skin-like: n = 1.4 in air).
#[test]
fn energy_is_conserved() {
    let s = Stack {
        layers: vec![
            Layer {
                thickness_cm: 0.01,
                mua_per_cm: 20.0,
                mus_per_cm: 300.0,
                g: 0.9,
                n: 1.4,
            },
            Layer {
                thickness_cm: 0.1,
                mua_per_cm: 1.0,
                mus_per_cm: 200.0,
                g: 0.9,
                n: 1.37,
            },
        ],
        n_above: 1.0,
        n_below: 1.0,
        max_depth_cm: 1e9,
        roulette_weight: MCML_ROULETTE_WEIGHT,
    };
    let t = run(&s, 20_000, 9, 0);
    let [sp, rd, tt, a, lost] = t.fractions();
    let sum = sp + rd + tt + a + lost;
    eprintln!("energy: Rsp {sp:.5} Rd {rd:.5} T {tt:.5} A {a:.5} lost {lost}: sum {sum:.6}");
    assert!((sp - (0.4f64 / 2.4).powi(2)).abs() < 1e-12);
    assert!((sum - 1.0).abs() < 1e-3, "sum {sum}");
}

/// Seeded and deterministic whatever the thread count.
#[test]
fn same_seed_same_result_on_any_thread_count() {
    let s = slab(1.0, 100.0, 0.9, 1.4, 0.05, 1.0);
    let one = run(&s, 6000, 42, 1);
    let three = run(&s, 6000, 42, 3);
    assert_eq!(one, three);
    assert_ne!(one, run(&s, 6000, 43, 1));
}

#[test]
fn chord_through_a_column() {
    let c = Absorber::column(0.0, 0.0, 0.01, 0.03, 0.05);
    // Straight down the axis through the whole column.
    assert!((c.chord([0.0, 0.0, 0.0], [0.0, 0.0, 1.0], 1.0) - 0.02).abs() < 1e-12);
    // Sideways through its middle: a diameter.
    assert!((c.chord([-1.0, 0.0, 0.04], [1.0, 0.0, 0.0], 2.0) - 0.02).abs() < 1e-12);
    // A segment that stops short.
    assert_eq!(c.chord([-1.0, 0.0, 0.04], [1.0, 0.0, 0.0], 0.5), 0.0);
    // Above the column.
    assert_eq!(c.chord([-1.0, 0.0, 0.02], [1.0, 0.0, 0.0], 2.0), 0.0);
}

/// The skin model: a carbon disc under Fitzpatrick II skin darkens its centre strongly when
/// shallow and hardly at all when deep, spreads wider with depth, reads as a darker, greyer
/// version of the skin (no blue painted in), and a patch of such discs at 100/cm² is barely
/// different from bare skin (the issue's independent Monte Carlo: 24% / 0.3% at the centre,
/// half-darkening radius 0.10 / 0.70 mm, patch dE00 1.3 / 0.6 at 0.25 / 1.0 mm).
#[test]
fn a_carbon_disc_under_skin_reads_as_the_issue_reports() {
    use stipple::optics::{Deposit, SkinSim, simulate_skin, spectra::ciede2000};
    let mut sim = SkinSim::new(
        vec![2],
        vec![
            Deposit::disc(0.15, 0.05, 0.25),
            Deposit::disc(0.15, 0.05, 1.0),
        ],
        vec![1.0],
    );
    sim.radii_mm = vec![0.0, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6];
    sim.photons_per_wavelength = 1500;
    sim.seed = 5;
    let r = simulate_skin(&sim);
    let lum = |c: glam::Vec3| stipple::lighting::color::luminance(c);
    let lab = |c| stipple::skin::linear_srgb_to_lab(c);
    let bare = r.bare_rgb(0);
    let (shallow, deep) = (lum(r.darkening(0, 0, 0, 0)), lum(r.darkening(0, 1, 0, 0)));
    let (h0, h1) = (r.half_radius_mm(0, 0, 0), r.half_radius_mm(0, 1, 0));
    let patch = |d| ciede2000(lab(bare), lab(r.patch_rgb(0, d, 0, 1.0)));
    eprintln!(
        "centre {shallow:.3} / {deep:.4}; half radius {h0:.3} / {h1:.3} mm; patch dE00 {:.2} / {:.2}",
        patch(0),
        patch(1)
    );
    assert!((0.15..0.4).contains(&shallow), "{shallow}");
    assert!(deep < 0.03, "{deep}");
    assert!(h0 < 0.2 && h1 > 0.35, "{h0} {h1}");
    assert!(patch(0) < 2.5 && patch(0) > 0.7 && patch(1) < patch(0));
    // Darker and greyer, hue kept within a few degrees: no blue cast.
    let (lb, lc) = (lab(bare), lab(r.dot_rgb(0, 0, 0, 0)));
    let hue = |l: [f32; 3]| l[2].atan2(l[1]).to_degrees();
    let chroma = |l: [f32; 3]| l[1].hypot(l[2]);
    assert!(lc[0] < lb[0] - 5.0);
    assert!(chroma(lc) < chroma(lb));
    assert!((hue(lc) - hue(lb)).abs() < 10.0, "{lb:?} {lc:?}");
}
