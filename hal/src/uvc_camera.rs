//! The camera: a UVC webcam through `nokhwa` (V4L2 on the Pi).
//!
//! A camera thread owns the device and keeps the newest frame; `preview_frame` and
//! `capture_still` wait for a frame newer than the request, at most their timeout, so a camera
//! that stalls gives `Timeout` rather than a hung booth. When the device fails (pulled out,
//! USB reset) the thread closes it, reports `Disconnected` to every caller, and reopens it
//! with back-off (0.2 s doubling to 5 s) until it is back. The thread is told what to open
//! through a [`FrameSource`], so the timing and reopening are tested without a camera.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tracing::{info, warn};

use crate::{Camera, CameraControls, DeviceError, DeviceKind, RgbImage};

/// Where frames come from. `frame` blocks until the next frame (or fails). A source lives on
/// the camera thread only (nokhwa's camera cannot move between threads).
pub trait FrameSource {
    fn open(&mut self) -> Result<(), String>;
    fn frame(&mut self) -> Result<RgbImage, String>;
    /// Applies what the camera allows; says what it refused.
    fn set_controls(&mut self, controls: CameraControls) -> Result<(), String>;
    fn close(&mut self);
}

#[derive(Default)]
struct Slot {
    seq: u64,
    frame: Option<Arc<RgbImage>>,
    /// Why the camera is not delivering (None while it is).
    down: Option<String>,
    /// Controls asked for and not yet applied by the camera thread.
    controls: Option<CameraControls>,
}

struct Shared {
    slot: Mutex<Slot>,
    changed: Condvar,
    stop: AtomicBool,
}

pub struct ThreadedCamera {
    shared: Arc<Shared>,
    seen: u64,
    thread: Option<thread::JoinHandle<()>>,
}

impl ThreadedCamera {
    /// Starts the camera thread; `make` builds the source on it.
    pub fn start<S: FrameSource, F: FnOnce() -> S + Send + 'static>(make: F) -> Self {
        let shared = Arc::new(Shared {
            slot: Mutex::new(Slot::default()),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let s = shared.clone();
        let thread = thread::Builder::new()
            .name("camera-device".into())
            .spawn(move || {
                let mut source = make();
                let mut backoff = Duration::from_millis(200);
                let mut open = false;
                // The controls in force, applied again whenever the camera is reopened.
                let mut controls = None;
                while !s.stop.load(Ordering::Relaxed) {
                    let asked = s.lock().controls.take();
                    if asked.is_some() {
                        controls = asked;
                    }
                    if !open {
                        match source.open() {
                            Ok(()) => {
                                info!("camera opened");
                                open = true;
                                backoff = Duration::from_millis(200);
                                if let Some(c) = controls {
                                    apply_controls(&mut source, c);
                                }
                            }
                            Err(e) => {
                                s.set_down(e);
                                s.sleep(backoff);
                                backoff = (backoff * 2).min(Duration::from_secs(5));
                                continue;
                            }
                        }
                    }
                    if let (Some(c), true) = (asked, open) {
                        apply_controls(&mut source, c);
                    }
                    match source.frame() {
                        Ok(frame) => {
                            let mut slot = s.lock();
                            slot.seq += 1;
                            slot.frame = Some(Arc::new(frame));
                            slot.down = None;
                            drop(slot);
                            s.changed.notify_all();
                        }
                        Err(e) => {
                            warn!(error = %e, "camera lost; reopening");
                            source.close();
                            open = false;
                            s.set_down(e);
                        }
                    }
                }
                source.close();
            })
            .expect("spawning the camera thread");
        ThreadedCamera { shared, seen: 0, thread: Some(thread) }
    }

    /// The first frame newer than the last one handed out, waiting at most `timeout`.
    fn next(&mut self, timeout: Duration) -> Result<RgbImage, DeviceError> {
        let deadline = Instant::now() + timeout;
        let mut slot = self.shared.lock();
        loop {
            if let Some(why) = &slot.down {
                return Err(DeviceError::Disconnected { device: DeviceKind::Camera, detail: why.clone() });
            }
            if slot.seq > self.seen
                && let Some(frame) = &slot.frame
            {
                self.seen = slot.seq;
                return Ok((**frame).clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(DeviceError::Timeout { device: DeviceKind::Camera, timeout });
            }
            slot = self.shared.changed.wait_timeout(slot, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

fn apply_controls(source: &mut impl FrameSource, c: CameraControls) {
    match source.set_controls(c) {
        Ok(()) => info!(?c, "camera controls set"),
        Err(e) => warn!(?c, refused = %e, "the camera does not allow some controls; left automatic"),
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn set_down(&self, why: String) {
        self.lock().down = Some(why);
        self.changed.notify_all();
    }
    fn sleep(&self, d: Duration) {
        let deadline = Instant::now() + d;
        while !self.stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20).min(deadline - Instant::now()));
        }
    }
}

impl Camera for ThreadedCamera {
    fn preview_frame(&mut self, timeout: Duration) -> Result<RgbImage, DeviceError> {
        self.next(timeout)
    }
    /// The stream runs at full resolution: the still is the next whole frame after the request.
    fn capture_still(&mut self, timeout: Duration) -> Result<RgbImage, DeviceError> {
        self.next(timeout)
    }
    /// Applied by the camera thread before its next frame (and again after a reopen).
    fn set_controls(&mut self, controls: CameraControls) {
        self.shared.lock().controls = Some(controls);
    }
}

impl Drop for ThreadedCamera {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            // A source stuck in `frame` is left behind rather than hanging the booth's exit.
            if t.is_finished() {
                let _ = t.join();
            }
        }
    }
}

/// `[hardware.camera]` for the UVC camera.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UvcConfig {
    /// The V4L2 device, best the udev name (`/dev/gradbooth-camera` → `/dev/videoN`).
    pub device: String,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
}

/// nokhwa's V4L2 camera, asking for MJPEG at the configured size and rate and taking the
/// closest the camera offers.
pub struct NokhwaSource {
    config: UvcConfig,
    camera: Option<nokhwa::Camera>,
}

impl NokhwaSource {
    pub fn new(config: UvcConfig) -> Self {
        NokhwaSource { config, camera: None }
    }

    fn index(&self) -> Result<nokhwa::utils::CameraIndex, String> {
        let real = std::fs::canonicalize(&self.config.device).map_err(|e| format!("{}: {e}", self.config.device))?;
        let name = real.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        let n = name.strip_prefix("video").and_then(|n| n.parse().ok());
        n.map(nokhwa::utils::CameraIndex::Index).ok_or_else(|| format!("{} is not a V4L2 video device", real.display()))
    }
}

impl FrameSource for NokhwaSource {
    fn open(&mut self) -> Result<(), String> {
        use nokhwa::pixel_format::RgbFormat;
        use nokhwa::utils::{CameraFormat, FrameFormat, RequestedFormat, RequestedFormatType, Resolution};
        let c = &self.config;
        let wanted = CameraFormat::new(Resolution::new(c.width, c.height), FrameFormat::MJPEG, c.fps);
        let request = RequestedFormat::new::<RgbFormat>(RequestedFormatType::Closest(wanted));
        let mut camera = nokhwa::Camera::new(self.index()?, request).map_err(|e| e.to_string())?;
        camera.open_stream().map_err(|e| e.to_string())?;
        let got = camera.camera_format();
        if got != wanted {
            warn!(wanted = %wanted, got = %got, "the camera offers another format; using the closest");
        }
        self.camera = Some(camera);
        Ok(())
    }

    fn frame(&mut self) -> Result<RgbImage, String> {
        use nokhwa::pixel_format::RgbFormat;
        let camera = self.camera.as_mut().ok_or("camera not open")?;
        let buffer = camera.frame().map_err(|e| e.to_string())?;
        buffer.decode_image::<RgbFormat>().map_err(|e| e.to_string())
    }

    /// UVC cameras take exposure as V4L2's absolute exposure (manual mode first) and white
    /// balance as a colour temperature (automatic white balance off first).
    fn set_controls(&mut self, c: CameraControls) -> Result<(), String> {
        use nokhwa::utils::{ControlValueSetter as V, KnownCameraControl as K};
        const EXPOSURE_AUTO: u128 = 0x009a_0901;
        const EXPOSURE_ABSOLUTE: u128 = 0x009a_0902;
        const AUTO_WHITE_BALANCE: u128 = 0x0098_090c;
        const MANUAL: i64 = 1;
        const APERTURE_PRIORITY: i64 = 3;
        let camera = self.camera.as_mut().ok_or("camera not open")?;
        let mut steps = vec![];
        match c.exposure_100us {
            Some(e) => {
                steps.push((K::Other(EXPOSURE_AUTO), V::Integer(MANUAL)));
                steps.push((K::Other(EXPOSURE_ABSOLUTE), V::Integer(i64::from(e))));
            }
            None => steps.push((K::Other(EXPOSURE_AUTO), V::Integer(APERTURE_PRIORITY))),
        }
        match c.white_balance_k {
            Some(k) => {
                steps.push((K::Other(AUTO_WHITE_BALANCE), V::Boolean(false)));
                steps.push((K::WhiteBalance, V::Integer(i64::from(k))));
            }
            None => steps.push((K::Other(AUTO_WHITE_BALANCE), V::Boolean(true))),
        }
        let refused: Vec<String> = steps
            .into_iter()
            .filter_map(|(id, v)| camera.set_camera_control(id, v).err().map(|e| e.to_string()))
            .collect();
        if refused.is_empty() { Ok(()) } else { Err(refused.join("; ")) }
    }

    fn close(&mut self) {
        if let Some(mut c) = self.camera.take() {
            let _ = c.stop_stream();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A source the test controls: delivers frames, hangs, or fails as told.
    #[derive(Clone, Default)]
    struct Fake(Arc<Mutex<FakeState>>);

    #[derive(Default)]
    struct FakeState {
        unplugged: bool,
        hang: bool,
        opens: u32,
        n: u8,
        /// Controls applied, in order.
        applied: Vec<CameraControls>,
    }

    impl FrameSource for Fake {
        fn open(&mut self) -> Result<(), String> {
            let mut s = self.0.lock().unwrap();
            if s.unplugged {
                return Err("no such device".into());
            }
            s.opens += 1;
            Ok(())
        }
        fn frame(&mut self) -> Result<RgbImage, String> {
            thread::sleep(Duration::from_millis(10));
            let mut s = self.0.lock().unwrap();
            if s.unplugged {
                return Err("device disconnected".into());
            }
            if s.hang {
                drop(s);
                thread::sleep(Duration::from_millis(50));
                return self.frame();
            }
            s.n = s.n.wrapping_add(1);
            Ok(RgbImage::from_pixel(4, 3, image::Rgb([s.n, 0, 0])))
        }
        fn set_controls(&mut self, c: CameraControls) -> Result<(), String> {
            self.0.lock().unwrap().applied.push(c);
            Ok(())
        }
        fn close(&mut self) {}
    }

    fn set(f: &Fake, change: impl FnOnce(&mut FakeState)) {
        change(&mut f.0.lock().unwrap());
    }

    const WAIT: Duration = Duration::from_millis(500);

    fn camera(fake: &Fake) -> ThreadedCamera {
        let f = fake.clone();
        ThreadedCamera::start(move || f)
    }

    #[test]
    fn each_call_gets_a_newer_frame() {
        let fake = Fake::default();
        let mut cam = camera(&fake);
        let a = cam.preview_frame(WAIT).unwrap();
        let b = cam.capture_still(WAIT).unwrap();
        assert_ne!(a.get_pixel(0, 0), b.get_pixel(0, 0), "the still is a frame after the request");
    }

    #[test]
    fn a_stalled_camera_times_out_instead_of_hanging() {
        let fake = Fake::default();
        let mut cam = camera(&fake);
        cam.preview_frame(WAIT).unwrap();
        set(&fake, |s| s.hang = true);
        let started = Instant::now();
        let err = cam.preview_frame(Duration::from_millis(100)).unwrap_err();
        assert!(err.is_temporary(), "{err}");
        assert!(started.elapsed() < Duration::from_millis(300));
        set(&fake, |s| s.hang = false);
        assert!(cam.preview_frame(WAIT).is_ok());
    }

    #[test]
    fn a_camera_pulled_out_is_reported_and_reopened_when_it_is_back() {
        let fake = Fake::default();
        let mut cam = camera(&fake);
        cam.preview_frame(WAIT).unwrap();
        set(&fake, |s| s.unplugged = true);
        let err = cam.preview_frame(WAIT).unwrap_err();
        assert!(matches!(err, DeviceError::Disconnected { device: DeviceKind::Camera, .. }), "{err}");
        assert!(cam.capture_still(Duration::from_millis(50)).is_err(), "no still from a missing camera");
        set(&fake, |s| s.unplugged = false);
        let deadline = Instant::now() + Duration::from_secs(3);
        while cam.preview_frame(Duration::from_millis(100)).is_err() {
            assert!(Instant::now() < deadline, "never came back");
        }
        assert_eq!(fake.0.lock().unwrap().opens, 2, "opened again once it was back");
    }

    #[test]
    fn controls_are_applied_and_applied_again_after_a_reopen() {
        let fake = Fake::default();
        let mut cam = camera(&fake);
        cam.preview_frame(WAIT).unwrap();
        let glasses = CameraControls { exposure_100us: Some(120), white_balance_k: Some(5000) };
        cam.set_controls(glasses);
        cam.preview_frame(WAIT).unwrap();
        cam.preview_frame(WAIT).unwrap();
        assert_eq!(fake.0.lock().unwrap().applied, vec![glasses]);
        set(&fake, |s| s.unplugged = true);
        assert!(cam.preview_frame(WAIT).is_err());
        set(&fake, |s| s.unplugged = false);
        let deadline = Instant::now() + Duration::from_secs(3);
        while cam.preview_frame(Duration::from_millis(100)).is_err() {
            assert!(Instant::now() < deadline, "never came back");
        }
        assert_eq!(fake.0.lock().unwrap().applied, vec![glasses, glasses], "the reopened camera gets them again");
    }
}
