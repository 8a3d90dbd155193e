//! The few words the booth's crates share: which device, which way the chair runs, what the
//! seat's button did (the visit machine and the devices), and a refused setting (`Invalid`:
//! every section of `booth.toml` is checked by the crate that owns it). Pure data, so the
//! visit machine can use them without depending on any driver.

use std::fmt;

/// Which device a fault or status belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Camera,
    QrScanner,
    Chair,
    Lights,
}

impl DeviceKind {
    pub const ALL: [DeviceKind; 4] = [Self::Camera, Self::QrScanner, Self::Chair, Self::Lights];

    /// Stable code used in logs and by the UI to pick its text.
    pub fn code(self) -> &'static str {
        match self {
            Self::Camera => "camera",
            Self::QrScanner => "qr_scanner",
            Self::Chair => "chair",
            Self::Lights => "lights",
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Which way the chair motor runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Motion {
    Up,
    Down,
    #[default]
    Stop,
}

/// The seat's own button (lower right of the seat), as the graduate presses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatButton {
    UpPressed,
    DownPressed,
    Released,
}

/// A setting refused: the key that holds it, its value, and what would be allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub key: String,
    pub value: String,
    pub allowed: String,
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "config key `{}` = {}: {}", self.key, self.value, self.allowed)
    }
}

impl std::error::Error for Invalid {}

/// `key = value` refused: `allowed` says what would do.
pub fn invalid(key: &str, value: impl fmt::Display, allowed: impl Into<String>) -> Invalid {
    Invalid { key: key.into(), value: value.to_string(), allowed: allowed.into() }
}

/// `value` when it lies in `lo..=hi`.
pub fn in_range(key: &str, value: u32, lo: u32, hi: u32) -> Result<u32, Invalid> {
    if (lo..=hi).contains(&value) {
        Ok(value)
    } else {
        Err(invalid(key, value, format!("allowed range is {lo}..={hi}")))
    }
}
