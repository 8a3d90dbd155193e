//! A camera that serves frames from image files (a sitter's portrait), or a swaying
//! synthetic person in front of a wall when none is given.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};

use super::SimControls;
use crate::{Camera, CameraControls, DeviceError, DeviceKind};

/// Phases of the synthetic sway; frames are rendered once per phase and reused.
const SWAY_PHASES: usize = 12;

pub struct SimCamera {
    controls: SimControls,
    width: u32,
    height: u32,
    frame_interval: Duration,
    last_frame: Option<Instant>,
    /// Sitter images, already fitted to the sensor size; empty means synthetic.
    sitters: Vec<RgbImage>,
    /// Which sitter the camera is looking at; each still moves to the next one.
    current: usize,
    synthetic: Vec<Option<RgbImage>>,
    frame_count: usize,
}

impl SimCamera {
    pub fn new(controls: SimControls, width: u32, height: u32, fps: u32) -> Self {
        Self {
            controls,
            width,
            height,
            frame_interval: Duration::from_secs(1) / fps.max(1),
            last_frame: None,
            sitters: Vec::new(),
            current: 0,
            synthetic: vec![None; SWAY_PHASES],
            frame_count: 0,
        }
    }

    /// Serve these images (in turn, one per still) instead of the synthetic scene.
    pub fn with_sitters(mut self, images: Vec<RgbImage>) -> Self {
        self.sitters = images.into_iter().map(|i| fit_to_sensor(&i, self.width, self.height)).collect();
        self
    }

    /// Load sitter images from files.
    pub fn load_sitters(paths: &[impl AsRef<Path>]) -> Result<Vec<RgbImage>, image::ImageError> {
        paths.iter().map(|p| Ok(image::open(p.as_ref())?.to_rgb8())).collect()
    }

    fn frame(&mut self) -> RgbImage {
        if !self.sitters.is_empty() {
            return self.sitters[self.current % self.sitters.len()].clone();
        }
        let phase = self.frame_count % SWAY_PHASES;
        let (w, h) = (self.width, self.height);
        self.synthetic[phase]
            .get_or_insert_with(|| {
                let angle = phase as f32 / SWAY_PHASES as f32 * std::f32::consts::TAU;
                synthetic_scene(w, h, angle.sin() * w as f32 * 0.01)
            })
            .clone()
    }

    fn pace(&mut self, timeout: Duration) -> Result<(), DeviceError> {
        if let Some(last) = self.last_frame {
            let due = last + self.frame_interval;
            let wait = due.saturating_duration_since(Instant::now());
            if wait > timeout {
                thread::sleep(timeout);
                return Err(DeviceError::Timeout { device: DeviceKind::Camera, timeout });
            }
            thread::sleep(wait);
        }
        self.last_frame = Some(Instant::now());
        Ok(())
    }
}

impl Camera for SimCamera {
    fn preview_frame(&mut self, timeout: Duration) -> Result<RgbImage, DeviceError> {
        self.controls.check_plugged(DeviceKind::Camera)?;
        self.pace(timeout)?;
        self.frame_count += 1;
        if self.controls.black_frames() {
            return Ok(RgbImage::new(self.width, self.height));
        }
        let mut frame = self.frame();
        darken(&mut frame, self.controls.light_gain());
        if let Some(text) = self.controls.held_code() {
            // A phone held up in front of the sitter's chest.
            let (w, h) = frame.dimensions();
            let module = (h / 180).max(3);
            if let Err(e) = crate::camera_qr::draw_code(&mut frame, &text, w / 2, h * 3 / 5, module) {
                tracing::warn!(error = %e, "simulated code not shown");
            }
        }
        Ok(frame)
    }

    fn set_controls(&mut self, controls: CameraControls) {
        self.controls.set_camera_controls(controls);
    }

    fn capture_still(&mut self, _timeout: Duration) -> Result<RgbImage, DeviceError> {
        self.controls.check_plugged(DeviceKind::Camera)?;
        let still = if self.controls.black_frames() {
            RgbImage::new(self.width, self.height)
        } else {
            let mut still = self.frame();
            darken(&mut still, self.controls.light_gain());
            still
        };
        self.current += 1;
        Ok(still)
    }
}

/// The picture under too little light (`SimControls::light_gain`); untouched at full light.
fn darken(frame: &mut RgbImage, gain: f32) {
    if gain >= 1.0 {
        return;
    }
    for p in frame.pixels_mut() {
        for c in p.0.iter_mut() {
            *c = (*c as f32 * gain).round() as u8;
        }
    }
}

/// Scale an image to the sensor height and centre it, filling the sides with the colour of
/// the image's own border so a square portrait becomes a plausible landscape frame.
fn fit_to_sensor(img: &RgbImage, width: u32, height: u32) -> RgbImage {
    if img.dimensions() == (width, height) {
        return img.clone();
    }
    let scale = (height as f32 / img.height() as f32).min(width as f32 / img.width() as f32);
    let (sw, sh) = ((img.width() as f32 * scale).round() as u32, (img.height() as f32 * scale).round() as u32);
    let scaled = image::imageops::resize(img, sw.max(1), sh.max(1), image::imageops::FilterType::Triangle);
    let border = mean_border_colour(img);
    let mut canvas = RgbImage::from_pixel(width, height, border);
    image::imageops::overlay(&mut canvas, &scaled, ((width - sw) / 2) as i64, ((height - sh) / 2) as i64);
    canvas
}

fn mean_border_colour(img: &RgbImage) -> Rgb<u8> {
    let (w, h) = img.dimensions();
    let mut sum = [0u64; 3];
    let mut n = 0u64;
    for y in 0..h {
        for x in [0, w - 1] {
            let p = img.get_pixel(x, y);
            for c in 0..3 {
                sum[c] += p[c] as u64;
            }
            n += 1;
        }
    }
    Rgb([(sum[0] / n) as u8, (sum[1] / n) as u8, (sum[2] / n) as u8])
}

/// A plain wall, a dark jacket, a face with hair and eyes, shifted `dx` pixels.
pub(crate) fn synthetic_scene(width: u32, height: u32, dx: f32) -> RgbImage {
    let (w, h) = (width as f32, height as f32);
    let cx = w / 2.0 + dx;
    let face_cy = h * 0.42;
    let (face_rx, face_ry) = (h * 0.11, h * 0.15);
    let eye_y = face_cy - face_ry * 0.15;
    let eye_dx = face_rx * 0.42;
    let eye_r = h * 0.012;
    RgbImage::from_fn(width, height, |x, y| {
        let (px, py) = (x as f32, y as f32);
        let fx = (px - cx) / face_rx;
        let fy = (py - face_cy) / face_ry;
        let in_face = fx * fx + fy * fy <= 1.0;
        let in_hair = {
            let hy = (py - (face_cy - face_ry * 0.35)) / (face_ry * 0.8);
            let hx = (px - cx) / (face_rx * 1.08);
            hx * hx + hy * hy <= 1.0 && py < face_cy - face_ry * 0.45
        };
        let shoulder_top = face_cy + face_ry * 1.25;
        let half_width = (py - shoulder_top) * 1.6 + face_rx * 1.2;
        let in_body = py >= shoulder_top && (px - cx).abs() <= half_width;
        let in_neck = py >= face_cy + face_ry * 0.8 && py < shoulder_top + 10.0 && (px - cx).abs() < face_rx * 0.45;
        let in_eye =
            [cx - eye_dx, cx + eye_dx].iter().any(|ex| (px - ex).powi(2) + (py - eye_y).powi(2) <= eye_r * eye_r);
        if in_eye {
            Rgb([40, 30, 30])
        } else if in_hair {
            Rgb([30, 25, 25])
        } else if in_face || in_neck {
            // A little shading so the face is not a flat disc.
            let shade = 1.0 - 0.12 * fy.max(0.0);
            Rgb([(224.0 * shade) as u8, (180.0 * shade) as u8, (150.0 * shade) as u8])
        } else if in_body {
            Rgb([45, 50, 60])
        } else {
            // A lightly textured grey wall; the standard blue background is put in later.
            let g = 196 + ((x / 7 + y / 5) % 3) as u8;
            Rgb([g, g, g + 4])
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unplugged_camera_reports_disconnected_and_recovers_when_replugged() {
        let controls = SimControls::new();
        let mut cam = SimCamera::new(controls.clone(), 64, 48, 1000);
        assert!(cam.preview_frame(Duration::from_millis(50)).is_ok());
        controls.unplug(DeviceKind::Camera);
        let err = cam.capture_still(Duration::from_millis(50)).unwrap_err();
        assert!(matches!(err, DeviceError::Disconnected { device: DeviceKind::Camera, .. }));
        assert!(!err.is_temporary());
        controls.replug(DeviceKind::Camera);
        assert_eq!(cam.preview_frame(Duration::from_millis(50)).unwrap().dimensions(), (64, 48));
    }

    #[test]
    fn a_camera_that_sees_black_still_answers_and_sees_again_when_mended() {
        let controls = SimControls::new();
        let sitter = RgbImage::from_pixel(40, 30, Rgb([200, 180, 160]));
        let mut cam = SimCamera::new(controls.clone(), 40, 30, 1000).with_sitters(vec![sitter]);
        let t = Duration::from_millis(10);
        controls.set_black_frames(true);
        // It is no cable fault: frames keep coming, all of them black.
        let frame = cam.preview_frame(t).unwrap();
        assert!(frame.pixels().all(|p| p.0 == [0, 0, 0]));
        assert!(cam.capture_still(t).unwrap().pixels().all(|p| p.0 == [0, 0, 0]));
        controls.set_black_frames(false);
        assert_eq!(cam.preview_frame(t).unwrap().get_pixel(5, 5), &Rgb([200, 180, 160]));
    }

    #[test]
    fn the_picture_darkens_only_when_the_lamps_give_too_little_light() {
        use crate::{LightLevels, Lights, sim::SimLights};
        let controls = SimControls::new();
        let sitter = RgbImage::from_pixel(40, 30, Rgb([200, 200, 200]));
        let mut cam = SimCamera::new(controls.clone(), 40, 30, 1000).with_sitters(vec![sitter]);
        let mut lights = SimLights::new(controls.clone());
        let t = Duration::from_millis(10);
        let luma = |cam: &mut SimCamera| cam.preview_frame(t).unwrap().get_pixel(5, 5).0[0];
        let levels = |pairs: &[(&str, u8)]| LightLevels(pairs.iter().map(|(c, l)| (c.to_string(), *l)).collect());
        assert_eq!(luma(&mut cam), 200, "no lights set yet: as before");
        // The booth's idle scene (50 percent-points between four lamps) is full light.
        lights.apply(&levels(&[("key_left", 10), ("key_right", 10), ("fill", 10), ("background", 20)])).unwrap();
        assert_eq!(luma(&mut cam), 200);
        // All lamps off: the room's light only.
        let dark = levels(&[("key_left", 0), ("key_right", 0), ("fill", 0), ("background", 0)]);
        lights.apply(&dark).unwrap();
        let room = luma(&mut cam);
        assert!((50..=65).contains(&room), "{room}");
        // One lamp alone lights the picture; the same lamp dead does not.
        let one = levels(&[("key_left", 100), ("key_right", 0), ("fill", 0), ("background", 0)]);
        lights.apply(&one).unwrap();
        assert_eq!(luma(&mut cam), 200);
        controls.set_lamp_alive("key_left", false);
        assert_eq!(luma(&mut cam), room);
        assert_eq!(cam.capture_still(t).unwrap().get_pixel(5, 5).0[0], room, "stills too");
        // A half-lit lamp: somewhere between.
        controls.set_lamp_alive("key_left", true);
        lights.apply(&levels(&[("key_left", 15), ("key_right", 0), ("fill", 0), ("background", 0)])).unwrap();
        let half = luma(&mut cam);
        assert!(room < half && half < 200, "{half}");
    }

    #[test]
    fn each_still_moves_to_the_next_sitter() {
        let a = RgbImage::from_pixel(40, 30, Rgb([255, 0, 0]));
        let b = RgbImage::from_pixel(40, 30, Rgb([0, 0, 255]));
        let mut cam = SimCamera::new(SimControls::new(), 40, 30, 1000).with_sitters(vec![a, b]);
        let t = Duration::from_millis(10);
        assert_eq!(cam.capture_still(t).unwrap().get_pixel(5, 5), &Rgb([255, 0, 0]));
        assert_eq!(cam.preview_frame(t).unwrap().get_pixel(5, 5), &Rgb([0, 0, 255]));
        assert_eq!(cam.capture_still(t).unwrap().get_pixel(5, 5), &Rgb([0, 0, 255]));
    }

    #[test]
    fn a_square_portrait_is_centred_on_a_landscape_sensor() {
        let portrait = RgbImage::from_pixel(100, 100, Rgb([10, 200, 10]));
        let frame = fit_to_sensor(&portrait, 160, 90);
        assert_eq!(frame.dimensions(), (160, 90));
        assert_eq!(frame.get_pixel(80, 45), &Rgb([10, 200, 10]));
    }

    #[test]
    fn a_code_presented_is_held_up_to_the_camera_when_it_reads_codes() {
        let controls = SimControls::new();
        let mut cam = SimCamera::new(controls.clone(), 1920, 1080, 1000);
        let t = Duration::from_millis(50);
        controls.present_qr("to the scanner");
        assert!(crate::camera_qr::decode(&cam.preview_frame(t).unwrap(), 2048).is_empty());
        assert_eq!(controls.take_scan().as_deref(), Some("to the scanner"));
        controls.set_codes_to_camera(true);
        controls.present_qr("to the camera");
        assert_eq!(crate::camera_qr::decode(&cam.preview_frame(t).unwrap(), 2048), vec!["to the camera".to_owned()]);
        assert_eq!(controls.take_scan(), None);
    }

    #[test]
    fn synthetic_scene_sways() {
        let mut cam = SimCamera::new(SimControls::new(), 320, 180, 1000);
        let t = Duration::from_millis(50);
        let frames: Vec<_> = (0..4).map(|_| cam.preview_frame(t).unwrap()).collect();
        assert!(frames.windows(2).any(|w| w[0] != w[1]), "the synthetic person should move");
    }
}
