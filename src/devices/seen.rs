//! What the device threads last saw, for the diagnostics pages and the metrics: the camera's
//! frame rate, dropped frames, brightness and sharpness; the chair's limit switches, seat
//! button and runs; the lights' levels and on-hours. Written by the workers, read by anyone.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gradbooth_hal::{CameraControls, ChairReport, LightLevels, Motion, RgbImage, SeatButton};

/// The camera, as its worker last saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CameraSeen {
    pub frames: u64,
    /// Frames asked for that did not come (timeouts, errors).
    pub dropped: u64,
    /// Frames per second over the last second of preview.
    pub fps: f32,
    /// Mean luma 0–255 of the last measured frame.
    pub luma: f32,
    /// Laplacian variance / mean luma² × 1e4 (the review's blur measure, whole frame).
    pub sharpness: f32,
    /// The exposure and white balance last set (`None`: automatic).
    pub controls: CameraControls,
    pub size: (u32, u32),
}

/// The chair, as its worker last saw it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChairSeen {
    pub motion: Motion,
    pub at_top: bool,
    pub at_bottom: bool,
    pub height_percent: Option<u8>,
    /// The seat's own button, as last reported.
    pub button: Option<SeatButton>,
    /// How long the current run has lasted, or the last run lasted.
    pub run_ms: u64,
    /// Runs since start-up.
    pub runs: u64,
    /// The driver's last fault (stall, run too long), if any.
    pub fault: Option<String>,
}

/// The lights, as their worker last set them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LightsSeen {
    pub levels: LightLevels,
    /// Seconds each channel has been on (level above 0) since start-up.
    pub on_seconds: BTreeMap<String, f64>,
}

/// Shared by the workers and their readers.
#[derive(Default)]
pub struct Seen {
    pub camera: Mutex<CameraSeen>,
    pub chair: Mutex<ChairSeen>,
    pub lights: Mutex<LightsSeen>,
    run_started: Mutex<Option<Instant>>,
    lights_since: Mutex<Option<Instant>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Seen {
    pub fn camera(&self) -> CameraSeen {
        lock(&self.camera).clone()
    }
    pub fn chair(&self) -> ChairSeen {
        lock(&self.chair).clone()
    }
    pub fn lights(&self) -> LightsSeen {
        lock(&self.lights).clone()
    }

    pub(super) fn frame(&self, frame: Option<&RgbImage>, measure: bool) {
        let mut c = lock(&self.camera);
        match frame {
            Some(f) => {
                c.frames += 1;
                c.size = f.dimensions();
                if measure {
                    let (luma, sharpness) = measure_frame(f);
                    c.luma = luma;
                    c.sharpness = sharpness;
                }
            }
            None => c.dropped += 1,
        }
    }

    pub(super) fn fps(&self, fps: f32) {
        lock(&self.camera).fps = fps;
    }

    pub(super) fn controls(&self, controls: CameraControls) {
        lock(&self.camera).controls = controls;
    }

    pub(super) fn chair_report(&self, report: &ChairReport) {
        let mut c = lock(&self.chair);
        let mut started = lock(&self.run_started);
        if report.motion != Motion::Stop && c.motion == Motion::Stop {
            *started = Some(Instant::now());
            c.runs += 1;
        }
        if let Some(t) = *started {
            c.run_ms = t.elapsed().as_millis() as u64;
        }
        if report.motion == Motion::Stop {
            *started = None;
        }
        c.motion = report.motion;
        c.at_top = report.at_top;
        c.at_bottom = report.at_bottom;
        c.height_percent = report.height_percent;
        if let Some(b) = report.buttons.last() {
            c.button = Some(*b);
        }
    }

    pub(super) fn chair_fault(&self, fault: Option<String>) {
        let mut c = lock(&self.chair);
        if fault.is_some() {
            c.motion = Motion::Stop;
        }
        c.fault = fault;
    }

    pub(super) fn lights_applied(&self, levels: &LightLevels) {
        let mut l = lock(&self.lights);
        let mut since = lock(&self.lights_since);
        let now = Instant::now();
        let held = since.map_or(Duration::ZERO, |t| now - t).as_secs_f64();
        let previous = std::mem::replace(&mut l.levels, levels.clone());
        for (channel, level) in &previous.0 {
            if *level > 0 {
                *l.on_seconds.entry(channel.clone()).or_default() += held;
            }
        }
        *since = Some(now);
    }
}

/// Mean luma and the review's blur measure (Laplacian variance / mean luma² × 1e4) of a frame,
/// on every fourth pixel: a few milliseconds for a 1080p frame.
pub fn measure_frame(f: &RgbImage) -> (f32, f32) {
    let (w, h) = f.dimensions();
    let step = 4;
    let luma = |x: u32, y: u32| {
        let p = f.get_pixel(x, y).0;
        0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
    };
    let (mut sum, mut n) = (0f64, 0f64);
    let (mut lap_sum, mut lap_sq, mut m) = (0f64, 0f64, 0f64);
    for y in (step..h.saturating_sub(step)).step_by(step as usize) {
        for x in (step..w.saturating_sub(step)).step_by(step as usize) {
            let c = luma(x, y);
            sum += c as f64;
            n += 1.0;
            let lap = luma(x - step, y) + luma(x + step, y) + luma(x, y - step) + luma(x, y + step) - 4.0 * c;
            lap_sum += lap as f64;
            lap_sq += (lap * lap) as f64;
            m += 1.0;
        }
    }
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let mean = sum / n;
    let var = lap_sq / m - (lap_sum / m).powi(2);
    let sharp = if mean > 1.0 { var / (mean * mean) * 1e4 } else { 0.0 };
    (mean as f32, sharp as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_black_frame_measures_dark_and_flat_and_a_textured_one_sharp() {
        let black = RgbImage::new(64, 48);
        assert_eq!(measure_frame(&black), (0.0, 0.0));
        let checks =
            RgbImage::from_fn(64, 48, |x, y| if (x / 4 + y / 4) % 2 == 0 { [200; 3].into() } else { [40; 3].into() });
        let (luma, sharp) = measure_frame(&checks);
        assert!((100.0..140.0).contains(&luma), "{luma}");
        assert!(sharp > 1000.0, "{sharp}");
        let flat = RgbImage::from_pixel(64, 48, [120, 120, 120].into());
        assert_eq!(measure_frame(&flat).1, 0.0);
    }

    #[test]
    fn a_run_is_counted_and_timed_and_on_hours_add_up_per_channel() {
        let seen = Seen::default();
        seen.chair_report(&ChairReport { motion: Motion::Up, ..Default::default() });
        std::thread::sleep(Duration::from_millis(20));
        seen.chair_report(&ChairReport { motion: Motion::Up, ..Default::default() });
        seen.chair_report(&ChairReport { motion: Motion::Stop, at_top: true, ..Default::default() });
        let c = seen.chair();
        assert_eq!((c.runs, c.at_top), (1, true));
        assert!(c.run_ms >= 20, "{}", c.run_ms);
        let on = LightLevels([("fill".to_owned(), 50), ("key_left".to_owned(), 0)].into());
        seen.lights_applied(&on);
        std::thread::sleep(Duration::from_millis(20));
        seen.lights_applied(&LightLevels::default());
        let l = seen.lights();
        assert!(l.on_seconds["fill"] >= 0.02);
        assert!(!l.on_seconds.contains_key("key_left"), "a channel at 0 is off");
    }
}
