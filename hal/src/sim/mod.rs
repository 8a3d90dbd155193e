//! Simulated devices. They behave like the real ones — time passes, limits stop the chair,
//! a device can be unplugged — so the booth, its tests and the demo run without hardware.
//! [`SimControls`] is the hand of the simulation: it presents QR codes, presses the seat
//! button and pulls cables.

mod camera;
mod chair;
mod lights;
mod scanner;

pub use camera::SimCamera;
pub use chair::{ChairModel, SimChair};
pub use lights::SimLights;
pub use scanner::SimScanner;

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use std::time::{Duration, Instant};

use crate::{CameraControls, DeviceError, DeviceKind, SeatButton};

#[derive(Default)]
struct Shared {
    unplugged: BTreeSet<DeviceKind>,
    scans: VecDeque<String>,
    buttons: VecDeque<SeatButton>,
    chair_jammed: bool,
    chair_motion: crate::Motion,
    /// Codes go to the camera (the booth reads them from its frames) rather than the scanner.
    codes_to_camera: bool,
    /// A code held up to the camera, and until when.
    held_code: Option<(String, Instant)>,
    camera_controls: CameraControls,
}

/// How long a code presented to the simulated camera stays in view.
const HOLD: Duration = Duration::from_secs(3);

/// Cloneable handle through which keyboard shortcuts, the debug panel, tests and the demo
/// act on the simulated devices.
#[derive(Clone, Default)]
pub struct SimControls {
    shared: Arc<Mutex<Shared>>,
}

impl SimControls {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        // A panic while holding this lock cannot leave it inconsistent: take it anyway.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Hold a QR code in front of the booth's reader: the scanner, or the camera when the
    /// booth reads codes with its camera (then it stays in view for three seconds).
    pub fn present_qr(&self, text: impl Into<String>) {
        let mut s = self.lock();
        if s.codes_to_camera {
            s.held_code = Some((text.into(), Instant::now() + HOLD));
        } else {
            s.scans.push_back(text.into());
        }
    }

    /// The booth has no scanner module: codes are held up to the camera.
    pub fn set_codes_to_camera(&self, on: bool) {
        self.lock().codes_to_camera = on;
    }

    /// The exposure and white balance last set on the simulated camera.
    pub fn camera_controls(&self) -> CameraControls {
        self.lock().camera_controls
    }

    fn set_camera_controls(&self, c: CameraControls) {
        self.lock().camera_controls = c;
    }

    fn held_code(&self) -> Option<String> {
        let mut s = self.lock();
        match &s.held_code {
            Some((_, until)) if Instant::now() >= *until => {
                s.held_code = None;
                None
            }
            held => held.as_ref().map(|(t, _)| t.clone()),
        }
    }

    pub fn seat_button(&self, event: SeatButton) {
        self.lock().buttons.push_back(event);
    }

    pub fn unplug(&self, device: DeviceKind) {
        self.lock().unplugged.insert(device);
    }

    pub fn replug(&self, device: DeviceKind) {
        self.lock().unplugged.remove(&device);
    }

    /// The chair's motor runs but the seat does not move (a jam, a slipping belt): only the
    /// driver's run-time guard can stop it.
    pub fn jam_chair(&self, jammed: bool) {
        self.lock().chair_jammed = jammed;
    }

    /// What the simulated motor is doing now (as a test would see the relays).
    pub fn chair_motion(&self) -> crate::Motion {
        self.lock().chair_motion
    }

    fn set_chair_motion(&self, motion: crate::Motion) {
        self.lock().chair_motion = motion;
    }

    fn chair_jammed(&self) -> bool {
        self.lock().chair_jammed
    }

    fn check_plugged(&self, device: DeviceKind) -> Result<(), DeviceError> {
        if self.lock().unplugged.contains(&device) {
            Err(DeviceError::Disconnected { device, detail: "simulated cable pulled".into() })
        } else {
            Ok(())
        }
    }

    fn take_scan(&self) -> Option<String> {
        self.lock().scans.pop_front()
    }

    fn take_buttons(&self) -> Vec<SeatButton> {
        self.lock().buttons.drain(..).collect()
    }
}
