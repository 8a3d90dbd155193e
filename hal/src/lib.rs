//! The booth's four devices — camera, QR scanner, chair-height motor, lights — as traits,
//! with simulated implementations for development, CI and the demo (`sim`).
//!
//! Every call that talks to hardware takes or has a timeout; a device never blocks forever.
//! Drivers report faults as [`DeviceError`], which says whether retrying can help.

use std::collections::BTreeMap;
use std::time::Duration;

pub use gradbooth_vocab::{DeviceKind, Motion, SeatButton};
pub use image::RgbImage;

pub mod camera_qr;
pub mod gpio_chair;
pub mod gpio_lights;
pub mod key_switch;
pub mod lines;
pub mod opening;
pub mod rpi;
pub mod serial_scanner;
pub mod sim;
pub mod uvc_camera;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// The device did not answer in time; it may answer next time.
    #[error("{device} did not answer within {} ms", timeout.as_millis())]
    Timeout { device: DeviceKind, timeout: Duration },
    /// The device is gone (unplugged, powered off); it must be reopened.
    #[error("{device} is disconnected: {detail}")]
    Disconnected { device: DeviceKind, detail: String },
    /// The device answered but reports a fault (stall, limit, bad frame).
    #[error("{device} fault: {detail}")]
    Fault { device: DeviceKind, detail: String },
}

impl DeviceError {
    pub fn device(&self) -> DeviceKind {
        match self {
            Self::Timeout { device, .. } | Self::Disconnected { device, .. } | Self::Fault { device, .. } => *device,
        }
    }

    /// A temporary fault is retried with back-off; a permanent one takes the device (and
    /// perhaps the booth) out of service until it is reopened.
    pub fn is_temporary(&self) -> bool {
        matches!(self, Self::Timeout { .. })
    }
}

/// Exposure and white balance for a lighting preset. `None` leaves that control automatic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CameraControls {
    /// Exposure time in units of 100 µs (V4L2's absolute exposure; 100 = 10 ms).
    #[serde(default)]
    pub exposure_100us: Option<u32>,
    /// White balance colour temperature, kelvin.
    #[serde(default)]
    pub white_balance_k: Option<u32>,
}

/// The camera: a preview stream for the screen and a full-resolution still for the photo.
pub trait Camera: Send {
    /// The next preview frame, waiting at most `timeout`.
    fn preview_frame(&mut self, timeout: Duration) -> Result<RgbImage, DeviceError>;
    /// A full-resolution still, waiting at most `timeout`.
    fn capture_still(&mut self, timeout: Duration) -> Result<RgbImage, DeviceError>;
    /// Exposure and white balance from now on, where the camera allows them; what it does not
    /// allow is reported in the log and left automatic, never an error for the visit.
    fn set_controls(&mut self, controls: CameraControls);
}

/// A QR code reader that yields decoded texts.
pub trait QrScanner: Send {
    /// The next decoded text, or `None` if nothing was read within `timeout`.
    fn next_text(&mut self, timeout: Duration) -> Result<Option<String>, DeviceError>;
}

/// What the chair reports on each poll.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChairReport {
    pub motion: Motion,
    pub at_top: bool,
    pub at_bottom: bool,
    /// Seat height within its travel, 0 = bottom, 100 = top, when the chair can tell.
    pub height_percent: Option<u8>,
    /// Button events since the last poll, oldest first.
    pub buttons: Vec<SeatButton>,
}

/// The chair-height motor. Drivers own the safety rules: never both directions, stop at a
/// limit, stop after the maximum run time, stop when dropped.
pub trait Chair: Send {
    fn drive(&mut self, motion: Motion) -> Result<(), DeviceError>;
    /// Status and button events; waits at most `timeout` for something to report.
    fn poll(&mut self, timeout: Duration) -> Result<ChairReport, DeviceError>;
}

/// Brightness per named light channel, in percent.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct LightLevels(pub BTreeMap<String, u8>);

impl LightLevels {
    pub fn get(&self, channel: &str) -> u8 {
        self.0.get(channel).copied().unwrap_or(0)
    }
}

/// The lights: named channels (key left, key right, fill, background) with levels.
pub trait Lights: Send {
    fn apply(&mut self, levels: &LightLevels) -> Result<(), DeviceError>;
}
