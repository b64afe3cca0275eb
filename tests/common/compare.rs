//! Snapshot comparison that tells a rasteriser's rounding from a change.
//!
//! Mesa's llvmpipe JIT-compiles shaders for the host CPU, and its Vulkan and OpenGL front ends
//! (and real GPUs) round differently: the same frame comes back with a code value or two of
//! difference scattered over a few per cent of its pixels, and a handful of edge pixels that
//! differ more. A change to the renderer (a light turned, a dot grown, a constant altered)
//! instead moves many pixels together, or moves some pixels a lot. The comparison follows
//! wgpu's reftests and Chromium's fuzzy matching, with FLIP as the perceptual measure:
//!
//! 1. **Dead zone**: a pixel whose channels all differ by at most [`Tolerance::dead_zone`] code
//!    values is rounding, and is taken as equal (its reference value is used below).
//! 2. **Budgets**: at most [`Tolerance::max_touched`] of the pixels may differ at all (rounding
//!    touches a few per cent; a shifted light or a paler pigment touches a region), and at
//!    most [`Tolerance::max_outside`] may differ by more than the dead zone (edge pixels).
//! 3. **Perceptual**: FLIP between the reference and the actual frame with the dead zone
//!    applied: its mean over the frame and its 99.9th percentile.
#![allow(dead_code)]

/// Limits of a snapshot comparison. See the module's documentation.
#[derive(Clone, Copy, Debug)]
pub struct Tolerance {
    /// Largest per-channel difference (8-bit code values) taken as rounding.
    pub dead_zone: u8,
    /// Fraction of pixels that may differ at all.
    pub max_touched: f64,
    /// Fraction of pixels that may differ by more than the dead zone.
    pub max_outside: f64,
    /// Mean FLIP over the frame, after the dead zone.
    pub max_mean_flip: f32,
    /// FLIP that no more than 0.1% of the pixels may exceed, after the dead zone.
    pub max_p999_flip: f32,
}

impl Tolerance {
    /// The snapshot tests' limits. Measured on the five snapshots: llvmpipe GL against the
    /// lavapipe references touches at most 0.46% of the pixels, 0.066% beyond the dead zone,
    /// FLIP mean 0.00015 and 99.9th percentile 0.018; +-1 noise on 5% passes with nothing
    /// beyond the dead zone. Each deliberate break fails on Vulkan and GL: key light turned 10
    /// degrees (every snapshot, 42-100% touched), dot radius x1.1 (the close-up: 1.29% beyond
    /// the dead zone, FLIP mean 0.0031), veil 0.8 -> 0.95 mm (close-up and top: 32% touched),
    /// WRAP 0.35 -> 0.30 (every snapshot: 22-41% touched).
    pub const SNAPSHOT: Tolerance = Tolerance {
        dead_zone: 2,
        max_touched: 0.12,
        max_outside: 0.002,
        max_mean_flip: 0.0004,
        max_p999_flip: 0.1,
    };
}

/// What a comparison measured.
pub struct Comparison {
    pub pixels: usize,
    /// Pixels that differ at all.
    pub touched: usize,
    /// Pixels that differ by more than the dead zone in some channel.
    pub outside: usize,
    /// Largest per-channel difference.
    pub max_diff: u8,
    pub mean_flip: f32,
    pub p999_flip: f32,
    /// FLIP per pixel, after the dead zone (for the difference image).
    pub flip_map: nv_flip::FlipImageFloat,
    pub width: u32,
    pub height: u32,
}

impl Comparison {
    pub fn touched_fraction(&self) -> f64 {
        self.touched as f64 / self.pixels.max(1) as f64
    }

    pub fn outside_fraction(&self) -> f64 {
        self.outside as f64 / self.pixels.max(1) as f64
    }

    /// The limits this comparison exceeds, in words (empty: it passes).
    pub fn failures(&self, t: &Tolerance) -> Vec<String> {
        let mut out = Vec::new();
        if self.touched_fraction() > t.max_touched {
            out.push(format!(
                "{:.2}% of pixels differ (limit {:.2}%)",
                100.0 * self.touched_fraction(),
                100.0 * t.max_touched
            ));
        }
        if self.outside_fraction() > t.max_outside {
            out.push(format!(
                "{:.3}% of pixels differ by more than {} code values (limit {:.3}%)",
                100.0 * self.outside_fraction(),
                t.dead_zone,
                100.0 * t.max_outside
            ));
        }
        if self.mean_flip > t.max_mean_flip {
            out.push(format!(
                "mean FLIP {:.5} (limit {})",
                self.mean_flip, t.max_mean_flip
            ));
        }
        if self.p999_flip > t.max_p999_flip {
            out.push(format!(
                "99.9th percentile FLIP {:.4} (limit {})",
                self.p999_flip, t.max_p999_flip
            ));
        }
        out
    }

    /// One line of figures, for the test log.
    pub fn summary(&self) -> String {
        format!(
            "{:.2}% differ, {:.3}% beyond the dead zone, max {} codes, FLIP mean {:.5}, 99.9th {:.4}",
            100.0 * self.touched_fraction(),
            100.0 * self.outside_fraction(),
            self.max_diff,
            self.mean_flip,
            self.p999_flip
        )
    }

    /// The FLIP map as a colour image (magma), for a failure report.
    pub fn diff_image(&self) -> image::RgbImage {
        let lut = self.flip_map.apply_color_lut(&nv_flip::magma_lut());
        image::RgbImage::from_raw(self.width, self.height, lut.to_vec()).expect("diff image")
    }
}

/// Compares two frames of the same size with the dead zone of `t`.
pub fn compare(reference: &image::RgbImage, actual: &image::RgbImage, t: &Tolerance) -> Comparison {
    assert_eq!(reference.dimensions(), actual.dimensions(), "sizes differ");
    let (w, h) = reference.dimensions();
    let mut touched = 0;
    let mut outside = 0;
    let mut max_diff = 0u8;
    // The actual frame with rounding taken out: pixels inside the dead zone become the
    // reference's, so FLIP measures only what lies beyond it.
    let mut settled = actual.clone();
    for (r, a) in reference.pixels().zip(settled.pixels_mut()) {
        let d = (0..3).map(|c| r[c].abs_diff(a[c])).max().unwrap_or(0);
        max_diff = max_diff.max(d);
        if d > 0 {
            touched += 1;
        }
        if d > t.dead_zone {
            outside += 1;
        } else {
            *a = *r;
        }
    }
    let flip_map = nv_flip::flip(
        nv_flip::FlipImageRgb8::with_data(w, h, reference.as_raw()),
        nv_flip::FlipImageRgb8::with_data(w, h, settled.as_raw()),
        nv_flip::DEFAULT_PIXELS_PER_DEGREE,
    );
    let mut pool = nv_flip::FlipPool::from_image(&flip_map);
    Comparison {
        pixels: (w as usize) * (h as usize),
        touched,
        outside,
        max_diff,
        mean_flip: pool.mean(),
        p999_flip: pool.get_percentile(0.999, false),
        flip_map,
        width: w,
        height: h,
    }
}
