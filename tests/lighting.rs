//! Lighting to judge results by: presets in physical units, exposure, white balance, shadows,
//! and the lighting sheet. Every check renders through the real pipeline on llvmpipe.
//!
//! The grey card is a test-only mesh: a flat 200 mm square of 18% grey, turned to face the key
//! light (as a photographer holds one), filling the frame of a camera that looks straight at it.

mod common;

use common::color::{ciede2000, srgb8_to_lab};

use glam::Vec3;
use stipple::camera::{Camera, ViewName};
use stipple::head::{Head, Landmarks, TriMesh};
use stipple::lighting::{Exposure, Lighting, LightingOptions, WhiteBalance, presets};
use stipple::render::{FrameSettings, SkinLook};
use stipple::scene::{Scene, srgb_to_linear};

// ---------------------------------------------------------------------------------------------
// Colour measurement

/// How far a colour is from the neutral grey of the same lightness.
fn delta_e_from_neutral(rgb: [f64; 3]) -> f64 {
    let lab = srgb8_to_lab(rgb);
    ciede2000(lab, [lab[0], 0.0, 0.0])
}

/// Exposed linear luminance of an sRGB 8-bit colour.
fn exposed_luminance(rgb: [f64; 3]) -> f64 {
    let c = common::untonemap(rgb.map(|v| srgb_to_linear((v / 255.0) as f32) as f64));
    0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
}

fn hex(rgb: [f64; 3]) -> String {
    format!(
        "#{:02x}{:02x}{:02x}",
        rgb[0].round() as u8,
        rgb[1].round() as u8,
        rgb[2].round() as u8
    )
}

// ---------------------------------------------------------------------------------------------
// Scenes

/// A flat 200 mm square card through the origin facing `normal`, as a "head".
fn card(normal: Vec3) -> Head {
    let n = normal.normalize();
    let u = if n.y.abs() > 0.9 {
        Vec3::X
    } else {
        Vec3::Y.cross(n).normalize()
    };
    let v = n.cross(u);
    let steps = 8u32;
    let mut mesh = TriMesh::default();
    for j in 0..=steps {
        for i in 0..=steps {
            let (s, t) = (i as f32 / steps as f32 - 0.5, j as f32 / steps as f32 - 0.5);
            mesh.positions_mm.push((u * s + v * t) * 200.0);
            mesh.normals.push(n);
            mesh.albedo_tint.push(Vec3::ONE);
        }
    }
    for j in 0..steps {
        for i in 0..steps {
            let a = j * (steps + 1) + i;
            let (b, c, d) = (a + 1, a + steps + 1, a + steps + 2);
            mesh.indices.extend_from_slice(&[a, b, d, a, d, c]);
        }
    }
    let p = |x: f32, y: f32, z: f32| Vec3::new(x, y, z);
    Head {
        mesh,
        landmarks: Landmarks {
            glabella: p(0.0, 0.0, 90.0),
            outer_eye_corner_left: p(45.0, -10.0, 70.0),
            outer_eye_corner_right: p(-45.0, -10.0, 70.0),
            top_of_head: p(0.0, 100.0, 0.0),
            occiput: p(0.0, 0.0, -100.0),
            ear_left: p(75.0, -20.0, 0.0),
            ear_right: p(-75.0, -20.0, 0.0),
        },
    }
}

const CARD_PX: u32 = 64;

/// Renders an 18% grey (or `albedo`) matte card facing the key light, straight on, and returns
/// the mean sRGB of its central patch.
fn card_colour(lighting: &Lighting, albedo: Vec3) -> [f64; 3] {
    let n = lighting.key.direction_to_light.normalize();
    let head = card(n);
    let mut renderer = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    let gpu = renderer.prepare(&head, &[], 16).expect("prepare");
    let mut camera = Camera::for_view(&head, ViewName::Front, 85.0, 1.0, None, None);
    let up = if n.y.abs() > 0.9 { Vec3::Z } else { Vec3::Y };
    camera.eye_mm = n * 1000.0;
    camera.target_mm = Vec3::ZERO;
    camera.up = up;
    camera.near_mm = 500.0;
    camera.far_mm = 1500.0;
    let settings = FrameSettings {
        camera,
        lighting: *lighting,
        skin: SkinLook::new(albedo, 1.0),
        width: CARD_PX,
        height: CARD_PX,
        supersample: 1,
        show_dots: false,
        single_dots: false,
    };
    let img = renderer.render(&gpu, &settings).expect("render");
    let patch = |x: u32, y: u32| (24..40).contains(&x) && (24..40).contains(&y);
    // A flat card facing the light must be uniform: no shadow acne, no noise.
    let (lo, hi) = img
        .enumerate_pixels()
        .filter(|(x, y, _)| patch(*x, *y))
        .fold((255u8, 0u8), |(lo, hi), (_, _, p)| {
            (lo.min(p[1]), hi.max(p[1]))
        });
    assert!(
        hi - lo <= 2,
        "the card is not uniform ({lo}..{hi}): shadow acne?"
    );
    common::mean_rgb(&img, patch)
}

const GREY: Vec3 = Vec3::splat(0.18);

fn with_camera(mut l: Lighting, wb: WhiteBalance) -> Lighting {
    l.white_balance = wb;
    l
}

fn skin_albedo() -> Vec3 {
    Scene::builtin().skin().albedo_linear
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn ciede2000_matches_published_pairs() {
    // Sharma, Wu, Dalal (2005), table 1: pairs 1, 7, 17 and 21.
    let pairs = [
        ([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485], 2.0425),
        ([50.0, 0.0, 0.0], [50.0, -1.0, 2.0], 2.3669),
        ([50.0, 2.5, 0.0], [73.0, 25.0, -18.0], 27.1492),
        ([50.0, 2.5, 0.0], [50.0, 3.1736, 0.5854], 1.0),
    ];
    for (a, b, expected) in pairs {
        let d = ciede2000(a, b);
        assert!(
            (d - expected).abs() < 1e-3,
            "{a:?} {b:?}: {d} vs {expected}"
        );
        assert!((ciede2000(b, a) - expected).abs() < 1e-3);
    }
    assert!(delta_e_from_neutral([118.0, 118.0, 118.0]) < 1e-3);
    assert!(delta_e_from_neutral([140.0, 118.0, 100.0]) > 5.0);
}

/// With white balance adapted to the light, an 18% grey card is grey under every preset.
#[test]
fn grey_card_is_neutral_under_every_preset_when_adapted() {
    for p in presets() {
        let l = with_camera(p.lighting, WhiteBalance::Adapted);
        let rgb = card_colour(&l, GREY);
        let de = delta_e_from_neutral(rgb);
        eprintln!("{:<20} adapted grey card {} dE00 {de:.2}", p.name, hex(rgb));
        assert!(
            de < 3.0,
            "{}: grey card {} is {de:.2} dE00 from neutral",
            p.name,
            hex(rgb)
        );
    }
}

/// With a daylight white balance, lamp light and low sun look warm, overcast and office do not.
#[test]
fn daylight_balance_keeps_warm_light_warm() {
    let ratio = |name: &str| {
        let l = with_camera(Lighting::preset(name).unwrap(), WhiteBalance::Daylight);
        let rgb = card_colour(&l, GREY);
        let r = rgb[0] / rgb[2].max(1.0);
        eprintln!("{name:<20} daylight grey card {} R/B {r:.2}", hex(rgb));
        r
    };
    for warm in ["home-warm", "sun-low"] {
        let r = ratio(warm);
        assert!(r > 1.2, "{warm}: R/B {r:.2} should be above 1.2 (warm)");
    }
    for cool in ["overcast", "office"] {
        let r = ratio(cool);
        assert!(r <= 1.2, "{cool}: R/B {r:.2} should not be warm");
    }
    // Overcast daylight is bluer than the camera's daylight white.
    assert!(ratio("overcast") < 1.0);
}

/// Automatic exposure brings every preset's grey card to the same value, within half a stop,
/// whatever the light level (100,000 lux sun to a 100 lux living room): display middle grey;
/// manual exposure does not.
#[test]
fn auto_exposure_brings_every_grey_card_to_the_same_value() {
    // Exposed (before the tonemapper): 0.18 + 0.04, which PBR Neutral shows as 0.18.
    let target = 0.22;
    let mut seen = Vec::new();
    for p in presets() {
        let rgb = card_colour(&p.lighting, GREY);
        let stops = (exposed_luminance(rgb) / target).log2();
        eprintln!(
            "{:<20} EV100 {:>5.2} grey card {} {stops:+.2} stops",
            p.name,
            p.lighting.ev100(),
            hex(rgb)
        );
        assert!(
            stops.abs() < 0.5,
            "{}: grey card {stops:+.2} stops from the auto-exposure target",
            p.name
        );
        seen.push(p.lighting.ev100());
    }
    let span = seen.iter().cloned().fold(f32::NEG_INFINITY, f32::max)
        - seen.iter().cloned().fold(f32::INFINITY, f32::min);
    assert!(
        span > 8.0,
        "the presets span sun to living room: {span} stops of EV100"
    );
    // The brief's typical EV100s: sun about 15, indoors about 7.
    let ev = |n: &str| Lighting::preset(n).unwrap().ev100();
    assert!((14.5..16.5).contains(&ev("sun-noon")), "{}", ev("sun-noon"));
    assert!((5.5..8.5).contains(&ev("office")), "{}", ev("office"));
    // Manual: the office at a sunny-day exposure is nearly black; the sun at an office
    // exposure is blown out.
    let mut office = Lighting::preset("office").unwrap();
    office.exposure = Exposure::Manual { ev100: 15.0 };
    let dark = card_colour(&office, GREY);
    let mut sun = Lighting::preset("sun-noon").unwrap();
    sun.exposure = Exposure::Manual { ev100: 7.0 };
    let bright = card_colour(&sun, GREY);
    assert!(
        dark[1] < 10.0 && bright[1] > 230.0,
        "manual exposure: office {dark:?}, sun {bright:?}"
    );
}

fn render_head(lighting: &Lighting, view: ViewName, size: u32) -> (image::RgbaImage, Camera) {
    let (head, layout) = common::default_head_and_layout();
    let mut renderer = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    let gpu = renderer.prepare(head, &layout.dots, 256).expect("prepare");
    let camera = Camera::for_view(head, view, 85.0, 1.0, None, None);
    let settings = FrameSettings {
        camera,
        lighting: *lighting,
        skin: Scene::builtin().skin(),
        width: size,
        height: size,
        supersample: 2,
        show_dots: false,
        single_dots: false,
    };
    (renderer.render(&gpu, &settings).expect("render"), camera)
}

fn lin_luma(p: &image::Rgba<u8>) -> f64 {
    let l = |v: u8| srgb_to_linear(v as f32 / 255.0) as f64;
    0.2126 * l(p[0]) + 0.7152 * l(p[1]) + 0.0722 * l(p[2])
}

/// The head's pixels in a front view, split at the face's centre line into the image's left
/// half (the client's right) and right half (the client's left).
type Pixels = Vec<(u32, u32)>;

fn head_halves(img: &image::RgbaImage, camera: &Camera, head: &Head) -> (Pixels, Pixels) {
    let size = img.width() as f32;
    let c = camera
        .view_projection()
        .project_point3(head.landmarks.glabella);
    let mid_x = (c.x * 0.5 + 0.5) * size;
    let bg = *img.get_pixel(0, img.height() / 2);
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for (x, y, p) in img.enumerate_pixels() {
        let differs = (0..3).any(|k| (p[k] as i32 - bg[k] as i32).abs() > 6);
        // The scalp and face, not the neck.
        if !differs || (y as f32) > 0.8 * size {
            continue;
        }
        if (x as f32) < mid_x - 4.0 {
            left.push((x, y));
        } else if (x as f32) > mid_x + 4.0 {
            right.push((x, y));
        }
    }
    (left, right)
}

fn mean_luma(img: &image::RgbaImage, px: &[(u32, u32)]) -> f64 {
    px.iter()
        .map(|&(x, y)| lin_luma(img.get_pixel(x, y)))
        .sum::<f64>()
        / px.len().max(1) as f64
}

/// Shadows from the sun fall on the side of the head away from it: in a front view with the
/// sun on the client's left (the image's right), the shadow map darkens the image's left half
/// and leaves the sunlit half as it was (no acne).
#[test]
fn sun_shadows_fall_opposite_the_sun() {
    let (head, _) = common::default_head_and_layout();
    for name in ["sun-noon", "sun-low"] {
        let lit = Lighting::preset(name).unwrap();
        assert!(
            lit.key.direction_to_light.x > 0.3,
            "{name}: the sun is on the client's left"
        );
        let (with, camera) = render_head(&lit, ViewName::Front, 160);
        let mut off = lit;
        off.shadows = false;
        let (without, _) = render_head(&off, ViewName::Front, 160);
        let (away, sunny) = head_halves(&with, &camera, head);
        assert!(
            away.len() > 1500 && sunny.len() > 1500,
            "{name}: head halves {} / {}",
            away.len(),
            sunny.len()
        );
        let (l_away, l_sunny) = (mean_luma(&with, &away), mean_luma(&with, &sunny));
        eprintln!("{name}: luminance away from the sun {l_away:.4}, sunny side {l_sunny:.4}");
        assert!(
            l_sunny > 1.5 * l_away,
            "{name}: the sunny side must be much brighter ({l_sunny:.4} vs {l_away:.4})"
        );
        // What the shadow map takes away, per side.
        let darkened = |px: &[(u32, u32)]| {
            px.iter()
                .map(|&(x, y)| {
                    (lin_luma(without.get_pixel(x, y)) - lin_luma(with.get_pixel(x, y))).max(0.0)
                })
                .sum::<f64>()
        };
        let brightened = |px: &[(u32, u32)]| {
            px.iter()
                .map(|&(x, y)| {
                    (lin_luma(with.get_pixel(x, y)) - lin_luma(without.get_pixel(x, y))).max(0.0)
                })
                .sum::<f64>()
        };
        let (d_away, d_sunny) = (darkened(&away), darkened(&sunny));
        eprintln!("{name}: shadow darkening away {d_away:.3}, sunny {d_sunny:.3}");
        assert!(
            d_away > 3.0 * d_sunny,
            "{name}: shadows must fall away from the sun ({d_away:.3} vs {d_sunny:.3})"
        );
        assert!(
            d_away > 0.02 * away.len() as f64 * l_away,
            "{name}: the head must cast visible shadows ({d_away:.3})"
        );
        assert!(
            brightened(&away) + brightened(&sunny) < 1e-6,
            "{name}: a shadow can only darken"
        );
    }
}

/// Sunlit skin facing the light is not touched by the shadow map (no acne), in a view from
/// the light itself, where every visible point is lit.
#[test]
fn no_shadow_acne_on_sunlit_skin() {
    for name in ["sun-noon", "sun-low", "bathroom-downlight"] {
        let lit = Lighting::preset(name).unwrap();
        let (head, layout) = common::default_head_and_layout();
        let mut renderer = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
        let gpu = renderer.prepare(head, &layout.dots, 256).expect("prepare");
        let mut camera = Camera::for_view(head, ViewName::Front, 85.0, 1.0, None, None);
        let center = head.cranium_center();
        camera.eye_mm = center + lit.key.direction_to_light * 1500.0;
        camera.target_mm = center;
        camera.up = if lit.key.direction_to_light.y.abs() > 0.9 {
            Vec3::Z
        } else {
            Vec3::Y
        };
        camera.near_mm = 1000.0;
        camera.far_mm = 2000.0;
        let mut s = FrameSettings {
            camera,
            lighting: lit,
            skin: Scene::builtin().skin(),
            width: 128,
            height: 128,
            supersample: 1,
            show_dots: false,
            single_dots: false,
        };
        let with = renderer.render(&gpu, &s).unwrap();
        s.lighting.shadows = false;
        let without = renderer.render(&gpu, &s).unwrap();
        let bg = *without.get_pixel(0, 0);
        let (mut n, mut changed) = (0, 0);
        for (x, y, p) in without.enumerate_pixels() {
            if *p == bg {
                continue;
            }
            n += 1;
            let q = with.get_pixel(x, y);
            if (0..3).any(|k| (p[k] as i32 - q[k] as i32).abs() > 3) {
                changed += 1;
            }
        }
        eprintln!("{name}: {changed} of {n} head pixels changed by shadows seen from the light");
        assert!(n > 3000, "{name}: the head should fill the view ({n})");
        // A few pixels at the silhouette and in the ears' folds may be truly shadowed.
        assert!(
            (changed as f64) < 0.02 * n as f64,
            "{name}: {changed} of {n} lit pixels shadowed: acne"
        );
    }
}

/// Soft light (overcast, salon) gives wide, gradual shadows; the low sun gives hard ones.
/// Measured in a front view against the same frame without shadows: how much light the shadows
/// take away, and how much of the shadowed skin is in deep shadow (umbra) rather than penumbra.
#[test]
fn soft_light_has_soft_shadows() {
    let measure = |name: &str| {
        let lit = Lighting::preset(name).unwrap();
        let (with, _) = render_head(&lit, ViewName::Front, 128);
        let mut off = lit;
        off.shadows = false;
        let (without, _) = render_head(&off, ViewName::Front, 128);
        let bg = *without.get_pixel(0, 0);
        let (mut total, mut taken, mut touched, mut deep) = (0.0, 0.0, 0, 0);
        for (x, y, p) in without.enumerate_pixels() {
            if *p == bg {
                continue;
            }
            let (a, b) = (lin_luma(p), lin_luma(with.get_pixel(x, y)));
            total += a;
            taken += a - b;
            if b < 0.95 * a {
                touched += 1;
            }
            if b < 0.6 * a {
                deep += 1;
            }
        }
        let (energy, umbra) = (taken / total, deep as f64 / touched.max(1) as f64);
        eprintln!(
            "{name}: shadows take {:.1}% of the light; {:.0}% of shadowed skin is deep shadow",
            100.0 * energy,
            100.0 * umbra
        );
        (energy, umbra)
    };
    let (sun_energy, sun_umbra) = measure("sun-low");
    assert!(
        sun_energy > 0.01,
        "the low sun must cast real shadows: {:.1}%",
        100.0 * sun_energy
    );
    assert!(
        sun_umbra > 0.3,
        "the low sun's shadows must be hard: {:.0}% umbra",
        100.0 * sun_umbra
    );
    for soft in ["overcast", "salon"] {
        // Soft light still darkens hollows (eyes, under the nose and chin) about as much in
        // all, but gradually: almost none of it is deep shadow.
        let (energy, umbra) = measure(soft);
        assert!(
            energy < 2.0 * sun_energy,
            "{soft}: shadows take {:.1}% of the light",
            100.0 * energy
        );
        assert!(
            umbra < 0.25 * sun_umbra,
            "{soft}: {:.0}% deep shadow vs the sun's {:.0}%",
            100.0 * umbra,
            100.0 * sun_umbra
        );
    }
}

/// A scene can bring its own lights and camera; bad values name the key.
#[test]
fn scene_lights_and_camera_options() {
    let text = r##"
[client]
skin = "#c68e6b"
[render]
lighting = "office"
white_balance = "adapted"
exposure = "manual"
ev100 = 9.5
[[render.lights]]
azimuth_deg = -90
elevation_deg = 30
illuminance_lux = 2000
kelvin = 3200
softness = 0.1
[[render.lights]]
azimuth_deg = 90
elevation_deg = 0
illuminance_lux = 500
kelvin = 6500
[render.sky]
illuminance_lux = 100
kelvin = 8000
"##;
    let scene = Scene::parse(text, std::path::Path::new("s.toml")).expect("valid");
    let l = scene.lighting();
    assert!(
        l.key.direction_to_light.x < -0.8,
        "azimuth -90 is the client's right: {}",
        l.key.direction_to_light
    );
    assert_eq!(l.key.illuminance_lux, 2000.0);
    assert_eq!(l.fills().len(), 1);
    assert_eq!(l.sky_lux, 100.0);
    assert_eq!(l.ground_lux, 0.0);
    assert_eq!(l.white_balance, WhiteBalance::Adapted);
    assert_eq!(l.exposure, Exposure::Manual { ev100: 9.5 });
    assert!(l.key.color.x > l.key.color.z, "3,200 K is warm");
    // Defaults: the preset's lights, daylight balance, auto exposure.
    let plain = Scene::parse(
        "[client]\nskin = \"#c68e6b\"\n[render]\nlighting = \"sun-low\"\n",
        std::path::Path::new("p.toml"),
    )
    .unwrap();
    assert_eq!(plain.lighting(), Lighting::preset("sun-low").unwrap());
    assert_eq!(plain.lighting().white_balance, WhiteBalance::Daylight);

    let cases = [
        ("lighting = \"disco\"", "render.lighting", "sun-noon"),
        (
            "white_balance = \"tungsten\"",
            "render.white_balance",
            "adapted",
        ),
        ("exposure = \"program\"", "render.exposure", "manual"),
        ("exposure = \"manual\"", "render.ev100", "manual"),
        ("ev100 = 12", "render.ev100", "manual"),
        ("exposure = \"manual\"\nev100 = 40", "render.ev100", "EV100"),
        (
            "exposure_compensation_ev = 20",
            "render.exposure_compensation_ev",
            "stops",
        ),
        ("lights = []", "render.lights", "1 to 4"),
        (
            "[[render.lights]]\nazimuth_deg = 0\nelevation_deg = 95\nilluminance_lux = 1\nkelvin = 5000",
            "render.lights[0].elevation_deg",
            "degrees",
        ),
        (
            "[[render.lights]]\nazimuth_deg = 0\nelevation_deg = 45\nilluminance_lux = 1\nkelvin = 500",
            "render.lights[0].kelvin",
            "kelvin",
        ),
        (
            "[[render.lights]]\nazimuth_deg = 0\nelevation_deg = 45\nilluminance_lux = 1\nkelvin = 5000\nsoftness = 2",
            "render.lights[0].softness",
            "angular radius",
        ),
        (
            "[[render.lights]]\nazimuth_deg = 0\nelevation_deg = 45\nilluminance_lux = -5\nkelvin = 5000",
            "render.lights[0].illuminance_lux",
            "lux",
        ),
        (
            "[render.sky]\nilluminance_lux = 10\nkelvin = 5000\nground_lux = 1e9",
            "render.sky.ground_lux",
            "lux",
        ),
    ];
    for (body, key, hint) in cases {
        let e = Scene::parse(
            &format!("[client]\nskin = \"#c68e6b\"\n[render]\n{body}\n"),
            std::path::Path::new("clients/anna.toml"),
        )
        .expect_err(body)
        .to_string();
        assert!(
            e.contains("clients/anna.toml") && e.contains(&format!("`{key}`")) && e.contains(hint),
            "{body}: {e}"
        );
    }
    // Unknown keys inside a light are caught by the parser, with the line.
    let e = Scene::parse(
        "[client]\nskin = \"#c68e6b\"\n[[render.lights]]\nazimuth = 0\n",
        std::path::Path::new("clients/anna.toml"),
    )
    .expect_err("unknown key")
    .to_string();
    assert!(e.contains("azimuth") && e.contains("line 4"), "{e}");
}

/// The options a sheet renders under follow the scene's camera.
#[test]
fn lighting_options_keep_the_scene_camera() {
    let scene = Scene::parse(
        "[client]\nskin = \"#c68e6b\"\n[render]\nwhite_balance = \"adapted\"\nexposure_compensation_ev = 0.5\n",
        std::path::Path::new("s.toml"),
    )
    .unwrap();
    let lightings = stipple::output::sheet::sheet_lightings(&scene).unwrap();
    assert_eq!(lightings.len(), presets().len());
    for (name, l) in &lightings {
        assert_eq!(l.white_balance, WhiteBalance::Adapted, "{name}");
        assert_eq!(
            l.exposure,
            Exposure::Auto {
                compensation_ev: 0.5
            },
            "{name}"
        );
    }
    let opts = LightingOptions {
        preset: "home-warm",
        ..scene.lighting_options()
    };
    assert_eq!(opts.build().unwrap().key.kelvin, 2700.0);
}

/// The lighting sheet: one labelled tile per preset, and the presets look different.
#[test]
fn lighting_sheet_shows_every_preset_differently() {
    let mut study = stipple::study::Study::new(Scene::builtin()).expect("built-in study");
    let mut renderer = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    let options = stipple::output::sheet::LightingSheetOptions {
        view: ViewName::FrontLeft,
        tile_px: 96,
        supersample: 1,
        columns: 4,
        show_dots: true,
    };
    let sheet =
        stipple::output::sheet::lighting_sheet(&mut renderer, &mut study, &options).expect("sheet");
    let n = presets().len() as u32;
    let gap = stipple::output::sheet::SheetStyle::default().gap;
    assert_eq!(sheet.width(), 4 * 96 + 5 * gap);
    assert!(
        sheet.height() > n.div_ceil(4) * (96 + gap),
        "{}",
        sheet.height()
    );
    // Each tile's mean colour (the head in it) differs from every other tile's.
    let label_h = (sheet.height() - gap) / n.div_ceil(4) - 96 - gap;
    let tile_mean = |i: u32| {
        let (x0, y0) = (
            gap + (i % 4) * (96 + gap),
            gap + (i / 4) * (96 + gap + label_h),
        );
        common::mean_rgb(&sheet, |x, y| {
            x >= x0 + 24 && x < x0 + 72 && y >= y0 + 24 && y < y0 + 72
        })
    };
    let means: Vec<[f64; 3]> = (0..n).map(tile_mean).collect();
    for i in 0..means.len() {
        for j in 0..i {
            let d = ciede2000(srgb8_to_lab(means[i]), srgb8_to_lab(means[j]));
            assert!(d > 1.0, "tiles {j} and {i} look the same (dE00 {d:.2})");
        }
    }
    if std::env::var("STIPPLE_KEEP_RENDERS").is_ok() {
        let dir = common::failure_dir();
        std::fs::create_dir_all(&dir).unwrap();
        sheet.save(dir.join("lighting-sheet.png")).unwrap();
    }
}

/// `stipple sheet` writes one PNG with every preset.
#[test]
fn cli_sheet_writes_a_png() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cli-sheet");
    let _ = std::fs::remove_dir_all(&dir);
    let scene = dir.join("scene.toml");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(&scene, stipple::scene::DEFAULT_SCENE_TOML).unwrap();
    let out = dir.join("sheet.png");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_stipple"))
        .args(["sheet"])
        .arg(&scene)
        .arg("--out")
        .arg(&out)
        .args([
            "--view",
            "front",
            "--tile",
            "64",
            "--supersample",
            "1",
            "--columns",
            "3",
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let img = image::open(&out).expect("a PNG").to_rgb8();
    let gap = stipple::output::sheet::SheetStyle::default().gap;
    assert_eq!(img.width(), 3 * 64 + 4 * gap);
    // An unknown preset in the scene is a clear error naming the key.
    std::fs::write(
        &scene,
        "[client]\nskin = \"#c68e6b\"\n[render]\nlighting = \"moon\"\n",
    )
    .unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_stipple"))
        .args(["sheet"])
        .arg(&scene)
        .arg("--out")
        .arg(dir.join("bad.png"))
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&run.stderr).contains("`render.lighting`"));
}

/// Prints the grey card and a flat patch of the built-in client's skin facing the key light,
/// under every preset and both white balances (`--nocapture` to see them).
#[test]
fn report_card_and_skin_colours() {
    eprintln!(
        "{:<20} {:>9} {:>9} {:>9} {:>9}  EV100",
        "preset", "grey/day", "skin/day", "grey/adp", "skin/adp"
    );
    for p in presets() {
        let day = with_camera(p.lighting, WhiteBalance::Daylight);
        let adp = with_camera(p.lighting, WhiteBalance::Adapted);
        let cols = [
            card_colour(&day, GREY),
            card_colour(&day, skin_albedo()),
            card_colour(&adp, GREY),
            card_colour(&adp, skin_albedo()),
        ];
        eprintln!(
            "{:<20} {:>9} {:>9} {:>9} {:>9}  {:.1}",
            p.name,
            hex(cols[0]),
            hex(cols[1]),
            hex(cols[2]),
            hex(cols[3]),
            p.lighting.ev100()
        );
        // Skin is lighter than the 18% card and redder than it.
        assert!(
            cols[3][0] > cols[2][0] && cols[3][0] > cols[3][2],
            "{}: {cols:?}",
            p.name
        );
    }
}

/// Pass times of a 768x768 frame at supersample 2 under each kind of light (`--ignored
/// --nocapture`).
#[test]
#[ignore]
fn timing() {
    let (head, layout) = common::default_head_and_layout();
    let mut renderer = common::renderer().lock().unwrap_or_else(|e| e.into_inner());
    let gpu = renderer.prepare(head, &layout.dots, 1024).expect("prepare");
    renderer.set_pass_timing(true);
    for (name, shadows) in [
        ("studio", false),
        ("studio", true),
        ("sun-noon", true),
        ("overcast", true),
    ] {
        let mut lighting = Lighting::preset(name).unwrap();
        lighting.shadows = shadows;
        let s = FrameSettings {
            camera: Camera::for_view(head, ViewName::FrontLeft, 85.0, 1.0, None, None),
            lighting,
            skin: Scene::builtin().skin(),
            width: 768,
            height: 768,
            supersample: 2,
            show_dots: true,
            single_dots: true,
        };
        for _ in 0..2 {
            let t = std::time::Instant::now();
            renderer.render(&gpu, &s).unwrap();
            eprintln!(
                "{name} (shadows {shadows}): {:.0} ms {:?}",
                t.elapsed().as_secs_f64() * 1e3,
                renderer.pass_times()
            );
        }
    }
}
