//! The preview path: a full camera frame becomes the portrait the screen shows — the 3:4
//! region around the centre (what the photo will frame), scaled to the preview size.

use gradbooth_hal::RgbImage;
use slint::{Rgb8Pixel, SharedPixelBuffer};

/// Preview size on screen, in pixels (3:4, like the final 480×640 photo).
pub const PREVIEW_WIDTH: u32 = 540;
pub const PREVIEW_HEIGHT: u32 = 720;

pub use crate::review::geometry::portrait_region_px as portrait_region;

/// Crop and downscale (SIMD bilinear convolution) a frame straight into the buffer the UI
/// shows, with no intermediate copy.
pub fn preview_image(frame: &RgbImage, out_w: u32, out_h: u32) -> SharedPixelBuffer<Rgb8Pixel> {
    use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer, images::Image};
    let (x, y, w, h) = portrait_region(frame.width(), frame.height());
    let mut out = SharedPixelBuffer::<Rgb8Pixel>::new(out_w, out_h);
    let options = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(FilterType::Bilinear))
        .crop(x as f64, y as f64, w as f64, h as f64);
    let resized = Image::from_slice_u8(out_w, out_h, out.make_mut_bytes(), PixelType::U8x3)
        .map_err(|e| e.to_string())
        .and_then(|mut dst| Resizer::new().resize(frame, &mut dst, &options).map_err(|e| e.to_string()));
    if let Err(e) = resized {
        // Both sides are 8-bit RGB, so this cannot happen; never show a blank preview for it.
        tracing::error!(error = %e, "fast preview resize failed; using the slow path");
        let region = image::imageops::crop_imm(frame, x, y, w, h).to_image();
        let small = image::imageops::resize(&region, out_w, out_h, image::imageops::FilterType::Triangle);
        return SharedPixelBuffer::clone_from_slice(small.as_raw(), out_w, out_h);
    }
    out
}

/// A still shown whole (attempt and review screens), scaled to fit `max_h` pixels high.
pub fn photo_image(photo: &RgbImage, max_h: u32) -> SharedPixelBuffer<Rgb8Pixel> {
    preview_image(photo, max_h * 3 / 4, max_h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_portrait_region_is_centred_three_by_four() {
        assert_eq!(portrait_region(1920, 1080), (555, 0, 810, 1080));
        assert_eq!(portrait_region(600, 1000), (0, 100, 600, 800));
    }

    #[test]
    fn the_preview_shows_the_centre_of_the_frame() {
        let frame = RgbImage::from_fn(1920, 1080, |x, _| {
            if (900..1020).contains(&x) { image::Rgb([255, 0, 0]) } else { image::Rgb([0, 0, 255]) }
        });
        let p = preview_image(&frame, PREVIEW_WIDTH, PREVIEW_HEIGHT);
        assert_eq!((p.width(), p.height()), (PREVIEW_WIDTH, PREVIEW_HEIGHT));
        let mid = p.as_slice()[(360 * PREVIEW_WIDTH + 270) as usize];
        assert_eq!((mid.r, mid.b), (255, 0));
        let edge = p.as_slice()[(360 * PREVIEW_WIDTH + 5) as usize];
        assert_eq!((edge.r, edge.b), (0, 255));
    }
}
