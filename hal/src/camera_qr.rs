//! The camera-based QR reader, for booths without a scanner module (and the simulated booth):
//! `rqrr` on the camera's frames. The runtime hands it the newest frame while the booth is
//! waiting for a code; it answers with the texts of the codes it could decode.
//!
//! A 1080p frame is read at half size (a phone's code held up to the camera is large; half
//! size reads it in a fraction of the time); a small frame is read as it is. A code that is
//! found but cannot be decoded (glare, blur, half in view) is simply not read this frame.

use std::time::{Duration, Instant};

use image::RgbImage;
use tracing::debug;

use crate::lines::RepeatFilter;

/// Frames wider than this are halved before reading.
const READ_WIDTH: u32 = 1280;

/// The codes readable in one frame, in the order `rqrr` finds them.
pub fn decode(frame: &RgbImage, max_len: usize) -> Vec<String> {
    let (w, h) = frame.dimensions();
    let step = if w > READ_WIDTH { 2 } else { 1 };
    let (gw, gh) = ((w / step) as usize, (h / step) as usize);
    let raw = frame.as_raw();
    let luma = |x: u32, y: u32| {
        let i = ((y * w + x) * 3) as usize;
        // BT.601 luma in integers.
        (77 * u32::from(raw[i]) + 150 * u32::from(raw[i + 1]) + 29 * u32::from(raw[i + 2])) >> 8
    };
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(gw, gh, |x, y| {
        let (x, y) = (x as u32 * step, y as u32 * step);
        if step == 1 {
            luma(x, y) as u8
        } else {
            ((luma(x, y) + luma(x + 1, y) + luma(x, y + 1) + luma(x + 1, y + 1)) / 4) as u8
        }
    });
    let mut texts = Vec::new();
    for grid in img.detect_grids() {
        match grid.decode() {
            Ok((_, text)) if text.len() <= max_len && !text.is_empty() => texts.push(text),
            Ok((_, text)) => debug!(bytes = text.len(), "camera read a code of unusable length; dropped"),
            // Not logged by content: a partial read may carry a name.
            Err(e) => debug!(error = %e, "camera saw a code it could not decode"),
        }
    }
    texts
}

/// Reads codes from successive frames; a code held in front of the camera counts once.
pub struct CodeReader {
    max_len: usize,
    repeats: RepeatFilter,
}

impl CodeReader {
    pub fn new(max_len: usize, repeat_window: Duration) -> Self {
        CodeReader { max_len, repeats: RepeatFilter::new(repeat_window) }
    }

    /// The new codes in `frame`, seen at `now`.
    pub fn read(&mut self, frame: &RgbImage, now: Instant) -> Vec<String> {
        decode(frame, self.max_len).into_iter().filter(|t| self.repeats.is_new(t, now)).collect()
    }
}

/// Draws `text` as a QR code of `module` pixels a module (with its quiet zone) onto `frame`
/// at `(x, y)`: a phone held up to the camera, for the simulated booth and the tests.
pub fn draw_code(frame: &mut RgbImage, text: &str, x: u32, y: u32, module: u32) -> Result<(), String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| format!("cannot draw the code: {e}"))?;
    let n = code.width() as u32;
    let colors = code.to_colors();
    let quiet = 4;
    let side = (n + 2 * quiet) * module;
    for py in 0..side {
        for px in 0..side {
            let (fx, fy) = (x + px, y + py);
            if fx >= frame.width() || fy >= frame.height() {
                continue;
            }
            let (mx, my) = ((px / module) as i64 - quiet as i64, (py / module) as i64 - quiet as i64);
            let dark = mx >= 0
                && my >= 0
                && (mx as u32) < n
                && (my as u32) < n
                && colors[my as usize * n as usize + mx as usize] == qrcode::Color::Dark;
            let v = if dark { 20 } else { 235 };
            frame.put_pixel(fx, fy, image::Rgb([v, v, v]));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    const TICKET: &str = "GBT1:AEAQCAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIB";

    fn wall(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let g = 150 + ((x / 7 + y / 5) % 20) as u8;
            Rgb([g, g, g + 4])
        })
    }

    #[test]
    fn reads_a_code_held_up_to_a_1080p_camera() {
        let mut frame = wall(1920, 1080);
        draw_code(&mut frame, TICKET, 700, 300, 6).unwrap();
        assert_eq!(decode(&frame, 2048), vec![TICKET.to_owned()]);
    }

    #[test]
    fn reads_a_small_frame_at_full_size() {
        let mut frame = wall(640, 480);
        draw_code(&mut frame, "hello", 100, 100, 4).unwrap();
        assert_eq!(decode(&frame, 2048), vec!["hello".to_owned()]);
    }

    #[test]
    fn an_empty_scene_reads_nothing() {
        assert!(decode(&wall(1920, 1080), 2048).is_empty());
    }

    #[test]
    fn a_code_longer_than_the_bound_is_dropped() {
        let mut frame = wall(640, 480);
        draw_code(&mut frame, "0123456789", 100, 100, 4).unwrap();
        assert!(decode(&frame, 9).is_empty());
        assert_eq!(decode(&frame, 10).len(), 1);
    }

    #[test]
    fn a_code_half_out_of_view_is_not_read() {
        let mut frame = wall(640, 480);
        draw_code(&mut frame, TICKET, 500, 100, 4).unwrap();
        assert!(decode(&frame, 2048).is_empty());
    }

    #[test]
    fn a_code_held_still_counts_once() {
        let mut frame = wall(640, 480);
        draw_code(&mut frame, "hello", 100, 100, 4).unwrap();
        let mut reader = CodeReader::new(2048, Duration::from_secs(2));
        let t0 = Instant::now();
        assert_eq!(reader.read(&frame, t0), vec!["hello".to_owned()]);
        assert!(reader.read(&frame, t0 + Duration::from_millis(200)).is_empty());
        assert!(reader.read(&wall(640, 480), t0 + Duration::from_millis(400)).is_empty());
        assert_eq!(reader.read(&frame, t0 + Duration::from_secs(3)), vec!["hello".to_owned()]);
    }
}
