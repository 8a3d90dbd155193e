//! The camera-based QR reader, for booths without a scanner module (and the simulated booth):
//! `rqrr` on the camera's frames. The runtime hands it the newest frame while the booth is
//! waiting for a code; it answers with the texts of the codes it could decode.
//!
//! Frames are read at full resolution: a phone 30 cm from a 1080p camera shows a shooting
//! code's modules only 3–4 pixels wide, and at half size rqrr missed codes of 5–6 pixel
//! modules depending on how they fell on the pixel grid. A code that is found but cannot be
//! decoded (glare, blur, half in view) is simply not read this frame.

use std::time::{Duration, Instant};

use image::RgbImage;
use tracing::debug;

use crate::lines::RepeatFilter;

/// The codes readable in one frame, in the order `rqrr` finds them.
pub fn decode(frame: &RgbImage, max_len: usize) -> Vec<String> {
    let (w, h) = frame.dimensions();
    let raw = frame.as_raw();
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
        let i = (y * w as usize + x) * 3;
        // BT.601 luma in integers.
        ((77 * u32::from(raw[i]) + 150 * u32::from(raw[i + 1]) + 29 * u32::from(raw[i + 2])) >> 8) as u8
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

/// Draws `text` as a QR code of `module` pixels a module (with its quiet zone) onto `frame`,
/// centred on `(cx, cy)`: a phone held up to the camera, for the simulated booth and the tests.
pub fn draw_code(frame: &mut RgbImage, text: &str, cx: u32, cy: u32, module: u32) -> Result<(), String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| format!("cannot draw the code: {e}"))?;
    let n = code.width() as u32;
    let colors = code.to_colors();
    let quiet = 4;
    let side = (n + 2 * quiet) * module;
    let (x, y) = (cx.saturating_sub(side / 2), cy.saturating_sub(side / 2));
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

    const TICKET: &str =
        "GBT1:AEAQCAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIBAEBACAIB";

    fn wall(w: u32, h: u32) -> RgbImage {
        RgbImage::from_fn(w, h, |x, y| {
            let g = 150 + ((x / 7 + y / 5) % 20) as u8;
            Rgb([g, g, g + 4])
        })
    }

    #[test]
    fn reads_a_code_held_up_to_a_1080p_camera_at_any_module_size_and_position() {
        // 2–3 px modules: a phone at arm's length; 8 px: held close. Positions off the even
        // pixel grid too (half-size reading missed some of these).
        for (cx, cy) in [(960, 540), (961, 541), (883, 483), (700, 300)] {
            for module in [2, 3, 5, 6, 8] {
                let mut frame = wall(1920, 1080);
                draw_code(&mut frame, TICKET, cx, cy, module).unwrap();
                assert_eq!(decode(&frame, 2048), vec![TICKET.to_owned()], "at ({cx}, {cy}), {module} px modules");
            }
        }
    }

    #[test]
    fn an_empty_scene_reads_nothing() {
        assert!(decode(&wall(1920, 1080), 2048).is_empty());
    }

    #[test]
    fn a_code_longer_than_the_bound_is_dropped() {
        let mut frame = wall(640, 480);
        draw_code(&mut frame, "0123456789", 200, 200, 4).unwrap();
        assert!(decode(&frame, 9).is_empty());
        assert_eq!(decode(&frame, 10).len(), 1);
    }

    #[test]
    fn a_code_half_out_of_view_is_not_read() {
        let mut frame = wall(640, 480);
        draw_code(&mut frame, TICKET, 640, 240, 4).unwrap();
        assert!(decode(&frame, 2048).is_empty());
    }

    #[test]
    fn a_code_held_still_counts_once() {
        let mut frame = wall(640, 480);
        draw_code(&mut frame, "hello", 200, 200, 4).unwrap();
        let mut reader = CodeReader::new(2048, Duration::from_secs(2));
        let t0 = Instant::now();
        assert_eq!(reader.read(&frame, t0), vec!["hello".to_owned()]);
        assert!(reader.read(&frame, t0 + Duration::from_millis(200)).is_empty());
        assert!(reader.read(&wall(640, 480), t0 + Duration::from_millis(400)).is_empty());
        assert_eq!(reader.read(&frame, t0 + Duration::from_secs(3)), vec!["hello".to_owned()]);
    }
}
