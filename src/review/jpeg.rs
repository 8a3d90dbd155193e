//! The standard photo's file: a 300 dpi baseline JPEG with 4:2:0 chroma (as cameras and
//! libjpeg write photographs), the highest quality whose file fits. The encoder is
//! `jpeg-encoder`: about three times faster than the `image` crate's own, which also knows no
//! chroma subsampling (at the same size limit 4:2:0 leaves the face's detail a higher quality).
//! Its portable code only (no `simd` feature): the booth's Arm processor gets what is measured.

use gradbooth_hal::RgbImage;
use jpeg_encoder::{ColorType, Encoder, PixelDensity, SamplingFactor};

use super::standard::StandardSpec;

#[derive(Debug, Clone)]
pub struct Jpeg {
    pub bytes: Vec<u8>,
    pub quality: u8,
    /// Inside the configured size range (a very plain picture may stay below it even at 100).
    pub size_in_range: bool,
}

pub fn encode(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::with_capacity(48 * 1024);
    let mut enc = Encoder::new(&mut out, quality);
    // Fixed: the encoder's own default changes at quality 90, and the file size would jump there.
    enc.set_sampling_factor(SamplingFactor::R_4_2_0);
    enc.set_density(PixelDensity::dpi(300));
    let side = |n: u32| u16::try_from(n).expect("a JPEG side is at most 65535 pixels");
    enc.encode(img.as_raw(), side(img.width()), side(img.height()), ColorType::Rgb)
        .expect("an RGB picture encodes into memory");
    out
}

/// The highest quality (≥ `min_quality`) whose file is at most `max_bytes`. File size grows
/// with quality, and its logarithm nearly linearly near the top, so each next guess is where
/// the line through the two nearest encodes meets the limit, kept strictly between the best
/// quality known to fit and the lowest known not to (halfway when the line says nothing new):
/// typically three encodes, where halving the range took six or seven.
pub fn encode_in_range(spec: &StandardSpec, img: &RgbImage) -> Jpeg {
    let limit = spec.max_bytes.max(1) as f64;
    // (quality, bytes) of the best encode known to fit, and of the lowest known not to.
    let mut fits: Option<(u8, Vec<u8>)> = None;
    let mut over: Option<(u8, usize)> = None;
    let mut q = 90u8.clamp(spec.min_quality, 100);
    loop {
        let bytes = encode(img, q);
        if bytes.len() <= spec.max_bytes {
            fits = Some((q, bytes));
        } else {
            over = Some((q, bytes.len()));
        }
        let lo = fits.as_ref().map(|f| f.0);
        let hi = over.map(|o| o.0);
        let next = match (lo, hi) {
            (Some(100), _) => break,
            (None, Some(h)) if h <= spec.min_quality => break,
            (Some(l), Some(h)) if h <= l + 1 => break,
            (Some(l), Some(h)) => {
                let (ls, hs) = (fits.as_ref().unwrap().1.len() as f64, over.unwrap().1 as f64);
                let t = (limit.ln() - ls.ln()) / (hs.ln() - ls.ln());
                let guess = (l as f64 + t * (h - l) as f64).floor() as i32;
                if guess > l as i32 && guess < h as i32 { guess as u8 } else { l + (h - l) / 2 }
            }
            // Only fits so far: step up by what the size says (about 8 quality points per
            // doubling near the top), at least one.
            (Some(l), None) => {
                let ls = fits.as_ref().unwrap().1.len() as f64;
                let step = ((limit / ls).ln() / 2f64.ln() * 8.0).ceil().max(1.0);
                (l as f64 + step).min(100.0) as u8
            }
            // Only too large so far: step down likewise.
            (None, Some(h)) => {
                let hs = over.unwrap().1 as f64;
                let step = ((hs / limit).ln() / 2f64.ln() * 8.0).ceil().max(1.0);
                (h as f64 - step).max(spec.min_quality as f64) as u8
            }
            (None, None) => unreachable!("every round encodes once"),
        };
        if next == q {
            break;
        }
        q = next;
    }
    let (quality, bytes) = fits.unwrap_or_else(|| (spec.min_quality, encode(img, spec.min_quality)));
    let size_in_range = (spec.min_bytes..=spec.max_bytes).contains(&bytes.len());
    Jpeg { bytes, quality, size_in_range }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::standard::{HEIGHT, WIDTH};

    #[test]
    fn quality_search_finds_the_largest_file_within_the_limit() {
        let img = RgbImage::from_fn(WIDTH, HEIGHT, |x, y| {
            let v = ((x * 7 + y * 13) ^ (x * y)) as u8;
            image::Rgb([v, v.wrapping_mul(3), 255 - v])
        });
        // A limit halfway between the smallest and largest file the allowed qualities give.
        let (small, large) = (encode(&img, 60).len(), encode(&img, 100).len());
        assert!(small < large);
        let spec = StandardSpec { min_bytes: 1, max_bytes: (small + large) / 2, ..StandardSpec::default() };
        let j = encode_in_range(&spec, &img);
        assert!(j.bytes.len() <= spec.max_bytes && j.size_in_range);
        assert!(j.quality >= spec.min_quality);
        if j.quality < 100 {
            assert!(encode(&img, j.quality + 1).len() > spec.max_bytes);
        }
    }

    #[test]
    fn the_quality_search_agrees_with_trying_every_quality() {
        // Busy and plain pictures, and limits from tight to loose: the answer is always the
        // highest quality whose file fits (or the lowest allowed when none does).
        for (k, img) in [
            RgbImage::from_fn(WIDTH / 2, HEIGHT / 2, |x, y| {
                let v = ((x * 7 + y * 13) ^ (x * y)) as u8;
                image::Rgb([v, v.wrapping_mul(3), 255 - v])
            }),
            RgbImage::from_fn(WIDTH / 2, HEIGHT / 2, |x, y| image::Rgb([(x / 3) as u8, (y / 4) as u8, 128])),
        ]
        .iter()
        .enumerate()
        {
            let sizes: Vec<usize> = (0..=100u8).map(|q| encode(img, q).len()).collect();
            for max_bytes in [sizes[40] / 2, sizes[62], sizes[80] + 1, sizes[93], sizes[99] - 1, sizes[100] * 2] {
                let spec = StandardSpec { min_bytes: 1, max_bytes, ..StandardSpec::default() };
                let want = (spec.min_quality..=100).rev().find(|&q| sizes[q as usize] <= max_bytes);
                let got = encode_in_range(&spec, img);
                assert_eq!(
                    Some(got.quality).filter(|_| got.bytes.len() <= max_bytes),
                    want,
                    "picture {k}, limit {max_bytes}"
                );
                if want.is_none() {
                    assert_eq!(got.quality, spec.min_quality);
                }
            }
        }
    }
}
