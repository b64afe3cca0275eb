//! The renderer against the light-transport tables (`assets/optics/tables.json`, made by
//! `stipple optics bake`): single dots close up, a treated patch at 1 m and a patch of hair
//! under the skin at 1 m come out as the simulation says, on Fitzpatrick II, IV and VI. Means
//! over regions (never single pixels), so the GL backend and other adapters agree.

mod common;

use common::color::{ciede2000, linear_to_lab};
use common::patch::{camera_at, disc_mask, uniform_light};
use glam::Vec3;
use stipple::camera::Camera;
use stipple::layout::Dot;
use stipple::optics::tables::{SkinClass, tables};
use stipple::pigment::NeedleHand;
use stipple::plan::condition::ScalpState;
use stipple::render::{FrameSettings, GpuScene, SkinLook, SurfaceOptions};
use stipple::scene::srgb_to_linear;
use stipple::skin::Stubble;

const SKINS: [&str; 3] = ["fitzpatrick-II", "fitzpatrick-IV", "fitzpatrick-VI"];

fn render(
    scene: &GpuScene,
    camera: Camera,
    albedo: Vec3,
    size: u32,
    dots: bool,
) -> image::RgbaImage {
    let mut renderer = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    let settings = FrameSettings {
        camera,
        lighting: uniform_light(),
        skin: SkinLook::new(albedo, 0.5),
        width: size,
        height: size,
        supersample: 2,
        show_dots: dots,
        single_dots: true,
    };
    renderer.render(scene, &settings).expect("render")
}

fn prepare(dots: &[Dot], map_size: u32, options: &SurfaceOptions) -> GpuScene {
    let (head, _) = common::default_head_and_layout();
    let renderer = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    renderer
        .prepare_with(head, dots, map_size, options)
        .expect("prepare")
}

/// Mean linear colour (tone mapping undone) of the pixels in `region`.
fn mean_linear(img: &image::RgbaImage, region: impl Fn(u32, u32) -> bool) -> [f64; 3] {
    let mut acc = [0.0f64; 3];
    let mut n = 0.0;
    for (x, y, p) in img.enumerate_pixels() {
        if region(x, y) {
            for c in 0..3 {
                acc[c] += srgb_to_linear(p[c] as f32 / 255.0) as f64;
            }
            n += 1.0;
        }
    }
    assert!(n > 0.0, "an empty region");
    common::untonemap(acc.map(|v| v / n))
}

fn darken(bare: [f64; 3], d: Vec3) -> [f64; 3] {
    [
        bare[0] * (1.0 - d.x as f64),
        bare[1] * (1.0 - d.y as f64),
        bare[2] * (1.0 - d.z as f64),
    ]
}

/// A place on the default head's treated crown (a planned dot) and its normal.
fn crown_spots(n: usize, apart_mm: f32) -> Vec<Dot> {
    let (head, layout) = common::default_head_and_layout();
    let top = head.landmarks.top_of_head;
    let mut spots: Vec<Dot> = Vec::new();
    let mut by_distance: Vec<&Dot> = layout.dots.iter().collect();
    by_distance.sort_by(|a, b| {
        (a.position_mm - top)
            .length()
            .total_cmp(&(b.position_mm - top).length())
    });
    for d in by_distance {
        if spots
            .iter()
            .all(|s| (s.position_mm - d.position_mm).length() > apart_mm)
        {
            spots.push(*d);
            if spots.len() == n {
                break;
            }
        }
    }
    assert_eq!(spots.len(), n);
    spots
}

/// The least wobbly needle: the footprint's harmonics are the needle's, not the optics'.
fn steady_hand() -> NeedleHand {
    NeedleHand {
        angle_deg: 0.0,
        pressure: 0.0,
    }
}

/// The macro check: single dots 0.12 mm wide at shade 0.6 whose needle reached 0.25,
/// 0.35, 0.5 and 1.0 mm, on Fitzpatrick II, IV and VI, seen 1 mm across: the mean colour of
/// the core (within 0.02 mm of the centre) and of the ring at the table's half-darkening
/// radius are those of the table's profile (on this skin, `Look::on_skin`) within deltaE2000
/// 3, measured against a bare render of the same spot.
#[test]
fn single_dots_match_the_simulated_profile() {
    let depths = [0.25f32, 0.35, 0.5, 1.0];
    let (diameter, shade) = (0.12f32, 0.6f32);
    let spots = crown_spots(depths.len(), 4.0);
    let size = 128u32;
    let width_mm = 1.0f32;
    let mm_per_px = width_mm / size as f32;
    let mut worst: f64 = 0.0;
    for name in SKINS {
        let albedo = stipple::skin::fitzpatrick_albedo(name).unwrap();
        let dots: Vec<Dot> = spots
            .iter()
            .zip(depths)
            .map(|(s, z)| Dot {
                depth_mm: z,
                diameter_mm: diameter,
                shade,
                ..*s
            })
            .collect();
        let options = SurfaceOptions {
            needle: steady_hand(),
            skin_albedo: Some(albedo),
            ..Default::default()
        };
        let scene = prepare(&dots, 64, &options);
        for d in &dots {
            let camera = Camera::macro_view(d.position_mm, d.normal, width_mm, 1.0);
            let after = render(&scene, camera, albedo, size, true);
            let before = render(&scene, camera, albedo, size, false);
            let look = tables()
                .dot(
                    SkinClass::from_linear_srgb(albedo),
                    d.depth_mm,
                    diameter,
                    shade,
                )
                .on_skin(albedo);
            let half = look.half_darkening_radius_mm;
            let c = 0.5 * size as f32;
            let s_of =
                |x: u32, y: u32| ((x as f32 + 0.5 - c).hypot(y as f32 + 0.5 - c)) * mm_per_px;
            type Region<'a> = (&'a str, Box<dyn Fn(f32) -> bool>);
            let regions: [Region; 2] = [
                ("core", Box::new(|s| s < 0.02)),
                ("half radius", Box::new(move |s| (s - half).abs() < 0.008)),
            ];
            for (what, inside) in regions {
                let inside = |x: u32, y: u32| inside(s_of(x, y));
                // The table's darkening averaged over the same pixels.
                let mut pred = Vec3::ZERO;
                let mut n = 0.0;
                for y in 0..size {
                    for x in 0..size {
                        if inside(x, y) {
                            pred += look.darkening_at(s_of(x, y));
                            n += 1.0;
                        }
                    }
                }
                let pred = pred / n;
                let bare = mean_linear(&before, inside);
                let measured = mean_linear(&after, inside);
                let predicted = darken(bare, pred);
                let de = ciede2000(linear_to_lab(measured), linear_to_lab(predicted));
                let got = Vec3::new(
                    (1.0 - measured[0] / bare[0]) as f32,
                    (1.0 - measured[1] / bare[1]) as f32,
                    (1.0 - measured[2] / bare[2]) as f32,
                );
                eprintln!(
                    "{name} reach {} mm, {what} ({:.3} mm): darkening drawn {got:.3} table {pred:.3}, dE00 {de:.2}",
                    d.depth_mm,
                    if what == "core" { 0.0 } else { half }
                );
                worst = worst.max(de);
                assert!(de < 3.0, "{name} {} mm {what}: dE00 {de:.2}", d.depth_mm);
            }
        }
    }
    eprintln!("worst dE00 {worst:.2}");
}

/// A patch 20 mm across on the crown and where it lies.
fn crown_patch() -> (Vec3, Vec3) {
    let (head, _) = common::default_head_and_layout();
    let top = head.landmarks.top_of_head;
    (top, (top - head.cranium_center()).normalize())
}

/// The crown patch seen from 1 m (300 mm across the frame), `size` pixels square, with the
/// mask of the pixels inside it: the setting of every far-field check below.
struct CrownAtOneMetre {
    focus: Vec3,
    normal: Vec3,
    radius: f32,
    size: u32,
    camera: Camera,
    mask: Vec<bool>,
}

fn crown_at_one_metre(size: u32) -> CrownAtOneMetre {
    let (focus, normal) = crown_patch();
    let radius = 10.0f32;
    let camera = camera_at(focus, normal, 1000.0, 300.0);
    let mask = disc_mask(&camera, size, focus, normal, radius);
    CrownAtOneMetre {
        focus,
        normal,
        radius,
        size,
        camera,
        mask,
    }
}

/// The table's equivalent areas (per colour) of the dots on the patch, over the patch's area,
/// and how many dots that is: the summed darkening a Poisson field's mean is made from.
fn summed_area_on_patch(
    dots: &[Dot],
    focus: Vec3,
    normal: Vec3,
    radius: f32,
    albedo: Vec3,
) -> (Vec3, usize) {
    let class = SkinClass::from_linear_srgb(albedo);
    let mut area = Vec3::ZERO;
    let mut count = 0;
    for d in dots {
        if on_patch(d.position_mm - focus, normal, radius) {
            area += tables()
                .dot(class, d.depth_mm, d.diameter_mm, d.shade)
                .on_skin(albedo)
                .equivalent_area_mm2;
            count += 1;
        }
    }
    (area / (std::f32::consts::PI * radius * radius), count)
}

/// Whether a dot at `rel` from the patch's centre lies on the patch (within 5 mm of its plane).
fn on_patch(rel: Vec3, normal: Vec3, radius: f32) -> bool {
    (rel - rel.dot(normal) * normal).length() <= radius && rel.dot(normal).abs() < 5.0
}

/// The 1 m check: the default plan's dots (their own reach, width and shade, at the
/// plan's density) on Fitzpatrick II, IV and VI, seen from 1 m: a patch 20 mm across is the
/// bare render darkened by the table's patch average (each dot's equivalent area on this
/// skin, summed, over the patch's area, as a Poisson field's mean: 1 - exp(-sum)) within
/// deltaE2000 2.
#[test]
fn treated_patch_at_one_metre_matches_the_simulated_average() {
    let (_, layout) = common::default_head_and_layout();
    let CrownAtOneMetre {
        focus,
        normal,
        radius,
        size,
        camera,
        mask,
    } = crown_at_one_metre(256);
    let inside = |x: u32, y: u32| mask[(y * size + x) as usize];
    for name in SKINS {
        let albedo = stipple::skin::fitzpatrick_albedo(name).unwrap();
        let options = SurfaceOptions {
            skin_albedo: Some(albedo),
            ..Default::default()
        };
        let scene = prepare(
            &layout.dots,
            stipple::render::DEFAULT_PIGMENT_MAP_SIZE,
            &options,
        );
        let (sum, count) = summed_area_on_patch(&layout.dots, focus, normal, radius, albedo);
        // The dots' transmittances multiply where they overlap: for dots at random the patch's
        // mean is exp(-summed area / patch area) (Poisson; Campbell's theorem), as drawn.
        let pred = stipple::optics::poisson_darkening(sum);
        let bare = mean_linear(&render(&scene, camera, albedo, size, false), inside);
        let measured = mean_linear(&render(&scene, camera, albedo, size, true), inside);
        let predicted = darken(bare, pred);
        let (lm, lp, lb) = (
            linear_to_lab(measured),
            linear_to_lab(predicted),
            linear_to_lab(bare),
        );
        let de = ciede2000(lm, lp);
        eprintln!(
            "{name}: {count} dots ({:.0}/cm2), darkening table {pred:.3}; treated Lab {lm:.1?} predicted {lp:.1?} bare {lb:.1?}: dE00 {de:.2} (treated vs bare {:.2})",
            count as f32 / (std::f32::consts::PI * radius * radius) * 100.0,
            ciede2000(lm, lb)
        );
        assert!(count > 100, "{name}: only {count} dots in the patch");
        assert!(
            de < 2.0,
            "{name}: treated patch dE00 {de:.2} from the table's"
        );
        // The whole effect is only dE00 1-3 from bare skin, so dE00 < 2 alone would pass a far
        // field at a third of its strength: the luminance darkening must also be the table's
        // within 20%.
        let y = |c: [f64; 3]| 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        let (got, want) = (1.0 - y(measured) / y(bare), 1.0 - y(predicted) / y(bare));
        eprintln!("{name}: luminance darkening drawn {got:.4}, table {want:.4}");
        assert!(
            (got - want).abs() < 0.2 * want,
            "{name}: darkening {got:.4} vs the table's {want:.4}"
        );
    }
}

/// Full native hair everywhere, no scars.
struct AllHair;

impl ScalpState for AllHair {
    fn hair_fraction(&self, _p: Vec3) -> f32 {
        1.0
    }
    fn scar_tissue(&self, _p: Vec3) -> f32 {
        0.0
    }
}

/// The same for hair under the skin: a head shaved to the skin (stubble 0 mm long, so what
/// darkens it is the hair below the surface and the shafts' cut ends) with dark hair, seen
/// from 1 m: the patch is the bare render darkened by `Stubble::darkening`, whose hair under
/// the skin is the table's (a Poisson field of the table's equivalent areas), within
/// deltaE2000 2; and that part is what the table says for a patch at the stubble's density.
#[test]
fn hair_under_the_skin_at_one_metre_matches_the_simulated_average() {
    let CrownAtOneMetre {
        size, camera, mask, ..
    } = crown_at_one_metre(128);
    let inside = |x: u32, y: u32| mask[(y * size + x) as usize];
    let hair = Vec3::new(0.024, 0.018, 0.016);
    let stubble = Stubble {
        length_mm: 0.0,
        ..Stubble::default()
    };
    for name in SKINS {
        let albedo = stipple::skin::fitzpatrick_albedo(name).unwrap();
        let options = SurfaceOptions {
            scalp: &AllHair,
            stubble,
            hair_linear: hair,
            skin_albedo: Some(albedo),
            ..Default::default()
        };
        let scene = prepare(&[], 16, &options);
        // The table's patch on its own: Poisson overlap of one shaft's equivalent area.
        let look = tables()
            .hair(
                SkinClass::from_linear_srgb(albedo),
                stipple::skin::hair_melanin(hair),
            )
            .on_skin(albedo);
        let per_mm2 = stubble.density_per_cm2 / 100.0;
        let table = Vec3::ONE - (-look.equivalent_area_mm2 * per_mm2).exp();
        let under = stubble.under_skin_darkening(albedo, hair);
        assert!(
            (under - table).abs().max_element() < 1e-4,
            "{under} vs {table}"
        );
        let pred = stubble.darkening(albedo, hair);
        let no_hair = SurfaceOptions {
            skin_albedo: Some(albedo),
            ..Default::default()
        };
        let bare_scene = prepare(&[], 16, &no_hair);
        let bare = mean_linear(&render(&bare_scene, camera, albedo, size, false), inside);
        let measured = mean_linear(&render(&scene, camera, albedo, size, true), inside);
        let predicted = darken(bare, pred);
        let (lm, lp, lb) = (
            linear_to_lab(measured),
            linear_to_lab(predicted),
            linear_to_lab(bare),
        );
        let de = ciede2000(lm, lp);
        eprintln!(
            "{name}: hair under the skin {under:.3} (table {table:.3}), with the cut ends {pred:.3}; shaved Lab {lm:.1?} predicted {lp:.1?} bare {lb:.1?}: dE00 {de:.2} (vs bare {:.2})",
            ciede2000(lm, lb)
        );
        assert!(
            de < 2.0,
            "{name}: shaved patch dE00 {de:.2} from the table's"
        );
    }
}

/// `stipple match`'s suggestion holds in the renderer: the default plan's crown dots, at the
/// shade and reach it suggests for matching the client's shaved hair, seen from 1 m, read as
/// that shaved hair seen from 1 m (deltaE2000 under 2), while bare skin does not (so the test
/// can fail: it is not one that any shade passes).
#[test]
fn the_matched_shade_renders_as_the_shaved_hair() {
    use stipple::optics::matching::{Client, Target, ZoneDots, match_zones};
    let (_, layout) = common::default_head_and_layout();
    let CrownAtOneMetre {
        focus,
        normal,
        radius,
        size,
        camera,
        mask,
    } = crown_at_one_metre(128);
    let inside = |x: u32, y: u32| mask[(y * size + x) as usize];
    let albedo = stipple::skin::fitzpatrick_albedo("fitzpatrick-III").unwrap();
    let hair = Vec3::new(0.024, 0.018, 0.016);
    // Stubble a few days long: a clearly darker target than bare skin.
    let stubble = Stubble {
        length_mm: 2.0,
        ..Stubble::default()
    };
    // The brief's largest single impression (0.17 mm).
    let diameter_mm = 0.17;
    let near: Vec<&Dot> = layout
        .dots
        .iter()
        .filter(|d| {
            let rel = d.position_mm - focus;
            on_patch(rel, normal, radius)
        })
        .collect();
    let density = near.len() as f32 / (std::f32::consts::PI * radius * radius) * 100.0;
    let client = Client {
        skin: albedo,
        hair,
        stubble,
    };
    let zone = ZoneDots {
        zone: "crown".into(),
        density_per_cm2: density,
        diameter_mm,
        depth_mm: 0.35,
        shade: 0.7,
    };
    let report = match_zones(&client, Target::ShavedHair, std::slice::from_ref(&zone));
    let m = &report.zones[0];
    assert!(m.matched, "no match for the test's client: {m:?}");
    let s = &m.suggested;
    let dots: Vec<Dot> = layout
        .dots
        .iter()
        .map(|d| Dot {
            diameter_mm,
            depth_mm: s.depth_mm,
            shade: s.shade,
            ..*d
        })
        .collect();
    let bare_options = SurfaceOptions {
        skin_albedo: Some(albedo),
        ..Default::default()
    };
    let treated_scene = prepare(
        &dots,
        stipple::render::DEFAULT_PIGMENT_MAP_SIZE,
        &bare_options,
    );
    let hair_options = SurfaceOptions {
        scalp: &AllHair,
        stubble,
        hair_linear: hair,
        skin_albedo: Some(albedo),
        ..Default::default()
    };
    let hair_scene = prepare(&[], 16, &hair_options);
    let treated = linear_to_lab(mean_linear(
        &render(&treated_scene, camera, albedo, size, true),
        inside,
    ));
    let shaved = linear_to_lab(mean_linear(
        &render(&hair_scene, camera, albedo, size, true),
        inside,
    ));
    let bare = linear_to_lab(mean_linear(
        &render(&treated_scene, camera, albedo, size, false),
        inside,
    ));
    let de = ciede2000(treated, shaved);
    eprintln!(
        "{density:.0}/cm2, suggested shade {:.2} at {:.2} mm (predicted dE00 {:.2}): treated Lab {treated:.1?}, shaved {shaved:.1?}, bare {bare:.1?}: dE00 {de:.2} (bare vs shaved {:.2})",
        s.shade,
        s.depth_mm,
        s.de00,
        ciede2000(bare, shaved)
    );
    assert!(
        ciede2000(bare, shaved) > 2.0 + 1.0,
        "the test's shaved hair is too faint to tell a match from bare skin"
    );
    // The issue asks for dE00 < 2; the match predicts about 0.5 here (it takes the most
    // diluted shade within 0.1 of the best, and with the sieve effect the shade axis is
    // gentle) and the renderer agrees with the tables within about 0.2, so 1.0 leaves room for
    // another rasteriser while a match whose patch model is off by a factor of 2 in density
    // (dE00 1.3-1.4) fails.
    assert!(s.de00 < 0.7, "{m:?}");
    assert!(
        de < 1.0,
        "the matched shade renders dE00 {de:.2} from the shaved hair"
    );
}

/// Physics against practice (README, "Physics and practice"): SMP imitates a shaved head's
/// stubble, so a healed plan should read, from afar, as dark stubble does against bare skin.
/// From the tables alone (no render): the default plan's treatment (100/cm², 0.12 mm dots
/// whose needle reached 0.35 mm, shade 0.7) lies between freshly shaved dark hair (0 mm
/// stubble: the hair under the skin only) and two days' growth (1 mm), on Fitzpatrick II, IV
/// and VI; and shade matters: the lightest practical dilution (0.2) is at most two thirds of
/// the way there in luminance darkening, so 0.2 and 0.7 do not look alike.
#[test]
fn the_default_plan_reads_as_the_stubble_it_imitates() {
    // The default scene's hair, #2b2522.
    let hair = Vec3::new(0x2b as f32, 0x25 as f32, 0x22 as f32).map(|c| srgb_to_linear(c / 255.0));
    let lab = stipple::skin::linear_srgb_to_lab;
    let lum = stipple::lighting::color::luminance;
    for name in SKINS {
        let albedo = stipple::skin::fitzpatrick_albedo(name).unwrap();
        let class = SkinClass::from_linear_srgb(albedo);
        let de = |d: Vec3| {
            ciede2000(
                lab(albedo).map(f64::from),
                lab(albedo * (Vec3::ONE - d)).map(f64::from),
            )
        };
        let stubble = |length_mm: f32| {
            Stubble {
                length_mm,
                ..Stubble::default()
            }
            .darkening(albedo, hair)
        };
        let treated = |shade: f32| {
            tables()
                .dot(class, 0.35, 0.12, shade)
                .on_skin(albedo)
                .patch_darkening(100.0)
        };
        let (s0, s05, s1, s2) = (stubble(0.0), stubble(0.5), stubble(1.0), stubble(2.0));
        let (t02, t07, t1) = (treated(0.2), treated(0.7), treated(1.0));
        eprintln!(
            "{name}: dE00 from bare skin: dark stubble 0 / 0.5 / 1 / 2 mm {:.2} / {:.2} / {:.2} / {:.2}; plan at 100/cm2 shade 0.2 / 0.7 / 1.0 {:.2} / {:.2} / {:.2} (luminance darkening {:.3} / {:.3} / {:.3})",
            de(s0),
            de(s05),
            de(s1),
            de(s2),
            de(t02),
            de(t07),
            de(t1),
            lum(t02 * albedo) / lum(albedo),
            lum(t07 * albedo) / lum(albedo),
            lum(t1 * albedo) / lum(albedo),
        );
        assert!(
            de(t07) > de(s0) && de(t07) < de(s1),
            "{name}: the plan is dE00 {:.2} from bare skin, stubble 0-1 mm is {:.2}-{:.2}",
            de(t07),
            de(s0),
            de(s1)
        );
        assert!(
            lum(t02 * albedo) < 0.67 * lum(t07 * albedo),
            "{name}: shade 0.2 darkens {:.3}, shade 0.7 {:.3}: dilution barely matters",
            lum(t02 * albedo) / lum(albedo),
            lum(t07 * albedo) / lum(albedo)
        );
    }
}

/// Absorbers multiply (Beer-Lambert): the pigment target holds optical depth, so dots stacked
/// on one spot pass light in turn, T(n dots) = T(one)^n per channel, and a crowd of them darkens
/// towards black keeping its hue. Two and three copies of one dot (0.12 mm, shade 0.6, reach
/// 0.35 mm) on Fitzpatrick II seen 1 mm across: the core's transmittance (treated / bare, per
/// linear channel) is the single dot's to the power n within 15% (+ 0.01). A sum of
/// darkenings clamped per channel fails it: one dot takes red most (0.57 here), so two ran red
/// out to 0 while blue kept 0.14, the cyan speckle of a dense plan.
#[test]
fn stacked_dots_multiply_their_transmittances() {
    let albedo = stipple::skin::fitzpatrick_albedo("fitzpatrick-II").unwrap();
    let spot = Dot {
        depth_mm: 0.35,
        diameter_mm: 0.12,
        shade: 0.6,
        ..crown_spots(1, 4.0)[0]
    };
    let options = SurfaceOptions {
        needle: steady_hand(),
        skin_albedo: Some(albedo),
        ..Default::default()
    };
    let (size, width_mm) = (128u32, 1.0f32);
    let camera = Camera::macro_view(spot.position_mm, spot.normal, width_mm, 1.0);
    let c = 0.5 * size as f32;
    let core = |x: u32, y: u32| {
        (x as f32 + 0.5 - c).hypot(y as f32 + 0.5 - c) * width_mm / (size as f32) < 0.02
    };
    let bare = mean_linear(
        &render(&prepare(&[spot], 64, &options), camera, albedo, size, false),
        core,
    );
    // The core's transmittance per channel under a stack of `n` identical dots (identical
    // positions give identical footprints, so every pixel holds exactly n times one's depth).
    let transmittance = |n: usize| {
        let m = mean_linear(
            &render(
                &prepare(&vec![spot; n], 64, &options),
                camera,
                albedo,
                size,
                true,
            ),
            core,
        );
        Vec3::new(
            (m[0] / bare[0]) as f32,
            (m[1] / bare[1]) as f32,
            (m[2] / bare[2]) as f32,
        )
    };
    let one = transmittance(1);
    eprintln!("one dot: core transmittance {one:.3}");
    assert!(
        one.max_element() < 0.7 && one.x < one.z,
        "the test's dot must be dark and take red most: {one:.3}"
    );
    for n in [2, 3] {
        let got = transmittance(n);
        let want = one.powf(n as f32);
        eprintln!(
            "{n} dots: core transmittance {got:.3}, Beer-Lambert {want:.3}; blue / red {:.2} (one dot's^{n} {:.2})",
            got.z / got.x.max(1e-6),
            want.z / want.x
        );
        for (k, channel) in ["red", "green", "blue"].into_iter().enumerate() {
            assert!(
                (got[k] - want[k]).abs() < 0.15 * want[k] + 0.01,
                "{n} stacked dots: {channel} transmittance {:.3}, Beer-Lambert says {:.3} (one dot {one:.3}, all {got:.3}): overlapping dots must multiply, not add and clamp",
                got[k],
                want[k]
            );
        }
        assert!(
            got.cmplt(one).all(),
            "{n} dots must be darker than one in every channel: {got:.3} vs {one:.3}"
        );
    }
}

/// The far field's share of the same: the default plan's crown dots each laid eight times
/// (800/cm², a crowded plan), seen from 1 m on Fitzpatrick II, read as the Poisson field's
/// mean, 1 - exp(-summed area / patch area) per channel, within deltaE2000 2 and with the
/// luminance darkening within 10%; a clamped sum (red darkening 0.77, blue 0.54) is dE00 15
/// away and bluer.
#[test]
fn crowded_patch_at_one_metre_darkens_as_a_poisson_field() {
    let (_, layout) = common::default_head_and_layout();
    let CrownAtOneMetre {
        focus,
        normal,
        radius,
        size,
        camera,
        mask,
    } = crown_at_one_metre(128);
    let inside = |x: u32, y: u32| mask[(y * size + x) as usize];
    let albedo = stipple::skin::fitzpatrick_albedo("fitzpatrick-II").unwrap();
    let copies = 8;
    // The dots round the patch (beyond it they are out of the mask), each `copies` times.
    let crowd: Vec<Dot> = layout
        .dots
        .iter()
        .filter(|d| (d.position_mm - focus).length() < 2.0 * radius)
        .flat_map(|d| std::iter::repeat_n(*d, copies))
        .collect();
    let (sum, _) = summed_area_on_patch(&crowd, focus, normal, radius, albedo);
    let pred = stipple::optics::poisson_darkening(sum);
    let options = SurfaceOptions {
        skin_albedo: Some(albedo),
        ..Default::default()
    };
    let scene = prepare(&crowd, stipple::render::DEFAULT_PIGMENT_MAP_SIZE, &options);
    let bare = mean_linear(&render(&scene, camera, albedo, size, false), inside);
    let measured = mean_linear(&render(&scene, camera, albedo, size, true), inside);
    let predicted = darken(bare, pred);
    let clamped = darken(bare, sum.min(Vec3::ONE));
    let (lm, lp) = (linear_to_lab(measured), linear_to_lab(predicted));
    let de = ciede2000(lm, lp);
    eprintln!(
        "{copies} x the crown's dots: summed darkening {sum:.3}, Poisson {pred:.3}; treated Lab {lm:.1?} predicted {lp:.1?} (a clamped sum {:.1?}): dE00 {de:.2}",
        linear_to_lab(clamped)
    );
    assert!(
        de < 2.0,
        "a crowded patch is dE00 {de:.2} from the Poisson field's mean"
    );
    let y = |c: [f64; 3]| 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    let (got, want) = (1.0 - y(measured) / y(bare), 1.0 - y(predicted) / y(bare));
    assert!(
        (got - want).abs() < 0.1 * want,
        "crowded patch: luminance darkening {got:.3} vs the Poisson field's {want:.3}"
    );
}
