//! Checks that need no face model: brightness and sharpness of the centre of the frame
//! (where the face is), and how uniform the background is along the top and side borders.

use gradbooth_hal::RgbImage;

use super::Reviewer;
use crate::config::ReviewThresholds;
use crate::visit::{Finding, LightingMode, Severity, Verdict};

pub struct ImageReviewer {
    pub thresholds: ReviewThresholds,
}

/// The measures behind the verdict, also used by tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measures {
    pub brightness: f32,
    pub sharpness: f32,
    pub background_spread: f32,
}

/// Work on a copy no larger than this on its long side: the checks are statistical.
const WORK_SIZE: u32 = 640;

pub fn measure(photo: &RgbImage) -> Measures {
    let (w, h) = photo.dimensions();
    let scale = (WORK_SIZE as f32 / w.max(h) as f32).min(1.0);
    let small;
    let img = if scale < 1.0 {
        small = image::imageops::resize(
            photo,
            (w as f32 * scale) as u32,
            (h as f32 * scale) as u32,
            image::imageops::FilterType::Triangle,
        );
        &small
    } else {
        photo
    };
    let (w, h) = img.dimensions();
    let luma = |x: u32, y: u32| {
        let p = img.get_pixel(x, y);
        0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
    };

    // The centre third horizontally, the middle of the height: where a seated face is.
    let (x0, x1, y0, y1) = (w / 3, 2 * w / 3, h / 5, 4 * h / 5);
    let mut sum = 0.0;
    let mut n = 0.0;
    let mut lap = Vec::new();
    for y in y0.max(1)..y1.min(h - 1) {
        for x in x0.max(1)..x1.min(w - 1) {
            let c = luma(x, y);
            sum += c;
            n += 1.0;
            lap.push(luma(x - 1, y) + luma(x + 1, y) + luma(x, y - 1) + luma(x, y + 1) - 4.0 * c);
        }
    }
    let brightness = if n > 0.0 { sum / n } else { 0.0 };
    let sharpness = variance(&lap);

    // The background: a band along the top and the outer sixths of each side, above the shoulders.
    let band = (h / 12).max(1);
    let side = (w / 6).max(1);
    let mut bg = Vec::new();
    for y in 0..h / 2 {
        for x in 0..w {
            if y < band || x < side || x >= w - side {
                bg.push(*img.get_pixel(x, y));
            }
        }
    }
    let background_spread = (0..3)
        .map(|c| variance(&bg.iter().map(|p| p[c] as f32).collect::<Vec<_>>()))
        .sum::<f32>()
        .div_euclid(3.0)
        .sqrt();
    Measures { brightness, sharpness, background_spread }
}

fn variance(v: &[f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let mean = v.iter().sum::<f32>() / v.len() as f32;
    v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32
}

impl Reviewer for ImageReviewer {
    fn review(&self, photo: &RgbImage, _mode: LightingMode) -> Verdict {
        let m = measure(photo);
        let t = &self.thresholds;
        let mut findings = Vec::new();
        let mut block =
            |code, measured, limit| findings.push(Finding { code, severity: Severity::Blocks, measured, limit });
        if m.brightness < t.min_brightness {
            block("underexposed", m.brightness, t.min_brightness);
        }
        if m.brightness > t.max_brightness {
            block("overexposed", m.brightness, t.max_brightness);
        }
        if m.sharpness < t.min_sharpness {
            block("blurry", m.sharpness, t.min_sharpness);
        }
        if m.background_spread > t.max_background_spread {
            block("background_not_uniform", m.background_spread, t.max_background_spread);
        }
        Verdict { findings, scripted: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Pixel, Rgb};

    fn thresholds() -> ReviewThresholds {
        crate::config::Settings::parse(include_str!("../../config/booth.toml")).unwrap().file.review
    }

    /// A sharp, evenly lit "face" of stripes on a plain wall.
    fn good() -> RgbImage {
        RgbImage::from_fn(480, 360, |x, y| {
            let centre = (160..320).contains(&x) && (72..288).contains(&y);
            if centre {
                let v = if (x / 3 + y / 3) % 2 == 0 { 200 } else { 90 };
                Rgb([v, v, v])
            } else {
                Rgb([200, 205, 210])
            }
        })
    }

    fn codes(v: &Verdict) -> Vec<&'static str> {
        v.findings.iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_sharp_well_lit_photo_on_a_plain_wall_passes() {
        let v = ImageReviewer { thresholds: thresholds() }.review(&good(), LightingMode::NoGlasses);
        assert!(v.passed(), "{v:?}");
    }

    #[test]
    fn a_dark_photo_is_underexposed_and_a_bright_one_overexposed() {
        let r = ImageReviewer { thresholds: thresholds() };
        let g = good();
        let dark = RgbImage::from_fn(480, 360, |x, y| g.get_pixel(x, y).map(|c| c / 5));
        assert!(codes(&r.review(&dark, LightingMode::NoGlasses)).contains(&"underexposed"));
        let bright = RgbImage::from_fn(480, 360, |x, y| g.get_pixel(x, y).map(|c| c.saturating_add(120)));
        assert!(codes(&r.review(&bright, LightingMode::NoGlasses)).contains(&"overexposed"));
    }

    #[test]
    fn a_blurred_photo_is_blurry() {
        let r = ImageReviewer { thresholds: thresholds() };
        let blurred = image::imageops::blur(&good(), 6.0);
        assert_eq!(codes(&r.review(&blurred, LightingMode::NoGlasses)), vec!["blurry"]);
    }

    #[test]
    fn a_cluttered_background_is_not_uniform() {
        let r = ImageReviewer { thresholds: thresholds() };
        let mut img = good();
        for (x, y, p) in img.enumerate_pixels_mut() {
            if x < 80 && (y / 20) % 2 == 0 {
                *p = Rgb([30, 120, 40]);
            }
        }
        assert!(codes(&r.review(&img, LightingMode::NoGlasses)).contains(&"background_not_uniform"));
    }
}
