//! `stipple optics ...`: the light-transport reference from the command line.

use super::{Deposit, SkinResult, SkinSim, simulate_skin, spectra};
use anyhow::{Result, bail};
use glam::Vec3;

#[derive(clap::Args, Clone, Debug)]
pub struct OpticsArgs {
    #[command(subcommand)]
    pub what: OpticsCommand,
}

#[derive(clap::Subcommand, Clone, Debug)]
pub enum OpticsCommand {
    /// Single pigment deposits under the skin: centre darkening, half-darkening radius, core
    /// colour, and how far a patch of them at the plan's density is from bare skin (dE00).
    Dot {
        #[command(flatten)]
        common: Common,
        /// Deposit depths (mm, the deposit's centre for a disc, its bottom for a track).
        #[arg(long, value_delimiter = ',', default_value = "0.25,0.35,0.5,1.0")]
        depth_mm: Vec<f64>,
        /// Deposit diameter (mm).
        #[arg(long, default_value_t = 0.15)]
        diameter_mm: f64,
        /// Disc thickness (mm; `disc` only).
        #[arg(long, default_value_t = 0.05)]
        thickness_mm: f64,
        /// `disc`: a carbon disc at the depth (the domain brief's configuration); `track`:
        /// carbon along the needle track from the dermo-epidermal junction down to the depth.
        #[arg(long, default_value = "disc")]
        deposit: String,
        /// Pigment strength (1 = undiluted carbon black).
        #[arg(long, default_value_t = 1.0)]
        shade: f64,
        /// Dots per cm² for the patch figure.
        #[arg(long, default_value_t = 100.0)]
        density_per_cm2: f64,
    },
    /// Bakes the renderer's tables (every Fitzpatrick type, healed needle-track deposits by
    /// depth, width and strength, hair under the skin) into DIR/tables.json, recording this
    /// command, the photons, the seed and the code version in its header.
    Bake {
        /// Photons per wavelength (31 wavelengths).
        #[arg(long, default_value_t = 4000)]
        photons: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Worker threads (0 = all cores); the result does not depend on it.
        #[arg(long, default_value_t = 0)]
        threads: usize,
        /// Directory to write tables.json into.
        #[arg(long, default_value = super::tables::DEFAULT_DIR)]
        out: std::path::PathBuf,
    },
    /// Hair shafts under the skin (a shaved head's grey): one shaft's darkening and a patch.
    Hair {
        #[command(flatten)]
        common: Common,
        #[arg(long, default_value_t = 0.077)]
        diameter_mm: f64,
        #[arg(long, default_value_t = 55.0)]
        angle_deg: f64,
        #[arg(long, default_value_t = 4.0)]
        length_mm: f64,
        /// Eumelanin volume fraction of the shaft.
        #[arg(long, default_value_t = 0.1)]
        melanin: f64,
        #[arg(long, default_value_t = 180.0)]
        density_per_cm2: f64,
    },
}

#[derive(clap::Args, Clone, Debug)]
pub struct Common {
    /// Fitzpatrick skin types (I-VI or 1-6).
    #[arg(long, value_delimiter = ',', default_value = "II,IV,VI")]
    pub fitzpatrick: Vec<String>,
    /// Photons per wavelength (31 wavelengths, 400-700 nm).
    #[arg(long, default_value_t = 100_000)]
    pub photons: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (0 = all cores); the result does not depend on it.
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// "II" or "2" → 2.
pub fn parse_fitzpatrick(s: &str) -> Result<usize> {
    const ROMAN: [&str; 6] = ["I", "II", "III", "IV", "V", "VI"];
    let t = s.trim().trim_start_matches("fitzpatrick-");
    if let Some(i) = ROMAN.iter().position(|r| r.eq_ignore_ascii_case(t)) {
        return Ok(i + 1);
    }
    match t.parse::<usize>() {
        Ok(n @ 1..=6) => Ok(n),
        _ => bail!("--fitzpatrick: expected I-VI or 1-6, got {s:?}"),
    }
}

fn roman(f: usize) -> &'static str {
    ["I", "II", "III", "IV", "V", "VI"][f.clamp(1, 6) - 1]
}

fn srgb8(c: Vec3) -> [u8; 3] {
    let f = |v: f32| (crate::scene::linear_to_srgb(v) * 255.0).round() as u8;
    [f(c.x), f(c.y), f(c.z)]
}

fn lab(c: Vec3) -> [f32; 3] {
    crate::skin::linear_srgb_to_lab(c)
}

fn hue_chroma(l: [f32; 3]) -> (f32, f32) {
    let h = l[2].atan2(l[1]).to_degrees();
    (if h < 0.0 { h + 360.0 } else { h }, l[1].hypot(l[2]))
}

/// One deposit's figures on one skin type.
#[derive(serde::Serialize, Clone, Debug)]
pub struct DotFigures {
    pub fitzpatrick: String,
    pub deposit: String,
    pub shade: f64,
    pub bare_srgb8: [u8; 3],
    pub bare_lab: [f32; 3],
    /// Luminance darkening at the centre (0-1).
    pub centre_darkening: f32,
    /// Per-channel (linear sRGB) darkening at the centre.
    pub centre_darkening_rgb: [f32; 3],
    pub core_srgb8: [u8; 3],
    pub core_lab: [f32; 3],
    pub half_darkening_radius_mm: f64,
    /// Equivalent black area of one dot (mm², luminance-weighted).
    pub equivalent_area_mm2: f32,
    pub patch_density_per_cm2: f64,
    pub patch_srgb8: [u8; 3],
    pub patch_de00: f32,
}

/// Figures of deposit `di` at strength `ki` on type index `fi`.
pub fn figures(r: &SkinResult, fi: usize, di: usize, ki: usize, per_cm2: f64) -> DotFigures {
    let bare = r.bare_rgb(fi);
    let core = r.dot_rgb(fi, di, ki, 0);
    let d = r.darkening(fi, di, ki, 0);
    let patch = r.patch_rgb(fi, di, ki, per_cm2 / 100.0);
    let a: [f64; spectra::WAVELENGTHS] = r.area_mm2[fi][di][ki];
    let area_rgb = {
        // Equivalent area as the luminance lost by a unit patch, per dot.
        let per = 1e-3;
        let p = r.patch_rgb(fi, di, ki, per);
        let _ = a;
        (crate::lighting::color::luminance(bare) - crate::lighting::color::luminance(p))
            / crate::lighting::color::luminance(bare)
            / per as f32
    };
    DotFigures {
        fitzpatrick: roman(r.sim.fitzpatrick[fi]).to_string(),
        deposit: r.sim.deposits[di].name.clone(),
        shade: r.sim.strengths[ki],
        bare_srgb8: srgb8(bare),
        bare_lab: lab(bare),
        centre_darkening: crate::lighting::color::luminance(d),
        centre_darkening_rgb: d.to_array(),
        core_srgb8: srgb8(core),
        core_lab: lab(core),
        half_darkening_radius_mm: r.half_radius_mm(fi, di, ki),
        equivalent_area_mm2: area_rgb,
        patch_density_per_cm2: per_cm2,
        patch_srgb8: srgb8(patch),
        patch_de00: spectra::ciede2000(lab(bare), lab(patch)),
    }
}

fn print(rows: &[DotFigures], json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(rows)?);
        return Ok(());
    }
    println!(
        "{:<4} {:<34} {:>5} {:>8} {:>14} {:>9} {:>16} {:>8} {:>8}",
        "type",
        "deposit",
        "shade",
        "centre",
        "core sRGB",
        "core h/C",
        "half-radius mm",
        "area mm2",
        "patch dE"
    );
    for f in rows {
        let (h, c) = hue_chroma(f.core_lab);
        println!(
            "{:<4} {:<34} {:>5.2} {:>7.1}% {:>14} {:>4.0}/{:<4.1} {:>16.3} {:>8.4} {:>8.2}",
            f.fitzpatrick,
            f.deposit,
            f.shade,
            100.0 * f.centre_darkening,
            format!("{:?}", f.core_srgb8),
            h,
            c,
            f.half_darkening_radius_mm,
            f.equivalent_area_mm2,
            f.patch_de00
        );
    }
    if let Some(f) = rows.first() {
        let (h, c) = hue_chroma(f.bare_lab);
        println!(
            "(bare skin {:?}, hue {h:.0}, chroma {c:.1}; patch at {} per cm2)",
            f.bare_srgb8, f.patch_density_per_cm2
        );
    }
    Ok(())
}

pub fn run(args: &OpticsArgs) -> Result<()> {
    match &args.what {
        OpticsCommand::Dot {
            common,
            depth_mm,
            diameter_mm,
            thickness_mm,
            deposit,
            shade,
            density_per_cm2,
        } => {
            let deposits = depth_mm
                .iter()
                .map(|&z| match deposit.as_str() {
                    "disc" => Ok(Deposit::disc(*diameter_mm, *thickness_mm, z)),
                    "track" => Ok(Deposit::track(*diameter_mm, z)),
                    other => bail!("--deposit: expected disc or track, got {other:?}"),
                })
                .collect::<Result<Vec<_>>>()?;
            let r = run_sim(common, deposits, *shade)?;
            let mut rows = Vec::new();
            for fi in 0..r.sim.fitzpatrick.len() {
                for di in 0..r.sim.deposits.len() {
                    rows.push(figures(&r, fi, di, 0, *density_per_cm2));
                }
            }
            print(&rows, common.json)
        }
        OpticsCommand::Bake {
            photons,
            seed,
            threads,
            out,
        } => {
            if *photons == 0 {
                bail!("--photons: expected at least 1");
            }
            let command = format!(
                "stipple optics bake --photons {photons} --seed {seed} --out {}",
                out.display()
            );
            let t = super::tables::bake(*photons, *seed, *threads, command);
            std::fs::create_dir_all(out)
                .map_err(|e| anyhow::anyhow!("--out {}: {e}", out.display()))?;
            let path = out.join(super::tables::FILE_NAME);
            let mut f = crate::output::AtomicFile::create(&path)?;
            std::io::Write::write_all(f.file(), t.to_json().as_bytes())?;
            f.commit()?;
            eprintln!(
                "wrote {} ({} dot entries, {} hair entries)",
                path.display(),
                t.dots.entries.len(),
                t.hair.entries.len()
            );
            Ok(())
        }
        OpticsCommand::Hair {
            common,
            diameter_mm,
            angle_deg,
            length_mm,
            melanin,
            density_per_cm2,
        } => {
            let d = Deposit::hair(*diameter_mm, *angle_deg, *length_mm, *melanin);
            let r = run_sim(common, vec![d], 1.0)?;
            let rows: Vec<_> = (0..r.sim.fitzpatrick.len())
                .map(|fi| figures(&r, fi, 0, 0, *density_per_cm2))
                .collect();
            print(&rows, common.json)
        }
    }
}

fn run_sim(common: &Common, deposits: Vec<Deposit>, shade: f64) -> Result<SkinResult> {
    let fitz = common
        .fitzpatrick
        .iter()
        .map(|s| parse_fitzpatrick(s))
        .collect::<Result<Vec<_>>>()?;
    if common.photons == 0 {
        bail!("--photons: expected at least 1");
    }
    let mut sim = SkinSim::new(fitz, deposits, vec![shade]);
    sim.photons_per_wavelength = common.photons;
    sim.seed = common.seed;
    sim.threads = common.threads;
    Ok(simulate_skin(&sim))
}
