//! Dot layout time on the built-in head: 100,000 and 1,000,000 dots, on one thread and on
//! all cores, median of a few runs. `cargo bench --bench layout`.

use std::time::Instant;
use stipple::head::procedural;
use stipple::layout::{self, lay_out};
use stipple::plan::{Plan, TreatedRegion};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs: usize = std::env::var("LAYOUT_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let head = procedural::build(&Default::default());
    // As `stipple bench`: the treated region grown to most of the scalp (a low, straight
    // hairline with a narrow transition), so that a million dots stay within the accepted
    // densities.
    let mut base = Plan::default();
    base.hairline.height_above_glabella_mm = 50.0;
    base.hairline.temple_recession_mm = 0.0;
    base.hairline.transition_mm = 4.0;
    let t = Instant::now();
    let region = TreatedRegion::new(&head, &base.hairline, base.seed).expect("built-in head");
    let region_ms = t.elapsed().as_secs_f64() * 1e3;
    let effective_cm2 = lay_out(&head, &base)
        .expect("default plan")
        .effective_area_mm2
        / 100.0;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "built-in head: {} triangles, treated region built in {region_ms:.1} ms, effective area {effective_cm2:.0} cm², {cores} cores",
        head.mesh.triangle_count()
    );
    for dots in [100_000usize, 1_000_000] {
        let plan = Plan {
            density_per_cm2: (dots as f64 / effective_cm2) as f32,
            ..base.clone()
        };
        for threads in [1, cores] {
            let mut times = Vec::new();
            let mut placed = 0;
            for _ in 0..runs {
                let t = Instant::now();
                let l = layout::lay_out_with_threads(&head.mesh, &region, &plan, threads)
                    .expect("layout");
                times.push(t.elapsed().as_secs_f64() * 1e3);
                placed = l.dots.len();
            }
            println!(
                "{placed:>9} dots ({:.0}/cm²), {threads} thread(s): median {:.0} ms, best {:.0} ms (region not included)",
                plan.density_per_cm2,
                median(times.clone()),
                times.iter().copied().fold(f64::INFINITY, f64::min)
            );
        }
        // The full call, region included.
        let t = Instant::now();
        let l = lay_out(&head, &plan).expect("layout");
        println!(
            "{:>9} dots: lay_out() end to end {:.0} ms",
            l.dots.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}
