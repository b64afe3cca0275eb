//! `stipple match SCENE.toml`: the colour-matching suggestion ([`super::matching`]) for a
//! scene's zones, as a table or JSON.

use super::matching::{self, Client, MATCH_DE00, MatchReport, Target, ZoneDots};
use crate::study::Study;
use anyhow::{Context, Result, bail};
use std::path::PathBuf;

#[derive(clap::Args, Clone, Debug)]
pub struct MatchArgs {
    /// The scene file.
    pub scene: PathBuf,
    /// Match this colour (sRGB hex, e.g. "#6b625d") instead of the client's shaved hair.
    #[arg(long)]
    pub target: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The report for a scene: its client's skin (the scene's, or the scan's measured tone when
/// the scene leaves `client.skin` out), hair and stubble, and the zones that get dots.
pub fn report(study: &Study, target: Target) -> Result<MatchReport> {
    let scene = &study.scene;
    let mut skin = study.skin.albedo_linear;
    if study.skin.albedo_from_scan
        && let Some(tone) = crate::head::skin_tone::measure(&study.head)
    {
        skin = tone.albedo_linear;
    }
    let client = Client {
        skin,
        hair: scene.hair_linear(),
        stubble: scene.stubble(),
    };
    let plan = scene.plan();
    let figures = crate::layout::plan_figures(
        &study.head,
        &plan,
        study.condition.as_ref(),
        &study.layout.dots,
    )
    .with_context(|| format!("{}: `plan`", scene.file.display()))?;
    let table = plan.zone_table();
    let zones: Vec<ZoneDots> = crate::plan::ZoneName::ALL
        .iter()
        .zip(&figures.zones)
        .filter(|(_, f)| f.dots > 0)
        .map(|(&name, _)| {
            let z = table.get(name);
            ZoneDots {
                zone: name.as_str().to_string(),
                density_per_cm2: z.density_per_cm2,
                diameter_mm: 0.5 * (z.dot_diameter_mm[0] + z.dot_diameter_mm[1]),
                depth_mm: z.depth_mm,
                shade: z.shade,
            }
        })
        .collect();
    Ok(matching::match_zones(&client, target, &zones))
}

pub fn run(args: &MatchArgs) -> Result<()> {
    let target = match &args.target {
        None => Target::ShavedHair,
        Some(hex) => match crate::scene::parse_srgb_hex(hex) {
            Some(c) => Target::Colour {
                linear_srgb: c.to_array(),
            },
            None => bail!("--target: expected an sRGB hex colour like \"#6b625d\", got {hex:?}"),
        },
    };
    let study = Study::load(&args.scene)?;
    let r = report(&study, target)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    print!("{}", text(&r));
    Ok(())
}

fn hex([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// The report as a practitioner reads it.
pub fn text(r: &MatchReport) -> String {
    let mut s = String::new();
    let target = match r.target {
        Target::ShavedHair => "the client's shaved hair".to_string(),
        Target::Colour { .. } => "the chosen colour".to_string(),
    };
    s += &format!(
        "skin {} (Fitzpatrick {:.1}); target: {target} {}; a match is dE00 <= {MATCH_DE00}\n",
        hex(r.skin_srgb),
        r.fitzpatrick,
        hex(r.target_srgb),
    );
    for z in &r.zones {
        let d = &z.dots;
        s += &format!(
            "\nzone {} ({} /cm², dots {:.2} mm): planned shade {:.2} at {:.2} mm -> {} dE00 {:.1}\n",
            d.zone,
            d.density_per_cm2,
            d.diameter_mm,
            d.shade,
            d.depth_mm,
            hex(z.planned.patch_srgb),
            z.planned.de00
        );
        s += &format!(
            "  suggest shade {:.2} at {:.2} mm -> {} dE00 {:.1}{}\n",
            z.suggested.shade,
            z.suggested.depth_mm,
            hex(z.suggested.patch_srgb),
            z.suggested.de00,
            if z.matched {
                String::new()
            } else {
                match &z.denser {
                    Some(c) => format!(
                        "\n  no shade matches at {} /cm²: at {} /cm², shade {:.2} at {:.2} mm -> {} dE00 {:.1}",
                        d.density_per_cm2,
                        c.density_per_cm2.unwrap_or(d.density_per_cm2),
                        c.shade,
                        c.depth_mm,
                        hex(c.patch_srgb),
                        c.de00
                    ),
                    None => format!(
                        "\n  no shade matches, even at {} /cm²: the target is darker than SMP can make this skin",
                        matching::MAX_DENSITY_PER_CM2
                    ),
                }
            }
        );
        let others: Vec<String> = z
            .by_reach
            .iter()
            .map(|c| {
                format!(
                    "{:.2} mm: shade {:.2} (dE00 {:.1})",
                    c.depth_mm, c.shade, c.de00
                )
            })
            .collect();
        s += &format!("  best by reach: {}\n", others.join(", "));
        if !z.under_presets.is_empty() {
            let lights: Vec<String> = z
                .under_presets
                .iter()
                .map(|u| {
                    let [dl, _, db] = u.delta_lab;
                    let how = match (dl > 0.5, dl < -0.5, db < -0.5, db > 0.5) {
                        (true, _, true, _) => ", lighter and cooler",
                        (true, _, _, true) => ", lighter and warmer",
                        (_, true, true, _) => ", darker and cooler",
                        (_, true, _, true) => ", darker and warmer",
                        (true, ..) => ", lighter",
                        (_, true, ..) => ", darker",
                        (_, _, true, _) => ", cooler",
                        (_, _, _, true) => ", warmer",
                        _ => "",
                    };
                    format!("{} {:.1}{how}", u.preset, u.de00)
                })
                .collect();
            s += &format!(
                "  spectral check, dE00 to the hair under each light (eye adapted to it): {}\n",
                lights.join("; ")
            );
        }
    }
    s
}
