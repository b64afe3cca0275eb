//! `cargo bench`: the figures of `stipple bench`, through the same library code.
//!
//! Quick by default (0 and 100,000 dots, 1920x1080, a minute or so on a software rasteriser);
//! `STIPPLE_BENCH_FULL=1 cargo bench` runs the full set (0 to 1,000,000 dots). The adapter is
//! chosen as by the command line (`STIPPLE_BACKEND`, `STIPPLE_ADAPTER`). The JSON report also
//! goes to `target/bench-frame.json`.

use stipple::bench::{BenchOptions, run};
use stipple::render::{AdapterRequest, GpuContext, Renderer};

fn main() -> anyhow::Result<()> {
    // `cargo bench -- --list` and filters from the bench harness protocol: nothing to list.
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let full = std::env::var("STIPPLE_BENCH_FULL").is_ok_and(|v| v == "1");
    let opts = if full {
        BenchOptions::full()
    } else {
        BenchOptions::quick()
    };
    let request = AdapterRequest::default().with_env()?;
    let mut renderer = Renderer::new(GpuContext::new(&request)?);
    let report = run(&mut renderer, &opts, |what| eprintln!("bench: {what}"))?;
    print!("{}", report.table());
    let json = serde_json::to_string_pretty(&report)?;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench-frame.json");
    stipple::output::write_atomic(&path, |f| std::io::Write::write_all(f, json.as_bytes()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}
