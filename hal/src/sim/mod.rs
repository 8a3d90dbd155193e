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
    /// The service key switch is turned on.
    service_key: bool,
    /// The levels last applied to the simulated lights (none before the first).
    light_levels: Option<crate::LightLevels>,
}

/// The service key switch of a simulated booth that has one (`[hardware.service]`).
pub struct SimKeySwitch(pub SimControls);

impl crate::key_switch::KeySwitch for SimKeySwitch {
    fn is_on(&mut self) -> Result<bool, crate::key_switch::KeySwitchError> {
        Ok(self.0.lock().service_key)
    }
}

/// One of the chair's limit switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Limit {
    Top,
    Bottom,
}

/// The simulated room's own light, in the lamps' percent-points.
const ROOM_LIGHT: f32 = 20.0;
/// The lamps' light (percent-points summed over the channels) at which the simulated camera's
/// picture is as bright as it gets.
pub const FULL_LIGHT: f32 = 50.0;

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

    /// Turn the simulated service key switch on or off.
    pub fn set_service_key(&self, on: bool) {
        self.lock().service_key = on;
    }

    fn set_light_levels(&self, levels: &crate::LightLevels) {
        self.lock().light_levels = Some(levels.clone());
    }

    /// How bright the simulated camera's picture is under the lights that shine now, 0–1: the
    /// camera holds its picture as long as the lamps give at least `FULL_LIGHT` percent-points
    /// between them (every scene of a visit, idle included, does); below that it darkens
    /// towards the room's own light. Before any lights were set: 1.
    fn light_gain(&self) -> f32 {
        let s = self.lock();
        let Some(levels) = &s.light_levels else { return 1.0 };
        let lit: u32 = levels.0.iter().filter(|(c, _)| !s.dead_lights.contains(*c)).map(|(_, l)| *l as u32).sum();
        ((ROOM_LIGHT + lit as f32) / (ROOM_LIGHT + FULL_LIGHT)).min(1.0)
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
