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

use crate::{DeviceError, DeviceKind, SeatButton};

#[derive(Default)]
struct Shared {
    unplugged: BTreeSet<DeviceKind>,
    scans: VecDeque<String>,
    buttons: VecDeque<SeatButton>,
    chair_jammed: bool,
    chair_motion: crate::Motion,
}

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

    /// Hold a QR code in front of the scanner.
    pub fn present_qr(&self, text: impl Into<String>) {
        self.lock().scans.push_back(text.into());
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
