//! Prints a scene's hair fraction as a map over azimuth (columns) and elevation (rows).
use stipple::plan::ScalpState;
fn main() {
    let path = std::env::args().nth(1).expect("scene");
    let scene = stipple::scene::Scene::load(std::path::Path::new(&path)).unwrap();
    let head = scene.head().unwrap();
    let cond = scene.condition(&head).unwrap();
    let f = *cond.frame();
    for el in (-10..=90).rev().step_by(8) {
        let mut line = format!("{el:4} ");
        for az in (-180..=180).step_by(10) {
            let d = f.direction((az as f32).to_radians(), (el as f32).to_radians());
            let p = f.center + head.mesh.raycast(f.center, d).unwrap_or(0.0) * d;
            let h = cond.hair_fraction(p);
            let n = cond.native_hair_fraction(p);
            line.push(if n < 0.5 {
                ' '
            } else if h > 0.9 {
                '#'
            } else if h > 0.5 {
                '+'
            } else if h > 0.1 {
                '.'
            } else {
                'o'
            });
        }
        println!("{line}");
    }
    println!(
        "     az -180 (back) ... 0 (face) ... 180 (back); # hair, + thinning, o bald scalp, blank not scalp"
    );
}
