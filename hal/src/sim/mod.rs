//! Simulated devices. They behave like the real ones — time passes, limits stop the chair,
//! a device can be unplugged — so the booth, its tests and the demo run without hardware.
//! [`SimControls`] is the hand of the simulation: it presents QR codes, presses the seat
//! button and pulls cables — and breaks devices the ways the diagnostics mode must find: a
//! lamp that is dead, a limit switch that never closes, a camera that sees only black.

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
    /// Light channels whose lamp is dead: commanded on, they give no light.
    dead_lights: BTreeSet<String>,
    /// Limit switches that never close (broken, or their wire cut).
    stuck_limits: BTreeSet<Limit>,
    /// The camera delivers black frames (lens covered, a failed sensor).
    black_frames: bool,
}

/// One of the chair's limit switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Limit {
    Top,
    Bottom,
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

    /// A light channel's lamp dies (`false`) or is replaced (`true`): the driver still accepts
    /// its level, but it gives no light (`SimLights::lit`).
    pub fn set_lamp_alive(&self, channel: &str, alive: bool) {
        let mut s = self.lock();
        if alive {
            s.dead_lights.remove(channel);
        } else {
            s.dead_lights.insert(channel.to_owned());
        }
    }

    /// A limit switch never closes (`true`) or works again: the seat runs on against the end
    /// of its travel until the driver's run-time guard stops it.
    pub fn stick_limit(&self, limit: Limit, stuck: bool) {
        let mut s = self.lock();
        if stuck {
            s.stuck_limits.insert(limit);
        } else {
            s.stuck_limits.remove(&limit);
        }
    }

    /// The camera delivers black frames (`true`) or sees again.
    pub fn set_black_frames(&self, black: bool) {
        self.lock().black_frames = black;
    }

    fn lamp_dead(&self, channel: &str) -> bool {
        self.lock().dead_lights.contains(channel)
    }

    fn limit_stuck(&self, limit: Limit) -> bool {
        self.lock().stuck_limits.contains(&limit)
    }

    fn black_frames(&self) -> bool {
        self.lock().black_frames
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
